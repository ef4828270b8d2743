"""A sharded index on 1, 2 and 4 Dask worker processes against one Index, on GloVe 400k.

All 400,000 GloVe 6B 50d words: 390,000 indexed, the last 10,000 as queries, cosine, k=10,
the default graph (n_neighbors=16) and search (ef=48, n_searches=2). One ``LocalCluster`` per
worker count (one thread per worker, one shard per worker) and one ``nswg.Index`` live side by
side in this process; the builds and then the query rounds run interleaved, the order rotating
from round to round, so that the shared machine's noise falls on all alike.

    pip install ".[dask]"
    python benchmarks/sharded.py --rounds 5 --build-rounds 2

Reports, per configuration: build time (best of the build rounds), batch throughput (all
queries in one call; median of the rounds), the latency of one query at a time (median over
``--single`` queries), tie-aware recall@10 against exact search, and the merge's cost per query
(``merge_top_k`` over the shards' answers, timed alone). Writes ``results.json`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from distributed import Client, LocalCluster

import nswg
from nswg.distributed import ShardedIndex, merge_top_k
from nswg.metrics import recall_at_k

GLOVE = Path(__file__).resolve().parents[1] / ".." / "shared/data/wordvec/glove.6B.50d.float32.npy"


def rotations(names: list[str], r: int) -> list[str]:
    """``names`` rotated by ``r``: each configuration goes first in turn."""
    return names[r % len(names) :] + names[: r % len(names)]


class Bench:
    def __init__(self, rows: np.ndarray, workers: list[int], cores: int) -> None:
        self.rows, self.cores = rows, cores
        self.clients = {
            w: Client(
                LocalCluster(
                    n_workers=w, threads_per_worker=1, processes=True, dashboard_address=None
                )
            )
            for w in workers
        }
        self.names = ["one Index"] + [f"{w} worker{'s' * (w > 1)}" for w in workers]
        self.indexes: dict[str, object] = {}

    def build(self, name: str) -> object:
        if name == "one Index":
            return nswg.Index.build(self.rows, "cosine", n_threads=self.cores)
        w = int(name.split()[0])
        return ShardedIndex.build(self.rows, w, client=self.clients[w], metric="cosine")

    def search(self, name: str, q: np.ndarray) -> nswg.SearchResult:
        index = self.indexes[name]
        if name == "one Index":
            return index.search(q, k=10, n_threads=self.cores)
        return index.search(q, k=10)

    def builds(self, rounds: int) -> dict[str, list[float]]:
        times: dict[str, list[float]] = {n: [] for n in self.names}
        for r in range(rounds):
            for name in rotations(self.names, r):
                self.indexes.pop(name, None)  # free the previous round's first
                start = time.perf_counter()
                self.indexes[name] = self.build(name)
                times[name].append(time.perf_counter() - start)
                print(f"  build round {r}: {name:10s} {times[name][-1]:6.1f} s", flush=True)
        return times

    def batches(self, queries: np.ndarray, truth: np.ndarray, rounds: int) -> tuple:
        qps: dict[str, list[float]] = {n: [] for n in self.names}
        recall, counts = {}, {}
        for r in range(rounds):
            for name in rotations(self.names, r):
                start = time.perf_counter()
                result = self.search(name, queries)
                qps[name].append(len(queries) / (time.perf_counter() - start))
                recall[name] = recall_at_k(result.distances, truth)
                counts[name] = float(np.mean(result.n_distance_computations))
            print(f"  query round {r}: " + ", ".join(f"{n} {qps[n][-1]:,.0f}" for n in self.names))
        return qps, recall, counts

    def latencies(self, queries: np.ndarray, n: int) -> dict[str, list[float]]:
        seconds: dict[str, list[float]] = {name: [] for name in self.names}
        for i in range(n):
            for name in rotations(self.names, i):
                start = time.perf_counter()
                self.search(name, queries[i])
                seconds[name].append(time.perf_counter() - start)
        return seconds

    def close(self) -> None:
        for client in self.clients.values():
            cluster = client.cluster
            client.close()
            cluster.close()


def merge_cost(n_shards: int, n_queries: int, rounds: int) -> float:
    """Microseconds per query of merging ``n_shards`` answers of 10 (best of ``rounds``)."""
    rng = np.random.default_rng(0)
    ids = [rng.integers(0, 1 << 30, size=(n_queries, 10)) for _ in range(n_shards)]
    dist = [np.sort(rng.random((n_queries, 10), dtype=np.float32), axis=1) for _ in range(n_shards)]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        merge_top_k(ids, dist, 10)
        times.append(time.perf_counter() - start)
    return 1e6 * min(times) / n_queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glove", type=Path, default=GLOVE)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=5, help="query rounds")
    parser.add_argument("--build-rounds", type=int, default=1)
    parser.add_argument("--single", type=int, default=200, help="queries sent one at a time")
    parser.add_argument("--out", type=Path, default=Path("bench-out/sharded"))
    args = parser.parse_args()

    X = np.load(args.glove)
    rows, queries = X[:-10_000], X[-10_000:]
    cores = os.cpu_count() or 1
    print(f"GloVe {X.shape}: {len(rows)} indexed, {len(queries)} queries, cosine; {cores} cores")
    truth = nswg.Index.build(rows, "cosine", graph=False).search(queries, k=10, exact=True)
    bench = Bench(rows, args.workers, cores)
    builds = bench.builds(args.build_rounds)
    qps, recall, counts = bench.batches(queries, truth.distances, args.rounds)
    latency = bench.latencies(queries, args.single)
    bench.close()

    table = []
    print(
        f"\n{'':12s} {'build s':>8s} {'QPS batch':>10s} {'1-query ms':>11s} {'recall@10':>9s} "
        f"{'dist/query':>10s} {'merge us/q':>10s}"
    )
    for name in bench.names:
        w = None if name == "one Index" else int(name.split()[0])
        row = {
            "config": name,
            "workers": w,
            "build_s": min(builds[name]),
            "qps_batch": statistics.median(qps[name]),
            "latency_ms": 1e3 * statistics.median(latency[name]),
            "recall_at_10": recall[name],
            "distances_per_query": counts[name],
            "merge_us_per_query": merge_cost(w, len(queries), args.rounds) if w else None,
        }
        table.append(row)
        merge = f"{row['merge_us_per_query']:10.2f}" if w else f"{'-':>10s}"
        print(
            f"{name:12s} {row['build_s']:8.1f} {row['qps_batch']:10,.0f} "
            f"{row['latency_ms']:11.2f} {row['recall_at_10']:9.4f} "
            f"{row['distances_per_query']:10,.0f} {merge}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "data": "GloVe 6B 50d, 390,000 indexed, 10,000 queries, cosine, k=10",
        "cores": cores,
        "machine": platform.platform(),
        "nswg": nswg.__version__,
        "build_rounds": args.build_rounds,
        "query_rounds": args.rounds,
        "single_queries": args.single,
        "results": table,
    }
    (args.out / "results.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
