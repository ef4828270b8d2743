//! The points of an index (or a batch of queries): rows of one contiguous buffer of `f32`,
//! owned or mapped from a file.

use super::buffer::Buffer;
use crate::error::{Error, Result};
use crate::sys::prefetch::prefetch_lines;

/// `n` rows of `dim` values in one contiguous buffer.
///
/// Time series of unequal length arrive padded to a common width with trailing NaN (the UCR
/// archive's layout): such a row keeps its padding in the buffer and [`Points::row`] returns only
/// its observed prefix, so DTW compares series at their true lengths.
#[derive(Debug, Clone)]
pub(crate) struct Points {
    data: Buffer<f32>,
    dim: usize,
    /// True length of each row, present only when some row is shorter than `dim`.
    lengths: Option<Vec<u32>>,
}

impl Points {
    /// Checks and takes `data` as rows of `dim` values.
    ///
    /// Every value must be finite, except that with `padding` a row may end in NaN padding after
    /// at least one observed value, in whole time steps of `padding` values (the channels of a
    /// multivariate series; `dim` is a multiple of it).
    pub(crate) fn new(data: Vec<f32>, dim: usize, padding: Option<usize>) -> Result<Self> {
        let mut check = RowsCheck::new(dim, padding)?;
        check.push(&data, |_, _| Ok(()))?;
        Ok(check.finish(data.into()))
    }

    /// Whether the rows are read in place from a mapped file rather than owned.
    pub(crate) fn is_mapped(&self) -> bool {
        self.data.is_mapped()
    }

    /// The whole buffer if it is owned (not mapped).
    pub(crate) fn owned(&self) -> Option<&[f32]> {
        self.data.owned()
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Appends the rows of `more`, which must have the same `dim`.
    pub(crate) fn extend(&mut self, more: Points) {
        debug_assert_eq!(self.dim, more.dim);
        let (n, added) = (self.len(), more.len());
        match (&mut self.lengths, more.lengths) {
            (Some(mine), Some(theirs)) => mine.extend(theirs),
            (Some(mine), None) => mine.extend(std::iter::repeat_n(self.dim as u32, added)),
            (None, Some(theirs)) => {
                let mut lengths = vec![self.dim as u32; n];
                lengths.extend(theirs);
                self.lengths = Some(lengths);
            }
            (None, None) => {}
        }
        self.data.to_mut().extend_from_slice(&more.data);
    }

    /// Drops the rows from `n` on.
    pub(crate) fn truncate(&mut self, n: usize) {
        self.data.to_mut().truncate(n * self.dim);
        if let Some(lengths) = &mut self.lengths {
            lengths.truncate(n);
            if lengths.iter().all(|&len| len as usize == self.dim) {
                self.lengths = None;
            }
        }
    }

    /// Keeps only the rows whose `keep` is true, in order.
    pub(crate) fn retain(&self, keep: impl Fn(u32) -> bool) -> Points {
        let dim = self.dim;
        let ids: Vec<u32> = (0..self.len() as u32).filter(|&id| keep(id)).collect();
        let data = ids
            .iter()
            .flat_map(|&id| &self.data[id as usize * dim..(id as usize + 1) * dim])
            .copied()
            .collect::<Vec<f32>>()
            .into();
        let lengths = self
            .lengths
            .as_ref()
            .map(|l| ids.iter().map(|&id| l[id as usize]).collect::<Vec<u32>>())
            .filter(|l| l.iter().any(|&len| (len as usize) < dim));
        Points { data, dim, lengths }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Bytes held: the values and the true lengths of padded rows.
    pub(crate) fn nbytes(&self) -> usize {
        size_of_val(&*self.data) + self.lengths.as_ref().map_or(0, |l| 4 * l.len())
    }

    pub(crate) fn dim(&self) -> usize {
        self.dim
    }

    /// Whether some row is shorter than `dim` (variable-length series).
    pub(crate) fn has_padding(&self) -> bool {
        self.lengths.is_some()
    }

    /// The observed values of row `id`.
    #[inline]
    pub(crate) fn row(&self, id: u32) -> &[f32] {
        let start = id as usize * self.dim;
        let len = self
            .lengths
            .as_ref()
            .map_or(self.dim, |l| l[id as usize] as usize);
        &self.data[start..start + len]
    }

    /// Asks the CPU to start loading row `id` into cache, ahead of its distance computation.
    #[inline]
    pub(crate) fn prefetch(&self, id: u32) {
        /// Lines prefetched at most; later lines of a long row follow the hardware prefetcher.
        const MAX_LINES: usize = 8;
        let start = self.data.as_ptr().wrapping_add(id as usize * self.dim) as usize;
        prefetch_lines(
            start,
            start + self.dim.min(MAX_LINES * 16) * size_of::<f32>(),
        );
    }

    /// The rows, padding included, to change in place.
    pub(crate) fn rows_mut(&mut self) -> std::slice::ChunksExactMut<'_, f32> {
        self.data.to_mut().chunks_exact_mut(self.dim)
    }

    /// The whole buffer, padding included.
    pub(crate) fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// Whether rows `a` and `b` hold the same values, bit for bit (so any distance treats them
    /// alike).
    pub(crate) fn same_row(&self, a: u32, b: u32) -> bool {
        let (a, b) = (self.row(a), self.row(b));
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    /// For each row from `from` on, the first row from `from` on that is the same (itself if
    /// none): one hash of each row, and a comparison for rows whose hashes agree.
    pub(crate) fn first_same_rows(&self, from: usize) -> Vec<u32> {
        use std::collections::hash_map::{DefaultHasher, Entry, HashMap};
        use std::hash::{Hash, Hasher};
        let mut first_by_hash: HashMap<u64, Vec<u32>> = HashMap::new();
        (from..self.len())
            .map(|p| {
                let p = p as u32;
                let mut hasher = DefaultHasher::new();
                for x in self.row(p) {
                    x.to_bits().hash(&mut hasher);
                }
                self.row(p).len().hash(&mut hasher);
                match first_by_hash.entry(hasher.finish()) {
                    Entry::Vacant(e) => {
                        e.insert(vec![p]);
                        p
                    }
                    Entry::Occupied(mut e) => {
                        let firsts = e.get_mut();
                        match firsts.iter().find(|&&f| self.same_row(f, p)) {
                            Some(&f) => f,
                            None => {
                                firsts.push(p);
                                p
                            }
                        }
                    }
                }
            })
            .collect()
    }
}

/// The checks of [`Points::new`] on rows that arrive in batches, as a file is read piece by
/// piece: each row once, and the true lengths of padded rows kept for [`RowsCheck::finish`].
pub(crate) struct RowsCheck {
    dim: usize,
    padding: Option<usize>,
    lengths: Vec<u32>,
    padded: bool,
}

impl RowsCheck {
    pub(crate) fn new(dim: usize, padding: Option<usize>) -> Result<Self> {
        if dim == 0 {
            return Err(Error::ZeroDimension);
        }
        debug_assert!(padding.is_none_or(|step| step > 0 && dim.is_multiple_of(step)));
        Ok(Self {
            dim,
            padding,
            lengths: Vec::new(),
            padded: false,
        })
    }

    /// Checks the rows of `data`, the next ones, and calls `each(row, observed values)` on
    /// each valid one, `row` counting from the first row ever pushed.
    pub(crate) fn push(
        &mut self,
        data: &[f32],
        mut each: impl FnMut(usize, &[f32]) -> Result<()>,
    ) -> Result<()> {
        let dim = self.dim;
        if !data.len().is_multiple_of(dim) {
            return Err(Error::RaggedData {
                len: data.len(),
                dim,
            });
        }
        for values in data.chunks_exact(dim) {
            let row = self.lengths.len();
            let len = match self.padding {
                Some(step) => values
                    .iter()
                    .rposition(|v| !v.is_nan())
                    .map_or(0, |last| (last + 1).next_multiple_of(step)),
                None => dim,
            };
            if let Some(column) = values[..len].iter().position(|v| !v.is_finite()) {
                let hint = match self.padding {
                    Some(1) => " (only trailing NaN padding is allowed)",
                    Some(_) => " (only trailing NaN padding, in whole time steps, is allowed)",
                    None => "",
                };
                return Err(Error::NonFinite { row, column, hint });
            }
            if len == 0 {
                return Err(Error::NonFinite {
                    row,
                    column: 0,
                    hint: " (the whole row is NaN padding)",
                });
            }
            self.padded |= len < dim;
            self.lengths.push(len as u32);
            each(row, &values[..len])?;
        }
        Ok(())
    }

    /// The points over `data`, which holds the rows pushed, in order.
    pub(crate) fn finish(self, data: Buffer<f32>) -> Points {
        debug_assert_eq!(data.len(), self.lengths.len() * self.dim);
        Points {
            data,
            dim: self.dim,
            lengths: self.padded.then_some(self.lengths),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_same_row() {
        let data = vec![
            1.0,
            2.0,
            3.0,
            4.0,
            1.0,
            2.0,
            3.0,
            4.0,
            1.0,
            f32::NAN,
            1.0,
            2.0,
        ];
        let points = Points::new(data, 2, Some(1)).unwrap();
        assert_eq!(points.first_same_rows(0), [0, 1, 0, 1, 4, 0]);
        assert_eq!(points.first_same_rows(2), [2, 3, 4, 2]);
        assert!(points.same_row(0, 5) && !points.same_row(4, 0) && !points.same_row(0, 1));
    }

    #[test]
    fn rows_checked_in_pieces_are_checked_as_whole_ones() {
        let nan = f32::NAN;
        let data = vec![1., 2., 3., 4., nan, nan, 5., nan, nan, 6., 7., 8.];
        let whole = Points::new(data.clone(), 3, Some(1)).unwrap();
        let mut check = RowsCheck::new(3, Some(1)).unwrap();
        let mut seen = Vec::new();
        for piece in data.chunks(6) {
            check
                .push(piece, |row, values| {
                    seen.push((row, values.len()));
                    Ok(())
                })
                .unwrap();
        }
        assert_eq!(seen, [(0, 3), (1, 1), (2, 1), (3, 3)]);
        let pieces = check.finish(data.into());
        assert_eq!(pieces.lengths, whole.lengths);
        // An error names the row counted from the first piece.
        let mut check = RowsCheck::new(2, None).unwrap();
        check.push(&[1., 2., 3., 4.], |_, _| Ok(())).unwrap();
        let err = check.push(&[5., f32::INFINITY], |_, _| Ok(())).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NonFinite {
                    row: 2,
                    column: 1,
                    ..
                }
            ),
            "{err}"
        );
        let err = check.push(&[5.], |_, _| Ok(())).unwrap_err();
        assert_eq!(err, Error::RaggedData { len: 1, dim: 2 });
    }

    #[test]
    fn trailing_nan_padding_gives_true_lengths() {
        let nan = f32::NAN;
        let p = Points::new(vec![1., 2., 3., 4., nan, nan], 3, Some(1)).unwrap();
        assert!(p.has_padding());
        assert_eq!(p.row(0), &[1., 2., 3.]);
        assert_eq!(p.row(1), &[4.]);
    }

    #[test]
    fn rejects_nan_inside_a_row_and_inf_anywhere() {
        let nan = f32::NAN;
        let err = Points::new(vec![1., nan, 3.], 3, Some(1)).unwrap_err();
        assert!(matches!(
            err,
            Error::NonFinite {
                row: 0,
                column: 1,
                ..
            }
        ));
        let err = Points::new(vec![1., 2., f32::INFINITY], 3, Some(1)).unwrap_err();
        assert!(matches!(
            err,
            Error::NonFinite {
                row: 0,
                column: 2,
                ..
            }
        ));
        let err = Points::new(vec![1., 2., nan], 3, None).unwrap_err();
        assert!(matches!(
            err,
            Error::NonFinite {
                row: 0,
                column: 2,
                ..
            }
        ));
        assert!(Points::new(vec![nan, nan], 2, Some(1)).is_err());
    }

    #[test]
    fn multivariate_padding_comes_in_whole_time_steps() {
        let nan = f32::NAN;
        let p = Points::new(vec![1., 2., 3., 4., 5., 6., nan, nan], 4, Some(2)).unwrap();
        assert_eq!(p.row(0), &[1., 2., 3., 4.]);
        assert_eq!(p.row(1), &[5., 6.]);
        let err = Points::new(vec![1., 2., 3., nan], 4, Some(2)).unwrap_err();
        assert!(matches!(
            err,
            Error::NonFinite {
                row: 0,
                column: 3,
                ..
            }
        ));
    }

    #[test]
    fn rejects_ragged_data_and_zero_dimension() {
        assert_eq!(
            Points::new(vec![1., 2., 3.], 2, None).unwrap_err(),
            Error::RaggedData { len: 3, dim: 2 }
        );
        assert_eq!(
            Points::new(vec![], 0, None).unwrap_err(),
            Error::ZeroDimension
        );
    }
}
