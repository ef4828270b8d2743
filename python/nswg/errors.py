"""The exceptions nswg raises beyond Python's own.

Bad arguments raise ``ValueError`` or ``TypeError``; a thread pool that cannot start raises
``RuntimeError``; Ctrl-C during a long call raises ``KeyboardInterrupt`` and leaves the index
unchanged.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import zlib
from collections.abc import Iterator

__all__ = ["IndexFileError"]


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


@contextlib.contextmanager
def gzip_errors(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turns the errors of reading truncated or corrupt gzip data into ``ValueError`` naming
    ``path``, the error the loaders document for a file they cannot read."""
    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise ValueError(f"{path}: truncated or corrupt gzip data ({e})") from None
