"""The scalar reference: every built-in plugin in plain Python integers and floats, the way
kube-scheduler calls its plugins; and a reference scheduler built on it.

It shares no code with the vectorised plugins beyond the scalar matching rules in
``schedlab.matching``, so hypothesis tests can check the fast path against it, and the
throughput benchmark uses it as its baseline.

Two levels:

- one scheduling cycle (what kube's framework does for one pod): ``pre_filter`` runs a
  plugin's PreFilter over all nodes and returns its Filter for one node index;
  ``filter_all`` gives the reasons for every node; ``score_candidates`` runs PreScore over
  all nodes, Score over the candidate nodes and NormalizeScore over them. These work for
  every plugin with a reference (``has_reference``). InterPodAffinity and PodTopologySpread
  follow kube's Go code literally (maps keyed by topology pairs, loops over nodes and their
  pods); PodTopologySpread keeps its counts per constraint, as v1.33 does (kubernetes#129067);
- one node (the per-node plugins only, whose answers depend on that node alone):
  ``filter_node``, ``score_node`` and ``normalize``.

The FGD paper's GPU plugins (GpuShare, FGDScore, BestFitScore, GpuPackingScore,
GpuClusteringScore, DotProductScore) follow the Go code of its simulator
(hkust-adsl/kubernetes-scheduler-simulator). Where that code returns an Error status (a node
of a GPU model the pod does not allow, a pod whose devices or cpu do not fit where the score
needs them to) or panics, the scheduling cycle fails in Go and no score is defined: the
reference's score is None there (``score_node``, ``score_candidates``), and a normalised
list with such a node is all None. RandomScore has no reference.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from schedlab import matching, resources
from schedlab.errors import SchedlabError
from schedlab.framework.cycle import num_feasible_nodes_to_find
from schedlab.framework.plugin import MAX_NODE_SCORE, FilterPlugin, Plugin, ScorePlugin
from schedlab.framework.profile import Profile
from schedlab.objects import (
    HOSTNAME_KEY,
    MILLI_PER_GPU,
    ApiObjects,
    GpuRequest,
    LabelSelector,
    Node,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodTemplate,
    TopologySpreadConstraint,
    WeightedPodAffinityTerm,
    Workload,
)
from schedlab.plugins import (
    BestFitScore,
    DotProductScore,
    FGDScore,
    GpuClusteringScore,
    GpuPackingScore,
    GpuShare,
    NodeAffinity,
    NodeName,
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
    NodeUnschedulable,
    TaintToleration,
)
from schedlab.plugins.inter_pod_affinity import (
    REASON_AFFINITY,
    REASON_ANTI_AFFINITY,
    REASON_EXISTING_ANTI_AFFINITY,
    InterPodAffinity,
)
from schedlab.plugins.node_affinity import REASON_ENFORCED, REASON_POD
from schedlab.plugins.pod_topology_spread import (
    REASON_MISSING_LABEL,
    REASON_SKEW,
    PodTopologySpread,
)

NO_OBJECTS = ApiObjects()
INT32_MAX, INT64_MAX, INT64_MIN = 2**31 - 1, 2**63 - 1, -(2**63)


def _required(affinity: PodAffinity | None) -> tuple[PodAffinityTerm, ...]:
    return () if affinity is None else affinity.required


def _preferred(affinity: PodAffinity | None) -> tuple[WeightedPodAffinityTerm, ...]:
    return () if affinity is None else affinity.preferred


@dataclass
class NodeInfo:
    """One node and what is bound to it (kube's NodeInfo): the bound pods in bind order,
    those with pod (anti-)affinity and those with required anti-affinity (kube's
    PodsWithAffinity and PodsWithRequiredAntiAffinity), the summed real and non-zero
    requests per resource name, and the milli-GPU free on each GPU device (``gpu_free``,
    1000 each initially) with the devices each bound GPU pod holds (``gpus_of``, by pod key).
    """

    node: Node
    requested: dict[str, int] = field(default_factory=dict)
    nonzero_requested: dict[str, int] = field(default_factory=dict)
    pods: list[Pod] = field(default_factory=list)
    pods_with_affinity: list[Pod] = field(default_factory=list)
    pods_with_required_anti_affinity: list[Pod] = field(default_factory=list)
    gpu_free: list[int] = field(default_factory=list)
    gpus_of: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.gpu_free:
            self.gpu_free = [MILLI_PER_GPU] * self.node.gpus

    def gpu_accessible(self, models: frozenset[str]) -> bool:
        """The node has GPUs and their model is one of ``models`` (any, if empty)."""
        return self.node.gpus > 0 and (not models or self.node.gpu_model in models)

    def best_gpus(self, request: GpuRequest) -> list[int] | None:
        """The devices a GPU ask takes here by the simulator's "best" rule (None if it does
        not fit): a sharing pod the device with the least free milli that is enough, the
        lowest index among equals; a whole-GPU pod the lowest-index fully free devices."""
        if not self.gpu_accessible(request.models):
            return None
        if request.shares:
            best = None
            for g, free in enumerate(self.gpu_free):
                if free >= request.milli and (best is None or free < self.gpu_free[best]):
                    best = g
            return None if best is None else [best]
        chosen = [g for g, free in enumerate(self.gpu_free) if free == MILLI_PER_GPU]
        return chosen[: request.count] if len(chosen) >= request.count else None

    def add(self, pod: Pod, sign: int = 1) -> None:
        """Bind ``pod`` here (``sign`` -1: unbind it). A GPU pod takes its devices by the
        "best" rule (as ``ClusterState.bind`` does by default); SchedlabError if they do not
        fit."""
        request = pod.template.gpu
        if request is not None:
            if sign > 0:
                gpus = self.best_gpus(request)
                if gpus is None:
                    raise SchedlabError(f"pod {pod.key}: its GPU ask does not fit node "
                                        f"{self.node.name} (free {self.gpu_free})")
                self.gpus_of[pod.key] = gpus
            else:
                gpus = self.gpus_of.pop(pod.key)
            for g in gpus:
                self.gpu_free[g] -= sign * request.milli
        for total, amounts in ((self.requested, pod.template.requests),
                               (self.nonzero_requested, pod.template.nonzero_requests)):
            for name, amount in amounts.items():
                total[name] = total.get(name, 0) + sign * amount
        lists = [self.pods]
        if pod.template.has_pod_affinity:
            lists.append(self.pods_with_affinity)
        if _required(pod.template.pod_anti_affinity):
            lists.append(self.pods_with_required_anti_affinity)
        for pods in lists:
            if sign > 0:
                pods.append(pod)
            else:
                pods.remove(pod)

    @property
    def pod_count(self) -> int:
        """How many pods are bound here."""
        return len(self.pods)

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
    reasons = ["Too many pods"] if info.pod_count + 1 > info.allowed_pods else []
    request = pod.template.requests
    if all(v == 0 for v in request.values()):
        return reasons
    natives = [r for r in resources.NATIVE if request.get(r, 0) > 0]
    scalars = sorted(r for r, v in request.items()
                     if resources.is_extended(r) and v > 0
                     and r not in plugin.args.ignored_resources
                     and r.split("/", 1)[0] not in plugin.args.ignored_resource_groups)
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
def _allocations(weights: Mapping[str, int], pod: Pod, info: NodeInfo, nonzero: bool
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


def _default_normalize(scores: list[int | None], reverse: bool) -> list[int | None]:
    known = [s for s in scores if s is not None]
    assert len(known) == len(scores)  # the Score of the plugins using it never fails
    top = max(known, default=0)
    if top == 0:
        return [MAX_NODE_SCORE if reverse else 0 for _ in known]
    if reverse:
        return [MAX_NODE_SCORE - _go_div(MAX_NODE_SCORE * s, top) for s in known]
    return [_go_div(MAX_NODE_SCORE * s, top) for s in known]


# ---------------------------------------------------------------------------- InterPodAffinity
# interpodaffinity/filtering.go and scoring.go. A term of a pod in namespace ``ns`` matching a
# pod template is matching.affinity_term_matches(term, ns, template, objects).
TopologyPair = tuple[str, str]
NodeFilter = Callable[[int], list[str]]


def _matches_all(terms: Sequence[PodAffinityTerm], owner_namespace: str, pod: PodTemplate,
                 objects: ApiObjects) -> bool:
    """podMatchesAllAffinityTerms: false for no terms."""
    return bool(terms) and all(
        matching.affinity_term_matches(t, owner_namespace, pod, objects) for t in terms)


def _update(counts: Counter[TopologyPair], labels: Mapping[str, str], key: str) -> None:
    """topologyToMatchedTermCount.update with value 1: only if the node has the key."""
    if key in labels:
        counts[(key, labels[key])] += 1


def _ipa_pre_filter(plugin: InterPodAffinity, pod: Pod, infos: Sequence[NodeInfo],
                    objects: ApiObjects) -> NodeFilter:
    incoming = pod.template
    affinity_terms = _required(incoming.pod_affinity)
    anti_affinity_terms = _required(incoming.pod_anti_affinity)
    # getExistingAntiAffinityCounts: existing pods' required anti-affinity terms matching p.
    existing_anti_affinity_counts: Counter[TopologyPair] = Counter()
    for info in infos:
        for existing in info.pods_with_required_anti_affinity:
            for term in _required(existing.template.pod_anti_affinity):
                if matching.affinity_term_matches(term, existing.namespace, incoming, objects):
                    _update(existing_anti_affinity_counts, info.node.labels, term.topology_key)
    # getIncomingAffinityAntiAffinityCounts: existing pods matching p's required terms.
    affinity_counts: Counter[TopologyPair] = Counter()
    anti_affinity_counts: Counter[TopologyPair] = Counter()
    if affinity_terms or anti_affinity_terms:
        for info in infos:
            labels = info.node.labels
            for existing in info.pods:
                if _matches_all(affinity_terms, incoming.namespace, existing.template, objects):
                    for term in affinity_terms:
                        _update(affinity_counts, labels, term.topology_key)
                for term in anti_affinity_terms:
                    if matching.affinity_term_matches(term, incoming.namespace,
                                                      existing.template, objects):
                        _update(anti_affinity_counts, labels, term.topology_key)
    matches_itself = _matches_all(affinity_terms, incoming.namespace, incoming, objects)

    def satisfy_pod_affinity(labels: Mapping[str, str]) -> bool:
        pods_exist = True
        for term in affinity_terms:
            if term.topology_key not in labels:
                return False  # all topology labels must exist on the node
            if affinity_counts[(term.topology_key, labels[term.topology_key])] <= 0:
                pods_exist = False
        # the first pod of a series with affinity to itself
        return pods_exist or (not affinity_counts and matches_itself)

    def satisfy_pod_anti_affinity(labels: Mapping[str, str]) -> bool:
        return not any(t.topology_key in labels
                       and anti_affinity_counts[(t.topology_key, labels[t.topology_key])] > 0
                       for t in anti_affinity_terms)

    def satisfy_existing_pods_anti_affinity(labels: Mapping[str, str]) -> bool:
        return not any(existing_anti_affinity_counts[pair] > 0 for pair in labels.items())

    def filter_node_(i: int) -> list[str]:
        labels = infos[i].node.labels
        if not satisfy_pod_affinity(labels):
            return [REASON_AFFINITY]
        if not satisfy_pod_anti_affinity(labels):
            return [REASON_ANTI_AFFINITY]
        if not satisfy_existing_pods_anti_affinity(labels):
            return [REASON_EXISTING_ANTI_AFFINITY]
        return []

    return filter_node_


def _ipa_score(plugin: InterPodAffinity, pod: Pod, infos: Sequence[NodeInfo],
               candidates: Sequence[int], objects: ApiObjects
               ) -> tuple[list[int], list[int]] | None:
    incoming = pod.template
    preferred_affinity = _preferred(incoming.pod_affinity)
    preferred_anti_affinity = _preferred(incoming.pod_anti_affinity)
    has_constraints = bool(preferred_affinity or preferred_anti_affinity)
    if plugin.args.ignore_preferred_terms_of_existing_pods and not has_constraints:
        return None  # PreScore Skip
    topology_score: dict[str, dict[str, int]] = {}

    def process_term(term: PodAffinityTerm, weight: int, owner_namespace: str,
                     target: PodTemplate, labels: Mapping[str, str], multiplier: int) -> None:
        if (matching.affinity_term_matches(term, owner_namespace, target, objects)
                and term.topology_key in labels):
            values = topology_score.setdefault(term.topology_key, {})
            value = labels[term.topology_key]
            values[value] = values.get(value, 0) + weight * multiplier

    def process_terms(terms: Iterable[WeightedPodAffinityTerm], owner_namespace: str,
                      target: PodTemplate, labels: Mapping[str, str], multiplier: int) -> None:
        for weighted in terms:
            process_term(weighted.term, weighted.weight, owner_namespace, target, labels,
                         multiplier)

    for info in infos:  # processExistingPod for each pod (each pod with affinity) of each node
        labels = info.node.labels
        for existing in info.pods if has_constraints else info.pods_with_affinity:
            if not labels:
                continue
            other = existing.template
            process_terms(preferred_affinity, incoming.namespace, other, labels, 1)
            process_terms(preferred_anti_affinity, incoming.namespace, other, labels, -1)
            if plugin.args.hard_pod_affinity_weight > 0:
                for term in _required(other.pod_affinity):
                    process_term(term, plugin.args.hard_pod_affinity_weight, existing.namespace,
                                 incoming, labels, 1)
            process_terms(_preferred(other.pod_affinity), existing.namespace, incoming, labels, 1)
            process_terms(_preferred(other.pod_anti_affinity), existing.namespace, incoming,
                          labels, -1)
    if not topology_score:
        return None  # PreScore Skip: no node gave an entry
    raw = []
    for i in candidates:
        labels = infos[i].node.labels
        raw.append(sum(values.get(labels[key], 0) for key, values in topology_score.items()
                       if key in labels))
    # NormalizeScore: true min and max, then float64 and truncation.
    min_count, max_count = INT64_MAX, INT64_MIN
    for score in raw:
        max_count = max(max_count, score)
        min_count = min(min_count, score)
    max_min_diff = max_count - min_count
    normalized = []
    for score in raw:
        f_score = 0.0
        if max_min_diff > 0:
            f_score = float(MAX_NODE_SCORE) * (float(score - min_count) / float(max_min_diff))
        normalized.append(int(f_score))
    return raw, normalized


# ---------------------------------------------------------------------------- PodTopologySpread
# podtopologyspread/common.go, filtering.go and scoring.go, with counts per constraint.
Constraint = tuple[TopologySpreadConstraint, LabelSelector | None]


def _spread_constraints(plugin: PodTopologySpread, pod: Pod, objects: ApiObjects,
                        action: str) -> list[Constraint]:
    """getConstraints: the pod's constraints with ``action`` (each with its selector and the
    matchLabelKeys added), or, if it has none at all, the default ones with ``action``
    (buildDefaultConstraints), all with the selector of helper.DefaultSelector; none when
    that selects nothing."""
    template = pod.template
    if template.topology_spread_constraints:
        return [(c, matching.spread_selector(c, template.labels))
                for c in template.topology_spread_constraints if c.when_unsatisfiable == action]
    defaults = [c for c in plugin.defaults if c.when_unsatisfiable == action]
    if not defaults:
        return []
    selector = matching.default_spread_selector(pod, objects)
    if selector is None:
        return []
    return [(c, selector) for c in defaults]


def _has_all_keys(labels: Mapping[str, str], constraints: Sequence[Constraint]) -> bool:
    """nodeLabelsMatchSpreadConstraints."""
    return all(c.topology_key in labels for c, _ in constraints)


def _count_matching(pods: Iterable[Pod], selector: LabelSelector | None, namespace: str) -> int:
    """countPodsMatchSelector (no pod is terminating in schedlab)."""
    return sum(1 for p in pods if p.namespace == namespace
               and matching.label_selector_matches(selector, p.template.labels))


def _includes(c: TopologySpreadConstraint, pod: Pod, node: Node) -> bool:
    """matchNodeInclusionPolicies."""
    return matching.node_counts_for_spread(c, pod.template, node.labels, node.taints, node.name)


def _pts_pre_filter(plugin: PodTopologySpread, pod: Pod, infos: Sequence[NodeInfo],
                    objects: ApiObjects) -> NodeFilter:
    constraints = _spread_constraints(plugin, pod, objects, "DoNotSchedule")
    if not constraints:
        return lambda i: []  # PreFilter Skip
    namespace = pod.namespace
    # calPreFilterState: TpValueToMatchNum[i][value] over the nodes that count
    tp_value_to_match_num: list[dict[str, int]] = [{} for _ in constraints]
    for info in infos:
        node = info.node
        if not _has_all_keys(node.labels, constraints):
            continue
        for i, (c, selector) in enumerate(constraints):
            if not _includes(c, pod, node):
                continue
            value = node.labels[c.topology_key]
            counts = tp_value_to_match_num[i]
            counts[value] = counts.get(value, 0) + _count_matching(info.pods, selector, namespace)
    min_match_num = [min(counts.values(), default=INT32_MAX) for counts in tp_value_to_match_num]

    def filter_node_(n: int) -> list[str]:
        labels = infos[n].node.labels
        for i, (c, selector) in enumerate(constraints):
            if c.topology_key not in labels:
                return [REASON_MISSING_LABEL]
            counts = tp_value_to_match_num[i]
            minimum = 0 if len(counts) < c.min_domains else min_match_num[i]
            self_match_num = 1 if matching.label_selector_matches(selector,
                                                                  pod.template.labels) else 0
            skew = counts.get(labels[c.topology_key], 0) + self_match_num - minimum
            if skew > c.max_skew:
                return [REASON_SKEW]
        return []

    return filter_node_


def _pts_score(plugin: PodTopologySpread, pod: Pod, infos: Sequence[NodeInfo],
               candidates: Sequence[int], objects: ApiObjects
               ) -> tuple[list[int], list[int]] | None:
    if not infos:
        return None
    template = pod.template
    require_all = bool(template.topology_spread_constraints) or not plugin.system_defaulted
    constraints = _spread_constraints(plugin, pod, objects, "ScheduleAnyway")
    if not constraints:
        return None  # PreScore Skip
    # initPreScoreState over the candidate (filtered) nodes
    ignored: set[int] = set()
    topology_value_to_pod_counts: list[dict[str, int]] = [{} for _ in constraints]
    topo_size = [0] * len(constraints)
    for n in candidates:
        labels = infos[n].node.labels
        if require_all and not _has_all_keys(labels, constraints):
            ignored.add(n)
            continue
        for i, (c, _) in enumerate(constraints):
            if c.topology_key == HOSTNAME_KEY:
                continue  # per-node counts are taken in Score
            value = labels.get(c.topology_key, "")
            if value not in topology_value_to_pod_counts[i]:
                topology_value_to_pod_counts[i][value] = 0
                topo_size[i] += 1
    weights = []
    for i, (c, _) in enumerate(constraints):
        size = len(candidates) - len(ignored) if c.topology_key == HOSTNAME_KEY else topo_size[i]
        weights.append(math.log(float(size + 2)))  # topologyNormalizingWeight
    # PreScore: counts over all nodes, in the domains seen among the candidates
    for info in infos:
        node = info.node
        if require_all and not _has_all_keys(node.labels, constraints):
            continue
        for i, (c, selector) in enumerate(constraints):
            if not _includes(c, pod, node):
                continue
            value = node.labels.get(c.topology_key, "")
            counts = topology_value_to_pod_counts[i]
            if value in counts:
                counts[value] += _count_matching(info.pods, selector, pod.namespace)
    # Score
    raw = []
    for n in candidates:
        if n in ignored:
            raw.append(0)
            continue
        info = infos[n]
        score = 0.0
        for i, (c, selector) in enumerate(constraints):
            domain = info.node.labels.get(c.topology_key)
            if domain is None:
                continue
            if c.topology_key == HOSTNAME_KEY:
                count = _count_matching(info.pods, selector, pod.namespace)
            else:
                count = topology_value_to_pod_counts[i][domain]
            score += float(count) * weights[i] + float(c.max_skew - 1)  # scoreForCount
        raw.append(_go_round(score))
    # NormalizeScore
    invalid_score = -1
    scores = list(raw)
    min_score, max_score = INT64_MAX, 0
    for j, n in enumerate(candidates):
        if n in ignored:
            scores[j] = invalid_score
            continue
        min_score = min(min_score, scores[j])
        max_score = max(max_score, scores[j])
    for j, s in enumerate(scores):
        if s == invalid_score:
            scores[j] = 0
        elif max_score == 0:
            scores[j] = MAX_NODE_SCORE
        else:
            scores[j] = _go_div(MAX_NODE_SCORE * (max_score + min_score - s), max_score)
    return raw, scores


# ---------------------------------------------------------------------------- GPU plugins
# The FGD paper's simulator (hkust-adsl/kubernetes-scheduler-simulator, pkg/simulator/plugin
# and pkg/utils/frag.go). It reads a pod's cpu as its non-zero request and a node's free cpu
# as allocatable minus the real requests bound; memory plays no part. None: Go's Score
# returns an Error status or panics (no score is defined; the cycle fails).
REASON_GPU_MODEL = "node(s) didn't have GPUs of an allowed model"
REASON_GPU_INSUFFICIENT = "Insufficient GPU"
MAX_SPEC_CPU, MAX_SPEC_GPU = 128_000, 8_000


def _pod_cpu(pod: Pod) -> int:
    return pod.template.nonzero_requests.get(resources.CPU, 0)


def _cpu_left(info: NodeInfo) -> int:
    return info.node.allocatable.get(resources.CPU, 0) - info.requested.get(resources.CPU, 0)


def _pod_models(pod: Pod) -> frozenset[str]:
    gpu = pod.template.gpu
    return frozenset() if gpu is None else gpu.models


def _accessible(node: Node, models: frozenset[str]) -> bool:
    """IsNodeAccessibleToPodByType: any node if the pod names no model, else a node whose
    model it names (a node without GPUs has none)."""
    return not models or (node.gpus > 0 and node.gpu_model in models)


def _gpu_share_filter(plugin: GpuShare, pod: Pod, info: NodeInfo) -> list[str]:
    request = pod.template.gpu
    if request is None:
        return []
    if not info.gpu_accessible(request.models):
        return [REASON_GPU_MODEL]
    room = sum(1 for free in info.gpu_free if free >= request.milli)
    return [REASON_GPU_INSUFFICIENT] if room < request.count else []


Shape = tuple[int, int, int, frozenset[str], int]
"""A typical pod: (cpu milli, GPU count, milli per GPU, models, count of pods)."""


def _typical_shapes(plugin: FGDScore) -> list[Shape]:
    typical = plugin.args.typical_pods
    if typical is None:
        raise ValueError("the reference of FGDScore needs explicit typical_pods")
    return [(int(typical.cpu_milli[t]), int(typical.gpu_count[t]), int(typical.gpu_milli[t]),
             typical.models[t], int(typical.counts[t])) for t in range(len(typical.counts))]


def _frag(node: Node, cpu_left: int, gpu_free: list[int], shapes: list[Shape]) -> int:
    """NodeGpuShareFragAmountScore times the typical pods' total count (exact): for each
    typical pod, the node's idle milli-GPU unless the pod fits (Q3), then only the milli on
    devices with less than its ask."""
    total_left = sum(gpu_free)
    frag = 0
    for cpu, count, milli, models, weight in shapes:
        if milli == 0:  # XL / XR: a CPU pod uses no GPU
            frag += weight * total_left
            continue
        if not _accessible(node, models):  # NoAccess
            frag += weight * total_left
            continue
        can_host = False  # CanNodeHostPodOnGpuMemory
        need = count
        for left in gpu_free:
            if left >= milli:
                need -= 1
                if need <= 0:
                    can_host = True
                    break
        if can_host and cpu_left >= cpu:  # Q3: the devices it cannot use are Q2
            frag += weight * sum(left for left in gpu_free if left < milli)
        else:  # Q1, Q2, Q4
            frag += weight * total_left
    return frag


def _sigmoid_score(gain_scaled: int, total: int) -> int:
    x = gain_scaled / total / 1000.0
    return int(1.0 / (1.0 + math.exp(-x)) * MAX_NODE_SCORE)


def _fgd_score(plugin: FGDScore, pod: Pod, info: NodeInfo) -> int | None:
    shapes = _typical_shapes(plugin)
    total = sum(s[4] for s in shapes)
    if not pod.template.requests:  # PodRequestsAndLimits is empty
        return MAX_NODE_SCORE
    node = info.node
    if not _accessible(node, _pod_models(pod)):
        return None
    cpu, cpu_left, free = _pod_cpu(pod), _cpu_left(info), info.gpu_free
    before = _frag(node, cpu_left, free, shapes)
    request = pod.template.gpu
    if request is not None and request.shares:
        score = None
        for g in range(len(free)):
            if free[g] >= request.milli:
                after_free = list(free)
                after_free[g] -= request.milli
                after = _frag(node, cpu_left - cpu, after_free, shapes)
                option = _sigmoid_score(before - after, total)
                if score is None or option > score:
                    score = option
        return 0 if score is None else score
    count = 0 if request is None else request.count
    # NodeResource.Sub: unchanged if the cpu or the device count is short; else the cpu,
    # and the devices with room in ascending order of free milli (stable).
    after_cpu, after_free = cpu_left, list(free)
    if not (cpu_left < cpu or node.gpus < count):
        after_cpu = cpu_left - cpu
        need = count
        for g in sorted(range(len(after_free)), key=lambda i: after_free[i]):
            if need <= 0:
                break
            assert request is not None  # need > 0: the pod asks for GPUs
            if after_free[g] >= request.milli:
                after_free[g] -= request.milli
                need -= 1
    if count and sum(1 for left in free if left == MILLI_PER_GPU) < count:
        return None  # AllocateExclusiveGpuId panics
    return _sigmoid_score(before - _frag(node, after_cpu, after_free, shapes), total)


def _gpu_total(pod: Pod) -> int:
    gpu = pod.template.gpu
    return 0 if gpu is None else gpu.count * gpu.milli


def _best_fit_score(plugin: BestFitScore, pod: Pod, info: NodeInfo) -> int | None:
    if not _accessible(info.node, _pod_models(pod)):
        return None
    free_vec = [float(_cpu_left(info)), float(sum(info.gpu_free))]
    req_vec = [float(_pod_cpu(pod)), float(_gpu_total(pod))]
    max_spec = [float(MAX_SPEC_CPU), float(MAX_SPEC_GPU)]
    score = 0.0
    for free, req, spec in zip(free_vec, req_vec, max_spec, strict=True):
        if free < req:
            return None  # "free resource not enough": -1, an Error status
        score += (free - req) / spec * 0.5
    return int((1.0 - score) * float(MAX_NODE_SCORE))


def _min_max_normalize(scores: list[int | None]) -> list[int | None]:
    """The simulator's NormalizeScore: min-max to [0, 100], all 0 when all are equal."""
    if any(s is None for s in scores):
        return [None] * len(scores)
    known = [s for s in scores if s is not None]  # all of them
    highest, lowest = -INT64_MAX, INT64_MAX
    for s in known:
        highest = max(highest, s)
        lowest = min(lowest, s)
    old_range = highest - lowest
    return [0 if old_range == 0 else _go_div((s - lowest) * MAX_NODE_SCORE, old_range)
            for s in known]


def _gpu_packing_score(plugin: GpuPackingScore, pod: Pod, info: NodeInfo) -> int | None:
    request = pod.template.gpu
    if request is None:
        return 0
    if not _accessible(info.node, request.models):
        return None
    free = info.gpu_free
    fully_free = sum(1 for left in free if left == MILLI_PER_GPU)
    if fully_free == info.node.gpus:  # case 3: an idle node
        return max(MAX_NODE_SCORE // 3 - fully_free, fully_free)
    need, fully_free_to_use, to_use = request.count, 0, []
    for g in sorted(range(len(free)), key=lambda i: free[i]):
        if need == 0:
            break
        if request.milli <= free[g]:
            need -= 1
            to_use.append(g)
            if free[g] == MILLI_PER_GPU:
                fully_free_to_use += 1
    if need != 0:
        return None  # "failed to allocate gpu resource": an Error status
    if fully_free_to_use > 0:  # case 2: fully free devices of a used node
        return max(MAX_NODE_SCORE // 2 - fully_free_to_use, MAX_NODE_SCORE // 3)
    ratio = 0  # case 1: shared devices only
    for g in to_use:
        ratio += free[g] * 100 // MILLI_PER_GPU
    return max(MAX_NODE_SCORE - ratio // 10, MAX_NODE_SCORE // 2)


def _gpu_tag(request: GpuRequest) -> str:
    """GetGpuAffinityFromPodAnnotation: "share-gpu" or "<count>-gpu"."""
    return "share-gpu" if request.shares else f"{request.count}-gpu"


def _gpu_clustering_score(plugin: GpuClusteringScore, pod: Pod, info: NodeInfo
                          ) -> int | None:
    request = pod.template.gpu
    if not _accessible(info.node, _pod_models(pod)):
        return None  # GetNodeResourceAndPodResourceViaHandle gives nil
    if request is None:
        return 0
    affinity: dict[str, int] = {}
    for bound in info.pods:
        if bound.template.gpu is not None:
            tag = _gpu_tag(bound.template.gpu)
            affinity[tag] = affinity.get(tag, 0) + 1
    quarter = MAX_NODE_SCORE // 4
    base = _go_div(quarter * (MAX_SPEC_GPU - sum(info.gpu_free)), MAX_SPEC_GPU)
    if affinity.get(_gpu_tag(request), 0) > 0:
        if len(affinity) == 1:
            return base + MAX_NODE_SCORE * 3 // 4
        return base + MAX_NODE_SCORE * 2 // 4
    if len(affinity) == 0:
        return base + MAX_NODE_SCORE // 4
    return base


def _dot_product_score(plugin: DotProductScore, pod: Pod, info: NodeInfo) -> int:
    cpu, cpu_left = _pod_cpu(pod), _cpu_left(info)
    if cpu_left < cpu:
        return 0  # no match group: MinNodeScore
    node_vec = [float(cpu_left) / float(MAX_SPEC_CPU),
                float(sum(info.gpu_free)) / float(MAX_SPEC_GPU)]
    pod_vec = [float(cpu) / float(MAX_SPEC_CPU), float(_gpu_total(pod)) / float(MAX_SPEC_GPU)]
    inner = 0.0
    for a, b in zip(node_vec, pod_vec, strict=True):
        inner += a * b
    score = 1 - inner / float(len(pod_vec))
    return int(float(MAX_NODE_SCORE) * score)


# ---------------------------------------------------------------------------- dispatch
FILTERS: dict[type, Callable[..., list[str]]] = {
    NodeUnschedulable: _unschedulable_filter,
    NodeName: _node_name_filter,
    TaintToleration: _taint_filter,
    NodeAffinity: _affinity_filter,
    NodeResourcesFit: _fit_filter,
    GpuShare: _gpu_share_filter,
}
"""Per-node filters: (plugin, pod, NodeInfo) -> reasons."""
SCORES: dict[type, Callable[..., int | None]] = {
    TaintToleration: _taint_score,
    NodeAffinity: _affinity_score,
    NodeResourcesFit: _fit_score,
    NodeResourcesBalancedAllocation: _balanced_score,
    FGDScore: _fgd_score,
    BestFitScore: _best_fit_score,
    GpuPackingScore: _gpu_packing_score,
    GpuClusteringScore: _gpu_clustering_score,
    DotProductScore: _dot_product_score,
}
"""Per-node scores: (plugin, pod, NodeInfo) -> raw score (None: Go's Score fails there)."""
NORMALIZERS: dict[type, Callable[[list[int | None]], list[int | None]]] = {
    TaintToleration: lambda s: _default_normalize(s, reverse=True),
    NodeAffinity: lambda s: _default_normalize(s, reverse=False),
    BestFitScore: _min_max_normalize,
}
CYCLE_FILTERS: dict[type, Callable[..., NodeFilter]] = {
    InterPodAffinity: _ipa_pre_filter,
    PodTopologySpread: _pts_pre_filter,
}
"""Filters that read the whole cluster: (plugin, pod, infos, objects) -> Filter by node index."""
CYCLE_SCORES: dict[type, Callable[..., tuple[list[int], list[int]] | None]] = {
    InterPodAffinity: _ipa_score,
    PodTopologySpread: _pts_score,
}
"""Scores that read the whole cluster and the candidates: (plugin, pod, infos, candidates,
objects) -> (raw, normalised) over the candidates, or None to skip the pod."""


def _find(table: dict[type, Callable], plugin: Plugin) -> Callable | None:
    for cls in type(plugin).__mro__:
        if cls in table:
            return table[cls]
    return None


def _lookup(table: dict[type, Callable], plugin: Plugin) -> Callable:
    found = _find(table, plugin)
    if found is None:
        raise KeyError(f"no scalar reference for plugin {plugin.name}")
    return found


def has_reference(plugin: Plugin) -> bool:
    """True when this module holds a scalar version of ``plugin`` (for ``pre_filter``,
    ``filter_all`` and ``score_candidates``)."""
    tables = ([(FILTERS, CYCLE_FILTERS)] if isinstance(plugin, FilterPlugin) else []) + (
        [(SCORES, CYCLE_SCORES)] if isinstance(plugin, ScorePlugin) else [])
    return all(any(_find(t, plugin) is not None for t in pair) for pair in tables)


def is_per_node(plugin: Plugin) -> bool:
    """True when the reference answers for ``plugin`` one node at a time (``filter_node``,
    ``score_node``, ``normalize``): its answers on a node depend on that node alone."""
    return _find(CYCLE_FILTERS, plugin) is None and _find(CYCLE_SCORES, plugin) is None


def pre_filter(plugin: FilterPlugin, pod: Pod, infos: Sequence[NodeInfo],
               objects: ApiObjects = NO_OBJECTS) -> NodeFilter:
    """``plugin``'s PreFilter for ``pod`` over all nodes (``infos``, in node order), returning
    its Filter: node index -> the reasons it rejects the pod there (empty: it passes)."""
    cycle = _find(CYCLE_FILTERS, plugin)
    if cycle is not None:
        return cycle(plugin, pod, infos, objects)
    per_node = _lookup(FILTERS, plugin)
    return lambda i: per_node(plugin, pod, infos[i])


def filter_all(plugin: FilterPlugin, pod: Pod, infos: Sequence[NodeInfo],
               objects: ApiObjects = NO_OBJECTS) -> list[list[str]]:
    """The reasons ``plugin`` rejects ``pod`` on each node of ``infos`` (empty: it passes)."""
    check = pre_filter(plugin, pod, infos, objects)
    return [check(i) for i in range(len(infos))]


def score_candidates(plugin: ScorePlugin, pod: Pod, infos: Sequence[NodeInfo],
                     candidates: Sequence[int], objects: ApiObjects = NO_OBJECTS
                     ) -> tuple[list[int | None], list[int | None]] | None:
    """``plugin``'s raw and normalised scores of ``pod`` on the ``candidates`` (indices into
    ``infos``, the nodes that passed the filters), normalised over exactly those; None when
    the plugin skips the pod (its PreScore returns Skip: it contributes 0 to every node).
    A GPU plugin's score is None on a node where Go's Score fails (see the module doc)."""
    cycle = _find(CYCLE_SCORES, plugin)
    if cycle is not None:
        return cycle(plugin, pod, infos, candidates, objects)
    raw = [score_node(plugin, pod, infos[i]) for i in candidates]
    return raw, normalize(plugin, raw)


def filter_node(plugin: FilterPlugin, pod: Pod, info: NodeInfo) -> list[str]:
    """The reasons a per-node ``plugin`` rejects ``pod`` on one node (empty: it passes)."""
    return _lookup(FILTERS, plugin)(plugin, pod, info)


def score_node(plugin: ScorePlugin, pod: Pod, info: NodeInfo) -> int | None:
    """A per-node ``plugin``'s raw score of ``pod`` on one node (None where Go's Score
    fails, for the GPU plugins)."""
    return _lookup(SCORES, plugin)(plugin, pod, info)


def normalize(plugin: ScorePlugin, scores: list[int | None]) -> list[int | None]:
    """A per-node ``plugin``'s normalisation over the candidates' raw scores (identity if
    it has none)."""
    return _lookup(NORMALIZERS, plugin)(scores) if plugin.normalize_score is not None else scores


class ReferenceScheduler:
    """A plain scheduler over ``NodeInfo`` objects: runs each filter's PreFilter, filters node
    by node, and scores the candidates plugin by plugin.

    ``policy`` is "greedy", "round-robin" or "random"; with the same profile, workload and
    seed it makes the same choices as the vectorised policies (and draws the same random
    numbers), so their bindings can be compared.
    """

    def __init__(self, workload: Workload, profile: Profile, policy: str = "greedy",
                 seed: int = 0) -> None:
        self.profile, self.policy = profile, policy
        self.objects = workload.objects
        self.infos = [NodeInfo(n) for n in workload.nodes]
        self.index = {n.name: i for i, n in enumerate(workload.nodes)}
        for pod in workload.bound_pods:
            node_name = pod.template.node_name
            assert node_name is not None  # a bound pod names its node
            self.infos[self.index[node_name]].add(pod)
        self.rng = np.random.default_rng(seed)
        self.next_start = 0
        self.last = -1

    def feasibility(self, pod: Pod) -> Callable[[int], bool]:
        """Runs every filter's PreFilter for ``pod``; returns whether a node index passes
        all filters."""
        checks = [pre_filter(p, pod, self.infos, self.objects) for p in self.profile.filters]
        return lambda i: all(not check(i) for check in checks)

    def totals(self, pod: Pod, nodes: Sequence[int]) -> list[int]:
        """Total weighted scores of ``pod`` on the candidate ``nodes`` (node indices)."""
        totals = [0] * len(nodes)
        for plugin, weight in self.profile.scores:
            scored = score_candidates(plugin, pod, self.infos, nodes, self.objects)
            if scored is None:
                continue
            for j, s in enumerate(scored[1]):
                totals[j] += (s or 0) * weight  # None (Go's Score failed): MinNodeScore
        return totals

    def _greedy(self, pod: Pod) -> int | None:
        n = len(self.infos)
        to_find = num_feasible_nodes_to_find(self.profile.percentage_of_nodes_to_score, n)
        to_find = to_find if self.profile.scores else 1
        feasible = self.feasibility(pod)
        found, processed = [], n
        for step in range(n):
            i = (self.next_start + step) % n
            if feasible(i):
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
            feasible = self.feasibility(pod)
            found = [i for i in range(len(self.infos)) if feasible(i)]
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
