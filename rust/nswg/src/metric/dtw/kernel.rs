//! Banded Dynamic Time Warping with a few reused rows or anti-diagonals of the cost matrix.
//!
//! Wide bands go one anti-diagonal (`i + j` constant) at a time: its cells depend only on the
//! two anti-diagonals before it, never on each other, so they are computed a vector at a time and
//! no cell waits for its left neighbour, as it would along a row.

#[cfg(target_arch = "x86_64")]
use super::cells::cells_avx2;
use super::cells::{cells, LANES};
use super::pruned::{Outcome, PrunedScratch};
use super::{max, min, Band};
use crate::sys::cpu::features;

/// Reusable buffers, so that a call allocates only when a longer series than any before comes
/// along: the series as `f64` (`y` reversed for anti-diagonals, so that they read both series
/// forwards) and two rows or three anti-diagonals of the cost matrix.
#[derive(Debug, Default)]
pub(crate) struct DtwScratch {
    x: Vec<f64>,
    y: Vec<f64>,
    lines: [Vec<f64>; 3],
    /// The buffers of the pruned kernel.
    pub(crate) pruned: PrunedScratch,
}

/// Squared DTW between `x` and `y` within a Sakoe-Chiba `band`: the smallest sum
/// of `(x[i] - y[j])^2` along a warping path that keeps within the band.
///
/// For series of unequal length the band is slanted the way tslearn's `sakoe_chiba_mask` slants
/// it: with `n <= m`, row `i` may use columns `i - radius ..= i + (m - n) + radius`, so a path
/// always exists and the distance is symmetric. Cells accumulate in `f64`, like tslearn and
/// dtaidistance, so long series do not drift.
pub(crate) fn dtw_squared(x: &[f32], y: &[f32], band: Band, scratch: &mut DtwScratch) -> f64 {
    banded::<false, false>(x, y, band, f64::INFINITY, None, scratch).squared
}

/// [`dtw_squared`], abandoned as soon as the result is certain to exceed `bound`: then the
/// return value is some number above `bound`, not the distance.
///
/// `tail[j]`, when given, must be a lower bound of what columns `j..` add to any warping path
/// (the suffix sums of LB_Keogh's terms for `y`, as in the UCR Suite), with `tail[m] == 0`; it
/// lets the computation abandon earlier than on the cost so far alone. With `prune`, the
/// anti-diagonals are also cut to their live cells, as EAPrunedDTW cuts rows (then `tail[j]` must
/// also not exceed the cost of any cell of the band in column `j`, which LB_Keogh's terms of `y`
/// against the envelope of `x` never do).
pub(crate) fn dtw_squared_within(
    x: &[f32],
    y: &[f32],
    band: Band,
    bound: f64,
    tail: Option<&[f64]>,
    prune: bool,
    scratch: &mut DtwScratch,
) -> Outcome {
    if prune {
        banded::<true, true>(x, y, band, bound, tail, scratch)
    } else {
        banded::<true, false>(x, y, band, bound, tail, scratch)
    }
}

/// The kernel of [`dtw_squared`] (`ABANDON` false: no bound to test) and
/// [`dtw_squared_within`] (`PRUNE`: anti-diagonals cut to their live cells), with the cells it
/// computed.
#[inline(always)]
fn banded<const ABANDON: bool, const PRUNE: bool>(
    x: &[f32],
    y: &[f32],
    band: Band,
    bound: f64,
    tail: Option<&[f64]>,
    scratch: &mut DtwScratch,
) -> Outcome {
    let (n, m) = (x.len(), y.len());
    if n == 0 || m == 0 {
        let squared = if n == m { 0.0 } else { f64::INFINITY };
        return Outcome { squared, cells: 0 };
    }
    // Row i may use columns i - below ..= i + above. Capping at n + m changes no band and keeps
    // the arithmetic below from overflowing.
    let radius = band.radius_within(n + m);
    let (below, above) = if n <= m {
        (radius, radius + (m - n))
    } else {
        (radius + (n - m), radius)
    };
    let (below, above) = (below.min(n + m), above.min(n + m));
    if PRUNE && below + above < PRUNED {
        return banded::<ABANDON, false>(x, y, band, bound, tail, scratch);
    }
    let DtwScratch {
        x: xs,
        y: ys,
        lines: [a, b, c],
        ..
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
    // The live cells of anti-diagonals d - 1 and d - 2 (`PRUNE`), as indices first..end, empty
    // when first >= end: none before the first, and the virtual cell where paths start.
    let (mut live_1, mut live_2): (_, (usize, usize)) = (EMPTY, (0, 1));
    let mut computed = 0u64;
    // Four cells per instruction where the CPU has AVX2, two (SSE2, the x86_64 baseline) elsewhere.
    #[cfg(target_arch = "x86_64")]
    let avx2 = features().avx2;
    // Anti-diagonals whose band no edge of the matrix cuts, which spares them the clipping.
    let unclipped = below.max(above).saturating_sub(1)
        ..(2 * m)
            .saturating_sub(above)
            .min((2 * n).saturating_sub(below));
    for d in 0..n + m - 1 {
        // The rows of the cells of anti-diagonal d: inside the band and the matrix.
        let (lo, hi) = ((d + 1).saturating_sub(above) / 2, (d + below) / 2);
        let (mut lo, mut hi) = if unclipped.contains(&d) {
            (lo, hi)
        } else {
            (lo.max(d.saturating_sub(m - 1)), hi.min(n - 1).min(d))
        };
        if PRUNE {
            // A live cell has a live predecessor: above or left on d - 1 (rows i - 1 and i) or
            // above and left on d - 2 (row i - 1). So the rows of d's live cells lie within
            // those of d - 1's, one further down, and d - 2's, one down. That keeps the first row
            // from ever going back up and the last from going down by more than one row per
            // anti-diagonal, so the two marks below still fence what the next two read.
            lo = lo.max(min(live_1.0 - 1, live_2.0));
            hi = hi.min(max(live_1.1, live_2.1) - 1);
            if lo > hi {
                if live_1.0 >= live_1.1 {
                    // Two anti-diagonals without a live cell: every path crosses one of them.
                    return Outcome {
                        squared: f64::INFINITY,
                        cells: computed,
                    };
                }
                // No cell here; the next two read this one only at the rows of d - 1's live
                // cells and one row below.
                // SAFETY: d - 1's live cells end at index n + 1 at most, and the buffers hold
                // n + 2.
                unsafe {
                    let (from, to) = (live_1.0, live_1.1.min(n + 1));
                    std::slice::from_raw_parts_mut(cur.add(from), to + 1 - from)
                        .fill(f64::INFINITY);
                }
                (live_1, live_2) = (EMPTY, live_1);
                (before, last, cur) = (last, cur, before);
                continue;
            }
        }
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
            computed += (hi + 1 - lo) as u64;
        }
        if PRUNE {
            // Cell k of those from index lo + 1 is in column d - lo - k, whose tail (of the
            // columns after it) is tail[d - lo + 1 - k].
            let tail = tail.map(|t| &t[..=d - lo + 1]);
            // SAFETY: the hi + 1 - lo cells from index lo + 1 were just computed.
            let (first, end) = unsafe { live_cells(cur.add(lo + 1), hi + 1 - lo, tail, bound) };
            let live = (first.saturating_add(lo + 1), end + lo + 1);
            if live.0 >= live.1 && live_1.0 >= live_1.1 {
                return Outcome {
                    squared: f64::INFINITY,
                    cells: computed,
                };
            }
            (live_1, live_2) = (live, live_1);
        } else if ABANDON {
            // Every path passes through anti-diagonal d - 1 or d, then still has to reach every
            // column after the last one they hold. The extra lane only lowers the minimum.
            let rest = tail.and_then(|t| t.get(d - lo + 1)).copied().unwrap_or(0.0);
            let lower = min(cur_min, last_min) + rest;
            if lower > bound {
                return Outcome {
                    squared: lower,
                    cells: computed,
                };
            }
            last_min = cur_min;
        }
        (before, last, cur) = (last, cur, before);
    }
    Outcome {
        // SAFETY: index n of an anti-diagonal of n + 2.
        squared: unsafe { *last.add(n) },
        cells: computed,
    }
}

/// The first and one past the last live cell of the `len` cells of an anti-diagonal (`(usize::MAX,
/// 0)` if none is), where cell `k` is live when it and `tail[tail.len() - 1 - k]` (0 without a
/// tail) are at most `bound`: along an anti-diagonal, the columns go down.
///
/// Scans in from both ends, so that it reads the dead cells at the edges and one live cell each
/// side: cells are computed a vector at a time, and testing each of them there measured slower
/// than the cells it spared; dead cells between live ones are computed anyway.
///
/// # Safety
///
/// `cells` is valid for `len` reads, and `tail`, when given, holds at least `len` values.
#[inline(always)]
unsafe fn live_cells(
    cells: *const f64,
    len: usize,
    tail: Option<&[f64]>,
    bound: f64,
) -> (usize, usize) {
    // SAFETY: the caller's promise; every k read is below len.
    let live = |k: usize| unsafe {
        let rest = tail.map_or(0.0, |t| *t.get_unchecked(t.len() - 1 - k));
        *cells.add(k) + rest <= bound
    };
    if len == 0 {
        return EMPTY;
    }
    // Most anti-diagonals are live at both ends.
    let first = if live(0) {
        0
    } else {
        match (1..len).find(|&k| live(k)) {
            Some(k) => k,
            None => return EMPTY,
        }
    };
    let last = (first..len).rev().find(|&k| live(k)).unwrap_or(first);
    (first, last + 1)
}

/// Bands with `below + above` under this are not pruned: finding an anti-diagonal's live cells
/// costs some 40 instructions, which only long anti-diagonals repay. Over the 32 equal-length UCR
/// datasets whose learned radius is 8 or more (exact 1-NN, 20 test series each, one thread, best
/// of 7 interleaved, three runs), pruning every band took 1.0 to 1.7 times as long as abandoning
/// alone on bands under 200 (CricketY, r = 51: half the cells, 0.98 to 1.67 times the time), and
/// 0.52 to 1.04 times on those above (LargeKitchenAppliances, r = 677: 0.44 of the cells, 0.52 to
/// 0.59 times the time).
const PRUNED: usize = 200;

/// No live cell, as indices first..end.
const EMPTY: (usize, usize) = (usize::MAX, 0);

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
) -> Outcome {
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
    let mut computed = 0u64;
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
                computed += 2 * out.len() as u64;
                // As below, for row i + 1, whose band ends at column hi + 1.
                let rest = tail.and_then(|t| t.get(hi + 2)).copied().unwrap_or(0.0);
                if row_min + rest > bound {
                    return Outcome {
                        squared: row_min + rest,
                        cells: computed,
                    };
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
            computed += out.len() as u64;
            // Every path crosses this row, then still has to reach every column after the band.
            let rest = tail.and_then(|t| t.get(hi + 1)).copied().unwrap_or(0.0);
            if row_min + rest > bound {
                return Outcome {
                    squared: row_min + rest,
                    cells: computed,
                };
            }
        }
        std::mem::swap(&mut prev, &mut cur);
        i += 1;
    }
    Outcome {
        squared: prev[m],
        cells: computed,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::dtw::bounds::{envelope, lb_keogh, lb_kim, suffix_sums};
    use crate::metric::dtw::tests::{dtw_full_matrix, series, walk};
    use crate::metric::squared_euclidean;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    #[test]
    fn tslearn_doctest_values() {
        // tslearn: dtw([1, 2, 3], [1., 2., 2., 3.]) == 0.0 and dtw([1, 2, 3], [1., 2., 2., 3., 4.]) == 1.0
        let mut s = DtwScratch::default();
        assert_eq!(
            dtw_squared(&[1., 2., 3.], &[1., 2., 2., 3.], Band::Full, &mut s),
            0.0
        );
        let d = dtw_squared(&[1., 2., 3.], &[1., 2., 2., 3., 4.], Band::Full, &mut s);
        assert_eq!(d.sqrt(), 1.0);
    }

    #[test]
    fn radius_zero_on_equal_lengths_is_squared_euclidean() {
        let mut s = DtwScratch::default();
        for len in [1, 2, 7, 64, 100] {
            let (a, b) = (series(len, 0.0), series(len, 1.3));
            let dtw = dtw_squared(&a, &b, Band::Radius(0), &mut s);
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
            for radius in [0, 1, 2, 3, 5, 8, 40].map(Some).into_iter().chain([None]) {
                let band = Band::from(radius);
                let fast = dtw_squared(&a, &b, band, &mut s);
                let slow = dtw_full_matrix(&a, &b, radius.unwrap_or(1000));
                assert!(
                    (fast - slow).abs() <= 1e-9 * slow.max(1.0),
                    "{n}x{m} r={radius:?}: {fast} vs {slow}"
                );
                let back = dtw_squared(&b, &a, band, &mut s);
                assert!(
                    (fast - back).abs() <= 1e-9 * slow.max(1.0),
                    "not symmetric at {n}x{m} r={radius:?}"
                );
            }
        }
    }

    #[test]
    fn rows_and_anti_diagonals_match_the_full_matrix_on_longer_series() {
        let mut s = DtwScratch::default();
        for (n, m) in [(120, 120), (120, 97), (97, 120), (40, 120), (121, 1)] {
            let (a, b) = (series(n, 0.7), series(m, 2.9));
            for radius in [0, 1, 2, 3, 4, 6, 7, 8, 9, 12, 13, 50]
                .map(Some)
                .into_iter()
                .chain([None])
            {
                let band = Band::from(radius);
                let slow = dtw_full_matrix(&a, &b, radius.unwrap_or(1000));
                let fast = dtw_squared(&a, &b, band, &mut s);
                assert!(
                    (fast - slow).abs() <= 1e-9 * slow.max(1.0),
                    "{n}x{m} r={radius:?}: {fast} vs {slow}"
                );
                // Unbounded, abandoning never triggers; bounded at the distance, it must not.
                for bound in [f64::INFINITY, slow * (1.0 + 1e-12)] {
                    let within =
                        dtw_squared_within(&a, &b, band, bound, None, false, &mut s).squared;
                    assert_eq!(within, fast, "{n}x{m} r={radius:?} bound {bound}");
                }
                let below = slow * 0.999;
                let within = dtw_squared_within(&a, &b, band, below, None, false, &mut s).squared;
                assert!(within > below, "{n}x{m} r={radius:?}");
            }
        }
    }

    /// Cutting anti-diagonals to their live cells, over random walks, wide bands (so that
    /// anti-diagonals are used and pruned), equal and unequal lengths, bounds around the distance, with or
    /// without LB_Keogh's tail: at or above the distance the result is the distance, below it
    /// some number above the bound, and never more cells computed than by abandoning alone.
    #[test]
    fn pruned_anti_diagonals_are_exact_under_any_bound() {
        let mut rng = Pcg64Mcg::seed_from_u64(11);
        let mut s = DtwScratch::default();
        let (mut u, mut l, mut h, mut terms) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut fewer = 0;
        for case in 0..800 {
            let n = rng.random_range(NARROW..320);
            let m = if case % 3 == 0 {
                rng.random_range(1..320)
            } else {
                n
            };
            let (a, b) = (walk(n, &mut rng), walk(m, &mut rng));
            let band = match rng.random_range(0..6) {
                0 => Band::Full,
                // Half of them wide enough to be pruned.
                1..=3 => Band::Radius(rng.random_range(PRUNED / 2..n.max(m) + PRUNED)),
                _ => Band::Radius(rng.random_range(NARROW / 2..PRUNED / 2)),
            };
            let d = dtw_squared(&a, &b, band, &mut s);
            let tail = (n == m && case % 2 == 0).then(|| {
                envelope(&a, band, &mut u, &mut l, &mut h);
                lb_keogh(&b, &u, &l, f64::INFINITY, Some(&mut terms));
                suffix_sums(&mut terms);
                terms.clone()
            });
            let tail = tail.as_deref();
            for factor in [
                0.0,
                0.5,
                0.9,
                0.99,
                0.999,
                1.0 + 1e-9,
                1.01,
                1.5,
                f64::INFINITY,
            ] {
                let bound = d * factor;
                let cut = dtw_squared_within(&a, &b, band, bound, tail, true, &mut s);
                let whole = dtw_squared_within(&a, &b, band, bound, tail, false, &mut s);
                if d <= bound {
                    assert_eq!(cut.squared, d, "case {case} {n}x{m} {band:?} bound {bound}");
                } else {
                    assert!(
                        cut.squared > bound,
                        "case {case}: {} <= {bound}",
                        cut.squared
                    );
                }
                assert!(
                    cut.cells <= whole.cells,
                    "case {case} {n}x{m} {band:?} {factor}"
                );
                fewer += usize::from(cut.cells < whole.cells);
            }
        }
        assert!(fewer > 1000, "pruning cut cells in {fewer} calls only");
    }

    #[test]
    fn widening_the_band_never_increases_the_distance() {
        let mut s = DtwScratch::default();
        let (a, b) = (series(50, 0.0), series(50, 2.5));
        let mut last = f64::INFINITY;
        for radius in 0..60 {
            let d = dtw_squared(&a, &b, Band::Radius(radius), &mut s);
            assert!(d <= last + 1e-9, "radius {radius}");
            last = d;
        }
    }

    #[test]
    fn lb_kim_handles_single_points() {
        assert_eq!(lb_kim(&[1.0], &[3.0, 0.0, 2.0], 1), 4.0);
        assert_eq!(
            dtw_squared(
                &[1.0],
                &[3.0, 0.0, 2.0],
                Band::Full,
                &mut DtwScratch::default()
            ),
            6.0
        );
    }

    #[test]
    fn scratch_reused_across_lengths_gives_fresh_answers() {
        let mut used = DtwScratch::default();
        let (a, b) = (series(40, 0.0), series(40, 1.0));
        dtw_squared(&a, &b, Band::Radius(3), &mut used);
        let (c, d) = (series(12, 0.5), series(9, 1.5));
        let reused = dtw_squared(&c, &d, Band::Radius(2), &mut used);
        let fresh = dtw_squared(&c, &d, Band::Radius(2), &mut DtwScratch::default());
        assert_eq!(reused, fresh);
    }
}
