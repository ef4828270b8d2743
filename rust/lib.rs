//! nswg: approximate nearest-neighbour search on a navigable small world graph.
//!
//! The modules below are the algorithm and know nothing of Python; the `python` feature adds
//! the PyO3 binding at the end of this file, which is all this file does beyond declaring them.

pub mod distance;
pub mod dtw;
pub mod error;
pub mod graph;
pub mod index;
pub mod memory;
pub mod persist;
pub mod points;
pub mod progress;
pub mod search;
pub mod store;
pub mod visited;

#[cfg(feature = "python")]
mod python {
    use std::path::PathBuf;
    use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
    use std::time::Duration;

    use numpy::ndarray::Array2;
    use numpy::{
        IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
    };
    use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
    use pyo3::prelude::*;
    use pyo3::types::PyBytes;

    use crate::error::Error;
    use crate::index::{with_threads, Index, IndexOptions, Metric, QueryOptions};
    use crate::persist::{self, LoadError};
    use crate::progress::Progress;

    impl From<Error> for PyErr {
        fn from(e: Error) -> PyErr {
            match e {
                Error::Interrupted => PyKeyboardInterrupt::new_err(e.to_string()),
                e => PyValueError::new_err(e.to_string()),
            }
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

    /// How long the calling thread waits, without the GIL, between two looks at a long call.
    const SLICE: Duration = Duration::from_millis(50);

    /// Runs `work` on a new thread while the calling thread, every [`SLICE`], checks for signals
    /// and reports `progress(done, total)` when the counts changed. Python delivers Ctrl-C only
    /// to the main thread, and only while it runs Python code, whereas the work runs on rayon's
    /// threads: so the caller stays free to raise `KeyboardInterrupt`. An exception from either
    /// cancels the work, waits for it to stop (leaving the index unchanged) and is raised.
    fn watched<T: Send>(
        py: Python<'_>,
        progress: Option<&Bound<'_, PyAny>>,
        work: impl FnOnce(&Progress) -> PyResult<T> + Send,
    ) -> PyResult<T> {
        let counts = &Progress::new();
        let caller = std::thread::current();
        std::thread::scope(|scope| {
            let worker = scope.spawn(move || {
                let out = work(counts);
                caller.unpark();
                out
            });
            let mut reported = (0, 0);
            let report = |reported: &mut (usize, usize)| -> PyResult<()> {
                let now = (counts.done(), counts.total());
                if let Some(f) = progress.filter(|_| now.1 > 0 && now != *reported) {
                    f.call1(now)?;
                    *reported = now;
                }
                Ok(())
            };
            while !worker.is_finished() {
                // Returns early once the worker unparks this thread; may wake spuriously.
                py.detach(|| std::thread::park_timeout(SLICE));
                if worker.is_finished() {
                    break;
                }
                if let Err(e) = py.check_signals().and_then(|()| report(&mut reported)) {
                    counts.cancel();
                    // The work's own outcome (most likely `Interrupted`) is superseded by `e`.
                    let _ = join(py, worker);
                    return Err(e);
                }
            }
            let out = join(py, worker)?;
            report(&mut reported)?;
            Ok(out)
        })
    }

    /// The result of a finished worker; its panic, if any, goes on unwinding here.
    fn join<T: Send>(py: Python<'_>, worker: std::thread::ScopedJoinHandle<'_, T>) -> T {
        py.detach(|| worker.join())
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
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
        /// `progress(done, total)`, if given, is called with the points linked so far, about every
        /// 50 ms and once at the end; Ctrl-C (or an exception from `progress`) stops the build.
        #[pyo3(signature = (vectors, metric, sakoe_chiba_radius, n_neighbors, max_degree, ef_construction, n_searches, seed, n_threads, progress))]
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
            progress: Option<Bound<'_, PyAny>>,
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
            if !options.has_graph() {
                // Without a graph there is no linking to watch or spread over threads: only a
                // pass over the data, which threads would cost more than they save on small sets.
                return Ok(Self::new(py.detach(|| Index::build(data, dim, options))?));
            }
            let index = watched(py, progress.as_ref(), |counts| {
                Ok(with_threads(n_threads, || {
                    Index::build_with_progress(data, dim, options, counts)
                })??)
            })?;
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
        /// `progress` as in `build`; stopped, the index is left unchanged.
        #[pyo3(signature = (vectors, n_threads, progress))]
        fn add(
            &self,
            py: Python<'_>,
            vectors: PyReadonlyArray2<'_, f32>,
            n_threads: usize,
            progress: Option<Bound<'_, PyAny>>,
        ) -> PyResult<u64> {
            let (data, _) = to_rows(&vectors);
            watched(py, progress.as_ref(), |counts| {
                let mut guard = self.write()?;
                let index: &mut Index = &mut guard;
                Ok(with_threads(n_threads, || {
                    index.add_with_progress(data, counts)
                })??)
            })
        }

        /// Marks the points `ids` removed; all are checked first, so an error removes none.
        fn remove(&self, py: Python<'_>, ids: PyReadonlyArray1<'_, u64>) -> PyResult<()> {
            let ids: Vec<u64> = ids.as_array().to_vec();
            py.detach(|| Ok(self.write()?.remove(&ids)?))
        }

        /// Rebuilds the index without its removed points; returns the old id of each new id.
        /// `progress` as in `build`; stopped, the index is left unchanged.
        #[pyo3(signature = (n_threads, progress))]
        fn compact<'py>(
            &self,
            py: Python<'py>,
            n_threads: usize,
            progress: Option<Bound<'py, PyAny>>,
        ) -> PyResult<Bound<'py, PyArray1<u64>>> {
            let old = watched(py, progress.as_ref(), |counts| {
                let mut guard = self.write()?;
                let index: &mut Index = &mut guard;
                Ok(with_threads(n_threads, || {
                    index.compact_with_progress(counts)
                })??)
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

        /// Whether the points are linked into a graph; without one only exact search answers.
        #[getter]
        fn has_graph(&self) -> bool {
            self.options.has_graph()
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
