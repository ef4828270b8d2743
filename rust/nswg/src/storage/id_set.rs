//! A set of point ids as one bit per point: what a filtered search may return.

/// Ids among `0..n`, one bit each, so that a search asks `contains` in one load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IdSet {
    words: Vec<u64>,
    len: usize,
}

impl IdSet {
    /// Empties the set and makes room for ids below `n`, reusing the buffer.
    pub(crate) fn clear(&mut self, n: usize) {
        self.words.clear();
        self.words.resize(n.div_ceil(64), 0);
        self.len = 0;
    }

    /// Adds `id` (below the `n` of the last [`IdSet::clear`]); adding it again changes nothing.
    #[inline]
    pub(crate) fn insert(&mut self, id: u32) {
        let (word, bit) = (id as usize / 64, 1u64 << (id % 64));
        self.len += usize::from(self.words[word] & bit == 0);
        self.words[word] |= bit;
    }

    #[inline]
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.words
            .get(id as usize / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    /// Number of ids in the set.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The ids in the set, in increasing order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros();
                    rest &= rest - 1;
                    (i * 64) as u32 + bit
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_was_inserted_once_each_and_iterates_in_order() {
        let mut set = IdSet::default();
        set.clear(130);
        for id in [129, 0, 64, 63, 64] {
            set.insert(id);
        }
        assert_eq!(set.len(), 4);
        assert!(set.contains(63) && set.contains(129) && !set.contains(1) && !set.contains(500));
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 63, 64, 129]);
        set.clear(10);
        assert_eq!((set.len(), set.iter().count()), (0, 0));
    }
}
