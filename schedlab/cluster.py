"""``ClusterState``: the cluster as numpy arrays indexed by node, updated incrementally.

Only the simulator writes it (``bind``/``unbind``); plugins and policies read it. Node labels and
taints are interned once, so selectors and tolerations are matched against small integer codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from schedlab import resources
from schedlab.errors import SchedlabError
from schedlab.objects import Node, Pod, Taint, Workload
from schedlab.pods import PodRequests, compile_requests

NodeIndex = np.ndarray | slice
"""Which nodes a plugin is asked about: an int64 index array, or ``ALL``."""
ALL: slice = slice(None)


def take(array: np.ndarray, nodes: NodeIndex, columns: np.ndarray) -> np.ndarray:
    """``array[nodes][:, columns]`` for a (n_nodes, k) array, in one indexing step."""
    if isinstance(nodes, slice):
        return array[nodes, columns]
    return array[nodes[:, None], columns]


class NodeLabels:
    """Node labels interned per key.

    ``codes(key)`` is an int32 array of shape (n_nodes,) holding each node's value code for the
    key, -1 where the node lacks it; ``value_codes(key, values)`` maps label values to codes.
    """

    def __init__(self, nodes: Sequence[Node]) -> None:
        self.n_nodes = len(nodes)
        self._values: dict[str, dict[str, int]] = {}
        self._codes: dict[str, np.ndarray] = {}
        for i, node in enumerate(nodes):
            for key, value in node.labels.items():
                values = self._values.setdefault(key, {})
                codes = self._codes.get(key)
                if codes is None:
                    codes = self._codes[key] = np.full(self.n_nodes, -1, dtype=np.int32)
                codes[i] = values.setdefault(value, len(values))
        self._absent = np.full(self.n_nodes, -1, dtype=np.int32)
        self._absent.flags.writeable = False
        for codes in self._codes.values():
            codes.flags.writeable = False

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._codes)

    def codes(self, key: str) -> np.ndarray:
        """Value codes of ``key`` per node, shape (n_nodes,), -1 where absent."""
        return self._codes.get(key, self._absent)

    def value_codes(self, key: str, values: Iterable[str]) -> np.ndarray:
        """Codes of those ``values`` that some node carries under ``key`` (int32, 1-D)."""
        known = self._values.get(key, {})
        return np.array([known[v] for v in values if v in known], dtype=np.int32)

    def values(self, key: str) -> list[str]:
        """The distinct values of ``key``, indexed by code."""
        return list(self._values.get(key, {}))


class NodeTaints:
    """Node taints interned: ``distinct`` lists each different taint once; ``ids`` has shape
    (n_nodes, max taints per node) and holds each node's taints in node order, -1 padded."""

    def __init__(self, nodes: Sequence[Node]) -> None:
        index: dict[Taint, int] = {}
        width = max((len(n.taints) for n in nodes), default=0)
        self.ids = np.full((len(nodes), width), -1, dtype=np.int32)
        for i, node in enumerate(nodes):
            for j, taint in enumerate(node.taints):
                self.ids[i, j] = index.setdefault(taint, len(index))
        self.distinct: tuple[Taint, ...] = tuple(index)
        self.ids.flags.writeable = False

    def per_node(self, flags: np.ndarray, nodes: NodeIndex) -> np.ndarray:
        """Look a per-distinct-taint bool array ``flags`` (len(distinct),) up for each taint of
        ``nodes``: a bool array of shape (len(nodes), max taints per node), False on padding."""
        padded = np.append(np.asarray(flags, dtype=bool), False)
        return padded[self.ids[nodes]]


class ClusterState:
    """The cluster as arrays over nodes (in input order).

    Attributes, all indexed by node:
      allocatable        int64 (n_nodes, n_resources), columns per ``resources``
      requested          int64 (n_nodes, n_resources): real requests of bound pods
      nonzero_requested  int64 (n_nodes, n_resources): as ``requested`` with kube's non-zero
                         defaults (100m cpu, 200MiB memory per container naming none)
      allowed_pods       int64 (n_nodes,): the pod-count limit
      pod_count          int64 (n_nodes,): pods bound
      unschedulable      bool (n_nodes,): spec.unschedulable
    """

    def __init__(self, nodes: Sequence[Node], extended_resources: Iterable[str] = ()) -> None:
        self.nodes: tuple[Node, ...] = tuple(nodes)
        self.names: tuple[str, ...] = tuple(n.name for n in self.nodes)
        self.index: dict[str, int] = {name: i for i, name in enumerate(self.names)}
        if len(self.index) != len(self.names):
            raise SchedlabError("node names must be unique")
        names = {r for n in self.nodes for r in n.allocatable} | set(extended_resources)
        self.resources = resources.ResourceAxis(r for r in names if resources.is_extended(r))
        n, r = len(self.nodes), len(self.resources)
        self.allocatable = np.zeros((n, r), dtype=np.int64)
        for i, node in enumerate(self.nodes):
            for name, amount in node.allocatable.items():
                if name in self.resources.index:
                    self.allocatable[i, self.resources.index[name]] = amount
        self.allowed_pods = np.array(
            [n.allocatable.get(resources.PODS, resources.DEFAULT_ALLOWED_PODS) for n in nodes],
            dtype=np.int64,
        )
        self.unschedulable = np.array([n.unschedulable for n in self.nodes], dtype=bool)
        for fixed in (self.allocatable, self.allowed_pods, self.unschedulable):
            fixed.flags.writeable = False
        self.labels = NodeLabels(self.nodes)
        self.taints = NodeTaints(self.nodes)
        self.requested = np.zeros((n, r), dtype=np.int64)
        self.nonzero_requested = np.zeros((n, r), dtype=np.int64)
        self.pod_count = np.zeros(n, dtype=np.int64)
        self.bound: dict[str, int] = {}
        self._changes: list[int] = []
        self._compiled: dict[int, tuple[object, PodRequests]] = {}

    @classmethod
    def from_workload(cls, workload: Workload) -> ClusterState:
        """A state over the workload's nodes, with a column for every resource its pods use."""
        templates = {id(p.template): p.template for p in workload.pods}.values()
        used = {r for t in templates for r in t.requests}
        return cls(workload.nodes, (r for r in used if resources.is_extended(r)))

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    def count(self, nodes: NodeIndex) -> int:
        """How many nodes ``nodes`` (an index array or a slice) selects."""
        if isinstance(nodes, slice):
            return len(range(*nodes.indices(self.n_nodes)))
        return len(nodes)

    @property
    def epoch(self) -> int:
        """Counts binds and unbinds; ``changed_since(epoch)`` lists the nodes they touched."""
        return len(self._changes)

    def changed_since(self, epoch: int) -> np.ndarray:
        """Sorted unique indices (int64) of the nodes bound or unbound since ``epoch``."""
        changes = self._changes[epoch:]
        if len(changes) == 1:
            return np.array(changes, dtype=np.int64)
        return np.unique(np.array(changes, dtype=np.int64))

    def requests_of(self, pod: Pod) -> PodRequests:
        """The pod's requests as vectors over ``resources`` (compiled once per template)."""
        cached = self._compiled.get(id(pod.template))
        if cached is None:
            cached = self._compiled[id(pod.template)] = (
                pod.template,
                compile_requests(pod.template, self.resources),
            )
        return cached[1]

    def bind(self, pod: Pod, node: int) -> None:
        """Account ``pod`` on node index ``node``. Only the simulator calls this."""
        if pod.key in self.bound:
            raise SchedlabError(f"pod {pod.key} is already bound")
        req = self.requests_of(pod)
        self.requested[node] += req.requested
        self.nonzero_requested[node] += req.nonzero
        self.pod_count[node] += 1
        self.bound[pod.key] = node
        self._changes.append(node)

    def unbind(self, pod: Pod) -> int:
        """Remove a bound pod; returns the node index it was on."""
        node = self.bound.pop(pod.key, None)
        if node is None:
            raise SchedlabError(f"pod {pod.key} is not bound")
        req = self.requests_of(pod)
        self.requested[node] -= req.requested
        self.nonzero_requested[node] -= req.nonzero
        self.pod_count[node] -= 1
        self._changes.append(node)
        return node
