"""A user's plugin and policy for ``--plugin`` (see the README's "Adding a score plugin"):

    schedlab bench --plugin traces/examples/plugins/prefer_empty.py:PreferEmptyNodes \
        --config traces/examples/plugins/prefer-empty.yaml
"""

import numpy as np

import schedlab


class PreferEmptyNodes(schedlab.ScorePlugin):
    """100 on nodes running no pod yet, 0 elsewhere."""

    name = "PreferEmptyNodes"
    scope = schedlab.Scope.NODE  # a bind changes only the bound node's answer

    def score(self, state, pod, nodes):
        return np.where(state.pod_count[nodes] == 0, 100, 0)


class FirstFit(schedlab.Policy):
    """The first feasible node in input order."""

    name = "first-fit"
    uses_scores = False

    def place(self, pod):
        feasible = np.flatnonzero(self.evaluator.evaluate(pod).feasible)
        if len(feasible) == 0:
            return self.unschedulable(pod)
        return schedlab.Decision(int(feasible[0]))
