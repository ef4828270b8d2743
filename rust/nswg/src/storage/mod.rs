//! What an index stores of its points: the rows, their compressed codes, and which of them
//! were removed.

mod points;
mod sq8;
mod tombstones;

pub(crate) use points::Points;
pub(crate) use sq8::{code_kernel, CodeKernel, Sq8};
pub(crate) use tombstones::Tombstones;
