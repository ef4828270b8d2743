//! nswg: approximate nearest-neighbour search on a navigable small world graph.
//!
//! The modules below are the algorithm and know nothing of Python; the `python` feature adds
//! the PyO3 binding at the end of this file, which is all this file does beyond declaring them.

pub mod distance;
pub mod dtw;
pub mod error;
pub mod graph;
pub mod index;
pub mod persist;
pub mod points;
pub mod search;
pub mod store;
pub mod visited;

#[cfg(feature = "python")]
mod python {
    use std::path::PathBuf;
    use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

    use numpy::ndarray::Array2;
    use numpy::{
        IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
    };
    use pyo3::exceptions::{PyRuntimeError, PyValueError};
    use pyo3::prelude::*;
    use pyo3::types::PyBytes;

    use crate::error::Error;
    use crate::index::{with_threads, Index, IndexOptions, Metric, QueryOptions};
    use crate::persist::{self, LoadError};

    impl From<Error> for PyErr {
        fn from(e: Error) -> PyErr {
            PyValueError::new_err(e.to_string())
        }
    }

    impl From<LoadError> for PyErr {
        fn from(e: LoadError) -> PyErr {
            match e {
                LoadError::Io(e) => e.into(),
                LoadError::Invalid(e) => e.into(),
            }
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

    fn poisoned<T>(_: T) -> PyErr {
        PyRuntimeError::new_err("the index is unusable: an earlier call panicked while changing it")
    }

    /// The compiled index. Use `nswg.Index`, which checks and converts its input first.
    ///
    /// Searches share a read lock and run together; `add`, `remove` and `compact` take the write
    /// lock, so they wait for running searches and searches wait for them: no call ever sees an
    /// index half changed. Locks are taken with the GIL released.
    #[pyclass(name = "Index", module = "nswg._core", frozen)]
    struct PyIndex {
        inner: RwLock<Index>,
        /// Never change after building.
        options: IndexOptions,
        dim: usize,
    }

    impl PyIndex {
        fn new(index: Index) -> Self {
            Self {
                options: *index.options(),
                dim: index.dim(),
                inner: RwLock::new(index),
            }
        }

        fn read(&self) -> PyResult<RwLockReadGuard<'_, Index>> {
            self.inner.read().map_err(poisoned)
        }

        fn write(&self) -> PyResult<RwLockWriteGuard<'_, Index>> {
            self.inner.write().map_err(poisoned)
        }

        /// `f` on the index under the read lock, with the GIL released.
        fn reading<R: Send>(
            &self,
            py: Python<'_>,
            f: impl FnOnce(&Index) -> R + Send,
        ) -> PyResult<R> {
            py.detach(|| Ok(f(&*self.read()?)))
        }
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
            let index =
                py.detach(|| with_threads(n_threads, || Index::build(data, dim, options)))??;
            Ok(Self::new(index))
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
            let found = self.reading(py, |index| {
                with_threads(n_threads, || index.search(data, &options))
            })???;
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

        /// Appends the rows of `vectors` and links them into the graph; returns the first new id.
        #[pyo3(signature = (vectors, n_threads))]
        fn add(
            &self,
            py: Python<'_>,
            vectors: PyReadonlyArray2<'_, f32>,
            n_threads: usize,
        ) -> PyResult<u64> {
            let (data, _) = to_rows(&vectors);
            py.detach(|| {
                let mut guard = self.write()?;
                let index: &mut Index = &mut guard;
                Ok(with_threads(n_threads, || index.add(data))??)
            })
        }

        /// Marks the points `ids` removed; all are checked first, so an error removes none.
        fn remove(&self, py: Python<'_>, ids: PyReadonlyArray1<'_, u64>) -> PyResult<()> {
            let ids: Vec<u64> = ids.as_array().to_vec();
            py.detach(|| Ok(self.write()?.remove(&ids)?))
        }

        /// Rebuilds the index without its removed points; returns the old id of each new id.
        #[pyo3(signature = (n_threads))]
        fn compact<'py>(
            &self,
            py: Python<'py>,
            n_threads: usize,
        ) -> PyResult<Bound<'py, PyArray1<u64>>> {
            let old = py.detach(|| {
                let mut guard = self.write()?;
                let index: &mut Index = &mut guard;
                Ok::<_, PyErr>(with_threads(n_threads, || index.compact())??)
            })?;
            Ok(old.into_pyarray(py))
        }

        /// Saves the index to `path` atomically (temporary file, fsync, rename).
        fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
            self.reading(py, |index| persist::save(index, &path))??;
            Ok(())
        }

        /// Loads an index saved by `save`.
        #[staticmethod]
        fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
            let index = py.detach(|| persist::load(&path))?;
            Ok(Self::new(index))
        }

        /// The index in the file format of `save`, as bytes (for pickle).
        fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
            let bytes = self.reading(py, |index| {
                let mut bytes = Vec::new();
                persist::write_index(index, &mut bytes).map(|()| bytes)
            })??;
            Ok(PyBytes::new(py, &bytes))
        }

        /// An index from the bytes of `to_bytes`.
        #[staticmethod]
        fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
            let index = py.detach(|| persist::read_index(data))?;
            Ok(Self::new(index))
        }

        /// Number of points not removed.
        fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
            self.reading(py, Index::live_len)
        }

        /// Number of ids given out, removed points included: the next added point's id.
        #[getter]
        fn n_ids(&self, py: Python<'_>) -> PyResult<usize> {
            self.reading(py, Index::len)
        }

        #[getter]
        fn dim(&self) -> usize {
            self.dim
        }

        #[getter]
        fn metric(&self) -> &'static str {
            self.options.metric.name()
        }

        /// Sakoe-Chiba radius of a DTW index; `None` for the full window or another metric.
        #[getter]
        fn sakoe_chiba_radius(&self) -> Option<usize> {
            match self.options.metric {
                Metric::Dtw { sakoe_chiba_radius } if sakoe_chiba_radius != usize::MAX => {
                    Some(sakoe_chiba_radius)
                }
                _ => None,
            }
        }

        #[getter]
        fn n_neighbors(&self) -> usize {
            self.options.n_neighbors
        }

        #[getter]
        fn max_degree(&self) -> usize {
            self.options.max_degree
        }

        #[getter]
        fn ef_construction(&self) -> usize {
            self.options.ef_construction
        }

        #[getter]
        fn n_searches(&self) -> usize {
            self.options.n_searches
        }

        #[getter]
        fn seed(&self) -> u64 {
            self.options.seed
        }

        /// Distances computed while building and adding.
        #[getter]
        fn build_distance_computations(&self, py: Python<'_>) -> PyResult<u64> {
            self.reading(py, Index::build_distance_computations)
        }

        /// Number of directed links in the graph.
        #[getter]
        fn n_links(&self, py: Python<'_>) -> PyResult<usize> {
            self.reading(py, |index| index.graph().n_links())
        }
    }

    /// DTW between two series (float32, 1-D, any lengths) with a Sakoe-Chiba radius in points;
    /// `None` is the full window.
    #[pyfunction]
    #[pyo3(signature = (s1, s2, sakoe_chiba_radius))]
    fn dtw(
        s1: PyReadonlyArray1<'_, f32>,
        s2: PyReadonlyArray1<'_, f32>,
        sakoe_chiba_radius: Option<usize>,
    ) -> PyResult<f64> {
        let (a, b): (Vec<f32>, Vec<f32>) = (s1.as_array().to_vec(), s2.as_array().to_vec());
        let radius = sakoe_chiba_radius.unwrap_or(usize::MAX);
        Ok(crate::dtw::dtw_squared(&a, &b, radius, &mut Default::default()).sqrt())
    }

    #[pymodule]
    fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("FORMAT_VERSION", persist::FORMAT_VERSION)?;
        m.add_class::<PyIndex>()?;
        m.add_function(wrap_pyfunction!(dtw, m)?)?;
        Ok(())
    }
}
