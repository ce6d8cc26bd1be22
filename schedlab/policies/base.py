"""The policy contract: ``reset`` once per run, then ``place`` one pod at a time."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from schedlab.cluster import ClusterState
from schedlab.errors import SchedulingError
from schedlab.framework.cycle import Evaluator
from schedlab.framework.plugin import GpuSelector
from schedlab.framework.profile import Profile
from schedlab.gpu import default_gpus, fits_node
from schedlab.objects import Pod

if TYPE_CHECKING:
    from schedlab.policies.compiled import CompiledSearch

NO_NODES = np.empty(0, dtype=np.int64)
"""A run of no pods (``Policy.place_run``: ask ``place``)."""
NO_NODES.flags.writeable = False


@dataclass(frozen=True)
class Decision:
    """Where a pod goes: a node index, or None with the reason it fits nowhere; for a GPU
    pod, ``gpus`` are the device indices it takes on the node (None: the tightest that fit,
    ``devices``)."""

    node: int | None
    reason: str | None = None
    gpus: tuple[int, ...] | None = None

    def devices(self, state: ClusterState, pod: Pod) -> tuple[int, ...] | None:
        """The GPU devices ``pod`` takes on ``node``: ``gpus``, or when the policy named none
        ``gpu.default_gpus`` (None for a pod without a GPU ask)."""
        assert self.node is not None  # (asked of placements only)
        return self.gpus if self.gpus is not None else default_gpus(state, pod, self.node)


class Policy(abc.ABC):
    """A placement policy. It reads the state and returns decisions; only the simulator binds.

    Subclasses implement ``place`` and return ``self.decide(pod, node)``. ``self.evaluator``
    runs the profile's filters (and scores, if ``uses_scores``); ``self.rng`` is the run's
    seeded generator, the only randomness allowed. A GPU pod's devices are chosen by the first
    score plugin of the profile that has ``select_gpus`` (the FGD paper's GPU selection
    methods), else the tightest devices that fit.
    """

    name: ClassVar[str] = ""
    uses_scores: ClassVar[bool] = True
    batch_window: ClassVar[float] = 0.0
    """In a replay, run the scheduler every ``batch_window`` seconds (0: at every event
    time), so that a policy that plans (``plan``) sees batches of pods."""

    def __init__(self, profile: Profile | None = None) -> None:
        self.profile = profile if profile is not None else Profile.default()

    def reset(self, state: ClusterState, rng: np.random.Generator) -> None:
        """Start a run on ``state`` with ``rng``; forget everything from earlier runs."""
        self.state = state
        self.rng = rng
        profile = self.profile if self.uses_scores else replace(self.profile, scores=())
        self.evaluator = Evaluator(profile, state)
        self._gpu_selector: GpuSelector | None = next(
            (p for p, _ in self.profile.scores if isinstance(p, GpuSelector)), None)

    def decide(self, pod: Pod, node: int) -> Decision:
        """The decision to put ``pod`` on node index ``node``, with its GPU devices."""
        if pod.template.gpu is None:
            return Decision(node)
        if not fits_node(self.state, pod.template.gpu, node):
            raise SchedulingError(
                f"pod {pod.key} asks for GPUs and was placed on node {self.state.names[node]}, "
                "which has no room or model for them: add the GpuShare filter to the profile")
        if self._gpu_selector is None:
            return Decision(node, gpus=default_gpus(self.state, pod, node))
        return Decision(node, gpus=self._gpu_selector.select_gpus(self.state, pod, node,
                                                                  self.rng))

    def plan(self, pods: Sequence[Pod]) -> None:
        """Called once after ``reset`` with the pending pods, in the order ``place`` will be
        asked about them; a batch policy (``Optimal``) plans here, others ignore it."""
        del pods

    def details(self) -> dict[str, Any]:
        """Figures the policy reports on its run (kept in ``RunResult.summary["report"]``);
        none by default."""
        return {}

    def compiled_search(self) -> CompiledSearch | None:
        """For the replay's compiled runs (``sim.replay_runs``): how ``place`` places the
        pods of a class the compiled cycle has planned, when that is all it does; None (the
        default): the replay asks ``place`` for every pod."""
        return None

    def place_run(self, pods: Sequence[Pod], first: int) -> np.ndarray:
        """A fast path: nodes (int64 indices) for pods[first:], one per pod from ``first``
        on, as far as the policy can place them at once, each exactly as ``place`` would
        with the ones before it bound (none: ask ``place``). The caller binds them, in
        order, before asking the policy anything else. None by default."""
        del pods, first
        return NO_NODES

    @abc.abstractmethod
    def place(self, pod: Pod) -> Decision:
        """Choose a node for ``pod`` (not yet bound) given the current state."""

    def unschedulable(self, pod: Pod) -> Decision:
        """The decision for a pod no node can take, with kube's reason message."""
        return Decision(None, self.evaluator.unschedulable_message(pod))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
