"""Distances between single series, for use outside an index."""

from __future__ import annotations

from typing import Any

import numpy as np

from nswg import _core
from nswg._validation import band_radius, numeric_array, to_float32


def dtw(s1: Any, s2: Any, *, radius: int | None = None, window: float | None = None) -> float:
    """Dynamic Time Warping between two univariate series.

    tslearn's definition: the square root of the smallest sum of squared point differences
    along a warping path, here constrained to a Sakoe-Chiba band. Series may differ in length;
    the band is then slanted as tslearn's ``sakoe_chiba_mask`` slants it.

    Parameters
    ----------
    s1, s2 : array-like, shape=(sz,) or (sz, 1)
        The series. Finite values within the range :meth:`nswg.Index.build` accepts under
        DTW for series of the longer length (``ValueError`` beyond it).
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
    """
    a, b = (_as_series(s, name) for s, name in ((s1, "s1"), (s2, "s2")))
    sz = max(len(a), len(b))
    sakoe_chiba_radius = band_radius("dtw", radius, window, sz)
    # The index's bound for series of this length, so that both accept the same series.
    bound = _core.max_magnitude("dtw", sz)
    for series, name in ((a, "s1"), (b, "s2")):
        beyond = np.flatnonzero(np.abs(series) > bound)
        if beyond.size:
            i = int(beyond[0])
            raise ValueError(
                f"{name}[{i}] = {series[i]:g} is beyond the DTW range |x| <= {bound:.4e} for "
                f"series of {sz} values: larger values overflow squared distances in float32"
            )
    return _core.dtw(a, b, sakoe_chiba_radius=sakoe_chiba_radius)


def _as_series(s: Any, name: str) -> np.ndarray:
    array = numeric_array(s, name)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D series, got shape {array.shape}")
    series: np.ndarray = to_float32(array.reshape(1, -1), name)[0]
    if not np.isfinite(series).all():
        raise ValueError(f"{name} holds NaN or inf")
    return series
