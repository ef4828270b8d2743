"""Distances between single series, for use outside an index."""

from __future__ import annotations

from typing import Any

import numpy as np

from nswg import _core
from nswg._validation import band_radius, numeric_array, to_float32


def dtw(s1: Any, s2: Any, *, radius: int | None = None, window: float | None = None) -> float:
    """Dynamic Time Warping between two series, univariate or multivariate.

    tslearn's definition: the square root of the smallest sum, along a warping path, of the
    squared Euclidean distances between the matched time steps (their d-vectors: dependent
    DTW), here constrained to a Sakoe-Chiba band. Series may differ in length; the band is then
    slanted as tslearn's ``sakoe_chiba_mask`` slants it.

    Parameters
    ----------
    s1, s2 : array-like, shape=(sz,) or (sz, d)
        The series, with the same number ``d`` of channels (lengths may differ). Finite
        values only.
    radius : int, optional
        Sakoe-Chiba radius in points. Radius 0 on equal lengths is the Euclidean distance.
    window : float, optional
        The band as a fraction of the longer series' length: ``radius = ceil(window * sz)``.
        With neither, the full window.

    Returns
    -------
    float

    Examples
    --------
    >>> from nswg.metrics import dtw
    >>> dtw([1, 2, 3], [1.0, 2.0, 2.0, 3.0])
    0.0
    >>> dtw([1, 2, 3], [1.0, 2.0, 2.0, 3.0, 4.0])
    1.0
    >>> dtw([1, 2, 3], [3, 2, 1], radius=0) == float(np.linalg.norm([2, 0, -2]))
    True
    >>> dtw([[0, 0], [1, 1]], [[0, 0], [0, 0], [1, 1]])
    0.0
    """
    a, b = (_as_series(s, name) for s, name in ((s1, "s1"), (s2, "s2")))
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"s1 and s2 must have the same number of channels, got {a.shape[1]} and {b.shape[1]}"
        )
    sakoe_chiba_radius = band_radius("dtw", radius, window, max(len(a), len(b)))
    channels = a.shape[1]
    return _core.dtw(a.ravel(), b.ravel(), channels=channels, sakoe_chiba_radius=sakoe_chiba_radius)


def _as_series(s: Any, name: str) -> np.ndarray:
    """``s`` as a float32 (sz, d) array: d channels per time step, 1 for a 1-D series."""
    array = numeric_array(s, name)
    if array.ndim not in (1, 2) or array.size == 0:
        raise ValueError(
            f"{name} must be a non-empty series of shape (sz,) or (sz, d), got {array.shape}"
        )
    if array.ndim == 1:
        array = array[:, None]
    series: np.ndarray = to_float32(array, name)
    if not np.isfinite(series).all():
        raise ValueError(f"{name} holds NaN or inf")
    return series
