"""NodeUnschedulable: nodes with spec.unschedulable reject pods not tolerating that taint."""

from __future__ import annotations

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.framework.plugin import FilterPlugin, Scope
from schedlab.matching import UNSCHEDULABLE_TAINT, tolerates
from schedlab.objects import Pod


class NodeUnschedulable(FilterPlugin):
    name = "NodeUnschedulable"
    scope = Scope.STATIC
    reason = "node(s) were unschedulable"

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        if any(tolerates(t, UNSCHEDULABLE_TAINT) for t in pod.template.tolerations):
            return np.ones(state.n_nodes, dtype=bool)[nodes]
        return ~state.unschedulable[nodes]
