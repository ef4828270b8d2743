//! What an index stores of its points: the rows, their compressed codes, their labels, which
//! of them were removed, and the sets of ids a filtered search may return; and the buffer,
//! owned or mapped from a file, that holds rows and lists.

mod buffer;
mod codes;
mod id_set;
mod labels;
mod points;
mod rabitq;
mod sq8;
mod tombstones;

pub(crate) use buffer::{Buffer, Mapped};
pub(crate) use codes::{Codes, RowCodes};
pub(crate) use id_set::IdSet;
pub(crate) use labels::Labels;
pub use labels::NO_LABEL;
pub(crate) use points::{Points, RowsCheck};
pub(crate) use rabitq::{Rabitq4, ROUNDS};
pub(crate) use sq8::Sq8;
pub(crate) use tombstones::Tombstones;
