//! The set of points a search has visited (`v` in Malkov et al.), cleared in O(1).

/// Marks each point with the generation of the search that visited it; starting a new search
/// bumps the generation instead of wiping the marks, except once every 255 searches.
#[derive(Debug, Clone)]
pub(crate) struct Visited {
    marks: Vec<u8>,
    generation: u8,
    count: usize,
}

impl Visited {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            marks: vec![0; n],
            generation: 1,
            count: 0,
        }
    }

    /// Forgets every visit, and makes room for `n` points.
    pub(crate) fn clear(&mut self, n: usize) {
        self.count = 0;
        if self.marks.len() != n {
            self.marks.clear();
            self.marks.resize(n, 0);
            self.generation = 1;
            return;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.marks.fill(0);
            self.generation = 1;
        }
    }

    /// Marks `id` visited; returns whether it was new.
    #[inline]
    pub(crate) fn insert(&mut self, id: u32) -> bool {
        let mark = &mut self.marks[id as usize];
        if *mark == self.generation {
            return false;
        }
        *mark = self.generation;
        self.count += 1;
        true
    }

    #[inline]
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.marks[id as usize] == self.generation
    }

    /// How many points were visited since the last clear.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clearing_forgets_every_visit_across_the_generation_wrap() {
        let mut v = Visited::new(10);
        for round in 0..600u32 {
            v.clear(10);
            assert!(v.is_empty());
            let id = round % 10;
            assert!(!v.contains(id), "round {round}");
            assert!(v.insert(id));
            assert!(!v.insert(id));
            assert!(v.contains(id));
            assert_eq!(v.len(), 1);
        }
    }

    #[test]
    fn clearing_to_a_new_size_resizes() {
        let mut v = Visited::new(2);
        v.insert(1);
        v.clear(5);
        assert!(!v.contains(1));
        assert!(v.insert(4));
    }
}
