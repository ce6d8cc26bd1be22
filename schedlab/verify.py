"""An independent checker of every hard constraint of a placement, from first principles.

It reads only the Kubernetes objects of a workload and the policy's bindings, never the plugins
or the cluster state it checks, and restates each filter one pod (or one node) at a time:

- ``unknown-pod``: every bound pod key belongs to the workload;
- ``unknown-node``: every placed pod is on a node of the workload;
- ``node-name`` (NodeName): a pod whose template names a node is on that node;
- ``node-affinity`` (NodeAffinity): nodeSelector and required node affinity match the node;
- ``taints`` (TaintToleration): every NoSchedule / NoExecute taint of the node is tolerated;
- ``unschedulable`` (NodeUnschedulable): a pod on an unschedulable node tolerates the
  ``node.kubernetes.io/unschedulable:NoSchedule`` taint;
- ``capacity`` (NodeResourcesFit): per resource, the summed requests fit the allocatable;
- ``pod-count`` (NodeResourcesFit): at most ``allocatable["pods"]`` pods (default 110).

The final state is checked, not the order of binds: per node, all pods on it (bound by the
kubelet through ``template.node_name`` and placed by the policy) are summed with their real
requests (no non-zero defaults), and a resource is over capacity only when some policy-placed
pod on the node requests a positive amount of it (kube's ``req > 0`` guard), so a pod asking
for none of a resource never violates on it. Requests of ``pods`` are not a resource here (the
pod count is). Extended resources are all checked (no ignoredResources).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from schedlab import matching, resources
from schedlab.errors import SchedlabError
from schedlab.objects import Node, Pod, PodTemplate, Taint, Workload

CONSTRAINTS: tuple[str, ...] = (
    "unknown-pod",
    "unknown-node",
    "node-name",
    "node-affinity",
    "taints",
    "unschedulable",
    "capacity",
    "pod-count",
)
FILTER_EFFECTS: tuple[str, ...] = ("NoSchedule", "NoExecute")
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


def check_placement(workload: Workload, bindings: Mapping[str, str | None]) -> list[Violation]:
    """Every hard constraint a placement breaks, sorted by node, pod and constraint.

    ``bindings`` maps the key (``namespace/name``, ``Pod.key``) of each pod a policy placed
    to a node name, or to None when the policy left it unschedulable (never a violation). A
    pod in ``bindings`` is where its binding says and is checked in full, including that it
    is on the node its template names, if any. A pod absent from ``bindings`` whose template
    names a node is bound there by the kubelet: it counts towards that node's capacity and pod
    count but is not itself checked. Capacity and pod count are checked on each node holding
    at least one policy-placed pod.
    """
    nodes = {node.name: node for node in workload.nodes}
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
    for key, pod in pods.items():
        template = pod.template
        if key in bindings:
            node_name = bindings[key]
            if node_name is None:
                continue
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
            placed_on[node_name].add(id(template))
        else:
            node_name = template.node_name
            if node_name is None or node_name not in nodes:
                continue
        templates[id(template)] = template
        on_node[node_name][id(template)] += 1
    for node_name, placed in placed_on.items():
        node = nodes[node_name]
        violations.extend(_node_totals(node, templates, on_node[node_name], placed))
    violations.sort(key=lambda v: (v.node, v.pod is not None, v.pod or "", v.constraint, v.detail))
    return violations


def assert_valid(workload: Workload, bindings: Mapping[str, str | None]) -> None:
    """Raise ``PlacementError`` (first few violations and their count) if the placement breaks
    any hard constraint of ``check_placement``."""
    violations = check_placement(workload, bindings)
    if violations:
        raise PlacementError(violations)
