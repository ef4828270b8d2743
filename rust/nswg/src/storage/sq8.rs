//! 8-bit scalar codes of the rows (glass's `SQ8U`): value `j` of a row is kept as
//! `round((x - min_j) / scale)` in `0..=255`, with one step `scale` for every dimension, the
//! widest range `max_j - min_j` over the rows the codes were trained on divided by 255, so a
//! row takes `dim` bytes instead of `4 * dim` and a graph hop reads a quarter of the memory.
//!
//! A code decodes to `min_j + scale * c`, within `scale / 2` of each value in the trained range;
//! rows added later are encoded with the same ranges, their values outside them clamped. One
//! step for all dimensions lets the query be encoded too, so that an estimate is
//! `scale^2 * sum((q_j - c_j)^2)` over bytes, in integer arithmetic (32 or 64 bytes an
//! instruction), where a step per dimension would need every byte widened to a float and
//! multiplied by its step. Measured against the step per dimension, recall at a given `ef` is
//! unchanged (the `max(k, ef)` points found are re-ranked exactly) and QPS at recall 0.95 is
//! 1.11x on GloVe 400k, 1.44x on 500-d FordA (`benchmarks/README.md`). Files with a step per
//! dimension (written before) keep the float kernel.
//!
//! By the triangle inequality an estimate is within [`Sq8::error_bound`] of the exact
//! distance, for rows and queries in the trained range.

use super::{round_half_away, Points};
use crate::sys::cpu::features;
use crate::sys::prefetch::prefetch_lines;

/// Code values per dimension, less one.
const LEVELS: f32 = 255.0;

/// The float kernel takes values in whole blocks of this many, so that no row ends in a
/// scalar tail.
const BLOCK: usize = 8;

/// The byte kernels read codes in whole blocks of this many (one AVX-512 register).
const BYTE_BLOCK: usize = 64;

/// The most dimensions a byte kernel sums: `dim * 255^2` must fit its `i32` lanes.
const MAX_BYTE_DIM: usize = (i32::MAX as usize) / (255 * 255);

/// `dim` rounded up to whole blocks of the float kernel.
fn padded(dim: usize) -> usize {
    dim.div_ceil(BLOCK) * BLOCK
}

/// `dim` rounded up to whole blocks of the byte kernels: what a code is read as.
fn byte_padded(dim: usize) -> usize {
    dim.div_ceil(BYTE_BLOCK) * BYTE_BLOCK
}

/// The codes of the rows of an index, with the ranges they were trained on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sq8 {
    dim: usize,
    min: Vec<f32>,
    /// `dim` steps, then zeros up to whole blocks: padded lanes add nothing to an estimate.
    scale: Vec<f32>,
    /// `dim` bytes per row, row-major, then `byte_padded(dim) - dim` zero bytes, so that the
    /// last row, too, can be read in whole blocks.
    codes: Vec<u8>,
    /// The step all dimensions share, `None` for a step per dimension (files written before).
    uniform: Option<f32>,
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
        let widest = min
            .iter()
            .zip(&max)
            .map(|(lo, hi)| hi - lo)
            .fold(0.0, f32::max);
        let scale = vec![widest / LEVELS; dim];
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
        (ranges_ok && dim > 0 && codes.len().is_multiple_of(dim))
            .then(|| Self::with_codes(dim, min, scale, codes))
    }

    fn with_codes(dim: usize, min: Vec<f32>, mut scale: Vec<f32>, mut codes: Vec<u8>) -> Self {
        let uniform = Some(scale[0]).filter(|&s| scale.iter().all(|&t| t == s) && s > 0.0);
        scale.resize(padded(dim), 0.0);
        codes.resize(codes.len() + byte_padded(dim) - dim, 0);
        Self {
            dim,
            min,
            scale,
            codes,
            uniform: uniform.filter(|_| dim <= MAX_BYTE_DIM),
        }
    }

    /// Encodes the rows `from..` of `points`, which hold the rows encoded so far before them.
    pub(crate) fn extend(&mut self, points: &Points, from: usize) {
        debug_assert_eq!(self.len(), from);
        let rows = &points.as_slice()[from * self.dim..];
        self.codes.truncate(from * self.dim);
        self.codes
            .reserve(rows.len() + byte_padded(self.dim) - self.dim);
        for row in rows.chunks_exact(self.dim) {
            for ((&x, &lo), &s) in row.iter().zip(&self.min).zip(&self.scale) {
                // A constant dimension has scale 0: every value is its minimum, code 0.
                self.codes
                    .push(if s > 0.0 { encode((x - lo) / s) } else { 0 });
            }
        }
        self.codes
            .resize(self.codes.len() + byte_padded(self.dim) - self.dim, 0);
    }

    /// Drops the codes from row `n` on.
    pub(crate) fn truncate(&mut self, n: usize) {
        self.codes.truncate(n * self.dim);
        self.codes
            .resize(n * self.dim + byte_padded(self.dim) - self.dim, 0);
    }

    pub(crate) fn len(&self) -> usize {
        (self.codes.len() - (byte_padded(self.dim) - self.dim)) / self.dim
    }

    #[cfg(test)]
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

    /// All codes, row-major.
    pub(crate) fn codes(&self) -> &[u8] {
        &self.codes[..self.len() * self.dim]
    }

    /// The code of row `id`.
    #[cfg(test)]
    pub(crate) fn code(&self, id: u32) -> &[u8] {
        &self.block(id)[..self.dim]
    }

    /// The code of row `id` in whole blocks, as the kernels take it: the values past `dim` are
    /// the next row's (or zeros), which the float kernel's zero steps and the byte kernels'
    /// mask cancel.
    #[inline]
    pub(crate) fn block(&self, id: u32) -> &[u8] {
        let start = id as usize * self.dim;
        &self.codes[start..start + byte_padded(self.dim)]
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
    /// exact one, for a query in that range: the norm of the largest rounding error,
    /// `sqrt(sum (scale_j / 2)^2)`, twice over when the query is encoded too (the byte
    /// kernels).
    pub(crate) fn error_bound(&self) -> f32 {
        let row = self
            .scale
            .iter()
            .map(|s| f64::from(s / 2.0).powi(2))
            .sum::<f64>()
            .sqrt() as f32;
        if self.uniform.is_some() {
            2.0 * row
        } else {
            row
        }
    }

    /// The kernel of these codes for this CPU: over bytes when the dimensions share a step,
    /// else over floats.
    pub(crate) fn kernel(&self) -> CodeKernel {
        let f = features();
        match self.uniform {
            #[cfg(target_arch = "x86_64")]
            Some(_) if f.avx512bw => CodeKernel::Bytes(simd::byte_estimate_avx512),
            #[cfg(target_arch = "x86_64")]
            Some(_) if f.avx2 => CodeKernel::Bytes(simd::byte_estimate_avx2),
            Some(_) => CodeKernel::Bytes(byte_estimate_portable),
            #[cfg(target_arch = "x86_64")]
            None if f.avx2_fma => CodeKernel::Floats(simd::estimate_avx2),
            None => CodeKernel::Floats(estimate_portable),
        }
    }

    /// Puts `query` in the form `kernel` takes into `prepared`: for the float kernel
    /// `q_j - min_j`, then zeros up to whole blocks; for the byte kernels the query's own code
    /// (its values clamped to the trained ranges) and the mask of its `dim` bytes.
    pub(crate) fn prepare_query(&self, query: &[f32], prepared: &mut PreparedQuery) {
        prepared.shifted.clear();
        prepared
            .shifted
            .extend(query.iter().zip(&self.min).map(|(q, lo)| q - lo));
        prepared.shifted.resize(padded(self.dim), 0.0);
        if let Some(scale) = self.uniform {
            prepared.code.clear();
            let codes = prepared.shifted[..self.dim]
                .iter()
                .map(|x| encode(x / scale));
            prepared.code.extend(codes);
            prepared.code.resize(byte_padded(self.dim), 0);
            prepared.mask.clear();
            prepared.mask.resize(self.dim, u8::MAX);
            prepared.mask.resize(byte_padded(self.dim), 0);
            prepared.factor = scale * scale;
        }
    }
}

/// A value in steps from its dimension's minimum as its code: rounded, clamped to `0..=255`.
fn encode(steps: f32) -> u8 {
    round_half_away(steps).clamp(0, LEVELS as i32) as u8
}

/// A query in the form the code kernels take, made by [`Sq8::prepare_query`]; its buffers are
/// reused from query to query.
#[derive(Debug, Default)]
pub(crate) struct PreparedQuery {
    shifted: Vec<f32>,
    code: Vec<u8>,
    mask: Vec<u8>,
    /// `scale^2`: what turns a byte kernel's sum into a squared distance.
    factor: f32,
}

/// A kernel of the estimated squared distance to a row's code; unsafe because one may need
/// CPU features.
#[derive(Clone, Copy, Debug)]
pub(crate) enum CodeKernel {
    /// `sum((shifted_j - scale_j * code_j)^2)` over slices of one length, whole blocks.
    Floats(unsafe fn(&[f32], &[f32], &[u8]) -> f32),
    /// `sum(((query_j - code_j) & mask_j)^2)` over bytes in whole blocks of 64: exact integer
    /// arithmetic, so every variant returns the same sum.
    Bytes(unsafe fn(&[u8], &[u8], &[u8]) -> u32),
}

impl CodeKernel {
    /// The estimated squared distance from the prepared query to `code` (a row's
    /// [`Sq8::block`]), with the steps of `codes`.
    ///
    /// # Safety
    /// The kernel must be `codes.kernel()` on this CPU, and `query` prepared by `codes`.
    #[inline]
    pub(crate) unsafe fn estimate(&self, codes: &Sq8, query: &PreparedQuery, code: &[u8]) -> f32 {
        match *self {
            // SAFETY: the caller's: the kernel was chosen for this CPU, and the slices fill
            // the same whole blocks.
            CodeKernel::Floats(kernel) => unsafe { kernel(&query.shifted, &codes.scale, code) },
            CodeKernel::Bytes(kernel) => {
                let sum = unsafe { kernel(&query.code, &query.mask, code) };
                query.factor * sum as f32
            }
        }
    }

    /// The names of the kernel's variant, for tests.
    #[cfg(test)]
    fn is_bytes(&self) -> bool {
        matches!(self, CodeKernel::Bytes(_))
    }
}

/// The portable byte kernel: the fallback, and the SIMD ones' oracle.
pub(crate) fn byte_estimate_portable(query: &[u8], mask: &[u8], code: &[u8]) -> u32 {
    debug_assert!(query.len().is_multiple_of(BYTE_BLOCK) && code.len() >= query.len());
    query
        .iter()
        .zip(mask)
        .zip(code)
        .map(|((&q, &m), &c)| u32::from(q.abs_diff(c) & m).pow(2))
        .sum()
}

/// The portable kernel, one block of independent accumulators that the compiler vectorises
/// with the baseline instruction set: the fallback, and the SIMD kernel's test oracle.
pub(crate) fn estimate_portable(shifted: &[f32], scale: &[f32], code: &[u8]) -> f32 {
    debug_assert!(shifted.len().is_multiple_of(BLOCK));
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

    /// The byte estimate, 32 bytes at a time: `|q - c|` by two saturating subtractions, masked,
    /// widened to 16 bits and squared and summed in pairs (`vpmaddwd`) into 32-bit lanes.
    ///
    /// # Safety
    /// The CPU must support AVX2; `query` and `mask` must have one length, a multiple of 64,
    /// and `code` at least that length.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn byte_estimate_avx2(query: &[u8], mask: &[u8], code: &[u8]) -> u32 {
        let n = query.len();
        debug_assert!(n.is_multiple_of(64) && mask.len() == n && code.len() >= n);
        let (pq, pm, pc) = (query.as_ptr(), mask.as_ptr(), code.as_ptr());
        let zero = _mm256_setzero_si256();
        let mut acc = _mm256_setzero_si256();
        let mut i = 0;
        while i < n {
            // SAFETY: i + 32 <= n, and every slice holds n bytes.
            let (q, m, c) = unsafe {
                (
                    _mm256_loadu_si256(pq.add(i).cast()),
                    _mm256_loadu_si256(pm.add(i).cast()),
                    _mm256_loadu_si256(pc.add(i).cast()),
                )
            };
            let d = _mm256_or_si256(_mm256_subs_epu8(q, c), _mm256_subs_epu8(c, q));
            let d = _mm256_and_si256(d, m);
            let lo = _mm256_unpacklo_epi8(d, zero);
            let hi = _mm256_unpackhi_epi8(d, zero);
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(lo, lo));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(hi, hi));
            i += 32;
        }
        let quad = _mm_add_epi32(
            _mm256_castsi256_si128(acc),
            _mm256_extracti128_si256(acc, 1),
        );
        let pair = _mm_add_epi32(quad, _mm_shuffle_epi32(quad, 0b01_00_11_10));
        _mm_cvtsi128_si32(_mm_add_epi32(pair, _mm_shuffle_epi32(pair, 0b10_11_00_01))) as u32
    }

    /// [`byte_estimate_avx2`] with 64 bytes at a time.
    ///
    /// # Safety
    /// The CPU must support AVX-512F and AVX-512BW; the slices as for the AVX2 kernel.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn byte_estimate_avx512(query: &[u8], mask: &[u8], code: &[u8]) -> u32 {
        let n = query.len();
        debug_assert!(n.is_multiple_of(64) && mask.len() == n && code.len() >= n);
        let (pq, pm, pc) = (query.as_ptr(), mask.as_ptr(), code.as_ptr());
        let zero = _mm512_setzero_si512();
        let mut acc = _mm512_setzero_si512();
        let mut i = 0;
        while i < n {
            // SAFETY: i + 64 <= n, and every slice holds n bytes.
            let (q, m, c) = unsafe {
                (
                    _mm512_loadu_si512(pq.add(i).cast()),
                    _mm512_loadu_si512(pm.add(i).cast()),
                    _mm512_loadu_si512(pc.add(i).cast()),
                )
            };
            let d = _mm512_or_si512(_mm512_subs_epu8(q, c), _mm512_subs_epu8(c, q));
            let d = _mm512_and_si512(d, m);
            let lo = _mm512_unpacklo_epi8(d, zero);
            let hi = _mm512_unpackhi_epi8(d, zero);
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(lo, lo));
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(hi, hi));
            i += 64;
        }
        _mm512_reduce_add_epi32(acc) as u32
    }

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
        debug_assert!(n.is_multiple_of(8));
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

    /// `sq8` with a step per dimension, as files written before one step for all hold.
    fn per_dimension(sq8: &Sq8, points: &Points) -> Sq8 {
        let dim = sq8.dim();
        let mut lo = vec![f32::INFINITY; dim];
        let mut hi = vec![f32::NEG_INFINITY; dim];
        for row in points.as_slice().chunks_exact(dim) {
            for j in 0..dim {
                (lo[j], hi[j]) = (lo[j].min(row[j]), hi[j].max(row[j]));
            }
        }
        let scale = lo.iter().zip(&hi).map(|(a, b)| (b - a) / LEVELS).collect();
        let mut old = Sq8::from_parts(dim, lo, scale, Vec::new()).unwrap();
        old.extend(points, 0);
        old
    }

    #[test]
    fn codes_decode_within_half_a_step() {
        let dim = 13;
        let points = Points::new(rows(200, dim, 0), dim, None).unwrap();
        let sq8 = Sq8::train(&points);
        // 13 values: 51 bytes of padding to a whole block of 64, and 3 steps to blocks of 8.
        assert_eq!(
            (sq8.len(), sq8.nbytes()),
            (200, 200 * dim + 51 + 8 * dim + 12)
        );
        assert_eq!(sq8.codes().len(), 200 * dim);
        assert!(sq8.scale().iter().all(|&s| s == sq8.scale()[0]));
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
        for dim in [1, 7, 8, 9, 16, 50, 77, 130] {
            let points = Points::new(rows(300, dim, 1), dim, None).unwrap();
            let one_step = Sq8::train(&points);
            for sq8 in [per_dimension(&one_step, &points), one_step] {
                let kernel = sq8.kernel();
                let bound = sq8.error_bound();
                let mut prepared = PreparedQuery::default();
                for q in 0..20u32 {
                    let query = points
                        .row(q * 7 + 3)
                        .iter()
                        .map(|x| x * 0.9)
                        .collect::<Vec<_>>();
                    sq8.prepare_query(&query, &mut prepared);
                    for id in 0..300u32 {
                        // SAFETY: the kernel of these codes on this CPU, the query theirs.
                        let estimate = unsafe { kernel.estimate(&sq8, &prepared, sq8.block(id)) };
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
    }

    #[test]
    fn the_dispatched_kernels_match_the_portable_ones() {
        // Under NSWG_SIMD=portable both sides are the portable loops; CI runs this both ways.
        for dim in 1..200 {
            let points = Points::new(rows(10, dim, 2), dim, None).unwrap();
            let sq8 = Sq8::train(&points);
            let old = per_dimension(&sq8, &points);
            // One dimension has one step either way.
            assert!(sq8.kernel().is_bytes() && old.kernel().is_bytes() == (dim == 1));
            let mut prepared = PreparedQuery::default();
            let mut old_prepared = PreparedQuery::default();
            sq8.prepare_query(&rows(1, dim, 5), &mut prepared);
            old.prepare_query(&rows(1, dim, 5), &mut old_prepared);
            for id in 0..10u32 {
                let block = sq8.block(id);
                let portable = byte_estimate_portable(&prepared.code, &prepared.mask, block);
                // SAFETY: the kernels of these codes on this CPU, the queries theirs.
                let fast = unsafe { sq8.kernel().estimate(&sq8, &prepared, block) };
                assert_eq!(fast, prepared.factor * portable as f32, "dim {dim}");
                if dim == 1 {
                    continue;
                }
                let block = old.block(id);
                let portable = estimate_portable(&old_prepared.shifted, &old.scale, block);
                let fast = unsafe { old.kernel().estimate(&old, &old_prepared, block) };
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
        // 3.0 lies beyond the second dimension's range, [10, 10]: clamped to its minimum.
        assert_eq!(sq8.code(2), &[64, 0]);
        assert_eq!(sq8.code(3), &[255, 0]);
        sq8.truncate(3);
        assert_eq!(sq8.len(), 3);
        assert!(Sq8::from_parts(2, vec![0.0; 2], vec![-1.0, 0.0], vec![]).is_none());
        assert!(Sq8::from_parts(2, vec![0.0; 2], vec![1.0, 0.0], vec![0; 3]).is_none());
    }
}
