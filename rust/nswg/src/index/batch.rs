//! Batches of queries searched in parallel, and the thread pools they run on.

use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::{Allowed, Index, Neighbors, QueryOptions, RangeNeighbors, RangeOptions};
use crate::error::{Error, Result};
use crate::graph::{Beam, Excluded, Search};
use crate::metric::{Cost, QueryDistance, Space, WithSpace};
use crate::storage::{IdSet, Points, NO_LABEL};

/// A batch search, run by [`crate::metric::with_space`] once the metric is set up.
pub(super) struct BatchSearch<'a> {
    pub index: &'a Index,
    pub queries: &'a Points,
    pub options: &'a QueryOptions,
    pub filter: &'a Allowed<'a>,
}

/// What one thread keeps from query to query: the search's buffers, the distance bound to the
/// query, and the allowed set of a per-query filter.
type Scratch<Q> = (Search, Q, IdSet);

impl Index {
    /// The points query `q` must not return, under `filter`; a per-query filter's set is made
    /// in `scratch`.
    fn excluded<'s>(
        &'s self,
        filter: &'s Allowed<'_>,
        q: u32,
        scratch: &'s mut IdSet,
    ) -> Excluded<'s> {
        let allowed = match filter {
            Allowed::All => None,
            Allowed::Shared(set) => Some(set),
            Allowed::PerQuery(allows) => {
                self.fill(&allows[q as usize], scratch)
                    .expect("every filter is checked before the search");
                Some(&*scratch)
            }
        };
        Excluded {
            removed: &self.removed,
            allowed,
        }
    }

    /// The `beam.k` nearest points to `distance`'s query that `excluded` leaves, into `s`: by
    /// the graph, unless `exact` or there is none, or unless a filter leaves so few points that
    /// a scan of them costs fewer distances (see [`Index::scan_is_cheaper`]); a graph search
    /// that spends more distances than that scan would is given up and the scan answers.
    fn nearest<Q: QueryDistance>(
        &self,
        s: &mut Search,
        distance: &mut Q,
        excluded: Excluded<'_>,
        beam: Beam,
        exact: bool,
    ) {
        let kept = beam.ef.max(beam.k);
        let graph =
            (self.graph.as_ref()).filter(|_| !exact && !self.scan_is_cheaper(excluded, kept));
        if let Some(graph) = graph {
            let budget = excluded.allowed.map(IdSet::len);
            let beam = Beam { budget, ..beam };
            let seed = self.options.seed;
            if s.greedy(distance, graph, excluded, beam, seed, self.n_ids()) {
                return;
            }
        }
        s.exact(distance, self.n_ids(), excluded, beam.k);
    }

    /// Whether a filter allows so few points that scanning them all is cheaper than any graph
    /// search keeping `kept` of them: a walk meets allowed points at about their fraction
    /// `a / n` of the points, so it computes at least `kept * n / a` distances to find `kept`,
    /// more than the `a` of the scan once `a * a < kept * n`.
    fn scan_is_cheaper(&self, excluded: Excluded<'_>, kept: usize) -> bool {
        excluded.allowed.is_some_and(|allowed| {
            let a = allowed.len() as u128;
            a * a < kept as u128 * self.n_ids() as u128
        })
    }
}

impl WithSpace for BatchSearch<'_> {
    type Output = Neighbors;

    /// Searches every query in parallel on the current rayon pool; answers keep their order.
    fn run<S: Space>(self, space: &S) -> Neighbors {
        let Self {
            index,
            queries,
            options,
            filter,
        } = self;
        let k = options.k;
        let beam = Beam {
            k,
            ef: options.ef,
            n_searches: options.n_searches,
            copies: true,
            budget: None,
        };
        let n = index.n_ids();
        let answers: Vec<(Vec<(u64, f32)>, Cost)> = (0..queries.len() as u32)
            .into_par_iter()
            .map_init(
                || -> Scratch<S::Query<'_>> { (Search::new(n), space.query(), IdSet::default()) },
                |(s, distance, scratch), q| {
                    let excluded = index.excluded(filter, q, scratch);
                    distance.set_query(queries.row(q));
                    index.nearest(s, distance, excluded, beam, options.exact);
                    let pairs = s
                        .nearest()
                        .iter()
                        .take(k)
                        .map(|c| (index.id_of(c.id), distance.finish(c.distance)))
                        .collect();
                    (pairs, distance.take_cost())
                },
            )
            .collect();
        let mut out = Neighbors {
            k,
            ids: Vec::with_capacity(answers.len() * k),
            distances: Vec::with_capacity(answers.len() * k),
            n_distance_computations: Vec::with_capacity(answers.len()),
            n_lower_bound_computations: Vec::with_capacity(answers.len()),
            n_dtw_cells: Vec::with_capacity(answers.len()),
            n_code_distance_computations: Vec::with_capacity(answers.len()),
        };
        for (pairs, cost) in answers {
            let missing = k - pairs.len();
            for (id, d) in pairs {
                out.ids.push(id);
                out.distances.push(d);
            }
            out.ids.extend(std::iter::repeat_n(NO_LABEL, missing));
            out.distances
                .extend(std::iter::repeat_n(f32::INFINITY, missing));
            out.n_distance_computations.push(cost.distances);
            out.n_lower_bound_computations.push(cost.lower_bounds);
            out.n_dtw_cells.push(cost.cells);
            out.n_code_distance_computations.push(cost.code_distances);
        }
        out
    }
}

/// A batch of range searches, run by [`crate::metric::with_space`] once the metric is set up.
pub(super) struct RangeSearch<'a> {
    pub index: &'a Index,
    pub queries: &'a Points,
    pub options: &'a RangeOptions,
    pub filter: &'a Allowed<'a>,
}

impl WithSpace for RangeSearch<'_> {
    type Output = RangeNeighbors;

    /// Searches every query in parallel on the current rayon pool; answers keep their order.
    fn run<S: Space>(self, space: &S) -> RangeNeighbors {
        let Self {
            index,
            queries,
            options,
            filter,
        } = self;
        let n = index.n_ids();
        let answers: Vec<(Vec<(u64, f32)>, Cost)> = (0..queries.len() as u32)
            .into_par_iter()
            .map_init(
                || -> Scratch<S::Query<'_>> { (Search::new(n), space.query(), IdSet::default()) },
                |(s, distance, scratch), q| {
                    let excluded = index.excluded(filter, q, scratch);
                    distance.set_query(queries.row(q));
                    let bound = ranking_bound(distance, options.radius);
                    let graph = index.graph.as_ref().filter(|_| !options.exact);
                    let budget = excluded.allowed.map(IdSet::len);
                    let mut found = None;
                    let kept = options.ef.max(options.max_results.unwrap_or(0));
                    let graph = graph.filter(|_| !index.scan_is_cheaper(excluded, kept));
                    if let Some(graph) = graph {
                        let live = excluded.allowed.map_or(index.len(), IdSet::len);
                        let mut ef = options.ef.max(options.max_results.unwrap_or(0));
                        loop {
                            ef = ef.min(live).max(1);
                            let beam = Beam {
                                k: ef,
                                ef,
                                n_searches: options.n_searches,
                                copies: true,
                                budget,
                            };
                            if !s.greedy(distance, graph, excluded, beam, index.options.seed, n) {
                                break;
                            }
                            let kept = s.nearest();
                            let inside = kept.partition_point(|c| c.distance <= bound);
                            // The beam holds only points within the radius: some may lie
                            // beyond it, so search again with a beam twice as wide.
                            let more = inside == kept.len() && kept.len() >= ef && ef < live;
                            if !more || options.max_results.is_some_and(|m| inside >= m) {
                                found = Some(inside);
                                break;
                            }
                            ef *= 2;
                        }
                    }
                    let found = match found {
                        Some(inside) => &s.nearest()[..inside],
                        None => s.exact_within(distance, n, excluded, bound),
                    };
                    let kept = options
                        .max_results
                        .map_or(found.len(), |m| m.min(found.len()));
                    let pairs = found[..kept]
                        .iter()
                        .map(|c| (index.id_of(c.id), distance.finish(c.distance)))
                        .collect();
                    (pairs, distance.take_cost())
                },
            )
            .collect();
        let total = answers.iter().map(|(pairs, _)| pairs.len()).sum();
        let mut out = RangeNeighbors {
            offsets: Vec::with_capacity(answers.len() + 1),
            ids: Vec::with_capacity(total),
            distances: Vec::with_capacity(total),
            ..RangeNeighbors::default()
        };
        out.offsets.push(0);
        for (pairs, cost) in answers {
            for (id, d) in pairs {
                out.ids.push(id);
                out.distances.push(d);
            }
            out.offsets.push(out.ids.len());
            out.n_distance_computations.push(cost.distances);
            out.n_lower_bound_computations.push(cost.lower_bounds);
            out.n_dtw_cells.push(cost.cells);
            out.n_code_distance_computations.push(cost.code_distances);
        }
        out
    }
}

/// The largest ranking value whose reported distance is at most `radius`: reporting is
/// monotone, so a bisection over the order of non-negative floats' bits finds it exactly, for
/// any metric, and the points kept are exactly those reported within the radius.
fn ranking_bound<Q: QueryDistance>(distance: &Q, radius: f32) -> f32 {
    let (mut inside, mut beyond) = (0u32, f32::INFINITY.to_bits());
    if distance.finish(f32::INFINITY) <= radius {
        return f32::INFINITY;
    }
    while beyond - inside > 1 {
        let middle = inside + (beyond - inside) / 2;
        if distance.finish(f32::from_bits(middle)) <= radius {
            inside = middle;
        } else {
            beyond = middle;
        }
    }
    f32::from_bits(inside)
}

/// Threads a pool may have per core. More would only take turns on the cores; the cap keeps a
/// mistyped count from starting a million threads.
pub const THREADS_PER_CORE: usize = 8;

/// Pools of distinct sizes kept for reuse. Using one more drops the least recently used, whose
/// threads exit once its running calls return, so the threads alive stay bounded however many
/// counts a caller tries.
const KEPT_POOLS: usize = 4;

/// The largest thread count [`with_threads`] accepts: [`THREADS_PER_CORE`] per core.
pub fn max_threads() -> usize {
    THREADS_PER_CORE * std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Runs `f` on a pool of `n_threads` threads, or on rayon's global pool (one thread per core) when
/// `n_threads` is 0. More than [`max_threads`] is an error.
///
/// Pools are made once per thread count and kept (the [`KEPT_POOLS`] used last): starting
/// threads costs milliseconds on a busy machine, more than a small batch of queries takes.
pub fn with_threads<R: Send>(n_threads: usize, f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
    // Most recently used last.
    static POOLS: Mutex<Vec<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(Vec::new());
    if n_threads == 0 {
        return f();
    }
    let max = max_threads();
    if n_threads > max {
        return Err(Error::TooManyThreads {
            threads: n_threads,
            max,
            per_core: THREADS_PER_CORE,
        });
    }
    let pool = {
        // A panic elsewhere cannot leave the list half changed: take it as it is.
        let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
        let pool = match pools.iter().position(|(n, _)| *n == n_threads) {
            Some(i) => pools.remove(i).1,
            None => Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n_threads)
                    .build()
                    .map_err(|e| Error::ThreadPool {
                        threads: n_threads,
                        reason: e.to_string(),
                    })?,
            ),
        };
        pools.push((n_threads, Arc::clone(&pool)));
        if pools.len() > KEPT_POOLS {
            pools.remove(0);
        }
        pool
    };
    pool.install(f)
}
