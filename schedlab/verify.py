"""An independent checker of every hard constraint of a placement, from first principles.

It reads only the Kubernetes objects of a workload and the policy's bindings, never the plugins
or the cluster state it checks, and restates each filter one pod (or one node) at a time with
the scalar rules of ``schedlab.matching``:

- ``unknown-pod``: every bound pod key belongs to the workload;
- ``unknown-node``: every placed pod is on a node of the workload;
- ``node-name`` (NodeName): a pod whose template names a node is on that node;
- ``node-affinity`` (NodeAffinity): nodeSelector and required node affinity match the node;
- ``taints`` (TaintToleration): every NoSchedule / NoExecute taint of the node is tolerated;
- ``unschedulable`` (NodeUnschedulable): a pod on an unschedulable node tolerates the
  ``node.kubernetes.io/unschedulable:NoSchedule`` taint;
- ``capacity`` (NodeResourcesFit): per resource, the summed requests fit the allocatable;
- ``pod-count`` (NodeResourcesFit): at most ``allocatable["pods"]`` pods (default 110);
- ``gpu-model`` (GpuShare): a pod with a GPU ask is on a node with GPUs of a model it allows;
- ``gpu-devices`` (GpuShare), when the devices each pod holds are given: a GPU pod holds
  ``count`` distinct devices of its node, and no device has more than 1000 milli-GPU asked
  of it (so a whole-GPU pod shares its devices with nobody); without them, the GPU pods of a
  node ask for at most 1000 milli-GPU per device of the node in total;
- ``pod-affinity`` (InterPodAffinity): the node has the topologyKey of every required pod
  affinity term, and for every term a pod matching all the terms is in the node's domain of
  the term's key; or no pod matching all the terms is on a node with any of the keys and the
  pod matches all its terms itself (the first pod of a group with affinity to itself);
- ``pod-anti-affinity`` (InterPodAffinity): no pod matching one of the pod's required
  anti-affinity terms is in the node's domain of that term's key; and no pod whose required
  anti-affinity term matches this pod (its namespaces resolved from that pod's namespace) is
  in the node's domain of that term's key;
- ``topology-spread`` (PodTopologySpread): the node has the topologyKey of each of the pod's
  own whenUnsatisfiable=DoNotSchedule constraints, and for each, the pods matching its
  selector (matchLabelKeys added) in the pod's namespace in the node's domain, plus 1 if the
  pod matches the selector itself, minus the global minimum over the domains is at most
  maxSkew. Domains are the values of the key on the nodes that have every key of those
  constraints and pass the constraint's nodeAffinityPolicy / nodeTaintsPolicy; the minimum
  is 0 when there are fewer domains than minDomains. Default constraints (a profile's
  PodTopologySpread defaults for pods without constraints) are not checked: verify does not
  know the profile.

Capacity and pod count check the final state, not the order of binds: per node, all pods on
it (bound by the kubelet through ``template.node_name`` and placed by the policy) are summed
with their real requests (no non-zero defaults), and a resource is over capacity only when
some policy-placed pod on the node requests a positive amount of it (kube's ``req > 0``
guard), so a pod asking for none of a resource never violates on it. Requests of ``pods`` are
not a resource here (the pod count is). Extended resources are all checked (no
ignoredResources).

The inter-pod constraints (pod-affinity, pod-anti-affinity, topology-spread) depend on the
order of binds, as in a scheduler: the kubelet-bound pods are placed first, then the pods of
``bindings`` in its iteration order (the order the policy bound them, as ``simulate``
records it), each checked against the pods placed before it (never against itself or later
pods) and then placed, also when it breaks a constraint.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from schedlab import matching, resources
from schedlab.errors import SchedlabError
from schedlab.objects import (
    MILLI_PER_GPU,
    GpuRequest,
    LabelSelector,
    Node,
    Pod,
    PodAffinityTerm,
    PodTemplate,
    Taint,
    TopologySpreadConstraint,
    Workload,
)

CONSTRAINTS: tuple[str, ...] = (
    "unknown-pod",
    "unknown-node",
    "node-name",
    "node-affinity",
    "taints",
    "unschedulable",
    "capacity",
    "pod-count",
    "gpu-model",
    "gpu-devices",
    "pod-affinity",
    "pod-anti-affinity",
    "topology-spread",
)
FILTER_EFFECTS: tuple[str, ...] = ("NoSchedule", "NoExecute")
_INT32_MAX = 2**31 - 1
_SHOWN_IN_ERROR = 5


@dataclass(frozen=True)
class Violation:
    """One broken hard constraint: ``pod`` is a pod key (None for a node-wide constraint such
    as capacity), ``node`` the node name ("" when an unknown pod is left unscheduled),
    ``constraint`` one of ``CONSTRAINTS``."""

    pod: str | None
    node: str
    constraint: str
    detail: str

    def __str__(self) -> str:
        if self.pod is None:
            where = f"node {self.node}"
        elif self.node:
            where = f"pod {self.pod} on node {self.node}"
        else:
            where = f"pod {self.pod}"
        return f"{where}: {self.constraint}: {self.detail}"


class PlacementError(SchedlabError):
    """A placement breaks hard constraints; ``violations`` lists them all."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        shown = "; ".join(str(v) for v in violations[:_SHOWN_IN_ERROR])
        more = len(violations) - _SHOWN_IN_ERROR
        tail = f"; and {more} more" if more > 0 else ""
        super().__init__(f"{len(violations)} hard-constraint violation(s): {shown}{tail}")


def _format_taint(taint: Taint) -> str:
    value = f"={taint.value}" if taint.value else ""
    return f"{taint.key}{value}:{taint.effect}"


def _pod_on_node(template: PodTemplate, node: Node) -> tuple[tuple[str, str], ...]:
    """The (constraint, detail) pairs a pod of ``template`` breaks on ``node``, ignoring
    node-name and the node-wide constraints."""
    found: list[tuple[str, str]] = []
    if not matching.required_affinity_matches(template.node_selector, None, node.labels, ""):
        selector = ", ".join(f"{k}={v}" for k, v in sorted(template.node_selector.items()))
        found.append(("node-affinity", f"node labels do not match nodeSelector {{{selector}}}"))
    elif not matching.required_affinity_matches({}, template.affinity, node.labels, node.name):
        found.append(("node-affinity", "no required node affinity term matches the node"))
    gpu = template.gpu
    if gpu is not None and not (node.gpus and (not gpu.models or node.gpu_model in gpu.models)):
        allowed = "|".join(sorted(gpu.models)) or "any"
        found.append(("gpu-model", f"node has {node.gpus} {node.gpu_model or 'no'} GPU(s), "
                                   f"the pod allows {allowed}"))
    taint = matching.first_untolerated(node.taints, template.tolerations, FILTER_EFFECTS)
    if taint is not None:
        found.append(("taints", f"untolerated taint {_format_taint(taint)}"))
    if node.unschedulable and (
        matching.first_untolerated(
            (matching.UNSCHEDULABLE_TAINT,), template.tolerations, FILTER_EFFECTS
        )
        is not None
    ):
        found.append(("unschedulable", "node is unschedulable and the pod does not tolerate it"))
    return tuple(found)


def _node_totals(
    node: Node, templates: Mapping[int, PodTemplate], counts: Counter[int], placed: set[int]
) -> list[Violation]:
    """Capacity and pod-count violations of one node. ``templates`` maps id(template) to the
    template, ``counts`` those ids to how many pods of the template are on the node, ``placed``
    holds the ids of templates with a policy-placed pod there."""
    found: list[Violation] = []
    total: Counter[str] = Counter()
    asked: set[str] = set()
    for key, n in counts.items():
        requests = templates[key].requests
        for name, amount in requests.items():
            total[name] += amount * n
        if key in placed:
            asked.update(name for name, amount in requests.items() if amount > 0)
    for name in sorted(asked - {resources.PODS}):
        allocatable = node.allocatable.get(name, 0)
        if total[name] > allocatable:
            found.append(
                Violation(
                    None,
                    node.name,
                    "capacity",
                    f"{name}: pods request {total[name]} > allocatable {allocatable}",
                )
            )
    allowed = node.allocatable.get(resources.PODS, resources.DEFAULT_ALLOWED_PODS)
    count = counts.total()
    if count > allowed:
        found.append(Violation(None, node.name, "pod-count", f"{count} pods > allowed {allowed}"))
    return found


# --------------------------------------------------------------------- inter-pod constraints
Pair = tuple[str, str]
"""A topology domain: (topology key, value)."""


@dataclass
class _Counts:
    """Pods counted per topology domain, with the first pod seen in each (for details), kept
    up to date with the placement log from position ``seen`` on."""

    count: Counter[Pair] = field(default_factory=Counter)
    example: dict[Pair, str] = field(default_factory=dict)
    seen: int = 0

    def add(self, pair: Pair, pod_key: str) -> None:
        self.count[pair] += 1
        self.example.setdefault(pair, pod_key)


@dataclass
class _Spread:
    """One DoNotSchedule constraint of a template: its selector, the domain of each node that
    counts (None for the others), pods counted per domain, log position."""

    constraint: TopologySpreadConstraint
    selector: LabelSelector | None
    domain: list[str | None]
    count: dict[str, int]
    seen: int = 0


def _describe(pair: Pair) -> str:
    return f"{pair[0]}={pair[1]}"


class _Replay:
    """The pods placed so far, in order, and the counts the inter-pod constraints read.

    Counts that depend on the pod being checked are kept per what they depend on (its
    terms and namespace; its constraints, their selectors and its node inclusion fields), and
    brought up to date lazily from the placement log, so that pods sharing those read each
    placement once. Existing pods' anti-affinity terms are counted when placed, per term and
    namespace of the pod carrying it.
    """

    def __init__(self, workload: Workload) -> None:
        self.nodes = workload.nodes
        self.objects = workload.objects
        self.log: list[tuple[Pod, int]] = []  # (pod, node index) in placement order
        self._affinity: dict[tuple[tuple[PodAffinityTerm, ...], str], _Counts] = {}
        self._anti_affinity: dict[tuple[tuple[PodAffinityTerm, ...], str], _Counts] = {}
        self._existing_anti_affinity: dict[tuple[PodAffinityTerm, str], _Counts] = {}
        self._spread: dict[tuple[Any, ...], list[_Spread]] = {}
        self._term_matches: dict[tuple[PodAffinityTerm, str, str, Mapping[str, str]], bool] = {}
        self._selector_matches: dict[tuple[LabelSelector | None, Mapping[str, str]], bool] = {}

    def place(self, pod: Pod, node_index: int) -> None:
        self.log.append((pod, node_index))
        anti = pod.template.pod_anti_affinity
        labels = self.nodes[node_index].labels
        for t in () if anti is None else anti.required:
            if t.topology_key in labels:
                counts = self._existing_anti_affinity.setdefault((t, pod.namespace), _Counts())
                counts.add((t.topology_key, labels[t.topology_key]), pod.key)

    # ----------------------------------------------------------------- matching, memoised
    def term_matches(self, term: PodAffinityTerm, owner_namespace: str, pod: PodTemplate) -> bool:
        key = (term, owner_namespace, pod.namespace, pod.labels)
        found = self._term_matches.get(key)
        if found is None:
            found = self._term_matches[key] = matching.affinity_term_matches(
                term, owner_namespace, pod, self.objects)
        return found

    def selector_matches(self, selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
        key = (selector, labels)
        found = self._selector_matches.get(key)
        if found is None:
            found = self._selector_matches[key] = matching.label_selector_matches(selector, labels)
        return found

    # ----------------------------------------------------------------- counts
    def _affinity_counts(self, template: PodTemplate) -> _Counts:
        """Placed pods matching all of the template's required affinity terms, counted once
        per term in the domain of its key (if their node has it)."""
        affinity = template.pod_affinity
        assert affinity is not None  # called only for templates with required affinity terms
        terms = affinity.required
        state = self._affinity.setdefault((terms, template.namespace), _Counts())
        for pod, i in self.log[state.seen:]:
            labels = self.nodes[i].labels
            if all(self.term_matches(t, template.namespace, pod.template) for t in terms):
                for t in terms:
                    if t.topology_key in labels:
                        state.add((t.topology_key, labels[t.topology_key]), pod.key)
        state.seen = len(self.log)
        return state

    def _anti_affinity_counts(self, template: PodTemplate) -> _Counts:
        """Placed pods matching each required anti-affinity term of the template, in the
        domain of the term's key."""
        anti = template.pod_anti_affinity
        assert anti is not None  # called only for templates with required anti-affinity terms
        terms = anti.required
        state = self._anti_affinity.setdefault((terms, template.namespace), _Counts())
        for pod, i in self.log[state.seen:]:
            labels = self.nodes[i].labels
            for t in terms:
                key = t.topology_key
                if key in labels and self.term_matches(t, template.namespace, pod.template):
                    state.add((key, labels[key]), pod.key)
        state.seen = len(self.log)
        return state

    def _spreads(self, template: PodTemplate) -> list[_Spread]:
        """The template's DoNotSchedule constraints with their domain counts up to date."""
        hard = tuple(c for c in template.topology_spread_constraints
                     if c.when_unsatisfiable == "DoNotSchedule")
        selectors = tuple(matching.spread_selector(c, template.labels) for c in hard)
        key = (hard, selectors, template.namespace, template.node_selector, template.affinity,
               template.tolerations)
        spreads = self._spread.get(key)
        if spreads is None:
            keys = {c.topology_key for c in hard}
            spreads = self._spread[key] = []
            for c, selector in zip(hard, selectors, strict=True):
                domain = [
                    node.labels[c.topology_key]
                    if keys <= node.labels.keys() and matching.node_counts_for_spread(
                        c, template, node.labels, node.taints, node.name)
                    else None
                    for node in self.nodes
                ]
                count = {value: 0 for value in domain if value is not None}
                spreads.append(_Spread(c, selector, domain, count))
        for spread in spreads:
            for pod, i in self.log[spread.seen:]:
                value = spread.domain[i]
                if (value is not None and pod.namespace == template.namespace
                        and self.selector_matches(spread.selector, pod.template.labels)):
                    spread.count[value] += 1
            spread.seen = len(self.log)
        return spreads

    # ----------------------------------------------------------------- checks
    def check(self, pod: Pod, node: Node) -> list[tuple[str, str]]:
        """(constraint, detail) pairs ``pod`` breaks on ``node`` given the pods placed so far."""
        template = pod.template
        found: list[tuple[str, str]] = []
        affinity = template.pod_affinity
        if affinity is not None and affinity.required:
            found.extend(self._check_affinity(template, node))
        anti = template.pod_anti_affinity
        if anti is not None and anti.required:
            counts = self._anti_affinity_counts(template)
            hits = {(t.topology_key, node.labels[t.topology_key])
                    for t in anti.required if t.topology_key in node.labels}
            for pair in sorted(p for p in hits if counts.count[p] > 0):
                found.append(("pod-anti-affinity",
                              f"a required anti-affinity term of the pod matches "
                              f"{counts.count[pair]} pod(s) in {_describe(pair)}, e.g. "
                              f"{counts.example[pair]}"))
        existing: dict[Pair, str] = {}
        for (term, owner_namespace), counts in self._existing_anti_affinity.items():
            key = term.topology_key
            pair = (key, node.labels.get(key, ""))
            if (key in node.labels and pair not in existing and counts.count[pair] > 0
                    and self.term_matches(term, owner_namespace, template)):
                existing[pair] = counts.example[pair]
        for pair in sorted(existing):
            found.append(("pod-anti-affinity", f"pod {existing[pair]} in {_describe(pair)} has "
                                               f"a required anti-affinity term matching the pod"))
        if template.topology_spread_constraints:
            found.extend(self._check_spread(template, node))
        return found

    def _check_affinity(self, template: PodTemplate, node: Node) -> list[tuple[str, str]]:
        affinity = template.pod_affinity
        assert affinity is not None  # called only for templates with required affinity terms
        terms = affinity.required
        missing = sorted({t.topology_key for t in terms} - node.labels.keys())
        if missing:
            return [("pod-affinity", f"node has no label {key} (topologyKey of a required pod "
                                     f"affinity term)") for key in missing]
        counts = self._affinity_counts(template)
        lacking = sorted({(t.topology_key, node.labels[t.topology_key]) for t in terms
                          if counts.count[(t.topology_key, node.labels[t.topology_key])] <= 0})
        if not lacking:
            return []
        if not counts.count:
            if all(self.term_matches(t, template.namespace, template) for t in terms):
                return []  # the first pod of a group with affinity to itself
            return [("pod-affinity", "no pod matches all required pod affinity terms, and the "
                                     "pod does not match them itself")]
        return [("pod-affinity", f"no pod matching all required pod affinity terms in "
                                 f"{_describe(pair)}") for pair in lacking]

    def _check_spread(self, template: PodTemplate, node: Node) -> list[tuple[str, str]]:
        found = []
        for spread in self._spreads(template):
            c = spread.constraint
            value = node.labels.get(c.topology_key)
            if value is None:
                found.append(("topology-spread", f"node has no label {c.topology_key} "
                                                 f"(topologyKey of a DoNotSchedule constraint)"))
                continue
            if len(spread.count) < c.min_domains:
                minimum = 0
            else:
                minimum = min(spread.count.values(), default=_INT32_MAX)
            here = spread.count.get(value, 0)
            own = 1 if self.selector_matches(spread.selector, template.labels) else 0
            skew = here + own - minimum
            if skew > c.max_skew:
                found.append(("topology-spread",
                              f"{c.topology_key}={value} holds {here} matching pod(s); "
                              f"{here} + {own} - global minimum {minimum} = skew {skew} > "
                              f"maxSkew {c.max_skew}"))
        return found


def _gpu_ask(pod: Pod) -> GpuRequest:
    """The GPU ask of a pod ``_gpu_devices`` is given (only pods that have one)."""
    ask = pod.template.gpu
    assert ask is not None
    return ask


def _gpu_devices(node: Node, pods: Sequence[Pod], gpus: Mapping[str, Sequence[int]] | None
                 ) -> list[Violation]:
    """gpu-devices violations of one node holding ``pods`` (those with a GPU ask)."""
    if gpus is None:
        asked = sum(_gpu_ask(p).total_milli for p in pods)
        if asked > node.gpus * MILLI_PER_GPU:
            return [Violation(None, node.name, "gpu-devices",
                              f"pods ask {asked} milli-GPU > {node.gpus} GPU(s)")]
        return []
    found = []
    per_device: Counter[int] = Counter()
    for pod in pods:
        ask = _gpu_ask(pod)
        held = list(gpus.get(pod.key, ()))
        if (len(held) != ask.count or len(set(held)) != len(held)
                or not all(0 <= g < node.gpus for g in held)):
            found.append(Violation(pod.key, node.name, "gpu-devices",
                                   f"holds devices {held}, expected {ask.count} "
                                   f"distinct of 0..{node.gpus - 1}"))
        for g in set(held):
            per_device[g] += ask.milli
    found += [Violation(None, node.name, "gpu-devices",
                        f"device {g}: pods ask {milli} milli-GPU > {MILLI_PER_GPU}")
              for g, milli in sorted(per_device.items()) if milli > MILLI_PER_GPU]
    return found


def check_placement(workload: Workload, bindings: Mapping[str, str | None],
                    gpus: Mapping[str, Sequence[int]] | None = None) -> list[Violation]:
    """Every hard constraint a placement breaks, sorted by node, pod and constraint.

    ``gpus`` optionally maps the key of each pod with a GPU ask to the device indices it
    holds (``ClusterState.gpus_of``); the devices are then checked one by one.

    ``bindings`` maps the key (``namespace/name``, ``Pod.key``) of each pod a policy placed
    to a node name, or to None when the policy left it unschedulable (never a violation), in
    the order the policy bound them (the inter-pod constraints depend on it). A pod in
    ``bindings`` is where its binding says and is checked in full, including that it is on
    the node its template names, if any. A pod absent from ``bindings`` whose template names
    a node is bound there by the kubelet, before all others: it counts towards that node's
    capacity and pod count and for the inter-pod constraints of later pods, but is not itself
    checked. Capacity and pod count are checked on each node holding at least one
    policy-placed pod.
    """
    nodes = {node.name: node for node in workload.nodes}
    node_index = {node.name: i for i, node in enumerate(workload.nodes)}
    pods: dict[str, Pod] = {pod.key: pod for pod in workload.pods}
    violations = [
        Violation(key, node or "", "unknown-pod", "pod is not in the workload")
        for key, node in bindings.items()
        if key not in pods
    ]
    templates: dict[int, PodTemplate] = {}
    on_node: dict[str, Counter[int]] = defaultdict(Counter)  # node -> id(template) -> pods
    placed_on: dict[str, set[int]] = defaultdict(set)  # node -> ids of policy-placed templates
    verdicts: dict[tuple[int, str], tuple[tuple[str, str], ...]] = {}
    replay = _Replay(workload)

    gpu_pods: dict[str, list[Pod]] = defaultdict(list)  # node -> its pods with a GPU ask

    def place(pod: Pod, node: Node) -> None:
        if pod.template.gpu is not None:
            gpu_pods[node.name].append(pod)
        templates[id(pod.template)] = pod.template
        on_node[node.name][id(pod.template)] += 1
        replay.place(pod, node_index[node.name])

    for key, kubelet_pod in pods.items():  # the kubelet's pods first
        if key not in bindings and kubelet_pod.template.node_name in nodes:
            place(kubelet_pod, nodes[kubelet_pod.template.node_name])
    for key, node_name in bindings.items():  # then the policy's, in bind order
        pod = pods.get(key)
        if pod is None or node_name is None:
            continue
        template = pod.template
        if template.node_name is not None and template.node_name != node_name:
            violations.append(
                Violation(key, node_name, "node-name", f"pod names node {template.node_name}")
            )
        node = nodes.get(node_name)
        if node is None:
            violations.append(Violation(key, node_name, "unknown-node", "no such node"))
            continue
        cache_key = (id(template), node_name)
        verdict = verdicts.get(cache_key)
        if verdict is None:
            verdict = verdicts[cache_key] = _pod_on_node(template, node)
        violations.extend(Violation(key, node_name, c, d) for c, d in verdict)
        violations.extend(Violation(key, node_name, c, d) for c, d in replay.check(pod, node))
        placed_on[node_name].add(id(template))
        place(pod, node)
    for node_name, placed in placed_on.items():
        node = nodes[node_name]
        violations.extend(_node_totals(node, templates, on_node[node_name], placed))
        if gpu_pods[node_name]:
            violations.extend(_gpu_devices(node, gpu_pods[node_name], gpus))
    violations.sort(key=lambda v: (v.node, v.pod is not None, v.pod or "", v.constraint, v.detail))
    return violations


def assert_valid(workload: Workload, bindings: Mapping[str, str | None],
                 gpus: Mapping[str, Sequence[int]] | None = None) -> None:
    """Raise ``PlacementError`` (first few violations and their count) if the placement breaks
    any hard constraint of ``check_placement``."""
    violations = check_placement(workload, bindings, gpus)
    if violations:
        raise PlacementError(violations)
