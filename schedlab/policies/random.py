"""Random: a feasible node chosen uniformly with the run's generator."""

from __future__ import annotations

import numpy as np

from schedlab.objects import Pod
from schedlab.policies.base import Decision, Policy


class Random(Policy):
    """Runs the profile's filters only; picks uniformly among the feasible nodes."""

    name = "random"
    uses_scores = False

    def place(self, pod: Pod) -> Decision:
        found = np.flatnonzero(self.evaluator.evaluate(pod).feasible)
        if len(found) == 0:
            return self.unschedulable(pod)
        return self.decide(pod, int(found[self.rng.integers(len(found))]))
