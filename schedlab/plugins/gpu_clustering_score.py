"""GpuClusteringScore: the FGD paper's baseline that keeps GPU pods of one kind together.

A GPU pod's kind is "sharing" or "c whole GPUs" (``ClusterState.gpu_pods``). A node scores
``25 * (8000 - free milli-GPU) // 8000`` plus 75 if it hosts only pods of the pod's kind, 50 if
it hosts that kind among others, 25 if it hosts no GPU pod, 0 otherwise. A pod without a GPU
ask scores 0.
"""

from __future__ import annotations

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.framework.plugin import MAX_NODE_SCORE, go_div
from schedlab.gpu import gpu_free_milli
from schedlab.objects import Pod
from schedlab.plugins.gpu_share import MAX_SPEC_GPU_MILLI, GpuScorePlugin

QUARTER = MAX_NODE_SCORE // 4


class GpuClusteringScore(GpuScorePlugin):
    """Score: nodes already hosting the pod's kind of GPU pod, fuller first."""

    name = "GpuClusteringScore"

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        request = pod.template.gpu
        if request is None:
            return np.zeros(state.count(nodes), dtype=np.int64)
        used = MAX_SPEC_GPU_MILLI - gpu_free_milli(state, nodes)  # below 0 past 8 GPUs
        fullness = go_div(QUARTER * used, MAX_SPEC_GPU_MILLI)
        kinds = state.gpu_pods[nodes]
        n_kinds = np.count_nonzero(kinds, axis=1)
        kind = 0 if request.shares else request.count
        has_kind = kinds[:, kind] > 0 if kind < kinds.shape[1] else np.zeros(len(kinds), bool)
        band = np.where(has_kind, np.where(n_kinds == 1, 3 * QUARTER, 2 * QUARTER),
                        np.where(n_kinds == 0, QUARTER, 0))
        return fullness + band
