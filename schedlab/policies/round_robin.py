"""RoundRobin: the next feasible node after the one chosen last."""

from __future__ import annotations

import numpy as np

from schedlab.cluster import ClusterState
from schedlab.objects import Pod
from schedlab.policies.base import Decision, Policy


class RoundRobin(Policy):
    """Runs the profile's filters only; picks the first feasible node after the last node it
    chose (in node order, wrapping around)."""

    name = "round-robin"
    uses_scores = False

    def reset(self, state: ClusterState, rng: np.random.Generator) -> None:
        super().reset(state, rng)
        self.last = -1

    def place(self, pod: Pod) -> Decision:
        found = np.flatnonzero(self.evaluator.evaluate(pod).feasible)
        if len(found) == 0:
            return self.unschedulable(pod)
        after = np.searchsorted(found, self.last + 1)
        self.last = int(found[after] if after < len(found) else found[0])
        return self.decide(pod, self.last)
