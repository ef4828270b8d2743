"""Data for tests, benchmarks and demos: the UCR archive, word vectors, seeded synthetic sets.

UCR Time Series Archive
-----------------------
:func:`load_ucr` reads the archive's own layout, ``<root>/<Name>/<Name>_TRAIN.tsv`` and
``<Name>_TEST.tsv``, plain or gzipped (``.tsv.gz``): one series per line, tab-separated, the
class label first, no header. Without a ``root`` it reads the small set shipped inside the
package (:data:`DEFAULT_UCR_ROOT`, see :func:`list_ucr`); point it at a full copy of the
archive for the rest. :func:`ucr_summary` parses the archive's ``DataSummary.csv``, which holds
the published 1-NN error rates and DTW windows.

What the loader does to the series, in this order:

1. **Missing values inside a series** (DodgerLoop*, MelbournePedestrian) are filled by linear
   interpolation between the neighbouring observed values; a gap at the start takes the first
   observed value. A gap that runs to the end of a row is told apart from padding by the
   archive's ``DataSummary.csv`` (:func:`ucr_summary`): in a dataset of fixed length it is
   missing observations, filled with the last observed value (as ``np.interp`` holds the edge
   values), so every series keeps that length; in a variable-length dataset, or one the
   summary does not list, it is padding (the series is then shorter). A row with no value at
   all becomes zeros.
2. **Variable-length datasets** (AllGestureWiimote*, GestureMidAir*, GesturePebbleZ*, PLAID,
   ...) keep their trailing NaN padding: series ``i`` is ``X[i, :series_lengths(X)[i]]``. The
   index's DTW treats trailing NaN as the end of a series and compares true lengths. Training
   and test sets share one width: the longest true length of either (columns that are NaN in
   every row of both are dropped). For Euclidean distance, which needs equal lengths, the
   documented choice is :func:`resample` to that width.
3. **z-normalisation** of each series (on by default, as in the archive's published results):
   mean 0 and population standard deviation 1 (``ddof=0``) over its true length, computed in
   float64. A constant series becomes zeros.

After this the only NaN left are the trailing padding of variable-length series, and ``X`` is
float32, C-contiguous, shape ``(n_ts, sz)``. A value beyond float32's range (about 3.4e38)
after these steps is an error, not an infinity. A UTF-8 byte-order mark at the start of a file
is skipped; labels are int64 when they are all integers of at most 2^53 in magnitude (exactly
representable), else float64; NaN or infinite labels are an error.

Examples
--------
>>> from nswg.datasets import load_ucr, ucr_summary, ucr_window_radius
>>> X_train, y_train, X_test, y_test = load_ucr("GunPoint")
>>> X_train.shape, X_train.dtype, y_train[:6].tolist(), X_test.shape
((50, 150), dtype('float32'), [2, 2, 1, 1, 2, 2], (150, 150))
>>> s = ucr_summary()["CBF"]
>>> s.ed_error, s.dtw_error, s.dtw_window_percent, s.length
(0.1478, 0.0044, 11, 128)
>>> ucr_window_radius(s.dtw_window_percent, s.length)  # ceil(11 * 128 / 100)
15

References
----------
H. A. Dau, A. Bagnall, K. Kamgar, C.-C. M. Yeh, Y. Zhu, S. Gharghabi, C. A. Ratanamahatana and
E. Keogh, "The UCR Time Series Archive", IEEE/CAA Journal of Automatica Sinica 6(6), 2019.

J. Pennington, R. Socher and C. D. Manning, "GloVe: Global Vectors for Word Representation",
EMNLP 2014.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np

from nswg._validation import as_series_rows, flag, non_negative_int, positive_int, to_float32
from nswg.errors import gzip_errors
from nswg.words import DEFAULT_WORD_VECTORS, load_default_word_vectors, load_word_vectors

__all__ = [
    "DEFAULT_UCR_ROOT",
    "DEFAULT_WORD_VECTORS",
    "UCRSummary",
    "list_ucr",
    "load_default_word_vectors",
    "load_ts",
    "load_ucr",
    "load_word_vectors",
    "random_vectors",
    "random_walks",
    "resample",
    "series_lengths",
    "ucr_files",
    "ucr_summary",
    "ucr_window_radius",
]

PathLike = Union[str, "os.PathLike[str]"]
RandomState = Union[int, np.random.Generator, None]

#: The UCR datasets shipped inside the package (12 classic ones and Crop) and the archive's
#: ``DataSummary.csv`` for all 128 datasets.
DEFAULT_UCR_ROOT: Path = Path(__file__).resolve().parent / "data" / "ucr"

_SUMMARY = "DataSummary.csv"


# --------------------------------------------------------------------------------------------
# UCR archive
# --------------------------------------------------------------------------------------------


def list_ucr(root: PathLike | None = None) -> list[str]:
    """Names of the UCR datasets under ``root``, sorted.

    A dataset is a folder ``<root>/<Name>/`` holding ``<Name>_TRAIN.tsv`` or
    ``<Name>_TRAIN.tsv.gz``.

    Parameters
    ----------
    root : str or path, optional
        The archive's folder. Default: the set shipped with the package.

    Returns
    -------
    list of str

    Raises
    ------
    FileNotFoundError
        ``root`` is not a folder.

    Examples
    --------
    >>> from nswg.datasets import list_ucr
    >>> list_ucr()[:5]
    ['ArrowHead', 'CBF', 'Chinatown', 'Coffee', 'Crop']
    >>> len(list_ucr())
    13
    """
    base = _ucr_root(root)
    return sorted(
        entry.name
        for entry in base.iterdir()
        if entry.is_dir() and _split_file(entry, entry.name, "TRAIN") is not None
    )


def load_ucr(
    name: str, root: PathLike | None = None, *, znormalize: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load one UCR dataset: ``X_train, y_train, X_test, y_test``.

    The order is that of tslearn's ``UCR_UEA_datasets().load_dataset``. Missing values inside
    a series are interpolated and variable-length series keep their trailing NaN padding: see
    the module's documentation.

    Parameters
    ----------
    name : str
        Dataset name as in the archive, e.g. ``"GunPoint"`` (case-sensitive).
    root : str or path, optional
        Folder holding ``<name>/<name>_TRAIN.tsv`` and ``<name>_TEST.tsv``, or their ``.gz``
        versions (the plain file wins when both exist). Default: the set shipped with the
        package (:func:`list_ucr`).
    znormalize : bool, default=True
        Scale each series to mean 0 and standard deviation 1. The archive's published error
        rates assume it; many datasets added in 2018 are stored unnormalised.

    Returns
    -------
    X_train : numpy.ndarray of float32, shape=(n_train, sz)
    y_train : numpy.ndarray, shape=(n_train,)
        Class labels as written in the file: int64 when they are all integers, else float64
        (or str, for labels that are not numbers).
    X_test : numpy.ndarray of float32, shape=(n_test, sz)
    y_test : numpy.ndarray, shape=(n_test,)

    Raises
    ------
    FileNotFoundError
        ``root`` does not exist, or holds no dataset ``name`` (the message lists the ones it
        holds), or the dataset lacks its test file.
    ValueError
        A file holds no series, a value that is not a number, is infinite or is beyond
        float32's range, a label that is NaN or infinite, or truncated or corrupt gzip data.

    See Also
    --------
    series_lengths : True lengths of padded series.
    resample : Bring variable-length series to one length, for Euclidean distance.

    Examples
    --------
    >>> from nswg.datasets import load_ucr
    >>> X_train, y_train, X_test, y_test = load_ucr("Trace")
    >>> X_train.shape, y_train.dtype, sorted(set(y_train.tolist()))
    ((100, 275), dtype('int64'), [1, 2, 3, 4])
    >>> round(float(X_train[0].mean()), 6), round(float(X_train[0].std()), 4)
    (0.0, 1.0)
    """
    flag(znormalize, "znormalize")
    train_file, test_file = ucr_files(name, root)
    X_train, y_train = _read_ucr_file(train_file)
    X_test, y_test = _read_ucr_file(test_file)
    summary = ucr_summary(root).get(name)
    length = None if summary is None else summary.length
    X_train, X_test = _common_width(_fill_gaps(X_train, length), _fill_gaps(X_test, length), name)
    if znormalize:
        X_train, X_test = _znormalize(X_train), _znormalize(X_test)
    return (
        to_float32(X_train, f"{train_file}: X_train"),
        y_train,
        to_float32(X_test, f"{test_file}: X_test"),
        y_test,
    )


def ucr_files(name: str, root: PathLike | None = None) -> tuple[Path, Path]:
    """The training and test files of UCR dataset ``name``, as :func:`load_ucr` finds them:
    a check that it can be loaded, without reading it.

    Parameters
    ----------
    name : str
        The dataset's name, as in the archive (``"GunPoint"``).
    root : path-like, optional
        The archive's folder, as :func:`load_ucr` takes it.

    Raises
    ------
    FileNotFoundError
        As :func:`load_ucr`.

    Examples
    --------
    >>> from nswg.datasets import ucr_files
    >>> [f.name for f in ucr_files("GunPoint")]
    ['GunPoint_TRAIN.tsv.gz', 'GunPoint_TEST.tsv.gz']
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    base = _ucr_root(root)
    folder = base / name
    train_file = _split_file(folder, name, "TRAIN") if _plain_name(name) else None
    if train_file is None:
        raise FileNotFoundError(_unknown_dataset_message(name, base))
    test_file = _split_file(folder, name, "TEST")
    if test_file is None:
        raise FileNotFoundError(f"UCR dataset {name!r} has no {name}_TEST.tsv[.gz] in {folder}")
    return train_file, test_file


def series_lengths(X: Any) -> np.ndarray:
    """True length of each series: the position after its last value that is not NaN.

    Parameters
    ----------
    X : array-like, shape=(n_ts, sz) or (n_ts, sz, 1)
        Series padded at the end with NaN (tslearn's convention). A 1-D array is one series.

    Returns
    -------
    numpy.ndarray of int64, shape=(n_ts,)
        0 for a series that is all NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from nswg.datasets import series_lengths
    >>> series_lengths([[1.0, 2.0, 3.0], [4.0, np.nan, np.nan], [5.0, np.nan, 6.0]]).tolist()
    [3, 1, 3]
    """
    data = as_series_rows(X, "X")
    present = ~np.isnan(data)
    sz = data.shape[1]
    if sz == 0:
        return np.zeros(data.shape[0], dtype=np.int64)
    last_from_end = np.argmax(present[:, ::-1], axis=1)
    return np.where(present.any(axis=1), sz - last_from_end, 0).astype(np.int64)


def resample(X: Any, length: int) -> np.ndarray:
    """Linearly interpolate each series' true-length part onto ``length`` evenly spaced points.

    This is tslearn's ``TimeSeriesResampler``: the points of a series of true length ``L`` sit
    at ``linspace(0, 1, L)`` and are read at ``linspace(0, 1, length)`` (``length=1`` gives
    the mean). It is how this project
    compares variable-length series under Euclidean distance: resample every series to the
    longest length (the width of the arrays :func:`load_ucr` returns).

    Parameters
    ----------
    X : array-like, shape=(n_ts, sz) or (n_ts, sz, 1)
        Series, possibly padded at the end with NaN. A 1-D array is one series.
    length : int
        Length of the result, at least 1.

    Returns
    -------
    numpy.ndarray, shape=(n_ts, length)
        No NaN. float32 when ``X`` is float32, else float64.

    Raises
    ------
    ValueError
        A series is all NaN or has NaN before its end.

    Examples
    --------
    >>> import numpy as np
    >>> from nswg.datasets import resample
    >>> resample([[0.0, 2.0, np.nan, np.nan], [0.0, 1.0, 2.0, 3.0]], 3).tolist()
    [[0.0, 1.0, 2.0], [0.0, 1.5, 3.0]]
    """
    length = positive_int(length, "length")
    data = as_series_rows(X, "X")
    dtype = np.float32 if data.dtype == np.float32 else np.float64
    lengths = series_lengths(data)
    if (lengths == 0).any():
        raise ValueError(f"series {int(np.argmax(lengths == 0))} has no values (all NaN)")
    gaps = (np.isnan(data) & (np.arange(data.shape[1]) < lengths[:, None])).any(axis=1)
    if gaps.any():
        raise ValueError(
            f"series {int(np.argmax(gaps))} has NaN before its end; only trailing NaN padding "
            "is allowed (load_ucr interpolates gaps inside series)"
        )
    out = np.empty((data.shape[0], length), dtype=np.float64)
    same = lengths == length
    if same.any():
        out[same] = data[same][:, :length]
    grid = np.linspace(0.0, 1.0, length)
    for i in np.flatnonzero(~same).tolist():
        values = data[i, : lengths[i]].astype(np.float64)
        if length == 1:
            out[i] = values.mean()  # as tslearn: a single point is the series' mean
        else:
            out[i] = np.interp(grid, np.linspace(0.0, 1.0, len(values)), values)
    return out.astype(dtype, copy=False)


def ucr_window_radius(window_percent: int, length: int) -> int:
    """Sakoe-Chiba radius for a DTW window given in percent of the series length.

    ``ceil(window_percent * length / 100)``, computed in integers so that floating point never
    rounds it the wrong way: the published UCR DTW errors are reproduced with this rounding
    (floor or round give other numbers, e.g. CBF 0.0056 instead of 0.0044).

    Parameters
    ----------
    window_percent : int
        The window, as the number in parentheses of DataSummary's ``DTW (learned_w)``.
    length : int
        Series length.

    Returns
    -------
    int

    Examples
    --------
    >>> from nswg.datasets import ucr_window_radius
    >>> ucr_window_radius(5, 100), ucr_window_radius(3, 150), ucr_window_radius(0, 150)
    (5, 5, 0)
    """
    w = non_negative_int(window_percent, "window_percent")
    n = non_negative_int(length, "length")
    return (w * n + 99) // 100


@dataclass(frozen=True)
class UCRSummary:
    """One row of the UCR archive's ``DataSummary.csv``.

    Attributes
    ----------
    name : str
    type : str
        Domain, e.g. ``"Sensor"``, ``"Image"``, ``"Motion"``.
    n_train, n_test : int
        Number of training and test series.
    n_classes : int
    length : int or None
        Series length; None for variable-length datasets ("Vary").
    ed_error : float
        Published 1-NN error with Euclidean distance, ``ED (w=0)``.
    dtw_error : float
        Published 1-NN error with DTW and the learned window, ``DTW (learned_w)``.
    dtw_window_percent : int
        That window in percent of the length (the number in parentheses).
    dtw_full_error : float
        Published 1-NN error with unconstrained DTW, ``DTW (w=100)``.
    default_rate : float
        Error of always predicting the most frequent class.
    donor : str
        Data donor or editor.
    """

    name: str
    type: str
    n_train: int
    n_test: int
    n_classes: int
    length: int | None
    ed_error: float
    dtw_error: float
    dtw_window_percent: int
    dtw_full_error: float
    default_rate: float
    donor: str = ""

    def radius(self, length: int | None = None) -> int:
        """Sakoe-Chiba radius of the learned window for series of ``length`` points.

        Parameters
        ----------
        length : int, optional
            The series length; the dataset's by default. Needed for variable-length datasets.

        Returns
        -------
        int
            ``ceil(dtw_window_percent * length / 100)``, as :func:`ucr_window_radius`.
        """
        if length is None:
            if self.length is None:
                raise ValueError(f"{self.name} has variable length: pass the length")
            length = self.length
        return ucr_window_radius(self.dtw_window_percent, length)


def ucr_summary(root: PathLike | None = None) -> dict[str, UCRSummary]:
    """The archive's ``DataSummary.csv``: published error rates and windows, by dataset name.

    Parameters
    ----------
    root : str or path, optional
        An archive's folder. ``DataSummary.csv`` is looked for in ``root``, then in its
        parent, and otherwise the copy shipped with the package (all 128 datasets) is used.

    Returns
    -------
    dict of str to UCRSummary

    Examples
    --------
    >>> from nswg.datasets import ucr_summary
    >>> summary = ucr_summary()
    >>> len(summary)
    128
    >>> gp = summary["GunPoint"]
    >>> gp.n_train, gp.n_test, gp.length, gp.ed_error, gp.dtw_error, gp.dtw_window_percent
    (50, 150, 150, 0.0867, 0.0867, 0)
    >>> summary["PLAID"].length is None
    True
    """
    return _parse_summary(_summary_file(root))


# --------------------------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------------------------


def random_walks(
    n_ts: int, sz: int, *, mu: float = 0.0, std: float = 1.0, random_state: RandomState = 0
) -> np.ndarray:
    """Seeded random walks: cumulative sums of Gaussian steps (tslearn's ``random_walks``).

    Parameters
    ----------
    n_ts : int
        Number of series.
    sz : int
        Length of each series.
    mu, std : float
        Mean and standard deviation of the steps.
    random_state : int, numpy.random.Generator or None, default=0
        Seed; None draws a fresh one.

    Returns
    -------
    numpy.ndarray of float32, shape=(n_ts, sz)

    Examples
    --------
    >>> from nswg.datasets import random_walks
    >>> X = random_walks(3, 16)
    >>> X.shape, X.dtype
    ((3, 16), dtype('float32'))
    >>> bool((random_walks(3, 16) == X).all())
    True
    """
    rng = np.random.default_rng(random_state)
    steps = rng.normal(mu, std, size=(non_negative_int(n_ts, "n_ts"), positive_int(sz, "sz")))
    return np.ascontiguousarray(np.cumsum(steps, axis=1), dtype=np.float32)


def random_vectors(n: int, dim: int, *, random_state: RandomState = 0) -> np.ndarray:
    """Seeded standard Gaussian vectors.

    Parameters
    ----------
    n : int
        Number of vectors.
    dim : int
        Dimension.
    random_state : int, numpy.random.Generator or None, default=0
        Seed; None draws a fresh one.

    Returns
    -------
    numpy.ndarray of float32, shape=(n, dim)

    Examples
    --------
    >>> from nswg.datasets import random_vectors
    >>> random_vectors(1000, 8).shape
    (1000, 8)
    """
    rng = np.random.default_rng(random_state)
    shape = (non_negative_int(n, "n"), positive_int(dim, "dim"))
    return rng.standard_normal(shape, dtype=np.float32)


# --------------------------------------------------------------------------------------------
# UCR helpers
# --------------------------------------------------------------------------------------------


def _ucr_root(root: PathLike | None) -> Path:
    base = DEFAULT_UCR_ROOT if root is None else Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"UCR archive folder {base} does not exist")
    return base


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and os.sep not in name


def _split_file(folder: Path, name: str, split: str) -> Path | None:
    """The plain ``.tsv`` when present, else the ``.tsv.gz``, else None."""
    for suffix in (".tsv", ".tsv.gz"):
        candidate = folder / f"{name}_{split}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _unknown_dataset_message(name: str, base: Path) -> str:
    available = list_ucr(base)
    if not available:
        return f"no UCR dataset {name!r} in {base}: it holds no <Name>/<Name>_TRAIN.tsv[.gz]"
    close = difflib.get_close_matches(name, available, n=3, cutoff=0.6)
    close += [a for a in available if a.lower() == name.lower() and a not in close]
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return f"no UCR dataset {name!r} in {base}.{hint} Available: {', '.join(available)}"


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed, without a UTF-8 byte-order mark."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        with gzip_errors(path):
            data = gzip.decompress(data)
    return data.removeprefix(b"\xef\xbb\xbf")


def _read_ucr_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse one UCR file into float64 series (NaN kept) and labels."""
    data = _read_bytes(path)
    first = next((line for line in data[:65536].splitlines() if line.strip()), None)
    if first is None:
        raise ValueError(f"{path} holds no series")
    delimiter = "\t" if b"\t" in first else ("," if b"," in first else None)
    try:
        # numpy >= 1.23 parses in C: FordA's 3601 x 501 training file takes about 0.5 s.
        table = np.loadtxt(io.BytesIO(data), delimiter=delimiter, ndmin=2, dtype=np.float64)
    except ValueError:
        # Ragged rows, empty fields or labels that are not numbers: the slow path pads, keeps
        # the labels as text, or says which line is wrong.
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"{path} is not UTF-8 text: {e}") from None
        X, labels = _parse_rows(text, delimiter, path)
        y = _labels_array(labels, path)
    else:
        if table.shape[1] < 2:
            raise ValueError(f"{path}: each line needs a label and at least one value")
        X, y = table[:, 1:], _labels_array(table[:, 0], path)
    if np.isinf(X).any():
        row = int(np.flatnonzero(np.isinf(X).any(axis=1))[0])
        raise ValueError(f"{path}: series {row} holds an infinite value")
    return X, y


def _parse_rows(text: str, delimiter: str | None, path: Path) -> tuple[np.ndarray, list[str]]:
    labels: list[str] = []
    rows: list[list[float]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\r\n").split(delimiter)
        if delimiter is not None and len(fields) > 1 and fields[-1].strip() == "":
            fields = fields[:-1]  # a trailing delimiter
        if len(fields) < 2:
            raise ValueError(f"{path}, line {number}: need a label and at least one value")
        labels.append(fields[0].strip())
        values = []
        for field in fields[1:]:
            token = field.strip()
            try:
                values.append(float(token) if token else np.nan)
            except ValueError:
                raise ValueError(f"{path}, line {number}: {token!r} is not a number") from None
        rows.append(values)
    width = max(len(r) for r in rows)
    X = np.full((len(rows), width), np.nan)
    for i, r in enumerate(rows):
        X[i, : len(r)] = r
    return X, labels


#: Integers up to this magnitude are exact in float64, as the labels are parsed.
_EXACT_INTEGERS = 2.0**53


def _labels_array(labels: Sequence[Any] | np.ndarray, path: Path) -> np.ndarray:
    """int64 when every label is an integer that float64 holds exactly, else float64, else
    the labels as text; NaN or infinite labels are an error (no series equals their class)."""
    if isinstance(labels, np.ndarray):
        numbers = labels
    else:
        try:
            numbers = np.array([float(s) for s in labels], dtype=np.float64)
        except ValueError:
            return np.array(labels, dtype=str)
    if not np.isfinite(numbers).all():
        row = int(np.flatnonzero(~np.isfinite(numbers))[0])
        raise ValueError(f"{path}: series {row} has the label {numbers[row]}, not a class")
    if (numbers == np.round(numbers)).all() and (np.abs(numbers) <= _EXACT_INTEGERS).all():
        return numbers.astype(np.int64)
    return numbers


def _fill_gaps(X: np.ndarray, length: int | None) -> np.ndarray:
    """Interpolate NaN inside each series; keep trailing NaN (and all-NaN rows) unless the
    dataset has a fixed ``length``, which every series then keeps."""
    missing = np.isnan(X)
    if not missing.any():
        return X
    lengths = series_lengths(X)
    if length is not None:
        lengths = np.where(lengths > 0, min(length, X.shape[1]), 0)
    positions = np.arange(X.shape[1])
    interior = (missing & (positions < lengths[:, None])).any(axis=1)
    if not interior.any():
        return X
    X = X.copy()
    for i in np.flatnonzero(interior):
        n = lengths[i]
        observed = np.flatnonzero(~missing[i, :n])
        # np.interp holds the first observed value constant before it: a leading gap.
        X[i, :n] = np.interp(positions[:n], observed, X[i, observed])
    return X


def _common_width(
    X_train: np.ndarray, X_test: np.ndarray, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pad or trim both sets to the longest true length of either; all-NaN rows become zeros."""
    width = int(max(series_lengths(X_train).max(initial=0), series_lengths(X_test).max(initial=0)))
    if width == 0:
        raise ValueError(f"UCR dataset {name!r} holds no values, only NaN")
    return _to_width(X_train, width), _to_width(X_test, width)


def _to_width(X: np.ndarray, width: int) -> np.ndarray:
    if X.shape[1] >= width:
        out = X[:, :width].copy()
    else:
        out = np.full((X.shape[0], width), np.nan)
        out[:, : X.shape[1]] = X
    out[np.isnan(out).all(axis=1)] = 0.0
    return out


def _znormalize(X: np.ndarray) -> np.ndarray:
    """z-normalise each series over its values (NaN padding left as is), in float64."""
    # Squares of values beyond 1e154 overflow float64: scale those rows down first (the
    # result does not depend on the scale).
    largest = np.max(np.abs(np.where(np.isnan(X), 0.0, X)), axis=1, keepdims=True)
    X = np.where(largest > 1e150, X / np.where(largest > 1e150, largest, 1.0), X)
    present = ~np.isnan(X)
    count = np.maximum(present.sum(axis=1, keepdims=True), 1)
    values = np.where(present, X, 0.0)
    mean = values.sum(axis=1, keepdims=True) / count
    centred = np.where(present, X - mean, 0.0)
    std = np.sqrt((centred * centred).sum(axis=1, keepdims=True) / count)
    # A constant series (every value equal) becomes zeros, not 0/0; tested exactly rather than
    # with std == 0, which rounding in the mean can miss.
    constant = np.where(present, X, -np.inf).max(axis=1) == np.where(present, X, np.inf).min(axis=1)
    std[constant | (std[:, 0] == 0.0)] = 1.0
    centred[constant] = 0.0
    return np.where(present, centred / std, np.nan)


def _summary_file(root: PathLike | None) -> Path:
    if root is not None:
        base = Path(root)
        for candidate in (base / _SUMMARY, base.parent / _SUMMARY):
            if candidate.is_file():
                return candidate
    return DEFAULT_UCR_ROOT / _SUMMARY


_DTW_LEARNED = re.compile(r"^\s*([0-9.eE+-]+)\s*\(\s*(\d+)\s*\)\s*$")
_SUMMARY_COLUMNS = (
    "Type",
    "Name",
    "Train",
    "Test",
    "Class",
    "Length",
    "ED (w=0)",
    "DTW (learned_w)",
    "DTW (w=100)",
    "Default rate",
)


def _parse_summary(path: Path) -> dict[str, UCRSummary]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path} is empty")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in _SUMMARY_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path} lacks the columns {', '.join(missing)}")
    col = {h: i for i, h in enumerate(header)}
    out: dict[str, UCRSummary] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cell = {h: row[i].strip() if i < len(row) else "" for h, i in col.items()}
        match = _DTW_LEARNED.match(cell["DTW (learned_w)"])
        if match is None:
            raise ValueError(
                f"{path}, line {number}: DTW (learned_w) {cell['DTW (learned_w)']!r} is not "
                "'error (w)'"
            )
        try:
            length = None if cell["Length"].lower().startswith("vary") else int(cell["Length"])
            item = UCRSummary(
                name=cell["Name"],
                type=cell["Type"],
                n_train=int(cell["Train"]),
                n_test=int(cell["Test"]),
                n_classes=int(cell["Class"]),
                length=length,
                ed_error=float(cell["ED (w=0)"]),
                dtw_error=float(match.group(1)),
                dtw_window_percent=int(match.group(2)),
                dtw_full_error=float(cell["DTW (w=100)"]),
                default_rate=float(cell["Default rate"]),
                donor=cell.get("Data donor/editor", ""),
            )
        except ValueError as e:
            raise ValueError(f"{path}, line {number}: {e}") from None
        out[item.name] = item
    return out


# --------------------------------------------------------------------------------------------
# The .ts format (sktime, aeon; the UEA multivariate archive)
# --------------------------------------------------------------------------------------------


def load_ts(path: PathLike, *, length: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a time-series file in the ``.ts`` format of sktime and aeon: ``X, y``.

    The format of the UEA multivariate archive (BasicMotions, JapaneseVowels, ...): ``#``
    comments, ``@`` header lines (``@problemName``, ``@dimensions``, ``@equalLength``,
    ``@classLabel true <labels>`` or ``@targetLabel true``, ...), then after ``@data`` one case
    per line, its channels separated by ``:``, each a comma-separated list of values, the label
    last. ``?`` is a missing value. Files with ``@timeStamps true`` are refused.

    Parameters
    ----------
    path : str or path
        The ``.ts`` file, plain or gzipped (``.ts.gz``).
    length : int, optional
        Pad every series with NaN to this many time steps, at least the longest in the file:
        a training and a test file of variable-length series then share one width, as
        scikit-learn's estimators want. Default: the longest series of the file.

    Returns
    -------
    X : numpy.ndarray of float32, shape=(n_ts, sz, d)
        tslearn's layout: ``d`` channels of ``sz`` time steps, as written (not normalised).
        Series shorter than the longest end in NaN padding, in every channel: an index under
        ``metric="dtw"`` compares them at their true lengths. Missing values stay NaN.
    y : numpy.ndarray, shape=(n_ts,), or None
        Class labels (int64 when they are all integers, else float64, else str) or regression
        targets (float64); None when the file has neither.

    Raises
    ------
    ValueError
        A malformed file, naming the line: a case with the wrong number of channels, channels
        of unequal length, a value that is not a number, a label not declared in the header.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.ts"
    >>> _ = path.write_text(
    ...     "@problemName tiny\\n@dimensions 2\\n@classLabel true a b\\n@data\\n"
    ...     "1,2,3:4,5,6:a\\n7,8:9,10:b\\n"
    ... )
    >>> X, y = load_ts(path)
    >>> X.shape, y.tolist()
    ((2, 3, 2), ['a', 'b'])
    >>> X[1].tolist()
    [[7.0, 9.0], [8.0, 10.0], [nan, nan]]
    """
    path = Path(path)
    try:
        text = _read_bytes(path).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text: {e}") from None
    lines = iter(enumerate(text.splitlines(), start=1))
    header = _ts_header(lines, path)
    if header.get("timestamps", "false").lower() == "true":
        raise ValueError(f"{path}: files with @timeStamps true are not supported")
    class_labels = header.get("classlabel", "false").split()
    classes = class_labels[1:] if class_labels and class_labels[0].lower() == "true" else None
    regression = header.get("targetlabel", "false").lower() == "true"
    dimensions = header.get("dimensions")
    channels = _ts_positive(dimensions, "@dimensions", path) if dimensions else None
    labelled = classes is not None or regression
    cases, labels = _ts_cases(lines, path, channels, labelled, classes)
    width = max(len(case[0]) for case in cases)
    if length is not None:
        if positive_int(length, "length") < width:
            raise ValueError(f"{path} holds a series of {width} time steps, longer than {length}")
        width = length
    X = np.full((len(cases), width, len(cases[0])), np.nan, dtype=np.float32)
    for i, case in enumerate(cases):
        X[i, : len(case[0])] = np.stack(case, axis=1)
    if np.isinf(X).any():
        row = int(np.flatnonzero(np.isinf(X).any(axis=(1, 2)))[0])
        raise ValueError(f"{path}: series {row} holds an infinite value or one too large")
    if not labelled:
        return X, None
    if classes is None:
        try:
            return X, np.array([float(s) for s in labels], dtype=np.float64)
        except ValueError as e:
            raise ValueError(f"{path}: a target is not a number: {e}") from None
    return X, _labels_array(labels, path)


def _ts_header(lines: Iterator[tuple[int, str]], path: Path) -> dict[str, str]:
    """The @ fields of a .ts file up to its @data line, by lower-case name."""
    header: dict[str, str] = {}
    for number, line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise ValueError(f"{path}, line {number}: expected an @ header line or @data")
        key, _, value = line[1:].partition(" ")
        if key.lower() == "data":
            return header
        header[key.lower()] = value.strip()
    raise ValueError(f"{path} has no @data line: not a .ts file")


def _ts_cases(
    lines: Iterator[tuple[int, str]],
    path: Path,
    channels: int | None,
    labelled: bool,
    classes: list[str] | None,
) -> tuple[list[list[np.ndarray]], list[str]]:
    """The cases after @data, each a list of its channels, and their labels."""
    cases: list[list[np.ndarray]] = []
    labels: list[str] = []
    for number, line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if labelled:
            label = fields.pop().strip()
            if classes is not None and label not in classes:
                raise ValueError(
                    f"{path}, line {number}: label {label!r} is not one of the @classLabel "
                    f"labels {classes}"
                )
            labels.append(label)
        channels = channels or len(fields)
        if len(fields) != channels:
            raise ValueError(
                f"{path}, line {number}: {len(fields)} channels where the file has {channels}"
            )
        case = [_ts_values(field, path, number) for field in fields]
        if len({len(c) for c in case}) > 1:
            lengths = [len(c) for c in case]
            raise ValueError(f"{path}, line {number}: channels of unequal lengths {lengths}")
        cases.append(case)
    if not cases:
        raise ValueError(f"{path} holds no series")
    return cases, labels


def _ts_positive(value: str, name: str, path: Path) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{path}: {name} must be a positive integer, got {value!r}")
    return n


def _ts_values(field: str, path: Path, number: int) -> np.ndarray:
    """One channel of a .ts case: comma-separated numbers, ``?`` for a missing one."""
    tokens = [t.strip() for t in field.split(",")]
    try:
        return np.array([np.nan if t == "?" else float(t) for t in tokens], dtype=np.float64)
    except ValueError:
        bad = next(t for t in tokens if t != "?" and not _is_float(t))
        raise ValueError(f"{path}, line {number}: {bad!r} is not a number") from None


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
