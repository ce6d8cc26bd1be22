"""Workload controllers expanded into the pods they create.

Deployment, ReplicaSet, StatefulSet and Job stamp a fixed number of pods from one template;
a DaemonSet stamps one pod per eligible node. The DaemonSet rules are the Kubernetes DaemonSet
controller's (pkg/controller/daemon): the tolerations it adds to every daemon pod
(AddOrUpdateDaemonPodTolerations), which nodes should run one (NodeShouldRunDaemonPod) and the
required node affinity that pins each pod to its node (ReplaceDaemonSetPodNodeNameNodeAffinity).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

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


def replica_pods(kind: str, name: str, template: PodTemplate, count: int) -> tuple[Pod, ...]:
    """The ``count`` pods ``{name}-0`` .. ``{name}-{count-1}`` of a Deployment, ReplicaSet,
    StatefulSet or Job, all sharing ``template`` and owned by ``kind``/``name``."""
    owner = OwnerRef(kind, name)
    return tuple(Pod(f"{name}-{i}", template, owner) for i in range(count))


def job_pod_count(parallelism: int, completions: int | None) -> int:
    """How many pods a fresh Job runs at once: its parallelism, capped by its completions."""
    return parallelism if completions is None else min(parallelism, completions)


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


def daemon_set_pods(
    name: str,
    template: PodTemplate,
    nodes: Iterable[Node],
    intern: Callable[[PodTemplate], PodTemplate],
) -> tuple[Pod, ...]:
    """One pod ``{name}-{node name}`` per eligible node, in node order, owned by the DaemonSet.

    Each pod's template is ``template`` with the DaemonSet tolerations and pinned to its node;
    ``intern`` maps each such template to the shared instance of an equal one.
    """
    daemon_template = with_daemon_tolerations(template)
    owner = OwnerRef("DaemonSet", name)
    return tuple(
        Pod(
            f"{name}-{node.name}",
            intern(replace(daemon_template, affinity=pin_to_node(template.affinity, node.name))),
            owner,
        )
        for node in nodes
        if should_run_daemon_pod(daemon_template, node)
    )
