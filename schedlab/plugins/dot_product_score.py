"""DotProductScore: the FGD paper's Tetris-like baseline (dimension merge, max norm).

The node's free vector (cpu, GPU summed over devices) and the pod's ask, each divided by the
maximum node (128000 millicores, 8000 milli-GPU), score ``int(100 * (1 - dot / 2))``: the node
that would align least with the pod's ask leaves the pod the least room to waste. A node
without the cpu scores 0.
"""

from __future__ import annotations

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.fragmentation import cpu_milli
from schedlab.framework.plugin import MAX_NODE_SCORE
from schedlab.gpu import cpu_free_milli, gpu_ask_milli, gpu_free_milli
from schedlab.objects import Pod
from schedlab.plugins.gpu_share import MAX_SPEC_CPU_MILLI, MAX_SPEC_GPU_MILLI, GpuScorePlugin


class DotProductScore(GpuScorePlugin):
    """Score: 100 × (1 − (free · ask) / 2) over normalised (cpu, GPU) vectors."""

    name = "DotProductScore"

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        cpu_left = cpu_free_milli(state, nodes)
        cpu = cpu_milli(pod)
        dot = ((cpu_left / MAX_SPEC_CPU_MILLI) * (cpu / MAX_SPEC_CPU_MILLI)
               + (gpu_free_milli(state, nodes) / MAX_SPEC_GPU_MILLI)
               * (gpu_ask_milli(pod) / MAX_SPEC_GPU_MILLI))
        scores = ((1.0 - dot / 2) * MAX_NODE_SCORE).astype(np.int64)
        return np.where(cpu_left < cpu, 0, scores)
