//! Dissimilarities used by the graph, in their cheap ranking form.
//!
//! The graph ranks by a monotone transform of the reported distance (squared Euclidean, squared
//! DTW), and [`Distance::finish`] turns the few reported values into true distances, as
//! pynndescent's `fast_distance_alternatives` does.

use crate::dtw::{dtw_squared, DtwScratch};

/// Dissimilarity used by the graph. Smaller is closer; need not be a metric (DTW is not).
pub trait Distance: Send + Sync {
    /// Per-thread reusable buffers, so that an evaluation allocates nothing.
    type Scratch: Default + Send;

    /// The ranking form of the distance between `a` and `b`.
    fn eval(&self, a: &[f32], b: &[f32], scratch: &mut Self::Scratch) -> f32;

    /// The reported distance for a ranking value returned by [`Distance::eval`].
    fn finish(&self, ranking: f32) -> f32;
}

/// Euclidean distance, ranked by its square.
#[derive(Clone, Copy, Debug, Default)]
pub struct SquaredEuclidean;

impl Distance for SquaredEuclidean {
    type Scratch = ();

    #[inline]
    fn eval(&self, a: &[f32], b: &[f32], _: &mut ()) -> f32 {
        squared_euclidean(a, b)
    }

    fn finish(&self, ranking: f32) -> f32 {
        ranking.sqrt()
    }
}

/// Cosine distance `1 - cos(a, b)` on vectors normalised to unit length beforehand, ranked by
/// their squared Euclidean distance, which for unit vectors is `2 - 2 cos(a, b)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cosine;

impl Distance for Cosine {
    type Scratch = ();

    #[inline]
    fn eval(&self, a: &[f32], b: &[f32], _: &mut ()) -> f32 {
        squared_euclidean(a, b)
    }

    fn finish(&self, ranking: f32) -> f32 {
        (0.5 * ranking).max(0.0)
    }
}

/// Dynamic Time Warping with a Sakoe-Chiba band, tslearn's definition: the square root of the
/// smallest sum of squared point differences along a warping path. Series may differ in length.
#[derive(Clone, Copy, Debug)]
pub struct Dtw {
    /// Sakoe-Chiba radius in points; `usize::MAX` (or anything at least the length) is the full
    /// window, and 0 on series of equal length is the Euclidean distance.
    pub sakoe_chiba_radius: usize,
}

impl Distance for Dtw {
    type Scratch = DtwScratch;

    #[inline]
    fn eval(&self, a: &[f32], b: &[f32], scratch: &mut DtwScratch) -> f32 {
        dtw_squared(a, b, self.sakoe_chiba_radius, scratch) as f32
    }

    fn finish(&self, ranking: f32) -> f32 {
        ranking.sqrt()
    }
}

/// `sum((a - b)^2)`, written as eight independent accumulators so that the compiler vectorises it.
#[inline]
pub fn squared_euclidean(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    const LANES: usize = 8;
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            let d = x[i] - y[i];
            acc[i] += d * d;
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ra.iter().zip(rb) {
        let d = x - y;
        tail += d * d;
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }

    #[test]
    fn squared_euclidean_matches_the_plain_sum_for_every_tail_length() {
        for dim in 0..40 {
            let a: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.11).cos()).collect();
            let (fast, slow) = (squared_euclidean(&a, &b), naive(&a, &b));
            assert!((fast - slow).abs() <= 1e-5 * slow.max(1.0), "dim {dim}");
        }
    }

    #[test]
    fn cosine_reports_one_minus_cosine_on_unit_vectors() {
        let a = [1.0f32, 0.0];
        let b = [0.0f32, 1.0];
        let c = [-1.0f32, 0.0];
        let d = Cosine;
        assert!((d.finish(d.eval(&a, &b, &mut ())) - 1.0).abs() < 1e-6);
        assert!((d.finish(d.eval(&a, &c, &mut ())) - 2.0).abs() < 1e-6);
        assert_eq!(d.finish(d.eval(&a, &a, &mut ())), 0.0);
    }
}
