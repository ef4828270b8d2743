"""Smoke test of an installed nswg: build, search, save, load, pickle, and the bench command.

Run by `.ci/run` in a fresh virtual environment holding only the wheel and its dependencies (no
Rust toolchain), and by the release workflow on every platform's wheel. Run it from outside the
repository, so that `import nswg` finds the installed package, not the sources:

    python /path/to/.ci/smoke.py
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import nswg
from nswg import datasets
from nswg.metrics import dtw


def check(condition: bool, what: str) -> None:
    if not condition:
        sys.exit(f"smoke test failed: {what}")
    print(f"ok  {what}", flush=True)


def main() -> None:
    repository = Path(__file__).resolve().parents[1]
    installed = Path(nswg.__file__).resolve()
    check(repository not in installed.parents, f"nswg is imported from the install ({installed})")
    print(f"    nswg {nswg.__version__}, SIMD {nswg._core.simd_features() or 'none'}", flush=True)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 24)).astype(np.float32)
    queries = rng.normal(size=(200, 24)).astype(np.float32)
    squared = (queries**2).sum(1)[:, None] - 2 * queries @ X.T + (X**2).sum(1)[None, :]
    truth = np.argsort(squared, axis=1)[:, :10]

    index = nswg.Index.build(X, seed=1)
    exact = index.search(queries, k=10, exact=True)
    check(np.array_equal(exact.ids, truth), "exact search finds numpy's 10 nearest")
    found = index.search(queries, k=10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found.ids, truth)])
    mean_cost = found.n_distance_computations.mean()
    check(recall >= 0.9, f"graph search: recall@10 {recall:.3f}, {mean_cost:.0f} of 3000 dist")

    X_train, y_train, X_test, y_test = datasets.load_ucr("Trace")
    series = nswg.Index.build(X_train, metric="dtw", window=0.03)
    ids, distances = series.search(X_test, k=1, exact=True)
    error = float(np.mean(y_train[ids[:, 0]] != y_test))
    published = datasets.ucr_summary()["Trace"].dtw_error
    check(error == published, f"DTW 1-NN error on Trace {error} = published {published}")
    one = dtw(X_test[0], X_train[ids[0, 0]], radius=series.radius)
    check(abs(one - float(distances[0, 0])) < 1e-4, "nswg.metrics.dtw agrees with the index")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.nswg"
        index.remove([0, 1, 2])
        index.save(path)
        loaded = nswg.Index.load(path)
        again = loaded.search(queries, k=10)
        same = index.search(queries, k=10)
        check(len(loaded) == 2997, "save and load keep the removals")
        check(np.array_equal(again.ids, same.ids), "a loaded index answers as the saved one")
        unpickled = pickle.loads(pickle.dumps(index))
        check(np.array_equal(unpickled.search(queries, k=10).ids, same.ids), "pickle round trip")

        out = Path(tmp) / "bench-out"
        bench = [sys.executable, "-m", "nswg", "bench", "--out", str(out), "--no-progress"]
        subprocess.run(bench, check=True, cwd=tmp)
        report = json.loads((out / "results.json").read_text())
        exact_rows = [r for r in report["ucr"] if r["method"] == "exact"]
        check(len(exact_rows) >= 20, f"bench: {len(exact_rows)} exact UCR rows")
        wrong = [
            (r["dataset"], r["metric"])
            for r in exact_rows
            if abs(r["error"] - r["published_error"]) > 1e-4
        ]
        check(not wrong, "bench: exact search reproduces every published error")
        words = {r["method"]: r for r in report["words"]["results"]}
        check(words["exact"]["recall"] == 1.0, "bench: word vectors, exact recall 1")
        check((out / "ucr.csv").is_file() and (out / "words.csv").is_file(), "bench: CSV files")
    print("smoke test passed")


if __name__ == "__main__":
    main()
