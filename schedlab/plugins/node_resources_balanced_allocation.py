"""NodeResourcesBalancedAllocation: favour nodes whose resource fractions stay balanced
(kube-scheduler v1.27–v1.32 formula: 100 × (1 − standard deviation of the fractions))."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.fields import Field
from schedlab.framework.args import args_fields, resource_weights
from schedlab.framework.plugin import MAX_NODE_SCORE, Scope, ScorePlugin
from schedlab.objects import Pod
from schedlab.plugins.resource_allocation import DEFAULT_RESOURCES, allocation, validate_resources


class NodeResourcesBalancedAllocation(ScorePlugin):
    """``resources`` names the resources whose fractions are balanced (weights are accepted
    for compatibility with the configuration and, as in kube, not used)."""

    name = "NodeResourcesBalancedAllocation"
    scope = Scope.NODE

    def cache_key(self, state: ClusterState, pod: Pod) -> Hashable:
        return id(state.requests_of(pod))  # answers depend on the requests only

    @classmethod
    def config_args(cls, node: Field) -> dict[str, Any]:
        """NodeResourcesBalancedAllocationArgs: ``resources``."""
        fields = args_fields(node, cls.name, ("resources",))
        if "resources" not in fields:
            return {}
        return {"resources": resource_weights(fields["resources"], DEFAULT_RESOURCES)}

    def __init__(self, *, resources: Mapping[str, int] = DEFAULT_RESOURCES) -> None:
        self.resources = validate_resources(self.name, resources)

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        """Float64 arithmetic in kube's order, so results match bit for bit."""
        scored = allocation(state, pod, nodes, self.resources, nonzero=False)
        if scored.everywhere:
            std = _std_all_valid(np.minimum(scored.requested / scored.allocatable, 1.0))
        else:
            has = scored.allocatable > 0
            fraction = np.minimum(scored.requested / np.maximum(scored.allocatable, 1), 1.0)
            std = _std_some_valid(fraction, has)
        return ((1 - std) * MAX_NODE_SCORE).astype(np.int64)


def _std_all_valid(fraction: np.ndarray) -> np.ndarray:
    """kube's standard deviation of fractions (k, m) when every node has every resource."""
    k, m = fraction.shape
    if m < 2:
        return np.zeros(k)
    if m == 2:
        return np.abs((fraction[:, 0] - fraction[:, 1]) / 2)
    total = fraction[:, 0].copy()
    for column in range(1, m):
        total += fraction[:, column]
    mean = total / m
    squares = np.zeros(k)
    for column in range(m):
        squares += (fraction[:, column] - mean) * (fraction[:, column] - mean)
    return np.sqrt(squares / m)


def _std_some_valid(fraction: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """The same where nodes lack some resources: fractions and validity (k, m); a node's
    fractions are those of the resources it has, in order."""
    count = ok.sum(axis=1)
    rank = np.cumsum(ok, axis=1)
    first = np.where(ok & (rank == 1), fraction, 0.0).sum(axis=1)
    second = np.where(ok & (rank == 2), fraction, 0.0).sum(axis=1)
    total = np.zeros(len(fraction))
    for column in range(fraction.shape[1]):
        total += np.where(ok[:, column], fraction[:, column], 0.0)
    mean = total / np.maximum(count, 1)
    squares = np.zeros(len(fraction))
    for column in range(fraction.shape[1]):
        deviation = fraction[:, column] - mean
        squares += np.where(ok[:, column], deviation * deviation, 0.0)
    return np.where(
        count == 2,
        np.abs((first - second) / 2),
        np.where(count > 2, np.sqrt(squares / np.maximum(count, 1)), 0.0),
    )
