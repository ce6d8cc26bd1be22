"""Lower bounds on the number of nodes a set of pods needs.

Pure numpy on integer arrays: a pod's request and a node's free capacity are int64 amounts per
resource, in whatever unit the caller uses for that resource (millicores, bytes, milli-GPU...),
the same unit in demand and free. Every bound assumes each pod must fit whole on one node.
"""

from __future__ import annotations

import numpy as np


def _check_shapes(demand: np.ndarray, free: np.ndarray) -> None:
    """Raise ValueError unless demand and free are 2-D with the same resource columns."""
    if demand.ndim != 2 or free.ndim != 2 or demand.shape[1] != free.shape[1]:
        raise ValueError(f"demand {demand.shape} and free {free.shape} must be (n, R) and (m, R)")


def capacity_bound(demand: np.ndarray, free: np.ndarray) -> int:
    """The fewest nodes whose summed free capacity holds the summed demand, in every resource.

    demand  int64 (n_pods, n_resources): each pod's request per resource
    free    int64 (n_nodes, n_resources): each candidate node's free capacity per resource

    For each resource r, the smallest k such that the k nodes with the most free r sum to at
    least Σ demand[:, r]; the bound is the max over resources. It is a valid lower bound for
    heterogeneous nodes: any node set that holds the pods has, in every resource, a sum no
    larger than that of as many of the largest nodes. 0 for no pods (or no demand at all). If
    even all nodes together cannot hold the demand in some resource, the result is n_nodes:
    the pods need every node (and cannot all be placed).
    """
    _check_shapes(demand, free)
    totals = demand.sum(axis=0, dtype=np.int64)
    reach = np.cumsum(-np.sort(-free, axis=0), axis=0, dtype=np.int64)
    n_nodes = free.shape[0]
    needed = [
        int(np.searchsorted(reach[:, r], totals[r], side="left")) + 1 if totals[r] > 0 else 0
        for r in range(free.shape[1])
    ]
    return min(n_nodes, max(needed, default=0))


def martello_toth_l2(sizes: np.ndarray, capacity: int) -> int:
    """Martello and Toth's L2 lower bound on the bins of `capacity` that hold items `sizes`.

    sizes     int64 (n,): item sizes, each in [0, capacity]; items of size 0 count nowhere
    capacity  every bin's capacity, > 0, same unit as sizes

    The max over thresholds K in {0} ∪ {s : s ≤ C/2} of
    |J1| + |J2| + max(0, ⌈(Σ_{J3} s − (|J2|·C − Σ_{J2} s)) / C⌉), where J1 = {s > C − K},
    J2 = {C − K ≥ s > C/2}, J3 = {C/2 ≥ s ≥ K}. It is at least ⌈Σ s / C⌉ (K = 0). Integer
    arithmetic only, vectorised over K: O(n log n).
    """
    if capacity <= 0:
        raise ValueError(f"capacity must be positive, got {capacity}")
    items = np.sort(sizes.astype(np.int64, copy=False))
    if items.size and (items[0] < 0 or items[-1] > capacity):
        raise ValueError(f"sizes must lie in [0, {capacity}], got [{items[0]}, {items[-1]}]")
    items = items[items > 0]
    n = items.size
    if n == 0:
        return 0
    prefix = np.concatenate(([0], np.cumsum(items, dtype=np.int64)))
    half_end = int(np.searchsorted(items, capacity // 2, side="right"))  # items ≤ C/2 end here
    thresholds = np.concatenate(([0], np.unique(items[:half_end])))
    j2_end = np.searchsorted(items, capacity - thresholds, side="right")  # items ≤ C − K
    j3_start = np.searchsorted(items, thresholds, side="left")  # items ≥ K
    n1 = n - j2_end
    n2 = j2_end - half_end
    slack2 = n2 * capacity - (prefix[j2_end] - prefix[half_end])
    sum3 = prefix[half_end] - prefix[j3_start]
    extra = np.maximum(0, -((slack2 - sum3) // capacity))  # ⌈(sum3 − slack2) / C⌉, at least 0
    return int((n1 + n2 + extra).max())


def nodes_lower_bound(demand: np.ndarray, free: np.ndarray) -> int:
    """A lower bound on the nodes, among `free`, that pods which must each fit on one node need.

    demand  int64 (n_pods, n_resources): each pod's request per resource
    free    int64 (n_nodes, n_resources): each candidate node's free capacity per resource

    The max of `capacity_bound` and, for each resource some pod asks for, `martello_toth_l2` of
    that resource's requests with every bin as large as the largest node's free amount (still a
    valid bound on heterogeneous nodes, as shrinking no bin can save one). Capped at n_nodes:
    for pods that can all be placed the cap changes nothing; n_nodes means the pods need every
    node, or cannot all be placed. In particular it is n_nodes when some pod asks more of a
    resource than any node has free.
    """
    _check_shapes(demand, free)
    n_nodes = free.shape[0]
    if demand.shape[0] == 0 or n_nodes == 0:
        return 0
    largest = free.max(axis=0)
    if (demand > largest).any():
        return n_nodes
    # A resource no node has free is asked by no pod here, so `largest[r] > 0` below.
    per_resource = [
        martello_toth_l2(demand[:, r], int(largest[r]))
        for r in range(demand.shape[1])
        if demand[:, r].any()
    ]
    return min(n_nodes, max([capacity_bound(demand, free), *per_resource]))
