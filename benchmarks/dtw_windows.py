"""Learning the DTW window by leave-one-out (the UCR archive's ``DTW (learned_w)``): nswg's
``learn_dtw_window`` against a naive loop, on one thread each.

For every window from 0% to 100% of the series length, each training series is classified by
its nearest other training series, and the smallest window of the lowest error is kept.
``learn_dtw_window`` runs one exact self-search per distinct radius (LB_Kim, LB_Keogh both ways,
early abandoning); the naive loop computes dtaidistance's full DTW matrix of the training set
(its C ``distance_matrix_fast``) per distinct radius and takes the argmin. Both are timed on the
same float32 series, in alternating order from dataset to dataset, and their windows are
compared with the archive's.

    python benchmarks/dtw_windows.py                       # the shipped datasets but Crop
    python benchmarks/dtw_windows.py --root ../shared/data/ucr/UCRArchive_2018 \\
        --datasets Adiac,Beef,CBF,Car,FaceFour,Lightning7,ToeSegmentation1,Trace

Writes ``windows.csv`` to ``--out`` (default ``bench-out/windows``) and prints the table.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from nswg import datasets
from nswg.neighbors import learn_dtw_window


def naive(X: np.ndarray, y: np.ndarray) -> tuple[int, float]:
    """(learned window in percent, seconds): every pairwise DTW, per distinct radius."""
    from dtaidistance import dtw as dtai

    start = time.perf_counter()
    series = X.astype(np.float64)
    by_radius: dict[int, float] = {}
    errors = []
    for percent in range(101):
        radius = datasets.ucr_window_radius(percent, X.shape[1])
        if radius not in by_radius:
            d = dtai.distance_matrix_fast(series, parallel=False, window=radius + 1)
            np.fill_diagonal(d, np.inf)
            by_radius[radius] = float(np.mean(y[np.argmin(d, axis=1)] != y))
        errors.append(by_radius[radius])
    return int(np.argmin(errors)), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=None, help="a UCR archive's folder")
    parser.add_argument("--datasets", default=None, help="comma-separated names")
    parser.add_argument("--out", type=Path, default=Path("bench-out/windows"))
    args = parser.parse_args()
    summary = datasets.ucr_summary()
    names = args.datasets.split(",") if args.datasets else datasets.list_ucr(args.root)
    rows = []
    for step, name in enumerate(names):
        X, y, _, _ = datasets.load_ucr(name, args.root)
        if np.isnan(X).any() or (args.datasets is None and name == "Crop"):
            continue
        X = X.astype(np.float32)
        timed = {}
        for who in ("nswg", "naive") if step % 2 == 0 else ("naive", "nswg"):
            if who == "nswg":
                start = time.perf_counter()
                found = learn_dtw_window(X, y, n_jobs=1)
                timed[who] = (found.window_percent, time.perf_counter() - start)
            else:
                timed[who] = naive(X, y)
        row = {
            "dataset": name,
            "n_train": len(X),
            "length": X.shape[1],
            "published_window": summary[name].dtw_window_percent,
            "nswg_window": timed["nswg"][0],
            "naive_window": timed["naive"][0],
            "nswg_seconds": round(timed["nswg"][1], 3),
            "naive_seconds": round(timed["naive"][1], 3),
            "speedup": round(timed["naive"][1] / timed["nswg"][1], 2),
            "nswg_dtw_computations": found.n_distance_computations,
        }
        rows.append(row)
        print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "windows.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    nswg_total = sum(r["nswg_seconds"] for r in rows)
    naive_total = sum(r["naive_seconds"] for r in rows)
    agree = sum(r["nswg_window"] == r["published_window"] for r in rows)
    print(
        f"{len(rows)} datasets: windows equal to the archive's on {agree}; nswg {nswg_total:.1f} s,"
        f" naive loop {naive_total:.1f} s ({naive_total / nswg_total:.1f}x)"
    )


if __name__ == "__main__":
    main()
