"""Workload controllers over time: what the replay's controllers do when pods start, end,
are lost, and when nodes join (kube's ReplicaSet, StatefulSet, DaemonSet and Job
controllers, reduced to what changes placement).

- A pod lost to its node (evicted by a drain, by a node failure past its toleration, or gone
  with a removed node) is recreated at once if a ReplicaSet, Deployment, StatefulSet or Job
  owns it: a new incarnation with the same name, template and duration (kube gives a
  ReplicaSet's or Job's replacement a new random name; schedlab keeps the name and counts
  incarnations so results join on ``pod``). A pod that ends as the trace says (its
  duration, its deletion) is not replaced: the trace records its end; nor is one lost while
  terminating (the replay does not call ``lost`` for it).
- StatefulSet (``OrderedReady``, the default): pod N enters the queue only once no lower
  ordinal of the set is waiting to arrive, held or pending (Running counts as Ready);
  ``Parallel`` sets are not held.
- DaemonSet: a node that joins (``node-add``) gets the set's pod if it is eligible
  (``traces.controllers.should_run_daemon_pod``) and no live pod of the set is for it.
- Job: each pod that succeeds (runs its duration) counts; the Job then runs
  ``min(parallelism, completions - succeeded)`` pods (``traces.controllers.job_pod_count``),
  creating the missing ones from its template, named ``{job}-{i}`` with the smallest free
  ``i``.

Controllers react within the instant (no controller latency): a pod they create is in the
queue before the scheduler runs again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

from schedlab.objects import Node, NodeAffinity, Pod, PodTemplate
from schedlab.traces.controllers import daemon_set_pods, job_pod_count, missing, replica_pods
from schedlab.traces.trace import Controller, Trace

REPLACED_KINDS = frozenset({"ReplicaSet", "Deployment", "StatefulSet", "Job"})
"""Owners whose lost pods are recreated."""


class Cluster(Protocol):
    """What the controllers read of the replay and ask of it."""

    def live(self, pod: int) -> bool:
        """The pod is waiting to arrive, held, pending or running (not terminating)."""
        ...

    def waiting(self, pod: int) -> bool:
        """The pod is waiting to arrive, held or pending."""
        ...

    def submit(self, pod: Pod, duration: float, incarnation_of: int | None = None) -> int:
        """Create a pod now (a new incarnation of pod ``incarnation_of`` if given)."""
        ...

    def release(self, pod: int) -> None:
        """A held pod enters the queue now."""
        ...


def ordinal(pod: Pod) -> int | None:
    """The ordinal of a StatefulSet's pod ``{set}-{i}``, else None."""
    owner = pod.owner
    if owner is None or owner.kind != "StatefulSet":
        return None
    prefix, _, number = pod.name.rpartition("-")
    return int(number) if prefix == owner.name and number.isdigit() else None


class Controllers:
    """The controllers of one replay, over pod ids the replay gives out."""

    def __init__(self, trace: Trace, cluster: Cluster) -> None:
        self.cluster = cluster
        self.specs: dict[tuple[str, str, str], Controller] = {c.key: c for c in trace.controllers}
        self._members: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
        """Controller key → pod name → its latest pod id."""
        self._ordinals: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
        """(namespace, StatefulSet) → ordinal → latest pod id."""
        self._held: dict[tuple[str, str], set[int]] = defaultdict(set)
        self._succeeded: dict[tuple[str, str, str], int] = {
            c.key: c.succeeded for c in trace.controllers if c.kind == "Job"}
        self._templates: dict[PodTemplate, PodTemplate] = {}
        self._pins: dict[str, NodeAffinity] = {}

    @staticmethod
    def _key(pod: Pod) -> tuple[str, str, str] | None:
        owner = pod.owner
        return None if owner is None else (owner.kind, pod.namespace, owner.name)

    def register(self, pod_id: int, pod: Pod) -> None:
        """Pod ``pod_id`` exists (from the trace, or created): count it for its owner."""
        key = self._key(pod)
        if key is None:
            return
        self._members[key][pod.name] = pod_id
        number = ordinal(pod)
        if number is not None:
            self._ordinals[pod.namespace, key[2]][number] = pod_id

    # ------------------------------------------------------------------ StatefulSet order
    def _ordered(self, pod: Pod) -> bool:
        owner = pod.owner
        if owner is None or ordinal(pod) is None:
            return False
        spec = self.specs.get((owner.kind, pod.namespace, owner.name))
        return spec is None or spec.pod_management_policy == "OrderedReady"

    def _blocked(self, pod: Pod) -> bool:
        number = ordinal(pod)
        assert pod.owner is not None and number is not None
        members = self._ordinals[pod.namespace, pod.owner.name]
        return any(o < number and self.cluster.waiting(i) for o, i in members.items())

    def hold(self, pod_id: int, pod: Pod) -> bool:
        """Whether arriving pod ``pod_id`` must wait for lower ordinals (it is then held)."""
        if not self._ordered(pod) or not self._blocked(pod):
            return False
        assert pod.owner is not None
        self._held[pod.namespace, pod.owner.name].add(pod_id)
        return True

    def _release_held(self, pod: Pod, pods: Callable[[int], Pod]) -> None:
        if pod.owner is None or pod.owner.kind != "StatefulSet":
            return
        held = self._held.get((pod.namespace, pod.owner.name))
        while held:
            first = min(held, key=lambda i: ordinal(pods(i)) or 0)
            if self._blocked(pods(first)):
                return
            held.discard(first)
            self.cluster.release(first)

    def forget_held(self, pod_id: int, pod: Pod) -> None:
        """A held pod was deleted."""
        if pod.owner is not None:
            self._held[pod.namespace, pod.owner.name].discard(pod_id)

    # ------------------------------------------------------------------ reactions
    def started(self, pod: Pod, pods: Callable[[int], Pod]) -> None:
        """A pod started running: a StatefulSet may go on."""
        self._release_held(pod, pods)

    def ended(self, pod: Pod, pods: Callable[[int], Pod]) -> None:
        """A pod stopped waiting or running for any reason: a StatefulSet may go on."""
        self._release_held(pod, pods)

    def succeeded(self, pod_id: int, pod: Pod) -> None:
        """A pod ran its duration: a Job counts it and creates the pods it now misses."""
        if pod.owner is None or pod.owner.kind != "Job":
            return
        spec = self.specs.get(("Job", pod.namespace, pod.owner.name))
        if spec is None or spec.template is None:
            return
        self._succeeded[spec.key] += 1
        wanted = job_pod_count(spec.parallelism, spec.completions, self._succeeded[spec.key])
        members = self._members[spec.key]
        live = sum(self.cluster.live(i) for i in members.values())
        new = replica_pods("Job", spec.name, self._intern(spec.template), missing(wanted, live),
                           taken=members.keys())
        for created in new:
            self.cluster.submit(created, spec.duration)

    def lost(self, pod_id: int, pod: Pod, duration: float) -> None:
        """A pod was lost to its node: its owner (if it replaces pods) recreates it."""
        if pod.owner is not None and pod.owner.kind in REPLACED_KINDS:
            self.cluster.submit(pod, duration, incarnation_of=pod_id)

    def node_added(self, node: Node) -> None:
        """A node joined: every DaemonSet it is eligible for gets its pod there."""
        for spec in self.specs.values():
            if spec.kind != "DaemonSet" or spec.template is None:
                continue
            name = f"{spec.name}-{node.name}"
            current = self._members[spec.key].get(name)
            if current is not None and self.cluster.live(current):
                continue
            for pod in daemon_set_pods(spec.name, spec.template, [node], self._intern,
                                       pins=self._pins):
                self.cluster.submit(pod, spec.duration, incarnation_of=current)

    def _intern(self, template: PodTemplate) -> PodTemplate:
        return self._templates.setdefault(template, template)
