"""Keeping and growing an index of GloVe words: save and load cost, then recall after additions
and removals.

``--queries`` words chosen at random (seeded) are held out of the index and used as queries
(cosine, k=10, default search). The index is built with the default parameters over the other
words; then:

- it is saved and loaded: the time of each, the file size against the size of the raw float32
  vectors, and the time of reading the file's bytes into memory (the floor a loader can reach;
  the page cache is warm for both);
- recall@10 against exact search, for the full build, for a build over 80% of the words with
  the last 20% added afterwards (``Index.add``), and for the full build with 10% and 50% of the
  words removed (``Index.remove``, then against exact search over the words kept) and after
  ``compact()``.

Run from the repository root::

    python benchmarks/keep_grow.py                       # full GloVe 400k: ~15 minutes
    python benchmarks/keep_grow.py --default             # the shipped 10k words: seconds
"""

from __future__ import annotations

import argparse
import copy
import os
import tempfile
from pathlib import Path

import numpy as np

from nswg import Index
from nswg.bench import measure_seconds
from nswg.metrics import recall_at_k
from nswg.words import load_default_word_vectors, load_word_vectors

GLOVE = Path(__file__).resolve().parents[2] / "shared/data/wordvec/glove.6B.50d.float32.npy"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vectors", type=Path, default=GLOVE, help="word vectors to index")
    parser.add_argument("--default", action="store_true", help="use the shipped 10k words")
    parser.add_argument("--queries", type=int, default=1000, help="words held out as queries")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out words")
    args = parser.parse_args()
    if args.default:
        _, vectors = load_default_word_vectors()
    else:
        _, vectors = load_word_vectors(args.vectors)
    held_out = np.random.default_rng(args.seed).permutation(len(vectors))
    queries, base = vectors[held_out[: args.queries]], vectors[held_out[args.queries :]]
    print(f"{len(base)} words of {base.shape[1]} dimensions indexed, {len(queries)} queries")

    def recall(index: Index) -> float:
        truth = index.search(queries, k=10, exact=True).distances
        return recall_at_k(index.search(queries, k=10).distances, truth)

    full, seconds = measure_seconds(lambda: Index.build(base, metric="cosine"))
    print(f"build: {seconds:.1f} s")
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as folder:
        path = Path(folder) / "words.nswg"
        _, save = measure_seconds(lambda: full.save(path))
        size = os.path.getsize(path)
        raw = base.astype(np.float32).nbytes
        print(f"save: {save:.2f} s, file {size / 1e6:.1f} MB, raw vectors {raw / 1e6:.1f} MB")
        for _ in range(3):
            _, read = measure_seconds(path.read_bytes)
            loaded, load = measure_seconds(lambda: Index.load(path))
            print(f"load: {load:.3f} s; reading the file's bytes: {read:.3f} s")
    same = full.search(queries, k=10).ids == loaded.search(queries, k=10).ids
    print(f"the loaded index answers alike: {bool(same.all())}")

    print(f"recall@10, full build: {recall(full):.4f}")
    split = len(base) * 4 // 5
    grown = Index.build(base[:split], metric="cosine")
    grown.add(base[split:])
    print(f"recall@10, 80% built then 20% added: {recall(grown):.4f}")
    for fraction in (0.1, 0.5):
        index = copy.deepcopy(full)
        removed = np.random.default_rng(args.seed + 1).permutation(len(base))
        index.remove(removed[: int(fraction * len(base))])
        print(f"recall@10, {fraction:.0%} removed: {recall(index):.4f}", end="")
        index.compact()
        print(f"; after compact(): {recall(index):.4f}")


if __name__ == "__main__":
    main()
