"""The scoring input shared by NodeResourcesFit and NodeResourcesBalancedAllocation
(kube-scheduler's resourceAllocationScorer)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from schedlab import resources
from schedlab.cluster import ClusterState, NodeIndex
from schedlab.errors import ConfigError
from schedlab.objects import Pod

DEFAULT_RESOURCES: Mapping[str, int] = {resources.CPU: 1, resources.MEMORY: 1}


def validate_resources(plugin: str, weights: Mapping[str, int]) -> dict[str, int]:
    """Resource weights as kube validates them: a weight of 0 means 1, otherwise 1..100."""
    checked = {}
    for name, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            raise ConfigError(plugin, f"resources[{name}].weight", weight, "an integer in 1..100")
        checked[name] = weight or 1
    if not checked:
        raise ConfigError(plugin, "resources", weights, "at least one resource")
    return checked


def allocations(
    state: ClusterState, pod: Pod, nodes: NodeIndex, weights: Mapping[str, int], nonzero: bool
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """For each configured resource kube scores: (weight, allocatable, requested-after-binding),
    arrays of shape (len(nodes),). Nodes with allocatable 0 must be skipped by the caller.

    ``nonzero`` uses the non-zero cpu/memory requests (NodeResourcesFit's strategies); the
    balanced allocation uses the real ones. An extended resource the pod does not request, or
    that no node has, is not scored at all.
    """
    pod_requests = state.requests_of(pod)
    for name, weight in weights.items():
        column = state.resources.index.get(name)
        if column is None:
            continue
        if resources.is_extended(name) and pod_requests.requested[column] == 0:
            continue
        use_nonzero = nonzero and name in (resources.CPU, resources.MEMORY)
        node_side = state.nonzero_requested if use_nonzero else state.requested
        pod_side = pod_requests.nonzero if use_nonzero else pod_requests.requested
        yield (
            weight,
            state.allocatable[nodes, column],
            node_side[nodes, column] + pod_side[column],
        )
