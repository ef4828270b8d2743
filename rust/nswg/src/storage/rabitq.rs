//! 4-bit codes of the rows in the manner of RaBitQ (Gao & Long, SIGMOD 2024) with several bits
//! per value (extended RaBitQ, Gao et al., SIGMOD 2025): a row is centred on the rows' mean,
//! rotated at random, and stored as its length and the direction on the grid of 16 levels per
//! dimension that best aligns with it. Half a byte per value and 8 bytes per row, so a 50-d row
//! takes 40 bytes (its float row 200, its 8-bit code 50).
//!
//! With `r = P(x - c)` the rotated row, `o = r / |r|` its direction and `g` its grid vector (level
//! `u_j` in `0..16` stands for `u_j - 7.5`), RaBitQ estimates `<o, q'>` for the rotated query
//! `q' = P(q - c)` by `<g, q'> / <g, o>`, so the squared distance
//! `|r|^2 + |q'|^2 - 2 |r| <o, q'>` by `|r|^2 + |q'|^2 - 2 |r| <g, q'> / <g, o>`. The query is
//! rounded to signed bytes, `q' ~ delta * w`, and `<g, q'>` is the exact integer sum
//! `(2 <u, w> - 15 sum(w)) / 2` times `delta`: 64 values an instruction (`vpmaddubsw`).
//!
//! The error bound: write `g / |g| = cos(t) o + sin(t) e` with `e` a unit vector orthogonal to
//! `o`; then `<g, q'> / <g, o> = <o, q'> + tan(t) <e, q'>`, so the estimate errs by
//! `2 |r| (tan(t) <e, q'> - <g, err> / <g, o>)` with `err` the query's rounding,
//! `|err| <= delta / 2 * sqrt(dim)`: at most `2 |r| (tan(t) |q'| + |err| / cos(t))`
//! ([`Rabitq4::error_bound`]). The rotation makes `<e, q'>` close to its typical
//! `|q'| / sqrt(dim)` rather than its worst case `|q'|`, which is why a row is rotated first.
//!
//! The rotation is [`ROUNDS`] rounds of random sign flips, each followed by a normalised
//! Walsh-Hadamard transform over the first (even rounds) or the last (odd rounds) largest power
//! of two of the dimensions: orthogonal, `O(dim log dim)` per query instead of `dim^2` for a
//! dense random matrix, and no padding of the rows to a power of two.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use super::{round_half_away, Points};
use crate::sys::cpu::features;
use crate::sys::prefetch::prefetch_lines;

/// Rounds of the rotation: enough that every dimension is mixed with every other (a window
/// covers more than half of them) twice over.
pub(crate) const ROUNDS: usize = 4;

/// Dimensions per group of a code: 32 bytes, dimension `j` of the group in the low half of byte
/// `j` for `j < 32` and in the high half of byte `j - 32` after, so that one 32-byte load splits
/// into the group's 64 levels in order with a mask and a shift.
const GROUP: usize = 64;

/// Scalings of the direction tried for the grid vector that best aligns with it, evenly spaced
/// up to where its largest value reaches the top level; then as many steps of a finer sweep on
/// each side of the best of them, `REFINE` to a coarse step.
const SCALINGS: usize = 16;
const REFINE: usize = 8;

/// Bytes of the two factors after the levels of a row: `|r|^2` and `-2 |r| / <g, o>`.
const FACTORS: usize = 8;

/// The random rotation of the codes, kept as its signs so that a file needs no generator.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rotation {
    /// `ROUNDS * dim` signs, 1.0 or -1.0.
    signs: Vec<f32>,
}

impl Rotation {
    fn random(dim: usize, seed: u64) -> Self {
        let mut rng = Pcg64Mcg::seed_from_u64(seed ^ 0x5241_4249_5451_3421);
        let signs = (0..ROUNDS * dim)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        Self { signs }
    }

    /// Rotates `x` in place.
    fn apply(&self, x: &mut [f32]) {
        let dim = x.len();
        let window = 1 << dim.ilog2();
        let norm = (window as f32).sqrt().recip();
        for (round, signs) in self.signs.chunks_exact(dim).enumerate() {
            for (v, s) in x.iter_mut().zip(signs) {
                *v *= s;
            }
            let part = if round % 2 == 0 {
                &mut x[..window]
            } else {
                &mut x[dim - window..]
            };
            hadamard(part);
            for v in part {
                *v *= norm;
            }
        }
    }
}

/// The unnormalised Walsh-Hadamard transform of `x`, whose length is a power of two.
fn hadamard(x: &mut [f32]) {
    let mut h = 1;
    while h < x.len() {
        for block in x.chunks_exact_mut(2 * h) {
            let (a, b) = block.split_at_mut(h);
            for (u, v) in a.iter_mut().zip(b) {
                (*u, *v) = (*u + *v, *u - *v);
            }
        }
        h *= 2;
    }
}

/// The 4-bit codes of the rows of an index, with the centre and rotation they were made with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rabitq4 {
    dim: usize,
    /// [`Rabitq4::stride_of`] `dim`, kept: a search asks for it at every estimate.
    stride: usize,
    center: Vec<f32>,
    rotation: Rotation,
    /// Per row, [`Rabitq4::stride`] bytes: the levels in whole groups (zeros past `dim`), then
    /// the two factors as little-endian f32.
    codes: Vec<u8>,
}

impl Rabitq4 {
    /// Makes the centre (the mean) and the rotation (from `seed`) of the rows of `points` (which
    /// have no padding), and encodes them.
    pub(crate) fn train(points: &Points, seed: u64) -> Self {
        let dim = points.dim();
        let mut sum = vec![0.0f64; dim];
        for row in points.as_slice().chunks_exact(dim) {
            for (s, &x) in sum.iter_mut().zip(row) {
                *s += f64::from(x);
            }
        }
        let n = points.len().max(1) as f64;
        let center = sum.iter().map(|s| (s / n) as f32).collect();
        let mut codes = Self {
            dim,
            stride: Self::stride_of(dim),
            center,
            rotation: Rotation::random(dim, seed),
            codes: Vec::new(),
        };
        codes.extend(points, 0);
        codes
    }

    /// Codes read from a file, or `None` where the parts disagree or a value is not finite.
    pub(crate) fn from_parts(
        dim: usize,
        center: Vec<f32>,
        signs: Vec<f32>,
        codes: Vec<u8>,
    ) -> Option<Self> {
        let stride = Self::stride_of(dim);
        let ok = dim > 0
            && center.len() == dim
            && center.iter().all(|c| c.is_finite())
            && signs.len() == ROUNDS * dim
            && signs.iter().all(|&s| s == 1.0 || s == -1.0)
            && codes.len().is_multiple_of(stride)
            && codes.chunks_exact(stride).all(|row| {
                let (add, mul) = factors(&row[stride - FACTORS..]);
                add.is_finite() && add >= 0.0 && mul.is_finite()
            });
        ok.then_some(Self {
            dim,
            stride,
            center,
            rotation: Rotation { signs },
            codes,
        })
    }

    /// Bytes of the code of one row of `dim` values.
    pub(crate) fn stride_of(dim: usize) -> usize {
        dim.div_ceil(GROUP) * GROUP / 2 + FACTORS
    }

    #[inline]
    fn stride(&self) -> usize {
        self.stride
    }

    /// `dim` rounded up to whole groups: the length of a prepared query.
    fn padded(&self) -> usize {
        self.dim.div_ceil(GROUP) * GROUP
    }

    /// Encodes the rows `from..` of `points`, which hold the rows encoded so far before them.
    pub(crate) fn extend(&mut self, points: &Points, from: usize) {
        debug_assert_eq!(self.len(), from);
        let stride = self.stride();
        let rows = &points.as_slice()[from * self.dim..];
        let mut codes = std::mem::take(&mut self.codes);
        codes.resize((from + rows.len() / self.dim) * stride, 0);
        let this = &*self;
        codes[from * stride..]
            .par_chunks_mut(stride)
            .zip(rows.par_chunks(this.dim))
            .for_each_init(Vec::new, |scratch, (code, row)| {
                this.encode(row, code, scratch)
            });
        self.codes = codes;
    }

    /// Writes the code of `row` into `code` (zeroed, [`Rabitq4::stride`] bytes).
    fn encode(&self, row: &[f32], code: &mut [u8], r: &mut Vec<f32>) {
        r.clear();
        r.extend(row.iter().zip(&self.center).map(|(x, c)| x - c));
        self.rotation.apply(r);
        let norm2: f32 = r.iter().map(|v| v * v).sum();
        let (levels, factors_out) = code.split_at_mut(code.len() - FACTORS);
        if norm2 == 0.0 {
            // The row is the centre: both factors 0 make every estimate `|q'|^2`, exact.
            factors_out.fill(0);
            return;
        }
        let norm = norm2.sqrt();
        // The direction `o`, in place.
        for v in r.iter_mut() {
            *v /= norm;
        }
        let o = &r[..];
        let largest = o.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        // The grid vector of `o` at scaling `s` has `floor(s o_j) + 0.5`, clamped to the 16
        // levels; a truncation of the value made non-negative floors it, without the maths
        // library's `floor`. Scalings run from near 0 (every level at +-0.5: 1-bit RaBitQ) to
        // where the largest value reaches the top level.
        let level = |s: f32, v: f32| (s * v + 8.0).clamp(0.0, 15.0) as u8;
        // (cos(g, o), s, <g, o>) at scaling `s`.
        let aligned = |s: f32| {
            let (mut dot, mut sq) = (0.0f32, 0.0f32);
            for &v in o {
                let g = f32::from(level(s, v)) - 7.5;
                dot += g * v;
                sq += g * g;
            }
            (dot / sq.sqrt(), s, dot)
        };
        let better = |a: (f32, f32, f32), b: (f32, f32, f32)| if b.0 > a.0 { b } else { a };
        // A coarse sweep of the scalings, then a fine one around the best of it.
        let width = 8.0 / largest / SCALINGS as f32;
        let coarse = (1..=SCALINGS).map(|i| aligned(width * i as f32));
        let best = coarse.fold((f32::NEG_INFINITY, 0.0, 0.0), better);
        let fine = (-(REFINE as i32) + 1..REFINE as i32)
            .filter(|&i| i != 0)
            .map(|i| aligned(best.1 + width * i as f32 / REFINE as f32));
        let (_, s, aligned) = fine.fold(best, better);
        for (j, &v) in o.iter().enumerate() {
            let (byte, shift) = slot(j);
            levels[byte] |= level(s, v) << shift;
        }
        factors_out[..4].copy_from_slice(&norm2.to_le_bytes());
        factors_out[4..].copy_from_slice(&(-2.0 * norm / aligned).to_le_bytes());
    }

    /// Drops the codes from row `n` on.
    pub(crate) fn truncate(&mut self, n: usize) {
        self.codes.truncate(n * self.stride());
    }

    pub(crate) fn len(&self) -> usize {
        self.codes.len() / self.stride()
    }

    pub(crate) fn center(&self) -> &[f32] {
        &self.center
    }

    /// The rotation's signs, `ROUNDS * dim` of them, round after round.
    pub(crate) fn signs(&self) -> &[f32] {
        &self.rotation.signs
    }

    /// All codes, row after row.
    pub(crate) fn codes(&self) -> &[u8] {
        &self.codes
    }

    #[inline]
    fn code(&self, id: u32) -> &[u8] {
        let stride = self.stride();
        &self.codes[id as usize * stride..(id as usize + 1) * stride]
    }

    /// Bytes held: the codes, the centre and the rotation.
    pub(crate) fn nbytes(&self) -> usize {
        self.codes.len() + 4 * (self.center.len() + self.rotation.signs.len())
    }

    /// Asks the CPU to start loading the code of row `id`.
    #[inline]
    pub(crate) fn prefetch(&self, id: u32) {
        let start = self.codes.as_ptr() as usize + id as usize * self.stride();
        prefetch_lines(start, start + self.stride());
    }

    /// The kernel of `<u, w>` for this CPU.
    pub(crate) fn kernel(&self) -> LevelKernel {
        let f = features();
        match () {
            #[cfg(target_arch = "x86_64")]
            _ if f.avx512bw => simd::levels_avx512,
            #[cfg(target_arch = "x86_64")]
            _ if f.avx2 => simd::levels_avx2,
            _ => levels_portable,
        }
    }

    /// Puts `query` in the form the kernels take into `prepared`: rotated, rounded to signed
    /// bytes, zeros up to whole groups.
    pub(crate) fn prepare_query(&self, query: &[f32], prepared: &mut Rabitq4Query) {
        let rotated = &mut prepared.rotated;
        rotated.clear();
        rotated.extend(query.iter().zip(&self.center).map(|(q, c)| q - c));
        self.rotation.apply(rotated);
        let largest = rotated.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let delta = if largest > 0.0 { largest / 127.0 } else { 0.0 };
        prepared.levels.clear();
        prepared.levels.extend(rotated.iter().map(|&v| {
            if delta > 0.0 {
                round_half_away(v / delta) as i8
            } else {
                0
            }
        }));
        prepared.levels.resize(self.padded(), 0);
        prepared.norm2 = rotated.iter().map(|v| v * v).sum();
        prepared.half_delta = delta / 2.0;
        prepared.offset = 15 * prepared.levels.iter().map(|&w| i32::from(w)).sum::<i32>();
    }

    /// The estimated squared distance from the prepared query to row `id`.
    ///
    /// # Safety
    /// `kernel` must be `self.kernel()` on this CPU, and `query` prepared by `self`.
    #[inline]
    pub(crate) unsafe fn estimate(
        &self,
        kernel: LevelKernel,
        query: &Rabitq4Query,
        id: u32,
    ) -> f32 {
        let code = self.code(id);
        let (levels, tail) = code.split_at(code.len() - FACTORS);
        // SAFETY: the caller's; the levels fill whole groups, the query as many values.
        let dot = unsafe { kernel(&query.levels, levels) };
        let (add, mul) = factors(tail);
        let aligned = (2 * dot - query.offset) as f32 * query.half_delta;
        add + query.norm2 + mul * aligned
    }

    #[cfg(test)]
    /// The most the estimate for row `row` (the float row of code `id`) may differ from the
    /// exact squared distance to `query`, by the bound of the module's documentation.
    pub(crate) fn error_bound(&self, id: u32, row: &[f32], query: &Rabitq4Query) -> f32 {
        let mut r: Vec<f32> = row.iter().zip(&self.center).map(|(x, c)| x - c).collect();
        self.rotation.apply(&mut r);
        let norm = r.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm == 0.0 {
            return 0.0;
        }
        let code = self.code(id);
        let (mut dot, mut sq) = (0.0f32, 0.0f32);
        for (j, v) in r.iter().enumerate() {
            let (byte, shift) = slot(j);
            let g = f32::from((code[byte] >> shift) & 15) - 7.5;
            dot += g * v / norm;
            sq += g * g;
        }
        let cos = dot / sq.sqrt();
        let tan = (1.0 - cos * cos).max(0.0).sqrt() / cos;
        let rounding = query.half_delta * (self.dim as f32).sqrt();
        2.0 * norm * (tan * query.norm2.sqrt() + rounding / cos)
    }
}

/// The byte and the shift of dimension `j`'s level in a code.
fn slot(j: usize) -> (usize, u32) {
    let (group, within) = (j / GROUP, j % GROUP);
    (
        group * GROUP / 2 + within % 32,
        if within < 32 { 0 } else { 4 },
    )
}

/// The two factors after a row's levels.
#[inline]
fn factors(tail: &[u8]) -> (f32, f32) {
    let add = f32::from_le_bytes(tail[..4].try_into().expect("4 bytes"));
    let mul = f32::from_le_bytes(tail[4..8].try_into().expect("4 bytes"));
    (add, mul)
}

/// A query in the form the kernels take, made by [`Rabitq4::prepare_query`]; its buffers are
/// reused from query to query.
#[derive(Debug, Default)]
pub(crate) struct Rabitq4Query {
    rotated: Vec<f32>,
    /// The rotated query in steps of `delta`, in whole groups.
    levels: Vec<i8>,
    /// `|q'|^2`.
    norm2: f32,
    /// `delta / 2`.
    half_delta: f32,
    /// `15 * sum(w)`.
    offset: i32,
}

/// A kernel of `<u, w>`: the levels of a code (32 bytes per group of 64 values) against the
/// query's signed bytes; unsafe because one may need CPU features. Exact integer arithmetic, so
/// every variant returns the same sum.
pub(crate) type LevelKernel = unsafe fn(&[i8], &[u8]) -> i32;

/// The portable kernel: the fallback, and the SIMD ones' oracle.
pub(crate) fn levels_portable(query: &[i8], levels: &[u8]) -> i32 {
    debug_assert_eq!(query.len(), 2 * levels.len());
    let mut sum = 0;
    for (w, c) in query
        .chunks_exact(GROUP)
        .zip(levels.chunks_exact(GROUP / 2))
    {
        for j in 0..GROUP / 2 {
            sum += i32::from(c[j] & 15) * i32::from(w[j]);
            sum += i32::from(c[j] >> 4) * i32::from(w[GROUP / 2 + j]);
        }
    }
    sum
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    /// `<u, w>` one group at a time: its 32 bytes split into low and high levels, each
    /// multiplied by 32 query bytes and summed in pairs (`vpmaddubsw`: at most `2 * 15 * 127`,
    /// no saturation), then in pairs again into 32-bit lanes.
    ///
    /// # Safety
    /// The CPU must support AVX2; `query` must hold `2 * levels.len()` bytes, `levels` whole
    /// groups.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn levels_avx2(query: &[i8], levels: &[u8]) -> i32 {
        debug_assert!(query.len() == 2 * levels.len() && levels.len().is_multiple_of(32));
        let (pq, pc) = (query.as_ptr(), levels.as_ptr());
        let low = _mm256_set1_epi8(0x0F);
        let ones = _mm256_set1_epi16(1);
        let mut acc = _mm256_setzero_si256();
        let mut i = 0;
        while i < levels.len() {
            // SAFETY: i + 32 <= levels.len(), and the query holds 2 * i + 64 bytes.
            let (c, w0, w1) = unsafe {
                (
                    _mm256_loadu_si256(pc.add(i).cast()),
                    _mm256_loadu_si256(pq.add(2 * i).cast()),
                    _mm256_loadu_si256(pq.add(2 * i + 32).cast()),
                )
            };
            let lo = _mm256_and_si256(c, low);
            let hi = _mm256_and_si256(_mm256_srli_epi16(c, 4), low);
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(lo, w0), ones));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(hi, w1), ones));
            i += 32;
        }
        let quad = _mm_add_epi32(
            _mm256_castsi256_si128(acc),
            _mm256_extracti128_si256(acc, 1),
        );
        let pair = _mm_add_epi32(quad, _mm_shuffle_epi32(quad, 0b01_00_11_10));
        _mm_cvtsi128_si32(_mm_add_epi32(pair, _mm_shuffle_epi32(pair, 0b10_11_00_01)))
    }

    /// [`levels_avx2`] with a group's 64 levels in one register against 64 query bytes.
    ///
    /// # Safety
    /// The CPU must support AVX-512F and AVX-512BW; the slices as for the AVX2 kernel.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn levels_avx512(query: &[i8], levels: &[u8]) -> i32 {
        debug_assert!(query.len() == 2 * levels.len() && levels.len().is_multiple_of(32));
        let (pq, pc) = (query.as_ptr(), levels.as_ptr());
        let low = _mm256_set1_epi8(0x0F);
        let ones = _mm512_set1_epi16(1);
        let mut acc = _mm512_setzero_si512();
        let mut i = 0;
        while i < levels.len() {
            // SAFETY: as in the AVX2 kernel.
            let (c, w) = unsafe {
                (
                    _mm256_loadu_si256(pc.add(i).cast()),
                    _mm512_loadu_si512(pq.add(2 * i).cast()),
                )
            };
            let lo = _mm256_and_si256(c, low);
            let hi = _mm256_and_si256(_mm256_srli_epi16(c, 4), low);
            let u = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, w), ones));
            i += 32;
        }
        _mm512_reduce_add_epi32(acc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize, dim: usize, seed: u32) -> Vec<f32> {
        (0..n * dim)
            .map(|i| ((i as f32 + seed as f32) * 0.618).sin() * (1.0 + (i % 7) as f32))
            .collect()
    }

    fn squared(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }

    #[test]
    fn the_rotation_keeps_lengths_and_distances() {
        for dim in [1, 2, 3, 50, 64, 100, 500] {
            let rotation = Rotation::random(dim, 7);
            let data = rows(2, dim, 3);
            let (mut a, mut b) = (data[..dim].to_vec(), data[dim..].to_vec());
            let before = (squared(&a, &vec![0.0; dim]), squared(&a, &b));
            rotation.apply(&mut a);
            rotation.apply(&mut b);
            let after = (squared(&a, &vec![0.0; dim]), squared(&a, &b));
            assert!((before.0 - after.0).abs() <= 1e-4 * before.0, "dim {dim}");
            assert!((before.1 - after.1).abs() <= 1e-4 * before.1, "dim {dim}");
        }
    }

    #[test]
    fn estimates_are_within_the_error_bound_and_mostly_well_inside_it() {
        for dim in [1, 7, 50, 64, 65, 130, 500] {
            let n = 300;
            let points = Points::new(rows(n, dim, 1), dim, None).unwrap();
            let codes = Rabitq4::train(&points, 3);
            assert_eq!(codes.len(), n);
            let kernel = codes.kernel();
            let mut prepared = Rabitq4Query::default();
            let (mut errors, mut spans) = (0.0f64, 0.0f64);
            for q in 0..20u32 {
                let query: Vec<f32> = points.row(q * 7 + 3).iter().map(|x| x * 0.9).collect();
                codes.prepare_query(&query, &mut prepared);
                for id in 0..n as u32 {
                    // SAFETY: the kernel of these codes on this CPU, the query theirs.
                    let estimate = unsafe { codes.estimate(kernel, &prepared, id) };
                    let exact = squared(&query, points.row(id));
                    let bound = codes.error_bound(id, points.row(id), &prepared);
                    let error = (estimate - exact).abs();
                    assert!(
                        error <= bound * 1.001 + 1e-3 * exact.max(1.0),
                        "dim {dim}: {error} > {bound}"
                    );
                    errors += f64::from(error);
                    spans += f64::from(exact);
                }
            }
            // The typical error is a small fraction of the distances (RaBitQ's concentration),
            // not the worst case the bound allows.
            if dim >= 50 {
                assert!(errors / spans < 0.05, "dim {dim}: {}", errors / spans);
            }
        }
    }

    #[test]
    fn the_dispatched_kernel_matches_the_portable_one() {
        // Under NSWG_SIMD=portable both sides are the portable loop; CI runs this both ways.
        for dim in [1, 31, 32, 33, 63, 64, 65, 128, 200, 750] {
            let points = Points::new(rows(10, dim, 2), dim, None).unwrap();
            let codes = Rabitq4::train(&points, 1);
            let mut prepared = Rabitq4Query::default();
            codes.prepare_query(&rows(1, dim, 5), &mut prepared);
            for id in 0..10u32 {
                let code = codes.code(id);
                let levels = &code[..code.len() - FACTORS];
                let portable = levels_portable(&prepared.levels, levels);
                // SAFETY: the kernel of these codes on this CPU.
                let fast = unsafe { codes.kernel()(&prepared.levels, levels) };
                assert_eq!(fast, portable, "dim {dim}");
            }
        }
    }

    #[test]
    fn added_rows_keep_the_centre_and_parts_are_checked() {
        let dim = 20;
        let points = Points::new(rows(50, dim, 4), dim, None).unwrap();
        let mut codes = Rabitq4::train(&points, 9);
        let mut more = points.clone();
        more.extend(Points::new(rows(5, dim, 8), dim, None).unwrap());
        let center = codes.center().to_vec();
        codes.extend(&more, 50);
        assert_eq!((codes.len(), codes.center()), (55, &center[..]));
        assert_eq!(codes, {
            let mut again = Rabitq4::train(&points, 9);
            again.extend(&more, 50);
            again
        });
        let back = Rabitq4::from_parts(
            dim,
            codes.center().to_vec(),
            codes.signs().to_vec(),
            codes.codes().to_vec(),
        );
        assert_eq!(back.as_ref(), Some(&codes));
        codes.truncate(52);
        assert_eq!(codes.len(), 52);
        let stride = Rabitq4::stride_of(dim);
        assert_eq!(stride, 32 + 8);
        let mut bad = codes.codes().to_vec();
        bad[stride - 4..stride].copy_from_slice(&f32::NAN.to_le_bytes());
        let signs = codes.signs().to_vec();
        assert!(Rabitq4::from_parts(dim, center.clone(), signs.clone(), bad).is_none());
        let mut odd = signs.clone();
        odd[3] = 0.5;
        assert!(Rabitq4::from_parts(dim, center.clone(), odd, vec![]).is_none());
        assert!(Rabitq4::from_parts(dim, center, signs, vec![0; stride + 1]).is_none());
    }
}
