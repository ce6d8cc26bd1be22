"""Greedy's compiled cycle (``schedlab.policies.compiled``) against the numpy cycle it
replaces: the same bindings, start indices and random draws, in ``simulate`` and over time."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.errors import SlowPathWarning
from schedlab.framework.cycle import Evaluator
from schedlab.framework.plugin import Scope, ScorePlugin
from schedlab.framework.profile import Profile
from schedlab.objects import (
    Container,
    LabelSelector,
    Node,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodTemplate,
    Taint,
    Workload,
)
from schedlab.policies import Greedy, runs
from schedlab.policies.compiled import CompiledCycle
from schedlab.sim.replay import replay
from schedlab.sim.simulate import prepare, simulate
from schedlab.testing import profiles, workloads
from schedlab.traces import synthetic

EXAMPLES = settings.default.max_examples
ANY_PROFILE = profiles(require_all_filters=False)


def _greedy_pair(profile: Profile, tie_break: str) -> tuple[Greedy, Greedy]:
    return (Greedy(profile, tie_break=tie_break),  # type: ignore[arg-type]
            Greedy(profile, tie_break=tie_break, compiled=False))  # type: ignore[arg-type]


@given(workload=workloads(max_nodes=12), profile=ANY_PROFILE, seed=st.integers(0, 2**32 - 1),
       tie_break=st.sampled_from(["random", "first"]))
def test_compiled_cycle_binds_as_the_numpy_cycle(workload: Workload, profile: Profile,
                                                 seed: int, tie_break: str) -> None:
    compiled, plain = _greedy_pair(profile, tie_break)
    first, second = simulate(workload, compiled, seed), simulate(workload, plain, seed)
    pd.testing.assert_frame_equal(first.bindings, second.bindings)


@pytest.mark.slow
@settings(max_examples=max(4, EXAMPLES // 5))
@given(workload=workloads(min_nodes=101, max_nodes=180, kinds=3, max_pending=16, max_bound=8),
       profile=ANY_PROFILE, seed=st.integers(0, 2**32 - 1))
def test_compiled_cycle_rotates_as_the_numpy_cycle(workload: Workload, profile: Profile,
                                                   seed: int) -> None:
    """Over 100 nodes only the first numFeasibleNodesToFind feasible nodes are scored, from
    where the previous search stopped: the compiled search stops at the same node."""
    compiled, plain = _greedy_pair(profile, "random")
    first, second = simulate(workload, compiled, seed), simulate(workload, plain, seed)
    pd.testing.assert_frame_equal(first.bindings, second.bindings)
    assert compiled.next_start_node_index == plain.next_start_node_index


@pytest.mark.parametrize(("nodes", "seed", "queue"), [(110, 1, "retry"), (40, 2, "retry"),
                                                     (120, 3, "fail")])
def test_compiled_cycle_replays_as_the_numpy_cycle(nodes: int, seed: int, queue: str) -> None:
    """Departures, a queue and retries: the same timeline either way."""
    trace = synthetic.trace(nodes, nodes * 20, seed=seed, load=1.3, mean_duration=900)
    compiled = replay(trace, Greedy(), seed, queue=queue)  # type: ignore[arg-type]
    plain = replay(trace, Greedy(compiled=False), seed, queue=queue)  # type: ignore[arg-type]
    if queue == "retry":
        assert compiled.summary["attempts"] > len(trace.workload.pods)  # some were retried
    pd.testing.assert_frame_equal(compiled.pods, plain.pods)
    pd.testing.assert_frame_equal(compiled.decisions, plain.decisions)


def test_compiled_cycle_counts_the_reasons_of_a_pod_no_node_takes_as_the_evaluator() -> None:
    """NodeResourcesFit's reasons are kept per node and counted again only on the nodes
    changed since (binds, unbinds, terminations): the same text as counting afresh, for a
    pod short of resources, one asking for a resource no node has, and one whose required
    anti-affinity rejects nodes (left to the evaluator)."""
    rng = np.random.default_rng(5)
    nodes = tuple(Node(f"n{i}", {"cpu": int(rng.choice([1000, 2000, 4000])),
                                 "memory": int(rng.choice([1, 2, 4])) * 2**30, "pods": 3},
                       labels={"kubernetes.io/hostname": f"n{i}"},
                       taints=(Taint("k", "v", "NoSchedule"),) if i % 7 == 0 else ())
                  for i in range(40))
    web = {"app": "web"}

    def template(cpu: int, memory: int, **kwargs: object) -> PodTemplate:
        return PodTemplate(containers=(Container("c", {"cpu": cpu, "memory": memory}),),
                           **kwargs)  # type: ignore[arg-type]

    fillers = [Pod(f"f{i}", template(int(rng.choice([250, 500, 1000])),
                                     int(rng.choice([1, 2])) * 2**29,
                                     labels=web if i % 5 == 0 else {}))
               for i in range(120)]
    big = Pod("big", template(1500, 3 * 2**29))
    nowhere = Pod("nowhere", PodTemplate(containers=(Container("c", {
        "cpu": 100, "example.com/fpga": 1}),)))
    apart = Pod("apart", template(250, 2**27, pod_anti_affinity=PodAffinity(required=(
        PodAffinityTerm("kubernetes.io/hostname", LabelSelector(web)),))))
    state = prepare(Workload(nodes, (*fillers, big, nowhere, apart)))
    greedy = Greedy()
    greedy.reset(state, np.random.default_rng(0))
    evaluator = greedy.evaluator
    assert evaluator.count_rejections is not None
    everywhere = np.arange(state.n_nodes)
    for step in range(240):
        filler = fillers[int(rng.integers(len(fillers)))]
        if filler.key in state.bound and rng.random() < 0.5:
            state.unbind(filler)
        elif filler.key not in state.bound:
            node = greedy.place(filler).node
            if node is not None:
                state.bind(filler, node)
        elif filler.key not in state.terminating:
            state.terminate(filler)
        if step % 3 == 0:
            for pod in (big, nowhere, apart):
                assert (evaluator.unschedulable_message(pod)
                        == evaluator.unschedulable_message(pod, everywhere))
    assert evaluator.count_rejections(big) is not None
    assert evaluator.count_rejections(nowhere) is not None
    message = evaluator.unschedulable_message(big)
    assert "Insufficient cpu" in message and "Too many pods" in message
    assert "Insufficient example.com/fpga" in evaluator.unschedulable_message(nowhere)
    assert "anti-affinity" in evaluator.unschedulable_message(apart)
    assert evaluator.count_rejections(apart) is None


def test_a_pod_that_fit_nowhere_is_searched_again_only_where_nodes_changed() -> None:
    """After a search finds no node, the next one (same mask) looks at the changed nodes
    only: the same decisions and start indices as the numpy cycle, as pods leave and come."""
    rng = np.random.default_rng(11)
    nodes = tuple(Node(f"n{i}", {"cpu": 2000, "memory": 2**32, "pods": 4}) for i in range(150))
    fillers = [Pod(f"f{i}", PodTemplate(containers=(Container("c", {
        "cpu": int(rng.choice([500, 1000])), "memory": 2**28}),))) for i in range(800)]
    big = PodTemplate(containers=(Container("c", {"cpu": 1500, "memory": 2**28}),))
    state = prepare(Workload(nodes, tuple(fillers)))
    compiled, plain = Greedy(), Greedy(compiled=False)
    for policy in (compiled, plain):
        policy.reset(state, np.random.default_rng(0))
    found = 0
    for step in range(600):
        filler = fillers[int(rng.integers(len(fillers)))]
        if filler.key in state.bound:
            if rng.random() < 0.3:
                state.unbind(filler)
        else:
            node = plain.place(filler).node
            assert compiled.place(filler).node == node
            if node is not None:
                state.bind(filler, node)
        pod = Pod(f"big{step}", big)
        node = plain.place(pod).node
        assert compiled.place(pod).node == node
        assert compiled.next_start_node_index == plain.next_start_node_index
        found += node is not None
    assert 0 < found < 500  # it fit nowhere some of the time, and somewhere at others


class NodeLoad(ScorePlugin):
    """A NODE-scope score plugin the compiled cycle does not know."""

    name = "NodeLoad"
    scope = Scope.NODE

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return np.minimum(state.pod_count[nodes], 100)


def test_a_profile_with_an_unknown_node_plugin_keeps_the_numpy_cycle(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """... and says so (once per plugin class)."""
    monkeypatch.setattr(runs, "_WARNED", set())
    workload = synthetic.generate(20, 60, seed=4)
    profile = Profile.default().with_score(NodeLoad(), 2)
    greedy = Greedy(profile)
    with pytest.warns(SlowPathWarning, match="NodeLoad .* NODE-scoped"):
        greedy.reset(prepare(workload), np.random.default_rng(0))
    assert greedy._cycle is None
    assert CompiledCycle.of(Evaluator(Profile.default(), prepare(workload))) is not None
    pd.testing.assert_frame_equal(simulate(workload, Greedy(profile), 7).bindings,
                                  simulate(workload, Greedy(profile, compiled=False), 7).bindings)


@njit(cache=True)
def _compiled_log(values: np.ndarray) -> np.ndarray:
    out = np.empty(values.shape[0])
    for i in range(values.shape[0]):
        out[i] = math.log(values[i])
    return out


def test_compiled_log_is_pythons() -> None:
    """PodTopologySpread weighs by ln(domains + 2): compiled, it must be Python's math.log to
    the last bit for every count of domains a cluster can have."""
    sizes = np.arange(2, 200_002, dtype=np.int64)
    assert _compiled_log(sizes).tolist() == [math.log(s) for s in sizes.tolist()]
