"""nswg: approximate nearest-neighbour search on a navigable small world graph.

Build an index with :meth:`Index.build` and query it with :meth:`Index.search`::

    >>> import numpy as np
    >>> import nswg
    >>> X = np.random.default_rng(0).normal(size=(1000, 16)).astype(np.float32)
    >>> index = nswg.Index.build(X)
    >>> ids, distances = index.search(X[0], k=3)
    >>> int(ids[0]), float(distances[0])
    (0, 0.0)
"""

from nswg._core import __version__
from nswg.errors import IndexFileError, ReadOnlyIndexError, ShardUnavailableError
from nswg.index import NO_ID, QUANTIZATIONS, GraphStats, Index, RangeResult, SearchResult

__all__ = [
    "NO_ID",
    "QUANTIZATIONS",
    "GraphStats",
    "Index",
    "IndexFileError",
    "RangeResult",
    "ReadOnlyIndexError",
    "SearchResult",
    "ShardUnavailableError",
    "__version__",
]
