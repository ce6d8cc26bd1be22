"""Workload controllers expanded into the pods they create.

Each controller counts the live pods it already owns (``metadata.ownerReferences``; pods
Succeeded or Failed do not count, as kube's FilterActivePods) and creates only the missing
ones, as its Kubernetes controller would: a ReplicaSet (or a Deployment holding its pods
directly) its replicas, a StatefulSet each missing ordinal, a Job its wanted active pods
(pkg/controller/job: parallelism capped by the completions left, none for a work queue once
a pod succeeded), a DaemonSet one pod per eligible node not yet served. Existing pods beyond
what a controller wants are kept (the input is a snapshot; scaling down is not modelled).

The DaemonSet rules are the Kubernetes DaemonSet controller's (pkg/controller/daemon): the
tolerations it adds to every daemon pod (AddOrUpdateDaemonPodTolerations), which nodes should
run one (NodeShouldRunDaemonPod), the required node affinity that pins each pod to its node
(ReplaceDaemonSetPodNodeNameNodeAffinity) and the node a pod is for (GetTargetNodeName).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable
from dataclasses import fields, replace

from schedlab.matching import first_untolerated, required_affinity_matches
from schedlab.objects import (
    Node,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    OwnerRef,
    Pod,
    PodTemplate,
    Toleration,
)

NODE_NAME_FIELD = "metadata.name"
DAEMON_SET_TOLERATIONS: tuple[Toleration, ...] = (
    Toleration("node.kubernetes.io/not-ready", "Exists", "", "NoExecute"),
    Toleration("node.kubernetes.io/unreachable", "Exists", "", "NoExecute"),
    Toleration("node.kubernetes.io/disk-pressure", "Exists", "", "NoSchedule"),
    Toleration("node.kubernetes.io/memory-pressure", "Exists", "", "NoSchedule"),
    Toleration("node.kubernetes.io/pid-pressure", "Exists", "", "NoSchedule"),
    Toleration("node.kubernetes.io/unschedulable", "Exists", "", "NoSchedule"),
)
_BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")


def replica_pods(
    kind: str,
    name: str,
    template: PodTemplate,
    count: int,
    taken: Collection[str] = frozenset(),
) -> tuple[Pod, ...]:
    """``count`` new pods of a Deployment, ReplicaSet or Job, named ``{name}-{i}`` with the
    smallest indices ``i`` whose name is not in ``taken`` (the names of the pods already in
    the controller's namespace), all sharing ``template`` and owned by ``kind``/``name``."""
    owner = OwnerRef(kind, name)
    names = (f"{name}-{i}" for i in itertools.count())
    fresh = itertools.islice((n for n in names if n not in taken), max(count, 0))
    return tuple(Pod(n, template, owner) for n in fresh)


def stateful_set_pods(
    name: str, template: PodTemplate, replicas: int, live: Collection[str]
) -> tuple[Pod, ...]:
    """The ordinal pods ``{name}-{i}`` (i in 0..replicas-1) of a StatefulSet whose names are
    not in ``live`` (the names of the live pods of its namespace), owned by it."""
    owner = OwnerRef("StatefulSet", name)
    ordinals = (f"{name}-{i}" for i in range(replicas))
    return tuple(Pod(n, template, owner) for n in ordinals if n not in live)


def job_pod_count(parallelism: int, completions: int | None, succeeded: int = 0) -> int:
    """How many pods a Job wants running (kube's Job controller): with ``completions`` set,
    ``parallelism`` capped by the completions left (never negative); without (a work queue),
    ``parallelism`` until a pod has succeeded, then none."""
    if completions is None:
        return parallelism if succeeded == 0 else 0
    return max(0, min(parallelism, completions - succeeded))


def missing(wanted: int, live: int) -> int:
    """How many pods a controller wanting ``wanted`` creates when ``live`` exist."""
    return max(0, wanted - live)


def target_node(pod: Pod) -> str | None:
    """The node a daemon pod is for: its ``nodeName``, else the value of the first
    ``matchFields metadata.name In [NODE]`` of its required node affinity terms (kube's
    GetTargetNodeName); None when it names none."""
    template = pod.template
    if template.node_name is not None:
        return template.node_name
    if template.affinity is None or template.affinity.required is None:
        return None
    for term in template.affinity.required:
        for requirement in term.match_fields:
            if (
                requirement.key == NODE_NAME_FIELD
                and requirement.operator == "In"
                and len(requirement.values) == 1
            ):
                return requirement.values[0]
    return None


def with_daemon_tolerations(template: PodTemplate) -> PodTemplate:
    """``template`` plus the tolerations the DaemonSet controller adds (those not present)."""
    added = tuple(t for t in DAEMON_SET_TOLERATIONS if t not in template.tolerations)
    return replace(template, tolerations=template.tolerations + added)


def should_run_daemon_pod(template: PodTemplate, node: Node) -> bool:
    """True when a daemon pod of ``template`` (already carrying the DaemonSet tolerations)
    belongs on ``node``: its nodeSelector and required node affinity match the node and every
    NoSchedule/NoExecute taint of the node is tolerated."""
    return (
        required_affinity_matches(template.node_selector, template.affinity, node.labels, node.name)
        and first_untolerated(node.taints, template.tolerations, _BLOCKING_EFFECTS) is None
    )


def pin_to_node(affinity: NodeAffinity | None, node_name: str) -> NodeAffinity:
    """The node affinity of a daemon pod for ``node_name``: the required terms are replaced by
    the single term ``matchFields metadata.name In [node_name]``; preferred terms are kept."""
    pin = NodeSelectorRequirement(NODE_NAME_FIELD, "In", (node_name,))
    preferred = () if affinity is None else affinity.preferred
    return NodeAffinity(required=(NodeSelectorTerm(match_fields=(pin,)),), preferred=preferred)


_TEMPLATE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PodTemplate))


def with_affinity(template: PodTemplate, affinity: NodeAffinity) -> PodTemplate:
    """``replace(template, affinity=affinity)`` sharing every other field of ``template``
    (its labels, requests and tolerations are not copied again as ``replace`` would: a
    DaemonSet over many nodes makes one such template per pod)."""
    pinned = object.__new__(PodTemplate)
    for name in _TEMPLATE_FIELDS:
        object.__setattr__(pinned, name, getattr(template, name))
    object.__setattr__(pinned, "affinity", affinity)
    return pinned


def daemon_set_pods(
    name: str,
    template: PodTemplate,
    nodes: Iterable[Node],
    intern: Callable[[PodTemplate], PodTemplate],
    served: Collection[str] = frozenset(),
    pins: dict[str, NodeAffinity] | None = None,
) -> tuple[Pod, ...]:
    """One pod ``{name}-{node name}`` per eligible node not in ``served`` (the nodes a live
    pod of the DaemonSet runs on or is pinned to), in node order, owned by the DaemonSet.

    Each pod's template is ``template`` with the DaemonSet tolerations and pinned to its node;
    ``intern`` maps each such template to the shared instance of an equal one. ``pins``, if
    given, keeps the affinity pinning to each node (by node name) for other DaemonSets, so
    that pods of many DaemonSets share it (a pod with preferred terms shares its required
    ones).
    """
    daemon_template = with_daemon_tolerations(template)
    owner = OwnerRef("DaemonSet", name)
    preferred = () if template.affinity is None else template.affinity.preferred
    pins = {} if pins is None else pins
    pods = []
    for node in nodes:
        if node.name in served or not should_run_daemon_pod(daemon_template, node):
            continue
        pin = pins.get(node.name)
        if pin is None:
            pin = pins[node.name] = pin_to_node(None, node.name)
        if preferred:
            pin = NodeAffinity(required=pin.required, preferred=preferred)
        pods.append(Pod(f"{name}-{node.name}", intern(with_affinity(daemon_template, pin)), owner))
    return tuple(pods)
