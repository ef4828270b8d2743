//! The index: its rows, their graph and the metric, through build, growth, removal and search.

mod batch;
mod options;
#[cfg(test)]
pub(crate) mod tests;

pub use batch::{max_threads, with_threads, THREADS_PER_CORE};
pub use options::{
    Allow, Filter, IndexOptions, Neighbors, Quantization, QueryOptions, RangeNeighbors,
    RangeOptions, MIN_NEIGHBORS,
};

use crate::error::{Error, Result};
use crate::graph::{self, Beam, Graph};
use crate::metric::{self, Prepared, Space, WithSpace};
use crate::progress::Progress;
use crate::storage::{Codes, IdSet, Labels, Points, Tombstones};
use crate::sys::memory;
use batch::{BatchSearch, RangeSearch};
use options::at_least_one;

/// A navigable small world graph over a set of points.
#[derive(Debug, Clone)]
pub struct Index {
    points: Points,
    /// What the metric keeps beside the rows (DTW's envelopes), in step with them.
    prepared: Prepared,
    /// The rows' codes, in step with them; `Some` exactly when `options.quantization` is.
    codes: Option<Codes>,
    /// `None` exactly when `options.graph` is.
    graph: Option<Graph>,
    /// The caller's ids of the points; `None` while they are the row numbers.
    labels: Option<Labels>,
    options: IndexOptions,
    removed: Tombstones,
    build_distance_computations: u64,
}

impl Index {
    /// Builds an index over `data`, rows of `dim` values, with the current rayon thread pool.
    pub fn build(data: Vec<f32>, dim: usize, options: IndexOptions) -> Result<Self> {
        Self::build_with_progress(data, dim, options, None, &Progress::new())
    }

    /// [`Index::build`], with `labels` (one per row, distinct; `None` keeps the row numbers as
    /// the points' ids), reporting to `progress` and stopping with [`Error::Interrupted`] once
    /// it is cancelled.
    pub fn build_with_progress(
        data: Vec<f32>,
        dim: usize,
        options: IndexOptions,
        labels: Option<Vec<u64>>,
        progress: &Progress,
    ) -> Result<Self> {
        options.check_new()?;
        let points = options.metric.rows(data, dim)?;
        if points.is_empty() {
            return Err(Error::Empty);
        }
        let labels = labels
            .map(|labels| {
                check_id_count(labels.len(), points.len())?;
                Labels::new(labels)
            })
            .transpose()?;
        let graph = options.graph.map(|g| Graph::new(0, g.max_degree));
        let mut index = Self::from_parts(points, graph, None, options, Tombstones::default(), 0)?;
        index.labels = labels;
        index.link_from(0, progress)?;
        Ok(index)
    }

    /// An index over `points` with `graph` (which must link them all unless
    /// [`Index::link_from`] follows), `codes` of the points (trained on them when
    /// `options.quantization` asks for codes and none are given) and removal marks.
    pub(crate) fn from_parts(
        points: Points,
        graph: Option<Graph>,
        codes: Option<Codes>,
        options: IndexOptions,
        removed: Tombstones,
        build_distance_computations: u64,
    ) -> Result<Self> {
        options.check()?;
        check_size(points.len())?;
        debug_assert_eq!(graph.is_some(), options.graph.is_some());
        let codes = options
            .quantization
            .map(|q| codes.unwrap_or_else(|| Codes::train(q, &points, options.seed)));
        debug_assert!(codes.as_ref().is_none_or(
            |c| c.len() == points.len() && Some(c.quantization()) == options.quantization
        ));
        Ok(Self {
            prepared: Prepared::new(&options.metric, &points),
            codes,
            points,
            graph,
            labels: None,
            options,
            removed,
            build_distance_computations,
        })
    }

    /// `self` with `labels` for its points, checked (for the loader).
    pub(crate) fn with_labels(mut self, labels: Vec<u64>) -> Result<Self> {
        check_id_count(labels.len(), self.n_ids())?;
        self.labels = Some(Labels::new(labels)?);
        Ok(self)
    }

    /// Asks for huge pages under the rows and the adjacency, which a graph search reads at
    /// random. Exact search alone reads the rows in order or spends far longer per row than a
    /// TLB miss costs, so an index without a graph is left on small pages, sparing its build
    /// (a fit of the estimators) the copy into huge pages.
    ///
    /// Mapped pages belong to the file's page cache, not to this process: they get no advice.
    pub(crate) fn advise_huge_pages(&self) {
        if let Some(graph) = &self.graph {
            if let Some(rows) = self.points.owned() {
                memory::advise_huge_pages(rows);
            }
            if let Some(links) = graph.owned_links() {
                memory::advise_huge_pages(links);
            }
        }
    }

    /// Whether the rows and the lists are read in place from a memory-mapped file
    /// ([`crate::persist::load_mapped`]): such an index is read-only.
    pub fn is_mapped(&self) -> bool {
        self.points.is_mapped() || self.graph.as_ref().is_some_and(Graph::is_mapped)
    }

    /// The error of `operation` on a mapped index, which nothing changes.
    fn check_writable(&self, operation: &'static str) -> Result<()> {
        if self.is_mapped() {
            return Err(Error::ReadOnly { operation });
        }
        Ok(())
    }

    /// Appends the rows of `data` and links them into the graph, as if they had been inserted at
    /// build time after the others. Returns the row number of the first new row; row numbers,
    /// the ids of an index without labels, continue from the last one.
    pub fn add(&mut self, data: Vec<f32>) -> Result<u64> {
        self.add_with_progress(data, None, &Progress::new())
    }

    /// [`Index::add`], with `labels` for the new rows (required once the index has labels;
    /// given to an index without, its points keep their row numbers as labels), reporting to
    /// `progress`. Once `progress` is cancelled it stops with [`Error::Interrupted`] and leaves
    /// the index exactly as it was before the call.
    pub fn add_with_progress(
        &mut self,
        data: Vec<f32>,
        labels: Option<Vec<u64>>,
        progress: &Progress,
    ) -> Result<u64> {
        self.check_writable("add")?;
        if !data.len().is_multiple_of(self.dim()) {
            return Err(Error::DimensionMismatch {
                expected: self.dim(),
                received: data.len(),
            });
        }
        let more = self.options.metric.rows(data, self.dim())?;
        let first = self.points.len();
        check_size(first + more.len())?;
        let had_labels = self.labels.is_some();
        match (labels, &mut self.labels) {
            (None, None) => {}
            (None, Some(_)) => return Err(Error::IdsRequired),
            (Some(new), current) => {
                check_id_count(new.len(), more.len())?;
                let labels = current.get_or_insert_with(|| {
                    Labels::new((0..first as u64).collect()).expect("row numbers are distinct")
                });
                if let Err(e) = labels.extend(new) {
                    if !had_labels {
                        self.labels = None;
                    }
                    return Err(e);
                }
            }
        }
        self.points.extend(more);
        self.removed.resize(self.points.len());
        self.prepared
            .extend(&self.options.metric, &self.points, first);
        if let Some(codes) = &mut self.codes {
            codes.extend(&self.points, first);
        }
        if let Err(e) = self.link_from(first, progress) {
            // The graph is restored already; drop the new points and what was derived from them.
            self.points.truncate(first);
            self.removed.resize(first);
            self.prepared.truncate(&self.options.metric, &self.points);
            if let Some(codes) = &mut self.codes {
                codes.truncate(first);
            }
            match &mut self.labels {
                Some(_) if !had_labels => self.labels = None,
                Some(labels) => labels.truncate(first),
                None => {}
            }
            return Err(e);
        }
        Ok(first as u64)
    }

    /// Marks the points `ids` removed: searches walk through them but never return them. All ids
    /// are checked before any is removed, so an error removes nothing.
    pub fn remove(&mut self, ids: &[u64]) -> Result<()> {
        self.check_writable("remove")?;
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        let mut points = Vec::with_capacity(ids.len());
        for &id in ids {
            let point = self.point_of(id)?;
            if self.removed.contains(point) || !seen.insert(point) {
                return Err(Error::AlreadyRemoved { id });
            }
            points.push(u64::from(point));
        }
        if ids.len() == self.len() {
            return Err(Error::RemovingEverything);
        }
        self.removed.insert(&points, self.points.len());
        Ok(())
    }

    /// The row of the point whose id is `id`: its label, or its row number without labels.
    fn point_of(&self, id: u64) -> Result<u32> {
        match &self.labels {
            Some(labels) => labels.point(id).ok_or(Error::UnknownId { id }),
            None if id < self.n_ids() as u64 => Ok(id as u32),
            None => Err(Error::IdOutOfRange {
                id,
                max: self.n_ids(),
            }),
        }
    }

    /// The id of the point in row `point`: its label, or `point` itself without labels.
    #[inline]
    fn id_of(&self, point: u32) -> u64 {
        self.labels
            .as_ref()
            .map_or(u64::from(point), |labels| labels.label(point))
    }

    /// The labels of the points, one per row (removed ones included); `None` when the ids are
    /// the row numbers.
    pub fn labels(&self) -> Option<&[u64]> {
        self.labels.as_ref().map(Labels::as_slice)
    }

    /// Rebuilds the index over the points not removed, freeing the memory of the removed ones;
    /// codes are trained again on the points kept. Returns the id each new row had before:
    /// without labels, row numbers change, and this maps them; labels stay with their points.
    pub fn compact(&mut self) -> Result<Vec<u64>> {
        self.compact_with_progress(&Progress::new())
    }

    /// [`Index::compact`], reporting to `progress`. Once `progress` is cancelled it stops with
    /// [`Error::Interrupted`] and leaves the index as it was.
    pub fn compact_with_progress(&mut self, progress: &Progress) -> Result<Vec<u64>> {
        self.check_writable("compact")?;
        let kept: Vec<u64> = (0..self.points.len() as u32)
            .filter(|&id| !self.removed.contains(id))
            .map(|id| self.id_of(id))
            .collect();
        let points = self.points.retain(|id| !self.removed.contains(id));
        let graph = self.options.graph.map(|g| Graph::new(0, g.max_degree));
        let mut compacted =
            Self::from_parts(points, graph, None, self.options, Tombstones::default(), 0)?;
        compacted.labels =
            (self.labels.as_ref()).map(|l| l.retain(|id| !self.removed.contains(id)));
        compacted.link_from(0, progress)?;
        *self = compacted;
        Ok(kept)
    }

    /// Links rows `from..` into the graph; interrupted, leaves the graph as it was. Without a
    /// graph, there is nothing to link.
    fn link_from(&mut self, from: usize, progress: &Progress) -> Result<()> {
        let n = self.points.len();
        let Some(graph) = &mut self.graph else {
            progress.start(n - from, n - from);
            return Ok(());
        };
        graph.resize(n);
        self.advise_huge_pages();
        let link = Link {
            graph: self.graph.as_mut().expect("a graph, checked above"),
            points: &self.points,
            options: &self.options,
            removed: &self.removed,
            from,
            progress,
        };
        // The construction links on the exact rows: a graph that codes' errors misled would
        // cost every later search.
        self.build_distance_computations += metric::with_space(
            &self.options.metric,
            &self.points,
            &self.prepared,
            None,
            link,
        )?;
        Ok(())
    }

    /// Number of points not removed.
    pub fn len(&self) -> usize {
        self.points.len() - self.removed.len()
    }

    /// Whether every point is removed; never true of an index that was built (the last point
    /// cannot be removed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of ids given out, removed points included: the id the next added point gets.
    pub fn n_ids(&self) -> usize {
        self.points.len()
    }

    pub fn dim(&self) -> usize {
        self.points.dim()
    }

    pub fn options(&self) -> &IndexOptions {
        &self.options
    }

    /// Whether the points are linked into a graph; without one, only exact search answers.
    pub fn has_graph(&self) -> bool {
        self.graph.is_some()
    }

    /// Number of directed links in the graph (0 without one).
    pub fn n_links(&self) -> usize {
        self.graph.as_ref().map_or(0, Graph::n_links)
    }

    /// Number of nodes of the graph: the points that are not copies of another (every point
    /// without a graph).
    pub fn n_nodes(&self) -> usize {
        self.n_ids() - self.graph.as_ref().map_or(0, |g| g.copies().count())
    }

    /// Degrees and reachability of the graph; `None` without one.
    pub fn graph_stats(&self) -> Option<graph::GraphStats> {
        self.graph.as_ref().map(Graph::stats)
    }

    /// Distances computed while building and adding.
    pub fn build_distance_computations(&self) -> u64 {
        self.build_distance_computations
    }

    /// Bytes the index holds in memory: the rows, their codes, the graph's lists and the
    /// removal marks.
    pub fn nbytes(&self) -> usize {
        self.points.nbytes()
            + self.codes.as_ref().map_or(0, Codes::nbytes)
            + self.graph.as_ref().map_or(0, Graph::nbytes)
            + self.removed.nbytes()
            + self.prepared.nbytes()
            + self.labels.as_ref().map_or(0, Labels::nbytes)
    }

    /// The stored rows, row-major: [`Index::n_ids`] rows of [`Index::dim`] values, removed
    /// points included, as the metric keeps them (unit length under cosine, series with their
    /// trailing NaN padding).
    pub fn vectors(&self) -> &[f32] {
        self.points.as_slice()
    }

    /// The stored rows of the points `ids`, one after another, as in [`Index::vectors`]. An
    /// unknown id, or a removed point's, is an error.
    pub fn get_vectors(&self, ids: &[u64]) -> Result<Vec<f32>> {
        let dim = self.dim();
        let mut rows = Vec::with_capacity(ids.len() * dim);
        for &id in ids {
            let point = self.point_of(id)?;
            if self.removed.contains(point) {
                return Err(Error::Removed { id });
            }
            let start = point as usize * dim;
            rows.extend_from_slice(&self.points.as_slice()[start..start + dim]);
        }
        Ok(rows)
    }

    pub(crate) fn points(&self) -> &Points {
        &self.points
    }

    pub(crate) fn graph(&self) -> Option<&Graph> {
        self.graph.as_ref()
    }

    pub(crate) fn removed(&self) -> &Tombstones {
        &self.removed
    }

    pub(crate) fn codes(&self) -> Option<&Codes> {
        self.codes.as_ref()
    }

    /// Searches every row of `queries` (rows of `dim` values) in parallel on the current rayon
    /// thread pool; answers keep the order of the queries.
    pub fn search(&self, queries: Vec<f32>, options: &QueryOptions) -> Result<Neighbors> {
        self.search_rows(queries, self.dim(), options, &Filter::All)
    }

    /// [`Index::search`] with queries of `width` values each (the index's `dim`, or under DTW
    /// any number of whole time steps, since DTW compares series of any lengths), returning
    /// only points that `filter` allows.
    pub fn search_rows(
        &self,
        queries: Vec<f32>,
        width: usize,
        options: &QueryOptions,
        filter: &Filter,
    ) -> Result<Neighbors> {
        if options.k == 0 || options.k > self.len() {
            return Err(Error::InvalidK {
                k: options.k,
                n: self.len(),
            });
        }
        let queries = self.query_rows(queries, width, options.n_searches, options.exact)?;
        let filter = self.allowed(filter, queries.len())?;
        let batch = BatchSearch {
            index: self,
            queries: &queries,
            options,
            filter: &filter,
        };
        Ok(self.with_space(options.exact, batch))
    }

    /// `filter` checked against this index and `n_queries`, with the sets it shares made once.
    fn allowed<'f>(&self, filter: &'f Filter, n_queries: usize) -> Result<Allowed<'f>> {
        match filter {
            Filter::All => Ok(Allowed::All),
            Filter::Shared(allow) => {
                let mut set = IdSet::default();
                self.fill(allow, &mut set)?;
                Ok(Allowed::Shared(set))
            }
            Filter::PerQuery(allows) if allows.len() != n_queries => Err(Error::FiltersMismatch {
                expected: n_queries,
                received: allows.len(),
            }),
            Filter::PerQuery(allows) => {
                // Each is checked here, before any search; the sets are made per query.
                for allow in allows {
                    self.check_allow(allow)?;
                }
                Ok(Allowed::PerQuery(allows))
            }
        }
    }

    /// Whether `allow` names only points of this index (an unknown id is an error; a removed
    /// point's is not, it is never returned anyway), or flags each of them.
    fn check_allow(&self, allow: &Allow) -> Result<()> {
        match allow {
            Allow::Ids(ids) => ids.iter().try_for_each(|&id| self.point_of(id).map(drop)),
            Allow::Mask(mask) if mask.len() != self.n_ids() => Err(Error::FilterMismatch {
                expected: self.n_ids(),
                received: mask.len(),
            }),
            Allow::Mask(_) => Ok(()),
        }
    }

    /// Puts into `set` the rows `allow` allows, checked as by [`Index::check_allow`].
    pub(crate) fn fill(&self, allow: &Allow, set: &mut IdSet) -> Result<()> {
        self.check_allow(allow)?;
        set.clear(self.n_ids());
        match allow {
            Allow::Ids(ids) => {
                for &id in ids {
                    set.insert(self.point_of(id)?);
                }
            }
            Allow::Mask(mask) => {
                for (point, _) in mask.iter().enumerate().filter(|(_, &allowed)| allowed) {
                    set.insert(point as u32);
                }
            }
        }
        Ok(())
    }

    /// Runs `work` on this index's space: over its codes, if it has any, unless `exact` (exact
    /// search never reads the codes).
    fn with_space<W: WithSpace>(&self, exact: bool, work: W) -> W::Output {
        let codes = self.codes.as_ref().filter(|_| !exact);
        metric::with_space(
            &self.options.metric,
            &self.points,
            &self.prepared,
            codes,
            work,
        )
    }
}

impl Index {
    /// Every point within `options.radius` (a reported distance) of each row of `queries`
    /// (rows of `width` values, as in [`Index::search_rows`]), in parallel on the current rayon
    /// thread pool; answers keep the order of the queries.
    pub fn search_radius(
        &self,
        queries: Vec<f32>,
        width: usize,
        options: &RangeOptions,
        filter: &Filter,
    ) -> Result<RangeNeighbors> {
        if !(options.radius >= 0.0 && options.radius.is_finite()) {
            return Err(Error::InvalidRadius {
                radius: options.radius,
            });
        }
        if let Some(max_results) = options.max_results {
            at_least_one("max_results", max_results)?;
        }
        at_least_one("ef", options.ef)?;
        let queries = self.query_rows(queries, width, options.n_searches, options.exact)?;
        let filter = self.allowed(filter, queries.len())?;
        let batch = RangeSearch {
            index: self,
            queries: &queries,
            options,
            filter: &filter,
        };
        Ok(self.with_space(options.exact, batch))
    }

    /// Checks the search parameters common to every search and `queries` (rows of `width`
    /// values), and puts the queries in the metric's form.
    fn query_rows(
        &self,
        queries: Vec<f32>,
        width: usize,
        n_searches: usize,
        exact: bool,
    ) -> Result<Points> {
        at_least_one("n_searches", n_searches)?;
        if !exact && !self.has_graph() {
            return Err(Error::NoGraph);
        }
        let any_width = self.options.metric.padding().is_some() && width > 0;
        if !(width == self.dim() || any_width) || !queries.len().is_multiple_of(width) {
            return Err(Error::DimensionMismatch {
                expected: self.dim(),
                received: queries.len(),
            });
        }
        self.options.metric.rows(queries, width)
    }
}

/// The linking of new rows, run by [`metric::with_space`] once the metric is set up.
struct Link<'a> {
    graph: &'a mut Graph,
    points: &'a Points,
    options: &'a IndexOptions,
    removed: &'a Tombstones,
    from: usize,
    progress: &'a Progress,
}

impl WithSpace for Link<'_> {
    type Output = Result<u64>;

    fn run<S: Space>(self, space: &S) -> Result<u64> {
        let o = self.options;
        let graph_options = o.graph.expect("linking needs a graph");
        let beam = Beam {
            k: graph_options.n_neighbors,
            ef: o.ef_construction,
            n_searches: o.n_searches,
            copies: false,
            budget: None,
        };
        let first_same = self.points.first_same_rows(self.from);
        graph::insert(
            self.graph,
            space,
            &graph_options,
            beam,
            o.seed,
            self.from,
            &first_same,
            &|a, b| self.points.same_row(a, b),
            self.removed,
            self.progress,
        )
    }
}

/// What a batch search may return, checked: the set shared by every query made once, the
/// per-query ones made by each thread as it comes to them.
pub(crate) enum Allowed<'f> {
    All,
    Shared(IdSet),
    PerQuery(&'f [Allow]),
}

fn check_id_count(received: usize, expected: usize) -> Result<()> {
    if received != expected {
        return Err(Error::IdsMismatch { expected, received });
    }
    Ok(())
}

fn check_size(n: usize) -> Result<()> {
    if n >= u32::MAX as usize {
        return Err(Error::InvalidParameter {
            name: "the number of points",
            requirement: "below 2^32 - 1",
            value: n,
        });
    }
    Ok(())
}
