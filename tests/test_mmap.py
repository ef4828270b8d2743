"""An index loaded with ``mmap=True``: answers identical to a normal load on real data under
every metric, the same refusals of damaged files, read-only, and safe while its file is saved
over, pickled or searched from many threads."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED_DATA
from test_keep import damaged_copies, kept_index

from nswg import Index, ReadOnlyIndexError
from nswg.datasets import load_ucr
from nswg.words import load_default_word_vectors

GLOVE = SHARED_DATA / "wordvec" / "glove.6B.50d.float32.npy"
UCR = SHARED_DATA / "ucr" / "UCRArchive_2018"


def words(n: int) -> np.ndarray:
    """The first ``n`` GloVe 50d vectors: of the full vocabulary when the shared data is here,
    else of the 10,000 words shipped."""
    if GLOVE.is_file():
        return np.array(np.load(GLOVE, mmap_mode="r")[:n])
    return load_default_word_vectors(limit=n)[1]


def ucr(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Train and test series of a UCR dataset, from the shared archive when it is here (where
    ``name`` may be one of the variable-length sets), else from the shipped set."""
    root = UCR if (UCR / name).is_dir() else None
    X, _, Q, _ = load_ucr(name if root else "GunPoint", root)
    return X, Q


def real_cases() -> dict[str, tuple[np.ndarray, np.ndarray, dict]]:
    """(rows, queries, build options) under every metric, on real data."""
    glove = words(20_000)
    gun, gun_q = ucr("GunPoint")
    gestures, gestures_q = ucr("PLAID")
    two_channels = np.stack([gun[:, :-1], np.diff(gun, axis=1)], axis=-1)
    return {
        "glove-cosine": (glove[:19_900], glove[19_900:], {"metric": "cosine"}),
        "glove-euclidean-sq8": (glove[:19_900], glove[19_900:], {"quantization": "sq8"}),
        "glove-cosine-rabitq4": (
            glove[:19_900],
            glove[19_900:],
            {"metric": "cosine", "quantization": "rabitq4"},
        ),
        "ucr-euclidean": (gun, gun_q, {}),
        "ucr-dtw": (gun, gun_q[:40], {"metric": "dtw", "radius": 4}),
        "ucr-dtw-variable-length": (gestures, gestures_q[:20], {"metric": "dtw", "radius": 10}),
        "ucr-dtw-multivariate": (two_channels, two_channels[:20] + 0.1, {"metric": "dtw"}),
        "ucr-dtw-no-graph": (gun, gun_q[:30], {"metric": "dtw", "graph": False}),
    }


CASES = real_cases()


def assert_same_results(a, b) -> None:
    for name in ("ids", "distances", "n_distance_computations", "n_lower_bound_computations"):
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, list):
            for u, v in zip(x, y):
                np.testing.assert_array_equal(u, v)
        else:
            np.testing.assert_array_equal(x, y)


def assert_answers_alike(loaded: Index, mapped: Index, queries: np.ndarray) -> None:
    for exact in (True, False) if loaded.has_graph else (True,):
        for threads in (1, 2):
            found = loaded.search(queries, k=10, exact=exact, n_threads=threads)
            assert_same_results(found, mapped.search(queries, k=10, exact=exact, n_threads=threads))
    radius = float(np.median(loaded.search(queries, k=5, exact=True).distances[:, -1]))
    for exact in (True, False) if loaded.has_graph else (True,):
        assert_same_results(
            loaded.search_radius(queries, radius, exact=exact),
            mapped.search_radius(queries, radius, exact=exact),
        )


@pytest.fixture(scope="module", params=sorted(CASES))
def saved(request, tmp_path_factory) -> tuple[Path, np.ndarray, np.ndarray]:
    X, queries, options = CASES[request.param]
    path = tmp_path_factory.mktemp("mmap") / f"{request.param}.nswg"
    index = Index.build(X, seed=3, **options)
    if len(X) > 1000:
        index.remove(np.arange(0, len(X), 97))
    index.save(path)
    return path, X, queries


def test_a_mapped_index_answers_as_a_loaded_one(saved):
    path, X, queries = saved
    loaded, mapped = Index.load(path), Index.load(path, mmap=True)
    assert mapped.memory_mapped and not loaded.memory_mapped
    assert repr(mapped) == repr(loaded)
    assert (len(mapped), mapped.n_ids, mapped.quantization) == (
        len(loaded),
        loaded.n_ids,
        loaded.quantization,
    )
    assert_answers_alike(loaded, mapped, queries)
    np.testing.assert_array_equal(mapped.vectors, loaded.vectors)
    assert not mapped.vectors.flags.writeable
    live = np.setdiff1d(np.arange(loaded.n_ids), np.arange(0, loaded.n_ids, 97))
    ids = live[:: max(1, len(live) // 50)]
    np.testing.assert_array_equal(mapped.get_vectors(ids), loaded.get_vectors(ids))
    if loaded.has_graph:
        assert mapped.stats() == loaded.stats()


def test_searches_from_many_threads_answer_as_one(saved):
    path, _, queries = saved
    mapped = Index.load(path, mmap=True)
    exact = not mapped.has_graph
    alone = mapped.search(queries, k=5, exact=exact)

    def one(q):
        return mapped.search(queries[q], k=5, exact=exact, n_threads=1).ids

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(one, range(len(queries))))
    np.testing.assert_array_equal(np.array(ids), alone.ids)


def test_a_mapped_index_is_read_only_and_stays_as_it_was(saved):
    path, X, queries = saved
    mapped = Index.load(path, mmap=True)
    before = mapped.search(queries, k=5, exact=True)
    view = mapped.vectors  # a live view does not turn the refusal into a BufferError
    for call in (
        lambda: mapped.add(X[:2]),
        lambda: mapped.remove([1]),
        lambda: mapped.compact(),
    ):
        with pytest.raises(ReadOnlyIndexError, match="memory-mapped from its file, read-only"):
            call()
    assert isinstance(ReadOnlyIndexError("x"), ValueError)
    del view
    assert_same_results(before, mapped.search(queries, k=5, exact=True))
    # Its copies are normal indexes, which change.
    for other in (pickle.loads(pickle.dumps(mapped)), copy.deepcopy(mapped)):
        assert not other.memory_mapped
        assert_same_results(before, other.search(queries, k=5, exact=True))
        other.remove([1])


def test_saving_over_the_mapped_file_leaves_the_mapped_index_answering(saved, tmp_path):
    path, X, queries = saved
    own = tmp_path / "own.nswg"
    own.write_bytes(path.read_bytes())
    mapped = Index.load(own, mmap=True)
    before = mapped.search(queries, k=5, exact=True)
    mapped.save(own)
    assert own.read_bytes() == path.read_bytes()
    # Another index saved over the file, from this process and from another one.
    other = Index.build(X[::-1][: max(10, len(X) // 2)] * 2 + 1, metric=mapped.metric)
    other.save(own)
    assert_same_results(before, mapped.search(queries, k=5, exact=True))
    code = "import sys; from nswg import Index; Index.load(sys.argv[1]).save(sys.argv[2])"
    subprocess.run([sys.executable, "-c", code, str(path), str(own)], check=True)
    assert_same_results(before, mapped.search(queries, k=5, exact=True))
    # Deleted, the file lives on as long as its map.
    own.unlink()
    assert_same_results(before, mapped.search(queries, k=5, exact=True))
    mapped.save(tmp_path / "again.nswg")
    assert (tmp_path / "again.nswg").read_bytes() == path.read_bytes()


def test_damaged_files_are_refused_as_by_a_normal_load(rng, tmp_path):
    for metric, kwargs in (("dtw", {"radius": 3}), ("euclidean", {"quantization": "sq8"})):
        index = kept_index(rng, metric, **kwargs)
        path = tmp_path / "index.nswg"
        index.save(path)
        good = path.read_bytes()
        cases = damaged_copies(good, index)
        assert len(cases) > 300
        for name, data in cases:
            path.write_bytes(data)
            with pytest.raises(ValueError) as normal:
                Index.load(path)
            with pytest.raises(type(normal.value)) as mapped:
                Index.load(path, mmap=True)
            assert str(mapped.value) == str(normal.value), name


def test_the_mmap_flag_is_checked_and_special_files_are_refused(tmp_path):
    Index.build(np.eye(3)).save(tmp_path / "eye.nswg")
    for bad in (1, "yes", None):
        with pytest.raises(TypeError, match="mmap must be True or False"):
            Index.load(tmp_path / "eye.nswg", mmap=bad)
    with pytest.raises(FileNotFoundError):
        Index.load(tmp_path / "missing.nswg", mmap=True)
    with pytest.raises(IsADirectoryError):
        Index.load(tmp_path, mmap=True)


def test_many_mapped_loads_share_one_file(saved):
    path, _, queries = saved
    indexes = [Index.load(path, mmap=True) for _ in range(8)]
    first = indexes[0].search(queries, k=3, exact=True)
    for index in indexes[1:]:
        assert_same_results(first, index.search(queries, k=3, exact=True))


#: Loads an index mapped in a fresh process and prints its file pages resident before and after,
#: in KiB.
MAPPED_PAGES = """
import sys
from pathlib import Path
from nswg import Index

def rss_file():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1])

before = rss_file()
index = Index.load(sys.argv[1], mmap=True)
after = rss_file()
index.search(index.vectors[:50], k=10)
print(before, after, rss_file())
"""


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads Linux's /proc")
def test_the_checks_of_a_mapped_load_leave_the_file_pages_out_of_memory(tmp_path):
    """The checking pass reads the file, not the map: right after the load only a few of the
    file's pages are mapped in, and searches then bring them in."""
    path = tmp_path / "words.nswg"
    Index.build(words(20_000), metric="cosine").save(path)
    out = subprocess.run(
        [sys.executable, "-c", MAPPED_PAGES, str(path)], check=True, capture_output=True, text=True
    )
    before, after, searched = (int(x) for x in out.stdout.split())
    size = path.stat().st_size / 1024
    assert after - before < 0.05 * size, (before, after, size)
    assert searched - before > 0.2 * size, (before, searched, size)


def test_a_mapped_index_keeps_labels_and_takes_filters(tmp_path):
    _, X = load_default_word_vectors(limit=3000)
    labels = np.arange(3000, dtype=np.uint64) * 3 + 2**63
    index = Index.build(X, "cosine", ids=labels)
    index.save(tmp_path / "labelled.nswg")
    mapped = Index.load(tmp_path / "labelled.nswg", mmap=True)
    assert mapped.memory_mapped
    np.testing.assert_array_equal(mapped.labels, labels)
    allowed = labels[::7]
    for exact in (False, True):
        want = index.search(X[:50], k=5, exact=exact, filter=allowed)
        got = mapped.search(X[:50], k=5, exact=exact, filter=allowed)
        np.testing.assert_array_equal(got.ids, want.ids)
        assert np.isin(got.ids, allowed).all()
    np.testing.assert_array_equal(
        mapped.get_vectors(labels[[3, 1]]), index.get_vectors(labels[[3, 1]])
    )
