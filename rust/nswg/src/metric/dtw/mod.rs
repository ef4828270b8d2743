//! Dynamic Time Warping within a Sakoe-Chiba band: the band, the kernel and its SIMD cells, the
//! lower bounds, and the cascade that puts them together for a search.

mod bounds;
mod cells;
mod kernel;
mod pruned;

use super::{check_row_range, Cost, Metric, QueryDistance, Space};
use crate::error::{Error, Result};
use crate::storage::Points;
use bounds::{lb_keogh, lb_kim, step_sums, suffix_sums, Envelope};
use kernel::{dtw_squared, dtw_squared_within, DtwScratch};
use pruned::dtw_squared_pruned;

/// Which cells of the cost matrix a warping path may use: a Sakoe-Chiba band of a radius in
/// points, or the full window.
///
/// Radius 0 on series of equal length is the Euclidean distance; a radius at least the length
/// of the series is the full window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Band {
    Full,
    Radius(usize),
}

impl From<Option<usize>> for Band {
    /// A radius, or `None` for the full window (tslearn's `sakoe_chiba_radius=None`).
    fn from(radius: Option<usize>) -> Self {
        radius.map_or(Band::Full, Band::Radius)
    }
}

impl Band {
    /// The radius, `None` for the full window.
    pub fn radius(self) -> Option<usize> {
        match self {
            Band::Full => None,
            Band::Radius(r) => Some(r),
        }
    }

    /// The radius in points for series of up to `len` points, where the full window is `len`.
    #[inline]
    pub(crate) fn radius_within(self, len: usize) -> usize {
        match self {
            Band::Full => len,
            Band::Radius(r) => r.min(len),
        }
    }
}

/// The DTW distance between two series (any lengths) of `channels` values per time step, stored
/// time step after time step, within `band`: the square root of the smallest sum, along a
/// warping path, of the squared Euclidean distances between matched time steps (tslearn's
/// definition).
///
/// The series are checked as an index under DTW checks its rows (of the longer length): whole
/// time steps, not empty, finite, and within [`Metric::max_magnitude`], so that this agrees with
/// the index.
pub fn dtw(a: &[f32], b: &[f32], channels: usize, band: Band) -> Result<f64> {
    if channels == 0 {
        return Err(Error::InvalidParameter {
            name: "channels",
            requirement: "at least 1",
            value: 0,
        });
    }
    if let Some(s) = [a, b].into_iter().find(|s| s.len() % channels != 0) {
        return Err(Error::PartialSeries {
            len: s.len(),
            channels,
        });
    }
    let dim = a.len().max(b.len());
    let metric = Metric::Dtw { band, channels };
    let bound = metric.max_magnitude(dim).expect("DTW bounds its values");
    for (row, values) in [a, b].into_iter().enumerate() {
        if values.is_empty() {
            return Err(Error::Empty);
        }
        if let Some(column) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                row,
                column,
                hint: "",
            });
        }
        check_row_range(values, bound, row, metric.name(), dim)?;
    }
    Ok(dtw_squared_channels(a, b, channels, band, &mut DtwScratch::default()).sqrt())
}

/// Squared DTW in full: the anti-diagonal SIMD kernel for one channel, the pruned kernel with no
/// bound for more.
fn dtw_squared_channels(
    a: &[f32],
    b: &[f32],
    channels: usize,
    band: Band,
    scratch: &mut DtwScratch,
) -> f64 {
    if channels == 1 {
        dtw_squared(a, b, band, scratch)
    } else {
        let scratch = &mut scratch.pruned;
        dtw_squared_pruned(a, b, channels, band, f64::INFINITY, None, scratch).squared
    }
}

/// Squared DTW computed in full, without bounds or abandoning: the reference the cascade is
/// tested against.
#[cfg(test)]
pub(crate) fn dtw_squared_unbounded(a: &[f32], b: &[f32], channels: usize, band: Band) -> f32 {
    dtw_squared_channels(a, b, channels, band, &mut DtwScratch::default()) as f32
}

/// The DP kernel that runs under a bound.
///
/// For univariate series the SIMD kernel is the default, its anti-diagonals cut to their live
/// cells on wide bands. Over the 72 equal-length UCR datasets at their learned windows (exact
/// 1-NN, 20 test series each, one thread, best of 3 interleaved; `benchmarks/dtw_pruning.py`),
/// it computed 1.34e9 cells and took 1.02 s, against 2.15e9 cells and 1.21 s for the same kernel
/// abandoning without pruning, and 1.25e9 cells and 2.77 s for EAPrunedDTW, whose cells are
/// scalar and row by row. Multivariate series have only EAPrunedDTW.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BoundedKernel {
    /// EAPrunedDTW (`pruned.rs`): fewest cells computed; multivariate series, or
    /// `NSWG_DTW_KERNEL=pruned`.
    Pruned,
    /// The banded SIMD kernel abandoning on whole rows or anti-diagonals, as the UCR Suite
    /// abandons: `NSWG_DTW_KERNEL=abandoning`, the default before pruning.
    Abandoning,
    /// The banded SIMD kernel with its anti-diagonals cut to their live cells, as EAPrunedDTW
    /// cuts its rows: the default for univariate series.
    PrunedSimd,
}

impl BoundedKernel {
    /// The kernel for a univariate search about to start: `NSWG_DTW_KERNEL` (`pruned` or
    /// `abandoning`) selects another, read when a search sets up its distances, so that one
    /// process can compare them.
    fn chosen() -> Self {
        match std::env::var_os("NSWG_DTW_KERNEL") {
            Some(v) if v == "pruned" => BoundedKernel::Pruned,
            Some(v) if v == "abandoning" => BoundedKernel::Abandoning,
            _ => BoundedKernel::PrunedSimd,
        }
    }
}

/// Upper and lower envelopes of every indexed series, channel by channel, laid out like the
/// points.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Envelopes {
    upper: Vec<f32>,
    lower: Vec<f32>,
    dim: usize,
}

impl Envelopes {
    /// Bytes held by the two envelopes.
    pub(super) fn nbytes(&self) -> usize {
        4 * (self.upper.len() + self.lower.len())
    }

    /// The envelopes of `points` for `band`, or `None` for series of unequal length, which
    /// LB_Keogh does not cover.
    pub(super) fn new(points: &Points, band: Band, channels: usize) -> Option<Self> {
        let mut envelopes = Self {
            upper: Vec::new(),
            lower: Vec::new(),
            dim: points.dim(),
        };
        envelopes
            .extend(points, band, channels)
            .then_some(envelopes)
    }

    /// Adds the envelopes of the rows of `points` after those it has; false (and nothing added)
    /// once some row of `points` is shorter than the others.
    pub(super) fn extend(&mut self, points: &Points, band: Band, channels: usize) -> bool {
        if points.has_padding() {
            return false;
        }
        let from = self.upper.len() / self.dim;
        let more = (points.len() - from) * self.dim;
        self.upper.reserve(more);
        self.lower.reserve(more);
        let mut e = Envelope::default();
        for id in from as u32..points.len() as u32 {
            e.of(points.row(id), channels, band);
            self.upper.extend_from_slice(&e.upper);
            self.lower.extend_from_slice(&e.lower);
        }
        true
    }

    /// Keeps the envelopes of the first `n` rows.
    pub(super) fn truncate(&mut self, n: usize) {
        self.upper.truncate(n * self.dim);
        self.lower.truncate(n * self.dim);
    }

    fn of(&self, id: u32) -> (&[f32], &[f32]) {
        let range = id as usize * self.dim..(id as usize + 1) * self.dim;
        (&self.upper[range.clone()], &self.lower[range])
    }
}

/// The rows of an index under DTW.
///
/// With the envelopes of the rows (equal-length series), distances under a bound run the UCR
/// Suite's cascade (Rakthanmanon et al., 2012): LB_Kim, LB_Keogh of the row against the query's
/// envelope, LB_Keogh of the query against the row's envelope, then DTW that abandons once the
/// bound is certain to be exceeded.
pub(super) struct Dtw<'a> {
    points: &'a Points,
    band: Band,
    channels: usize,
    envelopes: Option<&'a Envelopes>,
    kernel: BoundedKernel,
}

impl<'a> Dtw<'a> {
    pub(super) fn new(
        points: &'a Points,
        band: Band,
        channels: usize,
        envelopes: Option<&'a Envelopes>,
    ) -> Self {
        // The UCR Suite's kernel is univariate.
        let kernel = match channels {
            1 => BoundedKernel::chosen(),
            _ => BoundedKernel::Pruned,
        };
        Self {
            points,
            band,
            channels,
            envelopes,
            kernel,
        }
    }
}

impl Space for Dtw<'_> {
    type Query<'s>
        = DtwQuery<'s>
    where
        Self: 's;

    fn query(&self) -> DtwQuery<'_> {
        DtwQuery {
            points: self.points,
            band: self.band,
            channels: self.channels,
            envelopes: self.envelopes,
            kernel: self.kernel,
            query: Vec::new(),
            rows: DtwScratch::default(),
            envelope: Envelope::default(),
            terms: Vec::new(),
            enveloped: false,
            cost: Cost::default(),
        }
    }
}

/// [`Dtw`] bound to one query: the query, its envelope and the cost-matrix rows.
pub(super) struct DtwQuery<'a> {
    points: &'a Points,
    band: Band,
    channels: usize,
    envelopes: Option<&'a Envelopes>,
    kernel: BoundedKernel,
    query: Vec<f32>,
    rows: DtwScratch,
    envelope: Envelope,
    terms: Vec<f64>,
    /// Whether `envelope` holds the query's.
    enveloped: bool,
    cost: Cost,
}

impl QueryDistance for DtwQuery<'_> {
    fn set_query(&mut self, query: &[f32]) {
        self.query.clear();
        self.query.extend_from_slice(query);
        self.cost = Cost::default();
        self.enveloped = self.envelopes.is_some_and(|e| e.dim == query.len());
        if self.enveloped {
            self.envelope.of(query, self.channels, self.band);
        }
    }

    fn set_query_row(&mut self, id: u32) {
        let points = self.points;
        self.set_query(points.row(id));
    }

    fn within(&mut self, id: u32, bound: f32) -> Option<f32> {
        let (query, c, channels) = (&self.query[..], self.points.row(id), self.channels);
        // Anything above `limit` rounds to an f32 above `bound`.
        let limit = f64::from(bound.next_up());
        let mut tail = None;
        if bound.is_finite() {
            if lb_kim(query, c, channels) > limit {
                return None;
            }
            if let (Some(envelopes), true) =
                (self.envelopes, self.enveloped && c.len() == query.len())
            {
                self.cost.lower_bounds += 1;
                let (u, l) = (&self.envelope.upper, &self.envelope.lower);
                if lb_keogh(c, u, l, limit, Some(&mut self.terms)) > limit {
                    return None;
                }
                let (upper, lower) = envelopes.of(id);
                self.cost.lower_bounds += 1;
                if lb_keogh(query, upper, lower, limit, None) > limit {
                    return None;
                }
                step_sums(&mut self.terms, channels);
                suffix_sums(&mut self.terms);
                tail = Some(self.terms.as_slice());
            }
        }
        self.cost.distances += 1;
        let outcome = match self.kernel {
            BoundedKernel::Pruned => {
                let scratch = &mut self.rows.pruned;
                dtw_squared_pruned(query, c, channels, self.band, limit, tail, scratch)
            }
            BoundedKernel::Abandoning | BoundedKernel::PrunedSimd => {
                let prune = self.kernel == BoundedKernel::PrunedSimd;
                dtw_squared_within(query, c, self.band, limit, tail, prune, &mut self.rows)
            }
        };
        self.cost.cells += outcome.cells;
        (outcome.squared <= limit).then_some(outcome.squared as f32)
    }

    fn lower_bound(&mut self, id: u32) -> Option<f64> {
        let (query, c) = (&self.query[..], self.points.row(id));
        let kim = lb_kim(query, c, self.channels);
        if !(self.enveloped && c.len() == query.len()) {
            return Some(kim);
        }
        self.cost.lower_bounds += 1;
        let (u, l) = (&self.envelope.upper, &self.envelope.lower);
        Some(kim.max(lb_keogh(c, u, l, f64::INFINITY, None)))
    }

    fn between(&mut self, a: u32, b: u32) -> f32 {
        self.cost.distances += 1;
        let (a, b) = (self.points.row(a), self.points.row(b));
        dtw_squared_channels(a, b, self.channels, self.band, &mut self.rows) as f32
    }

    #[inline]
    fn prefetch(&self, id: u32) {
        self.points.prefetch(id);
    }

    fn finish(&self, ranking: f32) -> f32 {
        ranking.sqrt()
    }

    fn take_cost(&mut self) -> Cost {
        std::mem::take(&mut self.cost)
    }
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

#[cfg(test)]
pub(super) mod tests {
    /// Full-matrix DTW with an explicit band mask: the textbook recurrence, as an oracle.
    pub(super) fn dtw_full_matrix(x: &[f32], y: &[f32], radius: usize) -> f64 {
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

    /// A random walk of `len` steps of at most 0.5 each way.
    pub(super) fn walk(len: usize, rng: &mut rand_pcg::Pcg64Mcg) -> Vec<f32> {
        use rand::Rng;
        let mut v = 0.0f32;
        (0..len)
            .map(|_| {
                v += rng.random::<f32>() - 0.5;
                v
            })
            .collect()
    }

    pub(super) fn series(len: usize, phase: f32) -> Vec<f32> {
        (0..len)
            .map(|i| (i as f32 * 0.3 + phase).sin() + 0.1 * i as f32)
            .collect()
    }
}
