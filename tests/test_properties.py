"""Properties on small random data (hypothesis): exact search against numpy, graph search with
enough restarts against exact search, and the axioms DTW must satisfy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nswg import Index
from nswg.metrics import dtw

SETTINGS = settings(max_examples=60, deadline=None)

#: Small integers keep squared distances exact in float32, so numpy's order is the true one.
small_ints = st.integers(-20, 20).map(float)


@st.composite
def data_and_queries(draw):
    n = draw(st.integers(1, 40))
    dim = draw(st.integers(1, 6))
    X = draw(hnp.arrays(np.float64, (n, dim), elements=small_ints))
    Q = draw(hnp.arrays(np.float64, (draw(st.integers(1, 5)), dim), elements=small_ints))
    k = draw(st.integers(1, n))
    return X, Q, k


def numpy_neighbors(X: np.ndarray, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute force, nearest first, ties broken by id."""
    d = np.sqrt(((Q[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    ids = np.argsort(d, axis=1, kind="stable")[:, :k]
    return ids, np.take_along_axis(d, ids, axis=1)


@SETTINGS
@given(data_and_queries())
def test_exact_search_equals_numpy_brute_force(case):
    X, Q, k = case
    res = Index.build(X).search(Q, k=k, exact=True)
    want_ids, want_distances = numpy_neighbors(X, Q, k)
    np.testing.assert_array_equal(res.ids, want_ids)
    np.testing.assert_allclose(res.distances, want_distances, rtol=1e-6)


@SETTINGS
@given(data_and_queries(), st.sampled_from(["euclidean", "dtw"]), st.integers(0, 2**32))
def test_graph_search_with_enough_restarts_equals_exact(case, metric, seed):
    X, Q, k = case
    index = Index.build(X, metric=metric, n_neighbors=2, seed=seed)
    # Every restart enters at an unvisited point, so len(X) restarts visit every point.
    graph = index.search(Q, k=k, n_searches=len(X))
    exact = index.search(Q, k=k, exact=True)
    np.testing.assert_array_equal(graph.ids, exact.ids)
    np.testing.assert_array_equal(graph.distances, exact.distances)


values = st.floats(-1e3, 1e3, allow_nan=False, width=32)
series = hnp.arrays(np.float64, st.integers(1, 25), elements=values)
#: Two series of one length.
pairs = st.integers(1, 25).flatmap(lambda n: hnp.arrays(np.float64, (2, n), elements=values))


@SETTINGS
@given(series, series, st.integers(0, 30))
def test_dtw_is_symmetric_non_negative_and_zero_on_itself(a, b, radius):
    d = dtw(a, b, radius=radius)
    assert d >= 0
    assert d == pytest.approx(dtw(b, a, radius=radius), rel=1e-9, abs=1e-9)
    assert dtw(a, a, radius=radius) == 0


@SETTINGS
@given(pairs)
def test_dtw_is_never_above_euclidean_and_shrinks_as_the_band_widens(pair):
    a, b = pair
    a32, b32 = a.astype(np.float32).astype(np.float64), b.astype(np.float32).astype(np.float64)
    euclidean = float(np.linalg.norm(a32 - b32))
    widths = [dtw(a, b, radius=r) for r in range(len(a) + 1)] + [dtw(a, b)]
    assert widths[0] == pytest.approx(euclidean, rel=1e-6, abs=1e-9)
    assert all(d <= euclidean * (1 + 1e-9) + 1e-9 for d in widths)
    assert all(w <= v * (1 + 1e-9) + 1e-9 for v, w in zip(widths, widths[1:]))
