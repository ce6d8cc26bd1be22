"""TaintToleration: untolerated NoSchedule/NoExecute taints filter a node out; untolerated
PreferNoSchedule taints count against it in scoring (reverse-normalised)."""

from __future__ import annotations

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.framework.plugin import FilterPlugin, Scope, ScorePlugin, default_normalize
from schedlab.matching import tolerates
from schedlab.objects import Pod, Toleration

HARD_EFFECTS = ("NoSchedule", "NoExecute")


def untolerated(
    state: ClusterState, tolerations: tuple[Toleration, ...], effects: tuple[str, ...]
) -> np.ndarray:
    """Bool (n distinct taints,): taints with an effect in ``effects`` that no toleration
    tolerates."""
    return np.array(
        [
            t.effect in effects and not any(tolerates(tol, t) for tol in tolerations)
            for t in state.taints.distinct
        ],
        dtype=bool,
    )


class TaintToleration(FilterPlugin, ScorePlugin):
    name = "TaintToleration"
    has_pre_score = True
    scope = Scope.STATIC

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        flags = untolerated(state, pod.template.tolerations, HARD_EFFECTS)
        return np.logical_not(state.taints.per_node(flags, nodes).any(axis=1))

    def failure_reasons(
        self, state: ClusterState, pod: Pod, nodes: np.ndarray
    ) -> list[tuple[str, np.ndarray]]:
        """One reason per distinct first untolerated taint (in node taint order), as kube."""
        flags = untolerated(state, pod.template.tolerations, HARD_EFFECTS)
        first = state.taints.per_node(flags, nodes).argmax(axis=1)
        taint_ids = state.taints.ids[nodes, first]
        reasons = []
        for taint_id in np.unique(taint_ids):
            taint = state.taints.distinct[taint_id]
            reason = f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"
            reasons.append((reason, taint_ids == taint_id))
        return reasons

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        """Count of PreferNoSchedule taints not tolerated by the pod's tolerations whose
        effect is empty or PreferNoSchedule."""
        soft = tuple(t for t in pod.template.tolerations if t.effect in ("", "PreferNoSchedule"))
        flags = untolerated(state, soft, ("PreferNoSchedule",))
        return state.taints.per_node(flags, nodes).sum(axis=1, dtype=np.int64)

    def normalize_score(self, scores: np.ndarray) -> np.ndarray:
        return default_normalize(scores, reverse=True)
