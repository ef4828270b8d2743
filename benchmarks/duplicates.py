"""Graph quality on data full of copies: recall with and without the copies, side by side.

Each case indexes a collection twice at default settings, once as it is (with exact or slightly
moved copies of its rows) and once with the copies removed, and compares recall@10 of the
default graph search, counted by distance so that ties do not count against anyone
(:func:`nswg.metrics.recall_at_k`). Also reported: the graph's degrees and in-degree-0 points
(:meth:`nswg.Index.stats`) and the distance computations per query.

    python benchmarks/duplicates.py                 # every case
    python benchmarks/duplicates.py --cases glove   # some of them

Cases: ``gaussian`` (5,000 rows of d=50 stored twice, half of them a third time; Euclidean),
``glove`` (10,000 GloVe words and a copy of each, cosine, 1,000 held-out words as queries;
the shipped words when ``../shared/data`` is absent), ``dtw`` (Crop's distinct training series
and a copy of each, DTW r=2, 500 test series as queries), ``clusters`` (50 distinct 16-d points
stored 100 times each, queries slightly moved copies), ``multiplicity`` (5,000 16-d points each
stored 2, 5, 10 times), ``crop`` (Crop's training set, which holds 680 duplicate rows, against
its distinct rows: 1-NN of the test set at ef=8) and ``identical`` (1,000 copies of one point).
``near`` variants move each copy by Gaussian noise of 1e-6 of the data's scale.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from nswg import Index, datasets
from nswg.metrics import recall_at_k
from nswg.words import load_default_word_vectors, load_word_vectors

GLOVE = Path(__file__).resolve().parents[1].parent / "shared/data/wordvec/glove.6B.50d.float32.npy"
K = 10


def moved(rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``rows`` moved by Gaussian noise of 1e-6 of the data's scale."""
    scale = float(np.std(rows))
    return (rows + rng.normal(0.0, 1e-6 * scale, rows.shape)).astype(np.float32)


def with_copies(
    distinct: np.ndarray, repeats: np.ndarray, near: bool, rng: np.random.Generator
) -> np.ndarray:
    """Row ``i`` of ``distinct`` stored ``repeats[i]`` times, copies after the originals."""
    extra = np.repeat(np.arange(len(distinct)), repeats - 1)
    copies = distinct[extra]
    if near:
        copies = moved(copies, rng)
    return np.concatenate([distinct, copies]).astype(np.float32)


def measure(
    data: np.ndarray, queries: np.ndarray, search: dict[str, int], **options: object
) -> dict[str, float]:
    """Recall (ties count) and costs of the graph search over ``data``: default settings and
    k=10 unless ``search`` says otherwise."""
    start = time.perf_counter()
    index = Index.build(data, **options)
    build = time.perf_counter() - start
    k = search.get("k", K)
    exact = index.search(queries, k=k, exact=True)
    found = index.search(queries, **{"k": k, **search})
    stats = index.stats()
    return {
        "n": len(data),
        "recall": recall_at_k(found.distances, exact.distances),
        "distances/query": float(np.mean(found.n_distance_computations)),
        "mean_degree": stats.mean_degree,
        "min_degree": stats.min_degree,
        "unreached": stats.n_unreached,
        "copies": stats.n_copies,
        "components": stats.n_components,
        "build_distances/point": stats.build_distance_computations_per_point,
        "build_s": build,
    }


Variant = tuple[str, dict[str, object]]


def gaussian(rng: np.random.Generator) -> Iterator[Variant]:
    distinct = rng.normal(size=(5000, 50)).astype(np.float32)
    repeats = np.where(np.arange(5000) < 2500, 3, 2)
    queries = rng.normal(size=(300, 50)).astype(np.float32)
    for near in (False, True):
        yield (
            f"gaussian {'near' if near else 'exact'} copies",
            {
                "distinct": distinct,
                "repeats": repeats,
                "queries": queries,
                "near": near,
                "options": {},
            },
        )


def glove(rng: np.random.Generator) -> Iterator[Variant]:
    if GLOVE.exists():
        vectors = load_word_vectors(GLOVE)[1][:11000]
    else:
        vectors = load_default_word_vectors()[1]
    order = rng.permutation(len(vectors))
    queries, distinct = vectors[order[:1000]], vectors[order[1000:11000]]
    for near in (False, True):
        yield (
            f"glove {'near' if near else 'exact'} copies",
            {
                "distinct": distinct,
                "repeats": np.full(len(distinct), 2),
                "queries": queries,
                "near": near,
                "options": {"metric": "cosine"},
            },
        )


def dtw(rng: np.random.Generator) -> Iterator[Variant]:
    X_train, _, X_test, _ = datasets.load_ucr("Crop")
    distinct = np.unique(X_train, axis=0)
    queries = X_test[rng.permutation(len(X_test))[:500]]
    for near in (False, True):
        yield (
            f"dtw (Crop, r=2) {'near' if near else 'exact'} copies",
            {
                "distinct": distinct,
                "repeats": np.full(len(distinct), 2),
                "queries": queries,
                "near": near,
                "options": {"metric": "dtw", "radius": 2},
            },
        )


def clusters(rng: np.random.Generator) -> Iterator[Variant]:
    distinct = np.random.default_rng(1).normal(size=(50, 16)).astype(np.float32)
    queries = moved(distinct, rng) + rng.normal(0, 0.01, distinct.shape).astype(np.float32)
    yield (
        "clusters (50 points x 100)",
        {
            "distinct": distinct,
            "repeats": np.full(50, 100),
            "queries": queries.astype(np.float32),
            "near": False,
            "options": {},
        },
    )


def multiplicity(rng: np.random.Generator) -> Iterator[Variant]:
    distinct = rng.normal(size=(5000, 16)).astype(np.float32)
    queries = rng.normal(size=(300, 16)).astype(np.float32)
    for m in (2, 5, 10):
        yield (
            f"multiplicity {m}",
            {
                "distinct": distinct,
                "repeats": np.full(5000, m),
                "queries": queries,
                "near": False,
                "options": {},
            },
        )


def crop(rng: np.random.Generator) -> Iterator[Variant]:
    """Crop's own training set, whose duplicate rows are its copies: 1-NN at ef=8."""
    X_train, _, X_test, _ = datasets.load_ucr("Crop")
    _, first = np.unique(X_train, axis=0, return_index=True)
    yield (
        "crop training set, 1-NN at ef=8",
        {
            "distinct": X_train[np.sort(first)],
            "repeats": np.ones(len(first), dtype=int),
            "queries": X_test,
            "near": False,
            "options": {},
            "search": {"k": 1, "ef": 8},
            "copied": X_train,
        },
    )


def identical(rng: np.random.Generator) -> Iterator[Variant]:
    point = rng.normal(size=(1, 16)).astype(np.float32)
    yield (
        "identical (1,000 copies of one point)",
        {
            "distinct": point,
            "repeats": np.array([1000]),
            "queries": np.concatenate([point, point + 1]).astype(np.float32),
            "near": False,
            "options": {},
        },
    )


CASES = {f.__name__: f for f in (gaussian, glove, dtw, clusters, multiplicity, crop, identical)}


def compare(
    distinct: np.ndarray,
    repeats: np.ndarray,
    queries: np.ndarray,
    near: bool,
    options: dict[str, object],
    rng: np.random.Generator,
    search: dict[str, int] | None = None,
    copied: np.ndarray | None = None,
) -> tuple[dict[str, float], dict[str, float] | None]:
    """Measures of the data with its copies (``copied``, or the distinct rows repeated), and of
    the distinct rows alone (if more than k)."""
    search = search or {}
    if copied is None:
        copied = with_copies(distinct, repeats, near, rng)
    with_them = measure(copied, queries, search, **options)
    alone = measure(distinct, queries, search, **options) if len(distinct) > K else None
    return with_them, alone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the queries")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    columns = ("n", "recall", "distances/query", "mean_degree", "copies", "unreached", "components")
    print(f"{'case':40} {'data':9} " + " ".join(f"{c:>15}" for c in columns))
    for case in args.cases:
        for label, arguments in CASES[case](rng):
            copied, alone = compare(rng=rng, **arguments)  # type: ignore[arg-type]
            for name, row in (("copies", copied), ("distinct", alone)):
                if row is None:
                    continue
                cells = " ".join(f"{row[c]:>15.4g}" for c in columns)
                print(f"{label:40} {name:9} {cells}", flush=True)
            if alone is not None:
                print(f"{'':40} {'gap':9} {copied['recall'] - alone['recall']:>+31.4f}")


if __name__ == "__main__":
    main()
