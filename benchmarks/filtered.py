"""Filtered search on GloVe 400k: QPS, recall@10 and distances at allow-fractions.

For each fraction a random set of that share of the indexed words is allowed (seeded), and
the same queries are searched with that allow-list: exactly (the truth, a scan of the allowed
rows), and by the graph at several beam widths (``ef``), beside the unfiltered graph search at
the same widths. Searches run on one thread; QPS is the best of ``--rounds`` rounds,
interleaved (each round searches every configuration once, in a rotated order). Recall counts
ties fairly (:func:`nswg.metrics.recall_at_k`, by distance). Below about
``sqrt(max(k, ef) * n)`` allowed rows (1.1% of 390,000 at ef=48) the exact scan answers.

    python benchmarks/filtered.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import nswg
from nswg.metrics import recall_at_k

GLOVE = Path(__file__).resolve().parents[1] / ".." / "shared/data/wordvec/glove.6B.50d.float32.npy"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glove", type=Path, default=GLOVE)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.5, 0.1, 0.01])
    parser.add_argument("--ef", type=int, nargs="+", default=[48, 96, 192])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench-out/filtered"))
    args = parser.parse_args()
    if not args.glove.is_file():
        parser.error(f"--glove: no file {args.glove}")
    if not all(0 < f <= 1 for f in args.fractions):
        parser.error("--fractions must lie in (0, 1]")
    if args.queries < 1 or args.rounds < 1 or min(args.ef) < 1:
        parser.error("--queries, --rounds and --ef must be at least 1")

    X = np.load(args.glove)
    rows, queries = X[: -args.queries], X[-args.queries :]
    print(f"GloVe {X.shape}: {len(rows)} indexed, {len(queries)} queries, cosine, k=10")
    start = time.perf_counter()
    index = nswg.Index.build(rows, "cosine", n_threads=2)
    print(f"built in {time.perf_counter() - start:.1f} s on 2 threads")
    rng = np.random.default_rng(0)

    configs: list[tuple[float | None, int]] = [(None, ef) for ef in args.ef]
    configs += [(f, ef) for f in args.fractions for ef in args.ef]
    allowed = {f: np.flatnonzero(rng.random(len(rows)) < f) for f in args.fractions}
    truth = {None: index.search(queries, k=10, exact=True, n_threads=2).distances}
    for f in args.fractions:
        truth[f] = index.search(queries, k=10, exact=True, filter=allowed[f], n_threads=2).distances
    best: dict[tuple[float | None, int], float] = {}
    results: dict[tuple[float | None, int], nswg.SearchResult] = {}
    for r in range(args.rounds):
        shift = r % len(configs)
        for config in configs[shift:] + configs[:shift]:
            f, ef = config
            start = time.perf_counter()
            results[config] = index.search(
                queries, k=10, ef=ef, filter=None if f is None else allowed[f], n_threads=1
            )
            seconds = time.perf_counter() - start
            best[config] = min(best.get(config, seconds), seconds)
        print(f"  round {r} done")

    table = []
    print(f"\n{'allowed':>8s} {'rows':>8s} {'ef':>4s} {'QPS':>8s} {'recall@10':>9s} {'dist/q':>9s}")
    for config in configs:
        f, ef = config
        res = results[config]
        row = {
            "fraction": f,
            "allowed_rows": len(rows) if f is None else int(len(allowed[f])),
            "ef": ef,
            "qps": len(queries) / best[config],
            "recall_at_10": recall_at_k(res.distances, truth[f]),
            "distances_per_query": float(np.mean(res.n_distance_computations)),
        }
        table.append(row)
        label = "all" if f is None else f"{f:g}"
        print(
            f"{label:>8s} {row['allowed_rows']:8d} {ef:4d} {row['qps']:8,.0f} "
            f"{row['recall_at_10']:9.4f} {row['distances_per_query']:9,.0f}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "data": f"GloVe 6B 50d, {len(rows)} indexed, {len(queries)} queries, cosine, k=10",
        "search_threads": 1,
        "rounds": args.rounds,
        "cores": os.cpu_count(),
        "machine": platform.platform(),
        "nswg": nswg.__version__,
        "results": table,
    }
    (args.out / "results.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
