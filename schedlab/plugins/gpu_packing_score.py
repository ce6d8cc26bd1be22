"""GpuPackingScore: the FGD paper's GPU packing baseline, in three tiers.

For a GPU pod, the devices it would take are the tightest with room. If none of them is
fully free the pod packs onto shared GPUs: ``max(100 - (Σ free*100//1000) // 10, 50)`` over
those devices. If it needs k fully free devices on a node already in use: ``max(50 - k, 33)``.
On an idle node with n devices: ``max(33 - n, n)``. A pod without a GPU ask scores 0.
"""

from __future__ import annotations

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.framework.plugin import MAX_NODE_SCORE
from schedlab.objects import MILLI_PER_GPU, Pod
from schedlab.plugins.gpu_share import GpuScorePlugin

SHARED_FLOOR = MAX_NODE_SCORE // 2
"""Scores of pods packed onto shared GPUs run from 100 down to this."""
FREE_ON_USED_CEILING, FREE_ON_USED_FLOOR = MAX_NODE_SCORE // 2, MAX_NODE_SCORE // 3
"""Scores of pods that need fully free GPUs of a used node: 50 - k, at least 33."""
IDLE_CEILING = MAX_NODE_SCORE // 3
"""Scores of idle nodes: 33 - n, at least n."""


class GpuPackingScore(GpuScorePlugin):
    """Score: shared GPUs first (the fuller the better), then free GPUs of used nodes, then
    idle nodes (the smaller the better)."""

    name = "GpuPackingScore"

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        request = pod.template.gpu
        if request is None:
            return np.zeros(state.count(nodes), dtype=np.int64)
        free = state.gpu_free[nodes]
        devices = state.gpu_count[nodes]
        fully_free = np.count_nonzero(free == MILLI_PER_GPU, axis=1)
        idle = np.maximum(IDLE_CEILING - fully_free, fully_free)
        if not request.shares:  # whole GPUs: the devices taken are fully free ones
            on_used = max(FREE_ON_USED_CEILING - request.count, FREE_ON_USED_FLOOR)
            return np.where(fully_free == devices, idle, on_used)
        no_room = MILLI_PER_GPU + 1
        tightest = np.where(free >= request.milli, free, no_room).min(axis=1, initial=no_room)
        shared = np.maximum(MAX_NODE_SCORE - (tightest * 100 // MILLI_PER_GPU) // 10,
                            SHARED_FLOOR)
        used = np.where(tightest == MILLI_PER_GPU, FREE_ON_USED_CEILING - 1, shared)
        return np.where(fully_free == devices, idle, np.where(tightest == no_room, 0, used))
