//! The construction: points inserted one by one, each linked to neighbours chosen among the
//! nearest points a search of the graph built so far finds.

use rayon::prelude::*;

use super::search::{Beam, Excluded, Search};
use super::store::Candidate;
use super::Graph;
use crate::error::{Error, Result};
use crate::metric::{QueryDistance, Space};
use crate::progress::Progress;
use crate::storage::Tombstones;

/// Each batch of the construction inserts at most this fraction of the points already linked.
const BATCH_DIVISOR: usize = 32;

/// A new point is a near copy of the nearest point its search finds when their ranking distance
/// (a squared distance, for every metric) is at most this fraction of the one to the second
/// nearest: closer than 1/1000 of the local spacing. Linked as nodes, such points behave as
/// exact copies do (each one's twin vetoes the other candidates of its neighbour selection, and
/// twins fill the search's beam in pairs); as copies, they cost one distance each at the end of
/// a search that finds their node.
const NEAR_COPY: f32 = 1e-6;

/// The shape of a graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphOptions {
    /// Neighbours linked to a new point (`f` in Malkov et al.; `M` in HNSW).
    pub n_neighbors: usize,
    /// Cap on a node's degree (at least `n_neighbors`); longer lists are pruned by the
    /// neighbour-selection rule.
    pub max_degree: usize,
}

/// The largest `max_degree`: degrees are kept in 16 bits, and lists far longer than any useful
/// graph's would only waste memory.
pub const MAX_DEGREE: usize = 4096;

impl Default for GraphOptions {
    fn default() -> Self {
        Self {
            n_neighbors: 16,
            max_degree: 32,
        }
    }
}

/// Links points `from..` into a graph that already links the points before them, and returns
/// the number of distances computed. `space` holds the points; `beam` is the construction's
/// search (`k` the neighbours wanted), `seed` seeds its entry points. Removed points are never
/// chosen as neighbours.
///
/// Points are inserted in index order, as in Malkov et al.: each is linked in both directions to
/// neighbours chosen among the nearest points that a restarted greedy search finds in the graph
/// built so far. To use every core while staying deterministic, points are inserted in batches no
/// larger than 1/32 of the points already linked: a batch's searches run in parallel against the
/// graph as it was before the batch, and its links are then added in a fixed order. The graph
/// depends on the points, the parameters and the seed, not on the number of threads.
///
/// Copies are not linked: `first_equal[i]` is the first of the new points whose row equals
/// that of new point `from + i` (itself if none), and `same_row` tells whether two points' rows
/// are equal. A new point whose row equals an earlier new point's, or that of the nearest point
/// its search finds, or that is nearly as close to that point as a copy (see [`NEAR_COPY`]),
/// joins that point's group of copies instead (see [`super::copies`]).
///
/// `progress` counts the points linked after each batch. Once it is cancelled the remaining
/// searches are skipped and [`Error::Interrupted`] is returned, with the graph as it was before
/// the call: the nodes from `from` on are dropped and the lists of older nodes restored.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert<S: Space>(
    graph: &mut Graph,
    space: &S,
    options: &GraphOptions,
    beam: Beam,
    seed: u64,
    from: usize,
    first_equal: &[u32],
    same_row: &(dyn Fn(u32, u32) -> bool + Sync),
    removed: &Tombstones,
    progress: &Progress,
) -> Result<u64> {
    debug_assert_eq!(first_equal.len(), graph.len() - from);
    let n = graph.len();
    let mut n_distances = 0u64;
    let mut inserted = from.max(n.min(1));
    // The lists of nodes before `from` as they were before their first change, to restore them
    // if the call is interrupted.
    let mut undo: Vec<(u32, Vec<u32>)> = Vec::new();
    let mut saved = vec![false; from];
    progress.start(n - from, inserted - from);
    while inserted < n {
        let end = n.min(inserted + (inserted / BATCH_DIVISOR).max(1));
        // Each new point searches the graph of the points before the batch.
        let chosen: Vec<(Chosen, u64)> = (inserted..end)
            .into_par_iter()
            .map_init(
                || (Search::new(n), space.query()),
                |(s, distance), p| {
                    let earlier = first_equal[p - from];
                    if earlier != p as u32 {
                        return (Chosen::CopyOf(earlier, true), 0);
                    }
                    if progress.is_cancelled() {
                        return (Chosen::Links(Vec::new()), 0);
                    }
                    let seed = seed ^ (p as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    distance.set_query_row(p as u32);
                    s.greedy(
                        distance,
                        graph,
                        Excluded::removed(removed),
                        beam,
                        seed,
                        inserted,
                    );
                    let chosen = match s.nearest() {
                        [c, ..] if c.distance == 0.0 && same_row(c.id, p as u32) => {
                            Chosen::CopyOf(c.id, true)
                        }
                        [c, next, ..] if c.distance <= NEAR_COPY * next.distance => {
                            Chosen::CopyOf(c.id, false)
                        }
                        found => {
                            Chosen::Links(select_neighbors(found, options.n_neighbors, distance))
                        }
                    };
                    (chosen, distance.take_cost().distances)
                },
            )
            .collect();
        if progress.is_cancelled() {
            for (id, list) in undo {
                graph.set_neighbors(id, &list);
            }
            graph.resize(from);
            return Err(Error::Interrupted);
        }

        // Reverse links, grouped by the node that receives them.
        let mut incoming: Vec<(u32, Candidate)> = Vec::new();
        for (offset, (chosen, cost)) in chosen.iter().enumerate() {
            let p = (inserted + offset) as u32;
            n_distances += cost;
            let kept = match chosen {
                // In id order, so that the earlier point has joined its own group already.
                Chosen::CopyOf(earlier, identical) => {
                    let node = graph.copies().node_of(*earlier);
                    let identical = *identical && graph.copies().is_identical(*earlier);
                    graph.join_copy(p, node, identical);
                    continue;
                }
                Chosen::Links(kept) => kept,
            };
            let ids: Vec<u32> = kept.iter().map(|c| c.id).collect();
            graph.set_neighbors(p, &ids);
            incoming.extend(kept.iter().map(|c| {
                (
                    c.id,
                    Candidate {
                        distance: c.distance,
                        id: p,
                    },
                )
            }));
        }
        incoming.sort_unstable_by_key(|&(target, c)| (target, c.id));
        let groups: Vec<&[(u32, Candidate)]> = incoming.chunk_by(|a, b| a.0 == b.0).collect();
        let updated: Vec<(u32, Vec<u32>, u64)> = groups
            .into_par_iter()
            .map_init(
                || space.query(),
                |distance, group| {
                    let target = group[0].0;
                    let list = add_links(
                        graph,
                        target,
                        group.iter().map(|g| g.1),
                        options.max_degree,
                        distance,
                    );
                    (target, list, distance.take_cost().distances)
                },
            )
            .collect();
        for (target, list, cost) in updated {
            if (target as usize) < from && !saved[target as usize] {
                saved[target as usize] = true;
                undo.push((target, graph.neighbors(target).to_vec()));
            }
            graph.set_neighbors(target, &list);
            n_distances += cost;
        }
        inserted = end;
        progress.set_done(inserted - from);
    }
    Ok(n_distances)
}

/// What the construction's search decided for a new point.
enum Chosen {
    /// Its neighbours.
    Links(Vec<Candidate>),
    /// It is a copy of this earlier point: identical, or nearly (see [`NEAR_COPY`]).
    CopyOf(u32, bool),
}

/// The neighbour list of `target` with the `new` links added, pruned to `max_degree`.
fn add_links<Q: QueryDistance>(
    graph: &Graph,
    target: u32,
    new: impl Iterator<Item = Candidate>,
    max_degree: usize,
    distance: &mut Q,
) -> Vec<u32> {
    let current = graph.neighbors(target);
    let new: Vec<Candidate> = new.collect();
    if current.len() + new.len() <= max_degree {
        return current
            .iter()
            .copied()
            .chain(new.iter().map(|c| c.id))
            .collect();
    }
    let mut pool: Vec<Candidate> = current
        .iter()
        .map(|&id| Candidate {
            distance: distance.between(target, id),
            id,
        })
        .chain(new)
        .collect();
    pool.sort_unstable();
    let kept = select_neighbors(&pool, max_degree, distance);
    kept.iter().map(|c| c.id).collect()
}

/// Chooses up to `m` neighbours of a point among `candidates` (sorted nearest first): a
/// candidate is kept only if it is closer to the point than to every neighbour kept before it
/// (the selection heuristic of Malkov & Yashunin, Alg. 4), so that links spread in different
/// directions and the graph stays navigable. The distances it computes are counted by
/// `distance`.
fn select_neighbors<Q: QueryDistance>(
    candidates: &[Candidate],
    m: usize,
    distance: &mut Q,
) -> Vec<Candidate> {
    let mut kept: Vec<Candidate> = Vec::with_capacity(m);
    for c in candidates {
        if kept.len() == m {
            break;
        }
        let diverse = kept
            .iter()
            .all(|s| distance.between(c.id, s.id) > c.distance);
        if diverse {
            kept.push(*c);
        }
    }
    kept
}
