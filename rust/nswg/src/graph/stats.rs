//! What a user needs to diagnose a graph: its degrees and how well its nodes reach each other.

use super::Graph;

/// Degree distribution and reachability of a graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GraphStats {
    /// Nodes, removed points included (a search walks through them); a group of identical
    /// points is one node.
    pub n_nodes: usize,
    /// Points that are exact copies of a node: they have no list, and a search that reaches the
    /// node returns them beside it.
    pub n_copies: usize,
    pub min_degree: usize,
    pub max_degree: usize,
    pub mean_degree: f64,
    /// Nodes in no other node's list (in-degree 0): a search reaches them only as an entry point.
    pub n_unreached: usize,
    /// Groups of mutually reachable nodes (strongly connected components): 1 when every node can
    /// reach every other.
    pub n_components: usize,
}

impl Graph {
    pub(crate) fn stats(&self) -> GraphStats {
        let copies = self.copies();
        let nodes = || (0..self.len() as u32).filter(|&id| !copies.is_copy(id));
        let degrees = nodes().map(|id| self.neighbors(id).len());
        let mut in_degree = vec![0u32; self.len()];
        for id in nodes() {
            for &x in self.neighbors(id) {
                in_degree[x as usize] += 1;
            }
        }
        let n_nodes = self.len() - copies.count();
        GraphStats {
            n_nodes,
            n_copies: self.len() - n_nodes,
            min_degree: degrees.clone().min().unwrap_or(0),
            max_degree: degrees.clone().max().unwrap_or(0),
            mean_degree: if n_nodes == 0 {
                0.0
            } else {
                self.n_links() as f64 / n_nodes as f64
            },
            n_unreached: nodes().filter(|&id| in_degree[id as usize] == 0).count(),
            n_components: self.n_strongly_connected(),
        }
    }

    /// Number of strongly connected components, by Tarjan's algorithm with an explicit stack
    /// (graphs of millions of nodes would overflow a recursive one).
    fn n_strongly_connected(&self) -> usize {
        const UNSEEN: u32 = u32::MAX;
        let n = self.len();
        let mut order = vec![UNSEEN; n];
        let mut low = vec![0u32; n];
        let mut on_stack = vec![false; n];
        let mut stack: Vec<u32> = Vec::new();
        // (node, position of the next neighbour to look at)
        let mut path: Vec<(u32, usize)> = Vec::new();
        let mut next = 0u32;
        let mut components = 0;
        for root in 0..n as u32 {
            if order[root as usize] != UNSEEN || self.copies().is_copy(root) {
                continue;
            }
            path.push((root, 0));
            order[root as usize] = next;
            low[root as usize] = next;
            next += 1;
            stack.push(root);
            on_stack[root as usize] = true;
            while let Some(&mut (node, ref mut at)) = path.last_mut() {
                let neighbors = self.neighbors(node);
                if let Some(&x) = neighbors.get(*at) {
                    *at += 1;
                    let xi = x as usize;
                    if order[xi] == UNSEEN {
                        order[xi] = next;
                        low[xi] = next;
                        next += 1;
                        stack.push(x);
                        on_stack[xi] = true;
                        path.push((x, 0));
                    } else if on_stack[xi] {
                        low[node as usize] = low[node as usize].min(order[xi]);
                    }
                    continue;
                }
                path.pop();
                if let Some(&(parent, _)) = path.last() {
                    low[parent as usize] = low[parent as usize].min(low[node as usize]);
                }
                if low[node as usize] == order[node as usize] {
                    components += 1;
                    while let Some(x) = stack.pop() {
                        on_stack[x as usize] = false;
                        if x == node {
                            break;
                        }
                    }
                }
            }
        }
        components
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(lists: &[&[u32]]) -> Graph {
        let mut g = Graph::new(lists.len(), 4);
        for (id, list) in lists.iter().enumerate() {
            g.set_neighbors(id as u32, list);
        }
        g
    }

    #[test]
    fn counts_degrees_unreached_nodes_and_components() {
        // 0 <-> 1 -> 2 <-> 3, and 4 -> 0 with nothing pointing at 4.
        let s = graph(&[&[1], &[0, 2], &[3], &[2], &[0]]).stats();
        assert_eq!(
            (
                s.n_nodes,
                s.min_degree,
                s.max_degree,
                s.n_unreached,
                s.n_components
            ),
            (5, 1, 2, 1, 3)
        );
        let mut with_copy = graph(&[&[1], &[0], &[]]);
        with_copy.join_copy(2, 0, true);
        let c = with_copy.stats();
        assert_eq!(
            (
                c.n_nodes,
                c.n_copies,
                c.min_degree,
                c.n_unreached,
                c.n_components
            ),
            (2, 1, 1, 0, 1)
        );
        assert!((s.mean_degree - 6.0 / 5.0).abs() < 1e-12);
        let ring = graph(&[&[1], &[2], &[3], &[0]]).stats();
        assert_eq!((ring.n_unreached, ring.n_components), (0, 1));
        let isolated = graph(&[&[], &[], &[]]).stats();
        assert_eq!(
            (
                isolated.min_degree,
                isolated.n_unreached,
                isolated.n_components
            ),
            (0, 3, 3)
        );
    }
}
