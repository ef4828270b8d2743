//! Distances estimated from compressed codes ([`RowCodes`]: 8-bit scalar or 4-bit RaBitQ) for
//! the graph walk, and exact ones from the float rows to re-rank what the walk found.

use super::euclidean::{Euclidean, EuclideanQuery};
use super::{Cost, QueryDistance, Space};
use crate::storage::RowCodes;

/// A Euclidean-ranked metric over the rows of an index and their codes, with the code kernel
/// for this CPU.
pub(super) struct Quantized<'a, C: RowCodes> {
    exact: Euclidean<'a>,
    codes: &'a C,
    kernel: C::Kernel,
}

impl<'a, C: RowCodes> Quantized<'a, C> {
    pub(super) fn new(exact: Euclidean<'a>, codes: &'a C) -> Self {
        Self {
            exact,
            codes,
            kernel: codes.kernel(),
        }
    }
}

impl<C: RowCodes> Space for Quantized<'_, C> {
    type Query<'s>
        = QuantizedQuery<'s, C>
    where
        Self: 's;

    fn query(&self) -> QuantizedQuery<'_, C> {
        QuantizedQuery {
            exact: self.exact.query(),
            codes: self.codes,
            kernel: self.kernel,
            prepared: C::Query::default(),
            code_distances: 0,
        }
    }
}

/// [`Quantized`] bound to one query.
pub(super) struct QuantizedQuery<'a, C: RowCodes> {
    exact: EuclideanQuery<'a>,
    codes: &'a C,
    kernel: C::Kernel,
    /// The query as the kernel takes it.
    prepared: C::Query,
    code_distances: u64,
}

impl<C: RowCodes> QueryDistance for QuantizedQuery<'_, C> {
    const ESTIMATES: bool = true;

    fn set_query(&mut self, query: &[f32]) {
        self.exact.set_query(query);
        self.codes.prepare_query(query, &mut self.prepared);
        self.code_distances = 0;
    }

    fn set_query_row(&mut self, id: u32) {
        self.exact.set_query_row(id);
        self.codes
            .prepare_query(self.exact.query(), &mut self.prepared);
        self.code_distances = 0;
    }

    /// The estimate from the codes; it is never abandoned, so `bound` is unused.
    #[inline]
    fn within(&mut self, id: u32, _bound: f32) -> Option<f32> {
        self.code_distances += 1;
        // SAFETY: the kernel is these codes' for this CPU, and the query was prepared by them.
        Some(unsafe { self.codes.estimate(self.kernel, &self.prepared, id) })
    }

    #[inline]
    fn exact(&mut self, id: u32) -> f32 {
        self.exact.exact(id)
    }

    #[inline]
    fn between(&mut self, a: u32, b: u32) -> f32 {
        self.exact.between(a, b)
    }

    #[inline]
    fn prefetch(&self, id: u32) {
        self.codes.prefetch(id);
    }

    #[inline]
    fn prefetch_exact(&self, id: u32) {
        self.exact.prefetch(id);
    }

    fn finish(&self, ranking: f32) -> f32 {
        self.exact.finish(ranking)
    }

    fn take_cost(&mut self) -> Cost {
        Cost {
            code_distances: std::mem::take(&mut self.code_distances),
            ..self.exact.take_cost()
        }
    }
}
