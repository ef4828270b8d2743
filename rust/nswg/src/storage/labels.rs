//! Labels: the caller's 64-bit ids of the points, which results carry instead of row numbers and
//! which stay with their points through `compact`, saving and loading.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// The label no point may have: it marks a missing result (fewer than `k` points returnable),
/// as `-1` does for row ids, whose bits it shares.
pub const NO_LABEL: u64 = u64::MAX;

/// One label per point, all distinct, and the point of each label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Labels {
    of_point: Vec<u64>,
    point_of: HashMap<u64, u32>,
}

impl Labels {
    /// The labels of points `0..labels.len()`; a repeated label or [`NO_LABEL`] is an error.
    pub(crate) fn new(labels: Vec<u64>) -> Result<Self> {
        let mut all = Self::default();
        all.extend(labels)?;
        Ok(all)
    }

    /// Appends the labels of the next points; on an error (a label repeated, in use or
    /// [`NO_LABEL`]) nothing is appended.
    pub(crate) fn extend(&mut self, more: Vec<u64>) -> Result<()> {
        let first = self.of_point.len();
        self.point_of.reserve(more.len());
        for (i, &label) in more.iter().enumerate() {
            let taken =
                label == NO_LABEL || self.point_of.insert(label, (first + i) as u32).is_some();
            if taken {
                // Undo this call's insertions, keeping the earlier owner of a repeated label.
                for &undo in &more[..i] {
                    self.point_of.remove(&undo);
                }
                if let Some(owner) = self.of_point.iter().position(|&l| l == label) {
                    self.point_of.insert(label, owner as u32);
                }
                return Err(Error::DuplicateLabel { label });
            }
        }
        self.of_point.extend(more);
        Ok(())
    }

    /// Forgets the labels of the points from `n` on.
    pub(crate) fn truncate(&mut self, n: usize) {
        for label in self.of_point.drain(n..) {
            self.point_of.remove(&label);
        }
    }

    /// The labels of the points `keep` accepts, renumbered in order, as `compact` renumbers.
    pub(crate) fn retain(&self, keep: impl Fn(u32) -> bool) -> Self {
        let kept = (0..self.of_point.len() as u32)
            .filter(|&id| keep(id))
            .map(|id| self.of_point[id as usize])
            .collect();
        Self::new(kept).expect("labels of distinct points are distinct")
    }

    #[inline]
    pub(crate) fn label(&self, id: u32) -> u64 {
        self.of_point[id as usize]
    }

    pub(crate) fn point(&self, label: u64) -> Option<u32> {
        self.point_of.get(&label).copied()
    }

    pub(crate) fn as_slice(&self) -> &[u64] {
        &self.of_point
    }

    /// Bytes held: the labels, and the map back at its capacity (key, value and a control
    /// byte per slot).
    pub(crate) fn nbytes(&self) -> usize {
        8 * self.of_point.capacity() + 13 * self.point_of.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_map_both_ways_and_refuse_repeats_without_changing() {
        let mut labels = Labels::new(vec![10, u64::MAX - 1, 7]).unwrap();
        assert_eq!((labels.label(1), labels.point(7)), (u64::MAX - 1, Some(2)));
        assert_eq!(
            labels.extend(vec![3, 4, 10]),
            Err(Error::DuplicateLabel { label: 10 })
        );
        assert_eq!(
            labels.extend(vec![5, 5]),
            Err(Error::DuplicateLabel { label: 5 })
        );
        assert_eq!(
            labels.extend(vec![NO_LABEL]),
            Err(Error::DuplicateLabel { label: NO_LABEL })
        );
        assert_eq!(labels, Labels::new(vec![10, u64::MAX - 1, 7]).unwrap());
        labels.extend(vec![3]).unwrap();
        let kept = labels.retain(|id| id != 1);
        assert_eq!(kept.as_slice(), [10, 7, 3]);
        assert_eq!((kept.point(3), kept.point(u64::MAX - 1)), (Some(2), None));
        labels.truncate(2);
        assert_eq!(
            (labels.as_slice(), labels.point(7)),
            (&[10, u64::MAX - 1][..], None)
        );
    }
}
