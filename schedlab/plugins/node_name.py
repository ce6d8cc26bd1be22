"""NodeName: a pod naming a node (spec.nodeName) fits only that node."""

from __future__ import annotations

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.framework.plugin import FilterPlugin, Scope
from schedlab.objects import Pod


class NodeName(FilterPlugin):
    name = "NodeName"
    scope = Scope.STATIC
    reason = "node(s) didn't match the requested node name"

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        wanted = pod.template.node_name
        mask = np.full(state.n_nodes, wanted is None)
        if wanted is not None and wanted in state.index:
            mask[state.index[wanted]] = True
        return mask[nodes]
