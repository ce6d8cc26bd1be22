"""The replay's compiled runs (``schedlab.sim.replay_runs``) give exactly the results of the
pod-by-pod replay: the same ``pods``, ``decisions`` and ``timeline`` frames (exactly, floats
too) and the same ``summary``, on drawn traces (arrival ties, zero and endless durations,
deletions, node events, priorities, both queue modes, with and without a timeline bucket and
``until``) and on small cases built by hand where a run must stop, or hand an instant back to
the replay, or go on after it. Each case checks that runs did place pods in it, so that the
comparison compares something.

The runs are switched off by making ``ReplayRuns.of`` give None, and counted by wrapping
``replay_runs.replay_run`` (the compiled call). Divergences found are kept as strict xfails
at the end of the module, with the smallest trace that shows them; the drawn traces step
around them (``timed_traces``) until they are fixed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, target
from hypothesis import strategies as st

from schedlab.framework.profile import Profile
from schedlab.objects import (
    ApiObjects,
    Container,
    LabelSelector,
    Node,
    OwnerRef,
    Pod,
    PodTemplate,
    TopologySpreadConstraint,
    Workload,
)
from schedlab.policies import Greedy
from schedlab.policies.compiled import CompiledCycle
from schedlab.sim import replay_runs
from schedlab.sim.replay import replay
from schedlab.sim.replay_kernels import (
    FITS_NOWHERE,
    INSTANTS,
    N_ATTEMPTS,
    N_FAILS,
    N_UNBINDS,
    NOT_A_SLOT,
)
from schedlab.sim.results import ReplayResult
from schedlab.testing import profiles, workloads
from schedlab.traces import synthetic
from schedlab.traces.trace import EVENT_KINDS, NodeEvent, Trace

HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
NAN = math.nan
FRAMES = ("pods", "decisions", "timeline")


# ------------------------------------------------------------------ helpers
def node(name: str, cpu: int = 1000, pods: int = 110, zone: str | None = None) -> Node:
    labels = {HOSTNAME: name} if zone is None else {HOSTNAME: name, ZONE: zone}
    return Node(name, {"cpu": cpu, "memory": 64 * 2**30, "pods": pods}, labels)


def template(cpu: int = 100, priority: int = 0, **fields: Any) -> PodTemplate:
    return PodTemplate(containers=(Container(requests={"cpu": cpu}),), priority=priority,
                       **fields)


def trace(nodes: list[Node], pods: list[tuple[Pod, float, float]],
          events: tuple[NodeEvent, ...] = (), deletion: list[float] | None = None,
          objects: ApiObjects | None = None) -> Trace:
    """A trace of ``pods`` given as (pod, arrival, duration), in arrival order."""
    workload = Workload(tuple(nodes), tuple(p for p, _, _ in pods),
                        ApiObjects() if objects is None else objects)
    return Trace(workload, np.array([a for _, a, _ in pods]), np.array([d for _, _, d in pods]),
                 events, "test", None if deletion is None else np.array(deletion))


def stream(tpl: PodTemplate, name: str, arrivals: list[float], duration: float,
           owner: OwnerRef | None = None) -> list[tuple[Pod, float, float]]:
    """Pods ``name-0``, ``name-1``, ... of one template arriving at ``arrivals``."""
    return [(Pod(f"{name}-{i}", tpl, owner), at, duration) for i, at in enumerate(arrivals)]


@dataclass
class RunCount:
    """What the compiled runs of one replay did: calls of ``replay_run``, instants replayed,
    pods bound and unbound by them, why the calls stopped (``replay_kernels.REACHED``,
    ``NOT_A_SLOT``, ``FITS_NOWHERE``, ``LOG_FULL``), the attempts it found no node for,
    and the last instant
    of each call that replayed one."""

    calls: int = 0
    instants: int = 0
    binds: int = 0
    unbinds: int = 0
    fails: int = 0
    stops: set[int] = field(default_factory=set)
    reached: list[float] = field(default_factory=list)


def replay_both(t: Trace, policy: Callable[[], Greedy] = Greedy, seed: int = 0,
                **options: Any) -> tuple[ReplayResult, RunCount]:
    """Replay ``t`` with a fresh ``policy()`` with the compiled runs (counted) and without
    them (``ReplayRuns.of`` gives None); assert the frames are exactly the same, the
    summaries equal, and the policies left alike (the same random draws, the same
    round-robin start); return the result with what its runs did."""
    count = RunCount()
    kernel = replay_runs.replay_run

    def counted(*args: Any) -> int:
        stopped = kernel(*args)
        counters = args[1]  # (``replay_run``'s counters, as the run left them)
        count.calls += 1
        count.instants += int(counters[INSTANTS])
        count.binds += int(counters[N_ATTEMPTS] - counters[N_FAILS])
        count.fails += int(counters[N_FAILS])
        count.unbinds += int(counters[N_UNBINDS])
        count.stops.add(int(stopped))
        if counters[INSTANTS]:
            count.reached.append(float(args[0][0]))  # (``clock``: the last instant)
        return int(stopped)

    fast_policy, slow_policy = policy(), policy()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay_runs, "replay_run", counted)
        fast = replay(t, fast_policy, seed, **options)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(replay_runs.ReplayRuns, "of", classmethod(lambda cls, replay: None))
        slow = replay(t, slow_policy, seed, **options)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(slow, name),
                                      check_exact=True, obj=name)
    assert fast.summary == slow.summary
    assert fast_policy.rng.bit_generator.state == slow_policy.rng.bit_generator.state
    assert fast_policy.next_start_node_index == slow_policy.next_start_node_index
    return fast, count


# ------------------------------------------------------------------ drawn traces
def _compiled(profile: Profile) -> bool:
    """Whether Greedy places pods with ``profile`` by its compiled cycle (runs need it)."""
    return CompiledCycle.resource_plugins(profile) is not None


HALF_SECONDS = st.integers(0, 60).map(lambda k: k / 2)
"""Times in half seconds (0 to 30 s), so that instants coincide."""


@st.composite
def _drawn_workload(draw: st.DrawFn) -> tuple[Workload, np.ndarray, np.ndarray]:
    """A workload of ``schedlab.testing.workloads`` (its kubelet-bound pods arrive too),
    its pods often grouped by class as a Deployment's, and nodes often open to every pod
    (no taints, not cordoned: more pods placed, more runs); arrivals in half seconds,
    several often at one instant; durations of 0, NaN (for ever) or half seconds."""
    workload = draw(workloads(max_nodes=12, max_pending=40, max_templates=3,
                              with_pod_affinity=draw(st.sampled_from([False, False, True]))))
    if draw(st.booleans()):
        first_seen: dict[object, int] = {}
        for pod in workload.pods:
            first_seen.setdefault(pod.cache_key, len(first_seen))
        workload = replace(workload, pods=tuple(
            sorted(workload.pods, key=lambda p: first_seen[p.cache_key])))
    if draw(st.booleans()):
        workload = replace(workload, nodes=tuple(replace(nd, taints=(), unschedulable=False)
                                                 for nd in workload.nodes))
    n = len(workload.pods)
    gaps = draw(st.lists(st.sampled_from([0.0, 0.0, 0.0, 0.5, 1.0, 2.5, 6.0]),
                         min_size=n, max_size=n))
    duration = draw(st.lists(st.one_of(st.just(0.0), st.just(NAN), *[HALF_SECONDS] * 3),
                             min_size=n, max_size=n))
    return workload, np.cumsum(gaps), np.array(duration, dtype=float)


@st.composite
def _synthetic_workload(draw: st.DrawFn) -> tuple[Workload, np.ndarray, np.ndarray]:
    """A ``synthetic.trace`` of 2-24 nodes and up to 150 pods (Deployments' pods spreading
    by default, zone preferences, a tainted GPU pool), its times rounded to half seconds
    (many arrivals at one instant, some durations 0), a few durations NaN."""
    t = synthetic.trace(draw(st.integers(2, 24)), draw(st.integers(10, 150)),
                        seed=draw(st.integers(0, 2**16)),
                        load=draw(st.sampled_from([0.5, 0.9, 1.5])),
                        mean_duration=draw(st.sampled_from([2.0, 10.0, 60.0])))
    duration = np.round(2 * t.duration) / 2
    for i in draw(st.sets(st.integers(0, len(duration) - 1), max_size=3)):
        duration[i] = NAN
    return t.workload, np.round(2 * t.arrival) / 2, duration


@st.composite
def timed_traces(draw: st.DrawFn) -> Trace:
    """A trace of a drawn workload or a synthetic one (see those), the templates'
    priorities equal or drawn apart (each template still shared by its pods), a few
    deletions at or after the arrival, a few node events on the workload's nodes (the view
    may empty, its extended resources change)."""
    workload, arrival, duration = draw(st.one_of(_drawn_workload(), _synthetic_workload()))
    if draw(st.booleans()):
        templates: dict[int, PodTemplate] = {}
        pods = []
        for pod in workload.pods:
            t = templates.get(id(pod.template))
            if t is None:
                t = templates[id(pod.template)] = replace(
                    pod.template, priority=draw(st.sampled_from([0, 0, 1, 5, -3])))
            pods.append(Pod(pod.name, t, pod.owner))
        workload = replace(workload, pods=tuple(pods))
    n = len(workload.pods)
    deletion = np.full(n, NAN)
    if n:
        for i in draw(st.sets(st.integers(0, n - 1), max_size=3)):
            deletion[i] = arrival[i] + draw(HALF_SECONDS)
    end = float(arrival[-1]) if n else 0.0
    names = [nd.name for nd in workload.nodes]
    events = []
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 4]))):
        kind, name = draw(st.sampled_from(EVENT_KINDS)), draw(st.sampled_from(names))
        events.append(NodeEvent(draw(st.integers(0, int(2 * end) + 20)) / 2, kind, name))
    events.sort(key=lambda e: e.time)
    return Trace(workload, arrival, duration, tuple(events), "drawn", deletion)


@settings(max_examples=60, deadline=None)
@given(t=timed_traces(),
       profile=st.none() | profiles(require_all_filters=False).filter(_compiled),
       tie_break=st.sampled_from(["random", "first"]),
       queue=st.sampled_from(["retry", "fail"]),
       bucket=st.none() | st.sampled_from([0.5, 1.0, 2.5, 7.0, 60.0]),
       until=st.none() | st.integers(0, 8),
       seed=st.integers(0, 2**32 - 1))
def test_runs_replay_drawn_traces_as_the_pod_by_pod_replay(
        t: Trace, profile: Profile | None, tie_break: str, queue: str, bucket: float | None,
        until: int | None, seed: int) -> None:
    """Whatever the trace, Greedy's profile (the default one, or any its compiled cycle
    takes), tie break, queue mode, bucket, ``until`` (eighths of the trace's end, in half
    seconds) and seed: the replay with runs gives the pod-by-pod replay's frames and
    summary. (Hypothesis is steered towards traces whose runs place many pods.)"""
    stop = None if until is None else round(t.end * until / 4) / 2
    if stop is None and any(e.kind == "node-fail" for e in t.events):
        # a profile without TaintToleration's filter puts a ReplicaSet's replacement back
        # on the failed node, evicted 300 s later, for ever: the replay would not end
        stop = t.end + 1000
    _, count = replay_both(t, lambda: Greedy(profile, tie_break=tie_break),  # type: ignore[arg-type]
                           seed, queue=queue, bucket=bucket, until=stop)
    target(float(count.binds), label="pods bound by runs")


# ------------------------------------------------------------------ runs really run
@pytest.mark.parametrize("bucket", [3600.0, None], ids=["bucket", "row-per-instant"])
def test_runs_replay_a_synthetic_trace_as_the_pod_by_pod_replay(bucket: float | None) -> None:
    """A synthetic trace of 3000 pods over 200 nodes: runs (``replay_run``) place most of
    its pods, and the result is the pod-by-pod replay's."""
    t = synthetic.trace(200, 3000, seed=1, load=0.9, mean_duration=600, swing=0.2)
    result, count = replay_both(t, seed=1, bucket=bucket)
    assert count.calls > 0
    assert count.binds > len(t.workload.pods) // 2 and count.unbinds > 0
    assert result.summary["succeeded"] == len(t.workload.pods)
    if bucket is None:  # (a row per instant: those of the runs too)
        assert len(result.timeline) >= len(np.unique(np.concatenate(
            (t.arrival, result.pods["end"].to_numpy()))))


# ------------------------------------------------------------------ cases
def test_arrivals_of_several_priorities_at_one_instant() -> None:
    """Two planned classes (priority 0 and 5) placed by runs at instants of their own; at
    t=3 both arrive together, more than fit: PrioritySort, in the run's queue as in the
    replay's, tries the priority-5 pods first and leaves the last priority-0 pod out."""
    low, high = template(200), template(200, priority=5)
    pods = [*stream(low, "low", [0.0, 1.0], 10.0), *stream(high, "high", [1.5, 2.0], 10.0)]
    pods += [(Pod("low-2", low), 3.0, 10.0), (Pod("high-2", high), 3.0, 10.0),
             (Pod("low-3", low), 3.0, 10.0), (Pod("high-3", high), 3.0, 10.0)]
    pods += stream(low, "later", [20.0, 21.0, 21.0, 22.0], 5.0)
    result, count = replay_both(trace([node("n0", cpu=1400)], pods))
    assert count.binds >= 4 and max(count.reached) > 20
    starts = result.pods.set_index("pod")["start"]
    assert starts["default/high-3"] == 3.0 and starts["default/low-2"] == 3.0
    assert starts["default/low-3"] == 10.0  # (left out at 3, room at 10)


def test_pods_arriving_together_at_one_priority_in_one_run() -> None:
    """Many pods of one class at each instant, on nodes of different sizes: a run places
    them one after another, each against the binds before it."""
    tpl = template(300)
    arrivals = [float(i // 5) for i in range(40)]
    pods = stream(tpl, "web", arrivals, 3.5)
    nodes = [node("n0", cpu=1000), node("n1", cpu=2000), node("n2", cpu=4000)]
    for bucket in (None, 2.0):
        _, count = replay_both(trace(nodes, pods), seed=3, bucket=bucket)
        assert count.binds > 15 and count.unbinds > 0


def test_a_zero_duration_pod_alone_at_its_instant() -> None:
    """Pods of duration 0 (leaving the instant they start) each the last arrival of its
    instant, among pods that run: placed and gone within the run."""
    tpl = template(400)
    pods = [(Pod(f"p{i}", tpl), float(i), 0.0 if i % 2 else 3.0) for i in range(12)]
    result, count = replay_both(trace([node("n0")], pods))
    assert count.binds > 5
    zero = result.pods[result.pods["pod"].isin([f"default/p{i}" for i in range(1, 12, 2)])]
    assert (zero["start"] == zero["end"]).all()


def test_a_full_cluster_queues_pods_that_retry_with_backoff() -> None:
    """Pods fit nowhere while the node is full (queue "retry"): the run's queue words their
    failures as the replay's, retries them when pods leave and after backoffs."""
    tpl = template(400)
    pods = stream(tpl, "a", [0.0, 1.0, 2.0, 2.5, 3.0, 3.5], 4.0)
    pods += stream(tpl, "b", [20.0, 21.0, 22.0, 23.0, 24.0], 1.5)
    result, count = replay_both(trace([node("n0")], pods), queue="retry")
    assert count.binds >= 3 and count.fails > 0 and max(count.reached) > 20
    assert result.summary["attempts"] > len(pods)  # (retried)
    assert (result.pods["state"] == "Succeeded").all()
    waited = result.pods.set_index("pod")["wait"]
    assert waited["default/a-3"] > 0 and waited["default/b-0"] == 0


def test_a_full_cluster_fails_pods_with_queue_fail() -> None:
    """Queue "fail": a pod that fits nowhere fails at once (the run stops at it and the
    replay fails it), and runs go on at the next instant."""
    tpl = template(400)
    pods = stream(tpl, "a", [0.0, 1.0, 1.0, 2.0, 3.0, 3.0, 4.0, 10.0, 11.0, 12.0], 5.0)
    result, count = replay_both(trace([node("n0")], pods), queue="fail")
    assert count.binds >= 3 and FITS_NOWHERE in count.stops
    assert result.summary["failed"] > 0 and result.summary["succeeded"] > 0


@pytest.mark.parametrize("queue", ["retry", "fail"])
def test_deletions_of_running_and_pending_pods(queue: str) -> None:
    """Deletions amid runs: a running pod deleted (it terminates, holding its room 30 s
    more, and its end is the replay's), one deleted while pending (it leaves the queue
    failed), one deleted the instant it arrives (before the queue runs), one deleted
    while runs replay the instants around it (its end, by its duration, is the
    replay's)."""
    tpl = template(300)
    first = [(Pod(f"a-{i}", tpl), float(i), NAN if i == 1 else 10.0) for i in range(8)]
    later = stream(tpl, "b", [40.0 + i for i in range(12)], 3.0)
    pods = first + later
    deletion = [NAN] * len(pods)
    deletion[1] = 2.5  # (a-1, running: terminating until 32.5)
    deletion[5] = 5.5  # (a-5, pending: the nodes are full)
    deletion[8 + 2] = 43.0  # (b-2, running while runs go on: terminating, ends at 45)
    deletion[8 + 5] = 45.0  # (b-5, deleted as it arrives, before the queue runs)
    t = trace([node("n0"), node("n1", cpu=600)], pods, deletion=deletion)
    result, count = replay_both(t, queue=queue)
    assert count.binds > 5 and NOT_A_SLOT in count.stops  # (b-2's end is the replay's)
    table = result.pods.set_index("pod")
    assert (table.loc["default/a-1", "state"], table.loc["default/a-1", "end"]) == (
        "Succeeded", 32.5)
    assert table.loc["default/a-5", "state"] == "Failed"
    if queue == "retry":
        assert table.loc["default/a-5", "reason"] == "deleted while pending"
        assert table.loc["default/a-6", "start"] == 10.0
    assert table.loc["default/b-2", "end"] == 45.0
    assert (table.loc["default/b-5", "state"], table.loc["default/b-5", "reason"]) == (
        "Failed", "deleted while pending")


@pytest.mark.parametrize(("kind", "then"), [
    ("cordon", NodeEvent(20.0, "uncordon", "n1")), ("drain", NodeEvent(20.0, "uncordon", "n1")),
    ("node-fail", NodeEvent(20.0, "node-recover", "n1")),
    ("node-remove", NodeEvent(20.0, "node-add", "n3"))])
def test_a_node_event_amid_runs(kind: str, then: NodeEvent) -> None:
    """A node event on n1 in the middle of the trace, at 10, then its undoing (a new node
    for a removed one) at 20: runs stop before each, the replay handles it (evictions, a
    ReplicaSet's replacements, a new view of the cluster), and runs go on with the new view
    (a failed node's, once it recovers)."""
    tpl = template(300)
    owned = template(300, labels={"app": "web"})
    pods = stream(tpl, "a", [float(i) for i in range(0, 30)], 2.5)
    pods += stream(owned, "web", [0.5, 1.5, 2.5], NAN, OwnerRef("ReplicaSet", "web"))
    pods.sort(key=lambda p: p[1])
    events = (NodeEvent(10.0, kind, "n1"), then)
    nodes = [node("n0"), node("n1"), node("n2"), node("n3")]
    result, count = replay_both(trace(nodes, pods, events=events))
    assert count.binds > 10
    assert min(count.reached) < 10 and max(count.reached) > 20
    if kind != "node-fail":  # (no run starts while a node is failed)
        assert any(10 < at < 20 for at in count.reached)
    if kind in ("drain", "node-remove"):
        assert result.summary["evicted"] > 0


def test_until_cuts_the_replay_within_a_run() -> None:
    """``until`` between instants a run would replay: the same cut as the replay's, whether
    a bucket row is due or not."""
    tpl = template(200)
    pods = stream(tpl, "a", [0.5 * i for i in range(60)], 3.0)
    for until in (0.0, 7.25, 12.0, 100.0):
        for bucket in (None, 1.0, 4.0):
            result, count = replay_both(trace([node("n0"), node("n1")], pods),
                                        until=until, bucket=bucket)
            assert result.summary["end"] == until
            assert count.binds > 0 or until < 1


def test_spreading_over_zones_with_deployments() -> None:
    """Pods over three zones: a Deployment's pods (default spreading, by its selector),
    pods with their own ScheduleAnyway zone constraint over the Deployment's pods, and
    plain pods, arriving mixed: runs keep the spreading tallies as the replay would."""
    nodes = [node(f"n{i}", cpu=2000, zone=f"z{i % 3}") for i in range(7)]
    web = template(150, labels={"app": "web"})
    near = TopologySpreadConstraint(1, ZONE, "ScheduleAnyway", LabelSelector({"app": "web"}))
    api = template(100, labels={"app": "api"}, topology_spread_constraints=(near,))
    own = TopologySpreadConstraint(1, ZONE, "ScheduleAnyway", LabelSelector({"app": "db"}))
    db = template(250, labels={"app": "db"}, topology_spread_constraints=(own,))
    plain = template(300)
    objects = ApiObjects(controllers={
        ("Deployment", "default", "web"): LabelSelector({"app": "web"}),
        ("Deployment", "default", "db"): LabelSelector({"app": "db"})})
    kinds = [("web", web, OwnerRef("Deployment", "web")), ("api", api, None),
             ("db", db, OwnerRef("Deployment", "db")), ("plain", plain, None)]
    pods = []
    for i in range(120):
        name, tpl, owner = kinds[(i * 7 // 3) % 4]
        pods.append((Pod(f"{name}-{i}", tpl, owner), float(i // 3), 6.0 + i % 7))
    for bucket in (None, 10.0):
        result, count = replay_both(trace(nodes, pods, objects=objects), seed=2,
                                    bucket=bucket)
        assert count.binds > 40
        zones = result.pods["node"].map(lambda n: int(n[1:]) % 3)
        assert zones[result.pods["pod"].str.contains("web")].nunique() == 3


# ------------------------------------------------------------------ once divergences
@pytest.mark.parametrize("queue", ["retry", "fail"])
def test_a_zero_duration_pod_frees_its_room_only_after_the_arrivals_of_its_instant(
        queue: str) -> None:
    """One node with room for one pod; p0 (t=0) plans the class; p1 and p2 arrive at t=1,
    all of duration 0. Every arrival of an instant is scheduled before the departures of
    the pods started then, so p2 fits nowhere at 1: retry, it starts at 2 after its
    backoff; fail, it fails. (A run that stopped at p2 once let p1 leave first.)"""
    tpl = template(100)
    pods = [(Pod("p0", tpl), 0.0, 0.0), (Pod("p1", tpl), 1.0, 0.0), (Pod("p2", tpl), 1.0, 0.0)]
    result, _ = replay_both(trace([node("n0", cpu=100)], pods), queue=queue)
    p2 = result.pods.set_index("pod").loc["default/p2"]
    if queue == "retry":
        assert (p2["state"], p2["start"]) == ("Succeeded", 2.0)
    else:
        assert p2["state"] == "Failed"


def test_runs_after_every_node_is_removed() -> None:
    """The only node is removed at 2; b arrives at 4, with no node to go to (the policy has
    no compiled cycle then: no run) and stays Pending."""
    pods = [(Pod("a", template()), 0.0, 1.0), (Pod("b", template()), 4.0, 1.0)]
    result, _ = replay_both(trace([node("n0")], pods,
                                  events=(NodeEvent(2.0, "node-remove", "n0"),)))
    assert result.pods.set_index("pod").loc["default/b", "state"] == "Pending"


@pytest.mark.parametrize("kind", ["node-remove", "node-add"])
def test_a_node_event_keeps_the_views_resources(kind: str) -> None:
    """n0 has example.com/gpu (no pod asks for it), n1 not; n0 leaves (or joins) at 1: every
    view of the cluster has the same resource columns (the replay crashed here before)."""
    n0 = node("n0")
    n0 = replace(n0, allocatable={**n0.allocatable, "example.com/gpu": 4})
    pods = [(Pod("a", template()), 0.0, 5.0), (Pod("b", template()), 2.0, 5.0)]
    t = trace([n0, node("n1")], pods, events=(NodeEvent(1.0, kind, "n0"),))
    result, _ = replay_both(t)
    assert "allocation_example.com/gpu" in result.timeline.columns
    assert (result.pods["state"] == "Succeeded").all()


def test_a_run_stopping_in_an_instant_it_began_hands_the_replay_that_instant() -> None:
    """A case hypothesis found: a profile whose failures runs do not word (queue "retry"),
    a node joining at 20. Runs began instants (their timers acted) and stopped at a pod that
    fits nowhere before any attempt: the replay must run the rest of that instant, not
    the one before (a timeline row then went back in time)."""
    from schedlab.plugins import NodeResourcesFit, NodeUnschedulable, TaintToleration

    profile = Profile(filters=(NodeResourcesFit(), NodeUnschedulable(), TaintToleration()),
                      scores=(), percentage_of_nodes_to_score=100)
    t = synthetic.trace(2, 29, seed=3, load=1.5, mean_duration=60.0)
    t = Trace(t.workload, np.round(2 * t.arrival) / 2, np.round(2 * t.duration) / 2,
              (NodeEvent(20.0, "node-add", t.workload.nodes[0].name),), "drawn")
    result, _ = replay_both(t, lambda: Greedy(profile, tie_break="first"), 23)
    times = result.timeline["time"].to_numpy()
    assert (np.diff(times) > 0).all()
