//! Distances estimated from 8-bit codes ([`Sq8`]) for the graph walk, and exact ones from the
//! float rows to re-rank what the walk found.

use super::euclidean::{Euclidean, EuclideanQuery};
use super::{Cost, QueryDistance, Space};
use crate::storage::{CodeKernel, PreparedQuery, Sq8};

/// A Euclidean-ranked metric over the rows of an index and their codes, with the code kernel
/// for this CPU.
pub(super) struct Quantized<'a> {
    exact: Euclidean<'a>,
    codes: &'a Sq8,
    kernel: CodeKernel,
}

impl<'a> Quantized<'a> {
    pub(super) fn new(exact: Euclidean<'a>, codes: &'a Sq8) -> Self {
        Self {
            exact,
            codes,
            kernel: codes.kernel(),
        }
    }
}

impl Space for Quantized<'_> {
    type Query<'s>
        = QuantizedQuery<'s>
    where
        Self: 's;

    fn query(&self) -> QuantizedQuery<'_> {
        QuantizedQuery {
            exact: self.exact.query(),
            codes: self.codes,
            kernel: self.kernel,
            prepared: PreparedQuery::default(),
            code_distances: 0,
        }
    }
}

/// [`Quantized`] bound to one query.
pub(super) struct QuantizedQuery<'a> {
    exact: EuclideanQuery<'a>,
    codes: &'a Sq8,
    kernel: CodeKernel,
    /// The query as the kernel takes it.
    prepared: PreparedQuery,
    code_distances: u64,
}

impl QueryDistance for QuantizedQuery<'_> {
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
        Some(unsafe {
            self.kernel
                .estimate(self.codes, &self.prepared, self.codes.block(id))
        })
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
