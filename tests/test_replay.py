"""The replay over time (``schedlab.replay``) on small traces built in Python, each case a
Kubernetes rule with its exact outcome: PrioritySort queue order, retry on departure with
kube's backoff, ``simulate`` as the no-time special case, StatefulSet ordering and identity,
DaemonSet pods on joining nodes, Job completions, cordon/drain/uncordon, node failure and
tolerationSeconds, terminating pods, and the same bytes for the same seed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from schedlab import (
    Container,
    Greedy,
    Node,
    Pod,
    PodTemplate,
    RoundRobin,
    Toleration,
    Trace,
    Workload,
    replay,
    simulate,
)
from schedlab.objects import (
    LabelSelector,
    OwnerRef,
    PodAffinity,
    PodAffinityTerm,
    TopologySpreadConstraint,
)
from schedlab.sim.results import FINAL_STATES, ReplayResult
from schedlab.traces import synthetic
from schedlab.traces.controllers import DAEMON_SET_TOLERATIONS, pin_to_node
from schedlab.traces.trace import Controller, NodeEvent

HOSTNAME = "kubernetes.io/hostname"
NAN = math.nan


def node(name: str, cpu: int = 1000, **labels: str) -> Node:
    return Node(name, {"cpu": cpu, "memory": 64 * 2**30, "pods": 110},
                {HOSTNAME: name, **labels})


def template(cpu: int = 1000, priority: int = 0, **fields: object) -> PodTemplate:
    return PodTemplate(containers=(Container(requests={"cpu": cpu}),), priority=priority,
                       **fields)  # type: ignore[arg-type]


def trace(nodes: list[Node], pods: list[tuple[Pod, float, float]],
          events: tuple[NodeEvent, ...] = (), deletion: list[float] | None = None,
          controllers: tuple[Controller, ...] = ()) -> Trace:
    """A trace of ``pods`` given as (pod, arrival, duration), in arrival order."""
    return Trace(Workload(nodes, [p for p, _, _ in pods]), [a for _, a, _ in pods],
                 [d for _, _, d in pods], events, "test", deletion, controllers)


def rows(result: ReplayResult) -> dict[tuple[str, int], dict[str, object]]:
    """(pod name without namespace, incarnation) → its row of ``result.pods``."""
    frame = result.pods.astype(object).where(result.pods.notna(), None)
    return {(r["pod"].split("/", 1)[1], r["incarnation"]): r for r in frame.to_dict("records")}


def outcome(result: ReplayResult) -> dict[str, tuple[object, ...]]:
    """Pod name → (state, node, start, end) of its first incarnation."""
    return {name: (r["state"], r["node"], r["start"], r["end"])
            for (name, inc), r in rows(result).items() if inc == 0}


def run(t: Trace, queue: str = "retry", seed: int = 0) -> ReplayResult:
    result = replay(t, Greedy(), seed=seed, queue=queue)  # type: ignore[arg-type]
    states = result.pods["state"]
    assert set(states) <= set(FINAL_STATES)
    assert not result.pods.duplicated(["pod", "incarnation"]).any()
    counts = states.value_counts()
    assert all(result.summary[s.lower()] == counts.get(s, 0) for s in FINAL_STATES)
    return result


# ------------------------------------------------------------------ the queue
def test_priority_sort_higher_priority_first_then_the_others_as_room_appears():
    # one node with room for one pod; three pods arrive together, in input order low, high,
    # mid: high runs first, then mid when high leaves, then low (input order loses).
    pods = [(Pod("low", template(priority=1)), 0.0, 10.0),
            (Pod("high", template(priority=5)), 0.0, 10.0),
            (Pod("mid", template(priority=3)), 0.0, 10.0)]
    result = run(trace([node("n0")], pods))
    assert outcome(result) == {"high": ("Succeeded", "n0", 0.0, 10.0),
                               "mid": ("Succeeded", "n0", 10.0, 20.0),
                               "low": ("Succeeded", "n0", 20.0, 30.0)}
    first = result.decisions[result.decisions["time"] == 0.0]
    assert list(first["pod"]) == ["default/high", "default/mid", "default/low"]
    assert list(first["node"].isna()) == [False, True, True]
    assert result.summary["succeeded"] == 3 and result.summary["mean_wait"] == 10.0


def test_equal_priorities_keep_input_order():
    pods = [(Pod(name, template()), 0.0, 10.0) for name in ("c", "a", "b")]
    result = run(trace([node("n0")], pods))
    assert [outcome(result)[n][2] for n in ("c", "a", "b")] == [0.0, 10.0, 20.0]


def test_equal_priorities_go_by_the_time_they_last_entered_the_queue():
    # kube's QueuedPodInfo.Timestamp is reset each time a failed pod is put back, so a pod
    # retried (and failed) more recently goes behind one that failed earlier, whatever the
    # input order. n0 is full with "a" until 10; "b" (hard spreading, so a bind elsewhere
    # may help it) fails at 1, "c" at 2; "x" binds on n1 at 3, which moves only "b" back: it
    # fails again, its timestamp now 3. When "a" leaves at 10 both are retried (backoffs
    # ended at 3 and 5): "c" (timestamp 2) goes first although it came after "b".
    big = {"node_selector": {"pool": "big"}}
    spread = TopologySpreadConstraint(1, HOSTNAME, "DoNotSchedule",
                                      LabelSelector({"app": "b"}))
    pods = [(Pod("a", template(**big)), 0.0, 10.0),
            (Pod("b", template(**big, labels={"app": "b"},
                               topology_spread_constraints=(spread,))), 1.0, 10.0),
            (Pod("c", template(**big)), 2.0, 10.0),
            (Pod("x", template(100, node_selector={"pool": "small"})), 3.0, NAN)]
    result = run(trace([node("n0", pool="big"), node("n1", pool="small")], pods))
    assert outcome(result) == {"a": ("Succeeded", "n0", 0.0, 10.0),
                               "b": ("Succeeded", "n0", 20.0, 30.0),
                               "c": ("Succeeded", "n0", 10.0, 20.0),
                               "x": ("Running", "n1", 3.0, None)}
    attempts = result.decisions.groupby("pod")["time"].apply(list).to_dict()
    assert attempts["default/b"] == [1.0, 3.0, 10.0, 20.0]
    assert attempts["default/c"] == [2.0, 10.0]


# ------------------------------------------------------------------ retry and backoff
def test_a_pod_that_fits_nowhere_starts_exactly_when_a_pod_departs():
    # "b" fails at 0 (backoff 1 s, over at 1); "a" leaves at 10, which moves "b" back to the
    # active queue at once: it starts at 10.
    pods = [(Pod("a", template()), 0.0, 10.0), (Pod("b", template()), 0.0, 5.0)]
    result = run(trace([node("n0")], pods))
    assert outcome(result)["b"] == ("Succeeded", "n0", 10.0, 15.0)
    assert rows(result)["b", 0]["wait"] == 10.0
    assert list(result.decisions["node"].isna()) == [False, True, False]


def test_a_departure_during_backoff_starts_the_pod_when_its_backoff_ends():
    # Backoff is 1 s after the first failed attempt, doubling, at most 10 s. "b" arrives at
    # 0 and fails (backoff to 1). "s1" leaves at 1.5: "b" is moved, tried at 1.5, fails
    # again (second backoff: 2 s, to 3.5). "s2" leaves at 2 and "a" at 3: "b" is moved to
    # the backoff queue, not tried, and starts when its backoff ends, at 3.5 = 1.5 + 2.
    small = template(100)
    pods = [(Pod("a", template(800)), 0.0, 3.0), (Pod("s1", small), 0.0, 1.5),
            (Pod("s2", small), 0.0, 2.0), (Pod("b", template(500)), 0.0, NAN)]
    result = run(trace([node("n0")], pods))
    assert outcome(result)["b"] == ("Running", "n0", 3.5, None)
    b = result.decisions[result.decisions["pod"] == "default/b"]
    assert list(b["time"]) == [0.0, 1.5, 3.5]
    assert list(b["node"].isna()) == [True, True, False]


def test_backoff_doubles_up_to_ten_seconds():
    # "b" is moved back by a departure every 0.5 s ("s0".."s39" leave at 0.5, 1.0, ...,
    # 20.0), but tried only once its backoff is over: after attempts at 0, 1, 3, 7, 15 (each
    # failing: backoffs 1, 2, 4, 8) its backoff is capped at 10 s, so the next try after
    # 15 is at 25 (no departure then: the backoff timer itself runs it), where "a" has left
    # (at 21) and it fits.
    pods = [(Pod("a", template(500)), 0.0, 21.0)]
    pods += [(Pod(f"s{i}", template(10)), 0.0, 0.5 * (i + 1)) for i in range(40)]
    pods += [(Pod("b", template(501)), 0.0, NAN)]
    result = run(trace([node("n0")], pods))
    b = result.decisions[result.decisions["pod"] == "default/b"]
    assert list(b["time"]) == [0.0, 1.0, 3.0, 7.0, 15.0, 25.0]
    assert outcome(result)["b"] == ("Running", "n0", 25.0, None)


def test_queue_fail_fails_a_pod_that_fits_nowhere_at_once():
    pods = [(Pod("a", template()), 0.0, 10.0), (Pod("b", template()), 0.0, 5.0)]
    result = run(trace([node("n0")], pods), queue="fail")
    b = rows(result)["b", 0]
    assert (b["state"], b["start"], b["node"], b["wait"]) == ("Failed", None, None, None)
    assert "Insufficient cpu" in b["reason"]
    assert result.summary["failed"] == 1 and result.summary["succeeded"] == 1
    assert len(result.decisions) == 2  # never retried


def test_a_pending_pod_deleted_leaves_the_queue_failed():
    pods = [(Pod("a", template()), 0.0, NAN), (Pod("b", template()), 1.0, NAN)]
    result = run(trace([node("n0")], pods, deletion=[NAN, 4.0]))
    b = rows(result)["b", 0]
    assert (b["state"], b["reason"], b["start"]) == ("Failed", "deleted while pending", None)


# ------------------------------------------------------------------ simulate
@pytest.mark.parametrize("policy", [Greedy, RoundRobin], ids=["greedy", "round-robin"])
def test_replay_without_time_gives_the_bindings_of_simulate(policy):
    workload = synthetic.generate(12, 150, seed=4)
    n = len(workload.pods)
    assert len({p.template.priority for p in workload.pods}) == 1
    expected = simulate(workload, policy(), seed=9).bindings
    t = Trace(workload, np.zeros(n), np.full(n, np.nan))
    result = replay(t, policy(), seed=9, queue="fail")
    pods = result.pods
    assert list(pods["pod"]) == list(expected["pod"])
    assert list(pods["node"].where(pods["node"].notna(), None)) == list(expected["node"])
    assert expected["node"].isna().any() and expected["node"].notna().any()  # both kinds
    placed = expected["node"].notna()
    assert list(pods["state"]) == ["Running" if p else "Failed" for p in placed]


# ------------------------------------------------------------------ StatefulSet
def _stateful(policy: str) -> Trace:
    # n0 is held by "blocker" until 5; web-0 can go only on n0, web-1 anywhere.
    owner = OwnerRef("StatefulSet", "web")
    web0 = Pod("web-0", template(node_selector={"pool": "a"}), owner)
    web1 = Pod("web-1", template(), owner)
    blocker = Pod("blocker", template(node_selector={"pool": "a"}))
    pods = [(blocker, 0.0, 5.0), (web0, 0.0, NAN), (web1, 0.0, NAN)]
    return trace([node("n0", pool="a"), node("n1")], pods,
                 controllers=(Controller("StatefulSet", "default", "web",
                                         pod_management_policy=policy),))


def test_stateful_set_ordered_ready_starts_pod_1_only_once_pod_0_runs():
    result = run(_stateful("OrderedReady"))
    assert outcome(result)["web-0"] == ("Running", "n0", 5.0, None)
    assert outcome(result)["web-1"] == ("Running", "n1", 5.0, None)
    web1 = result.decisions[result.decisions["pod"] == "default/web-1"]
    assert list(web1["time"]) == [5.0]  # held, never tried before


def test_stateful_set_parallel_starts_its_pods_at_once():
    result = run(_stateful("Parallel"))
    assert outcome(result)["web-0"] == ("Running", "n0", 5.0, None)
    assert outcome(result)["web-1"] == ("Running", "n1", 0.0, None)


def test_a_lost_stateful_set_pod_is_recreated_with_its_name_and_incarnation_1():
    # n1 joins at 1; db-0 runs on n0 from 0 until n0 is drained at 3, then again on n1
    owner = OwnerRef("StatefulSet", "db")
    pods = [(Pod("db-0", template(), owner), 0.0, NAN)]
    events = (NodeEvent(1.0, "node-add", "n1"), NodeEvent(3.0, "drain", "n0"))
    result = run(trace([node("n0"), node("n1")], pods, events=events,
                       controllers=(Controller("StatefulSet", "default", "db"),)))
    table = rows(result)
    assert set(table) == {("db-0", 0), ("db-0", 1)}
    lost, again = table["db-0", 0], table["db-0", 1]
    assert (lost["state"], lost["node"], lost["end"]) == ("Evicted", "n0", 3.0)
    assert "drained" in lost["reason"]
    assert (again["state"], again["node"], again["arrival"], again["start"], again["owner"]) \
        == ("Running", "n1", 3.0, 3.0, "StatefulSet/db")


# ------------------------------------------------------------------ DaemonSet
def test_a_daemon_set_places_its_pod_on_a_joining_node_it_is_eligible_for():
    ds = template(100, node_selector={"role": "worker"})
    nodes = [node("n0", role="worker"), node("n1", role="worker"), node("n2", role="infra")]
    events = (NodeEvent(5.0, "node-add", "n1"), NodeEvent(6.0, "node-add", "n2"))
    t = trace(nodes, [(Pod("app", template(100)), 0.0, NAN)], events=events,
              controllers=(Controller("DaemonSet", "default", "agent", template=ds),))
    result = run(t)
    table = rows(result)
    assert set(table) == {("app", 0), ("agent-n1", 0)}  # none for n2 (not a worker)
    agent = table["agent-n1", 0]
    assert (agent["state"], agent["node"], agent["arrival"], agent["start"], agent["owner"]) \
        == ("Running", "n1", 5.0, 5.0, "DaemonSet/agent")


# ------------------------------------------------------------------ Job
def test_a_job_runs_exactly_its_completions_never_more_than_parallelism_at_once():
    owner = OwnerRef("Job", "batch")
    work = template(100)
    pods = [(Pod(f"batch-{i}", work, owner), 0.0, 10.0) for i in range(2)]
    job = Controller("Job", "default", "batch", template=work, duration=10.0,
                     parallelism=2, completions=5)
    result = run(trace([node("n0", cpu=4000), node("n1", cpu=4000)], pods,
                       controllers=(job,)))
    pods_ = result.pods
    assert list(pods_["state"]) == ["Succeeded"] * 5
    assert sorted(pods_["pod"]) == [f"default/batch-{i}" for i in range(5)]
    assert sorted(pods_["start"]) == [0.0, 0.0, 10.0, 10.0, 20.0]
    for at in sorted(set(pods_["start"]) | set(pods_["end"])):
        running = ((pods_["start"] <= at) & (pods_["end"] > at)).sum()
        assert running <= 2
    assert result.summary["end"] == 30.0


# ------------------------------------------------------------------ cordon, drain
def _daemon_pod(node_name: str) -> Pod:
    t = template(100, tolerations=DAEMON_SET_TOLERATIONS, affinity=pin_to_node(None, node_name))
    return Pod(f"agent-{node_name}", t, OwnerRef("DaemonSet", "agent"))


def test_drain_evicts_every_pod_but_daemon_set_pods():
    pods = [(_daemon_pod("n0"), 0.0, NAN), (Pod("a", template(300)), 0.0, NAN),
            (Pod("b", template(300)), 0.0, NAN), (Pod("late", template(100)), 6.0, NAN)]
    only = [node("n0")]
    result = run(trace(only, pods, events=(NodeEvent(5.0, "drain", "n0"),)))
    assert outcome(result) == {"agent-n0": ("Running", "n0", 0.0, None),
                               "a": ("Evicted", "n0", 0.0, 5.0),
                               "b": ("Evicted", "n0", 0.0, 5.0),
                               "late": ("Pending", None, None, None)}  # drained = cordoned
    assert rows(result)["late", 0]["reason"] == (
        "0/1 nodes are available: 1 node(s) were unschedulable.")


def test_cordon_keeps_running_pods_takes_no_new_ones_and_uncordon_lets_them_in():
    # "new" arrives at 6 on the cordoned node and fails (backoff to 7); uncordon at 8 moves
    # it back, past its backoff: it starts at 8.
    pods = [(Pod("old", template(300)), 0.0, NAN), (Pod("new", template(300)), 6.0, NAN)]
    events = (NodeEvent(5.0, "cordon", "n0"), NodeEvent(8.0, "uncordon", "n0"))
    result = run(trace([node("n0")], pods, events=events))
    assert outcome(result) == {"old": ("Running", "n0", 0.0, None),
                               "new": ("Running", "n0", 8.0, None)}
    new = result.decisions[result.decisions["pod"] == "default/new"]
    assert list(new["time"]) == [6.0, 8.0] and new["node"].isna().tolist() == [True, False]


def test_a_node_added_again_after_removal_registers_afresh():
    # n0 is cordoned and fails, then is removed at 3 and added at 4: it comes back
    # schedulable and healthy, so "later" (waiting since 2) starts on it at 4.
    pods = [(Pod("later", template(300)), 2.0, NAN)]
    events = (NodeEvent(1.0, "cordon", "n0"), NodeEvent(1.0, "node-fail", "n0"),
              NodeEvent(3.0, "node-remove", "n0"), NodeEvent(4.0, "node-add", "n0"))
    assert outcome(run(trace([node("n0")], pods, events=events))) == {
        "later": ("Running", "n0", 4.0, None)}


def test_adding_a_node_already_present_changes_nothing():
    # n0 joins at 1 and is cordoned at 2; a second node-add at 3 is refused as the API server
    # refuses to create a Node that exists, so n0 stays cordoned and "pod" waits.
    pods = [(Pod("pod", template(300)), 4.0, NAN)]
    events = (NodeEvent(1.0, "node-add", "n0"), NodeEvent(2.0, "cordon", "n0"),
              NodeEvent(3.0, "node-add", "n0"))
    assert outcome(run(trace([node("n0")], pods, events=events)))["pod"][:2] == (
        "Pending", None)


# ------------------------------------------------------------------ node failure
UNREACHABLE = "node.kubernetes.io/unreachable"


def _failing(events: tuple[NodeEvent, ...]) -> ReplayResult:
    pods = [(Pod("plain", template(100)), 0.0, NAN),
            (Pod("sixty", template(100, tolerations=(
                Toleration(UNREACHABLE, "Exists", "", "NoExecute", 60),))), 0.0, NAN),
            (Pod("forever", template(100, tolerations=(
                Toleration(UNREACHABLE, "Exists", "", "NoExecute"),))), 0.0, NAN),
            (Pod("newcomer", template(100)), 20.0, NAN)]
    return run(trace([node("n0")], pods, events=events))


def test_a_failed_node_evicts_its_pods_after_their_toleration():
    result = _failing((NodeEvent(10.0, "node-fail", "n0"),))
    assert outcome(result) == {"plain": ("Evicted", "n0", 0.0, 310.0),  # 300 s by default
                               "sixty": ("Evicted", "n0", 0.0, 70.0),
                               "forever": ("Running", "n0", 0.0, None),
                               "newcomer": ("Pending", None, None, None)}  # tainted node
    assert "toleration expired" in rows(result)["plain", 0]["reason"]


def test_a_node_recovered_before_the_deadline_keeps_its_pods():
    result = _failing((NodeEvent(10.0, "node-fail", "n0"), NodeEvent(50.0, "node-recover", "n0"),
                       NodeEvent(60.0, "node-fail", "n0")))
    # recovered at 50 (before 70 and 310): the evictions due then are cancelled; the
    # newcomer starts at 50. Failing again at 60 starts the clocks afresh: 120 and 360.
    assert outcome(result) == {"plain": ("Evicted", "n0", 0.0, 360.0),
                               "sixty": ("Evicted", "n0", 0.0, 120.0),
                               "forever": ("Running", "n0", 0.0, None),
                               "newcomer": ("Evicted", "n0", 50.0, 360.0)}


# ------------------------------------------------------------------ terminating pods
def test_a_deleted_running_pod_keeps_its_resources_for_the_grace_period():
    pods = [(Pod("old", template()), 0.0, NAN), (Pod("new", template()), 10.0, NAN)]
    result = run(trace([node("n0")], pods, deletion=[5.0, NAN]))
    assert outcome(result) == {"old": ("Succeeded", "n0", 0.0, 35.0),
                               "new": ("Running", "n0", 35.0, None)}


def test_a_terminating_pod_ends_with_its_duration_if_that_comes_first():
    pods = [(Pod("old", template()), 0.0, 20.0)]
    result = run(trace([node("n0")], pods, deletion=[5.0]))
    assert outcome(result) == {"old": ("Succeeded", "n0", 0.0, 20.0)}


def _terminating_x(pending: Pod) -> ReplayResult:
    """"x" (app=x) runs on n0 and is deleted at 5 (terminating until 35); ``pending``,
    restricted to n0 too, arrives at 10. Both nodes have room for everything."""
    x = Pod("x", template(100, labels={"app": "x"}, node_selector={"pool": "a"}))
    nodes = [node("n0", cpu=4000, pool="a"), node("n1", cpu=4000), node("n2", cpu=4000)]
    # n2 joins at 7: the cluster state is rebuilt while x is terminating
    return run(trace(nodes, [(x, 0.0, NAN), (pending, 10.0, NAN)], deletion=[5.0, NAN],
                     events=(NodeEvent(7.0, "node-add", "n2"),)))


def test_a_terminating_pod_is_counted_by_inter_pod_anti_affinity():
    # anti-affinity against app=x per host: the terminating x still repels it until it
    # leaves at 35 (kube's InterPodAffinity counts terminating pods)
    anti = PodAffinity(required=(PodAffinityTerm(HOSTNAME, LabelSelector({"app": "x"})),))
    pending = Pod("y", template(100, node_selector={"pool": "a"}, pod_anti_affinity=anti))
    result = _terminating_x(pending)
    assert outcome(result) == {"x": ("Succeeded", "n0", 0.0, 35.0),
                               "y": ("Running", "n0", 35.0, None)}


SPREAD_X_PER_HOST = TopologySpreadConstraint(1, HOSTNAME, "DoNotSchedule",
                                             LabelSelector({"app": "x"}),
                                             node_affinity_policy="Ignore")
"""app=x pods spread per host, max skew 1, every node a domain (nodeAffinityPolicy Ignore)."""


def test_a_terminating_pod_is_not_counted_by_pod_topology_spread():
    # spreading app=x per host over both nodes (nodeAffinityPolicy Ignore, so n1 is a
    # domain though z may not go there), max skew 1: were x counted on n0, z there would
    # make skew 2; as it is terminating it is not counted, so z starts at 10.
    spread = SPREAD_X_PER_HOST
    pending = Pod("z", template(100, labels={"app": "x"}, node_selector={"pool": "a"},
                                topology_spread_constraints=(spread,)))
    result = _terminating_x(pending)
    assert outcome(result) == {"x": ("Succeeded", "n0", 0.0, 35.0),
                               "z": ("Running", "n0", 10.0, None)}


def test_the_spread_case_fails_while_x_is_not_terminating():
    # the control of the case above: without the deletion z waits (skew 2 on n0)
    spread = SPREAD_X_PER_HOST
    z = Pod("z", template(100, labels={"app": "x"}, node_selector={"pool": "a"},
                          topology_spread_constraints=(spread,)))
    x = Pod("x", template(100, labels={"app": "x"}, node_selector={"pool": "a"}))
    nodes = [node("n0", cpu=4000, pool="a"), node("n1", cpu=4000)]
    result = run(trace(nodes, [(x, 0.0, NAN), (z, 10.0, NAN)]))
    assert outcome(result)["z"] == ("Pending", None, None, None)


@pytest.mark.parametrize(("deletion", "expected"), [
    (NAN, {("web", 0): ("Evicted", 10.0), ("web", 1): ("Running", None)}),
    (5.0, {("web", 0): ("Evicted", 10.0)}),  # terminating when lost: deleted, not replaced
    (10.0, {("web", 0): ("Evicted", 10.0), ("web", 1): ("Failed", 10.0)}),
], ids=["not-deleted", "terminating", "deleted-the-same-instant"])
def test_a_deleted_pod_lost_to_its_node_is_not_replaced(deletion, expected):
    # n0 is drained at 10. The Deployment's pod is replaced then, unless it was deleted
    # (terminating) before; deleted at 10 itself (after the drain in that instant's order),
    # its replacement, created first, inherits the deletion and leaves the queue at once.
    pods = [(Pod("web", template(), OwnerRef("Deployment", "web")), 0.0, NAN)]
    t = trace([node("n0"), node("n1")], pods, events=(NodeEvent(1.0, "node-add", "n1"),
                                                       NodeEvent(10.0, "drain", "n0")),
              deletion=[deletion])
    table = rows(run(t))
    assert {k: (r["state"], r["arrival"] if r["state"] == "Failed" else r["end"])
            for k, r in table.items()} == expected
    if ("web", 1) in table and deletion == 10.0:
        assert table["web", 1]["reason"] == "deleted while pending"


# ------------------------------------------------------------------ outputs
def test_the_same_seed_gives_the_same_bytes(tmp_path):
    t = synthetic.trace(8, 120, seed=2, load=1.5, mean_duration=60.0)
    t = Trace(t.workload, t.arrival, t.duration,
              (NodeEvent(20.0, "cordon", t.workload.nodes[0].name),
               NodeEvent(40.0, "drain", t.workload.nodes[1].name),
               NodeEvent(60.0, "node-fail", t.workload.nodes[2].name)), t.source)
    names = {"pods.parquet", "decisions.parquet", "timeline.parquet", "summary.json"}
    saved = []
    for out in ("a", "b"):
        result = replay(t, Greedy(), seed=5)
        written = result.save(tmp_path / out)
        assert names | {"timeline.png"} == set(written)
        assert {p.name for p in (tmp_path / out).iterdir()} == names | {"timeline.png"}
        saved.append({n: (tmp_path / out / n).read_bytes() for n in names})
    assert saved[0] == saved[1]
    assert (pd.read_parquet(tmp_path / "a" / "pods.parquet")["pod"] == result.pods["pod"]).all()
    assert result.summary["evicted"] > 0 and result.summary["pending"] + result.summary[
        "succeeded"] > 0  # the events did something
