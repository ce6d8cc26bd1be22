"""GpuShare: the GPU filter of the FGD paper's simulator (its Open-Gpu-Share plugin), and the
base of the paper's GPU score plugins.

A pod without a GPU ask passes every node. A GPU pod passes a node whose GPU model it allows
and on which ``count`` devices each have its ``milli`` free (``schedlab.gpu``).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import ClassVar, cast

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.fragmentation import cpu_milli
from schedlab.framework.args import PluginArgs, arg
from schedlab.framework.plugin import FilterPlugin, Scope, ScorePlugin
from schedlab.gpu import GPU_SELECTIONS, GpuSelection, fits, select_gpus
from schedlab.objects import Pod

MAX_SPEC_CPU_MILLI = 128_000
"""The FGD simulator's normalising cpu capacity (its largest node), millicores."""
MAX_SPEC_GPU_MILLI = 8_000
"""The FGD simulator's normalising GPU capacity (eight GPUs), milli-GPU."""


class GpuShare(FilterPlugin):
    """Filter: the node has GPUs of an allowed model with room for the pod's GPU ask."""

    name = "GpuShare"
    scope = Scope.NODE

    def cache_key(self, state: ClusterState, pod: Pod) -> Hashable:
        return ("gpu", pod.template.gpu)

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        request = pod.template.gpu
        if request is None:
            return np.ones(state.count(nodes), dtype=bool)
        return fits(state, request, nodes)

    def failure_reasons(
        self, state: ClusterState, pod: Pod, nodes: np.ndarray
    ) -> list[tuple[str, np.ndarray]]:
        request = pod.template.gpu
        assert request is not None  # (a pod without a GPU ask passes every node)
        allowed = state.gpu_model_allowed(request.models)[nodes]
        return [("node(s) didn't have GPUs of an allowed model", ~allowed),
                ("Insufficient GPU", allowed)]


@dataclass(frozen=True)
class GpuScoreArgs(PluginArgs):
    """``gpu_selection``: how a GPU pod's devices are picked on the chosen node, "best" (the
    tightest that fit) or "random"."""

    gpu_selection: str = arg("best", choices=GPU_SELECTIONS)


class GpuScorePlugin(ScorePlugin):
    """Base of the FGD paper's score plugins: scores depend on the pod's cpu and GPU ask and
    on one node's state (NODE scope), and the plugin picks a GPU pod's devices on the chosen
    node with ``args.gpu_selection`` (GpuScoreArgs)."""

    scope = Scope.NODE
    Args: ClassVar[type[PluginArgs]] = GpuScoreArgs
    args: GpuScoreArgs

    def cache_key(self, state: ClusterState, pod: Pod) -> tuple[Hashable, ...]:
        return ("gpu-score", cpu_milli(pod), pod.template.gpu)

    def select_gpus(self, state: ClusterState, pod: Pod, node: int,
                    rng: np.random.Generator) -> tuple[int, ...]:
        """The devices ``pod`` takes on node index ``node``."""
        request = pod.template.gpu
        assert request is not None  # (asked only about GPU pods)
        # (a subclass's own selections, as FGDScore's "fgd", never reach here)
        method = cast(GpuSelection, self.args.gpu_selection) if request.shares else "best"
        return select_gpus(method, state.gpu_free[node], request, rng)

