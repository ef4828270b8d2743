//! 8-bit scalar codes of the rows (faiss's `SQ8`, glass's `SQ8U` with one range per dimension):
//! value `j` of a row is kept as `round((x - min_j) / scale_j)` in `0..=255`, with
//! `scale_j = (max_j - min_j) / 255` over the rows the codes were trained on, so a row takes
//! `dim` bytes instead of `4 * dim` and a graph hop reads a quarter of the memory.
//!
//! A code decodes to `min_j + scale_j * c`, within `scale_j / 2` of each value in the trained
//! range; rows added later are encoded with the same ranges, their values outside them clamped.
//! By the triangle inequality the estimated Euclidean distance is then within
//! [`Sq8::error_bound`] of the exact one for rows in the range.

use super::Points;
use crate::sys::cpu::features;
use crate::sys::prefetch::prefetch_lines;

/// Code values per dimension, less one.
const LEVELS: f32 = 255.0;

/// The kernels take values in whole blocks of this many, so that no row ends in a scalar tail.
const BLOCK: usize = 8;

/// `dim` rounded up to whole blocks.
fn padded(dim: usize) -> usize {
    dim.div_ceil(BLOCK) * BLOCK
}

/// The codes of the rows of an index, with the ranges they were trained on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sq8 {
    dim: usize,
    min: Vec<f32>,
    /// `dim` steps, then zeros up to whole blocks: padded lanes add nothing to an estimate.
    scale: Vec<f32>,
    /// `dim` bytes per row, row-major, then `padded(dim) - dim` zero bytes, so that the last
    /// row, too, can be read in whole blocks.
    codes: Vec<u8>,
}

impl Sq8 {
    /// Trains the ranges on the rows of `points` (which have no padding) and encodes them.
    pub(crate) fn train(points: &Points) -> Self {
        let dim = points.dim();
        let mut min = vec![f32::INFINITY; dim];
        let mut max = vec![f32::NEG_INFINITY; dim];
        for row in points.as_slice().chunks_exact(dim) {
            for ((lo, hi), &x) in min.iter_mut().zip(&mut max).zip(row) {
                *lo = lo.min(x);
                *hi = hi.max(x);
            }
        }
        let scale = min
            .iter()
            .zip(&max)
            .map(|(lo, hi)| (hi - lo) / LEVELS)
            .collect();
        let mut sq8 = Self::with_codes(dim, min, scale, Vec::new());
        sq8.extend(points, 0);
        sq8
    }

    /// Codes read from a file, or `None` where the parts disagree or a range is not finite.
    pub(crate) fn from_parts(
        dim: usize,
        min: Vec<f32>,
        scale: Vec<f32>,
        codes: Vec<u8>,
    ) -> Option<Self> {
        let ranges_ok = min.len() == dim
            && scale.len() == dim
            && min.iter().all(|m| m.is_finite())
            && scale.iter().all(|s| s.is_finite() && *s >= 0.0);
        (ranges_ok && dim > 0 && codes.len() % dim == 0)
            .then(|| Self::with_codes(dim, min, scale, codes))
    }

    fn with_codes(dim: usize, min: Vec<f32>, mut scale: Vec<f32>, mut codes: Vec<u8>) -> Self {
        scale.resize(padded(dim), 0.0);
        codes.resize(codes.len() + padded(dim) - dim, 0);
        Self {
            dim,
            min,
            scale,
            codes,
        }
    }

    /// Encodes the rows `from..` of `points`, which hold the rows encoded so far before them.
    pub(crate) fn extend(&mut self, points: &Points, from: usize) {
        debug_assert_eq!(self.len(), from);
        let rows = &points.as_slice()[from * self.dim..];
        self.codes.truncate(from * self.dim);
        self.codes.reserve(rows.len() + padded(self.dim) - self.dim);
        for row in rows.chunks_exact(self.dim) {
            for ((&x, &lo), &s) in row.iter().zip(&self.min).zip(&self.scale) {
                // A constant dimension has scale 0: every value is its minimum, code 0.
                let c = if s > 0.0 { ((x - lo) / s).round() } else { 0.0 };
                self.codes.push(c.clamp(0.0, LEVELS) as u8);
            }
        }
        self.codes
            .resize(self.codes.len() + padded(self.dim) - self.dim, 0);
    }

    /// Drops the codes from row `n` on.
    pub(crate) fn truncate(&mut self, n: usize) {
        self.codes.truncate(n * self.dim);
        self.codes
            .resize(n * self.dim + padded(self.dim) - self.dim, 0);
    }

    pub(crate) fn len(&self) -> usize {
        (self.codes.len() - (padded(self.dim) - self.dim)) / self.dim
    }

    pub(crate) fn dim(&self) -> usize {
        self.dim
    }

    pub(crate) fn min(&self) -> &[f32] {
        &self.min
    }

    /// The step of each dimension.
    pub(crate) fn scale(&self) -> &[f32] {
        &self.scale[..self.dim]
    }

    /// The steps in whole blocks, as the kernel takes them.
    pub(crate) fn block_scale(&self) -> &[f32] {
        &self.scale
    }

    /// All codes, row-major.
    pub(crate) fn codes(&self) -> &[u8] {
        &self.codes[..self.len() * self.dim]
    }

    /// The code of row `id`.
    #[cfg(test)]
    pub(crate) fn code(&self, id: u32) -> &[u8] {
        &self.block(id)[..self.dim]
    }

    /// The code of row `id` in whole blocks, as the kernel takes it: the values past `dim` are
    /// the next row's (or zeros), which the zero steps past `dim` cancel.
    #[inline]
    pub(crate) fn block(&self, id: u32) -> &[u8] {
        let start = id as usize * self.dim;
        &self.codes[start..start + padded(self.dim)]
    }

    /// Asks the CPU to start loading the code of row `id`.
    #[inline]
    pub(crate) fn prefetch(&self, id: u32) {
        let start = self.codes.as_ptr() as usize + id as usize * self.dim;
        prefetch_lines(start, start + self.dim);
    }

    /// Bytes held: the codes and the ranges.
    pub(crate) fn nbytes(&self) -> usize {
        self.codes.len() + 4 * (self.min.len() + self.scale.len())
    }

    #[cfg(test)]
    /// The most the estimated Euclidean distance to a row in the trained range differs from the
    /// exact one: the norm of the largest rounding error, `sqrt(sum (scale_j / 2)^2)`.
    pub(crate) fn error_bound(&self) -> f32 {
        self.scale
            .iter()
            .map(|s| f64::from(s / 2.0).powi(2))
            .sum::<f64>()
            .sqrt() as f32
    }

    /// The query in the form the kernel takes: `q_j - min_j`, then zeros up to whole blocks,
    /// into `shifted`.
    pub(crate) fn shift_query(&self, query: &[f32], shifted: &mut Vec<f32>) {
        shifted.clear();
        shifted.extend(query.iter().zip(&self.min).map(|(q, lo)| q - lo));
        shifted.resize(padded(self.dim), 0.0);
    }
}

/// A kernel of the estimated squared distance `sum((shifted_j - scale_j * code_j)^2)` over
/// slices of one length, a whole number of blocks; unsafe because one may need CPU features.
pub(crate) type CodeKernel = unsafe fn(&[f32], &[f32], &[u8]) -> f32;

/// The estimated squared distance kernel: AVX2 and FMA where the CPU has them, the portable
/// loop everywhere else.
pub(crate) fn code_kernel() -> CodeKernel {
    #[cfg(target_arch = "x86_64")]
    if features().avx2_fma {
        return simd::estimate_avx2;
    }
    estimate_portable
}

/// The portable kernel, one block of independent accumulators that the compiler vectorises
/// with the baseline instruction set: the fallback, and the SIMD kernel's test oracle.
pub(crate) fn estimate_portable(shifted: &[f32], scale: &[f32], code: &[u8]) -> f32 {
    debug_assert!(shifted.len() % BLOCK == 0);
    let mut acc = [0.0f32; BLOCK];
    let blocks = shifted
        .chunks_exact(BLOCK)
        .zip(scale.chunks_exact(BLOCK))
        .zip(code.chunks_exact(BLOCK));
    for ((q, s), c) in blocks {
        for i in 0..BLOCK {
            let d = q[i] - s[i] * f32::from(c[i]);
            acc[i] += d * d;
        }
    }
    acc.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    /// The estimated squared distance, 16 bytes of code at a time widened to two registers of
    /// eight f32, each lane `(shifted - scale * code)^2` in one fused negative multiply-add and
    /// one multiply-add, then one block of eight if one is left.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; the three slices must have one length, a multiple of
    /// eight.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn estimate_avx2(shifted: &[f32], scale: &[f32], code: &[u8]) -> f32 {
        let n = shifted.len().min(scale.len()).min(code.len());
        debug_assert!(n % 8 == 0);
        let (pq, ps, pc) = (shifted.as_ptr(), scale.as_ptr(), code.as_ptr());
        let mut acc0 = _mm256_setzero_ps();
        let mut acc1 = _mm256_setzero_ps();
        let mut i = 0;
        // SAFETY (all loads): i + 16 <= n, or i + 8 <= n below, keeps every load in bounds.
        while i + 16 <= n {
            let bytes = _mm_loadu_si128(pc.add(i).cast());
            let c0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
            let c1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
            let d0 = _mm256_fnmadd_ps(_mm256_loadu_ps(ps.add(i)), c0, _mm256_loadu_ps(pq.add(i)));
            let d1 = _mm256_fnmadd_ps(
                _mm256_loadu_ps(ps.add(i + 8)),
                c1,
                _mm256_loadu_ps(pq.add(i + 8)),
            );
            acc0 = _mm256_fmadd_ps(d0, d0, acc0);
            acc1 = _mm256_fmadd_ps(d1, d1, acc1);
            i += 16;
        }
        if i + 8 <= n {
            let c = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(pc.add(i).cast())));
            let d = _mm256_fnmadd_ps(_mm256_loadu_ps(ps.add(i)), c, _mm256_loadu_ps(pq.add(i)));
            acc1 = _mm256_fmadd_ps(d, d, acc1);
        }
        let acc = _mm256_add_ps(acc0, acc1);
        let quad = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
        _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize, dim: usize, seed: u32) -> Vec<f32> {
        (0..n * dim)
            .map(|i| ((i as f32 + seed as f32) * 0.618).sin() * (1.0 + (i % dim) as f32))
            .collect()
    }

    fn decoded(sq8: &Sq8, id: u32) -> Vec<f32> {
        sq8.code(id)
            .iter()
            .zip(sq8.min())
            .zip(sq8.scale())
            .map(|((&c, lo), s)| lo + s * f32::from(c))
            .collect()
    }

    #[test]
    fn codes_decode_within_half_a_step() {
        let dim = 13;
        let points = Points::new(rows(200, dim, 0), dim, None).unwrap();
        let sq8 = Sq8::train(&points);
        // 13 values: 3 bytes and 3 steps of padding to whole blocks of 8.
        assert_eq!(
            (sq8.len(), sq8.nbytes()),
            (200, 200 * dim + 3 + 8 * dim + 12)
        );
        assert_eq!(sq8.codes().len(), 200 * dim);
        for id in 0..200u32 {
            for ((x, y), s) in points
                .row(id)
                .iter()
                .zip(decoded(&sq8, id))
                .zip(sq8.scale())
            {
                assert!((x - y).abs() <= s / 2.0 * 1.0001 + 1e-6, "{x} vs {y}");
            }
        }
    }

    #[test]
    fn estimates_are_within_the_error_bound_of_exact_distances() {
        for dim in [1, 7, 8, 9, 16, 50, 77] {
            let points = Points::new(rows(300, dim, 1), dim, None).unwrap();
            let sq8 = Sq8::train(&points);
            let kernel = code_kernel();
            let bound = sq8.error_bound();
            let mut shifted = Vec::new();
            for q in 0..20u32 {
                let query = points
                    .row(q * 7 + 3)
                    .iter()
                    .map(|x| x * 0.9)
                    .collect::<Vec<_>>();
                sq8.shift_query(&query, &mut shifted);
                for id in 0..300u32 {
                    // SAFETY: chosen for this CPU, slices of `dim` values.
                    let estimate = unsafe { kernel(&shifted, sq8.block_scale(), sq8.block(id)) };
                    let exact: f32 = query
                        .iter()
                        .zip(points.row(id))
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum();
                    let gap = (estimate.sqrt() - exact.sqrt()).abs();
                    assert!(gap <= bound * 1.001 + 1e-4, "dim {dim}: {gap} > {bound}");
                }
            }
        }
    }

    #[test]
    fn the_dispatched_kernel_matches_the_portable_one() {
        // Under NSWG_SIMD=portable both sides are the portable loop; CI runs this both ways.
        for dim in 1..100 {
            let points = Points::new(rows(10, dim, 2), dim, None).unwrap();
            let sq8 = Sq8::train(&points);
            let mut shifted = Vec::new();
            sq8.shift_query(&rows(1, dim, 5), &mut shifted);
            for id in 0..10u32 {
                let (scale, block) = (sq8.block_scale(), sq8.block(id));
                let portable = estimate_portable(&shifted, scale, block);
                // SAFETY: chosen for this CPU, slices of whole blocks.
                let fast = unsafe { code_kernel()(&shifted, scale, block) };
                assert!(
                    (fast - portable).abs() <= 1e-5 * portable.max(1.0),
                    "dim {dim}: {fast} vs {portable}"
                );
            }
        }
    }

    #[test]
    fn added_rows_use_the_trained_ranges_and_clamp_outside_them() {
        let points = Points::new(vec![0.0, 10.0, 1.0, 10.0], 2, None).unwrap();
        let mut sq8 = Sq8::train(&points);
        assert_eq!(sq8.code(0), &[0, 0]);
        assert_eq!(sq8.code(1), &[255, 0]);
        let mut more = points.clone();
        more.extend(Points::new(vec![0.25, 3.0, 2.0, 10.0], 2, None).unwrap());
        sq8.extend(&more, 2);
        assert_eq!(sq8.code(2), &[64, 0]);
        assert_eq!(sq8.code(3), &[255, 0]);
        sq8.truncate(3);
        assert_eq!(sq8.len(), 3);
        assert!(Sq8::from_parts(2, vec![0.0; 2], vec![-1.0, 0.0], vec![]).is_none());
        assert!(Sq8::from_parts(2, vec![0.0; 2], vec![1.0, 0.0], vec![0; 3]).is_none());
    }
}
