"""Data full of copies: the graph search keeps the recall it has on the same rows without them.

Exact copies and near copies (moved by 1e-6 of the data's scale) are grouped behind one node of
the graph (docs/architecture.md); these tests hold the search on such data to the same data with
the copies removed, under every metric, and check what a search reports for the copies.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nswg import GraphStats, Index
from nswg.datasets import load_default_word_vectors, load_ucr
from nswg.metrics import recall_at_k


def with_copies(
    distinct: np.ndarray, repeats: np.ndarray, near: bool, rng: np.random.Generator
) -> np.ndarray:
    """Row ``i`` of ``distinct`` ``repeats[i]`` times, in a random order; with ``near``, every
    row but the first of each is moved by Gaussian noise of 1e-6 of the data's scale."""
    rows = np.repeat(np.arange(len(distinct)), repeats)
    data = distinct[rows].astype(np.float32)
    if near:
        later = np.ones(len(rows), dtype=bool)
        later[np.unique(rows, return_index=True)[1]] = False
        noise = rng.normal(0.0, 1e-6 * float(np.std(distinct)), data.shape)
        data[later] += noise[later].astype(np.float32)
    return data[rng.permutation(len(data))]


def recall(data: np.ndarray, queries: np.ndarray, **options: object) -> float:
    index = Index.build(data, **options)
    truth = index.search(queries, k=10, exact=True)
    return recall_at_k(index.search(queries, k=10).distances, truth.distances)


def real_rows(metric: str) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    """Distinct rows, queries and build options of a real data set for ``metric``."""
    if metric == "dtw":
        X_train, _, X_test, _ = load_ucr("Crop")
        return np.unique(X_train, axis=0)[:3000], X_test[:300], {"metric": "dtw", "radius": 2}
    _, vectors = load_default_word_vectors()
    vectors = np.unique(vectors, axis=0)
    rng = np.random.default_rng(5)
    order = rng.permutation(len(vectors))
    if metric == "cosine":
        return vectors[order[300:4300]], vectors[order[:300]], {"metric": "cosine"}
    return vectors[order[300:4300]] * 10, vectors[order[:300]] * 10, {}


@pytest.mark.parametrize("near", [False, True], ids=["exact", "near"])
@pytest.mark.parametrize("metric", ["euclidean", "cosine", "dtw"])
def test_half_of_the_rows_copies_keep_the_recall_of_the_rows_alone(metric, near):
    distinct, queries, options = real_rows(metric)
    rng = np.random.default_rng(7)
    copied = with_copies(distinct, np.full(len(distinct), 2), near, rng)
    alone, with_them = recall(distinct, queries, **options), recall(copied, queries, **options)
    assert with_them >= alone - 0.01, (with_them, alone)
    stats = Index.build(copied, **options).stats()
    # Near copies are found by the construction's search, which runs in parallel batches: twins
    # inserted in one batch do not see each other and stay two nodes.
    assert stats.n_copies >= (0.95 if near else 1) * len(distinct), stats
    assert stats.n_unreached <= 1 and stats.n_components <= 2, stats


@settings(max_examples=30, deadline=None)
@given(
    multiplicities=st.lists(st.integers(1, 12), min_size=40, max_size=120),
    near=st.booleans(),
    metric=st.sampled_from(["euclidean", "cosine", "dtw"]),
    seed=st.integers(0, 2**16),
)
def test_random_copy_patterns_keep_recall_and_report_true_distances(
    multiplicities, near, metric, seed
):
    rng = np.random.default_rng(seed)
    distinct = rng.normal(size=(len(multiplicities), 8)).astype(np.float32)
    data = with_copies(distinct, np.array(multiplicities), near, rng)
    queries = rng.normal(size=(20, 8)).astype(np.float32)
    options = {"metric": metric, "radius": 1} if metric == "dtw" else {"metric": metric}
    k = min(10, len(data))
    index = Index.build(data, **options)
    truth = index.search(queries, k=k, exact=True)
    found = index.search(queries, k=k)
    alone = Index.build(distinct, **options)
    k_alone = min(10, len(distinct))
    r_alone = recall_at_k(
        alone.search(queries, k=k_alone).distances,
        alone.search(queries, k=k_alone, exact=True).distances,
    )
    assert recall_at_k(found.distances, truth.distances) >= r_alone - 0.01
    # Each result once, at its own distance as exact search computes it.
    for q, (ids, distances) in enumerate(zip(found.ids, found.distances)):
        assert len(set(ids.tolist())) == k
        one = Index.build(data[ids], graph=False, **options)
        own = one.search(queries[q], k=k, exact=True)
        np.testing.assert_allclose(np.sort(distances), own.distances, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "dtw"])
def test_an_index_of_identical_points_answers_k_of_them(metric):
    n = 500
    data = np.tile(np.array([[0.5, -1.0, 2.0, 3.0]], np.float32), (n, 1))
    index = Index.build(data, metric=metric)
    stats = index.stats()
    assert (stats.n_nodes, stats.n_copies) == (1, n - 1)
    for k in (1, 10, n):
        res = index.search(np.array([0.0, 1.0, 2.0, 3.0]), k=k)
        assert len(set(res.ids.tolist())) == k
        assert np.all(res.distances == res.distances[0])
        assert res.n_distance_computations == 1


def test_copies_survive_saving_pickling_removal_and_growth(tmp_path):
    rng = np.random.default_rng(11)
    distinct = rng.normal(size=(800, 12)).astype(np.float32)
    data = with_copies(distinct, rng.integers(1, 5, len(distinct)), True, rng)
    index = Index.build(data)
    queries = rng.normal(size=(50, 12)).astype(np.float32)
    index.save(tmp_path / "copies.nswg")
    for other in (Index.load(tmp_path / "copies.nswg"), pickle.loads(pickle.dumps(index))):
        assert other.stats() == index.stats()
        a, b = index.search(queries, k=10), other.search(queries, k=10)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.n_distance_computations, b.n_distance_computations)
    # Removing points never returns them, copies or nodes.
    removed = rng.choice(len(data), len(data) // 3, replace=False)
    index.remove(removed)
    res = index.search(queries, k=10)
    assert not np.isin(res.ids, removed).any()
    truth = index.search(queries, k=10, exact=True)
    assert recall_at_k(res.distances, truth.distances) >= 0.95
    # Added copies of indexed rows join their groups.
    before = index.stats().n_copies
    index.add(data[: len(data) // 4])
    assert index.stats().n_copies >= before + 0.9 * (len(data) // 4) - len(removed)
    index.compact()
    assert (
        recall_at_k(
            index.search(queries, k=10).distances, index.search(queries, k=10, exact=True).distances
        )
        >= 0.95
    )


def test_stats_describe_the_graph():
    rng = np.random.default_rng(0)
    index = Index.build(rng.normal(size=(2000, 8)), n_neighbors=8)
    stats = index.stats()
    assert isinstance(stats, GraphStats)
    assert stats.n_nodes == 2000 and stats.n_copies == 0
    assert 1 <= stats.min_degree <= stats.mean_degree <= stats.max_degree <= index.max_degree
    assert stats.mean_degree == pytest.approx(index._core.n_links / 2000)
    assert stats.build_distance_computations == index.build_distance_computations
    assert stats.build_distance_computations_per_point == pytest.approx(
        index.build_distance_computations / 2000
    )
    assert stats.n_unreached == 0 and stats.n_components == 1
    with pytest.raises(ValueError, match="graph=False"):
        Index.build(rng.normal(size=(10, 3)), graph=False).stats()


def test_recall_counts_ties_as_correct():
    truth = np.array([[0.0, 1.0, 1.0]])
    assert recall_at_k(np.array([[0.0, 1.0, 1.0]]), truth) == 1.0
    assert recall_at_k(np.array([[0.0, 1.0, np.inf]]), truth) == pytest.approx(2 / 3)
    assert recall_at_k(np.array([[0.0, 1.0, 1.0 + 1e-7]]), truth) == 1.0
    with pytest.raises(ValueError, match="shape"):
        recall_at_k(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="NaN"):
        recall_at_k(np.array([np.nan]), np.array([1.0]))
