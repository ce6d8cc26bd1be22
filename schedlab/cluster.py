"""``ClusterState``: the cluster as numpy arrays indexed by node, updated incrementally.

Only the simulator writes it (``bind``/``unbind``); plugins and policies read it. Node labels and
taints are interned once, so selectors and tolerations are matched against small integer codes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from schedlab import resources
from schedlab.caches import IdCache
from schedlab.errors import SchedlabError
from schedlab.matching import PodSelector, SelectorIndex
from schedlab.objects import (
    MILLI_PER_GPU,
    ApiObjects,
    FrozenMap,
    GpuRequest,
    Node,
    Pod,
    PodTemplate,
    Taint,
    Workload,
)
from schedlab.pods import PodRequests, compile_requests

NodeIndex = np.ndarray | slice
"""Which nodes a plugin is asked about: an int64 index array, or ``ALL``."""
ALL: slice = slice(None)


def take(array: np.ndarray, nodes: NodeIndex, columns: np.ndarray) -> np.ndarray:
    """``array[nodes][:, columns]`` for a (n_nodes, k) array, in one indexing step."""
    if isinstance(nodes, slice):
        return array[nodes, columns]
    if len(nodes) > 64:  # (whole rows first: several times faster for many nodes)
        return np.take(array, nodes, axis=0)[:, columns]
    return array[nodes[:, None], columns]


class NodeLabels:
    """Node labels interned per key.

    ``codes(key)`` is an intp (int64) array of shape (n_nodes,) holding each node's value code
    for the key, -1 where the node lacks it; ``value_codes(key, values)`` maps label values
    to codes.
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
                    codes = self._codes[key] = np.full(self.n_nodes, -1, dtype=np.intp)
                codes[i] = values.setdefault(value, len(values))
        self._absent = np.full(self.n_nodes, -1, dtype=np.intp)
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
        """Codes of those ``values`` that some node carries under ``key`` (intp, 1-D)."""
        known = self._values.get(key, {})
        return np.array([known[v] for v in values if v in known], dtype=np.intp)

    def values(self, key: str) -> list[str]:
        """The distinct values of ``key``, indexed by code."""
        return list(self._values.get(key, {}))

    def n_values(self, key: str) -> int:
        """How many distinct values ``key`` has (``len(values(key))``)."""
        return len(self._values.get(key, {}))


class NodeTaints:
    """Node taints interned: ``distinct`` lists each different taint once; ``ids`` has shape
    (n_nodes, max taints per node) and holds each node's taints in node order, -1 padded."""

    def __init__(self, nodes: Sequence[Node]) -> None:
        index: dict[Taint, int] = {}
        width = max((len(n.taints) for n in nodes), default=0)
        self.ids = np.full((len(nodes), width), -1, dtype=np.intp)
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


class Tally:
    """Some of the bound pods, counted per node and per topology domain, kept up to date by
    binds and unbinds (a bind adds one to a few counters, nothing is rescanned).

    ``per_node`` is int64 (n_nodes,); ``domains(key)`` is int64 (n_values(key) + 1,): the
    count per value code of node label ``key``, whose last entry (code -1, nodes lacking the
    key) stays 0, so that ``domains(key)[labels.codes(key)]`` gives every node its domain's
    count. The arrays are live: they change in place as pods are bound.
    ``counts_terminating``: whether pods being deleted (``ClusterState.terminate``) still
    count, as InterPodAffinity counts them and PodTopologySpread does not.
    """

    def __init__(self, labels: NodeLabels, counts_terminating: bool = True) -> None:
        self._labels = labels
        self.counts_terminating = counts_terminating
        self.per_node = np.zeros(labels.n_nodes, dtype=np.int64)
        self.version = 0
        """Counts the binds and unbinds that changed this tally."""
        self._domains: dict[tuple[str, bytes | None], np.ndarray] = {}
        self._views: list[tuple[np.ndarray, np.ndarray | None, np.ndarray]] = []

    def domains(self, key: str, where: np.ndarray | None = None) -> np.ndarray:
        """Counts per domain of ``key`` over the nodes that have it and, if given, where the
        bool (n_nodes,) array ``where`` is True; shape (n_values(key) + 1,), last entry 0."""
        cache_key = (key, None if where is None else where.tobytes())
        counts = self._domains.get(cache_key)
        if counts is None:
            codes = self._labels.codes(key)
            counted = codes >= 0 if where is None else (codes >= 0) & where
            size = self._labels.n_values(key) + 1
            counts = np.bincount(codes[counted], self.per_node[counted], size).astype(np.int64)
            self._domains[cache_key] = counts
            self._views.append((codes, None if where is None else where.copy(), counts))
        return counts

    @property
    def views(self) -> list[tuple[np.ndarray, np.ndarray | None, np.ndarray]]:
        """The per-domain counts ``domains`` made, each as (the key's label codes, the node
        mask or None, the counts), which ``add`` keeps up to date."""
        return self._views

    def add_many(self, nodes: np.ndarray, deltas: np.ndarray) -> None:
        """``add(node, delta)`` for each pair of ``nodes`` (distinct) and ``deltas`` (int64
        arrays of one length)."""
        self.version += len(nodes)
        self.per_node[nodes] += deltas
        for codes, where, counts in self._views:
            node_codes = codes[nodes]
            kept = node_codes >= 0 if where is None else (node_codes >= 0) & where[nodes]
            np.add.at(counts, node_codes[kept], deltas[kept])

    def add(self, node: int, delta: int) -> None:
        self.version += 1
        self.per_node[node] += delta
        for codes, where, counts in self._views:
            code = codes[node]
            if code >= 0 and (where is None or where[node]):
                counts[code] += delta


K = TypeVar("K", bound=Hashable)


class KeyedTallies(Mapping[K, Tally]):
    """Bound pods counted per key (``ClusterState.tally_by``): key → ``Tally`` of the bound
    pods yielding the key, in the order the keys first appeared.

    Live, as the tallies are: a key appears when a pod yielding it is first bound (its tally
    then stays, at 0 once those pods leave). A reader that wants the keys matching something
    scans ``added_since(n)``, the keys that appeared after the first n, instead of all."""

    def __init__(self, labels: NodeLabels) -> None:
        self._labels = labels
        self._tallies: dict[K, Tally] = {}
        self._added: list[tuple[K, Tally]] = []

    def __getitem__(self, key: K) -> Tally:
        return self._tallies[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._tallies)

    def __len__(self) -> int:
        return len(self._added)

    def added_since(self, count: int) -> list[tuple[K, Tally]]:
        """(key, tally) of the keys that appeared after the first ``count``, in order."""
        return self._added[count:]

    def _tally(self, key: K) -> Tally:
        """The key's tally, made (at 0) if the key is new."""
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = Tally(self._labels)
            self._added.append((key, tally))
        return tally


class _Placed:
    """The bound pods of one pod template, and the tallies they count in.

    nodes        node index → pods of the template bound there (terminating ones included)
    terminating  node index → those of them being deleted
    tallies      every tally a pod of the template counts in: each ``tally`` whose selectors
                 all match it and, for each ``tally_by``, the tally of each key the
                 template gives (a key given twice is in twice)
    """

    __slots__ = ("template", "nodes", "terminating", "tallies")

    def __init__(self, template: PodTemplate, tallies: list[Tally]) -> None:
        self.template = template
        self.nodes: Counter[int] = Counter()
        self.terminating: Counter[int] = Counter()
        self.tallies = tallies

    def count_in(self, tally: Tally) -> None:
        """Add the template's bound pods to ``tally`` (new to them), and count them from now on."""
        self.tallies.append(tally)
        for node, n in self.nodes.items():
            if n:
                tally.add(node, n)
        if not tally.counts_terminating:
            for node, n in self.terminating.items():
                if n:
                    tally.add(node, -n)


class ClusterState:
    """The cluster as arrays over nodes (in input order).

    Attributes, all indexed by node:
      allocatable        int64 (n_nodes, n_resources), columns per ``resources``
      requested          int64 (n_nodes, n_resources): real requests of bound pods
      nonzero_requested  int64 (n_nodes, n_resources): as ``requested`` with kube's non-zero
                         defaults (100m cpu, 200MiB memory per container naming none)
      allowed_pods       int64 (n_nodes,): the pod-count limit
      pod_count          int64 (n_nodes,): pods bound
      node_version       int64 (n_nodes,): counts the binds and unbinds on the node
      unschedulable      bool (n_nodes,): spec.unschedulable
      gpu_count          int64 (n_nodes,): GPU devices per node
      gpu_free           int64 (n_nodes, max GPUs per node): milli-GPU free on each device,
                         0 on the padding past a node's ``gpu_count``
      gpu_model          intp (n_nodes,): the code of the node's GPU model in ``gpu_models``,
                         -1 for nodes without GPUs
    ``gpus_of[pod key]`` holds the device indices a bound GPU pod holds on its node;
    ``terminating`` the keys of the bound pods being deleted (they keep their resources);
    ``workload_pods`` the pods of the workload the state was made for (bound and pending),
    for plugins that learn from the whole workload (FGD's typical pods).

    Bound pods are counted, per node and topology domain, by ``tally(selectors)`` (the pods
    all the selectors match) and ``tally_by(keys)`` (per key a function gives their
    template); these are the state's only counters. What a plugin derives from them is the
    plugin's own, kept per state (``schedlab.caches.PerState``), not here.
    """

    def __init__(self, nodes: Sequence[Node], extended_resources: Iterable[str] = (),
                 objects: ApiObjects | None = None) -> None:
        self.nodes: tuple[Node, ...] = tuple(nodes)
        self.objects = objects if objects is not None else ApiObjects()
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
        self._init_gpus()
        self.requested = np.zeros((n, r), dtype=np.int64)
        self.nonzero_requested = np.zeros((n, r), dtype=np.int64)
        self.pod_count = np.zeros(n, dtype=np.int64)
        self.node_version = np.zeros(n, dtype=np.int64)
        """Counts, per node, the binds and unbinds that changed its ``requested``,
        ``nonzero_requested`` and ``pod_count`` (what is derived from those alone can be kept
        per node while its version stays)."""
        self.bound: dict[str, int] = {}
        self.terminating: set[str] = set()
        self._changes: list[int] = []
        """The node of every bind, unbind and termination, in order."""
        self.epoch = 0
        """Counts binds, unbinds and terminations (``len(_changes)``);
        ``changed_since(epoch)`` lists the nodes they touched."""
        self._last_changed: tuple[tuple[int, int], np.ndarray] = ((-1, -1), np.empty(0, np.int64))
        self.tally_epoch = 0
        """Counts the binds, unbinds and terminations that changed some tally."""
        self._compiled: IdCache[int, PodRequests] = IdCache()
        """id(template) → its requests (``requests_of``)."""
        self._by_requests: dict[tuple[FrozenMap[str, int], FrozenMap[str, int]], PodRequests] = {}
        self._placed: IdCache[int, _Placed] = IdCache()
        """id(template) → its bound pods, for every template ever bound."""
        self._tallies: dict[tuple[tuple[PodSelector, ...], bool], Tally] = {}
        self._tally_index: SelectorIndex[Tally] = SelectorIndex()
        """``_tallies``' values, to find those a new template's pods count in."""
        self._placed_by_label: dict[tuple[str, str], list[_Placed]] = {}
        """``_placed``'s values by each label of their template."""
        self._keyed: dict[Callable[[PodTemplate], Iterable[Any]], KeyedTallies[Any]] = {}
        """``tally_by``'s counters by their key function."""

    def _init_gpus(self) -> None:
        self.gpu_count = np.array([n.gpus for n in self.nodes], dtype=np.int64)
        models = sorted({n.gpu_model for n in self.nodes if n.gpus})
        self.gpu_models: tuple[str, ...] = tuple(models)
        code = {m: i for i, m in enumerate(models)}
        self.gpu_model = np.array([code[n.gpu_model] if n.gpus else -1 for n in self.nodes],
                                  dtype=np.intp)
        width = int(self.gpu_count.max()) if self.n_nodes else 0
        self.gpu_free = np.where(np.arange(width) < self.gpu_count[:, None], MILLI_PER_GPU, 0)
        self.gpus_of: dict[str, tuple[int, ...]] = {}
        self.workload_pods: tuple[Pod, ...] = ()
        self._gpu_model_allowed: dict[frozenset[str], np.ndarray] = {}
        for fixed in (self.gpu_count, self.gpu_model):
            fixed.flags.writeable = False

    def gpu_model_allowed(self, models: frozenset[str]) -> np.ndarray:
        """Bool (n_nodes,): the node has GPUs of a model in ``models`` (any model if empty)."""
        allowed = self._gpu_model_allowed.get(models)
        if allowed is None:
            codes = [i for i, m in enumerate(self.gpu_models) if not models or m in models]
            allowed = self._gpu_model_allowed[models] = np.isin(self.gpu_model, codes)
            allowed.flags.writeable = False
        return allowed

    @classmethod
    def from_workload(cls, workload: Workload) -> ClusterState:
        """A state over the workload's nodes, with a column for every resource its pods use."""
        templates = {id(p.template): p.template for p in workload.pods}.values()
        used = {r for t in templates for r in t.requests}
        extended = (r for r in used if resources.is_extended(r))
        state = cls(workload.nodes, extended, workload.objects)
        state.workload_pods = workload.pods
        return state

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    def count(self, nodes: NodeIndex) -> int:
        """How many nodes ``nodes`` (an index array or a slice) selects."""
        if isinstance(nodes, slice):
            return len(range(*nodes.indices(self.n_nodes)))
        return len(nodes)

    def changed_since(self, epoch: int) -> np.ndarray:
        """Sorted unique indices (int64) of the nodes bound or unbound since ``epoch``."""
        key = (epoch, self.epoch)
        if self._last_changed[0] != key:
            changed = np.array(sorted(set(self._changes[epoch:])), dtype=np.int64)
            self._last_changed = (key, changed)
        return self._last_changed[1]

    def requests_of(self, pod: Pod) -> PodRequests:
        """The pod's requests as vectors over ``resources``, compiled once per template and
        shared by all templates with the same real and non-zero requests."""
        template = pod.template
        compiled = self._compiled.get(id(template))
        if compiled is None:
            key = (FrozenMap(template.requests), FrozenMap(template.nonzero_requests))
            compiled = self._by_requests.get(key)
            if compiled is None:
                compiled = self._by_requests[key] = compile_requests(template, self.resources)
            self._compiled.put(id(template), compiled, template)
        return compiled

    def bind(self, pod: Pod, node: int, gpus: Sequence[int] | None = None) -> None:
        """Account ``pod`` on node index ``node``. Only the simulator calls this.

        A GPU pod takes the device indices ``gpus`` on the node, which the caller chooses
        (a policy's decision; ``gpu.default_gpus`` for a pod bound without one); each must
        have the pod's milli-GPU free."""
        if pod.key in self.bound:
            raise SchedlabError(f"pod {pod.key} is already bound")
        gpu = pod.template.gpu
        if gpu is not None:
            self._take_gpus(pod, gpu, node, gpus)
        req = self.requests_of(pod)
        self.requested[node] += req.requested
        self.nonzero_requested[node] += req.nonzero
        self.pod_count[node] += 1
        self.node_version[node] += 1
        self.bound[pod.key] = node
        placed = self._placed_of(pod.template)
        for tally in placed.tallies:
            tally.add(node, 1)
        self.tally_epoch += bool(placed.tallies)
        placed.nodes[node] += 1
        self._changes.append(node)
        self.epoch += 1

    def bind_many(self, pods: Sequence[Pod], nodes: np.ndarray) -> None:
        """Bind ``pods[i]`` to node index ``nodes[i]`` (int64 (len(pods),)), as ``bind`` one
        after the other would, in a few array operations per pod template (a fast path's
        run). None of the pods may ask for GPUs (their devices are chosen one by one)."""
        if len(pods) != len(nodes):
            raise SchedlabError(f"{len(pods)} pods and {len(nodes)} nodes to bind them to")
        if len(pods) == 1 and pods[0].template.gpu is None:
            self.bind(pods[0], int(nodes[0]))
            return
        keys = [pod.key for pod in pods]
        if not self.bound.keys().isdisjoint(keys) or len(set(keys)) != len(keys):
            bound = next(k for i, k in enumerate(keys) if k in self.bound or k in keys[:i])
            raise SchedlabError(f"pod {bound} is already bound")
        groups: dict[int, list[int]] = {}
        for i, pod in enumerate(pods):
            if pod.template.gpu is not None:
                raise SchedlabError(f"pod {pod.key} asks for GPUs: bind it with its devices")
            groups.setdefault(id(pod.template), []).append(i)
        node_list = nodes.tolist()
        for members in groups.values():
            at = nodes[members]
            template = pods[members[0]].template
            req = self.requests_of(pods[members[0]])
            np.add.at(self.requested, at, req.requested)
            np.add.at(self.nonzero_requested, at, req.nonzero)
            placed = self._placed_of(template)
            where, how_many = np.unique(at, return_counts=True)
            placed.nodes.update(dict(zip(where.tolist(), how_many.tolist(), strict=True)))
            for tally in placed.tallies:
                tally.add_many(where, how_many)
            self.tally_epoch += bool(placed.tallies)
        np.add.at(self.pod_count, nodes, 1)
        np.add.at(self.node_version, nodes, 1)
        self.bound.update(zip(keys, node_list, strict=True))
        self._changes.extend(node_list)
        self.epoch += len(node_list)

    def placed_tallies(self, template: PodTemplate) -> list[Tally]:
        """Every tally a pod of ``template`` counts in (a bind adds it to each)."""
        return self._placed_of(template).tallies

    def account_run(self, bound: list[str], nodes: np.ndarray, unbound: list[str],
                    moves: Sequence[tuple[PodTemplate, np.ndarray, np.ndarray]],
                    changes: np.ndarray, tally_changes: int) -> None:
        """The books of binds and unbinds made in compiled code (the replay's runs), which
        updated the arrays (requests, pod counts, node versions, tallies' counts) itself:
        the keys of the pods bound and still bound at the end, in order, with their node
        indices (int64); the keys of those unbound that were bound before; per pod template
        the nodes of those bound and of those unbound (int64); the nodes of every bind and
        unbind in order (int64); how many of them changed tallies. No pod may be
        terminating."""
        bound_of = self.bound
        for key in unbound:
            del bound_of[key]
        bound_of.update(zip(bound, nodes.tolist(), strict=True))
        for template, added, removed in moves:
            placed = self._placed_of(template).nodes
            placed.update(added.tolist())
            placed.subtract(removed.tolist())
        self._changes.extend(changes.tolist())
        self.epoch += len(changes)
        self.tally_epoch += tally_changes

    def counted(self, template: PodTemplate) -> bool:
        """Whether binding a pod of ``template`` changes some tally (``tally``, ``tally_by``):
        if not, the answers of plugins that read only tallies stay as they are."""
        return bool(self._placed_of(template).tallies)

    @property
    def tallies_made(self) -> int:
        """How many tallies exist (``tally``, and ``tally_by``'s per key): when it grows, a
        pod template may be counted that was not (``counted``)."""
        return len(self._tallies) + sum(map(len, self._keyed.values()))

    def changes_since(self, epoch: int) -> list[int]:
        """The node of every bind, unbind and termination since ``epoch``, in order."""
        return self._changes[epoch:]

    def unbind(self, pod: Pod) -> int:
        """Remove a bound pod; returns the node index it was on."""
        node = self.bound.pop(pod.key, None)
        if node is None:
            raise SchedlabError(f"pod {pod.key} is not bound")
        gpus = self.gpus_of.pop(pod.key, ())
        if gpus:
            request = pod.template.gpu
            assert request is not None  # (only GPU pods take GPUs)
            self.gpu_free[node, list(gpus)] += request.milli
        req = self.requests_of(pod)
        self.requested[node] -= req.requested
        self.nonzero_requested[node] -= req.nonzero
        self.pod_count[node] -= 1
        self.node_version[node] += 1
        placed = self._placed_of(pod.template)
        was_terminating = pod.key in self.terminating
        if was_terminating:
            self.terminating.discard(pod.key)
            placed.terminating[node] -= 1
        for tally in placed.tallies:  # (a terminating pod has left the others already)
            if tally.counts_terminating or not was_terminating:
                tally.add(node, -1)
        self.tally_epoch += bool(placed.tallies)
        placed.nodes[node] -= 1
        self._changes.append(node)
        self.epoch += 1
        return node

    def terminate(self, pod: Pod) -> None:
        """Mark a bound pod as being deleted (``metadata.deletionTimestamp`` set): it keeps
        its resources until ``unbind``, tallies made with ``terminating=False`` stop counting
        it. Only the simulator calls this."""
        node = self.bound.get(pod.key)
        if node is None:
            raise SchedlabError(f"pod {pod.key} is not bound")
        if pod.key in self.terminating:
            return
        self.terminating.add(pod.key)
        placed = self._placed_of(pod.template)
        placed.terminating[node] += 1
        for tally in placed.tallies:
            if not tally.counts_terminating:
                tally.add(node, -1)
        self.tally_epoch += bool(placed.tallies)
        self._changes.append(node)
        self.epoch += 1

    def _take_gpus(self, pod: Pod, request: GpuRequest, node: int,
                   gpus: Sequence[int] | None) -> None:
        if gpus is None:
            raise SchedlabError(f"pod {pod.key} asks for GPUs: binding it needs the devices it "
                                "takes (gpu.default_gpus gives the tightest that fit)")
        free = self.gpu_free[node]
        gpus = tuple(map(int, gpus))
        count, milli = int(self.gpu_count[node]), request.milli
        valid = (
            len(gpus) == request.count == len(set(gpus))
            and all(0 <= g < count and free[g] >= milli for g in gpus)
            and bool(self.gpu_model_allowed(request.models)[node])
        )
        if not valid:
            models = f" of a model in {'|'.join(sorted(request.models))}" if request.models else ""
            raise SchedlabError(
                f"pod {pod.key}: cannot take GPUs {list(gpus)} of node {self.names[node]}: it "
                f"needs {request.count} GPU(s) with {request.milli} milli free{models}, the node "
                f"has {self.gpu_count[node]} {self.nodes[node].gpu_model or 'no'} GPU(s) with "
                f"{free[: self.gpu_count[node]].tolist()} milli free"
            )
        for g in gpus:
            free[g] -= milli
        self.gpus_of[pod.key] = gpus

    # ------------------------------------------------------------ bound pods counted
    def tally(self, selectors: tuple[PodSelector, ...], terminating: bool = True) -> Tally:
        """The bound pods that every one of ``selectors`` matches, per node and domain;
        with ``terminating=False`` without the pods being deleted."""
        tally = self._tallies.get((selectors, terminating))
        if tally is None:
            tally = self._tallies[selectors, terminating] = Tally(self.labels, terminating)
            label = self._tally_index.add(selectors, tally)
            candidates = (self._placed.values() if label is None
                          else self._placed_by_label.get(label, ()))
            for placed in candidates:
                if all(s.matches(placed.template, self.objects) for s in selectors):
                    placed.count_in(tally)
        return tally

    def tally_by(self, keys: Callable[[PodTemplate], Iterable[K]]) -> KeyedTallies[K]:
        """The bound pods (terminating ones included) counted per key: ``keys(template)``
        gives the keys a pod of the template counts under (asked once per template; a key
        given twice counts the pod twice; hashable keys). Pass the same function each time
        (a module-level one): the counter is kept per function object, and the first call
        counts the pods bound so far."""
        keyed = self._keyed.get(keys)
        if keyed is None:
            keyed = self._keyed[keys] = KeyedTallies(self.labels)
            for placed in self._placed.values():
                for key in keys(placed.template):
                    placed.count_in(keyed._tally(key))
        return keyed

    def _placed_of(self, template: PodTemplate) -> _Placed:
        """The template's bound pods, with the tallies they count in found on first use."""
        placed = self._placed.get(id(template))
        if placed is None:
            tallies = self._tally_index.matching(template, self.objects)
            tallies += [keyed._tally(key) for keys, keyed in self._keyed.items()
                        for key in keys(template)]
            placed = self._placed.put(id(template), _Placed(template, tallies), template)
            for pair in template.labels.items():
                self._placed_by_label.setdefault(pair, []).append(placed)
        return placed

