"""Vectors back: ``Index.get_vectors`` and ``Index.vectors`` against the rows given."""

from __future__ import annotations

import gc
import pickle

import numpy as np
import pytest

from nswg import Index
from nswg.datasets import load_ucr


def test_euclidean_rows_come_back_exactly(rng):
    X = rng.normal(size=(300, 12)).astype(np.float32)
    index = Index.build(X)
    ids = np.array([5, 0, 299, 5])
    np.testing.assert_array_equal(index.get_vectors(ids), X[ids])
    np.testing.assert_array_equal(index.get_vectors(7), X[7])
    assert index.get_vectors([]).shape == (0, 12)
    np.testing.assert_array_equal(index.vectors, X)
    assert index.vectors.dtype == np.float32


def test_float64_rows_come_back_as_the_float32_stored(rng):
    X = rng.normal(size=(50, 4))
    np.testing.assert_array_equal(Index.build(X).vectors, X.astype(np.float32))


def test_cosine_rows_come_back_normalised(rng):
    X = rng.normal(size=(200, 8)) * rng.uniform(0.1, 10, size=(200, 1))
    index = Index.build(X, metric="cosine")
    expected = X / np.linalg.norm(X, axis=1, keepdims=True)
    np.testing.assert_allclose(index.get_vectors(np.arange(200)), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1.0, rtol=1e-6)


def test_dtw_series_come_back_with_their_padding():
    X, _, _, _ = load_ucr("GunPoint")
    padded = X[:20].copy()
    padded[3, 100:] = np.nan
    padded[7, 1:] = np.nan
    index = Index.build(padded, metric="dtw", window=0.1)
    np.testing.assert_array_equal(index.get_vectors([3, 7, 0]), padded[[3, 7, 0]])
    np.testing.assert_array_equal(index.vectors, padded)


def test_multivariate_series_come_back_flattened(rng):
    X = rng.normal(size=(30, 10, 3)).astype(np.float32)
    index = Index.build(X, metric="dtw")
    np.testing.assert_array_equal(index.get_vectors([2]), X[[2]].reshape(1, 30))


def test_bad_ids_are_refused_and_removed_points_have_no_vector(rng):
    index = Index.build(rng.normal(size=(20, 3)))
    with pytest.raises(ValueError, match="out of range"):
        index.get_vectors([20])
    with pytest.raises(ValueError, match="negative"):
        index.get_vectors([-1])
    with pytest.raises(TypeError, match="integers"):
        index.get_vectors([1.5])
    index.remove([4])
    with pytest.raises(ValueError, match="point 4 is removed"):
        index.get_vectors([3, 4])
    assert index.vectors.shape == (20, 3), "removed rows stay in the view until compact"


def test_the_view_is_read_only_and_shares_the_index_memory(rng):
    X = rng.normal(size=(100, 5)).astype(np.float32)
    index = Index.build(X)
    view = index.vectors
    assert not view.flags.writeable and not view.flags.owndata
    with pytest.raises(ValueError, match="read-only"):
        view[0, 0] = 1.0
    with pytest.raises(ValueError):
        view.flags.writeable = True
    again = index.vectors
    assert np.shares_memory(view, again), "no copy: both are the index's rows"


def test_the_view_keeps_the_index_alive(rng):
    X = rng.normal(size=(100, 5)).astype(np.float32)
    view = Index.build(X).vectors
    gc.collect()
    np.testing.assert_array_equal(view, X)


def test_add_and_compact_refuse_while_a_view_lives_then_work(rng):
    X = rng.normal(size=(100, 5)).astype(np.float32)
    index = Index.build(X)
    view = index.vectors
    part = view[10:20]  # a view of the view holds the rows too
    del view
    with pytest.raises(BufferError, match="Index.vectors"):
        index.add(X[:3])
    index.remove([0])  # does not move the rows
    with pytest.raises(BufferError):
        index.compact()
    assert len(index) == 99 and index.n_ids == 100, "refused calls change nothing"
    np.testing.assert_array_equal(part, X[10:20])
    copy = np.array(index.vectors)  # a copy holds nothing once the temporary view is gone
    del part
    assert index.add(X[:3]).tolist() == [100, 101, 102]
    assert index.compact()[:3].tolist() == [1, 2, 3]
    np.testing.assert_array_equal(index.vectors, np.concatenate([X[1:], X[:3]]))
    np.testing.assert_array_equal(copy[:100], X)


def test_vectors_survive_save_load_and_pickle(rng, tmp_path):
    X = rng.normal(size=(60, 7)).astype(np.float32)
    index = Index.build(X, metric="cosine", quantization="sq8")
    view = index.vectors
    index.save(tmp_path / "x.nswg")  # reading the rows while viewed is fine
    loaded = Index.load(tmp_path / "x.nswg")
    np.testing.assert_array_equal(loaded.vectors, view)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(index)).vectors, view)
