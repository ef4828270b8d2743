//! The restarted greedy k-NN search of Malkov et al. (2014), and exact search.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::distance::{Cost, Distance};
use crate::graph::Graph;
use crate::points::Points;
use crate::store::{Candidate, TopK};
use crate::visited::Visited;

/// The first restart enters at one of this many points inserted first.
const EARLY_ENTRIES: usize = 16;

/// Random draws of an entry point before falling back to a scan for an unvisited one.
const ENTRY_DRAWS: usize = 32;

/// Whether `id` is marked in `deleted` (an empty slice marks nothing).
#[inline]
fn is_deleted(deleted: &[bool], id: u32) -> bool {
    deleted.get(id as usize).copied().unwrap_or(false)
}

/// What a graph search may do: how many results, how wide a beam, how many restarts.
#[derive(Clone, Copy, Debug)]
pub struct SearchParams {
    /// Number of nearest points wanted.
    pub k: usize,
    /// Size of the result store (the beam); at least `k` is used.
    pub ef: usize,
    /// Restarts (`m` in the paper): the first from a random one of the points inserted first, the
    /// others from random entry points. More are made while fewer than `k` points have been found.
    pub n_searches: usize,
    /// Seed of the entry points: a query's answer depends on the index, the query and this.
    pub seed: u64,
    /// Only the first `limit` points are searched (the graph links only those while it is being
    /// built).
    pub limit: usize,
}

/// Scratch state of one search, reused across queries by one thread (`Search` of
/// instant-distance): nothing is allocated per query once the buffers have grown.
#[derive(Debug)]
pub struct Search<S> {
    /// Points visited so far, shared by all restarts of a query (`v` in the paper).
    visited: Visited,
    /// Points to expand, nearest first (`C` in the paper).
    candidates: BinaryHeap<Reverse<u64>>,
    /// The nearest points found so far (`W` in the paper).
    nearest: TopK,
    /// Buffers of the distance (DTW rows and envelope).
    scratch: S,
    /// Lower bounds of an exact scan, to visit points in their order.
    order: Vec<(f64, u32)>,
    /// Unvisited neighbours of the node being expanded.
    fresh: Vec<u32>,
    /// Work done by the last search.
    pub cost: Cost,
}

impl<S: Default> Search<S> {
    pub fn new(n: usize) -> Self {
        Self {
            visited: Visited::new(n),
            candidates: BinaryHeap::new(),
            nearest: TopK::default(),
            scratch: S::default(),
            order: Vec::new(),
            fresh: Vec::new(),
            cost: Cost::default(),
        }
    }

    /// The nearest points found by the last search, nearest first, at most `max(k, ef)`.
    pub fn nearest(&self) -> &[Candidate] {
        self.nearest.as_slice()
    }

    /// Scratch of the distance, for callers that compute more distances between searches.
    pub fn scratch(&mut self) -> &mut S {
        &mut self.scratch
    }

    /// Restarted greedy search for the nearest points to `query` among the first `params.limit`
    /// points. Points marked in `deleted` are walked through but never kept as results.
    ///
    /// The first restart starts from a random one of the first [`EARLY_ENTRIES`] points, each
    /// later one from a random unvisited entry point; a restart repeatedly expands the nearest
    /// unexpanded candidate, and stops when that candidate is farther than the farthest of the
    /// `max(k, ef)` results kept so far. All restarts share the visited set and the results, so a
    /// restart that lands in an explored region ends after a few distance computations.
    pub fn greedy<D: Distance<Scratch = S>>(
        &mut self,
        query: &[f32],
        points: &Points,
        graph: &Graph,
        distance: &D,
        deleted: &[bool],
        params: &SearchParams,
    ) {
        let limit = params.limit;
        self.visited.clear(points.len());
        self.nearest.reset(params.ef.max(params.k));
        self.cost = Cost::default();
        distance.prepare(query, &mut self.scratch);
        let wanted = params.k.min(limit);
        let mut rng = Pcg64Mcg::seed_from_u64(params.seed);
        let mut restarts = 0;
        while restarts < params.n_searches || self.nearest.len() < wanted {
            // The first restart starts from one of the first points inserted: they were linked
            // while the graph was sparse, so their lists still hold some of the longest links.
            let entry = if restarts == 0 && limit > 0 {
                Some(rng.random_range(0..limit.min(EARLY_ENTRIES)) as u32)
            } else {
                self.pick_entry(&mut rng, limit)
            };
            let Some(entry) = entry else {
                break;
            };
            restarts += 1;
            self.visited.insert(entry);
            // An entry point farther than every kept result would end its restart at once.
            let Some(first) = self.eval_within(query, points, distance, entry) else {
                continue;
            };
            if !is_deleted(deleted, entry) {
                self.nearest.insert(first);
            }
            self.candidates.clear();
            self.candidates.push(Reverse(first.key()));
            while let Some(Reverse(current)) = self.candidates.pop() {
                let current = Candidate::from_key(current);
                if self
                    .nearest
                    .bound()
                    .is_some_and(|worst| current.distance > worst.distance)
                {
                    break;
                }
                // Mark the unvisited neighbours and start loading all their rows before the
                // first distance, so that the cache misses overlap instead of queueing.
                let mut fresh = std::mem::take(&mut self.fresh);
                fresh.clear();
                for &neighbor in graph.neighbors(current.id) {
                    if self.visited.insert(neighbor) {
                        points.prefetch(neighbor);
                        fresh.push(neighbor);
                    }
                }
                for &neighbor in &fresh {
                    let Some(c) = self.eval_within(query, points, distance, neighbor) else {
                        continue;
                    };
                    // A deleted point still leads somewhere: walk through it if it would have
                    // been kept, as hnswlib does with its deletion marks.
                    let walk = if is_deleted(deleted, neighbor) {
                        self.nearest.admits(c.distance)
                    } else {
                        self.nearest.insert(c)
                    };
                    if walk {
                        // It may be expanded next: start loading its list.
                        graph.prefetch(neighbor);
                        self.candidates.push(Reverse(c.key()));
                    }
                }
                self.fresh = fresh;
            }
        }
        self.nearest.finish();
    }

    /// Exact search: every point not `deleted` is compared with the query, through its lower
    /// bound when the distance has one. Points are then visited in the order of their bounds, so
    /// the scan stops at the first bound above the k-th distance found.
    pub fn exact<D: Distance<Scratch = S>>(
        &mut self,
        query: &[f32],
        points: &Points,
        distance: &D,
        deleted: &[bool],
        k: usize,
    ) {
        self.nearest.reset(k);
        self.cost = Cost::default();
        distance.prepare(query, &mut self.scratch);
        self.order.clear();
        for id in 0..points.len() as u32 {
            if is_deleted(deleted, id) {
                continue;
            }
            match distance.lower_bound(query, points, id, &mut self.scratch, &mut self.cost) {
                Some(bound) => self.order.push((bound, id)),
                None => {
                    if let Some(c) = self.eval_within(query, points, distance, id) {
                        self.nearest.insert(c);
                    }
                }
            }
        }
        self.order
            .sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for i in 0..self.order.len() {
            let (bound, id) = self.order[i];
            // Anything above the next f32 after the k-th distance cannot enter.
            let beyond = self
                .nearest
                .bound()
                .is_some_and(|worst| bound > f64::from(worst.distance.next_up()));
            if beyond {
                break;
            }
            if let Some(c) = self.eval_within(query, points, distance, id) {
                self.nearest.insert(c);
            }
        }
        self.nearest.finish();
    }

    /// The query's distance to `id`, or `None` if it is certainly farther than every kept result
    /// of a full store.
    #[inline]
    fn eval_within<D: Distance<Scratch = S>>(
        &mut self,
        query: &[f32],
        points: &Points,
        distance: &D,
        id: u32,
    ) -> Option<Candidate> {
        let bound = self
            .nearest
            .bound()
            .map_or(f32::INFINITY, |worst| worst.distance);
        distance
            .eval_within(query, points, id, bound, &mut self.scratch, &mut self.cost)
            .map(|distance| Candidate { distance, id })
    }

    /// A random unvisited point among the first `limit`, or `None` once all are visited.
    fn pick_entry(&self, rng: &mut Pcg64Mcg, limit: usize) -> Option<u32> {
        if self.visited.len() >= limit {
            return None;
        }
        for _ in 0..ENTRY_DRAWS {
            let id = rng.random_range(0..limit) as u32;
            if !self.visited.contains(id) {
                return Some(id);
            }
        }
        // Most points are visited: scan from a random start for the next unvisited one.
        let start = rng.random_range(0..limit) as u32;
        (start..limit as u32)
            .chain(0..start)
            .find(|&id| !self.visited.contains(id))
    }
}
