"""The scoring input shared by NodeResourcesFit and NodeResourcesBalancedAllocation
(kube-scheduler's resourceAllocationScorer)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from schedlab import resources
from schedlab.cluster import ClusterState, NodeIndex, take
from schedlab.framework.args import arg, resource_weights
from schedlab.objects import FrozenMap, Pod

DEFAULT_RESOURCES: FrozenMap[str, int] = FrozenMap({resources.CPU: 1, resources.MEMORY: 1})


def resource_weights_arg() -> Any:
    """An args field of resource weights, {name: weight 0..100} (in YAML kube's ``[{name,
    weight}]``), defaulting to cpu and memory of weight 1; ``defaulted_weights`` applies
    kube's defaulting."""
    return arg(DEFAULT_RESOURCES, read=resource_weights, check=_weights_problem)


def _weights_problem(weights: Mapping[str, int]) -> str | None:
    if all(not isinstance(w, bool) and isinstance(w, int) and 0 <= w <= 100
           for w in weights.values()):
        return None
    return "resource weights that are integers in 0..100"


def defaulted_weights(weights: Mapping[str, int]) -> FrozenMap[str, int]:
    """kube's defaulting of resource weights: none listed means ``DEFAULT_RESOURCES``, a
    weight of 0 means 1."""
    return FrozenMap({name: weight or 1 for name, weight in weights.items()}
                     ) if weights else DEFAULT_RESOURCES


@dataclass(frozen=True)
class Allocation:
    """The resources kube scores for one pod, over the asked nodes (k nodes, m resources).

    weights      int64 (m,)
    allocatable  int64 (k, m); a node with 0 of a resource must leave it out of its score
    requested    int64 (k, m): what the node's pods request plus the incoming pod's request
    everywhere   every node of the cluster has every one of the m resources (allocatable > 0)
    """

    weights: np.ndarray
    allocatable: np.ndarray
    requested: np.ndarray
    everywhere: bool


def scored_columns(
    state: ClusterState, pod: Pod, weights: Mapping[str, int], nonzero: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """What ``allocation`` scores for ``pod``: the resource columns (int64 (m,)), their
    weights (int64 (m,)), the pod's side of the requests on them (int64 (m,); non-zero
    requests with ``nonzero``) and whether every node has every one of them. Worked out once
    per requests."""
    pod_requests = state.requests_of(pod)
    key = ("allocation", tuple(weights.items()), nonzero)
    selected = pod_requests.derived.get(key)
    if selected is None:
        columns, kept = [], []
        for name, weight in weights.items():
            column = state.resources.index.get(name)
            if column is None or (resources.is_extended(name)
                                  and pod_requests.requested[column] == 0):
                continue
            columns.append(column)
            kept.append(weight)
        pod_side = pod_requests.nonzero if nonzero else pod_requests.requested
        columns_array = np.array(columns, dtype=np.int64)
        everywhere = bool((state.allocatable[:, columns_array] > 0).all())
        selected = pod_requests.derived[key] = (
            columns_array, np.array(kept, dtype=np.int64), pod_side[columns_array], everywhere)
    return selected


def allocation(
    state: ClusterState, pod: Pod, nodes: NodeIndex, weights: Mapping[str, int], nonzero: bool
) -> Allocation:
    """The scoring input of ``pod`` on ``nodes`` for the configured resource ``weights``.

    ``nonzero`` uses the non-zero cpu/memory requests on both sides (NodeResourcesFit's
    strategies; for other resources they equal the real ones); the balanced allocation uses
    the real requests. An extended resource the pod does not request, or that no node has,
    is not scored at all.
    """
    columns, kept, pod_side, everywhere = scored_columns(state, pod, weights, nonzero)
    node_side = state.nonzero_requested if nonzero else state.requested
    return Allocation(kept, take(state.allocatable, nodes, columns),
                      take(node_side, nodes, columns) + pod_side, everywhere)
