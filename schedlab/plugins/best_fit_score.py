"""BestFitScore: the FGD paper's best-fit baseline.

Raw score ``int(100 * (1 - Σ_d ((free_d - ask_d) / max_d) * 0.5))`` over d in (cpu, GPU), with
free GPU summed over the node's devices and max_d = 128000 millicores and 8000 milli-GPU;
memory is not scored. Scores are then stretched min-max over the candidate nodes
(``(s - lo) * 100 // (hi - lo)``; all 0 when every candidate scores alike).
"""

from __future__ import annotations

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.fragmentation import cpu_milli
from schedlab.framework.plugin import MAX_NODE_SCORE
from schedlab.gpu import cpu_free_milli, gpu_ask_milli, gpu_free_milli
from schedlab.objects import Pod
from schedlab.plugins.gpu_share import MAX_SPEC_CPU_MILLI, MAX_SPEC_GPU_MILLI, GpuScorePlugin


class BestFitScore(GpuScorePlugin):
    """Score: the less cpu and GPU a node would have left, the higher."""

    name = "BestFitScore"

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        cpu_left = (cpu_free_milli(state, nodes) - cpu_milli(pod)) / MAX_SPEC_CPU_MILLI * 0.5
        gpu_left = (gpu_free_milli(state, nodes) - gpu_ask_milli(pod)) / MAX_SPEC_GPU_MILLI * 0.5
        return ((1.0 - (cpu_left + gpu_left)) * MAX_NODE_SCORE).astype(np.int64)

    def normalize_score(self, scores: np.ndarray) -> np.ndarray:
        """Min-max over the candidates, integer division; all 0 if they are equal."""
        if not len(scores):
            return scores
        low, high = scores.min(), scores.max()
        if high == low:
            return np.zeros(len(scores), dtype=np.int64)
        return (scores - low) * MAX_NODE_SCORE // (high - low)
