"""The exceptions nswg raises beyond Python's own.

Bad arguments raise ``ValueError`` or ``TypeError``; changing an index memory-mapped from its
file raises ``ReadOnlyIndexError``; a thread pool that cannot start raises
``RuntimeError``; a shard of :class:`nswg.distributed.ShardedIndex` that cannot be reached or
restored raises ``ShardUnavailableError``; Ctrl-C during a long call raises
``KeyboardInterrupt`` and leaves the index unchanged.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import zlib
from collections.abc import Iterator

__all__ = ["IndexFileError", "ReadOnlyIndexError", "ShardUnavailableError"]


class IndexFileError(ValueError):
    """Data that is not a readable nswg index: truncated, corrupted, foreign, or of a newer
    format. Raised by :meth:`nswg.Index.load` (the message names the file) and by unpickling.

    A subclass of ``ValueError``, so code that caught ``ValueError`` before still does.

    Examples
    --------
    >>> import numpy as np
    >>> from nswg import Index, IndexFileError
    >>> Index.build(np.eye(3)).save("eye.nswg")
    >>> with open("eye.nswg", "r+b") as f:
    ...     _ = f.truncate(40)
    >>> try:
    ...     Index.load("eye.nswg")
    ... except IndexFileError as e:
    ...     print(str(e).startswith("eye.nswg: "))
    True
    """


class ReadOnlyIndexError(ValueError):
    """A call that would change an index loaded with ``Index.load(path, mmap=True)``:
    :meth:`nswg.Index.add`, :meth:`~nswg.Index.remove` or :meth:`~nswg.Index.compact`. Such
    an index reads its rows and graph in place from the file's pages, which nothing changes;
    load the file without ``mmap`` (or unpickle a copy) to change the index.

    A subclass of ``ValueError``, as the other errors of an argument the call cannot take.

    Examples
    --------
    >>> import numpy as np
    >>> from nswg import Index, ReadOnlyIndexError
    >>> Index.build(np.eye(3)).save("eye.nswg")
    >>> index = Index.load("eye.nswg", mmap=True)
    >>> try:
    ...     index.remove([0])
    ... except ReadOnlyIndexError as e:
    ...     print(str(e).split(":")[0])
    this index is memory-mapped from its file, read-only
    """


class ShardUnavailableError(RuntimeError):
    """A shard of a :class:`nswg.distributed.ShardedIndex` could not take part in a call: its
    worker was lost more often than the index's ``retries`` allow, no worker is left, or the
    shard could not be restored (its saved file is gone or damaged). Nothing is answered
    without it; the next call restores the shard first.

    Parameters
    ----------
    shard : int
        The shard's position in ``ShardedIndex.shards``.
    worker : str or None
        The address of the worker it was on, if known.
    reason : str
        Why it is unavailable, for the message.

    Attributes
    ----------
    shard : int
        The shard's position in ``ShardedIndex.shards``.
    worker : str or None
        The address of the worker it was on.

    Examples
    --------
    >>> from nswg import ShardUnavailableError
    >>> error = ShardUnavailableError(2, "tcp://10.0.0.5:40331", "its worker was lost")
    >>> print(error)
    shard 2 (on tcp://10.0.0.5:40331) is unavailable: its worker was lost
    >>> error.shard
    2
    """

    def __init__(self, shard: int, worker: str | None, reason: str) -> None:
        super().__init__(f"shard {shard} (on {worker}) is unavailable: {reason}")
        self.shard = shard
        self.worker = worker


@contextlib.contextmanager
def gzip_errors(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turns the errors of reading truncated or corrupt gzip data into ``ValueError`` naming
    ``path``, the error the loaders document for a file they cannot read."""
    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise ValueError(f"{path}: truncated or corrupt gzip data ({e})") from None
