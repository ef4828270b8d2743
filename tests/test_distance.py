"""Distances against independent oracles: numpy/scikit-learn and tslearn."""

from __future__ import annotations

import numpy as np
import pytest

from nswg import Index
from nswg.datasets import load_ucr
from nswg.metrics import dtw

tslearn_metrics = pytest.importorskip("tslearn.metrics")
sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("name", ["GunPoint", "CBF", "ECG200"])
@pytest.mark.parametrize("radius", [0, 1, 5, 17, None])
def test_dtw_equals_tslearn_on_ucr_series(name, radius):
    X, _, Xt, _ = load_ucr(name)
    tslearn_radius = X.shape[1] if radius is None else radius
    for i in range(5):
        a, b = X[i].astype(np.float64), Xt[3 * i].astype(np.float64)
        want = tslearn_metrics.dtw(
            a, b, global_constraint="sakoe_chiba", sakoe_chiba_radius=tslearn_radius
        )
        assert dtw(X[i], Xt[3 * i], radius=radius) == pytest.approx(want, abs=1e-4)


@pytest.mark.parametrize("lengths", [(30, 30), (20, 35), (35, 20), (1, 9)])
@pytest.mark.parametrize("radius", [0, 2, 6])
def test_dtw_equals_tslearn_on_unequal_lengths(rng, lengths, radius):
    a, b = (np.cumsum(rng.normal(size=n)) for n in lengths)
    want = tslearn_metrics.dtw(a, b, global_constraint="sakoe_chiba", sakoe_chiba_radius=radius)
    assert dtw(a, b, radius=radius) == pytest.approx(want, rel=1e-5, abs=1e-5)


def test_dtw_of_an_index_equals_the_pairwise_function():
    X, _, Xt, _ = load_ucr("Trace")
    index = Index.build(X, metric="dtw", radius=9)
    res = index.search(Xt[:4], k=5, exact=True)
    for q, ids, ds in zip(Xt[:4], res.ids, res.distances):
        want = [dtw(q, X[i], radius=9) for i in ids]
        np.testing.assert_allclose(ds, want, rtol=1e-5)


@pytest.mark.parametrize(
    ("name", "radius", "graph"),
    [("CBF", 15, False), ("Trace", 9, True), ("Trace", 120, False), ("CBF", None, False)],
)
def test_every_bounded_dtw_kernel_answers_alike(monkeypatch, name, radius, graph):
    """The default SIMD kernel (pruned on wide bands), the one that only abandons
    (NSWG_DTW_KERNEL=abandoning) and EAPrunedDTW (NSWG_DTW_KERNEL=pruned) differ in the cells
    they compute, never in the answer."""
    X, _, Xt, _ = load_ucr(name)
    index = Index.build(X, metric="dtw", radius=radius, graph=graph, seed=1)
    found = {}
    for kernel in ("default", "abandoning", "pruned"):
        monkeypatch.setenv("NSWG_DTW_KERNEL", kernel)
        found[kernel] = index.search(Xt[:40], k=3, exact=not graph, n_threads=1)
    abandoning = found["abandoning"]
    for kernel in ("default", "pruned"):
        np.testing.assert_array_equal(found[kernel].ids, abandoning.ids)
        np.testing.assert_array_equal(found[kernel].distances, abandoning.distances)
        np.testing.assert_array_equal(
            found[kernel].n_distance_computations, abandoning.n_distance_computations
        )
    assert found["pruned"].n_dtw_cells.sum() < abandoning.n_dtw_cells.sum()
    cells = found["default"].n_dtw_cells
    # Bands of 200 points or more (below and above the diagonal together) are pruned.
    if radius is None or 2 * radius >= 200:
        assert cells.sum() < 0.9 * abandoning.n_dtw_cells.sum()
    else:
        np.testing.assert_array_equal(cells, abandoning.n_dtw_cells)


@pytest.mark.parametrize("radius", [100, None])
def test_pruned_kernel_is_exact_on_variable_length_series(monkeypatch, rng, radius):
    """Series of unequal lengths (trailing NaN) have no LB_Keogh tail; the pruned kernel then
    prunes on the bound alone and still finds tslearn's nearest series."""
    X = np.cumsum(rng.normal(size=(120, 260)), axis=1)
    Q = np.cumsum(rng.normal(size=(8, 240)), axis=1)
    lengths = rng.integers(180, 261, size=len(X))
    for row, n in zip(X, lengths):
        row[n:] = np.nan
    truth = np.array(
        [
            [
                tslearn_metrics.dtw(
                    q, x[:n], global_constraint="sakoe_chiba", sakoe_chiba_radius=radius or 300
                )
                for x, n in zip(X, lengths)
            ]
            for q in Q
        ]
    )
    index = Index.build(X, metric="dtw", radius=radius, graph=False)
    found = {}
    for kernel in ("default", "abandoning"):
        monkeypatch.setenv("NSWG_DTW_KERNEL", kernel)
        found[kernel] = index.search(Q, k=3, exact=True, n_threads=1)
    np.testing.assert_array_equal(found["default"].ids, np.argsort(truth, axis=1)[:, :3])
    np.testing.assert_allclose(found["default"].distances, np.sort(truth, axis=1)[:, :3], rtol=1e-5)
    np.testing.assert_array_equal(found["default"].distances, found["abandoning"].distances)
    assert found["default"].n_dtw_cells.sum() < found["abandoning"].n_dtw_cells.sum()


def test_dtw_window_is_the_ucr_convention():
    a, b = np.sin(np.arange(100) / 5), np.cos(np.arange(100) / 7)
    # ceil(0.07 * 100) = 7 exactly, although 0.07 * 100 is 7.000000000000001 in floating point.
    assert dtw(a, b, window=0.07) == dtw(a, b, radius=7)
    assert dtw(a, b, window=0.0) == pytest.approx(float(np.linalg.norm(a - b)), rel=1e-6)


def test_dtw_rejects_bad_series_and_bands():
    with pytest.raises(ValueError, match="NaN or inf"):
        dtw([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(
        ValueError, match=r"non-empty series of shape \(sz,\) or \(sz, d\), got \(0,\)"
    ):
        dtw([], [1.0])
    with pytest.raises(ValueError, match="radius must not be negative"):
        dtw([1.0, 2.0], [1.0, 2.0], radius=-1)
    with pytest.raises(ValueError, match="window must be"):
        dtw([1.0, 2.0], [1.0, 2.0], window=1.5)
    with pytest.raises(ValueError, match="not both"):
        dtw([1.0, 2.0], [1.0, 2.0], radius=1, window=0.5)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exact_search_equals_scikit_learn(rng, metric):
    X = rng.normal(size=(400, 13))
    Q = rng.normal(size=(25, 13))
    index = Index.build(X, metric=metric)
    res = index.search(Q, k=8, exact=True)
    full = sklearn_metrics.pairwise_distances(Q, X, metric=metric)
    want_ids = np.argsort(full, axis=1, kind="stable")[:, :8]
    np.testing.assert_array_equal(res.ids, want_ids)
    np.testing.assert_allclose(
        res.distances, np.take_along_axis(full, want_ids, 1), rtol=1e-5, atol=1e-6
    )
    assert (res.n_distance_computations == len(X)).all()
