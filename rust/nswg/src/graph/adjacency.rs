//! The graph's adjacency: a flat, fixed-stride neighbour list per node.

use super::copies::Copies;
use crate::storage::Buffer;
use crate::sys::prefetch::prefetch;

/// Marks the unused tail of a node's fixed-size neighbour list.
const INVALID: u32 = u32::MAX;

/// Undirected-in-spirit adjacency: node `i`'s neighbours are the first entries of
/// `links[i * max_degree..(i + 1) * max_degree]` before the first [`INVALID`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Graph {
    max_degree: usize,
    /// Owned, or mapped from the file of a read-only index.
    links: Buffer<u32>,
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
            links: vec![INVALID; n * max_degree].into(),
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
        let row = &mut self.links.to_mut()[start..start + self.max_degree];
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
        self.links.to_mut().resize(n * self.max_degree, INVALID);
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

    /// The flat adjacency, `max_degree` entries per node.
    pub(crate) fn links(&self) -> &[u32] {
        &self.links
    }

    /// Whether the lists are read in place from a mapped file rather than owned.
    pub(crate) fn is_mapped(&self) -> bool {
        self.links.is_mapped()
    }

    /// The flat adjacency if it is owned (not mapped).
    pub(crate) fn owned_links(&self) -> Option<&[u32]> {
        self.links.owned()
    }
}

/// The checks of a flat adjacency read back from a file, list after list as the file is read,
/// so that a mapped file is checked without being mapped: every list a run of distinct,
/// in-range ids other than the node's own, padded with [`INVALID`].
pub(crate) struct LinksCheck {
    max_degree: usize,
    n: usize,
    degrees: Vec<u16>,
    /// `seen_by[x]` is one more than the last node whose list holds `x`: a duplicate shows in
    /// one lookup, without sorting each list.
    seen_by: Vec<usize>,
    /// Whether some list holds `x`, for the check that no copy is in a list.
    listed: Vec<bool>,
}

impl LinksCheck {
    /// The check of the lists of `n` nodes of `max_degree` entries each; `None` for no entry.
    pub(crate) fn new(n: usize, max_degree: usize) -> Option<Self> {
        (max_degree > 0).then(|| Self {
            max_degree,
            n,
            degrees: Vec::with_capacity(n),
            seen_by: vec![0; n],
            listed: vec![false; n],
        })
    }

    /// Checks the next lists, whole ones; `None` if one is invalid.
    pub(crate) fn push(&mut self, links: &[u32]) -> Option<()> {
        if !links.len().is_multiple_of(self.max_degree) {
            return None;
        }
        for row in links.chunks_exact(self.max_degree) {
            let node = self.degrees.len();
            let degree = row
                .iter()
                .position(|&x| x == INVALID)
                .unwrap_or(self.max_degree);
            self.degrees.push(u16::try_from(degree).ok()?);
            let (list, padding) = row.split_at(degree);
            for &x in list {
                let x = x as usize;
                if x >= self.n || x == node || self.seen_by[x] == node + 1 {
                    return None;
                }
                self.seen_by[x] = node + 1;
                self.listed[x] = true;
            }
            if padding.iter().any(|&x| x != INVALID) {
                return None;
            }
        }
        Some(())
    }

    /// The graph over `links`, which holds the lists pushed, with the groups of copies `first`
    /// (each point's node), `same_row` telling the identical copies: `None` unless every list
    /// was pushed and the groups are valid ones whose copies have no list and are in no list.
    pub(crate) fn finish(
        self,
        links: Buffer<u32>,
        first: Vec<u32>,
        same_row: impl Fn(u32, u32) -> bool,
    ) -> Option<Graph> {
        if self.degrees.len() != self.n || first.len() != self.n {
            return None;
        }
        debug_assert_eq!(links.len(), self.n * self.max_degree);
        let copies = Copies::from_firsts(first, same_row)?;
        if copies.any() {
            let orphan = (0..self.n as u32).any(|id| {
                copies.is_copy(id) && (self.degrees[id as usize] != 0 || self.listed[id as usize])
            });
            if orphan {
                return None;
            }
        }
        Some(Graph {
            max_degree: self.max_degree,
            links,
            degrees: self.degrees,
            copies,
        })
    }
}
