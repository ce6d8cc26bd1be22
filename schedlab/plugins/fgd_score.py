"""FGDScore: Fragmentation Gradient Descent (Weng et al., USENIX ATC '23).

A node scores ``int(100 * sigmoid((frag_before - frag_after) / 1000))``, where frag is the
node's GPU fragmentation (milli-GPU) against the typical pods (``schedlab.fragmentation``)
before and after the pod lands there. A sharing pod tries every device with room and keeps the
best; its devices are chosen the same way (the first device with the highest score), unless
``gpu_selection`` says otherwise. Whole-GPU pods take the lowest-index fully free devices.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from schedlab.caches import IdCache, PerState
from schedlab.cluster import ALL, ClusterState, NodeIndex
from schedlab.errors import SchedulingError
from schedlab.fragmentation import Fragmentation, NodeParts, TypicalPods, cpu_milli
from schedlab.framework.args import arg
from schedlab.framework.plugin import MAX_NODE_SCORE
from schedlab.gpu import GPU_SELECTIONS
from schedlab.objects import MILLI_PER_GPU, Pod
from schedlab.plugins.gpu_share import GpuScoreArgs, GpuScorePlugin


def sigmoid_score(gain_milli: np.ndarray) -> np.ndarray:
    """int64 ``int(100 * sigmoid(gain / 1000))`` of fragmentation gains in milli-GPU."""
    return (1.0 / (1.0 + np.exp(-gain_milli / 1000.0)) * MAX_NODE_SCORE).astype(np.int64)


SATURATION_MILLI = 50_000
"""A gain (milli-GPU) beyond which ``sigmoid_score`` is 0 or 100 whatever the sign."""


@lru_cache(maxsize=64)
def sigmoid_thresholds(total: int) -> np.ndarray:
    """int64 (100,): at [s - 1], the least integer scaled gain g (a gain in milli-GPU times
    ``total``) for which ``sigmoid_score(g / total)`` is at least s, found by bisection with
    that numpy formula; a gain scores as many thresholds as it reaches
    (``gpu_kernels.score_of``), the same integers for any gain (beyond ±``SATURATION_MILLI``
    the score is 0 or 100, reached within it). Read-only, kept per ``total``."""
    wanted = np.arange(1, MAX_NODE_SCORE + 1)
    bound = SATURATION_MILLI * total
    low = np.full(MAX_NODE_SCORE, -bound, dtype=np.int64)
    high = np.full(MAX_NODE_SCORE, bound + 1, dtype=np.int64)
    while (active := low < high).any():
        middle = (low + high) // 2
        reached = sigmoid_score(middle / total) >= wanted
        high = np.where(active & reached, middle, high)
        low = np.where(active & ~reached, middle + 1, low)
    low.flags.writeable = False
    return low


@dataclass(frozen=True)
class FGDScoreArgs(GpuScoreArgs):
    """``typical_pods``: the shapes fragmentation is measured against (from Python only);
    None (the default) draws them from the pods of the workload the state was made for
    (``TypicalPods.of(state.workload_pods)``). ``gpu_selection``: "fgd" (the device that
    lowers fragmentation most), "best" or "random"."""

    typical_pods: TypicalPods | None = arg(
        None, expected="a schedlab.fragmentation.TypicalPods (from Python), or unset for "
                       "the workload's")
    gpu_selection: str = arg("fgd", choices=("fgd", *GPU_SELECTIONS))


class FGDScore(GpuScorePlugin):
    """Score: how much placing the pod on a node lowers the node's fragmentation
    (FGDScoreArgs)."""

    name = "FGDScore"
    Args = FGDScoreArgs
    args: FGDScoreArgs

    def cache_key(self, state: ClusterState, pod: Pod) -> tuple[Hashable, ...]:
        return (*super().cache_key(state, pod), bool(pod.template.requests))

    def fragmentation(self, state: ClusterState) -> Fragmentation:
        """The state's fragmentation against this plugin's typical pods, synced."""
        typical = self.args.typical_pods
        if typical is None:
            drawn = _WORKLOAD_TYPICAL.of(state)
            pods = state.workload_pods
            typical = drawn.get(id(pods))
            if typical is None:
                typical = drawn.put(id(pods), TypicalPods.of(pods), pods)
        return Fragmentation.of(state, typical)

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        if not pod.template.requests:  # as the simulator: a pod asking nothing scores 100
            return np.full(state.count(nodes), MAX_NODE_SCORE, dtype=np.int64)
        fragmentation = self.fragmentation(state)
        request = pod.template.gpu
        if request is not None and request.shares:
            return self._sharing_scores(state, fragmentation, pod, nodes)
        parts = _rows(fragmentation.parts, nodes)
        taken = 0 if request is None else request.count
        after = NodeParts(parts.below, parts.fitting - taken,
                          parts.idle - taken * MILLI_PER_GPU, parts.cpu_free - cpu_milli(pod))
        gain = fragmentation.scaled[nodes] - fragmentation.amounts(after, nodes)
        # the simulator leaves a node short of the pod's (non-zero) cpu unchanged: gain 0
        return sigmoid_score(np.where(after.cpu_free < 0, 0, gain) / fragmentation.typical.total)

    def _sharing_scores(self, state: ClusterState, fragmentation: Fragmentation, pod: Pod,
                        nodes: NodeIndex) -> np.ndarray:
        """Each node's best score over its devices with room (0 where none has room); devices
        with equal free milli are tried once."""
        free = np.sort(state.gpu_free[nodes], axis=1)
        distinct = np.ones(free.shape, dtype=bool)
        distinct[:, 1:] = free[:, 1:] != free[:, :-1]
        request = pod.template.gpu
        assert request is not None  # (sharing pods only)
        rows, devices = np.nonzero(distinct & (free >= request.milli))
        scores = np.zeros(len(free), dtype=np.int64)
        if len(rows):
            node_rows = np.arange(state.n_nodes)[nodes][rows]
            option_scores = self._device_scores(fragmentation, pod, node_rows,
                                                free[rows, devices])
            np.maximum.at(scores, rows, option_scores)
        return scores

    def _device_scores(self, fragmentation: Fragmentation, pod: Pod, node_rows: np.ndarray,
                       device_free: np.ndarray) -> np.ndarray:
        """Scores of putting sharing ``pod`` on one device per option: options are parallel
        int64 (p,) arrays of node indices and the milli free on the chosen device."""
        request = pod.template.gpu
        assert request is not None  # (sharing pods only)
        milli = request.milli
        shape_milli = fragmentation.typical.gpu_milli
        parts = _rows(fragmentation.parts, node_rows)
        before = device_free[:, None]
        after = before - milli
        below = (parts.below - np.where(before < shape_milli, before, 0)
                 + np.where(after < shape_milli, after, 0))
        fitting = parts.fitting - (before >= shape_milli) + (after >= shape_milli)
        changed = NodeParts(below, fitting, parts.idle - milli, parts.cpu_free - cpu_milli(pod))
        gain = fragmentation.scaled[node_rows] - fragmentation.amounts(changed, node_rows)
        return sigmoid_score(gain / fragmentation.typical.total)

    def select_gpus(self, state: ClusterState, pod: Pod, node: int,
                    rng: np.random.Generator) -> tuple[int, ...]:
        """For a sharing pod under "fgd": the first device with the highest score."""
        request = pod.template.gpu
        assert request is not None  # (asked only about GPU pods)
        if self.args.gpu_selection != "fgd" or not request.shares:
            return super().select_gpus(state, pod, node, rng)
        from schedlab.gpu_kernels import fgd_device  # (as ``_device_scores``, compiled)

        fragmentation = self.fragmentation(state)
        parts = fragmentation.parts
        device = fgd_device(node, request.milli, cpu_milli(pod), state.gpu_free,
                            fragmentation.accessible, parts.below, parts.fitting, parts.idle,
                            parts.cpu_free, fragmentation.scaled, fragmentation.shapes,
                            sigmoid_thresholds(fragmentation.typical.total))
        if device < 0:
            raise SchedulingError(f"pod {pod.key}: no device of node {state.names[node]} has "
                                  f"{request.milli} milli-GPU free")
        return (device,)


def _rows(parts: NodeParts, nodes: NodeIndex) -> NodeParts:
    """``parts`` restricted to ``nodes`` (copies where ``nodes`` is an index array)."""
    if isinstance(nodes, slice) and nodes == ALL:
        return parts
    return NodeParts(parts.below[nodes], parts.fitting[nodes], parts.idle[nodes],
                     parts.cpu_free[nodes])


_WORKLOAD_TYPICAL: PerState[ClusterState, IdCache[int, TypicalPods]] = PerState(
    lambda _: IdCache())
"""Per state: id(state.workload_pods) → the typical pods drawn from them."""
