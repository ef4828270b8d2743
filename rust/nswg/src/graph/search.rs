//! The restarted greedy k-NN search of Malkov et al. (2014), and exact search.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::store::{Candidate, TopK};
use super::visited::Visited;
use super::Graph;
use crate::metric::QueryDistance;
use crate::storage::{IdSet, Tombstones};

/// The first restart enters at one of this many points inserted first.
const EARLY_ENTRIES: usize = 16;

/// Random draws of an entry point before falling back to a scan for an unvisited one.
const ENTRY_DRAWS: usize = 32;

/// How wide a graph search looks, for a query or for the construction.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Beam {
    /// Number of nearest points wanted.
    pub k: usize,
    /// Size of the result store; at least `k` is used.
    pub ef: usize,
    /// Restarts (`m` in the paper): the first from a random one of the points inserted first,
    /// the others from random entry points. More are made while fewer than `k` points have been
    /// found.
    pub n_searches: usize,
    /// Whether the copies of the nodes found are returned beside them (a query), or the nodes
    /// alone (the construction, which never links a copy).
    pub copies: bool,
    /// Distances after which the search gives up (a filtered search, which an exact scan of
    /// the allowed points answers for that many); `None` never gives up.
    pub budget: Option<usize>,
}

/// The points a search walks through but never returns: the removed ones, and under a filter
/// those outside the allowed set.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Excluded<'a> {
    pub removed: &'a Tombstones,
    pub allowed: Option<&'a IdSet>,
}

impl<'a> Excluded<'a> {
    /// The removed points alone.
    pub(crate) fn removed(removed: &'a Tombstones) -> Self {
        Self {
            removed,
            allowed: None,
        }
    }

    #[inline]
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.removed.contains(id) || self.allowed.is_some_and(|a| !a.contains(id))
    }

    /// Calls `f` on each point among the first `n` (all of them: a filter's set holds no
    /// more) that a search may return, in increasing id; under a filter only the allowed set
    /// is read, so a scan of a few allowed points costs as few steps.
    fn for_each_returnable(&self, n: usize, f: impl FnMut(u32)) {
        let kept = |&id: &u32| !self.removed.contains(id);
        match self.allowed {
            Some(allowed) => allowed.iter().filter(kept).for_each(f),
            None => (0..n as u32).filter(kept).for_each(f),
        }
    }
}

/// Scratch state of one search, reused across queries by one thread (`Search` of
/// instant-distance): nothing is allocated per query once the buffers have grown.
#[derive(Debug)]
pub(crate) struct Search {
    /// Points visited so far, shared by all restarts of a query (`v` in the paper).
    visited: Visited,
    /// Points to expand, nearest first (`C` in the paper).
    candidates: BinaryHeap<Reverse<u64>>,
    /// The nearest points found so far (`W` in the paper).
    nearest: TopK,
    /// Lower bounds of an exact scan, to visit points in their order.
    order: Vec<(f64, u32)>,
    /// Unvisited neighbours of the node being expanded.
    fresh: Vec<u32>,
    /// The results with the copies of the nodes found.
    grouped: Vec<Candidate>,
    /// Distances asked for by the current search, to hold it to its budget.
    computed: usize,
}

impl Search {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            visited: Visited::new(n),
            candidates: BinaryHeap::new(),
            nearest: TopK::default(),
            order: Vec::new(),
            fresh: Vec::new(),
            grouped: Vec::new(),
            computed: 0,
        }
    }

    /// The nearest points found by the last search, nearest first, at most `max(k, ef)`.
    pub(crate) fn nearest(&self) -> &[Candidate] {
        self.nearest.as_slice()
    }

    /// Restarted greedy search for the nearest points to the query of `distance` among the
    /// first `limit` points of `graph`; `seed` draws the entry points. `excluded` points (removed,
    /// or outside a filter) are walked through but never kept as results. With `beam.copies`, the
    /// copies of each node found are returned beside it; the construction leaves them out, since
    /// they are never linked. Returns `false`, with no results, once more than `beam.budget`
    /// distances were asked for.
    ///
    /// The first restart starts from a random one of the first [`EARLY_ENTRIES`] points, each
    /// later one from a random unvisited entry point; a restart repeatedly expands the nearest
    /// unexpanded candidate, and stops when that candidate is farther than the farthest of the
    /// `max(k, ef)` results kept so far. All restarts share the visited set and the results, so a
    /// restart that lands in an explored region ends after a few distance computations.
    pub(crate) fn greedy<Q: QueryDistance>(
        &mut self,
        distance: &mut Q,
        graph: &Graph,
        excluded: Excluded<'_>,
        beam: Beam,
        seed: u64,
        limit: usize,
    ) -> bool {
        let copies = beam.copies && graph.copies().any();
        self.visited.clear(graph.len());
        self.nearest.reset(beam.ef.max(beam.k));
        self.computed = 0;
        let budget = beam.budget.unwrap_or(usize::MAX);
        let wanted = beam.k.min(limit);
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let mut restarts = 0;
        while restarts < beam.n_searches || self.nearest.len() < wanted {
            // The first restart starts from one of the first points inserted: they were linked
            // while the graph was sparse, so their lists still hold some of the longest links.
            let entry = if restarts == 0 && limit > 0 {
                Some(rng.random_range(0..limit.min(EARLY_ENTRIES)) as u32)
            } else {
                self.pick_entry(&mut rng, limit)
            };
            let Some(drawn) = entry else {
                break;
            };
            restarts += 1;
            // A copy has no list: its node enters instead. Marking the copy keeps the draws
            // moving on once its node is visited.
            let drawn_first = self.visited.insert(drawn);
            let entry = graph.copies().node_of(drawn);
            let fresh = if entry == drawn {
                drawn_first
            } else {
                self.visited.insert(entry)
            };
            if !fresh {
                continue;
            }
            // An entry point farther than every kept result would end its restart at once.
            let Some(first) = self.within(distance, entry) else {
                continue;
            };
            if self.returns(entry, graph, excluded, copies) {
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
                        distance.prefetch(neighbor);
                        fresh.push(neighbor);
                    }
                }
                for &neighbor in &fresh {
                    let Some(c) = self.within(distance, neighbor) else {
                        continue;
                    };
                    // A removed point still leads somewhere: walk through it if it would have
                    // been kept, as hnswlib does with its deletion marks.
                    let walk = if self.returns(neighbor, graph, excluded, copies) {
                        self.nearest.insert(c)
                    } else {
                        self.nearest.admits(c.distance)
                    };
                    if walk {
                        // It may be expanded next: start loading its list.
                        graph.prefetch(neighbor);
                        self.candidates.push(Reverse(c.key()));
                    }
                }
                self.fresh = fresh;
                if self.computed > budget {
                    self.nearest.reset(0);
                    return false;
                }
            }
        }
        self.nearest.finish();
        if Q::ESTIMATES {
            self.rerank(distance);
        }
        if copies {
            self.add_copies(distance, graph, excluded);
        }
        true
    }

    /// Replaces the estimated distances of the `max(k, ef)` points found by exact ones and
    /// sorts them again, so that what a search returns is ranked and reported exactly. All rows
    /// are asked for first, so that their cache misses overlap.
    fn rerank<Q: QueryDistance>(&mut self, distance: &mut Q) {
        let found = self.nearest.sorted_mut();
        for c in found.iter() {
            distance.prefetch_exact(c.id);
        }
        for c in found.iter_mut() {
            c.distance = distance.exact(c.id);
        }
        found.sort_unstable();
    }

    /// Whether node `id` is a result to keep: not excluded, or, when the copies are returned,
    /// with a copy not excluded.
    #[inline]
    fn returns(&self, id: u32, graph: &Graph, excluded: Excluded<'_>, copies: bool) -> bool {
        !excluded.contains(id) || copies && graph.copies().of(id).any(|c| !excluded.contains(c))
    }

    /// Puts the copies not excluded of each node found beside it, identical ones at its distance
    /// (their distances need no computing), near ones at their own, and drops the excluded nodes
    /// kept for their copies. The store held `max(k, ef)` nodes, so copies never crowd out the
    /// search's beam.
    fn add_copies<Q: QueryDistance>(
        &mut self,
        distance: &mut Q,
        graph: &Graph,
        excluded: Excluded<'_>,
    ) {
        let capacity = self.nearest.capacity();
        let found = self.nearest.sorted_mut();
        self.grouped.clear();
        let copies = graph.copies();
        for &c in found.iter() {
            if !excluded.contains(c.id) {
                self.grouped.push(c);
            }
            for id in copies.of(c.id).filter(|&id| !excluded.contains(id)) {
                let d = if copies.is_identical(id) {
                    c.distance
                } else {
                    distance.exact(id)
                };
                self.grouped.push(Candidate { id, distance: d });
            }
        }
        self.grouped.sort_unstable();
        self.grouped.truncate(capacity);
        std::mem::swap(found, &mut self.grouped);
    }

    /// Exact search over the `n` points: every point not excluded is compared with the query,
    /// through its lower bound when the distance has one. Points are then visited in the order
    /// of their bounds, so the scan stops at the first bound above the k-th distance found.
    pub(crate) fn exact<Q: QueryDistance>(
        &mut self,
        distance: &mut Q,
        n: usize,
        excluded: Excluded<'_>,
        k: usize,
    ) {
        self.nearest.reset(k);
        self.order.clear();
        excluded.for_each_returnable(n, |id| match distance.lower_bound(id) {
            Some(bound) => self.order.push((bound, id)),
            None => {
                if let Some(c) = self.within(distance, id) {
                    self.nearest.insert(c);
                }
            }
        });
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
            if let Some(c) = self.within(distance, id) {
                self.nearest.insert(c);
            }
        }
        self.nearest.finish();
    }

    /// Exact range search over the `n` points: every point not excluded whose ranking distance
    /// is at most `bound`, ordered by (distance, id). Each distance runs with `bound` as its
    /// bound, so DTW's cascade of lower bounds and abandoning prunes as in a k-NN scan.
    pub(crate) fn exact_within<Q: QueryDistance>(
        &mut self,
        distance: &mut Q,
        n: usize,
        excluded: Excluded<'_>,
        bound: f32,
    ) -> &[Candidate] {
        self.grouped.clear();
        excluded.for_each_returnable(n, |id| {
            if let Some(d) = distance.within(id, bound).filter(|&d| d <= bound) {
                self.grouped.push(Candidate { distance: d, id });
            }
        });
        self.grouped.sort_unstable();
        &self.grouped
    }

    /// The query's distance to `id`, or `None` if it is certainly farther than every kept result
    /// of a full store.
    #[inline]
    fn within<Q: QueryDistance>(&mut self, distance: &mut Q, id: u32) -> Option<Candidate> {
        self.computed += 1;
        let bound = self
            .nearest
            .bound()
            .map_or(f32::INFINITY, |worst| worst.distance);
        distance
            .within(id, bound)
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
