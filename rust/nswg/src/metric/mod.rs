//! The dissimilarities an index ranks by, and the one place that turns a [`Metric`] into the
//! code that computes it.
//!
//! Searches and the construction never see a metric's internals: they get a [`Space`] (the
//! metric set up over one index's rows, kernels chosen) and from it, per thread, a
//! [`QueryDistance`] bound to one query at a time, as faiss's `DistanceComputer` is. A storage
//! of compressed codes is one more implementation of these two traits, not a new search loop.
//!
//! Distances are ranked in a cheap monotone form (squared Euclidean, squared DTW) and
//! [`QueryDistance::finish`] turns the few reported values into true distances, as
//! pynndescent's `fast_distance_alternatives` does.

mod cosine;
mod dtw;
mod euclidean;
mod quantized;

#[cfg(test)]
pub(crate) use dtw::dtw_squared_unbounded;
pub use dtw::{dtw, Band};
#[cfg(test)]
pub(crate) use euclidean::squared_euclidean;

use crate::error::{Error, Result};
use crate::storage::{Codes, Points};
use dtw::{Dtw, Envelopes};
use euclidean::{Euclidean, Finish};
use quantized::Quantized;

/// The dissimilarity an index ranks by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Euclidean,
    /// `1 - cos`: vectors are normalised once, then ranked by Euclidean distance.
    Cosine,
    /// Dynamic Time Warping (tslearn's definition) within a Sakoe-Chiba band, between series of
    /// `channels` values per time step, stored time step after time step (dependent DTW: the cost
    /// of matching two time steps is the squared Euclidean distance between their vectors).
    Dtw {
        band: Band,
        channels: usize,
    },
}

impl Metric {
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Euclidean => "euclidean",
            Metric::Cosine => "cosine",
            Metric::Dtw { .. } => "dtw",
        }
    }

    /// The DTW metric over univariate series.
    pub fn dtw(band: Band) -> Self {
        Metric::Dtw { band, channels: 1 }
    }

    /// Values per time step of the series: `channels` under DTW, 1 otherwise.
    pub fn channels(&self) -> usize {
        match *self {
            Metric::Dtw { channels, .. } => channels,
            _ => 1,
        }
    }

    /// Values per time step the rows may be padded by with trailing NaN: only DTW compares series
    /// of unequal length.
    pub(crate) fn padding(&self) -> Option<usize> {
        match *self {
            Metric::Dtw { channels, .. } => Some(channels),
            _ => None,
        }
    }

    /// Checks that rows of `dim` values fit this metric: whole time steps under DTW.
    pub(crate) fn check_dim(&self, dim: usize) -> Result<()> {
        match *self {
            Metric::Dtw { channels: 0, .. } => Err(Error::InvalidParameter {
                name: "channels",
                requirement: "at least 1",
                value: 0,
            }),
            Metric::Dtw { channels, .. } if !dim.is_multiple_of(channels) => {
                Err(Error::PartialTimeStep { dim, channels })
            }
            _ => Ok(()),
        }
    }

    /// Checks `data` as rows of `dim` values and puts them in the form this metric compares:
    /// unit length under cosine.
    pub(crate) fn rows(&self, data: Vec<f32>, dim: usize) -> Result<Points> {
        self.check_dim(dim)?;
        let mut points = Points::new(data, dim, self.padding())?;
        self.check_range(&points)?;
        if *self == Metric::Cosine {
            cosine::normalize(&mut points)?;
        }
        Ok(points)
    }

    /// The largest magnitude a value of a row of `dim` values may have, `None` for any finite
    /// value.
    ///
    /// The kernels rank by squared distances in `f32`: a Euclidean distance sums `dim` squared
    /// differences and a DTW path at most `2 * dim - 1` cells, each difference at most twice the
    /// bound. The bound keeps such a sum below half of `f32::MAX`, the other half covering the
    /// rounding of the sum, so no distance overflows to infinity and ties no different values.
    /// Cosine compares unit vectors, normalised in `f64` from any finite values.
    pub fn max_magnitude(&self, dim: usize) -> Option<f32> {
        match self {
            Metric::Euclidean => Some(magnitude_bound(dim)),
            Metric::Cosine => None,
            Metric::Dtw { .. } => Some(magnitude_bound(2 * dim.max(1) - 1)),
        }
    }

    /// Refuses rows holding a value beyond [`Metric::max_magnitude`].
    pub(crate) fn check_range(&self, points: &Points) -> Result<()> {
        let Some(bound) = self.max_magnitude(points.dim()) else {
            return Ok(());
        };
        for row in 0..points.len() {
            check_row_range(
                points.row(row as u32),
                bound,
                row,
                self.name(),
                points.dim(),
            )?;
        }
        Ok(())
    }
}

/// The largest magnitude of the values of `terms` squared differences summing to at most half
/// of `f32::MAX`: `terms * (2 * bound)^2 <= f32::MAX / 2`.
fn magnitude_bound(terms: usize) -> f32 {
    (f64::from(f32::MAX) / (8.0 * terms as f64)).sqrt() as f32
}

/// The error for the first value of `values` (row `row`) beyond `bound`, if any.
pub(crate) fn check_row_range(
    values: &[f32],
    bound: f32,
    row: usize,
    metric: &'static str,
    dim: usize,
) -> Result<()> {
    match values.iter().position(|v| v.abs() > bound) {
        None => Ok(()),
        Some(column) => Err(Error::OutOfRange {
            row,
            column,
            value: values[column],
            bound,
            metric,
            dim,
        }),
    }
}

/// Work done by a search: exact distances computed, cheaper lower bounds computed to avoid
/// some, and distances estimated from compressed codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    pub distances: u64,
    pub lower_bounds: u64,
    /// Cells of DTW cost matrices computed under a bound.
    pub cells: u64,
    /// Distances estimated from compressed codes.
    pub code_distances: u64,
}

/// What a metric derives from an index's rows and keeps beside them, in step with them: DTW's
/// envelopes for its lower bounds; nothing for the other metrics.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Prepared {
    envelopes: Option<Envelopes>,
}

impl Prepared {
    pub(crate) fn new(metric: &Metric, points: &Points) -> Self {
        let mut prepared = Self::default();
        prepared.extend(metric, points, 0);
        prepared
    }

    /// Takes in the rows `from..` of `points`, which hold the rows seen so far before them.
    pub(crate) fn extend(&mut self, metric: &Metric, points: &Points, from: usize) {
        if let Metric::Dtw { band, channels } = *metric {
            self.envelopes = match self.envelopes.take() {
                Some(mut e) if from > 0 => e.extend(points, band, channels).then_some(e),
                _ if from == 0 => Envelopes::new(points, band, channels),
                _ => None,
            };
        }
    }

    /// Bytes held.
    pub(crate) fn nbytes(&self) -> usize {
        self.envelopes.as_ref().map_or(0, Envelopes::nbytes)
    }

    /// Follows `points`, cut back to fewer rows than were taken in.
    pub(crate) fn truncate(&mut self, metric: &Metric, points: &Points) {
        match &mut self.envelopes {
            Some(e) => e.truncate(points.len()),
            // Rows of unequal length had no envelopes; without them there may be.
            None => *self = Self::new(metric, points),
        }
    }
}

/// A metric set up over the rows of one index, its kernels chosen for this CPU once: it makes
/// the [`QueryDistance`]s of the searches, one per thread.
pub(crate) trait Space: Sync {
    type Query<'s>: QueryDistance
    where
        Self: 's;

    fn query(&self) -> Self::Query<'_>;
}

/// A distance bound to one query over the rows of an index, with the query's scratch and its
/// counters. Nothing is allocated per query once its buffers have grown.
pub(crate) trait QueryDistance: Send {
    /// Whether [`QueryDistance::within`] estimates distances (from compressed codes), so that a
    /// search re-ranks what it found by [`QueryDistance::exact`].
    const ESTIMATES: bool = false;

    /// Prepares for distances to `query` (DTW computes its envelope) and zeroes the counters.
    fn set_query(&mut self, query: &[f32]);

    /// [`QueryDistance::set_query`] with stored row `id` as the query.
    fn set_query_row(&mut self, id: u32);

    /// The ranking distance from the query to row `id`, or `None` when it is certainly above
    /// `bound`: then nothing that ranks by it could have kept the row, so pruning changes no
    /// answer.
    fn within(&mut self, id: u32, bound: f32) -> Option<f32>;

    /// The exact ranking distance from the query to row `id`, never abandoned.
    fn exact(&mut self, id: u32) -> f32 {
        self.within(id, f32::INFINITY).unwrap_or(f32::INFINITY)
    }

    /// A cheap lower bound of the ranking distance from the query to row `id`, to order an
    /// exact scan; `None` when the distance has none.
    fn lower_bound(&mut self, _id: u32) -> Option<f64> {
        None
    }

    /// The ranking distance between stored rows `a` and `b`, for the construction's choice of
    /// neighbours.
    fn between(&mut self, a: u32, b: u32) -> f32;

    /// Asks the CPU to start loading what [`QueryDistance::within`] reads of row `id`.
    fn prefetch(&self, id: u32);

    /// Asks the CPU to start loading what [`QueryDistance::exact`] reads of row `id`.
    fn prefetch_exact(&self, id: u32) {
        self.prefetch(id);
    }

    /// The reported distance for a ranking value.
    fn finish(&self, ranking: f32) -> f32;

    /// The work counted since the last call or [`QueryDistance::set_query`], then zeroes it.
    fn take_cost(&mut self) -> Cost;
}

/// Code generic over the metric, run by [`with_space`] on the space it sets up.
pub(crate) trait WithSpace {
    type Output;
    fn run<S: Space>(self, space: &S) -> Self::Output;
}

/// Runs `work` on `metric` set up over `points`: the one dispatch from a metric to its code, made
/// once per call, so that what runs per distance is monomorphised. With `codes`, distances are
/// estimated from them and the exact ones, from `points`, re-rank what a search found.
pub(crate) fn with_space<W: WithSpace>(
    metric: &Metric,
    points: &Points,
    prepared: &Prepared,
    codes: Option<&Codes>,
    work: W,
) -> W::Output {
    let finish = match *metric {
        Metric::Euclidean => Finish::Euclidean,
        Metric::Cosine => Finish::Cosine,
        // The options refuse codes under DTW, whose distance no code of a row estimates.
        Metric::Dtw { band, channels } => {
            return work.run(&Dtw::new(
                points,
                band,
                channels,
                prepared.envelopes.as_ref(),
            ))
        }
    };
    let exact = Euclidean::new(points, finish);
    match codes {
        None => work.run(&exact),
        Some(Codes::Sq8(codes)) => work.run(&Quantized::new(exact, codes)),
        Some(Codes::Rabitq4(codes)) => work.run(&Quantized::new(exact, codes)),
    }
}
