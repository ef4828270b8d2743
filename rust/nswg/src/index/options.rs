//! What an index is built with, what a search asks for, and what it answers.

use crate::error::{Error, Result};
use crate::graph::{GraphOptions, MAX_DEGREE};
use crate::metric::Metric;

/// A compressed code of the rows that graph searches walk on, re-ranking what they find with
/// the exact rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantization {
    /// One byte per value, over a range per dimension trained on the rows at build time.
    Sq8,
    /// Half a byte per value and 8 bytes per row: RaBitQ's estimator over 16 levels per value
    /// of the rows centred on their mean and rotated at random.
    Rabitq4,
}

impl Quantization {
    /// Every quantization, in the order the API lists them.
    pub const ALL: [Quantization; 2] = [Quantization::Sq8, Quantization::Rabitq4];

    /// The quantization named `name` (as [`Quantization::name`] spells it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.name() == name)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Quantization::Sq8 => "sq8",
            Quantization::Rabitq4 => "rabitq4",
        }
    }
}

/// How to build an index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexOptions {
    pub metric: Metric,
    /// The code graph searches estimate distances from; `None` searches on the float rows.
    pub quantization: Option<Quantization>,
    /// The graph to link the points into; `None` links none: an index that only exact search
    /// answers, built at no distance computation (brute force never reads links).
    pub graph: Option<GraphOptions>,
    /// Result-store size of the searches that find a new point's neighbours.
    pub ef_construction: usize,
    /// Restarts of those searches.
    pub n_searches: usize,
    /// Seed of the construction and of the searches' entry points.
    pub seed: u64,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self {
            metric: Metric::Euclidean,
            quantization: None,
            graph: Some(GraphOptions::default()),
            ef_construction: 100,
            n_searches: 2,
            seed: 0,
        }
    }
}

impl IndexOptions {
    pub(super) fn check(&self) -> Result<()> {
        at_least_one("ef_construction", self.ef_construction)?;
        at_least_one("n_searches", self.n_searches)?;
        if let (Some(quantization), Metric::Dtw { .. }) = (self.quantization, self.metric) {
            return Err(Error::UnsupportedQuantization {
                quantization: quantization.name(),
                metric: self.metric.name(),
            });
        }
        let Some(graph) = self.graph else {
            return Ok(());
        };
        at_least_one("n_neighbors", graph.n_neighbors)?;
        if graph.max_degree < graph.n_neighbors {
            return Err(Error::InvalidParameter {
                name: "max_degree",
                requirement: "at least n_neighbors",
                value: graph.max_degree,
            });
        }
        if graph.max_degree > MAX_DEGREE {
            return Err(Error::InvalidParameter {
                name: "max_degree",
                requirement: "at most 4096",
                value: graph.max_degree,
            });
        }
        Ok(())
    }
}

/// The fewest neighbours a new graph links to each point. With one, each point links to a
/// single other and degrees are cut to two, so the graph falls apart into chains that a greedy
/// search cannot navigate (recall@5 of 3.5% on 2-D Gaussian data); loading keeps accepting
/// files saved with one.
pub const MIN_NEIGHBORS: usize = 2;

impl IndexOptions {
    /// [`IndexOptions::check`], and a graph that a search can navigate: for new indexes.
    pub(super) fn check_new(&self) -> Result<()> {
        self.check()?;
        match self.graph {
            Some(graph) if graph.n_neighbors < MIN_NEIGHBORS => Err(Error::InvalidParameter {
                name: "n_neighbors",
                requirement: "at least 2 (with one neighbour per point the graph falls apart \
                              into chains that a greedy search cannot navigate)",
                value: graph.n_neighbors,
            }),
            _ => Ok(()),
        }
    }
}

pub(super) fn at_least_one(name: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(Error::InvalidParameter {
            name,
            requirement: "at least 1",
            value,
        });
    }
    Ok(())
}

/// How to search.
#[derive(Clone, Copy, Debug)]
pub struct QueryOptions {
    pub k: usize,
    /// Result-store size of the graph search (at least `k` is used).
    pub ef: usize,
    /// Restarts from random entry points.
    pub n_searches: usize,
    /// Brute force over every point instead of the graph.
    pub exact: bool,
}

/// The points one query may return, by id (labels, or row numbers without them).
#[derive(Clone, Debug, PartialEq)]
pub enum Allow {
    /// These ids, in any order; repeats change nothing.
    Ids(Vec<u64>),
    /// One flag per row of the index (`n_ids` of them, removed rows included).
    Mask(Vec<bool>),
}

/// What the queries of a batch may return. A filtered graph search walks through the points it
/// leaves out but never returns them; when the allowed points are so few that an exact scan of
/// them costs fewer distances than the graph search has spent, that scan answers instead.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Filter {
    /// Every point not removed.
    #[default]
    All,
    /// The same points for every query.
    Shared(Allow),
    /// One allow-list per query, in their order.
    PerQuery(Vec<Allow>),
}

/// How to search within a radius.
#[derive(Clone, Copy, Debug)]
pub struct RangeOptions {
    /// Points at a reported distance of at most this are returned.
    pub radius: f32,
    /// Only the nearest this many within the radius are returned; `None` for all.
    pub max_results: Option<usize>,
    /// First result-store size of the graph search, doubled until the farthest point it keeps
    /// is beyond the radius.
    pub ef: usize,
    /// Restarts from random entry points.
    pub n_searches: usize,
    /// A scan of every point, with the radius as the bound, instead of the graph.
    pub exact: bool,
}

/// Answers to a batch of range searches: query `q`'s points are `ids[offsets[q]..offsets[q +
/// 1]]` (and their `distances`), nearest first, ordered by (distance, row).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RangeNeighbors {
    /// `n_queries + 1` offsets into `ids` and `distances`, from 0.
    pub offsets: Vec<usize>,
    /// The points' ids: their labels, or row numbers without labels.
    pub ids: Vec<u64>,
    pub distances: Vec<f32>,
    /// As in [`Neighbors`], per query.
    pub n_distance_computations: Vec<u64>,
    pub n_lower_bound_computations: Vec<u64>,
    pub n_dtw_cells: Vec<u64>,
    pub n_code_distance_computations: Vec<u64>,
}

/// Answers to a batch of queries, row-major `(n_queries, k)`; ids are [`crate::NO_LABEL`] (the
/// bits of `-1`) and distances `inf` where fewer than `k` points are returnable.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Neighbors {
    pub k: usize,
    /// The points' ids: their labels, or row numbers without labels.
    pub ids: Vec<u64>,
    pub distances: Vec<f32>,
    /// Distances computed for each query (DTW computations started, some abandoned early).
    pub n_distance_computations: Vec<u64>,
    /// Lower bounds (LB_Keogh) computed for each query to avoid distance computations.
    pub n_lower_bound_computations: Vec<u64>,
    /// Cells of DTW cost matrices computed for each query (0 for other metrics): the work the
    /// distance computations did, pruned and abandoned ones included.
    pub n_dtw_cells: Vec<u64>,
    /// Distances estimated from compressed codes for each query (0 without codes); the exact
    /// distances that re-rank them count in `n_distance_computations`.
    pub n_code_distance_computations: Vec<u64>,
}
