"""Multivariate (dependent) DTW: the metric, the index, the estimators and the .ts loader,
against tslearn on the UEA datasets that ship inside aeon's wheel (the test extra installs it)."""

from __future__ import annotations

import gzip
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

from nswg import Index
from nswg.datasets import load_ts
from nswg.metrics import dtw
from nswg.neighbors import KNeighborsClassifier, NearestNeighbors

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # tslearn warns at import about optional h5py
    tslearn_metrics = pytest.importorskip("tslearn.metrics")
    tslearn_neighbors = pytest.importorskip("tslearn.neighbors")


def aeon_file(name: str, split: str) -> Path:
    """A .ts file of aeon's installed package (the test extra installs it), read where it is,
    without importing aeon; skips without it."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("aeon is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "datasets" / "data" / name / f"{name}_{split}.ts"
    if not path.exists():
        pytest.skip(f"aeon ships no {path.name}")
    return path


def trim(series: np.ndarray) -> np.ndarray:
    """A padded (sz, d) series without its trailing all-NaN time steps."""
    observed = ~np.isnan(series).all(axis=1)
    return series[: observed.nonzero()[0].max() + 1]


def walks(rng: np.random.Generator, n: int, sz: int, d: int) -> np.ndarray:
    return np.cumsum(rng.normal(size=(n, sz, d)), axis=1).astype(np.float32)


@pytest.mark.parametrize(
    ("name", "shape", "lengths"),
    [("BasicMotions", (40, 100, 6), (100, 100)), ("JapaneseVowels", (270, 26, 12), (7, 26))],
)
def test_load_ts_reads_the_uea_files_as_aeon_does(name, shape, lengths):
    X, y = load_ts(aeon_file(name, "TRAIN"))
    assert X.shape == shape and X.dtype == np.float32 and len(y) == shape[0]
    from aeon.datasets import load_from_ts_file

    theirs, their_y = load_from_ts_file(str(aeon_file(name, "TRAIN")))
    true_lengths = [len(trim(x)) for x in X]
    assert (min(true_lengths), max(true_lengths)) == lengths
    for x, t in zip(X, theirs):
        # aeon's layout is (d, sz) per case.
        np.testing.assert_array_equal(trim(x).T, np.asarray(t, dtype=np.float32))
    # aeon lower-cases text labels; the file's own spelling is kept here.
    assert [str(v).lower() for v in y] == [str(v).lower() for v in their_y]


def test_load_ts_reads_gzip_missing_values_and_regression_targets(tmp_path):
    text = "# a comment\n@problemName t\n@targetLabel true\n@data\n1,?,3:4,5,6:0.5\n7,8:9,1:2\n"
    path = tmp_path / "t.ts.gz"
    path.write_bytes(gzip.compress(text.encode()))
    X, y = load_ts(path)
    assert X.shape == (2, 3, 2) and y.tolist() == [0.5, 2.0]
    assert np.isnan(X[0, 1, 0]) and np.isnan(X[1, 2]).all()
    unlabelled = tmp_path / "u.ts"
    unlabelled.write_text("@dimensions 1\n@classLabel false\n@data\n1,2,3\n")
    X, y = load_ts(unlabelled)
    assert X.shape == (1, 3, 1) and y is None
    assert load_ts(unlabelled, length=5)[0].shape == (1, 5, 1)
    with pytest.raises(ValueError, match="a series of 3 time steps, longer than 2"):
        load_ts(unlabelled, length=2)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("@classLabel true a\n@data\n1,2:3,4:a\n1,2:a\n", "1 channels where the file has 2"),
        ("@classLabel true a\n@data\n1,2:3:a\n", "unequal lengths"),
        ("@classLabel true a\n@data\n1,x:3,4:a\n", "'x' is not a number"),
        ("@classLabel true a\n@data\n1,2:3,4:b\n", "label 'b' is not one of"),
        ("@timeStamps true\n@data\n", "timeStamps"),
        ("@dimensions zero\n@data\n1\n", "@dimensions must be a positive integer"),
        ("@classLabel true a\n", "no @data line"),
        ("@data\n", "holds no series"),
        ("hello\n@data\n", "line 1: expected an @ header"),
    ],
)
def test_load_ts_names_what_is_wrong(tmp_path, body, match):
    path = tmp_path / "bad.ts"
    path.write_text(body)
    with pytest.raises(ValueError, match=match):
        load_ts(path)


@pytest.mark.parametrize("name", ["BasicMotions", "JapaneseVowels"])
def test_multivariate_dtw_equals_tslearn_on_real_series(name):
    X, _ = load_ts(aeon_file(name, "TRAIN"))
    Q, _ = load_ts(aeon_file(name, "TEST"))
    for radius in (0, 1, 3, 10, None):
        for i in range(0, 40, 3):
            a, b = trim(X[i]), trim(Q[(7 * i) % len(Q)])
            theirs = tslearn_metrics.dtw(
                a.astype(np.float64), b.astype(np.float64), sakoe_chiba_radius=radius
            )
            assert dtw(a, b, radius=radius) == pytest.approx(theirs, abs=1e-4, rel=1e-6)


@pytest.mark.parametrize(
    ("name", "radii", "n_test"), [("BasicMotions", (1, 5, None), 40), ("JapaneseVowels", (2,), 80)]
)
def test_1nn_predictions_match_tslearn_on_the_shipped_datasets(name, radii, n_test):
    # scikit-learn's estimators take one width: the longest series of both files.
    width = max(load_ts(aeon_file(name, split))[0].shape[1] for split in ("TRAIN", "TEST"))
    X, y = load_ts(aeon_file(name, "TRAIN"), length=width)
    Q, _ = load_ts(aeon_file(name, "TEST"), length=width)
    Q = Q[:n_test]
    for radius in radii:
        ours = KNeighborsClassifier(n_neighbors=1, metric="dtw", radius=radius, exact=True)
        theirs = tslearn_neighbors.KNeighborsTimeSeriesClassifier(
            n_neighbors=1, metric="dtw", metric_params={"sakoe_chiba_radius": radius}
        )
        predicted = ours.fit(X, y).predict(Q)
        np.testing.assert_array_equal(predicted, theirs.fit(X, y).predict(Q))
        # The graph search finds the same nearest series here.
        graph = KNeighborsClassifier(n_neighbors=1, metric="dtw", radius=radius, ef=40)
        assert (graph.fit(X, y).predict(Q) == predicted).mean() >= 0.95


def test_index_search_matches_brute_force_on_variable_length_multivariate_series(rng):
    X = walks(rng, 300, 30, 3)
    Q = walks(rng, 25, 34, 3)
    lengths = rng.integers(18, 31, size=len(X))
    for row, n in zip(X, lengths):
        row[n:] = np.nan
    index = Index.build(X, metric="dtw", radius=4, n_neighbors=8)
    assert (index.channels, index.dim) == (3, 90)
    assert repr(index).startswith("nswg.Index(n=300, dim=90, metric='dtw', radius=4, channels=3")
    truth = np.array(
        [
            [tslearn_metrics.dtw(q, trim(x), sakoe_chiba_radius=4) for x in X]
            for q in Q.astype(np.float64)
        ]
    )
    exact = index.search(Q, k=5, exact=True)
    np.testing.assert_allclose(exact.distances, np.sort(truth, axis=1)[:, :5], rtol=1e-5)
    graph = index.search(Q, k=5, ef=64)
    hits = [len(set(a) & set(b)) for a, b in zip(graph.ids, exact.ids)]
    assert np.mean(hits) / 5 >= 0.9
    # One series, as (sz, d), answers as the batch does.
    one = index.search(Q[3], k=5, exact=True)
    np.testing.assert_array_equal(one.ids, exact.ids[3])


def test_equal_length_multivariate_series_use_the_lower_bounds(rng):
    X, Q = walks(rng, 500, 40, 2), walks(rng, 10, 40, 2)
    index = Index.build(X, metric="dtw", radius=3, graph=False)
    res = index.search(Q, k=1, exact=True)
    truth = [np.argmin([tslearn_metrics.dtw(q, x, sakoe_chiba_radius=3) for x in X]) for q in Q]
    assert res.ids[:, 0].tolist() == truth
    assert (res.n_lower_bound_computations > 0).all()
    assert res.n_distance_computations.mean() < 0.5 * len(X)
    assert (res.n_dtw_cells > 0).all()


def test_a_multivariate_index_saves_and_loads_with_its_channels(rng, tmp_path):
    X = walks(rng, 200, 20, 4)
    index = Index.build(X, metric="dtw", window=0.1)
    index.save(tmp_path / "mv.nswg")
    back = Index.load(tmp_path / "mv.nswg")
    assert (back.channels, back.radius, back.dim) == (4, 2, 80)
    q = walks(rng, 5, 20, 4)
    assert (back.search(q, k=3).ids == index.search(q, k=3).ids).all()
    # Added series must have the index's channels.
    back.add(walks(rng, 3, 20, 4))
    with pytest.raises(ValueError, match="2 channels per time step, the index's series 4"):
        back.add(walks(rng, 3, 40, 2))


def test_bad_multivariate_input_raises_a_clear_error(rng):
    index = Index.build(walks(rng, 50, 10, 2), metric="dtw", radius=2)
    with pytest.raises(ValueError, match="3 channels per time step, the index's series 2"):
        index.search(walks(rng, 2, 10, 3), k=1)
    with pytest.raises(ValueError, match="whole time steps"):
        Index.build([[[1.0, 2.0], [3.0, np.nan]]], metric="dtw")
    with pytest.raises(ValueError, match="same number of channels"):
        dtw(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="non-empty series of shape"):
        dtw(np.zeros((2, 2, 2)), np.zeros((5, 2)))


def test_estimators_take_tslearn_arrays_with_channels(rng):
    X, Q = walks(rng, 120, 16, 3), walks(rng, 7, 16, 3)
    nn = NearestNeighbors(n_neighbors=2, metric="dtw", radius=2, exact=True).fit(X)
    distances, ids = nn.kneighbors(Q)
    truth = np.array([[tslearn_metrics.dtw(q, x, sakoe_chiba_radius=2) for x in X] for q in Q])
    np.testing.assert_allclose(distances, np.sort(truth, axis=1)[:, :2], rtol=1e-5)
    assert ids.shape == (7, 2)
    with pytest.raises(ValueError, match="channels"):
        nn.kneighbors(walks(rng, 2, 16, 2))
