"""Two builds of nswg's extension in one process, searching one saved GloVe graph in turn.

The check that a change keeps the speed: the extension of the commit before it (``--base``, the
``_core*.so`` of an install of that commit) and of the change (``--new``) load the same index
file and answer the same queries, one thread each, alternating (base first on even rounds, new
first on odd ones), so that the shared machine's noise falls on both alike. Both must give the
same ids and distance counts. The graph is built once (by the installed nswg) and kept in
``--workdir``.

    python benchmarks/paired_builds.py --base OLD/_core...so --new python/nswg/_core...so

Reports recall@10 (ties counted as correct), and QPS of each build: best and median of the
rounds, and the median of the per-round ratios. ``--batch 1`` searches one query per call, which
weighs the binding's cost per call (argument parsing, array conversion) against the search.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from pathlib import Path
from types import ModuleType

import numpy as np

GLOVE = Path(__file__).resolve().parents[1] / ".." / "shared/data/wordvec/glove.6B.50d.float32.npy"


def load_core(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("_core", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def search(index: object, queries: np.ndarray, ef: int, batch: int) -> tuple:
    """ids, distances and distance counts of all queries, searched ``batch`` queries a call."""
    parts = [search_call(index, queries[i : i + batch], ef) for i in range(0, len(queries), batch)]
    return tuple(np.concatenate([p[j] for p in parts]) for j in range(3))


def search_call(index: object, queries: np.ndarray, ef: int) -> tuple:
    try:  # the keyword-only binding
        return index.search(queries, k=10, ef=ef, n_searches=2, exact=False, n_threads=1)
    except TypeError:  # the positional one of 0.1.0
        return index.search(queries, 10, ef, 2, False, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--new", type=Path, required=True)
    parser.add_argument("--glove", type=Path, default=GLOVE)
    parser.add_argument("--workdir", type=Path, default=Path("bench-out/paired"))
    parser.add_argument("--ef", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--batch", type=int, default=1000, help="queries per search call")
    args = parser.parse_args()

    X = np.load(args.glove)
    base_rows, raw = X[:-1000], X[-1000:]
    queries = np.ascontiguousarray(raw / np.linalg.norm(raw, axis=1, keepdims=True))
    args.workdir.mkdir(parents=True, exist_ok=True)
    graph, kth_file = args.workdir / "glove.nswg", args.workdir / "kth.npy"
    if not graph.exists():
        import nswg

        nswg.Index.build(base_rows, metric="cosine", n_neighbors=24).save(graph)
        unit = base_rows / np.linalg.norm(base_rows, axis=1, keepdims=True)
        np.save(kth_file, np.sort(1 - queries @ unit.T, axis=1)[:, 9])
    kth = np.load(kth_file)

    cores = {name: load_core(path) for name, path in (("base", args.base), ("new", args.new))}
    indexes = {name: core.Index.load(str(graph)) for name, core in cores.items()}
    first = {n: search(indexes[n], queries, args.ef, args.batch) for n in cores}
    assert (first["base"][0] == first["new"][0]).all(), "the builds answer differently"
    assert (first["base"][2] == first["new"][2]).all(), "the builds count differently"
    recall = float((first["new"][1] <= kth[:, None] + 1e-6).mean())
    seconds: dict[str, list[float]] = {"base": [], "new": []}
    for r in range(args.rounds):
        for name in ("base", "new") if r % 2 == 0 else ("new", "base"):
            start = time.perf_counter()
            search(indexes[name], queries, args.ef, args.batch)
            seconds[name].append(time.perf_counter() - start)
    qps = {n: [len(queries) / s for s in seconds[n]] for n in seconds}
    ratios = [n / b for b, n in zip(qps["base"], qps["new"])]
    print(
        f"ef={args.ef} recall@10={recall:.4f}, 1 thread, {args.batch} queries a call, "
        f"{args.rounds} alternating rounds: "
        f"best QPS base {max(qps['base']):.0f} new {max(qps['new']):.0f} "
        f"({max(qps['new']) / max(qps['base']):.3f}x); median QPS base "
        f"{statistics.median(qps['base']):.0f} new {statistics.median(qps['new']):.0f}; "
        f"median of per-round ratios {statistics.median(ratios):.3f}x"
    )


if __name__ == "__main__":
    main()
