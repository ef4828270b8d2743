//! EAPrunedDTW (Herrmann & Webb, 2021): banded DTW under an upper bound that never computes a
//! cell every path through which is known to exceed the bound, and abandons once a whole row is
//! past it.
//!
//! A cell is dead when its cost, plus what the columns after it still add to any path (the
//! suffix sums of LB_Keogh's terms when given, else 0), exceeds the bound. Row by row, the dead
//! cells at the left end of a row are skipped in the rows below (their only successors are
//! dead or to their right), and a row stops at the first dead cell right of the last live cell of
//! the row above, since from there on a cell has only its left neighbour to come from. A path of
//! cost at most the bound has only live cells, each reached from its live predecessor, so the
//! result is exact whenever it is at most the bound.
//!
//! Series are `channels` values per time step, row-major; the cost of a pair of time steps is the
//! squared Euclidean distance between their vectors (dependent DTW, tslearn's definition).

use super::{min, Band};

/// Reusable buffers: two rows of the cost matrix.
#[derive(Debug, Default)]
pub(crate) struct PrunedScratch {
    rows: [Vec<f64>; 2],
}

/// What was computed: the squared distance (some number above the bound when abandoned) and the
/// cells of the cost matrix that were.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Outcome {
    pub squared: f64,
    pub cells: u64,
}

/// Squared DTW between `x` and `y` (`channels` values per time step) within `band`, pruned and
/// abandoned past `bound`; an infinite bound computes the whole band.
///
/// `tail[j]`, when given, must be a lower bound of what time steps `j..` of `y` add to any
/// warping path, with `tail[m] == 0` for `m` time steps, and must not exceed the cost of any cell
/// of the band in column `j`: the suffix sums of LB_Keogh's terms of `y` against the envelope of
/// `x` on series of equal length are both.
pub(crate) fn dtw_squared_pruned(
    x: &[f32],
    y: &[f32],
    channels: usize,
    band: Band,
    bound: f64,
    tail: Option<&[f64]>,
    scratch: &mut PrunedScratch,
) -> Outcome {
    assert!(channels > 0 && x.len().is_multiple_of(channels) && y.len().is_multiple_of(channels));
    let tail = tail.unwrap_or(&[]);
    match (channels, tail.is_empty()) {
        (1, true) => pruned::<true, false>(x, y, 1, band, bound, tail, scratch),
        (1, false) => pruned::<true, true>(x, y, 1, band, bound, tail, scratch),
        (_, true) => pruned::<false, false>(x, y, channels, band, bound, tail, scratch),
        (_, false) => pruned::<false, true>(x, y, channels, band, bound, tail, scratch),
    }
}

/// The kernel for one channel or more, with or without a tail (`tail` is then empty).
#[inline(always)]
fn pruned<const UNIVARIATE: bool, const TAIL: bool>(
    x: &[f32],
    y: &[f32],
    channels: usize,
    band: Band,
    bound: f64,
    tail: &[f64],
    scratch: &mut PrunedScratch,
) -> Outcome {
    let (n, m) = (x.len() / channels, y.len() / channels);
    if n == 0 || m == 0 {
        let squared = if n == m { 0.0 } else { f64::INFINITY };
        return Outcome { squared, cells: 0 };
    }
    assert!(!TAIL || tail.len() == m + 1);
    // Row i may use columns i - below ..= i + above, slanted as the banded kernel slants it.
    let radius = band.radius_within(n + m);
    let (below, above) = if n <= m {
        (radius, radius + (m - n))
    } else {
        (radius + (n - m), radius)
    };
    let PrunedScratch { rows: [prev, cur] } = scratch;
    // Rows are indexed by column + 1; index 0 is the virtual column before the first, whose cell
    // in the virtual row before the first is where paths start. Only cells computed in the row
    // (and the one mark set below) are ever read, so the rows need no resetting.
    for v in [&mut *prev, &mut *cur] {
        if v.len() < m + 1 {
            v.resize(m + 1, f64::INFINITY);
        }
    }
    prev[0] = 0.0;
    let (mut prev, mut cur) = (&mut prev[..], &mut cur[..]);
    // The live cells of the row above lie in start..end; the others read as unreachable.
    let (mut start, mut end) = (0, 1);
    let mut cells = 0u64;
    for i in 0..n {
        let lo = i.saturating_sub(below) + 1;
        let hi = (i + above).min(m - 1) + 1;
        let xi = &x[i * channels..(i + 1) * channels];
        let first = start.max(lo);
        // The diagonal of the first cell is left of the row above's live cells.
        prev[start.max(1) - 1] = if start == 0 { 0.0 } else { f64::INFINITY };
        assert!(end <= hi + 1 && hi <= m && (!TAIL || tail.len() == m + 1));
        assert!(prev.len() > m && cur.len() > m && y.len() == m * channels);
        // SAFETY: every index is at most hi <= m of the rows and the tail, which hold more, and
        // of time step hi - 1 < m of `y`, checked just above.
        let (j, next_start, next_end) = unsafe {
            // A cell of column j - 1 is live when it and what the columns after it add are at
            // most the bound.
            let live = |v: f64, j: usize| -> bool {
                if TAIL {
                    v + *tail.get_unchecked(j) <= bound
                } else {
                    v <= bound
                }
            };
            // The cost of column j - 1. Values are read as f32 and widened cell by cell rather than
            // converted up front, which would cost a pass over both series per call, however
            // early the call abandons.
            let cost = |j: usize| -> f64 {
                if UNIVARIATE {
                    let d = f64::from(xi[0]) - f64::from(*y.get_unchecked(j - 1));
                    d * d
                } else {
                    let y = y.get_unchecked((j - 1) * channels..j * channels);
                    xi.iter()
                        .zip(y)
                        .map(|(&p, &q)| (f64::from(p) - f64::from(q)).powi(2))
                        .sum()
                }
            };
            let (mut next_start, mut next_end) = (usize::MAX, 0);
            let mut left = f64::INFINITY;
            let mut j = first;
            // Columns below a live cell of the row above: every predecessor may be live. The row
            // above ends at or before this row, so j < end keeps within the band.
            while j < end {
                let from = min(
                    min(*prev.get_unchecked(j), *prev.get_unchecked(j - 1)),
                    left,
                );
                let v = cost(j) + from;
                *cur.get_unchecked_mut(j) = v;
                left = v;
                let live = live(v, j);
                next_start = min(next_start, if live { j } else { usize::MAX });
                next_end = if live { j + 1 } else { next_end };
                j += 1;
            }
            // Past the row above's last live cell only the diagonal (once) and the left
            // neighbour remain; once a cell is dead so is every cell right of it, as each adds at
            // least its column's share of the tail.
            if j == end && j <= hi {
                let mut v = cost(j) + min(*prev.get_unchecked(j - 1), left);
                loop {
                    *cur.get_unchecked_mut(j) = v;
                    j += 1;
                    if !live(v, j - 1) {
                        break;
                    }
                    next_start = min(next_start, j - 1);
                    next_end = j;
                    if j > hi {
                        break;
                    }
                    v += cost(j);
                }
            }
            (j, next_start, next_end)
        };
        cells += (j - first) as u64;
        if next_end == 0 {
            // The whole row is dead: every path crosses it.
            return Outcome {
                squared: f64::INFINITY,
                cells,
            };
        }
        (start, end) = (next_start, next_end);
        std::mem::swap(&mut prev, &mut cur);
    }
    let squared = if end == m + 1 { prev[m] } else { f64::INFINITY };
    Outcome { squared, cells }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::dtw::bounds::{envelope, lb_keogh, suffix_sums};
    use crate::metric::dtw::kernel::{dtw_squared, DtwScratch};
    use crate::metric::dtw::tests::{dtw_full_matrix, series, walk};
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    #[test]
    fn unbounded_matches_the_full_matrix() {
        let mut s = PrunedScratch::default();
        for (n, m) in [
            (1, 1),
            (1, 5),
            (5, 1),
            (10, 13),
            (13, 10),
            (30, 17),
            (64, 64),
        ] {
            let (a, b) = (series(n, 0.2), series(m, 2.0));
            for radius in [0, 1, 2, 3, 5, 8, 40].map(Some).into_iter().chain([None]) {
                let band = Band::from(radius);
                let p = dtw_squared_pruned(&a, &b, 1, band, f64::INFINITY, None, &mut s);
                let slow = dtw_full_matrix(&a, &b, radius.unwrap_or(1000));
                assert!(
                    (p.squared - slow).abs() <= 1e-9 * slow.max(1.0),
                    "{n}x{m} r={radius:?}: {} vs {slow}",
                    p.squared
                );
            }
        }
    }

    /// Against the plain kernel, over random walks, radii, lengths, bounds around the distance
    /// and with or without LB_Keogh's tail: at or above the distance the result is the distance,
    /// below it some number above the bound.
    #[test]
    fn pruning_is_exact_under_any_bound() {
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        let (mut s, mut plain) = (PrunedScratch::default(), DtwScratch::default());
        let (mut u, mut l, mut h, mut terms) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for case in 0..600 {
            let n = rng.random_range(1..80);
            let m = if case % 3 == 0 {
                rng.random_range(1..80)
            } else {
                n
            };
            let (a, b) = (walk(n, &mut rng), walk(m, &mut rng));
            let band = match rng.random_range(0..10) {
                0 => Band::Full,
                _ => Band::Radius(rng.random_range(0..n.max(m) + 2)),
            };
            let d = dtw_squared(&a, &b, band, &mut plain);
            let tail = (n == m && case % 2 == 0).then(|| {
                envelope(&a, band, &mut u, &mut l, &mut h);
                lb_keogh(&b, &u, &l, f64::INFINITY, Some(&mut terms));
                suffix_sums(&mut terms);
                terms.as_slice()
            });
            for factor in [0.0, 0.5, 0.9, 0.999, 1.0 + 1e-9, 1.5, f64::INFINITY] {
                let bound = d * factor;
                let p = dtw_squared_pruned(&a, &b, 1, band, bound, tail, &mut s);
                if d <= bound {
                    assert!(
                        (p.squared - d).abs() <= 1e-9 * d.max(1.0),
                        "case {case} {n}x{m} {band:?} bound {bound}: {} vs {d}",
                        p.squared
                    );
                } else {
                    assert!(p.squared > bound, "case {case}: {} <= {bound}", p.squared);
                }
                let band_cells = (0..n)
                    .map(|i| (0..m).filter(|&j| in_band(i, j, n, m, band)).count() as u64)
                    .sum::<u64>();
                assert!(p.cells <= band_cells, "case {case}");
                if factor.is_infinite() {
                    assert_eq!(p.cells, band_cells, "case {case}: an infinite bound prunes");
                }
            }
        }
    }

    fn in_band(i: usize, j: usize, n: usize, m: usize, band: Band) -> bool {
        let r = band.radius_within(n + m) as i64;
        let (i, j, n, m) = (i as i64, j as i64, n as i64, m as i64);
        if n <= m {
            j >= i - r && j <= i + (m - n) + r
        } else {
            i >= j - r && i <= j + (n - m) + r
        }
    }

    #[test]
    fn multivariate_is_the_sum_of_squared_channel_differences() {
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let mut s = PrunedScratch::default();
        for (n, m, d) in [(1, 1, 2), (10, 10, 3), (20, 13, 2), (7, 31, 5)] {
            let (a, b) = (walk(n * d, &mut rng), walk(m * d, &mut rng));
            for radius in [0, 1, 3, 100] {
                let band = Band::Radius(radius);
                let p = dtw_squared_pruned(&a, &b, d, band, f64::INFINITY, None, &mut s);
                let slow = dtw_full_matrix_channels(&a, &b, d, radius);
                assert!(
                    (p.squared - slow).abs() <= 1e-9 * slow.max(1.0),
                    "{n}x{m}x{d} r={radius}: {} vs {slow}",
                    p.squared
                );
                let under = dtw_squared_pruned(&a, &b, d, band, slow * 0.99, None, &mut s);
                assert!(under.squared > slow * 0.99);
            }
        }
        // One channel through the multivariate loop gives the univariate answer.
        let (a, b) = (series(40, 0.0), series(33, 1.0));
        let one = dtw_squared_pruned(&a, &b, 1, Band::Radius(4), f64::INFINITY, None, &mut s);
        let doubled: (Vec<f32>, Vec<f32>) = (
            a.iter().flat_map(|&v| [v, 0.0]).collect(),
            b.iter().flat_map(|&v| [v, 0.0]).collect(),
        );
        let two = dtw_squared_pruned(
            &doubled.0,
            &doubled.1,
            2,
            Band::Radius(4),
            f64::INFINITY,
            None,
            &mut s,
        );
        assert_eq!(one.squared, two.squared);
    }

    /// The textbook recurrence with the vector cost, as an oracle.
    pub(crate) fn dtw_full_matrix_channels(x: &[f32], y: &[f32], d: usize, radius: usize) -> f64 {
        let (n, m) = (x.len() / d, y.len() / d);
        let band = Band::Radius(radius);
        let mut c = vec![vec![f64::INFINITY; m + 1]; n + 1];
        c[0][0] = 0.0;
        for i in 1..=n {
            for j in 1..=m {
                if in_band(i - 1, j - 1, n, m, band) {
                    let cost: f64 = (0..d)
                        .map(|k| {
                            (f64::from(x[(i - 1) * d + k]) - f64::from(y[(j - 1) * d + k])).powi(2)
                        })
                        .sum();
                    c[i][j] = cost + c[i - 1][j].min(c[i][j - 1]).min(c[i - 1][j - 1]);
                }
            }
        }
        c[n][m]
    }
}
