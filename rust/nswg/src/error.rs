//! Errors of the core. Everything a caller can trigger comes back as an [`Error`], never a panic.

/// A failure the caller can trigger with bad input.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("cannot build an index from no vectors: pass an array of shape (n, d) with n >= 1")]
    Empty,
    #[error("vectors must have at least one dimension, got d = 0")]
    ZeroDimension,
    #[error("expected {expected} values per row, got {received}")]
    DimensionMismatch { expected: usize, received: usize },
    #[error("data of {len} values is not a whole number of rows of {dim}")]
    RaggedData { len: usize, dim: usize },
    #[error("rows of {dim} values are not whole time steps of {channels} channels")]
    PartialTimeStep { dim: usize, channels: usize },
    #[error("series of {len} values are not whole time steps of {channels} channels")]
    PartialSeries { len: usize, channels: usize },
    #[error("row {row} holds a non-finite value (NaN or inf) at position {column}{hint}")]
    NonFinite {
        row: usize,
        column: usize,
        hint: &'static str,
    },
    #[error("row {row} holds {value:e} at position {column}, beyond the {metric} range |x| <= {bound:.4e} for {dim} values: larger values overflow its squared distances in float32")]
    OutOfRange {
        row: usize,
        column: usize,
        value: f32,
        bound: f32,
        metric: &'static str,
        dim: usize,
    },
    #[error("row {row} has zero norm: the cosine distance is undefined for a zero vector")]
    ZeroNorm { row: usize },
    #[error("k must be between 1 and the number of points ({n}), got {k}")]
    InvalidK { k: usize, n: usize },
    #[error("radius must be a finite distance >= 0, got {radius}")]
    InvalidRadius { radius: f32 },
    #[error("{name} must be {requirement}, got {value}")]
    InvalidParameter {
        name: &'static str,
        requirement: &'static str,
        value: usize,
    },
    #[error("quantization {quantization:?} is not available under the {metric} metric, whose distances no code of a row estimates: use quantization=None")]
    UnsupportedQuantization {
        quantization: &'static str,
        metric: &'static str,
    },
    #[error("the index holds {max} points; id {id} is out of range")]
    IdOutOfRange { id: u64, max: usize },
    #[error("id {id} is removed already, or given twice")]
    AlreadyRemoved { id: u64 },
    #[error("id {label} is given to another point already (a removed one keeps its id until compact), given twice, or 2^64 - 1, which marks a missing result")]
    DuplicateLabel { label: u64 },
    #[error("no point has id {id}")]
    UnknownId { id: u64 },
    #[error("this index's points have ids of their own: pass the ids of the new rows")]
    IdsRequired,
    #[error("expected {expected} ids, one per row, got {received}")]
    IdsMismatch { expected: usize, received: usize },
    #[error("a filter must hold one flag per point ({expected}), got {received}")]
    FilterMismatch { expected: usize, received: usize },
    #[error("expected one filter per query ({expected}), got {received}")]
    FiltersMismatch { expected: usize, received: usize },
    #[error("point {id} is removed: it has no vector any more")]
    Removed { id: u64 },
    #[error("cannot remove every point of an index: build a new one instead")]
    RemovingEverything,
    #[error("not a valid nswg index: {0}")]
    Corrupt(String),
    #[error("the index file has format version {found}, newer than this nswg reads ({supported}): upgrade nswg")]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error("this index has no graph (built with graph=False): search it with exact=True, or build it with a graph")]
    NoGraph,
    #[error("this index is memory-mapped from its file, read-only: {operation} would change it; load the file into memory to change the index")]
    ReadOnly { operation: &'static str },
    #[error("cannot memory-map this index: {0}; load it into memory instead")]
    CannotMap(&'static str),
    #[error("interrupted: the index is unchanged")]
    Interrupted,
    #[error(
        "n_threads must be at most {max} ({per_core} per core on this machine), got {threads}"
    )]
    TooManyThreads {
        threads: usize,
        max: usize,
        per_core: usize,
    },
    #[error("could not start {threads} threads: {reason}")]
    ThreadPool { threads: usize, reason: String },
}

pub type Result<T> = std::result::Result<T, Error>;
