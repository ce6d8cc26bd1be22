"""Figures of a placement: pods placed, allocation per resource, nodes used, and the GPU
timeline of the FGD paper's experiment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from schedlab.cluster import ClusterState
from schedlab.fragmentation import Fragmentation, TypicalPods
from schedlab.gpu import gpu_ask_milli
from schedlab.objects import Pod
from schedlab.resources import CPU, MEMORY

if TYPE_CHECKING:
    from schedlab.policies.base import Decision


def allocation(state: ClusterState) -> dict[str, float]:
    """Requested / allocatable over the whole cluster, per resource any node offers."""
    total = state.allocatable.sum(axis=0)
    used = state.requested.sum(axis=0)
    return {
        name: float(used[i] / total[i])
        for i, name in enumerate(state.resources.names)
        if total[i] > 0
    }


def peak_utilisation(state: ClusterState) -> float:
    """The highest requested / allocatable of cpu or memory on any node (0 without nodes)."""
    columns = [state.resources.index[r] for r in (CPU, MEMORY)]
    allocatable = state.allocatable[:, columns]
    requested = state.requested[:, columns]
    ratios = np.divide(requested, allocatable, out=np.zeros(allocatable.shape),
                       where=allocatable > 0)
    return float(ratios.max()) if ratios.size else 0.0


def summarize(state: ClusterState, placed: int, unschedulable: int) -> dict[str, Any]:
    """The summary of a run: counts, allocation per resource, nodes holding a pod and the
    peak utilisation."""
    return {
        "pods": placed + unschedulable,
        "placed": placed,
        "unschedulable": unschedulable,
        "nodes": state.n_nodes,
        "nodes_used": int((state.pod_count > 0).sum()),
        "peak_utilisation": peak_utilisation(state),
        "allocation": allocation(state),
    }


class GpuTimeline:
    """An observer for ``simulate`` recording GPU figures after every pod (the FGD paper's
    metrics): milli-GPU arrived so far (every pod offered, placed or not), milli-GPU
    allocated, and the cluster's fragmentation against ``typical`` (milli-GPU)."""

    def __init__(self, typical: TypicalPods) -> None:
        self.typical = typical
        self._arrived = self._used = 0
        self._rows: list[tuple[str, bool, int, int, float]] = []

    def __call__(self, state: ClusterState, pod: Pod, decision: Decision) -> None:
        ask = gpu_ask_milli(pod)
        placed = decision.node is not None
        self._arrived += ask
        self._used += ask if placed else 0
        fragmentation = Fragmentation.of(state, self.typical).total_milli()
        self._rows.append((pod.name, placed, self._arrived, self._used, fragmentation))

    def frame(self) -> pd.DataFrame:
        """One row per pod in arrival order: pod, placed, arrived_gpu_milli,
        used_gpu_milli (int64) and frag_gpu_milli (float64)."""
        columns = ["pod", "placed", "arrived_gpu_milli", "used_gpu_milli", "frag_gpu_milli"]
        frame = pd.DataFrame(self._rows, columns=columns)
        return frame.astype({"arrived_gpu_milli": "int64", "used_gpu_milli": "int64"})
