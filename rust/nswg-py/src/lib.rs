//! The Python binding of nswg: the extension module `nswg._core`.
//!
//! It converts arrays and errors and releases the GIL; everything else is the core crate's.
//! Python's `nswg.Index` checks and converts user input before it gets here.

mod errors;
mod index;
mod watch;

use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use nswg::{persist, Band};

/// DTW between two series (float32, 1-D, any lengths, `channels` values per time step, time
/// step after time step) with a Sakoe-Chiba radius in points; `None` is the full window.
#[pyfunction]
#[pyo3(signature = (s1, s2, *, channels, sakoe_chiba_radius))]
fn dtw(
    s1: PyReadonlyArray1<'_, f32>,
    s2: PyReadonlyArray1<'_, f32>,
    channels: usize,
    sakoe_chiba_radius: Option<usize>,
) -> PyResult<f64> {
    let (a, b) = (s1.as_array().to_vec(), s2.as_array().to_vec());
    nswg::dtw(&a, &b, channels, Band::from(sakoe_chiba_radius)).map_err(errors::py_err)
}

/// The largest magnitude of a value in rows of `dim` values under `metric` ("euclidean",
/// "cosine" or "dtw"); `None` where any finite value is accepted.
#[pyfunction]
fn max_magnitude(metric: &str, dim: usize) -> PyResult<Option<f32>> {
    Ok(index::metric(metric, None, 1)?.max_magnitude(dim))
}

/// The SIMD extensions the kernels use in this process ("avx2", "fma"); empty when the CPU has
/// none or `NSWG_SIMD=portable` was set before the first distance.
#[pyfunction]
fn simd_features() -> Vec<&'static str> {
    nswg::simd_features()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("FORMAT_VERSION", persist::FORMAT_VERSION)?;
    m.add("MAX_DEGREE", nswg::MAX_DEGREE)?;
    m.add("MIN_NEIGHBORS", nswg::MIN_NEIGHBORS)?;
    m.add("MAX_THREADS", nswg::max_threads())?;
    m.add_class::<index::PyIndex>()?;
    m.add_function(wrap_pyfunction!(dtw, m)?)?;
    m.add_function(wrap_pyfunction!(simd_features, m)?)?;
    m.add_function(wrap_pyfunction!(max_magnitude, m)?)?;
    Ok(())
}
