"""NodeResourcesBalancedAllocation: favour nodes whose resource fractions stay balanced
(kube-scheduler v1.27–v1.32 formula: 100 × (1 − standard deviation of the fractions))."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.framework.plugin import MAX_NODE_SCORE, Scope, ScorePlugin
from schedlab.objects import Pod
from schedlab.plugins.resource_allocation import DEFAULT_RESOURCES, allocations, validate_resources


class NodeResourcesBalancedAllocation(ScorePlugin):
    """``resources`` names the resources whose fractions are balanced (weights are accepted
    for compatibility with the configuration and, as in kube, not used)."""

    name = "NodeResourcesBalancedAllocation"
    scope = Scope.NODE

    def __init__(self, *, resources: Mapping[str, int] = DEFAULT_RESOURCES) -> None:
        self.resources = validate_resources(self.name, resources)

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        """Float64 arithmetic in kube's order, so results match bit for bit."""
        fractions, valid = [], []
        for _, alloc, req in allocations(state, pod, nodes, self.resources, nonzero=False):
            has = alloc > 0
            fractions.append(np.minimum(req / np.where(has, alloc, 1), 1.0))
            valid.append(has)
        n = state.pod_count[nodes].shape[0]
        if all(v.all() for v in valid):
            std = _std_all_valid(fractions, n)
        else:
            std = _std_some_valid(np.array(fractions), np.array(valid))
        return ((1 - std) * MAX_NODE_SCORE).astype(np.int64)


def _std_all_valid(fractions: list[np.ndarray], n: int) -> np.ndarray:
    """kube's standard deviation when every node has every resource (the usual case)."""
    if len(fractions) < 2:
        return np.zeros(n)
    if len(fractions) == 2:
        return np.abs((fractions[0] - fractions[1]) / 2)
    total = fractions[0].copy()
    for row in fractions[1:]:
        total += row
    mean = total / len(fractions)
    squares = np.zeros(n)
    for row in fractions:
        squares += (row - mean) * (row - mean)
    return np.sqrt(squares / len(fractions))


def _std_some_valid(fraction: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """The same where nodes lack some resources: fractions (m, k) and validity (m, k);
    a node's fractions are those of the resources it has, in order."""
    count = ok.sum(axis=0)
    rank = np.cumsum(ok, axis=0)
    first = np.where(ok & (rank == 1), fraction, 0.0).sum(axis=0)
    second = np.where(ok & (rank == 2), fraction, 0.0).sum(axis=0)
    total = np.zeros(fraction.shape[1])
    for row, has in zip(fraction, ok, strict=True):
        total += np.where(has, row, 0.0)
    mean = total / np.maximum(count, 1)
    squares = np.zeros(fraction.shape[1])
    for row, has in zip(fraction, ok, strict=True):
        squares += np.where(has, (row - mean) * (row - mean), 0.0)
    return np.where(
        count == 2,
        np.abs((first - second) / 2),
        np.where(count > 2, np.sqrt(squares / np.maximum(count, 1)), 0.0),
    )
