use super::*;
use crate::error::Error;
use crate::graph::{Beam, Excluded, GraphOptions, GraphStats, Search};
use crate::metric::{
    self, dtw_squared_unbounded, Band, Cost, Metric, QueryDistance, Space, WithSpace,
};
use crate::storage::{Codes, Points, NO_LABEL, ROUNDS};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

pub(crate) fn gaussian_like(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    // A sum of uniforms is close enough to Gaussian for clustered-free test data.
    (0..n * dim)
        .map(|_| (0..4).map(|_| rng.random::<f32>() - 0.5).sum())
        .collect()
}

pub(crate) fn options(metric: Metric) -> IndexOptions {
    IndexOptions {
        metric,
        ..IndexOptions::default()
    }
}

pub(crate) fn query(k: usize, exact: bool) -> QueryOptions {
    QueryOptions {
        k,
        ef: 64,
        n_searches: 4,
        exact,
    }
}

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    with_threads(threads, || Ok(f())).unwrap()
}

pub(crate) fn recall(found: &[u64], truth: &[u64], k: usize) -> f64 {
    let hits: usize = found
        .chunks(k)
        .zip(truth.chunks(k))
        .map(|(f, t)| f.iter().filter(|id| t.contains(id)).count())
        .sum();
    hits as f64 / truth.len() as f64
}

#[test]
fn graph_search_recall_against_exact() {
    for (seed, metric) in [
        (11, Metric::Euclidean),
        (12, Metric::Cosine),
        (13, Metric::dtw(Band::Radius(3))),
    ] {
        let (n, dim, k) = (3000, 24, 10);
        let index = Index::build(gaussian_like(n, dim, seed), dim, options(metric)).unwrap();
        let queries = gaussian_like(200, dim, seed + 100);
        let approx = index.search(queries.clone(), &query(k, false)).unwrap();
        let exact = index.search(queries, &query(k, true)).unwrap();
        let r = recall(&approx.ids, &exact.ids, k);
        let cost: u64 = approx.n_distance_computations.iter().sum();
        println!(
            "seed {seed} {metric:?}: recall@{k} {r:.3}, {} distances per query",
            cost / 200
        );
        assert!(r >= 0.95, "seed {seed} {metric:?}: recall {r}");
        // Exact search computes every distance, except those DTW's lower bounds rule out.
        let everything = exact.n_distance_computations.iter().all(|&c| c == n as u64);
        assert_eq!(everything, !matches!(metric, Metric::Dtw { .. }));
        assert!(
            cost < 200 * n as u64 / 2,
            "graph search should cost well under brute force"
        );
    }
}

#[test]
fn an_index_without_a_graph_costs_nothing_to_build_and_answers_exactly() {
    let metric = Metric::dtw(Band::Radius(2));
    let (n, dim, k) = (500, 16, 5);
    let data = gaussian_like(n, dim, 21);
    let linked = Index::build(data.clone(), dim, options(metric)).unwrap();
    let bare = IndexOptions {
        graph: None,
        ..options(metric)
    };
    let mut index = Index::build(data, dim, bare).unwrap();
    assert!(!index.has_graph() && linked.has_graph());
    assert_eq!(index.build_distance_computations(), 0);
    let queries = gaussian_like(20, dim, 22);
    let exact = index.search(queries.clone(), &query(k, true)).unwrap();
    assert_eq!(
        exact,
        linked.search(queries.clone(), &query(k, true)).unwrap()
    );
    assert_eq!(
        index.search(queries.clone(), &query(k, false)),
        Err(Error::NoGraph)
    );
    // Added points are found; removed ones are not; compacting keeps it without a graph.
    index.add(queries[..dim].to_vec()).unwrap();
    let first = index
        .search(queries[..dim].to_vec(), &query(1, true))
        .unwrap();
    assert_eq!((first.ids[0], first.distances[0]), (n as u64, 0.0));
    index.remove(&[n as u64]).unwrap();
    index.compact().unwrap();
    assert!(!index.has_graph() && index.n_ids() == n);
    assert_eq!(exact, index.search(queries, &query(k, true)).unwrap());
    // A graph needs both sizes.
    for (n_neighbors, max_degree) in [(0, 4), (4, 0)] {
        let o = IndexOptions {
            graph: Some(GraphOptions {
                n_neighbors,
                max_degree,
            }),
            ..options(metric)
        };
        assert!(matches!(
            Index::build(vec![1.0; 4], 2, o),
            Err(Error::InvalidParameter { .. })
        ));
    }
}

/// DTW without its lower bounds or early abandoning: every distance computed in full.
struct Unbounded<'a> {
    points: &'a Points,
    band: Band,
    channels: usize,
    query: Vec<f32>,
    cost: Cost,
}

impl QueryDistance for Unbounded<'_> {
    fn set_query(&mut self, query: &[f32]) {
        self.query = query.to_vec();
        self.cost = Cost::default();
    }
    fn set_query_row(&mut self, id: u32) {
        let points = self.points;
        self.set_query(points.row(id));
    }
    fn within(&mut self, id: u32, _bound: f32) -> Option<f32> {
        self.cost.distances += 1;
        Some(dtw_squared_unbounded(
            &self.query,
            self.points.row(id),
            self.channels,
            self.band,
        ))
    }
    fn between(&mut self, a: u32, b: u32) -> f32 {
        self.cost.distances += 1;
        let (a, b) = (self.points.row(a), self.points.row(b));
        dtw_squared_unbounded(a, b, self.channels, self.band)
    }
    fn prefetch(&self, _id: u32) {}
    fn finish(&self, ranking: f32) -> f32 {
        ranking.sqrt()
    }
    fn take_cost(&mut self) -> Cost {
        std::mem::take(&mut self.cost)
    }
}

/// Exact and graph searches of `queries` with the index's DTW and with [`Unbounded`], which must
/// find the same; returns the DTW computations of the unbounded searches and those saved.
struct CompareWithUnbounded<'a> {
    index: &'a Index,
    queries: &'a Points,
    band: Band,
    channels: usize,
}

impl WithSpace for CompareWithUnbounded<'_> {
    type Output = (u64, u64);

    fn run<S: Space>(self, space: &S) -> (u64, u64) {
        let Self {
            index,
            queries,
            band,
            channels,
        } = self;
        let n = index.n_ids();
        let graph = index.graph.as_ref().unwrap();
        let mut pruned = space.query();
        let mut plain = Unbounded {
            points: &index.points,
            band,
            channels,
            query: Vec::new(),
            cost: Cost::default(),
        };
        let beam = Beam {
            k: 5,
            ef: 32,
            n_searches: 2,
            copies: true,
            budget: None,
        };
        let (mut a, mut b) = (Search::new(n), Search::new(n));
        let (mut full, mut saved) = (0, 0);
        for q in 0..queries.len() as u32 {
            let row = queries.row(q);
            pruned.set_query(row);
            plain.set_query(row);
            a.exact(&mut pruned, n, Excluded::removed(&index.removed), 5);
            b.exact(&mut plain, n, Excluded::removed(&index.removed), 5);
            assert_eq!(a.nearest(), b.nearest(), "exact, query {q}");
            let (ca, cb) = (pruned.take_cost(), plain.take_cost());
            assert!(ca.distances < cb.distances && cb.distances == n as u64);
            a.greedy(
                &mut pruned,
                graph,
                Excluded::removed(&index.removed),
                beam,
                0,
                n,
            );
            b.greedy(
                &mut plain,
                graph,
                Excluded::removed(&index.removed),
                beam,
                0,
                n,
            );
            assert_eq!(a.nearest(), b.nearest(), "graph, query {q}");
            let (ca, cb) = (pruned.take_cost(), plain.take_cost());
            full += cb.distances;
            saved += cb.distances - ca.distances;
            assert!(ca.lower_bounds > 0);
        }
        (full, saved)
    }
}

#[test]
fn lower_bounds_change_no_answer_and_save_dtw_computations() {
    let (n, dim, band) = (1500, 40, Band::Radius(4));
    // Random walks: smooth series, where the bounds are tight.
    let walk = |seed| -> Vec<f32> {
        let steps = gaussian_like(n, dim, seed);
        steps
            .chunks(dim)
            .flat_map(|r| {
                r.iter()
                    .scan(0.0, |acc, x| {
                        *acc += x;
                        Some(*acc)
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    // One channel of 40 time steps, and two of 20 (the walks' values in pairs).
    for channels in [1, 2] {
        let metric = Metric::Dtw { band, channels };
        let index = Index::build(walk(31), dim, options(metric)).unwrap();
        let queries = Points::new(walk(32)[..40 * dim].to_vec(), dim, None).unwrap();
        let compare = CompareWithUnbounded {
            index: &index,
            queries: &queries,
            band,
            channels,
        };
        let (full, saved) = metric::with_space(
            &index.options.metric,
            &index.points,
            &index.prepared,
            None,
            compare,
        );
        // Radius 4 is a wider band on 20 time steps than on 40, so the bounds are looser.
        let share = if channels == 1 { 4 } else { 8 };
        assert!(
            saved * share > full,
            "{channels} channels: bounds saved only {saved} of {full} DTW computations"
        );
    }
}

#[test]
fn added_points_are_found_as_well_as_built_ones() {
    let (n, dim, k) = (4000, 16, 10);
    let data = gaussian_like(n, dim, 41);
    let split = n * 4 / 5 * dim;
    let full = Index::build(data.clone(), dim, options(Metric::Euclidean)).unwrap();
    let mut grown = Index::build(data[..split].to_vec(), dim, options(Metric::Euclidean)).unwrap();
    assert_eq!(
        grown.add(data[split..].to_vec()).unwrap(),
        (n * 4 / 5) as u64
    );
    assert_eq!(grown.len(), n);
    let queries = gaussian_like(300, dim, 42);
    let truth = full.search(queries.clone(), &query(k, true)).unwrap();
    assert_eq!(
        grown.search(queries.clone(), &query(k, true)).unwrap().ids,
        truth.ids
    );
    let r_full = recall(
        &full.search(queries.clone(), &query(k, false)).unwrap().ids,
        &truth.ids,
        k,
    );
    let r_grown = recall(
        &grown.search(queries, &query(k, false)).unwrap().ids,
        &truth.ids,
        k,
    );
    println!("recall@{k}: built {r_full:.3}, built 80% + added 20% {r_grown:.3}");
    assert!(r_grown >= r_full - 0.01, "{r_grown} vs {r_full}");
}

#[test]
fn removed_points_never_come_back_and_recall_holds() {
    let (n, dim, k) = (4000, 16, 10);
    let queries = gaussian_like(300, dim, 52);
    for fraction in [10, 50] {
        let mut index =
            Index::build(gaussian_like(n, dim, 51), dim, options(Metric::Euclidean)).unwrap();
        let removed: Vec<u64> = (0..n as u64).filter(|id| id % 100 < fraction).collect();
        index.remove(&removed).unwrap();
        assert_eq!(index.len(), n - removed.len());
        let truth = index.search(queries.clone(), &query(k, true)).unwrap();
        let got = index.search(queries.clone(), &query(k, false)).unwrap();
        for ids in [&truth.ids, &got.ids] {
            assert!(ids
                .iter()
                .all(|id| *id != NO_LABEL && !removed.contains(id)));
        }
        let r = recall(&got.ids, &truth.ids, k);
        println!("recall@{k} after removing {fraction}%: {r:.3}");
        assert!(r >= 0.95, "{fraction}% removed: recall {r}");
        let old_ids = index.compact().unwrap();
        assert_eq!(index.len(), n - removed.len());
        let compacted = index.search(queries.clone(), &query(k, true)).unwrap();
        let mapped: Vec<u64> = compacted
            .ids
            .iter()
            .map(|&id| old_ids[id as usize])
            .collect();
        assert_eq!(mapped, truth.ids);
    }
}

/// Cancels `progress` once it counts `at` points linked, from another thread.
fn cancel_at<R: Send>(progress: &Progress, at: usize, work: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while progress.done() < at {
                std::thread::yield_now();
            }
            progress.cancel();
        });
        work()
    })
}

#[test]
fn progress_counts_up_to_the_points_linked() {
    let progress = Progress::new();
    let data = gaussian_like(3000, 8, 61);
    let index =
        Index::build_with_progress(data, 8, options(Metric::Euclidean), None, &progress).unwrap();
    assert_eq!((progress.done(), progress.total()), (3000, 3000));
    let mut index = index;
    index
        .add_with_progress(gaussian_like(200, 8, 62), None, &progress)
        .unwrap();
    assert_eq!((progress.done(), progress.total()), (200, 200));
    assert!(!progress.is_cancelled());
}

#[test]
fn an_interrupted_build_or_compact_stops_early_and_changes_nothing() {
    let (n, dim) = (20_000, 8);
    let progress = Progress::new();
    let built = cancel_at(&progress, 2000, || {
        Index::build_with_progress(
            gaussian_like(n, dim, 71),
            dim,
            options(Metric::Euclidean),
            None,
            &progress,
        )
    });
    assert_eq!(built.unwrap_err(), Error::Interrupted);
    assert!(progress.done() < n / 2, "stopped at {}", progress.done());

    let mut index =
        Index::build(gaussian_like(n, dim, 72), dim, options(Metric::Euclidean)).unwrap();
    index.remove(&(0..100).collect::<Vec<u64>>()).unwrap();
    let before = index.clone();
    let progress = Progress::new();
    let compacted = cancel_at(&progress, 2000, || index.compact_with_progress(&progress));
    assert_eq!(compacted.unwrap_err(), Error::Interrupted);
    assert!(index.graph == before.graph && index.removed == before.removed);
    assert_eq!(index.points.as_slice(), before.points.as_slice());
}

#[test]
fn an_interrupted_add_leaves_the_index_as_it_was() {
    let (n, dim) = (4000, 8);
    let metric = Metric::dtw(Band::Radius(2));
    let mut index = Index::build(gaussian_like(n, dim, 81), dim, options(metric)).unwrap();
    index.remove(&[3, 5]).unwrap();
    let before = index.clone();
    let progress = Progress::new();
    let added = cancel_at(&progress, 1500, || {
        index.add_with_progress(gaussian_like(3 * n, dim, 82), None, &progress)
    });
    assert_eq!(added.unwrap_err(), Error::Interrupted);
    assert!(progress.done() >= 1500 && progress.done() < 3 * n);
    assert!(index.graph == before.graph, "the graph was not restored");
    assert_eq!(index.points.as_slice(), before.points.as_slice());
    assert_eq!(index.removed, before.removed);
    assert_eq!(
        index.build_distance_computations,
        before.build_distance_computations
    );
    let queries = gaussian_like(50, dim, 83);
    assert_eq!(
        index.search(queries.clone(), &query(5, false)).unwrap(),
        before.search(queries, &query(5, false)).unwrap()
    );
    // And it still grows as if nothing had happened.
    let mut fresh = before.clone();
    let more = gaussian_like(100, dim, 84);
    index.add(more.clone()).unwrap();
    fresh.add(more).unwrap();
    assert!(index.graph == fresh.graph);
}

#[test]
fn bad_removals_change_nothing() {
    let mut index = Index::build(gaussian_like(50, 3, 1), 3, options(Metric::Euclidean)).unwrap();
    assert_eq!(
        index.remove(&[4, 50]).unwrap_err(),
        Error::IdOutOfRange { id: 50, max: 50 }
    );
    assert_eq!(
        index.remove(&[4, 4]).unwrap_err(),
        Error::AlreadyRemoved { id: 4 }
    );
    assert_eq!(index.len(), 50);
    index.remove(&[4]).unwrap();
    assert_eq!(
        index.remove(&[4]).unwrap_err(),
        Error::AlreadyRemoved { id: 4 }
    );
    let rest: Vec<u64> = (0..50).filter(|&i| i != 4).collect();
    assert_eq!(index.remove(&rest).unwrap_err(), Error::RemovingEverything);
    assert_eq!(
        index
            .search(gaussian_like(1, 3, 2), &query(50, true))
            .unwrap_err(),
        Error::InvalidK { k: 50, n: 49 }
    );
    assert!(matches!(
        index.add(vec![1.0, 2.0]),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        index.add(vec![1.0, f32::NAN, 2.0]),
        Err(Error::NonFinite { .. })
    ));
    assert_eq!((index.n_ids(), index.len()), (50, 49));
}

#[test]
fn exact_search_matches_a_plain_sort() {
    let (n, dim, k) = (500, 8, 7);
    let data = gaussian_like(n, dim, 5);
    let index = Index::build(data.clone(), dim, options(Metric::Euclidean)).unwrap();
    let q = gaussian_like(1, dim, 6);
    let got = index.search(q.clone(), &query(k, true)).unwrap();
    let mut all: Vec<(f32, u64)> = data
        .chunks(dim)
        .enumerate()
        .map(|(i, row)| (crate::metric::squared_euclidean(row, &q).sqrt(), i as u64))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let want: Vec<u64> = all[..k].iter().map(|x| x.1).collect();
    assert_eq!(got.ids, want);
    for (d, w) in got.distances.iter().zip(&all[..k]) {
        assert!((d - w.0).abs() < 1e-5);
    }
}

#[test]
fn the_graph_does_not_depend_on_the_number_of_threads() {
    let (n, dim) = (2000, 10);
    let data = gaussian_like(n, dim, 21);
    let one = in_pool(1, || {
        Index::build(data.clone(), dim, options(Metric::Euclidean)).unwrap()
    });
    let two = in_pool(2, || {
        Index::build(data.clone(), dim, options(Metric::Euclidean)).unwrap()
    });
    let again = in_pool(1, || {
        Index::build(data.clone(), dim, options(Metric::Euclidean)).unwrap()
    });
    assert!(one.graph == two.graph);
    assert!(one.graph == again.graph);
    let queries = gaussian_like(50, dim, 22);
    let a = in_pool(1, || one.search(queries.clone(), &query(5, false)).unwrap());
    let b = in_pool(2, || two.search(queries.clone(), &query(5, false)).unwrap());
    assert_eq!(a, b);
}

#[test]
fn the_seed_changes_the_graph() {
    // A narrow construction search, so that where it enters matters.
    let narrow = IndexOptions {
        ef_construction: 4,
        n_searches: 1,
        ..options(Metric::Euclidean)
    };
    let data = gaussian_like(500, 6, 3);
    let a = Index::build(data.clone(), 6, narrow).unwrap();
    let b = Index::build(data, 6, IndexOptions { seed: 9, ..narrow }).unwrap();
    assert!(a.graph != b.graph);
}

#[test]
fn degrees_stay_within_bounds_and_there_are_no_self_loops() {
    let index = Index::build(gaussian_like(1500, 5, 8), 5, options(Metric::Euclidean)).unwrap();
    let graph = index.graph.as_ref().unwrap();
    for id in 0..index.n_ids() as u32 {
        let nb = graph.neighbors(id);
        assert!(
            !nb.is_empty() && nb.len() <= graph.max_degree(),
            "node {id}"
        );
        assert!(!nb.contains(&id));
        let mut unique = nb.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), nb.len(), "node {id} links a neighbour twice");
    }
}

#[test]
fn ties_are_all_returned_ordered_by_id() {
    // Eight copies of one point and two others: every copy is at distance 0 from the query.
    let mut data = [1.0f32, 1.0].repeat(8);
    data.extend([5.0, 5.0, -3.0, 2.0]);
    let index = Index::build(data, 2, options(Metric::Euclidean)).unwrap();
    for exact in [true, false] {
        let got = index.search(vec![1.0, 1.0], &query(8, exact)).unwrap();
        assert_eq!(got.ids, (0..8).collect::<Vec<u64>>(), "exact = {exact}");
        assert!(got.distances.iter().all(|&d| d == 0.0));
    }
}

#[test]
fn k_equal_to_the_number_of_points_returns_every_point() {
    let (n, dim) = (300, 4);
    let index = Index::build(gaussian_like(n, dim, 1), dim, options(Metric::Euclidean)).unwrap();
    let got = index
        .search(gaussian_like(3, dim, 2), &query(n, false))
        .unwrap();
    for row in got.ids.chunks(n) {
        let mut ids = row.to_vec();
        ids.sort_unstable();
        assert_eq!(ids, (0..n as u64).collect::<Vec<_>>());
    }
}

#[test]
fn a_one_point_index_answers_with_that_point() {
    let index = Index::build(vec![3.0, 4.0], 2, options(Metric::Euclidean)).unwrap();
    for exact in [true, false] {
        let got = index.search(vec![0.0, 0.0], &query(1, exact)).unwrap();
        assert_eq!(got.ids, [0]);
        assert_eq!(got.distances, [5.0]);
        assert_eq!(got.n_distance_computations, [1]);
    }
}

#[test]
fn variable_length_series_are_compared_at_their_true_lengths() {
    let nan = f32::NAN;
    let data = vec![0., 1., 2., 3., 0., 1., 2., nan, 5., 5., nan, nan];
    let index = Index::build(data, 4, options(Metric::dtw(Band::Full))).unwrap();
    let got = index
        .search(vec![0., 1., 2., nan], &query(3, true))
        .unwrap();
    assert_eq!(got.ids, [1, 0, 2]);
    assert_eq!(got.distances[0], 0.0);
    // DTW over the full window matches [0, 1, 2] to [0, 1, 2, 3] at cost (3 - 2)^2.
    assert_eq!(got.distances[1], 1.0);
}

#[test]
fn bad_input_is_an_error() {
    let o = options(Metric::Euclidean);
    assert_eq!(Index::build(vec![], 3, o).unwrap_err(), Error::Empty);
    assert_eq!(
        Index::build(vec![1.0], 0, o).unwrap_err(),
        Error::ZeroDimension
    );
    assert!(matches!(
        Index::build(vec![f32::NAN, 1.0], 2, o),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        Index::build(
            vec![1.0; 4],
            2,
            IndexOptions {
                graph: Some(GraphOptions {
                    n_neighbors: 8,
                    max_degree: 4,
                }),
                ..o
            }
        ),
        Err(Error::InvalidParameter {
            name: "max_degree",
            ..
        })
    ));
    assert!(matches!(
        Index::build(vec![0.0; 4], 2, options(Metric::Cosine)),
        Err(Error::ZeroNorm { row: 0 })
    ));
    let index = Index::build(vec![1.0, 2.0, 3.0, 4.0], 2, o).unwrap();
    assert_eq!(
        index.search(vec![1.0, 2.0], &query(3, false)).unwrap_err(),
        Error::InvalidK { k: 3, n: 2 }
    );
    assert_eq!(
        index.search(vec![1.0, 2.0], &query(0, true)).unwrap_err(),
        Error::InvalidK { k: 0, n: 2 }
    );
    assert!(matches!(
        index.search(vec![1.0, 2.0, 3.0], &query(1, false)),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        index.search(vec![f32::INFINITY, 2.0], &query(1, false)),
        Err(Error::NonFinite { .. })
    ));
}

/// `data` (rows of `dim`) followed by copies of its first `n_copied` rows, each moved by `noise`
/// times a deterministic pattern (0 for exact copies).
fn with_copies(data: &[f32], dim: usize, n_copied: usize, noise: f32) -> Vec<f32> {
    let mut out = data.to_vec();
    out.extend(
        data[..n_copied * dim]
            .iter()
            .enumerate()
            .map(|(i, &x)| x + noise * ((i % 7) as f32 - 3.0)),
    );
    out
}

#[test]
fn copies_are_grouped_behind_one_node_and_returned_beside_it() {
    let (n, dim, k) = (2000, 12, 10);
    let distinct = gaussian_like(n, dim, 91);
    let queries = gaussian_like(200, dim, 92);
    let alone = Index::build(distinct.clone(), dim, options(Metric::Euclidean)).unwrap();
    for noise in [0.0, 1e-6] {
        let data = with_copies(&distinct, dim, n / 2, noise);
        let index = Index::build(data, dim, options(Metric::Euclidean)).unwrap();
        let stats = index.graph_stats().unwrap();
        assert_eq!((stats.n_nodes, stats.n_copies), (n, n / 2), "noise {noise}");
        // The graph over the nodes is the graph of the rows without their copies.
        assert_eq!(
            stats,
            Index::graph_stats(&alone)
                .map(|s| GraphStats {
                    n_copies: n / 2,
                    ..s
                })
                .unwrap()
        );
        let exact = index.search(queries.clone(), &query(k, true)).unwrap();
        let found = index.search(queries.clone(), &query(k, false)).unwrap();
        // Every distance reported is the true one, and ties count.
        for (q, row) in found.ids.chunks(k).enumerate() {
            let kth = exact.distances[q * k + k - 1];
            let mut hits = 0;
            for (j, &id) in row.iter().enumerate() {
                let d = found.distances[q * k + j];
                let truth: f32 = index
                    .points
                    .row(id as u32)
                    .iter()
                    .zip(&queries[q * dim..(q + 1) * dim])
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>()
                    .sqrt();
                assert!((d - truth).abs() <= 1e-5 * truth.max(1.0), "{d} vs {truth}");
                hits += usize::from(d <= kth * (1.0 + 1e-5));
            }
            assert!(hits >= k - 2, "query {q}: {hits} of {k}");
        }
    }
}

#[test]
fn copies_survive_removal_adding_and_compaction() {
    let (n, dim) = (500, 6);
    let distinct = gaussian_like(n, dim, 93);
    let mut index = Index::build(
        with_copies(&distinct, dim, 100, 0.0),
        dim,
        options(Metric::Euclidean),
    )
    .unwrap();
    // Removing the node of a group leaves its copy findable; removing both leaves neither.
    index.remove(&[7]).unwrap();
    let q = distinct[7 * dim..8 * dim].to_vec();
    let got = index.search(q.clone(), &query(1, false)).unwrap();
    assert_eq!((got.ids[0], got.distances[0]), (n as u64 + 7, 0.0));
    index.remove(&[n as u64 + 7]).unwrap();
    assert!(index.search(q.clone(), &query(3, false)).unwrap().distances[0] > 0.0);
    // Added copies of built rows join their groups through the construction's search.
    let first_added = index
        .add(with_copies(&distinct, dim, 50, 0.0)[n * dim..].to_vec())
        .unwrap();
    assert_eq!(first_added, n as u64 + 100);
    // All but the copy of row 7, whose group is removed: the construction never returns removed
    // points, so that copy is a node of its own.
    assert_eq!(index.graph_stats().unwrap().n_copies, 149);
    let got = index
        .search(distinct[..dim].to_vec(), &query(3, false))
        .unwrap();
    let mut ids = got.ids.clone();
    ids.sort_unstable();
    assert_eq!(ids, [0, n as u64, n as u64 + 100]);
    let kept = index.compact().unwrap();
    assert_eq!(kept.len(), n + 148);
    assert_eq!(index.graph_stats().unwrap().n_copies, 148);
}

#[test]
fn an_index_of_identical_points_answers_k_of_them() {
    for metric in [
        Metric::Euclidean,
        Metric::Cosine,
        Metric::dtw(Band::Radius(1)),
    ] {
        let n = 300;
        let index = Index::build([1.0f32, 2.0, 3.0].repeat(n), 3, options(metric)).unwrap();
        assert_eq!(index.graph_stats().unwrap().n_nodes, 1);
        for k in [1, 10, n] {
            let got = index.search(vec![1.0, 2.0, 4.0], &query(k, false)).unwrap();
            let mut ids = got.ids.clone();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), k, "{metric:?}");
            assert_eq!(got.n_distance_computations, [1]);
            assert!(got.distances.iter().all(|&d| d == got.distances[0]));
        }
    }
}

#[test]
fn values_beyond_the_safe_range_are_refused_at_build_add_and_search() {
    // 3e19 squared overflows f32: these distances used to come back inf, misordered.
    let data = vec![3e19, 0.0, -3e19, 0.0, 1e19, 0.0];
    for metric in [Metric::Euclidean, Metric::dtw(Band::Full)] {
        let bound = metric.max_magnitude(2).unwrap();
        assert!(bound < 1e19 && bound > 1e18);
        assert!(matches!(
            Index::build(data.clone(), 2, options(metric)),
            Err(Error::OutOfRange {
                row: 0,
                column: 0,
                ..
            })
        ));
        let mut index =
            Index::build(vec![bound, 0.0, -bound, 0.0, 0.0, 1.0], 2, options(metric)).unwrap();
        assert!(matches!(
            index.add(vec![0.0, -3e19]),
            Err(Error::OutOfRange {
                row: 0,
                column: 1,
                ..
            })
        ));
        assert!(matches!(
            index.search(vec![1.0, 0.0, 0.0, 2e19], &query(1, true)),
            Err(Error::OutOfRange {
                row: 1,
                column: 1,
                ..
            })
        ));
        // At the bound itself, distances stay finite and ordered.
        let found = index.search(vec![-bound, 0.0], &query(3, true)).unwrap();
        assert_eq!(found.ids, [1, 2, 0]);
        assert!(found.distances.iter().all(|d| d.is_finite()));
    }
    // Cosine normalises in f64 first: any finite value is fine.
    assert_eq!(Metric::Cosine.max_magnitude(2), None);
    let index = Index::build(data, 2, options(Metric::Cosine)).unwrap();
    let found = index.search(vec![-2.9e19, 0.0], &query(3, true)).unwrap();
    assert_eq!(found.ids[0], 1);
}

#[test]
fn the_dtw_function_checks_its_series_as_the_index_does() {
    let band = Band::Full;
    let bound = Metric::dtw(band).max_magnitude(3).unwrap();
    assert!(metric::dtw(&[bound, 0.0, 0.0], &[-bound, 0.0], 1, band)
        .unwrap()
        .is_finite());
    assert!(matches!(
        metric::dtw(&[1.0, 0.0, 0.0], &[0.0, 2.0 * bound], 1, band),
        Err(Error::OutOfRange {
            row: 1,
            column: 1,
            ..
        })
    ));
    assert!(matches!(
        metric::dtw(&[f32::NAN], &[0.0], 1, band),
        Err(Error::NonFinite { row: 0, .. })
    ));
    assert_eq!(metric::dtw(&[], &[0.0], 1, band), Err(Error::Empty));
}

#[test]
fn a_new_graph_needs_two_neighbours_per_point() {
    let data = gaussian_like(50, 2, 1);
    let one = IndexOptions {
        graph: Some(GraphOptions {
            n_neighbors: 1,
            max_degree: 2,
        }),
        ..options(Metric::Euclidean)
    };
    assert!(matches!(
        Index::build(data.clone(), 2, one),
        Err(Error::InvalidParameter {
            name: "n_neighbors",
            value: 1,
            ..
        })
    ));
    let two = IndexOptions {
        graph: Some(GraphOptions {
            n_neighbors: MIN_NEIGHBORS,
            max_degree: 4,
        }),
        ..one
    };
    assert!(Index::build(data, 2, two).is_ok());
}

#[test]
fn thread_counts_are_bounded_and_so_are_the_pools_kept() {
    let max = max_threads();
    assert_eq!(
        with_threads(max + 1, || Ok(())).unwrap_err(),
        Error::TooManyThreads {
            threads: max + 1,
            max,
            per_core: THREADS_PER_CORE
        }
    );
    let threads_alive = || {
        std::fs::read_dir("/proc/self/task")
            .map(|d| d.count())
            .unwrap_or(0)
    };
    for n in 1..=12 {
        assert_eq!(
            with_threads(n.min(max), || Ok(rayon::current_num_threads())),
            Ok(n.min(max))
        );
    }
    if threads_alive() > 0 {
        // Dropped pools' threads exit soon after; at most KEPT_POOLS pools of at most `max`
        // threads remain, beside the test harness's own threads.
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(
            threads_alive() <= 4 * max + 64,
            "{} threads",
            threads_alive()
        );
    }
}

fn coded(metric: Metric, quantization: Quantization) -> IndexOptions {
    IndexOptions {
        quantization: Some(quantization),
        ..options(metric)
    }
}

/// The recall@10 a graph search at the default `ef` reaches on codes of each kind over the
/// Gaussian-like rows of these tests: RaBitQ's 4 bits estimate more coarsely than 8.
fn recall_floor(quantization: Quantization) -> f64 {
    match quantization {
        Quantization::Sq8 => 0.93,
        Quantization::Rabitq4 => 0.9,
    }
}

#[test]
fn coded_search_walks_on_codes_and_reranks_exactly() {
    for quantization in Quantization::ALL {
        for (seed, metric) in [(31, Metric::Euclidean), (32, Metric::Cosine)] {
            let (n, dim, k) = (3000, 24, 10);
            let data = gaussian_like(n, dim, seed);
            let plain = Index::build(data.clone(), dim, options(metric)).unwrap();
            let coded = Index::build(data, dim, coded(metric, quantization)).unwrap();
            // The construction links on the exact rows: the graphs are the same.
            assert_eq!(coded.graph(), plain.graph());
            let queries = gaussian_like(200, dim, seed + 100);
            let found = coded.search(queries.clone(), &query(k, false)).unwrap();
            let exact = coded.search(queries.clone(), &query(k, true)).unwrap();
            assert_eq!(
                exact,
                plain.search(queries.clone(), &query(k, true)).unwrap()
            );
            let r = recall(&found.ids, &exact.ids, k);
            assert!(
                r >= recall_floor(quantization),
                "{metric:?}: {quantization:?} recall {r}"
            );
            // Exact distances count the re-ranking only: max(k, ef) per query.
            assert!(found.n_distance_computations.iter().all(|&c| c <= 64));
            assert!(found.n_code_distance_computations.iter().all(|&c| c > 64));
            assert!(exact.n_code_distance_computations.iter().all(|&c| c == 0));
            // Returned distances are the exact ones, in order.
            let rows = metric.rows(queries, dim).unwrap();
            for (q, (ids, distances)) in found
                .ids
                .chunks(k)
                .zip(found.distances.chunks(k))
                .enumerate()
            {
                assert!(distances.windows(2).all(|w| w[0] <= w[1]));
                for (&id, &d) in ids.iter().zip(distances) {
                    let squared = metric::squared_euclidean(
                        rows.row(q as u32),
                        plain.points().row(id as u32),
                    );
                    let want = match metric {
                        Metric::Cosine => 0.5 * squared,
                        _ => squared.sqrt(),
                    };
                    assert_eq!(d, want.max(0.0), "query {q}, id {id}");
                }
            }
        }
    }
}

#[test]
fn codes_follow_add_remove_compact_and_interruption() {
    for quantization in Quantization::ALL {
        let (n, dim, k) = (1500, 16, 10);
        let data = gaussian_like(n, dim, 41);
        let options = coded(Metric::Euclidean, quantization);
        let mut index = Index::build(data[..1000 * dim].to_vec(), dim, options).unwrap();
        let trained = index.codes.as_ref().unwrap().clone();
        let progress = Progress::new();
        let stopped = cancel_at(&progress, 500, || {
            index.add_with_progress(gaussian_like(8000, dim, 43), None, &progress)
        });
        assert_eq!(stopped, Err(Error::Interrupted));
        assert_eq!(index.codes.as_ref(), Some(&trained));
        index.add(data[1000 * dim..].to_vec()).unwrap();
        let codes = index.codes.as_ref().unwrap();
        assert_eq!(codes.len(), n);
        // Added rows are encoded with what was trained on the first ones, not trained again.
        let mut extended = trained.clone();
        extended.extend(index.points(), 1000);
        assert_eq!(codes, &extended);
        let queries = gaussian_like(100, dim, 42);
        let removed: Vec<u64> = (0..n as u64).step_by(3).collect();
        index.remove(&removed).unwrap();
        let found = index.search(queries.clone(), &query(k, false)).unwrap();
        assert!(found.ids.iter().all(|&id| id % 3 != 0));
        let exact = index.search(queries.clone(), &query(k, true)).unwrap();
        assert!(recall(&found.ids, &exact.ids, k) >= recall_floor(quantization));
        let kept = index.compact().unwrap();
        let codes = index.codes.as_ref().unwrap();
        assert_eq!(codes.len(), kept.len());
        // Compacting rebuilds: the codes are trained again on the rows kept.
        assert_eq!(
            codes,
            &Codes::train(quantization, index.points(), options.seed)
        );
        let found = index.search(queries.clone(), &query(k, false)).unwrap();
        let exact = index.search(queries, &query(k, true)).unwrap();
        assert!(recall(&found.ids, &exact.ids, k) >= recall_floor(quantization));
    }
}

#[test]
fn codes_are_refused_under_dtw_and_counted_in_nbytes() {
    let dtw = Metric::dtw(Band::Full);
    let (n, dim) = (500, 40);
    let data = gaussian_like(n, dim, 51);
    let plain = Index::build(data.clone(), dim, options(Metric::Euclidean)).unwrap();
    let graph = plain.graph().unwrap().nbytes();
    assert_eq!(plain.nbytes(), 4 * n * dim + graph);
    for quantization in Quantization::ALL {
        assert_eq!(
            Index::build(vec![1.0, 2.0], 2, coded(dtw, quantization)).unwrap_err(),
            Error::UnsupportedQuantization {
                quantization: quantization.name(),
                metric: "dtw"
            }
        );
        let options = coded(Metric::Euclidean, quantization);
        let coded = Index::build(data.clone(), dim, options).unwrap();
        let codes = match quantization {
            // The codes, padded to a whole block of 64 bytes, and a minimum and a step per
            // dimension.
            Quantization::Sq8 => n * dim + 24 + 8 * dim,
            // Per row 32 bytes of levels (40 values in a group of 64) and two factors; the
            // centre and the rotation's signs.
            Quantization::Rabitq4 => n * (32 + 8) + 4 * dim + 4 * ROUNDS * dim,
        };
        assert_eq!(coded.nbytes(), plain.nbytes() + codes, "{quantization:?}");
    }
}

#[test]
fn vectors_come_back_as_stored_and_removed_ones_are_refused() {
    let data = vec![3.0, 4.0, 1.0, 0.0, 0.0, 2.0];
    let mut index = Index::build(data.clone(), 2, options(Metric::Euclidean)).unwrap();
    assert_eq!(index.vectors(), data.as_slice());
    assert_eq!(
        index.get_vectors(&[2, 0]).unwrap(),
        vec![0.0, 2.0, 3.0, 4.0]
    );
    assert_eq!(index.get_vectors(&[]).unwrap(), Vec::<f32>::new());
    assert_eq!(
        index.get_vectors(&[3]),
        Err(Error::IdOutOfRange { id: 3, max: 3 })
    );
    index.remove(&[1]).unwrap();
    assert_eq!(index.get_vectors(&[1]), Err(Error::Removed { id: 1 }));
    assert_eq!(index.vectors().len(), 6, "removed rows stay until compact");

    let cosine = Index::build(data, 2, options(Metric::Cosine)).unwrap();
    assert_eq!(cosine.get_vectors(&[0]).unwrap(), vec![0.6, 0.8]);

    let dtw = options(Metric::Dtw {
        band: Band::Full,
        channels: 1,
    });
    let series = Index::build(vec![1.0, 2.0, f32::NAN, 1.0, 2.0, 3.0], 3, dtw).unwrap();
    let row = series.get_vectors(&[0]).unwrap();
    assert_eq!(row[..2], [1.0, 2.0]);
    assert!(row[2].is_nan(), "the padding is kept");
}

fn range(radius: f32, max_results: Option<usize>, exact: bool) -> RangeOptions {
    RangeOptions {
        radius,
        max_results,
        ef: 16,
        n_searches: 2,
        exact,
    }
}

#[test]
fn range_search_returns_what_a_full_exact_search_puts_within_the_radius() {
    let dtw = Metric::Dtw {
        band: Band::Radius(3),
        channels: 1,
    };
    for metric in [Metric::Euclidean, Metric::Cosine, dtw] {
        let (n, dim) = (600, 16);
        let data = gaussian_like(n, dim, 7);
        let mut index = Index::build(data.clone(), dim, options(metric)).unwrap();
        index.remove(&[3, 10]).unwrap();
        let queries = gaussian_like(20, dim, 8);
        let all = index
            .search(queries.clone(), &query(index.len(), true))
            .unwrap();
        // The distance of the 30th nearest of the first query: about 30 points within.
        let radius = all.distances[29];
        let (mut hits, mut truth) = (0, 0);
        for exact in [true, false] {
            let found = index
                .search_radius(
                    queries.clone(),
                    dim,
                    &range(radius, None, exact),
                    &Filter::All,
                )
                .unwrap();
            for q in 0..20 {
                let row = &all.distances[q * all.k..(q + 1) * all.k];
                let inside = row.partition_point(|&d| d <= radius);
                let ids = &found.ids[found.offsets[q]..found.offsets[q + 1]];
                let expected = &all.ids[q * all.k..q * all.k + inside];
                if exact {
                    assert_eq!(ids, expected, "{metric:?} query {q}");
                    let distances = &found.distances[found.offsets[q]..found.offsets[q + 1]];
                    assert_eq!(distances, &row[..inside]);
                } else {
                    hits += ids.iter().filter(|id| expected.contains(id)).count();
                    truth += inside;
                    assert!(ids.iter().all(|&id| id != 3 && id != 10));
                }
            }
            assert!(found.n_distance_computations.iter().all(|&c| c > 0));
        }
        assert!(
            hits as f64 >= 0.95 * truth as f64,
            "{metric:?}: {hits} of {truth}"
        );
    }
}

#[test]
fn range_search_caps_at_max_results_and_checks_its_input() {
    let dim = 4;
    let index = Index::build(gaussian_like(200, dim, 1), dim, options(Metric::Euclidean)).unwrap();
    let queries = gaussian_like(3, dim, 2);
    let all = index
        .search_radius(
            queries.clone(),
            dim,
            &range(f32::MAX, None, true),
            &Filter::All,
        )
        .unwrap();
    assert_eq!(all.offsets, vec![0, 200, 400, 600]);
    for exact in [true, false] {
        let capped = index
            .search_radius(
                queries.clone(),
                dim,
                &range(f32::MAX, Some(5), exact),
                &Filter::All,
            )
            .unwrap();
        assert_eq!(capped.offsets, vec![0, 5, 10, 15]);
        assert_eq!(capped.ids[..5], all.ids[..5]);
    }
    let none = index
        .search_radius(queries.clone(), dim, &range(0.0, None, false), &Filter::All)
        .unwrap();
    assert_eq!(none.offsets, vec![0, 0, 0, 0]);
    let zero = range(1.0, Some(0), true);
    assert!(matches!(
        index.search_radius(queries.clone(), dim, &zero, &Filter::All),
        Err(Error::InvalidParameter {
            name: "max_results",
            ..
        })
    ));
    for radius in [-1.0, f32::NAN, f32::INFINITY] {
        let found = index.search_radius(
            queries.clone(),
            dim,
            &range(radius, None, true),
            &Filter::All,
        );
        assert!(
            matches!(found, Err(Error::InvalidRadius { .. })),
            "{radius}"
        );
    }
}

/// The `k` nearest of `allowed` rows of `data` to `q`, by a plain sort of (distance, id).
fn brute_force_among(data: &[f32], dim: usize, q: &[f32], allowed: &[u64], k: usize) -> Vec<u64> {
    let mut all: Vec<(f32, u64)> = allowed
        .iter()
        .map(|&id| {
            let row = &data[id as usize * dim..(id as usize + 1) * dim];
            (metric::squared_euclidean(row, q), id)
        })
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.iter().take(k).map(|x| x.1).collect()
}

#[test]
fn filtered_search_returns_only_allowed_points_exactly_or_with_recall() {
    let (n, dim, k) = (6000, 16, 10);
    let data = gaussian_like(n, dim, 201);
    let index = Index::build(data.clone(), dim, options(Metric::Euclidean)).unwrap();
    let queries = gaussian_like(100, dim, 202);
    let mut rng = Pcg64Mcg::seed_from_u64(203);
    for fraction in [0.5, 0.1, 0.01] {
        let allowed: Vec<u64> = (0..n as u64)
            .filter(|_| rng.random::<f64>() < fraction)
            .collect();
        let truth: Vec<u64> = queries
            .chunks(dim)
            .flat_map(|q| brute_force_among(&data, dim, q, &allowed, k))
            .collect();
        let filter = Filter::Shared(Allow::Ids(allowed.clone()));
        let mask: Vec<bool> = (0..n as u64).map(|id| allowed.contains(&id)).collect();
        let exact = index
            .search_rows(queries.clone(), dim, &query(k, true), &filter)
            .unwrap();
        assert_eq!(exact.ids, truth, "exact at {fraction}");
        let graph = index
            .search_rows(queries.clone(), dim, &query(k, false), &filter)
            .unwrap();
        assert!(graph.ids.iter().all(|id| allowed.contains(id)));
        let r = recall(&graph.ids, &truth, k);
        assert!(r >= 0.95, "recall {r} at {fraction}");
        // The graph search costs no more than twice a scan of the allowed points.
        let worst = graph.n_distance_computations.iter().max().unwrap();
        assert!(
            *worst as usize <= 2 * allowed.len() + 64,
            "{worst} at {fraction}"
        );
        let by_mask = index
            .search_rows(
                queries.clone(),
                dim,
                &query(k, false),
                &Filter::Shared(Allow::Mask(mask)),
            )
            .unwrap();
        assert_eq!(by_mask, graph, "a mask and its ids filter alike");
        // One filter per query: the first query's own, then the others with every point.
        let mut each = vec![Allow::Mask(vec![true; n]); queries.len() / dim];
        each[0] = Allow::Ids(allowed.clone());
        let per_query = index
            .search_rows(
                queries.clone(),
                dim,
                &query(k, true),
                &Filter::PerQuery(each),
            )
            .unwrap();
        let unfiltered = index.search(queries.clone(), &query(k, true)).unwrap();
        assert_eq!(per_query.ids[..k], truth[..k]);
        assert_eq!(per_query.ids[k..], unfiltered.ids[k..]);
    }
}

#[test]
fn a_filter_leaving_fewer_than_k_points_pads_and_removed_points_stay_out() {
    let (n, dim, k) = (2000, 8, 10);
    let data = gaussian_like(n, dim, 211);
    let mut index = Index::build(data.clone(), dim, options(Metric::Cosine)).unwrap();
    index.remove(&[3, 4]).unwrap();
    let filter = Filter::Shared(Allow::Ids(vec![3, 4, 5, 1999, 5]));
    for exact in [false, true] {
        let got = index
            .search_rows(data[..dim].to_vec(), dim, &query(k, exact), &filter)
            .unwrap();
        let mut found = got.ids[..2].to_vec();
        found.sort_unstable();
        assert_eq!(found, [5, 1999]);
        assert!(got.ids[2..].iter().all(|&id| id == NO_LABEL));
        assert!(got.distances[2..].iter().all(|d| d.is_infinite()));
        let range = RangeOptions {
            radius: f32::MAX,
            max_results: None,
            ef: 16,
            n_searches: 2,
            exact,
        };
        let within = index
            .search_radius(data[..dim].to_vec(), dim, &range, &filter)
            .unwrap();
        assert_eq!(within.offsets, [0, 2]);
    }
    let q = data[..dim].to_vec();
    for (filter, error) in [
        (
            Filter::Shared(Allow::Ids(vec![2000])),
            Error::IdOutOfRange { id: 2000, max: n },
        ),
        (
            Filter::Shared(Allow::Mask(vec![true; 3])),
            Error::FilterMismatch {
                expected: n,
                received: 3,
            },
        ),
        (
            Filter::PerQuery(vec![]),
            Error::FiltersMismatch {
                expected: 1,
                received: 0,
            },
        ),
    ] {
        assert_eq!(
            index.search_rows(q.clone(), dim, &query(k, false), &filter),
            Err(error)
        );
    }
}

#[test]
fn labels_are_returned_and_survive_removal_growth_compaction_and_saving() {
    let (n, dim, k) = (3000, 8, 5);
    let data = gaussian_like(n + 500, dim, 221);
    let labels: Vec<u64> = (0..n as u64).map(|i| u64::MAX - 1 - 7 * i).collect();
    let mut index = Index::build_with_progress(
        data[..n * dim].to_vec(),
        dim,
        options(Metric::Euclidean),
        Some(labels.clone()),
        &Progress::new(),
    )
    .unwrap();
    let q = data[17 * dim..18 * dim].to_vec();
    let first = |index: &Index| index.search(q.clone(), &query(k, true)).unwrap().ids[0];
    assert_eq!(first(&index), labels[17]);
    assert_eq!(index.get_vectors(&[labels[17]]).unwrap(), q);
    assert_eq!(index.get_vectors(&[17]), Err(Error::UnknownId { id: 17 }));
    assert_eq!(index.add(data[..dim].to_vec()), Err(Error::IdsRequired));
    let clash = index.add_with_progress(
        data[..dim].to_vec(),
        Some(vec![labels[9]]),
        &Progress::new(),
    );
    assert_eq!(clash, Err(Error::DuplicateLabel { label: labels[9] }));
    assert_eq!(index.n_ids(), n);
    let more: Vec<u64> = (0..500).collect();
    index
        .add_with_progress(
            data[n * dim..].to_vec(),
            Some(more.clone()),
            &Progress::new(),
        )
        .unwrap();
    let q_added = data[(n + 42) * dim..(n + 43) * dim].to_vec();
    assert_eq!(
        index.search(q_added.clone(), &query(1, false)).unwrap().ids,
        [42]
    );
    index.remove(&[labels[17], 42]).unwrap();
    assert_eq!(index.remove(&[42]), Err(Error::AlreadyRemoved { id: 42 }));
    let unknown = 1_000_000;
    assert_eq!(
        index.remove(&[unknown]),
        Err(Error::UnknownId { id: unknown })
    );
    assert_ne!(first(&index), labels[17]);
    let before = index.search(q.clone(), &query(k, true)).unwrap();
    let kept = index.compact().unwrap();
    assert_eq!(
        kept,
        index.labels().unwrap(),
        "compact returns the labels, which stay"
    );
    assert_eq!(
        index.search(q.clone(), &query(k, true)).unwrap().ids,
        before.ids
    );
    let back = crate::persist::read_index(&{
        let mut bytes = Vec::new();
        crate::persist::write_index(&index, &mut bytes).unwrap();
        bytes
    })
    .unwrap();
    assert_eq!(back.labels(), index.labels());
    assert_eq!(
        back.search(q.clone(), &query(k, true)).unwrap(),
        index.search(q, &query(k, true)).unwrap()
    );
    // Labels freed by compaction can be given again.
    index
        .add_with_progress(q_added, Some(vec![42]), &Progress::new())
        .unwrap();
}

#[test]
fn labels_given_to_an_index_without_them_keep_the_row_numbers() {
    let (n, dim) = (500, 4);
    let data = gaussian_like(n + 2, dim, 231);
    let mut index =
        Index::build(data[..n * dim].to_vec(), dim, options(Metric::Euclidean)).unwrap();
    assert_eq!(index.labels(), None);
    let clash = index.add_with_progress(
        data[n * dim..].to_vec(),
        Some(vec![1000, 7]),
        &Progress::new(),
    );
    assert_eq!(clash, Err(Error::DuplicateLabel { label: 7 }));
    assert_eq!((index.labels(), index.n_ids()), (None, n));
    index
        .add_with_progress(
            data[n * dim..].to_vec(),
            Some(vec![1000, 1001]),
            &Progress::new(),
        )
        .unwrap();
    let labels = index.labels().unwrap();
    assert_eq!(
        (labels[..3].to_vec(), labels[n..].to_vec()),
        (vec![0, 1, 2], vec![1000, 1001])
    );
    let bad = Index::build_with_progress(
        data[..n * dim].to_vec(),
        dim,
        options(Metric::Euclidean),
        Some(vec![1, 2]),
        &Progress::new(),
    );
    assert_eq!(
        bad.unwrap_err(),
        Error::IdsMismatch {
            expected: n,
            received: 2
        }
    );
}
