//! The CPU's vector instructions, detected once for the whole process.
//!
//! Kernels with SIMD variants read [`features`] when a distance is set up (once per index and
//! call, not per distance), and fall back to their portable loops where a feature is missing. The
//! environment variable `NSWG_SIMD`, read at the first look, caps them: `portable` turns every
//! feature off and `avx2` leaves AVX-512 out, so that tests and users can run each set of
//! kernels on a machine that has more.

use std::sync::OnceLock;

/// The instruction-set extensions the kernels use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Features {
    /// AVX2 and FMA together: the Euclidean kernel needs both.
    pub avx2_fma: bool,
    /// AVX2: the DTW cells, LB_Keogh and the byte kernel of 8-bit codes.
    pub avx2: bool,
    /// AVX-512F and AVX-512BW: the byte kernel of 8-bit codes, 64 bytes at a time.
    pub avx512bw: bool,
}

/// This process's features, detected at the first call.
#[inline]
pub(crate) fn features() -> Features {
    static FEATURES: OnceLock<Features> = OnceLock::new();
    *FEATURES.get_or_init(|| {
        let cap = std::env::var_os("NSWG_SIMD");
        match cap.as_ref().and_then(|v| v.to_str()) {
            Some("portable") => Features::default(),
            Some("avx2") => Features {
                avx512bw: false,
                ..detect()
            },
            _ => detect(),
        }
    })
}

/// The names of the instruction-set extensions the kernels use in this process, for reports
/// and tests: empty under `NSWG_SIMD=portable` or on a CPU without them.
pub fn simd_features() -> Vec<&'static str> {
    let f = features();
    [
        ("avx2", f.avx2),
        ("fma", f.avx2_fma),
        ("avx512bw", f.avx512bw),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect()
}

#[cfg(target_arch = "x86_64")]
fn detect() -> Features {
    let avx2 = is_x86_feature_detected!("avx2");
    Features {
        avx2_fma: avx2 && is_x86_feature_detected!("fma"),
        avx2,
        avx512bw: is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw"),
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> Features {
    Features::default()
}
