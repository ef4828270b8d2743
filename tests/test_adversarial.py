"""Hostile input to every entry point, as a hostile user would try it.

Build, search, add, remove, save, load and each loader get odd arrays, values at and beyond
the limits, wrong types, odd paths and damaged files. Every call must give a correct answer
(checked here against brute force in numpy, or against the file's contents) or raise a clear
``ValueError`` / ``TypeError`` (``OSError`` for a path the system refuses) naming what was
wrong, never a wrong answer and never another exception. The tables run a few thousand cases;
``CASES`` counts them by entry point and the last test checks the count.
"""

from __future__ import annotations

import collections
import gzip
import itertools
import os
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nswg
from nswg import Index, IndexFileError
from nswg.datasets import load_ucr
from nswg.metrics import dtw as nswg_dtw
from nswg.words import load_word_vectors

#: Cases run, by entry point.
CASES: collections.Counter[str] = collections.Counter()

F32_MAX = float(np.finfo(np.float32).max)
DIM = 3
#: The largest magnitude the Euclidean and DTW indexes take for rows of DIM values.
BOUND = {m: nswg._core.max_magnitude(m, DIM) for m in ("euclidean", "dtw")}
#: The widest values the random lifecycles draw, a float32 beyond every bound.
HUGE = float(np.float32(1e20))
METRICS = [("euclidean", {}), ("cosine", {}), ("dtw", {}), ("dtw", {"radius": 1})]


def outcome(kind: str, names: tuple[str, ...], call: Callable[..., Any], *args, **kwargs) -> Any:
    """``call(*args, **kwargs)``, or None when it raised ValueError or TypeError whose message
    holds one of ``names``. Any other exception fails the test."""
    CASES[kind] += 1
    try:
        return call(*args, **kwargs)
    except (ValueError, TypeError) as e:
        assert any(name in str(e) for name in names), f"{kind}: {e!r} names none of {names}"
        return None


# --- oracles ----------------------------------------------------------------------------------


def observed(row: np.ndarray) -> np.ndarray:
    """A row without its trailing NaN padding."""
    keep = np.flatnonzero(~np.isnan(row))
    return row[: keep[-1] + 1] if keep.size else row[:0]


def dtw_oracle(a: np.ndarray, b: np.ndarray, radius: int | None) -> float:
    """tslearn's DTW (the project's oracle), in float64."""
    from tslearn.metrics import dtw

    a, b = (np.asarray(s, np.float64).reshape(-1, 1) for s in (a, b))
    if radius is None:
        return float(dtw(a, b))
    return float(dtw(a, b, global_constraint="sakoe_chiba", sakoe_chiba_radius=radius))


def true_distances(index: Index, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Distances from query ``q`` to every row, computed here in float64 from float32 values."""
    rows64, q64 = rows.astype(np.float64), q.astype(np.float64)
    if index.metric == "euclidean":
        return np.sqrt(((rows64 - q64) ** 2).sum(axis=1))
    if index.metric == "cosine":
        unit = rows64 / np.linalg.norm(rows64, axis=1, keepdims=True)
        return 1.0 - unit @ (q64 / np.linalg.norm(q64))
    return np.array([dtw_oracle(observed(r), observed(q), index.radius) for r in rows])


#: The difference below which a squared difference underflows float32's smallest subnormal
#: (about 4e-23): points closer than that tie at distance 0, as the README says, so answers are
#: checked to this floor (the "1e-30 scale" arrays live below it).
UNDERFLOW_FLOOR = float(np.sqrt(np.finfo(np.float32).smallest_subnormal))


def check_answers(index: Index, rows: np.ndarray, queries: np.ndarray, removed=()) -> None:
    """Exact search equals brute force; a graph search returns true distances, in order, of
    distinct live points."""
    k = min(3, len(index))
    scale = float(np.nanmax(np.abs(rows))) if rows.size else 1.0
    # float32 rounding of squared sums: distances agree to a few float32 ulps of the scale, and
    # to UNDERFLOW_FLOOR per value below it (README: differences that small square to zero).
    floor = UNDERFLOW_FLOOR * np.sqrt(rows.shape[1]) if rows.ndim == 2 else UNDERFLOW_FLOOR
    atol = 1e-3 if index.metric == "cosine" else 1e-5 * scale + floor
    live = np.setdiff1d(np.arange(len(rows)), np.asarray(removed, dtype=np.int64))
    for q in queries:
        truth = true_distances(index, rows, q)
        exact = index.search(q, k=k, exact=True)
        assert np.allclose(exact.distances, truth[exact.ids], rtol=1e-4, atol=atol)
        assert np.allclose(exact.distances, np.sort(truth[live])[:k], rtol=1e-4, atol=atol)
        if index.has_graph:
            found = index.search(q, k=k)
            got = found.ids[found.ids >= 0]
            assert len(set(got.tolist())) == len(got) and np.isin(got, live).all()
            assert np.allclose(found.distances[: len(got)], truth[got], rtol=1e-4, atol=atol)
            assert (np.diff(found.distances[: len(got)]) >= 0).all()


# --- hostile arrays ---------------------------------------------------------------------------


def base(n: int = 12, dim: int = DIM, scale: float = 1.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)) * scale


def with_value(value: float, dtype=np.float64, at=(3, 1)) -> np.ndarray:
    a = base().astype(dtype)
    a[at] = value
    return a


def read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def padded() -> np.ndarray:
    a = base(n=8, dim=6)
    a[2, 4:] = np.nan  # a shorter series (trailing NaN padding)
    a[5, 1:] = np.nan
    return a


ARRAYS: dict[str, Any] = {
    "float64": base(),
    "float32": base().astype(np.float32),
    "float16": base().astype(np.float16),
    "int64": (base() * 10).astype(np.int64),
    "uint8": (np.abs(base()) * 10).astype(np.uint8),
    "int8 extremes": np.array([[-128, 127, 0], [127, -128, 1], [0, 0, 5]], np.int8),
    "int64 max": np.array([[2**63 - 1, 0, 0], [0, 1, 0], [1, 1, 1]], np.int64),
    "uint64 max": np.array([[2**64 - 1, 0, 0], [0, 1, 0], [1, 1, 1]], np.uint64),
    "bool": base() > 0,
    "complex": base().astype(np.complex128),
    "object": base().astype(object),
    "strings": np.array([["1", "2", "3"], ["4", "5", "6"]]),
    "nested list": base().tolist(),
    "ragged list": [[1.0, 2.0, 3.0], [1.0, 2.0]],
    "scalar": np.float64(3.0),
    "1-D": np.arange(5.0),
    "3-D univariate": base()[:, :, None],
    "3-D multivariate": np.zeros((4, 3, 2)),
    "4-D": np.zeros((2, 2, 2, 2)),
    "empty rows": np.zeros((0, DIM)),
    "empty columns": np.zeros((4, 0)),
    "one row": base(n=1),
    "one column": base(dim=1),
    "Fortran order": np.asfortranarray(base()),
    "strided": base(n=24, dim=6)[::2, ::2],
    "reversed": base()[::-1, ::-1],
    "read-only": read_only(base()),
    "duplicates": np.repeat(base(n=3), 4, axis=0),
    "all equal": np.ones((6, DIM)),
    "negative zero": np.where(base() > 0, 1.0, -0.0),
    "NaN": with_value(np.nan),
    "inf": with_value(np.inf),
    "-inf": with_value(-np.inf),
    "NaN float32": with_value(np.nan, np.float32),
    "trailing NaN padding": padded(),
    "all-NaN row": with_value(np.nan, at=(2, slice(None))),
    "zero row": with_value(0.0, at=(2, slice(None))),
    "1e-310 row": with_value(1e-310, at=(2, slice(None))),
    "float32 denormal": with_value(1e-45, np.float32, at=(2, slice(None))),
    "1e-30 scale": base(scale=1e-30),
    "1e15 scale": base(scale=1e15),
    "1e18 scale": base(scale=1e18),
    "3e19 scale": base(scale=3e19),
    "1e30 value": with_value(1e30),
    "float32 max": with_value(F32_MAX, np.float32),
    "1e39 float64": with_value(1e39),
    "1e300 float64": with_value(1e300),
    "euclidean bound": with_value(BOUND["euclidean"], np.float32),
    "dtw bound": with_value(BOUND["dtw"], np.float32),
    "just above the euclidean bound": with_value(
        float(np.nextafter(np.float32(BOUND["euclidean"]), np.float32(np.inf))), np.float32
    ),
    "issue 16": np.array([[3e19, 0, 0], [-3e19, 0, 0], [1e19, 0, 0]], np.float32),
    "mixed signs at the bound": np.array(
        [[BOUND["dtw"], -BOUND["dtw"], 0], [-BOUND["dtw"], BOUND["dtw"], 0], [0, 0, 0]], np.float32
    ),
}


def as_float32_rows(x: Any) -> np.ndarray:
    """What the index stores, for the oracle: float32 rows (n, d)."""
    array = np.asarray(x)
    if array.ndim == 3:
        array = array[:, :, 0]
    return np.ascontiguousarray(array, dtype=np.float32)


BUILD_CASES = [pytest.param(name, metric, band) for name in ARRAYS for metric, band in METRICS]


@pytest.mark.parametrize(("name", "metric", "band"), BUILD_CASES)
def test_build_answers_right_or_names_the_problem(name: str, metric: str, band: dict):
    data = ARRAYS[name]
    for graph in (True, False):
        index = outcome(
            "build",
            ("vectors", "radius and window"),
            Index.build,
            data,
            metric=metric,
            graph=graph,
            seed=1,
            **band,
        )
        if index is None:
            continue
        rows = as_float32_rows(data)
        queries = np.concatenate([rows[:4], rows[-1:] * 0.5 + 0.25])
        queries = queries[np.isfinite(np.nan_to_num(queries, nan=0.0)).all(axis=1)]
        if metric == "cosine":
            queries = queries[np.linalg.norm(queries.astype(np.float64), axis=1) > 0]
        try:
            check_answers(index, rows, queries)
        except ValueError as e:  # a query the index refuses must say why
            assert "q" in str(e) or "queries" in str(e), e


# --- hostile search parameters ----------------------------------------------------------------

SEARCH_PARAMETERS = {
    "k": [0, -1, 1, 12, 13, 2**70, 1.5, "2", True, None, np.int64(2), np.uint8(3)],
    "ef": [0, -1, 1, 10**9, 2**62, 1.5, True, "8", np.int32(16)],
    "n_searches": [0, -1, 1, 1000, 1.5, False, None],
    "exact": [True, False, np.bool_(True), "False", 0, 1, None, "yes"],
    "n_threads": [0, 1, 2, -1, 10**6, 1.5, True, "2", None],
}


@pytest.fixture(scope="module")
def indexes() -> dict[str, tuple[Index, np.ndarray]]:
    out = {}
    for metric, band in METRICS:
        rows = base(seed=2).astype(np.float32)
        out[f"{metric}{band}"] = (Index.build(rows, metric=metric, seed=3, **band), rows)
    return out


@pytest.mark.parametrize("parameter", list(SEARCH_PARAMETERS))
def test_search_parameters_answer_right_or_name_themselves(indexes, parameter: str):
    for (index, rows), value in itertools.product(indexes.values(), SEARCH_PARAMETERS[parameter]):
        kwargs = {"k": 2, parameter: value}
        q = rows[5] + 0.1
        res = outcome("search", (parameter,), index.search, q, **kwargs)
        if res is None:
            continue
        truth = true_distances(index, rows, q)
        found = res.ids >= 0  # a graph search may reach fewer than k = 12 points
        assert np.allclose(res.distances[found], truth[res.ids[found]], rtol=1e-4, atol=1e-3)
        if parameter == "exact" and value:
            assert np.allclose(res.distances, np.sort(truth)[: len(res.ids)], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("name", list(ARRAYS))
def test_hostile_queries_answer_right_or_name_q(indexes, name: str):
    for index, rows in indexes.values():
        q = ARRAYS[name]
        res = outcome("search", ("q", "queries"), index.search, q, k=2, exact=True)
        if res is None:
            continue
        if np.ndim(q) == 2 and np.shape(q)[1] == 1 and index.dim != 1:
            q = np.ravel(q)  # one series (sz, 1), which DTW takes at any length
        queries = np.atleast_2d(as_float32_rows(np.atleast_2d(q) if np.ndim(q) < 2 else q))
        ids = np.atleast_2d(res.ids)
        distances = np.atleast_2d(res.distances)
        for query, found, got in zip(queries, ids, distances):
            truth = true_distances(index, rows, query)
            atol = 1e-3 + 1e-5 * float(np.nanmax(np.abs(query)))
            assert np.allclose(got, np.sort(truth)[:2], rtol=1e-4, atol=atol), name
            assert np.allclose(got, truth[found], rtol=1e-4, atol=atol), name


# --- add and remove ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ARRAYS))
def test_add_answers_right_or_names_vectors_and_changes_nothing(name: str):
    for metric, band in METRICS:
        rows = base(seed=4).astype(np.float32)
        index = Index.build(rows, metric=metric, seed=5, **band)
        data = ARRAYS[name]
        first = outcome("add", ("vectors",), index.add, data)
        if first is None:
            assert index.n_ids == len(rows)
            check_answers(index, rows, rows[:2])
            continue
        rows = np.concatenate([rows, as_float32_rows(data)])
        assert index.n_ids == len(rows)
        finite = ~np.isnan(rows).all(axis=1)
        check_answers(index, rows, rows[finite][-2:])


def removes(index: Index, ids: Any) -> bool:
    index.remove(ids)
    return True


REMOVALS: list[Any] = [
    0, [0, 1], np.array([3, 4], np.uint64), -1, [-1], 12, [12], 2**64, [0, 0], [1.0], [0.5],
    "1", [True], np.array([True, False]), None, [[0, 1]], np.array([], np.float64), [],
    list(range(12)), list(range(11)), np.int8(2),
]  # fmt: skip


@pytest.mark.parametrize("ids", REMOVALS, ids=repr)
def test_remove_takes_valid_ids_or_names_them_and_removes_nothing(ids):
    rows = base(seed=6).astype(np.float32)
    for metric, band in METRICS:
        index = Index.build(rows, metric=metric, seed=7, **band)
        done = outcome("remove", ("ids", "id ", "every point"), removes, index, ids)
        removed = np.asarray(ids, dtype=np.int64).reshape(-1) if done else []
        assert len(index) == 12 - len(removed)
        check_answers(index, rows, rows[:3], removed=removed)


@settings(max_examples=150, deadline=None)
@given(
    data=hnp.arrays(
        np.float32,
        st.tuples(st.integers(2, 10), st.integers(1, 4)),
        elements=st.floats(-10.0, 10.0, width=32)
        | st.floats(-HUGE, HUGE, width=32)
        | st.sampled_from([0.0, -0.0, 1e-45, 3e19, -3e19, BOUND["dtw"], -BOUND["euclidean"]]),
    ),
    metric=st.sampled_from(["euclidean", "cosine", "dtw"]),
    remove=st.lists(st.integers(-2, 12), max_size=3),
    seed=st.integers(0, 2**32),
)
def test_random_lifecycles_answer_right_or_name_the_problem(data, metric, remove, seed):
    """Build, search, add, remove and search again, on data anywhere in float32's range."""
    half = len(data) // 2
    index = outcome("lifecycle", ("vectors",), Index.build, data[:half], metric=metric, seed=seed)
    if index is None:
        return
    rows = data[:half]
    if outcome("lifecycle", ("vectors",), index.add, data[half:]) is not None:
        rows = data
    removed = outcome("lifecycle", ("ids", "id ", "every"), removes, index, remove)
    check_answers(index, rows, rows[:2], removed=remove if removed else [])


# --- save and load ----------------------------------------------------------------------------


def saved_index(tmp_path: Path) -> tuple[Index, Path, bytes]:
    index = Index.build(base(seed=8).astype(np.float32), seed=9)
    index.remove([2])
    path = tmp_path / "saved.nswg"
    index.save(path)
    return index, path, path.read_bytes()


def same_answers(a: Index, b: Index) -> bool:
    q = base(n=4, seed=10).astype(np.float32)
    ra, rb = a.search(q, k=3), b.search(q, k=3)
    return bool((ra.ids == rb.ids).all() and (ra.distances == rb.distances).all())


def test_damaged_files_are_refused_or_load_as_saved(tmp_path: Path):
    index, path, data = saved_index(tmp_path)
    damaged = [data[:cut] for cut in range(0, len(data), max(1, len(data) // 97))]
    damaged += [data + b"\0", data + data, b"", b"\0" * len(data), os.urandom(len(data))]
    rng = np.random.default_rng(11)
    for at in rng.integers(0, len(data), size=150):
        flipped = bytearray(data)
        flipped[at] ^= 1 << int(rng.integers(0, 8))
        damaged.append(bytes(flipped))
    header = bytearray(data)
    header[8:16] = struct.pack("<Q", 2**62)  # a field of the header: a huge size
    damaged.append(bytes(header))
    bad = tmp_path / "damaged.nswg"
    for contents in damaged:
        bad.write_bytes(contents)
        CASES["load"] += 1
        try:
            loaded = Index.load(bad)
        except IndexFileError as e:
            assert str(bad) in str(e)
        else:
            assert same_answers(index, loaded)


def test_odd_paths_save_and_load_or_are_refused_by_the_system(tmp_path: Path):
    index, path, _ = saved_index(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "link").symlink_to(path.name)
    (tmp_path / "dangling").symlink_to("not yet.nswg")
    (tmp_path / "loop").symlink_to("loop")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
    paths: list[Any] = [
        tmp_path / ("n" * 255), tmp_path / ("é" * 127), tmp_path / ("n" * 256),
        tmp_path / "with space.nswg", tmp_path / "folder", tmp_path / "link",
        tmp_path / "dangling", tmp_path / "loop", tmp_path / "no folder" / "x.nswg",
        tmp_path / "fifo", str(tmp_path / "str path"), os.fsencode(tmp_path / "bytes path"),
        "", "a\0b", 3, None, os.devnull,
    ]  # fmt: skip
    for target in paths:
        # Saving over a device or a FIFO is refused before anything is written: never try it on
        # /dev/null unless that holds.
        calls = ("load",) if target == os.devnull else ("save", "load")
        for call in calls:
            CASES[call] += 1
            try:
                if call == "save":
                    index.save(target)
                else:
                    assert same_answers(index, Index.load(target))
            except (OSError, TypeError, IndexFileError) as e:
                assert e.__class__ is not OSError or str(e), e
    assert (tmp_path / "link").is_symlink() and same_answers(index, Index.load(path))


# --- loaders ----------------------------------------------------------------------------------

#: (file contents, expected (X_train rows, labels) with znormalize=False, or an error pattern).
UCR_FILES: list[tuple[bytes, Any]] = [
    (b"1\t1\t2\n2\t3\t4\n", ([[1, 2], [3, 4]], [1, 2])),
    (b"\xef\xbb\xbf1\t1\t2\n2\t3\t4\n", ([[1, 2], [3, 4]], [1, 2])),
    (b"1\t1\t2\r\n2\t3\t4\r\n", ([[1, 2], [3, 4]], [1, 2])),
    (b"1\t1\t2\t\n2\t3\t4\t\n", ([[1, 2], [3, 4]], [1, 2])),
    (b"1,1,2\n2,3,4\n", ([[1, 2], [3, 4]], [1, 2])),
    (b"1 1 2\n2 3 4\n", ([[1, 2], [3, 4]], [1, 2])),
    (b"\n1\t1\t2\n\n2\t3\t4\n\n", ([[1, 2], [3, 4]], [1, 2])),
    (b"1\t1\tNaN\t3\n2\t3\t4\t5\n", ([[1, 2, 3], [3, 4, 5]], [1, 2])),
    (b"1e30\t1\t2\n2\t3\t4\n", ([[1, 2], [3, 4]], [1e30, 2])),
    (b"1.5\t1\t2\n2\t3\t4\n", ([[1, 2], [3, 4]], [1.5, 2])),
    (b"a\t1\t2\nb\t3\t4\n", ([[1, 2], [3, 4]], ["a", "b"])),
    (b"-1\t1\t2\n9007199254740992\t3\t4\n", ([[1, 2], [3, 4]], [-1, 2**53])),
    (b"1\t1\t1e38\n2\t3\t4\n", ([[1, 1e38], [3, 4]], [1, 2])),
    (b"1\t1\t1e39\n2\t3\t4\n", "too large for float32"),
    (b"1\t1\tinf\n2\t3\t4\n", "infinite"),
    (b"1\t1\t-inf\n2\t3\t4\n", "infinite"),
    (b"nan\t1\t2\n2\t3\t4\n", "label"),
    (b"inf\t1\t2\n2\t3\t4\n", "label"),
    (b"1\t1\toops\n2\t3\t4\n", "not a number"),
    (b"1\n2\n", "label and at least one value"),
    (b"", "holds no series"),
    (b"\n\n", "holds no series"),
    (b"1\t\xff\xfe\t2\n", "not UTF-8"),
    (b"1\tNaN\tNaN\n2\tNaN\tNaN\n", ([[0, 0], [0, 0]], [1, 2])),  # rows of no value: zeros
]


@pytest.mark.parametrize("gz", [False, True], ids=["tsv", "gz"])
@pytest.mark.parametrize(("contents", "expected"), UCR_FILES, ids=lambda x: repr(x)[:40])
def test_ucr_files_load_as_written_or_name_the_file(tmp_path: Path, contents, expected, gz):
    folder = tmp_path / "Toy"
    folder.mkdir()
    suffix = ".tsv.gz" if gz else ".tsv"
    train = folder / f"Toy_TRAIN{suffix}"
    train.write_bytes(gzip.compress(contents) if gz else contents)
    (folder / f"Toy_TEST{suffix}").write_bytes(
        gzip.compress(b"1\t1\t2\t3\n") if gz else b"1\t1\t2\t3\n"
    )
    CASES["load_ucr"] += 1
    if isinstance(expected, str):
        with pytest.raises(ValueError, match=expected) as caught:
            load_ucr("Toy", tmp_path, znormalize=False)
        assert "Toy" in str(caught.value)
        return
    X, y, _, _ = load_ucr("Toy", tmp_path, znormalize=False)
    rows, labels = expected
    assert X.dtype == np.float32 and np.array_equal(X[:, : len(rows[0])], np.float32(rows))
    assert y.tolist() == labels


def test_damaged_gzip_ucr_files_name_the_file(tmp_path: Path):
    folder = tmp_path / "Toy"
    folder.mkdir()
    data = gzip.compress(b"".join(b"1\t%d\t2\n" % i for i in range(400)))
    (folder / "Toy_TEST.tsv").write_bytes(b"1\t1\t2\n")
    train = folder / "Toy_TRAIN.tsv.gz"
    for cut in range(0, len(data), max(1, len(data) // 40)):
        for contents in (data[:cut], data[:cut] + b"garbage" + data[cut + 7 :]):
            train.write_bytes(contents)
            CASES["load_ucr"] += 1
            try:
                X, _, _, _ = load_ucr("Toy", tmp_path, znormalize=False)
            except ValueError as e:
                assert str(train) in str(e), e
            else:  # the damage missed the data, as gzip's CRC confirms
                assert X.shape == (400, 2) and X[:, 0].tolist() == list(range(400))


def word2vec_binary(words: list[bytes], vectors: np.ndarray, n: int | None = None) -> bytes:
    out = b"%d %d\n" % (len(words) if n is None else n, vectors.shape[1])
    records = (w + b" " + v.astype("<f4").tobytes() + b"\n" for w, v in zip(words, vectors))
    return out + b"".join(records)


V = np.arange(12, dtype=np.float32).reshape(4, 3) / 4
WORDS = [b"a", b"b", b"c", b"d"]
GLOVE = b"".join(
    w + b" " + b" ".join(b"%r" % float(x) for x in row) + b"\n" for w, row in zip(WORDS, V)
)

#: (file name, contents, expected words or an error pattern); the vectors expected are V.
WORD_FILES: list[tuple[str, bytes, Any]] = [
    ("v.txt", GLOVE, ["a", "b", "c", "d"]),
    ("v.txt", b"\xef\xbb\xbf" + GLOVE, ["a", "b", "c", "d"]),
    ("v.txt", GLOVE.replace(b"\n", b"\r\n"), ["a", "b", "c", "d"]),
    ("v.txt", b"4 3\n" + GLOVE, ["a", "b", "c", "d"]),
    ("v.txt", b"5 3\n" + GLOVE, "announces 5 words"),
    ("v.txt", b"4 2\n" + GLOVE, "expected 2"),
    ("v.txt", b"4 5\n" + GLOVE, "expected 5"),
    ("v.txt", GLOVE + b"e 1 2\n", "ragged"),
    ("v.txt", GLOVE + b"e 1 2 x\n", "not a number"),
    ("v.txt", GLOVE + b"e 1 2 nan\n", "holds NaN"),
    ("v.txt", GLOVE + b"e 1 2 inf\n", "holds NaN"),
    ("v.txt", GLOVE + b"e 1 2 1e39\n", "beyond float32"),
    ("v.txt", GLOVE + b"e\n", "ragged"),
    ("v.txt", b"caf\xe9 1 2 3\n", "not UTF-8"),
    ("v.txt", b"", "holds no word vectors"),
    ("v.bin", word2vec_binary(WORDS, V), ["a", "b", "c", "d"]),
    ("v.bin", word2vec_binary(WORDS, V, n=3), "more data follows"),
    ("v.bin", word2vec_binary(WORDS, V, n=5), "announces 5 words"),
    ("v.bin", word2vec_binary(WORDS, V, n=100000000000), "more than the file"),
    ("v.bin", word2vec_binary([b"a", b"b c", b"d", b"e"], V), "word with a space"),
    ("v.bin", word2vec_binary(WORDS, V)[:-5], "cut short|more than the file"),
    ("v.bin", word2vec_binary(WORDS, V * np.float32(np.nan)), "holds NaN"),
    ("v.bin", b"not a header\n", "not a word2vec header"),
    ("v.bin", b"", "not a word2vec header"),
]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize(("name", "contents", "expected"), WORD_FILES, ids=lambda x: repr(x)[:30])
def test_word_files_load_as_written_or_name_the_file(tmp_path: Path, name, contents, expected, gz):
    path = tmp_path / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(contents) if gz else contents)
    CASES["load_word_vectors"] += 1
    if isinstance(expected, str):
        with pytest.raises(ValueError, match=expected) as caught:
            load_word_vectors(path)
        assert str(path) in str(caught.value)
        return
    words, vectors = load_word_vectors(path)
    assert words == expected and np.array_equal(vectors, V)


def test_npy_word_files(tmp_path: Path):
    cases: list[tuple[Any, str, Any]] = [
        (V, "a\nb\nc\nd\n", ["a", "b", "c", "d"]),
        (V.astype(np.float64), "\ufeffa\r\nb\r\nc\r\nd\r\n", ["a", "b", "c", "d"]),
        (V.astype(np.float16), "a\nb\nc\nd\n", ["a", "b", "c", "d"]),
        (V, "a\nb\nc\n", "has 3 words but"),
        (V[0], "a\n", "2-D array"),
        (np.array([["x"] * 3] * 4), "a\nb\nc\nd\n", "expected numbers"),
        (np.where(V > 2, np.nan, V), "a\nb\nc\nd\n", "holds NaN"),
        (V.astype(np.float64) * 1e39, "a\nb\nc\nd\n", "beyond float32"),
    ]
    for array, vocabulary, expected in cases:
        np.save(tmp_path / "v.npy", array)
        (tmp_path / "v.vocab.txt").write_text(vocabulary, encoding="utf-8", newline="")
        CASES["load_word_vectors"] += 1
        if isinstance(expected, str):
            with pytest.raises(ValueError, match=expected):
                load_word_vectors(tmp_path / "v.npy")
            continue
        words, vectors = load_word_vectors(tmp_path / "v.npy")
        assert words == expected and np.array_equal(vectors, np.asarray(array, np.float32))


def test_metrics_dtw_agrees_with_the_oracle_or_names_the_series():
    rng = np.random.default_rng(12)
    series: list[Any] = [
        rng.normal(size=5), rng.normal(size=3), [0.0], [1e18, -1e18, 0.0], [3e19, 0.0],
        [np.nan, 1.0], [np.inf], [], [[1.0], [2.0]], [[1.0, 2.0]], "abc", [1e-45, 0.0],
        np.float32([BOUND["dtw"], 0.0, 0.0]),
    ]  # fmt: skip
    for a, b in itertools.product(series, repeat=2):
        for radius in (None, 0, 1, 10):
            got = outcome("metrics.dtw", ("s1", "s2"), nswg_dtw, a, b, radius=radius)
            if got is not None:
                x, y = (np.asarray(s, np.float32).reshape(-1) for s in (a, b))
                want = dtw_oracle(x, y, radius)
                assert got == pytest.approx(want, rel=1e-4, abs=1e-6 * max(1.0, want))


def test_the_tables_ran_thousands_of_cases():
    """Runs last (pytest keeps the file's order): the count of cases above, for the record."""
    if len(CASES) < 8:
        pytest.skip("only part of the module ran")
    total = sum(CASES.values())
    print(f"\nadversarial cases run: {total} {dict(CASES)}", file=sys.stderr)
    assert total > 2000
