//! Lower bounds of DTW that rule out most candidates of an exact search before their DTW:
//! LB_Kim, and LB_Keogh against an envelope (Keogh, 2002), as the UCR Suite uses them.

use super::{max, min, Band};
use crate::sys::cpu::features;

/// The upper and lower envelope of a series for a Sakoe-Chiba radius (Keogh, 2002):
/// `upper[i] = max(s[i - r..=i + r])`, `lower[i] = min(s[i - r..=i + r])`.
///
/// Found in linear time with no branch on the data, after van Herk (1992) and Gil & Werman
/// (1993): cut into blocks of the window's width `2r + 1`, the series has its running maxima and
/// minima from each block's start (`prefix`) and to each block's end (`suffix`) computed once, and
/// a full window, which spans at most two blocks, is then a suffix of one and a prefix of the
/// next. `scratch` holds those four running arrays. The values must not be NaN.
pub(crate) fn envelope(
    s: &[f32],
    band: Band,
    upper: &mut Vec<f32>,
    lower: &mut Vec<f32>,
    scratch: &mut Vec<f32>,
) {
    let n = s.len();
    upper.clear();
    lower.clear();
    if n == 0 {
        return;
    }
    let r = band.radius_within(n);
    let width = 2 * r + 1;
    scratch.clear();
    scratch.resize(4 * n, 0.0);
    let (prefix, suffix) = scratch.split_at_mut(2 * n);
    let (pmax, pmin) = prefix.split_at_mut(n);
    let (smax, smin) = suffix.split_at_mut(n);
    for (((block, pmax), pmin), (smax, smin)) in s
        .chunks(width)
        .zip(pmax.chunks_mut(width))
        .zip(pmin.chunks_mut(width))
        .zip(smax.chunks_mut(width).zip(smin.chunks_mut(width)))
    {
        let (mut hi, mut lo) = (block[0], block[0]);
        for ((&x, pmax), pmin) in block.iter().zip(pmax).zip(pmin) {
            (hi, lo) = (max(hi, x), min(lo, x));
            (*pmax, *pmin) = (hi, lo);
        }
        let (mut hi, mut lo) = (block[block.len() - 1], block[block.len() - 1]);
        for ((&x, smax), smin) in block.iter().zip(smax).zip(smin).rev() {
            (hi, lo) = (max(hi, x), min(lo, x));
            (*smax, *smin) = (hi, lo);
        }
    }
    // Windows cut by the start: s[0..=i + r] lies in the first block.
    let head = r.min(n);
    for i in 0..head {
        let b = (i + r).min(n - 1);
        upper.push(pmax[b]);
        lower.push(pmin[b]);
    }
    // Full windows s[i - r..=i + r]: a suffix of one block and a prefix of the next (or one whole
    // block, which both hold).
    if n > 2 * r {
        let full = n - 2 * r;
        upper.extend(
            smax[..full]
                .iter()
                .zip(&pmax[2 * r..])
                .map(|(&a, &b)| max(a, b)),
        );
        lower.extend(
            smin[..full]
                .iter()
                .zip(&pmin[2 * r..])
                .map(|(&a, &b)| min(a, b)),
        );
    }
    // Windows cut by the end: s[i - r..] ends the last block.
    let last_block = (n - 1) / width;
    for i in head.max(n.saturating_sub(r))..n {
        let a = i - r;
        if a / width == last_block {
            upper.push(smax[a]);
            lower.push(smin[a]);
        } else {
            upper.push(max(smax[a], pmax[n - 1]));
            lower.push(min(smin[a], pmin[n - 1]));
        }
    }
}

/// The envelope of a series of `channels` values per time step: each channel's, laid out like
/// the series, with the buffers it is computed in.
#[derive(Debug, Default)]
pub(crate) struct Envelope {
    pub upper: Vec<f32>,
    pub lower: Vec<f32>,
    channel: Vec<f32>,
    channel_upper: Vec<f32>,
    channel_lower: Vec<f32>,
    scratch: Vec<f32>,
}

impl Envelope {
    /// Computes the envelope of `s` for `band`; LB_Keogh of a series against it is then the sum
    /// over time steps of the squared distance of each channel to its envelope, a lower bound of
    /// dependent DTW, whose cost sums the channels.
    pub(crate) fn of(&mut self, s: &[f32], channels: usize, band: Band) {
        if channels == 1 {
            envelope(s, band, &mut self.upper, &mut self.lower, &mut self.scratch);
            return;
        }
        self.upper.clear();
        self.upper.resize(s.len(), 0.0);
        self.lower.clear();
        self.lower.resize(s.len(), 0.0);
        for k in 0..channels {
            self.channel.clear();
            self.channel.extend(s.iter().skip(k).step_by(channels));
            envelope(
                &self.channel,
                band,
                &mut self.channel_upper,
                &mut self.channel_lower,
                &mut self.scratch,
            );
            let steps = self.upper[k..].iter_mut().step_by(channels);
            for (u, &v) in steps.zip(&self.channel_upper) {
                *u = v;
            }
            let steps = self.lower[k..].iter_mut().step_by(channels);
            for (l, &v) in steps.zip(&self.channel_lower) {
                *l = v;
            }
        }
    }
}

/// LB_Kim's first-and-last bound (Kim et al., 2001, as pruned to O(1) in the UCR Suite): every
/// warping path matches the first time steps with each other, and the last with each other.
pub(crate) fn lb_kim(x: &[f32], y: &[f32], channels: usize) -> f64 {
    let (n, m) = (x.len() / channels, y.len() / channels);
    if n == 0 || m == 0 {
        return 0.0;
    }
    let cost = |i: usize, j: usize| -> f64 {
        let (a, b) = (
            &x[i * channels..(i + 1) * channels],
            &y[j * channels..(j + 1) * channels],
        );
        a.iter()
            .zip(b)
            .map(|(&p, &q)| (f64::from(p) - f64::from(q)).powi(2))
            .sum()
    };
    let (first, last) = (cost(0, 0), cost(n - 1, m - 1));
    if n == 1 || m == 1 {
        // The first and last cells may coincide; count the larger one only.
        return first.max(last);
    }
    first + last
}

/// LB_Keogh of series `c` against the envelope of another series of the same length: the squared
/// distance of each point of `c` to the envelope, summed. Without `terms`, stops once the sum
/// exceeds `bound`, looking every [`KEOGH_BLOCK`] points; with `terms`, stores every point's term
/// there, for [`suffix_sums`].
///
/// The terms are computed without branches and summed in four lanes, so that the compiler
/// vectorises the loop, with AVX2 where the CPU has it; the sum is in `f64`, so its rounding stays
/// far below the one `f32` step by which callers compare it with a distance.
pub(crate) fn lb_keogh(
    c: &[f32],
    upper: &[f32],
    lower: &[f32],
    bound: f64,
    terms: Option<&mut Vec<f64>>,
) -> f64 {
    debug_assert!(c.len() == upper.len() && c.len() == lower.len());
    #[cfg(target_arch = "x86_64")]
    if features().avx2 {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { lb_keogh_avx2(c, upper, lower, bound, terms) };
    }
    lb_keogh_portable(c, upper, lower, bound, terms)
}

/// [`lb_keogh`] compiled for AVX2: the same code, in four-lane vectors.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn lb_keogh_avx2(
    c: &[f32],
    upper: &[f32],
    lower: &[f32],
    bound: f64,
    terms: Option<&mut Vec<f64>>,
) -> f64 {
    lb_keogh_portable(c, upper, lower, bound, terms)
}

#[inline(always)]
fn lb_keogh_portable(
    c: &[f32],
    upper: &[f32],
    lower: &[f32],
    bound: f64,
    terms: Option<&mut Vec<f64>>,
) -> f64 {
    if let Some(t) = terms {
        t.clear();
        t.extend(
            c.iter()
                .zip(upper)
                .zip(lower)
                .map(|((&v, &u), &l)| keogh_term(v, u, l)),
        );
        return sum_in_lanes(t);
    }
    let mut sum = 0.0;
    let blocks = c
        .chunks(KEOGH_BLOCK)
        .zip(upper.chunks(KEOGH_BLOCK))
        .zip(lower.chunks(KEOGH_BLOCK));
    for ((c, u), l) in blocks {
        sum += keogh_sum(c, u, l);
        if sum > bound {
            return sum;
        }
    }
    sum
}

/// Points of LB_Keogh summed between two comparisons with the bound.
const KEOGH_BLOCK: usize = 64;

/// The squared distance of `v` to the envelope `[l, u]`: at most one of the two differences is
/// positive, since `l <= u`.
#[inline(always)]
fn keogh_term(v: f32, u: f32, l: f32) -> f64 {
    let v = f64::from(v);
    let d = max(v - f64::from(u), 0.0) + max(f64::from(l) - v, 0.0);
    d * d
}

/// LB_Keogh's terms of `c` against `[l, u]`, summed in four independent lanes so that the
/// compiler keeps them in vector registers.
#[inline(always)]
fn keogh_sum(c: &[f32], u: &[f32], l: &[f32]) -> f64 {
    let mut lanes = [0.0f64; 4];
    let (cc, uc, lc) = (c.chunks_exact(4), u.chunks_exact(4), l.chunks_exact(4));
    let tail: f64 = (cc
        .remainder()
        .iter()
        .zip(uc.remainder())
        .zip(lc.remainder()))
    .map(|((&v, &u), &l)| keogh_term(v, u, l))
    .sum();
    for ((c, u), l) in cc.zip(uc).zip(lc) {
        for i in 0..4 {
            lanes[i] += keogh_term(c[i], u[i], l[i]);
        }
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// The sum of `terms` in four independent lanes, as [`keogh_sum`].
#[inline(always)]
fn sum_in_lanes(terms: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 4];
    let chunks = terms.chunks_exact(4);
    let tail: f64 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for i in 0..4 {
            lanes[i] += chunk[i];
        }
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// Sums per-value terms into per-time-step terms of `channels` values, in place.
pub(crate) fn step_sums(terms: &mut Vec<f64>, channels: usize) {
    if channels == 1 {
        return;
    }
    let steps = terms.len() / channels;
    for i in 0..steps {
        terms[i] = terms[i * channels..(i + 1) * channels].iter().sum();
    }
    terms.truncate(steps);
}

/// Turns per-point terms into suffix sums in place, with one extra 0 at the end:
/// `terms[j] = sum(terms[j..])`.
pub(crate) fn suffix_sums(terms: &mut Vec<f64>) {
    let mut acc = 0.0;
    for t in terms.iter_mut().rev() {
        acc += *t;
        *t = acc;
    }
    terms.push(0.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::dtw::kernel::{dtw_squared, dtw_squared_within, DtwScratch};
    use crate::metric::dtw::tests::series;

    fn naive_envelope(s: &[f32], r: usize) -> (Vec<f32>, Vec<f32>) {
        let n = s.len();
        let window =
            |i: usize| &s[i.saturating_sub(r)..i.saturating_add(r).saturating_add(1).min(n)];
        let upper = (0..n)
            .map(|i| window(i).iter().copied().fold(f32::MIN, f32::max))
            .collect();
        let lower = (0..n)
            .map(|i| window(i).iter().copied().fold(f32::MAX, f32::min))
            .collect();
        (upper, lower)
    }

    #[test]
    fn envelope_matches_the_naive_window() {
        let s = series(57, 0.4);
        let (mut u, mut l, mut h) = (Vec::new(), Vec::new(), Vec::new());
        for n in [0, 1, 2, 3, 7, 57] {
            let s = &s[..n];
            for r in [0, 1, 2, 3, 5, 6, 7, 28, 56, 57, 1000] {
                envelope(s, Band::Radius(r), &mut u, &mut l, &mut h);
                assert_eq!(
                    (u.clone(), l.clone()),
                    naive_envelope(s, r),
                    "n {n} radius {r}"
                );
            }
            envelope(s, Band::Full, &mut u, &mut l, &mut h);
            assert_eq!((u.clone(), l.clone()), naive_envelope(s, n), "n {n} full");
        }
    }

    #[test]
    fn lower_bounds_never_exceed_dtw() {
        let mut s = DtwScratch::default();
        let (mut u, mut l, mut h, mut terms) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for seed in 0..40 {
            let (a, b) = (
                series(64, seed as f32 * 0.7),
                series(64, seed as f32 * 1.9 + 0.3),
            );
            for r in [0, 1, 3, 10, 64] {
                let band = Band::Radius(r);
                let d = dtw_squared(&a, &b, band, &mut s);
                envelope(&a, band, &mut u, &mut l, &mut h);
                let keogh = lb_keogh(&b, &u, &l, f64::INFINITY, Some(&mut terms));
                assert!(
                    lb_kim(&a, &b, 1) <= d + 1e-9 && keogh <= d + 1e-9,
                    "seed {seed} r {r}"
                );
                // The suffix sums of the terms bound what the remaining columns add.
                suffix_sums(&mut terms);
                let pruned =
                    dtw_squared_within(&a, &b, band, d, Some(&terms), false, &mut s).squared;
                assert!(
                    (pruned - d).abs() < 1e-9,
                    "abandoned at its own distance, seed {seed} r {r}"
                );
                assert!(
                    dtw_squared_within(&a, &b, band, d * 0.99, Some(&terms), false, &mut s).squared
                        > d * 0.99
                );
            }
        }
    }
}
