//! Banded Dynamic Time Warping with a few reused rows or anti-diagonals of the cost matrix.
//!
//! Wide bands go one anti-diagonal (`i + j` constant) at a time: its cells depend only on the
//! two anti-diagonals before it, never on each other, so they are computed a vector at a time and
//! no cell waits for its left neighbour, as it would along a row.

/// Reusable buffers, so that a call allocates only when a longer series than any before comes
/// along: the series as `f64` (`y` reversed for anti-diagonals, so that they read both series
/// forwards) and two rows or three anti-diagonals of the cost matrix.
#[derive(Debug, Default)]
pub struct DtwScratch {
    x: Vec<f64>,
    y: Vec<f64>,
    lines: [Vec<f64>; 3],
}

/// Squared DTW between `x` and `y` with a Sakoe-Chiba band of `radius` points: the smallest sum
/// of `(x[i] - y[j])^2` along a warping path that keeps within the band.
///
/// For series of unequal length the band is slanted the way tslearn's `sakoe_chiba_mask` slants
/// it: with `n <= m`, row `i` may use columns `i - radius ..= i + (m - n) + radius`, so a path
/// always exists and the distance is symmetric. Cells accumulate in `f64`, like tslearn and
/// dtaidistance, so long series do not drift.
pub fn dtw_squared(x: &[f32], y: &[f32], radius: usize, scratch: &mut DtwScratch) -> f64 {
    banded::<false>(x, y, radius, f64::INFINITY, None, scratch)
}

/// [`dtw_squared`], abandoned as soon as the result is certain to exceed `bound`: then the
/// return value is some number above `bound`, not the distance.
///
/// `tail[j]`, when given, must be a lower bound of what columns `j..` add to any warping path
/// (the suffix sums of LB_Keogh's terms for `y`, as in the UCR Suite); it lets the computation
/// abandon earlier than on the cost so far alone.
pub fn dtw_squared_within(
    x: &[f32],
    y: &[f32],
    radius: usize,
    bound: f64,
    tail: Option<&[f64]>,
    scratch: &mut DtwScratch,
) -> f64 {
    banded::<true>(x, y, radius, bound, tail, scratch)
}

/// Cells computed per step of the cell loop: one SSE2 or NEON vector of `f64`.
const LANES: usize = 2;

/// The kernel of [`dtw_squared`] (`ABANDON` false: no bound to test) and
/// [`dtw_squared_within`].
#[inline(always)]
fn banded<const ABANDON: bool>(
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
    // Row i may use columns i - below ..= i + above. Capping at n + m changes no band and keeps
    // the arithmetic below from overflowing.
    let (below, above) = if n <= m {
        (radius, radius.saturating_add(m - n))
    } else {
        (radius.saturating_add(n - m), radius)
    };
    let (below, above) = (below.min(n + m), above.min(n + m));
    let DtwScratch {
        x: xs,
        y: ys,
        lines: [a, b, c],
    } = scratch;
    if below + above < NARROW {
        return rows::<ABANDON>(x, y, below, above, bound, tail, [ys, a, b]);
    }
    // One padding point each, read by the extra lane of an odd-length anti-diagonal.
    xs.clear();
    xs.extend(x.iter().map(|&v| f64::from(v)));
    xs.push(0.0);
    ys.clear();
    ys.extend(y.iter().rev().map(|&v| f64::from(v)));
    ys.push(0.0);
    // Anti-diagonal d holds cell (i, d - i) at index i + 1; index 0 is the virtual row before the
    // first, and the last index takes the extra lane. Every index outside an anti-diagonal's
    // cells reads as unreachable, except the virtual cell (-1, -1) where paths start.
    for v in [&mut *a, &mut *b, &mut *c] {
        v.clear();
        v.resize(n + 2, f64::INFINITY);
    }
    a[0] = 0.0;
    // Raw pointers, so that the loop checks each anti-diagonal's bounds once rather than per
    // slice; the three buffers are distinct allocations of n + 2.
    let (mut before, mut last, mut cur) = (a.as_mut_ptr(), b.as_mut_ptr(), c.as_mut_ptr());
    let (xs, ys) = (xs.as_ptr(), ys.as_ptr());
    let mut last_min = f64::INFINITY;
    // Four cells per instruction where the CPU has AVX2, two (SSE2, the x86_64 baseline) elsewhere.
    #[cfg(target_arch = "x86_64")]
    let avx2 = is_x86_feature_detected!("avx2");
    // Anti-diagonals whose band no edge of the matrix cuts, which spares them the clipping.
    let unclipped = below.max(above).saturating_sub(1)
        ..(2 * m)
            .saturating_sub(above)
            .min((2 * n).saturating_sub(below));
    for d in 0..n + m - 1 {
        // The rows of the cells of anti-diagonal d: inside the band and the matrix.
        let (lo, hi) = ((d + 1).saturating_sub(above) / 2, (d + below) / 2);
        let (lo, hi) = if unclipped.contains(&d) {
            (lo, hi)
        } else {
            (lo.max(d.saturating_sub(m - 1)), hi.min(n - 1).min(d))
        };
        // Rounded up to whole vectors; an extra lane computes a cell outside the band, which the
        // store to hi + 2 below then marks unreachable again.
        let len = (hi + 1).saturating_sub(lo).next_multiple_of(LANES);
        assert!(hi < n && hi <= d && lo + len <= hi + 2 && d < lo + m);
        // SAFETY: the indices used are lo ..= hi + 2 < n + 2 of the anti-diagonals, lo .. lo + len
        // <= n + 1 of `xs` and m - 1 - d + lo .. m - 1 - d + lo + len <= m + 1 of `ys`.
        let cur_min = unsafe {
            // The band moves down by at most one row per anti-diagonal, so the next two read this
            // one from index lo to hi + 2 only: cells, or these two marks.
            *cur.add(lo) = f64::INFINITY;
            let args = (
                cur.add(lo + 1),
                last.add(lo),
                before.add(lo),
                xs.add(lo),
                ys.add(m - 1 - d + lo),
                len,
            );
            #[cfg(target_arch = "x86_64")]
            let cur_min = if avx2 {
                // SAFETY (AVX2): checked once per call, above.
                cells_avx2::<ABANDON>(args.0, args.1, args.2, args.3, args.4, args.5)
            } else {
                cells::<ABANDON>(args.0, args.1, args.2, args.3, args.4, args.5)
            };
            #[cfg(not(target_arch = "x86_64"))]
            let cur_min = cells::<ABANDON>(args.0, args.1, args.2, args.3, args.4, args.5);
            *cur.add(hi + 2) = f64::INFINITY;
            cur_min
        };
        if ABANDON {
            // Every path passes through anti-diagonal d - 1 or d, then still has to reach every
            // column after the last one they hold. The extra lane only lowers the minimum.
            let rest = tail.and_then(|t| t.get(d - lo + 1)).copied().unwrap_or(0.0);
            let lower = min(cur_min, last_min) + rest;
            if lower > bound {
                return lower;
            }
            last_min = cur_min;
        }
        (before, last, cur) = (last, cur, before);
    }
    // SAFETY: index n of an anti-diagonal of n + 2.
    unsafe { *last.add(n) }
}

/// Bands with `below + above` under this go row by row: their anti-diagonals are too short to
/// fill vectors, and each waits on the one before it, while the next row can start before the
/// current one is done.
const NARROW: usize = 16;

/// The band row by row: row `i` holds columns `i - below ..= i + above`.
#[inline(always)]
fn rows<const ABANDON: bool>(
    x: &[f32],
    y: &[f32],
    below: usize,
    above: usize,
    bound: f64,
    tail: Option<&[f64]>,
    [ys, prev, cur]: [&mut Vec<f64>; 3],
) -> f64 {
    let m = y.len();
    ys.clear();
    ys.extend(y.iter().map(|&v| f64::from(v)));
    // Rows are indexed by column + 1; index 0 is the virtual column before the first.
    for v in [&mut *prev, &mut *cur] {
        v.clear();
        v.resize(m + 1, f64::INFINITY);
    }
    prev[0] = 0.0;
    let (mut prev, mut cur) = (&mut prev[..], &mut cur[..]);
    let mut i = 0;
    while i < x.len() {
        let lo = i.saturating_sub(below);
        // Two rows at once where the matrix edges cut neither: the first stays in registers, and
        // the core has two chains of cells to interleave.
        if i >= below && i + 1 < x.len() && i + above + 2 <= m {
            let hi = i + above;
            let (x0, x1) = (f64::from(x[i]), f64::from(x[i + 1]));
            // Row i + 1 holds columns lo + 1 ..= hi + 1.
            cur[lo + 1] = f64::INFINITY;
            let (out, up, ys) = (
                &mut cur[lo + 2..=hi + 2],
                &prev[lo..=hi + 1],
                &ys[lo..=hi + 1],
            );
            // SAFETY: `out` has hi + 1 - lo elements, `up` and `ys` one more; `out` is in the
            // other row.
            let row_min = unsafe {
                row_pair::<ABANDON>(
                    out.as_mut_ptr(),
                    up.as_ptr(),
                    ys.as_ptr(),
                    x0,
                    x1,
                    out.len(),
                )
            };
            if ABANDON {
                // As below, for row i + 1, whose band ends at column hi + 1.
                let rest = tail.and_then(|t| t.get(hi + 2)).copied().unwrap_or(0.0);
                if row_min + rest > bound {
                    return row_min + rest;
                }
            }
            std::mem::swap(&mut prev, &mut cur);
            i += 2;
            continue;
        }
        let hi = i.saturating_add(above).min(m - 1);
        let xi = f64::from(x[i]);
        // The cell left of the band must read as unreachable; cells right of it were never
        // written since the rows were reset, because the band only moves right.
        cur[lo] = f64::INFINITY;
        let (out, up, ys) = (&mut cur[lo + 1..=hi + 1], &prev[lo..=hi + 1], &ys[lo..=hi]);
        // SAFETY: `out` and `ys` have hi + 1 - lo elements and `up` one more; `out` is in the
        // other row.
        let row_min =
            unsafe { row::<ABANDON>(out.as_mut_ptr(), up.as_ptr(), ys.as_ptr(), xi, out.len()) };
        if ABANDON {
            // Every path crosses this row, then still has to reach every column after the band.
            let rest = tail.and_then(|t| t.get(hi + 1)).copied().unwrap_or(0.0);
            if row_min + rest > bound {
                return row_min + rest;
            }
        }
        std::mem::swap(&mut prev, &mut cur);
        i += 1;
    }
    prev[m]
}

/// Two rows whose bands are `y[..len]` and `y[1..=len]`: `up` as for [`row`], and `out` gets the
/// second row only (the first is only needed by the second). Returns the minimum of the second
/// row when `ABANDON`.
///
/// # Safety
///
/// `up` and `y` are valid for `len + 1` reads, `out` for `len` writes, and `out` overlaps
/// neither; `len >= 1`.
#[inline(always)]
unsafe fn row_pair<const ABANDON: bool>(
    out: *mut f64,
    up: *const f64,
    y: *const f64,
    x0: f64,
    x1: f64,
    len: usize,
) -> f64 {
    // SAFETY: indices up to len of `up` and `y`, up to len - 1 of `out`.
    unsafe {
        // `a`: the first row's cell at the current column; `b`: the second row's, one behind.
        let d = *y - x0;
        let mut a = d * d + min(*up, *up.add(1));
        let (mut b, mut row_min) = (f64::INFINITY, f64::INFINITY);
        let mut above = *up.add(1);
        for k in 1..len {
            let yk = *y.add(k);
            let next = *up.add(k + 1);
            let (d0, d1) = (yk - x0, yk - x1);
            let a_next = d0 * d0 + min(min(above, next), a);
            b = d1 * d1 + min(min(a, a_next), b);
            *out.add(k - 1) = b;
            if ABANDON {
                row_min = min(row_min, b);
            }
            (a, above) = (a_next, next);
        }
        // The first row's band ended a column earlier.
        let d = *y.add(len) - x1;
        b = d * d + min(a, b);
        *out.add(len - 1) = b;
        min(row_min, b)
    }
}

/// One row: `out[k] = (y[k] - xi)^2 + min(up[k], up[k + 1], out[k - 1])` for `k < len`, where
/// `up[k]` is the cell above and left, `up[k + 1]` the cell above, and the cell left of the first
/// is unreachable. Returns the minimum of `out` when `ABANDON`.
///
/// # Safety
///
/// `up` is valid for `len + 1` reads, `y` for `len` reads, `out` for `len` writes, and `out`
/// overlaps neither.
#[inline(always)]
unsafe fn row<const ABANDON: bool>(
    out: *mut f64,
    up: *const f64,
    y: *const f64,
    xi: f64,
    len: usize,
) -> f64 {
    let (mut last, mut row_min) = (f64::INFINITY, f64::INFINITY);
    let mut k = 0;
    // SAFETY: each step reads and writes indices k and k + 1 < len (and k + 2 of `up`), then the
    // last step index len - 1 when len is odd.
    unsafe {
        // Two cells per step, which halves the loop overhead.
        while k + 1 < len {
            let (d0, d1) = (*y.add(k) - xi, *y.add(k + 1) - xi);
            let v0 = d0 * d0 + min(min(*up.add(k), *up.add(k + 1)), last);
            last = d1 * d1 + min(min(*up.add(k + 1), *up.add(k + 2)), v0);
            (*out.add(k), *out.add(k + 1)) = (v0, last);
            if ABANDON {
                row_min = min(row_min, min(v0, last));
            }
            k += 2;
        }
        if k < len {
            let d = *y.add(k) - xi;
            last = d * d + min(min(*up.add(k), *up.add(k + 1)), last);
            *out.add(k) = last;
            if ABANDON {
                row_min = min(row_min, last);
            }
        }
    }
    row_min
}

/// One anti-diagonal: `out[k] = (x[k] - y[k])^2 + min(last[k], last[k + 1], before[k])` for
/// `k < len`, where `last[k]` is the cell above, `last[k + 1]` the cell to the left and
/// `before[k]` the cell above and to the left. Returns the minimum of `out` when `ABANDON`.
///
/// # Safety
///
/// `len` is a multiple of [`LANES`]; `last` is valid for `len + 1` reads, `before`, `x` and `y`
/// for `len` reads, `out` for `len` writes, and `out` overlaps none of them.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn cells<const ABANDON: bool>(
    out: *mut f64,
    last: *const f64,
    before: *const f64,
    x: *const f64,
    y: *const f64,
    len: usize,
) -> f64 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline. Each step reads and writes indices k and
    // k + 1 (and k + 2 of `last`), with k + 1 < len since k < len and both are even.
    unsafe {
        let mut lane_min = _mm_set1_pd(f64::INFINITY);
        let mut k = 0;
        while k < len {
            let delta = _mm_sub_pd(_mm_loadu_pd(x.add(k)), _mm_loadu_pd(y.add(k)));
            let from = _mm_min_pd(
                _mm_min_pd(_mm_loadu_pd(last.add(k)), _mm_loadu_pd(last.add(k + 1))),
                _mm_loadu_pd(before.add(k)),
            );
            let v = _mm_add_pd(_mm_mul_pd(delta, delta), from);
            _mm_storeu_pd(out.add(k), v);
            if ABANDON {
                lane_min = _mm_min_pd(lane_min, v);
            }
            k += LANES;
        }
        _mm_cvtsd_f64(_mm_min_sd(lane_min, _mm_unpackhi_pd(lane_min, lane_min)))
    }
}

/// [`cells`] four cells at a time, for CPUs with AVX2: the same operations on each cell (a
/// multiply and an add, not a fused multiply-add), so the same bits.
///
/// # Safety
///
/// As for [`cells`], and the CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn cells_avx2<const ABANDON: bool>(
    out: *mut f64,
    last: *const f64,
    before: *const f64,
    x: *const f64,
    y: *const f64,
    len: usize,
) -> f64 {
    use std::arch::x86_64::*;
    // SAFETY: as in `cells`, each step reads and writes indices below `len` (and `len` of `last`):
    // four while k + 4 <= len, then the last two, since `len` is even.
    unsafe {
        let mut wide_min = _mm256_set1_pd(f64::INFINITY);
        let mut k = 0;
        while k + 4 <= len {
            let delta = _mm256_sub_pd(_mm256_loadu_pd(x.add(k)), _mm256_loadu_pd(y.add(k)));
            let from = _mm256_min_pd(
                _mm256_min_pd(
                    _mm256_loadu_pd(last.add(k)),
                    _mm256_loadu_pd(last.add(k + 1)),
                ),
                _mm256_loadu_pd(before.add(k)),
            );
            let v = _mm256_add_pd(_mm256_mul_pd(delta, delta), from);
            _mm256_storeu_pd(out.add(k), v);
            if ABANDON {
                wide_min = _mm256_min_pd(wide_min, v);
            }
            k += 4;
        }
        let mut lane_min = _mm_min_pd(
            _mm256_castpd256_pd128(wide_min),
            _mm256_extractf128_pd(wide_min, 1),
        );
        // The last two cells, written out: handing them to `cells` measured about 40% slower
        // on wide bands (L=1000, r=100).
        if k < len {
            let delta = _mm_sub_pd(_mm_loadu_pd(x.add(k)), _mm_loadu_pd(y.add(k)));
            let from = _mm_min_pd(
                _mm_min_pd(_mm_loadu_pd(last.add(k)), _mm_loadu_pd(last.add(k + 1))),
                _mm_loadu_pd(before.add(k)),
            );
            let v = _mm_add_pd(_mm_mul_pd(delta, delta), from);
            _mm_storeu_pd(out.add(k), v);
            if ABANDON {
                lane_min = _mm_min_pd(lane_min, v);
            }
        }
        _mm_cvtsd_f64(_mm_min_sd(lane_min, _mm_unpackhi_pd(lane_min, lane_min)))
    }
}

/// [`cells`] without SIMD.
///
/// # Safety
///
/// As for [`cells`].
#[cfg(any(not(target_arch = "x86_64"), test))]
unsafe fn cells_portable<const ABANDON: bool>(
    out: *mut f64,
    last: *const f64,
    before: *const f64,
    x: *const f64,
    y: *const f64,
    len: usize,
) -> f64 {
    // SAFETY: the caller's promise.
    let (out, last, before, x, y) = unsafe {
        (
            std::slice::from_raw_parts_mut(out, len),
            std::slice::from_raw_parts(last, len + 1),
            std::slice::from_raw_parts(before, len),
            std::slice::from_raw_parts(x, len),
            std::slice::from_raw_parts(y, len),
        )
    };
    let mut lane_min = f64::INFINITY;
    let cells = out
        .iter_mut()
        .zip(last.windows(2))
        .zip(before)
        .zip(x)
        .zip(y);
    for ((((out, last), &before), &x), &y) in cells {
        let delta = x - y;
        *out = delta * delta + min(min(last[0], last[1]), before);
        if ABANDON {
            lane_min = min(lane_min, *out);
        }
    }
    lane_min
}

#[cfg(not(target_arch = "x86_64"))]
use cells_portable as cells;

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
    fn rows_and_anti_diagonals_match_the_full_matrix_on_longer_series() {
        let mut s = DtwScratch::default();
        for (n, m) in [(120, 120), (120, 97), (97, 120), (40, 120), (121, 1)] {
            let (a, b) = (series(n, 0.7), series(m, 2.9));
            for radius in [0, 1, 2, 3, 4, 6, 7, 8, 9, 12, 13, 50, usize::MAX] {
                let slow = dtw_full_matrix(&a, &b, radius.min(1000));
                let fast = dtw_squared(&a, &b, radius, &mut s);
                assert!(
                    (fast - slow).abs() <= 1e-9 * slow.max(1.0),
                    "{n}x{m} r={radius}: {fast} vs {slow}"
                );
                // Unbounded, abandoning never triggers; bounded at the distance, it must not.
                for bound in [f64::INFINITY, slow * (1.0 + 1e-12)] {
                    let within = dtw_squared_within(&a, &b, radius, bound, None, &mut s);
                    assert_eq!(within, fast, "{n}x{m} r={radius} bound {bound}");
                }
                let below = slow * 0.999;
                let within = dtw_squared_within(&a, &b, radius, below, None, &mut s);
                assert!(within > below, "{n}x{m} r={radius}");
            }
        }
    }

    #[test]
    fn simd_cells_match_the_portable_ones() {
        let values = |len: usize, phase: f32| -> Vec<f64> {
            series(len, phase).iter().map(|&v| f64::from(v)).collect()
        };
        for len in [0, 2, 4, 6, 10, 12] {
            let (mut last, before) = (values(len + 1, 0.1), values(len, 0.2));
            last[len / 2] = f64::INFINITY;
            let (x, y) = (values(len, 0.3), values(len, 1.4));
            let (mut simd, mut portable) = (vec![0.0; len], vec![0.0; len]);
            // SAFETY: every slice has the length `cells` reads or writes.
            let (a, b) = unsafe {
                (
                    cells::<true>(
                        simd.as_mut_ptr(),
                        last.as_ptr(),
                        before.as_ptr(),
                        x.as_ptr(),
                        y.as_ptr(),
                        len,
                    ),
                    cells_portable::<true>(
                        portable.as_mut_ptr(),
                        last.as_ptr(),
                        before.as_ptr(),
                        x.as_ptr(),
                        y.as_ptr(),
                        len,
                    ),
                )
            };
            assert_eq!((&simd, a), (&portable, b), "len {len}");
            #[cfg(target_arch = "x86_64")]
            if is_x86_feature_detected!("avx2") {
                let mut wide = vec![0.0; len];
                // SAFETY: as above, and the CPU supports AVX2.
                let c = unsafe {
                    cells_avx2::<true>(
                        wide.as_mut_ptr(),
                        last.as_ptr(),
                        before.as_ptr(),
                        x.as_ptr(),
                        y.as_ptr(),
                        len,
                    )
                };
                assert_eq!((wide, c), (portable, b), "AVX2, len {len}");
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
