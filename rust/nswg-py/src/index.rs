//! `nswg._core.Index`: the core's `Index` behind a lock, with numpy in and out.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use numpy::ndarray::{Array2, ArrayView2};
use numpy::npyffi::flags::NPY_ARRAY_WRITEABLE;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyBufferError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use nswg::{
    persist, with_threads, Allow, Band, Filter, GraphOptions, Index, IndexOptions, Metric,
    Quantization, QueryOptions, RangeOptions,
};

use crate::errors::{load_to_py, py_err, to_py};
use crate::watch::watched;

/// What a pickled index is called in the errors of reading one.
const PICKLED: &str = "pickled index";
/// The argument of `build` and `add` that errors about its values name.
const VECTORS: &str = "vectors";

/// Copies a 2-D array into a row-major buffer; any strides are accepted.
fn to_rows(array: &PyReadonlyArray2<'_, f32>) -> (Vec<f32>, usize) {
    let dim = array.shape()[1];
    let data = match array.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => array.as_array().iter().copied().collect(),
    };
    (data, dim)
}

/// The filter of a search: `None` allows every point; else one item (shared by every query)
/// or, with `per_query`, one per query, each a bool mask over the rows or a uint64 array of ids.
fn filter(items: Option<Vec<Bound<'_, PyAny>>>, per_query: bool) -> PyResult<Filter> {
    let Some(items) = items else {
        return Ok(Filter::All);
    };
    let allow = |item: &Bound<'_, PyAny>| -> PyResult<Allow> {
        if let Ok(mask) = item.extract::<PyReadonlyArray1<'_, bool>>() {
            return Ok(Allow::Mask(mask.as_array().to_vec()));
        }
        let ids = item.extract::<PyReadonlyArray1<'_, u64>>()?;
        Ok(Allow::Ids(ids.as_array().to_vec()))
    };
    let mut allows = items.iter().map(allow).collect::<PyResult<Vec<_>>>()?;
    match (per_query, allows.len()) {
        (true, _) => Ok(Filter::PerQuery(allows)),
        (false, 1) => Ok(Filter::Shared(allows.pop().expect("one"))),
        (false, n) => Err(PyValueError::new_err(format!(
            "a shared filter is one array, got {n}"
        ))),
    }
}

/// The quantization named `name`; `None` searches on the float rows.
fn quantization(name: Option<&str>) -> PyResult<Option<Quantization>> {
    match name {
        None => Ok(None),
        Some(name) => Quantization::from_name(name)
            .map(Some)
            .ok_or_else(|| PyValueError::new_err(format!("unknown quantization {name:?}"))),
    }
}

fn poisoned<T>(_: T) -> PyErr {
    PyRuntimeError::new_err("the index is unusable: an earlier call panicked while changing it")
}

/// The metric named `name`; `sakoe_chiba_radius` (`None` the full window) and `channels` other
/// than 1 only for "dtw".
pub(crate) fn metric(
    name: &str,
    sakoe_chiba_radius: Option<usize>,
    channels: usize,
) -> PyResult<Metric> {
    match (name, sakoe_chiba_radius, channels) {
        ("euclidean", None, 1) => Ok(Metric::Euclidean),
        ("cosine", None, 1) => Ok(Metric::Cosine),
        ("dtw", radius, channels) => Ok(Metric::Dtw {
            band: Band::from(radius),
            channels,
        }),
        (name, _, _) => Err(PyValueError::new_err(format!(
            "unknown metric {name:?} (or a band or channels given to a metric without them)"
        ))),
    }
}

/// The compiled index. Use `nswg.Index`, which checks and converts its input first.
///
/// Searches share a read lock and run together; `add`, `remove` and `compact` take the write
/// lock, so they wait for running searches and searches wait for them: no call ever sees an
/// index half changed. Locks are taken with the GIL released.
///
/// `vectors` hands out numpy arrays over the index's own rows; while any is alive, `add` and
/// `compact` (which may move the rows) raise `BufferError`, as a `bytearray` does when resized
/// under a `memoryview`.
#[pyclass(name = "Index", module = "nswg._core", frozen)]
pub(crate) struct PyIndex {
    inner: RwLock<Index>,
    /// Views of the rows alive: `RowsView`s not yet dropped.
    views: AtomicUsize,
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
            views: AtomicUsize::new(0),
        }
    }

    fn read(&self) -> PyResult<RwLockReadGuard<'_, Index>> {
        self.inner.read().map_err(poisoned)
    }

    fn write(&self) -> PyResult<RwLockWriteGuard<'_, Index>> {
        self.inner.write().map_err(poisoned)
    }

    /// `f` on the index under the read lock, with the GIL released.
    fn reading<R: Send>(&self, py: Python<'_>, f: impl FnOnce(&Index) -> R + Send) -> PyResult<R> {
        py.detach(|| Ok(f(&*self.read()?)))
    }

    /// `f` on the index under the write lock in a pool of `n_threads`, watched for Ctrl-C and
    /// reporting to `progress`. `source` names the argument errors about values refer to.
    fn changing<R: Send>(
        &self,
        py: Python<'_>,
        n_threads: usize,
        progress: Option<&Bound<'_, PyAny>>,
        source: Option<&str>,
        f: impl FnOnce(&mut Index, &nswg::Progress) -> nswg::Result<R> + Send,
    ) -> PyResult<R> {
        watched(py, progress, |counts| {
            let mut guard = self.write()?;
            // Taken under the write lock: a view counts itself under the read lock. A mapped
            // index moves no rows: the core refuses the call itself, saying why.
            let views = self.views.load(Ordering::SeqCst);
            if views > 0 && !guard.is_mapped() {
                return Err(PyBufferError::new_err(format!(
                    "{views} view(s) of Index.vectors are alive and this call may move the \
                     rows: delete them (or copy the rows with numpy.array) first"
                )));
            }
            let index: &mut Index = &mut guard;
            with_threads(n_threads, || f(index, counts)).map_err(|e| to_py(e, source))
        })
    }
}

#[pymethods]
impl PyIndex {
    /// Builds an index over the rows of `vectors` (float32, shape (n, d)).
    /// `metric` is "euclidean", "cosine" or "dtw"; `sakoe_chiba_radius` applies to "dtw",
    /// `None` meaning the full window, and so do `channels` (values per time step of a row,
    /// which holds the series time step after time step). `graph` is `(n_neighbors,
    /// max_degree)`, or `None` to link no graph (an index for exact search only).
    /// `quantization` is `None`, "sq8" or "rabitq4".
    /// `progress(done, total)`, if given, is called with the points linked so far, about every
    /// 50 ms and once at the end; Ctrl-C (or an exception from `progress`) stops the build.
    /// `ids` (uint64, one per row, distinct) are the points' labels; `None` keeps the row
    /// numbers.
    #[staticmethod]
    #[pyo3(signature = (vectors, *, ids, metric, sakoe_chiba_radius, channels, quantization, graph, ef_construction, n_searches, seed, n_threads, progress))]
    #[allow(clippy::too_many_arguments)]
    fn build(
        py: Python<'_>,
        vectors: PyReadonlyArray2<'_, f32>,
        ids: Option<PyReadonlyArray1<'_, u64>>,
        metric: &str,
        sakoe_chiba_radius: Option<usize>,
        channels: usize,
        quantization: Option<&str>,
        graph: Option<(usize, usize)>,
        ef_construction: usize,
        n_searches: usize,
        seed: u64,
        n_threads: usize,
        progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let options = IndexOptions {
            metric: self::metric(metric, sakoe_chiba_radius, channels)?,
            quantization: self::quantization(quantization)?,
            graph: graph.map(|(n_neighbors, max_degree)| GraphOptions {
                n_neighbors,
                max_degree,
            }),
            ef_construction,
            n_searches,
            seed,
        };
        let (data, dim) = to_rows(&vectors);
        let labels = ids.map(|ids| ids.as_array().to_vec());
        if options.graph.is_none() {
            // Without a graph there is no linking to watch or spread over threads: only a
            // pass over the data, which threads would cost more than they save on small sets.
            let index = py.detach(|| {
                Index::build_with_progress(data, dim, options, labels, &nswg::Progress::new())
            });
            return Ok(Self::new(index.map_err(|e| to_py(e, Some(VECTORS)))?));
        }
        let index = watched(py, progress.as_ref(), |counts| {
            with_threads(n_threads, || {
                Index::build_with_progress(data, dim, options, labels, counts)
            })
            .map_err(|e| to_py(e, Some(VECTORS)))
        })?;
        Ok(Self::new(index))
    }

    /// k nearest neighbours of each row of `queries` (float32, shape (m, d): the index's dim,
    /// or under DTW any whole number of time steps), among the points `filter` allows (a list
    /// of one bool mask over the rows or uint64 array of ids, or with `filter_per_query` one per
    /// query; `None` allows all).
    /// Returns ids (m, k) uint64 (labels, or row numbers without; 2^64 - 1 where missing),
    /// distances (m, k) float32, and per query the exact distance computations, the
    /// lower-bound computations, the DTW cells computed and the distances estimated from
    /// codes, (m,) uint64 each.
    #[pyo3(signature = (queries, *, k, ef, n_searches, exact, n_threads, filter, filter_per_query))]
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
        filter: Option<Vec<Bound<'py, PyAny>>>,
        filter_per_query: bool,
    ) -> PyResult<(
        Bound<'py, PyArray2<u64>>,
        Bound<'py, PyArray2<f32>>,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<u64>>,
    )> {
        let (data, width) = to_rows(&queries);
        let m = queries.shape()[0];
        let options = QueryOptions {
            k,
            ef,
            n_searches,
            exact,
        };
        let filter = self::filter(filter, filter_per_query)?;
        let found = self
            .reading(py, |index| {
                with_threads(n_threads, || {
                    index.search_rows(data, width, &options, &filter)
                })
            })?
            .map_err(|e| to_py(e, Some("queries")))?;
        let shape = (m, k);
        let ids = Array2::from_shape_vec(shape, found.ids).expect("k ids per query");
        let distances =
            Array2::from_shape_vec(shape, found.distances).expect("k distances per query");
        Ok((
            ids.into_pyarray(py),
            distances.into_pyarray(py),
            found.n_distance_computations.into_pyarray(py),
            found.n_lower_bound_computations.into_pyarray(py),
            found.n_dtw_cells.into_pyarray(py),
            found.n_code_distance_computations.into_pyarray(py),
        ))
    }

    /// Every point within `radius` of each row of `queries` that `filter` allows (as in
    /// `search`), nearest first. Returns offsets (m + 1,) uint64 into ids (uint64, as in
    /// `search`) and distances (float32): query `q`'s points are `ids[offsets[q]:offsets[q +
    /// 1]]`; then the four counts of `search`.
    #[pyo3(signature = (queries, *, radius, max_results, ef, n_searches, exact, n_threads, filter, filter_per_query))]
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn search_radius<'py>(
        &self,
        py: Python<'py>,
        queries: PyReadonlyArray2<'py, f32>,
        radius: f32,
        max_results: Option<usize>,
        ef: usize,
        n_searches: usize,
        exact: bool,
        n_threads: usize,
        filter: Option<Vec<Bound<'py, PyAny>>>,
        filter_per_query: bool,
    ) -> PyResult<(
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<f32>>,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<u64>>,
    )> {
        let (data, width) = to_rows(&queries);
        let options = RangeOptions {
            radius,
            max_results,
            ef,
            n_searches,
            exact,
        };
        let filter = self::filter(filter, filter_per_query)?;
        let found = self
            .reading(py, |index| {
                with_threads(n_threads, || {
                    index.search_radius(data, width, &options, &filter)
                })
            })?
            .map_err(|e| to_py(e, Some("queries")))?;
        let offsets: Vec<u64> = found.offsets.iter().map(|&o| o as u64).collect();
        Ok((
            offsets.into_pyarray(py),
            found.ids.into_pyarray(py),
            found.distances.into_pyarray(py),
            found.n_distance_computations.into_pyarray(py),
            found.n_lower_bound_computations.into_pyarray(py),
            found.n_dtw_cells.into_pyarray(py),
            found.n_code_distance_computations.into_pyarray(py),
        ))
    }

    /// Appends the rows of `vectors` and links them into the graph; returns the first new row
    /// number. `ids` (uint64) label the new rows, as in `build`. `progress` as in `build`;
    /// stopped, the index is left unchanged.
    #[pyo3(signature = (vectors, *, ids, n_threads, progress))]
    fn add(
        &self,
        py: Python<'_>,
        vectors: PyReadonlyArray2<'_, f32>,
        ids: Option<PyReadonlyArray1<'_, u64>>,
        n_threads: usize,
        progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let (data, _) = to_rows(&vectors);
        let labels = ids.map(|ids| ids.as_array().to_vec());
        self.changing(
            py,
            n_threads,
            progress.as_ref(),
            Some(VECTORS),
            |index, counts| index.add_with_progress(data, labels, counts),
        )
    }

    /// The labels of the rows, uint64 (n_ids,), removed points' included; `None` when the ids
    /// are the row numbers.
    #[getter]
    fn labels<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray1<u64>>>> {
        let labels = self.reading(py, |index| index.labels().map(<[u64]>::to_vec))?;
        Ok(labels.map(|labels| labels.into_pyarray(py)))
    }

    /// Whether the points have labels of their own (else their ids are the row numbers).
    #[getter]
    fn has_labels(&self, py: Python<'_>) -> PyResult<bool> {
        self.reading(py, |index| index.labels().is_some())
    }

    /// Marks the points `ids` removed; all are checked first, so an error removes none.
    fn remove(&self, py: Python<'_>, ids: PyReadonlyArray1<'_, u64>) -> PyResult<()> {
        let ids: Vec<u64> = ids.as_array().to_vec();
        py.detach(|| self.write()?.remove(&ids).map_err(py_err))
    }

    /// Rebuilds the index without its removed points; returns the id each new row had (its
    /// label, which stays, or its old row number).
    /// `progress` as in `build`; stopped, the index is left unchanged.
    #[pyo3(signature = (*, n_threads, progress))]
    fn compact<'py>(
        &self,
        py: Python<'py>,
        n_threads: usize,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<u64>>> {
        let old = self.changing(py, n_threads, progress.as_ref(), None, |index, counts| {
            index.compact_with_progress(counts)
        })?;
        Ok(old.into_pyarray(py))
    }

    /// Saves the index to `path` atomically (temporary file, fsync, rename).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        Ok(self.reading(py, |index| persist::save(index, &path))??)
    }

    /// Loads an index saved by `save`; a file that is not one raises `IndexFileError`. With
    /// `mmap`, the rows and lists stay in the file's pages, mapped read-only (after every check
    /// of a load, in one pass read through the page cache): `add`, `remove` and `compact`
    /// raise `ReadOnlyIndexError`.
    #[staticmethod]
    #[pyo3(signature = (path, *, mmap))]
    fn load(py: Python<'_>, path: PathBuf, mmap: bool) -> PyResult<Self> {
        let index = py.detach(|| match mmap {
            true => persist::load_mapped(&path),
            false => persist::load(&path),
        });
        let index = index.map_err(|e| load_to_py(e, &path.display().to_string()))?;
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

    /// An index from the bytes of `to_bytes`; bytes that are not one raise `IndexFileError`.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let index = py.detach(|| persist::read_index(data));
        Ok(Self::new(index.map_err(|e| to_py(e, Some(PICKLED)))?))
    }

    /// The stored rows (n_ids, dim) float32, read-only and without a copy; the array keeps the
    /// index alive, and `add` and `compact` refuse to run while it is.
    fn vectors<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let py = slf.py();
        let this = slf.get();
        let (rows, n) = py.detach(|| {
            let index = this.read()?;
            this.views.fetch_add(1, Ordering::SeqCst);
            Ok::<_, PyErr>((index.vectors().as_ptr() as usize, index.n_ids()))
        })?;
        let owner = Bound::new(
            py,
            RowsView {
                index: slf.clone().unbind(),
            },
        )?;
        // SAFETY: the rows are `n * dim` values at `rows`; they move only under `add` or
        // `compact`, which refuse while `owner` (the array's base) is alive, and the index
        // owning them lives as long as `owner` does.
        let array = unsafe {
            let view = ArrayView2::from_shape_ptr((n, this.dim), rows as *const f32);
            let array = PyArray2::borrow_from_array(&view, owner.into_any());
            (*array.as_array_ptr()).fields.flags &= !NPY_ARRAY_WRITEABLE;
            array
        };
        Ok(array)
    }

    /// The stored rows of the points `ids`, copied, (len(ids), dim) float32.
    fn get_vectors<'py>(
        &self,
        py: Python<'py>,
        ids: PyReadonlyArray1<'py, u64>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let ids: Vec<u64> = ids.as_array().to_vec();
        let rows = self.reading(py, |index| index.get_vectors(&ids))?;
        let rows = Array2::from_shape_vec((ids.len(), self.dim), rows.map_err(py_err)?)
            .expect("dim values per id");
        Ok(rows.into_pyarray(py))
    }

    /// Whether the rows and lists are read in place from a memory-mapped file (read-only).
    #[getter]
    fn memory_mapped(&self, py: Python<'_>) -> PyResult<bool> {
        self.reading(py, Index::is_mapped)
    }

    /// Number of points not removed.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.reading(py, Index::len)
    }

    /// Number of ids given out, removed points included: the next added point's id.
    #[getter]
    fn n_ids(&self, py: Python<'_>) -> PyResult<usize> {
        self.reading(py, Index::n_ids)
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
            Metric::Dtw { band, .. } => band.radius(),
            _ => None,
        }
    }

    /// Values per time step of a DTW index's series; 1 for another metric.
    #[getter]
    fn channels(&self) -> usize {
        self.options.metric.channels()
    }

    /// The compressed code searches walk on: "sq8", or `None` for the float rows.
    #[getter]
    fn quantization(&self) -> Option<&'static str> {
        self.options.quantization.map(|q| q.name())
    }

    /// Bytes the index holds in memory: rows, codes, graph lists and removal marks.
    #[getter]
    fn nbytes(&self, py: Python<'_>) -> PyResult<usize> {
        self.reading(py, Index::nbytes)
    }

    /// `(n_neighbors, max_degree)` of the graph; `None` for an index without one.
    #[getter]
    fn graph(&self) -> Option<(usize, usize)> {
        self.options.graph.map(|g| (g.n_neighbors, g.max_degree))
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

    /// `(n_nodes, n_copies, min_degree, max_degree, mean_degree, n_unreached, n_components)`
    /// of the graph; `None` for an index without one.
    #[allow(clippy::type_complexity)]
    fn graph_stats(
        &self,
        py: Python<'_>,
    ) -> PyResult<Option<(usize, usize, usize, usize, f64, usize, usize)>> {
        self.reading(py, |index| {
            index.graph_stats().map(|s| {
                (
                    s.n_nodes,
                    s.n_copies,
                    s.min_degree,
                    s.max_degree,
                    s.mean_degree,
                    s.n_unreached,
                    s.n_components,
                )
            })
        })
    }

    /// Number of nodes of the graph: the points that are not copies of another.
    #[getter]
    fn n_nodes(&self, py: Python<'_>) -> PyResult<usize> {
        self.reading(py, Index::n_nodes)
    }

    /// Number of directed links in the graph.
    #[getter]
    fn n_links(&self, py: Python<'_>) -> PyResult<usize> {
        self.reading(py, Index::n_links)
    }
}

/// The base object of the arrays `PyIndex::vectors` returns: keeps the index alive and counted
/// as viewed until numpy drops the last array over its rows.
#[pyclass(module = "nswg._core", frozen)]
struct RowsView {
    index: Py<PyIndex>,
}

impl Drop for RowsView {
    fn drop(&mut self) {
        self.index.get().views.fetch_sub(1, Ordering::SeqCst);
    }
}
