//! Ordered result stores of the search: a candidate with a total order that keeps equal
//! distances apart, and a bounded top-k list.

use std::cmp::Ordering;

/// A point and its ranking distance to the query.
///
/// Ordered by distance, then by id, so that points at equal distance are distinct entries with a
/// deterministic order (the seed write-up's `BTreeSet` keyed by distance alone dropped them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
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

/// The `capacity` nearest candidates seen so far (`W` in Malkov et al.).
///
/// Invariant: `items` is sorted nearest first, holds no id twice and is never longer than
/// `capacity`.
#[derive(Debug, Default)]
pub struct TopK {
    items: Vec<Candidate>,
    capacity: usize,
}

impl TopK {
    /// Empties the store and sets how many candidates it keeps.
    pub fn reset(&mut self, capacity: usize) {
        self.items.clear();
        self.capacity = capacity;
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.items.len() >= self.capacity
    }

    /// The farthest kept candidate, if the store is full: anything farther cannot enter.
    pub fn bound(&self) -> Option<&Candidate> {
        if self.is_full() {
            self.items.last()
        } else {
            None
        }
    }

    /// Whether a candidate at `distance` would be kept.
    #[inline]
    pub fn admits(&self, distance: f32) -> bool {
        self.bound()
            .is_none_or(|worst| distance.total_cmp(&worst.distance) == Ordering::Less)
    }

    /// Inserts `c` in order, dropping the farthest candidate if over capacity.
    /// Returns whether `c` was kept. The caller never offers the same id twice.
    pub fn insert(&mut self, c: Candidate) -> bool {
        if self.capacity == 0 || self.bound().is_some_and(|worst| c >= *worst) {
            return false;
        }
        debug_assert!(
            self.items.iter().all(|x| x.id != c.id),
            "id {} offered twice",
            c.id
        );
        let at = self.items.partition_point(|x| *x < c);
        self.items.insert(at, c);
        self.items.truncate(self.capacity);
        true
    }

    /// The kept candidates, nearest first.
    pub fn as_slice(&self) -> &[Candidate] {
        &self.items
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
        let ids: Vec<u32> = top.as_slice().iter().map(|x| x.id).collect();
        assert_eq!(ids, [9, 3, 5, 7]);
        // A tie with the worst entry but a larger id does not enter; a smaller id does.
        assert!(!top.insert(c(1.0, 8)));
        assert!(top.insert(c(1.0, 4)));
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
        let d: Vec<f32> = top.as_slice().iter().map(|x| x.distance).collect();
        assert_eq!(d, [0.5, 1.0, 2.0]);
        assert!(top.admits(1.5));
        assert!(!top.admits(2.0));
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut top = TopK::default();
        top.reset(0);
        assert!(!top.insert(c(0.0, 0)));
        assert!(top.is_empty());
    }
}
