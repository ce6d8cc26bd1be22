"""RoundRobin: the next feasible node after the one chosen last."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from schedlab.cluster import ClusterState
from schedlab.objects import Pod
from schedlab.policies.base import Decision, Policy

if TYPE_CHECKING:
    from schedlab.policies.runs import RunPlacer


class RoundRobin(Policy):
    """Runs the profile's filters only; picks the first feasible node after the last node it
    chose (in node order, wrapping around). That is Greedy's search for a single feasible
    node from where the last one stopped, so runs of pods take Greedy's fast path
    (``policies.runs``) with one node to find."""

    name = "round-robin"
    uses_scores = False

    def reset(self, state: ClusterState, rng: np.random.Generator) -> None:
        super().reset(state, rng)
        self.last = -1
        self._runs: RunPlacer | None = None
        self._runs_checked = False

    def place_run(self, pods: Sequence[Pod], first: int) -> np.ndarray:
        if not self._runs_checked:
            from schedlab.policies.runs import RunPlacer

            self._runs_checked = True
            self._runs = RunPlacer.for_evaluator(self.evaluator, 1, random_ties=False,
                                                counted_pods=False)
        n = self.state.n_nodes
        if self._runs is None or n == 0:
            return super().place_run(pods, first)
        nodes, _ = self._runs.place(pods, first, (self.last + 1) % n, self.rng)
        if len(nodes):
            self.last = int(nodes[-1])
        return nodes

    def place(self, pod: Pod) -> Decision:
        found = np.flatnonzero(self.evaluator.evaluate(pod).feasible)
        if len(found) == 0:
            return self.unschedulable(pod)
        after = np.searchsorted(found, self.last + 1)
        self.last = int(found[after] if after < len(found) else found[0])
        return self.decide(pod, self.last)
