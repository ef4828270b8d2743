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
        for j in lo..=hi {
            let d = xi - f64::from(y[j]);
            let best = prev[j].min(prev[j + 1]).min(cur[j]);
            cur[j + 1] = d * d + best;
        }
        std::mem::swap(prev, cur);
    }
    prev[m]
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
