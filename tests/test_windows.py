"""Learning the DTW window by leave-one-out, against the UCR archive's learned windows and a
naive loop over tslearn's DTW."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nswg import datasets
from nswg.neighbors import learn_dtw_window

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # tslearn warns at import about optional h5py
    tslearn_metrics = pytest.importorskip("tslearn.metrics")

SUMMARY = datasets.ucr_summary()
#: The shipped equal-length datasets but Crop, whose 7,200 series take minutes per window.
SHIPPED = [
    name
    for name in datasets.list_ucr()
    if name != "Crop" and not np.isnan(datasets.load_ucr(name)[0]).any()
]


def naive_loo_errors(X: np.ndarray, y: np.ndarray, max_percent: int) -> np.ndarray:
    """Leave-one-out 1-NN error of every window, from every pairwise DTW (tslearn, float64)."""
    errors = []
    for percent in range(max_percent + 1):
        radius = datasets.ucr_window_radius(percent, X.shape[1])
        d = tslearn_metrics.cdist_dtw(
            X.astype(np.float64), global_constraint="sakoe_chiba", sakoe_chiba_radius=radius
        )
        np.fill_diagonal(d, np.inf)
        errors.append(np.mean(y[np.argmin(d, axis=1)] != y))
    return np.array(errors)


@pytest.mark.parametrize("name", SHIPPED)
def test_the_learned_window_is_the_archives(name):
    X, y, _, _ = datasets.load_ucr(name)
    found = learn_dtw_window(X, y)
    assert found.window_percent == SUMMARY[name].dtw_window_percent
    assert found.radius == SUMMARY[name].radius()
    assert found.error == found.errors.min() == found.errors[found.window_percent]
    assert (found.errors[: found.window_percent] > found.error).all()


@pytest.mark.parametrize("name", ["Lightning7", "ToeSegmentation1", "Beef"])
def test_the_learned_window_is_the_archives_on_the_full_archive(shared_data, name):
    root = shared_data / "ucr" / "UCRArchive_2018"
    X, y, _, _ = datasets.load_ucr(name, root)
    assert learn_dtw_window(X, y).window_percent == SUMMARY[name].dtw_window_percent


def test_every_windows_error_equals_a_naive_loop():
    X, y, _, _ = datasets.load_ucr("FaceFour")
    found = learn_dtw_window(X, y, max_percent=12)
    np.testing.assert_array_equal(found.errors, naive_loo_errors(X, y, 12))
    # The lower bounds skip DTWs: fewer than the naive n * (n - 1) per distinct radius (4,038
    # of 7,176 here, the rest abandoned early or not).
    radii = {datasets.ucr_window_radius(p, X.shape[1]) for p in range(13)}
    assert found.n_distance_computations < 0.6 * len(radii) * len(X) * (len(X) - 1)


def test_multivariate_series_learn_a_window_too(rng):
    walks = np.cumsum(rng.normal(size=(40, 30, 2)), axis=1).astype(np.float32)
    y = (walks[:, -1, 0] > 0).astype(int)
    found = learn_dtw_window(walks, y, max_percent=20)
    for percent in (0, 7, 20):
        radius = datasets.ucr_window_radius(percent, 30)
        d = tslearn_metrics.cdist_dtw(
            walks.astype(np.float64), global_constraint="sakoe_chiba", sakoe_chiba_radius=radius
        )
        np.fill_diagonal(d, np.inf)
        assert found.errors[percent] == np.mean(y[np.argmin(d, axis=1)] != y)


def test_bad_input_is_refused():
    X, y, _, _ = datasets.load_ucr("GunPoint")
    with pytest.raises(ValueError, match="one label per series"):
        learn_dtw_window(X, y[:-1])
    with pytest.raises(ValueError, match="at least two"):
        learn_dtw_window(X[:1], y[:1])
    with pytest.raises(ValueError, match="max_percent must be at most 100"):
        learn_dtw_window(X, y, max_percent=101)
    with pytest.raises(TypeError, match="max_percent"):
        learn_dtw_window(X, y, max_percent=5.5)
    padded = X.copy()
    padded[0, -3:] = np.nan
    with pytest.raises(ValueError, match="equal length"):
        learn_dtw_window(padded, y)
