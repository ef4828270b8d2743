"""Word-vector formats and nearest-word queries."""

from __future__ import annotations

import doctest
import gzip
from pathlib import Path

import numpy as np
import pytest

from nswg import datasets, words
from nswg.words import (
    DEFAULT_WORD_VECTORS,
    WordVectors,
    load_default_word_vectors,
    load_word_vectors,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

WORDS = ["the", "café", "naïve", "日本", "x-ray", "'s", "1990", "über"]


@pytest.fixture
def vectors() -> np.ndarray:
    return np.random.default_rng(20261122).normal(size=(len(WORDS), 6)).astype(np.float32)


# Writers. Each float32 is written as the shortest text that reads back as the same float32
# (repr of the widened float64), so every format must load bit-identical vectors.


def _line(word: str, row: np.ndarray) -> str:
    return word + " " + " ".join(repr(float(v)) for v in row)


def write_glove(path: Path, words: list[str], V: np.ndarray) -> Path:
    text = "".join(_line(w, r) + "\n" for w, r in zip(words, V))
    path.write_bytes(gzip.compress(text.encode()) if path.suffix == ".gz" else text.encode())
    return path


def write_word2vec_text(path: Path, words: list[str], V: np.ndarray) -> Path:
    # word2vec.c leaves a space after the last value of each line.
    text = f"{len(words)} {V.shape[1]}\n" + "".join(_line(w, r) + " \n" for w, r in zip(words, V))
    path.write_bytes(gzip.compress(text.encode()) if path.suffix == ".gz" else text.encode())
    return path


def write_word2vec_binary(
    path: Path, words: list[str], V: np.ndarray, *, newline: bool = True
) -> Path:
    out = bytearray(f"{len(words)} {V.shape[1]}\n".encode())
    for w, r in zip(words, V):
        out += w.encode() + b" " + r.astype("<f4").tobytes() + (b"\n" if newline else b"")
    path.write_bytes(bytes(out))
    return path


def write_npy(path: Path, words: list[str], V: np.ndarray, vocab_name: str | None = None) -> Path:
    np.save(path, V)
    name = vocab_name or path.name[: -len(".npy")] + ".vocab.txt"
    (path.parent / name).write_text("".join(w + "\n" for w in words), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------------------------

WRITERS = {
    "glove": (write_glove, "vectors.txt"),
    "glove-gz": (write_glove, "vectors.txt.gz"),
    "word2vec": (write_word2vec_text, "vectors.txt"),
    "word2vec-gz": (write_word2vec_text, "vectors.vec.gz"),
    "word2vec-binary": (write_word2vec_binary, "vectors.bin"),
    "word2vec-binary-no-extension": (write_word2vec_binary, "vectors.w2v"),
    "npy": (write_npy, "vectors.npy"),
}
FORMAT_OF = {
    "glove": "glove",
    "glove-gz": "glove",
    "word2vec": "word2vec",
    "word2vec-gz": "word2vec",
    "word2vec-binary": "word2vec-binary",
    "word2vec-binary-no-extension": "word2vec-binary",
    "npy": "npy",
}


@pytest.mark.parametrize("kind", list(WRITERS))
@pytest.mark.parametrize("explicit", [False, True], ids=["auto", "explicit"])
def test_formats_load_identically(tmp_path: Path, vectors: np.ndarray, kind: str, explicit):
    writer, name = WRITERS[kind]
    path = writer(tmp_path / name, WORDS, vectors)
    fmt = FORMAT_OF[kind] if explicit else None
    words, V = load_word_vectors(path, format=fmt)
    assert words == WORDS
    assert V.dtype == np.float32 and V.flags.c_contiguous
    np.testing.assert_array_equal(V, vectors)
    words3, V3 = load_word_vectors(str(path), format=fmt, limit=3)
    assert words3 == WORDS[:3]
    np.testing.assert_array_equal(V3, vectors[:3])
    assert load_word_vectors(path, format=fmt, limit=100)[0] == WORDS
    assert load_word_vectors(path, format=fmt, limit=0)[1].shape[0] == 0


def test_word2vec_binary_without_newlines(tmp_path: Path, vectors: np.ndarray):
    path = write_word2vec_binary(tmp_path / "v.bin", WORDS, vectors, newline=False)
    words, V = load_word_vectors(path)
    assert words == WORDS
    np.testing.assert_array_equal(V, vectors)


def test_word2vec_binary_replaces_undecodable_bytes(tmp_path: Path):
    ones, zeros = np.ones(2, "<f4").tobytes(), np.zeros(2, "<f4").tobytes()
    out = b"2 2\n" + b"ok " + ones + b"\nb\xffd " + zeros
    (tmp_path / "v.bin").write_bytes(out)
    words, V = load_word_vectors(tmp_path / "v.bin")
    assert words == ["ok", "b\ufffdd"]
    assert V.tolist() == [[1.0, 1.0], [0.0, 0.0]]


def test_word2vec_binary_large_file_reads_across_buffer_chunks(tmp_path: Path):
    rng = np.random.default_rng(1)
    V = rng.normal(size=(3000, 100)).astype(np.float32)  # 1.2 MB: more than one read chunk
    names = [f"w{i}" for i in range(3000)]
    words, W = load_word_vectors(write_word2vec_binary(tmp_path / "big.bin", names, V))
    assert words == names
    np.testing.assert_array_equal(W, V)


def test_npy_vocabulary_lookup(tmp_path: Path, vectors: np.ndarray):
    # The shipped naming: <stem>.float32.npy beside <stem>.vocab.txt.
    path = write_npy(tmp_path / "glove.top.float32.npy", WORDS, vectors, "glove.top.vocab.txt")
    words, V = load_word_vectors(path)
    assert words == WORDS
    np.testing.assert_array_equal(V, vectors)
    # An explicit vocabulary anywhere.
    other = tmp_path / "sub"
    other.mkdir()
    (other / "names.txt").write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    np.save(other / "plain.npy", vectors.astype(np.float64))
    words, V = load_word_vectors(other / "plain.npy", other / "names.txt")
    assert words == WORDS and V.dtype == np.float32
    np.testing.assert_array_equal(V, vectors)


def test_npy_errors(tmp_path: Path, vectors: np.ndarray):
    np.save(tmp_path / "lonely.npy", vectors)
    with pytest.raises(FileNotFoundError, match=r"no vocabulary beside .*lonely\.vocab\.txt"):
        load_word_vectors(tmp_path / "lonely.npy")
    with pytest.raises(FileNotFoundError, match="no vocabulary file"):
        load_word_vectors(tmp_path / "lonely.npy", tmp_path / "missing.txt")
    (tmp_path / "short.txt").write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"has 2 words but .* has {len(WORDS)} rows"):
        load_word_vectors(tmp_path / "lonely.npy", tmp_path / "short.txt")
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="2-D"):
        load_word_vectors(tmp_path / "cube.npy", tmp_path / "short.txt")
    with pytest.raises(ValueError, match="only used with format='npy'"):
        load_word_vectors(write_glove(tmp_path / "g.txt", WORDS, vectors), tmp_path / "short.txt")


def test_missing_file_and_bad_format(tmp_path: Path, vectors: np.ndarray):
    with pytest.raises(FileNotFoundError, match="no word-vector file"):
        load_word_vectors(tmp_path / "nothing.txt")
    path = write_glove(tmp_path / "g.txt", WORDS, vectors)
    with pytest.raises(ValueError, match="format must be one of"):
        load_word_vectors(path, format="fasttext")


def test_ragged_rows(tmp_path: Path):
    (tmp_path / "short.txt").write_text("a 1 2 3\nb 4 5\nc 6 7 8\n")
    with pytest.raises(ValueError, match=r"line 2: 2 values, expected 3 \(ragged rows\)"):
        load_word_vectors(tmp_path / "short.txt")
    (tmp_path / "long.txt").write_text("a 1 2 3\nb 4 5 6 7\n")
    with pytest.raises(ValueError, match="line 2: 4 values, expected 3"):
        load_word_vectors(tmp_path / "long.txt")
    (tmp_path / "w2v.txt").write_text("2 3\na 1 2 3\nb 4 5\n")
    with pytest.raises(ValueError, match="line 3: 2 values, expected 3"):
        load_word_vectors(tmp_path / "w2v.txt", format="word2vec")
    (tmp_path / "bare.txt").write_text("a\n")
    with pytest.raises(ValueError, match="a word without a vector"):
        load_word_vectors(tmp_path / "bare.txt")


def test_words_with_spaces_are_read(tmp_path: Path):
    """GloVe 840B has some words with spaces in them."""
    (tmp_path / "g.txt").write_text("a 1 2\nnew york 3 4\nb 5 6\n", encoding="utf-8")
    words, V = load_word_vectors(tmp_path / "g.txt")
    assert words == ["a", "new york", "b"]
    assert V.tolist() == [[1, 2], [3, 4], [5, 6]]


def test_values_that_are_not_numbers(tmp_path: Path):
    (tmp_path / "g.txt").write_text("a 1 2 3\nb 4 five 6\n")
    with pytest.raises(ValueError, match=r"g\.txt, line 2: 'five' is not a number"):
        load_word_vectors(tmp_path / "g.txt")
    (tmp_path / "w.txt").write_text("2 3\na 1 2 3\nb 4 five 6\n")
    with pytest.raises(ValueError, match="line 3: 'five' is not a number"):
        load_word_vectors(tmp_path / "w.txt")


def test_header_disagrees_with_the_data(tmp_path: Path, vectors: np.ndarray):
    path = write_word2vec_text(tmp_path / "w.txt", WORDS, vectors)
    text = path.read_text(encoding="utf-8").replace(f"{len(WORDS)} 6", f"{len(WORDS) + 1} 6", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="announces 9 words, the file has 8"):
        load_word_vectors(path)
    binary = write_word2vec_binary(tmp_path / "w.bin", WORDS, vectors)
    data = binary.read_bytes()
    binary.write_bytes(data[:-10])
    with pytest.raises(ValueError, match="cut short"):
        load_word_vectors(binary)
    binary.write_bytes(data.replace(b"8 6\n", b"9 6\n", 1))
    with pytest.raises(ValueError, match="announces 9 words, found 8"):
        load_word_vectors(binary)


def test_text_must_be_utf8(tmp_path: Path):
    (tmp_path / "g.txt").write_bytes(b"ok 1 2\ncaf\xe9 3 4\n")
    with pytest.raises(ValueError, match="line 2: not UTF-8"):
        load_word_vectors(tmp_path / "g.txt")


def test_byte_order_mark_and_crlf(tmp_path: Path):
    (tmp_path / "g.txt").write_bytes("\ufeffa 1 2\r\nb 3 4\r\n".encode())
    assert load_word_vectors(tmp_path / "g.txt")[0] == ["a", "b"]
    np.save(tmp_path / "v.npy", np.eye(2, dtype=np.float32))
    (tmp_path / "v.vocab.txt").write_bytes("\ufeffa\r\nb\r\n".encode())
    assert load_word_vectors(tmp_path / "v.npy")[0] == ["a", "b"]


def test_default_word_vectors():
    words, V = load_default_word_vectors()
    assert len(words) == len(set(words)) == 10_000
    assert V.shape == (10_000, 50) and V.dtype == np.float32
    assert words[:4] == ["the", ",", ".", "of"] and "king" in words
    assert np.isfinite(V).all() and (np.linalg.norm(V, axis=1) > 0).all()
    assert datasets.load_default_word_vectors(limit=3)[0] == ["the", ",", "."]
    assert datasets.load_word_vectors is load_word_vectors  # one implementation, two homes
    assert DEFAULT_WORD_VECTORS.is_file()


def test_default_word_vectors_are_the_top_of_full_glove():
    full = SHARED / "wordvec" / "glove.6B.50d.float32.npy"
    if not full.is_file():
        pytest.skip(f"{full} is not here")
    words, V = load_word_vectors(full, limit=10_000)
    shipped_words, shipped = load_default_word_vectors()
    assert words == shipped_words
    np.testing.assert_array_equal(V, shipped)


# --------------------------------------------------------------------------------------------
# WordVectors without the index
# --------------------------------------------------------------------------------------------


def test_word_vectors_container(vectors: np.ndarray):
    wv = WordVectors(WORDS, vectors)
    assert len(wv) == len(WORDS) and wv.dim == 6 and wv.metric == "cosine"
    assert wv.words == tuple(WORDS)
    assert "café" in wv and "cafe" not in wv and 3 not in wv
    np.testing.assert_array_equal(wv["日本"], vectors[3])
    assert not wv.vectors.flags.writeable
    vectors[0] = 0.0  # the container holds its own copy
    assert wv["the"].any()
    assert repr(wv) == "WordVectors(8 words x 6, metric='cosine')"
    assert wv._index is None  # nothing built yet


def test_first_occurrence_of_a_repeated_word_wins():
    wv = WordVectors(["a", "b", "a"], np.arange(6.0).reshape(3, 2))
    assert wv["a"].tolist() == [0.0, 1.0]


def test_unknown_word_message(vectors: np.ndarray):
    wv = WordVectors(WORDS, vectors)
    with pytest.raises(KeyError, match="'uber' is not in the vocabulary"):
        wv["uber"]
    with pytest.raises(KeyError, match="close: 'über'"):
        wv.most_similar("uber")
    with pytest.raises(KeyError, match="close: 'the'"):
        wv["The"]
    with pytest.raises(KeyError, match=r"'zzzzzz' is not in the vocabulary \(8 words\)$"):
        wv["zzzzzz"]
    big = WordVectors.default()
    with pytest.raises(KeyError, match="close: 'king'"):
        big["King"]


def test_word_vectors_constructor_errors(vectors: np.ndarray):
    with pytest.raises(ValueError, match="8 words but 7 vectors"):
        WordVectors(WORDS, vectors[:7])
    with pytest.raises(ValueError, match="shape"):
        WordVectors(WORDS, vectors[0])
    with pytest.raises(TypeError, match="words must be str"):
        WordVectors([*WORDS[:-1], 7], vectors)
    with pytest.raises(ValueError, match="metric"):
        WordVectors(WORDS, vectors, metric="dtw")
    with pytest.raises(ValueError, match="no words"):
        WordVectors([], np.zeros((0, 3)))
    # NaN, infinite and float32-overflowing vectors were taken, to fail (or mislead) later.
    for bad, match in [(np.nan, "holds NaN"), (np.inf, "holds NaN"), (1e39, "too large")]:
        V = vectors.astype(np.float64)
        V[2, 1] = bad
        with pytest.raises(ValueError, match=match):
            WordVectors(WORDS, V)
    with pytest.raises(TypeError, match="vectors must be numeric"):
        WordVectors(WORDS, np.full((8, 6), "x"))


def test_word_vectors_from_file(tmp_path: Path, vectors: np.ndarray):
    path = write_word2vec_binary(tmp_path / "v.bin", WORDS, vectors)
    wv = WordVectors.from_file(path, limit=5)
    assert wv.words == tuple(WORDS[:5])
    np.testing.assert_array_equal(wv.vectors, vectors[:5])
    assert len(WordVectors.default(limit=100)) == 100


# --------------------------------------------------------------------------------------------
# Nearest words: these need the compiled index
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def glove() -> WordVectors:
    pytest.importorskip("nswg._core")
    return WordVectors.default()


def _oracle(
    wv: WordVectors, query: np.ndarray, k: int, skip: int | None
) -> list[tuple[int, float]]:
    """Brute-force cosine similarity in float64: the ``k`` most similar rows but ``skip``."""
    V = wv.vectors.astype(np.float64)
    sims = V @ query.astype(np.float64) / (np.linalg.norm(V, axis=1) * np.linalg.norm(query))
    if skip is not None:
        sims[skip] = -np.inf
    order = np.argsort(-sims, kind="stable")[:k]
    return [(int(i), float(sims[i])) for i in order]


def test_most_similar_exact_matches_brute_force(glove: WordVectors):
    position = {w: i for i, w in enumerate(glove.words)}
    rng = np.random.default_rng(5)
    for word in ["king", "paris", "computer", *rng.choice(glove.words, size=30).tolist()]:
        got = glove.most_similar(word, topn=10, exact=True)
        truth = _oracle(glove, glove[word], 10, position[word])
        assert len(got) == 10 and word not in [w for w, _ in got]
        sims = [s for _, s in got]
        assert sims == sorted(sims, reverse=True)
        np.testing.assert_allclose(sims, [s for _, s in truth], atol=1e-5)
        # Same words, up to the order of near ties.
        true_sim = {glove.words[i]: s for i, s in _oracle(glove, glove[word], 50, None)}
        for w, s in got:
            assert w in true_sim and abs(true_sim[w] - s) < 1e-5


def test_most_similar_king(glove: WordVectors):
    got = glove.most_similar("king", topn=4, exact=True)
    assert [w for w, _ in got] == ["prince", "queen", "ii", "emperor"]
    np.testing.assert_allclose([s for _, s in got], [0.8236, 0.7839, 0.7746, 0.7736], atol=1e-4)


def test_most_similar_graph_search_recall(glove: WordVectors):
    rng = np.random.default_rng(11)
    queries = rng.choice(len(glove), size=300, replace=False)
    hits = 0
    for i in queries.tolist():
        word = glove.words[i]
        truth = {glove.words[j] for j, _ in _oracle(glove, glove.vectors[i], 10, i)}
        found = {w for w, _ in glove.most_similar(word, topn=10)}
        hits += len(found & truth)
    assert hits / (10 * len(queries)) > 0.9


def test_most_similar_vector_query(glove: WordVectors):
    query = glove["king"] - glove["man"] + glove["woman"]
    got = glove.most_similar(query, topn=5, exact=True)
    truth = _oracle(glove, query, 5, None)
    assert [w for w, _ in got] == [glove.words[i] for i, _ in truth]
    assert got[0][0] == "king" and got[1][0] == "queen"  # a vector leaves no word out
    with pytest.raises(ValueError, match=r"shape \(50,\)"):
        glove.most_similar(np.zeros(3), topn=3)


def test_most_similar_small_vocabulary_and_topn(vectors: np.ndarray):
    pytest.importorskip("nswg._core")
    wv = WordVectors(WORDS, vectors, seed=3)
    got = wv.most_similar("the", topn=100)
    assert len(got) == len(WORDS) - 1 and "the" not in [w for w, _ in got]
    assert [w for w, _ in got] == [w for w, _ in wv.most_similar("the", topn=100, exact=True)]
    with pytest.raises(ValueError, match="positive"):
        wv.most_similar("the", topn=0)


def test_most_similar_euclidean_metric(vectors: np.ndarray):
    pytest.importorskip("nswg._core")
    wv = WordVectors(WORDS, vectors, metric="euclidean")
    got = wv.most_similar("café", topn=3, exact=True)
    d = np.linalg.norm(vectors.astype(np.float64) - vectors[1], axis=1)
    d[1] = np.inf
    assert [w for w, _ in got] == [WORDS[i] for i in np.argsort(d)[:3]]
    for w, s in got:  # the score is still the cosine similarity
        v = vectors[WORDS.index(w)].astype(np.float64)
        cos = v @ vectors[1] / (np.linalg.norm(v) * np.linalg.norm(vectors[1]))
        assert abs(s - cos) < 1e-6


def test_docstring_examples():
    pytest.importorskip("nswg._core")
    result = doctest.testmod(words, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0


# --------------------------------------------------------------------------------------------
# Files that used to load into wrong vectors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "1e39"])
@pytest.mark.parametrize("kind", ["glove", "word2vec", "npy"])
def test_vectors_that_are_not_finite_float32_are_refused(tmp_path: Path, bad: str, kind: str):
    V = np.arange(12.0).reshape(4, 3)
    V[2, 1] = float(bad)
    words = ["a", "b", "c", "d"]
    if kind == "npy":
        path = write_npy(tmp_path / "v.npy", words, V)  # float64: 1e39 overflows float32
    else:
        lines = [
            " ".join([w, *("1e39" if v == 1e39 else str(v) for v in row)])
            for w, row in zip(words, V)
        ]
        header = "4 3\n" if kind == "word2vec" else ""
        path = tmp_path / "v.txt"
        path.write_text(header + "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=rf"{path}: the vector of 'c' \(word 2\) holds NaN"):
        load_word_vectors(path)


def test_nan_in_word2vec_binary_is_refused(tmp_path: Path, vectors: np.ndarray):
    vectors[3, 0] = np.nan
    path = write_word2vec_binary(tmp_path / "w.bin", WORDS, vectors)
    with pytest.raises(ValueError, match="the vector of '日本' .word 3. holds NaN"):
        load_word_vectors(path)


def test_a_text_header_that_disagrees_with_the_rows_is_read_as_text(tmp_path: Path):
    # The header says 4 values, the rows hold 5: this used to be read as binary garbage.
    path = tmp_path / "w.txt"
    path.write_text("2 4\na 1 2 3 4 5\nb 1 2 3 4 5\n")
    with pytest.raises(ValueError, match=r"w.txt, line 2: 5 values, expected 4"):
        load_word_vectors(path)


def test_binary_header_counting_fewer_words_than_the_file_holds(tmp_path: Path, vectors):
    path = write_word2vec_binary(tmp_path / "w.bin", WORDS, vectors)
    path.write_bytes(path.read_bytes().replace(b"8 6\n", b"5 6\n", 1))
    with pytest.raises(ValueError, match="more data follows the 5 words the header announces"):
        load_word_vectors(path)
    # With a limit the rest is not read, as documented.
    assert load_word_vectors(path, limit=3)[0] == WORDS[:3]


@pytest.mark.parametrize("newline", [True, False], ids=["word2vec.c", "gensim"])
def test_binary_word_with_a_space_is_refused(tmp_path: Path, vectors: np.ndarray, newline):
    # Without newlines between records (gensim) the misaligned bytes are caught when they hold
    # control characters, as these do, or leave the count or the end wrong.
    words = [*WORDS[:3], "new york", *WORDS[4:]]
    path = write_word2vec_binary(tmp_path / "w.bin", words, vectors, newline=newline)
    with pytest.raises(ValueError, match="word 4 .* a word with a space"):
        load_word_vectors(path)


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
@pytest.mark.parametrize("kind", ["glove", "binary"])
def test_damaged_gzip_raises_value_error_naming_the_file(tmp_path: Path, damage, kind):
    V = np.random.default_rng(0).normal(size=(300, 20)).astype(np.float32)
    words = [f"w{i}" for i in range(300)]
    path = tmp_path / f"v.{'txt' if kind == 'glove' else 'bin'}"
    (write_glove if kind == "glove" else write_word2vec_binary)(path, words, V)
    data = gzip.compress(path.read_bytes())
    gz = path.with_name(path.name + ".gz")
    gz.write_bytes(data[: len(data) // 2] if damage == "truncated" else data[:30] + b"x" * 64)
    with pytest.raises(ValueError, match=f"{gz}: truncated or corrupt gzip"):
        load_word_vectors(gz)


def test_a_binary_header_asking_for_more_than_the_file_holds_allocates_nothing(tmp_path: Path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"100000000000 4\n" + b"a " + np.ones(4, "<f4").tobytes())
    # This asked numpy for 1.46 TiB.
    with pytest.raises(ValueError, match="announces 100000000000 words of 4 values, more than"):
        load_word_vectors(path)
    gz = tmp_path / "w.bin.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(ValueError, match="more than the file's"):
        load_word_vectors(gz)
