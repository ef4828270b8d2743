//! Ordered result stores of the search: a candidate with a total order that keeps equal
//! distances apart, and a bounded top-k list.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A point and its ranking distance to the query.
///
/// Ordered by distance, then by id, so that points at equal distance are distinct entries with a
/// deterministic order (the seed write-up's `BTreeSet` keyed by distance alone dropped them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Candidate {
    pub distance: f32,
    pub id: u32,
}

impl Eq for Candidate {}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.distance
            .total_cmp(&other.distance)
            .then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Candidate {
    /// A key whose unsigned order is the candidate order, so that the search's heaps compare
    /// one integer: the distance's bits mapped as [`f32::total_cmp`] orders them, then the id.
    #[inline]
    pub(crate) fn key(self) -> u64 {
        let bits = self.distance.to_bits() as i32;
        let ordered = (bits ^ ((((bits >> 31) as u32) >> 1) as i32)) as u32 ^ 0x8000_0000;
        (u64::from(ordered) << 32) | u64::from(self.id)
    }

    /// The candidate of a [`Candidate::key`].
    #[inline]
    pub(crate) fn from_key(key: u64) -> Self {
        let ordered = ((key >> 32) as u32 ^ 0x8000_0000) as i32;
        let bits = ordered ^ ((((ordered >> 31) as u32) >> 1) as i32);
        Self {
            distance: f32::from_bits(bits as u32),
            id: key as u32,
        }
    }
}

/// The `capacity` nearest candidates seen so far (`W` in Malkov et al.).
///
/// A bounded max-heap of candidate keys while the search runs, so that the farthest kept one is
/// at hand and an insertion costs `O(log capacity)`; [`TopK::finish`] sorts it once at the end.
/// Invariant: it holds no id twice and never more than `capacity` candidates.
#[derive(Debug, Default)]
pub(crate) struct TopK {
    heap: BinaryHeap<u64>,
    sorted: Vec<Candidate>,
    capacity: usize,
}

impl TopK {
    /// Empties the store and sets how many candidates it keeps.
    pub(crate) fn reset(&mut self, capacity: usize) {
        self.heap.clear();
        self.sorted.clear();
        self.capacity = capacity;
    }

    /// How many candidates are kept (before [`TopK::finish`]).
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.heap.len() >= self.capacity
    }

    /// The farthest kept candidate, if the store is full: anything farther cannot enter.
    #[inline]
    pub(crate) fn bound(&self) -> Option<Candidate> {
        if self.is_full() {
            self.heap.peek().map(|&key| Candidate::from_key(key))
        } else {
            None
        }
    }

    /// Whether a candidate at `distance` would be kept.
    #[inline]
    pub(crate) fn admits(&self, distance: f32) -> bool {
        self.bound()
            .is_none_or(|worst| distance.total_cmp(&worst.distance) == Ordering::Less)
    }

    /// Keeps `c`, dropping the farthest candidate if over capacity.
    /// Returns whether `c` was kept. The caller never offers the same id twice.
    #[inline]
    pub(crate) fn insert(&mut self, c: Candidate) -> bool {
        let key = c.key();
        if self.heap.len() < self.capacity {
            debug_assert!(
                self.heap.iter().all(|&x| x as u32 != c.id),
                "id {} offered twice",
                c.id
            );
            self.heap.push(key);
            return true;
        }
        match self.heap.peek_mut() {
            Some(mut worst) if key < *worst => {
                *worst = key;
                true
            }
            _ => false,
        }
    }

    /// Sorts the kept candidates, nearest first, into [`TopK::as_slice`], and empties the heap.
    pub(crate) fn finish(&mut self) {
        let keys = std::mem::take(&mut self.heap).into_sorted_vec();
        self.sorted.clear();
        self.sorted
            .extend(keys.iter().map(|&key| Candidate::from_key(key)));
        // Keep the allocation for the next search.
        let mut keys = keys;
        keys.clear();
        self.heap = BinaryHeap::from(keys);
    }

    /// How many candidates it keeps.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The kept candidates as sorted by the last [`TopK::finish`], to rewrite in place.
    pub(crate) fn sorted_mut(&mut self) -> &mut Vec<Candidate> {
        &mut self.sorted
    }

    /// The kept candidates, nearest first, as sorted by the last [`TopK::finish`].
    pub(crate) fn as_slice(&self) -> &[Candidate] {
        &self.sorted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(distance: f32, id: u32) -> Candidate {
        Candidate { distance, id }
    }

    #[test]
    fn equal_distances_are_all_kept_and_ordered_by_id() {
        let mut top = TopK::default();
        top.reset(4);
        for id in [7, 3, 5] {
            assert!(top.insert(c(1.0, id)));
        }
        assert!(top.insert(c(0.5, 9)));
        assert_eq!(top.bound(), Some(c(1.0, 7)));
        let ids: Vec<u32> = {
            let mut all: Vec<Candidate> =
                top.heap.iter().map(|&k| Candidate::from_key(k)).collect();
            all.sort();
            all.iter().map(|x| x.id).collect()
        };
        assert_eq!(ids, [9, 3, 5, 7]);
        // A tie with the worst entry but a larger id does not enter; a smaller id does.
        assert!(!top.insert(c(1.0, 8)));
        assert!(top.insert(c(1.0, 4)));
        top.finish();
        let ids: Vec<u32> = top.as_slice().iter().map(|x| x.id).collect();
        assert_eq!(ids, [9, 3, 4, 5]);
    }

    #[test]
    fn keeps_only_the_nearest_capacity() {
        let mut top = TopK::default();
        top.reset(3);
        for (i, d) in [5.0, 1.0, 4.0, 2.0, 3.0, 0.5].into_iter().enumerate() {
            top.insert(c(d, i as u32));
        }
        assert!(top.admits(1.5));
        assert!(!top.admits(2.0));
        top.finish();
        let d: Vec<f32> = top.as_slice().iter().map(|x| x.distance).collect();
        assert_eq!(d, [0.5, 1.0, 2.0]);
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut top = TopK::default();
        top.reset(0);
        assert!(!top.insert(c(0.0, 0)));
        assert!(top.is_empty());
    }

    #[test]
    fn keys_order_as_candidates_and_round_trip() {
        let values = [
            f32::NEG_INFINITY,
            -3.5,
            -f32::MIN_POSITIVE,
            -0.0,
            0.0,
            f32::MIN_POSITIVE,
            1.0,
            1.0f32.next_up(),
            f32::MAX,
            f32::INFINITY,
            f32::NAN,
        ];
        let all: Vec<Candidate> = values
            .iter()
            .flat_map(|&d| [0, 1, u32::MAX - 1].map(|id| c(d, id)))
            .collect();
        for a in &all {
            let back = Candidate::from_key(a.key());
            assert_eq!(back.distance.to_bits(), a.distance.to_bits());
            assert_eq!(back.id, a.id);
            for b in &all {
                assert_eq!(a.key().cmp(&b.key()), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }
}
