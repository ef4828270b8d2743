"""Filtered search against brute force over the allowed rows: numpy for Euclidean and cosine,
tslearn for DTW, on GloVe words and UCR series (the shared data when present, the shipped set
otherwise)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import SHARED_DATA
from tslearn.metrics import cdist_dtw

from nswg import NO_ID, Index
from nswg.datasets import load_ucr, ucr_window_radius
from nswg.metrics import recall_at_k
from nswg.words import load_default_word_vectors

GLOVE = SHARED_DATA / "wordvec" / "glove.6B.50d.float32.npy"
FRACTIONS = [0.5, 0.1, 0.01]


def words(n: int) -> np.ndarray:
    """The first ``n`` GloVe words (as many as the shipped set has when the shared file is
    absent)."""
    if GLOVE.exists():
        return np.ascontiguousarray(np.load(GLOVE, mmap_mode="r")[:n])
    return load_default_word_vectors(limit=n)[1]


def cosine_distances(queries: np.ndarray, rows: np.ndarray) -> np.ndarray:
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    x = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return 1 - q @ x.T


def brute_force(distances: np.ndarray, allowed: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` smallest distances of each query among the ``allowed`` columns."""
    return np.sort(distances[:, allowed], axis=1)[:, :k]


@pytest.fixture(scope="module")
def glove_index():
    X = words(60_000)
    rows, queries = X[:-200], X[-200:]
    return Index.build(rows, "cosine", seed=3), rows, queries


@pytest.mark.parametrize("fraction", FRACTIONS)
def test_filtered_word_search_equals_brute_force_over_the_allowed_rows(glove_index, fraction):
    index, rows, queries = glove_index
    allowed = np.flatnonzero(np.random.default_rng(7).random(len(rows)) < fraction)
    truth = brute_force(cosine_distances(queries, rows), allowed, 10)
    exact = index.search(queries, k=10, exact=True, filter=allowed)
    assert np.isin(exact.ids, allowed).all()
    np.testing.assert_allclose(exact.distances, truth, atol=2e-6)
    graph = index.search(queries, k=10, filter=allowed)
    assert np.isin(graph.ids, allowed).all()
    recall = recall_at_k(graph.distances, truth, rtol=1e-4)
    assert recall >= 0.95, f"recall@10 {recall:.3f} at allow-fraction {fraction}"
    # A filter never costs more than about twice a scan of the allowed rows.
    assert graph.n_distance_computations.max() <= 2 * len(allowed) + 100
    mask = np.zeros(index.n_ids, dtype=bool)
    mask[allowed] = True
    by_mask = index.search(queries, k=10, filter=mask)
    np.testing.assert_array_equal(by_mask.ids, graph.ids)


@pytest.mark.parametrize("name", ["GunPoint", "SyntheticControl"])
def test_filtered_dtw_search_equals_tslearn_over_the_allowed_rows(name):
    X, _, Xt, _ = load_ucr(name)
    radius = ucr_window_radius(10, X.shape[1])
    index = Index.build(X, metric="dtw", radius=radius, seed=1)
    queries = Xt[:10]
    distances = cdist_dtw(queries, X, global_constraint="sakoe_chiba", sakoe_chiba_radius=radius)
    rng = np.random.default_rng(11)
    for fraction in FRACTIONS:
        # At least two series, so that GunPoint's 50 allow one at 0.01.
        allowed = np.sort(rng.choice(len(X), max(2, round(fraction * len(X))), replace=False))
        k = min(3, len(allowed))
        truth = brute_force(distances, allowed, k)
        for exact in (True, False):
            res = index.search(queries, k=k, exact=exact, filter=allowed)
            assert np.isin(res.ids, allowed).all()
            if exact:
                np.testing.assert_allclose(res.distances, truth, rtol=1e-4, atol=1e-4)
            else:
                assert recall_at_k(res.distances, truth, rtol=1e-4) >= 0.95


def test_each_query_of_a_batch_takes_its_own_filter(glove_index):
    index, rows, queries = glove_index
    queries = queries[:6]
    rng = np.random.default_rng(5)
    allows = [np.flatnonzero(rng.random(len(rows)) < f) for f in (0.5, 0.1, 0.01, 0.5, 0.1, 0.01)]
    distances = cosine_distances(queries, rows)
    as_list = index.search(queries, k=5, exact=True, filter=allows)
    masks = np.zeros((len(queries), index.n_ids), dtype=bool)
    for q, allowed in enumerate(allows):
        masks[q, allowed] = True
        np.testing.assert_allclose(
            as_list.distances[q], brute_force(distances[q : q + 1], allowed, 5)[0], atol=2e-6
        )
        assert np.isin(as_list.ids[q], allowed).all()
    as_masks = index.search(queries, k=5, exact=True, filter=masks)
    np.testing.assert_array_equal(as_masks.ids, as_list.ids)
    graph = index.search(queries, k=5, filter=allows, n_threads=2)
    for q, allowed in enumerate(allows):
        assert np.isin(graph.ids[q], allowed).all()


def test_filters_hold_through_removal_growth_compaction_saving_and_pickle(tmp_path):
    X = words(3000)
    index = Index.build(X[:2500], "cosine")
    allowed = np.arange(0, 3000, 3)
    index.add(X[2500:])
    index.remove(allowed[:10])
    res = index.search(X[:20], k=5, filter=allowed)
    assert np.isin(res.ids, allowed[10:]).all()
    index.save(tmp_path / "i.nswg")
    for other in (Index.load(tmp_path / "i.nswg"), pickle.loads(pickle.dumps(index))):
        np.testing.assert_array_equal(other.search(X[:20], k=5, filter=allowed).ids, res.ids)
    old = index.compact()
    kept = np.flatnonzero(np.isin(old, allowed))
    after = index.search(X[:20], k=5, exact=True, filter=kept)
    truth = Index.build(X[allowed[10:]], "cosine").search(X[:20], k=5, exact=True)
    np.testing.assert_allclose(after.distances, truth.distances, atol=1e-6)


def test_range_search_takes_a_filter():
    X = words(2000)
    index = Index.build(X, "cosine")
    allowed = np.arange(0, 2000, 4)
    distances = cosine_distances(X[:5], X)
    for exact in (True, False):
        res = index.search_radius(X[:5], 0.5, exact=exact, filter=allowed)
        for q in range(5):
            truth = allowed[distances[q, allowed] <= 0.5]
            assert np.isin(res.ids[q], allowed).all()
            if exact:
                np.testing.assert_array_equal(np.sort(res.ids[q]), truth)


def test_a_filter_allowing_fewer_than_k_points_marks_the_rest_missing():
    X = words(500)
    plain = Index.build(X)
    res = plain.search(X[0], k=4, filter={3, 7})
    assert sorted(res.ids[:2].tolist()) == [3, 7]
    assert res.ids[2:].tolist() == [-1, -1] and np.isinf(res.distances[2:]).all()
    labelled = Index.build(X, ids=np.arange(500) + 10**12)
    res = labelled.search(X[0], k=3, filter=[10**12 + 3])
    assert res.ids.dtype == np.uint64 and res.ids.tolist() == [10**12 + 3, NO_ID, NO_ID]
    assert labelled.search(X[0], k=3, filter=[]).ids.tolist() == [NO_ID] * 3


@pytest.mark.parametrize(
    ("filter", "error", "match"),
    [
        ([-1], ValueError, "negative"),
        ([500], ValueError, "out of range"),
        (np.ones(499, dtype=bool), ValueError, "one flag per point"),
        (np.ones((2, 500), dtype=bool), ValueError, "batch"),
        ([[1, 2], [3]], ValueError, "batch"),
        (["a"], TypeError, "integers"),
        ([1.5], TypeError, "integers"),
        (np.ones((2, 2, 2), dtype=bool), ValueError, "1-D"),
    ],
)
def test_bad_filters_are_refused(filter, error, match):
    index = Index.build(words(500))
    with pytest.raises(error, match=match):
        index.search(words(1)[0], k=2, filter=filter)


def test_a_batch_needs_one_filter_per_query():
    X = words(500)
    index = Index.build(X)
    with pytest.raises(ValueError, match="one filter per query"):
        index.search(X[:3], k=2, filter=[[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="one filter per query"):
        index.search(X[:3], k=2, filter=np.ones((2, 500), dtype=bool))
