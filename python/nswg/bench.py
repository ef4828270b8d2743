"""Accuracy versus distance computations: the benchmark helpers behind ``python -m nswg bench``.

Each run compares the graph search with exact search on the same index, so every figure is a
ratio measured in one process: 1-NN classification error on UCR datasets (with the archive's
published error beside it) and recall@k on word vectors, each against the mean number of
distance computations per query. Recall counts a result at the k-th true distance as correct
(:func:`nswg.metrics.recall_at_k`), so that tied words do not count against any method.
"""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, TypeVar

import numpy as np

from nswg import datasets
from nswg.index import Index
from nswg.metrics import recall_at_k

T = TypeVar("T")


@dataclass(frozen=True)
class Setting:
    """One graph-search setting of a sweep: beam width ``ef`` and restarts ``n_searches``."""

    ef: int
    n_searches: int

    @property
    def label(self) -> str:
        return f"ef={self.ef},ns={self.n_searches}"

    @classmethod
    def parse(cls, text: str) -> Setting:
        """``"ef:n_searches"``, e.g. ``"16:2"``; ``"16"`` means 2 restarts."""
        ef, _, ns = text.strip().partition(":")
        try:
            setting = cls(int(ef), int(ns) if ns else 2)
        except ValueError:
            raise ValueError(f"bad sweep setting {text!r}: expected EF or EF:N_SEARCHES") from None
        if setting.ef < 1 or setting.n_searches < 1:
            raise ValueError(f"bad sweep setting {text!r}: both numbers must be at least 1")
        return setting


#: Sweep of the UCR benchmark: from a single greedy descent to a wide beam.
UCR_SWEEP = tuple(
    Setting(ef, ns)
    for ef, ns in ((1, 1), (2, 1), (4, 1), (4, 2), (8, 2), (16, 2), (32, 4), (64, 4))
)
#: Sweep of the word-vector benchmark.
WORD_SWEEP = tuple(Setting(ef, 2) for ef in (10, 16, 24, 32, 48, 64, 96, 128, 192, 256))
#: Words whose neighbours the word-vector benchmark prints.
PROBE_WORDS = ("king", "france", "computer", "music", "water")


def measure_seconds(fn: Callable[[], T]) -> tuple[T, float]:
    """``fn()`` and the wall time it took, in seconds."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


@dataclass
class UcrResult:
    """One line of the UCR benchmark: a dataset under one metric and one search method."""

    dataset: str
    metric: str
    radius: int | None
    n_train: int
    n_test: int
    length: int
    method: str
    ef: int | None
    n_searches: int | None
    error: float
    published_error: float
    mean_distance_computations: float
    mean_lower_bound_computations: float
    percent_of_brute_force: float
    seconds: float
    build_seconds: float


@dataclass
class WordResult:
    """One line of the word-vector benchmark."""

    method: str
    ef: int | None
    n_searches: int | None
    k: int
    recall: float
    mean_distance_computations: float
    #: Distances estimated from the codes per query (0 without codes, and for exact search).
    mean_code_distance_computations: float
    percent_of_brute_force: float
    queries_per_second: float
    seconds: float


@dataclass
class WordBench:
    n_words: int
    dim: int
    n_queries: int
    build_seconds: float
    #: The codes the graph search walked on (:data:`nswg.QUANTIZATIONS`), None for float32.
    quantization: str | None
    results: list[WordResult] = field(default_factory=list)
    probes: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


def ucr_task(
    name: str,
    metric: str,
    *,
    root: str | os.PathLike[str] | None = None,
    sweep: Sequence[Setting] = UCR_SWEEP,
    max_test: int | None = None,
    seed: int = 0,
    n_threads: int = 0,
) -> list[UcrResult]:
    """1-NN classification of one UCR dataset under ``metric`` ("euclidean" or "dtw"):
    exact search, then the graph search at each setting of ``sweep``.

    Costs are distance computations per query and their percentage of brute force's (one per
    training series). Under DTW, exact search also computes fewer than brute force: lower
    bounds rule some out, and are counted apart.

    DTW uses the dataset's learned window from the archive's DataSummary (the full window when
    the dataset is not listed) and compares variable-length series at their true lengths;
    Euclidean resamples them to the longest length (:func:`nswg.datasets.resample`).
    """
    X, y, Xt, yt = datasets.load_ucr(name, root)
    if max_test is not None:
        Xt, yt = Xt[:max_test], yt[:max_test]
    summary = datasets.ucr_summary(root).get(name)
    length = X.shape[1]
    radius: int | None = None
    if metric == "dtw":
        published = summary.dtw_error if summary else math.nan
        if summary is not None:
            radius = datasets.ucr_window_radius(summary.dtw_window_percent, length)
    else:
        published = summary.ed_error if summary else math.nan
        padded = np.isnan(X).any() or np.isnan(Xt).any()
        if padded:
            X, Xt = datasets.resample(X, length), datasets.resample(Xt, length)
    index, build_seconds = measure_seconds(
        lambda: Index.build(X, metric=metric, radius=radius, seed=seed, n_threads=n_threads)
    )

    def line(method: str, setting: Setting | None, res: Any, seconds: float) -> UcrResult:
        predicted = y[res.ids[:, 0]]
        mean_cost = float(np.mean(res.n_distance_computations))
        mean_bounds = float(np.mean(res.n_lower_bound_computations))
        return UcrResult(
            dataset=name,
            metric=metric,
            radius=radius,
            n_train=len(X),
            n_test=len(Xt),
            length=length,
            method=method,
            ef=setting.ef if setting else None,
            n_searches=setting.n_searches if setting else None,
            error=float(np.mean(predicted != yt)),
            published_error=published,
            mean_distance_computations=mean_cost,
            mean_lower_bound_computations=mean_bounds,
            percent_of_brute_force=100.0 * mean_cost / len(X),
            seconds=seconds,
            build_seconds=build_seconds,
        )

    exact, seconds = measure_seconds(lambda: index.search(Xt, k=1, exact=True, n_threads=n_threads))
    lines = [line("exact", None, exact, seconds)]
    for s in sweep:
        res, seconds = measure_seconds(
            partial(index.search, Xt, k=1, ef=s.ef, n_searches=s.n_searches, n_threads=n_threads)
        )
        lines.append(line("graph", s, res, seconds))
    return lines


def cheapest_within(lines: Sequence[UcrResult], tolerance: float = 0.01) -> UcrResult | None:
    """The graph setting of least cost whose error is within ``tolerance`` of exact search's."""
    exact = next(x for x in lines if x.method == "exact")
    good = [x for x in lines if x.method == "graph" and x.error <= exact.error + tolerance + 1e-12]
    return min(good, key=lambda x: x.mean_distance_computations, default=None)


#: Neighbours the word-vector benchmark's recall counts.
WORD_K = 10


def check_word_bench(n_words: int, n_queries: int, k: int = WORD_K) -> None:
    """Errors unless :func:`word_bench` can run on ``n_words`` words: it holds out
    ``min(n_queries, n_words // 2)`` of them as queries and needs ``k`` words left to find."""
    held_out = min(n_queries, n_words // 2)
    if n_queries < 1:
        raise ValueError(f"need at least one query word, got n_queries={n_queries}")
    if held_out < 1 or n_words - held_out < k:
        raise ValueError(
            f"{n_words} words are too few: {held_out} held out as queries (at most half) leave "
            f"{n_words - held_out}, and recall@{k} needs at least one query and {k} words left"
        )


def word_bench(
    words: Sequence[str],
    vectors: np.ndarray,
    *,
    n_queries: int = 1000,
    k: int = WORD_K,
    sweep: Sequence[Setting] = WORD_SWEEP,
    probes: Iterable[str] = PROBE_WORDS,
    seed: int = 0,
    n_threads: int = 0,
    quantization: str | None = None,
) -> WordBench:
    """Recall@k of the graph search against exact search under cosine distance.

    ``n_queries`` words chosen at random (seeded) are held out of the index and used as queries.
    With ``quantization``, the graph search walks on codes of the rows (the exact search never
    reads them): its exact distances are the re-ranking of the points found, and its estimates
    are counted apart.
    """
    check_word_bench(len(vectors), n_queries, k)
    rng = np.random.default_rng(seed)
    held_out = rng.choice(len(vectors), size=min(n_queries, len(vectors) // 2), replace=False)
    keep = np.ones(len(vectors), dtype=bool)
    keep[held_out] = False
    base_words = [w for w, kept in zip(words, keep) if kept]
    base, queries = vectors[keep], vectors[held_out]
    index, build_seconds = measure_seconds(
        lambda: Index.build(
            base, metric="cosine", quantization=quantization, seed=seed, n_threads=n_threads
        )
    )
    out = WordBench(len(base), base.shape[1], len(queries), build_seconds, index.quantization)

    def line(method: str, setting: Setting | None, res: Any, seconds: float) -> WordResult:
        mean_cost = float(np.mean(res.n_distance_computations))
        return WordResult(
            method=method,
            ef=setting.ef if setting else None,
            n_searches=setting.n_searches if setting else None,
            k=k,
            recall=recall_at_k(res.distances, truth.distances),
            mean_distance_computations=mean_cost,
            mean_code_distance_computations=float(np.mean(res.n_code_distance_computations)),
            percent_of_brute_force=100.0 * mean_cost / len(base),
            queries_per_second=len(queries) / seconds,
            seconds=seconds,
        )

    truth, seconds = measure_seconds(
        lambda: index.search(queries, k=k, exact=True, n_threads=n_threads)
    )
    out.results.append(line("exact", None, truth, seconds))
    for s in sweep:
        res, seconds = measure_seconds(
            partial(
                index.search, queries, k=k, ef=s.ef, n_searches=s.n_searches, n_threads=n_threads
            )
        )
        out.results.append(line("graph", s, res, seconds))
    position = {w: i for i, w in enumerate(words)}
    for word in probes:
        if word in position:
            ids, distances = index.search(vectors[position[word]], k=6)
            near = [
                (base_words[i], round(1.0 - float(d), 4))
                for i, d in zip(ids.tolist(), distances.tolist())
                if base_words[i] != word
            ]
            out.probes[word] = near[:5]
    return out


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    import nswg

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "nswg": nswg.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
    }


def as_records(items: Iterable[Any]) -> list[dict[str, Any]]:
    return [asdict(x) for x in items]
