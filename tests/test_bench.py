"""The main job, ``python -m nswg bench``, run briefly on the shipped data: its files, and its
numbers against exact search computed here independently."""

from __future__ import annotations

import csv
import gzip
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from nswg import bench, datasets
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
    assert all(float(r["mean_code_distance_computations"]) == 0 for r in rows)


@pytest.mark.parametrize("quantization", ["sq8", "rabitq4"])
def test_word_rows_on_codes(tmp_path, quantization):
    done = run(
        "--datasets", "none", "--quantization", quantization.upper(),
        "--word-queries", "200", "--word-sweep", "16,48",
        "--no-plot", "--no-progress", "--out", str(tmp_path),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"graph search on {quantization} codes" in done.stdout
    assert json.loads((tmp_path / "results.json").read_text())["words"]["quantization"] == (
        quantization
    )
    rows = read_csv(tmp_path / "words.csv")
    exact = next(r for r in rows if r["method"] == "exact")
    # Exact search never reads the codes; the graph search walks on them and re-ranks
    # max(k, ef) points exactly.
    assert float(exact["recall"]) == 1.0 and float(exact["mean_code_distance_computations"]) == 0
    graph = [r for r in rows if r["method"] == "graph"]
    for r in graph:
        assert float(r["mean_distance_computations"]) <= int(r["ef"])
        assert float(r["mean_code_distance_computations"]) > int(r["ef"])
    assert float(graph[1]["recall"]) >= 0.95


def test_unknown_dataset_lists_the_available_ones(tmp_path):
    done = run("--datasets", "NoSuchSet", "--words", "none", "--out", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert "NoSuchSet" in done.stderr and "Crop" in done.stderr
    assert "Traceback" not in done.stderr


def test_help(tmp_path):
    done = run("--help", cwd=tmp_path)
    assert done.returncode == 0 and "--ucr-root" in done.stdout


# --- options checked first, results kept as they come ------------------------------------------


def bad_options(tmp_path):
    """(arguments, the option the message must name): each wrong before the first task."""
    npy = tmp_path / "alone.npy"
    np.save(npy, np.ones((50, 4), np.float32))  # no vocabulary beside it
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("a 1 2 3\nb 1 2\n")
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("a 1 2\nb 3 4\nc 5 6\n")
    truncated = tmp_path / "cut.txt.gz"
    truncated.write_bytes(gzip.compress(b"".join(b"w%d 1 2 3\n" % i for i in range(500)))[:-30])
    a_file = tmp_path / "a file"
    a_file.write_text("not a folder")
    return [
        (["--words", str(npy)], "--words"),
        (["--words", str(tmp_path / "missing.txt")], "--words"),
        (["--words", str(ragged)], "--words"),
        (["--words", str(tiny)], "--words"),
        (["--words", str(truncated)], "--words"),
        (["--word-queries", "0"], "--word-queries"),
        (["--word-queries", "-3"], "--word-queries"),
        (["--seed", "-1"], "--seed"),
        (["--max-test", "-1"], "--max-test"),
        (["--max-test", "0"], "--max-test"),
        (["--threads", "100000"], "--threads"),
        (["--out", str(a_file)], "--out"),
        (["--ucr-root", str(tmp_path / "no archive")], "--ucr-root"),
        (["--metrics", "euclidean,manhattan"], "--metrics"),
        (["--sweep", "8:0"], "--sweep"),
        (["--word-sweep", "x"], "--word-sweep"),
        (["--quantization", "sq4"], "--quantization"),
        (["--datasets", "CBF,Nope"], "--datasets"),
    ]


def test_every_option_and_input_is_checked_before_the_first_task(tmp_path):
    out = tmp_path / "out"
    for arguments, option in bad_options(tmp_path):
        # CBF first: a late check would run it (and, on an archive, hours of others) first.
        args = ["--datasets", "CBF", "--no-plot", "--no-progress", "--out", str(out), *arguments]
        done = run(*args, cwd=tmp_path)
        assert done.returncode == 2, (arguments, done.stderr)
        assert f"nswg bench: {option}: " in done.stderr, (arguments, done.stderr)
        assert "Traceback" not in done.stderr
        assert not (out / "ucr.csv").exists(), arguments


def write_toy_archive(root, names, bad=()):
    """Small UCR datasets; those in ``bad`` hold a value that is not a number in their test
    file, so they fail when loaded, after the check of their files."""
    rng = np.random.default_rng(0)
    for name in names:
        folder = root / name
        folder.mkdir(parents=True)
        for split in ("TRAIN", "TEST"):
            lines = [
                "\t".join([str(i % 2 + 1), *map(str, rng.normal(size=24) + i % 2)])
                for i in range(30)
            ]
            if name in bad and split == "TEST":
                lines[5] += "\toops"
            (folder / f"{name}_{split}.tsv").write_text("\n".join(lines) + "\n")


def test_a_failing_dataset_is_reported_and_the_others_still_run(tmp_path):
    write_toy_archive(tmp_path / "ucr", ["Alpha", "Beta", "Gamma"], bad={"Beta"})
    out = tmp_path / "out"
    done = run(
        "--ucr-root", str(tmp_path / "ucr"), "--metrics", "euclidean", "--words", "none",
        "--sweep", "4:1", "--no-plot", "--no-progress", "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Beta under euclidean failed" in done.stderr and "oops" in done.stderr
    rows = read_csv(out / "ucr.csv")
    assert sorted({r["dataset"] for r in rows}) == ["Alpha", "Gamma"]
    report = json.loads((out / "results.json").read_text())
    assert report["complete"] is True
    assert [(f["dataset"], f["metric"]) for f in report["failures"]] == [("Beta", "euclidean")]
    assert {r["dataset"] for r in report["ucr"]} == {"Alpha", "Gamma"}


def start_long_run(tmp_path):
    """A run whose first dataset (CBF, both metrics) is done in about a second and whose second
    (Crop, 7200 x 16800) takes several more."""
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "nswg", "bench", "--datasets", "CBF,Crop", "--words", "none",
         "--no-plot", "--no-progress", "--out", str(out)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        # results.json is rewritten after ucr.csv has the task's rows: poll the later one.
        json_file = out / "results.json"
        report = json.loads(json_file.read_text()) if json_file.exists() else {}
        done = {(r["dataset"], r["metric"]) for r in report.get("ucr", [])}
        if done == {("CBF", "euclidean"), ("CBF", "dtw")}:
            return child, out
        assert child.poll() is None, child.communicate()
        time.sleep(0.02)
    child.kill()
    pytest.fail("CBF did not finish in time")


def assert_cbf_kept(out):
    rows = read_csv(out / "ucr.csv")
    cbf = [r for r in rows if r["dataset"] == "CBF"]
    assert len(cbf) == 2 * (1 + len(bench.UCR_SWEEP))  # exact and the sweep, two metrics
    assert all(r["dataset"] in ("CBF", "Crop") for r in rows)
    report = json.loads((out / "results.json").read_text())  # whole, never half written
    assert report["complete"] is False
    assert {(r["dataset"], r["metric"]) for r in report["ucr"]} >= {
        ("CBF", "euclidean"),
        ("CBF", "dtw"),
    }
    assert float(next(r for r in cbf if r["method"] == "exact")["error"]) >= 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_run_killed_midway_keeps_what_it_finished(tmp_path):
    child, out = start_long_run(tmp_path)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert_cbf_kept(out)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_keeps_what_is_done_and_exits_130(tmp_path):
    child, out = start_long_run(tmp_path)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=120)
    assert child.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert "CBF" in stdout  # the table of what was done
    assert_cbf_kept(out)
