//! Removal marks: removed points stay in the graph, which searches walk through, but are never
//! returned, until `compact` rebuilds the index without them.

/// Which points are removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tombstones {
    /// One mark per point once something was removed; empty before, so that an index nothing
    /// was removed from pays for no marks.
    marks: Vec<bool>,
    count: usize,
}

impl Tombstones {
    /// Marks from one flag per point; none set is the same as no marks.
    pub(crate) fn from_marks(marks: Vec<bool>) -> Self {
        let count = marks.iter().filter(|&&m| m).count();
        if count == 0 {
            return Self::default();
        }
        Self { marks, count }
    }

    /// Whether point `id` is removed.
    #[inline]
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.marks.get(id as usize).copied().unwrap_or(false)
    }

    /// How many points are removed.
    /// Bytes held by the marks.
    pub(crate) fn nbytes(&self) -> usize {
        self.marks.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Marks `ids` removed, among `n` points; none may be marked already or given twice.
    pub(crate) fn insert(&mut self, ids: &[u64], n: usize) {
        if self.marks.is_empty() {
            self.marks = vec![false; n];
        }
        for &id in ids {
            debug_assert!(!self.marks[id as usize], "{id} removed twice");
            self.marks[id as usize] = true;
        }
        self.count += ids.len();
    }

    /// Makes room for points up to `n`, not removed, or forgets the points from `n` on.
    pub(crate) fn resize(&mut self, n: usize) {
        if self.marks.is_empty() {
            return;
        }
        self.marks.resize(n, false);
        self.count = self.marks.iter().filter(|&&m| m).count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_count_and_follow_resizes() {
        let mut t = Tombstones::default();
        assert!(!t.contains(3) && t.len() == 0);
        t.insert(&[1, 3], 5);
        assert!(t.contains(1) && t.contains(3) && !t.contains(2) && !t.contains(9));
        assert_eq!(t.len(), 2);
        t.resize(7);
        assert!(!t.contains(6) && t.len() == 2);
        t.resize(2);
        assert!(t.contains(1) && !t.contains(3) && t.len() == 1);
        assert_eq!(
            Tombstones::from_marks(vec![false; 4]),
            Tombstones::default()
        );
    }
}
