"""The measurements behind docs/params.md: what each knob of Index.build / Index.search buys.

Two workloads from the shipped data, each answered for k=10 against exact search on the same
index:

- ``words``: the 10k GloVe words (50-d), cosine; 1000 words chosen at random (seed 0) are held
  out of the index and used as queries.
- ``crop``: UCR Crop, the 7200 training series (length 46) indexed under DTW with a band of 10 %
  (``window=0.1``, radius 5); the first 1000 test series are the queries.

Costs are counted, not timed: distance computations per query (and LB_Keogh bounds under DTW)
and per indexed point for the build. Given the seed they are the same on every machine and
whatever the load. ``--timings`` adds wall-clock columns: microseconds per query with searches
on one thread (``n_threads=1``), and build seconds with every core (``--build-threads``).
Prints Markdown tables.

    python benchmarks/params_sweep.py > sweep.md
    python benchmarks/params_sweep.py --only search --timings
    python benchmarks/params_sweep.py --only curves --plot docs/params_curves.png

``--plot`` draws recall@10 against distance computations per query over the ``ef`` sweep, one
curve per graph (``n_neighbors`` of the build), one panel per workload (needs matplotlib).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nswg import Index, bench, datasets
from nswg.metrics import recall_at_k


@dataclass
class Workload:
    name: str
    base: np.ndarray
    queries: np.ndarray
    metric: str
    radius: int | None = None

    def build(self, n_threads: int, **params: Any) -> tuple[Index, float]:
        start = time.perf_counter()
        index = Index.build(
            self.base, metric=self.metric, radius=self.radius, n_threads=n_threads, **params
        )
        return index, time.perf_counter() - start


def workloads(names: Iterable[str]) -> list[Workload]:
    out = []
    for name in names:
        if name == "words":
            _, vectors = datasets.load_default_word_vectors()
            rng = np.random.default_rng(0)
            held_out = rng.choice(len(vectors), size=1000, replace=False)
            keep = np.ones(len(vectors), dtype=bool)
            keep[held_out] = False
            out.append(Workload("words", vectors[keep], vectors[held_out], "cosine"))
        elif name == "crop":
            X, _, Xt, _ = datasets.load_ucr("Crop")
            out.append(Workload("crop", X, Xt[:1000], "dtw", radius=5))
        else:
            raise ValueError(f"unknown workload {name!r}: words or crop")
    return out


K = 10
#: Whether to print wall-clock columns (``--timings``).
TIMINGS = False


class Truth:
    """Exact answers per (workload, radius), computed once."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int | None, int], Any] = {}

    def get(self, w: Workload, index: Index, k: int = K) -> Any:
        key = (w.name, index.radius, k)
        if key not in self._cache:
            start = time.perf_counter()
            res = index.search(w.queries, k=k, exact=True, n_threads=1)
            self._cache[key] = (res, time.perf_counter() - start)
        return self._cache[key]


def measure(w: Workload, index: Index, truth: Truth, k: int = K, **search: Any) -> dict[str, float]:
    exact, _ = truth.get(w, index, k)
    start = time.perf_counter()
    res = index.search(w.queries, k=k, n_threads=1, **search)
    seconds = time.perf_counter() - start
    return {
        "recall": recall_at_k(res.distances, exact.distances),
        "dist": float(np.mean(res.n_distance_computations)),
        "lb": float(np.mean(res.n_lower_bound_computations)),
        "us": 1e6 * seconds / len(w.queries),
    }


def md_table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; without ``--timings``, the wall-clock columns are left out."""
    keep = [i for i, h in enumerate(head) if TIMINGS or not _timed(h)]
    lines = [
        "| " + " | ".join(head[i] for i in keep) + " |",
        "|" + "|".join("---:" for _ in keep) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row[i]) for i in keep) + " |")
    return "\n".join(lines)


def _timed(header: str) -> bool:
    return header.endswith("µs/query") or header == "build s"


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.3f}" if x <= 1.0 else f"{x:.1f}" if x < 100 else f"{x:.0f}"
    return str(x)


def search_tables(ws: list[Workload], build_threads: int, truth: Truth) -> None:
    for w in ws:
        index, seconds = w.build(build_threads)
        exact, exact_seconds = truth.get(w, index)
        built = f", built in {seconds:.1f} s" if TIMINGS else ""
        print(f"\n#### {w.name}: default graph ({index!r}{built})\n")
        exact_cost = float(np.mean(exact.n_distance_computations))
        print(
            f"Exact search: {exact_cost:.0f} distance computations per query"
            + (
                f" ({np.mean(exact.n_lower_bound_computations):.0f} LB_Keogh bounds)"
                if w.metric == "dtw"
                else ""
            )
            + (f", {1e6 * exact_seconds / len(w.queries):.0f} µs per query" if TIMINGS else "")
            + ".\n"
        )
        print(f"`ef` (with `n_searches=2`), recall@{K}:\n")
        rows = []
        for ef in EF_SWEEP:
            m = measure(w, index, truth, ef=ef, n_searches=2)
            rows.append([ef, m["recall"], m["dist"], 100 * m["dist"] / len(index), m["us"]])
        print(md_table(["ef", "recall@10", "distances/query", "% of n", "µs/query"], rows))
        print(f"\n`n_searches` and `ef` for k=10, recall@{K}:\n")
        rows = []
        for ef in (10, 48):
            for ns in (1, 2, 4, 8):
                m = measure(w, index, truth, ef=ef, n_searches=ns)
                rows.append([ef, ns, m["recall"], m["dist"], m["us"]])
        print(md_table(["ef", "n_searches", "recall@10", "distances/query", "µs/query"], rows))
        print("\n`n_searches` and `ef` for k=1 (1-NN classification), recall@1:\n")
        rows = []
        for ef in (1, 2, 4, 16):
            for ns in (1, 2, 4, 8):
                m = measure(w, index, truth, k=1, ef=ef, n_searches=ns)
                rows.append([ef, ns, m["recall"], m["dist"], m["us"]])
        print(md_table(["ef", "n_searches", "recall@1", "distances/query", "µs/query"], rows))


def build_tables(ws: list[Workload], build_threads: int, truth: Truth) -> None:
    for w in ws:
        print(f"\n#### {w.name}: graph parameters\n")
        print(
            "`n_neighbors` × `ef_construction` (other parameters at their defaults); the search "
            f"at `ef=16` and `ef=48` (`n_searches=2`), recall@{K}:\n"
        )
        rows = []
        for m_ in (4, 8, 16, 32):
            for efc in (16, 50, 100, 200):
                index, seconds = w.build(build_threads, n_neighbors=m_, ef_construction=efc)
                a = measure(w, index, truth, ef=16)
                b = measure(w, index, truth, ef=48)
                rows.append(
                    [
                        m_,
                        efc,
                        seconds,
                        index.build_distance_computations / len(index),
                        a["recall"],
                        a["dist"],
                        b["recall"],
                        b["dist"],
                    ]
                )
        print(
            md_table(
                [
                    "n_neighbors",
                    "ef_construction",
                    "build s",
                    "build dist/point",
                    "recall ef=16",
                    "dist ef=16",
                    "recall ef=48",
                    "dist ef=48",
                ],
                rows,
            )
        )
        print("\n`max_degree` at `n_neighbors=16`:\n")
        rows = []
        for md in (16, 24, 32, 64):
            index, seconds = w.build(build_threads, n_neighbors=16, max_degree=md)
            a = measure(w, index, truth, ef=16)
            b = measure(w, index, truth, ef=48)
            mean_degree = index._core.n_links / len(index)
            rows.append([md, mean_degree, seconds, a["recall"], a["dist"], b["recall"], b["dist"]])
        print(
            md_table(
                [
                    "max_degree",
                    "mean degree",
                    "build s",
                    "recall ef=16",
                    "dist ef=16",
                    "recall ef=48",
                    "dist ef=48",
                ],
                rows,
            )
        )
        print("\n`n_searches` of the build:\n")
        rows = []
        for ns in (1, 2, 4):
            index, seconds = w.build(build_threads, n_searches=ns)
            a = measure(w, index, truth, ef=16)
            b = measure(w, index, truth, ef=48)
            rows.append(
                [
                    ns,
                    seconds,
                    index.build_distance_computations / len(index),
                    a["recall"],
                    b["recall"],
                    b["dist"],
                ]
            )
        print(
            md_table(
                [
                    "build n_searches",
                    "build s",
                    "build dist/point",
                    "recall ef=16",
                    "recall ef=48",
                    "dist ef=48",
                ],
                rows,
            )
        )
        print("\n`seed`: five graphs and entry points, same data:\n")
        rows = []
        for seed in range(5):
            index, _ = w.build(build_threads, seed=seed)
            a = measure(w, index, truth, ef=16)
            b = measure(w, index, truth, ef=48)
            rows.append([seed, a["recall"], a["dist"], b["recall"], b["dist"]])
        print(md_table(["seed", "recall ef=16", "dist ef=16", "recall ef=48", "dist ef=48"], rows))
        print("\n`n_threads` of the build (same graph whatever the count):\n")
        rows = []
        reference = None
        for threads in (1, 2, 4):
            index, seconds = w.build(threads)
            ids = index.search(w.queries, k=K, n_threads=1).ids
            reference = ids if reference is None else reference
            rows.append([threads, seconds, bool(np.array_equal(ids, reference))])
        print(md_table(["n_threads", "build s", "same answers as 1 thread"], rows))


def dtw_tables(ws: list[Workload], build_threads: int, truth: Truth) -> None:
    for w in ws:
        if w.metric != "dtw":
            continue
        print(f"\n#### {w.name}: the DTW band\n")
        print(
            "`radius` in points (the series have 46); exact search's cost, and the graph search "
            f"at `ef=48`, recall@{K} against exact search at the same radius:\n"
        )
        rows = []
        length = w.base.shape[1]
        for radius in (0, 1, 2, 5, 10, 23, length):
            v = Workload(w.name, w.base, w.queries, "dtw", radius=radius)
            index, seconds = v.build(build_threads)
            exact, exact_seconds = truth.get(v, index)
            m = measure(v, index, truth, ef=48)
            rows.append(
                [
                    "full" if radius == length else radius,
                    seconds,
                    float(np.mean(exact.n_distance_computations)),
                    float(np.mean(exact.n_lower_bound_computations)),
                    1e6 * exact_seconds / len(v.queries),
                    m["recall"],
                    m["dist"],
                    m["lb"],
                    m["us"],
                ]
            )
        print(
            md_table(
                [
                    "radius",
                    "build s",
                    "exact: DTW/query",
                    "exact: LB/query",
                    "exact µs/query",
                    "graph recall@10",
                    "graph DTW/query",
                    "graph LB/query",
                    "graph µs/query",
                ],
                rows,
            )
        )


#: The ``ef`` sweep of the search tables and of the curves.
EF_SWEEP = (10, 16, 24, 32, 48, 64, 96, 128, 192, 256)


def curves(ws: list[Workload], build_threads: int, truth: Truth, path: str) -> None:
    """Recall@10 against distance computations per query over ``EF_SWEEP``, per n_neighbors."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(ws), figsize=(5 * len(ws), 3.6), squeeze=False)
    for ax, w in zip(axes[0], ws):
        for m_ in (4, 8, 16, 32):
            index, _ = w.build(build_threads, n_neighbors=m_)
            points = [measure(w, index, truth, ef=ef) for ef in EF_SWEEP]
            label = f"n_neighbors={m_}" + (" (default)" if m_ == 16 else "")
            ax.plot(
                [p["dist"] for p in points], [p["recall"] for p in points], "o-", ms=3, label=label
            )
        ax.set_xscale("log")
        ax.set_xlabel("distance computations per query" + (" (DTW)" if w.metric == "dtw" else ""))
        ax.set_ylabel(f"recall@{K}")
        ax.set_title(
            f"{w.name}: {len(w.base)} points, {w.metric}, ef = {EF_SWEEP[0]}..{EF_SWEEP[-1]}"
        )
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"\n![recall against cost]({path})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="words,crop", help="words and/or crop")
    parser.add_argument(
        "--only", choices=("search", "build", "dtw", "curves"), help="one group only"
    )
    parser.add_argument("--plot", help="PNG file for the curves (with --only curves or none)")
    parser.add_argument("--build-threads", type=int, default=0, help="0: one per core")
    parser.add_argument("--timings", action="store_true", help="add wall-clock columns")
    args = parser.parse_args(argv)
    global TIMINGS
    TIMINGS = args.timings
    ws = workloads(n.strip() for n in args.workloads.split(",") if n.strip())
    info = bench.machine_info()
    print(
        f"<!-- python {shlex.join([sys.argv[0], *(argv or sys.argv[1:])])} -->\n"
        f"<!-- nswg {info['nswg']}, numpy {info['numpy']}, Python {info['python']}, "
        f"{info['cpu']} ({info['cores']} cores) -->"
    )
    truth = Truth()
    groups = {"search": search_tables, "build": build_tables, "dtw": dtw_tables}
    for name, fn in groups.items():
        if args.only in (None, name):
            fn(ws, args.build_threads, truth)
    if args.plot is not None and args.only in (None, "curves"):
        curves(ws, args.build_threads, truth, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
