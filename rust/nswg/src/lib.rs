//! nswg: approximate nearest-neighbour search on a navigable small world graph (Malkov et al.,
//! 2014), with Euclidean, cosine and Dynamic Time Warping distances. Every search counts its
//! distance computations.
//!
//! The crate knows nothing of Python; the binding is the separate crate `nswg-py`. Its folders,
//! dependencies pointing one way (`docs/architecture.md` draws them):
//!
//! - `index`: the lifecycle (build, add, remove, compact), options, batch search, thread pools;
//! - `graph`: the adjacency, the restarted greedy search and the construction built on it;
//! - `metric`: one dispatch from a [`Metric`] to its code; Euclidean, cosine, and DTW with its
//!   band, kernel, SIMD cells and lower bounds;
//! - `storage`: the rows, their compressed codes, labels and removal marks, and id sets;
//! - [`persist`]: the file format and atomic saving;
//! - `sys`: CPU features detected once, huge pages, prefetches.

mod error;
mod graph;
mod index;
mod metric;
pub mod persist;
mod progress;
mod storage;
mod sys;

pub use error::{Error, Result};
pub use graph::{GraphOptions, GraphStats, MAX_DEGREE};
pub use index::{
    max_threads, with_threads, Allow, Filter, Index, IndexOptions, Neighbors, Quantization,
    QueryOptions, RangeNeighbors, RangeOptions, MIN_NEIGHBORS, THREADS_PER_CORE,
};
pub use metric::{dtw, Band, Metric};
pub use progress::Progress;
pub use storage::NO_LABEL;
pub use sys::cpu::simd_features;
