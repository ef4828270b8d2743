"""nswg.distributed.ShardedIndex on a real dask.distributed.LocalCluster of worker processes:
exact answers equal to one Index bit for bit, recall, global ids through changes and files, and
workers killed while they answer."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import sys
import time

import numpy as np
import pytest

if sys.version_info < (3, 10):
    pytest.skip(
        "nswg.distributed needs dask.distributed, which needs Python >= 3.10",
        allow_module_level=True,
    )

import dask.array as da
import distributed

import nswg
from nswg import Index, IndexFileError, ShardUnavailableError
from nswg.distributed import ShardedIndex, _worker_threads, merge_top_k
from nswg.words import WordVectors

N_WORKERS = 2


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=N_WORKERS,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def gaussian_with_ties(rng, n=1500, d=12):
    """Rows with exact duplicates far apart, so that shards hold tied points."""
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[n - 40 :] = X[:40]
    X[n // 2 : n // 2 + 20] = X[:20]
    return X


def data_for(metric, rng):
    if metric == "dtw":
        X = np.cumsum(rng.normal(size=(400, 48)), axis=1).astype(np.float32)
        X[-10:] = X[:10]
        Q = np.cumsum(rng.normal(size=(25, 48)), axis=1).astype(np.float32)
        return X, np.vstack([Q, X[:5]]), {"window": 0.1}
    X = gaussian_with_ties(rng)
    Q = np.vstack([rng.normal(size=(40, X.shape[1])).astype(np.float32), X[:10]])
    return X, Q, {}


def wait_for_workers(client, n=N_WORKERS):
    client.wait_for_workers(n, timeout=60)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "dtw"])
@pytest.mark.parametrize("n_shards", [1, 2, 3])
def test_exact_search_equals_one_index_bit_for_bit(client, rng, metric, n_shards):
    X, Q, band = data_for(metric, rng)
    one = Index.build(X, metric, graph=False, **band).search(Q, k=10, exact=True)
    sharded = ShardedIndex.build(X, n_shards, client=client, metric=metric, seed=3, **band)
    assert [s.size for s in sharded.shards] == [len(a) for a in np.array_split(X, n_shards)]
    result = sharded.search(Q, k=10, exact=True)
    assert isinstance(result, nswg.SearchResult)
    np.testing.assert_array_equal(result.ids, one.ids)
    assert result.distances.dtype == np.float32
    np.testing.assert_array_equal(result.distances, one.distances)
    if metric != "dtw":  # brute force compares every point once, wherever it is
        np.testing.assert_array_equal(result.n_distance_computations, np.full(len(Q), len(X)))
    single = sharded.search(Q[3], k=10, exact=True)
    np.testing.assert_array_equal(single.ids, one.ids[3])
    assert isinstance(single.n_distance_computations, int)


def test_a_dask_array_is_indexed_chunk_by_chunk_without_gathering(client, rng):
    X, Q, _ = data_for("euclidean", rng)
    one = Index.build(X, graph=False).search(Q, k=7, exact=True)
    chunks = da.from_array(X, chunks=((500, 300, 700), (6, 6)))  # columns split too
    by_chunk = ShardedIndex.build(chunks, client=client)
    assert [s.size for s in by_chunk.shards] == [500, 300, 700]
    rechunked = ShardedIndex.build(chunks, 4, client=client)
    assert [s.size for s in rechunked.shards] == [375] * 4
    for index in (by_chunk, rechunked):
        result = index.search(Q, k=7, exact=True)
        np.testing.assert_array_equal(result.ids, one.ids)
        np.testing.assert_array_equal(result.distances, one.distances)
    bad = da.from_array(np.where(np.arange(1500)[:, None] == 900, np.nan, X), chunks=(500, 12))
    with pytest.raises(ValueError, match=r"^shard 1 \(rows from 500\): .*NaN"):
        ShardedIndex.build(bad, client=client)


def tie_aware_recall(found_distances, true_distances):
    """Fraction of the found k at most as far as the k-th true neighbour (ties count)."""
    return float(np.mean(found_distances <= true_distances[:, -1:]))


def test_graph_search_recall_is_within_001_of_one_index(client):
    wv = WordVectors.default()
    X, Q = wv.vectors[:9000], wv.vectors[9000:]
    truth = Index.build(X, "cosine", graph=False).search(Q, k=10, exact=True)
    one = Index.build(X, "cosine", seed=5).search(Q, k=10)
    sharded = ShardedIndex.build(X, 3, client=client, metric="cosine", seed=5)
    result = sharded.search(Q, k=10)
    one_recall = tie_aware_recall(one.distances, truth.distances)
    sharded_recall = tie_aware_recall(result.distances, truth.distances)
    assert sharded_recall >= one_recall - 0.01, (sharded_recall, one_recall)
    assert one_recall > 0.95
    # Each shard is searched as one index: the costs add up.
    per_shard = sum(
        Index.build(part, "cosine", seed=5).search(Q, k=10).n_distance_computations
        for part in np.array_split(X, 3)
    )
    np.testing.assert_array_equal(result.n_distance_computations, per_shard)


def test_merge_orders_by_distance_then_global_id():
    ids, distances = merge_top_k(
        [np.array([[7, 1, 9]]), np.array([[3, 8]])],
        [np.array([[0.5, 1.0, 2.0]], np.float32), np.array([[0.5, 1.0]], np.float32)],
        k=4,
    )
    assert ids.tolist() == [[3, 7, 1, 8]]
    assert distances.tolist() == [[0.5, 0.5, 1.0, 1.0]]


def reference(rows, removed, metric="euclidean"):
    """One exact index over ``rows`` (global id = row) without ``removed``."""
    index = Index.build(rows, metric, graph=False)
    if len(removed):
        index.remove(removed)
    return index


def assert_same_answers(sharded, one, Q, k=8):
    got = sharded.search(Q, k=k, exact=True)
    want = one.search(Q, k=k, exact=True)
    np.testing.assert_array_equal(got.ids, want.ids)
    np.testing.assert_array_equal(got.distances, want.distances)


def test_global_ids_through_add_remove_save_and_load(client, rng, tmp_path):
    X = rng.normal(size=(900, 10)).astype(np.float32)
    extra = rng.normal(size=(300, 10)).astype(np.float32)
    Q = np.vstack([rng.normal(size=(30, 10)), X[::60], extra[::50]]).astype(np.float32)
    index = ShardedIndex.build(X, 3, client=client, n_neighbors=8, seed=1)
    assert index.add(extra[:100]).tolist() == list(range(900, 1000))
    assert [s.n_ids for s in index.shards] == [400, 300, 300]  # to the smallest shard
    assert index.add(extra[100:]).tolist() == list(range(1000, 1200))
    assert [s.n_ids for s in index.shards] == [400, 500, 300]
    rows = np.vstack([X, extra])
    removed = np.array([0, 5, 299, 300, 650, 899, 900, 950, 1000, 1199])
    index.remove(removed[::2])
    index.remove(removed[1::2])
    assert len(index) == 1190 and index.n_ids == 1200
    assert_same_answers(index, reference(rows, removed), Q)
    for bad, message in [
        ([5], "id 5 is not in the index"),
        ([1200], "id 1200 is not in the index"),
        ([7, 7], "id 7 is repeated"),
        ([10, 0], "id 0 is not in the index"),
    ]:
        with pytest.raises(ValueError, match=message):
            index.remove(bad)
    assert len(index) == 1190  # nothing removed by a refused call
    with pytest.raises(TypeError, match="integers"):
        index.remove([1.5])

    index.save(tmp_path / "sharded")
    loaded = ShardedIndex.load(tmp_path / "sharded", client=client)
    assert repr(loaded) == repr(index)
    assert loaded.shards[1].n_ids == 500 and len(loaded) == 1190
    assert_same_answers(loaded, reference(rows, removed), Q)
    graph = loaded.search(Q, k=5)
    np.testing.assert_array_equal(graph.ids, index.search(Q, k=5).ids)
    more = rng.normal(size=(50, 10)).astype(np.float32)
    assert loaded.add(more).tolist() == list(range(1200, 1250))
    loaded.remove([1201, 1])
    loaded.save(tmp_path / "sharded")  # over the previous save: its files go
    again = ShardedIndex.load(tmp_path / "sharded", client=client)
    every = np.vstack([rows, more])
    assert_same_answers(again, reference(every, np.append(removed, [1201, 1])), Q)
    assert len(os.listdir(tmp_path / "sharded")) == 1 + len(again.shards)


def test_a_shard_left_without_points_is_dropped(client, rng):
    X = rng.normal(size=(60, 4)).astype(np.float32)
    index = ShardedIndex.build(X, 3, client=client)
    index.remove(np.arange(20, 40))
    assert [s.size for s in index.shards] == [20, 20]
    assert_same_answers(index, reference(X, np.arange(20, 40)), X[::7], k=5)
    with pytest.raises(ValueError, match="every point"):
        index.remove(np.r_[0:20, 40:60])
    assert index.add(X[:1]).tolist() == [60]


def test_bad_input_is_refused_before_any_work_is_sent(client, rng):
    X = rng.normal(size=(50, 6)).astype(np.float32)
    with pytest.raises(ValueError, match="unknown metric"):
        ShardedIndex.build(X, client=client, metric="manhattan")
    with pytest.raises(TypeError, match="n_threads is not a shard option"):
        ShardedIndex.build(X, client=client, n_threads=2)
    with pytest.raises(TypeError, match="unexpected keyword"):
        ShardedIndex.build(X, client=client, n_neighbours=8)
    with pytest.raises(ValueError, match="n_neighbors must be at least 1"):
        ShardedIndex.build(X, client=client, n_neighbors=0)
    with pytest.raises(ValueError, match="NaN"):
        ShardedIndex.build(np.where(X > 2.5, np.nan, X), client=client)
    with pytest.raises(ValueError, match="n_shards .* must not exceed"):
        ShardedIndex.build(X, 51, client=client)
    with pytest.raises(TypeError, match="client must be"):
        ShardedIndex.build(X, client="tcp://localhost:8786")
    index = ShardedIndex.build(X, 2, client=client, graph=False)
    with pytest.raises(ValueError, match="k must be between 1 and the number of points"):
        index.search(X[0], k=51, exact=True)
    with pytest.raises(ValueError, match="q must have 6 values"):
        index.search(X[:, :5], exact=True)
    with pytest.raises(ValueError, match="graph=False"):
        index.search(X[0])
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        index.search(X[0], exact=True, timeout=0)
    with pytest.raises(ValueError, match="vectors must have 6 values"):
        index.add(X[:2, :3])
    with pytest.raises(ValueError, match="NaN"):
        index.add(np.full((1, 6), np.nan))
    with pytest.raises(ValueError, match="retries must not be negative"):
        index.retries = -1
    with pytest.raises(TypeError, match="save"):
        import pickle

        pickle.dumps(index)
    assert len(index) == 50


def test_inside_a_worker_nswg_uses_the_workers_thread_count(client):
    """What the shards' tasks pass nswg as n_threads, on each worker."""
    threads = {
        worker: client.submit(
            _worker_threads, workers=[worker], allow_other_workers=False, pure=False
        ).result()
        for worker in client.nthreads()
    }
    assert threads == client.nthreads() and set(threads.values()) == {1}


def test_a_damaged_or_swapped_shard_file_is_named_and_nothing_is_loaded(client, rng, tmp_path):
    X = rng.normal(size=(300, 8)).astype(np.float32)
    with ShardedIndex.build(X, 3, client=client) as index:
        index.save(tmp_path / "s")
    names = sorted(n for n in os.listdir(tmp_path / "s") if n.startswith("shard-"))
    before = held_keys(client)
    damaged = tmp_path / "s" / names[1]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x40
    damaged.write_bytes(bytes(data))
    with pytest.raises(IndexFileError, match=f"{names[1]}: damaged: its sha256"):
        ShardedIndex.load(tmp_path / "s", client=client)
    assert held_keys(client, settle_to=before) <= before
    # A valid nswg file that is not the one saved is refused as well.
    Index.build(X[:100]).save(damaged)
    with pytest.raises(IndexFileError, match=f"{names[1]}: damaged"):
        ShardedIndex.load(tmp_path / "s", client=client)
    (tmp_path / "s" / "manifest.json").write_text('{"format": "something else"}')
    with pytest.raises(IndexFileError, match="manifest.json: not a sharded nswg index"):
        ShardedIndex.load(tmp_path / "s", client=client)
    with pytest.raises(FileNotFoundError):
        ShardedIndex.load(tmp_path / "nothing", client=client)


def held_keys(client, settle_to=None, seconds=10.0):
    """Keys in the workers' memory (waiting up to ``seconds`` for them to drop to ``settle_to``)."""
    end = time.monotonic() + seconds
    while True:
        n = sum(len(keys) for keys in client.has_what().values())
        if settle_to is None or n <= settle_to or time.monotonic() > end:
            return n
        time.sleep(0.1)


def test_a_save_that_stops_midway_leaves_the_previous_one_loadable(
    client, rng, tmp_path, monkeypatch
):
    X = rng.normal(size=(200, 5)).astype(np.float32)
    index = ShardedIndex.build(X, 2, client=client)
    index.save(tmp_path / "s")
    before = sorted(os.listdir(tmp_path / "s"))
    index.remove([3, 150])

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)  # the manifest's rename, the save's last step
    with pytest.raises(OSError, match="disk full"):
        index.save(tmp_path / "s")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path / "s")) == before
    assert_same_answers(ShardedIndex.load(tmp_path / "s", client=client), reference(X, []), X[:9])
    assert_same_answers(index, reference(X, [3, 150]), X[:9])


@pytest.fixture(scope="module")
def slow_dtw():
    """Exact DTW over white noise, full window: no lower bound prunes, so a query is slow
    enough (seconds per shard) to kill a worker while it runs."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(1600, 512)).astype(np.float32)
    Q = rng.normal(size=(12, 512)).astype(np.float32)
    truth = Index.build(X, "dtw", graph=False).search(Q, k=5, exact=True)
    return X, Q, truth


def kill_a_worker_while_it_searches(client, index, Q):
    """Run an exact search, SIGKILL the worker of the first shard that starts answering, and
    return the search's outcome (its result or its exception)."""
    pids = client.run(os.getpid)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        answer = pool.submit(index.search, Q, k=5, exact=True, timeout=120)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            busy = [
                w for w, keys in client.processing().items() if any("search" in k for k in keys)
            ]
            if busy:
                time.sleep(0.3)  # well into the query
                os.kill(pids[busy[0]], signal.SIGKILL)
                break
            time.sleep(0.02)
        else:
            raise AssertionError("no shard started searching")
        try:
            return answer.result(), busy[0]
        except Exception as e:
            return e, busy[0]


@pytest.mark.parametrize("source", ["rows", "dask chunks", "saved files"])
def test_a_worker_killed_mid_query_is_restored_and_the_answer_is_exact(
    client, slow_dtw, source, tmp_path
):
    """The lost shard is rebuilt from the rows the client kept, recomputed from its dask
    chunk, or reloaded from its file, on another worker, and the query resubmitted."""
    X, Q, truth = slow_dtw
    wait_for_workers(client)
    vectors = da.from_array(X, chunks=(800, 512)) if source == "dask chunks" else X
    index = ShardedIndex.build(vectors, 2, client=client, metric="dtw", graph=False)
    if source == "saved files":
        index.save(tmp_path / "s")
        index = ShardedIndex.load(tmp_path / "s", client=client)
    outcome, killed = kill_a_worker_while_it_searches(client, index, Q)
    assert not isinstance(outcome, Exception), outcome
    np.testing.assert_array_equal(outcome.ids, truth.ids)
    np.testing.assert_array_equal(outcome.distances, truth.distances)
    assert killed not in {s.worker for s in index.shards}
    assert len(index) == len(X)
    wait_for_workers(client)


def test_without_retries_a_killed_worker_raises_and_the_next_query_works(client, slow_dtw):
    X, Q, truth = slow_dtw
    wait_for_workers(client)
    index = ShardedIndex.build(X, 2, client=client, metric="dtw", graph=False, retries=0)
    index.remove([0])  # restored shards replay the changes since their source
    outcome, killed = kill_a_worker_while_it_searches(client, index, Q)
    assert isinstance(outcome, ShardUnavailableError), outcome
    assert outcome.worker == killed and "retries=0" in str(outcome)
    assert None in {s.worker for s in index.shards}
    result = index.search(Q[:2], k=5, exact=True)
    one = reference(X, [0], "dtw").search(Q[:2], k=5, exact=True)
    np.testing.assert_array_equal(result.ids, one.ids)
    np.testing.assert_array_equal(result.distances, one.distances)
    assert None not in {s.worker for s in index.shards}
    wait_for_workers(client)


def test_a_blocked_shard_times_out_and_the_client_stays_usable(client, rng):
    X = rng.normal(size=(400, 8)).astype(np.float32)
    index = ShardedIndex.build(X, 2, client=client)
    blocker = client.submit(
        time.sleep, 3, workers=[index.shards[1].worker], allow_other_workers=False, pure=False
    )
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="shards 1 did not answer in time"):
        index.search(X[:5], k=3, timeout=0.5)
    assert time.monotonic() - start < 2.5
    blocker.result()
    assert_same_answers(index, reference(X, []), X[:5], k=3)
