//! Dissimilarities used by the graph, in their cheap ranking form.
//!
//! The graph ranks by a monotone transform of the reported distance (squared Euclidean, squared
//! DTW), and [`Distance::finish`] turns the few reported values into true distances, as
//! pynndescent's `fast_distance_alternatives` does.

use crate::dtw::{
    dtw_squared, dtw_squared_within, envelope, lb_keogh, lb_kim, suffix_sums, DtwScratch,
};
use crate::points::Points;

/// Work done by a search: distances computed, and cheaper lower bounds computed to avoid some.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    pub distances: u64,
    pub lower_bounds: u64,
}

/// Dissimilarity used by the graph. Smaller is closer; need not be a metric (DTW is not).
pub trait Distance: Send + Sync {
    /// Per-thread reusable buffers, so that an evaluation allocates nothing.
    type Scratch: Default + Send;

    /// The ranking form of the distance between `a` and `b`.
    fn eval(&self, a: &[f32], b: &[f32], scratch: &mut Self::Scratch) -> f32;

    /// The reported distance for a ranking value returned by [`Distance::eval`].
    fn finish(&self, ranking: f32) -> f32;

    /// Readies `scratch` for evaluations against `query` (DTW computes its envelope).
    fn prepare(&self, _query: &[f32], _scratch: &mut Self::Scratch) {}

    /// The ranking distance from the prepared `query` to point `id`, or `None` when it is
    /// certainly above `bound`: then nothing that ranks by it could have kept the point, so
    /// pruning changes no answer.
    #[inline]
    fn eval_within(
        &self,
        query: &[f32],
        points: &Points,
        id: u32,
        _bound: f32,
        scratch: &mut Self::Scratch,
        cost: &mut Cost,
    ) -> Option<f32> {
        cost.distances += 1;
        Some(self.eval(query, points.row(id), scratch))
    }

    /// A cheap lower bound of the ranking distance from the prepared `query` to point `id`, to
    /// order an exact scan; `None` when the distance has none.
    fn lower_bound(
        &self,
        _query: &[f32],
        _points: &Points,
        _id: u32,
        _scratch: &mut Self::Scratch,
        _cost: &mut Cost,
    ) -> Option<f64> {
        None
    }
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
///
/// With the envelopes of the indexed points (equal-length series), evaluations against a bound
/// run the UCR Suite's cascade (Rakthanmanon et al., 2012): LB_Kim, LB_Keogh of the point against
/// the query's envelope, LB_Keogh of the query against the point's envelope, then DTW that
/// abandons once the bound is certain to be exceeded.
#[derive(Clone, Copy, Debug)]
pub struct Dtw<'a> {
    /// Sakoe-Chiba radius in points; `usize::MAX` (or anything at least the length) is the full
    /// window, and 0 on series of equal length is the Euclidean distance.
    pub sakoe_chiba_radius: usize,
    pub envelopes: Option<&'a Envelopes>,
}

impl Dtw<'_> {
    pub fn new(sakoe_chiba_radius: usize) -> Self {
        Self {
            sakoe_chiba_radius,
            envelopes: None,
        }
    }
}

/// Upper and lower envelopes of every indexed series, row-major like the points.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelopes {
    upper: Vec<f32>,
    lower: Vec<f32>,
    dim: usize,
}

impl Envelopes {
    /// The envelopes of `points` for `radius`, or `None` for series of unequal length, which
    /// LB_Keogh does not cover.
    pub fn new(points: &Points, radius: usize) -> Option<Self> {
        if points.has_padding() {
            return None;
        }
        let dim = points.dim();
        let (mut upper, mut lower) = (
            Vec::with_capacity(points.len() * dim),
            Vec::with_capacity(points.len() * dim),
        );
        let (mut u, mut l, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
        for id in 0..points.len() as u32 {
            envelope(points.row(id), radius, &mut u, &mut l, &mut scratch);
            upper.extend_from_slice(&u);
            lower.extend_from_slice(&l);
        }
        Some(Self { upper, lower, dim })
    }

    fn of(&self, id: u32) -> (&[f32], &[f32]) {
        let range = id as usize * self.dim..(id as usize + 1) * self.dim;
        (&self.upper[range.clone()], &self.lower[range])
    }
}

/// Buffers of [`Dtw`]: the cost-matrix rows and the prepared query's envelope.
#[derive(Debug, Default)]
pub struct DtwQueryScratch {
    rows: DtwScratch,
    upper: Vec<f32>,
    lower: Vec<f32>,
    envelope: Vec<f32>,
    terms: Vec<f64>,
    /// Whether `upper` and `lower` hold the prepared query's envelope.
    enveloped: bool,
}

impl Distance for Dtw<'_> {
    type Scratch = DtwQueryScratch;

    #[inline]
    fn eval(&self, a: &[f32], b: &[f32], scratch: &mut DtwQueryScratch) -> f32 {
        dtw_squared(a, b, self.sakoe_chiba_radius, &mut scratch.rows) as f32
    }

    fn finish(&self, ranking: f32) -> f32 {
        ranking.sqrt()
    }

    fn prepare(&self, query: &[f32], s: &mut DtwQueryScratch) {
        s.enveloped = self.envelopes.is_some_and(|e| e.dim == query.len());
        if s.enveloped {
            envelope(
                query,
                self.sakoe_chiba_radius,
                &mut s.upper,
                &mut s.lower,
                &mut s.envelope,
            );
        }
    }

    fn eval_within(
        &self,
        query: &[f32],
        points: &Points,
        id: u32,
        bound: f32,
        s: &mut DtwQueryScratch,
        cost: &mut Cost,
    ) -> Option<f32> {
        let c = points.row(id);
        // Anything above `limit` rounds to an f32 above `bound`.
        let limit = f64::from(bound.next_up());
        let r = self.sakoe_chiba_radius;
        let mut tail = None;
        if bound.is_finite() {
            if lb_kim(query, c) > limit {
                return None;
            }
            if let (Some(envelopes), true) = (self.envelopes, s.enveloped && c.len() == query.len())
            {
                cost.lower_bounds += 1;
                if lb_keogh(c, &s.upper, &s.lower, limit, Some(&mut s.terms)) > limit {
                    return None;
                }
                let (upper, lower) = envelopes.of(id);
                cost.lower_bounds += 1;
                if lb_keogh(query, upper, lower, limit, None) > limit {
                    return None;
                }
                suffix_sums(&mut s.terms);
                tail = Some(s.terms.as_slice());
            }
        }
        cost.distances += 1;
        let d = dtw_squared_within(query, c, r, limit, tail, &mut s.rows);
        (d <= limit).then_some(d as f32)
    }

    fn lower_bound(
        &self,
        query: &[f32],
        points: &Points,
        id: u32,
        s: &mut DtwQueryScratch,
        cost: &mut Cost,
    ) -> Option<f64> {
        let c = points.row(id);
        let kim = lb_kim(query, c);
        if !(s.enveloped && c.len() == query.len()) {
            return Some(kim);
        }
        cost.lower_bounds += 1;
        Some(kim.max(lb_keogh(c, &s.upper, &s.lower, f64::INFINITY, None)))
    }
}

/// `sum((a - b)^2)`, with AVX2 and FMA where the CPU has them (checked once, then cached), and a
/// portable loop everywhere else.
#[inline]
pub fn squared_euclidean(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if a.len() >= 8 && simd::has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { simd::squared_euclidean_avx2(a, b) };
    }
    squared_euclidean_portable(a, b)
}

/// The portable kernel, written as eight independent accumulators so that the compiler
/// vectorises it with the baseline instruction set. It is the fallback and the SIMD kernel's
/// test oracle.
#[inline]
pub fn squared_euclidean_portable(a: &[f32], b: &[f32]) -> f32 {
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

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;
    use std::sync::atomic::{AtomicU8, Ordering};

    /// 0 before the first check, then 1 without AVX2 and FMA, 2 with both: one load per
    /// distance instead of one lookup per feature.
    static AVX2_FMA: AtomicU8 = AtomicU8::new(0);

    #[inline]
    pub fn has_avx2_fma() -> bool {
        match AVX2_FMA.load(Ordering::Relaxed) {
            0 => {
                let yes = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
                AVX2_FMA.store(1 + u8::from(yes), Ordering::Relaxed);
                yes
            }
            state => state == 2,
        }
    }

    /// Eight lanes on then eight off: the eight entries from `8 - r` mask the first `r` lanes.
    static TAIL_MASK: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

    /// `sum((a - b)^2)` over 16 lanes at a time in two AVX registers with fused multiply-adds;
    /// the last `len % 8` values go through one masked load rather than a scalar loop.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA, and `a` and `b` must have the same length.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn squared_euclidean_avx2(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc0 = _mm256_setzero_ps();
        let mut acc1 = _mm256_setzero_ps();
        let mut i = 0;
        // SAFETY (all loads): i + 16 <= n, or i + 8 <= n below, keeps every load in bounds, and
        // the masked loads read only the lanes below n - i.
        while i + 16 <= n {
            let d0 = _mm256_sub_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)));
            let d1 = _mm256_sub_ps(
                _mm256_loadu_ps(pa.add(i + 8)),
                _mm256_loadu_ps(pb.add(i + 8)),
            );
            acc0 = _mm256_fmadd_ps(d0, d0, acc0);
            acc1 = _mm256_fmadd_ps(d1, d1, acc1);
            i += 16;
        }
        if i + 8 <= n {
            let d = _mm256_sub_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)));
            acc0 = _mm256_fmadd_ps(d, d, acc0);
            i += 8;
        }
        let rest = n - i;
        if rest > 0 {
            let mask = _mm256_loadu_si256(TAIL_MASK.as_ptr().add(8 - rest).cast());
            let d = _mm256_sub_ps(
                _mm256_maskload_ps(pa.add(i), mask),
                _mm256_maskload_ps(pb.add(i), mask),
            );
            acc1 = _mm256_fmadd_ps(d, d, acc1);
        }
        let acc = _mm256_add_ps(acc0, acc1);
        let quad = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
        _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 1)))
    }
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
    fn the_dispatched_kernel_matches_the_portable_one() {
        for dim in 0..100 {
            let a: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.71).sin() * 3.0).collect();
            let b: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.13).cos()).collect();
            let (fast, portable) = (
                squared_euclidean(&a, &b),
                squared_euclidean_portable(&a, &b),
            );
            assert!(
                (fast - portable).abs() <= 1e-5 * portable.max(1.0),
                "dim {dim}: {fast} vs {portable}"
            );
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
