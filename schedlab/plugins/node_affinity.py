"""NodeAffinity: nodeSelector, required and preferred node affinity, and the profile's
``addedAffinity``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.fields import Field, node_affinity
from schedlab.framework.args import PluginArgs, arg
from schedlab.framework.plugin import FilterPlugin, Scope, ScorePlugin, default_normalize
from schedlab.framework.selectors import preferred_sum, required_mask
from schedlab.objects import NodeAffinity as NodeAffinityTerms
from schedlab.objects import Pod

REASON_POD = "node(s) didn't match Pod's node affinity/selector"
REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"


def _added_affinity(node: Field) -> NodeAffinityTerms | None:
    """``addedAffinity`` as kube validates it (one that sets nothing is none)."""
    affinity = node_affinity(node, min_preferred_weight=0, label_syntax=True,
                             require_preference=True)
    if affinity is None or (affinity.required is None and not affinity.preferred):
        return None
    return affinity


@dataclass(frozen=True)
class NodeAffinityArgs(PluginArgs):
    """kube's NodeAffinityArgs: ``added_affinity`` applies to every pod, on top of its own."""

    added_affinity: NodeAffinityTerms | None = arg(None, read=_added_affinity)


class NodeAffinity(FilterPlugin, ScorePlugin):
    """nodeSelector, node affinity and ``args.added_affinity`` (NodeAffinityArgs)."""

    name = "NodeAffinity"
    has_pre_filter = True
    has_pre_score = True
    scope = Scope.STATIC
    Args = NodeAffinityArgs
    args: NodeAffinityArgs

    @property
    def added_affinity(self) -> NodeAffinityTerms | None:
        return self.args.added_affinity

    def _enforced(self, state: ClusterState) -> np.ndarray:
        return required_mask(state, {}, self.added_affinity)

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        own = required_mask(state, pod.template.node_selector, pod.template.affinity)
        return (self._enforced(state) & own)[nodes]

    def failure_reasons(
        self, state: ClusterState, pod: Pod, nodes: np.ndarray
    ) -> list[tuple[str, np.ndarray]]:
        enforced = self._enforced(state)[nodes]
        return [(REASON_ENFORCED, ~enforced), (REASON_POD, enforced)]

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        raw = preferred_sum(state, pod.template.affinity)
        raw += preferred_sum(state, self.added_affinity)
        return raw[nodes]

    def normalize_score(self, scores: np.ndarray) -> np.ndarray:
        return default_normalize(scores, reverse=False)
