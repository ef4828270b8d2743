//! The fixed-size header of an index file: what it says, in the form the file keeps.
//!
//! The file keeps plain integers (a radius of `2^64 - 1` for the full window, degrees of 0 for
//! no graph); [`Header`] turns them into the core's types and back, here and nowhere else.

use crate::error::Error;
use crate::graph::GraphOptions;
use crate::index::{Index, IndexOptions};
use crate::metric::{Band, Metric};

pub const MAGIC: &[u8; 8] = b"NSWGIDX\0";
/// The version written. Version 2 added the channels field to the header, the section of copies
/// after the deletion marks and the section of codes after it; version 1 files (univariate
/// series, no copies, no codes) are still read.
pub const FORMAT_VERSION: u32 = 2;
/// Magic, version, metric, then ten u64 fields (nine in version 1).
pub(super) const HEADER_LEN: usize = 8 + 4 + 4 + 8 * 10;

/// The header's length in a file of `version`, or `None` for a version this reader does not know.
pub(super) fn header_len(version: u32) -> Option<usize> {
    match version {
        1 => Some(HEADER_LEN - 8),
        FORMAT_VERSION => Some(HEADER_LEN),
        _ => None,
    }
}

/// The radius field of a band that is the full window, or of a metric without a band.
const NO_RADIUS: u64 = u64::MAX;

/// An index file's header, its fields as the file has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Header {
    pub version: u32,
    pub metric: u32,
    pub radius: u64,
    pub n_neighbors: u64,
    pub max_degree: u64,
    pub ef_construction: u64,
    pub n_searches: u64,
    pub seed: u64,
    pub build_distance_computations: u64,
    /// Points, removed ones included.
    pub n: u64,
    pub dim: u64,
    /// Values per time step of a DTW index's series; 1 for the other metrics and in version 1.
    pub channels: u64,
}

impl Header {
    pub(super) fn of(index: &Index) -> Self {
        let o = index.options();
        let (metric, radius, channels) = match o.metric {
            Metric::Euclidean => (0, NO_RADIUS, 1),
            Metric::Cosine => (1, NO_RADIUS, 1),
            Metric::Dtw { band, channels } => (
                2,
                band.radius()
                    .map_or(NO_RADIUS, |r| u64::try_from(r).unwrap_or(NO_RADIUS)),
                channels as u64,
            ),
        };
        let graph = o.graph.unwrap_or(GraphOptions {
            n_neighbors: 0,
            max_degree: 0,
        });
        Self {
            version: FORMAT_VERSION,
            metric,
            radius,
            n_neighbors: graph.n_neighbors as u64,
            max_degree: graph.max_degree as u64,
            ef_construction: o.ef_construction as u64,
            n_searches: o.n_searches as u64,
            seed: o.seed,
            build_distance_computations: index.build_distance_computations(),
            n: index.n_ids() as u64,
            dim: index.dim() as u64,
            channels,
        }
    }

    pub(super) fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut bytes = [0u8; HEADER_LEN];
        bytes[..8].copy_from_slice(MAGIC);
        bytes[8..12].copy_from_slice(&self.version.to_le_bytes());
        bytes[12..16].copy_from_slice(&self.metric.to_le_bytes());
        let fields = [
            self.radius,
            self.n_neighbors,
            self.max_degree,
            self.ef_construction,
            self.n_searches,
            self.seed,
            self.build_distance_computations,
            self.n,
            self.dim,
            self.channels,
        ];
        for (at, x) in bytes[16..].chunks_exact_mut(8).zip(fields) {
            at.copy_from_slice(&x.to_le_bytes());
        }
        bytes
    }

    /// The version of a file that starts with `bytes` (magic and version), if this reader knows
    /// it: a later one is a newer nswg's, 0 none.
    pub(super) fn version(bytes: &[u8]) -> Result<u32, Error> {
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        match header_len(version) {
            Some(_) => Ok(version),
            None if version > FORMAT_VERSION => Err(Error::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            }),
            None => Err(Error::Corrupt(format!("unknown format version {version}"))),
        }
    }

    /// The header of `bytes`, a whole header of a version [`Header::version`] accepted.
    pub(super) fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let version = u32_at(8);
        // Version 1 ends before the channels field: univariate series.
        let mut f = [1u64; 10];
        for (x, at) in f.iter_mut().zip(bytes[16..].chunks_exact(8)) {
            *x = u64::from_le_bytes(at.try_into().expect("8 bytes"));
        }
        let [radius, n_neighbors, max_degree, ef_construction, n_searches, seed, build, n, dim, channels] =
            f;
        Ok(Self {
            version,
            metric: u32_at(12),
            radius,
            n_neighbors,
            max_degree,
            ef_construction,
            n_searches,
            seed,
            build_distance_computations: build,
            n,
            dim,
            channels,
        })
    }

    /// The options the header describes, or why they cannot be.
    pub(super) fn options(&self) -> Result<IndexOptions, Error> {
        let corrupt = |what: &str| Error::Corrupt(what.to_string());
        let size =
            |x: u64| usize::try_from(x).map_err(|_| corrupt("a size does not fit in memory"));
        let band = match self.radius {
            NO_RADIUS => Band::Full,
            r => Band::Radius(usize::try_from(r).unwrap_or(usize::MAX)),
        };
        let metric = match (self.metric, band, self.channels) {
            (0, Band::Full, 1) => Metric::Euclidean,
            (1, Band::Full, 1) => Metric::Cosine,
            (0 | 1, Band::Radius(_), _) => {
                return Err(corrupt("a band given to a metric without one"))
            }
            (0 | 1, _, _) => return Err(corrupt("channels given to a metric without them")),
            (2, band, channels) => Metric::Dtw {
                band,
                channels: match size(channels)? {
                    0 => return Err(corrupt("series of no channels")),
                    c => c,
                },
            },
            _ => return Err(corrupt("unknown metric")),
        };
        // Degrees of 0 say "no graph"; either alone is a bad graph, which the options' checks
        // refuse.
        let graph = match (self.n_neighbors, self.max_degree) {
            (0, 0) => None,
            (n_neighbors, max_degree) => Some(GraphOptions {
                n_neighbors: size(n_neighbors)?,
                max_degree: size(max_degree)?,
            }),
        };
        Ok(IndexOptions {
            metric,
            // In the section of codes, read after the header.
            quantization: None,
            graph,
            ef_construction: size(self.ef_construction)?,
            n_searches: size(self.n_searches)?,
            seed: self.seed,
        })
    }
}
