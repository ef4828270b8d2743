"""The scikit-learn estimators: sklearn's own checks, its tools, and tslearn as the oracle."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", minversion="1.6")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier as SkKNeighborsClassifier  # noqa: E402
from sklearn.neighbors import NearestNeighbors as SkNearestNeighbors  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from nswg.datasets import load_ucr, ucr_summary, ucr_window_radius  # noqa: E402
from nswg.neighbors import (  # noqa: E402
    KNeighborsClassifier,
    KNeighborsRegressor,
    KNeighborsTransformer,
    NearestNeighbors,
)

#: Estimators put through sklearn's checks: each metric, exact and graph search, both weights.
CHECKED = [
    KNeighborsClassifier(),
    KNeighborsClassifier(metric="dtw", window=0.1, weights="distance"),
    KNeighborsClassifier(metric="dtw", exact=True, n_jobs=1),
    KNeighborsClassifier(metric="cosine", n_neighbors=3),
    NearestNeighbors(),
    NearestNeighbors(metric="dtw", radius=2, exact=True),
    NearestNeighbors(metric="cosine"),
    KNeighborsTransformer(),
    KNeighborsTransformer(mode="connectivity", metric="dtw", exact=True),
    KNeighborsRegressor(),
    KNeighborsRegressor(metric="dtw", window=0.1, weights="distance"),
]

#: Checks that fail by design, with the reason, per estimator.
ZERO_VECTOR = (
    "cosine distance is undefined for a zero vector and nswg raises ValueError; the check's "
    "integer data (X * 3).astype(int) has all-zero rows"
)


def expected_failed_checks(estimator):
    if estimator.metric == "cosine":
        return {"check_estimators_dtypes": ZERO_VECTOR}
    return {}


#: Checks not run, with the reason, for every estimator. Every other check sklearn yields runs.
SKIPPED_CHECKS = {
    "check_array_api_input": (
        "the estimators hand numpy float32 arrays to the compiled core and do not claim array "
        "API support (tag array_api_support is False); sklearn runs this check only with "
        "SCIPY_ARRAY_API=1 and array-api-compat installed"
    ),
}


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    name = getattr(check, "func", check).__name__
    if name in SKIPPED_CHECKS:
        pytest.skip(SKIPPED_CHECKS[name])
    check(estimator)


def tslearn_neighbors():
    with warnings.catch_warnings():
        # tslearn warns at import when the optional h5py is missing.
        warnings.filterwarnings("ignore", message="h5py not installed", category=UserWarning)
        return pytest.importorskip("tslearn.neighbors")


def learned_radius(name: str, length: int) -> int:
    return ucr_window_radius(ucr_summary()[name].dtw_window_percent, length)


@pytest.mark.parametrize("name", ["GunPoint", "Trace", "CBF"])
@pytest.mark.parametrize("metric", ["dtw", "euclidean"])
@pytest.mark.parametrize("k", [1, 3])
def test_exact_search_predicts_what_tslearn_predicts(name, metric, k):
    ts = tslearn_neighbors()
    X, y, Xt, yt = load_ucr(name)
    radius = max(learned_radius(name, X.shape[1]), 5)
    params = {"global_constraint": "sakoe_chiba", "sakoe_chiba_radius": radius}
    oracle = ts.KNeighborsTimeSeriesClassifier(
        n_neighbors=k, metric=metric, metric_params=params if metric == "dtw" else None
    ).fit(X[:, :, None], y)
    band = {"radius": radius} if metric == "dtw" else {}
    clf = KNeighborsClassifier(n_neighbors=k, metric=metric, exact=True, **band).fit(X, y)
    want = oracle.predict(Xt[:, :, None])
    np.testing.assert_array_equal(clf.predict(Xt), want)
    np.testing.assert_allclose(clf.predict_proba(Xt), oracle.predict_proba(Xt[:, :, None]))
    # tslearn's (n_ts, sz, 1) layout gives the same answers.
    np.testing.assert_array_equal(clf.predict(Xt[:, :, None]), want)
    # The graph search loses little accuracy (default settings).
    graph = clf.set_params(exact=False)
    assert graph.score(Xt, yt) >= np.mean(want == yt) - 0.02


def test_kneighbors_matches_tslearn_under_dtw():
    ts = tslearn_neighbors()
    X, _, Xt, _ = (a[..., None] if a.ndim == 2 else a for a in load_ucr("CBF"))
    params = {"global_constraint": "sakoe_chiba", "sakoe_chiba_radius": 6}
    want_d, want_i = (
        ts.KNeighborsTimeSeries(n_neighbors=4, metric_params=params).fit(X).kneighbors(Xt[:50])
    )
    got_d, got_i = (
        NearestNeighbors(n_neighbors=4, metric="dtw", radius=6, exact=True)
        .fit(X)
        .kneighbors(Xt[:50])
    )
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_allclose(got_d, want_d, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("weights", ["uniform", "distance", lambda d: np.exp(-d)])
def test_euclidean_matches_sklearn(rng, weights):
    X = rng.normal(size=(400, 8))
    y = rng.integers(0, 3, size=400)
    Xt = rng.normal(size=(100, 8))
    oracle = SkKNeighborsClassifier(n_neighbors=7, weights=weights).fit(X, y)
    for exact in (True, False):
        clf = KNeighborsClassifier(n_neighbors=7, weights=weights, exact=exact, ef=200).fit(X, y)
        np.testing.assert_allclose(clf.predict_proba(Xt), oracle.predict_proba(Xt), atol=1e-5)
        np.testing.assert_array_equal(clf.predict(Xt), oracle.predict(Xt))


def test_nearest_neighbors_matches_sklearn_in_order_and_on_its_own_points(rng):
    X = rng.normal(size=(300, 5))
    want_d, want_i = SkNearestNeighbors(n_neighbors=4).fit(X).kneighbors(X[:20])
    nn = NearestNeighbors(n_neighbors=4, exact=True).fit(X)
    got_d, got_i = nn.kneighbors(X[:20])
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_allclose(got_d, want_d, rtol=1e-5, atol=1e-5)
    want = SkNearestNeighbors(n_neighbors=4).fit(X).kneighbors(return_distance=False)
    np.testing.assert_array_equal(nn.kneighbors(return_distance=False), want)
    assert nn.kneighbors(n_neighbors=2, return_distance=False).shape == (300, 2)


def test_a_point_is_not_its_own_neighbour_but_its_duplicate_is(rng):
    X = rng.normal(size=(50, 3))
    X[7] = X[3]
    for exact in (True, False):
        distances, indices = NearestNeighbors(n_neighbors=2, exact=exact).fit(X).kneighbors()
        assert indices[3, 0] == 7 and indices[7, 0] == 3
        assert distances[3, 0] == distances[7, 0] == 0.0
        assert not (indices == np.arange(50)[:, None]).any()
    X[:] = 1.0  # all duplicates: as sklearn, drop the first of them from each row
    indices = NearestNeighbors(n_neighbors=2, exact=True).fit(X).kneighbors(return_distance=False)
    assert indices[0].tolist() == [1, 2] and indices[1].tolist() == [0, 2]
    assert indices[5].tolist() == [1, 2]


def test_too_many_neighbours_raise_like_sklearn(rng):
    X = rng.normal(size=(6, 3))
    nn = NearestNeighbors(n_neighbors=7).fit(X)
    with pytest.raises(ValueError, match="n_neighbors <= n_samples_fit, but n_neighbors = 7"):
        nn.kneighbors(X)
    with pytest.raises(ValueError, match="n_neighbors < n_samples_fit, but n_neighbors = 6"):
        nn.kneighbors(n_neighbors=6)
    with pytest.raises(ValueError, match="Expected n_neighbors > 0"):
        nn.kneighbors(X, n_neighbors=0)
    clf = KNeighborsClassifier().fit(X, [0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="n_samples_fit = 6"):
        clf.set_params(n_neighbors=10).predict(X)


def test_bad_parameters_raise_at_fit_not_in_init(rng):
    X, y = rng.normal(size=(20, 3)), np.arange(20) % 2
    for params, error, match in [
        ({"metric": "manhattan"}, ValueError, "metric must be one of"),
        ({"weights": "gaussian"}, ValueError, "weights must be"),
        ({"ef": 0}, ValueError, "ef > 0"),
        ({"n_searches": 1.5}, TypeError, "n_searches must be an integer"),
        ({"n_jobs": 0}, ValueError, "n_jobs == 0"),
        ({"radius": 3}, ValueError, "radius and window apply to metric='dtw'"),
        ({"metric": "dtw", "radius": 3, "window": 0.1}, ValueError, "not both"),
        ({"graph_neighbors": 0}, ValueError, "graph_neighbors must be at least 1"),
        # One neighbour per point gave mean degree 1.4 and recall@5 of 3.5%.
        ({"graph_neighbors": 1}, ValueError, "graph_neighbors must be at least 2, got 1: .*"),
        ({"graph_neighbors": 4097}, ValueError, "graph_neighbors must be at most 4096"),
        ({"exact": "False"}, TypeError, "exact must be True or False"),
        ({"exact": 1}, TypeError, "exact must be True or False"),
        ({"n_jobs": 10**6}, ValueError, "n_jobs must be at most"),
    ]:
        clf = KNeighborsClassifier(**params)
        with pytest.raises(error, match=match):
            clf.fit(X, y)


def test_first_training_point_wins_a_tie_as_in_tslearn():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [-1.0, -1.0]])
    for exact in (True, False):
        clf = KNeighborsClassifier(n_neighbors=1, exact=exact)
        assert clf.fit(X, ["b", "a", "c", "d"]).predict([[0.0, 0.0]]).tolist() == ["b"]
        assert clf.fit(X[[1, 0, 2, 3]], ["a", "b", "c", "d"]).predict([[0, 0]]).tolist() == ["a"]
        # Equidistant neighbours of two classes: the vote goes to the first class.
        clf = KNeighborsClassifier(n_neighbors=2, exact=exact).fit(X[2:], ["y", "x"])
        assert clf.predict([[0.0, 0.0]]).tolist() == ["x"]


def test_labels_of_any_type(rng):
    X = rng.normal(size=(60, 4))
    for labels in (["cat", "dog", "emu"], [-5, 0, 17], [1.0, 2.0, 3.0], [True, False, True]):
        y = np.array(labels)[np.arange(60) % 3]
        clf = KNeighborsClassifier(n_neighbors=1).fit(X, y)
        np.testing.assert_array_equal(clf.classes_, np.unique(y))
        np.testing.assert_array_equal(clf.predict(X), y)
        assert clf.predict(X).dtype == y.dtype


def test_pipeline_grid_search_and_cross_validation():
    X, y, Xt, yt = load_ucr("CBF")
    pipe = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=1, metric="dtw"))
    scores = cross_val_score(pipe, Xt[:300], yt[:300], cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9
    grid = GridSearchCV(
        KNeighborsClassifier(metric="dtw"),
        {"n_neighbors": [1, 3], "radius": [0, 6], "ef": [8, 32]},
        cv=3,
    ).fit(X, y)
    assert grid.best_params_["radius"] == 6
    assert grid.score(Xt, yt) > 0.95
    assert grid.best_estimator_.n_samples_fit_ == len(X)


def test_clone_copies_parameters_not_the_fit(rng):
    X, y = rng.normal(size=(30, 4)), np.arange(30) % 2
    clf = KNeighborsClassifier(n_neighbors=3, metric="dtw", window=0.2, ef=20).fit(X, y)
    copy_ = clone(clf)
    assert copy_.get_params() == clf.get_params()
    assert not hasattr(copy_, "classes_") and not hasattr(copy_, "_index")


@pytest.mark.parametrize("exact", [False, True])
def test_pickle_and_deepcopy_carry_the_fitted_index(rng, exact):
    X, y = rng.normal(size=(500, 12)), rng.integers(0, 4, size=500)
    Xt = rng.normal(size=(200, 12))
    clf = KNeighborsClassifier(n_neighbors=5, ef=10, n_searches=1, exact=exact).fit(X, y)
    want = clf.kneighbors(Xt)
    for restored in (pickle.loads(pickle.dumps(clf)), copy.deepcopy(clf)):
        assert restored._index is not clf._index
        assert restored._index._core.n_links == clf._index._core.n_links
        got = restored.kneighbors(Xt)
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(restored.predict(Xt), clf.predict(Xt))


def test_exact_fit_then_graph_search_builds_the_graph(rng):
    X, y = rng.normal(size=(400, 6)), rng.integers(0, 2, size=400)
    Xt = rng.normal(size=(50, 6))
    graph = KNeighborsClassifier(n_neighbors=3).fit(X, y).kneighbors(Xt)
    clf = KNeighborsClassifier(n_neighbors=3, exact=True).fit(X, y)
    # fit linked no graph: building cost no distance computation
    assert not clf._index.has_graph and clf._index.build_distance_computations == 0
    got = clf.set_params(exact=False).kneighbors(Xt)
    assert clf._index.has_graph and clf._index.n_neighbors == 16
    np.testing.assert_array_equal(got[1], graph[1])


def test_variable_length_series_under_dtw():
    nan = np.nan
    X = [[0, 1, 2, 3], [0, 1, 2, nan], [5, 5, nan, nan]]
    nn = NearestNeighbors(n_neighbors=3, metric="dtw", exact=True).fit(X)
    assert nn.kneighbors([[0, 1, 2, nan]], return_distance=False).tolist() == [[1, 0, 2]]
    with pytest.raises(ValueError, match="NaN"):
        NearestNeighbors(metric="euclidean").fit(X)


def test_threads_do_not_change_results(rng):
    X, y = rng.normal(size=(600, 10)), rng.integers(0, 3, size=600)
    Xt = rng.normal(size=(100, 10))
    answers = [
        KNeighborsClassifier(n_jobs=n_jobs, ef=12).fit(X, y).kneighbors(Xt)[1]
        for n_jobs in (None, 1, 2, -1, -2)
    ]
    for a in answers[1:]:
        np.testing.assert_array_equal(a, answers[0])


def test_random_state_seeds_the_graph(rng):
    X = rng.normal(size=(300, 4))
    a = NearestNeighbors(random_state=1).fit(X)
    b = NearestNeighbors(random_state=np.random.RandomState(5)).fit(X)
    assert a._index.seed == 1
    assert b._index.seed == np.random.RandomState(5).randint(np.iinfo(np.int32).max)


def test_the_estimators_accept_the_metric_aliases_index_build_accepts(rng):
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    for alias, name in (("l2", "euclidean"), ("cos", "cosine"), (" DTW ", "dtw")):
        clf = KNeighborsClassifier(metric=alias).fit(X, y)
        assert clf.effective_metric_ == name
        want = KNeighborsClassifier(metric=name).fit(X, y).predict(X)
        np.testing.assert_array_equal(clf.predict(X), want)


def test_flags_of_the_queries_take_only_booleans(rng):
    X = rng.normal(size=(20, 3))
    nn = NearestNeighbors(n_neighbors=2).fit(X)
    with pytest.raises(TypeError, match="return_distance must be True or False"):
        nn.kneighbors(X[:2], return_distance="False")
    with pytest.raises(TypeError, match="exact must be True or False"):
        nn.set_params(exact="True").kneighbors(X[:2])


# --- the k-neighbours graph, radius neighbours, the transformer and the regressor -------------


@pytest.mark.parametrize("mode", ["distance", "connectivity"])
def test_kneighbors_graph_equals_sklearn(rng, mode):
    X, Q = rng.normal(size=(400, 6)), rng.normal(size=(30, 6))
    ours = NearestNeighbors(n_neighbors=4, exact=True).fit(X)
    theirs = SkNearestNeighbors(n_neighbors=4).fit(X)
    for queries in (Q, None):
        a = ours.kneighbors_graph(queries, mode=mode)
        b = theirs.kneighbors_graph(queries, mode=mode)
        assert a.format == "csr" and a.shape == b.shape
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.indptr, b.indptr)
        np.testing.assert_allclose(a.data, b.data, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("exact", [True, False])
def test_radius_neighbors_equals_sklearn(exact):
    X, _, Xt, _ = load_ucr("ECG200")
    ours = NearestNeighbors(exact=exact).fit(X)
    theirs = SkNearestNeighbors().fit(X)
    radius = 4.0
    found = total = 0
    for queries in (Xt[:40], None):
        distances, indices = ours.radius_neighbors(queries, radius=radius)
        sk_distances, sk_indices = theirs.radius_neighbors(queries, radius=radius)
        assert distances.dtype == object and len(indices) == len(sk_indices)
        for d, i, sd, si in zip(distances, indices, sk_distances, sk_indices):
            if exact:
                np.testing.assert_array_equal(np.sort(i), np.sort(si))
                np.testing.assert_allclose(d, np.sort(sd), rtol=1e-5)
            found += np.isin(i, si).sum()
            total += len(si)
    assert total > 500 and found >= 0.95 * total
    graph = ours.radius_neighbors_graph(Xt[:40], radius=radius, mode="distance")
    sk_graph = theirs.radius_neighbors_graph(Xt[:40], radius=radius, mode="distance")
    if exact:
        assert (graph != 0).sum() == (sk_graph != 0).sum()
        np.testing.assert_allclose(graph.toarray(), sk_graph.toarray(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="radius="):
        ours.radius_neighbors(Xt[:2])


@pytest.mark.parametrize("mode", ["distance", "connectivity"])
def test_the_transformer_gives_sklearns_graph(rng, mode):
    from sklearn.neighbors import KNeighborsTransformer as SkKNeighborsTransformer

    X = rng.normal(size=(300, 5))
    ours = KNeighborsTransformer(mode=mode, n_neighbors=6, exact=True).fit_transform(X)
    theirs = SkKNeighborsTransformer(mode=mode, n_neighbors=6).fit_transform(X)
    assert ours.shape == (300, 300) and ours.format == "csr"
    assert (ours.getnnz(axis=1) == (7 if mode == "distance" else 6)).all()
    np.testing.assert_array_equal(ours.indices, theirs.indices)
    np.testing.assert_allclose(ours.data, theirs.data, rtol=1e-5, atol=1e-6)
    # The graph search finds the same neighbours on data this easy.
    graph = KNeighborsTransformer(mode=mode, n_neighbors=6).fit_transform(X)
    assert np.mean(graph.indices == theirs.indices) > 0.99


def test_the_transformer_feeds_isomap_tsne_and_dbscan_as_sklearns_does():
    from sklearn.cluster import DBSCAN
    from sklearn.manifold import TSNE, Isomap
    from sklearn.neighbors import KNeighborsTransformer as SkKNeighborsTransformer

    X, _, _, _ = load_ucr("SyntheticControl")
    k = 10

    def both(downstream):
        ours = make_pipeline(KNeighborsTransformer(n_neighbors=k, exact=True), clone(downstream))
        theirs = make_pipeline(SkKNeighborsTransformer(n_neighbors=k), clone(downstream))
        return ours, theirs

    ours, theirs = both(Isomap(n_neighbors=k, metric="precomputed"))
    np.testing.assert_allclose(
        np.abs(ours.fit_transform(X)), np.abs(theirs.fit_transform(X)), rtol=1e-3, atol=1e-3
    )
    ours, theirs = both(DBSCAN(eps=4.0, min_samples=5, metric="precomputed"))
    np.testing.assert_array_equal(ours.fit_predict(X), theirs.fit_predict(X))
    tsne = TSNE(metric="precomputed", init="random", perplexity=3, random_state=0, max_iter=250)
    ours, theirs = both(tsne)
    embedded = ours.fit_transform(X)
    assert embedded.shape == (len(X), 2) and np.isfinite(embedded).all()
    assert ours[-1].kl_divergence_ == pytest.approx(theirs.fit(X)[-1].kl_divergence_, rel=1e-3)


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_the_regressor_predicts_what_sklearns_predicts(rng, weights):
    from sklearn.neighbors import KNeighborsRegressor as SkKNeighborsRegressor

    X, Q = rng.normal(size=(500, 4)), rng.normal(size=(50, 4))
    y = np.column_stack([X.sum(axis=1), np.sin(X[:, 0])])
    for target in (y[:, 0], y):
        ours = KNeighborsRegressor(n_neighbors=5, weights=weights, exact=True).fit(X, target)
        theirs = SkKNeighborsRegressor(n_neighbors=5, weights=weights).fit(X, target)
        np.testing.assert_allclose(ours.predict(Q), theirs.predict(Q), rtol=1e-5, atol=1e-6)
        assert ours.predict(Q).shape == theirs.predict(Q).shape
        assert ours.score(Q, target[:50] * 0 + theirs.predict(Q)) == pytest.approx(1.0)
