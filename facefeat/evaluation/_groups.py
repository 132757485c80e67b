"""Connected components of items joined by pairwise relations (union-find), for duplicate groups."""

import numpy as np


def connected_components(n, edges_i, edges_j):
    """Connected-component label of each of n nodes (union-find over the edges)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as components

    edges_i = np.asarray(edges_i, dtype=np.int64)
    edges_j = np.asarray(edges_j, dtype=np.int64)
    graph = coo_matrix((np.ones(len(edges_i), dtype=np.int8), (edges_i, edges_j)), shape=(n, n))
    return components(graph, directed=False)[1]


def chain_edges(members_lists):
    """Edges linking consecutive members of each list (enough to connect them)."""
    ii, jj = [], []
    for m in members_lists:
        if len(m) > 1:
            ii.extend(m[:-1])
            jj.extend(m[1:])
    return ii, jj

