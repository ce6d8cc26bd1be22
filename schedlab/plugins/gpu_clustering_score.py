"""GpuClusteringScore: the FGD paper's baseline that keeps GPU pods of one kind together.

A GPU pod's kind is "sharing" (kind 0) or "c whole GPUs" (kind c >= 1): ``gpu_kind``, which
counts the bound pods of each kind per node (``ClusterState.tally_by(gpu_kind)``). A node
scores ``25 * (8000 - free milli-GPU) // 8000`` plus 75 if it hosts only pods of the pod's
kind, 50 if it hosts that kind among others, 25 if it hosts no GPU pod, 0 otherwise. A pod
without a GPU ask scores 0.
"""

from __future__ import annotations

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.framework.plugin import MAX_NODE_SCORE, go_div
from schedlab.gpu import gpu_free_milli
from schedlab.objects import Pod, PodTemplate
from schedlab.plugins.gpu_share import MAX_SPEC_GPU_MILLI, GpuScorePlugin

QUARTER = MAX_NODE_SCORE // 4


def gpu_kind(template: PodTemplate) -> tuple[int, ...]:
    """The kind of a GPU pod of ``template``, as the one key of ``ClusterState.tally_by``: 0
    for a sharing pod, c for a pod holding c whole GPUs; none for a pod without a GPU ask."""
    request = template.gpu
    if request is None:
        return ()
    return (0 if request.shares else request.count,)


class GpuClusteringScore(GpuScorePlugin):
    """Score: nodes already hosting the pod's kind of GPU pod, fuller first."""

    name = "GpuClusteringScore"

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        if pod.template.gpu is None:
            return np.zeros(state.count(nodes), dtype=np.int64)
        used = MAX_SPEC_GPU_MILLI - gpu_free_milli(state, nodes)  # below 0 past 8 GPUs
        fullness = go_div(QUARTER * used, MAX_SPEC_GPU_MILLI)
        (kind,) = gpu_kind(pod.template)
        n_kinds = np.zeros(len(fullness), dtype=np.int64)
        has_kind = np.zeros(len(fullness), dtype=bool)
        for other, tally in state.tally_by(gpu_kind).items():
            hosts = tally.per_node[nodes] > 0
            n_kinds += hosts
            if other == kind:
                has_kind = hosts
        band = np.where(has_kind, np.where(n_kinds == 1, 3 * QUARTER, 2 * QUARTER),
                        np.where(n_kinds == 0, QUARTER, 0))
        return fullness + band
