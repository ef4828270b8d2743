"""nswg against dtaidistance and tslearn under DTW, one thread each.

Three parts, each interleaving the libraries step by step (the order rotates from step to step)
so that the load of a shared machine falls on all of them alike:

``kernel``
    The bare banded DTW kernel, no pruning: nswg's ``_core.dtw`` called pair by pair, against
    dtaidistance's C ``distance_fast`` pair by pair and its ``distance_matrix_fast`` over a
    block (no Python between pairs). Seeded random walks; cells per second is the number of
    cells inside the Sakoe-Chiba band over the median time of ``--repeats`` repeats.
    dtaidistance's ``window=r+1`` is nswg's radius ``r`` (it keeps ``|i - j| < window``).
``ucr``
    Exact 1-NN classification at the archive's learned window on every equal-length dataset
    under ``--root``: nswg's ``KNeighborsClassifier(exact=True)`` (LB_Kim, LB_Keogh both ways,
    early abandoning, candidates in the order of their bounds; fit + predict timed), against
    dtaidistance's ``distance_matrix_fast`` over the train x test block followed by an argmin,
    and tslearn's ``KNeighborsTimeSeriesClassifier`` (fit + predict; fit is also timed apart:
    nswg's builds a one-neighbour graph, a few DTWs per training series). dtaidistance and tslearn
    are too slow for whole test sets in a short run: every dataset's first ``--max-test`` test
    series (dtaidistance) and first ``--max-test-tslearn`` (tslearn) are timed, each with nswg
    on the very same series, and the ratios are taken on those subsets only. ``--all-test``
    also times nswg alone on the whole test sets (with the error beside the published one).
``graph``
    The graph search under DTW on ``--graph-datasets`` (Crop, FordA): 1-NN error and full DTW
    computations per query against exact search's and brute force's (one per training series),
    over a sweep of ``ef`` and ``n_searches``.

Every input is cast to float32 once, so the libraries see identical numbers; predictions are
compared query by query.

Run from the repository root (``pip install ".[bench]"`` first)::

    python benchmarks/dtw_vs_peers.py --max-test 2 --max-test-tslearn 1 --parts ucr   # quick
    python benchmarks/dtw_vs_peers.py                                                 # ~25 min

Writes ``kernel.csv``, ``ucr.csv``, ``graph.csv``, ``summary.json``, ``ucr_times.png`` and
``graph_error_distances.png`` to ``--out`` (default ``bench-out/dtw``) and prints the tables.
"""

from __future__ import annotations

import argparse
import csv
import json
import shlex
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from nswg import _core, bench, datasets
from nswg.neighbors import KNeighborsClassifier

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "ucr" / "UCRArchive_2018"
#: (length, radius) of the kernel benchmark.
KERNEL_SHAPES = ((500, 5), (500, 50), (128, 12), (1000, 100))
#: Series per side of the kernel benchmark: SIDE x SIDE pairs.
SIDE = 40
#: Graph-search sweep under DTW: (ef, n_searches).
GRAPH_SWEEP = tuple(
    bench.Setting(ef, ns)
    for ef, ns in (
        (1, 1),
        (2, 1),
        (4, 1),
        (4, 2),
        (8, 1),
        (8, 2),
        (12, 2),
        (16, 1),
        (16, 2),
        (16, 4),
        (24, 2),
        (32, 2),
        (32, 4),
        (48, 2),
        (64, 4),
    )
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rotated(items: Sequence[Any], step: int) -> list[Any]:
    """``items`` starting at position ``step`` (mod its length): who goes first changes."""
    shift = step % len(items)
    return [*items[shift:], *items[:shift]]


def band_cells(length: int, radius: int) -> int:
    """Cells of an n x n cost matrix inside a Sakoe-Chiba band of ``radius``."""
    i = np.arange(length)
    return int(np.sum(np.minimum(i + radius, length - 1) - np.maximum(i - radius, 0) + 1))


# --------------------------------------------------------------------------------------------
# Bare kernel
# --------------------------------------------------------------------------------------------


def nswg_pairs(a: np.ndarray, b: np.ndarray, radius: int) -> np.ndarray:
    return np.array(
        [[_core.dtw(x, y, channels=1, sakoe_chiba_radius=radius) for y in b] for x in a]
    )


def dtai_pairs(a: np.ndarray, b: np.ndarray, radius: int) -> np.ndarray:
    from dtaidistance import dtw as dtai

    return np.array([[dtai.distance_fast(x, y, window=radius + 1) for y in b] for x in a])


def dtai_matrix(a: np.ndarray, b: np.ndarray, radius: int) -> np.ndarray:
    """dtaidistance's C loop over the a x b block of the stacked series."""
    from dtaidistance import dtw as dtai

    block = ((0, len(a)), (len(a), len(a) + len(b)))
    out = dtai.distance_matrix_fast(
        np.vstack([a, b]), block=block, compact=True, parallel=False, window=radius + 1
    )
    # Row-major over the block: a's series by b's.
    return np.asarray(out).reshape(len(a), len(b))


def kernel(repeats: int, seed: int) -> list[dict[str, Any]]:
    """Cells per second of each implementation, per (length, radius)."""
    rows = []
    for length, radius in KERNEL_SHAPES:
        walks = datasets.random_walks(2 * SIDE, length, random_state=seed)
        walks = walks.astype(np.float32)
        a, b = walks[:SIDE], walks[SIDE:]
        a64, b64 = a.astype(np.float64), b.astype(np.float64)

        runs: dict[str, Callable[[], np.ndarray]] = {
            "nswg _core.dtw (pair by pair)": partial(nswg_pairs, a, b, radius),
            "dtaidistance distance_fast (pair by pair)": partial(dtai_pairs, a64, b64, radius),
            "dtaidistance distance_matrix_fast (block)": partial(dtai_matrix, a64, b64, radius),
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        values: dict[str, np.ndarray] = {}
        for rep in range(repeats):
            for name in rotated(list(runs), rep):
                values[name], seconds = bench.measure_seconds(runs[name])
                times[name].append(seconds)
        cells = band_cells(length, radius) * SIDE * SIDE
        reference = values["nswg _core.dtw (pair by pair)"]
        for name, t in times.items():
            med = statistics.median(t)
            rows.append(
                {
                    "length": length,
                    "radius": radius,
                    "implementation": name,
                    "pairs": SIDE * SIDE,
                    "cells": cells,
                    "seconds_median": med,
                    "seconds_all": t,
                    "mcells_per_second": cells / med / 1e6,
                    "max_relative_difference": float(
                        np.max(np.abs(values[name] - reference) / np.maximum(reference, 1e-12))
                    ),
                }
            )
        log(f"kernel L={length} r={radius}: done")
    return rows


# --------------------------------------------------------------------------------------------
# Exact 1-NN classification on the archive
# --------------------------------------------------------------------------------------------


#: A classifier run: (X_train, y_train, X_test, radius) -> (predictions, seconds spent in fit).
Classify = Callable[[np.ndarray, np.ndarray, np.ndarray, int], tuple[np.ndarray, float]]


def nswg_predict(
    X: np.ndarray, y: np.ndarray, Xt: np.ndarray, radius: int
) -> tuple[np.ndarray, float]:
    clf = KNeighborsClassifier(1, metric="dtw", radius=radius, exact=True, n_jobs=1)
    _, fit_seconds = bench.measure_seconds(partial(clf.fit, X, y))
    predicted: np.ndarray = clf.predict(Xt)
    return predicted, fit_seconds


def dtai_predict(
    X: np.ndarray, y: np.ndarray, Xt: np.ndarray, radius: int
) -> tuple[np.ndarray, float]:
    d = dtai_matrix(X.astype(np.float64), Xt.astype(np.float64), radius)
    # argmin keeps the first training series on ties, as nswg does.
    predicted: np.ndarray = y[np.argmin(d, axis=0)]
    return predicted, 0.0


def tslearn_predict(
    X: np.ndarray, y: np.ndarray, Xt: np.ndarray, radius: int
) -> tuple[np.ndarray, float]:
    from tslearn.neighbors import KNeighborsTimeSeriesClassifier

    clf = KNeighborsTimeSeriesClassifier(
        1, metric="dtw", metric_params={"sakoe_chiba_radius": radius}, n_jobs=1
    )
    _, fit_seconds = bench.measure_seconds(partial(clf.fit, X[:, :, None], y))
    predicted: np.ndarray = clf.predict(Xt[:, :, None])
    return predicted, fit_seconds


PEERS: dict[str, Classify] = {
    "dtaidistance": dtai_predict,
    "tslearn": tslearn_predict,
}


def equal_length_datasets(root: Path) -> list[tuple[str, datasets.UCRSummary]]:
    summary = datasets.ucr_summary(root)
    return [
        (name, summary[name])
        for name in datasets.list_ucr(root)
        if name in summary and summary[name].length is not None
    ]


def ucr(
    root: Path, max_test: dict[str, int], all_test: bool, only: list[str] | None
) -> list[dict[str, Any]]:
    """One row per dataset: seconds of nswg and of each peer on the peer's subset."""
    # Compile tslearn's numba functions (and warm every library) on a tiny problem first.
    warm = datasets.random_walks(4, 16, random_state=0).astype(np.float32)
    for fn in (nswg_predict, *PEERS.values()):
        fn(warm[:3], np.array([0, 1, 0]), warm[3:], 2)
    rows = []
    chosen = [d for d in equal_length_datasets(root) if only is None or d[0] in only]
    for step, (name, s) in enumerate(chosen):
        X, y, Xt, yt = datasets.load_ucr(name, root)
        radius = s.radius()
        row: dict[str, Any] = {
            "dataset": name,
            "n_train": len(X),
            "n_test": len(Xt),
            "length": X.shape[1],
            "radius": radius,
            "window_percent": s.dtw_window_percent,
            "published_error": s.dtw_error,
        }
        jobs: list[tuple[str, str, int]] = []
        for peer, m in max_test.items():
            jobs += [(peer, peer, min(m, len(Xt))), ("nswg", peer, min(m, len(Xt)))]
        if all_test:
            jobs.append(("nswg", "all", len(Xt)))
        predictions: dict[tuple[str, str], np.ndarray] = {}
        for lib, subset, m in rotated(jobs, step):
            fn = nswg_predict if lib == "nswg" else PEERS[lib]
            (predictions[(lib, subset)], fit), seconds = bench.measure_seconds(
                partial(fn, X, y, Xt[:m], radius)
            )
            row[f"{lib}_seconds_on_{subset}"] = seconds
            row[f"{lib}_fit_seconds_on_{subset}"] = fit
            row[f"n_test_{subset}"] = m
        for peer in max_test:
            mine, theirs = predictions[("nswg", peer)], predictions[(peer, peer)]
            row[f"mismatches_vs_{peer}"] = int(np.sum(mine != theirs))
            row[f"speedup_vs_{peer}"] = (
                row[f"{peer}_seconds_on_{peer}"] / row[f"nswg_seconds_on_{peer}"]
            )
            row[f"predict_speedup_vs_{peer}"] = predict_seconds(row, peer, peer) / (
                predict_seconds(row, "nswg", peer)
            )
        if all_test:
            row["nswg_error"] = float(np.mean(predictions[("nswg", "all")] != yt))
        rows.append(row)
        log(
            f"ucr {step + 1}/{len(chosen)} {name}: "
            + ", ".join(f"{k}={v:.3g}" for k, v in row.items() if k.startswith("speedup"))
        )
    return rows


def predict_seconds(row: dict[str, Any], lib: str, subset: str) -> float:
    """Seconds of ``lib`` on ``subset`` less those of its fit."""
    seconds: float = row[f"{lib}_seconds_on_{subset}"] - row[f"{lib}_fit_seconds_on_{subset}"]
    return seconds


def ucr_totals(rows: list[dict[str, Any]], peers: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"datasets": len(rows)}
    for peer in peers:
        mine = sum(r[f"nswg_seconds_on_{peer}"] for r in rows)
        theirs = sum(r[f"{peer}_seconds_on_{peer}"] for r in rows)
        mine_predict = sum(predict_seconds(r, "nswg", peer) for r in rows)
        theirs_predict = sum(predict_seconds(r, peer, peer) for r in rows)
        out[peer] = {
            "nswg_predict_seconds": mine_predict,
            "peer_predict_seconds": theirs_predict,
            "predict_speedup": theirs_predict / mine_predict,
            "test_series_per_dataset_at_most": max(r[f"n_test_{peer}"] for r in rows),
            "test_series_in_all": sum(r[f"n_test_{peer}"] for r in rows),
            "nswg_seconds": mine,
            "peer_seconds": theirs,
            "speedup": theirs / mine,
            "mismatched_predictions": sum(r[f"mismatches_vs_{peer}"] for r in rows),
        }
    if rows and "nswg_seconds_on_all" in rows[0]:
        out["nswg_all_test"] = {
            "test_series_in_all": sum(r["n_test"] for r in rows),
            "seconds": sum(r["nswg_seconds_on_all"] for r in rows),
            "mean_error": float(np.mean([r["nswg_error"] for r in rows])),
            "mean_published_error": float(np.mean([r["published_error"] for r in rows])),
        }
    return out


# --------------------------------------------------------------------------------------------
# Graph search under DTW
# --------------------------------------------------------------------------------------------


def graph(root: Path, names: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        log(f"graph {name}: build and sweep")
        rows += bench.as_records(
            bench.ucr_task(name, "dtw", root=root, sweep=GRAPH_SWEEP, n_threads=1)
        )
    return rows


def graph_best(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per dataset: exact search, and the cheapest graph setting within 0.01 of its error."""
    out = {}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        lines = [bench.UcrResult(**r) for r in rows if r["dataset"] == name]
        exact = next(x for x in lines if x.method == "exact")
        best = bench.cheapest_within(lines, 0.01)
        out[name] = {
            "exact_error": exact.error,
            "exact_percent_of_brute_force": exact.percent_of_brute_force,
            "best": None if best is None else bench.as_records([best])[0],
        }
    return out


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(dict.fromkeys(c for r in rows for c in r if c != "seconds_all"))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows([{c: r.get(c, "") for c in columns} for r in rows])


def report(s: dict[str, Any]) -> str:
    m = s["machine"]
    lines = [
        f"{m['cpu']} ({m['cores']} cores), Python {m['python']}, numpy {m['numpy']}; "
        + ", ".join(f"{k} {v}" for k, v in s["versions"].items()),
        f"command: {s['command']}",
    ]
    if s["kernel"]:
        lines += [
            "",
            "| L | r | implementation | Mcells/s | max rel. diff. |",
            "|---:|---:|---|---:|---:|",
        ]
        for r in s["kernel"]:
            lines.append(
                f"| {r['length']} | {r['radius']} | {r['implementation']} | "
                f"{r['mcells_per_second']:.0f} | {r['max_relative_difference']:.1e} |"
            )
    t = s["ucr_totals"]
    if t:
        lines += [
            "",
            f"Exact 1-NN DTW, {t['datasets']} equal-length datasets, 1 thread:",
            "| peer | test series timed | nswg s (fit + predict) | peer s | speed-up "
            "| speed-up, predict only | mismatched predictions |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for peer in s["peers"]:
            p = t[peer]
            lines.append(
                f"| {peer} | first {p['test_series_per_dataset_at_most']} per dataset "
                f"({p['test_series_in_all']:,}) | {p['nswg_seconds']:.1f} | "
                f"{p['peer_seconds']:.1f} | {p['speedup']:.1f}x | {p['predict_speedup']:.1f}x | "
                f"{p['mismatched_predictions']} |"
            )
        if "nswg_all_test" in t:
            a = t["nswg_all_test"]
            lines.append(
                f"nswg on all {a['test_series_in_all']:,} test series: {a['seconds']:.1f} s; "
                f"mean error {a['mean_error']:.4f} (published {a['mean_published_error']:.4f})"
            )
    for name, g in s["graph_best"].items():
        b = g["best"]
        lines.append("")
        lines.append(
            f"{name}: exact error {g['exact_error']:.4f} "
            f"({g['exact_percent_of_brute_force']:.1f}% of brute force's full DTWs); "
            + (
                "no graph setting within 0.01"
                if b is None
                else f"graph ef={b['ef']} n_searches={b['n_searches']}: error {b['error']:.4f} "
                f"at {b['percent_of_brute_force']:.1f}% of brute force's full DTWs "
                f"({b['mean_distance_computations']:.0f} per query, "
                f"{b['mean_lower_bound_computations']:.0f} lower bounds)"
            )
        )
    if s["graph"]:
        lines += [
            "",
            "| dataset | method | ef | ns | error | full DTWs/query | % brute | LBs/query | s |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in s["graph"]:
            lines.append(
                f"| {r['dataset']} | {r['method']} | {r['ef'] or ''} | {r['n_searches'] or ''} | "
                f"{r['error']:.4f} | {r['mean_distance_computations']:.1f} | "
                f"{r['percent_of_brute_force']:.2f} | {r['mean_lower_bound_computations']:.1f} | "
                f"{r['seconds']:.1f} |"
            )
    return "\n".join(lines)


def plot(s: dict[str, Any], out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is absent: no plots", file=sys.stderr)
        return
    if s["ucr"]:
        fig, ax = plt.subplots(figsize=(6.5, 5.5))
        for peer, marker in zip(s["peers"], "os"):
            x = [r[f"{peer}_seconds_on_{peer}"] for r in s["ucr"]]
            y = [r[f"nswg_seconds_on_{peer}"] for r in s["ucr"]]
            ax.loglog(x, y, marker, ms=4, alpha=0.7, label=f"{peer} (its subset)")
        lo = min(ax.get_xlim()[0], ax.get_ylim()[0])
        hi = max(ax.get_xlim()[1], ax.get_ylim()[1])
        for factor, style in ((1, "-"), (10, "--"), (100, ":")):
            ax.plot([lo, hi], [lo / factor, hi / factor], style, color="grey", lw=0.8)
            ax.annotate(f"{factor}x", (hi, hi / factor), fontsize=7, ha="right", va="bottom")
        ax.set_xlabel("peer seconds (1 thread)")
        ax.set_ylabel("nswg exact seconds, same series (1 thread)")
        ax.set_title("Exact 1-NN DTW per UCR dataset")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "ucr_times.png", dpi=120)
        plt.close(fig)
    if s["graph"]:
        fig, ax = plt.subplots(figsize=(7, 5))
        for name in dict.fromkeys(r["dataset"] for r in s["graph"]):
            pts = [r for r in s["graph"] if r["dataset"] == name]
            exact = next(r for r in pts if r["method"] == "exact")
            graph_pts = sorted(
                (r for r in pts if r["method"] == "graph"),
                key=lambda r: r["percent_of_brute_force"],
            )
            (line,) = ax.plot(
                [r["percent_of_brute_force"] for r in graph_pts],
                [r["error"] for r in graph_pts],
                "o-",
                ms=3,
                label=f"{name} graph",
            )
            ax.plot(
                exact["percent_of_brute_force"],
                exact["error"],
                "*",
                ms=10,
                color=line.get_color(),
                label=f"{name} exact (pruned)",
            )
            ax.axhline(exact["error"] + 0.01, ls=":", color=line.get_color(), lw=0.8)
        ax.axvline(10, ls="--", color="grey", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("full DTW computations per query, % of brute force (log)")
        ax.set_ylabel("1-NN error")
        ax.set_title("Graph search under DTW: error against distance computations")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "graph_error_distances.png", dpi=120)
        plt.close(fig)


def versions(peers: Sequence[str]) -> dict[str, str]:
    out = {"nswg": bench.machine_info()["nswg"]}
    for name in peers:
        out[name] = metadata.version(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(DEFAULT_ROOT), help="the UCR archive's folder")
    parser.add_argument("--parts", default="kernel,ucr,graph")
    parser.add_argument("--repeats", type=int, default=5, help="kernel repeats")
    parser.add_argument("--max-test", type=int, default=20, help="test series per dataset")
    parser.add_argument("--max-test-tslearn", type=int, default=1)
    parser.add_argument("--all-test", action="store_true", help="nswg on whole test sets too")
    parser.add_argument("--datasets", default=None, help="comma-separated subset of the archive")
    parser.add_argument("--graph-datasets", default="Crop,FordA")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench-out/dtw")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",")}
    if unknown := parts - {"kernel", "ucr", "graph"}:
        raise SystemExit(f"unknown parts: {', '.join(sorted(unknown))}")
    root, out = Path(args.root), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python " + shlex.join([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    # tslearn warns that h5py is absent; scikit-learn may warn about feature names.
    warnings.filterwarnings("ignore", category=UserWarning)
    max_test = {"dtaidistance": args.max_test, "tslearn": args.max_test_tslearn}
    peers = list(max_test)
    only = args.datasets.split(",") if args.datasets else None
    kernel_rows = kernel(args.repeats, args.seed) if "kernel" in parts else []
    ucr_rows = ucr(root, max_test, args.all_test, only) if "ucr" in parts else []
    graph_rows = graph(root, args.graph_datasets.split(",")) if "graph" in parts else []
    summary = {
        "command": command,
        "machine": bench.machine_info(),
        "versions": versions(peers),
        "threads": 1,
        "peers": peers,
        "kernel": kernel_rows,
        "ucr_totals": ucr_totals(ucr_rows, peers) if ucr_rows else {},
        "graph_best": graph_best(graph_rows),
        "ucr": ucr_rows,
        "graph": graph_rows,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    write_csv(out / "kernel.csv", kernel_rows)
    write_csv(out / "ucr.csv", ucr_rows)
    write_csv(out / "graph.csv", graph_rows)
    plot(summary, out)
    print(report(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
