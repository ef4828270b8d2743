"""Stable 64-bit labels: every result carries them, and they survive removal, growth,
compaction, saving and loading and pickle."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from nswg import NO_ID, Index
from nswg.datasets import load_ucr
from nswg.words import load_default_word_vectors

BIG = 2**63 + 12345  # beyond int64: labels are uint64


@pytest.fixture
def words():
    return load_default_word_vectors(limit=2000)[1]


def test_results_carry_labels_through_every_operation(words, tmp_path):
    X = words
    labels = BIG + 3 * np.arange(1500, dtype=np.uint64)
    index = Index.build(X[:1500], "cosine", ids=labels)
    assert index.labels.dtype == np.uint64
    np.testing.assert_array_equal(index.labels, labels)
    truth = Index.build(X, "cosine", graph=False)

    res = index.search(X[:50], k=5)
    assert res.ids.dtype == np.uint64
    np.testing.assert_array_equal(res.ids[:, 0], labels[:50])
    np.testing.assert_array_equal(index.get_vectors(labels[[4, 2]]), truth.get_vectors([4, 2]))

    new = np.arange(500, dtype=np.uint64) * 7 + 1
    np.testing.assert_array_equal(index.add(X[1500:], ids=new), new)
    assert index.search(X[1700], k=1, exact=True).ids.tolist() == [new[200]]

    index.remove([labels[0], new[0]])
    res = index.search(X[:1], k=3, exact=True)
    assert labels[0] not in res.ids

    kept = index.compact()
    assert kept.dtype == np.uint64
    np.testing.assert_array_equal(kept, index.labels)
    assert labels[0] not in index.labels and len(index.labels) == 1998
    after = index.search(X[1:40], k=5, exact=True)
    np.testing.assert_array_equal(after.ids[:, 0], labels[1:40])

    index.save(tmp_path / "labelled.nswg")
    for other in (
        Index.load(tmp_path / "labelled.nswg"),
        pickle.loads(pickle.dumps(index)),
        copy.deepcopy(index),
    ):
        np.testing.assert_array_equal(other.labels, index.labels)
        back = other.search(X[1:40], k=5, exact=True)
        np.testing.assert_array_equal(back.ids, after.ids)
        np.testing.assert_array_equal(other.search(X[:40], k=5).ids, index.search(X[:40], k=5).ids)

    radius = index.search_radius(X[5], 0.2, exact=True)
    assert radius.ids.dtype == np.uint64 and labels[5] in radius.ids


def test_labels_on_time_series_under_dtw():
    X, _, Xt, _ = load_ucr("GunPoint")
    labels = np.arange(len(X), dtype=np.uint64)[::-1] * 1000
    index = Index.build(X, "dtw", radius=3, ids=labels)
    plain = Index.build(X, "dtw", radius=3)
    a = index.search(Xt[:10], k=3, exact=True)
    b = plain.search(Xt[:10], k=3, exact=True)
    np.testing.assert_array_equal(a.ids, labels[b.ids])
    np.testing.assert_array_equal(a.distances, b.distances)


def test_an_index_without_labels_keeps_row_numbers(words):
    index = Index.build(words[:100])
    assert index.labels.dtype == np.int64 and index.labels.tolist() == list(range(100))
    assert index.search(words[0], k=1).ids.dtype == np.int64
    # Given ids later, its points keep their row numbers as labels.
    assert index.add(words[100:102], ids=[10**6, 10**6 + 1]).tolist() == [10**6, 10**6 + 1]
    assert index.labels.dtype == np.uint64
    assert index.labels[:3].tolist() == [0, 1, 2] and index.labels[100] == 10**6
    assert index.search(words[101], k=1, exact=True).ids.tolist() == [10**6 + 1]


@pytest.mark.parametrize(
    ("ids", "error", "match"),
    [
        ([1, 2, 2], ValueError, "2 repeats"),
        ([1, 2], ValueError, "one id per row"),
        ([[1, 2, 3]], ValueError, "one id per row"),
        ([1, 2, -3], ValueError, "negative"),
        ([1, 2, NO_ID], ValueError, "missing result"),
        ([1.0, 2.0, 3.0], TypeError, "integers"),
        (["a", "b", "c"], TypeError, "integers"),
    ],
)
def test_bad_labels_are_refused_before_building(words, ids, error, match):
    with pytest.raises(error, match=match):
        Index.build(words[:3], ids=ids)


def test_labels_in_use_are_refused_and_nothing_changes(words):
    index = Index.build(words[:10], ids=np.arange(10) + 100)
    with pytest.raises(ValueError, match="pass the ids of the new rows"):
        index.add(words[10:12])
    with pytest.raises(ValueError, match="105 is given to another point"):
        index.add(words[10:12], ids=[200, 105])
    index.remove([104])
    with pytest.raises(ValueError, match="removed one keeps its id until compact"):
        index.add(words[10:11], ids=[104])
    assert index.n_ids == 10
    index.compact()
    index.add(words[10:11], ids=[104])
    with pytest.raises(ValueError, match="no point has id 3"):
        index.remove([3])
    with pytest.raises(ValueError, match="no point has id 3"):
        index.get_vectors([3])
    with pytest.raises(ValueError, match="no point has id 3"):
        index.search(words[0], k=1, filter=[3])
