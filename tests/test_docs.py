"""Documentation that runs: the doctests of every module of the installed package, and the
Python blocks of README.md."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import nswg

README = Path(__file__).resolve().parents[1] / "README.md"

#: Modules not to import: ``__main__`` runs the command line.
NOT_IMPORTED = {"nswg.__main__"}
#: Optional dependencies a module may need; without them its doctests are skipped.
OPTIONAL = {"nswg.neighbors": "sklearn"}


def installed_modules() -> list[str]:
    names = ["nswg"]
    for info in pkgutil.walk_packages(nswg.__path__, prefix="nswg."):
        if info.name not in NOT_IMPORTED and not info.name.endswith("_core"):
            names.append(info.name)
    return sorted(names)


def test_the_package_under_test_is_the_installed_one():
    """The doctests need the compiled core, so they run on the installed package, not on the
    source tree (python/nswg has no _core)."""
    core = importlib.import_module("nswg._core")
    assert Path(core.__file__).parent == Path(nswg.__file__).parent
    assert "nswg.neighbors" in installed_modules()


@pytest.mark.parametrize("name", installed_modules())
def test_doctests(name, tmp_path, monkeypatch):
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    module = importlib.import_module(name)
    monkeypatch.chdir(tmp_path)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    # As doctest.testmod: each docstring runs in a copy of its module's globals.
    tests = finder.find(module, name)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def python_blocks(markdown: str) -> list[str]:
    """Every ```python fenced block, in order."""
    return re.findall(r"^```python[^\n]*\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL)


def test_python_blocks_are_found():
    text = "x\n```python\na = 1\n```\n```bash\nls\n```\n```python title\nb = a + 1\n```\n"
    assert python_blocks(text) == ["a = 1\n", "b = a + 1\n"]


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    """Every ```python block of README.md, in order, in one namespace, in a scratch folder."""
    if not README.is_file():
        pytest.skip("no README.md")
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip("README.md has no ```python blocks yet")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    for i, block in enumerate(blocks, 1):
        code = compile(block, f"README.md python block {i}", "exec")
        exec(code, namespace)
