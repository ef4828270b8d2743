"""scikit-learn estimators on top of :class:`nswg.Index`.

:class:`KNeighborsClassifier`, :class:`KNeighborsRegressor`, :class:`KNeighborsTransformer`
and :class:`NearestNeighbors` follow the interface of ``sklearn.neighbors`` and of tslearn's
``KNeighborsTimeSeriesClassifier``, so they work in
``Pipeline``, ``GridSearchCV``, ``cross_val_score``, ``clone`` and pickle, but answer queries
with the graph search of an NSW index (or, with ``exact=True``, with the core's brute force).

They need scikit-learn 1.6 or later (``pip install scikit-learn``).

Differences from ``sklearn.neighbors``
--------------------------------------
- ``radius`` and ``window`` are the Sakoe-Chiba band of ``metric="dtw"``, as in
  :meth:`nswg.Index.build`; they have nothing to do with sklearn's radius-neighbours queries,
  so :meth:`NearestNeighbors.radius_neighbors` takes its radius as an argument, always.
- The answers of ``radius_neighbors`` are always sorted by distance.
- ``n_jobs=None`` uses one thread per core (nswg's default), not one thread: results do not
  depend on the number of threads.
- Distances are float32, the precision the core computes in.
- Data are converted to float32 once, in ``fit``.
- Pickles (and deep copies) carry the fitted index, graph included: nothing is rebuilt.

:func:`learn_dtw_window` learns the Sakoe-Chiba window of ``metric="dtw"`` by leave-one-out on
the training set, as the UCR archive's ``DTW (learned_w)``.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

try:
    from scipy.sparse import csr_matrix
    from sklearn.base import (
        BaseEstimator,
        ClassifierMixin,
        ClassNamePrefixFeaturesOutMixin,
        RegressorMixin,
        TransformerMixin,
    )
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "nswg.neighbors needs scikit-learn 1.6 or later: pip install 'scikit-learn>=1.6'"
    ) from e

from nswg._validation import (
    as_rows_and_channels,
    flag,
    graph_shape,
    metric_name,
    non_negative_int,
    thread_count,
)
from nswg.datasets import ucr_window_radius
from nswg.index import Index

__all__ = [
    "DTWWindow",
    "KNeighborsClassifier",
    "KNeighborsRegressor",
    "KNeighborsTransformer",
    "NearestNeighbors",
    "learn_dtw_window",
]

#: Weights of the neighbours' votes: a name, or a function of the distances array.
Weights = Union[str, Callable[[np.ndarray], np.ndarray]]


class _NeighborsBase(BaseEstimator):
    """Parameters, fitting, the index and ``kneighbors``: what both estimators share."""

    def __init__(
        self,
        n_neighbors: int = 5,
        *,
        metric: str = "euclidean",
        radius: int | None = None,
        window: float | None = None,
        exact: bool = False,
        ef: int | None = None,
        n_searches: int = 2,
        graph_neighbors: int = 16,
        max_degree: int | None = None,
        ef_construction: int = 100,
        quantization: str | None = None,
        random_state: int | np.random.RandomState | None = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.radius = radius
        self.window = window
        self.exact = exact
        self.ef = ef
        self.n_searches = n_searches
        self.graph_neighbors = graph_neighbors
        self.max_degree = max_degree
        self.ef_construction = ef_construction
        self.quantization = quantization
        self.random_state = random_state
        self.n_jobs = n_jobs

    # --- fitting -------------------------------------------------------------------------

    def _fit(self, X: Any, y: Any = None) -> Any:
        """Validates the parameters and ``X`` (and ``y``), keeps the float32 rows and builds
        the index. Returns the validated ``y`` (or None)."""
        self._check_search_params()
        self._n_threads = _n_threads(self.n_jobs)
        if y is None:
            X = validate_data(self, X, **self._check_array_params())
        else:
            X, y = validate_data(self, X, y, **self._check_array_params(), **self._check_y_params())
        # tslearn's (n_ts, sz, d) series are kept as they are, float32, for the index.
        rows, channels = as_rows_and_channels(X, "X", metric_name(self.metric))
        self._fit_X = rows.reshape(len(rows), -1, channels) if channels > 1 else rows
        self.n_samples_fit_ = self._fit_X.shape[0]
        self.effective_metric_ = metric_name(self.metric)
        self._build_params: dict[str, Any] = {
            "metric": self.metric,
            "radius": self.radius,
            "window": self.window,
            "n_neighbors": self.graph_neighbors,
            "max_degree": self.max_degree,
            "ef_construction": self.ef_construction,
            "n_searches": self.n_searches,
            "seed": _seed(self.random_state),
        }
        graph_shape(self.graph_neighbors, self.max_degree, "graph_neighbors")
        self._exact_only = flag(self.exact, "exact")
        self._index = self._build(self._exact_only)
        return y

    def _build(self, exact_only: bool) -> Index:
        # With exact=True at fit time the graph is never searched, so fit links none; a later
        # graph search (after set_params(exact=False)) builds the index again with its graph.
        # Codes serve the graph walk only: an index for exact search keeps none.
        quantization = None if exact_only else self.quantization
        return Index.build(
            self._fit_X,
            n_threads=self._n_threads,
            graph=not exact_only,
            quantization=quantization,
            **self._build_params,
        )

    def _get_index(self, exact: bool) -> Index:
        """The index, rebuilt if a graph search needs the graph that an ``exact=True`` fit did
        not build."""
        if self._exact_only and not exact:
            self._exact_only = False
            self._index = self._build(exact_only=False)
        return self._index

    def _check_array_params(self) -> dict[str, Any]:
        return {
            "allow_nd": True,
            "dtype": [np.float64, np.float32],
            "ensure_all_finite": "allow-nan" if _is_dtw(self.metric) else True,
        }

    def _check_y_params(self) -> dict[str, Any]:
        """What ``fit`` asks of ``y`` beyond scikit-learn's defaults."""
        return {}

    def _check_search_params(self) -> None:
        """Errors on parameters that :meth:`nswg.Index.build` does not see; it checks its own."""
        _positive_int(self.n_neighbors, "n_neighbors")
        metric_name(self.metric)
        if self.ef is not None:
            _positive_int(self.ef, "ef")
        _positive_int(self.n_searches, "n_searches")
        flag(self.exact, "exact")

    # --- queries -------------------------------------------------------------------------

    def kneighbors(
        self, X: Any = None, n_neighbors: int | None = None, return_distance: bool = True
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Find the nearest training points of each query.

        Parameters
        ----------
        X : array-like, shape=(n_queries, sz) or (n_queries, sz, 1), optional
            The queries. With none, the neighbours of each training point are returned, the
            point itself left out (as in scikit-learn).
        n_neighbors : int, optional
            Number of neighbours, at most the number of training points (fewer by one when
            ``X`` is None). Default: the ``n_neighbors`` parameter.
        return_distance : bool, default=True
            Whether to return the distances too.

        Returns
        -------
        distances : numpy.ndarray of float32, shape=(n_queries, n_neighbors)
            Distances to the neighbours, nearest first; only with ``return_distance=True``.
        indices : numpy.ndarray of int64, shape=(n_queries, n_neighbors)
            Row numbers of the neighbours in the training data. Equal distances are ordered by
            row number, so the first training point wins a tie.

        Raises
        ------
        ValueError
            ``n_neighbors`` larger than the number of training points, or bad queries.

        Examples
        --------
        >>> from nswg.neighbors import NearestNeighbors
        >>> nn = NearestNeighbors(n_neighbors=2).fit([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
        >>> distances, indices = nn.kneighbors([[0.9, 0.0]])
        >>> indices
        array([[1, 0]])
        >>> distances.round(3)
        array([[0.1, 0.9]], dtype=float32)
        >>> nn.kneighbors(return_distance=False).tolist()
        [[1, 2], [0, 2], [1, 0]]
        """
        check_is_fitted(self)
        if n_neighbors is None:
            n_neighbors = self.n_neighbors
        k = _positive_int(n_neighbors, "n_neighbors")
        flag(return_distance, "return_distance")
        self._check_search_params()
        if X is not None:
            distances, indices = self._kneighbors(self._validate_queries(X), k)
        else:
            # As sklearn: one more neighbour, then drop the point itself or, when as many
            # duplicates of it as neighbours hide it, the first of them.
            self._check_k(k + 1, len(self._fit_X), query_is_train=True)
            distances, indices = self._search(self._fit_X, k + 1)
            keep = indices != np.arange(len(indices))[:, None]
            keep[keep.all(axis=1), 0] = False
            shape = (len(indices), k)
            indices, distances = indices[keep].reshape(shape), distances[keep].reshape(shape)
        return (distances, indices) if return_distance else indices

    def kneighbors_graph(
        self, X: Any = None, n_neighbors: int | None = None, mode: str = "connectivity"
    ) -> csr_matrix:
        """The k-neighbours graph of the queries, a sparse matrix (as scikit-learn's).

        Parameters
        ----------
        X : array-like, shape=(n_queries, sz) or (n_queries, sz, 1), optional
            The queries; with none, each training point's neighbours other than itself.
        n_neighbors : int, optional
            Neighbours per query; default the ``n_neighbors`` parameter.
        mode : {"connectivity", "distance"}, default="connectivity"
            Entries of 1.0, or the distances (float32 either way; a neighbour at distance 0 is
            an explicit entry).

        Returns
        -------
        scipy.sparse.csr_matrix, shape=(n_queries, n_samples_fit)
            Row ``i`` holds the ``n_neighbors`` neighbours of query ``i``.

        Examples
        --------
        >>> from nswg.neighbors import NearestNeighbors
        >>> nn = NearestNeighbors(n_neighbors=1).fit([[0.0], [1.0], [3.0]])
        >>> nn.kneighbors_graph([[0.9], [2.5]], mode="distance").toarray().astype(float).round(2)
        array([[0. , 0.1, 0. ],
               [0. , 0. , 0.5]])
        """
        if mode not in ("connectivity", "distance"):
            raise ValueError(f'mode must be "connectivity" or "distance", got {mode!r}')
        distances, indices = self.kneighbors(X, n_neighbors, return_distance=True)
        n_queries, k = indices.shape
        data = distances.ravel() if mode == "distance" else np.ones(n_queries * k, np.float32)
        return csr_matrix(
            (data, indices.ravel(), np.arange(0, n_queries * k + 1, k)),
            shape=(n_queries, self.n_samples_fit_),
        )

    def _kneighbors(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        self._check_k(k, len(queries), query_is_train=False)
        return self._search(queries, k)

    def _check_k(self, k: int, n_queries: int, *, query_is_train: bool) -> None:
        """sklearn's error (and message) for more neighbours than training points."""
        if k > self.n_samples_fit_:
            inequality = "<" if query_is_train else "<="
            raise ValueError(
                f"Expected n_neighbors {inequality} n_samples_fit, but n_neighbors = "
                f"{k - query_is_train}, n_samples_fit = {self.n_samples_fit_}, "
                f"n_samples = {n_queries}"
            )

    def _validate_queries(self, X: Any) -> np.ndarray:
        X = validate_data(self, X, reset=False, **self._check_array_params())
        rows, channels = as_rows_and_channels(X, "X", metric_name(self.metric))
        return rows.reshape(len(rows), -1, channels) if channels > 1 else rows

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(distances, indices) of the ``k`` nearest training points, shape (m, k) each."""
        exact = flag(self.exact, "exact")
        index = self._get_index(exact)
        n_threads = _n_threads(self.n_jobs)

        def search(q: np.ndarray, exact: bool) -> tuple[np.ndarray, np.ndarray]:
            res = index.search(
                q, k=k, ef=self.ef, n_searches=self.n_searches, exact=exact, n_threads=n_threads
            )
            return res.distances, res.ids

        distances, indices = search(queries, exact)
        # The graph search pads with -1 when it reaches fewer than k points; answer those
        # queries exactly rather than return ids that index nothing.
        short = (indices < 0).any(axis=1)
        if short.any():
            distances[short], indices[short] = search(queries[short], True)
        return distances, indices

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        # Under DTW, NaN may only pad the end of a series (variable-length data); that is not
        # the missing-value support this tag announces, so it stays False.
        tags.input_tags.allow_nan = False
        return tags


class NearestNeighbors(_NeighborsBase):
    """Unsupervised nearest-neighbour search, scikit-learn style, on an NSW graph.

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours :meth:`kneighbors` returns by default.
    metric : {"euclidean", "cosine", "dtw"}, default="euclidean"
        As in :meth:`nswg.Index.build`. ``"dtw"`` is tslearn's DTW.
    radius : int, optional
        Sakoe-Chiba radius in points for ``metric="dtw"`` (tslearn's ``sakoe_chiba_radius``).
        With neither ``radius`` nor ``window``, the full window.
    window : float, optional
        The DTW band as a fraction of the series length: ``radius = ceil(window * sz)``.
    exact : bool, default=False
        Brute force instead of the graph search: every query is compared with every training
        point. Then :meth:`fit` links no graph (``Index.build(..., graph=False)``) and costs no
        distance computation; a later graph search builds it.
    ef : int, optional
        Beam width of the graph search; larger is more accurate and costs more distance
        computations. Default ``max(n_neighbors, 48)``.
    n_searches : int, default=2
        Restarts of the graph search (and of the searches that build the graph). More restarts
        escape local minima at the cost of more distance computations.
    graph_neighbors : int, default=16
        Neighbours linked to each point as the graph is built (``n_neighbors`` of
        :meth:`nswg.Index.build`), from 2 to 4096. More give better recall per distance
        computation on hard data, at the cost of build time and memory.
    max_degree : int, optional
        Cap on a node's degree, default ``2 * graph_neighbors``.
    ef_construction : int, default=100
        Beam width of the searches that build the graph: larger builds a better graph, more
        slowly.
    quantization : {None, "sq8", "rabitq4"}, default=None
        The compressed code the graph search walks on, as in :meth:`nswg.Index.build`
        (Euclidean and cosine); the neighbours returned are re-ranked exactly. An
        ``exact=True`` fit keeps no codes.
    random_state : int, RandomState instance or None, default=0
        Seeds the graph and the searches' entry points. None draws a seed from numpy's global
        generator at each :meth:`fit`.
    n_jobs : int, optional
        Threads for building and searching. None or -1 uses one per core, -2 all but one,
        and so on. Results do not depend on it.

    Attributes
    ----------
    n_features_in_ : int
        Values per training vector (the series length for time series).
    feature_names_in_ : numpy.ndarray of str
        Column names, when :meth:`fit` was given a DataFrame with string column names.
    n_samples_fit_ : int
        Number of training points.
    effective_metric_ : str
        The metric in use.

    See Also
    --------
    KNeighborsClassifier : Nearest-neighbour classification on the same index.
    nswg.Index : The index itself.

    Examples
    --------
    >>> import numpy as np
    >>> from nswg.neighbors import NearestNeighbors
    >>> X = np.random.default_rng(0).normal(size=(1000, 16))
    >>> nn = NearestNeighbors(n_neighbors=3).fit(X)
    >>> nn.kneighbors(X[:2], return_distance=False).tolist()[0][0]
    0

    Time series under DTW, in tslearn's (n_ts, sz, 1) layout:

    >>> series = np.cumsum(np.random.default_rng(1).normal(size=(200, 60, 1)), axis=1)
    >>> nn = NearestNeighbors(n_neighbors=1, metric="dtw", window=0.1).fit(series)
    >>> distances, indices = nn.kneighbors(series[5:6])
    >>> int(indices[0, 0]), float(distances[0, 0])
    (5, 0.0)
    """

    def fit(self, X: Any, y: Any = None) -> NearestNeighbors:
        """Build the index over ``X``.

        Parameters
        ----------
        X : array-like, shape=(n, d) or (n_ts, sz, 1)
            Training data. Under ``metric="dtw"`` series may end in NaN padding.
        y : None
            Ignored.

        Returns
        -------
        NearestNeighbors
            The fitted estimator.

        Examples
        --------
        >>> from nswg.neighbors import NearestNeighbors
        >>> nn = NearestNeighbors(n_neighbors=1).fit([[0.0, 1.0], [2.0, 3.0]])
        >>> nn.n_samples_fit_, nn.n_features_in_
        (2, 2)
        """
        self._fit(X)
        return self

    def radius_neighbors(
        self,
        X: Any = None,
        radius: float | None = None,
        return_distance: bool = True,
        sort_results: bool = True,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Every training point within ``radius`` of each query (as scikit-learn's).

        Exact with ``exact=True`` (a scan with the radius as each distance's bound); otherwise
        the graph search of :meth:`nswg.Index.search_radius`, whose beam widens until it
        reaches beyond the radius.

        Parameters
        ----------
        X : array-like, shape=(n_queries, sz) or (n_queries, sz, 1), optional
            The queries; with none, each training point's neighbours other than itself.
        radius : float
            The largest distance returned. Required: the estimator's ``radius`` parameter is
            the DTW band, not a default for this one.
        return_distance : bool, default=True
            Whether to return the distances too.
        sort_results : bool, default=True
            Accepted for scikit-learn's signature; the answers are always sorted by distance.

        Returns
        -------
        distances : numpy.ndarray of object, shape=(n_queries,)
            Per query, a float32 array of the distances, nearest first; only with
            ``return_distance=True``.
        indices : numpy.ndarray of object, shape=(n_queries,)
            Per query, an int64 array of training row numbers, ties by row number.

        Examples
        --------
        >>> from nswg.neighbors import NearestNeighbors
        >>> nn = NearestNeighbors().fit([[0.0], [1.0], [3.0]])
        >>> distances, indices = nn.radius_neighbors([[0.8]], radius=1.0)
        >>> indices[0].tolist(), distances[0].astype(float).round(2).tolist()
        ([1, 0], [0.2, 0.8])
        >>> [i.tolist() for i in nn.radius_neighbors(radius=2.0, return_distance=False)]
        [[1], [0, 2], [1]]
        """
        check_is_fitted(self)
        if radius is None:
            raise ValueError(
                "radius_neighbors needs radius=...: the estimator's radius parameter is the "
                "DTW band"
            )
        flag(return_distance, "return_distance")
        flag(sort_results, "sort_results")
        self._check_search_params()
        exact = flag(self.exact, "exact")
        queries = self._fit_X if X is None else self._validate_queries(X)
        res = self._get_index(exact).search_radius(
            queries,
            radius,
            exact=exact,
            ef=self.ef,
            n_searches=self.n_searches,
            n_threads=_n_threads(self.n_jobs),
        )
        ids, distances = list(res.ids), list(res.distances)
        if X is None:
            for i, found in enumerate(ids):
                own = found != i
                ids[i], distances[i] = found[own], distances[i][own]
        indices = _objects(ids)
        return (_objects(distances), indices) if return_distance else indices

    def radius_neighbors_graph(
        self, X: Any = None, radius: float | None = None, mode: str = "connectivity"
    ) -> csr_matrix:
        """The graph of :meth:`radius_neighbors`, a sparse matrix (as scikit-learn's).

        Parameters
        ----------
        X : array-like, optional
            The queries; with none, each training point's neighbours other than itself.
        radius : float
            As in :meth:`radius_neighbors`.
        mode : {"connectivity", "distance"}, default="connectivity"
            Entries of 1.0, or the distances.

        Returns
        -------
        scipy.sparse.csr_matrix, shape=(n_queries, n_samples_fit)

        Examples
        --------
        >>> from nswg.neighbors import NearestNeighbors
        >>> nn = NearestNeighbors().fit([[0.0], [1.0], [3.0]])
        >>> nn.radius_neighbors_graph(radius=1.5).toarray().tolist()
        [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
        """
        if mode not in ("connectivity", "distance"):
            raise ValueError(f'mode must be "connectivity" or "distance", got {mode!r}')
        distances, indices = self.radius_neighbors(X, radius, return_distance=True)
        lengths = [len(i) for i in indices]
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        flat = np.concatenate([*indices, np.empty(0, np.int64)])
        values = np.concatenate([*distances, np.empty(0, np.float32)])
        data = values if mode == "distance" else np.ones(len(flat), np.float32)
        return csr_matrix((data, flat, indptr), shape=(len(indices), self.n_samples_fit_))


class KNeighborsTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _NeighborsBase):
    """The k-neighbours graph of the data as a sparse matrix, for estimators that take a
    precomputed one: scikit-learn's ``KNeighborsTransformer`` on an NSW graph.

    ``fit_transform(X)`` gives an (n, n) CSR matrix whose row ``i`` holds ``i``'s neighbours;
    ``Isomap``, ``TSNE``, ``SpectralClustering``, ``DBSCAN`` and ``HDBSCAN`` take it with
    ``metric="precomputed"`` (or ``affinity="precomputed_nearest_neighbors"``) in a
    ``Pipeline``. As in scikit-learn, in ``"distance"`` mode each row holds ``n_neighbors + 1``
    entries, the query itself among them at distance 0 (an explicit entry), so that a
    downstream estimator that leaves the point itself out still has ``n_neighbors``.

    Parameters
    ----------
    mode : {"distance", "connectivity"}, default="distance"
        Entries of the distances (float32) or of 1.0.
    n_neighbors : int, default=5
        Neighbours per point (plus the point itself in ``"distance"`` mode).
    metric, radius, window, exact, ef, n_searches, graph_neighbors, max_degree : see below
        As in :class:`NearestNeighbors`.
    ef_construction, quantization, random_state, n_jobs : see below
        As in :class:`NearestNeighbors`.

    Attributes
    ----------
    n_features_in_ : int
        Values per training vector.
    n_samples_fit_ : int
        Number of training points: the columns of the graph.
    effective_metric_ : str
        The metric in use.

    Examples
    --------
    >>> import numpy as np
    >>> from nswg.neighbors import KNeighborsTransformer
    >>> X = np.random.default_rng(0).normal(size=(300, 5))
    >>> graph = KNeighborsTransformer(n_neighbors=4).fit_transform(X)
    >>> graph.shape, graph.getnnz(axis=1).tolist()[:3], graph[0, 0]
    ((300, 300), [5, 5, 5], np.float32(0.0))

    In a pipeline:

    >>> from sklearn.manifold import Isomap
    >>> from sklearn.pipeline import make_pipeline
    >>> isomap = make_pipeline(
    ...     KNeighborsTransformer(n_neighbors=10, exact=True),
    ...     Isomap(n_neighbors=10, metric="precomputed"),
    ... )
    >>> isomap.fit_transform(X).shape
    (300, 2)
    """

    def __init__(
        self,
        *,
        mode: str = "distance",
        n_neighbors: int = 5,
        metric: str = "euclidean",
        radius: int | None = None,
        window: float | None = None,
        exact: bool = False,
        ef: int | None = None,
        n_searches: int = 2,
        graph_neighbors: int = 16,
        max_degree: int | None = None,
        ef_construction: int = 100,
        quantization: str | None = None,
        random_state: int | np.random.RandomState | None = 0,
        n_jobs: int | None = None,
    ) -> None:
        super().__init__(
            n_neighbors,
            metric=metric,
            radius=radius,
            window=window,
            exact=exact,
            ef=ef,
            n_searches=n_searches,
            graph_neighbors=graph_neighbors,
            max_degree=max_degree,
            ef_construction=ef_construction,
            quantization=quantization,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        self.mode = mode

    def fit(self, X: Any, y: Any = None) -> KNeighborsTransformer:
        """Build the index over ``X``.

        Parameters
        ----------
        X : array-like, shape=(n, d) or (n_ts, sz, 1)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        KNeighborsTransformer
            The fitted estimator.

        Examples
        --------
        >>> from nswg.neighbors import KNeighborsTransformer
        >>> KNeighborsTransformer(n_neighbors=1).fit([[0.0], [1.0], [3.0]]).n_samples_fit_
        3
        """
        self._check_mode()
        self._fit(X)
        self._n_features_out = self.n_samples_fit_
        return self

    def transform(self, X: Any) -> csr_matrix:
        """The neighbours of each row of ``X`` among the training points.

        Parameters
        ----------
        X : array-like, shape=(n_queries, d) or (n_queries, sz, 1)
            The queries.

        Returns
        -------
        scipy.sparse.csr_matrix, shape=(n_queries, n_samples_fit)
            ``n_neighbors`` entries per row, one more in ``"distance"`` mode.

        Examples
        --------
        >>> from nswg.neighbors import KNeighborsTransformer
        >>> knt = KNeighborsTransformer(n_neighbors=1).fit([[0.0], [1.0], [3.0]])
        >>> knt.transform([[0.9]]).toarray().astype(float).round(2).tolist()
        [[0.9, 0.1, 0.0]]
        """
        check_is_fitted(self)
        self._check_mode()
        k = _positive_int(self.n_neighbors, "n_neighbors") + (self.mode == "distance")
        return self.kneighbors_graph(X, n_neighbors=k, mode=self.mode)

    def fit_transform(self, X: Any, y: Any = None) -> csr_matrix:
        """:meth:`fit` then :meth:`transform` of the same ``X``.

        Parameters
        ----------
        X : array-like, shape=(n, d) or (n_ts, sz, 1)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        scipy.sparse.csr_matrix, shape=(n, n)

        Examples
        --------
        >>> from nswg.neighbors import KNeighborsTransformer
        >>> knt = KNeighborsTransformer(mode="connectivity", n_neighbors=1)
        >>> knt.fit_transform([[0.0], [1.0], [3.0]]).toarray().tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
        """
        return self.fit(X).transform(X)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # The graph holds float32 whatever the input, the precision the core computes in.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    def _check_mode(self) -> None:
        if self.mode not in ("distance", "connectivity"):
            raise ValueError(f'mode must be "distance" or "connectivity", got {self.mode!r}')


class _WeightedNeighborsBase(_NeighborsBase):
    """The estimators that weigh their neighbours' answers: the base's parameters and
    ``weights``, one constructor for scikit-learn's ``get_params`` to read."""

    def __init__(
        self,
        n_neighbors: int = 5,
        *,
        metric: str = "euclidean",
        radius: int | None = None,
        window: float | None = None,
        exact: bool = False,
        ef: int | None = None,
        n_searches: int = 2,
        graph_neighbors: int = 16,
        max_degree: int | None = None,
        ef_construction: int = 100,
        quantization: str | None = None,
        weights: Weights = "uniform",
        random_state: int | np.random.RandomState | None = 0,
        n_jobs: int | None = None,
    ) -> None:
        super().__init__(
            n_neighbors,
            metric=metric,
            radius=radius,
            window=window,
            exact=exact,
            ef=ef,
            n_searches=n_searches,
            graph_neighbors=graph_neighbors,
            max_degree=max_degree,
            ef_construction=ef_construction,
            quantization=quantization,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        self.weights = weights


class KNeighborsClassifier(ClassifierMixin, _WeightedNeighborsBase):
    """k-nearest-neighbour classification, scikit-learn style, on an NSW graph.

    A drop-in for ``sklearn.neighbors.KNeighborsClassifier`` and for tslearn's
    ``KNeighborsTimeSeriesClassifier`` with Euclidean, cosine or DTW distance. With
    ``exact=True`` it predicts what they predict: ties in distance go to the first training
    point, and ties in the vote to the first class in ``classes_``.

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours that vote.
    metric : {"euclidean", "cosine", "dtw"}, default="euclidean"
        As in :meth:`nswg.Index.build`. ``"dtw"`` is tslearn's DTW.
    radius : int, optional
        Sakoe-Chiba radius in points for ``metric="dtw"`` (tslearn's ``sakoe_chiba_radius``).
        With neither ``radius`` nor ``window``, the full window.
    window : float, optional
        The DTW band as a fraction of the series length: ``radius = ceil(window * sz)``, the
        UCR archive's convention (``window=0.04`` is its "DTW (w=4)").
    exact : bool, default=False
        Brute force instead of the graph search: every query is compared with every training
        point. Then :meth:`fit` links no graph (``Index.build(..., graph=False)``) and costs no
        distance computation; a later graph search builds it.
    ef : int, optional
        Beam width of the graph search; larger is more accurate and costs more distance
        computations. Default ``max(n_neighbors, 48)``.
    n_searches : int, default=2
        Restarts of the graph search (and of the searches that build the graph). More restarts
        escape local minima at the cost of more distance computations.
    graph_neighbors : int, default=16
        Neighbours linked to each point as the graph is built (``n_neighbors`` of
        :meth:`nswg.Index.build`), from 2 to 4096. More give better recall per distance
        computation on hard data, at the cost of build time and memory.
    max_degree : int, optional
        Cap on a node's degree, default ``2 * graph_neighbors``.
    ef_construction : int, default=100
        Beam width of the searches that build the graph: larger builds a better graph, more
        slowly.
    quantization : {None, "sq8", "rabitq4"}, default=None
        As in :class:`NearestNeighbors`.
    weights : {"uniform", "distance"} or callable, default="uniform"
        ``"uniform"``: each neighbour has one vote. ``"distance"``: votes weigh ``1 / d``, and
        neighbours at distance 0, when there are any, take all the weight. A callable gets
        the distances array and returns weights of the same shape.
    random_state : int, RandomState instance or None, default=0
        Seeds the graph and the searches' entry points. None draws a seed from numpy's global
        generator at each :meth:`fit`.
    n_jobs : int, optional
        Threads for building and searching. None or -1 uses one per core, -2 all but one,
        and so on. Results do not depend on it.

    Attributes
    ----------
    classes_ : numpy.ndarray, shape=(n_classes,)
        The class labels, sorted.
    n_features_in_ : int
        Values per training vector (the series length for time series).
    feature_names_in_ : numpy.ndarray of str
        Column names, when :meth:`fit` was given a DataFrame with string column names.
    n_samples_fit_ : int
        Number of training points.
    effective_metric_ : str
        The metric in use.

    See Also
    --------
    NearestNeighbors : The neighbours themselves.
    nswg.Index : The index itself.

    Notes
    -----
    The search parameters (``n_neighbors``, ``ef``, ``n_searches``, ``exact``, ``weights``,
    ``n_jobs``) are read at prediction time, so ``set_params`` can change them without
    refitting; the graph parameters take effect at :meth:`fit`.

    Examples
    --------
    1-NN under DTW with a Sakoe-Chiba band of 3 % of the series length, on GunPoint:

    >>> from nswg.datasets import load_ucr
    >>> from nswg.neighbors import KNeighborsClassifier
    >>> X_train, y_train, X_test, y_test = load_ucr("GunPoint")
    >>> clf = KNeighborsClassifier(n_neighbors=1, metric="dtw", window=0.03)
    >>> clf = clf.fit(X_train, y_train)
    >>> round(clf.score(X_test, y_test), 3)
    0.973

    It is an ordinary scikit-learn estimator:

    >>> from sklearn.model_selection import cross_val_score
    >>> scores = cross_val_score(KNeighborsClassifier(n_neighbors=1), X_train, y_train, cv=3)
    >>> scores.shape
    (3,)
    """

    def fit(self, X: Any, y: Any) -> KNeighborsClassifier:
        """Build the index over ``X`` and remember the labels ``y``.

        Parameters
        ----------
        X : array-like, shape=(n, d) or (n_ts, sz, 1)
            Training data. Under ``metric="dtw"`` series may end in NaN padding.
        y : array-like, shape=(n,)
            Class labels of any type that ``numpy.unique`` sorts.

        Returns
        -------
        KNeighborsClassifier
            The fitted estimator.

        Examples
        --------
        >>> from nswg.neighbors import KNeighborsClassifier
        >>> clf = KNeighborsClassifier(n_neighbors=1).fit([[0.0], [1.0], [5.0]], [2, 2, 7])
        >>> clf.classes_.tolist()
        [2, 7]
        """
        _check_weights(self.weights)
        y = self._fit(X, y)
        check_classification_targets(y)
        self.classes_, self._y = np.unique(y, return_inverse=True)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Share of the (weighted) votes of the neighbours for each class.

        Parameters
        ----------
        X : array-like, shape=(n_queries, sz) or (n_queries, sz, 1)
            The queries.

        Returns
        -------
        numpy.ndarray of float64, shape=(n_queries, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.

        Examples
        --------
        >>> from nswg.neighbors import KNeighborsClassifier
        >>> X, y = [[0.0], [1.0], [2.0], [9.0]], ["a", "a", "b", "b"]
        >>> clf = KNeighborsClassifier(n_neighbors=3).fit(X, y)
        >>> clf.predict_proba([[0.5], [8.0]]).round(3).tolist()
        [[0.667, 0.333], [0.333, 0.667]]
        """
        check_is_fitted(self)
        _check_weights(self.weights)
        self._check_search_params()
        k = _positive_int(self.n_neighbors, "n_neighbors")
        distances, indices = self._kneighbors(self._validate_queries(X), k)
        votes = self._y[indices]
        weights = _get_weights(distances, self.weights)
        proba = np.zeros((len(indices), len(self.classes_)))
        rows = np.broadcast_to(np.arange(len(indices))[:, None], votes.shape)
        np.add.at(proba, (rows, votes), 1.0 if weights is None else weights)
        total = proba.sum(axis=1, keepdims=True)
        total[total == 0.0] = 1.0  # all weights zero: leave the row at zero, as sklearn does
        out: np.ndarray = proba / total
        return out

    def predict(self, X: Any) -> np.ndarray:
        """The class of each query: the (weighted) majority of its neighbours.

        Parameters
        ----------
        X : array-like, shape=(n_queries, sz) or (n_queries, sz, 1)
            The queries.

        Returns
        -------
        numpy.ndarray, shape=(n_queries,)
            Labels from ``classes_``; a tie in the vote goes to the first of them.

        Examples
        --------
        >>> from nswg.neighbors import KNeighborsClassifier
        >>> clf = KNeighborsClassifier(n_neighbors=1).fit([[0.0], [1.0], [5.0]], ["a", "a", "b"])
        >>> clf.predict([[0.2], [4.0]]).tolist()
        ['a', 'b']
        """
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class KNeighborsRegressor(RegressorMixin, _WeightedNeighborsBase):
    """k-nearest-neighbour regression, scikit-learn style, on an NSW graph.

    Predicts the (weighted) mean of the neighbours' targets, as
    ``sklearn.neighbors.KNeighborsRegressor`` does; with ``exact=True`` it predicts what that
    predicts (ties in distance go to the first training point).

    Parameters
    ----------
    n_neighbors : int, default=5
        Number of neighbours averaged.
    metric, radius, window, exact, ef, n_searches, graph_neighbors, max_degree : see below
        As in :class:`NearestNeighbors`.
    ef_construction, quantization : see below
        As in :class:`NearestNeighbors`.
    weights : {"uniform", "distance"} or callable, default="uniform"
        As in :class:`KNeighborsClassifier`.
    random_state, n_jobs : see below
        As in :class:`NearestNeighbors`.

    Attributes
    ----------
    n_features_in_ : int
        Values per training vector.
    n_samples_fit_ : int
        Number of training points.
    effective_metric_ : str
        The metric in use.

    Examples
    --------
    >>> from nswg.neighbors import KNeighborsRegressor
    >>> reg = KNeighborsRegressor(n_neighbors=2).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    >>> reg.predict([[1.4], [2.9]]).tolist()
    [0.5, 1.0]
    """

    def fit(self, X: Any, y: Any) -> KNeighborsRegressor:
        """Build the index over ``X`` and remember the targets ``y``.

        Parameters
        ----------
        X : array-like, shape=(n, d) or (n_ts, sz, 1)
            Training data.
        y : array-like, shape=(n,) or (n, n_outputs)
            Numeric targets.

        Returns
        -------
        KNeighborsRegressor
            The fitted estimator.

        Examples
        --------
        >>> from nswg.neighbors import KNeighborsRegressor
        >>> KNeighborsRegressor(n_neighbors=1).fit([[0.0], [1.0]], [0.5, 2.0]).n_samples_fit_
        2
        """
        _check_weights(self.weights)
        y = self._fit(X, y)
        self._y = np.asarray(y, dtype=np.float64)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The (weighted) mean target of each query's neighbours.

        Parameters
        ----------
        X : array-like, shape=(n_queries, d) or (n_queries, sz, 1)
            The queries.

        Returns
        -------
        numpy.ndarray of float64, shape=(n_queries,) or (n_queries, n_outputs)

        Examples
        --------
        >>> from nswg.neighbors import KNeighborsRegressor
        >>> reg = KNeighborsRegressor(n_neighbors=2, weights="distance")
        >>> reg.fit([[0.0], [1.0], [5.0]], [[0.0, 1.0], [1.0, 0.0], [9.0, 9.0]]).predict([[0.25]])
        array([[0.25, 0.75]])
        """
        check_is_fitted(self)
        _check_weights(self.weights)
        self._check_search_params()
        k = _positive_int(self.n_neighbors, "n_neighbors")
        distances, indices = self._kneighbors(self._validate_queries(X), k)
        targets = self._y[indices]  # (m, k) or (m, k, n_outputs)
        weights = _get_weights(distances, self.weights)
        if weights is None:
            return np.asarray(targets.mean(axis=1))
        if targets.ndim == 3:
            weights = weights[:, :, None]
        out: np.ndarray = (targets * weights).sum(axis=1) / weights.sum(axis=1)
        return out

    def _check_y_params(self) -> dict[str, Any]:
        return {"multi_output": True, "y_numeric": True}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _objects(arrays: list[np.ndarray]) -> np.ndarray:
    """A 1-D object array of ``arrays`` (numpy would stack arrays of equal lengths)."""
    out = np.empty(len(arrays), dtype=object)
    out[:] = arrays
    return out


def _is_dtw(metric: Any) -> bool:
    """Whether ``metric`` names DTW; a bad name is reported by the checks of ``fit``."""
    return isinstance(metric, str) and metric.strip().lower() == "dtw"


def _get_weights(distances: np.ndarray, weights: Weights) -> np.ndarray | None:
    """Vote weights as sklearn computes them (``sklearn.neighbors._base._get_weights``)."""
    if weights == "uniform":
        return None
    if weights == "distance":
        with np.errstate(divide="ignore"):
            inverse: np.ndarray = 1.0 / distances.astype(np.float64)
        at_zero = np.isinf(inverse)
        rows = at_zero.any(axis=1)
        inverse[rows] = at_zero[rows]
        return inverse
    if isinstance(weights, str):
        raise ValueError(f"weights must be 'uniform', 'distance' or a callable, got {weights!r}")
    custom: np.ndarray = np.asarray(weights(distances), dtype=np.float64)
    return custom


def _check_weights(weights: Any) -> None:
    if not (callable(weights) or weights in ("uniform", "distance")):
        raise ValueError(f"weights must be 'uniform', 'distance' or a callable, got {weights!r}")


def _positive_int(value: Any, name: str) -> int:
    """:func:`nswg._validation.positive_int` in scikit-learn's wording, which users of its
    estimators (and its estimator checks) expect."""
    n = non_negative_int(value, name)
    if n < 1:
        raise ValueError(f"Expected {name} > 0. Got {n}")
    return n


def _n_threads(n_jobs: Any) -> int:
    """``n_jobs`` as joblib counts it, mapped to nswg's ``n_threads`` (0 = one per core)."""
    if n_jobs is None:
        return 0
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, numbers.Integral):
        raise TypeError(f"n_jobs must be an integer or None, got {n_jobs!r}")
    n = int(n_jobs)
    if n == 0:
        raise ValueError("n_jobs == 0 has no meaning: use None or -1 for one thread per core")
    if n > 0:
        return thread_count(n, "n_jobs")
    return max(1, (os.cpu_count() or 1) + 1 + n)


def _seed(random_state: Any) -> int:
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@dataclass(frozen=True)
class DTWWindow:
    """The Sakoe-Chiba window :func:`learn_dtw_window` chose, and what it measured.

    Attributes
    ----------
    window_percent : int
        The window in percent of the series length, as DataSummary's ``DTW (learned_w)`` gives
        it: the smallest of those with the lowest leave-one-out error.
    radius : int
        That window as a radius in time steps, ``ceil(window_percent * sz / 100)``
        (:func:`nswg.datasets.ucr_window_radius`), what :meth:`nswg.Index.build` takes.
    error : float
        Its leave-one-out 1-NN error on the training set.
    errors : numpy.ndarray of float64, shape=(max_percent + 1,)
        The leave-one-out error of every window from 0% to ``max_percent``.
    n_distance_computations : int
        DTW computations the whole search made (each window's searches, windows of the same
        radius searched once).

    Examples
    --------
    >>> import numpy as np
    >>> from nswg.neighbors import DTWWindow
    >>> DTWWindow(3, 5, 0.1, np.array([0.2, 0.2, 0.15, 0.1]), 1200).radius
    5
    """

    window_percent: int
    radius: int
    error: float
    errors: np.ndarray
    n_distance_computations: int


def learn_dtw_window(
    X: Any, y: Any, *, max_percent: int = 100, n_jobs: int | None = None
) -> DTWWindow:
    """Learn the Sakoe-Chiba window of DTW by leave-one-out 1-NN on the training set.

    The UCR archive's ``DTW (learned_w)`` procedure: every window from 0% to ``max_percent``
    of the series length, each series classified by its nearest other training series (ties
    to the first), the smallest window of the lowest error kept. Each window runs one exact
    search of the training set against itself, with the lower bounds and early abandoning of
    :meth:`nswg.Index.search`; windows that round to the same radius are searched once.

    Parameters
    ----------
    X : array-like, shape=(n_ts, sz) or (n_ts, sz, d)
        Training series of equal length (univariate, or multivariate as tslearn's arrays).
    y : array-like, shape=(n_ts,)
        Their classes.
    max_percent : int, default=100
        The widest window tried, in percent of ``sz``.
    n_jobs : int, optional
        Threads, as the estimators count them (None: one per core).

    Returns
    -------
    DTWWindow

    Raises
    ------
    ValueError
        Fewer than two series, labels that do not match them, series with NaN padding
        (variable-length data, for which the percentages of the archive have no single
        length), or ``max_percent`` above 100.

    Examples
    --------
    >>> from nswg.datasets import load_ucr
    >>> from nswg.neighbors import learn_dtw_window
    >>> X, y, _, _ = load_ucr("CBF")
    >>> found = learn_dtw_window(X, y)
    >>> found.window_percent, found.radius, found.error   # the archive's learned_w: 11
    (11, 15, 0.0)
    """
    rows, channels = as_rows_and_channels(X, "X", "dtw")
    labels = np.asarray(y)
    if labels.shape != (len(rows),):
        raise ValueError(
            f"y must have one label per series ({len(rows)}), got shape {labels.shape}"
        )
    if len(rows) < 2:
        raise ValueError("leave-one-out needs at least two training series")
    if np.isnan(rows).any():
        raise ValueError("X holds NaN: learning a window needs series of equal length")
    widest = non_negative_int(max_percent, "max_percent")
    if widest > 100:
        raise ValueError(f"max_percent must be at most 100, got {widest}")
    sz = rows.shape[1] // channels
    series = rows.reshape(len(rows), sz, channels) if channels > 1 else rows
    threads = _n_threads(n_jobs)
    by_radius: dict[int, float] = {}
    errors = np.empty(widest + 1)
    computed = 0
    for percent in range(widest + 1):
        radius = ucr_window_radius(percent, sz)
        if radius not in by_radius:
            index = Index.build(series, metric="dtw", radius=radius, graph=False, progress=False)
            found = index.search(series, k=2, exact=True, n_threads=threads)
            # A series finds itself first, unless an identical one comes before it by id.
            own = found.ids[:, 0] == np.arange(len(rows))
            nearest = np.where(own, found.ids[:, 1], found.ids[:, 0])
            by_radius[radius] = float(np.mean(labels[nearest] != labels))
            computed += int(np.sum(found.n_distance_computations))
        errors[percent] = by_radius[radius]
    best = int(np.argmin(errors))  # the first, smallest, of the tied windows
    return DTWWindow(best, ucr_window_radius(best, sz), float(errors[best]), errors, computed)
