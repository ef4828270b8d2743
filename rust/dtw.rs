//! Banded Dynamic Time Warping with two reused rows of the cost matrix.

/// Reusable rows of the DTW cost matrix, so that a call allocates only when a longer series
/// than any before comes along.
#[derive(Debug, Default)]
pub struct DtwScratch {
    prev: Vec<f64>,
    cur: Vec<f64>,
}

/// Squared DTW between `x` and `y` with a Sakoe-Chiba band of `radius` points: the smallest sum
/// of `(x[i] - y[j])^2` along a warping path that keeps within the band.
///
/// For series of unequal length the band is slanted the way tslearn's `sakoe_chiba_mask` slants
/// it: with `n <= m`, row `i` may use columns `i - radius ..= i + (m - n) + radius`, so a path
/// always exists and the distance is symmetric. Cells accumulate in `f64`, like tslearn and
/// dtaidistance, so long series do not drift.
pub fn dtw_squared(x: &[f32], y: &[f32], radius: usize, scratch: &mut DtwScratch) -> f64 {
    dtw_squared_within(x, y, radius, f64::INFINITY, None, scratch)
}

/// [`dtw_squared`], abandoned as soon as the result is certain to exceed `bound`: then the
/// return value is some number above `bound`, not the distance.
///
/// `tail[j]`, when given, must be a lower bound of what columns `j..` add to any warping path
/// (the suffix sums of LB_Keogh's terms for `y`, as in the UCR Suite); it lets rows abandon
/// earlier than on their own minimum.
pub fn dtw_squared_within(
    x: &[f32],
    y: &[f32],
    radius: usize,
    bound: f64,
    tail: Option<&[f64]>,
    scratch: &mut DtwScratch,
) -> f64 {
    let (n, m) = (x.len(), y.len());
    if n == 0 || m == 0 {
        return if n == m { 0.0 } else { f64::INFINITY };
    }
    // Columns row i may use: i - below ..= i + above.
    let (below, above) = if n <= m {
        (radius, radius.saturating_add(m - n))
    } else {
        (radius.saturating_add(n - m), radius)
    };
    let DtwScratch { prev, cur } = scratch;
    // Rows are indexed by column + 1; index 0 is the virtual column before the first.
    prev.clear();
    prev.resize(m + 1, f64::INFINITY);
    cur.clear();
    cur.resize(m + 1, f64::INFINITY);
    prev[0] = 0.0;
    for (i, &xi) in x.iter().enumerate() {
        let lo = i.saturating_sub(below);
        let hi = i.saturating_add(above).min(m - 1);
        let xi = f64::from(xi);
        // The cell left of the band must read as unreachable; cells right of it were never written
        // since the rows were reset, because the band only moves right.
        cur[lo] = f64::INFINITY;
        let (up, left) = (&prev[lo..=hi + 1], &mut cur[lo..=hi + 1]);
        let mut row_min = f64::INFINITY;
        let mut last = left[0];
        for (t, &yj) in y[lo..=hi].iter().enumerate() {
            let d = xi - f64::from(yj);
            let v = d * d + min(min(up[t], up[t + 1]), last);
            left[t + 1] = v;
            last = v;
            row_min = min(row_min, v);
        }
        // Every path crosses this row, then still has to reach every column after the band.
        let rest = tail.and_then(|t| t.get(hi + 1)).copied().unwrap_or(0.0);
        if row_min + rest > bound {
            return row_min + rest;
        }
        std::mem::swap(prev, cur);
    }
    prev[m]
}

/// `a.min(b)` without the NaN handling of `f64::min`, which costs instructions in inner loops;
/// cells and series values are never NaN.
#[inline(always)]
fn min<T: PartialOrd>(a: T, b: T) -> T {
    if a < b {
        a
    } else {
        b
    }
}

/// `a.max(b)` without NaN handling, as [`min`].
#[inline(always)]
fn max<T: PartialOrd>(a: T, b: T) -> T {
    if a > b {
        a
    } else {
        b
    }
}

/// The upper and lower envelope of a series for a Sakoe-Chiba radius (Keogh, 2002):
/// `upper[i] = max(s[i - r..=i + r])`, `lower[i] = min(s[i - r..=i + r])`.
///
/// Found in linear time with no branch on the data, after van Herk (1992) and Gil & Werman
/// (1993): cut into blocks of the window's width `2r + 1`, the series has its running maxima and
/// minima from each block's start (`prefix`) and to each block's end (`suffix`) computed once, and
/// a full window, which spans at most two blocks, is then a suffix of one and a prefix of the
/// next. `scratch` holds those four running arrays. The values must not be NaN.
pub fn envelope(
    s: &[f32],
    radius: usize,
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
    let r = radius.min(n);
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

/// LB_Kim's first-and-last bound (Kim et al., 2001, as pruned to O(1) in the UCR Suite): every
/// warping path matches the first points with each other, and the last with each other.
pub fn lb_kim(x: &[f32], y: &[f32]) -> f64 {
    let (Some(&xf), Some(&yf), Some(&xl), Some(&yl)) = (x.first(), y.first(), x.last(), y.last())
    else {
        return 0.0;
    };
    let first = (f64::from(xf) - f64::from(yf)).powi(2);
    if x.len() == 1 || y.len() == 1 {
        // The first and last cells may coincide; count the larger one only.
        return first.max((f64::from(xl) - f64::from(yl)).powi(2));
    }
    first + (f64::from(xl) - f64::from(yl)).powi(2)
}

/// LB_Keogh of series `c` against the envelope of another series of the same length: the squared
/// distance of each point of `c` to the envelope, summed. Without `terms`, stops once the sum
/// exceeds `bound`, looking every [`KEOGH_BLOCK`] points; with `terms`, stores every point's term
/// there, for [`suffix_sums`].
///
/// The terms are computed without branches and summed in four lanes, so that the compiler
/// vectorises the loop, with AVX2 where the CPU has it; the sum is in `f64`, so its rounding stays
/// far below the one `f32` step by which callers compare it with a distance.
pub fn lb_keogh(
    c: &[f32],
    upper: &[f32],
    lower: &[f32],
    bound: f64,
    terms: Option<&mut Vec<f64>>,
) -> f64 {
    debug_assert!(c.len() == upper.len() && c.len() == lower.len());
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
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

/// Turns per-point terms into suffix sums in place, with one extra 0 at the end:
/// `terms[j] = sum(terms[j..])`.
pub fn suffix_sums(terms: &mut Vec<f64>) {
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
    use crate::distance::squared_euclidean;

    /// Full-matrix DTW with an explicit band mask: the textbook recurrence, as an oracle.
    fn dtw_full_matrix(x: &[f32], y: &[f32], radius: usize) -> f64 {
        let (n, m) = (x.len(), y.len());
        let inside = |i: usize, j: usize| {
            let (i, j, n, m, r) = (i as i64, j as i64, n as i64, m as i64, radius as i64);
            if n <= m {
                j >= i - r && j <= i + (m - n) + r
            } else {
                i >= j - r && i <= j + (n - m) + r
            }
        };
        let mut d = vec![vec![f64::INFINITY; m + 1]; n + 1];
        d[0][0] = 0.0;
        for i in 1..=n {
            for j in 1..=m {
                if inside(i - 1, j - 1) {
                    let c = (f64::from(x[i - 1]) - f64::from(y[j - 1])).powi(2);
                    d[i][j] = c + d[i - 1][j].min(d[i][j - 1]).min(d[i - 1][j - 1]);
                }
            }
        }
        d[n][m]
    }

    fn series(len: usize, phase: f32) -> Vec<f32> {
        (0..len)
            .map(|i| (i as f32 * 0.3 + phase).sin() + 0.1 * i as f32)
            .collect()
    }

    #[test]
    fn tslearn_doctest_values() {
        // tslearn: dtw([1, 2, 3], [1., 2., 2., 3.]) == 0.0 and dtw([1, 2, 3], [1., 2., 2., 3., 4.]) == 1.0
        let mut s = DtwScratch::default();
        assert_eq!(
            dtw_squared(&[1., 2., 3.], &[1., 2., 2., 3.], usize::MAX, &mut s),
            0.0
        );
        let d = dtw_squared(&[1., 2., 3.], &[1., 2., 2., 3., 4.], usize::MAX, &mut s);
        assert_eq!(d.sqrt(), 1.0);
    }

    #[test]
    fn radius_zero_on_equal_lengths_is_squared_euclidean() {
        let mut s = DtwScratch::default();
        for len in [1, 2, 7, 64, 100] {
            let (a, b) = (series(len, 0.0), series(len, 1.3));
            let dtw = dtw_squared(&a, &b, 0, &mut s);
            let ed = f64::from(squared_euclidean(&a, &b));
            assert!(
                (dtw - ed).abs() <= 1e-4 * ed.max(1.0),
                "len {len}: {dtw} vs {ed}"
            );
        }
    }

    #[test]
    fn matches_the_full_matrix_for_every_radius_and_length_pair() {
        let mut s = DtwScratch::default();
        for (n, m) in [
            (1, 1),
            (1, 5),
            (5, 1),
            (10, 10),
            (10, 13),
            (13, 10),
            (30, 17),
        ] {
            let (a, b) = (series(n, 0.2), series(m, 2.0));
            for radius in [0, 1, 2, 3, 5, 8, 40, usize::MAX] {
                let fast = dtw_squared(&a, &b, radius, &mut s);
                let slow = dtw_full_matrix(&a, &b, radius.min(1000));
                assert!(
                    (fast - slow).abs() <= 1e-9 * slow.max(1.0),
                    "{n}x{m} r={radius}: {fast} vs {slow}"
                );
                let back = dtw_squared(&b, &a, radius, &mut s);
                assert!(
                    (fast - back).abs() <= 1e-9 * slow.max(1.0),
                    "not symmetric at {n}x{m} r={radius}"
                );
            }
        }
    }

    #[test]
    fn widening_the_band_never_increases_the_distance() {
        let mut s = DtwScratch::default();
        let (a, b) = (series(50, 0.0), series(50, 2.5));
        let mut last = f64::INFINITY;
        for radius in 0..60 {
            let d = dtw_squared(&a, &b, radius, &mut s);
            assert!(d <= last + 1e-9, "radius {radius}");
            last = d;
        }
    }

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
            for r in [0, 1, 2, 3, 5, 6, 7, 28, 56, 57, 1000, usize::MAX] {
                envelope(s, r, &mut u, &mut l, &mut h);
                assert_eq!(
                    (u.clone(), l.clone()),
                    naive_envelope(s, r),
                    "n {n} radius {r}"
                );
            }
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
                let d = dtw_squared(&a, &b, r, &mut s);
                envelope(&a, r, &mut u, &mut l, &mut h);
                let keogh = lb_keogh(&b, &u, &l, f64::INFINITY, Some(&mut terms));
                assert!(
                    lb_kim(&a, &b) <= d + 1e-9 && keogh <= d + 1e-9,
                    "seed {seed} r {r}"
                );
                // The suffix sums of the terms bound what the remaining columns add.
                suffix_sums(&mut terms);
                let pruned = dtw_squared_within(&a, &b, r, d, Some(&terms), &mut s);
                assert!(
                    (pruned - d).abs() < 1e-9,
                    "abandoned at its own distance, seed {seed} r {r}"
                );
                assert!(dtw_squared_within(&a, &b, r, d * 0.99, Some(&terms), &mut s) > d * 0.99);
            }
        }
    }

    #[test]
    fn lb_kim_handles_single_points() {
        assert_eq!(lb_kim(&[1.0], &[3.0, 0.0, 2.0]), 4.0);
        assert_eq!(
            dtw_squared(
                &[1.0],
                &[3.0, 0.0, 2.0],
                usize::MAX,
                &mut DtwScratch::default()
            ),
            6.0
        );
    }

    #[test]
    fn scratch_reused_across_lengths_gives_fresh_answers() {
        let mut used = DtwScratch::default();
        let (a, b) = (series(40, 0.0), series(40, 1.0));
        dtw_squared(&a, &b, 3, &mut used);
        let (c, d) = (series(12, 0.5), series(9, 1.5));
        let reused = dtw_squared(&c, &d, 2, &mut used);
        let fresh = dtw_squared(&c, &d, 2, &mut DtwScratch::default());
        assert_eq!(reused, fresh);
    }
}
