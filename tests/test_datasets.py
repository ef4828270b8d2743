"""UCR loading, z-normalisation, padding and gaps, DataSummary, window radius, synthetic data."""

from __future__ import annotations

import doctest
import gzip
import math
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nswg import datasets
from nswg.datasets import (
    DEFAULT_UCR_ROOT,
    UCRSummary,
    list_ucr,
    load_ucr,
    random_vectors,
    random_walks,
    resample,
    series_lengths,
    ucr_summary,
    ucr_window_radius,
)

#: The project's shared data, beside the checkout (absent on a user's machine).
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ARCHIVE = SHARED / "ucr" / "UCRArchive_2018"
SHIPPED = [
    "ArrowHead",
    "CBF",
    "Chinatown",
    "Coffee",
    "Crop",
    "ECG200",
    "FaceFour",
    "GunPoint",
    "ItalyPowerDemand",
    "Plane",
    "SyntheticControl",
    "Trace",
    "TwoLeadECG",
]
NAN = float("nan")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


def _archive() -> Path:
    if not ARCHIVE.is_dir():
        pytest.skip(f"{ARCHIVE} is not here")
    return ARCHIVE


def _format(value: object) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return repr(value) if isinstance(value, float) else str(value)


def write_split(folder: Path, name: str, split: str, rows: list[list], *, gz: bool) -> Path:
    """One UCR file: ``label<TAB>v1<TAB>v2...`` per row."""
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join("\t".join(_format(v) for v in row) + "\n" for row in rows)
    path = folder / f"{name}_{split}.tsv{'.gz' if gz else ''}"
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path


def write_dataset(
    root: Path, name: str, train: list[list], test: list[list], *, gz: bool = False
) -> Path:
    write_split(root / name, name, "TRAIN", train, gz=gz)
    write_split(root / name, name, "TEST", test, gz=gz)
    return root


def _rows(rng: np.random.Generator, labels: list, length: int, scale: float = 1.0) -> list[list]:
    return [[lab, *(scale * rng.normal(size=length) + 3.0).tolist()] for lab in labels]


# --------------------------------------------------------------------------------------------
# Layouts and parsing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True], ids=["tsv", "tsv.gz"])
def test_reads_plain_and_gzipped_layouts(tmp_path: Path, rng: np.random.Generator, gz: bool):
    train, test = _rows(rng, [1, 2, 2], 8), _rows(rng, [2, 1], 8)
    root = write_dataset(tmp_path, "Toy", train, test, gz=gz)
    assert list_ucr(root) == ["Toy"]
    X, y, Xt, yt = load_ucr("Toy", root, znormalize=False)
    expected = np.array([r[1:] for r in train], dtype=np.float32)
    np.testing.assert_array_equal(X, expected)
    np.testing.assert_array_equal(Xt, np.array([r[1:] for r in test], dtype=np.float32))
    assert y.tolist() == [1, 2, 2] and yt.tolist() == [2, 1]
    for a in (X, Xt):
        assert a.dtype == np.float32 and a.flags.c_contiguous and a.ndim == 2


def test_plain_file_wins_over_gzipped(tmp_path: Path):
    write_dataset(tmp_path, "Toy", [[1, 1.0, 2.0]], [[1, 3.0, 4.0]], gz=True)
    write_dataset(tmp_path, "Toy", [[2, 5.0, 6.0]], [[2, 7.0, 8.0]], gz=False)
    X, y, Xt, yt = load_ucr("Toy", tmp_path, znormalize=False)
    assert X.tolist() == [[5.0, 6.0]] and y.tolist() == [2]
    assert Xt.tolist() == [[7.0, 8.0]]


def test_list_ucr(tmp_path: Path):
    write_dataset(tmp_path, "Beta", [[1, 1.0]], [[1, 1.0]])
    write_dataset(tmp_path, "Alpha", [[1, 1.0]], [[1, 1.0]], gz=True)
    (tmp_path / "NotADataset").mkdir()
    (tmp_path / "README.md").write_text("hello")
    assert list_ucr(tmp_path) == ["Alpha", "Beta"]
    assert list_ucr(str(tmp_path)) == ["Alpha", "Beta"]


@pytest.mark.parametrize(
    ("labels", "expected", "dtype"),
    [
        (["1", "2", "1"], [1, 2, 1], np.int64),
        (["-1", "1", "-1"], [-1, 1, -1], np.int64),
        (["0", "3", "2"], [0, 3, 2], np.int64),
        (["1.0", "2.0", "1.0"], [1, 2, 1], np.int64),
        (["0.5", "1.5", "0.5"], [0.5, 1.5, 0.5], np.float64),
        (["a", "b", "a"], ["a", "b", "a"], np.str_),
    ],
)
def test_labels_are_parsed_as_written(tmp_path: Path, labels, expected, dtype):
    rows = [[lab, 1.0, 2.0, 4.0] for lab in labels]
    _, y, _, yt = load_ucr("Toy", write_dataset(tmp_path, "Toy", rows, rows))
    for labels_out in (y, yt):
        assert labels_out.ndim == 1 and labels_out.dtype.type is dtype
        assert labels_out.tolist() == expected


def test_crlf_trailing_tab_and_ragged_rows(tmp_path: Path):
    folder = tmp_path / "Toy"
    folder.mkdir()
    (folder / "Toy_TRAIN.tsv").write_bytes(b"1\t1.0\t2.0\t3.0\r\n2\t4.0\t5.0\t6.0\r\n")
    # A trailing tab, and a short row: padded with NaN at the end.
    (folder / "Toy_TEST.tsv").write_bytes(b"1\t1.0\t2.0\t3.0\t\n2\t4.0\t5.0\n")
    X, y, Xt, yt = load_ucr("Toy", tmp_path, znormalize=False)
    assert X.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    np.testing.assert_array_equal(Xt, [[1.0, 2.0, 3.0], [4.0, 5.0, NAN]])
    assert yt.tolist() == [1, 2]


def test_bad_values_are_reported_with_their_line(tmp_path: Path):
    write_dataset(tmp_path, "Toy", [[1, 1.0, 2.0], [2, "oops", 3.0]], [[1, 1.0, 2.0]])
    with pytest.raises(ValueError, match=r"Toy_TRAIN\.tsv, line 2: 'oops' is not a number"):
        load_ucr("Toy", tmp_path)
    write_dataset(tmp_path, "Inf", [[1, 1.0, 2.0]], [[1, 1.0, "inf"]])
    with pytest.raises(ValueError, match="infinite"):
        load_ucr("Inf", tmp_path)
    write_split(tmp_path / "Empty", "Empty", "TRAIN", [], gz=False)
    write_split(tmp_path / "Empty", "Empty", "TEST", [[1, 1.0]], gz=False)
    with pytest.raises(ValueError, match="holds no series"):
        load_ucr("Empty", tmp_path)


def test_missing_root(tmp_path: Path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_ucr("GunPoint", missing)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list_ucr(missing)


def test_unknown_dataset_lists_the_available_ones(tmp_path: Path):
    write_dataset(tmp_path, "GunPoint", [[1, 1.0]], [[1, 1.0]])
    write_dataset(tmp_path, "Coffee", [[1, 1.0]], [[1, 1.0]])
    with pytest.raises(FileNotFoundError) as info:
        load_ucr("Gunpoint", tmp_path)
    message = str(info.value)
    assert "'Gunpoint'" in message and "Available: Coffee, GunPoint" in message
    assert "Did you mean GunPoint?" in message
    with pytest.raises(FileNotFoundError, match="Available: Coffee, GunPoint"):
        load_ucr("../GunPoint", tmp_path)
    with pytest.raises(FileNotFoundError, match="holds no"):
        load_ucr("GunPoint", tmp_path / "GunPoint")  # a dataset folder is not an archive
    with pytest.raises(FileNotFoundError, match="Available: ArrowHead, CBF"):
        load_ucr("NoSuchDataset")  # the shipped set


def test_missing_test_file(tmp_path: Path):
    write_split(tmp_path / "Half", "Half", "TRAIN", [[1, 1.0]], gz=False)
    with pytest.raises(FileNotFoundError, match="Half_TEST"):
        load_ucr("Half", tmp_path)


# --------------------------------------------------------------------------------------------
# z-normalisation, padding, gaps
# --------------------------------------------------------------------------------------------


def test_znormalisation(tmp_path: Path, rng: np.random.Generator):
    train = _rows(rng, [1, 2, 1, 2], 30, scale=250.0) + [[1] + [7.25] * 30]
    root = write_dataset(tmp_path, "Toy", train, _rows(rng, [1], 30, scale=0.001))
    X, _, Xt, _ = load_ucr("Toy", root)
    raw = np.array([r[1:] for r in train[:4]], dtype=np.float64)
    oracle = (raw - raw.mean(axis=1, keepdims=True)) / raw.std(axis=1, keepdims=True)
    np.testing.assert_allclose(X[:4], oracle[:4], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(X[:4].mean(axis=1), 0.0, atol=1e-6)
    np.testing.assert_allclose(X[:4].std(axis=1), 1.0, rtol=1e-5)  # population std, ddof=0
    assert X[4].tolist() == [0.0] * 30  # constant: zeros, not NaN
    np.testing.assert_allclose(Xt.std(axis=1), 1.0, rtol=1e-5)
    assert np.isfinite(X).all() and np.isfinite(Xt).all()


def test_constant_series_whose_mean_does_not_round_exactly(tmp_path: Path):
    # sum(0.1 * 7) / 7 != 0.1 in floating point: std comes out tiny, not 0.
    row = [1] + [0.1] * 7
    X, _, _, _ = load_ucr("Toy", write_dataset(tmp_path, "Toy", [row], [row]))
    assert X.tolist() == [[0.0] * 7]


def test_trailing_padding_is_kept_and_widths_agree(tmp_path: Path):
    train = [[1, 1.0, 2.0, 3.0, NAN, NAN, NAN, NAN], [2, 4.0, 5.0, NAN, NAN, NAN, NAN, NAN]]
    test = [[1, 1.0, 2.0, 3.0, 4.0, 6.0, NAN, NAN]]
    X, _, Xt, _ = load_ucr("Toy", write_dataset(tmp_path, "Toy", train, test), znormalize=False)
    # Columns that are NaN everywhere are dropped: width = longest true length (5).
    assert X.shape == (2, 5) and Xt.shape == (1, 5)
    assert series_lengths(X).tolist() == [3, 2] and series_lengths(Xt).tolist() == [5]
    np.testing.assert_array_equal(X[0], [1.0, 2.0, 3.0, NAN, NAN])
    Xz, _, _, _ = load_ucr("Toy", tmp_path)
    assert np.isnan(Xz[0, 3:]).all()
    np.testing.assert_allclose(Xz[0, :3], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    np.testing.assert_allclose(Xz[1, :2], [-1.0, 1.0])


def test_shorter_file_is_padded_to_the_common_width(tmp_path: Path):
    train = [[1, 1.0, 2.0, 3.0, 4.0]]
    test = [[1, 1.0, 2.0]]
    X, _, Xt, _ = load_ucr("Toy", write_dataset(tmp_path, "Toy", train, test), znormalize=False)
    assert X.shape == Xt.shape == (1, 4)
    np.testing.assert_array_equal(Xt, [[1.0, 2.0, NAN, NAN]])


def test_gaps_inside_series_are_interpolated(tmp_path: Path):
    train = [
        [1, 1.0, NAN, 3.0, NAN, NAN, 6.0, NAN, NAN],  # interior gaps, then padding
        [2, NAN, NAN, 2.0, 4.0, 5.0, 6.0, 7.0, 8.0],  # a leading gap: first observed value
        [1, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN],  # no value at all: zeros
    ]
    test = [[1, 0.0, 1.0, NAN, 3.0, 4.0, 5.0, 6.0, 7.0]]
    X, _, Xt, _ = load_ucr("Toy", write_dataset(tmp_path, "Toy", train, test), znormalize=False)
    np.testing.assert_array_equal(X[0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, NAN, NAN])
    np.testing.assert_array_equal(X[1], [2.0, 2.0, 2.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    np.testing.assert_array_equal(X[2], np.zeros(8))
    np.testing.assert_array_equal(Xt[0], np.arange(8.0))
    # Only trailing padding is left, and z-normalisation covers the filled values.
    Xz, _, _, _ = load_ucr("Toy", tmp_path)
    assert series_lengths(Xz).tolist() == [6, 8, 8]
    assert not np.isnan(Xz[0, :6]).any()
    np.testing.assert_allclose(Xz[0, :6].mean(), 0.0, atol=1e-6)
    np.testing.assert_allclose(Xz[0, :6].std(), 1.0, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# series_lengths and resample
# --------------------------------------------------------------------------------------------


def test_series_lengths():
    X = np.array([[1.0, 2.0, 3.0], [4.0, NAN, NAN], [NAN, NAN, NAN], [NAN, 1.0, NAN]])
    assert series_lengths(X).tolist() == [3, 1, 0, 2]
    assert series_lengths(X[:, :, None]).tolist() == [3, 1, 0, 2]  # tslearn's (n, sz, 1)
    assert series_lengths(X[0]).tolist() == [3]
    assert series_lengths(np.arange(6).reshape(2, 3)).tolist() == [3, 3]
    assert series_lengths(X).dtype == np.int64
    with pytest.raises(ValueError, match="univariate"):
        series_lengths(np.zeros((2, 3, 2)))
    with pytest.raises(TypeError, match="numeric"):
        series_lengths([["a", "b"]])


def test_resample_matches_tslearn(rng: np.random.Generator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tslearn warns at import about optional h5py
        preprocessing = pytest.importorskip("tslearn.preprocessing")
    X = np.full((6, 40), NAN)
    for i, n in enumerate([40, 33, 12, 2, 1, 25]):
        X[i, :n] = np.cumsum(rng.normal(size=n))
    for length in (1, 7, 40, 101):
        ours = resample(X, length)
        theirs = preprocessing.TimeSeriesResampler(sz=length).fit_transform(X[:, :, None])
        assert ours.shape == (6, length) and not np.isnan(ours).any()
        np.testing.assert_allclose(ours, theirs[:, :, 0], rtol=1e-12, atol=1e-12)


def test_resample_shapes_and_dtypes(rng: np.random.Generator):
    X = rng.normal(size=(3, 10)).astype(np.float32)
    out = resample(X, 10)
    assert out.dtype == np.float32 and out.shape == (3, 10)
    np.testing.assert_array_equal(out, X)  # same length: unchanged
    assert resample(X.astype(np.float64)[:, :, None], 5).dtype == np.float64
    assert resample([1, 2, 3], 5).tolist() == [[1.0, 1.5, 2.0, 2.5, 3.0]]
    assert resample([[4.0, NAN]], 3).tolist() == [[4.0, 4.0, 4.0]]


def test_resample_errors():
    with pytest.raises(ValueError, match="NaN before its end"):
        resample([[1.0, NAN, 3.0]], 4)
    with pytest.raises(ValueError, match="all NaN"):
        resample([[NAN, NAN]], 4)
    with pytest.raises(ValueError, match="positive"):
        resample([[1.0, 2.0]], 0)
    with pytest.raises(TypeError, match="integer"):
        resample([[1.0, 2.0]], 2.5)


# --------------------------------------------------------------------------------------------
# Window radius and DataSummary
# --------------------------------------------------------------------------------------------


def test_window_radius_is_an_exact_ceiling():
    assert ucr_window_radius(5, 100) == 5
    assert ucr_window_radius(7, 100) == 7
    assert math.ceil(7 / 100 * 100) == 8  # what floating point would give
    assert ucr_window_radius(14, 50) == 7 < math.ceil(14 / 100 * 50)
    assert ucr_window_radius(11, 128) == 15  # CBF
    assert ucr_window_radius(0, 150) == 0
    assert ucr_window_radius(100, 150) == 150
    assert ucr_window_radius(1, 1) == 1
    assert ucr_window_radius(np.int64(3), np.int64(150)) == 5
    with pytest.raises(ValueError, match="non-negative"):
        ucr_window_radius(-1, 100)
    with pytest.raises(TypeError, match="integer"):
        ucr_window_radius(0.05, 100)


@given(st.integers(0, 100), st.integers(0, 100_000))
def test_window_radius_property(w: int, length: int):
    assert ucr_window_radius(w, length) == math.ceil(Fraction(w * length, 100))


def test_shipped_summary_gunpoint_and_friends():
    summary = ucr_summary()
    assert len(summary) == 128
    gp = summary["GunPoint"]
    assert gp == UCRSummary(
        name="GunPoint",
        type="Motion",
        n_train=50,
        n_test=150,
        n_classes=2,
        length=150,
        ed_error=0.0867,
        dtw_error=0.0867,
        dtw_window_percent=0,
        dtw_full_error=0.0933,
        default_rate=0.4933,
        donor="A. Ratanamahatana & E. Keogh",
    )
    assert gp.radius() == 0
    cbf = summary["CBF"]
    assert (cbf.ed_error, cbf.dtw_error, cbf.dtw_window_percent, cbf.radius()) == (
        0.1478,
        0.0044,
        11,
        15,
    )
    assert summary["Coffee"].donor == "K, Kemsley & A. Bagnall"  # a quoted field
    plaid = summary["PLAID"]
    assert plaid.length is None and plaid.dtw_window_percent == 12
    assert plaid.radius(1344) == ucr_window_radius(12, 1344)
    with pytest.raises(ValueError, match="variable length"):
        plaid.radius()
    assert summary["AllGestureWiimoteX"].dtw_error == 0.2829  # " 0.2829 (14)": leading space
    assert summary["Crop"].n_train == 7200
    for s in summary.values():
        assert 0 <= s.dtw_window_percent <= 100 and 0.0 <= s.ed_error <= 1.0


_SUMMARY_HEADER = (
    "ID,Type,Name,Train ,Test ,Class,Length,ED (w=0),DTW (learned_w) ,DTW (w=100),"
    "Default rate,Data donor/editor\n"
)


def _write_summary(path: Path, name: str, ed: str) -> None:
    path.write_text(_SUMMARY_HEADER + f"1,Toy,{name},10,20,2,50,{ed}, 0.2500 (7) ,0.3,0.5,Me\n")


def test_summary_lookup_order(tmp_path: Path):
    archive = tmp_path / "UCRArchive_2018"
    archive.mkdir()
    assert "GunPoint" in ucr_summary(archive)  # nothing here: the shipped copy
    _write_summary(tmp_path / "DataSummary.csv", "Parent", "0.1")  # the archive's parent
    assert list(ucr_summary(archive)) == ["Parent"]
    _write_summary(archive / "DataSummary.csv", "Inside", "0.2")  # the archive itself wins
    inside = ucr_summary(archive)["Inside"]
    assert (inside.ed_error, inside.dtw_error, inside.dtw_window_percent) == (0.2, 0.25, 7)
    assert inside.radius() == 4  # ceil(7 * 50 / 100) = ceil(3.5)


def test_malformed_summary(tmp_path: Path):
    _write_summary(tmp_path / "DataSummary.csv", "Bad", "zero")
    with pytest.raises(ValueError, match="line 2"):
        ucr_summary(tmp_path)
    (tmp_path / "DataSummary.csv").write_text("Name,Train\nX,1\n")
    with pytest.raises(ValueError, match="lacks the columns"):
        ucr_summary(tmp_path)


# --------------------------------------------------------------------------------------------
# Shipped data and the shared archive
# --------------------------------------------------------------------------------------------


def test_shipped_root():
    assert DEFAULT_UCR_ROOT.is_dir()
    assert list_ucr() == SHIPPED == list_ucr(DEFAULT_UCR_ROOT)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_datasets_load(name: str):
    X, y, Xt, yt = load_ucr(name)
    s = ucr_summary()[name]
    assert X.shape == (s.n_train, s.length) and Xt.shape == (s.n_test, s.length)
    assert y.shape == (s.n_train,) and yt.shape == (s.n_test,) and y.dtype == np.int64
    assert len(np.union1d(y, yt)) == s.n_classes
    assert np.isfinite(X).all() and np.isfinite(Xt).all()
    np.testing.assert_allclose(X.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(X.std(axis=1), 1.0, rtol=1e-4)


def _numpy_oracle(path: Path) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(path, delimiter="\t")  # reads .gz itself
    X = table[:, 1:]
    X = (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)
    return X.astype(np.float32), table[:, 0].astype(np.int64)


def test_gunpoint_against_plain_numpy():
    archive = _archive()
    X, y, Xt, yt = load_ucr("GunPoint", root=archive)
    X_ref, y_ref = _numpy_oracle(archive / "GunPoint" / "GunPoint_TRAIN.tsv.gz")
    Xt_ref, yt_ref = _numpy_oracle(archive / "GunPoint" / "GunPoint_TEST.tsv.gz")
    np.testing.assert_allclose(X, X_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(Xt, Xt_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(yt, yt_ref)
    # The shipped copy is the same data.
    for ours, shipped in zip((X, y, Xt, yt), load_ucr("GunPoint")):
        np.testing.assert_array_equal(ours, shipped)


def test_uncompressed_archive_layout(tmp_path: Path):
    """A user's archive holds plain .tsv files: same result as the gzipped copy."""
    archive = _archive()
    folder = tmp_path / "GunPoint"
    folder.mkdir()
    for split in ("TRAIN", "TEST"):
        data = gzip.decompress((archive / "GunPoint" / f"GunPoint_{split}.tsv.gz").read_bytes())
        (folder / f"GunPoint_{split}.tsv").write_bytes(data)
    for a, b in zip(load_ucr("GunPoint", tmp_path), load_ucr("GunPoint", archive)):
        np.testing.assert_array_equal(a, b)


def _only_trailing_nan(X: np.ndarray) -> bool:
    lengths = series_lengths(X)
    inside = np.arange(X.shape[1]) < lengths[:, None]
    return bool(not np.isnan(X[inside]).any() and np.isnan(X[~inside]).all())


@pytest.mark.parametrize(
    ("name", "min_length", "width"),
    [("PLAID", 100, 1344), ("GesturePebbleZ2", 100, 455), ("AllGestureWiimoteX", 2, 385)],
)
def test_variable_length_datasets(name: str, min_length: int, width: int):
    X, y, Xt, yt = load_ucr(name, root=_archive())
    summary = ucr_summary(_archive())[name]
    assert summary.length is None
    assert X.shape == (summary.n_train, width) and Xt.shape == (summary.n_test, width)
    lengths = np.concatenate([series_lengths(X), series_lengths(Xt)])
    assert lengths.min() == min_length and lengths.max() == width
    assert _only_trailing_nan(X) and _only_trailing_nan(Xt)
    for row, n in zip(X[:20], series_lengths(X[:20])):
        assert abs(float(row[:n].mean())) < 1e-5 and abs(float(row[:n].std()) - 1.0) < 1e-4
    resampled = resample(X, width)
    assert resampled.shape == X.shape and not np.isnan(resampled).any()


@pytest.mark.parametrize("name", ["MelbournePedestrian", "DodgerLoopDay", "DodgerLoopGame"])
def test_datasets_with_gaps_inside_series(name: str):
    if not (_archive() / name).is_dir():
        pytest.skip(f"{name} is not in the shared archive")
    X, _, Xt, _ = load_ucr(name, root=_archive())
    assert _only_trailing_nan(X) and _only_trailing_nan(Xt)


_SHARED_NAMES = list_ucr(ARCHIVE) if ARCHIVE.is_dir() else []


@pytest.mark.parametrize("name", _SHARED_NAMES)
def test_every_shared_dataset_loads(name: str):
    X, y, Xt, yt = load_ucr(name, root=ARCHIVE)
    s = ucr_summary(ARCHIVE)[name]
    assert X.dtype == Xt.dtype == np.float32 and X.flags.c_contiguous
    assert X.shape[0] == s.n_train and Xt.shape[0] == s.n_test and X.shape[1] == Xt.shape[1]
    if s.length is not None:
        assert X.shape[1] == s.length
    assert y.dtype == np.int64 and len(np.union1d(y, yt)) == s.n_classes
    assert _only_trailing_nan(X) and _only_trailing_nan(Xt)
    assert (series_lengths(X) > 0).all() and (series_lengths(Xt) > 0).all()


def test_the_shared_archive_is_all_there():
    archive = _archive()
    assert len(_SHARED_NAMES) >= 80  # the shared README lists 80
    assert set(_SHARED_NAMES) <= set(ucr_summary(archive))


# --------------------------------------------------------------------------------------------
# Synthetic data and examples
# --------------------------------------------------------------------------------------------


def test_random_walks():
    X = random_walks(5, 30)
    assert X.shape == (5, 30) and X.dtype == np.float32 and X.flags.c_contiguous
    np.testing.assert_array_equal(X, random_walks(5, 30, random_state=0))
    assert not np.array_equal(X, random_walks(5, 30, random_state=1))
    steps = np.diff(random_walks(200, 400, mu=0.5, std=2.0, random_state=3), axis=1)
    assert abs(steps.mean() - 0.5) < 0.02 and abs(steps.std() - 2.0) < 0.02
    gen = np.random.default_rng(7)
    np.testing.assert_array_equal(
        random_walks(2, 4, random_state=gen), random_walks(2, 4, random_state=7)
    )


def test_random_vectors():
    V = random_vectors(1000, 16)
    assert V.shape == (1000, 16) and V.dtype == np.float32
    np.testing.assert_array_equal(V, random_vectors(1000, 16, random_state=0))
    assert not np.array_equal(V, random_vectors(1000, 16, random_state=1))
    assert abs(float(V.mean())) < 0.02 and abs(float(V.std()) - 1.0) < 0.02
    assert random_vectors(0, 3).shape == (0, 3)
    with pytest.raises(ValueError, match="positive"):
        random_vectors(3, 0)


def test_docstring_examples():
    result = doctest.testmod(datasets, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0


# --------------------------------------------------------------------------------------------
# Files that used to load into wrong answers
# --------------------------------------------------------------------------------------------


def write_summary(root: Path, name: str, length: int | str) -> None:
    """A DataSummary.csv listing one dataset, as the archive's own does."""
    head = ",".join(("ID",) + datasets._SUMMARY_COLUMNS)
    row = f"1,Sensor,{name},3,3,2,{length},0.1,0.1 (1),0.1,0.5"
    (root / "DataSummary.csv").write_text(f"{head}\n{row}\n", encoding="utf-8")


def test_a_byte_order_mark_is_not_part_of_the_first_label(tmp_path: Path):
    rows = [[1, 1.0, 2.0], [2, 3.0, 1.0]]
    for gz in (False, True):
        root = write_dataset(tmp_path / str(gz), "Toy", rows, rows, gz=gz)
        train = root / "Toy" / f"Toy_TRAIN.tsv{'.gz' if gz else ''}"
        text = b"\xef\xbb\xbf" + (gzip.decompress(train.read_bytes()) if gz else train.read_bytes())
        train.write_bytes(gzip.compress(text) if gz else text)
        X, y, _, yt = load_ucr("Toy", root)
        assert y.dtype == np.int64 and y.tolist() == [1, 2] == yt.tolist()
        assert X.shape == (2, 2)


def test_missing_values_at_the_end_of_a_fixed_length_dataset_are_filled(tmp_path: Path):
    # Rows of a fixed-length dataset (the summary says 6) ending in NaN: missing observations,
    # as in DodgerLoopDay, not the padding of a variable-length dataset.
    train = [[1, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 6.0, 5.0, 4.0, 3.0, NAN, NAN]]
    test = [[1, 1.0, NAN, 3.0, 4.0, 5.0, NAN], [2, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]]
    root = write_dataset(tmp_path, "Fixed", train, test)
    write_summary(tmp_path, "Fixed", 6)
    X, y, Xt, yt = load_ucr("Fixed", root, znormalize=False)
    assert not np.isnan(X).any() and not np.isnan(Xt).any()
    assert X[1].tolist() == [6.0, 5.0, 4.0, 3.0, 3.0, 3.0]  # the last observed value held
    assert Xt[0].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 5.0]  # inner gap interpolated
    assert (series_lengths(X) == 6).all()
    from nswg import Index

    ids, _ = Index.build(X).search(Xt, k=1, exact=True)  # Euclidean takes the loader's output
    brute = ((Xt[:, None, :] - X[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    assert ids[:, 0].tolist() == brute.tolist()
    # The same rows in a variable-length dataset keep their trailing NaN as padding.
    write_summary(tmp_path, "Fixed", "Vary")
    Xv, _, _, _ = load_ucr("Fixed", root, znormalize=False)
    assert series_lengths(Xv).tolist() == [6, 4]


def test_values_beyond_float32_are_an_error_not_an_infinity(tmp_path: Path):
    write_dataset(tmp_path, "Big", [[1, 1.0, 1e39], [2, 0.0, 1.0]], [[1, 1.0, 2.0]])
    with pytest.raises(ValueError, match=r"Big_TRAIN.tsv: X_train\[0, 1\] = 1e\+39 is too large"):
        load_ucr("Big", tmp_path, znormalize=False)
    # z-normalised, the same values are fine, and so are values whose squares overflow float64.
    write_dataset(tmp_path, "Huge", [[1, 1e200, -1e200, 3e200]], [[1, 1.0, 2.0, 3.0]])
    for name in ("Big", "Huge"):
        X, _, _, _ = load_ucr(name, tmp_path)
        assert np.isfinite(X).all()
        assert np.abs(X.mean(axis=1)).max() < 1e-6 and np.allclose(X.std(axis=1), 1.0)


def test_labels_beyond_exact_integers_stay_floats_and_nan_labels_are_refused(tmp_path: Path):
    rows = [[1e30, 1.0, 2.0], [2, 3.0, 4.0]]
    _, y, _, _ = load_ucr("Toy", write_dataset(tmp_path, "Toy", rows, rows))
    assert y.dtype == np.float64 and y.tolist() == [1e30, 2.0]  # was -9223372036854775808
    rows = [[2**53, 1.0], [1, 2.0]]
    _, y, _, _ = load_ucr("Exact", write_dataset(tmp_path, "Exact", rows, rows))
    assert y.dtype == np.int64 and y.tolist() == [2**53, 1]
    for label in ("nan", "inf"):
        write_dataset(tmp_path, "Bad", [[1, 1.0], [label, 2.0]], [[1, 1.0]])
        with pytest.raises(ValueError, match=r"Bad_TRAIN.tsv: series 1 has the label"):
            load_ucr("Bad", tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_damaged_gzip_raises_value_error_naming_the_file(tmp_path: Path, damage: str):
    rows = [[1, *np.linspace(0, 1, 200).tolist()]] * 20
    root = write_dataset(tmp_path, "Toy", rows, rows, gz=True)
    train = root / "Toy" / "Toy_TRAIN.tsv.gz"
    data = train.read_bytes()
    train.write_bytes(data[: len(data) // 2] if damage == "truncated" else data[:20] + b"x" * 40)
    with pytest.raises(ValueError, match=f"{train}: truncated or corrupt gzip"):
        load_ucr("Toy", root)


def test_znormalize_takes_only_booleans(tmp_path: Path):
    root = write_dataset(tmp_path, "Toy", [[1, 1.0, 2.0]], [[1, 1.0, 2.0]])
    with pytest.raises(TypeError, match="znormalize must be True or False"):
        load_ucr("Toy", root, znormalize="False")
