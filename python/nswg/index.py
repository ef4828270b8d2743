"""The public index: input checks and conversion around the compiled core."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from nswg import _core
from nswg._validation import (
    METRICS,
    NO_ID,
    QUANTIZATIONS,
    as_filter,
    as_ids,
    as_labels,
    as_queries,
    as_rows_and_channels,
    as_seed,
    band_radius,
    distance_radius,
    flag,
    graph_shape,
    index_rows,
    metric_name,
    positive_int,
    quantization_name,
    thread_count,
)
from nswg.errors import IndexFileError

__all__ = [
    "METRICS",
    "NO_ID",
    "QUANTIZATIONS",
    "GraphStats",
    "Index",
    "IndexFileError",
    "RangeResult",
    "SearchResult",
]

#: Default beam width of the graph search (the result store keeps ``max(k, ef)`` points).
DEFAULT_EF = 48
#: Default number of restarts of the graph search.
DEFAULT_N_SEARCHES = 2

IntOrArray = Union[int, np.ndarray]
#: How a long call reports progress: None (a bar when it matters), False, True, or a callable
#: ``progress(done, total)``.
Progress = Union[bool, None, Callable[[int, int], object]]

#: With ``progress=None``, calls that link more points than this show a progress bar ...
PROGRESS_MIN_POINTS = 50_000
#: ... as do calls whose points times the values one distance compares exceed this (long
#: series under DTW with a wide band build slowly however few they are).
PROGRESS_MIN_WORK = 50_000_000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchResult:
    """Answer of :meth:`Index.search`.

    Unpacks as ``ids, distances = index.search(...)``.

    Attributes
    ----------
    ids : numpy.ndarray of int64 or uint64, shape=(k,) or (n_queries, k)
        Ids of the nearest points, nearest first: int64 row numbers of the indexed vectors
        (``-1`` where fewer than ``k`` points are returnable), or on an index built with
        ``ids``, their uint64 labels (:data:`nswg.NO_ID`, ``2**64 - 1``, where missing).
    distances : numpy.ndarray of float32, same shape as ``ids``
        Their distances to the query, in the index's metric.
    n_distance_computations : int or numpy.ndarray of int64, shape=(n_queries,)
        Exact distances computed to answer each query: the cost that accuracy is weighed
        against. Under DTW, computations started (some are abandoned early once they cannot
        win). On a quantized index, the re-ranking of the ``max(k, ef)`` points found.
    n_lower_bound_computations : int or numpy.ndarray of int64, shape=(n_queries,)
        LB_Keogh lower bounds computed to skip DTW computations (0 for other metrics). Each
        costs about as much as one Euclidean distance.
    n_dtw_cells : int or numpy.ndarray of int64, shape=(n_queries,)
        Cells of DTW cost matrices computed for each query, pruned and abandoned computations
        included (0 for other metrics): the work DTW did.
    n_code_distance_computations : int or numpy.ndarray of int64, shape=(n_queries,)
        Distances estimated from compressed codes while walking the graph of an index built
        with ``quantization`` (0 otherwise, and for exact searches, which never read codes).

    Examples
    --------
    >>> import numpy as np
    >>> from nswg import Index
    >>> index = Index.build(np.arange(8.0).reshape(4, 2))
    >>> res = index.search([[0.0, 1.0], [6.0, 7.0]], k=2, exact=True)
    >>> res.ids.tolist(), res.n_distance_computations.tolist()
    ([[0, 1], [3, 2]], [4, 4])
    >>> ids, distances = res
    """

    ids: np.ndarray
    distances: np.ndarray
    n_distance_computations: IntOrArray
    n_lower_bound_computations: IntOrArray = 0
    n_dtw_cells: IntOrArray = 0
    n_code_distance_computations: IntOrArray = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.ids, self.distances))


@dataclass(frozen=True)
class RangeResult:
    """Answer of :meth:`Index.search_radius`: every point within the radius of each query.

    Unpacks as ``ids, distances = index.search_radius(...)``. Queries find different numbers
    of points, so a batch's answers are lists with one array per query.

    Attributes
    ----------
    ids : numpy.ndarray of int64, shape=(n_found,), or a list of them, one per query
        Ids of the points within the radius, ordered by (distance, id): nearest first, ties by
        id.
    distances : numpy.ndarray of float32, or a list of them, as ``ids``
        Their distances to the query, each at most the radius.
    n_distance_computations : int or numpy.ndarray of int64, shape=(n_queries,)
        Exact distances computed for each query, as in :class:`SearchResult`; a graph search
        that widened its beam counts every round.
    n_lower_bound_computations : int or numpy.ndarray of int64, shape=(n_queries,)
        As in :class:`SearchResult`.
    n_dtw_cells : int or numpy.ndarray of int64, shape=(n_queries,)
        As in :class:`SearchResult`.
    n_code_distance_computations : int or numpy.ndarray of int64, shape=(n_queries,)
        As in :class:`SearchResult`.

    Examples
    --------
    >>> from nswg import Index
    >>> index = Index.build([[0.0], [1.0], [2.0], [5.0]])
    >>> res = index.search_radius([[0.5], [4.0]], radius=1.5, exact=True)
    >>> [ids.tolist() for ids in res.ids]
    [[0, 1, 2], [3]]
    >>> ids, distances = index.search_radius([0.5], radius=1.0, exact=True)
    >>> ids.tolist(), distances.tolist()
    ([0, 1], [0.5, 0.5])
    """

    ids: np.ndarray | list[np.ndarray]
    distances: np.ndarray | list[np.ndarray]
    n_distance_computations: IntOrArray
    n_lower_bound_computations: IntOrArray = 0
    n_dtw_cells: IntOrArray = 0
    n_code_distance_computations: IntOrArray = 0

    def __iter__(self) -> Iterator[np.ndarray | list[np.ndarray]]:
        return iter((self.ids, self.distances))


@dataclass(frozen=True)
class GraphStats:
    """Answer of :meth:`Index.stats`: what it takes to diagnose a graph.

    Attributes
    ----------
    n_nodes : int
        Nodes of the graph: every id given out, removed points included (searches walk
        through them), except exact copies.
    n_copies : int
        Points whose row is an exact copy of an earlier point's: they are not nodes. A search
        that reaches the first point of such a group returns its copies beside it, at the same
        distance and without computing it again.
    min_degree, max_degree : int
        Shortest and longest neighbour list.
    mean_degree : float
        Mean length of the neighbour lists.
    n_unreached : int
        Nodes in no other node's list (in-degree 0): a search finds them only by starting
        there. More than a handful means the neighbour selection cut them off.
    n_components : int
        Groups of mutually reachable nodes (strongly connected components); 1 when every node
        can reach every other.
    build_distance_computations : int
        Distances computed to build the graph and add to it.
    build_distance_computations_per_point : float
        The same per point.

    Examples
    --------
    >>> import numpy as np
    >>> from nswg import Index
    >>> stats = Index.build(np.random.default_rng(0).normal(size=(500, 8))).stats()
    >>> stats.n_nodes, stats.n_unreached, stats.n_components
    (500, 0, 1)
    """

    n_nodes: int
    n_copies: int
    min_degree: int
    max_degree: int
    mean_degree: float
    n_unreached: int
    n_components: int
    build_distance_computations: int
    build_distance_computations_per_point: float


class Index:
    """A navigable small world graph over a set of vectors or time series.

    Build one with :meth:`Index.build`; do not call the constructor.

    Examples
    --------
    >>> import numpy as np
    >>> from nswg import Index
    >>> X = np.random.default_rng(0).normal(size=(500, 8))
    >>> index = Index.build(X, metric="euclidean", seed=0)
    >>> len(index), index.dim, index.metric
    (500, 8, 'euclidean')
    >>> res = index.search(X[:5], k=1)
    >>> res.ids.ravel().tolist()
    [0, 1, 2, 3, 4]
    """

    def __init__(self, core: _core.Index) -> None:
        if not isinstance(core, _core.Index):
            raise TypeError("use Index.build(vectors, ...) to create an index")
        self._core = core

    @classmethod
    def build(
        cls,
        vectors: Any,
        metric: str = "euclidean",
        *,
        ids: Any = None,
        radius: int | None = None,
        window: float | None = None,
        quantization: str | None = None,
        n_neighbors: int = 16,
        max_degree: int | None = None,
        ef_construction: int = 100,
        n_searches: int = 2,
        seed: int = 0,
        graph: bool = True,
        n_threads: int = 0,
        progress: Progress = None,
    ) -> Index:
        """Build an index over the rows of ``vectors``.

        Points are inserted one by one, each linked in both directions to neighbours chosen
        among the nearest points that a restarted greedy search finds in the graph built so far
        (Malkov et al., 2014). With ``graph=False`` they are not linked: the index answers exact
        searches only, and costs no distance computation to build.

        Parameters
        ----------
        vectors : array-like, shape=(n, d) or (n_ts, sz, d)
            Numeric data, converted once to float32. tslearn's time-series datasets of shape
            (n_ts, sz, d) are accepted as they are: each series becomes a row of ``sz * d``
            values, time step after time step, and under ``metric="dtw"`` the index keeps ``d``
            as :attr:`channels` (multivariate, dependent DTW: the cost of matching two time steps
            is the squared Euclidean distance between their d-vectors, tslearn's definition).
            Under ``metric="dtw"`` a series may end in NaN padding (variable-length data, as in
            the UCR archive; whole time steps of NaN for multivariate series): it is compared at
            its true length. Distances are ranked by their squares in float32, so values must
            keep those finite: under Euclidean ``|x| <= sqrt(f32_max / (8 * d))``, under DTW
            ``|x| <= sqrt(f32_max / (8 * (2 * d - 1)))`` (a path has at most ``2 * d - 1``
            cells), which keeps every sum of squared differences below half of float32's
            largest value: about ``4.6e18`` for ``d = 2`` and ``2.1e17`` for ``d = 1000``
            under Euclidean (``nswg._core.max_magnitude(metric, d)`` gives it). Larger values
            are refused with ``ValueError``, here, in :meth:`add` and in :meth:`search`;
            cosine normalises the vectors first and takes any finite value. At the other end,
            differences below about ``4e-23`` square to zero in float32 (below ``1e-19`` they
            lose precision), so points that close tie: scale such data up.
        metric : {"euclidean", "cosine", "dtw"}, default="euclidean"
            ``"cosine"`` is ``1 - cos``: vectors are normalised once, then ranked by Euclidean
            distance. ``"dtw"`` is Dynamic Time Warping with squared point cost, reported as the
            square root of the path sum (tslearn's definition).
        ids : array-like of int, shape=(n,), optional
            Labels of the points: distinct integers from 0 to ``2**64 - 2``, one per row. Every
            result returns them (uint64) instead of row numbers, every call taking ids takes
            them (:meth:`remove`, :meth:`get_vectors`, a search's ``filter``), and they stay
            with their points through :meth:`compact`, :meth:`save` / :meth:`load` and pickle;
            :meth:`add` then needs the ids of the new rows. By default a point's id is its row
            number (int64), which :meth:`compact` renumbers.
        radius : int, optional
            Sakoe-Chiba radius in points, for ``metric="dtw"``. Radius 0 on equal lengths is the
            Euclidean distance; a wider band finds better alignments at a cost linear in it.
            With neither ``radius`` nor ``window``, the full window is used.
        window : float, optional
            The band as a fraction of the series length ``sz`` (the UCR archive's convention):
            ``radius = ceil(window * sz)``. Give ``radius`` or ``window``, not both.
        quantization : {None, "sq8", "rabitq4"}, default=None
            The compressed code graph searches walk on (:data:`nswg.QUANTIZATIONS`). ``None``
            compares the float32 rows. ``"sq8"`` keeps one byte per value beside them (from
            each dimension's minimum in one step for all, the widest range over 255, trained on
            the rows given here; rows added later, and queries, are encoded with those ranges,
            values outside them clamped). ``"rabitq4"`` keeps half a byte per value and 8 bytes
            per row: each row, centred on the mean of the rows given here and rotated at random
            (from ``seed``), as its length and its direction on a grid of 16 levels per value,
            with RaBitQ's estimator (Gao & Long, 2024); about half the memory of ``"sq8"``, with
            coarser estimates, so it needs a larger ``ef`` for the same recall. Either way the
            graph walk estimates distances from the codes in integer arithmetic, then re-ranks
            the ``max(k, ef)`` points found with exact distances, so the distances returned are
            exact. The graph is built on the float32 rows, and exact searches never read the
            codes. Euclidean and cosine only.
        n_neighbors : int, default=16
            Neighbours linked to each inserted point, from 2 (with one, the graph falls apart
            into chains that a greedy search cannot navigate) to 4096. More give better recall
            per distance computation on hard data, at the cost of build time and memory.
        max_degree : int, optional
            Cap on a node's degree, from ``n_neighbors`` to 4096 (default ``2 * n_neighbors``,
            at most 4096); longer lists are pruned so that their links point in different
            directions.
        ef_construction : int, default=100
            Size of the result store of the searches that find a new point's neighbours. Larger
            builds a better graph, more slowly.
        n_searches : int, default=2
            Restarts of those searches.
        seed : int, default=0
            Seeds the construction and the searches' entry points. The graph depends on the
            data, the parameters and the seed only, not on ``n_threads``.
        graph : bool, default=True
            Link the points into a graph. ``False`` builds an index for ``exact=True`` searches
            only (brute force never reads the links), for instance to classify a few queries
            exactly; a graph search of it raises ``ValueError``. ``n_neighbors``,
            ``max_degree``, ``ef_construction`` and ``n_searches`` are then not used.
        n_threads : int, default=0
            Threads for the build; 0 uses one per core. At most 8 per core.
        progress : bool or callable, optional
            A progress bar (tqdm, on stderr): by default only on a terminal and for a build
            that takes a while (more than 50,000 points, or long series under DTW); ``True``
            always, ``False`` never. A callable is called instead as ``progress(done, total)``
            with the points linked so far, about every 50 ms and once at the end.

        Returns
        -------
        Index

        Notes
        -----
        Ctrl-C stops a build within a fraction of a second with ``KeyboardInterrupt``; the
        process stays usable. So does an exception raised by a ``progress`` callable.

        Examples
        --------
        >>> import numpy as np
        >>> from nswg import Index
        >>> series = np.cumsum(np.random.default_rng(0).normal(size=(300, 50)), axis=1)
        >>> counts = []
        >>> def report(done, total):
        ...     counts.append((done, total))
        >>> index = Index.build(series, metric="dtw", window=0.1, progress=report)
        >>> index.radius, counts[-1]
        (5, (300, 300))

        Without a graph, for exact search only:

        >>> exact_only = Index.build(series, metric="dtw", window=0.1, graph=False)
        >>> exact_only
        nswg.Index(n=300, dim=50, metric='dtw', radius=5, graph=False)
        >>> exact_only.build_distance_computations
        0
        >>> a = exact_only.search(series[:3], k=2, exact=True).ids
        >>> b = index.search(series[:3], k=2, exact=True).ids
        >>> bool((a == b).all())
        True

        Walking the graph on 8-bit codes: the ``max(k, ef)`` points found are re-ranked with
        exact distances, the only ones ``n_distance_computations`` counts:

        >>> vectors = np.random.default_rng(1).normal(size=(2000, 32))
        >>> coded = Index.build(vectors, "cosine", quantization="sq8")
        >>> res = coded.search(vectors[:2], k=3)
        >>> res.ids[:, 0].tolist(), res.n_distance_computations.tolist()
        ([0, 1], [48, 48])
        >>> bool((res.n_code_distance_computations > 48).all())
        True

        Raises
        ------
        ValueError
            Empty or ragged input, NaN or inf (other than trailing padding under DTW), a value
            beyond the metric's range above, a zero vector under cosine (or a float64 one that
            underflows to zero in float32), an unknown metric or quantization, quantization under
            DTW, a bad band or parameter.
        TypeError
            Non-numeric input, or a parameter of the wrong type (``graph`` is True or False).
        """
        metric = metric_name(metric)
        quantization = quantization_name(quantization, metric)
        data, channels = as_rows_and_channels(vectors, "vectors", metric)
        if metric != "dtw":
            channels = 1  # the rows are compared whole
        sz = data.shape[1] // channels
        sakoe_chiba_radius = band_radius(metric, radius, window, sz)
        shape: tuple[int, int] | None = graph_shape(n_neighbors, max_degree)
        if not flag(graph, "graph"):
            shape, progress = None, False  # nothing is linked, so there is no progress to show
        work = channels * _distance_work(sz, sakoe_chiba_radius if metric == "dtw" else 0)
        labels = None if ids is None else as_labels(ids, len(data))
        start = time.perf_counter()
        with _reporter(progress, len(data), work, "building") as report:
            core = _core.Index.build(
                data,
                ids=labels,
                metric=metric,
                sakoe_chiba_radius=sakoe_chiba_radius,
                channels=channels,
                quantization=quantization,
                graph=shape,
                ef_construction=positive_int(ef_construction, "ef_construction"),
                n_searches=positive_int(n_searches, "n_searches"),
                seed=as_seed(seed),
                n_threads=thread_count(n_threads),
                progress=report,
            )
        index = cls(core)
        log.debug("built %r in %.2f s", index, time.perf_counter() - start)
        return index

    def search(
        self,
        q: Any,
        k: int = 10,
        *,
        ef: int | None = None,
        n_searches: int = DEFAULT_N_SEARCHES,
        exact: bool = False,
        filter: Any = None,
        n_threads: int = 0,
    ) -> SearchResult:
        """Find the ``k`` nearest points to each query.

        Parameters
        ----------
        q : array-like, shape=(d,), (n_queries, d), (sz, channels) or (n_queries, sz, channels)
            One query or a batch. A batch is searched in parallel with the GIL released.
            Under DTW a query series may be longer or shorter than the indexed ones (it may
            end in NaN padding as they may).
        k : int, default=10
            Number of neighbours, from 1 to ``len(index)``.
        ef : int, optional
            Beam width: the search keeps the ``max(k, ef)`` nearest points found so far and
            stops a restart when its best candidate is farther than all of them. Larger is more
            accurate and costs more distance computations. Default ``max(k, 48)``. Copies of
            a point (see :meth:`stats`) count once: they join their point in the answer.
        n_searches : int, default=2
            Restarts, sharing one visited set: the first enters at one of the 16 points
            inserted first (linked while the graph was sparse, their links reach far), the
            others at random points. More restarts escape local minima at the cost of more
            distance computations.
        exact : bool, default=False
            Compare with every point instead (brute force): the oracle and the baseline. The
            only search of an index built with ``graph=False``. True or False only.
        filter : array-like, set or sequence, optional
            Return only these points: the ids allowed (an array, list, set or range of ids), or
            a boolean mask of :attr:`n_ids` flags, one per row (in the order of
            :attr:`labels`); for a batch also one of those per query (a list of them, or a 2-D
            boolean array of shape (n_queries, n_ids)). The graph search walks through the
            points left out but never returns them. When so few are allowed that the graph
            search computes more distances than an exact scan of the allowed points would, it
            stops there and that scan answers: roughly once the allowed fraction falls below
            ``sqrt(c * max(k, ef) / len(index))``, where ``c`` is the distances a search
            spends per point kept (10 to 30 on word vectors); the ``n_distance_computations``
            returned count both. Fewer allowed points than ``k`` leave the rest of the
            answer missing (id ``-1``, or :data:`nswg.NO_ID` with labels, at distance inf).
        n_threads : int, default=0
            Threads for a batch; 0 uses one per core. At most 8 per core.

        Returns
        -------
        SearchResult
            ``ids`` (int64 row numbers, or uint64 labels on an index built with ``ids``) and
            ``distances`` (float32) of shape (k,) for one query or (n_queries, k) for a batch,
            nearest first, and ``n_distance_computations``.

        Examples
        --------
        >>> import numpy as np
        >>> from nswg import Index
        >>> index = Index.build(np.arange(10.0).reshape(5, 2))
        >>> ids, distances = index.search([2.1, 3.1], k=2)
        >>> ids.tolist(), [round(float(d), 3) for d in distances]
        ([1, 2], [0.141, 2.687])
        """
        single, queries = as_queries(q, self.dim, self.metric, self.channels)
        k = positive_int(k, "k")
        if k > len(self):
            raise ValueError(f"k must be between 1 and the number of points ({len(self)}), got {k}")
        ef = max(k, DEFAULT_EF) if ef is None else positive_int(ef, "ef")
        allows, per_query = as_filter(filter, len(queries), single)
        ids, distances, *work = self._core.search(
            queries,
            k=k,
            ef=ef,
            n_searches=positive_int(n_searches, "n_searches"),
            exact=flag(exact, "exact"),
            n_threads=thread_count(n_threads),
            filter=allows,
            filter_per_query=per_query,
        )
        ids = self._ids(ids)
        counts, bounds, cells, codes = (c.astype(np.int64) for c in work)
        if single:
            return SearchResult(
                ids[0], distances[0], int(counts[0]), int(bounds[0]), int(cells[0]), int(codes[0])
            )
        return SearchResult(ids, distances, counts, bounds, cells, codes)

    def search_radius(
        self,
        q: Any,
        radius: float,
        *,
        max_results: int | None = None,
        exact: bool = False,
        ef: int | None = None,
        n_searches: int = DEFAULT_N_SEARCHES,
        filter: Any = None,
        n_threads: int = 0,
    ) -> RangeResult:
        """Find every point within ``radius`` of each query.

        The exact search compares every point with the query, each distance computed with the
        radius as its bound (so under DTW the cascade of LB_Kim, LB_Keogh and early abandoning
        prunes most of them). The graph search runs :meth:`search` with a beam of ``ef``
        points and, while every point it keeps is within the radius (so more may be), again
        with a beam twice as wide, up to the whole index: it may miss points in a region the
        walk never reached, as a k-NN search may.

        Parameters
        ----------
        q : array-like
            One query or a batch, as in :meth:`search`.
        radius : float
            The largest distance returned, in the index's metric (``1 - cos`` under cosine),
            compared with the float32 distances returned: a point is returned exactly when its
            reported distance is at most ``radius`` rounded to float32.
        max_results : int, optional
            Return only the nearest this many within the radius; default all.
        exact : bool, default=False
            Scan every point instead of walking the graph. True or False only.
        ef : int, optional
            First beam width of the graph search; default ``max(max_results, 48)``.
        n_searches : int, default=2
            Restarts of each graph search, as in :meth:`search`.
        filter : array-like, set or sequence, optional
            Return only these points, as in :meth:`search`.
        n_threads : int, default=0
            Threads for a batch; 0 uses one per core.

        Returns
        -------
        RangeResult
            ``ids`` and ``distances`` ordered by (distance, id): 1-D arrays for one query, lists
            of them for a batch; and the counts of the work done.

        Raises
        ------
        ValueError
            A negative, NaN or infinite radius, ``max_results`` or ``ef`` below 1, a graph
            search of an index without a graph, or a bad query (as in :meth:`search`).

        Examples
        --------
        >>> import numpy as np
        >>> from nswg import Index
        >>> X = np.random.default_rng(0).normal(size=(1000, 3))
        >>> index = Index.build(X)
        >>> res = index.search_radius(X[:2], radius=0.3, exact=True)
        >>> truth = [np.flatnonzero(np.linalg.norm(X - x, axis=1) <= 0.3) for x in X[:2]]
        >>> [sorted(ids.tolist()) == t.tolist() for ids, t in zip(res.ids, truth)]
        [True, True]
        >>> graph = index.search_radius(X[:2], radius=0.3)
        >>> [sorted(ids.tolist()) == t.tolist() for ids, t in zip(graph.ids, truth)]
        [True, True]
        """
        single, queries = as_queries(q, self.dim, self.metric, self.channels)
        radius = distance_radius(radius)
        cap = None if max_results is None else positive_int(max_results, "max_results")
        ef = max(cap or 0, DEFAULT_EF) if ef is None else positive_int(ef, "ef")
        allows, per_query = as_filter(filter, len(queries), single)
        offsets, ids, distances, *work = self._core.search_radius(
            queries,
            radius=radius,
            max_results=cap,
            ef=ef,
            n_searches=positive_int(n_searches, "n_searches"),
            exact=flag(exact, "exact"),
            n_threads=thread_count(n_threads),
            filter=allows,
            filter_per_query=per_query,
        )
        ids = self._ids(ids)
        counts, bounds, cells, codes = (c.astype(np.int64) for c in work)
        splits = offsets[1:-1].astype(np.intp)
        if single:
            return RangeResult(
                ids, distances, int(counts[0]), int(bounds[0]), int(cells[0]), int(codes[0])
            )
        return RangeResult(
            np.split(ids, splits),
            np.split(distances, splits),
            counts,
            bounds,
            cells,
            codes,
        )

    def add(
        self, vectors: Any, *, ids: Any = None, n_threads: int = 0, progress: Progress = None
    ) -> np.ndarray:
        """Insert more points into the built graph.

        NSW construction is incremental: each new point is linked to the nearest points a search
        of the graph finds, exactly as at build time, so the new points are found as well as the
        others.

        Parameters
        ----------
        vectors : array-like, shape=(m, d) or (m, sz, 1)
            The new points, checked and converted as in :meth:`build`.
        ids : array-like of int, shape=(m,), optional
            Labels of the new points, as in :meth:`build`: required on an index built with
            ``ids``, distinct from every id in use (a removed point keeps its id until
            :meth:`compact`). Given to an index without labels, its points keep their row
            numbers as labels and results become uint64 labels from then on.
        n_threads : int, default=0
            Threads; 0 uses one per core.
        progress : bool or callable, optional
            As in :meth:`build`, counting the new points.

        Returns
        -------
        numpy.ndarray of int64 or uint64, shape=(m,)
            Ids of the new points: their labels, or row numbers continuing from the last one
            given out.

        Raises
        ------
        ReadOnlyIndexError
            The index is memory-mapped (``Index.load(path, mmap=True)``).

        Notes
        -----
        Ctrl-C stops it with ``KeyboardInterrupt`` and leaves the index exactly as it was.

        Examples
        --------
        >>> import numpy as np
        >>> from nswg import Index
        >>> index = Index.build(np.eye(3))
        >>> index.add([[2.0, 2.0, 2.0]]).tolist()
        [3]
        >>> int(index.search([2.0, 2.0, 1.9], k=1).ids[0])
        3
        """
        data = index_rows(vectors, "vectors", self.dim, self.metric, self.channels)
        labels = None if ids is None else as_labels(ids, len(data))
        threads = thread_count(n_threads)
        with _reporter(progress, len(data), self._distance_work(), "adding") as report:
            first = self._core.add(data, ids=labels, n_threads=threads, progress=report)
        if labels is not None:
            return labels
        return np.arange(first, first + len(data), dtype=np.int64)

    def remove(self, ids: Any) -> None:
        """Remove points: they are never returned again.

        Removed points stay in the graph as waypoints, so the remaining points are found as well
        as before; their memory is freed by :meth:`compact`. All ids are checked before any is
        removed, so an error removes nothing.

        Parameters
        ----------
        ids : int or array-like of int
            Ids of points to remove (their labels on an index built with ``ids``), each at most
            once, none removed before.

        Raises
        ------
        ValueError
            An id unknown, repeated or already removed, or removing every point.
        ReadOnlyIndexError
            The index is memory-mapped (``Index.load(path, mmap=True)``).

        Examples
        --------
        >>> import numpy as np
        >>> from nswg import Index
        >>> index = Index.build(np.arange(10.0).reshape(5, 2))
        >>> index.remove([0, 1])
        >>> len(index), index.n_ids
        (3, 5)
        >>> index.search([0.0, 0.0], k=1).ids.tolist()
        [2]
        """
        self._core.remove(np.ascontiguousarray(as_ids(ids), dtype=np.uint64))

    def compact(self, *, n_threads: int = 0, progress: Progress = None) -> np.ndarray:
        """Rebuild the index without its removed points, freeing their memory.

        Row numbers change: the points kept are renumbered from 0 in their old order, and an
        index without labels gives them as the new ids; labels stay with their points. Ctrl-C
        stops it with ``KeyboardInterrupt`` and leaves the index as it was.

        Parameters
        ----------
        n_threads : int, default=0
            Threads; 0 uses one per core.
        progress : bool or callable, optional
            As in :meth:`build`.

        Returns
        -------
        numpy.ndarray of int64 or uint64
            The id each new row had: its old row number (int64), or its label (uint64), which
            it keeps.

        Raises
        ------
        ReadOnlyIndexError
            The index is memory-mapped (``Index.load(path, mmap=True)``).

        Examples
        --------
        >>> import numpy as np
        >>> from nswg import Index
        >>> index = Index.build(np.arange(12.0).reshape(6, 2))
        >>> index.remove([0, 2])
        >>> index.compact().tolist()
        [1, 3, 4, 5]
        >>> len(index), index.n_ids
        (4, 4)
        """
        threads = thread_count(n_threads)
        with _reporter(progress, len(self), self._distance_work(), "compacting") as report:
            old = self._core.compact(n_threads=threads, progress=report)
        return self._ids(old)

    def get_vectors(self, ids: Any) -> np.ndarray:
        """The stored vectors of points, copied.

        They are the rows as the index keeps them: float32; under ``metric="cosine"``
        normalised to unit length (the index ranks by the Euclidean distance between unit
        vectors); under ``metric="dtw"`` series of ``dim`` values, time step after time step,
        a shorter series with its trailing NaN padding.

        Parameters
        ----------
        ids : int or array-like of int
            Ids of points not removed (labels on an index built with ``ids``); an id may
            repeat.

        Returns
        -------
        numpy.ndarray of float32, shape=(dim,) for one int id, else (len(ids), dim)

        Raises
        ------
        ValueError
            An id unknown, negative or removed.
        TypeError
            Ids that are not integers.

        Examples
        --------
        >>> import numpy as np
        >>> from nswg import Index
        >>> index = Index.build([[3.0, 4.0], [0.0, 2.0]], metric="cosine")
        >>> index.get_vectors([1, 0]).tolist()
        [[0.0, 1.0], [0.6000000238418579, 0.800000011920929]]
        >>> index.get_vectors(1).tolist()
        [0.0, 1.0]
        """
        single = np.ndim(ids) == 0
        rows = self._core.get_vectors(np.ascontiguousarray(as_ids(ids), dtype=np.uint64))
        return rows[0] if single else rows

    @property
    def vectors(self) -> np.ndarray:
        """All the stored vectors, a read-only view of the index's own memory (no copy).

        Shape (:attr:`n_ids`, :attr:`dim`), float32, row ``i`` the point of id ``i``, as
        :meth:`get_vectors` returns them (normalised under cosine, NaN-padded series under
        DTW); the rows of removed points stay until :meth:`compact`. The array keeps the index
        alive. Since :meth:`add` and :meth:`compact` may move the rows, they raise
        ``BufferError`` while such an array (or a view of it) exists, as a ``bytearray`` does
        when resized under a ``memoryview``: delete it first, or take a copy with
        ``numpy.array(index.vectors)``. :meth:`remove`, searches, :meth:`save` and pickling
        are unaffected.

        Examples
        --------
        >>> import numpy as np
        >>> from nswg import Index
        >>> index = Index.build(np.eye(3))
        >>> rows = index.vectors
        >>> rows.shape, rows.flags.writeable, rows.flags.owndata
        ((3, 3), False, False)
        >>> index.add([[1.0, 1.0, 1.0]])
        Traceback (most recent call last):
            ...
        BufferError: 1 view(s) of Index.vectors are alive and this call may move the rows: ...
        >>> del rows
        >>> index.add([[1.0, 1.0, 1.0]]).tolist()
        [3]
        """
        return self._core.vectors()

    @property
    def labels(self) -> np.ndarray:
        """The id of each row, removed rows included: uint64 labels on an index built with
        ``ids``, else the row numbers ``0 .. n_ids - 1`` (int64). A boolean ``filter`` flags
        the rows in this order."""
        labels = self._core.labels
        return np.arange(self.n_ids, dtype=np.int64) if labels is None else labels

    def _ids(self, raw: np.ndarray) -> np.ndarray:
        """The core's uint64 ids as this index reports them: labels as they are, row numbers
        as int64, whose -1 for a missing result has the bits of the core's mark."""
        return raw if self._core.has_labels else raw.view(np.int64)

    def _distance_work(self) -> int:
        sz = self.dim // self.channels
        return self.channels * _distance_work(sz, self.radius if self.metric == "dtw" else 0)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the index to a file.

        The write is atomic: the index goes to a temporary file beside ``path``, is flushed to
        disk, then renamed over ``path``, so an interrupted save leaves the previous file intact.
        A symbolic link is followed (the file it names is replaced, the link kept), and a file
        replaced keeps its permissions. The format is versioned and checksummed (see
        ``docs/format.md``).

        Parameters
        ----------
        path : str or os.PathLike
            The file to write; a file already there is replaced.

        Raises
        ------
        OSError
            The file cannot be written (a directory, no permission, a FIFO or device, ...).

        Examples
        --------
        >>> import numpy as np
        >>> from nswg import Index
        >>> index = Index.build(np.eye(4))
        >>> index.save("eye.nswg")
        >>> Index.load("eye.nswg").search([0.0, 0.0, 1.0, 0.0], k=1).ids.tolist()
        [2]
        """
        self._core.save(os.fspath(path))

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, mmap: bool = False) -> Index:
        """Load an index saved by :meth:`save`; it answers every query as the saved one did.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save`, by this release or an earlier one.
        mmap : bool, default=False
            Leave the vectors and the graph in the file's pages, memory-mapped read-only, and
            search them in place, instead of reading them into memory of the process: the
            operating system keeps in memory the pages searches touch and may drop them again,
            and processes mapping one file share its pages. The file gets every check of a
            normal load first, in one pass read through the page cache. The index answers
            exactly as a loaded one, but is read-only: :meth:`add`, :meth:`remove` and
            :meth:`compact` raise :class:`~nswg.errors.ReadOnlyIndexError`. :meth:`save` (to
            any path, its own file included: the save writes a new file and renames it over the
            old one, which stays mapped; where Windows refuses to replace a mapped file, it
            raises ``OSError``) and pickling work; an unpickled copy is a normal
            index. The file must not be changed in place (written into, truncated) while the
            index lives: see ``docs/format.md``. SQ8 codes and the metric's derived data (DTW's
            envelopes) are held in memory either way.

        Returns
        -------
        Index

        Raises
        ------
        OSError
            The file cannot be read.
        IndexFileError
            The file is not an nswg index: truncated, corrupted, foreign, of a newer format, or
            not a regular file (a FIFO or device is refused without waiting on it); with
            ``mmap``, also a file changed while it was being loaded. A subclass of
            ``ValueError``, its message names the file.
        ValueError
            ``mmap=True`` on a big-endian CPU, whose values are not the file's little-endian
            bytes.

        Examples
        --------
        >>> import numpy as np
        >>> from nswg import Index
        >>> Index.build(np.eye(3), metric="cosine").save("eye.nswg")
        >>> Index.load("eye.nswg")
        nswg.Index(n=3, dim=3, metric='cosine', n_neighbors=16, max_degree=32, mean_degree=1.3)
        >>> mapped = Index.load("eye.nswg", mmap=True)
        >>> mapped.memory_mapped, mapped.search([0.0, 1.0, 0.0], k=1).ids.tolist()
        (True, [1])
        """
        return cls(_core.Index.load(os.fspath(path), mmap=flag(mmap, "mmap")))

    @property
    def memory_mapped(self) -> bool:
        """Whether the index reads its vectors and graph in place from a memory-mapped file
        (``Index.load(path, mmap=True)``), and so is read-only."""
        return self._core.memory_mapped

    def __getstate__(self) -> dict[str, Any]:
        return {"index": self._core.to_bytes()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._core = _core.Index.from_bytes(state["index"])

    def __len__(self) -> int:
        """Number of points, removed ones excluded."""
        return len(self._core)

    @property
    def n_ids(self) -> int:
        """Number of ids given out, removed points included: the id the next added point gets."""
        return self._core.n_ids

    @property
    def dim(self) -> int:
        """Number of values per vector (for time series the length times :attr:`channels`)."""
        return self._core.dim

    @property
    def channels(self) -> int:
        """Values per time step of a DTW index's series (``d`` of (n_ts, sz, d) data); 1 for a
        univariate one and for the other metrics."""
        return self._core.channels

    @property
    def metric(self) -> str:
        """The metric name: ``"euclidean"``, ``"cosine"`` or ``"dtw"``."""
        return self._core.metric

    @property
    def radius(self) -> int | None:
        """Sakoe-Chiba radius of a DTW index; ``None`` for the full window or another metric."""
        return self._core.sakoe_chiba_radius

    @property
    def quantization(self) -> str | None:
        """The code graph searches walk on: ``"sq8"``, ``"rabitq4"``, or ``None`` for the float32
        rows."""
        return self._core.quantization

    @property
    def nbytes(self) -> int:
        """Bytes the index holds in memory: the float32 rows, their codes, the graph's lists
        and the removal marks (as numpy's ``nbytes``, the buffers, not the object headers)."""
        return self._core.nbytes

    @property
    def has_graph(self) -> bool:
        """Whether the points are linked into a graph (``False`` after ``graph=False``)."""
        return self._core.graph is not None

    @property
    def n_neighbors(self) -> int:
        """Neighbours linked to each inserted point: 0 without a graph."""
        graph = self._core.graph
        return 0 if graph is None else graph[0]

    @property
    def max_degree(self) -> int:
        """Cap on a node's degree: 0 without a graph."""
        graph = self._core.graph
        return 0 if graph is None else graph[1]

    @property
    def ef_construction(self) -> int:
        return self._core.ef_construction

    @property
    def seed(self) -> int:
        return self._core.seed

    @property
    def build_distance_computations(self) -> int:
        """Distances computed while building the index."""
        return self._core.build_distance_computations

    def stats(self) -> GraphStats:
        """Degrees, reachability and construction cost of the graph.

        Computed on demand in time linear in the number of links.

        Returns
        -------
        GraphStats

        Raises
        ------
        ValueError
            For an index built with ``graph=False``.

        Examples
        --------
        >>> import numpy as np
        >>> from nswg import Index
        >>> index = Index.build(np.random.default_rng(0).normal(size=(500, 8)))
        >>> stats = index.stats()
        >>> stats.min_degree >= 1, stats.max_degree <= index.max_degree
        (True, True)
        """
        stats = self._core.graph_stats()
        if stats is None:
            raise ValueError("this index has no graph (it was built with graph=False)")
        n_nodes, n_copies, min_degree, max_degree, mean_degree, n_unreached, n_components = stats
        build = self.build_distance_computations
        return GraphStats(
            n_nodes=n_nodes,
            n_copies=n_copies,
            min_degree=min_degree,
            max_degree=max_degree,
            mean_degree=mean_degree,
            n_unreached=n_unreached,
            n_components=n_components,
            build_distance_computations=build,
            build_distance_computations_per_point=build / (n_nodes + n_copies),
        )

    def __repr__(self) -> str:
        band = ""
        if self.metric == "dtw":
            band = f", radius={self.radius}" if self.radius is not None else ", radius=None (full)"
            if self.channels > 1:
                band += f", channels={self.channels}"
        if self.quantization is not None:
            band += f", quantization={self.quantization!r}"
        head = f"nswg.Index(n={len(self)}, dim={self.dim}, metric={self.metric!r}{band}"
        if not self.has_graph:
            return f"{head}, graph=False)"
        mean_degree = self._core.n_links / self._core.n_nodes
        return (
            f"{head}, n_neighbors={self.n_neighbors}, max_degree={self.max_degree}, "
            f"mean_degree={mean_degree:.1f})"
        )


def _distance_work(dim: int, radius: int | None) -> int:
    """Values one distance compares: ``dim``, or the cells of the DTW band."""
    if radius is None:  # full window
        return dim * dim
    return dim * min(2 * radius + 1, dim)


@contextlib.contextmanager
def _reporter(
    progress: Progress, n_points: int, work: int, description: str
) -> Iterator[Callable[[int, int], object] | None]:
    """What to pass the core as ``progress``: the user's callable, a tqdm bar's update, or None."""
    if progress is not None and not isinstance(progress, bool) and not callable(progress):
        raise TypeError(f"progress must be None, True, False or a callable, got {progress!r}")
    if callable(progress):
        yield progress
        return
    if progress is None:
        slow = n_points > PROGRESS_MIN_POINTS or n_points * work > PROGRESS_MIN_WORK
        progress = slow and sys.stderr.isatty()
    if not progress:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=n_points, desc=description, unit=" points", leave=False) as bar:

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield update
