"""NodeResourcesBalancedAllocation: favour nodes whose resource fractions stay balanced
(kube-scheduler v1.27–v1.32 formula: 100 × (1 − standard deviation of the fractions))."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.framework.args import PluginArgs
from schedlab.framework.plugin import MAX_NODE_SCORE, Scope, ScorePlugin
from schedlab.objects import Pod
from schedlab.plugins.resource_allocation import (
    allocation,
    defaulted_weights,
    resource_weights_arg,
)


@dataclass(frozen=True)
class NodeResourcesBalancedAllocationArgs(PluginArgs):
    """kube's NodeResourcesBalancedAllocationArgs: ``resources`` names the resources whose
    fractions are balanced (weights are accepted, as in kube, and not used)."""

    resources: Mapping[str, int] = resource_weights_arg()

    def validate(self) -> None:
        self.default("resources", defaulted_weights(self.resources))


class NodeResourcesBalancedAllocation(ScorePlugin):
    """Balance of the ``args.resources`` fractions (NodeResourcesBalancedAllocationArgs)."""

    name = "NodeResourcesBalancedAllocation"
    has_pre_score = True
    scope = Scope.NODE
    Args = NodeResourcesBalancedAllocationArgs
    args: NodeResourcesBalancedAllocationArgs

    def cache_key(self, state: ClusterState, pod: Pod) -> Hashable:
        return id(state.requests_of(pod))  # answers depend on the requests only

    @property
    def resources(self) -> Mapping[str, int]:
        return self.args.resources

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
