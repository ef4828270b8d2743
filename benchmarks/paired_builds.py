"""Two builds of nswg's extension in one process, searching one saved GloVe graph in turn.

The check that a change keeps the speed: the extension of the commit before it (``--base``, the
``_core*.so`` of an install of that commit) and of the change (``--new``) load the same index
file and answer the same queries, one thread each, alternating (base first on even rounds, new
first on odd ones), so that the shared machine's noise falls on both alike. Both must give the
same ids and distance counts. The graph is built once (by the base extension, since a newer
one reads older files) and kept in ``--workdir``.

    python benchmarks/paired_builds.py --base OLD/_core...so --new python/nswg/_core...so

Reports recall@10 (ties counted as correct), and QPS of each build: best and median of the
rounds, and the median of the per-round ratios. ``--batch 1`` searches one query per call, which
weighs the binding's cost per call (argument parsing, array conversion) against the search.

With ``--curve``, a change to the construction is measured instead: each build builds its own
graph over the same rows (default parameters, 2 threads), and both sweep ``--efs`` in
alternating rounds; QPS at recall 0.90, 0.95 and 0.99 is interpolated log-linearly on each
build's curve of per-setting median QPS, and the ratios new/base are reported;
``--quantization sq8`` builds both with codes.

    python benchmarks/paired_builds.py --base OLD/_core...so --new python/nswg/_core...so --curve
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import statistics
import time
from pathlib import Path
from types import ModuleType

import numpy as np
from words_vs_peers import at_recall

GLOVE = Path(__file__).resolve().parents[1] / ".." / "shared/data/wordvec/glove.6B.50d.float32.npy"


def load_core(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("_core", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(
    core: ModuleType, rows: np.ndarray, graph: tuple[int, int], quantization: str | None = None
) -> object:
    """A cosine index over ``rows`` by ``core``, with the defaults of ``Index.build``, on 2
    threads. Arguments that later bindings added are passed where ``core`` takes them."""
    options = {
        "metric": "cosine",
        "sakoe_chiba_radius": None,
        "graph": graph,
        "ef_construction": 100,
        "n_searches": 2,
        "seed": 0,
        "n_threads": 2,
        "progress": None,
    }
    taken = inspect.signature(core.Index.build).parameters
    later = {"channels": 1, "ids": None, "quantization": quantization}
    if quantization is not None and "quantization" not in taken:
        raise SystemExit(f"{core.__file__} has no quantization")
    options.update({name: value for name, value in later.items() if name in taken})
    return core.Index.build(np.ascontiguousarray(rows, dtype=np.float32), **options)


def search(index: object, queries: np.ndarray, ef: int, batch: int) -> tuple:
    """ids, distances and distance counts of all queries, searched ``batch`` queries a call."""
    parts = [search_call(index, queries[i : i + batch], ef) for i in range(0, len(queries), batch)]
    return tuple(np.concatenate([p[j] for p in parts]) for j in range(3))


def search_call(index: object, queries: np.ndarray, ef: int) -> tuple:
    options = {"k": 10, "ef": ef, "n_searches": 2, "exact": False, "n_threads": 1}
    try:  # the keyword-only binding, with the filter of later ones where it takes one
        try:
            return index.search(queries, **options, filter=None, filter_per_query=False)
        except TypeError:
            return index.search(queries, **options)
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
    parser.add_argument("--curve", action="store_true", help="each build builds its own graph")
    parser.add_argument("--efs", type=int, nargs="+", default=[16, 24, 32, 48, 64, 96, 128, 192])
    parser.add_argument("--batch", type=int, default=1000, help="queries per search call")
    parser.add_argument(
        "--quantization", default=None, help='with --curve: the code both builds walk on ("sq8")'
    )
    args = parser.parse_args()

    X = np.load(args.glove)
    base_rows, raw = X[:-1000], X[-1000:]
    queries = np.ascontiguousarray(raw / np.linalg.norm(raw, axis=1, keepdims=True))
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.curve:
        curves(args, base_rows, queries)
        return
    paired(args, base_rows, queries)


def paired(args: argparse.Namespace, base_rows: np.ndarray, queries: np.ndarray) -> None:
    """Both extensions search one saved graph at ``args.ef`` in alternating rounds."""
    graph, kth_file = args.workdir / "glove.nswg", args.workdir / "kth.npy"
    cores = {name: load_core(path) for name, path in (("base", args.base), ("new", args.new))}
    if not graph.exists():
        # Built and saved by the base extension: a newer one reads every older file format.
        build(cores["base"], base_rows, (24, 48)).save(str(graph))
        unit = base_rows / np.linalg.norm(base_rows, axis=1, keepdims=True)
        np.save(kth_file, np.sort(1 - queries @ unit.T, axis=1)[:, 9])
    kth = np.load(kth_file)
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


def curves(args: argparse.Namespace, rows: np.ndarray, queries: np.ndarray) -> None:
    """Each build's own graph, swept over ``args.efs`` in alternating rounds."""
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    kth = np.sort(1 - queries @ unit.T, axis=1)[:, 9]
    cores = {name: load_core(path) for name, path in (("base", args.base), ("new", args.new))}
    indexes = {}
    for name, core in cores.items():
        start = time.perf_counter()
        indexes[name] = build(core, rows, (16, 32), args.quantization)
        print(f"{name}: built in {time.perf_counter() - start:.1f} s (2 threads)", flush=True)
    recall = {}
    for name in cores:
        for ef in args.efs:
            _, distances, _ = search(indexes[name], queries, ef, args.batch)
            recall[name, ef] = float((distances <= kth[:, None] + 1e-6).mean())
    seconds: dict[tuple[str, int], list[float]] = {key: [] for key in recall}
    for r in range(args.rounds):
        for ef in args.efs:
            for name in ("base", "new") if r % 2 == 0 else ("new", "base"):
                start = time.perf_counter()
                search(indexes[name], queries, ef, args.batch)
                seconds[name, ef].append(time.perf_counter() - start)
    qps = {key: len(queries) / statistics.median(s) for key, s in seconds.items()}
    print(f"1 thread, {args.rounds} alternating rounds, median QPS per setting")
    for ef in args.efs:
        print(
            f"ef={ef:4}: base recall {recall['base', ef]:.4f} QPS {qps['base', ef]:7.0f}; "
            f"new recall {recall['new', ef]:.4f} QPS {qps['new', ef]:7.0f}"
        )
    for target in (0.90, 0.95, 0.99):
        at = {
            name: at_recall([(recall[name, ef], qps[name, ef]) for ef in args.efs], target)
            for name in cores
        }
        (b, b_note), (n, n_note) = at["base"], at["new"]
        ratio = f"{n / b:.3f}x" if b and n else "n/a"
        print(f"QPS at recall {target}: base {b} {b_note} new {n} {n_note}: new/base {ratio}")


if __name__ == "__main__":
    main()
