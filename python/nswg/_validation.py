"""Checks and conversions of user input, shared by every public module.

Each public function checks its arguments here before any long work starts, so that one
argument is checked the same way, with the same message, wherever it is accepted.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

import numpy as np

from nswg import _core

#: The metrics an index ranks by, by their canonical names.
METRICS = ("euclidean", "cosine", "dtw")
#: Other names accepted for them (scikit-learn's and faiss's spellings).
ALIASES = {"l2": "euclidean", "cos": "cosine"}
#: The compressed codes a graph search may walk on: ``None`` (the float32 rows), ``"sq8"`` or
#: ``"rabitq4"``.
QUANTIZATIONS = (None, "sq8", "rabitq4")
#: The metrics whose distances codes of the rows estimate.
QUANTIZED_METRICS = ("euclidean", "cosine")


def non_negative_int(value: Any, name: str) -> int:
    """``value`` as an int (any integral type, numpy's included, but no bool), at least 0."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if n < 0:
        raise ValueError(f"{name} must not be negative (a non-negative integer), got {n}")
    if n >= 2**63:
        raise ValueError(f"{name} is too large: {n}")
    return n


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int, at least 1."""
    n = non_negative_int(value, name)
    if n < 1:
        raise ValueError(f"{name} must be at least 1 (a positive integer), got {n}")
    return n


def distance_radius(value: Any) -> float:
    """``value`` as a search radius: a real number, finite and at least 0, at most float32's
    largest (the distances it is compared with are float32)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"radius must be a real number, got {value!r}")
    radius = float(value)
    if not (radius >= 0 and math.isfinite(radius)):
        raise ValueError(f"radius must be a finite distance >= 0, got {radius}")
    return min(radius, float(np.finfo(np.float32).max))


def as_seed(value: Any) -> int:
    """Any integer as a 64-bit seed (negative ones wrap, as numpy's do not need to)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"seed must be an integer, got {value!r}")
    return int(value) % 2**64


def thread_count(value: Any, name: str = "n_threads") -> int:
    """``value`` as a thread count: 0 (one per core) up to :data:`nswg._core.MAX_THREADS`, eight
    per core, beyond which threads only take turns on the cores."""
    n = non_negative_int(value, name)
    if n > _core.MAX_THREADS:
        raise ValueError(
            f"{name} must be at most {_core.MAX_THREADS} (8 threads per core; this machine has "
            f"{_core.MAX_THREADS // 8}), got {n}"
        )
    return n


def graph_shape(n_neighbors: Any, max_degree: Any, name: str = "n_neighbors") -> tuple[int, int]:
    """``(n_neighbors, max_degree)`` of a new graph; ``max_degree`` None is twice
    ``n_neighbors``, at most :data:`nswg._core.MAX_DEGREE`. ``name`` is what the caller calls
    ``n_neighbors``."""
    n = positive_int(n_neighbors, name)
    if n < _core.MIN_NEIGHBORS:
        raise ValueError(
            f"{name} must be at least {_core.MIN_NEIGHBORS}, got {n}: with one neighbour per "
            "point the graph falls apart into chains that a greedy search cannot navigate"
        )
    if n > _core.MAX_DEGREE:
        raise ValueError(
            f"{name} must be at most {_core.MAX_DEGREE} (the largest max_degree), got {n}"
        )
    if max_degree is None:
        return n, min(2 * n, _core.MAX_DEGREE)
    degree = positive_int(max_degree, "max_degree")
    if not n <= degree <= _core.MAX_DEGREE:
        raise ValueError(
            f"max_degree must be at least {name} ({n}) and at most {_core.MAX_DEGREE}, got {degree}"
        )
    return n, degree


def flag(value: Any, name: str) -> bool:
    """``value`` as a bool: only ``True`` or ``False`` (numpy's too), so that ``"False"`` or
    ``0`` is an error rather than read by its truth."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def optional_seconds(value: Any, name: str) -> float | None:
    """``value`` as a positive, finite number of seconds, or None (no limit)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds or None, got {value!r}")
    seconds = float(value)
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"{name} must be a positive number of seconds or None, got {value!r}")
    return seconds


def metric_name(metric: Any) -> str:
    """The canonical name of ``metric``, one of :data:`METRICS`, or an error naming them."""
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a string, one of {METRICS}, got {metric!r}")
    name = ALIASES.get(metric.strip().lower(), metric.strip().lower())
    if name not in METRICS:
        names = ", ".join(map(repr, METRICS))
        aliases = ", ".join(map(repr, ALIASES))
        raise ValueError(f"unknown metric {metric!r}: metric must be one of {names} ({aliases})")
    return name


def quantization_name(quantization: Any, metric: str) -> str | None:
    """``quantization``, one of :data:`QUANTIZATIONS`, checked against the canonical ``metric``."""
    names = ", ".join(map(repr, QUANTIZATIONS))
    if quantization is not None and not isinstance(quantization, str):
        raise TypeError(f"quantization must be one of {names}, got {quantization!r}")
    name = None if quantization is None else quantization.strip().lower()
    if name not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {quantization!r}: it must be one of {names}")
    if name is not None and metric not in QUANTIZED_METRICS:
        raise ValueError(
            f"quantization={name!r} is not available under metric={metric!r}, whose distances "
            f"no code of a row estimates: use quantization=None, or one of {QUANTIZED_METRICS}"
        )
    return name


def band_radius(metric: str, radius: Any, window: Any, sz: int) -> int | None:
    """The Sakoe-Chiba radius in points for series of ``sz`` points, None for the full window.

    ``radius`` (points) and ``window`` (a fraction of ``sz``, as tslearn's
    ``sakoe_chiba_radius`` and the UCR archive's window) apply to ``metric="dtw"`` only.
    """
    if metric != "dtw":
        if radius is not None or window is not None:
            raise ValueError(f"radius and window apply to metric='dtw', not {metric!r}")
        return None
    if radius is not None and window is not None:
        raise ValueError("give the DTW band as radius or as window, not both")
    if window is not None:
        if isinstance(window, bool) or not isinstance(window, numbers.Real):
            raise TypeError(f"window must be a number in [0, 1], got {window!r}")
        if not 0.0 <= float(window) <= 1.0:
            raise ValueError(
                f"window must be a fraction of the series length in [0, 1], got {window}"
            )
        # Rounding first keeps e.g. 0.07 * 100 = 7.000000000000001 from becoming 8.
        radius = math.ceil(round(float(window) * sz, 9))
    if radius is None:
        return None
    # Any radius of at least the series length is the full window.
    return min(non_negative_int(radius, "radius"), sz)


def numeric_array(x: Any, name: str) -> np.ndarray:
    """``x`` as a numpy array of integers or floats, or a clear error."""
    try:
        array = np.asarray(x)
    except (ValueError, TypeError) as e:  # ragged nested lists
        raise ValueError(f"{name} could not be read as a rectangular array: {e}") from None
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric (real numbers), got dtype {array.dtype}")
    return array


def to_float32(array: np.ndarray, name: str) -> np.ndarray:
    """A C-contiguous float32 copy (or view) of ``array``; values too large are an error."""
    with np.errstate(over="ignore", invalid="ignore"):
        converted = np.ascontiguousarray(array, dtype=np.float32)
    if array.dtype.kind == "f" and array.dtype.itemsize > 4:
        overflow = np.isinf(converted) & np.isfinite(array)
        if overflow.any():
            row, col = np.argwhere(overflow.reshape(len(array), -1))[0]
            value = array.reshape(len(array), -1)[row, col]
            raise ValueError(f"{name}[{row}, {col}] = {value} is too large for float32")
    return converted


def time_steps(array: np.ndarray) -> tuple[np.ndarray, int]:
    """Time series of shape (n_ts, sz, d) (tslearn's layout) as rows (n_ts, sz * d), each
    series time step after time step, and d; other shapes unchanged, with 1."""
    if array.ndim == 3:
        n, sz, d = array.shape
        return array.reshape(n, sz * d), d
    return array, 1


def as_rows_and_channels(x: Any, name: str, metric: str | None = None) -> tuple[np.ndarray, int]:
    """``x`` as a float32 C-contiguous (n, dim) array and the values per time step: rows of
    (n, dim), or time series (n_ts, sz, d) as rows of sz * d values; or a clear error. Under
    ``metric="cosine"`` a row that is not zero but whose every value underflows to zero in
    float32 is an error."""
    array = numeric_array(x, name)
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}): need at least one row and column")
    array, channels = time_steps(array)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D, shape (n, d), or time series (n_ts, sz, d); got "
            f"{array.ndim}-D shape {array.shape}; use reshape(1, -1) for a single vector"
        )
    rows = to_float32(array, name)
    if metric == "cosine" and array.dtype.kind == "f" and array.dtype.itemsize > 4:
        underflow = ~rows.any(axis=1) & (array != 0).any(axis=1)
        if underflow.any():
            row = int(np.flatnonzero(underflow)[0])
            largest = float(np.abs(array[row]).max())
            raise ValueError(
                f"{name}[{row}] is not zero in {array.dtype} (largest |value| {largest:g}) but "
                "every value underflows to 0 in the float32 conversion, and the cosine distance "
                "of a zero vector is undefined: scale the rows up first"
            )
    return rows, channels


def as_rows(x: Any, name: str, metric: str | None = None) -> np.ndarray:
    """``x`` as a float32 C-contiguous (n, d) array, or a clear error, as
    :func:`as_rows_and_channels` checks it; time series of shape (n_ts, sz, d) become rows of
    sz * d values."""
    return as_rows_and_channels(x, name, metric)[0]


def index_rows(
    x: Any, name: str, dim: int, metric: str, channels: int = 1, *, any_length: bool = False
) -> np.ndarray:
    """``x`` as float32 rows of an index's ``dim`` (of any whole number of time steps with
    ``any_length``), from rows or from series of its ``channels``."""
    rows, given = as_rows_and_channels(x, name, metric)
    if given > 1 and given != channels:
        raise ValueError(
            f"{name} has {given} channels per time step, the index's series {channels}"
        )
    if any_length and rows.shape[1] % channels == 0:
        return rows
    if rows.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} values (the index's dim), got {rows.shape[1]}")
    return rows


def as_queries(q: Any, dim: int, metric: str, channels: int = 1) -> tuple[bool, np.ndarray]:
    """(whether q was one query, q as a float32 (m, dim) array for an index under ``metric``):
    one vector (dim,), one series (sz, 1) or (sz, channels), rows (m, dim) or series (m, sz,
    channels). Under DTW a series may have any length."""
    array = numeric_array(q, "q")
    one_series = array.ndim == 2 and array.shape[1] == channels and array.shape[1] != dim
    single = array.ndim == 1 or one_series or (array.ndim == 2 and array.shape[1] == 1 and dim != 1)
    if single:
        array = array.reshape(1, -1)
    return single, index_rows(array, "q", dim, metric, channels, any_length=metric == "dtw")


def as_ids(ids: Any) -> np.ndarray:
    """Point ids (an int or array-like of ints) as a 1-D integer array, none negative."""
    array = np.asarray(ids)
    if array.dtype.kind in "fO" and array.size and not isinstance(ids, np.ndarray):
        # numpy turns Python ints beyond int64 mixed with others into floats: keep them exact.
        values = np.asarray(ids, dtype=object).reshape(-1)
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
            if min(values) < 0:
                raise ValueError(f"ids must not be negative, got {int(min(values))}")
            if max(values) >= 2**64:
                raise ValueError(f"ids must be below 2**64, got {int(max(values))}")
            return values.astype(np.uint64)
    if array.dtype.kind not in "iu" and not (array.dtype.kind == "f" and array.size == 0):
        raise TypeError(f"ids must be integers, got dtype {array.dtype}")
    array = array.reshape(-1)
    if array.size and array.min() < 0:
        raise ValueError(f"ids must not be negative, got {int(array.min())}")
    return array


#: The id no point may have: it marks a missing result in the uint64 ids of an index with
#: labels, as -1 does in the int64 row numbers of one without (the same 64 bits).
NO_ID = 2**64 - 1


def as_labels(ids: Any, n: int, name: str = "ids") -> np.ndarray:
    """``ids`` as the labels of ``n`` new rows: a 1-D uint64 array of ``n`` distinct integers
    from 0 to 2**64 - 2."""
    array = as_ids(ids).astype(np.uint64, copy=False)
    if array.shape != (n,) or np.ndim(ids) != 1:
        raise ValueError(f"{name} must hold one id per row ({n}), got shape {np.shape(ids)}")
    if array.size and array.max() == NO_ID:
        raise ValueError(f"{name} must be below 2**64 - 1, which marks a missing result")
    unique, counts = np.unique(array, return_counts=True)
    if unique.size < array.size:
        raise ValueError(f"{name} must be distinct: {int(unique[counts > 1][0])} repeats")
    return np.ascontiguousarray(array)


def _allow(item: Any, name: str) -> np.ndarray:
    """One allow-list: a boolean mask over the rows, or the ids allowed (any iterable of ints,
    a set or a range included)."""
    if isinstance(item, (set, frozenset, range)):
        item = np.fromiter(item, dtype=np.uint64, count=len(item))
    array = np.asarray(item)
    if array.dtype == np.bool_:
        if array.ndim != 1:
            raise ValueError(f"a {name} mask must be 1-D, got shape {array.shape}")
        return np.ascontiguousarray(array)
    if array.ndim != 1:
        raise ValueError(f"{name} ids must be 1-D, got shape {array.shape}")
    return np.ascontiguousarray(as_ids(array), dtype=np.uint64)


def as_filter(filter: Any, n_queries: int, single: bool) -> tuple[list[np.ndarray] | None, bool]:
    """A search's ``filter`` as the core takes it: ``(None, False)`` for none, ``([allow],
    False)`` for one shared by every query, or ``(allows, True)`` with one per query. A 2-D
    boolean array or a sequence of masks or id lists, one per query, is a per-query filter (a
    batch only); a 1-D mask, an array, set or range of ids, or a list of ints, is shared."""
    name = "filter"
    if filter is None:
        return None, False
    if isinstance(filter, np.ndarray) and filter.ndim == 2 and filter.dtype == np.bool_:
        per_query = list(filter)
    elif isinstance(filter, (list, tuple)) and filter and np.ndim(filter[0]) > 0:
        # A list of lists is one allow-list per query; a list of ints, one shared.
        per_query = list(filter)
    else:
        return [_allow(filter, name)], False
    if single:
        raise ValueError(f"one {name} per query needs a batch of queries; pass one allow-list")
    if len(per_query) != n_queries:
        raise ValueError(f"expected one {name} per query ({n_queries}), got {len(per_query)}")
    return [_allow(item, name) for item in per_query], True


def as_series_rows(x: Any, name: str) -> np.ndarray:
    """Time series, one per row, as floats of their own precision: (n_ts, sz) from (n_ts, sz),
    (n_ts, sz, 1) or one series (sz,). NaN stays (it pads series shorter than the rest)."""
    data = numeric_array(x, name)
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n_ts, sz) or (n_ts, sz, 1) (univariate), got {data.shape}"
        )
    if data.dtype.kind != "f":
        data = data.astype(np.float64)
    return data
