//! Copies among the points: each group of identical or nearly identical rows is one node of the
//! graph.
//!
//! Real collections repeat rows (embedding tables that map many words to one vector, archives
//! holding one series several times). Linked as separate nodes, copies at distance 0 from each
//! other make every other candidate look redundant to the neighbour selection (it keeps a
//! candidate only if it is closer to the point than to every neighbour kept before), so they cut
//! themselves off, and they fill the search's beam with one place many times over. Instead, the
//! first point of a group is the node and the others, its copies, have no list and are in no
//! list: a search that finds the node returns its copies beside it, an identical copy at the
//! node's distance without computing it again, a near copy at its own distance.

/// Marks the end of a group's chain.
const END: u32 = u32::MAX;

/// The groups of identical points: empty (no cost) while no point has a copy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Copies {
    /// The first point of each point's group: itself for a node.
    first: Vec<u32>,
    /// The next copy in the chain that starts at the group's first point, or [`END`].
    next: Vec<u32>,
    /// Whether each copy is identical to its node (not only nearly).
    identical: Vec<bool>,
    /// Number of copies.
    count: usize,
}

impl Copies {
    /// Whether `id` is a copy of an earlier point, hence not a node of the graph.
    #[inline]
    pub(crate) fn is_copy(&self, id: u32) -> bool {
        self.first.get(id as usize).is_some_and(|&f| f != id)
    }

    /// The node that stands for `id`: the first point of its group.
    #[inline]
    pub(crate) fn node_of(&self, id: u32) -> u32 {
        self.first.get(id as usize).copied().unwrap_or(id)
    }

    /// Whether copy `id` is identical to its node, so that its distances are the node's.
    #[inline]
    pub(crate) fn is_identical(&self, id: u32) -> bool {
        self.identical.get(id as usize).copied().unwrap_or(true)
    }

    /// Bytes held: nothing while no point has a copy.
    pub(crate) fn nbytes(&self) -> usize {
        4 * (self.first.len() + self.next.len()) + self.identical.len()
    }

    /// Number of points that are copies.
    #[inline]
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Whether any point has a copy.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        !self.first.is_empty()
    }

    /// The copies of node `id`, in no particular order.
    #[inline]
    pub(crate) fn of(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        let mut at = self.next.get(id as usize).copied().unwrap_or(END);
        std::iter::from_fn(move || {
            (at != END).then(|| {
                let copy = at;
                at = self.next[copy as usize];
                copy
            })
        })
    }

    /// Makes `id` a copy of node `node`, `identical` to it or nearly, among `n` points.
    pub(crate) fn join(&mut self, id: u32, node: u32, n: usize, identical: bool) {
        debug_assert!(node < id && !self.is_copy(node));
        if self.first.is_empty() {
            self.first = (0..n as u32).collect();
            self.next = vec![END; n];
            self.identical = vec![true; n];
        }
        self.resize(n);
        self.first[id as usize] = node;
        self.identical[id as usize] = identical;
        self.count += 1;
        self.next[id as usize] = self.next[node as usize];
        self.next[node as usize] = id;
    }

    /// Makes room for points up to `n`, none of them a copy, or drops the points from `n` on.
    pub(crate) fn resize(&mut self, n: usize) {
        if !self.any() {
            return;
        }
        let old = self.first.len();
        if n >= old {
            self.first.extend(old as u32..n as u32);
            self.next.resize(n, END);
            self.identical.resize(n, true);
            return;
        }
        let first: Vec<u32> = self.first[..n].to_vec();
        let identical = &self.identical;
        *self = Self::from_firsts(first, |copy, _| identical[copy as usize])
            .expect("a prefix of valid groups is valid");
    }

    /// The first point of each point's group, as [`Copies::from_firsts`] reads it back; empty
    /// when no point has a copy.
    pub(crate) fn firsts(&self) -> &[u32] {
        &self.first
    }

    /// The groups given by the first point of each point's group, `identical(copy, node)`
    /// telling the identical copies: `None` unless each entry names the point itself or an
    /// earlier node.
    pub(crate) fn from_firsts(
        first: Vec<u32>,
        identical: impl Fn(u32, u32) -> bool,
    ) -> Option<Self> {
        let n = first.len();
        for (id, &f) in first.iter().enumerate() {
            if f as usize > id || first[f as usize] != f {
                return None;
            }
        }
        if first.iter().enumerate().all(|(id, &f)| f as usize == id) {
            return Some(Self::default());
        }
        let mut next = vec![END; n];
        let mut same = vec![true; n];
        let mut count = 0;
        // Chains as `join` builds them when copies come in id order.
        for (id, &f) in first.iter().enumerate() {
            if f as usize != id {
                next[id] = next[f as usize];
                next[f as usize] = id as u32;
                same[id] = identical(id as u32, f);
                count += 1;
            }
        }
        Some(Self {
            first,
            next,
            identical: same,
            count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_copies_behind_their_node() {
        let mut c = Copies::default();
        assert!(!c.any() && !c.is_copy(3) && c.node_of(3) == 3);
        c.join(3, 1, 6, true);
        c.join(5, 1, 6, false);
        c.join(4, 2, 6, true);
        assert_eq!((c.node_of(5), c.node_of(4), c.node_of(0)), (1, 2, 0));
        let mut of_1: Vec<u32> = c.of(1).collect();
        of_1.sort_unstable();
        assert_eq!(of_1, [3, 5]);
        assert_eq!(c.of(0).count(), 0);
        assert!(c.is_identical(3) && !c.is_identical(5));
        assert_eq!(c.count(), 3);
        let read = Copies::from_firsts(c.firsts().to_vec(), |copy, _| copy != 5).unwrap();
        assert_eq!(read, c);
        c.resize(5);
        assert_eq!(c.of(1).collect::<Vec<_>>(), [3]);
        assert_eq!(c.count(), 2);
        c.resize(8);
        assert!(!c.is_copy(7));
        let same = |_, _| true;
        assert_eq!(
            Copies::from_firsts(vec![0, 1, 2], same),
            Some(Copies::default())
        );
        assert_eq!(Copies::from_firsts(vec![0, 2, 2], same), None);
        assert_eq!(Copies::from_firsts(vec![0, 0, 1], same), None);
    }
}
