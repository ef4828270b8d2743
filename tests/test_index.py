"""The index against exact search, the UCR archive's published numbers, and bad input."""

from __future__ import annotations

import os
import stat
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import nswg
from nswg import Index, SearchResult
from nswg.datasets import (
    list_ucr,
    load_default_word_vectors,
    load_ucr,
    ucr_summary,
    ucr_window_radius,
)
from nswg.metrics import recall_at_k

SHIPPED_CLASSIC = [
    "ArrowHead", "CBF", "Chinatown", "Coffee", "ECG200", "FaceFour", "GunPoint",
    "ItalyPowerDemand", "Plane", "SyntheticControl", "Trace", "TwoLeadECG",
]  # fmt: skip


def one_nn_error(index: Index, y_train, X_test, y_test) -> float:
    res = index.search(X_test, k=1, exact=True)
    return float(np.mean(y_train[res.ids[:, 0]] != y_test))


@pytest.mark.parametrize("name", SHIPPED_CLASSIC)
def test_exact_1nn_reproduces_the_published_error_rates(name):
    assert name in list_ucr()
    X, y, Xt, yt = load_ucr(name)
    summary = ucr_summary()[name]
    ed = one_nn_error(Index.build(X, metric="euclidean"), y, Xt, yt)
    assert ed == pytest.approx(summary.ed_error, abs=1e-4)
    radius = ucr_window_radius(summary.dtw_window_percent, X.shape[1])
    dtw = one_nn_error(Index.build(X, metric="dtw", radius=radius), y, Xt, yt)
    assert dtw == pytest.approx(summary.dtw_error, abs=1e-4)


def test_default_recall_on_glove_words():
    words, vectors = load_default_word_vectors()
    queries, base = vectors[:500], vectors[500:]
    index = Index.build(base, metric="cosine")
    truth = index.search(queries, k=10, exact=True)
    res = index.search(queries, k=10)
    assert recall_at_k(res.distances, truth.distances) >= 0.95
    assert res.n_distance_computations.mean() < 0.2 * len(index)


def test_default_recall_on_ucr_under_dtw():
    X, _, Xt, _ = load_ucr("Crop")
    radius = ucr_window_radius(ucr_summary()["Crop"].dtw_window_percent, X.shape[1])
    index = Index.build(X, metric="dtw", radius=radius)
    truth = index.search(Xt[:300], k=10, exact=True)
    res = index.search(Xt[:300], k=10)
    assert recall_at_k(res.distances, truth.distances) >= 0.95
    assert res.n_distance_computations.mean() < 0.2 * len(index)


def test_search_shapes_types_and_unpacking(rng):
    X = rng.normal(size=(200, 6))
    index = Index.build(X)
    one = index.search(X[3], k=4)
    assert isinstance(one, SearchResult)
    assert one.ids.shape == (4,) and one.ids.dtype == np.int64
    assert one.distances.shape == (4,) and one.distances.dtype == np.float32
    assert isinstance(one.n_distance_computations, int)
    assert one.ids[0] == 3 and one.distances[0] == 0.0
    assert np.all(np.diff(one.distances) >= 0)
    batch = index.search(X[:7], k=4)
    assert batch.ids.shape == (7, 4) and batch.distances.shape == (7, 4)
    assert batch.n_distance_computations.shape == (7,)
    ids, distances = batch
    np.testing.assert_array_equal(ids[3], one.ids)
    np.testing.assert_array_equal(distances[3], one.distances)


def test_properties_and_repr(rng):
    index = Index.build(rng.normal(size=(50, 30)), metric="dtw", window=0.1, n_neighbors=8)
    assert (len(index), index.dim, index.metric, index.radius) == (50, 30, "dtw", 3)
    assert (index.n_neighbors, index.max_degree, index.seed) == (8, 16, 0)
    assert index.build_distance_computations > 0
    assert repr(index).startswith("nswg.Index(n=50, dim=30, metric='dtw', radius=3")
    assert nswg.__version__ == "0.1.0"


def test_tslearn_shaped_time_series_are_accepted(rng):
    X3 = rng.normal(size=(60, 25, 1))
    a = Index.build(X3, metric="dtw", radius=2)
    b = Index.build(X3[:, :, 0], metric="dtw", radius=2)
    np.testing.assert_array_equal(a.search(X3[:5], k=3).ids, b.search(X3[:5, :, 0], k=3).ids)


def test_any_numeric_dtype_and_layout_is_converted_once(rng):
    X = rng.integers(-50, 50, size=(300, 10))
    base = Index.build(X.astype(np.float32)).search(X[:20].astype(np.float32), k=5, exact=True)
    for variant in (X, X.astype(np.float64), np.asfortranarray(X), X.tolist()):
        got = Index.build(variant).search(np.asarray(variant)[:20], k=5, exact=True)
        np.testing.assert_array_equal(got.ids, base.ids)
    strided = np.repeat(X, 2, axis=1)[:, ::2]
    got = Index.build(strided).search(strided[:20], k=5, exact=True)
    np.testing.assert_array_equal(got.ids, base.ids)


def test_ties_are_all_kept_and_ordered_by_id():
    X = np.zeros((12, 3))
    X[10:] = 5.0
    index = Index.build(X)
    for exact in (True, False):
        ids, distances = index.search(np.zeros(3), k=10, exact=exact)
        assert ids.tolist() == list(range(10))
        assert (distances == 0).all()


def test_k_equal_to_len_returns_every_point(rng):
    X = rng.normal(size=(150, 4))
    index = Index.build(X)
    for exact in (True, False):
        ids, distances = index.search(X[:3], k=150, exact=exact)
        for row in ids:
            assert sorted(row.tolist()) == list(range(150))
        assert np.all(np.diff(distances, axis=1) >= 0)


def test_one_point_index():
    index = Index.build([[3.0, 4.0]])
    ids, distances = index.search([0.0, 0.0], k=1)
    assert ids.tolist() == [0] and distances.tolist() == [5.0]


def test_variable_length_series_under_dtw():
    nan = np.nan
    X = [[0, 1, 2, 3], [0, 1, 2, nan], [5, 5, nan, nan]]
    index = Index.build(X, metric="dtw")
    ids, distances = index.search([0, 1, 2, nan], k=3, exact=True)
    assert ids.tolist() == [1, 0, 2]
    assert distances[:2].tolist() == [0.0, 1.0]


def test_same_seed_same_answers_for_any_thread_count(rng):
    X = rng.normal(size=(3000, 12))
    Q = rng.normal(size=(200, 12))
    runs = [Index.build(X, seed=7, n_threads=t).search(Q, k=10, n_threads=t) for t in (1, 2, 1)]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.ids, runs[0].ids)
        np.testing.assert_array_equal(
            other.n_distance_computations, runs[0].n_distance_computations
        )


def test_queries_from_several_python_threads_match_one_thread(rng):
    n_threads, per_thread = 8, 1000
    X = rng.normal(size=(2000, 16))
    Q = rng.normal(size=(n_threads * per_thread, 16))
    index = Index.build(X)
    want = index.search(Q, k=10, n_threads=1)
    got = {}
    start = threading.Barrier(n_threads)

    def work(t):
        start.wait()
        got[t] = [index.search(q, k=10) for q in Q[t::n_threads]]

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for t in range(n_threads):
        assert len(got[t]) == per_thread
        np.testing.assert_array_equal(np.stack([r.ids for r in got[t]]), want.ids[t::n_threads])
        np.testing.assert_array_equal(
            np.stack([r.distances for r in got[t]]), want.distances[t::n_threads]
        )


def test_graph_search_costs_less_than_exact_at_equal_recall(rng):
    centers = rng.normal(size=(50, 32)) * 4
    X = centers[rng.integers(0, 50, 20000)] + rng.normal(size=(20000, 32))
    Q = centers[rng.integers(0, 50, 200)] + rng.normal(size=(200, 32))
    index = Index.build(X)
    truth = index.search(Q, k=10, exact=True)
    res = index.search(Q, k=10, ef=100)
    assert recall_at_k(res.distances, truth.distances) >= 0.95
    assert res.n_distance_computations.mean() < 0.1 * len(X)


BAD_BUILDS = [
    ([], {}, ValueError, "empty"),
    (np.zeros((0, 3)), {}, ValueError, "empty"),
    (np.zeros((3, 0)), {}, ValueError, "empty"),
    (np.arange(5.0), {}, ValueError, "must be 2-D"),
    (np.zeros((2, 3, 2, 1)), {}, ValueError, "must be 2-D, shape"),
    ([[[1.0, 2.0], [3.0, np.nan]]], {"metric": "dtw"}, ValueError, "in whole time steps"),
    ([[1.0, 2.0], [3.0]], {}, ValueError, "rectangular"),
    ([["a", "b"]], {}, TypeError, "real numbers"),
    (np.array([[1 + 2j, 3]]), {}, TypeError, "real numbers"),
    ([[1.0, np.nan]], {}, ValueError, "non-finite"),
    ([[1.0, np.inf]], {"metric": "dtw"}, ValueError, "non-finite"),
    ([[1.0, np.nan, 2.0]], {"metric": "dtw"}, ValueError, "trailing NaN"),
    ([[1e300, 1.0]], {}, ValueError, "too large for float32"),
    ([[0.0, 0.0], [1.0, 1.0]], {"metric": "cosine"}, ValueError, "zero norm"),
    ([[1.0, 2.0]], {"metric": "manhattan"}, ValueError, "unknown metric"),
    ([[1.0, 2.0]], {"metric": 3}, TypeError, "metric must be a string"),
    ([[1.0, 2.0]], {"metric": "dtw", "radius": -1}, ValueError, "radius must not be negative"),
    ([[1.0, 2.0]], {"metric": "dtw", "radius": 1.5}, TypeError, "radius must be an integer"),
    ([[1.0, 2.0]], {"metric": "dtw", "window": 2.0}, ValueError, "window must be"),
    ([[1.0, 2.0]], {"metric": "dtw", "window": float("nan")}, ValueError, "window must be"),
    ([[1.0, 2.0]], {"metric": "dtw", "radius": 1, "window": 0.1}, ValueError, "not both"),
    ([[1.0, 2.0]], {"radius": 1}, ValueError, "apply to metric='dtw'"),
    ([[1.0, 2.0]], {"n_neighbors": 0}, ValueError, "n_neighbors must be at least 1"),
    ([[1.0, 2.0]], {"n_neighbors": 8, "max_degree": 4}, ValueError, "max_degree must be at least"),
    ([[1.0, 2.0]], {"ef_construction": -3}, ValueError, "must not be negative"),
    ([[1.0, 2.0]], {"seed": "x"}, TypeError, "seed must be an integer"),
    ([[1.0, 2.0]], {"graph": "no"}, TypeError, "graph must be True or False"),
]


@pytest.mark.parametrize(("vectors", "kwargs", "error", "match"), BAD_BUILDS)
def test_bad_build_input_raises_a_clear_error(vectors, kwargs, error, match):
    with pytest.raises(error, match=match):
        Index.build(vectors, **kwargs)


BAD_SEARCHES = [
    (np.zeros(3), {}, ValueError, "must have 4 values"),
    (np.zeros((2, 5)), {}, ValueError, "must have 4 values"),
    (np.zeros((0, 4)), {}, ValueError, "empty"),
    (np.full(4, np.nan), {}, ValueError, "non-finite"),
    (np.array([1.0, 2.0, np.inf, 0.0]), {}, ValueError, "non-finite"),
    (np.zeros(4), {"k": 0}, ValueError, "k must be at least 1"),
    (np.zeros(4), {"k": 21}, ValueError, r"k must be between 1 and the number of points \(20\)"),
    (np.zeros(4), {"k": 2.5}, TypeError, "k must be an integer"),
    (np.zeros(4), {"ef": 0}, ValueError, "ef must be at least 1"),
    (np.zeros(4), {"n_searches": 0}, ValueError, "n_searches must be at least 1"),
    (np.zeros(4), {"n_threads": -1}, ValueError, "n_threads must not be negative"),
    (["a", "b", "c", "d"], {}, TypeError, "real numbers"),
]


def test_an_index_without_a_graph_answers_exact_searches_only(rng):
    X, queries = rng.normal(size=(300, 8)), rng.normal(size=(20, 8))
    bare = Index.build(X, graph=False)
    assert not bare.has_graph and Index.build(X).has_graph
    assert (bare.n_neighbors, bare.max_degree, bare.build_distance_computations) == (0, 0, 0)
    want = np.argsort(((queries[:, None, :] - X[None]) ** 2).sum(-1), axis=1)[:, :5]
    got = bare.search(queries, k=5, exact=True)
    np.testing.assert_array_equal(got.ids, want)
    with pytest.raises(ValueError, match="no graph.*exact=True"):
        bare.search(queries, k=5)
    # It grows and shrinks without linking.
    bare.add(queries[:2])
    assert bare.search(queries[0], k=1, exact=True).ids.tolist() == [300]
    bare.remove([300])
    assert bare.compact().tolist() == [*range(300), 301]
    assert not bare.has_graph and bare.build_distance_computations == 0


@pytest.mark.parametrize(("q", "kwargs", "error", "match"), BAD_SEARCHES)
def test_bad_search_input_raises_a_clear_error(rng, q, kwargs, error, match):
    index = Index.build(rng.normal(size=(20, 4)) + 1)
    with pytest.raises(error, match=match):
        index.search(q, **kwargs)


def test_zero_query_under_cosine_is_an_error(rng):
    index = Index.build(rng.normal(size=(20, 4)), metric="cosine")
    with pytest.raises(ValueError, match="zero norm"):
        index.search(np.zeros(4))


def test_the_constructor_is_not_the_way_in():
    with pytest.raises(TypeError, match="Index.build"):
        Index("not a core index")


BAD_ADDS = [
    (np.zeros((2, 3)), {}, ValueError, "must have 4 values"),
    (np.zeros(4), {}, ValueError, "must be 2-D"),
    (np.zeros((0, 4)), {}, ValueError, "empty"),
    (np.full((1, 4), np.nan), {}, ValueError, "non-finite"),
    (np.array([[1.0, -np.inf, 0.0, 0.0]]), {}, ValueError, "non-finite"),
    (np.full((1, 4), 1e300), {}, ValueError, "too large for float32"),
    ([["a", "b", "c", "d"]], {}, TypeError, "real numbers"),
    ([[1.0, 2.0], [3.0]], {}, ValueError, "rectangular"),
    (np.zeros((1, 4)), {"n_threads": -1}, ValueError, "n_threads must not be negative"),
    (np.zeros((1, 4)), {"n_threads": 1.0}, TypeError, "n_threads must be an integer"),
]


@pytest.mark.parametrize(("vectors", "kwargs", "error", "match"), BAD_ADDS)
def test_bad_additions_raise_a_clear_error_and_add_nothing(rng, vectors, kwargs, error, match):
    index = Index.build(rng.normal(size=(20, 4)))
    with pytest.raises(error, match=match):
        index.add(vectors, **kwargs)
    assert index.n_ids == len(index) == 20


BAD_REMOVES = [
    ([20], ValueError, "id 20 is out of range"),
    ([2**64 - 1], ValueError, "out of range"),
    ([2**70], ValueError, r"ids must be below 2\*\*64"),
    ([-1], ValueError, "must not be negative"),
    ([3, 3], ValueError, "given twice"),
    ([1.0], TypeError, "ids must be integers"),
    ([True], TypeError, "ids must be integers"),
    ("3", TypeError, "ids must be integers"),
    (None, TypeError, "ids must be integers"),
    (list(range(20)), ValueError, "cannot remove every point"),
]


@pytest.mark.parametrize(("ids", "error", "match"), BAD_REMOVES)
def test_bad_removals_raise_a_clear_error_and_remove_nothing(rng, ids, error, match):
    index = Index.build(rng.normal(size=(20, 4)))
    with pytest.raises(error, match=match):
        index.remove(ids)
    assert len(index) == 20
    index.remove([3])
    with pytest.raises(ValueError, match="removed already"):
        index.remove([3])


def bad_paths(tmp_path):
    """(what, path, error, message) for save and for load."""
    folder = tmp_path / "a folder"
    folder.mkdir()
    missing = tmp_path / "no such folder" / "index.nswg"
    return [
        ("save", folder, IsADirectoryError, "Is a directory"),
        ("save", missing, FileNotFoundError, "No such file"),
        ("save", "", OSError, "names no file"),
        ("save", tmp_path / "..", OSError, "names no file"),
        ("save", 3, TypeError, "os.PathLike"),
        ("load", folder, IsADirectoryError, "Is a directory"),
        ("load", missing, FileNotFoundError, "No such file"),
        ("load", "", FileNotFoundError, "No such file"),
        ("load", os.devnull, ValueError, "not a regular file"),
        ("load", None, TypeError, "os.PathLike"),
    ]


def test_bad_paths_raise_a_clear_error(rng, tmp_path):
    index = Index.build(rng.normal(size=(20, 4)))
    for what, path, error, match in bad_paths(tmp_path):
        with pytest.raises(error, match=match):
            index.save(path) if what == "save" else Index.load(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a folder"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="file permissions do not bind root (or this system has none)",
)
def test_files_without_permission_raise_permission_error(rng, tmp_path):
    index = Index.build(rng.normal(size=(20, 4)))
    path = tmp_path / "index.nswg"
    index.save(path)
    path.chmod(0)
    with pytest.raises(PermissionError):
        Index.load(path)
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(PermissionError):
            index.save(tmp_path / "other.nswg")
    finally:
        tmp_path.chmod(0o700)


def test_odd_but_valid_arrays_are_accepted_everywhere(rng):
    X = rng.normal(size=(40, 6))
    plain = Index.build(X)
    read_only = X.copy()
    read_only.setflags(write=False)
    variants = [
        read_only,
        np.asfortranarray(X),
        X.astype(">f8"),
        np.repeat(X, 2, axis=0)[::2],
        np.repeat(X, 2, axis=1)[:, ::2],
    ]
    want = plain.search(X[:5], k=3)
    for V in variants:
        index = Index.build(V)
        np.testing.assert_array_equal(index.search(V[:5], k=3).ids, want.ids)
        index.add(V[:2])
        ids = np.array([40, 41], dtype=np.uint32)
        ids.setflags(write=False)
        index.remove(ids[::-1])
        assert len(index) == 40
    # Large finite values are ranked exactly while their squared distances fit in float32.
    huge = Index.build(X * 1e15)
    np.testing.assert_array_equal(huge.search(X[:5] * 1e15, k=3).ids, plain.search(X[:5], k=3).ids)


# --- limits: overflow, flags, graph shape, threads, conversions, files -------------------------


@pytest.mark.parametrize("metric", ["euclidean", "dtw"])
def test_values_whose_squared_distances_overflow_float32_are_refused(metric):
    # 3e19 squared overflows float32: these came back in the order [1, 0, 2] with inf distances.
    X = np.array([[3e19, 0], [-3e19, 0], [1e19, 0]], np.float32)
    bound = nswg._core.max_magnitude(metric, 2)
    with pytest.raises(ValueError, match=rf"vectors: row 0 .* \|x\| <= {bound:.4e}"):
        Index.build(X, metric=metric, graph=False)
    scaled = np.random.default_rng(0).normal(size=(100, 8)) * 3e19
    with pytest.raises(ValueError, match="range"):
        Index.build(scaled, metric=metric)
    index = Index.build(X / 1e19 * bound / 3, metric=metric)
    with pytest.raises(ValueError, match="queries: row 0 holds -2.9e"):
        index.search(np.array([-2.9e19, 0], np.float32), k=3, exact=True)
    with pytest.raises(ValueError, match="vectors: row 1"):
        index.add([[0.0, 0.0], [0.0, 1e20]])
    assert index.n_ids == 3
    # Up to the bound itself, distances stay finite and in the right order.
    edge = np.array([[bound, 0], [-bound, 0], [bound / 3, 0]], np.float32)
    ids, distances = Index.build(edge, metric=metric).search([-bound, 0], k=3, exact=True)
    assert ids.tolist() == [1, 2, 0] and np.isfinite(distances).all()


def test_the_safe_range_shrinks_with_the_dimension_and_cosine_takes_any_finite_value():
    bounds = [nswg._core.max_magnitude("euclidean", d) for d in (1, 100, 10_000)]
    assert bounds[0] > bounds[1] > bounds[2]
    assert nswg._core.max_magnitude("euclidean", 2) == pytest.approx(
        np.sqrt(np.finfo(np.float32).max / 16.0), rel=1e-6
    )
    assert nswg._core.max_magnitude("cosine", 2) is None
    X = np.array([[3e19, 0], [-3e19, 0], [1e19, 1e19]], np.float32)
    ids, _ = Index.build(X, metric="cosine").search([-2.9e19, 1.0], k=3, exact=True)
    assert ids.tolist() == [1, 2, 0]


def test_metrics_dtw_refuses_what_the_dtw_index_refuses():
    from nswg.metrics import dtw

    bound = nswg._core.max_magnitude("dtw", 3)
    a, b = np.array([bound, 0, 0], np.float32), np.array([-bound, 0, 1], np.float32)
    index = Index.build(np.stack([a, b]), metric="dtw")
    exact = float(index.search(a, k=2, exact=True).distances[1])
    assert dtw(a, b) == pytest.approx(exact, rel=1e-5)
    with pytest.raises(ValueError, match=r"s2\[2\] = 1e\+20 is beyond the DTW range"):
        dtw(a, [0.0, 0.0, 1e20])
    with pytest.raises(ValueError, match="range"):
        Index.build(np.stack([a, [0.0, 0.0, 1e20]]), metric="dtw")


@pytest.mark.parametrize("value", ["False", 0, 1, None, "yes", 1.0])
def test_flags_take_only_booleans(rng, value):
    index = Index.build(rng.normal(size=(20, 3)))
    with pytest.raises(TypeError, match="exact must be True or False"):
        index.search(rng.normal(size=3), k=1, exact=value)
    with pytest.raises(TypeError, match="graph must be True or False"):
        Index.build(rng.normal(size=(20, 3)), graph=value)
    assert index.search(rng.normal(size=3), k=1, exact=np.bool_(True)).n_distance_computations == 20


def test_one_neighbour_per_point_is_refused_with_the_reason(rng):
    with pytest.raises(ValueError, match="n_neighbors must be at least 2, got 1: .* chains"):
        Index.build(rng.normal(size=(50, 2)), n_neighbors=1)
    assert Index.build(rng.normal(size=(50, 2)), n_neighbors=2).max_degree == 4


def test_n_neighbors_is_named_when_it_is_the_one_out_of_range(rng):
    X = rng.normal(size=(10, 2))
    # The default max_degree (twice n_neighbors) stays within the cap, so this works ...
    assert Index.build(X, n_neighbors=2049).max_degree == 4096
    # ... and beyond the cap the message names the parameter the user gave.
    with pytest.raises(ValueError, match="n_neighbors must be at most 4096"):
        Index.build(X, n_neighbors=4097)
    with pytest.raises(ValueError, match="max_degree must be at least n_neighbors .* at most 4096"):
        Index.build(X, n_neighbors=16, max_degree=5000)


def test_thread_counts_are_bounded_and_pools_do_not_pile_up(rng):
    index = Index.build(rng.normal(size=(200, 4)))
    limit = nswg._core.MAX_THREADS
    assert limit == 8 * (os.cpu_count() or 1)
    for call in (
        lambda: index.search(rng.normal(size=(5, 4)), k=1, n_threads=10**6),
        lambda: Index.build(rng.normal(size=(20, 4)), n_threads=limit + 1),
        lambda: index.add(rng.normal(size=(2, 4)), n_threads=10**6),
        lambda: index.compact(n_threads=10**6),
    ):
        with pytest.raises(ValueError, match=f"n_threads must be at most {limit}"):
            call()
    before = threading.active_count()
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        pytest.skip("counting threads needs /proc")
    for n in range(1, min(limit, 40) + 1):
        index.search(rng.normal(size=(4, 4)), k=1, n_threads=n)
    time.sleep(0.5)  # threads of dropped pools exit once their last call returns
    # At most 4 pools are kept, so at most 4 * limit threads beside Python's own.
    assert len(list(tasks.iterdir())) <= before + 4 * limit + 8


def test_float64_rows_that_underflow_to_zero_in_float32_say_so_under_cosine():
    X = np.array([[1e-310, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"vectors\[0\] .* underflows to 0 in the float32"):
        Index.build(X, metric="cosine")
    index = Index.build(X[1:], metric="cosine")
    with pytest.raises(ValueError, match=r"q\[0\] .* underflows"):
        index.search([1e-300, 1e-320], k=1)
    # Under Euclidean the rounding to zero is harmless and the row is taken.
    assert len(Index.build(X)) == 2


def test_a_file_name_of_255_bytes_can_be_saved(rng, tmp_path):
    index = Index.build(rng.normal(size=(20, 4)))
    for name in ["n" * 242, "n" * 255, "é" * 127]:
        index.save(tmp_path / name)
        assert len(Index.load(tmp_path / name)) == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["n" * 242, "n" * 255, "é" * 127])


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and links")
def test_saving_keeps_the_mode_and_writes_through_a_symlink(rng, tmp_path):
    index = Index.build(rng.normal(size=(20, 4)))
    target = tmp_path / "kept.nswg"
    index.save(target)
    target.chmod(0o600)
    index.save(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    link = tmp_path / "link.nswg"
    link.symlink_to("kept.nswg")
    index.add(rng.normal(size=(3, 4)))
    index.save(link)
    assert link.is_symlink() and len(Index.load(target)) == 23
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_neither_loaded_nor_replaced(tmp_path):
    fifo = tmp_path / "pipe.nswg"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            Index.load(fifo)
        except Exception as e:
            outcome.append(e)
        else:
            outcome.append(None)

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    loader.join(5)
    if loader.is_alive():  # blocked opening the pipe: give it a writer, so that it ends
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        loader.join(5)
        pytest.fail("loading a FIFO waited for a writer")
    assert isinstance(outcome[0], nswg.IndexFileError)
    assert f"{fifo}: " in str(outcome[0]) and "not a regular file" in str(outcome[0])
    # Nor is it replaced by a save (a rename over it would, as over /dev/null).
    with pytest.raises(OSError, match="not a regular file"):
        Index.build(np.eye(3)).save(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
