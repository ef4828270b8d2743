//! The navigable small world graph: its adjacency, the search over it (with the ordered stores
//! and the visited set it uses), and the construction built on that search.
//!
//! Dependencies point one way: adjacency <- search <- build. None of it knows a metric's
//! internals; it sees distances through [`crate::metric::QueryDistance`].

mod adjacency;
mod build;
mod copies;
mod search;
mod stats;
mod store;
mod visited;

pub(crate) use adjacency::{Graph, LinksCheck};
pub(crate) use build::insert;
pub use build::{GraphOptions, MAX_DEGREE};
pub(crate) use search::{Beam, Excluded, Search};
pub use stats::GraphStats;
