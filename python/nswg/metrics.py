"""Distances between single series, for use outside an index."""

from __future__ import annotations

from typing import Any

import numpy as np

from nswg import _core
from nswg._validation import band_radius, numeric_array, to_float32

__all__ = ["dtw", "recall_at_k"]


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
        values within the range :meth:`nswg.Index.build` accepts under DTW for series of the
        longer length (``ValueError`` beyond it).
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
    sz = max(len(a), len(b))
    sakoe_chiba_radius = band_radius("dtw", radius, window, sz)
    # The index's bound for series of this many values, so that both accept the same series.
    bound = _core.max_magnitude("dtw", sz * a.shape[1])
    for series, name in ((a, "s1"), (b, "s2")):
        beyond = np.argwhere(np.abs(series) > bound)
        if beyond.size:
            i = tuple(int(x) for x in beyond[0])
            where = i[0] if series.shape[1] == 1 else i
            raise ValueError(
                f"{name}[{where}] = {series[i]:g} is beyond the DTW range |x| <= {bound:.4e} for "
                f"series of {sz} time steps: larger values overflow squared distances in float32"
            )
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


def recall_at_k(found_distances: Any, true_distances: Any, *, rtol: float = 1e-5) -> float:
    """Recall@k counted by distance, so that ties do not count against anyone.

    A found result is correct when its distance is at most the k-th true distance (within
    ``rtol`` of it, as distances computed by different code may differ in the last bits): on
    data with copies or equal distances, any of the tied points is a right answer, where a
    comparison of ids would count a tied point missing from the true list as a miss.

    Parameters
    ----------
    found_distances : array-like, shape=(k,) or (n_queries, k)
        Distances of the found results to their query, as the index's metric gives them; a
        missing result is ``inf``.
    true_distances : array-like, same shape
        Distances of the true k nearest, from exact search, nearest first.
    rtol : float, default=1e-5
        Relative tolerance at the k-th distance.

    Returns
    -------
    float
        Mean over queries of the fraction of the k results that are correct.

    Examples
    --------
    >>> from nswg.metrics import recall_at_k
    >>> recall_at_k([[0.0, 1.0, 2.0]], [[0.0, 1.0, 1.0]])   # the third is beyond the 3rd
    0.6666666666666666
    >>> recall_at_k([0.0, 1.0], [0.0, 1.0])                 # another point at distance 1
    1.0
    """
    found = np.atleast_2d(np.asarray(found_distances, dtype=np.float64))
    truth = np.atleast_2d(np.asarray(true_distances, dtype=np.float64))
    if found.shape != truth.shape or found.size == 0:
        raise ValueError(
            f"found_distances and true_distances must have one non-empty shape, got "
            f"{found.shape} and {truth.shape}"
        )
    if np.isnan(found).any() or np.isnan(truth).any():
        raise ValueError("distances must not be NaN")
    kth = truth[:, -1:]
    return float(np.mean(found <= kth + rtol * np.abs(kth)))
