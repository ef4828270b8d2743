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


def fenced_blocks(markdown: str, language: str) -> list[str]:
    """Every fenced block of `language` (```python, ```pycon), in order."""
    pattern = rf"^```{language}[^\n]*\n(.*?)^```"
    return re.findall(pattern, markdown, flags=re.MULTILINE | re.DOTALL)


def test_fenced_blocks_are_found():
    text = "x\n```python\na = 1\n```\n```bash\nls\n```\n```python title\nb = a + 1\n```\n"
    assert fenced_blocks(text, "python") == ["a = 1\n", "b = a + 1\n"]
    assert fenced_blocks(text, "pycon") == []


def test_readme_examples_run(tmp_path, monkeypatch):
    """The README's ```pycon sessions, in order, in one namespace, as doctests (their printed
    output must match), then its ```python blocks, in a scratch folder."""
    if not README.is_file():
        pytest.skip("no README.md")
    text = README.read_text(encoding="utf-8")
    sessions, blocks = fenced_blocks(text, "pycon"), fenced_blocks(text, "python")
    if not sessions and not blocks:
        pytest.skip("README.md has no examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    if sessions:
        test = doctest.DocTestParser().get_doctest(
            "\n".join(sessions), namespace, "README.md", str(README), 0
        )
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        runner.run(test, clear_globs=False)
        result = runner.summarize(verbose=False)
        assert result.failed == 0, f"{result.failed} of {result.attempted} README examples failed"
    for i, block in enumerate(blocks, 1):
        exec(compile(block, f"README.md python block {i}", "exec"), namespace)
