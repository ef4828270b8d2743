//! Euclidean distance, ranked by its square, and the Euclidean-ranked cosine distance.

use super::{cosine, Cost, QueryDistance, Space};
use crate::storage::Points;
use crate::sys::cpu::features;

/// A kernel of `sum((a - b)^2)`; unsafe because one may need CPU features.
type Kernel = unsafe fn(&[f32], &[f32]) -> f32;

/// What a Euclidean-ranked metric reports for its ranking value.
#[derive(Clone, Copy, Debug)]
pub(super) enum Finish {
    /// The square root: Euclidean distance.
    Euclidean,
    /// `1 - cos` of unit vectors.
    Cosine,
}

/// The rows of an index under a Euclidean-ranked metric, with the kernel for their length.
pub(super) struct Euclidean<'a> {
    points: &'a Points,
    finish: Finish,
    kernel: Kernel,
}

impl<'a> Euclidean<'a> {
    pub(super) fn new(points: &'a Points, finish: Finish) -> Self {
        Self {
            points,
            finish,
            kernel: kernel(points.dim()),
        }
    }
}

impl Space for Euclidean<'_> {
    type Query<'s>
        = EuclideanQuery<'s>
    where
        Self: 's;

    fn query(&self) -> EuclideanQuery<'_> {
        EuclideanQuery {
            points: self.points,
            finish: self.finish,
            kernel: self.kernel,
            query: Vec::with_capacity(self.points.dim()),
            cost: Cost::default(),
        }
    }
}

/// [`Euclidean`] bound to one query.
pub(super) struct EuclideanQuery<'a> {
    points: &'a Points,
    finish: Finish,
    kernel: Kernel,
    query: Vec<f32>,
    cost: Cost,
}

impl EuclideanQuery<'_> {
    /// The query last set.
    pub(super) fn query(&self) -> &[f32] {
        &self.query
    }

    #[inline]
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        debug_assert_eq!(a.len(), b.len());
        // SAFETY: the kernel was chosen for this CPU; rows and queries all have `dim` values.
        unsafe { (self.kernel)(a, b) }
    }
}

impl QueryDistance for EuclideanQuery<'_> {
    fn set_query(&mut self, query: &[f32]) {
        self.query.clear();
        self.query.extend_from_slice(query);
        self.cost = Cost::default();
    }

    fn set_query_row(&mut self, id: u32) {
        let points = self.points;
        self.set_query(points.row(id));
    }

    #[inline]
    fn within(&mut self, id: u32, _bound: f32) -> Option<f32> {
        self.cost.distances += 1;
        Some(self.eval(&self.query, self.points.row(id)))
    }

    #[inline]
    fn between(&mut self, a: u32, b: u32) -> f32 {
        self.cost.distances += 1;
        self.eval(self.points.row(a), self.points.row(b))
    }

    #[inline]
    fn prefetch(&self, id: u32) {
        self.points.prefetch(id);
    }

    fn finish(&self, ranking: f32) -> f32 {
        match self.finish {
            Finish::Euclidean => ranking.sqrt(),
            Finish::Cosine => cosine::finish(ranking),
        }
    }

    fn take_cost(&mut self) -> Cost {
        std::mem::take(&mut self.cost)
    }
}

/// `sum((a - b)^2)` for rows of `dim` values: AVX2 and FMA where the CPU has them and a row
/// fills a register, the portable loop everywhere else. Either takes slices of one length.
fn kernel(dim: usize) -> Kernel {
    #[cfg(target_arch = "x86_64")]
    if dim >= 8 && features().avx2_fma {
        return simd::squared_euclidean_avx2;
    }
    let _ = dim;
    squared_euclidean_portable
}

/// `sum((a - b)^2)` with the kernel [`kernel`] chooses, for callers outside a search.
#[cfg(test)]
pub(crate) fn squared_euclidean(a: &[f32], b: &[f32]) -> f32 {
    // SAFETY: the kernel chosen for this CPU, on slices of one length.
    unsafe { kernel(a.len())(a, b) }
}

/// The portable kernel, written as eight independent accumulators so that the compiler
/// vectorises it with the baseline instruction set. It is the fallback and the SIMD kernel's
/// test oracle.
#[inline]
pub(super) fn squared_euclidean_portable(a: &[f32], b: &[f32]) -> f32 {
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

    /// Eight lanes on then eight off: the eight entries from `8 - r` mask the first `r` lanes.
    static TAIL_MASK: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

    /// `sum((a - b)^2)` over 16 lanes at a time in two AVX registers with fused multiply-adds;
    /// the last `len % 8` values go through one masked load rather than a scalar loop.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA, and `a` and `b` must have the same length.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn squared_euclidean_avx2(a: &[f32], b: &[f32]) -> f32 {
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
        // Under NSWG_SIMD=portable both sides are the portable loop; CI runs this both ways.
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
}
