//! The navigable small world graph: a flat, fixed-stride adjacency list and its construction.

use rayon::prelude::*;

use crate::distance::Distance;
use crate::error::{Error, Result};
use crate::points::{prefetch_lines, Points};
use crate::progress::Progress;
use crate::search::{Search, SearchParams};
use crate::store::Candidate;

/// Marks the unused tail of a node's fixed-size neighbour list.
pub const INVALID: u32 = u32::MAX;

/// Each batch of the construction inserts at most this fraction of the points already linked.
const BATCH_DIVISOR: usize = 32;

/// Undirected-in-spirit adjacency: node `i`'s neighbours are the first entries of
/// `links[i * max_degree..(i + 1) * max_degree]` before the first [`INVALID`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    max_degree: usize,
    links: Vec<u32>,
    /// Length of each node's list, derived from `links`, so that the search slices a list
    /// without scanning it for its end.
    degrees: Vec<u16>,
}

impl Graph {
    pub fn new(n: usize, max_degree: usize) -> Self {
        Self {
            max_degree,
            links: vec![INVALID; n * max_degree],
            degrees: vec![0; n],
        }
    }

    pub fn max_degree(&self) -> usize {
        self.max_degree
    }

    /// The neighbours of `id`.
    #[inline]
    pub fn neighbors(&self, id: u32) -> &[u32] {
        let start = id as usize * self.max_degree;
        &self.links[start..start + self.degrees[id as usize] as usize]
    }

    /// Asks the CPU to start loading the list of `id`, ahead of its expansion.
    #[inline]
    pub fn prefetch(&self, id: u32) {
        let row = self.neighbors(id);
        let start = row.as_ptr() as usize;
        prefetch_lines(start, start + size_of_val(row));
    }

    fn set_neighbors(&mut self, id: u32, neighbors: &[u32]) {
        debug_assert!(neighbors.len() <= self.max_degree);
        debug_assert!(!neighbors.contains(&id), "self-loop at {id}");
        let start = id as usize * self.max_degree;
        let row = &mut self.links[start..start + self.max_degree];
        row[..neighbors.len()].copy_from_slice(neighbors);
        row[neighbors.len()..].fill(INVALID);
        self.degrees[id as usize] = neighbors.len() as u16;
    }

    /// Number of edges (each direction counted once per list it is in).
    pub fn n_links(&self) -> usize {
        self.degrees.iter().map(|&d| usize::from(d)).sum()
    }

    /// Makes room for nodes up to `n`, without links, or drops the nodes from `n` on.
    pub fn resize(&mut self, n: usize) {
        self.links.resize(n * self.max_degree, INVALID);
        self.degrees.resize(n, 0);
    }

    /// The flat adjacency, `max_degree` entries per node.
    pub fn links(&self) -> &[u32] {
        &self.links
    }

    /// A graph from a flat adjacency read back from a file: `None` unless every list is a run of
    /// distinct, in-range ids other than the node's own, padded with [`INVALID`].
    pub fn from_links(max_degree: usize, links: Vec<u32>) -> Option<Self> {
        if max_degree == 0 || links.len() % max_degree != 0 {
            return None;
        }
        let n = links.len() / max_degree;
        // `seen_by[x]` is one more than the last node whose list holds `x`: a duplicate shows in
        // one lookup, without sorting each list.
        let mut seen_by = vec![0usize; n];
        let mut degrees = Vec::with_capacity(n);
        for (node, row) in links.chunks_exact(max_degree).enumerate() {
            let degree = row.iter().position(|&x| x == INVALID).unwrap_or(max_degree);
            degrees.push(u16::try_from(degree).ok()?);
            let (list, padding) = row.split_at(degree);
            for &x in list {
                let x = x as usize;
                if x >= n || x == node || seen_by[x] == node + 1 {
                    return None;
                }
                seen_by[x] = node + 1;
            }
            if padding.iter().any(|&x| x != INVALID) {
                return None;
            }
        }
        Some(Self {
            max_degree,
            links,
            degrees,
        })
    }
}

/// Parameters of the construction.
#[derive(Clone, Copy, Debug)]
pub struct BuildParams {
    /// Neighbours linked to a new point (`f` in Malkov et al.; `M` in HNSW).
    pub n_neighbors: usize,
    /// Cap on a node's degree; longer lists are pruned by the neighbour-selection rule.
    pub max_degree: usize,
    /// Size of the result store of the search that finds a new point's neighbours.
    pub ef_construction: usize,
    /// Restarts of that search.
    pub n_searches: usize,
    pub seed: u64,
}

/// Links points `from..` into a graph that already links the points before them, and returns
/// the number of distances computed. Points marked in `deleted` are never chosen as neighbours.
///
/// Points are inserted in index order, as in Malkov et al.: each is linked in both directions to
/// neighbours chosen among the nearest points that a restarted greedy search finds in the graph
/// built so far. To use every core while staying deterministic, points are inserted in batches no
/// larger than 1/32 of the points already linked: a batch's searches run in parallel against the
/// graph as it was before the batch, and its links are then added in a fixed order. The graph
/// depends on the points, the parameters and the seed, not on the number of threads.
///
/// `progress` counts the points linked after each batch. Once it is cancelled the remaining
/// searches are skipped and [`Error::Interrupted`] is returned, with the graph as it was before
/// the call: the nodes from `from` on are dropped and the lists of older nodes restored.
pub fn insert<D: Distance>(
    graph: &mut Graph,
    points: &Points,
    distance: &D,
    params: &BuildParams,
    from: usize,
    deleted: &[bool],
    progress: &Progress,
) -> Result<u64> {
    let n = points.len();
    graph.resize(n);
    let mut n_distances = 0u64;
    let mut inserted = from.max(n.min(1));
    // The lists of nodes before `from` as they were before their first change, to restore them
    // if the call is interrupted.
    let mut undo: Vec<(u32, Vec<u32>)> = Vec::new();
    let mut saved = vec![false; from];
    progress.start(n - from, inserted - from);
    while inserted < n {
        let end = n.min(inserted + (inserted / BATCH_DIVISOR).max(1));
        let search = SearchParams {
            k: params.n_neighbors,
            ef: params.ef_construction,
            n_searches: params.n_searches,
            seed: 0,
            limit: inserted,
        };
        // Each new point searches the graph of the points before the batch.
        let chosen: Vec<(Vec<Candidate>, u64)> = (inserted..end)
            .into_par_iter()
            .map_init(
                || Search::<D::Scratch>::new(n),
                |s, p| {
                    if progress.is_cancelled() {
                        return (Vec::new(), 0);
                    }
                    let seed = params.seed ^ (p as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    let query = points.row(p as u32);
                    s.greedy(
                        query,
                        points,
                        graph,
                        distance,
                        deleted,
                        &SearchParams { seed, ..search },
                    );
                    let found = s.nearest().to_vec();
                    let searched = s.cost.distances;
                    let (kept, pruned) =
                        select_neighbors(&found, params.n_neighbors, points, distance, s.scratch());
                    (kept, searched + pruned)
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
        for (offset, (kept, cost)) in chosen.iter().enumerate() {
            let p = (inserted + offset) as u32;
            let ids: Vec<u32> = kept.iter().map(|c| c.id).collect();
            graph.set_neighbors(p, &ids);
            n_distances += cost;
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
            .map_init(D::Scratch::default, |scratch, group| {
                let target = group[0].0;
                let (list, cost) = add_links(
                    graph,
                    target,
                    group.iter().map(|g| g.1),
                    points,
                    distance,
                    params,
                    scratch,
                );
                (target, list, cost)
            })
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

/// The neighbour list of `target` with the `new` links added, pruned to the maximum degree.
fn add_links<D: Distance>(
    graph: &Graph,
    target: u32,
    new: impl Iterator<Item = Candidate>,
    points: &Points,
    distance: &D,
    params: &BuildParams,
    scratch: &mut D::Scratch,
) -> (Vec<u32>, u64) {
    let current = graph.neighbors(target);
    let new: Vec<Candidate> = new.collect();
    if current.len() + new.len() <= params.max_degree {
        let list = current
            .iter()
            .copied()
            .chain(new.iter().map(|c| c.id))
            .collect();
        return (list, 0);
    }
    let base = points.row(target);
    let mut pool: Vec<Candidate> = current
        .iter()
        .map(|&id| Candidate {
            distance: distance.eval(base, points.row(id), scratch),
            id,
        })
        .chain(new)
        .collect();
    let mut cost = current.len() as u64;
    pool.sort_unstable();
    let (kept, pruned) = select_neighbors(&pool, params.max_degree, points, distance, scratch);
    cost += pruned;
    (kept.iter().map(|c| c.id).collect(), cost)
}

/// Chooses up to `m` neighbours of a point among `candidates` (sorted nearest first): a
/// candidate is kept only if it is closer to the point than to every neighbour kept before it
/// (the selection heuristic of Malkov & Yashunin, Alg. 4), so that links spread in different
/// directions and the graph stays navigable. Returns the kept ones and the distances computed.
fn select_neighbors<D: Distance>(
    candidates: &[Candidate],
    m: usize,
    points: &Points,
    distance: &D,
    scratch: &mut D::Scratch,
) -> (Vec<Candidate>, u64) {
    let mut kept: Vec<Candidate> = Vec::with_capacity(m);
    let mut cost = 0u64;
    for c in candidates {
        if kept.len() == m {
            break;
        }
        let row = points.row(c.id);
        let diverse = kept.iter().all(|s| {
            cost += 1;
            distance.eval(row, points.row(s.id), scratch) > c.distance
        });
        if diverse {
            kept.push(*c);
        }
    }
    (kept, cost)
}
