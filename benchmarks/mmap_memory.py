"""Resident memory of an index loaded into memory against one memory-mapped from its file
(``Index.load(path, mmap=True)``), with load time and search QPS.

The index is built once over GloVe words with the default parameters (cosine), ``--queries``
words chosen at random (seeded) held out as queries, and saved to a temporary file. Then each
mode runs in a fresh Python process, so that no earlier allocation counts, ``--rounds`` times,
the modes interleaved: the process imports nswg, loads the index (timed), runs 10 of the
queries, then all of them in one batch (k=10, default search, timed: "first" QPS, when a
mapped index faults most of its pages in) and again ("again" QPS).

Memory is read from ``/proc/self/status`` before the load, after it, after the 10 queries and
after the others: ``VmRSS`` (resident), split into ``RssAnon`` (the process's own memory) and
``RssFile`` (pages of files, here the mapped index: shared with every process mapping the
file, and dropped by the kernel under memory pressure without writing them anywhere), and
``VmHWM``, the peak resident memory, which shows what the load's checking pass costs. The file
stays in the page cache between runs (it was just written), so neither mode reads the disk.
The answers of the two modes are compared.

Run from the repository root (Linux only: it reads ``/proc``)::

    python benchmarks/mmap_memory.py                  # GloVe 400k: ~5 minutes
    python benchmarks/mmap_memory.py --default        # the shipped 10k words: seconds
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GLOVE = Path(__file__).resolve().parents[2] / "shared/data/wordvec/glove.6B.50d.float32.npy"
MODES = ("normal", "mmap")
FIELDS = ("VmRSS", "RssAnon", "RssFile", "VmHWM")


def memory() -> dict[str, float]:
    """The process's memory counters, in MB."""
    counters = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in FIELDS:
            counters[name] = int(value.split()[0]) / 1024
    return counters


def child(mode: str, path: str, queries_path: str, ids_path: str) -> None:
    """One run in a fresh process: load, search twice, print what it measured as JSON."""
    from nswg import Index

    queries = np.load(queries_path)
    before = memory()
    start = time.perf_counter()
    index = Index.load(path, mmap=mode == "mmap")
    load = time.perf_counter() - start
    loaded = memory()
    index.search(queries[:10], k=10)
    few = memory()
    qps = []
    for _ in range(2):
        start = time.perf_counter()
        found = index.search(queries, k=10)
        qps.append(len(queries) / (time.perf_counter() - start))
    searched = memory()
    np.save(ids_path, found.ids)
    print(
        json.dumps(
            {
                "before": before,
                "loaded": loaded,
                "10 queries": few,
                "searched": searched,
                "load_s": load,
                "qps_first": qps[0],
                "qps_again": qps[1],
                "mapped": index.memory_mapped,
            }
        )
    )


def report(runs: dict[str, list[dict]], same: bool, n_queries: int) -> None:
    """Prints the medians of the runs of each mode, and the ratios of their times per round."""
    print(f"the two modes answer alike: {same}")
    assert runs["mmap"][0]["mapped"] and not runs["normal"][0]["mapped"]

    def median(mode: str, key: str, field: str | None = None) -> float:
        return statistics.median(r[key][field] if field else r[key] for r in runs[mode])

    print(f"medians of {len(runs['mmap'])} runs per mode (MB; load s; QPS of {n_queries} queries)")
    head = "| mode | stage | " + " | ".join(FIELDS) + " |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for mode in MODES:
        for stage in ("before", "loaded", "10 queries", "searched"):
            values = " | ".join(f"{median(mode, stage, f):.1f}" for f in FIELDS)
            print(f"| {mode} | {stage} | {values} |")
    print("| mode | load s | QPS first | QPS again |")
    print("|---|---|---|---|")
    for mode in MODES:
        load, first, again = (median(mode, k) for k in ("load_s", "qps_first", "qps_again"))
        print(f"| {mode} | {load:.3f} | {first:.0f} | {again:.0f} |")
    for key in ("load_s", "qps_first", "qps_again"):
        ratios = [m[key] / n[key] for n, m in zip(runs["normal"], runs["mmap"])]
        print(
            f"mmap / normal, {key}, per round: median {statistics.median(ratios):.3f}, "
            f"range {min(ratios):.3f} to {max(ratios):.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vectors", type=Path, default=GLOVE, help="word vectors to index")
    parser.add_argument("--default", action="store_true", help="use the shipped 10k words")
    parser.add_argument("--queries", type=int, default=1000, help="words held out as queries")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each mode, interleaved")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out words")
    parser.add_argument("--out", type=Path, help="write the runs to this JSON file")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    from nswg import Index
    from nswg.words import load_default_word_vectors, load_word_vectors

    if args.default:
        _, vectors = load_default_word_vectors()
    else:
        _, vectors = load_word_vectors(args.vectors)
    held_out = np.random.default_rng(args.seed).permutation(len(vectors))
    queries, base = vectors[held_out[: args.queries]], vectors[held_out[args.queries :]]
    print(f"{len(base)} words of {base.shape[1]} dimensions indexed, {len(queries)} queries")
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as folder:
        path, queries_path = Path(folder) / "words.nswg", Path(folder) / "queries.npy"
        start = time.perf_counter()
        Index.build(base, metric="cosine").save(path)
        print(f"build and save: {time.perf_counter() - start:.1f} s")
        print(f"file: {path.stat().st_size / 1e6:.1f} MB")
        np.save(queries_path, queries)
        runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
        answers = {}
        for _ in range(args.rounds):
            for mode in MODES:
                ids_path = Path(folder) / f"{mode}.npy"
                command = [sys.executable, __file__, "--child", mode, str(path)]
                command += [str(queries_path), str(ids_path)]
                out = subprocess.run(command, check=True, capture_output=True, text=True)
                runs[mode].append(json.loads(out.stdout))
                answers[mode] = np.load(ids_path)
    same = bool(np.array_equal(answers["normal"], answers["mmap"]))
    report(runs, same, len(queries))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        summary = {"n": len(base), "queries": len(queries), "answers_alike": same, "runs": runs}
        args.out.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
