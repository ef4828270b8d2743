//! nswg: approximate nearest-neighbour search on a navigable small world graph.
//!
//! The modules below are the algorithm and know nothing of Python; the `python` feature adds
//! the PyO3 binding at the end of this file, which is all this file does beyond declaring them.

pub mod distance;
pub mod dtw;
pub mod error;
pub mod graph;
pub mod index;
pub mod points;
pub mod search;
pub mod store;
pub mod visited;

#[cfg(feature = "python")]
mod python {
    use numpy::ndarray::Array2;
    use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray2, PyUntypedArrayMethods};
    use pyo3::exceptions::PyValueError;
    use pyo3::prelude::*;

    use crate::error::Error;
    use crate::index::{with_threads, Index, IndexOptions, Metric, QueryOptions};

    impl From<Error> for PyErr {
        fn from(e: Error) -> PyErr {
            PyValueError::new_err(e.to_string())
        }
    }

    /// Copies a 2-D array into a row-major buffer; any strides are accepted.
    fn to_rows(array: &PyReadonlyArray2<'_, f32>) -> (Vec<f32>, usize) {
        let dim = array.shape()[1];
        let data = match array.as_slice() {
            Ok(s) => s.to_vec(),
            Err(_) => array.as_array().iter().copied().collect(),
        };
        (data, dim)
    }

    /// The compiled index. Use `nswg.Index`, which checks and converts its input first.
    #[pyclass(name = "Index", module = "nswg._core")]
    struct PyIndex {
        inner: Index,
    }

    #[pymethods]
    impl PyIndex {
        /// Builds an index over the rows of `vectors` (float32, shape (n, d)).
        /// `metric` is "euclidean", "cosine" or "dtw"; `sakoe_chiba_radius` applies to "dtw",
        /// `None` meaning the full window.
        #[staticmethod]
        #[pyo3(signature = (vectors, metric, sakoe_chiba_radius, n_neighbors, max_degree, ef_construction, n_searches, seed, n_threads))]
        #[allow(clippy::too_many_arguments)]
        fn build(
            py: Python<'_>,
            vectors: PyReadonlyArray2<'_, f32>,
            metric: &str,
            sakoe_chiba_radius: Option<usize>,
            n_neighbors: usize,
            max_degree: usize,
            ef_construction: usize,
            n_searches: usize,
            seed: u64,
            n_threads: usize,
        ) -> PyResult<Self> {
            let metric = match (metric, sakoe_chiba_radius) {
                ("euclidean", None) => Metric::Euclidean,
                ("cosine", None) => Metric::Cosine,
                ("dtw", radius) => Metric::Dtw {
                    sakoe_chiba_radius: radius.unwrap_or(usize::MAX),
                },
                (name, _) => {
                    return Err(PyValueError::new_err(format!(
                        "unknown metric {name:?} (or a band given to a metric without one)"
                    )))
                }
            };
            let options = IndexOptions {
                metric,
                n_neighbors,
                max_degree,
                ef_construction,
                n_searches,
                seed,
            };
            let (data, dim) = to_rows(&vectors);
            let inner =
                py.detach(|| with_threads(n_threads, || Index::build(data, dim, options)))??;
            Ok(Self { inner })
        }

        /// k nearest neighbours of each row of `queries` (float32, shape (m, d)).
        /// Returns ids (m, k) int64, distances (m, k) float32, and per query the distance
        /// computations and the lower-bound computations, (m,) uint64 each.
        #[pyo3(signature = (queries, k, ef, n_searches, exact, n_threads))]
        #[allow(clippy::too_many_arguments, clippy::type_complexity)]
        fn search<'py>(
            &self,
            py: Python<'py>,
            queries: PyReadonlyArray2<'py, f32>,
            k: usize,
            ef: usize,
            n_searches: usize,
            exact: bool,
            n_threads: usize,
        ) -> PyResult<(
            Bound<'py, PyArray2<i64>>,
            Bound<'py, PyArray2<f32>>,
            Bound<'py, PyArray1<u64>>,
            Bound<'py, PyArray1<u64>>,
        )> {
            let (data, _) = to_rows(&queries);
            let m = queries.shape()[0];
            let options = QueryOptions {
                k,
                ef,
                n_searches,
                exact,
            };
            let found =
                py.detach(|| with_threads(n_threads, || self.inner.search(data, &options)))??;
            let shape = (m, k);
            let ids = Array2::from_shape_vec(shape, found.ids).expect("k ids per query");
            let distances =
                Array2::from_shape_vec(shape, found.distances).expect("k distances per query");
            Ok((
                ids.into_pyarray(py),
                distances.into_pyarray(py),
                found.n_distance_computations.into_pyarray(py),
                found.n_lower_bound_computations.into_pyarray(py),
            ))
        }

        fn __len__(&self) -> usize {
            self.inner.len()
        }

        #[getter]
        fn dim(&self) -> usize {
            self.inner.dim()
        }

        #[getter]
        fn metric(&self) -> &'static str {
            self.inner.options().metric.name()
        }

        /// Sakoe-Chiba radius of a DTW index; `None` for the full window or another metric.
        #[getter]
        fn sakoe_chiba_radius(&self) -> Option<usize> {
            match self.inner.options().metric {
                Metric::Dtw { sakoe_chiba_radius } if sakoe_chiba_radius != usize::MAX => {
                    Some(sakoe_chiba_radius)
                }
                _ => None,
            }
        }

        #[getter]
        fn n_neighbors(&self) -> usize {
            self.inner.options().n_neighbors
        }

        #[getter]
        fn max_degree(&self) -> usize {
            self.inner.options().max_degree
        }

        #[getter]
        fn ef_construction(&self) -> usize {
            self.inner.options().ef_construction
        }

        #[getter]
        fn seed(&self) -> u64 {
            self.inner.options().seed
        }

        /// Distances computed while building.
        #[getter]
        fn build_distance_computations(&self) -> u64 {
            self.inner.build_distance_computations()
        }

        /// Number of directed links in the graph.
        #[getter]
        fn n_links(&self) -> usize {
            self.inner.graph().n_links()
        }
    }

    /// DTW between two series (float32, 1-D, any lengths) with a Sakoe-Chiba radius in points;
    /// `None` is the full window.
    #[pyfunction]
    #[pyo3(signature = (s1, s2, sakoe_chiba_radius))]
    fn dtw(
        s1: numpy::PyReadonlyArray1<'_, f32>,
        s2: numpy::PyReadonlyArray1<'_, f32>,
        sakoe_chiba_radius: Option<usize>,
    ) -> PyResult<f64> {
        let (a, b) = (s1.as_array(), s2.as_array());
        let (a, b): (Vec<f32>, Vec<f32>) =
            (a.iter().copied().collect(), b.iter().copied().collect());
        let radius = sakoe_chiba_radius.unwrap_or(usize::MAX);
        Ok(crate::dtw::dtw_squared(&a, &b, radius, &mut Default::default()).sqrt())
    }

    #[pymodule]
    fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add_class::<PyIndex>()?;
        m.add_function(wrap_pyfunction!(dtw, m)?)?;
        Ok(())
    }
}
