"""Files saved by an earlier release load and answer exactly as that release answered.

``tests/previous_release/`` holds index files written by nswg 0.1.0 and that release's answers
(``make.py`` wrote them); the data are regenerated here as ``make.py`` generated them.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import nswg

FOLDER = Path(__file__).resolve().parent / "previous_release"
SPEC = importlib.util.spec_from_file_location("previous_release_make", FOLDER / "make.py")
assert SPEC is not None and SPEC.loader is not None
MAKE = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(MAKE)
EXPECTED = json.loads((FOLDER / "answers.json").read_text())


@pytest.mark.parametrize("name", list(MAKE.CASES))
def test_a_file_of_the_previous_release_answers_as_it_did(name):
    _, queries = MAKE.data()
    index = nswg.Index.load(FOLDER / f"{name}.nswg")
    want = EXPECTED[name]
    assert repr(index) == want["repr"]
    for mode, exact in (("exact", True), ("graph", False)):
        if want[mode] is None:
            assert not index.has_graph
            continue
        got = MAKE.answers(index, queries, exact=exact)
        assert got["ids"] == want[mode]["ids"], mode
        np.testing.assert_array_equal(got["distances"], want[mode]["distances"])
        assert got["n_distance_computations"] == want[mode]["n_distance_computations"], mode


def test_the_files_are_of_the_previous_release():
    assert EXPECTED["version"] == "0.1.0"
    assert len(list(FOLDER.glob("*.nswg"))) == len(MAKE.CASES)
