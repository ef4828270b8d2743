"""nswg.neighbors.KNeighborsClassifier against tslearn's KNeighborsTimeSeriesClassifier.

1-NN under DTW with the UCR archive's learned Sakoe-Chiba window, on subsets of two UCR
datasets: wall time of fit + predict for each (one thread each: ``n_jobs=1``), whether exact
search predicts exactly what tslearn predicts, and accuracy and speed of the graph search.

tslearn's numba functions are compiled on a tiny problem first, so compilation is not timed.

Run from the repository root::

    python benchmarks/sklearn_vs_tslearn.py
    python benchmarks/sklearn_vs_tslearn.py --datasets Crop:7200:1000,FordA:3601:40

Each dataset is ``NAME:N_TRAIN:N_TEST``: the first rows of the archive's train and test splits.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nswg import bench, datasets
from nswg.neighbors import KNeighborsClassifier

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "ucr" / "UCRArchive_2018"
#: Whole datasets on which tslearn takes about four minutes each.
DEFAULT_DATASETS = "ECG5000:500:4500,ChlorineConcentration:467:3840"
#: Graph-search settings (ef, n_searches): the defaults, then a cheaper beam.
GRAPH_SETTINGS = ((None, 2), (8, 1))


@dataclass
class Row:
    dataset: str
    n_train: int
    n_test: int
    length: int
    radius: int
    method: str
    accuracy: float
    fit_seconds: float
    predict_seconds: float
    same_as_tslearn: float

    @property
    def seconds(self) -> float:
        return self.fit_seconds + self.predict_seconds


def timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def tslearn_classifier(radius: int) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # h5py is optional for tslearn
        from tslearn.neighbors import KNeighborsTimeSeriesClassifier
    params = {"global_constraint": "sakoe_chiba", "sakoe_chiba_radius": radius}
    return KNeighborsTimeSeriesClassifier(
        n_neighbors=1, metric="dtw", metric_params=params, n_jobs=1
    )


def run(name: str, n_train: int, n_test: int, root: Path | None) -> list[Row]:
    X, y, Xt, yt = datasets.load_ucr(name, root)
    X, y, Xt, yt = X[:n_train], y[:n_train], Xt[:n_test], yt[:n_test]
    length = X.shape[1]
    summary = datasets.ucr_summary().get(name)
    percent = summary.dtw_window_percent if summary is not None else 100
    radius = datasets.ucr_window_radius(percent, length)

    # Compile tslearn's numba code outside the timings.
    tslearn_classifier(radius).fit(X[:3, :, None], y[:3]).predict(Xt[:2, :, None])
    oracle = tslearn_classifier(radius)
    _, fit_s = timed(lambda: oracle.fit(X[:, :, None], y))
    want, predict_s = timed(lambda: oracle.predict(Xt[:, :, None]))

    def row(method: str, predicted: np.ndarray, fit_s: float, predict_s: float) -> Row:
        return Row(
            name,
            len(X),
            len(Xt),
            length,
            radius,
            method,
            float(np.mean(predicted == yt)),
            fit_s,
            predict_s,
            float(np.mean(predicted == want)),
        )

    rows = [row("tslearn", want, fit_s, predict_s)]
    settings: list[tuple[str, dict[str, Any]]] = [("nswg exact", {"exact": True})]
    settings += [
        (f"nswg graph ef={ef or 'default'},ns={ns}", {"ef": ef, "n_searches": ns})
        for ef, ns in GRAPH_SETTINGS
    ]
    for method, params in settings:
        clf = KNeighborsClassifier(n_neighbors=1, metric="dtw", radius=radius, n_jobs=1, **params)
        _, fit_s = timed(lambda clf=clf: clf.fit(X, y))
        got, predict_s = timed(lambda clf=clf: clf.predict(Xt))
        rows.append(row(method, got, fit_s, predict_s))
    return rows


def table(rows: list[Row]) -> str:
    width = max(len("dataset"), *(len(r.dataset) for r in rows)) + 1
    head = (
        f"{'dataset':<{width}}{'train':>6}{'test':>6}{'len':>5}{'r':>3}  {'method':<28}"
        f"{'accuracy':>9}{'= tslearn':>10}{'fit s':>8}{'predict s':>10}{'total s':>9}"
        f"{'speed-up':>9}{'predict speed-up':>17}"
    )
    out = [head, "-" * len(head)]
    for r in rows:
        base = next(b for b in rows if b.dataset == r.dataset and b.method == "tslearn")
        out.append(
            f"{r.dataset:<{width}}{r.n_train:>6}{r.n_test:>6}{r.length:>5}{r.radius:>3}  "
            f"{r.method:<28}"
            f"{r.accuracy:>9.4f}{r.same_as_tslearn:>10.4f}{r.fit_seconds:>8.2f}"
            f"{r.predict_seconds:>10.2f}{r.seconds:>9.2f}{base.seconds / r.seconds:>8.1f}x"
            f"{base.predict_seconds / r.predict_seconds:>16.1f}x"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ucr-root",
        default=str(DEFAULT_ROOT),
        help="UCR archive folder; the shipped datasets when it is absent",
    )
    parser.add_argument("--datasets", default=DEFAULT_DATASETS, help="NAME:N_TRAIN:N_TEST,...")
    args = parser.parse_args(argv)
    root: Path | None = Path(args.ucr_root)
    if not root.is_dir():
        print(f"{root} is absent: using the shipped datasets", file=sys.stderr)
        root = None
    rows: list[Row] = []
    for spec in args.datasets.split(","):
        name, n_train, n_test = spec.split(":")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows += run(name, int(n_train), int(n_test), root)

    import sklearn
    import tslearn

    info = bench.machine_info()
    print(
        "1-NN DTW (learned window), one thread each (n_jobs=1); time = fit + predict, "
        "tslearn's numba compilation excluded"
    )
    print(
        f"nswg {info['nswg']}, tslearn {tslearn.__version__}, scikit-learn {sklearn.__version__}, "
        f"numpy {info['numpy']}, Python {info['python']}, {info['cpu']} ({info['cores']} cores)"
    )
    print("command: python " + shlex.join([sys.argv[0], *(argv or sys.argv[1:])]))
    print()
    print(table(rows))
    print(
        "'= tslearn': share of test series predicted as tslearn predicts them; speed-up: "
        "tslearn's time over this row's (fit + predict, and predict alone)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
