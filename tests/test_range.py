"""Range search against brute force: numpy for Euclidean and cosine, tslearn for DTW, on UCR
series and GloVe words (the shared data when present, the shipped set otherwise)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from conftest import SHARED_DATA
from tslearn.metrics import cdist_dtw

from nswg import Index, RangeResult
from nswg.datasets import load_ucr, ucr_window_radius
from nswg.words import load_default_word_vectors

GLOVE = SHARED_DATA / "wordvec" / "glove.6B.50d.float32.npy"
UCR = SHARED_DATA / "ucr" / "UCRArchive_2018"


def words(n: int) -> np.ndarray:
    """The first ``n`` GloVe words: all 400,000 of the shared file's rows when present."""
    if GLOVE.exists():
        return np.load(GLOVE, mmap_mode="r")[:n]
    return load_default_word_vectors(limit=n)[1]


def radii(distances: np.ndarray, n_inside: int) -> np.ndarray:
    """Per query a radius halfway between its ``n_inside``-th and next distance, so that float32
    rounding cannot move a point across it."""
    ordered = np.sort(distances, axis=1)
    return (ordered[:, n_inside - 1] + ordered[:, n_inside]) / 2


def assert_equals_brute_force(index, queries, distances, n_inside, *, exact, atol):
    """Each query's answer, at a radius holding ``n_inside`` points, against the brute-force
    ``distances`` (n_queries, n); returns the recall."""
    found = total = 0
    for q, radius in enumerate(radii(distances, n_inside)):
        res = index.search_radius(queries[q], radius, exact=exact)
        truth = np.flatnonzero(distances[q] <= radius)
        assert np.all(res.distances <= np.float32(radius))
        assert np.all(np.diff(res.distances) >= 0), "nearest first"
        if exact:
            np.testing.assert_array_equal(np.sort(res.ids), truth)
            np.testing.assert_allclose(res.distances, distances[q, res.ids], rtol=1e-4, atol=atol)
        found += np.isin(res.ids, truth).sum()
        total += len(truth)
    return found / total


@pytest.mark.parametrize("name", ["GunPoint", "Trace", "SyntheticControl"])
def test_dtw_range_search_equals_tslearn(name):
    X, _, Xt, _ = load_ucr(name)
    radius = ucr_window_radius(10, X.shape[1])
    index = Index.build(X, metric="dtw", radius=radius, seed=1)
    queries = Xt[:12]
    distances = cdist_dtw(queries, X, global_constraint="sakoe_chiba", sakoe_chiba_radius=radius)
    assert_equals_brute_force(index, queries, distances, 10, exact=True, atol=1e-3)
    recall = assert_equals_brute_force(index, queries, distances, 10, exact=False, atol=1e-3)
    assert recall >= 0.95


def test_dtw_range_search_on_variable_length_series(shared_data):
    X, _, Xt, _ = load_ucr("PickupGestureWiimoteZ", shared_data / "ucr" / "UCRArchive_2018")
    assert np.isnan(X).any(), "padded series"
    index = Index.build(X, metric="dtw", graph=False)
    queries = Xt[:10]
    distances = cdist_dtw(queries, X)  # tslearn drops the NaN padding
    assert_equals_brute_force(index, queries, distances, 8, exact=True, atol=1e-3)


@pytest.mark.parametrize("name", ["Crop", "ECG200"])
def test_euclidean_range_search_equals_numpy(name):
    X, _, Xt, _ = load_ucr(name)
    index = Index.build(X, seed=2)
    queries = Xt[:30].astype(np.float64)
    distances = np.linalg.norm(queries[:, None, :] - X[None, :, :].astype(np.float64), axis=2)
    assert_equals_brute_force(index, queries, distances, 25, exact=True, atol=1e-5)
    recall = assert_equals_brute_force(index, queries, distances, 25, exact=False, atol=1e-5)
    assert recall >= 0.95


def cosine_distances(queries: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    def unit(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    return 1 - unit(queries) @ unit(vectors).T


def test_exact_cosine_range_search_on_all_of_glove_equals_numpy():
    vectors = np.asarray(words(400_000), dtype=np.float32)  # 10,000 without the shared data
    queries = vectors[::19_997][:20]
    distances = cosine_distances(queries, vectors)
    exact_only = Index.build(vectors, metric="cosine", graph=False)
    assert_equals_brute_force(exact_only, queries, distances, 40, exact=True, atol=1e-5)


def test_cosine_range_search_on_glove_equals_numpy():
    vectors = np.asarray(words(20_000), dtype=np.float32)
    queries = vectors[::997][:20]
    distances = cosine_distances(queries, vectors)
    index = Index.build(vectors, metric="cosine", seed=3)
    recall = assert_equals_brute_force(index, queries, distances, 40, exact=False, atol=1e-5)
    assert recall >= 0.95
    coded = Index.build(vectors, metric="cosine", quantization="sq8", seed=3)
    recall = assert_equals_brute_force(coded, queries, distances, 40, exact=False, atol=1e-5)
    assert recall >= 0.95


def test_a_batch_splits_per_query_and_max_results_keeps_the_nearest(rng):
    X = rng.normal(size=(500, 6))
    index = Index.build(X)
    batch = index.search_radius(X[:4], 1.0, exact=True)
    assert isinstance(batch, RangeResult) and len(batch.ids) == 4
    for q in range(4):
        one = index.search_radius(X[q], 1.0, exact=True)
        np.testing.assert_array_equal(batch.ids[q], one.ids)
        np.testing.assert_array_equal(batch.distances[q], one.distances)
        assert batch.n_distance_computations[q] == one.n_distance_computations == 500
        k = min(3, len(one.ids))
        capped = index.search_radius(X[q], 1.0, max_results=3)
        np.testing.assert_array_equal(capped.ids, one.ids[:k])
    everything = index.search_radius(X[0], 1e300, exact=True)
    assert len(everything.ids) == 500
    assert index.search_radius(X[0] + 100, 1.0).ids.size == 0


def test_the_dtw_scan_prunes_with_its_lower_bounds():
    X, _, Xt, _ = load_ucr("Trace")
    index = Index.build(X, metric="dtw", window=0.03, graph=False)
    res = index.search_radius(Xt[:10], 3.0, exact=True)
    assert (res.n_lower_bound_computations > 0).all()
    full = len(X) * X.shape[1] * (2 * index.radius + 1)
    assert (res.n_dtw_cells < full).all(), "abandoned or skipped past the radius"


def test_threads_pickle_and_save_change_no_answer(rng, tmp_path):
    X = rng.normal(size=(2000, 8))
    index = Index.build(X, seed=4)
    index.save(tmp_path / "i.nswg")
    copies = [pickle.loads(pickle.dumps(index)), Index.load(tmp_path / "i.nswg")]
    for exact in (True, False):
        one = index.search_radius(X[:50], 1.5, exact=exact, n_threads=1)
        for other in [index.search_radius(X[:50], 1.5, exact=exact, n_threads=2)] + [
            c.search_radius(X[:50], 1.5, exact=exact) for c in copies
        ]:
            for a, b in zip(one.ids, other.ids):
                np.testing.assert_array_equal(a, b)


def test_removed_points_are_never_returned(rng):
    X = rng.normal(size=(300, 4))
    index = Index.build(X)
    index.remove([0, 1])
    for exact in (True, False):
        ids = index.search_radius(X[:2], 10.0, exact=exact).ids
        assert all(not np.isin([0, 1], i).any() for i in ids)
        assert all(len(i) == 298 for i in ids)


def test_bad_input_is_refused_before_any_work(rng):
    index = Index.build(rng.normal(size=(50, 3)))
    for radius, error in [
        (-1.0, ValueError),
        (np.nan, ValueError),
        (np.inf, ValueError),
        (True, TypeError),
        ("1", TypeError),
    ]:
        with pytest.raises(error, match="radius"):
            index.search_radius([0.0, 0.0, 0.0], radius)
    with pytest.raises(ValueError, match="max_results"):
        index.search_radius([0.0, 0.0, 0.0], 1.0, max_results=0)
    with pytest.raises(ValueError, match="index.s dim"):
        index.search_radius([0.0, 0.0], 1.0)
    exact_only = Index.build(rng.normal(size=(50, 3)), graph=False)
    with pytest.raises(ValueError, match="no graph"):
        exact_only.search_radius([0.0, 0.0, 0.0], 1.0)
