//! Batches of queries searched in parallel, and the thread pools they run on.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::{Index, Neighbors, QueryOptions};
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
            out.n_code_distance_computations.push(cost.code_distances);
        }
        out
    }
}

/// Runs `f` on a pool of `n_threads` threads, or on rayon's global pool (one thread per core) when
/// `n_threads` is 0.
///
/// Pools are made once per thread count and kept: starting threads costs milliseconds on a busy
/// machine, more than a small batch of queries takes.
pub fn with_threads<R: Send>(n_threads: usize, f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
    static POOLS: Mutex<BTreeMap<usize, Arc<rayon::ThreadPool>>> = Mutex::new(BTreeMap::new());
    if n_threads == 0 {
        return f();
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
    pool.install(f)
}
