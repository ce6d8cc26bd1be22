"""Invariants of the replay over generated traces: hypothesis draws a small cluster, pods
arriving over time (random requests and priorities, some with node selectors, pod
(anti-)affinity, hard spreading, tolerations, owners, deletions) and node events (add,
remove, fail, recover, cordon, uncordon, drain), sometimes controllers (StatefulSet, Job,
DaemonSet); one replay runs with an ``observe`` hook that checks, at every bind, against the
cluster just before it:

- the bind breaks no hard constraint (``schedlab.verify``, an independent checker; the
  constraints are IgnoredDuringExecution, so departures may break them later);
- no node is over its allocatable, and the state's incremental counts (requested per node
  and resource, pods per node, bound pods) equal a recount over the bound pods;

then, on the result: every pod incarnation is in exactly one final state consistent with its
times and node, the summary's counts are the rows', a Job never completes more than asked,
a lost pod of a replacing owner has its next incarnation, and the same seed gives the same
frames.

The replay runs a whole ``Trace`` (its events are the trace's), so the state machine of
issue 12 (submit, depart, add/remove/fail/recover node, cordon, drain, advance time) is a
generated trace here: each drawn pod is a submit (with its departure), each drawn event a
rule, and the clock advances between them.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedlab import Container, Greedy, Node, Pod, PodTemplate, RoundRobin, Taint, Toleration
from schedlab.objects import (
    LabelSelector,
    OwnerRef,
    PodAffinity,
    PodAffinityTerm,
    TopologySpreadConstraint,
    Workload,
)
from schedlab.sim import replay
from schedlab.sim.controllers import REPLACED_KINDS
from schedlab.sim.replay import eviction_delay
from schedlab.sim.results import FINAL_STATES
from schedlab.traces.controllers import DAEMON_SET_TOLERATIONS, pin_to_node
from schedlab.traces.trace import (
    EVENT_KINDS,
    TERMINATION_GRACE_SECONDS,
    Controller,
    NodeEvent,
    Trace,
)
from schedlab.verify import check_placement

HOSTNAME, ZONE = "kubernetes.io/hostname", "topology.kubernetes.io/zone"
UNREACHABLE = "node.kubernetes.io/unreachable"
GI = 2**30
NAN = math.nan

times = st.integers(0, 80).map(lambda t: t / 2.0)  # half seconds: many ties


@st.composite
def nodes(draw: st.DrawFn) -> list[Node]:
    n = draw(st.integers(1, 5))
    result = []
    for i in range(n):
        name = f"n{i}"
        cpu = draw(st.sampled_from([1000, 2000, 4000]))
        pods = draw(st.sampled_from([3, 110]))
        taints = (Taint("dedicated", "x", "NoSchedule"),) if draw(st.integers(0, 5)) == 0 \
            else ()
        result.append(Node(name, {"cpu": cpu, "memory": 8 * GI, "pods": pods},
                           {HOSTNAME: name, ZONE: f"z{i % 2}"}, taints))
    return result


@st.composite
def templates(draw: st.DrawFn) -> PodTemplate:
    cpu = draw(st.integers(0, 12)) * 100
    memory = draw(st.sampled_from([0, GI, 3 * GI]))
    requests = {"cpu": cpu, "memory": memory}
    app = draw(st.sampled_from(["a", "b"]))
    fields: dict[str, object] = {"labels": {"app": app},
                                 "priority": draw(st.integers(0, 2))}
    if draw(st.integers(0, 3)) == 0:
        fields["node_selector"] = {ZONE: draw(st.sampled_from(["z0", "z1"]))}
    if draw(st.integers(0, 3)) == 0:
        fields["pod_anti_affinity"] = PodAffinity(required=(
            PodAffinityTerm(HOSTNAME, LabelSelector({"app": "a"})),))
    if draw(st.integers(0, 5)) == 0:
        fields["pod_affinity"] = PodAffinity(required=(
            PodAffinityTerm(ZONE, LabelSelector({"app": app})),))
    if draw(st.integers(0, 3)) == 0:
        key = draw(st.sampled_from([ZONE, HOSTNAME]))
        fields["topology_spread_constraints"] = (TopologySpreadConstraint(
            1, key, "DoNotSchedule", LabelSelector({"app": app})),)
    tolerations = []
    if draw(st.integers(0, 3)) == 0:
        tolerations.append(Toleration(UNREACHABLE, "Exists", "", "NoExecute",
                                      draw(st.none() | st.integers(0, 30))))
    if draw(st.integers(0, 4)) == 0:
        tolerations.append(Toleration("dedicated", "Equal", "x", "NoSchedule"))
    fields["tolerations"] = tuple(tolerations)
    return PodTemplate(containers=(Container(requests=requests),),
                       **fields)  # type: ignore[arg-type]


durations = st.none() | st.integers(0, 60).map(float)


EPISODES = {"node-fail": "node-recover", "cordon": "uncordon", "drain": "uncordon",
            "node-remove": "node-add", "node-add": None, "uncordon": None}
"""Each event kind drawn, and the one that may undo it later."""
assert set(EPISODES) | {k for k in EPISODES.values() if k} == set(EVENT_KINDS)


@st.composite
def episodes(draw: st.DrawFn, cluster: list[Node]) -> list[NodeEvent]:
    """An event on a node (most often one of the first two, where the DaemonSet pods are),
    sometimes undone later: failed then recovered, cordoned or drained then uncordoned,
    removed then added again."""
    node = draw(st.sampled_from(cluster[:2]) | st.sampled_from(cluster)).name
    kind = draw(st.sampled_from(sorted(EPISODES)))
    at = draw(times)
    events = [NodeEvent(at, kind, node)]
    undo = EPISODES[kind]
    if undo is not None and draw(st.booleans()):
        events.append(NodeEvent(at + draw(st.integers(0, 40)) / 2, undo, node))
    return events


@st.composite
def generated_traces(draw: st.DrawFn) -> Trace:
    cluster = draw(nodes())
    shapes = draw(st.lists(templates(), min_size=1, max_size=4))
    shape = st.sampled_from(shapes)
    controllers = []
    pods: list[tuple[Pod, float, float, float]] = []
    # plain pods and Deployment replicas
    for i in range(draw(st.integers(1, 14))):
        owner = draw(st.sampled_from([None, OwnerRef("Deployment", "dep")]))
        arrival = draw(times)
        duration = draw(durations)
        deletion = arrival + draw(st.integers(0, 40)) / 2 if draw(st.integers(0, 3)) == 0 \
            else NAN
        pods.append((Pod(f"p{i}", draw(shape), owner), arrival, NAN if duration is None
                     else duration, deletion))
    if draw(st.booleans()):  # a StatefulSet
        policy = draw(st.sampled_from(["OrderedReady", "Parallel"]))
        controllers.append(Controller("StatefulSet", "default", "ss",
                                      pod_management_policy=policy))
        owner = OwnerRef("StatefulSet", "ss")
        for i in range(draw(st.integers(1, 4))):
            pods.append((Pod(f"ss-{i}", draw(shape), owner), draw(times), NAN, NAN))
    if draw(st.booleans()):  # a Job
        parallelism = draw(st.integers(1, 3))
        completions = draw(st.integers(1, 6))
        work = draw(shape)
        duration = float(draw(st.integers(1, 20)))
        controllers.append(Controller("Job", "default", "job", template=work,
                                      duration=duration, parallelism=parallelism,
                                      completions=completions))
        owner = OwnerRef("Job", "job")
        start = draw(times)
        for i in range(min(parallelism, completions)):
            pods.append((Pod(f"job-{i}", work, owner), start, duration, NAN))
    if draw(st.booleans()):  # a DaemonSet, with its pods on the nodes present at 0
        daemon = dataclasses.replace(draw(shape), tolerations=DAEMON_SET_TOLERATIONS,
                                     pod_anti_affinity=None, pod_affinity=None,
                                     topology_spread_constraints=())
        controllers.append(Controller("DaemonSet", "default", "ds", template=daemon))
        owner = OwnerRef("DaemonSet", "ds")
        for node in cluster[:draw(st.integers(0, len(cluster)))]:
            pinned = dataclasses.replace(daemon, affinity=pin_to_node(None, node.name))
            pods.append((Pod(f"ds-{node.name}", pinned, owner), 0.0, NAN, NAN))
    events = [event for _ in range(draw(st.integers(0, 6)))
              for event in draw(episodes(cluster))]
    pods.sort(key=lambda p: p[1])  # stable: ties keep the order drawn
    workload = Workload(cluster, [p for p, _, _, _ in pods])
    return Trace.sorted(workload, [p[1] for p in pods], [p[2] for p in pods], events,
                        "generated", [p[3] for p in pods], tuple(controllers))


FAILED_TAINTS = (Taint(UNREACHABLE, "", "NoSchedule"), Taint(UNREACHABLE, "", "NoExecute"))


def nodes_at(trace: Trace, now: float) -> list[Node]:
    """The nodes present at ``now`` as the scheduler must see them, folded from the trace's
    events up to ``now`` (the events of an instant come before its scheduling) independently
    of the replay: a node with a node-add event is absent before it; a cordoned or drained
    node is unschedulable; a failed node carries the unreachable NoSchedule and NoExecute
    taints until it recovers; a node added (again) is as its spec says and healthy, and
    adding a node already present changes nothing."""
    nodes = trace.workload.nodes
    added = {e.node for e in trace.events if e.kind == "node-add"}
    present = {n.name: n.name not in added for n in nodes}
    cordoned = {n.name: n.unschedulable for n in nodes}
    by_name = {n.name: n for n in nodes}
    failed = dict.fromkeys(present, False)
    for event in trace.events:
        if event.time > now:
            break
        name, kind = event.node, event.kind
        if kind == "node-add" and present[name]:
            continue  # already there: kube refuses to create it again, nothing changes
        if kind in ("node-add", "node-remove"):
            present[name] = kind == "node-add"
            if kind == "node-add":  # a node that joins registers afresh
                cordoned[name] = by_name[name].unschedulable
                failed[name] = False
        elif kind in ("node-fail", "node-recover"):
            failed[name] = kind == "node-fail"
        else:
            cordoned[name] = kind != "uncordon"
    return [dataclasses.replace(n, unschedulable=cordoned[n.name],
                                taints=n.taints + (FAILED_TAINTS if failed[n.name] else ()))
            for n in nodes if present[n.name]]


class Checker:
    """The ``observe`` hook: every bind against the cluster just before it, as an
    independent model of the trace says it is (nodes from its events, terminating pods from
    its deletions and the binds seen)."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.deletion = dict(zip([p.key for p in trace.workload.pods], trace.deletion,
                                 strict=True))
        self.bound_at: dict[str, float] = {}
        self.pods: dict[str, Pod] = {}
        """Every pod bound, by key (created pods too)."""
        self.binds = 0
        self.problems: list[object] = []

    def _terminating(self, key: str, now: float) -> bool:
        """A bound pod is terminating once its deletion time has come, if it was bound
        before it (a pod deleted while pending never binds; a replacement created at or
        after its name's deletion time is not deleted)."""
        deletion = self.deletion.get(key, NAN)
        return self.bound_at[key] < deletion <= now

    def __call__(self, now, state, bound, pod, decision) -> None:
        self.binds += 1
        assert decision.node is not None
        assert pod.key not in bound and pod.key not in state.bound
        assert not self.deletion.get(pod.key, NAN) <= now or pod.key in self.bound_at, \
            f"{pod.key} is bound after its deletion at {now}"
        # the scheduler's view of the nodes is the trace's
        nodes = nodes_at(self.trace, now)
        assert list(state.nodes) == nodes, f"the nodes differ from the trace's at {now}"
        # the incremental counts against a recount over the bound pods
        assert set(bound) == set(state.bound), f"bound pods differ at {now}"
        requested = np.zeros_like(state.requested)
        count = np.zeros_like(state.pod_count)
        for key, node in state.bound.items():
            requested[node] += state.requests_of(bound[key]).requested
            count[node] += 1
        assert (requested == state.requested).all(), f"requested drifted at {now}"
        assert (count == state.pod_count).all(), f"pod counts drifted at {now}"
        over = (state.requested > state.allocatable) & (state.allocatable > 0)
        assert not over.any(), f"a node is over its allocatable at {now}"
        assert (state.pod_count <= state.allowed_pods).all()
        terminating = {k for k in bound if self._terminating(k, now)}
        assert terminating == set(state.terminating), f"terminating pods differ at {now}"
        # the bind itself, by the independent checker; terminating pods count for pod
        # (anti-)affinity but not for spreading (as kube-scheduler), which verify does not
        # know: check spreading without them and the rest with them
        where = {key: state.names[node] for key, node in state.bound.items()}

        def check(keys: list[str]) -> list[object]:
            pinned = [Pod(bound[k].name, dataclasses.replace(bound[k].template,
                                                             node_name=where[k]), bound[k].owner)
                      for k in keys]
            workload = Workload(nodes, (*pinned, pod), state.objects)
            return check_placement(workload, {pod.key: state.names[decision.node]})

        found = check(list(bound))
        if terminating:
            found = [v for v in found if v.constraint != "topology-spread"] + [
                v for v in check([k for k in bound if k not in terminating])
                if v.constraint == "topology-spread"]
        self.problems += [(now, v) for v in found]
        self.bound_at[pod.key] = now
        self.pods[pod.key] = pod


def _frames(result) -> tuple[pd.DataFrame, ...]:
    return result.pods, result.decisions, result.timeline


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trace=generated_traces(), seed=st.integers(0, 2**16),
       queue=st.sampled_from(["retry", "fail"]), policy=st.sampled_from([Greedy, RoundRobin]))
def test_replay_invariants_over_generated_traces(trace, seed, queue, policy):
    checker = Checker(trace)
    result = replay(trace, policy(), seed=seed, queue=queue, observe=checker)
    assert checker.problems == []
    pods = result.pods
    by_key = {p.key: p for p in trace.workload.pods} | checker.pods
    # every pod of the trace arrived, each incarnation once, in exactly one final state
    assert not pods.duplicated(["pod", "incarnation"]).any()
    firsts = set(pods.loc[pods["incarnation"] == 0, "pod"])
    assert {p.key for p in trace.workload.pods} <= firsts
    assert set(pods["state"]) <= set(FINAL_STATES)
    counts = Counter(pods["state"])
    assert all(result.summary[s.lower()] == counts[s] for s in FINAL_STATES)
    assert result.summary["pods"] == len(pods)
    started, ended, node = pods["start"].notna(), pods["end"].notna(), pods["node"].notna()
    state = pods["state"]
    assert (started == node).all()
    assert checker.binds == started.sum()
    assert (started[state.isin(["Running", "Succeeded", "Evicted"])]).all()
    assert (~started[state == "Pending"]).all()
    assert (ended == state.isin(["Succeeded", "Evicted"])).all()
    assert (pods.loc[started, "start"] >= pods.loc[started, "arrival"]).all()
    assert (pods.loc[ended, "end"] >= pods.loc[ended, "start"]).all()
    assert np.allclose(pods.loc[started, "wait"],
                       pods.loc[started, "start"] - pods.loc[started, "arrival"])
    if queue == "fail":
        assert counts["Pending"] == 0
    # a lost pod of a replacing owner comes back as its next incarnation
    lost = pods[(state == "Evicted") & pods["owner"].notna()]
    incarnations = set(zip(pods["pod"], pods["incarnation"], strict=True))
    for row in lost.itertuples():
        if row.owner.split("/")[0] in REPLACED_KINDS:
            # not if it was terminating (deleted before it was lost): its end is the trace's
            deleted = checker.deletion.get(row.pod, NAN) < row.end
            assert ((row.pod, row.incarnation + 1) in incarnations) != deleted, row
    # a Job completes no more than asked, runs no more than its parallelism at once
    for spec in trace.controllers:
        if spec.kind == "Job":
            job = pods[pods["owner"] == "Job/job"]
            assert (job["state"] == "Succeeded").sum() <= spec.completions
            ran = job[job["start"].notna()]
            for at in ran["start"]:
                on = (ran["start"] <= at) & ~(ran["end"] <= at)
                assert on.sum() <= spec.parallelism, at
    # every end has its cause in the trace
    durations = dict(zip([p.key for p in trace.workload.pods], trace.duration, strict=True))
    made = {f"Job/{c.name}": c.duration for c in trace.controllers} | {
        f"DaemonSet/{c.name}": c.duration for c in trace.controllers}
    for row in pods[ended].itertuples():
        node_events = [e for e in trace.events if e.node == row.node and e.time <= row.end]
        if row.state == "Succeeded":
            duration = durations.get(row.pod, made.get(row.owner, NAN))
            deletion = checker.deletion.get(row.pod, NAN)
            ends = [row.start + duration, deletion + TERMINATION_GRACE_SECONDS]
            assert row.end == min(e for e in ends if not math.isnan(e)), row
        elif "removed" in row.reason:
            assert any(e.kind == "node-remove" and e.time == row.end for e in node_events), row
        elif "drained" in row.reason:
            assert any(e.kind == "drain" and e.time == row.end for e in node_events), row
            assert not row.owner or not row.owner.startswith("DaemonSet/"), row
        else:
            assert "toleration expired" in row.reason, row
            failed_at = None  # when the failure still on at its end began
            for e in node_events:
                if e.kind == "node-fail" and failed_at is None:
                    failed_at = e.time
                elif e.kind == "node-recover":
                    failed_at = None
            assert failed_at is not None, row
            pod = by_key[row.pod]
            assert row.end == max(failed_at, row.start) + eviction_delay(
                pod.template.tolerations), row
    # what still runs at the end runs on a node present, and tolerates its failure for ever
    end_nodes = {n.name: n for n in nodes_at(trace, result.summary["end"])}
    for row in pods[state == "Running"].itertuples():
        assert row.node in end_nodes, row
        if FAILED_TAINTS[1] in end_nodes[row.node].taints:
            assert eviction_delay(by_key[row.pod].template.tolerations) is None, row
    # the same seed gives the same frames
    again = replay(trace, policy(), seed=seed, queue=queue)
    for a, b in zip(_frames(result), _frames(again), strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert again.summary == result.summary
