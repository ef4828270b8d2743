"""Static types: ``mypy --strict`` on the package, and ``stubtest`` of ``_core.pyi`` against the
compiled module that is installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="mypy is not installed (pip install '.[test]')")

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "python"


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"


def test_mypy_strict_on_the_package():
    """The settings are ``[tool.mypy]`` in pyproject.toml (strict)."""
    if not (SOURCE / "nswg").is_dir():
        pytest.skip("no source tree")
    run(["mypy", "--config-file", str(ROOT / "pyproject.toml"), str(SOURCE / "nswg")], cwd=ROOT)


def test_stubtest_core(tmp_path):
    """The stub in the source tree against the compiled module of the installed package, with
    the project's mypy settings (which say, e.g., that tqdm ships no types)."""
    allowlist = ROOT / ".mypy-stubtest-allowlist"
    args = ["mypy.stubtest", "nswg._core", "--mypy-config-file", str(ROOT / "pyproject.toml")]
    if allowlist.is_file():
        args += ["--allowlist", str(allowlist)]
    env = {**os.environ, "MYPYPATH": str(SOURCE)}
    # From a scratch directory, so that the runtime module is the installed one.
    run(args, cwd=tmp_path, env=env)
