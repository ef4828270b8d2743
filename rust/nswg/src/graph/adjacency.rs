//! The graph's adjacency: a flat, fixed-stride neighbour list per node.

use super::copies::Copies;
use crate::sys::prefetch::prefetch;

/// Marks the unused tail of a node's fixed-size neighbour list.
const INVALID: u32 = u32::MAX;

/// Undirected-in-spirit adjacency: node `i`'s neighbours are the first entries of
/// `links[i * max_degree..(i + 1) * max_degree]` before the first [`INVALID`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Graph {
    max_degree: usize,
    links: Vec<u32>,
    /// Length of each node's list, derived from `links`, so that the search slices a list
    /// without scanning it for its end.
    degrees: Vec<u16>,
    /// Groups of copies: only the first of each is a node with a list.
    copies: Copies,
}

impl Graph {
    pub(crate) fn new(n: usize, max_degree: usize) -> Self {
        Self {
            max_degree,
            links: vec![INVALID; n * max_degree],
            degrees: vec![0; n],
            copies: Copies::default(),
        }
    }

    #[cfg(test)]
    pub(crate) fn max_degree(&self) -> usize {
        self.max_degree
    }

    /// Number of nodes, linked or not.
    pub(crate) fn len(&self) -> usize {
        self.degrees.len()
    }

    /// The neighbours of `id`.
    #[inline]
    pub(crate) fn neighbors(&self, id: u32) -> &[u32] {
        let start = id as usize * self.max_degree;
        &self.links[start..start + self.degrees[id as usize] as usize]
    }

    /// Asks the CPU to start loading the list of `id`, ahead of its expansion.
    #[inline]
    pub(crate) fn prefetch(&self, id: u32) {
        prefetch(self.neighbors(id), usize::MAX);
    }

    pub(super) fn set_neighbors(&mut self, id: u32, neighbors: &[u32]) {
        debug_assert!(neighbors.len() <= self.max_degree);
        debug_assert!(!neighbors.contains(&id), "self-loop at {id}");
        let start = id as usize * self.max_degree;
        let row = &mut self.links[start..start + self.max_degree];
        row[..neighbors.len()].copy_from_slice(neighbors);
        row[neighbors.len()..].fill(INVALID);
        self.degrees[id as usize] = neighbors.len() as u16;
    }

    /// Number of edges (each direction counted once per list it is in).
    pub(crate) fn n_links(&self) -> usize {
        self.degrees.iter().map(|&d| usize::from(d)).sum()
    }

    /// Makes room for nodes up to `n`, without links, or drops the nodes from `n` on.
    pub(crate) fn resize(&mut self, n: usize) {
        self.links.resize(n * self.max_degree, INVALID);
        self.degrees.resize(n, 0);
        self.copies.resize(n);
    }

    /// The groups of identical points.
    #[inline]
    /// Bytes held: the lists, their lengths and the groups of copies.
    pub(crate) fn nbytes(&self) -> usize {
        4 * self.links.len() + 2 * self.degrees.len() + self.copies.nbytes()
    }

    pub(crate) fn copies(&self) -> &Copies {
        &self.copies
    }

    /// Makes `id`, which has no list yet, a copy of node `node`, `identical` to it or nearly.
    pub(super) fn join_copy(&mut self, id: u32, node: u32, identical: bool) {
        debug_assert_eq!(self.degrees[id as usize], 0);
        let n = self.len();
        self.copies.join(id, node, n, identical);
    }

    /// Sets the groups of copies read back from a file, `same_row` telling the identical
    /// copies: `None` unless they are valid groups of this graph's points whose copies have no
    /// list and are in no list.
    pub(crate) fn with_copies(
        mut self,
        first: Vec<u32>,
        same_row: impl Fn(u32, u32) -> bool,
    ) -> Option<Self> {
        if first.len() != self.len() {
            return None;
        }
        let copies = Copies::from_firsts(first, same_row)?;
        if copies.any() {
            let orphan = (0..self.len() as u32).any(|id| {
                copies.is_copy(id) && self.degrees[id as usize] != 0
                    || self.neighbors(id).iter().any(|&x| copies.is_copy(x))
            });
            if orphan {
                return None;
            }
        }
        self.copies = copies;
        Some(self)
    }

    /// The flat adjacency, `max_degree` entries per node.
    pub(crate) fn links(&self) -> &[u32] {
        &self.links
    }

    /// A graph from a flat adjacency read back from a file: `None` unless every list is a run of
    /// distinct, in-range ids other than the node's own, padded with [`INVALID`].
    pub(crate) fn from_links(max_degree: usize, links: Vec<u32>) -> Option<Self> {
        if max_degree == 0 || !links.len().is_multiple_of(max_degree) {
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
            copies: Copies::default(),
        })
    }
}
