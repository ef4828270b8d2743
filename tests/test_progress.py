"""Progress reports and Ctrl-C during long builds, adds and compactions."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from nswg import Index

#: Run in a subprocess: a build and an add, each interrupted by SIGINT from the test, then a
#: small build and search to show the process is still usable. It prints what it saw as JSON.
INTERRUPTED = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    from nswg import Index

    X = np.random.default_rng(0).normal(size=(300_000, 32)).astype(np.float32)
    report = {}
    for step in ("build", "add"):
        seen = []
        index = Index.build(X[:2000], seed=1)
        print(step, flush=True)  # the test sends SIGINT about a second after this line
        try:
            if step == "build":
                Index.build(X, n_threads=1, progress=lambda d, t: seen.append((d, t)))
            else:
                index.add(X[2000:], n_threads=1, progress=lambda d, t: seen.append((d, t)))
        except KeyboardInterrupt:
            report[step] = {"stopped": time.monotonic(), "seen": seen[-1] if seen else None}
        else:
            sys.exit(f"{step} was not interrupted")
        if step == "add":
            report["len after add"] = len(index)
            report["n_ids after add"] = index.n_ids
    small = Index.build(X[:1000])
    report["found itself"] = int(small.search(X[7], k=1).ids[0]) == 7
    print(json.dumps(report), flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")
def test_ctrl_c_stops_a_build_and_an_add_promptly_and_the_process_goes_on():
    import json

    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    sent = {}
    try:
        for step in ("build", "add"):
            assert child.stdout.readline().strip() == step
            time.sleep(1.0)
            sent[step] = time.monotonic()
            child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    for step in ("build", "add"):
        reaction = report[step]["stopped"] - sent[step]
        assert 0 <= reaction < 1.5, f"{step}: KeyboardInterrupt {reaction:.2f} s after SIGINT"
        done, total = report[step]["seen"]
        # On one thread (so on any machine) a full build of these 300,000 points takes minutes:
        # a prompt stop has linked a small part of them.
        assert 0 < done < total / 2, (step, done, total)
    assert report["len after add"] == 2000 and report["n_ids after add"] == 2000
    assert report["found itself"]


def monotone_to_the_end(seen: list[tuple[int, int]], total: int) -> None:
    assert seen, "progress was never called"
    assert all(t == total for _, t in seen)
    done = [d for d, _ in seen]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert done[-1] == total


def test_the_progress_callable_counts_up_to_the_total(rng):
    X = rng.normal(size=(60_000, 16)).astype(np.float32)
    seen: list[tuple[int, int]] = []
    index = Index.build(X[:50_000], progress=lambda done, total: seen.append((done, total)))
    monotone_to_the_end(seen, 50_000)
    seen.clear()
    index.add(X[50_000:], progress=lambda done, total: seen.append((done, total)))
    monotone_to_the_end(seen, 10_000)
    index.remove(np.arange(0, 60_000, 2))
    seen.clear()
    index.compact(progress=lambda done, total: seen.append((done, total)))
    monotone_to_the_end(seen, 30_000)


def test_an_exception_in_the_progress_callable_stops_the_call_and_changes_nothing(rng):
    X = rng.normal(size=(40_000, 16)).astype(np.float32)

    def fail(done: int, total: int) -> None:
        raise RuntimeError(f"stop at {done} of {total}")

    with pytest.raises(RuntimeError, match="stop at"):
        Index.build(X, progress=fail)
    index = Index.build(X[:2000])
    want = index.search(X[:50], k=5)
    with pytest.raises(RuntimeError, match="stop at"):
        index.add(X[2000:], progress=fail)
    assert len(index) == index.n_ids == 2000
    got = index.search(X[:50], k=5)
    np.testing.assert_array_equal(got.ids, want.ids)


def test_a_bar_only_when_asked_or_on_a_terminal_for_a_long_build(rng, capsys):
    X = rng.normal(size=(3000, 8))
    Index.build(X)  # small, and stderr is not a terminal here
    Index.build(X, progress=False)
    assert capsys.readouterr().err == ""
    Index.build(X, progress=True)
    assert "building" in capsys.readouterr().err


def test_a_bad_progress_is_a_type_error(rng):
    with pytest.raises(TypeError, match="progress must be"):
        Index.build(rng.normal(size=(10, 2)), progress="yes")
