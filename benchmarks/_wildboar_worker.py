"""wildboar's pruned 1-NN, timed in an interpreter of its own: wildboar 1.2.1 needs
scikit-learn < 1.6, which nswg's estimators do not run on, so ``dtw_pruning.py`` starts this
script with ``--wildboar-python`` and talks to it over stdin and stdout, one JSON line each way.

Each request names the training and test series (``.npy`` files of float64) and wildboar's ``r``;
the reply gives the seconds of ``argmin_distance`` alone and the index of each test series'
nearest training series.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np


def main() -> int:
    warnings.simplefilter("ignore")
    import sklearn
    import wildboar
    from wildboar.distance import argmin_distance

    versions = {"wildboar": wildboar.__version__, "scikit-learn": sklearn.__version__}
    print(json.dumps({"ready": versions}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        X, Xt = np.load(job["train"]), np.load(job["test"])
        start = time.perf_counter()
        ids = argmin_distance(Xt, X, k=1, metric="dtw", metric_params={"r": job["r"]}, n_jobs=1)
        seconds = time.perf_counter() - start
        print(json.dumps({"seconds": seconds, "ids": np.asarray(ids)[:, 0].tolist()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
