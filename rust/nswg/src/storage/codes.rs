//! The compressed codes of an index's rows, of whichever kind it was built with, and the one
//! interface through which a search estimates distances from any of them.

use super::rabitq::{LevelKernel, Rabitq4, Rabitq4Query};
use super::sq8::{CodeKernel, PreparedQuery, Sq8};
use super::Points;
use crate::index::Quantization;

/// Codes of the rows that estimate squared Euclidean distances to a query, per row, for the
/// graph walk ([`crate::metric`]'s `Quantized` space is generic over them).
pub(crate) trait RowCodes: Sync {
    /// The estimate kernel chosen for this CPU.
    type Kernel: Copy + Send + Sync;
    /// A query in the form the kernel takes, its buffers reused from query to query.
    type Query: Default + Send;

    fn kernel(&self) -> Self::Kernel;

    fn prepare_query(&self, query: &[f32], prepared: &mut Self::Query);

    /// The estimated squared distance from the prepared query to row `id`.
    ///
    /// # Safety
    /// `kernel` must be `self.kernel()` on this CPU, and `query` prepared by `self`.
    unsafe fn estimate(&self, kernel: Self::Kernel, query: &Self::Query, id: u32) -> f32;

    /// Asks the CPU to start loading the code of row `id`.
    fn prefetch(&self, id: u32);
}

impl RowCodes for Sq8 {
    type Kernel = CodeKernel;
    type Query = PreparedQuery;

    fn kernel(&self) -> CodeKernel {
        Sq8::kernel(self)
    }

    fn prepare_query(&self, query: &[f32], prepared: &mut PreparedQuery) {
        Sq8::prepare_query(self, query, prepared)
    }

    #[inline]
    unsafe fn estimate(&self, kernel: CodeKernel, query: &PreparedQuery, id: u32) -> f32 {
        // SAFETY: the caller's.
        unsafe { kernel.estimate(self, query, self.block(id)) }
    }

    #[inline]
    fn prefetch(&self, id: u32) {
        Sq8::prefetch(self, id)
    }
}

impl RowCodes for Rabitq4 {
    type Kernel = LevelKernel;
    type Query = Rabitq4Query;

    fn kernel(&self) -> LevelKernel {
        Rabitq4::kernel(self)
    }

    fn prepare_query(&self, query: &[f32], prepared: &mut Rabitq4Query) {
        Rabitq4::prepare_query(self, query, prepared)
    }

    #[inline]
    unsafe fn estimate(&self, kernel: LevelKernel, query: &Rabitq4Query, id: u32) -> f32 {
        // SAFETY: the caller's.
        unsafe { Rabitq4::estimate(self, kernel, query, id) }
    }

    #[inline]
    fn prefetch(&self, id: u32) {
        Rabitq4::prefetch(self, id)
    }
}

/// The codes of an index, in step with its rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Codes {
    Sq8(Sq8),
    Rabitq4(Rabitq4),
}

impl Codes {
    /// Trains codes of kind `quantization` on the rows of `points` and encodes them; `seed`
    /// draws what is random in them (RaBitQ's rotation).
    pub(crate) fn train(quantization: Quantization, points: &Points, seed: u64) -> Self {
        match quantization {
            Quantization::Sq8 => Codes::Sq8(Sq8::train(points)),
            Quantization::Rabitq4 => Codes::Rabitq4(Rabitq4::train(points, seed)),
        }
    }

    pub(crate) fn quantization(&self) -> Quantization {
        match self {
            Codes::Sq8(_) => Quantization::Sq8,
            Codes::Rabitq4(_) => Quantization::Rabitq4,
        }
    }

    /// Encodes the rows `from..` of `points`, which hold the rows encoded so far before them.
    pub(crate) fn extend(&mut self, points: &Points, from: usize) {
        match self {
            Codes::Sq8(c) => c.extend(points, from),
            Codes::Rabitq4(c) => c.extend(points, from),
        }
    }

    /// Drops the codes from row `n` on.
    pub(crate) fn truncate(&mut self, n: usize) {
        match self {
            Codes::Sq8(c) => c.truncate(n),
            Codes::Rabitq4(c) => c.truncate(n),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Codes::Sq8(c) => c.len(),
            Codes::Rabitq4(c) => c.len(),
        }
    }

    /// Bytes held.
    pub(crate) fn nbytes(&self) -> usize {
        match self {
            Codes::Sq8(c) => c.nbytes(),
            Codes::Rabitq4(c) => c.nbytes(),
        }
    }
}
