//! Batches of queries searched in parallel, and the thread pools they run on.

use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::{Index, Neighbors, QueryOptions, RangeNeighbors, RangeOptions};
use crate::error::{Error, Result};
use crate::graph::{Beam, Search};
use crate::metric::{Cost, QueryDistance, Space, WithSpace};
use crate::storage::Points;

/// A batch search, run by [`crate::metric::with_space`] once the metric is set up.
pub(super) struct BatchSearch<'a> {
    pub index: &'a Index,
    pub queries: &'a Points,
    pub options: &'a QueryOptions,
}

impl WithSpace for BatchSearch<'_> {
    type Output = Neighbors;

    /// Searches every query in parallel on the current rayon pool; answers keep their order.
    fn run<S: Space>(self, space: &S) -> Neighbors {
        let Self {
            index,
            queries,
            options,
        } = self;
        let k = options.k;
        let beam = Beam {
            k,
            ef: options.ef,
            n_searches: options.n_searches,
            copies: true,
        };
        let n = index.n_ids();
        let answers: Vec<(Vec<(i64, f32)>, Cost)> = (0..queries.len() as u32)
            .into_par_iter()
            .map_init(
                || (Search::new(n), space.query()),
                |(s, distance), q| {
                    distance.set_query(queries.row(q));
                    match &index.graph {
                        Some(graph) if !options.exact => {
                            s.greedy(distance, graph, &index.removed, beam, index.options.seed, n);
                        }
                        _ => s.exact(distance, n, &index.removed, k),
                    }
                    let pairs = s
                        .nearest()
                        .iter()
                        .take(k)
                        .map(|c| (i64::from(c.id), distance.finish(c.distance)))
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
            out.ids.extend(std::iter::repeat_n(-1, missing));
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
}

impl WithSpace for RangeSearch<'_> {
    type Output = RangeNeighbors;

    /// Searches every query in parallel on the current rayon pool; answers keep their order.
    fn run<S: Space>(self, space: &S) -> RangeNeighbors {
        let Self {
            index,
            queries,
            options,
        } = self;
        let n = index.n_ids();
        let answers: Vec<(Vec<(i64, f32)>, Cost)> = (0..queries.len() as u32)
            .into_par_iter()
            .map_init(
                || (Search::new(n), space.query()),
                |(s, distance), q| {
                    distance.set_query(queries.row(q));
                    let bound = ranking_bound(distance, options.radius);
                    let found = match &index.graph {
                        Some(graph) if !options.exact => {
                            let live = index.len();
                            let mut ef = options.ef.max(options.max_results.unwrap_or(0));
                            loop {
                                ef = ef.min(live);
                                let beam = Beam {
                                    k: ef,
                                    ef,
                                    n_searches: options.n_searches,
                                    copies: true,
                                };
                                s.greedy(
                                    distance,
                                    graph,
                                    &index.removed,
                                    beam,
                                    index.options.seed,
                                    n,
                                );
                                let found = s.nearest();
                                let inside = found.partition_point(|c| c.distance <= bound);
                                // The beam holds only points within the radius: some may lie
                                // beyond it, so search again with a beam twice as wide.
                                let more = inside == found.len() && found.len() >= ef && ef < live;
                                if !more || options.max_results.is_some_and(|m| inside >= m) {
                                    break &found[..inside];
                                }
                                ef *= 2;
                            }
                        }
                        _ => s.exact_within(distance, n, &index.removed, bound),
                    };
                    let kept = options
                        .max_results
                        .map_or(found.len(), |m| m.min(found.len()));
                    let pairs = found[..kept]
                        .iter()
                        .map(|c| (i64::from(c.id), distance.finish(c.distance)))
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
