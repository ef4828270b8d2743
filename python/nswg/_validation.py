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

#: The metrics an index ranks by, by their canonical names.
METRICS = ("euclidean", "cosine", "dtw")
#: Other names accepted for them (scikit-learn's and faiss's spellings).
ALIASES = {"l2": "euclidean", "cos": "cosine"}
#: The compressed codes a graph search may walk on: ``None`` (the float32 rows) or ``"sq8"``.
QUANTIZATIONS = (None, "sq8")
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


def as_seed(value: Any) -> int:
    """Any integer as a 64-bit seed (negative ones wrap, as numpy's do not need to)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"seed must be an integer, got {value!r}")
    return int(value) % 2**64


def flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


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


def univariate(array: np.ndarray, name: str) -> np.ndarray:
    """Time series of shape (n, sz, 1) as rows (n, sz); other shapes unchanged."""
    if array.ndim == 3:
        if array.shape[2] != 1:
            raise ValueError(
                f"{name} of shape {array.shape}: only univariate time series (n_ts, sz, 1) "
                "are supported"
            )
        return array[:, :, 0]
    return array


def as_rows(x: Any, name: str) -> np.ndarray:
    """``x`` as a float32 C-contiguous (n, d) array, or a clear error."""
    array = numeric_array(x, name)
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}): need at least one row and column")
    array = univariate(array, name)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D, shape (n, d), got {array.ndim}-D shape {array.shape}; "
            "use reshape(1, -1) for a single vector"
        )
    return to_float32(array, name)


def as_series_rows(x: Any, name: str) -> np.ndarray:
    """Time series, one per row, as floats of their own precision: (n_ts, sz) from (n_ts, sz),
    (n_ts, sz, 1) or one series (sz,). NaN stays (it pads series shorter than the rest)."""
    data = univariate(numeric_array(x, name), name)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n_ts, sz) or (n_ts, sz, 1) (univariate), got {data.shape}"
        )
    if data.dtype.kind != "f":
        data = data.astype(np.float64)
    return data
