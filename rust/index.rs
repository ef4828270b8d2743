//! The index: points, their graph and the metric, with batch search in parallel.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::distance::{Cosine, Cost, Distance, Dtw, Envelopes, SquaredEuclidean};
use crate::error::{Error, Result};
use crate::graph::{self, BuildParams, Graph};
use crate::memory;
use crate::points::Points;
use crate::progress::Progress;
use crate::search::{Search, SearchParams};

/// The dissimilarity an index ranks by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Euclidean,
    /// `1 - cos`: vectors are normalised once, then ranked by Euclidean distance.
    Cosine,
    /// Dynamic Time Warping with a Sakoe-Chiba band of this radius, in points.
    Dtw {
        sakoe_chiba_radius: usize,
    },
}

impl Metric {
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Euclidean => "euclidean",
            Metric::Cosine => "cosine",
            Metric::Dtw { .. } => "dtw",
        }
    }

    /// Whether rows may end in NaN padding: only DTW compares series of unequal length.
    fn allows_padding(&self) -> bool {
        matches!(self, Metric::Dtw { .. })
    }
}

/// How to build an index.
///
/// `n_neighbors` and `max_degree` both 0 build no graph: an index for exact search only, which
/// costs no distance computation to build (brute force never reads the links).
#[derive(Clone, Copy, Debug)]
pub struct IndexOptions {
    pub metric: Metric,
    /// Neighbours linked to each inserted point; 0 without a graph.
    pub n_neighbors: usize,
    /// Cap on a node's degree (at least `n_neighbors`); 0 without a graph.
    pub max_degree: usize,
    /// Result-store size of the searches that find a new point's neighbours.
    pub ef_construction: usize,
    /// Restarts of those searches.
    pub n_searches: usize,
    /// Seed of the construction and of the searches' entry points.
    pub seed: u64,
}

impl IndexOptions {
    /// Whether these options link the points into a graph.
    pub fn has_graph(&self) -> bool {
        self.max_degree > 0
    }
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self {
            metric: Metric::Euclidean,
            n_neighbors: 16,
            max_degree: 32,
            ef_construction: 100,
            n_searches: 2,
            seed: 0,
        }
    }
}

/// How to search.
#[derive(Clone, Copy, Debug)]
pub struct QueryOptions {
    pub k: usize,
    /// Result-store size of the graph search (at least `k` is used).
    pub ef: usize,
    /// Restarts from random entry points.
    pub n_searches: usize,
    /// Brute force over every point instead of the graph.
    pub exact: bool,
}

/// Answers to a batch of queries, row-major `(n_queries, k)`; ids are `-1` and distances `inf`
/// where fewer than `k` points exist.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Neighbors {
    pub k: usize,
    pub ids: Vec<i64>,
    pub distances: Vec<f32>,
    /// Distances computed for each query (DTW computations started, some abandoned early).
    pub n_distance_computations: Vec<u64>,
    /// Lower bounds (LB_Keogh) computed for each query to avoid distance computations.
    pub n_lower_bound_computations: Vec<u64>,
}

/// A navigable small world graph over a set of points.
#[derive(Debug, Clone)]
pub struct Index {
    points: Points,
    /// Envelopes of the points for LB_Keogh, under DTW on series of equal length.
    envelopes: Option<Envelopes>,
    graph: Graph,
    options: IndexOptions,
    /// Deletion marks, one per point once something was removed, empty before.
    deleted: Vec<bool>,
    n_deleted: usize,
    build_distance_computations: u64,
}

impl Index {
    /// Builds an index over `data`, rows of `dim` values, with the current rayon thread pool.
    pub fn build(data: Vec<f32>, dim: usize, options: IndexOptions) -> Result<Self> {
        Self::build_with_progress(data, dim, options, &Progress::new())
    }

    /// [`Index::build`], reporting to `progress` and stopping with [`Error::Interrupted`] once it
    /// is cancelled.
    pub fn build_with_progress(
        data: Vec<f32>,
        dim: usize,
        options: IndexOptions,
        progress: &Progress,
    ) -> Result<Self> {
        let points = Self::checked_points(data, dim, &options.metric)?;
        if points.is_empty() {
            return Err(Error::Empty);
        }
        let mut index = Self::from_parts(points, None, options, Vec::new(), 0)?;
        index.link_from(0, progress)?;
        Ok(index)
    }

    /// An index over `points` with `graph` and deletion marks. Without a graph, the points are
    /// left unlinked: [`Index::link_from`] must link them.
    pub(crate) fn from_parts(
        points: Points,
        graph: Option<Graph>,
        options: IndexOptions,
        deleted: Vec<bool>,
        build_distance_computations: u64,
    ) -> Result<Self> {
        check_options(&options)?;
        check_size(points.len())?;
        let envelopes = match options.metric {
            Metric::Dtw { sakoe_chiba_radius } => Envelopes::new(&points, sakoe_chiba_radius),
            _ => None,
        };
        let n_deleted = deleted.iter().filter(|&&d| d).count();
        // Without a graph, `link_from` follows and advises once the graph is sized.
        let linked = graph.is_some();
        let index = Self {
            graph: graph.unwrap_or_else(|| Graph::new(0, options.max_degree)),
            points,
            envelopes,
            options,
            deleted,
            n_deleted,
            build_distance_computations,
        };
        if linked {
            index.advise_huge_pages();
        }
        Ok(index)
    }

    /// Asks for huge pages under the rows and the adjacency, which a graph search reads at
    /// random. Exact search alone reads the rows in order or spends far longer per row than a
    /// TLB miss costs, so an index without a graph is left on small pages, sparing its build
    /// (a fit of the estimators) the copy into huge pages.
    fn advise_huge_pages(&self) {
        if !self.has_graph() {
            return;
        }
        memory::advise_huge_pages(self.points.as_slice());
        memory::advise_huge_pages(self.graph.links());
    }

    /// Appends the rows of `data` and links them into the graph, as if they had been inserted at
    /// build time after the others. Returns the id of the first new row; ids continue from the
    /// last one.
    pub fn add(&mut self, data: Vec<f32>) -> Result<u64> {
        self.add_with_progress(data, &Progress::new())
    }

    /// [`Index::add`], reporting to `progress`. Once `progress` is cancelled it stops with
    /// [`Error::Interrupted`] and leaves the index exactly as it was before the call.
    pub fn add_with_progress(&mut self, data: Vec<f32>, progress: &Progress) -> Result<u64> {
        if data.len() % self.dim() != 0 {
            return Err(Error::DimensionMismatch {
                expected: self.dim(),
                received: data.len(),
            });
        }
        let more = Self::checked_points(data, self.dim(), &self.options.metric)?;
        let first = self.points.len();
        check_size(first + more.len())?;
        self.points.extend(more);
        if !self.deleted.is_empty() {
            self.deleted.resize(self.points.len(), false);
        }
        if let Metric::Dtw { sakoe_chiba_radius } = self.options.metric {
            self.envelopes = Envelopes::new(&self.points, sakoe_chiba_radius);
        }
        if let Err(e) = self.link_from(first, progress) {
            // The graph is restored already; drop the new points and what was derived from them.
            self.points.truncate(first);
            if !self.deleted.is_empty() {
                self.deleted.truncate(first);
            }
            if let Metric::Dtw { sakoe_chiba_radius } = self.options.metric {
                self.envelopes = Envelopes::new(&self.points, sakoe_chiba_radius);
            }
            return Err(e);
        }
        Ok(first as u64)
    }

    /// Marks the points `ids` deleted: searches walk through them but never return them. All ids
    /// are checked before any is removed, so an error removes nothing.
    pub fn remove(&mut self, ids: &[u64]) -> Result<()> {
        let n = self.points.len();
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        for &id in ids {
            if id >= n as u64 {
                return Err(Error::IdOutOfRange { id, max: n });
            }
            if self.is_deleted(id as u32) || !seen.insert(id) {
                return Err(Error::AlreadyRemoved { id });
            }
        }
        if ids.len() == self.live_len() {
            return Err(Error::RemovingEverything);
        }
        if self.deleted.is_empty() {
            self.deleted = vec![false; n];
        }
        for &id in ids {
            self.deleted[id as usize] = true;
        }
        self.n_deleted += ids.len();
        Ok(())
    }

    /// Rebuilds the index over the points not removed, freeing the memory of the removed ones.
    /// Ids change: returns the old id of each new one.
    pub fn compact(&mut self) -> Result<Vec<u64>> {
        self.compact_with_progress(&Progress::new())
    }

    /// [`Index::compact`], reporting to `progress`. Once `progress` is cancelled it stops with
    /// [`Error::Interrupted`] and leaves the index as it was.
    pub fn compact_with_progress(&mut self, progress: &Progress) -> Result<Vec<u64>> {
        let kept: Vec<u64> = (0..self.points.len() as u32)
            .filter(|&id| !self.is_deleted(id))
            .map(u64::from)
            .collect();
        let points = self.points.retain(|id| !self.is_deleted(id));
        let mut compacted = Self::from_parts(points, None, self.options, Vec::new(), 0)?;
        compacted.link_from(0, progress)?;
        *self = compacted;
        Ok(kept)
    }

    /// Whether point `id` was removed.
    pub fn is_deleted(&self, id: u32) -> bool {
        self.deleted.get(id as usize).copied().unwrap_or(false)
    }

    /// Number of points not removed.
    pub fn live_len(&self) -> usize {
        self.points.len() - self.n_deleted
    }

    /// Deletion marks, one per point, or empty when nothing was removed.
    pub fn deleted(&self) -> &[bool] {
        &self.deleted
    }

    pub fn points(&self) -> &Points {
        &self.points
    }

    fn checked_points(data: Vec<f32>, dim: usize, metric: &Metric) -> Result<Points> {
        let mut points = Points::new(data, dim, metric.allows_padding())?;
        if *metric == Metric::Cosine {
            points.normalize()?;
        }
        Ok(points)
    }

    /// Links rows `from..` into the graph; interrupted, leaves the graph as it was. Without a
    /// graph, only makes room for the rows.
    fn link_from(&mut self, from: usize, progress: &Progress) -> Result<()> {
        let o = self.options;
        self.graph.resize(self.points.len());
        self.advise_huge_pages();
        if !self.has_graph() {
            progress.start(self.points.len() - from, self.points.len() - from);
            return Ok(());
        }
        let params = BuildParams {
            n_neighbors: o.n_neighbors,
            max_degree: o.max_degree,
            ef_construction: o.ef_construction,
            n_searches: o.n_searches,
            seed: o.seed,
        };
        let (graph, points, deleted) = (&mut self.graph, &self.points, &self.deleted);
        self.build_distance_computations += match o.metric {
            Metric::Euclidean => graph::insert(
                graph,
                points,
                &SquaredEuclidean,
                &params,
                from,
                deleted,
                progress,
            ),
            Metric::Cosine => {
                graph::insert(graph, points, &Cosine, &params, from, deleted, progress)
            }
            Metric::Dtw { sakoe_chiba_radius } => {
                let dtw = Dtw {
                    sakoe_chiba_radius,
                    envelopes: self.envelopes.as_ref(),
                };
                graph::insert(graph, points, &dtw, &params, from, deleted, progress)
            }
        }?;
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.points.dim()
    }

    pub fn options(&self) -> &IndexOptions {
        &self.options
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Whether the points are linked into a graph; without one, only exact search answers.
    pub fn has_graph(&self) -> bool {
        self.options.has_graph()
    }

    /// Distances computed while building and adding.
    pub fn build_distance_computations(&self) -> u64 {
        self.build_distance_computations
    }

    /// Searches every row of `queries` (rows of `dim` values) in parallel on the current rayon
    /// thread pool; answers keep the order of the queries.
    pub fn search(&self, queries: Vec<f32>, query: &QueryOptions) -> Result<Neighbors> {
        if query.k == 0 || query.k > self.live_len() {
            return Err(Error::InvalidK {
                k: query.k,
                n: self.live_len(),
            });
        }
        if query.n_searches == 0 {
            return Err(Error::InvalidParameter {
                name: "n_searches",
                requirement: "at least 1",
                value: 0,
            });
        }
        if !query.exact && !self.has_graph() {
            return Err(Error::NoGraph);
        }
        if queries.len() % self.dim() != 0 {
            return Err(Error::DimensionMismatch {
                expected: self.dim(),
                received: queries.len(),
            });
        }
        let mut queries = Points::new(queries, self.dim(), self.options.metric.allows_padding())?;
        match self.options.metric {
            Metric::Euclidean => self.search_with(&queries, &SquaredEuclidean, query),
            Metric::Cosine => {
                queries.normalize()?;
                self.search_with(&queries, &Cosine, query)
            }
            Metric::Dtw { sakoe_chiba_radius } => {
                let dtw = Dtw {
                    sakoe_chiba_radius,
                    envelopes: self.envelopes.as_ref(),
                };
                self.search_with(&queries, &dtw, query)
            }
        }
    }

    /// Monomorphised search loop: the metric is dispatched once per batch, not per distance.
    fn search_with<D: Distance>(
        &self,
        queries: &Points,
        distance: &D,
        query: &QueryOptions,
    ) -> Result<Neighbors> {
        let k = query.k;
        let params = SearchParams {
            k,
            ef: query.ef,
            n_searches: query.n_searches,
            seed: self.options.seed,
            limit: self.len(),
        };
        let n = self.len();
        let answers: Vec<(Vec<(i64, f32)>, Cost)> = (0..queries.len() as u32)
            .into_par_iter()
            .map_init(
                || Search::<D::Scratch>::new(n),
                |s, q| {
                    let row = queries.row(q);
                    if query.exact {
                        s.exact(row, &self.points, distance, &self.deleted, k);
                    } else {
                        s.greedy(
                            row,
                            &self.points,
                            &self.graph,
                            distance,
                            &self.deleted,
                            &params,
                        );
                    }
                    let found = s.nearest().iter().take(k);
                    let pairs = found
                        .map(|c| (i64::from(c.id), distance.finish(c.distance)))
                        .collect();
                    (pairs, s.cost)
                },
            )
            .collect();
        let mut out = Neighbors {
            k,
            ids: Vec::with_capacity(answers.len() * k),
            distances: Vec::with_capacity(answers.len() * k),
            n_distance_computations: Vec::with_capacity(answers.len()),
            n_lower_bound_computations: Vec::with_capacity(answers.len()),
        };
        for (pairs, cost) in answers {
            let missing = k - pairs.len();
            for (id, d) in pairs {
                out.ids.push(id);
                out.distances.push(d);
            }
            out.ids.extend(std::iter::repeat_n(-1, missing));
            out.distances
                .extend(std::iter::repeat_n(f32::INFINITY, missing));
            out.n_distance_computations.push(cost.distances);
            out.n_lower_bound_computations.push(cost.lower_bounds);
        }
        Ok(out)
    }
}

/// Runs `f` on a pool of `n_threads` threads, or on rayon's global pool (one thread per core) when
/// `n_threads` is 0.
///
/// Pools are made once per thread count and kept: starting threads costs milliseconds on a busy
/// machine, more than a small batch of queries takes.
pub fn with_threads<R: Send>(n_threads: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    static POOLS: Mutex<BTreeMap<usize, Arc<rayon::ThreadPool>>> = Mutex::new(BTreeMap::new());
    if n_threads == 0 {
        return Ok(f());
    }
    let pool = {
        // A panic elsewhere cannot leave the map half changed: take it as it is.
        let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
        match pools.get(&n_threads) {
            Some(pool) => Arc::clone(pool),
            None => {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(n_threads)
                    .build()
                    .map_err(|e| Error::ThreadPool {
                        threads: n_threads,
                        reason: e.to_string(),
                    })?;
                Arc::clone(pools.entry(n_threads).or_insert(Arc::new(pool)))
            }
        }
    };
    Ok(pool.install(f))
}

fn check_size(n: usize) -> Result<()> {
    if n >= u32::MAX as usize {
        return Err(Error::InvalidParameter {
            name: "the number of points",
            requirement: "below 2^32 - 1",
            value: n,
        });
    }
    Ok(())
}

fn check_options(o: &IndexOptions) -> Result<()> {
    let at_least_one = |name, value: usize| {
        if value == 0 {
            Err(Error::InvalidParameter {
                name,
                requirement: "at least 1",
                value,
            })
        } else {
            Ok(())
        }
    };
    at_least_one("ef_construction", o.ef_construction)?;
    at_least_one("n_searches", o.n_searches)?;
    if o.n_neighbors == 0 && o.max_degree == 0 {
        // No graph: an index for exact search only.
        return Ok(());
    }
    at_least_one("n_neighbors", o.n_neighbors)?;
    if o.max_degree < o.n_neighbors {
        return Err(Error::InvalidParameter {
            name: "max_degree",
            requirement: "at least n_neighbors",
            value: o.max_degree,
        });
    }
    if o.max_degree > 4096 {
        return Err(Error::InvalidParameter {
            name: "max_degree",
            requirement: "at most 4096",
            value: o.max_degree,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    fn gaussian_like(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        // A sum of uniforms is close enough to Gaussian for clustered-free test data.
        (0..n * dim)
            .map(|_| (0..4).map(|_| rng.random::<f32>() - 0.5).sum())
            .collect()
    }

    fn options(metric: Metric) -> IndexOptions {
        IndexOptions {
            metric,
            ..IndexOptions::default()
        }
    }

    fn query(k: usize, exact: bool) -> QueryOptions {
        QueryOptions {
            k,
            ef: 64,
            n_searches: 4,
            exact,
        }
    }

    fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
        with_threads(threads, f).unwrap()
    }

    fn recall(found: &[i64], truth: &[i64], k: usize) -> f64 {
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
            (
                13,
                Metric::Dtw {
                    sakoe_chiba_radius: 3,
                },
            ),
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
        let metric = Metric::Dtw {
            sakoe_chiba_radius: 2,
        };
        let (n, dim, k) = (500, 16, 5);
        let data = gaussian_like(n, dim, 21);
        let linked = Index::build(data.clone(), dim, options(metric)).unwrap();
        let bare = IndexOptions {
            n_neighbors: 0,
            max_degree: 0,
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
        assert_eq!((first.ids[0], first.distances[0]), (n as i64, 0.0));
        index.remove(&[n as u64]).unwrap();
        index.compact().unwrap();
        assert!(!index.has_graph() && index.len() == n);
        assert_eq!(exact, index.search(queries, &query(k, true)).unwrap());
        // Only both sizes 0 mean no graph.
        for (n_neighbors, max_degree) in [(0, 4), (4, 0)] {
            let o = IndexOptions {
                n_neighbors,
                max_degree,
                ..options(metric)
            };
            assert!(matches!(
                Index::build(vec![1.0; 4], 2, o),
                Err(Error::InvalidParameter { .. })
            ));
        }
    }

    #[test]
    fn lower_bounds_change_no_answer_and_save_dtw_computations() {
        use crate::search::{Search, SearchParams};
        let (n, dim, radius) = (1500, 40, 4);
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
        let index = Index::build(
            walk(31),
            dim,
            options(Metric::Dtw {
                sakoe_chiba_radius: radius,
            }),
        )
        .unwrap();
        let queries = Points::new(walk(32)[..40 * dim].to_vec(), dim, false).unwrap();
        /// DTW without its bounds: the trait's default evaluation computes every distance.
        struct Unbounded(usize);
        impl Distance for Unbounded {
            type Scratch = crate::dtw::DtwScratch;
            fn eval(&self, a: &[f32], b: &[f32], s: &mut Self::Scratch) -> f32 {
                crate::dtw::dtw_squared(a, b, self.0, s) as f32
            }
            fn finish(&self, ranking: f32) -> f32 {
                ranking.sqrt()
            }
        }
        let pruned = Dtw {
            sakoe_chiba_radius: radius,
            envelopes: index.envelopes.as_ref(),
        };
        let plain = Unbounded(radius);
        let params = SearchParams {
            k: 5,
            ef: 32,
            n_searches: 2,
            seed: 0,
            limit: n,
        };
        let (mut a, mut b) = (Search::new(n), Search::new(n));
        let (mut full, mut saved) = (0, 0);
        for q in 0..queries.len() as u32 {
            let row = queries.row(q);
            a.exact(row, &index.points, &pruned, &[], 5);
            b.exact(row, &index.points, &plain, &[], 5);
            assert_eq!(a.nearest(), b.nearest(), "exact, query {q}");
            assert!(a.cost.distances < b.cost.distances && b.cost.distances == n as u64);
            a.greedy(row, &index.points, &index.graph, &pruned, &[], &params);
            b.greedy(row, &index.points, &index.graph, &plain, &[], &params);
            assert_eq!(a.nearest(), b.nearest(), "graph, query {q}");
            full += b.cost.distances;
            saved += b.cost.distances - a.cost.distances;
            assert!(a.cost.lower_bounds > 0);
        }
        assert!(
            saved * 4 > full,
            "bounds saved only {saved} of {full} DTW computations"
        );
    }

    #[test]
    fn added_points_are_found_as_well_as_built_ones() {
        let (n, dim, k) = (4000, 16, 10);
        let data = gaussian_like(n, dim, 41);
        let split = n * 4 / 5 * dim;
        let full = Index::build(data.clone(), dim, options(Metric::Euclidean)).unwrap();
        let mut grown =
            Index::build(data[..split].to_vec(), dim, options(Metric::Euclidean)).unwrap();
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
    fn rows_on_huge_pages_keep_their_values_through_add_and_load() {
        // 10,000 rows of 128 values take 5 MB, so they hold whole 2 MiB pages that are advised
        // after the build, again after `add` has moved them, and after a load.
        let (n, dim, k) = (10_000, 128, 5);
        let data = gaussian_like(n, dim, 61);
        let half = n / 2 * dim;
        let mut index =
            Index::build(data[..half].to_vec(), dim, options(Metric::Euclidean)).unwrap();
        index.add(data[half..].to_vec()).unwrap();
        assert_eq!(index.points().as_slice(), &data[..]);
        let ids: Vec<usize> = (0..n).step_by(97).collect();
        let queries: Vec<f32> = ids
            .iter()
            .flat_map(|&id| &data[id * dim..(id + 1) * dim])
            .copied()
            .collect();
        let exact = index.search(queries.clone(), &query(k, true)).unwrap();
        for (&id, row) in ids.iter().zip(exact.ids.chunks(k)) {
            assert_eq!(row[0], id as i64, "an indexed row is its own nearest");
        }
        let graph = index.search(queries.clone(), &query(k, false)).unwrap();
        let r = recall(&graph.ids, &exact.ids, k);
        println!("recall@{k} on 128-d rows: {r:.3}");
        assert!(r > 0.8, "{r}");
        // Read back from a file, the rows are advised once more.
        let mut bytes = Vec::new();
        crate::persist::write_index(&index, &mut bytes).unwrap();
        let loaded = crate::persist::read_index(&bytes).unwrap();
        assert_eq!(loaded.points().as_slice(), &data[..]);
        assert_eq!(
            loaded.search(queries, &query(k, false)).unwrap().ids,
            graph.ids
        );
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
            assert_eq!(index.live_len(), n - removed.len());
            let truth = index.search(queries.clone(), &query(k, true)).unwrap();
            let got = index.search(queries.clone(), &query(k, false)).unwrap();
            for ids in [&truth.ids, &got.ids] {
                assert!(ids
                    .iter()
                    .all(|&id| id >= 0 && !removed.contains(&(id as u64))));
            }
            let r = recall(&got.ids, &truth.ids, k);
            println!("recall@{k} after removing {fraction}%: {r:.3}");
            assert!(r >= 0.95, "{fraction}% removed: recall {r}");
            let old_ids = index.compact().unwrap();
            assert_eq!(index.len(), n - removed.len());
            let compacted = index.search(queries.clone(), &query(k, true)).unwrap();
            let mapped: Vec<i64> = compacted
                .ids
                .iter()
                .map(|&id| old_ids[id as usize] as i64)
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
            Index::build_with_progress(data, 8, options(Metric::Euclidean), &progress).unwrap();
        assert_eq!((progress.done(), progress.total()), (3000, 3000));
        let mut index = index;
        index
            .add_with_progress(gaussian_like(200, 8, 62), &progress)
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
        assert!(index.graph == before.graph && index.deleted == before.deleted);
        assert_eq!(index.points.as_slice(), before.points.as_slice());
    }

    #[test]
    fn an_interrupted_add_leaves_the_index_as_it_was() {
        let (n, dim) = (4000, 8);
        let metric = Metric::Dtw {
            sakoe_chiba_radius: 2,
        };
        let mut index = Index::build(gaussian_like(n, dim, 81), dim, options(metric)).unwrap();
        index.remove(&[3, 5]).unwrap();
        let before = index.clone();
        let progress = Progress::new();
        let added = cancel_at(&progress, 1500, || {
            index.add_with_progress(gaussian_like(3 * n, dim, 82), &progress)
        });
        assert_eq!(added.unwrap_err(), Error::Interrupted);
        assert!(progress.done() >= 1500 && progress.done() < 3 * n);
        assert!(index.graph == before.graph, "the graph was not restored");
        assert_eq!(index.points.as_slice(), before.points.as_slice());
        assert_eq!(index.deleted, before.deleted);
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
        let mut index =
            Index::build(gaussian_like(50, 3, 1), 3, options(Metric::Euclidean)).unwrap();
        assert_eq!(
            index.remove(&[4, 50]).unwrap_err(),
            Error::IdOutOfRange { id: 50, max: 50 }
        );
        assert_eq!(
            index.remove(&[4, 4]).unwrap_err(),
            Error::AlreadyRemoved { id: 4 }
        );
        assert_eq!(index.live_len(), 50);
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
        assert_eq!(index.len(), 50);
    }

    #[test]
    fn exact_search_matches_a_plain_sort() {
        let (n, dim, k) = (500, 8, 7);
        let data = gaussian_like(n, dim, 5);
        let index = Index::build(data.clone(), dim, options(Metric::Euclidean)).unwrap();
        let q = gaussian_like(1, dim, 6);
        let got = index.search(q.clone(), &query(k, true)).unwrap();
        let mut all: Vec<(f32, i64)> = data
            .chunks(dim)
            .enumerate()
            .map(|(i, row)| (crate::distance::squared_euclidean(row, &q).sqrt(), i as i64))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let want: Vec<i64> = all[..k].iter().map(|x| x.1).collect();
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
        for id in 0..index.len() as u32 {
            let nb = index.graph.neighbors(id);
            assert!(
                !nb.is_empty() && nb.len() <= index.options.max_degree,
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
            assert_eq!(got.ids, (0..8).collect::<Vec<i64>>(), "exact = {exact}");
            assert!(got.distances.iter().all(|&d| d == 0.0));
        }
    }

    #[test]
    fn k_equal_to_the_number_of_points_returns_every_point() {
        let (n, dim) = (300, 4);
        let index =
            Index::build(gaussian_like(n, dim, 1), dim, options(Metric::Euclidean)).unwrap();
        let got = index
            .search(gaussian_like(3, dim, 2), &query(n, false))
            .unwrap();
        for row in got.ids.chunks(n) {
            let mut ids = row.to_vec();
            ids.sort_unstable();
            assert_eq!(ids, (0..n as i64).collect::<Vec<_>>());
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
        let index = Index::build(
            data,
            4,
            options(Metric::Dtw {
                sakoe_chiba_radius: usize::MAX,
            }),
        )
        .unwrap();
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
                    max_degree: 4,
                    n_neighbors: 8,
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
}
