"""Word vectors: read the usual file formats, and find nearest words with the graph index.

:class:`WordVectors` holds a vocabulary and its vectors and answers
:meth:`~WordVectors.most_similar` with an :class:`nswg.Index` under cosine distance.
:func:`load_word_vectors` reads GloVe text, word2vec text and binary, and ``.npy`` +
vocabulary files; :func:`load_default_word_vectors` gives the 10,000 most frequent words of
GloVe 6B (50 dimensions), shipped with the package.
Both loaders are also available from :mod:`nswg.datasets`.

Importing this module is cheap: the index is built on the first query.

Examples
--------
>>> from nswg.words import WordVectors
>>> wv = WordVectors.default()
>>> len(wv), wv.dim, "king" in wv
(10000, 50, True)
>>> [(w, round(s, 3)) for w, s in wv.most_similar("king", topn=4, exact=True)]
[('prince', 0.824), ('queen', 0.784), ('ii', 0.775), ('emperor', 0.774)]

Without ``exact=True`` the answer comes from the graph search, which computes far fewer
distances than the 10,000 of the exhaustive search:

>>> neighbours = wv.most_similar("king")
>>> len(neighbours)
10

References
----------
J. Pennington, R. Socher and C. D. Manning, "GloVe: Global Vectors for Word Representation",
EMNLP 2014. The shipped vectors are under the PDDL-1.0 licence.
"""

from __future__ import annotations

import difflib
import gzip
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union, cast

import numpy as np

from nswg._validation import metric_name, non_negative_int, numeric_array, positive_int, to_float32
from nswg.errors import gzip_errors

if TYPE_CHECKING:
    from nswg.index import Index

__all__ = [
    "DEFAULT_WORD_VECTORS",
    "WordVectors",
    "load_default_word_vectors",
    "load_word_vectors",
]

PathLike = Union[str, "os.PathLike[str]"]

#: The 10,000 most frequent words of GloVe 6B, 50 dimensions, float32, shipped with the
#: package; the vocabulary sits beside it in ``glove.6B.50d.top10k.vocab.txt``.
DEFAULT_WORD_VECTORS: Path = (
    Path(__file__).resolve().parent / "data" / "wordvec" / "glove.6B.50d.top10k.float32.npy"
)

_METRICS = ("cosine", "euclidean")
_FORMATS = ("glove", "word2vec", "word2vec-binary", "npy")
_FLOAT_SUFFIXES = (".float16", ".float32", ".float64", ".f16", ".f32", ".f64")


class WordVectors:
    """A vocabulary, its vectors, and nearest-word queries through a graph index.

    The index (:class:`nswg.Index`) is built on the first query, not by the constructor, so
    that creating and inspecting a ``WordVectors`` costs nothing; :attr:`index` builds it on
    demand.

    Parameters
    ----------
    words : iterable of str
        The vocabulary; ``words[i]`` names ``vectors[i]``. When a word appears twice, queries
        by that word use its first row.
    vectors : array-like, shape=(n_words, d)
        Word vectors, copied once to float32: finite, and within float32's range.
    metric : {"cosine", "euclidean"}, default="cosine"
        Distance of the index. Cosine is the usual choice for word vectors.
    **build_options
        Passed to :meth:`nswg.Index.build` (``n_neighbors``, ``ef_construction``, ``seed``,
        ``n_threads``, ...).

    See Also
    --------
    load_word_vectors : The file formats.

    Examples
    --------
    >>> import numpy as np
    >>> from nswg.words import WordVectors
    >>> wv = WordVectors(["cat", "dog", "car"], np.array([[1.0, 0.1], [1.0, 0.2], [0.1, 1.0]]))
    >>> wv["dog"].tolist()
    [1.0, 0.20000000298023224]
    >>> [w for w, _ in wv.most_similar("cat", topn=2)]
    ['dog', 'car']
    """

    def __init__(
        self,
        words: Iterable[str],
        vectors: Any,
        *,
        metric: str = "cosine",
        **build_options: Any,
    ) -> None:
        vocabulary = tuple(words)
        bad = next((w for w in vocabulary if not isinstance(w, str)), None)
        if bad is not None:
            raise TypeError(f"words must be str, got {type(bad).__name__} {bad!r}")
        given = numeric_array(vectors, "vectors")
        if given.ndim != 2:
            raise ValueError(f"vectors must have shape (n_words, d), got {given.shape}")
        if len(vocabulary) != given.shape[0]:
            raise ValueError(f"{len(vocabulary)} words but {given.shape[0]} vectors")
        if not vocabulary:
            raise ValueError("no words")
        array = to_float32(given, "vectors").copy()
        bad = ~np.isfinite(array).all(axis=1)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(f"vectors[{row}] (of {vocabulary[row]!r}) holds NaN or an infinity")
        name = metric_name(metric)
        if name not in _METRICS:
            raise ValueError(f"metric must be one of {', '.join(_METRICS)}, got {metric!r}")
        array.flags.writeable = False  # so that the vectors and the index cannot drift apart
        self._words = vocabulary
        self._vectors = array
        self._metric = name
        self._build_options = dict(build_options)
        self._position: dict[str, int] = {}
        for i, word in enumerate(vocabulary):
            self._position.setdefault(word, i)
        self._index: Index | None = None

    @classmethod
    def from_file(
        cls,
        path: PathLike,
        *,
        vocab: PathLike | None = None,
        format: str | None = None,
        limit: int | None = None,
        metric: str = "cosine",
        **build_options: Any,
    ) -> WordVectors:
        """Read a word-vector file.

        Parameters
        ----------
        path : str or os.PathLike
            The vectors, in any format :func:`load_word_vectors` reads.
        vocab : str or os.PathLike, optional
            The vocabulary of a ``.npy`` file, as in :func:`load_word_vectors`.
        format : {"glove", "word2vec", "word2vec-binary", "npy"}, optional
            Guessed from the file when not given, as in :func:`load_word_vectors`.
        limit : int, optional
            Read only the first ``limit`` words.
        metric : {"cosine", "euclidean"}, default="cosine"
            Distance of the index, as in the constructor.
        **build_options
            Passed to :meth:`nswg.Index.build`, as in the constructor.

        Returns
        -------
        WordVectors
        """
        words, vectors = load_word_vectors(path, vocab, format=format, limit=limit)
        return cls(words, vectors, metric=metric, **build_options)

    @classmethod
    def default(
        cls, *, limit: int | None = None, metric: str = "cosine", **build_options: Any
    ) -> WordVectors:
        """The shipped vectors: the 10,000 most frequent GloVe 6B words, 50 dimensions.

        Parameters
        ----------
        limit : int, optional
            Keep only the first (most frequent) ``limit`` words, as in
            :func:`load_default_word_vectors`.
        metric : {"cosine", "euclidean"}, default="cosine"
            Distance of the index, as in the constructor.
        **build_options
            Passed to :meth:`nswg.Index.build`, as in the constructor.

        Returns
        -------
        WordVectors

        Examples
        --------
        >>> from nswg.words import WordVectors
        >>> len(WordVectors.default(limit=500))
        500
        """
        words, vectors = load_default_word_vectors(limit=limit)
        return cls(words, vectors, metric=metric, **build_options)

    @property
    def words(self) -> tuple[str, ...]:
        """The vocabulary, in row order."""
        return self._words

    @property
    def vectors(self) -> np.ndarray:
        """The vectors, float32, shape (n_words, d), read-only."""
        return self._vectors

    @property
    def dim(self) -> int:
        """Dimension of the vectors."""
        return int(self._vectors.shape[1])

    @property
    def metric(self) -> str:
        """Distance of the index."""
        return self._metric

    @property
    def index(self) -> Index:
        """The graph index over :attr:`vectors`, built on first use."""
        if self._index is None:
            from nswg import Index  # here, so that importing this module stays cheap

            self._index = Index.build(self._vectors, metric=self._metric, **self._build_options)
        return self._index

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self._position

    def __getitem__(self, word: str) -> np.ndarray:
        """The vector of ``word`` (read-only)."""
        vector: np.ndarray = self._vectors[self._row(word)]
        return vector

    def __repr__(self) -> str:
        return f"WordVectors({len(self)} words x {self.dim}, metric={self._metric!r})"

    def most_similar(
        self,
        word_or_vector: str | Any,
        topn: int = 10,
        *,
        exact: bool = False,
        **search_options: Any,
    ) -> list[tuple[str, float]]:
        """The ``topn`` words nearest to a word or a vector, with their cosine similarities.

        Parameters
        ----------
        word_or_vector : str or array-like, shape=(d,)
            A word of the vocabulary (which is left out of the answer) or a vector.
        topn : int, default=10
            Number of words to return (fewer when the vocabulary is smaller).
        exact : bool, default=False
            Compare with every word (brute force) instead of searching the graph: exact, and
            as many distance computations as words.
        **search_options
            Passed to :meth:`nswg.Index.search` (``ef``, ``n_searches``): larger values find
            the true nearest words more often, at the cost of more distance computations.

        Returns
        -------
        list of (str, float)
            Words nearest first, each with its cosine similarity to the query (``1 - cosine
            distance``; under ``metric="euclidean"`` the order is Euclidean and the similarity
            is still the cosine).

        Raises
        ------
        KeyError
            The word is not in the vocabulary; the message suggests close spellings.

        Examples
        --------
        >>> from nswg.words import WordVectors
        >>> wv = WordVectors.default()
        >>> [w for w, _ in wv.most_similar("paris", topn=3, exact=True)]
        ['france', 'brussels', 'amsterdam']

        A vector query leaves no word out:

        >>> v = wv["king"] - wv["man"] + wv["woman"]
        >>> [w for w, _ in wv.most_similar(v, topn=2, exact=True)]
        ['king', 'queen']
        """
        topn = positive_int(topn, "topn")
        if "k" in search_options:
            raise TypeError("most_similar takes the number of words as topn=, not k=")
        if isinstance(word_or_vector, str):
            skip: int | None = self._row(word_or_vector)
            query = self._vectors[skip]
        else:
            skip = None
            query = np.asarray(word_or_vector, dtype=np.float32)
            if query.shape != (self.dim,):
                raise ValueError(
                    f"the query vector must have shape ({self.dim},), got {query.shape}"
                )
        k = min(topn + (skip is not None), len(self))
        ids, distances = self.index.search(query, k=k, exact=exact, **search_options)
        found = [(i, d) for i, d in zip(ids.tolist(), distances.tolist()) if i >= 0 and i != skip]
        found = found[:topn]
        if self._metric == "cosine":
            return [(self._words[i], 1.0 - d) for i, d in found]
        rows = self._vectors[[i for i, _ in found]].astype(np.float64)
        q = query.astype(np.float64)
        norms = np.linalg.norm(rows, axis=1) * np.linalg.norm(q)
        similarity = (rows @ q) / np.where(norms > 0, norms, 1.0)
        return [(self._words[i], float(s)) for (i, _), s in zip(found, similarity)]

    def _row(self, word: str) -> int:
        try:
            return self._position[word]
        except KeyError:
            raise _UnknownWordError(self._unknown_word_message(word)) from None
        except TypeError:
            raise TypeError(f"words are str, got {type(word).__name__}") from None

    def _unknown_word_message(self, word: str) -> str:
        candidates: Iterable[str] = self._position
        if len(self._position) > 50_000:  # keep difflib's quadratic-ish search short
            candidates = [w for w in self._position if w[:1] == word[:1].lower()]
        close = difflib.get_close_matches(word.lower(), candidates, n=3, cutoff=0.75)
        if word.lower() in self._position and word.lower() not in close:
            close.insert(0, word.lower())
        hint = f"; close: {', '.join(repr(w) for w in close)}" if close else ""
        return f"{word!r} is not in the vocabulary ({len(self)} words){hint}"


class _UnknownWordError(KeyError):
    """A KeyError whose message prints as written (KeyError prints the repr of its argument)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# --------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------


def load_word_vectors(
    path: PathLike,
    vocab: PathLike | None = None,
    *,
    format: str | None = None,
    limit: int | None = None,
) -> tuple[list[str], np.ndarray]:
    """Read word vectors in GloVe, word2vec (text or binary) or ``.npy`` + vocabulary format.

    Parameters
    ----------
    path : str or path
        The vectors. Text and binary files may be gzipped (``.gz``).
    vocab : str or path, optional
        Vocabulary of a ``.npy`` file: UTF-8, one word per line, line ``i`` naming row ``i``.
        Default: beside the ``.npy``, its name with ``.npy`` (and a dtype suffix such as
        ``.float32``) replaced by ``.vocab.txt`` (or ``.vocab``).
    format : {"glove", "word2vec", "word2vec-binary", "npy"}, optional
        - ``"glove"``: UTF-8 text, ``word v1 ... vd`` per line separated by single spaces, no
          header;
        - ``"word2vec"``: a first line ``n d``, then as GloVe;
        - ``"word2vec-binary"``: a line ``n d``, then per word its bytes (UTF-8; undecodable
          bytes become U+FFFD), a space and ``d`` little-endian float32, optionally a newline
          (every record alike). The format cannot hold a word with a space: the misaligned
          record that follows is an error wherever it shows (records end in newlines, as
          word2vec.c writes them; otherwise where the next word holds control characters, or
          the count or the end disagree with the header). The header's count must match the
          records (unless ``limit`` stops before) and fit in the file;
        - ``"npy"``: a 2-D numpy array and a vocabulary file.

        Default: ``"npy"`` for ``.npy``, ``"word2vec-binary"`` for ``.bin``; otherwise a
        header line ``n d`` means word2vec, text or binary as the next line reads, and no
        header means GloVe.
    limit : int, optional
        Read only the first ``limit`` words (the most frequent ones, in the usual files).

    Returns
    -------
    words : list of str
    vectors : numpy.ndarray of float32, shape=(n_words, d)

    Raises
    ------
    FileNotFoundError
        The file, or the vocabulary of a ``.npy``, is missing.
    ValueError
        Ragged rows, values that are not numbers, NaN, infinite or beyond float32's range, a
        header that disagrees with the data (or announces more than the file can hold), a
        vocabulary whose length differs from the array's rows, text that is not UTF-8, or
        truncated or corrupt gzip data; the message names the file.

    Notes
    -----
    A GloVe or word2vec text line with more than ``d + 1`` fields is read as a word containing
    spaces (GloVe 840B has some) when the field before the last ``d`` is not a number, and is
    otherwise a ragged row.

    Examples
    --------
    >>> from nswg.words import DEFAULT_WORD_VECTORS, load_word_vectors
    >>> words, vectors = load_word_vectors(DEFAULT_WORD_VECTORS, limit=5)
    >>> words, vectors.shape, vectors.dtype
    (['the', ',', '.', 'of', 'to'], (5, 50), dtype('float32'))
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no word-vector file {file}")
    if limit is not None:
        limit = non_negative_int(limit, "limit")
    if format is None:
        with gzip_errors(file):
            format = _guess_format(file)
    elif format not in _FORMATS:
        raise ValueError(f"format must be one of {', '.join(_FORMATS)}, got {format!r}")
    if vocab is not None and format != "npy":
        raise ValueError(f"vocab is only used with format='npy', not {format!r}")
    with gzip_errors(file):
        if format == "npy":
            words, vectors = _load_npy(file, vocab, limit)
        elif format == "word2vec-binary":
            words, vectors = _load_word2vec_binary(file, limit)
        else:
            words, vectors = _load_text(file, format == "word2vec", limit)
    with np.errstate(over="ignore", invalid="ignore"):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{file}: the vector of {words[row]!r} (word {row}) holds NaN, an infinity or a value "
            "beyond float32's range (about 3.4e38)"
        )
    return words, vectors


def load_default_word_vectors(*, limit: int | None = None) -> tuple[list[str], np.ndarray]:
    """The shipped word vectors: the 10,000 most frequent GloVe 6B words, 50 dimensions.

    Parameters
    ----------
    limit : int, optional
        Keep only the first (most frequent) ``limit`` words.

    Returns
    -------
    words : list of str
    vectors : numpy.ndarray of float32, shape=(10000, 50)

    Examples
    --------
    >>> from nswg.words import load_default_word_vectors
    >>> words, vectors = load_default_word_vectors()
    >>> len(words), vectors.shape, words.index("king")
    (10000, (10000, 50), 691)
    """
    return load_word_vectors(DEFAULT_WORD_VECTORS, format="npy", limit=limit)


# --------------------------------------------------------------------------------------------
# Format readers
# --------------------------------------------------------------------------------------------


def _open_binary(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return open(path, "rb")


def _guess_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".npy"):
        return "npy"
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(".bin"):
        return "word2vec-binary"
    with _open_binary(path) as f:
        header = _word2vec_header(f.readline())
        if header is None:
            return "glove"
        second = f.readline(1 << 16)
    # Text when the next line is a word and numbers (as many as the header says or not: the
    # text reader then says which line disagrees); binary otherwise.
    try:
        fields = second.decode("utf-8").rstrip().split(" ")
        if len(fields) >= 2:
            [float(x) for x in fields[1:]]
            return "word2vec"
    except (UnicodeDecodeError, ValueError):
        pass
    return "word2vec-binary"


def _word2vec_header(line: bytes) -> tuple[int, int] | None:
    fields = line.lstrip(b"\xef\xbb\xbf").split()  # after a UTF-8 byte-order mark
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        return int(fields[0]), int(fields[1])
    return None


def _load_text(path: Path, has_header: bool, limit: int | None) -> tuple[list[str], np.ndarray]:
    with _open_binary(path) as f:
        lines: Iterator[bytes] = iter(f)
        expected: int | None = None
        dim: int | None = None
        if has_header:
            header = _word2vec_header(next(lines, b""))
            if header is None:
                raise ValueError(f"{path}: the first line is not a word2vec header 'n d'")
            expected, dim = header
        words, values, dim = _split_text_lines(lines, path, dim, limit, 1 + int(has_header))
    if dim is None:
        raise ValueError(f"{path} holds no word vectors")
    if limit is None and expected is not None and expected != len(words):
        raise ValueError(
            f"{path}: the header announces {expected} words, the file has {len(words)}"
        )
    return words, _parse_numbers(values, dim, path, 1 + int(has_header))


def _split_text_lines(
    lines: Iterator[bytes], path: Path, dim: int | None, limit: int | None, first: int
) -> tuple[list[str], list[str], int | None]:
    """Split each line into its word and the text of its ``dim`` numbers (parsed later, at
    once). ``dim`` is taken from the first line when not known."""
    words: list[str] = []
    values: list[str] = []
    for number, raw in enumerate(lines, start=first):
        try:
            line = raw.decode("utf-8").rstrip()
        except UnicodeDecodeError as e:
            raise ValueError(f"{path}, line {number}: not UTF-8 ({e})") from None
        line = line.lstrip("\ufeff") if number == 1 else line
        if not line:
            continue
        word, _, rest = line.partition(" ")
        n_values = rest.count(" ") + 1 if rest else 0
        if dim is None:
            if n_values == 0:
                raise ValueError(f"{path}, line {number}: a word without a vector")
            dim = n_values
        if limit is not None and len(words) >= limit:
            break
        if n_values != dim:
            word, rest = _split_spaced_word(line, dim, path, number, n_values)
        words.append(word)
        values.append(rest)
    return words, values, dim


def _split_spaced_word(
    line: str, dim: int, path: Path, number: int, n_values: int
) -> tuple[str, str]:
    """Accept a line with more than ``dim + 1`` fields when the extras belong to the word,
    that is when the field before the last ``dim`` is not a number; else it is ragged."""
    parts = line.rsplit(" ", dim)
    if n_values > dim and len(parts) == dim + 1:
        try:
            float(parts[0].rsplit(" ", 1)[-1])
        except ValueError:
            return parts[0], " ".join(parts[1:])
    raise ValueError(f"{path}, line {number}: {n_values} values, expected {dim} (ragged rows)")


def _parse_numbers(rows: list[str], dim: int, path: Path, first_line: int) -> np.ndarray:
    if not rows:
        return np.empty((0, dim), dtype=np.float32)
    try:
        return np.loadtxt(rows, dtype=np.float32, delimiter=" ", ndmin=2, comments=None)
    except ValueError:
        # Say where: loadtxt's message counts rows of its own input, not lines of the file.
        for i, row in enumerate(rows):
            for token in row.split(" "):
                try:
                    float(token)
                except ValueError:
                    raise ValueError(
                        f"{path}, line {first_line + i}: {token!r} is not a number"
                    ) from None
        raise


#: Characters no word holds: in a word2vec binary record they are bytes of a vector read as a
#: word, after a misaligned record.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: The most that deflate expands data: a gzip file of ``b`` bytes holds at most this times ``b``.
_GZIP_MAX_RATIO = 1032


def _load_word2vec_binary(path: Path, limit: int | None) -> tuple[list[str], np.ndarray]:
    with _open_binary(path) as f:
        line = f.readline()
        header = _word2vec_header(line)
        if header is None:
            raise ValueError(f"{path}: the first line is not a word2vec header 'n d'")
        n_announced, dim = header
        # Each record takes a word of at least one byte, a space and 4 * dim bytes: check the
        # header against the file before allocating what it asks for.
        size = path.stat().st_size * (_GZIP_MAX_RATIO if path.suffix == ".gz" else 1)
        if n_announced * (4 * dim + 2) > size - len(line):
            raise ValueError(
                f"{path}: the header announces {n_announced} words of {dim} values, more than "
                f"the file's {path.stat().st_size} bytes can hold"
            )
        n = n_announced if limit is None else min(n_announced, limit)
        row_bytes = 4 * dim
        words: list[str] = []
        vectors = np.empty((n, dim), dtype=np.float32)
        reader = _ByteReader(f)
        # Whether records end in a newline (word2vec.c) or not (gensim), as the first does.
        newlines = None
        for i in range(n):
            word, after_newline = reader.read_word()
            if word is None:
                raise ValueError(f"{path}: the header announces {n_announced} words, found {i}")
            if (i > 0 and after_newline != newlines) or _CONTROL.search(word):
                raise ValueError(
                    f"{path}: word {i} ({word!r}) does not start where a record should (it "
                    "holds control characters, or the newlines differ from the first "
                    "record's): a word with a space before it (which this format cannot hold) "
                    f"or a vector of other than {dim} values"
                )
            data = reader.read(row_bytes)
            if len(data) < row_bytes:
                raise ValueError(f"{path}: the vector of word {i} ({word!r}) is cut short")
            if i == 0:
                newlines = reader.at_newline()
            words.append(word)
            vectors[i] = np.frombuffer(data, dtype="<f4")
        if n == n_announced and not reader.at_end():
            raise ValueError(
                f"{path}: more data follows the {n_announced} words the header announces (a "
                "header that undercounts, or a word with a space, which this format cannot hold)"
            )
    return words, vectors


class _ByteReader:
    """Buffered reads of word2vec binary records: ``word<space>`` then a fixed-size vector."""

    def __init__(self, f: IO[bytes], chunk: int = 1 << 20) -> None:
        self._f, self._chunk = f, chunk
        self._buf, self._pos = b"", 0

    def _fill(self) -> bool:
        more = self._f.read(self._chunk)
        if not more:
            return False
        self._buf, self._pos = self._buf[self._pos :] + more, 0
        return True

    def read_word(self) -> tuple[str | None, bool]:
        """The next word (None at the end), and whether a newline came before it."""
        after_newline = False
        while True:
            # word2vec.c writes a newline after each vector: skip it.
            while self._pos < len(self._buf) and self._buf[self._pos] in b"\n\r":
                self._pos += 1
                after_newline = True
            end = self._buf.find(b" ", self._pos)
            if end >= 0:
                word = self._buf[self._pos : end]
                self._pos = end + 1
                return word.decode("utf-8", errors="replace"), after_newline
            if not self._fill():
                return None, after_newline

    def at_newline(self) -> bool:
        """Whether the next byte is a newline."""
        if self._pos >= len(self._buf):
            self._fill()
        return self._buf[self._pos : self._pos + 1] in (b"\n", b"\r")

    def at_end(self) -> bool:
        """Whether nothing but newlines is left."""
        while True:
            rest = self._buf[self._pos :]
            if rest.strip(b"\n\r"):
                return False
            self._pos = len(self._buf)
            if not self._fill():
                return True

    def read(self, size: int) -> bytes:
        while len(self._buf) - self._pos < size and self._fill():
            pass
        data = self._buf[self._pos : self._pos + size]
        self._pos += len(data)
        return data


def _vocab_candidates(path: Path) -> list[Path]:
    stem = path.name[: -len(".npy")] if path.name.endswith(".npy") else path.stem
    stems = [stem] + [stem[: -len(s)] for s in _FLOAT_SUFFIXES if stem.endswith(s)]
    return [path.with_name(s + ext) for s in stems for ext in (".vocab.txt", ".vocab")]


def _load_npy(
    path: Path, vocab: PathLike | None, limit: int | None
) -> tuple[list[str], np.ndarray]:
    if vocab is None:
        candidates = _vocab_candidates(path)
        vocab_file = next((c for c in candidates if c.is_file()), None)
        if vocab_file is None:
            raise FileNotFoundError(
                f"no vocabulary beside {path} (tried {', '.join(c.name for c in candidates)}); "
                "pass vocab=<file with one word per line>"
            )
    else:
        vocab_file = Path(vocab)
        if not vocab_file.is_file():
            raise FileNotFoundError(f"no vocabulary file {vocab_file}")
    array = np.load(path, mmap_mode="r", allow_pickle=False)
    if array.ndim != 2:
        raise ValueError(f"{path}: expected a 2-D array (n_words, d), got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{path}: expected numbers, got dtype {array.dtype}")
    words = _read_vocabulary(vocab_file)
    if len(words) != array.shape[0]:
        raise ValueError(
            f"{vocab_file} has {len(words)} words but {path} has {array.shape[0]} rows"
        )
    n = array.shape[0] if limit is None else min(limit, array.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):  # what overflows is refused after
        return words[:n], np.array(array[:n], dtype=np.float32)


def _read_vocabulary(path: Path) -> list[str]:
    try:
        # Split on "\n" only: universal newlines would also split a word at a lone "\r".
        with open(path, encoding="utf-8", newline="\n") as f:
            words = [line[:-1] if line.endswith("\n") else line for line in f]
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text: {e}") from None
    words = [w[:-1] if w.endswith("\r") else w for w in words]
    if words and words[0].startswith("\ufeff"):
        words[0] = words[0][1:]
    return words
