//! What an index stores of its points: the rows, and which of them were removed.

mod points;
mod tombstones;

pub(crate) use points::Points;
pub(crate) use tombstones::Tombstones;
