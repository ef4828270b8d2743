"""An index kept and grown: save and load, pickle, add and remove, damaged files, an interrupted
save, and searches racing changes from several threads."""

from __future__ import annotations

import copy
import multiprocessing
import operator
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from nswg import Index, _core
from nswg.datasets import load_default_word_vectors
from nswg.metrics import recall_at_k

#: Bytes before the vectors: magic, version, metric, ten u64 (docs/format.md, version 2).
HEADER_LEN = 8 + 4 + 4 + 8 * 10


def assert_same_answers(a: Index, b: Index, queries: np.ndarray, k: int = 5) -> None:
    for exact in (False, True):
        ra, rb = a.search(queries, k=k, exact=exact), b.search(queries, k=k, exact=exact)
        np.testing.assert_array_equal(ra.ids, rb.ids)
        np.testing.assert_array_equal(ra.distances, rb.distances)
        np.testing.assert_array_equal(ra.n_distance_computations, rb.n_distance_computations)


def kept_index(rng, metric: str = "euclidean", **kwargs) -> Index:
    """A small index that has been grown and shrunk, with copies, so that every section of the
    file counts."""
    X = rng.normal(size=(300, 12)) + (3 if metric == "cosine" else 0)
    X[230:250] = X[:20]
    X[280:] = X[20:40]
    index = Index.build(X[:250], metric=metric, n_neighbors=4, seed=5, **kwargs)
    index.add(X[250:])
    index.remove([0, 7, 260])
    return index


def section_starts(index: Index) -> list[int]:
    """Where the magic, header fields, vectors, graph, deletion marks, copies and checksum
    begin."""
    n = index.n_ids
    vectors = HEADER_LEN
    links = vectors + 4 * n * index.dim
    marks = links + 4 * n * index.max_degree
    copies = marks + n
    n_copies = index.stats().n_copies if index.has_graph else 0
    return [0, 8, 12, 16, vectors, links, marks, copies, copies + 8, copies + 8 + 8 * n_copies]


@pytest.mark.parametrize(
    ("metric", "kwargs"),
    [("euclidean", {}), ("cosine", {}), ("dtw", {"radius": 2}), ("dtw", {})],
)
def test_a_loaded_index_answers_every_query_as_the_saved_one(rng, tmp_path, metric, kwargs):
    index = kept_index(rng, metric, **kwargs)
    path = tmp_path / "índex 索引 😀.nswg"
    index.save(path)
    back = Index.load(str(path))
    assert repr(back) == repr(index)
    assert (back.n_ids, back.radius, back.seed) == (index.n_ids, index.radius, index.seed)
    assert back.build_distance_computations == index.build_distance_computations
    assert_same_answers(back, index, rng.normal(size=(40, 12)) + 1)
    again = tmp_path / "again.nswg"
    back.save(again)
    assert again.read_bytes() == path.read_bytes()
    # The loaded index keeps growing like the saved one.
    more = rng.normal(size=(20, 12)) + 1
    index.add(more)
    back.add(more)
    assert_same_answers(back, index, more)
    assert sorted(os.listdir(tmp_path)) == sorted(["again.nswg", path.name])


def test_an_index_without_a_graph_keeps(rng, tmp_path):
    X = rng.normal(size=(200, 12))
    index = Index.build(X, metric="dtw", radius=2, graph=False)
    index.save(tmp_path / "bare.nswg")
    for back in Index.load(tmp_path / "bare.nswg"), pickle.loads(pickle.dumps(index)):
        assert (
            repr(back)
            == repr(index)
            == "nswg.Index(n=200, dim=12, metric='dtw', radius=2, graph=False)"
        )
        queries = rng.normal(size=(10, 12))
        want = index.search(queries, k=3, exact=True)
        got = back.search(queries, k=3, exact=True)
        np.testing.assert_array_equal(got.ids, want.ids)
        np.testing.assert_array_equal(got.distances, want.distances)
    # Its file is the vectors, the marks, a count of no copies, the kind "no codes" and a count
    # of no labels (then the checksum): no adjacency.
    size = HEADER_LEN + 4 * 200 * 12 + 200 + 8 + 4 + 8 + 4
    assert (tmp_path / "bare.nswg").stat().st_size == size


def test_pickle_copy_multiprocessing_and_joblib(rng):
    index = kept_index(rng)
    Q = rng.normal(size=(30, 12))
    want = index.search(Q, k=5)
    for other in (pickle.loads(pickle.dumps(index)), copy.deepcopy(index), copy.copy(index)):
        assert_same_answers(other, index, Q)
    search = operator.methodcaller("search", Q, 5)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        for got in pool.map(search, [index, index]):
            np.testing.assert_array_equal(got.ids, want.ids)
    joblib = pytest.importorskip("joblib")
    jobs = (joblib.delayed(search)(index) for _ in range(2))
    for got in joblib.Parallel(n_jobs=2)(jobs):
        np.testing.assert_array_equal(got.ids, want.ids)


def test_a_deep_copy_is_independent(rng):
    index = kept_index(rng)
    clone = copy.deepcopy(index)
    clone.remove([1])
    assert len(clone) == len(index) - 1


def test_glove_words_added_later_are_found_like_built_ones():
    _, vectors = load_default_word_vectors()
    queries, base = vectors[:300], vectors[300:]
    split = len(base) * 4 // 5
    full = Index.build(base, metric="cosine")
    grown = Index.build(base[:split], metric="cosine")
    ids = grown.add(base[split:])
    assert ids.tolist() == list(range(split, len(base)))
    truth = full.search(queries, k=10, exact=True)
    np.testing.assert_array_equal(grown.search(queries, k=10, exact=True).ids, truth.ids)
    r_full = recall_at_k(full.search(queries, k=10).distances, truth.distances)
    r_grown = recall_at_k(grown.search(queries, k=10).distances, truth.distances)
    assert r_grown >= r_full - 0.02, (r_grown, r_full)


@pytest.mark.parametrize("fraction", [0.1, 0.5])
def test_glove_words_removed_never_return_and_the_rest_are_found(fraction):
    _, vectors = load_default_word_vectors()
    queries, base = vectors[:300], vectors[300:]
    index = Index.build(base, metric="cosine")
    removed = np.random.default_rng(3).choice(len(base), int(fraction * len(base)), replace=False)
    index.remove(removed)
    assert len(index) == len(base) - len(removed) and index.n_ids == len(base)
    truth = index.search(queries, k=10, exact=True)
    got = index.search(queries, k=10)
    for ids in (truth.ids, got.ids):
        assert not np.isin(ids, removed).any()
    assert recall_at_k(got.distances, truth.distances) >= 0.95
    old = index.compact()
    assert index.n_ids == len(index) == len(base) - len(removed)
    np.testing.assert_array_equal(old[index.search(queries, k=10, exact=True).ids], truth.ids)
    with pytest.raises(ValueError, match="out of range"):
        index.remove([len(base) - 1])


def damaged_copies(good: bytes, index: Index) -> list[tuple[str, bytes]]:
    """The file cut at and around every section boundary, each byte at a stride flipped, random
    bytes (some behind valid magic bytes), foreign files and a newer format version."""
    rng = np.random.default_rng(99)
    cases = []
    for at in section_starts(index) + [len(good) - 4]:
        for cut in (at - 1, at, at + 1):
            if 0 <= cut < len(good):
                cases.append((f"cut at {cut}", good[:cut]))
    cases.append(("one byte too many", good + b"\0"))
    for at in range(0, len(good), 53):
        bad = bytearray(good)
        bad[at] ^= 1 << (at % 8)
        cases.append((f"bit flipped at {at}", bytes(bad)))
    for size in (1, 50, HEADER_LEN + 4, len(good), 3 * len(good)):
        noise = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        cases.append((f"{size} random bytes", noise))
        cases.append((f"magic and {size} random bytes", good[:8] + noise))
    foreign = {
        "empty": b"",
        "png": b"\x89PNG\r\n\x1a\n" + bytes(200),
        "npy": b"\x93NUMPY\x01\x00" + bytes(200),
        "text": "índex 索引\n".encode() * 50,
    }
    cases += [(f"a {name} file", data) for name, data in foreign.items()]
    newer = bytearray(good)
    newer[8:12] = struct.pack("<I", _core.FORMAT_VERSION + 1)
    cases.append(("newer version", bytes(newer)))
    return cases


def test_damaged_foreign_and_newer_files_are_refused_clearly(rng, tmp_path):
    index = kept_index(rng, "dtw", radius=3)
    path = tmp_path / "index.nswg"
    index.save(path)
    good = path.read_bytes()
    cases = damaged_copies(good, index)
    assert len(cases) > 300
    for name, data in cases:
        path.write_bytes(data)
        match = (
            "newer than this nswg reads" if name == "newer version" else "not a valid nswg index"
        )
        if name.startswith("magic and"):
            match = f"{match}|newer than this nswg reads"
        with pytest.raises(ValueError, match=match):
            Index.load(path)
        with pytest.raises(ValueError, match=match):
            Index.__new__(Index).__setstate__({"index": data})
    path.write_bytes(good)
    assert_same_answers(Index.load(path), index, rng.normal(size=(5, 12)))


#: Loads a saved index, changes it and saves it over the target again and again.
SAVER = textwrap.dedent(
    """
    import sys
    from nswg import Index
    index = Index.load(sys.argv[1])
    index.remove([0])
    print("ready", flush=True)
    while True:
        index.save(sys.argv[2])
    """
)


def test_a_save_killed_midway_leaves_the_previous_file_loadable(rng, tmp_path):
    big = Index.build(rng.normal(size=(60_000, 96)), n_neighbors=2, ef_construction=4)
    source, target = tmp_path / "source.nswg", tmp_path / "index.nswg"
    big.save(source)
    big.save(target)
    caught_midway = False
    for _ in range(5):
        child = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(source), str(target)], stdout=subprocess.PIPE
        )
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        deadline = time.monotonic() + 60
        while not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
            assert time.monotonic() < deadline, "the save never started"
        time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        loaded = Index.load(target)
        assert len(loaded) in (len(big), len(big) - 1)
        for partial in [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]:
            if partial.stat().st_size < source.stat().st_size:
                caught_midway = True
                with pytest.raises(ValueError, match="not a valid nswg index"):
                    Index.load(partial)
            partial.unlink()
        if caught_midway:
            break
    assert caught_midway, "never killed the saver in the middle of a write"


def test_searches_racing_additions_and_removals_stay_consistent(rng):
    X = rng.normal(size=(3000, 8))
    index = Index.build(X[:2000], n_neighbors=8)
    removed: set[int] = set()
    lock = threading.Lock()
    errors: list[BaseException] = []
    done = threading.Event()

    def search(seed):
        queries = np.random.default_rng(seed)
        try:
            while not done.is_set():
                with lock:
                    gone = np.fromiter(removed, dtype=np.int64)
                ids = index.search(queries.normal(size=(4, 8)), k=10, n_threads=1).ids
                assert ids.min() >= 0 and not np.isin(ids, gone).any()
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=search, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    try:
        for start in range(2000, 3000, 100):
            index.add(X[start : start + 100], n_threads=1)
            victims = list(range(start - 2000, start - 1900, 3))
            index.remove(victims)
            with lock:
                removed.update(victims)
    finally:
        done.set()
        for t in threads:
            t.join()
    assert not errors, errors[0]
    assert index.n_ids == 3000 and len(index) == 3000 - len(removed)
    truth = index.search(X[2500:2600], k=1, exact=True).ids
    assert (truth[:, 0] == np.arange(2500, 2600)).all()


def test_unreadable_files_and_pickles_raise_index_file_error(tmp_path, rng):
    import nswg

    index = Index.build(rng.normal(size=(50, 4)))
    path = tmp_path / "cut.nswg"
    index.save(path)
    path.write_bytes(path.read_bytes()[:-9])
    with pytest.raises(nswg.IndexFileError, match=f"^{path}: ") as caught:
        Index.load(path)
    assert isinstance(caught.value, ValueError)
    (tmp_path / "foreign.nswg").write_bytes(b"PK\x03\x04" + bytes(200))
    with pytest.raises(nswg.IndexFileError, match="foreign.nswg: .*magic"):
        Index.load(tmp_path / "foreign.nswg")
    state = index.__getstate__()
    state["index"] = state["index"][:100]
    with pytest.raises(nswg.IndexFileError, match="^pickled index: "):
        Index.__new__(Index).__setstate__(state)
    with pytest.raises(FileNotFoundError):
        Index.load(tmp_path / "missing.nswg")
