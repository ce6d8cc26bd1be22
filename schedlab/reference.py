"""The scalar reference: every built-in plugin one node at a time, in plain Python integers
and floats, the way kube-scheduler calls its plugins; and a reference scheduler built on it.

It shares no code with the vectorised plugins beyond the scalar matching rules in
``schedlab.matching``, so hypothesis tests can check the fast path against it, and the
throughput benchmark uses it as its baseline.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from schedlab import matching, resources
from schedlab.framework.cycle import num_feasible_nodes_to_find
from schedlab.framework.plugin import MAX_NODE_SCORE, FilterPlugin, Plugin, ScorePlugin
from schedlab.framework.profile import Profile
from schedlab.objects import Node, Pod, Workload
from schedlab.plugins import (
    NodeAffinity,
    NodeName,
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
    NodeUnschedulable,
    TaintToleration,
)
from schedlab.plugins.node_affinity import REASON_ENFORCED, REASON_POD


@dataclass
class NodeInfo:
    """One node and what is bound to it (kube's NodeInfo): summed real and non-zero requests
    per resource name, and the pod count."""

    node: Node
    requested: dict[str, int] = field(default_factory=dict)
    nonzero_requested: dict[str, int] = field(default_factory=dict)
    pods: int = 0

    def add(self, pod: Pod, sign: int = 1) -> None:
        for total, amounts in ((self.requested, pod.template.requests),
                               (self.nonzero_requested, pod.template.nonzero_requests)):
            for name, amount in amounts.items():
                total[name] = total.get(name, 0) + sign * amount
        self.pods += sign

    @property
    def allowed_pods(self) -> int:
        return self.node.allocatable.get(resources.PODS, resources.DEFAULT_ALLOWED_PODS)


def _go_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def _go_round(x: float) -> int:
    t = math.trunc(x)
    return int(t + math.copysign(1, x)) if abs(x - t) >= 0.5 else int(t)


# ---------------------------------------------------------------------------- filters
def _fit_filter(plugin: NodeResourcesFit, pod: Pod, info: NodeInfo) -> list[str]:
    reasons = ["Too many pods"] if info.pods + 1 > info.allowed_pods else []
    request = pod.template.requests
    if all(v == 0 for v in request.values()):
        return reasons
    natives = [r for r in resources.NATIVE if request.get(r, 0) > 0]
    scalars = sorted(r for r, v in request.items()
                     if resources.is_extended(r) and v > 0
                     and r not in plugin.ignored_resources
                     and r.split("/", 1)[0] not in plugin.ignored_resource_groups)
    for name in natives + scalars:
        free = info.node.allocatable.get(name, 0) - info.requested.get(name, 0)
        if request[name] > free:
            reasons.append(f"Insufficient {name}")
    return reasons


def _unschedulable_filter(plugin: NodeUnschedulable, pod: Pod, info: NodeInfo) -> list[str]:
    tolerated = any(matching.tolerates(t, matching.UNSCHEDULABLE_TAINT)
                    for t in pod.template.tolerations)
    return [plugin.reason] if info.node.unschedulable and not tolerated else []


def _node_name_filter(plugin: NodeName, pod: Pod, info: NodeInfo) -> list[str]:
    wanted = pod.template.node_name
    return [plugin.reason] if wanted is not None and wanted != info.node.name else []


def _taint_filter(plugin: TaintToleration, pod: Pod, info: NodeInfo) -> list[str]:
    taint = matching.first_untolerated(info.node.taints, pod.template.tolerations,
                                       ("NoSchedule", "NoExecute"))
    if taint is None:
        return []
    return [f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"]


def _affinity_filter(plugin: NodeAffinity, pod: Pod, info: NodeInfo) -> list[str]:
    node = info.node
    if not matching.required_affinity_matches({}, plugin.added_affinity, node.labels, node.name):
        return [REASON_ENFORCED]
    t = pod.template
    if not matching.required_affinity_matches(t.node_selector, t.affinity, node.labels, node.name):
        return [REASON_POD]
    return []


# ---------------------------------------------------------------------------- scores
def _allocations(weights: dict[str, int], pod: Pod, info: NodeInfo, nonzero: bool
                 ) -> Iterable[tuple[int, int, int]]:
    """(weight, allocatable, requested-after) per scored resource with allocatable > 0."""
    pod_side = pod.template.nonzero_requests if nonzero else pod.template.requests
    for name, weight in weights.items():
        pod_request = pod_side.get(name, 0)
        if resources.is_extended(name) and pod.template.requests.get(name, 0) == 0:
            continue
        if name == resources.PODS:
            continue
        alloc = info.node.allocatable.get(name, 0)
        if alloc == 0:
            continue
        use_nonzero = nonzero and name in (resources.CPU, resources.MEMORY)
        node_side = info.nonzero_requested if use_nonzero else info.requested
        yield weight, alloc, node_side.get(name, 0) + pod_request


def _shape(plugin: NodeResourcesFit, p: int) -> int:
    points = [(u, s * 10) for u, s in plugin.shape]
    for i, (u, s) in enumerate(points):
        if p <= u:
            if i == 0:
                return s
            u0, s0 = points[i - 1]
            return s0 + _go_div((s - s0) * (p - u0), u - u0)
    return points[-1][1]


def _fit_score(plugin: NodeResourcesFit, pod: Pod, info: NodeInfo) -> int:
    node_score = weight_sum = 0
    for weight, alloc, req in _allocations(plugin.resources, pod, info, nonzero=True):
        if plugin.scoring_strategy == "LeastAllocated":
            part = 0 if req > alloc else (alloc - req) * MAX_NODE_SCORE // alloc
        elif plugin.scoring_strategy == "MostAllocated":
            part = min(req, alloc) * MAX_NODE_SCORE // alloc
        else:
            part = _shape(plugin, 100 if req > alloc else req * 100 // alloc)
            if part <= 0:
                continue
        node_score += part * weight
        weight_sum += weight
    if weight_sum == 0:
        return 0
    if plugin.scoring_strategy == "RequestedToCapacityRatio":
        return _go_round(float(node_score) / float(weight_sum))
    return node_score // weight_sum


def _balanced_score(plugin: NodeResourcesBalancedAllocation, pod: Pod, info: NodeInfo) -> int:
    fractions = [min(1.0, float(req) / float(alloc))
                 for _, alloc, req in _allocations(plugin.resources, pod, info, nonzero=False)]
    std = 0.0
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        total = 0.0
        for f in fractions:
            total += f
        mean = total / len(fractions)
        squares = 0.0
        for f in fractions:
            squares += (f - mean) * (f - mean)
        std = math.sqrt(squares / len(fractions))
    return int((1 - std) * MAX_NODE_SCORE)


def _taint_score(plugin: TaintToleration, pod: Pod, info: NodeInfo) -> int:
    soft = [t for t in pod.template.tolerations if t.effect in ("", "PreferNoSchedule")]
    return sum(1 for taint in info.node.taints if taint.effect == "PreferNoSchedule"
               and not any(matching.tolerates(t, taint) for t in soft))


def _affinity_score(plugin: NodeAffinity, pod: Pod, info: NodeInfo) -> int:
    node = info.node
    return (matching.preferred_affinity_score(pod.template.affinity, node.labels, node.name)
            + matching.preferred_affinity_score(plugin.added_affinity, node.labels, node.name))


def _default_normalize(scores: list[int], reverse: bool) -> list[int]:
    top = max(scores, default=0)
    if top == 0:
        return [MAX_NODE_SCORE if reverse else 0 for _ in scores]
    normalized = [_go_div(MAX_NODE_SCORE * s, top) for s in scores]
    return [MAX_NODE_SCORE - s for s in normalized] if reverse else normalized


FILTERS: dict[type, Callable[..., list[str]]] = {
    NodeUnschedulable: _unschedulable_filter,
    NodeName: _node_name_filter,
    TaintToleration: _taint_filter,
    NodeAffinity: _affinity_filter,
    NodeResourcesFit: _fit_filter,
}
SCORES: dict[type, Callable[..., int]] = {
    TaintToleration: _taint_score,
    NodeAffinity: _affinity_score,
    NodeResourcesFit: _fit_score,
    NodeResourcesBalancedAllocation: _balanced_score,
}
NORMALIZERS: dict[type, Callable[[list[int]], list[int]]] = {
    TaintToleration: lambda s: _default_normalize(s, reverse=True),
    NodeAffinity: lambda s: _default_normalize(s, reverse=False),
}


def _lookup(table: dict[type, Callable], plugin: Plugin) -> Callable:
    for cls in type(plugin).__mro__:
        if cls in table:
            return table[cls]
    raise KeyError(f"no scalar reference for plugin {plugin.name}")


def has_reference(plugin: Plugin) -> bool:
    """True when this module holds a scalar version of ``plugin``."""
    tables = ([FILTERS] if isinstance(plugin, FilterPlugin) else []) + (
        [SCORES] if isinstance(plugin, ScorePlugin) else [])
    return all(any(cls in t for cls in type(plugin).__mro__) for t in tables)


def filter_node(plugin: FilterPlugin, pod: Pod, info: NodeInfo) -> list[str]:
    """The reasons ``plugin`` rejects ``pod`` on one node (empty: it passes)."""
    return _lookup(FILTERS, plugin)(plugin, pod, info)


def score_node(plugin: ScorePlugin, pod: Pod, info: NodeInfo) -> int:
    """``plugin``'s raw score of ``pod`` on one node."""
    return _lookup(SCORES, plugin)(plugin, pod, info)


def normalize(plugin: ScorePlugin, scores: list[int]) -> list[int]:
    """``plugin``'s normalisation over the candidate nodes' raw scores (identity if none)."""
    return _lookup(NORMALIZERS, plugin)(scores) if plugin.normalize_score is not None else scores


class ReferenceScheduler:
    """A plain scheduler over ``NodeInfo`` objects: filters and scores node by node.

    ``policy`` is "greedy", "round-robin" or "random"; with the same profile, workload and
    seed it makes the same choices as the vectorised policies (and draws the same random
    numbers), so their bindings can be compared.
    """

    def __init__(self, workload: Workload, profile: Profile, policy: str = "greedy",
                 seed: int = 0) -> None:
        self.profile, self.policy = profile, policy
        self.infos = [NodeInfo(n) for n in workload.nodes]
        self.index = {n.name: i for i, n in enumerate(workload.nodes)}
        for pod in workload.bound_pods:
            self.infos[self.index[pod.template.node_name]].add(pod)
        self.rng = np.random.default_rng(seed)
        self.next_start = 0
        self.last = -1

    def feasible(self, pod: Pod, info: NodeInfo) -> bool:
        return all(not filter_node(p, pod, info) for p in self.profile.filters)

    def totals(self, pod: Pod, nodes: Sequence[int]) -> list[int]:
        totals = [0] * len(nodes)
        for plugin, weight in self.profile.scores:
            raw = [score_node(plugin, pod, self.infos[i]) for i in nodes]
            for j, s in enumerate(normalize(plugin, raw)):
                totals[j] += s * weight
        return totals

    def _greedy(self, pod: Pod) -> int | None:
        n = len(self.infos)
        to_find = num_feasible_nodes_to_find(self.profile.percentage_of_nodes_to_score, n)
        to_find = to_find if self.profile.scores else 1
        found, processed = [], n
        for step in range(n):
            i = (self.next_start + step) % n
            if self.feasible(pod, self.infos[i]):
                found.append(i)
                if len(found) == to_find:
                    processed = step + 1
                    break
        self.next_start = (self.next_start + processed) % n
        found.sort()
        if len(found) <= 1:
            return found[0] if found else None
        totals = self.totals(pod, found)
        ties = [i for i, t in zip(found, totals, strict=True) if t == max(totals)]
        return ties[int(self.rng.integers(len(ties)))] if len(ties) > 1 else ties[0]

    def place(self, pod: Pod) -> int | None:
        """The chosen node index for ``pod`` (None if it fits nowhere); binds it."""
        if self.policy == "greedy":
            choice = self._greedy(pod)
        else:
            found = [i for i, info in enumerate(self.infos) if self.feasible(pod, info)]
            if not found:
                choice = None
            elif self.policy == "random":
                choice = found[int(self.rng.integers(len(found)))]
            else:
                choice = next((i for i in found if i > self.last), found[0])
                self.last = choice
        if choice is not None:
            self.infos[choice].add(pod)
        return choice


def reference_bindings(workload: Workload, profile: Profile, policy: str = "greedy",
                       seed: int = 0, limit: int | None = None) -> list[str | None]:
    """Node names chosen by the reference for the first ``limit`` pending pods, in order."""
    scheduler = ReferenceScheduler(workload, profile, policy, seed)
    chosen = []
    for pod in workload.pending_pods[:limit]:
        i = scheduler.place(pod)
        chosen.append(None if i is None else workload.nodes[i].name)
    return chosen
