"""GPU devices, fragmentation and the FGD paper's policies: properties and examples."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schedlab import SchedlabError
from schedlab.cluster import ClusterState
from schedlab.fragmentation import Fragmentation, TypicalPods, shape_of
from schedlab.gpu import best_gpus, default_gpus, random_gpus
from schedlab.objects import Container, GpuRequest, Node, Pod, PodTemplate, Workload
from schedlab.plugins import (
    BestFitScore,
    DotProductScore,
    FGDScore,
    GpuClusteringScore,
    GpuPackingScore,
    GpuShare,
    RandomScore,
)
from schedlab.plugins.gpu_clustering_score import gpu_kind
from schedlab.policies import Decision, Greedy, Random, RoundRobin
from schedlab.sim import simulate
from schedlab.sim.fgd import race_profile
from schedlab.verify import check_placement

MODELS = ("A10", "T4")


def gpu_node(name: str, gpus: int, model: str = "T4", cpu: int = 32_000) -> Node:
    return Node(name, {"cpu": cpu, "memory": 2**36, "pods": 1001}, gpus=gpus,
                gpu_model=model if gpus else "")


def gpu_pod(name: str, count: int = 0, milli: int = 1000, cpu: int = 1000,
            models: frozenset[str] = frozenset()) -> Pod:
    gpu = GpuRequest(count, milli, models) if count else None
    return Pod(name, PodTemplate(containers=(Container(requests={"cpu": cpu}),), gpu=gpu))


@st.composite
def gpu_asks(draw: st.DrawFn) -> GpuRequest | None:
    kind = draw(st.sampled_from(["cpu", "share", "whole"]))
    models = draw(st.sampled_from([frozenset(), frozenset({"T4"}), frozenset({"A10", "T4"}),
                                   frozenset({"H100"})]))
    if kind == "cpu":
        return None
    if kind == "share":
        return GpuRequest(1, draw(st.sampled_from([50, 200, 300, 500, 700, 999])), models)
    return GpuRequest(draw(st.sampled_from([1, 2, 4, 8])), 1000, models)


@st.composite
def gpu_workloads(draw: st.DrawFn) -> Workload:
    """1–6 nodes with 0–8 GPUs of two models and 1–25 pods: CPU-only, sharing, whole-GPU."""
    nodes = [gpu_node(f"n{i}", draw(st.sampled_from([0, 1, 2, 4, 8])),
                      draw(st.sampled_from(MODELS)), draw(st.sampled_from([4000, 16_000, 64_000])))
             for i in range(draw(st.integers(1, 6)))]
    templates = [PodTemplate(containers=(Container(requests={"cpu": draw(
        st.sampled_from([500, 1000, 4000]))}),), gpu=draw(gpu_asks()))
        for _ in range(draw(st.integers(1, 5)))]
    picks = draw(st.lists(st.sampled_from(templates), min_size=1, max_size=25))
    return Workload(tuple(nodes), tuple(Pod(f"p{i}", t) for i, t in enumerate(picks)))


def typical_of(workload: Workload) -> TypicalPods:
    return TypicalPods.of(workload.pods)


PLUGINS = {
    "FGD": lambda w: FGDScore(typical_pods=typical_of(w)),
    "BestFit": lambda w: BestFitScore(),
    "GpuPacking": lambda w: GpuPackingScore(),
    "GpuClustering": lambda w: GpuClusteringScore(),
    "DotProd": lambda w: DotProductScore(),
    "Random": lambda w: RandomScore(seed=3),
    "FGD-random-gpu": lambda w: FGDScore(gpu_selection="random"),
}


def devices_recounted(state: ClusterState, workload: Workload) -> np.ndarray:
    """gpu_free rebuilt from the devices each bound pod holds."""
    free = np.where(np.arange(state.gpu_free.shape[1]) < state.gpu_count[:, None], 1000, 0)
    pods = {p.key: p for p in workload.pods}
    for key, held in state.gpus_of.items():
        free[state.bound[key], list(held)] -= pods[key].template.gpu.milli
    return free


@pytest.mark.parametrize("tie_break", ["first", "random"])
@pytest.mark.parametrize("name", list(PLUGINS))
@given(workload=gpu_workloads(), seed=st.integers(0, 3))
def test_gpu_placements_keep_every_gpu_constraint(name, tie_break, workload, seed):
    profile = race_profile(PLUGINS[name](workload))
    result = simulate(workload, Greedy(profile, tie_break=tie_break), seed)
    state = result.state
    assert check_placement(workload, result.assignment(), state.gpus_of) == []
    assert (state.gpu_free >= 0).all() and (state.gpu_free <= 1000).all()
    assert (devices_recounted(state, workload) == state.gpu_free).all()
    again = simulate(workload, Greedy(profile, tie_break=tie_break), seed)
    assert again.bindings.equals(result.bindings)
    assert again.state.gpus_of == state.gpus_of


@pytest.mark.parametrize("policy", [RoundRobin, Random])
@given(workload=gpu_workloads())
def test_filter_only_policies_keep_gpu_constraints(policy, workload):
    profile = race_profile(BestFitScore())
    result = simulate(workload, policy(profile), 1)
    assert check_placement(workload, result.assignment(), result.state.gpus_of) == []


@given(workload=gpu_workloads())
def test_a_pod_fails_only_where_no_node_has_room(workload):
    """GpuShare rejects exactly the nodes where no set of devices could take the pod."""
    result = simulate(workload, Greedy(race_profile(GpuPackingScore())), 0)
    state = ClusterState.from_workload(workload)
    for pod, node in zip(workload.pods, result.bindings["node"], strict=True):
        ask = pod.template.gpu
        room = [
            i for i, n in enumerate(workload.nodes)
            if state.allocatable[i, 0] - state.requested[i, 0] >= shape_of(pod)[0]
            and (ask is None or (n.gpus and (not ask.models or n.gpu_model in ask.models)
                                 and (state.gpu_free[i] >= ask.milli).sum() >= ask.count))
        ]
        assert (node is None) == (not room)
        if node is not None:
            state.bind(pod, state.index[node], result.state.gpus_of.get(pod.key))


def fragment_by_definition(state: ClusterState, typical: TypicalPods) -> float:
    """The cluster's fragmentation (milli-GPU), node by node and shape by shape, in floats."""
    weights = typical.counts / typical.total
    total = 0.0
    for i in range(state.n_nodes):
        free = [int(f) for f in state.gpu_free[i, : state.gpu_count[i]]]
        cpu_free = int(state.allocatable[i, 0] - state.requested[i, 0])
        for t, weight in enumerate(weights):
            count, milli = typical.gpu_count[t], typical.gpu_milli[t]
            models = typical.models[t]
            accessible = count > 0 and bool(free) and (
                not models or state.nodes[i].gpu_model in models)
            fits = (accessible and sum(f >= milli for f in free) >= count
                    and cpu_free >= typical.cpu_milli[t])
            total += weight * (sum(f for f in free if f < milli) if fits else sum(free))
    return total


@given(workload=gpu_workloads(), moves=st.lists(st.tuples(st.integers(0, 24), st.integers(0, 5)),
                                                 max_size=30))
def test_incremental_fragmentation_equals_a_recount(workload, moves):
    state = ClusterState.from_workload(workload)
    typical = typical_of(workload)
    kept = Fragmentation.of(state, typical)
    for pick, node in moves:
        pod = workload.pods[pick % len(workload.pods)]
        if pod.key in state.bound:
            state.unbind(pod)
        else:
            node %= state.n_nodes
            ask = pod.template.gpu
            if ask is not None and not GpuShare().filter(state, pod, np.array([node]))[0]:
                continue
            state.bind(pod, node, default_gpus(state, pod, node))
        assert Fragmentation.of(state, typical) is kept
        assert (kept.scaled == Fragmentation(state, typical).scaled).all()
        assert kept.total_milli() == pytest.approx(fragment_by_definition(state, typical))


def test_empty_cluster_fragment_is_the_cpu_only_share_of_idle_gpus():
    """With an empty cluster only CPU-only shapes (and shapes that fit nowhere) count."""
    nodes = [gpu_node("a", 8), gpu_node("b", 2)]
    pods = [gpu_pod("c1"), gpu_pod("s1", 1, 500), gpu_pod("s2", 1, 500), gpu_pod("w", 4)]
    state = ClusterState(nodes)
    # shapes: share 500 (2 pods), cpu (1), 4 whole GPUs (1); total 4
    # node a: cpu shape → 8000 · 1/4; node b: cpu → 2000 · 1/4, 4-GPU shape → 2000 · 1/4
    assert Fragmentation(state, TypicalPods.of(pods)).total_milli() == 2000 + 500 + 500


def test_typical_pods_cover_the_threshold_with_kube_tie_breaks():
    pods = ([gpu_pod(f"a{i}", 1, 500, cpu=1000) for i in range(4)]
            + [gpu_pod(f"b{i}", 1, 500, cpu=2000) for i in range(4)]
            + [gpu_pod("c", 2, cpu=1000), gpu_pod("d")])
    typical = TypicalPods.of(pods, coverage_pct=80)
    assert typical.cpu_milli.tolist() == [2000, 1000]  # equal counts: larger cpu first
    assert typical.counts.tolist() == [4, 4]
    assert len(TypicalPods.of(pods, coverage_pct=81)) == 3
    with pytest.raises(SchedlabError):
        TypicalPods.of([], 95)


def test_best_and_random_device_choice():
    free = np.array([1000, 300, 600, 300, 0])
    assert best_gpus(free, GpuRequest(1, 250)) == (1,)
    assert best_gpus(free, GpuRequest(1, 400)) == (2,)
    assert best_gpus(np.array([1000, 0, 1000, 1000]), GpuRequest(2)) == (0, 2)
    drawn = {random_gpus(free, GpuRequest(1, 250), np.random.default_rng(s)) for s in range(40)}
    assert drawn == {(0,), (1,), (2,), (3,)}


def test_bind_refuses_devices_without_room_and_unbind_frees_them():
    state = ClusterState([gpu_node("a", 2)])
    sharing, whole = gpu_pod("s", 1, 600), gpu_pod("w", 1)
    state.bind(sharing, 0, (1,))
    with pytest.raises(SchedlabError, match="cannot take GPUs \\[1\\]"):
        state.bind(whole, 0, (1,))
    with pytest.raises(SchedlabError, match="binding it needs the devices it takes"):
        state.bind(whole, 0)
    state.bind(whole, 0, default_gpus(state, whole, 0))
    assert state.gpus_of == {"default/s": (1,), "default/w": (0,)}
    kinds = state.tally_by(gpu_kind)  # (GpuClusteringScore's count of GPU pods by kind)
    assert {kind: tally.per_node.tolist() for kind, tally in kinds.items()} == {0: [1], 1: [1]}
    state.unbind(sharing)
    assert state.gpu_free[0].tolist() == [0, 1000]
    assert kinds[0].per_node.tolist() == [0]
    with pytest.raises(SchedlabError, match="of a model in A10"):
        state.bind(gpu_pod("m", 1, 100, models=frozenset({"A10"})), 0, (0,))


def test_gpu_share_filter_and_reasons():
    state = ClusterState([gpu_node("a", 2, "T4"), gpu_node("b", 8, "A10"), gpu_node("c", 0)])
    pod = gpu_pod("p", 4, models=frozenset({"T4", "V100"}))
    plugin = GpuShare()
    assert plugin.filter(state, pod, slice(None)).tolist() == [False, False, False]
    reasons = dict((r, m.tolist()) for r, m in plugin.failure_reasons(state, pod, np.arange(3)))
    assert reasons == {"node(s) didn't have GPUs of an allowed model": [False, True, True],
                       "Insufficient GPU": [True, False, False]}
    assert plugin.filter(state, gpu_pod("q", 4), slice(None)).tolist() == [False, True, False]
    assert plugin.filter(state, gpu_pod("cpu"), slice(None)).tolist() == [True, True, True]


def test_fgd_answers_a_pod_asking_nothing_apart_from_one_asking_100m():
    """The simulator scores a pod without requests 100; a pod asking 100m cpu (its non-zero
    cpu is the same) is scored like any other, whichever comes first."""
    from schedlab.framework.cycle import Evaluator
    from schedlab.framework.profile import Profile

    typical = TypicalPods.of([gpu_pod("t", 1, 500)])
    empty = Pod("e", PodTemplate(containers=(Container(),), gpu=GpuRequest(1, 500)))
    small = gpu_pod("s", 1, 500, cpu=100)
    for order in ((empty, small), (small, empty)):
        state = ClusterState([gpu_node("a", 1), gpu_node("b", 1)])
        evaluator = Evaluator(Profile((), ((FGDScore(typical_pods=typical), 1),)), state)
        raw = {p.name: evaluator.evaluate(p).raw[0].tolist() for p in order}
        assert raw == {"e": [100, 100], "s": [50, 50]}


def test_a_gpu_pod_scored_without_the_gpu_filter_is_a_clear_error():
    from schedlab.errors import SchedulingError
    from schedlab.framework.profile import Profile

    workload = Workload((gpu_node("cpu", 0),), (gpu_pod("p", 1, 500),))
    for plugin in (FGDScore(), RandomScore(), BestFitScore()):
        profile = Profile(Profile.default().filters, ((plugin, 1),))
        with pytest.raises(SchedulingError, match="add the GpuShare filter"):
            simulate(workload, Greedy(profile), 0)


def test_verify_checks_gpu_pods_missing_from_the_devices_map():
    workload = Workload((gpu_node("a", 1),), (gpu_pod("p1", 1), gpu_pod("p2", 1)))
    bindings = {"default/p1": "a", "default/p2": "a"}
    for gpus in (None, {}, {"default/p1": [0]}):
        assert [v.constraint for v in check_placement(workload, bindings, gpus)] != []


def test_typical_pods_and_nodes_are_validated():
    empty = np.array([], dtype=np.int64)
    with pytest.raises(SchedlabError, match="typical pods"):
        TypicalPods(empty, empty, empty, (), empty)
    with pytest.raises(SchedlabError, match="gpus -1"):
        Node("n", gpus=-1)


def test_gpu_request_validation():
    for count, milli in [(0, 1000), (1, 0), (1, 1001), (2, 500)]:
        with pytest.raises(SchedlabError, match="GPU request"):
            GpuRequest(count, milli)
    assert GpuRequest(1, 500).shares and not GpuRequest(2).shares


def test_fgd_prefers_the_device_that_leaves_no_fragment():
    """A 400-milli pod on the GPU holding 600 milli uses up the 400 left, which the typical
    500-milli pods could never use; on the idle GPU it leaves 600, still usable."""
    nodes = [gpu_node("a", 1), gpu_node("b", 1)]
    typical = TypicalPods.of([gpu_pod("t", 1, 500)])
    state = ClusterState(nodes)
    state.bind(gpu_pod("held", 1, 600), 0, (0,))
    plugin = FGDScore(typical_pods=typical)
    scores = plugin.score(state, gpu_pod("p", 1, 400), slice(None))
    # node a: 400 free < 500 → fragment 400 before, 0 after: gain 400 → int(100·σ(0.4)) = 59
    # node b: 1000 free fits a 500 pod → fragment 0; after, 600 fits → 0: gain 0 → 50
    assert scores.tolist() == [59, 50]


def test_fgd_device_choice_is_the_first_best_device():
    typical = TypicalPods.of([gpu_pod("t", 1, 500)])
    state = ClusterState([gpu_node("a", 3)])
    state.bind(gpu_pod("x", 1, 700), 0, (2,))
    plugin = FGDScore(typical_pods=typical)
    # device 2 has 300 left: a 300 pod there removes a 300 fragment (the best); devices 0, 1
    # tie and would be chosen by their index only if better
    assert plugin.select_gpus(state, gpu_pod("p", 1, 300), 0, np.random.default_rng(0)) == (2,)
    assert plugin.select_gpus(state, gpu_pod("q", 1, 800), 0, np.random.default_rng(0)) == (0,)


def test_a_decision_without_devices_binds_on_the_tightest() -> None:
    """A policy may return ``Decision(node)`` for a GPU pod (as the README's example does):
    the simulator binds it on the devices ``default_gpus`` picks, ``bind`` never chooses."""

    class FirstNode(RoundRobin):
        def place(self, pod: Pod) -> Decision:
            return Decision(0)

    node = gpu_node("a", 3)
    held = gpu_pod("held", 1, 700)
    workload = Workload(nodes=(node,), pods=(gpu_pod("x", 1, 200), gpu_pod("y", 1, 300)))
    state = ClusterState([node])
    state.bind(held, 0, (1,))
    assert Decision(0).devices(state, gpu_pod("x", 1, 200)) == (1,)  # 300 left: the tightest
    assert Decision(0, gpus=(2,)).devices(state, gpu_pod("x", 1, 200)) == (2,)
    result = simulate(workload, FirstNode(), 0)
    assert list(result.bindings["gpus"]) == [[0], [0]]  # both share device 0 (800 then 500 left)


# ---------------------------------------------------------------------- compiled (numba)
@given(total=st.integers(1, 20_000), gains=st.lists(st.integers(-2**40, 2**40), max_size=20),
       near=st.lists(st.tuples(st.integers(0, 99), st.integers(-2, 2)), max_size=20))
def test_compiled_fgd_scores_of_gains_are_numpys(total, gains, near):
    """Scores read from the thresholds are ``sigmoid_score``'s, also right at each one."""
    from schedlab.gpu_kernels import score_of
    from schedlab.plugins.fgd_score import sigmoid_score, sigmoid_thresholds

    thresholds = sigmoid_thresholds(total)
    gains = [*gains, *(int(thresholds[s]) + d for s, d in near)]
    with np.errstate(over="ignore"):  # (exp of far negative gains: the score is 0)
        expected = sigmoid_score(np.array(gains, dtype=np.int64) / total).tolist()
    assert [score_of(g, thresholds) for g in gains] == expected


@given(workload=gpu_workloads(), bound=st.integers(0, 25), seed=st.integers(0, 3))
def test_compiled_fgd_scores_and_devices_are_numpys(workload, bound, seed):
    """On a state with some pods bound: every node's score, and the device chosen for a
    sharing pod, as the numpy plugin works them out."""
    from schedlab.gpu_kernels import fgd_device, fgd_scores
    from schedlab.plugins.fgd_score import sigmoid_thresholds

    profile = race_profile(FGDScore(typical_pods=typical_of(workload)))
    placed = Workload(workload.nodes, workload.pods[:bound])
    state = simulate(placed, Greedy(profile, compiled=False), seed).state
    plugin = FGDScore(typical_pods=typical_of(workload))
    fragmentation = plugin.fragmentation(state)
    parts = fragmentation.parts
    arrays = (state.gpu_free, fragmentation.accessible, parts.below, parts.fitting, parts.idle,
              parts.cpu_free, fragmentation.scaled, fragmentation.shapes,
              sigmoid_thresholds(fragmentation.typical.total))
    every = np.arange(state.n_nodes)
    for pod in workload.pods:
        ask = pod.template.gpu
        shares = ask is not None and ask.shares
        asked = np.array([shape_of(pod)[0], 0 if ask is None else ask.count,
                          0 if ask is None else ask.milli, shares, not pod.template.requests,
                          1], dtype=np.int64)
        assert fgd_scores(every, asked, *arrays).tolist() == plugin.score(
            state, pod, slice(None)).tolist()
        if not shares:
            continue
        for node in every:
            devices = np.flatnonzero(state.gpu_free[node] >= ask.milli)
            chosen = fgd_device(node, ask.milli, shape_of(pod)[0], *arrays)
            if not len(devices):
                assert chosen == -1
                continue
            scores = plugin._device_scores(fragmentation, pod, np.full(len(devices), node),
                                           state.gpu_free[node, devices])
            assert chosen == devices[np.argmax(scores)]


@pytest.mark.parametrize("tie_break", ["first", "random"])
@given(workload=gpu_workloads(), seed=st.integers(0, 3))
def test_the_gpu_cycle_binds_as_the_numpy_cycle(tie_break, workload, seed):
    """The FGD race's profile takes the GPU cycle: the same nodes, devices and reasons."""
    from schedlab.policies.gpu_cycle import GpuCycle

    profile = race_profile(FGDScore(typical_pods=typical_of(workload)))
    compiled = Greedy(profile, tie_break=tie_break)
    first = simulate(workload, compiled, seed)
    assert isinstance(compiled._search, GpuCycle)
    second = simulate(workload, Greedy(profile, tie_break=tie_break, compiled=False), seed)
    assert first.bindings.equals(second.bindings)


def test_the_gpu_cycle_rotates_and_words_reasons_as_the_numpy_cycle():
    """Over 100 nodes, scoring 30 %: the candidates rotate as kube's; pods fail with reasons
    of several filters (no slot, cpu, GPU model, devices)."""
    rng = np.random.default_rng(5)
    nodes = [Node(f"n{i}", {"cpu": int(rng.choice([4000, 16_000])), "memory": 2**36,
                            "pods": int(rng.choice([3, 20]))},
                  gpus=int(rng.choice([0, 1, 2, 8])), gpu_model=str(rng.choice(MODELS)))
             for i in range(130)]
    nodes = [replace(n, gpu_model="") if not n.gpus else n for n in nodes]
    asks = [None, GpuRequest(1, 300), GpuRequest(1, 700, frozenset({"T4"})), GpuRequest(2, 1000),
            GpuRequest(1, 1000, frozenset({"A10"}))]
    templates = [PodTemplate(containers=(Container(requests={"cpu": cpu}),), gpu=ask)
                 for ask in asks for cpu in (500, 3000)]
    pods = tuple(Pod(f"p{i}", templates[int(rng.integers(len(templates)))]) for i in range(700))
    workload = Workload(tuple(nodes), pods)
    profile = replace(race_profile(FGDScore(typical_pods=typical_of(workload))),
                      percentage_of_nodes_to_score=30)
    compiled, plain = (Greedy(profile), Greedy(profile, compiled=False))
    first, second = simulate(workload, compiled, 3), simulate(workload, plain, 3)
    assert first.bindings.equals(second.bindings)
    assert compiled.next_start_node_index == plain.next_start_node_index
    assert first.bindings["reason"].notna().sum() > 100
