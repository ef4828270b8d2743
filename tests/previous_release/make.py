"""Writes the index files of `test_previous_release.py` with the nswg installed, and the answers
that release gives, for later releases to match.

Run once with the release whose files are kept (here 0.1.0, commit 0eef068), from this folder:
``python make.py``. The data are generated, so only the index files and answers are stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import nswg

HERE = Path(__file__).resolve().parent

#: name -> (metric, Index.build options, whether points 3 and 77 are removed)
CASES: dict[str, tuple[str, dict[str, object], bool]] = {
    "euclidean": ("euclidean", {}, True),
    "cosine": ("cosine", {"n_neighbors": 8}, False),
    "dtw_radius_2": ("dtw", {"radius": 2}, True),
    "dtw_full": ("dtw", {}, False),
    "no_graph": ("euclidean", {"graph": False}, True),
}


def data() -> tuple[np.ndarray, np.ndarray]:
    """Random walks: 300 rows to index, 20 queries, 24 values each."""
    rng = np.random.default_rng(20261203)
    walks = rng.normal(size=(320, 24)).cumsum(axis=1).astype(np.float32)
    return walks[:300], walks[300:]


def answers(index: nswg.Index, queries: np.ndarray, exact: bool) -> dict[str, list]:
    res = index.search(queries, k=5, ef=16, exact=exact)
    return {
        "ids": res.ids.tolist(),
        "distances": res.distances.tolist(),
        "n_distance_computations": np.asarray(res.n_distance_computations).tolist(),
    }


def main() -> None:
    X, queries = data()
    expected: dict[str, object] = {"version": nswg.__version__}
    for name, (metric, options, remove) in CASES.items():
        index = nswg.Index.build(X, metric=metric, **options)
        if remove:
            index.remove([3, 77])
        index.save(HERE / f"{name}.nswg")
        expected[name] = {
            "exact": answers(index, queries, exact=True),
            "graph": answers(index, queries, exact=False) if index.has_graph else None,
            "repr": repr(index),
        }
    (HERE / "answers.json").write_text(json.dumps(expected) + "\n")


if __name__ == "__main__":
    main()
