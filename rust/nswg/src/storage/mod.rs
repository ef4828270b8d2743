//! What an index stores of its points: the rows, their compressed codes, and which of them
//! were removed; and the buffer, owned or mapped from a file, that holds rows and lists.

mod buffer;
mod points;
mod sq8;
mod tombstones;

pub(crate) use buffer::{Buffer, Mapped};
pub(crate) use points::{Points, RowsCheck};
pub(crate) use sq8::{code_kernel, CodeKernel, Sq8};
pub(crate) use tombstones::Tombstones;
