"""Exact 1-NN DTW under a bound, in the same run: nswg's kernels against wildboar's pruned 1-NN
and dtaidistance, one thread each, over the equal-length UCR datasets at their learned windows.

The libraries, run in turn on the same float32 series:

``nswg``
    The default: LB_Kim, LB_Keogh both ways, then the SIMD kernel with the anti-diagonals of
    bands of 200 points or more cut to their live cells, candidates in the order of their bounds.
``nswg-abandoning``
    The same cascade with the SIMD kernel that abandons on whole anti-diagonals without pruning
    (``NSWG_DTW_KERNEL=abandoning``): the default before pruning.
``nswg-eapruned``
    The same cascade with EAPrunedDTW, scalar, row by row (``NSWG_DTW_KERNEL=pruned``).
``wildboar``
    wildboar's ``argmin_distance(k=1, metric="dtw")`` (lower bounds and early abandoning), in an
    interpreter of its own (``--wildboar-python``; see ``_wildboar_worker.py``), with ``r`` set
    so that its window ``floor(r * length)``, which keeps ``|i - j| < window``, is nswg's radius
    plus one. Skipped when that interpreter cannot import wildboar.
``dtaidistance``
    ``distance_matrix_fast`` over the train x test block (brute force, in C), then an argmin.

nswg's time is ``Index.build(graph=False)`` (the envelopes) plus ``search(exact=True)``; the
peers' is their call alone. On each dataset every library runs ``--repeats`` times (the order
rotates from round to round and from dataset to dataset, so that the load of a shared machine
falls on all alike) and its best time counts. Each dataset's first ``--max-test`` test series
are classified, the first ``--max-test-dtaidistance`` of them by dtaidistance, which computes
every DTW; nswg's time on that subset is recorded too, for its ratio. nswg counts the DTWs it
ran and their cells; dtaidistance runs one DTW per pair with every cell of the band; wildboar
counts neither. Predictions are compared with ``nswg-abandoning``'s, series by series.

Run from the repository root (``pip install ".[bench]"`` first)::

    python benchmarks/dtw_pruning.py --datasets CBF,Trace --repeats 1     # quick
    python benchmarks/dtw_pruning.py --wildboar-python /path/to/venv/bin/python   # ~7 min

Writes ``pruning.csv`` and ``summary.json`` to ``--out`` (default ``bench-out/pruning``) and
prints the totals and the table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nswg import Index, datasets

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "ucr" / "UCRArchive_2018"
#: nswg's kernels under a bound: label -> the value of ``NSWG_DTW_KERNEL`` (None: the default).
KERNELS = {"nswg": None, "nswg-abandoning": "abandoning", "nswg-eapruned": "pruned"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def band_cells(length: int, radius: int) -> int:
    """Cells of an n x n cost matrix inside a Sakoe-Chiba band of ``radius``."""
    i = np.arange(length)
    return int(np.sum(np.minimum(i + radius, length - 1) - np.maximum(i - radius, 0) + 1))


#: One timed run: seconds, the nearest training series of each test series, DTWs and cells
#: (None where the library does not count them).
Run = tuple[float, np.ndarray, int | None, int | None]


def nswg_run(kernel: str | None, X: np.ndarray, Xt: np.ndarray, radius: int) -> Run:
    # Read by the core when a search sets up its distances.
    if kernel is None:
        os.environ.pop("NSWG_DTW_KERNEL", None)
    else:
        os.environ["NSWG_DTW_KERNEL"] = kernel
    start = time.perf_counter()
    index = Index.build(X, metric="dtw", radius=radius, graph=False, n_threads=1)
    found = index.search(Xt, k=1, exact=True, n_threads=1)
    seconds = time.perf_counter() - start
    os.environ.pop("NSWG_DTW_KERNEL", None)
    dtws = int(found.n_distance_computations.sum())
    return seconds, found.ids[:, 0], dtws, int(found.n_dtw_cells.sum())


def dtai_run(X: np.ndarray, Xt: np.ndarray, radius: int) -> Run:
    from dtaidistance import dtw as dtai

    a, b = X.astype(np.float64), Xt.astype(np.float64)
    block = ((0, len(a)), (len(a), len(a) + len(b)))
    stacked = np.vstack([a, b])
    start = time.perf_counter()
    out = dtai.distance_matrix_fast(
        stacked, block=block, compact=True, parallel=False, window=radius + 1
    )
    seconds = time.perf_counter() - start
    # Row-major over the block: a's series by b's; argmin keeps the first on ties, as nswg does.
    ids = np.argmin(np.asarray(out).reshape(len(a), len(b)), axis=0)
    pairs = len(a) * len(b)
    return seconds, ids, pairs, pairs * band_cells(X.shape[1], radius)


class Wildboar:
    """wildboar's ``argmin_distance`` in a worker process of another interpreter."""

    def __init__(self, python: str) -> None:
        worker = Path(__file__).with_name("_wildboar_worker.py")
        self.process = subprocess.Popen(
            [python, str(worker)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        self.versions: dict[str, str] = self._reply()["ready"]
        self.folder = tempfile.TemporaryDirectory(prefix="nswg-wildboar-")

    def _reply(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the wildboar worker stopped")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def stage(self, X: np.ndarray, Xt: np.ndarray) -> None:
        """Writes a dataset's series once, before its timed runs."""
        for name, a in (("train", X), ("test", Xt)):
            np.save(Path(self.folder.name) / f"{name}.npy", a.astype(np.float64))

    def run(self, X: np.ndarray, Xt: np.ndarray, radius: int) -> Run:
        length = X.shape[1]
        # floor(r * length) = radius + 1, robust to rounding; r = 1 is the whole series.
        r = min(1.0, (radius + 1.5) / length)
        files = {k: str(Path(self.folder.name) / f"{k}.npy") for k in ("train", "test")}
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({**files, "r": r}) + "\n")
        self.process.stdin.flush()
        reply = self._reply()
        return reply["seconds"], np.asarray(reply["ids"]), None, None

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()
        self.folder.cleanup()


def start_wildboar(python: str) -> Wildboar | None:
    try:
        return Wildboar(python)
    except (OSError, RuntimeError) as e:
        log(f"wildboar skipped: {python} cannot run it ({e})")
        return None


def equal_length_datasets(root: Path) -> list[tuple[str, datasets.UCRSummary]]:
    summary = datasets.ucr_summary(root)
    return [
        (name, summary[name])
        for name in datasets.list_ucr(root)
        if name in summary and summary[name].length is not None
    ]


def one_dataset(
    step: int,
    X: np.ndarray,
    y: np.ndarray,
    Xt: np.ndarray,
    radius: int,
    repeats: int,
    max_dtai: int,
    wildboar: Wildboar | None,
) -> dict[str, Any]:
    """Best-of-``repeats`` seconds, DTWs, cells and prediction mismatches of every library."""
    Xd = Xt[:max_dtai]
    jobs: dict[str, Callable[[], Run]] = {
        label: (lambda k=kernel: nswg_run(k, X, Xt, radius)) for label, kernel in KERNELS.items()
    }
    # nswg on dtaidistance's subset, for the ratio on the same series.
    jobs["nswg@dtaidistance"] = lambda: nswg_run(None, X, Xd, radius)
    jobs["dtaidistance"] = lambda: dtai_run(X, Xd, radius)
    if wildboar is not None:
        wildboar.stage(X, Xt)
        jobs["wildboar"] = lambda: wildboar.run(X, Xt, radius)
    best: dict[str, Run] = {}
    labels = list(jobs)
    for round_ in range(repeats):
        shift = (step + round_) % len(labels)
        for label in labels[shift:] + labels[:shift]:
            run = jobs[label]()
            if label not in best or run[0] < best[label][0]:
                best[label] = run
    reference = y[best["nswg-abandoning"][1]]
    row: dict[str, Any] = {}
    for label, (seconds, ids, dtws, cells) in best.items():
        row[f"{label}_seconds"] = seconds
        row[f"{label}_dtws"] = dtws
        row[f"{label}_cells"] = cells
        row[f"{label}_mismatches"] = int(np.sum(y[ids] != reference[: len(ids)]))
    return row


def totals(rows: list[dict[str, Any]], labels: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"datasets": len(rows)}
    for label in labels:
        counted = [r[f"{label}_cells"] for r in rows]
        out[label] = {
            "seconds": sum(r[f"{label}_seconds"] for r in rows),
            "dtws": None if None in counted else sum(r[f"{label}_dtws"] for r in rows),
            "cells": None if None in counted else sum(counted),
            "mismatches": sum(r[f"{label}_mismatches"] for r in rows),
        }
    return out


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, int) and v >= 100_000:
        return f"{v:.3e}"
    return str(v)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b else "-"


def report(rows: list[dict[str, Any]], s: dict[str, Any], labels: list[str]) -> str:
    lines = [
        "| library | seconds | DTWs | cells | predictions that differ |",
        "|---|" + "---:|" * 4,
    ]
    for label in labels:
        t = s[label]
        lines.append(
            f"| {label} | {t['seconds']:.3f} | {fmt(t['dtws'])} | {fmt(t['cells'])} "
            f"| {t['mismatches']} |"
        )
    new, old = s["nswg"], s["nswg-abandoning"]
    lines += [
        "",
        f"nswg against nswg-abandoning: time x{ratio(new['seconds'], old['seconds'])}, "
        f"cells x{ratio(new['cells'], old['cells'])}, DTWs x{ratio(new['dtws'], old['dtws'])}",
        "dtaidistance against nswg on its subset: "
        f"x{ratio(s['dtaidistance']['seconds'], s['nswg@dtaidistance']['seconds'])}",
    ]
    if "wildboar" in s:
        lines.append(f"wildboar against nswg: x{ratio(s['wildboar']['seconds'], new['seconds'])}")
    timed = [lb for lb in labels if lb != "nswg@dtaidistance"]
    lines += [
        "",
        "| dataset | length | r | train | test | "
        + " | ".join(f"{lb} s" for lb in timed)
        + " | cells: pruned / abandoning |",
        "|---|" + "---:|" * (4 + len(timed) + 1),
    ]
    for r in rows:
        cut = r["nswg_cells"] / r["nswg-abandoning_cells"] if r["nswg-abandoning_cells"] else 1.0
        lines.append(
            f"| {r['dataset']} | {r['length']} | {r['radius']} | {r['n_train']} | {r['n_test']} | "
            + " | ".join(f"{r[f'{lb}_seconds']:.4f}" for lb in timed)
            + f" | {cut:.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(DEFAULT_ROOT), help="the UCR archive's folder")
    parser.add_argument("--max-test", type=int, default=20, help="test series per dataset")
    parser.add_argument("--max-test-dtaidistance", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="runs per library, best kept")
    parser.add_argument("--datasets", default=None, help="comma-separated subset of the archive")
    parser.add_argument(
        "--wildboar-python",
        default=sys.executable,
        help="an interpreter with wildboar (1.2.1 needs scikit-learn < 1.6)",
    )
    parser.add_argument("--out", default="bench-out/pruning")
    args = parser.parse_args(argv)
    for name in ("max_test", "max_test_dtaidistance", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    root = Path(args.root)
    if not root.is_dir():
        parser.error(f"no UCR archive at {root}")
    chosen = equal_length_datasets(root)
    if args.datasets:
        wanted = args.datasets.split(",")
        unknown = sorted(set(wanted) - {name for name, _ in chosen})
        if unknown:
            parser.error(f"not equal-length datasets of {root}: {', '.join(unknown)}")
        chosen = [d for d in chosen if d[0] in wanted]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    wildboar = start_wildboar(args.wildboar_python)
    rows: list[dict[str, Any]] = []
    try:
        for step, (name, s) in enumerate(chosen):
            X, y, Xt, _ = datasets.load_ucr(name, root)
            X, Xt = X.astype(np.float32), Xt[: args.max_test].astype(np.float32)
            radius = s.radius()
            row = {
                "dataset": name,
                "length": X.shape[1],
                "radius": radius,
                "n_train": len(X),
                "n_test": len(Xt),
                "n_test_dtaidistance": min(args.max_test_dtaidistance, len(Xt)),
            }
            row |= one_dataset(
                step, X, y, Xt, radius, args.repeats, args.max_test_dtaidistance, wildboar
            )
            rows.append(row)
            # Written as each dataset finishes, so that a stopped run keeps what it measured.
            with open(out / "pruning.csv", "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            log(
                f"{step + 1}/{len(chosen)} {name}: nswg {row['nswg_seconds']:.4f} s, "
                f"abandoning {row['nswg-abandoning_seconds']:.4f} s"
            )
    finally:
        if wildboar is not None:
            wildboar.close()
    labels = [*KERNELS, "nswg@dtaidistance", "dtaidistance"]
    if wildboar is not None:
        labels.append("wildboar")
    summary = totals(rows, labels)
    summary["settings"] = {
        "max_test": args.max_test,
        "max_test_dtaidistance": args.max_test_dtaidistance,
        "repeats": args.repeats,
        "threads": 1,
        "versions": wildboar.versions if wildboar is not None else {},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(report(rows, summary, labels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
