"""The main job, ``python -m nswg bench``, run briefly on the shipped data: its files, and its
numbers against exact search computed here independently."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from nswg import datasets
from nswg.metrics import dtw

DATASETS = ["CBF", "Trace"]


def run(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nswg", "bench", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    done = run(
        "--datasets", ",".join(DATASETS),
        "--sweep", "1:1,8:2",
        "--word-queries", "200",
        "--word-sweep", "16,48",
        "--no-progress",
        "--out", str(out),
        cwd=out,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def one_nn_error(X, y, Xt, yt, distance) -> float:
    """1-NN error by brute force in numpy (first index wins ties), the oracle of the table."""
    wrong = 0
    for q, label in zip(Xt, yt):
        d = np.array([distance(q, x) for x in X])
        wrong += y[int(np.argmin(d))] != label
    return wrong / len(Xt)


def test_writes_every_output(short_run):
    out, stdout = short_run
    for name in ["ucr.csv", "words.csv", "results.json"]:
        assert (out / name).stat().st_size > 0
    pytest.importorskip("matplotlib")
    for name in ["ucr_error_vs_distances.png", "words_recall_vs_distances.png"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "results.json").read_text())
    assert {r["dataset"] for r in report["ucr"]} == set(DATASETS)
    for name in DATASETS:
        assert name in stdout


@pytest.mark.parametrize("name", DATASETS)
def test_ucr_rows_match_exact_search_done_here(short_run, name):
    out, stdout = short_run
    rows = [r for r in read_csv(out / "ucr.csv") if r["dataset"] == name]
    X, y, Xt, yt = datasets.load_ucr(name)
    summary = datasets.ucr_summary()[name]
    radius = summary.radius(X.shape[1])
    oracle = {
        "euclidean": one_nn_error(X, y, Xt, yt, lambda a, b: float(np.sum((a - b) ** 2))),
        "dtw": one_nn_error(X, y, Xt, yt, lambda a, b: dtw(a, b, radius=radius)),
    }
    published = {"euclidean": summary.ed_error, "dtw": summary.dtw_error}
    for metric in ["euclidean", "dtw"]:
        lines = [r for r in rows if r["metric"] == metric]
        exact = next(r for r in lines if r["method"] == "exact")
        assert float(exact["error"]) == pytest.approx(oracle[metric], abs=1e-9)
        assert float(exact["published_error"]) == published[metric]
        assert f"{oracle[metric]:.4f}" in stdout
        graph = [r for r in lines if r["method"] == "graph"]
        assert [(r["ef"], r["n_searches"]) for r in graph] == [("1", "1"), ("8", "2")]
        for r in graph:
            assert float(r["error"]) >= 0.0
            cost = float(r["mean_distance_computations"])
            assert 0 < cost <= len(X)
            assert float(r["percent_of_brute_force"]) == pytest.approx(100 * cost / len(X))
            assert float(r["seconds"]) > 0
        if metric == "euclidean":
            assert float(exact["mean_distance_computations"]) == len(X)


def test_word_rows(short_run):
    out, _ = short_run
    rows = read_csv(out / "words.csv")
    exact = next(r for r in rows if r["method"] == "exact")
    assert float(exact["recall"]) == 1.0
    n = float(exact["mean_distance_computations"])
    graph = [r for r in rows if r["method"] == "graph"]
    assert [r["ef"] for r in graph] == ["16", "48"]
    recalls = [float(r["recall"]) for r in graph]
    costs = [float(r["mean_distance_computations"]) for r in graph]
    # The shipped words at the default ef reach recall@10 >= 0.95 for a small share of the cost.
    assert recalls[1] >= 0.95 and costs[1] < 0.2 * n
    assert costs[0] < costs[1]


def test_unknown_dataset_lists_the_available_ones(tmp_path):
    done = run("--datasets", "NoSuchSet", "--words", "none", "--out", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert "NoSuchSet" in done.stderr and "Crop" in done.stderr
    assert "Traceback" not in done.stderr


def test_help(tmp_path):
    done = run("--help", cwd=tmp_path)
    assert done.returncode == 0 and "--ucr-root" in done.stdout
