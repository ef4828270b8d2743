"""The compiled module (crate ``rust/nswg-py``): the NSW index and DTW, no input conversion.

Use :class:`nswg.Index` and :func:`nswg.metrics.dtw`, which check and convert their input
first. This stub mirrors every class, function and attribute of the module and is checked
against it by ``python -m mypy.stubtest nswg._core``.
"""

import os
from collections.abc import Callable
from typing import final

import numpy as np
import numpy.typing as npt

__all__ = [
    "FORMAT_VERSION",
    "MAX_DEGREE",
    "MAX_THREADS",
    "MIN_NEIGHBORS",
    "__version__",
    "Index",
    "dtw",
    "max_magnitude",
    "simd_features",
]

#: The crate's version (``CARGO_PKG_VERSION``).
__version__: str
#: Version of the file format that `Index.save` writes; `Index.load` reads it and older ones.
FORMAT_VERSION: int
#: The largest ``max_degree`` of a graph.
MAX_DEGREE: int
#: The fewest neighbours a new graph links to each point.
MIN_NEIGHBORS: int
#: The largest thread count a call accepts: 8 per core of this machine.
MAX_THREADS: int

@final
class Index:
    """The compiled index. Use `nswg.Index`, which checks and converts its input first."""

    @staticmethod
    def build(
        vectors: npt.NDArray[np.float32],
        *,
        ids: npt.NDArray[np.uint64] | None,
        metric: str,
        sakoe_chiba_radius: int | None,
        channels: int,
        quantization: str | None,
        graph: tuple[int, int] | None,
        ef_construction: int,
        n_searches: int,
        seed: int,
        n_threads: int,
        progress: Callable[[int, int], object] | None,
    ) -> Index:
        """Builds an index over the rows of `vectors` (float32, shape (n, d)).
        `metric` is "euclidean", "cosine" or "dtw"; `sakoe_chiba_radius` applies to "dtw",
        `None` meaning the full window, and so do `channels` (values per time step of a row,
        which holds the series time step after time step). `graph` is `(n_neighbors,
        max_degree)`, or `None` to link no graph (an index for exact search only).
        `quantization` is `None`, "sq8" or "rabitq4".
        `progress(done, total)`, if given, is called with the points linked so far, about every
        50 ms and once at the end; Ctrl-C (or an exception from `progress`) stops the build.
        `ids` (uint64, one per row, distinct) are the points' labels; `None` keeps the row
        numbers."""

    def search(
        self,
        queries: npt.NDArray[np.float32],
        *,
        k: int,
        ef: int,
        n_searches: int,
        exact: bool,
        n_threads: int,
        filter: list[npt.NDArray[np.bool_] | npt.NDArray[np.uint64]] | None,
        filter_per_query: bool,
    ) -> tuple[
        npt.NDArray[np.uint64],
        npt.NDArray[np.float32],
        npt.NDArray[np.uint64],
        npt.NDArray[np.uint64],
        npt.NDArray[np.uint64],
        npt.NDArray[np.uint64],
    ]:
        """k nearest neighbours of each row of `queries` (float32, shape (m, d)), among the
        points `filter` allows (a list of one bool mask over the rows or uint64 array of ids, or
        with `filter_per_query` one per query; `None` allows all).
        Returns ids (m, k) uint64 (labels, or row numbers without; 2^64 - 1 where missing),
        distances (m, k) float32, and per query the exact distance computations, the
        lower-bound computations, the DTW cells computed and the distances estimated from
        codes, (m,) uint64 each."""

    def search_radius(
        self,
        queries: npt.NDArray[np.float32],
        *,
        radius: float,
        max_results: int | None,
        ef: int,
        n_searches: int,
        exact: bool,
        n_threads: int,
        filter: list[npt.NDArray[np.bool_] | npt.NDArray[np.uint64]] | None,
        filter_per_query: bool,
    ) -> tuple[
        npt.NDArray[np.uint64],
        npt.NDArray[np.uint64],
        npt.NDArray[np.float32],
        npt.NDArray[np.uint64],
        npt.NDArray[np.uint64],
        npt.NDArray[np.uint64],
        npt.NDArray[np.uint64],
    ]:
        """Every point within `radius` of each row of `queries` that `filter` allows (as in
        `search`), nearest first. Returns offsets (m + 1,) uint64 into ids (uint64, as in
        `search`) and distances (float32): query `q`'s points are `ids[offsets[q]:offsets[q +
        1]]`; then the four counts of `search`."""

    def add(
        self,
        vectors: npt.NDArray[np.float32],
        *,
        ids: npt.NDArray[np.uint64] | None,
        n_threads: int,
        progress: Callable[[int, int], object] | None,
    ) -> int:
        """Appends the rows of `vectors` and links them into the graph; returns the first new row
        number. `ids` (uint64) label the new rows, as in `build`. `progress` as in `build`;
        stopped, the index is left unchanged."""

    @property
    def labels(self) -> npt.NDArray[np.uint64] | None:
        """The labels of the rows, uint64 (n_ids,), removed points' included; `None` when the ids
        are the row numbers."""

    @property
    def has_labels(self) -> bool:
        """Whether the points have labels of their own (else their ids are the row numbers)."""

    def remove(self, ids: npt.NDArray[np.uint64]) -> None:
        """Marks the points `ids` removed; all are checked first, so an error removes none."""

    def compact(
        self, *, n_threads: int, progress: Callable[[int, int], object] | None
    ) -> npt.NDArray[np.uint64]:
        """Rebuilds the index without its removed points; returns the id each new row had (its
        label, which stays, or its old row number).
        `progress` as in `build`; stopped, the index is left unchanged."""

    def save(self, path: str | os.PathLike[str]) -> None:
        """Saves the index to `path` atomically (temporary file, fsync, rename)."""

    @staticmethod
    def load(path: str | os.PathLike[str], *, mmap: bool) -> Index:
        """Loads an index saved by `save`; a file that is not one raises `IndexFileError`. With
        `mmap`, the rows and lists stay in the file's pages, mapped read-only (after every check
        of a load, in one pass read through the page cache): `add`, `remove` and `compact`
        raise `ReadOnlyIndexError`."""

    def to_bytes(self) -> bytes:
        """The index in the file format of `save`, as bytes (for pickle)."""

    @staticmethod
    def from_bytes(data: bytes) -> Index:
        """An index from the bytes of `to_bytes`; bytes that are not one raise `IndexFileError`."""

    def vectors(self) -> npt.NDArray[np.float32]:
        """The stored rows (n_ids, dim) float32, read-only and without a copy; the array keeps the
        index alive, and `add` and `compact` refuse to run while it is."""

    def get_vectors(self, ids: npt.NDArray[np.uint64]) -> npt.NDArray[np.float32]:
        """The stored rows of the points `ids`, copied, (len(ids), dim) float32."""

    @property
    def memory_mapped(self) -> bool:
        """Whether the rows and lists are read in place from a memory-mapped file (read-only)."""

    def __len__(self) -> int:
        """Number of points not removed."""

    @property
    def n_ids(self) -> int:
        """Number of ids given out, removed points included: the next added point's id."""

    @property
    def dim(self) -> int:
        """Values per vector (the series length for time series)."""

    @property
    def metric(self) -> str:
        """``"euclidean"``, ``"cosine"`` or ``"dtw"``."""

    @property
    def sakoe_chiba_radius(self) -> int | None:
        """Sakoe-Chiba radius of a DTW index; `None` for the full window or another metric."""

    @property
    def channels(self) -> int:
        """Values per time step of a DTW index's series; 1 for another metric."""

    @property
    def quantization(self) -> str | None:
        """The compressed code searches walk on: "sq8", "rabitq4", or `None` for the float rows."""

    @property
    def nbytes(self) -> int:
        """Bytes the index holds in memory: rows, codes, graph lists and removal marks."""

    @property
    def graph(self) -> tuple[int, int] | None:
        """`(n_neighbors, max_degree)` of the graph; `None` for an index without one."""

    @property
    def ef_construction(self) -> int:
        """Size of the result store of the searches that build the graph."""

    @property
    def n_searches(self) -> int:
        """Restarts of the searches that build the graph."""

    @property
    def seed(self) -> int:
        """Seed of the construction and of the searches' entry points."""

    @property
    def build_distance_computations(self) -> int:
        """Distances computed while building and adding."""

    @property
    def n_nodes(self) -> int:
        """Number of nodes of the graph: the points that are not copies of another."""

    @property
    def n_links(self) -> int:
        """Number of directed links in the graph."""

    def graph_stats(self) -> tuple[int, int, int, int, float, int, int] | None:
        """`(n_nodes, n_copies, min_degree, max_degree, mean_degree, n_unreached,
        n_components)` of the graph; `None` for an index without one."""

def dtw(
    s1: npt.NDArray[np.float32],
    s2: npt.NDArray[np.float32],
    *,
    channels: int,
    sakoe_chiba_radius: int | None,
) -> float:
    """DTW between two series (float32, 1-D, any lengths, `channels` values per time step, time
    step after time step) with a Sakoe-Chiba radius in points; `None` is the full window."""

def simd_features() -> list[str]:
    """The SIMD extensions the kernels use in this process ("avx2", "fma"); empty when the CPU
    has none or `NSWG_SIMD=portable` was set before the first distance."""

def max_magnitude(metric: str, dim: int) -> float | None:
    """The largest magnitude of a value in rows of `dim` values under `metric` ("euclidean",
    "cosine" or "dtw"); `None` where any finite value is accepted."""
