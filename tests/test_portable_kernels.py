"""The portable kernels, forced with ``NSWG_SIMD=portable``, answer as the SIMD ones do: the
float32 distances, DTW, and the estimates from 8-bit and 4-bit codes that a quantized index
walks on.

A wheel for x86_64 runs on CPUs with and without AVX2: the core picks its kernels at run time.
The variable is read once per process, so each set of kernels runs in a child process of its
own, on the shipped data, and the parent compares what they found.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# Builds one index per metric and searches it, graph and exact, saving everything it found.
CHILD = """
import sys
import numpy as np
import nswg
from nswg import _core, datasets
from nswg.words import load_default_word_vectors

crop, _, crop_queries, _ = datasets.load_ucr("Crop")
trace, _, trace_queries, _ = datasets.load_ucr("Trace")
_, words = load_default_word_vectors()
cases = {
    "euclidean": (crop, crop_queries[:4000], {}),
    "dtw": (trace, trace_queries, {"metric": "dtw", "radius": 9}),
    "dtw_full": (trace[:40], trace_queries[:20], {"metric": "dtw"}),
    "cosine": (words[:9000], words[9000:], {"metric": "cosine"}),
    "euclidean_sq8": (crop, crop_queries[:4000], {"quantization": "sq8"}),
    "cosine_sq8": (words[:9000], words[9000:], {"metric": "cosine", "quantization": "sq8"}),
    "euclidean_rabitq4": (crop, crop_queries[:4000], {"quantization": "rabitq4"}),
    "cosine_rabitq4": (words[:9000], words[9000:], {"metric": "cosine", "quantization": "rabitq4"}),
}
found = {"features": np.array(_core.simd_features(), dtype=str)}
for name, (X, Q, options) in cases.items():
    index = nswg.Index.build(X, seed=7, **options)
    for exact in (False, True):
        result = index.search(Q, k=5, exact=exact)
        fields = ("ids", "distances", "n_distance_computations", "n_code_distance_computations")
        for field in fields:
            found[f"{name}/{exact}/{field}"] = getattr(result, field)
np.savez(sys.argv[1], **found)
"""


def cpu_has_avx2_fma() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx2" in flags and " fma" in flags


def run_child(path: Path, simd: str | None) -> dict[str, np.ndarray]:
    env = {k: v for k, v in os.environ.items() if k != "NSWG_SIMD"}
    if simd is not None:
        env["NSWG_SIMD"] = simd
    subprocess.run([sys.executable, "-c", CHILD, str(path)], env=env, check=True, timeout=600)
    with np.load(path) as found:
        return dict(found)


@pytest.mark.skipif(
    not cpu_has_avx2_fma(), reason="without AVX2 and FMA both runs use the portable kernels"
)
def test_portable_kernels_find_what_the_simd_kernels_find(tmp_path: Path) -> None:
    simd = run_child(tmp_path / "simd.npz", None)
    portable = run_child(tmp_path / "portable.npz", "portable")
    assert {"avx2", "fma"} <= set(simd.pop("features"))
    assert portable.pop("features").size == 0
    assert simd.keys() == portable.keys()
    for key, value in simd.items():
        if key.endswith("/distances") and not key.startswith("dtw"):
            # The AVX2 kernel fuses multiply and add and sums 16 lanes, the portable one 8: the
            # last bits of a float32 sum differ, and nothing else may.
            np.testing.assert_allclose(portable[key], value, rtol=1e-6, atol=1e-6, err_msg=key)
        else:
            # Ids and counts, and DTW's distances, whose SIMD cells are exact.
            np.testing.assert_array_equal(portable[key], value, err_msg=key)
