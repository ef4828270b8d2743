"""nswg against hnswlib, faiss HNSW, nmslib's sw-graph, ScaNN, RaBitQ's SymphonyQG and glass on
GloVe 6B 50d (k=10, cosine).

The 400,000 GloVe vectors are normalised once, so that every library ranks by plain Euclidean
distance (the cosine order). ``--queries`` words chosen at random (seeded) are held out of the
index and used as queries; their true 10 nearest neighbours come from an exact search in numpy
blocks (float32 dot products, the top 30 re-ranked in float64).

Each library runs in its own process (multiprocessing, forked from a fresh forkserver started
before the data is loaded), so that its peak memory (``ru_maxrss``) is its own; the resident
size after loading the data is reported beside it and subtracted. Builds run one library at a
time on ``--build-threads`` threads (2). Searches run on one thread: a batch call over all the
queries with the library's thread count set to 1 (nswg ``n_threads=1``, hnswlib
``set_num_threads(1)``, faiss ``omp_set_num_threads(1)``, nmslib ``num_threads=1``, scann
``search_batched`` (not ``_parallel``), rabitqlib and glass ``num_threads=1``). The
processes stay alive during the sweeps and the parent interleaves them: repeat by repeat and
step by step of the sweep, every library runs its setting in turn, so that the load of a shared
machine falls on all of them alike. QPS is the median over
``--repeats`` repeats.

A sweep of a library stops at the first setting whose recall reaches ``--stop-recall``
(decided in the first repeat). QPS at recall 0.90, 0.95 and 0.99 is interpolated on each
library's Pareto frontier, log-linearly in QPS between the two settings that bracket the recall.

Run from the repository root (``pip install ".[bench]"`` first)::

    python benchmarks/words_vs_peers.py --limit 50000              # a few minutes
    python benchmarks/words_vs_peers.py                            # full: an hour or more
    python benchmarks/words_vs_peers.py --libs nswg,faiss --queries 2000

Writes ``results.csv``, ``summary.json``, ``recall_qps.png`` and ``recall_distances.png`` to
``--out`` (default ``bench-out/words``) and prints the tables.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import multiprocessing as mp
import os
import resource
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

import numpy as np

from nswg import bench
from nswg.metrics import recall_at_k

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "wordvec" / "glove.6B.50d.float32.npy"
)
K = 10
#: Beam widths swept by every graph library (ef, efSearch).
EFS = (10, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
TARGETS = (0.90, 0.95, 0.99)
#: nswg's curves: float32, then each quantization.
OURS = ("nswg", "nswg-sq8", "nswg-rabitq4")
#: Queries timed for exact search (it is slow; QPS does not depend on how many).
EXACT_QUERIES = 1000

#: Library configurations, by the name given to ``--libs``; a name may stand for several.
LIBS: dict[str, tuple[str, ...]] = {
    "nswg": ("nswg",),
    "nswg-sq8": ("nswg-sq8",),
    "nswg-rabitq4": ("nswg-rabitq4",),
    "scann": ("scann",),
    "rabitqlib": ("rabitqlib-symqg",),
    "glass": ("glass-hnsw-sq8u",),
    "hnswlib": ("hnswlib-M16", "hnswlib-M32"),
    "faiss": ("faiss-HNSW32",),
    "faiss200": ("faiss-HNSW32-efC200",),
    "nmslib": ("nmslib-sw-graph",),
    "exact": ("faiss-flat",),
}
DEFAULT_LIBS = "nswg,nswg-sq8,nswg-rabitq4,hnswlib,faiss,nmslib,scann,rabitqlib,glass,exact"


# --------------------------------------------------------------------------------------------
# Workers: one process per library configuration
# --------------------------------------------------------------------------------------------


@dataclass
class Setting:
    """One search setting of a worker; ``series`` names the curve it belongs to."""

    series: str
    param: str
    ef: int | None
    n_searches: int | None = None
    exact: bool = False
    #: Position in the sweep (the index of ``ef`` in EFS): the parent interleaves by it.
    step: int = 0

    @property
    def label(self) -> str:
        if self.exact:
            return "exact"
        if self.n_searches is not None:
            return f"{self.param}={self.ef},n_searches={self.n_searches}"
        return f"{self.param}={self.ef}"


def rss_mb(field: str = "VmRSS") -> float:
    """Resident set size in MB: current (VmRSS) or peak (VmHWM) from /proc/self/status."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return math.nan


def max_rss_mb() -> float:
    """Peak resident set size of this process in MB (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Library:
    """Build once, then answer ``search(setting, threads)`` on the held-out queries."""

    name = ""
    build_params: dict[str, Any] = {}

    def __init__(self, base: np.ndarray, build_threads: int) -> None:
        raise NotImplementedError

    def settings(self) -> list[Setting]:
        raise NotImplementedError

    def search(
        self, s: Setting, queries: np.ndarray, threads: int
    ) -> tuple[np.ndarray, float | None]:
        """Ids of shape (n_queries, K) and mean distance computations per query (or None)."""
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError


class Nswg(Library):
    name = "nswg"
    # 24 neighbours rather than the default 16, as hnswlib is run at M=16 and M=32: on the 390,000
    # GloVe words they cost 7 s more of build and 1.5x the adjacency, and compute 6% and 15% fewer
    # distances at recall 0.95 and 0.99.
    build_params = {"metric": "euclidean", "n_neighbors": 24, "ef_construction": 100, "seed": 0}

    def __init__(self, base: np.ndarray, build_threads: int) -> None:
        from nswg import Index

        self.index = Index.build(base, n_threads=build_threads, **self.build_params)
        self.build_params = {
            **self.build_params,
            "max_degree": self.index.max_degree,
            "n_searches": 2,
            "build_distance_computations": self.index.build_distance_computations,
            "nbytes": self.index.nbytes,
        }

    def settings(self) -> list[Setting]:
        out = [
            Setting(f"{self.name} ns={ns}", "ef", ef, ns, step=i)
            for i, ef in enumerate(EFS)
            for ns in (1, 2)
        ]
        return out + [Setting(f"{self.name} exact", "exact", None, exact=True)]

    def search(
        self, s: Setting, queries: np.ndarray, threads: int
    ) -> tuple[np.ndarray, float | None]:
        if s.exact:
            res = self.index.search(queries, k=K, exact=True, n_threads=threads)
        else:
            res = self.index.search(
                queries, k=K, ef=s.ef, n_searches=s.n_searches or 2, n_threads=threads
            )
        return res.ids, float(np.mean(res.n_distance_computations))

    def version(self) -> str:
        import nswg

        return str(nswg.__version__)


class NswgSq8(Nswg):
    """nswg walking the graph on 8-bit codes, re-ranking ``max(k, ef)`` points exactly."""

    name = "nswg-sq8"
    build_params = {**Nswg.build_params, "quantization": "sq8"}

    def settings(self) -> list[Setting]:
        # Exact search never reads the codes: it is nswg's own.
        return [s for s in super().settings() if not s.exact]

    def search(
        self, s: Setting, queries: np.ndarray, threads: int
    ) -> tuple[np.ndarray, float | None]:
        ids, _ = super().search(s, queries, threads)
        return ids, None  # its exact distances are the re-ranking only: not comparable


class NswgRabitq4(NswgSq8):
    """nswg walking the graph on 4-bit RaBitQ codes, re-ranking ``max(k, ef)`` points exactly."""

    name = "nswg-rabitq4"
    build_params = {**Nswg.build_params, "quantization": "rabitq4"}


class Hnswlib(Library):
    def __init__(self, base: np.ndarray, build_threads: int) -> None:
        import hnswlib

        self.index = hnswlib.Index(space="l2", dim=base.shape[1])
        self.index.init_index(max_elements=len(base), random_seed=100, **self.build_params)
        self.index.add_items(base, np.arange(len(base)), num_threads=build_threads)
        self.index.set_num_threads(1)

    def settings(self) -> list[Setting]:
        return [Setting(self.name, "ef", ef, step=i) for i, ef in enumerate(EFS)]

    def search(
        self, s: Setting, queries: np.ndarray, threads: int
    ) -> tuple[np.ndarray, float | None]:
        self.index.set_ef(int(s.ef or K))
        labels, _ = self.index.knn_query(queries, k=K, num_threads=threads)
        return labels.astype(np.int64), None

    def version(self) -> str:
        return metadata.version("hnswlib")


class HnswlibM16(Hnswlib):
    name = "hnswlib-M16"
    build_params = {"M": 16, "ef_construction": 200}


class HnswlibM32(Hnswlib):
    name = "hnswlib-M32"
    build_params = {"M": 32, "ef_construction": 200}


class FaissHnsw(Library):
    name = "faiss-HNSW32"
    #: faiss's own default efConstruction for IndexHNSWFlat.
    build_params = {"M": 32, "efConstruction": 40}

    def __init__(self, base: np.ndarray, build_threads: int) -> None:
        import faiss

        self.faiss = faiss
        faiss.omp_set_num_threads(build_threads)
        self.index = faiss.IndexHNSWFlat(base.shape[1], self.build_params["M"], faiss.METRIC_L2)
        self.index.hnsw.efConstruction = self.build_params["efConstruction"]
        self.index.add(base)
        faiss.omp_set_num_threads(1)

    def settings(self) -> list[Setting]:
        return [Setting(self.name, "efSearch", ef, step=i) for i, ef in enumerate(EFS)]

    def search(
        self, s: Setting, queries: np.ndarray, threads: int
    ) -> tuple[np.ndarray, float | None]:
        self.faiss.omp_set_num_threads(threads)
        self.index.hnsw.efSearch = int(s.ef or K)
        stats = self.faiss.cvar.hnsw_stats
        stats.reset()
        _, ids = self.index.search(queries, K)
        return ids.astype(np.int64), stats.ndis / len(queries)

    def version(self) -> str:
        return str(self.faiss.__version__)


class FaissHnswEfc200(FaissHnsw):
    name = "faiss-HNSW32-efC200"
    build_params = {"M": 32, "efConstruction": 200}


class FaissFlat(Library):
    name = "faiss-flat"
    build_params = {"index": "IndexFlatL2"}

    def __init__(self, base: np.ndarray, build_threads: int) -> None:
        import faiss

        self.faiss = faiss
        self.index = faiss.IndexFlatL2(base.shape[1])
        self.index.add(base)
        faiss.omp_set_num_threads(1)

    def settings(self) -> list[Setting]:
        return [Setting("exact (faiss IndexFlatL2)", "exact", None, exact=True)]

    def search(
        self, s: Setting, queries: np.ndarray, threads: int
    ) -> tuple[np.ndarray, float | None]:
        self.faiss.omp_set_num_threads(threads)
        _, ids = self.index.search(queries, K)
        return ids.astype(np.int64), float(self.index.ntotal)

    def version(self) -> str:
        return str(self.faiss.__version__)


class NmslibSwGraph(Library):
    """nmslib's ``sw-graph``: the original NSW implementation of Malkov et al."""

    name = "nmslib-sw-graph"
    build_params = {"NN": 16, "efConstruction": 200}

    def __init__(self, base: np.ndarray, build_threads: int) -> None:
        import nmslib

        self.index = nmslib.init(method="sw-graph", space="l2")
        self.index.addDataPointBatch(base)
        self.index.createIndex(
            {**self.build_params, "indexThreadQty": build_threads}, print_progress=False
        )

    def settings(self) -> list[Setting]:
        return [Setting(self.name, "efSearch", ef, step=i) for i, ef in enumerate(EFS)]

    def search(
        self, s: Setting, queries: np.ndarray, threads: int
    ) -> tuple[np.ndarray, float | None]:
        self.index.setQueryTimeParams({"efSearch": int(s.ef or K)})
        found = self.index.knnQueryBatch(queries, k=K, num_threads=threads)
        ids = np.full((len(queries), K), -1, dtype=np.int64)
        for row, (labels, _) in zip(ids, found):
            row[: len(labels)] = labels
        return ids, None

    def version(self) -> str:
        return metadata.version("nmslib")


class Scann(Library):
    """ScaNN: a k-means tree, 4-bit anisotropic codes (two dimensions a block) scored by
    lookup tables, and an exact float32 re-ranking of ``pre_reorder_num_neighbors``."""

    name = "scann"
    #: As ann-benchmarks' glove-100-angular entry, with about sqrt(n) leaves.
    build_params = {
        "num_leaves": 2000,
        "dims_per_block": 2,
        "anisotropic_quantization_threshold": 0.2,
    }
    LEAVES = (4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
    REORDER = (50, 100, 200, 400)

    def __init__(self, base: np.ndarray, build_threads: int) -> None:
        import scann

        p = self.build_params
        leaves = min(p["num_leaves"], len(base) // 10)
        self.build_params = {**p, "num_leaves": leaves, "training_sample_size": len(base)}
        self.searcher = (
            scann.scann_ops_pybind.builder(base, K, "dot_product")
            .tree(num_leaves=leaves, num_leaves_to_search=16, training_sample_size=len(base))
            .score_ah(
                p["dims_per_block"],
                anisotropic_quantization_threshold=p["anisotropic_quantization_threshold"],
            )
            .reorder(max(self.REORDER))
            .set_n_training_threads(build_threads)
            .build()
        )

    def settings(self) -> list[Setting]:
        return [
            Setting(f"scann reorder={r}", "leaves", leaves, step=i)
            for i, leaves in enumerate(self.LEAVES)
            for r in self.REORDER
        ]

    def search(
        self, s: Setting, queries: np.ndarray, threads: int
    ) -> tuple[np.ndarray, float | None]:
        # search_batched runs on the calling thread only.
        reorder = int(s.series.rsplit("=", 1)[1])
        ids, _ = self.searcher.search_batched(
            queries, final_num_neighbors=K, leaves_to_search=s.ef, pre_reorder_num_neighbors=reorder
        )
        return np.asarray(ids, dtype=np.int64), None

    def version(self) -> str:
        return metadata.version("scann")


def pad_to_64(x: np.ndarray) -> np.ndarray:
    """``x`` with zero columns up to a multiple of 64 values: rabitqlib takes no other width,
    and zeros change no distance."""
    width = -(-x.shape[1] // 64) * 64
    out = np.zeros((len(x), width), dtype=np.float32)
    out[:, : x.shape[1]] = x
    return out


class RabitqSymqg(Library):
    """rabitqlib's SymphonyQG: a graph whose nodes keep their neighbours' RaBitQ codes, scanned
    with FastScan, and exact float32 distances of the nodes visited."""

    name = "rabitqlib-symqg"
    build_params = {"max_degree": 32, "ef_construction": 200}

    def __init__(self, base: np.ndarray, build_threads: int) -> None:
        import rabitqlib

        padded = pad_to_64(base)
        self.build_params = {**self.build_params, "padded_dim": padded.shape[1]}
        self.index = rabitqlib.SymqgIndex(padded.shape[1], self.build_params["max_degree"], "l2")
        self.index.build(padded, self.build_params["ef_construction"], build_threads)

    def settings(self) -> list[Setting]:
        return [Setting(self.name, "ef", ef, step=i) for i, ef in enumerate(EFS)]

    def search(
        self, s: Setting, queries: np.ndarray, threads: int
    ) -> tuple[np.ndarray, float | None]:
        ids, _ = self.index.search_batch(pad_to_64(queries), K, max(int(s.ef or K), K), threads)
        return np.asarray(ids, dtype=np.int64), None

    def version(self) -> str:
        return metadata.version("rabitqlib")


class GlassHnsw(Library):
    """glass (pyglass-portable): an HNSW graph walked on SQ8U codes, re-ranked in float32."""

    name = "glass-hnsw-sq8u"
    build_params = {"index": "HNSW", "R": 32, "L": 200, "quant": "SQ8U", "refine": "FP32"}

    def __init__(self, base: np.ndarray, build_threads: int) -> None:
        import glass

        p = self.build_params
        glass.set_num_threads(build_threads)
        graph = glass.Index(p["index"], metric="L2", quant=p["quant"], R=p["R"], L=p["L"]).build(
            base
        )
        self.searcher = glass.Searcher(graph, base, "L2", p["quant"], p["refine"])
        self.searcher.optimize(1)
        glass.set_num_threads(1)

    def settings(self) -> list[Setting]:
        return [Setting(self.name, "ef", ef, step=i) for i, ef in enumerate(EFS)]

    def search(
        self, s: Setting, queries: np.ndarray, threads: int
    ) -> tuple[np.ndarray, float | None]:
        self.searcher.set_ef(max(int(s.ef or K), K))
        ids = np.asarray(self.searcher.batch_search(queries, K, threads)[0])
        return ids.astype(np.int64).reshape(len(queries), K), None

    def version(self) -> str:
        return metadata.version("pyglass-portable")


WORKERS: dict[str, type[Library]] = {
    cls.name: cls
    for cls in (
        Nswg,
        NswgSq8,
        NswgRabitq4,
        HnswlibM16,
        HnswlibM32,
        FaissHnsw,
        FaissHnswEfc200,
        NmslibSwGraph,
        FaissFlat,
        Scann,
        RabitqSymqg,
        GlassHnsw,
    )
}


MODULES = {
    "hnswlib": "hnswlib",
    "faiss": "faiss",
    "nmslib": "nmslib",
    "nswg": "nswg",
    "scann": "scann",
    "rabitqlib": "rabitqlib",
    "glass": "glass",
}


def available(name: str) -> str | None:
    """None when the library of configuration ``name`` imports, else the reason."""
    module = MODULES[name.split("-")[0]]
    try:
        __import__(module)
    except Exception as e:  # ImportError, or a broken binary
        return f"import {module} failed: {type(e).__name__}: {e}"
    return None


def worker(conn: Any, name: str, cache: str, build_threads: int) -> None:
    """Process body: load the data, build, then answer the parent's commands."""
    try:
        cls = WORKERS[name]
        # Brute force goes through BLAS: keep it on one thread too. Import the library before
        # the baseline, so that its code is not counted as index memory.
        os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"
        __import__(MODULES[name.split("-")[0]])
        base = np.load(os.path.join(cache, "base.npy"))
        queries = np.load(os.path.join(cache, "queries.npy"))
        truth = np.load(os.path.join(cache, "truth.npy"))
        memory = {"rss_after_load_mb": rss_mb(), "max_rss_after_load_mb": max_rss_mb()}
        start = time.perf_counter()
        lib = cls(base, build_threads)
        build_seconds = time.perf_counter() - start
        memory["max_rss_after_build_mb"] = max_rss_mb()
        settings = lib.settings()
        # One untimed pass, so that the first timed setting does not pay for page faults and
        # cold caches.
        lib.search(settings[0], queries, 1)
        conn.send(
            {
                "build_seconds": build_seconds,
                "build_params": {**lib.build_params, "build_threads": build_threads},
                "settings": [asdict(s) for s in settings],
                "version": lib.version(),
                "memory": memory,
            }
        )
        while True:
            command, *args = conn.recv()
            if command == "run":
                i, threads = args
                s = settings[i]
                q, t = (
                    (queries[:EXACT_QUERIES], truth[:EXACT_QUERIES])
                    if s.exact
                    else (queries, truth)
                )
                start = time.perf_counter()
                ids, ndis = lib.search(s, q, threads)
                seconds = time.perf_counter() - start
                conn.send((seconds, len(q), tie_aware_recall(ids, t, q, base), ndis))
            elif command == "memory":
                conn.send(
                    {
                        **memory,
                        "max_rss_mb": max_rss_mb(),
                        "vm_hwm_mb": rss_mb("VmHWM"),
                        "rss_mb": rss_mb(),
                    }
                )
            else:
                break
    except BaseException as e:  # report, do not hang the parent
        conn.send({"error": f"{type(e).__name__}: {e}"})
        raise


# --------------------------------------------------------------------------------------------
# Data and ground truth
# --------------------------------------------------------------------------------------------


def prepare(
    path: Path, limit: int | None, n_queries: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(base, queries): unit-norm float32 rows, the queries held out of the base."""
    vectors = np.load(path, mmap_mode="r")
    if limit is not None:
        vectors = vectors[:limit]
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError("a zero vector has no cosine")
    vectors = np.ascontiguousarray(vectors / norms, dtype=np.float32)
    n_queries = min(n_queries, len(vectors) // 2)
    rng = np.random.default_rng(seed)
    held_out = rng.choice(len(vectors), size=n_queries, replace=False)
    keep = np.ones(len(vectors), dtype=bool)
    keep[held_out] = False
    return np.ascontiguousarray(vectors[keep]), np.ascontiguousarray(vectors[held_out])


def exact_neighbours(base: np.ndarray, queries: np.ndarray, block: int = 500) -> np.ndarray:
    """True ``K`` nearest (Euclidean) ids of each query, by blocks of dot products."""
    out = np.empty((len(queries), K), dtype=np.int64)
    spare = 3 * K
    base64 = base.astype(np.float64)
    sq_norms = np.einsum("ij,ij->i", base64, base64)
    for lo in range(0, len(queries), block):
        q = queries[lo : lo + block]
        # For unit vectors, nearest = largest dot product; re-rank a margin exactly.
        dots = q @ base.T
        cand = np.argpartition(-dots, spare, axis=1)[:, :spare]
        q64 = q.astype(np.float64)
        d2 = sq_norms[cand] - 2 * np.einsum("ij,ikj->ik", q64, base64[cand])
        order = np.lexsort((cand, d2), axis=1)[:, :K]
        out[lo : lo + len(q)] = np.take_along_axis(cand, order, axis=1)
    return out


def tie_aware_recall(
    ids: np.ndarray, truth: np.ndarray, queries: np.ndarray, base: np.ndarray
) -> float:
    """Recall@K counted by distance (:func:`nswg.metrics.recall_at_k`): every library's ids are
    turned into distances by one computation, so that tied words count alike for all."""

    def distances(found: np.ndarray) -> np.ndarray:
        rows = base[np.maximum(found, 0)].astype(np.float64)
        d = np.sqrt(((rows - queries[:, None, :].astype(np.float64)) ** 2).sum(axis=2))
        return np.where(found < 0, np.inf, d)  # a missing result (-1) is no hit

    return recall_at_k(distances(np.asarray(ids)), distances(truth))


# --------------------------------------------------------------------------------------------
# Interpolation
# --------------------------------------------------------------------------------------------


def frontier(points: Sequence[tuple[float, float]], higher_is_better: bool) -> list[tuple]:
    """Pareto frontier of (recall, value) points, by increasing recall."""
    best = -math.inf
    out = []
    for recall, value in sorted(points, key=lambda p: (-p[0], -p[1] if higher_is_better else p[1])):
        v = value if higher_is_better else -value
        if v > best:
            out.append((recall, value))
            best = v
    return out[::-1]


def at_recall(
    points: Sequence[tuple[float, float]], target: float, higher_is_better: bool = True
) -> tuple[float | None, str]:
    """Value at ``target`` recall: log-linear between the bracketing frontier points.

    Returns (value, note): note is "" when interpolated, "first point" when the sweep's cheapest
    setting already exceeds the target (the value is then a bound), "not reached" otherwise.
    """
    front = frontier(points, higher_is_better)
    above = [p for p in front if p[0] >= target]
    if not above:
        return None, "not reached"
    hi = above[0]
    below = [p for p in front if p[0] < target]
    if not below:
        return hi[1], "first point"
    lo = below[-1]
    t = (target - lo[0]) / (hi[0] - lo[0])
    return math.exp(math.log(lo[1]) + t * (math.log(hi[1]) - math.log(lo[1]))), ""


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


@dataclass
class Handle:
    name: str
    process: Any
    conn: Any
    info: dict[str, Any]
    settings: list[Setting]
    active: list[int] = field(default_factory=list)

    def stop_after(self, j: int) -> None:
        """Drop the settings of j's curve that come after j: they only cost more."""
        s = self.settings[j]
        if not s.exact:
            self.active = [i for i in self.active if i <= j or self.settings[i].series != s.series]

    def close(self) -> None:
        try:
            self.conn.send(("stop",))
        except (BrokenPipeError, OSError):
            pass
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.terminate()


def start(ctx: Any, name: str, cache: Path, build_threads: int) -> Handle:
    parent, child = ctx.Pipe()
    process = ctx.Process(target=worker, args=(child, name, str(cache), build_threads))
    process.start()
    info = parent.recv()
    if "error" in info:
        process.join()
        raise RuntimeError(f"{name}: {info['error']}")
    settings = [Setting(**s) for s in info["settings"]]
    return Handle(name, process, parent, info, settings, list(range(len(settings))))


def ask(h: Handle, *command: Any) -> Any:
    h.conn.send(command)
    answer = h.conn.recv()
    if isinstance(answer, dict) and "error" in answer:
        raise RuntimeError(f"{h.name}: {answer['error']}")
    return answer


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sweep(handles: list[Handle], repeats: int, stop_recall: float) -> list[dict[str, Any]]:
    """Every setting of every library, ``repeats`` times, interleaved; one row per setting."""
    times: dict[tuple[str, int], list[float]] = {}
    answers: dict[tuple[str, int], tuple[int, float, float | None]] = {}
    width = 1 + max(s.step for h in handles for s in h.settings)
    for rep in range(repeats):
        log(f"repeat {rep + 1}/{repeats}")
        for step in range(width):
            shift = rep % len(handles)
            for h in handles[shift:] + handles[:shift]:
                for j in [i for i in h.active if h.settings[i].step == step]:
                    if j not in h.active:  # dropped by the stop rule just now
                        continue
                    seconds, n_q, recall, ndis = ask(h, "run", j, 1)
                    times.setdefault((h.name, j), []).append(seconds)
                    answers[(h.name, j)] = (n_q, recall, ndis)
                    if rep == 0 and recall >= stop_recall:
                        h.stop_after(j)
    rows = []
    for h in handles:
        for j in h.active:
            s = h.settings[j]
            n_q, recall, ndis = answers[(h.name, j)]
            med = statistics.median(times[(h.name, j)])
            rows.append(
                {
                    "library": h.name,
                    "series": s.series,
                    "setting": s.label,
                    "ef": s.ef,
                    "n_searches": s.n_searches,
                    "n_queries": n_q,
                    "recall_at_10": recall,
                    "qps": n_q / med,
                    "seconds_median": med,
                    "seconds_all": times[(h.name, j)],
                    "distance_computations_per_query": ndis,
                    "build_seconds": h.info["build_seconds"],
                }
            )
    return rows


def batch_speedup(
    h: Handle, rows: list[dict[str, Any]], repeats: int, n_queries: int
) -> dict[str, Any]:
    """nswg on 2 threads against 1, at its fastest setting of recall >= 0.95, interleaved.

    At least 9 pairs, whichever thread count goes first alternating: a run takes a second or two,
    and on a shared machine single runs of the same setting differ by half."""
    mine = [r for r in rows if r["library"] == h.name and r["setting"] != "exact"]
    pick = max([r for r in mine if r["recall_at_10"] >= 0.95] or mine, key=lambda r: r["qps"])
    j = next(i for i in h.active if h.settings[i].label == pick["setting"])
    log(f"nswg batch speed-up at {pick['setting']}")
    seconds: dict[int, list[float]] = {1: [], 2: []}
    for i in range(max(repeats, 9)):
        for threads in (1, 2) if i % 2 == 0 else (2, 1):
            seconds[threads].append(ask(h, "run", j, threads)[0])
    t1, t2 = seconds[1], seconds[2]
    return {
        "setting": pick["setting"],
        "recall_at_10": pick["recall_at_10"],
        "seconds_1_thread": t1,
        "seconds_2_threads": t2,
        "qps_1_thread": n_queries / statistics.median(t1),
        "qps_2_threads": n_queries / statistics.median(t2),
        "speedup": statistics.median(t1) / statistics.median(t2),
    }


def interpolate(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(values at the target recalls per curve, nswg/peer ratios). Curves "nswg" and
    "nswg-sq8" and "nswg-rabitq4" are the best of their n_searches settings, "scann" of its reorder
    depths."""
    curves: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["setting"] != "exact":
            curves.setdefault(r["series"], []).append(r)
    families = (*((name, f"{name} ns=") for name in OURS), ("scann", "scann "))
    best_of = {
        name: [r for r in rows if r["series"].startswith(prefix) and r["setting"] != "exact"]
        for name, prefix in families
    }
    curves = {**{name: pts for name, pts in best_of.items() if pts}, **curves}
    at: dict[str, dict[str, Any]] = {}
    for name, pts in curves.items():
        qps = [(r["recall_at_10"], r["qps"]) for r in pts]
        at[name] = {}
        for target in TARGETS:
            value, note = at_recall(qps, target)
            at[name][f"qps@{target:.2f}"] = value
            at[name][f"qps@{target:.2f}_note"] = note
        nd = [(r["recall_at_10"], r["distance_computations_per_query"]) for r in pts]
        if all(v is not None for _, v in nd):
            value, note = at_recall(nd, 0.95, higher_is_better=False)
            at[name]["distances@0.95"] = value
            at[name]["distances@0.95_note"] = note
    return at, nswg_over_peers(at)


def nswg_over_peers(at: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """QPS (and distance computations) of each of nswg's curves (:data:`OURS`) at each target
    recall over each peer's (scann's best reorder depth, not each one), and of each coded curve
    over "nswg"; keyed "nswg / peer"."""
    ours = [name for name in OURS if name in at]
    peers = [name for name in at if not name.startswith(("nswg", "scann "))]
    pairs = [(mine, peer) for mine in ours for peer in peers]
    if "nswg" in at:
        pairs += [(mine, "nswg") for mine in ours if mine != "nswg"]
    ratios: dict[str, dict[str, float | None]] = {}
    for mine, peer in pairs:
        key = f"{mine} / {peer}"
        ratios[key] = {}
        for target in TARGETS:
            a, b = at[mine][f"qps@{target:.2f}"], at[peer][f"qps@{target:.2f}"]
            ratios[key][f"nswg/peer qps@{target:.2f}"] = a / b if a and b else None
        a, b = at[mine].get("distances@0.95"), at[peer].get("distances@0.95")
        if a and b:
            ratios[key]["nswg/peer distances@0.95"] = a / b
    return ratios


def libraries(spec: str) -> tuple[list[str], dict[str, str]]:
    """(configurations to run, {configuration: why it is skipped})."""
    names: list[str] = []
    for lib in spec.split(","):
        if lib.strip() not in LIBS:
            raise SystemExit(f"unknown library {lib!r}: choose from {', '.join(LIBS)}")
        names += LIBS[lib.strip()]
    skipped = {n: why for n in names if (why := available(n)) is not None}
    for n, why in skipped.items():
        log(f"skipping {n}: {why}")
    return [n for n in names if n not in skipped], skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="(n, d) float32 .npy file")
    parser.add_argument("--name", default="GloVe 6B 50d", help="the data's name in the output")
    parser.add_argument("--limit", type=int, default=None, help="use the first N words only")
    parser.add_argument("--queries", type=int, default=10_000, help="held-out query words")
    parser.add_argument(
        "--libs", default=DEFAULT_LIBS, help=f"comma-separated, of {', '.join(LIBS)}"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--build-threads", type=int, default=2)
    parser.add_argument("--stop-recall", type=float, default=0.995)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench-out/words")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # The workers read the prepared vectors from here; removed at the end (80 MB for GloVe).
    cache_dir = tempfile.TemporaryDirectory(prefix="nswg-words-")
    cache = Path(cache_dir.name)
    command = "python " + shlex.join([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    names, skipped = libraries(args.libs)
    # Linux keeps ru_maxrss across fork and exec: workers forked from a fresh, small server
    # start from its peak, not from this process's (which holds the data and the ground truth).
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([])
    forkserver.ensure_running()

    log("loading and normalising the vectors")
    base, queries = prepare(Path(args.data), args.limit, args.queries, args.seed)
    log(f"exact ground truth: {len(queries)} queries x {len(base)} words")
    started = time.perf_counter()
    truth = exact_neighbours(base, queries)
    truth_seconds = time.perf_counter() - started
    for file, array in (("base", base), ("queries", queries), ("truth", truth)):
        np.save(cache / f"{file}.npy", array)
    n_base, dim, n_queries = len(base), base.shape[1], len(queries)
    del base

    handles: list[Handle] = []
    try:
        for n in names:
            log(f"building {n} on {args.build_threads} threads")
            handles.append(start(ctx, n, cache, args.build_threads))
            log(f"  {n}: {handles[-1].info['build_seconds']:.1f} s")
        rows = sweep(handles, args.repeats, args.stop_recall)
        nswg = [h for h in handles if h.name == "nswg"]
        speedup = batch_speedup(nswg[0], rows, args.repeats, n_queries) if nswg else None
        memory = {h.name: ask(h, "memory") for h in handles}
    finally:
        for h in handles:
            h.close()
        cache_dir.cleanup()
    for m in memory.values():
        m["index_mb"] = m["max_rss_mb"] - m["rss_after_load_mb"]
    at, ratios = interpolate(rows)
    summary = {
        "command": command,
        "machine": bench.machine_info(),
        "versions": {h.name: h.info["version"] for h in handles},
        "skipped": skipped,
        "data": {
            "file": str(args.data),
            "name": args.name,
            "n_base": n_base,
            "dim": dim,
            "n_queries": n_queries,
            "exact_queries_timed": min(EXACT_QUERIES, n_queries),
            "k": K,
            "seed": args.seed,
            "ground_truth_seconds": truth_seconds,
        },
        "threads": {"build": args.build_threads, "search": 1},
        "repeats": args.repeats,
        "stop_recall": args.stop_recall,
        "build": {
            h.name: {"seconds": h.info["build_seconds"], "params": h.info["build_params"]}
            for h in handles
        },
        "memory_mb": memory,
        "at_recall": at,
        "ratios": ratios,
        "nswg_batch_speedup": speedup,
        "results": rows,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[c for c in rows[0] if c != "seconds_all"])
        w.writeheader()
        w.writerows([{k: v for k, v in r.items() if k != "seconds_all"} for r in rows])
    plot(rows, out, args.name)
    print(report(summary))
    return 0


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def fmt(value: float | None, spec: str = ",.0f", note: str = "") -> str:
    if value is None:
        return "not reached"
    text = format(value, spec)
    return f">={text}" if note == "first point" else text


def report(s: dict[str, Any]) -> str:
    d, m = s["data"], s["machine"]
    lines = [
        f"{d['name']}, cosine (unit vectors, L2): {d['n_base']:,} vectors indexed, "
        f"{d['n_queries']:,} held-out queries, k={d['k']}; builds on {s['threads']['build']} "
        f"threads, searches on 1 thread; QPS = median of {s['repeats']} interleaved repeats",
        f"{m['cpu']} ({m['cores']} cores), Python {m['python']}, numpy {m['numpy']}; "
        + ", ".join(f"{k} {v}" for k, v in s["versions"].items()),
        f"command: {s['command']}",
    ]
    if s["skipped"]:
        lines.append("skipped: " + "; ".join(f"{k}: {v}" for k, v in s["skipped"].items()))
    lines += ["", "| curve | QPS @0.90 | QPS @0.95 | QPS @0.99 | dist. comps @0.95 |"]
    lines.append("|---|---:|---:|---:|---:|")
    for name, v in s["at_recall"].items():
        cells = [fmt(v[f"qps@{t:.2f}"], note=v[f"qps@{t:.2f}_note"]) for t in TARGETS]
        nd = (
            fmt(v["distances@0.95"], note=v["distances@0.95_note"]) if "distances@0.95" in v else ""
        )
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {nd} |")
    if s["ratios"]:
        lines += ["", "| ratio | QPS @0.90 | QPS @0.95 | QPS @0.99 | dist. comps @0.95 |"]
        lines.append("|---|---:|---:|---:|---:|")
        for name, v in s["ratios"].items():
            cells = [fmt(v[f"nswg/peer qps@{t:.2f}"], ".2f") for t in TARGETS]
            nd = (
                fmt(v["nswg/peer distances@0.95"], ".2f") if "nswg/peer distances@0.95" in v else ""
            )
            lines.append(
                f"| {name} | "
                + " | ".join(c.replace("not reached", "-") for c in cells)
                + f" | {nd} |"
            )
    lines += [
        "",
        "| library | build s | build params | peak RSS MB | RSS after data MB | index MB "
        "| nbytes MB |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for name, b in s["build"].items():
        mem = s["memory_mb"][name]
        params = ", ".join(
            f"{k}={v}"
            for k, v in b["params"].items()
            if k not in ("build_distance_computations", "nbytes")
        )
        nbytes = b["params"].get("nbytes")
        lines.append(
            f"| {name} | {b['seconds']:.1f} | {params} | {mem['max_rss_mb']:,.0f} | "
            f"{mem['rss_after_load_mb']:,.0f} | {mem['index_mb']:,.0f} | "
            f"{'' if nbytes is None else format(nbytes / 1e6, ',.1f')} |"
        )
    exact = [r for r in s["results"] if r["setting"] == "exact"]
    if exact:
        lines += ["", "| exact search (1 thread) | QPS | recall@10 |", "|---|---:|---:|"]
        for r in exact:
            lines.append(f"| {r['series']} | {r['qps']:,.0f} | {r['recall_at_10']:.4f} |")
    sp = s["nswg_batch_speedup"]
    if sp:
        lines += [
            "",
            f"nswg batch search at {sp['setting']}: {sp['qps_1_thread']:,.0f} QPS on 1 thread, "
            f"{sp['qps_2_threads']:,.0f} on 2 threads: speed-up {sp['speedup']:.2f}x",
        ]
    lines += ["", "Sweep (recall@10, QPS, distance computations per query):", ""]
    lines += ["| series | setting | recall@10 | QPS | dist. comps |", "|---|---|---:|---:|---:|"]
    for r in s["results"]:
        nd = r["distance_computations_per_query"]
        lines.append(
            f"| {r['series']} | {r['setting']} | {r['recall_at_10']:.4f} | {r['qps']:,.0f} | "
            f"{'' if nd is None else format(nd, ',.0f')} |"
        )
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], out: Path, data_name: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is absent: no plots", file=sys.stderr)
        return
    curves: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(rows, key=lambda r: r["recall_at_10"]):
        curves.setdefault(r["series"], []).append(r)
    for kind in ("qps", "distance_computations_per_query"):
        fig, ax = plt.subplots(figsize=(8, 5.5))
        for name, pts in curves.items():
            if pts[0]["setting"] == "exact" or pts[0][kind] is None:
                continue
            style = "s-" if name.startswith("nswg") else "o--"
            x = [r["recall_at_10"] for r in pts]
            ax.plot(x, [r[kind] for r in pts], style, ms=3, label=name)
        if kind == "qps":
            for name, pts in curves.items():
                if pts[0]["setting"] == "exact":
                    ax.axhline(pts[0]["qps"], ls=":", color="grey")
                    ax.annotate(
                        f"{name}: {pts[0]['qps']:,.0f} QPS",
                        (0.01, pts[0]["qps"] * 1.05),
                        xycoords=("axes fraction", "data"),
                        fontsize=7,
                    )
            ax.set_ylabel("queries per second, 1 thread (log)")
            ax.set_title(f"{data_name}, cosine, k=10: recall against speed")
            file = "recall_qps.png"
        else:
            ax.set_ylabel("distance computations per query (log)")
            ax.set_title(f"{data_name}, cosine, k=10: recall against distance computations")
            file = "recall_distances.png"
        ax.set_yscale("log")
        ax.set_xlabel("recall@10")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / file, dpi=120)
        plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
