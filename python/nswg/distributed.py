"""A sharded index on Dask: the rows split over several :class:`nswg.Index`, one per shard, each
built on a ``dask.distributed`` worker and kept resident there.

Every query goes to every shard; the per-shard nearest neighbours are merged by (distance,
global id), so an exact search answers exactly as one :class:`nswg.Index` over all the rows
would, ids and distances alike. Needs ``pip install "nswg[dask]"`` (Python >= 3.10).

A shard lives in its worker's memory as the result of a task restricted to that worker, and
every task that reads or changes it runs there too (``allow_other_workers=False``): the index is
never copied between workers, and a change always reaches the one copy. When a worker is lost,
the client notices (the worker leaves the scheduler, or the shard's data is reported lost),
restores the shard on another worker from its source, and resubmits the work, at most
``retries`` times per call; then it raises :class:`~nswg.errors.ShardUnavailableError`. A
shard's source is the file of the last :meth:`ShardedIndex.save` (or
:meth:`ShardedIndex.load`), or before that the rows it was built from: a copy the client keeps
of a numpy input, or the chunk of a ``dask.array`` input, recomputed from its graph. The
additions and removals made since are kept by the client and replayed.

Examples
--------
>>> import numpy as np
>>> from distributed import Client
>>> from nswg import Index
>>> from nswg.distributed import ShardedIndex
>>> client = Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None)
>>> X = np.random.default_rng(0).normal(size=(1000, 8)).astype(np.float32)
>>> sharded = ShardedIndex.build(X, n_shards=3, client=client)
>>> sharded
nswg.distributed.ShardedIndex(n=1000, dim=8, metric='euclidean', n_shards=3, workers=2)
>>> [shard.size for shard in sharded.shards]
[334, 333, 333]
>>> exact = sharded.search(X[:5], k=3, exact=True)
>>> one = Index.build(X).search(X[:5], k=3, exact=True)
>>> bool((exact.ids == one.ids).all() and (exact.distances == one.distances).all())
True
>>> client.close()
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import Any

import numpy as np

try:
    import distributed
    from dask.delayed import delayed
    from dask.sizeof import sizeof
except ImportError as e:  # pragma: no cover - the extra is missing
    raise ImportError(
        'nswg.distributed needs dask.distributed (Python >= 3.10): pip install "nswg[dask]"'
    ) from e

from nswg._validation import (
    as_ids,
    as_queries,
    as_rows,
    flag,
    index_rows,
    metric_name,
    non_negative_int,
    optional_seconds,
    positive_int,
)
from nswg.errors import IndexFileError, ShardUnavailableError
from nswg.index import DEFAULT_EF, DEFAULT_N_SEARCHES, Index, SearchResult

__all__ = ["ShardInfo", "ShardedIndex"]

#: The manifest's name inside a saved sharded index's directory.
MANIFEST = "manifest.json"
#: Its ``format`` field and version.
MANIFEST_FORMAT = "nswg-sharded-index"
MANIFEST_VERSION = 1
#: How often (seconds) a waiting call checks that the workers of its shards are still there.
POLL_SECONDS = 0.1
#: Options of Index.build that a shard does not take from the user: a shard's threads are its
#: worker's, and a worker has no terminal to show progress on.
WORKER_OPTIONS = ("n_threads", "progress")


# --- Tasks: these run on the workers -------------------------------------------------------


@sizeof.register(Index)
def _index_bytes(index: Index) -> int:
    """What a shard occupies: rows and neighbour lists (dask's memory accounting and spilling)."""
    return 4 * index.n_ids * index.dim + 4 * index._core.n_links


def _worker_threads() -> int:
    """nswg's threads inside a task: the worker's thread count, so workers never oversubscribe."""
    return int(distributed.get_worker().state.nthreads)


@dataclass(frozen=True)
class _File:
    """A shard's saved file, as the manifest describes it."""

    path: str
    sha256: str
    n: int
    n_ids: int
    dim: int
    metric: str


@dataclass(frozen=True)
class _Log:
    """Additions (``("add", rows)``) and removals (``("remove", local ids)``) since the source."""

    entries: tuple[tuple[str, np.ndarray], ...]


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _open_shard(source: Any, log: _Log | None, options: dict[str, Any]) -> Index:
    """A shard's index, from its saved file or its rows, with the changes since replayed."""
    threads = _worker_threads()
    if isinstance(source, _File):
        digest = _sha256(source.path)
        if digest != source.sha256:
            raise IndexFileError(
                f"{source.path}: damaged: its sha256 is {digest}, the manifest records "
                f"{source.sha256}"
            )
        index = Index.load(source.path)
        found = (len(index), index.n_ids, index.dim, index.metric)
        wanted = (source.n, source.n_ids, source.dim, source.metric)
        if found != wanted:
            raise IndexFileError(
                f"{source.path}: holds (points, ids, dim, metric) = {found}, the manifest "
                f"records {wanted}"
            )
    else:
        index = Index.build(source, n_threads=threads, progress=False, **options)
    for op, values in log.entries if log is not None else ():
        if op == "add":
            index.add(values, n_threads=threads, progress=False)
        else:
            index.remove(values)
    return index


def _search_shard(
    index: Index, queries: np.ndarray, k: int, ef: int, n_searches: int, exact: bool
) -> tuple[np.ndarray, np.ndarray, Any, Any]:
    result = index.search(
        queries, k, ef=ef, n_searches=n_searches, exact=exact, n_threads=_worker_threads()
    )
    return (
        result.ids,
        result.distances,
        result.n_distance_computations,
        result.n_lower_bound_computations,
    )


def _add_to_shard(index: Index, rows: np.ndarray) -> None:
    index.add(rows, n_threads=_worker_threads(), progress=False)


def _remove_from_shard(index: Index, local_ids: np.ndarray) -> None:
    index.remove(local_ids)


def _save_shard(index: Index, path: str) -> tuple[str, int]:
    index.save(path)
    return _sha256(path), os.path.getsize(path)


# --- The client side --------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardInfo:
    """One shard of a :class:`ShardedIndex`, as :attr:`ShardedIndex.shards` lists them.

    Attributes
    ----------
    size : int
        Its points, removed ones excluded.
    n_ids : int
        Local ids it has given out, removed points included.
    worker : str or None
        Address of the worker holding it; None while it is lost (the next call restores it).

    Examples
    --------
    >>> from nswg.distributed import ShardInfo
    >>> ShardInfo(size=1000, n_ids=1200, worker="tcp://10.0.0.5:40331").size
    1000
    """

    size: int
    n_ids: int
    worker: str | None


@dataclass(eq=False)
class _Shard:
    #: How to restore it: rows (numpy, kept by the client), a dask Delayed chunk, or a _File.
    source: Any
    #: Live points and local ids given out.
    n: int
    n_ids: int
    #: Runs of consecutive ids: rows (local start, global start), by local start. The run of
    #: row r covers local ids up to the next run's start (or n_ids).
    runs: np.ndarray
    #: Local ids removed, sorted.
    removed: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    #: Changes since the source, replayed on restoring.
    log: list[tuple[str, np.ndarray]] = field(default_factory=list)
    #: The resident index (a Future of an Index) and its worker; None while lost.
    future: Any = None
    worker: str | None = None

    def to_global(self, local: np.ndarray) -> np.ndarray:
        run = np.searchsorted(self.runs[:, 0], local, side="right") - 1
        return self.runs[run, 1] + (local - self.runs[run, 0])

    def run_counts(self) -> np.ndarray:
        return np.diff(np.append(self.runs[:, 0], self.n_ids))


class ShardedIndex:
    """An index split into shards, each an :class:`nswg.Index` resident on a Dask worker.

    Build one with :meth:`build` or :meth:`load`. Global ids number the rows as one index
    would: the rows given to :meth:`build` are 0 to n - 1 in order, and each :meth:`add`
    continues from the last id given out. Calls from several threads run one at a time; each
    call runs on all its shards at once.

    Examples
    --------
    >>> import numpy as np
    >>> from distributed import Client
    >>> from nswg.distributed import ShardedIndex
    >>> client = Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None)
    >>> X = np.random.default_rng(0).normal(size=(600, 4))
    >>> index = ShardedIndex.build(X, n_shards=2, client=client, metric="cosine", seed=7)
    >>> index.add(X[:2] + 0.5).tolist()
    [600, 601]
    >>> index.remove([0, 601])
    >>> len(index), index.n_ids
    (600, 602)
    >>> index.save("sharded")
    >>> ShardedIndex.load("sharded", client=client).search(X[1], k=1, exact=True).ids.tolist()
    [1]
    >>> client.close()
    """

    def __init__(
        self,
        *,
        client: distributed.Client,
        options: dict[str, Any],
        dim: int,
        shards: list[_Shard],
        next_id: int,
        retries: int,
    ) -> None:
        probe = _probe(options, dim)  # also refuses options a manifest may carry wrongly
        self._client = client
        self._options = options
        self._dim = dim
        self._metric = probe.metric
        self._radius = probe.radius
        self._has_graph = probe.has_graph
        self._shards = shards
        self._next_id = next_id
        self.retries = retries
        self._lock = threading.RLock()

    # --- building and loading ---

    @classmethod
    def build(
        cls,
        vectors: Any,
        n_shards: int | None = None,
        *,
        client: distributed.Client | None = None,
        metric: str = "euclidean",
        retries: int = 3,
        **index_options: Any,
    ) -> ShardedIndex:
        """Build one :class:`nswg.Index` per shard, each on a worker, and keep them there.

        Parameters
        ----------
        vectors : array-like or dask.array.Array, shape=(n, d) or (n, sz, 1)
            The rows. A numpy array is checked in full on the client, split into ``n_shards``
            near-equal contiguous parts and sent to the workers; the client keeps a copy until
            the first :meth:`save`, to rebuild a shard whose worker is lost. A ``dask.array``
            is not gathered on the client: each chunk of rows is computed and indexed on one
            worker, and rebuilt from its graph if that worker is lost.
        n_shards : int, optional
            Shards. Default: one per worker for a numpy array, one per chunk of rows for a
            ``dask.array`` (which is rechunked into ``n_shards`` parts when given).
        client : distributed.Client, optional
            Default: the current client (``distributed.default_client()``).
        metric : {"euclidean", "cosine", "dtw"}, default="euclidean"
        retries : int, default=3
            How many times one call restores a shard whose worker is lost and resubmits its
            work before raising :class:`~nswg.errors.ShardUnavailableError`. 0 raises at the first
            loss (the next call restores the shard first).
        **index_options
            Passed to :meth:`nswg.Index.build` for every shard (``radius``, ``window``,
            ``n_neighbors``, ``seed``, ``graph``, ...), and checked before any work is sent.
            Not ``n_threads``: a shard uses its worker's threads.

        Returns
        -------
        ShardedIndex

        Raises
        ------
        ValueError, TypeError
            As :meth:`nswg.Index.build`; for a ``dask.array``, row errors name the shard.
        ShardUnavailableError
            A shard's workers were lost more than ``retries`` times while it was built.

        Examples
        --------
        >>> import numpy as np
        >>> import dask.array as da
        >>> from distributed import Client
        >>> from nswg.distributed import ShardedIndex
        >>> client = Client(processes=False, n_workers=2, threads_per_worker=1,
        ...                 dashboard_address=None)
        >>> series = da.random.default_rng(0).normal(size=(900, 32), chunks=(300, 32))
        >>> index = ShardedIndex.build(series.cumsum(axis=1), client=client, metric="dtw",
        ...                            window=0.1)
        >>> [shard.size for shard in index.shards], index.radius
        ([300, 300, 300], 4)
        >>> client.close()
        """
        client = _client(client)
        retries = non_negative_int(retries, "retries")
        for name in WORKER_OPTIONS:
            if name in index_options:
                raise TypeError(f"{name} is not a shard option: a shard uses its worker's threads")
        options = {"metric": metric_name(metric), **index_options}
        if _is_dask_array(vectors):
            dim, sources = _dask_sources(vectors, n_shards)
            _probe(options, dim)
        else:
            rows = as_rows(vectors, "vectors")
            _probe(options, rows.shape[1])
            # The core's checks of every row (NaN, infinities, zero vectors under cosine) before
            # anything is sent: an index without a graph costs a copy and no distance.
            Index.build(rows, progress=False, **{**options, "graph": False})
            if isinstance(vectors, np.ndarray) and np.may_share_memory(rows, vectors):
                rows = rows.copy()  # the copy a lost shard is rebuilt from
            if n_shards is None:
                n_shards = max(1, len(client.nthreads()))
            n_shards = positive_int(n_shards, "n_shards")
            if n_shards > len(rows):
                raise ValueError(f"n_shards ({n_shards}) must not exceed the rows ({len(rows)})")
            dim, parts = rows.shape[1], np.array_split(rows, n_shards)
            sources = [(len(part), part) for part in parts]
        shards, offset = [], 0
        for n, source in sources:
            shards.append(
                _Shard(source=source, n=n, n_ids=n, runs=np.array([[0, offset]], dtype=np.int64))
            )
            offset += n
        index = cls(
            client=client,
            options=_jsonable(options),
            dim=dim,
            shards=shards,
            next_id=offset,
            retries=retries,
        )
        index._open()
        return index

    @classmethod
    def load(
        cls,
        directory: str | os.PathLike[str],
        *,
        client: distributed.Client | None = None,
        retries: int = 3,
    ) -> ShardedIndex:
        """Load a sharded index saved by :meth:`save`, one shard per worker in turn.

        Each worker checks its shard file's sha256 against the manifest before loading it. If
        any shard fails, the others are released and nothing is returned.

        Parameters
        ----------
        directory : path-like
            A directory written by :meth:`save`.
        client : distributed.Client, optional
            The Dask client whose workers take the shards; the current client by default.
        retries : int, default 3
            Restorations of lost shards one call may make before
            :class:`~nswg.errors.ShardUnavailableError`.

        Raises
        ------
        OSError
            The manifest or a shard file cannot be read.
        IndexFileError
            The manifest is not one, or a shard file is damaged (the message names it).

        Examples
        --------
        >>> import numpy as np
        >>> from distributed import Client
        >>> from nswg.distributed import ShardedIndex
        >>> client = Client(processes=False, n_workers=2, threads_per_worker=1,
        ...                 dashboard_address=None)
        >>> ShardedIndex.build(np.eye(6), n_shards=2, client=client).save("eye")
        >>> ShardedIndex.load("eye", client=client)
        nswg.distributed.ShardedIndex(n=6, dim=6, metric='euclidean', n_shards=2, workers=2)
        >>> client.close()
        """
        client = _client(client)
        retries = non_negative_int(retries, "retries")
        root = os.path.abspath(os.fspath(directory))
        path = os.path.join(root, MANIFEST)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            manifest = json.loads(text)
            if manifest.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"not a sharded nswg index (format {manifest.get('format')!r})")
            if manifest["version"] > MANIFEST_VERSION:
                raise ValueError(
                    f"written by a newer nswg (version {manifest['version']}; this one reads "
                    f"up to {MANIFEST_VERSION})"
                )
            options, dim = dict(manifest["options"]), int(manifest["dim"])
            shards = [
                _Shard(
                    source=_File(
                        os.path.join(root, entry["file"]),
                        str(entry["sha256"]),
                        int(entry["n"]),
                        int(entry["n_ids"]),
                        dim,
                        str(options["metric"]),
                    ),
                    n=int(entry["n"]),
                    n_ids=int(entry["n_ids"]),
                    runs=np.array(entry["ids"], dtype=np.int64).reshape(-1, 2),
                    removed=np.array(entry["removed"], dtype=np.int64),
                )
                for entry in manifest["shards"]
            ]
            index = cls(
                client=client,
                options=options,
                dim=dim,
                shards=shards,
                next_id=int(manifest["next_id"]),
                retries=retries,
            )
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise IndexFileError(f"{path}: {e}") from None
        index._open()
        return index

    def _open(self) -> None:
        """Place every shard, round robin over the workers, and wait until all are built."""
        workers = sorted(self._client.nthreads())
        if not workers:
            raise ShardUnavailableError(0, None, "the client has no workers")
        for i, shard in enumerate(self._shards):
            self._place(shard, workers[i % len(workers)])
        try:
            self._run(range(len(self._shards)), None, opening=True)
        except BaseException:
            self.close()
            raise

    # --- searching ---

    def search(
        self,
        q: Any,
        k: int = 10,
        *,
        ef: int | None = None,
        n_searches: int = DEFAULT_N_SEARCHES,
        exact: bool = False,
        timeout: float | None = None,
    ) -> SearchResult:
        """Find the ``k`` nearest points to each query, in all shards.

        The queries go once to each worker holding shards; each shard answers with its own
        ``min(k, size)`` nearest (as :meth:`nswg.Index.search`, on its worker's threads), and
        the answers are merged by (distance, global id).

        Parameters
        ----------
        q, k, ef, n_searches, exact
            As :meth:`nswg.Index.search`. ``ef`` and ``n_searches`` apply to each shard.
        timeout : float, optional
            Seconds to wait for all shards (restoring lost ones included); past it the
            shards' work is cancelled and ``TimeoutError`` raised. Default: no limit.

        Returns
        -------
        SearchResult
            Global ids and distances, nearest first; ``n_distance_computations`` and
            ``n_lower_bound_computations`` summed over the shards.

        Raises
        ------
        TimeoutError
            A shard did not answer within ``timeout``.
        ShardUnavailableError
            A shard's workers were lost more than ``retries`` times during the call.

        Examples
        --------
        >>> import numpy as np
        >>> from distributed import Client
        >>> from nswg.distributed import ShardedIndex
        >>> client = Client(processes=False, n_workers=2, threads_per_worker=1,
        ...                 dashboard_address=None)
        >>> index = ShardedIndex.build(np.arange(20.0).reshape(10, 2), n_shards=3, client=client)
        >>> ids, distances = index.search([[2.1, 3.1]], k=3, exact=True, timeout=60)
        >>> ids.tolist(), index.search([2.1, 3.1], k=3).n_distance_computations
        ([[1, 2, 0]], 10)
        >>> client.close()
        """
        single, queries = as_queries(q, self._dim, self._metric)
        k = positive_int(k, "k")
        ef = max(k, DEFAULT_EF) if ef is None else positive_int(ef, "ef")
        n_searches = positive_int(n_searches, "n_searches")
        exact = flag(exact, "exact")
        seconds = optional_seconds(timeout, "timeout")
        if not exact and not self._has_graph:
            raise ValueError("this index was built with graph=False: search it with exact=True")
        with self._lock:
            if k > len(self):
                raise ValueError(
                    f"k must be between 1 and the number of points ({len(self)}), got {k}"
                )
            deadline = None if seconds is None else time.monotonic() + seconds
            sent: dict[str, Any] = {}

            def search_shard(i: int, shard: _Shard) -> Any:
                worker = str(shard.worker)
                if worker not in sent:
                    sent[worker] = self._client.scatter(queries, workers=[worker], hash=False)
                return self._submit(
                    _search_shard,
                    shard,
                    sent[worker],
                    min(k, shard.n),
                    ef,
                    n_searches,
                    exact,
                )

            answers = self._run(range(len(self._shards)), search_shard, deadline=deadline)
            parts = [
                (self._shards[i].to_global(answer[0]), answer[1], answer[2], answer[3])
                for i, answer in sorted(answers.items())
            ]
        ids, distances = merge_top_k([p[0] for p in parts], [p[1] for p in parts], k)
        counts = np.sum([np.asarray(p[2], dtype=np.int64) for p in parts], axis=0)
        bounds = np.sum([np.asarray(p[3], dtype=np.int64) for p in parts], axis=0)
        if single:
            return SearchResult(ids[0], distances[0], int(counts[0]), int(bounds[0]))
        return SearchResult(ids, distances, counts, bounds)

    # --- changing ---

    def add(self, vectors: Any) -> np.ndarray:
        """Add rows to the shard with the fewest points; they get the next global ids.

        The rows are checked on the client as :meth:`nswg.Index.add` checks them. If the shard
        cannot take them (its workers lost more than ``retries`` times), nothing is added.

        Parameters
        ----------
        vectors : array-like of shape (m, dim) or (dim,)
            The rows to add.

        Returns
        -------
        numpy.ndarray of int64
            The global ids of the new rows.

        Examples
        --------
        >>> import numpy as np
        >>> from distributed import Client
        >>> from nswg.distributed import ShardedIndex
        >>> client = Client(processes=False, n_workers=2, threads_per_worker=1,
        ...                 dashboard_address=None)
        >>> index = ShardedIndex.build(np.eye(4), n_shards=2, client=client)
        >>> index.add([[3.0, 3.0, 3.0, 3.0]]).tolist()
        [4]
        >>> int(index.search([3.0, 3.0, 3.0, 2.9], k=1).ids[0])
        4
        >>> client.close()
        """
        rows = index_rows(vectors, "vectors", self._dim, self._metric)
        Index.build(rows, metric=self._metric, graph=False, progress=False)  # the core's checks
        if isinstance(vectors, np.ndarray) and np.may_share_memory(rows, vectors):
            rows = rows.copy()  # kept in the log
        with self._lock:
            i = min(range(len(self._shards)), key=lambda j: (self._shards[j].n, j))
            shard = self._shards[i]
            first, saved = self._next_id, (shard.n, shard.n_ids, shard.runs, len(shard.log))
            shard.runs = np.vstack([shard.runs, [[shard.n_ids, first]]])
            shard.n, shard.n_ids = shard.n + len(rows), shard.n_ids + len(rows)
            shard.log.append(("add", rows))
            self._next_id += len(rows)
            try:
                self._run([i], lambda _, s: self._submit(_add_to_shard, s, rows), logged=True)
            except BaseException:
                shard.n, shard.n_ids, shard.runs = saved[:3]
                del shard.log[saved[3] :]
                self._next_id = first
                raise
        return np.arange(first, first + len(rows), dtype=np.int64)

    def remove(self, ids: Any) -> None:
        """Remove points by global id: they are never returned again.

        All ids are checked before any is removed. A shard left without points is dropped. A
        shard whose workers are lost during the call keeps the removal on record and applies
        it when it is restored, at the next call: no search ever returns a removed id.

        Parameters
        ----------
        ids : int or array-like of int
            Global ids, as :meth:`search` returns them.

        Raises
        ------
        ValueError
            An id never given out, repeated or already removed, or removing every point.

        Examples
        --------
        >>> import numpy as np
        >>> from distributed import Client
        >>> from nswg.distributed import ShardedIndex
        >>> client = Client(processes=False, n_workers=2, threads_per_worker=1,
        ...                 dashboard_address=None)
        >>> index = ShardedIndex.build(np.arange(12.0).reshape(6, 2), n_shards=3, client=client)
        >>> index.remove([0, 1, 5])
        >>> len(index), [shard.size for shard in index.shards]
        (3, [2, 1])
        >>> index.search([0.0, 0.0], k=1).ids.tolist()
        [2]
        >>> client.close()
        """
        gids = as_ids(ids).astype(np.int64)
        with self._lock:
            where, local = self._locate(gids)
            unique, counts = np.unique(gids, return_counts=True)
            if (counts > 1).any():
                raise ValueError(f"id {int(unique[counts > 1][0])} is repeated")
            if len(gids) >= len(self):
                raise ValueError("cannot remove every point of the index")
            removals = {}
            for i in np.unique(where).tolist():
                shard, mine = self._shards[i], np.sort(local[where == i])
                if len(mine) == shard.n:
                    continue  # the shard is left empty: dropped below
                shard.removed = np.union1d(shard.removed, mine)
                shard.n -= len(mine)
                shard.log.append(("remove", mine))
                removals[i] = mine
            try:
                self._run(
                    removals,
                    lambda i, s: self._submit(_remove_from_shard, s, removals[i]),
                    logged=True,
                )
            except ShardUnavailableError:
                pass  # the lost shard applies the removal, on record in its log, when restored
            finally:
                emptied = set(np.unique(where).tolist()) - set(removals)
                for i in sorted(emptied, reverse=True):
                    self._drop(self._shards[i])
                    del self._shards[i]

    def _locate(self, gids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(shard position, local id) of each global id, or ValueError for an unknown one."""
        starts, shard_of, local_starts, lengths = [], [], [], []
        for i, shard in enumerate(self._shards):
            starts.append(shard.runs[:, 1])
            local_starts.append(shard.runs[:, 0])
            lengths.append(shard.run_counts())
            shard_of.append(np.full(len(shard.runs), i))
        start, owner, local_start, length = (
            np.concatenate(a) for a in (starts, shard_of, local_starts, lengths)
        )
        order = np.argsort(start)
        start, owner, local_start, length = (a[order] for a in (start, owner, local_start, length))
        run = np.searchsorted(start, gids, side="right") - 1
        known = (run >= 0) & (gids < start[run] + length[run])
        where = np.where(known, owner[run], -1)
        local = np.where(known, local_start[run] + gids - start[run], -1)
        for i, shard in enumerate(self._shards):
            mine = where == i
            known[mine] &= ~np.isin(local[mine], shard.removed)
        if not known.all():
            bad = int(gids[~known][0])
            raise ValueError(
                f"id {bad} is not in the index: removed, or never given out (ids < {self._next_id})"
            )
        return where, local

    # --- keeping ---

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Save every shard to its own file in ``directory``, then the manifest.

        Each worker writes its shards (atomically, as :meth:`nswg.Index.save`) under names new
        to this save; the manifest (``manifest.json``: the options, each shard's file, sha256,
        sizes and ids) is then written to a temporary file, flushed and renamed over the old
        one, and only then are the previous save's shard files deleted. A save that stops
        midway leaves the previous sharded index in ``directory`` loadable. ``directory``
        must be on a file system that the client and every worker see (shared storage on a
        cluster); from then on a lost shard is restored from its file.

        Parameters
        ----------
        directory : path-like
            The directory to save in, made if missing.

        Raises
        ------
        OSError
            A file cannot be written, or a shard file written by a worker is not visible at
            the same path from the client.

        Examples
        --------
        >>> import os
        >>> import numpy as np
        >>> from distributed import Client
        >>> from nswg.distributed import ShardedIndex
        >>> client = Client(processes=False, n_workers=2, threads_per_worker=1,
        ...                 dashboard_address=None)
        >>> ShardedIndex.build(np.eye(6), n_shards=2, client=client).save("eye")
        >>> sorted(name.split("-")[0] for name in os.listdir("eye"))
        ['manifest.json', 'shard', 'shard']
        >>> client.close()
        """
        root = os.path.abspath(os.fspath(directory))
        os.makedirs(root, exist_ok=True)
        token = uuid.uuid4().hex[:12]
        with self._lock:
            paths = [
                os.path.join(root, f"shard-{i:04d}-{token}.nswg") for i in range(len(self._shards))
            ]
            try:
                written = self._run(
                    range(len(self._shards)),
                    lambda i, s: self._submit(_save_shard, s, paths[i]),
                )
                for path, (_, size) in zip(paths, (written[i] for i in range(len(paths)))):
                    if not os.path.isfile(path) or os.path.getsize(path) != size:
                        raise OSError(
                            f"{path}: written by a worker but not found from the client: save "
                            "to a file system the client and every worker share"
                        )
                manifest = {
                    "format": MANIFEST_FORMAT,
                    "version": MANIFEST_VERSION,
                    "dim": self._dim,
                    "options": self._options,
                    "next_id": self._next_id,
                    "shards": [
                        {
                            "file": os.path.basename(path),
                            "sha256": written[i][0],
                            "bytes": written[i][1],
                            "n": shard.n,
                            "n_ids": shard.n_ids,
                            "ids": shard.runs.tolist(),
                            "removed": shard.removed.tolist(),
                        }
                        for i, (shard, path) in enumerate(zip(self._shards, paths))
                    ],
                }
                _write_atomically(os.path.join(root, MANIFEST), json.dumps(manifest, indent=1))
            except BaseException:
                for path in paths:
                    if os.path.exists(path):
                        os.remove(path)
                raise
            for i, (shard, path) in enumerate(zip(self._shards, paths)):
                shard.source = _File(
                    path, written[i][0], shard.n, shard.n_ids, self._dim, self._metric
                )
                shard.log = []
            current = {os.path.basename(p) for p in paths}
            for name in os.listdir(root):
                if name.startswith("shard-") and name.endswith(".nswg") and name not in current:
                    os.remove(os.path.join(root, name))

    # --- running work on the shards ---

    def _submit(self, function: Callable[..., Any], shard: _Shard, *args: Any) -> Any:
        """``function(index, *args)`` on the shard's worker, and there only."""
        return self._client.submit(
            function,
            shard.future,
            *args,
            workers=[shard.worker],
            allow_other_workers=False,
            pure=False,
        )

    def _place(self, shard: _Shard, worker: str) -> None:
        """Open the shard on ``worker`` from its source, replaying its log."""
        client = self._client
        source = shard.source
        if isinstance(source, np.ndarray):
            source = client.scatter(source, workers=[worker], hash=False)
        log = None
        if shard.log:
            log = client.scatter(_Log(tuple(shard.log)), workers=[worker], hash=False)
        task = delayed(_open_shard, pure=False)(source, log, self._options)
        shard.future = client.compute(task, workers=[worker], allow_other_workers=False)
        shard.worker = worker

    def _drop(self, shard: _Shard) -> None:
        if shard.future is not None:
            self._client.cancel([shard.future], force=True)
        shard.future, shard.worker = None, None

    def _pick_worker(self, position: int, lost: str | None) -> str:
        """The live worker holding the fewest shards, other than ``lost`` if there is one."""
        alive = sorted(self._client.nthreads())
        if not alive:
            raise ShardUnavailableError(position, lost, "no worker is left")
        held = {w: 0 for w in alive}
        for shard in self._shards:
            if shard.worker in held:
                held[shard.worker] += 1
        candidates = [w for w in alive if w != lost] or alive
        return min(candidates, key=lambda w: (held[w], w))

    def _run(
        self,
        positions: Iterable[int],
        step: Callable[[int, _Shard], Any] | None,
        *,
        logged: bool = False,
        opening: bool = False,
        deadline: float | None = None,
    ) -> dict[int, Any]:
        """Run ``step`` on the shards at ``positions`` and return their results by position.

        A shard lost before or during its step (its worker gone, or its data reported lost)
        is dropped, opened again on another worker and its step resubmitted, at most
        ``retries`` times per call. ``logged``: the change the step makes is already in the
        shard's log, so restoring the shard makes it. ``opening``: the step is the opening
        itself (build or load), whose errors are the caller's.
        """
        return _Call(self, step, logged=logged, opening=opening, deadline=deadline).run(positions)

    def _failure(self, i: int, shard: _Shard, error: BaseException, opening: bool) -> Exception:
        """The exception to raise for ``error`` from shard ``i``."""
        if shard.future.status != "error":
            return error if isinstance(error, Exception) else RuntimeError(str(error))
        if opening:  # the rows or file of a build or load: the caller's error, named
            if isinstance(error, (ValueError, TypeError)) and not isinstance(error, IndexFileError):
                first = int(shard.runs[0, 1])
                return type(error)(f"shard {i} (rows from {first}): {error}")
            return error if isinstance(error, Exception) else RuntimeError(str(error))
        worker = shard.worker
        self._drop(shard)
        return ShardUnavailableError(i, worker, f"it could not be restored: {error}")

    # --- reading ---

    def close(self) -> None:
        """Release the shards from the workers' memory; the index is unusable afterwards.

        Examples
        --------
        >>> import numpy as np
        >>> from distributed import Client
        >>> from nswg.distributed import ShardedIndex
        >>> with Client(processes=False, n_workers=1, dashboard_address=None) as client:
        ...     with ShardedIndex.build(np.eye(3), client=client) as index:
        ...         len(index)
        3
        """
        for shard in self._shards:
            self._drop(shard)
        self._shards = []

    def __enter__(self) -> ShardedIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> Any:
        raise TypeError(
            "a ShardedIndex holds futures of one Dask client: save() it and load() it instead"
        )

    def __len__(self) -> int:
        """Points in all shards, removed ones excluded."""
        return sum(shard.n for shard in self._shards)

    @property
    def n_ids(self) -> int:
        """Global ids given out: the id the next added row gets."""
        return self._next_id

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def metric(self) -> str:
        return self._metric

    @property
    def radius(self) -> int | None:
        """Sakoe-Chiba radius under DTW; None for the full window or another metric."""
        return self._radius

    @property
    def client(self) -> distributed.Client:
        return self._client

    @property
    def retries(self) -> int:
        """Restorations of lost shards one call may make before ``ShardUnavailableError``."""
        return self._retries

    @retries.setter
    def retries(self, value: int) -> None:
        self._retries = non_negative_int(value, "retries")

    @property
    def shards(self) -> list[ShardInfo]:
        """Each shard's size, ids given out and worker, in order."""
        return [ShardInfo(s.n, s.n_ids, s.worker) for s in self._shards]

    def __repr__(self) -> str:
        band = ""
        if self._metric == "dtw":
            band = f", radius={self._radius}" if self._radius is not None else ", radius=None"
        workers = len({s.worker for s in self._shards if s.worker is not None})
        return (
            f"nswg.distributed.ShardedIndex(n={len(self)}, dim={self._dim}, "
            f"metric={self._metric!r}{band}, n_shards={len(self._shards)}, workers={workers})"
        )


class _Call:
    """The work of one call on some shards: a step future per shard, and the restorations of
    lost shards it may still make."""

    def __init__(
        self,
        index: ShardedIndex,
        step: Callable[[int, _Shard], Any] | None,
        *,
        logged: bool,
        opening: bool,
        deadline: float | None,
    ) -> None:
        self.index, self.step = index, step
        self.logged, self.opening, self.deadline = logged, opening, deadline
        self.budget = index.retries
        self.pending: dict[int, Any] = {}
        self.results: dict[int, Any] = {}

    def run(self, positions: Iterable[int]) -> dict[int, Any]:
        try:
            for i in positions:
                shard = self.index._shards[i]
                placed = shard.future is None
                if placed:
                    self.index._place(shard, self.index._pick_worker(i, None))
                self.start(i, placed)
            while self.pending:
                self.wait()
                alive = set(self.index._client.nthreads())
                for i, future in list(self.pending.items()):
                    self.settle(i, future, alive)
            return self.results
        except BaseException:
            self.abandon()
            raise

    def start(self, i: int, placed: bool) -> None:
        shard = self.index._shards[i]
        if self.step is None or self.opening or (placed and self.logged):
            self.pending[i] = shard.future
        else:
            self.pending[i] = self.step(i, shard)

    def wait(self) -> None:
        """Until a step finishes, or for at most POLL_SECONDS; TimeoutError past the deadline."""
        timeout = POLL_SECONDS
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                late = ", ".join(str(i) for i in sorted(self.pending))
                raise TimeoutError(f"shards {late} did not answer in time")
            timeout = min(timeout, remaining)
        try:
            distributed.wait(
                list(self.pending.values()), timeout=timeout, return_when="FIRST_COMPLETED"
            )
        except (TimeoutError, CancelledError):
            pass  # settle() tells a cancelled step (its shard lost) from the others

    def settle(self, i: int, future: Any, alive: set[str]) -> None:
        """Take shard i's result, or restore it if it was lost, or raise its error."""
        shard = self.index._shards[i]
        lost = shard.worker not in alive or shard.future.status in ("lost", "cancelled")
        if not lost:
            if future.status == "finished":
                self.results[i] = future.result()
                del self.pending[i]
                return
            if future.status == "error":
                error = future.exception()
                if not isinstance(error, (CancelledError, distributed.KilledWorker)):
                    raise self.index._failure(i, shard, error, self.opening) from error
            elif future.status != "cancelled":
                return  # still running
        worker = shard.worker
        if future is not shard.future:
            self.index._client.cancel([future], force=True)
        self.index._drop(shard)
        if self.budget == 0:
            raise ShardUnavailableError(
                i, worker, f"its worker was lost (retries={self.index.retries} used up)"
            )
        self.budget -= 1
        self.index._place(shard, self.index._pick_worker(i, worker))
        self.start(i, True)

    def abandon(self) -> None:
        """Cancel the steps still running; a change may or may not have been made by then, so
        its shards are dropped, to be restored afresh from their logs."""
        for i, future in self.pending.items():
            shard = self.index._shards[i]
            if future is not shard.future:
                self.index._client.cancel([future], force=True)
            if self.logged:
                self.index._drop(shard)


def merge_top_k(
    ids: Sequence[np.ndarray], distances: Sequence[np.ndarray], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest of several per-shard answers, by (distance, global id).

    Parameters
    ----------
    ids, distances : sequences of arrays of shape (n_queries, k_i)
        Each shard's global ids and distances.

    Examples
    --------
    >>> import numpy as np
    >>> ids, distances = merge_top_k(
    ...     [np.array([[4, 9]]), np.array([[2, 7]])],
    ...     [np.array([[0.5, 1.0]], np.float32), np.array([[0.5, 0.75]], np.float32)],
    ...     k=3,
    ... )
    >>> ids.tolist(), distances.tolist()
    ([[2, 4, 7]], [[0.5, 0.5, 0.75]])
    """
    all_ids = np.concatenate(ids, axis=1)
    all_distances = np.concatenate(distances, axis=1)
    order = np.lexsort((all_ids, all_distances), axis=-1)[:, :k]
    return (
        np.take_along_axis(all_ids, order, axis=1),
        np.take_along_axis(all_distances, order, axis=1),
    )


def _client(client: distributed.Client | None) -> distributed.Client:
    if client is None:
        try:
            return distributed.default_client()
        except ValueError:
            raise ValueError(
                "no Dask client: pass client=distributed.Client(...), or create one first"
            ) from None
    if not isinstance(client, distributed.Client):
        raise TypeError(f"client must be a distributed.Client, got {client!r}")
    return client


def _probe(options: dict[str, Any], dim: int) -> Index:
    """Check the index options as Index.build does, on one row: before any work is sent."""
    return Index.build(np.ones((1, dim), dtype=np.float32), n_threads=1, progress=False, **options)


def _is_dask_array(x: Any) -> bool:
    return type(x).__module__.startswith("dask.array") and hasattr(x, "to_delayed")


def _dask_sources(x: Any, n_shards: int | None) -> tuple[int, list[tuple[int, Any]]]:
    """The row chunks of a dask array, rechunked into ``n_shards`` when given: (rows, Delayed)."""
    if x.dtype.kind not in "iuf":
        raise TypeError(f"vectors must be numeric (real numbers), got dtype {x.dtype}")
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[:, :, 0]
    if x.ndim != 2:
        raise ValueError(f"vectors must be 2-D, shape (n, d), got {x.ndim}-D shape {x.shape}")
    if any(np.isnan(c) for c in x.shape):
        raise ValueError("vectors has unknown chunk sizes: call compute_chunk_sizes() first")
    n, dim = int(x.shape[0]), int(x.shape[1])
    if n == 0 or dim == 0:
        raise ValueError(f"vectors is empty (shape {x.shape}): need at least one row and column")
    if n_shards is not None:
        n_shards = positive_int(n_shards, "n_shards")
        if n_shards > n:
            raise ValueError(f"n_shards ({n_shards}) must not exceed the rows ({n})")
        base, extra = divmod(n, n_shards)
        rows = tuple(base + (i < extra) for i in range(n_shards))
        if x.chunks[0] != rows:
            x = x.rechunk((rows, dim))
    if x.numblocks[1] != 1:
        x = x.rechunk({1: dim})
    return dim, list(zip(map(int, x.chunks[0]), x.to_delayed().ravel()))


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    """The (already checked) options as plain JSON values, for the manifest."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, (bool, np.bool_)):
            out[key] = bool(value)
        elif isinstance(value, numbers.Integral):
            out[key] = int(value)
        elif isinstance(value, numbers.Real):
            out[key] = float(value)
        else:
            out[key] = value
    return out


def _write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a flushed temporary file renamed over it."""
    temporary = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    directory = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
