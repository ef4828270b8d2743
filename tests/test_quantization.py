"""Quantized indexes (``quantization="sq8"`` or ``"rabitq4"``): the graph walk estimates
distances from 8-bit or 4-bit codes, then re-ranks the points it found with exact float32
distances.

Recall floors are stated on real data against exact search; every returned distance is exact;
codes follow the index through saving, adding, removing and compacting.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import nswg
from nswg import Index, datasets
from nswg.metrics import recall_at_k
from nswg.words import load_default_word_vectors

K = 10
CODES = ("sq8", "rabitq4")
each_code = pytest.mark.parametrize("quantization", CODES)


def check_recall(
    X: np.ndarray, Q: np.ndarray, metric: str, ef: int, floor: float, quantization: str
) -> None:
    """The graph search on codes meets ``floor`` at ``ef``, and returns exact distances."""
    index = Index.build(X, metric, quantization=quantization, seed=3)
    plain = Index.build(X, metric, seed=3)
    truth = plain.search(Q, k=K, exact=True)
    found = index.search(Q, k=K, ef=ef)
    recall = recall_at_k(found.distances, truth.distances)
    plain_recall = recall_at_k(plain.search(Q, k=K, ef=ef).distances, truth.distances)
    print(f"{metric} ef={ef}: {quantization} recall@{K} {recall:.4f}, float32 {plain_recall:.4f}")
    assert recall >= floor, (recall, plain_recall)
    # The codes cost little recall at equal ef: the re-ranking repairs most of their errors.
    assert recall >= plain_recall - 0.01, (recall, plain_recall)
    # Exact search never reads the codes.
    exact = index.search(Q, k=K, exact=True)
    np.testing.assert_array_equal(exact.ids, truth.ids)
    assert (exact.n_code_distance_computations == 0).all()
    # Walk counted in codes, exact distances for the re-ranking of max(k, ef) only.
    assert (found.n_distance_computations <= max(K, ef)).all()
    assert (found.n_code_distance_computations > found.n_distance_computations).all()
    assert_exact_distances(X, Q, found, metric)


def assert_exact_distances(X: np.ndarray, Q: np.ndarray, found, metric: str) -> None:
    X64, Q64 = X.astype(np.float64), Q.astype(np.float64)
    if metric == "cosine":
        X64 /= np.linalg.norm(X64, axis=1, keepdims=True)
        Q64 /= np.linalg.norm(Q64, axis=1, keepdims=True)
    squared = ((X64[found.ids] - Q64[:, None, :]) ** 2).sum(axis=2)
    want = squared / 2 if metric == "cosine" else np.sqrt(squared)
    np.testing.assert_allclose(found.distances, want, rtol=1e-4, atol=1e-5)
    assert (np.diff(found.distances, axis=1) >= 0).all()


@each_code
def test_recall_on_the_shipped_words(quantization: str) -> None:
    _, words = load_default_word_vectors()
    check_recall(words[:9000], words[9000:], "cosine", 64, 0.985, quantization)


@each_code
def test_recall_on_shipped_series_as_vectors(quantization: str) -> None:
    X, _, Q, _ = datasets.load_ucr("Crop")
    check_recall(X, Q[:2000], "euclidean", 48, 0.985, quantization)


@each_code
def test_recall_on_glove(shared_data: Path, quantization: str) -> None:
    words = np.load(shared_data / "wordvec" / "glove.6B.50d.float32.npy", mmap_mode="r")
    X = np.asarray(words[:50_000], dtype=np.float32)
    check_recall(X[:-1000], X[-1000:], "cosine", 96, 0.98, quantization)


@each_code
def test_recall_on_long_ucr_series(shared_data: Path, quantization: str) -> None:
    # FordA: 500 values a series; train as the index, test as the queries.
    X, _, Q, _ = datasets.load_ucr("FordA", shared_data / "ucr" / "UCRArchive_2018")
    check_recall(X, Q[:500], "euclidean", 96, 0.98, quantization)


@pytest.fixture(params=CODES)
def words_index(request: pytest.FixtureRequest) -> tuple[Index, np.ndarray]:
    _, words = load_default_word_vectors()
    index = Index.build(words[:4000], "cosine", quantization=request.param, seed=1)
    return index, words[4000:4300]


def test_quantization_is_reported(words_index: tuple[Index, np.ndarray]) -> None:
    index, _ = words_index
    assert nswg.QUANTIZATIONS == (None, "sq8", "rabitq4")
    assert index.quantization in CODES and Index.build(np.eye(3)).quantization is None
    assert f"quantization={index.quantization!r}" in repr(index)


def test_nbytes_counts_rows_codes_and_lists(words_index: tuple[Index, np.ndarray]) -> None:
    index, _ = words_index
    plain = Index.build(load_default_word_vectors()[1][:4000], "cosine", seed=1)
    n, d = 4000, index.dim
    if index.quantization == "sq8":
        # d = 50: codes padded by 14 bytes at the end to a whole block of 64, steps by 6 values
        # to whole blocks of 8.
        codes = n * d + 14 + 4 * (d + 56)
    else:
        # 50 levels in a group of 64, half a byte each, and two f32 factors per row; the centre
        # and the 4 rounds of the rotation's signs.
        codes = n * (32 + 8) + 4 * (d + 4 * d)
    assert index.nbytes - plain.nbytes == codes
    assert plain.nbytes >= 4 * n * d + 4 * n * plain.max_degree


def test_save_load_and_pickle_keep_codes_and_answers(
    words_index: tuple[Index, np.ndarray], tmp_path: Path
) -> None:
    index, Q = words_index
    path = tmp_path / "coded.nswg"
    index.save(path)
    before = index.search(Q, k=K, ef=32)
    for back in (Index.load(path), pickle.loads(pickle.dumps(index))):
        assert back.quantization == index.quantization and back.nbytes == index.nbytes
        after = back.search(Q, k=K, ef=32)
        np.testing.assert_array_equal(after.ids, before.ids)
        np.testing.assert_array_equal(after.distances, before.distances)
        np.testing.assert_array_equal(
            after.n_code_distance_computations, before.n_code_distance_computations
        )
    assert path.read_bytes() == index._core.to_bytes()


@each_code
def test_add_remove_compact_keep_codes_in_step(quantization: str) -> None:
    _, words = load_default_word_vectors()
    index = Index.build(words[:3000], "cosine", quantization=quantization, seed=2)
    first = index.add(words[3000:6000], progress=False)
    assert first[0] == 3000 and index.nbytes > 0
    Q = words[6000:6300]
    # An added row is found at distance 0 through its code.
    hit = index.search(words[4500], k=1)
    assert hit.ids[0] == 4500 and hit.distances[0] == pytest.approx(0, abs=1e-6)
    removed = np.arange(0, 6000, 3)
    index.remove(removed)
    found = index.search(Q, k=K)
    assert not np.isin(found.ids, removed).any()
    truth = index.search(Q, k=K, exact=True)
    assert recall_at_k(found.distances, truth.distances) >= 0.95
    nbytes = index.nbytes
    old = index.compact(progress=False)
    assert index.nbytes < nbytes and len(old) == 4000
    found = index.search(Q, k=K)
    truth = index.search(Q, k=K, exact=True)
    assert recall_at_k(found.distances, truth.distances) >= 0.95
    assert_exact_distances(words[old], Q, found, "cosine")


@pytest.mark.parametrize(
    ("quantization", "metric", "error", "match"),
    [
        ("sq4", "euclidean", ValueError, "unknown quantization 'sq4'.*None, 'sq8'"),
        (8, "euclidean", TypeError, "quantization must be one of"),
        ("sq8", "dtw", ValueError, "not available under metric='dtw'"),
    ],
)
def test_bad_quantization_is_refused(quantization, metric, error, match) -> None:
    with pytest.raises(error, match=match):
        Index.build(np.eye(4), metric, quantization=quantization)


def test_spelling_is_forgiven_as_for_metrics() -> None:
    assert Index.build(np.eye(4) + 1, quantization=" SQ8 ").quantization == "sq8"


@each_code
def test_the_estimators_walk_on_codes_when_asked(quantization: str) -> None:
    pytest.importorskip("sklearn")
    from nswg.neighbors import KNeighborsClassifier, NearestNeighbors

    _, X = load_default_word_vectors(limit=5000)
    train, queries = X[:-200], X[-200:]
    nn = NearestNeighbors(n_neighbors=K, metric="cosine", quantization=quantization).fit(train)
    assert nn._index.quantization == quantization
    distances, _ = nn.kneighbors(queries)
    truth, _ = (
        NearestNeighbors(n_neighbors=K, metric="cosine", exact=True).fit(train).kneighbors(queries)
    )
    assert recall_at_k(distances, truth, rtol=1e-4) >= 0.95
    # An exact fit keeps no codes; a later graph search builds them with the graph.
    exact = NearestNeighbors(metric="cosine", exact=True, quantization=quantization).fit(train)
    assert exact._index.quantization is None
    exact.set_params(exact=False).kneighbors(queries[:2])
    assert exact._index.quantization == quantization
    series, labels, _, _ = datasets.load_ucr("GunPoint")
    with pytest.raises(ValueError, match="not available under metric=.dtw."):
        KNeighborsClassifier(metric="dtw", quantization=quantization).fit(series, labels)
