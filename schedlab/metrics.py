"""Figures of a placement: pods placed, allocation per resource, nodes used."""

from __future__ import annotations

from typing import Any

from schedlab.cluster import ClusterState


def allocation(state: ClusterState) -> dict[str, float]:
    """Requested / allocatable over the whole cluster, per resource any node offers."""
    total = state.allocatable.sum(axis=0)
    used = state.requested.sum(axis=0)
    return {
        name: float(used[i] / total[i])
        for i, name in enumerate(state.resources.names)
        if total[i] > 0
    }


def summarize(state: ClusterState, placed: int, unschedulable: int) -> dict[str, Any]:
    """The summary of a run: counts, allocation per resource and nodes holding a pod."""
    return {
        "pods": placed + unschedulable,
        "placed": placed,
        "unschedulable": unschedulable,
        "nodes": state.n_nodes,
        "nodes_used": int((state.pod_count > 0).sum()),
        "allocation": allocation(state),
    }
