//! The cells of one anti-diagonal of the DTW cost matrix, a vector at a time.

#[cfg(any(not(target_arch = "x86_64"), test))]
use super::min;
/// Cells computed per step of the cell loop: one SSE2 or NEON vector of `f64`.
pub(super) const LANES: usize = 2;

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
pub(super) unsafe fn cells<const ABANDON: bool>(
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
pub(super) unsafe fn cells_avx2<const ABANDON: bool>(
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
pub(super) use cells_portable as cells;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::dtw::tests::series;

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
}
