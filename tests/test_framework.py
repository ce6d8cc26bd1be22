"""The scheduling cycle and the policies against kube-scheduler (kube-scheduler.md §2, §10).

    numFeasibleNodesToFind(pct, n): n < 100 → n ; pct 0 → max(50 - n/125, 5) ;
                                    max(n*pct/100, 100)
    TotalScore[n] = Σ_p weight[p] × normalised[p][n], each normalised score in [0, 100]
    one feasible node → taken unscored ; ties → uniformly random (reservoir sampling)
    nextStartNodeIndex = (start + #feasible + #failed examined) % n
    FitError: "0/N nodes are available: <count> <reason>, ..." sorted as strings, each node
              counted under the first filter that rejected it
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import pytest

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.errors import SchedulingError
from schedlab.framework.cycle import Evaluator, num_feasible_nodes_to_find
from schedlab.framework.plugin import Scope, ScorePlugin, default_normalize
from schedlab.framework.profile import Profile
from schedlab.objects import (
    Container,
    Node,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PodTemplate,
    PreferredSchedulingTerm,
    Taint,
    Toleration,
    Workload,
)
from schedlab.plugins import (
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
    TaintToleration,
)
from schedlab.policies import Greedy, Random, RoundRobin
from schedlab.reference import ReferenceScheduler, reference_bindings
from schedlab.sim.simulate import prepare, simulate

Gi = 2**30


def node(name: str, cpu: int = 4000, memory: int = 8 * Gi, **kwargs: Any) -> Node:
    return Node(name, allocatable={"cpu": cpu, "memory": memory, **kwargs.pop("extra", {})},
                **kwargs)


def template(cpu: int = 1000, memory: int = Gi, **kwargs: Any) -> PodTemplate:
    return PodTemplate(containers=(Container("c", {"cpu": cpu, "memory": memory}),), **kwargs)


def pods(t: PodTemplate, n: int, prefix: str = "p") -> tuple[Pod, ...]:
    return tuple(Pod(f"{prefix}{i}", t) for i in range(n))


def soft(*keys: str) -> tuple[Taint, ...]:
    return tuple(Taint(k, "", "PreferNoSchedule") for k in keys)


HARD = (Taint("k", "v", "NoSchedule"),)


def greedy_on(workload: Workload, profile: Profile, seed: int = 0) -> tuple[Greedy, ClusterState]:
    state = prepare(workload)
    policy = Greedy(profile)
    policy.reset(state, np.random.default_rng(seed))
    return policy, state


def place_all(policy: Any, state: ClusterState, workload: Workload) -> list[int | None]:
    """Place and bind every pending pod in order; the chosen node indices."""
    chosen = []
    for p in workload.pending_pods:
        decision = policy.place(p)
        if decision.node is not None:
            state.bind(p, decision.node)
        chosen.append(decision.node)
    return chosen


# ---------------------------------------------------------------- numFeasibleNodesToFind
@pytest.mark.parametrize(
    ("percentage", "n", "expected"),
    [
        pytest.param(0, 1, 1, id="one-node"),
        pytest.param(0, 99, 99, id="under-100-all-nodes"),
        pytest.param(5, 99, 99, id="under-100-all-nodes-whatever-the-percentage"),
        pytest.param(0, 100, 100, id="100-adaptive-50pct-is-50-at-least-100"),
        pytest.param(0, 1000, 420, id="1000-adaptive-50-8=42pct-420"),
        pytest.param(0, 1500, 570, id="1500-adaptive-50-12=38pct-570"),
        pytest.param(0, 5000, 500, id="5000-adaptive-50-40=10pct-500"),
        pytest.param(0, 6000, 300, id="6000-adaptive-50-48=2-floored-to-5pct-300"),
        pytest.param(0, 10000, 500, id="10000-adaptive-5pct-500"),
        pytest.param(0, 20000, 1000, id="20000-adaptive-5pct-1000"),
        pytest.param(100, 5000, 5000, id="percentage-100-all-nodes"),
        pytest.param(30, 1000, 300, id="explicit-30pct-of-1000"),
        pytest.param(30, 200, 100, id="explicit-30pct-of-200-is-60-at-least-100"),
        pytest.param(10, 150, 100, id="explicit-10pct-of-150-is-15-at-least-100"),
        pytest.param(1, 50000, 500, id="explicit-1pct-of-50000"),
    ],
)
def test_num_feasible_nodes_to_find(percentage: int, n: int, expected: int) -> None:
    assert num_feasible_nodes_to_find(percentage, n) == expected


# ---------------------------------------------------------------- weights and totals
PREFER_A = NodeAffinity(preferred=(
    PreferredSchedulingTerm(7, NodeSelectorTerm((NodeSelectorRequirement("zone", "In", ("a",)),))),
    PreferredSchedulingTerm(3, NodeSelectorTerm((NodeSelectorRequirement("zone", "In", ("b",)),))),
))
WEIGHTED = Workload(
    (
        node("n0", 4000, 8 * Gi, labels={"zone": "a"}, taints=soft("s1")),
        node("n1", 4000, 8 * Gi, labels={"zone": "b"}),
        node("n2", 2000, 8 * Gi, labels={"zone": "a"}, taints=soft("s1", "s2", "s3")),
    ),
    (Pod("p", template(1000, 2 * Gi, affinity=PREFER_A)),),
)
# TaintToleration (weight 3): raw [1, 0, 3] → 100 - 100*raw/3 → [100-33, 100, 0] = [67, 100, 0]
# NodeAffinity (weight 2):    raw [7, 3, 7] → 100*raw/7        → [100, 42, 100]
# NodeResourcesFit (1), LeastAllocated: cpu (4000-1000)*100/4000 = 75, mem (8-2)*100/8 = 75 → 75
#                   n2: cpu (2000-1000)*100/2000 = 50, mem 75 → (50+75)/2 = 62 → [75, 75, 62]
# BalancedAllocation (1): n0, n1: .25, .25 → 100 ; n2: .5, .25 → 1-.125 → 87 → [100, 100, 87]
# totals: n0 3*67 + 2*100 + 75 + 100 = 576 ; n1 3*100 + 2*42 + 75 + 100 = 559
#         n2 3*0 + 2*100 + 62 + 87 = 349
EXPECTED_BREAKDOWN = {
    "TaintToleration": (3, [1, 0, 3], [67, 100, 0]),
    "NodeAffinity": (2, [7, 3, 7], [100, 42, 100]),
    "NodeResourcesFit": (1, [75, 75, 62], [75, 75, 62]),
    "NodeResourcesBalancedAllocation": (1, [100, 100, 87], [100, 100, 87]),
}


def test_default_profile_weights() -> None:
    weights = {p.name: w for p, w in Profile.default().scores}
    assert weights == {"TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1,
                       "PodTopologySpread": 2, "InterPodAffinity": 2,
                       "NodeResourcesBalancedAllocation": 1}
    filters = [p.name for p in Profile.default().filters]
    assert filters == ["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity",
                       "NodeResourcesFit", "PodTopologySpread", "InterPodAffinity"]


def test_totals_are_weighted_sums_of_normalized_scores() -> None:
    state = prepare(WEIGHTED)
    evaluator = Evaluator(Profile.default(), state)
    pod = WEIGHTED.pods[0]
    evaluation = evaluator.evaluate(pod)
    nodes = np.arange(3)
    parts = {b.plugin.name: b for b in evaluator.breakdown(evaluation, nodes)}
    for name, (weight, raw, normalized) in EXPECTED_BREAKDOWN.items():
        assert parts[name].weight == weight
        assert parts[name].raw.tolist() == raw
        assert parts[name].normalized.tolist() == normalized
        assert parts[name].weighted.tolist() == [weight * s for s in normalized]
    assert evaluator.totals(evaluation, nodes).tolist() == [576, 559, 349]
    # the scalar reference agrees, and both schedulers take n0
    reference = ReferenceScheduler(WEIGHTED, Profile.default())
    assert reference.totals(pod, [0, 1, 2]) == [576, 559, 349]
    assert simulate(WEIGHTED, Greedy()).assignment() == {"default/p": "n0"}
    assert reference_bindings(WEIGHTED, Profile.default()) == ["n0"]


def test_weights_change_the_choice() -> None:
    # TaintToleration weighted 10 instead of 3:
    # n0 10*67 + 200 + 75 + 100 = 1045 ; n1 10*100 + 84 + 75 + 100 = 1259 ; n2 0 + 349 - 0 = 349
    profile = replace(Profile.default(), scores=tuple(
        (p, 10 if p.name == "TaintToleration" else w) for p, w in Profile.default().scores))
    state = prepare(WEIGHTED)
    evaluator = Evaluator(profile, state)
    totals = evaluator.totals(evaluator.evaluate(WEIGHTED.pods[0]), np.arange(3))
    assert totals.tolist() == [1045, 1259, 349]
    assert simulate(WEIGHTED, Greedy(profile)).assignment() == {"default/p": "n1"}


def test_normalization_runs_over_the_candidate_nodes_only() -> None:
    # n2 is filtered out (NoSchedule): TaintToleration raw over the candidates n0, n1 is
    # [1, 0] → max 1 → [0, 100], not [67, 100] as with n2's 3 taints counted
    workload = replace(WEIGHTED, nodes=(*WEIGHTED.nodes[:2], replace(
        WEIGHTED.nodes[2], taints=(*soft("s1", "s2", "s3"), *HARD))))
    state = prepare(workload)
    evaluator = Evaluator(Profile.default(), state)
    evaluation = evaluator.evaluate(workload.pods[0])
    assert evaluation.feasible.tolist() == [True, True, False]
    candidates = np.flatnonzero(evaluation.feasible)
    parts = {b.plugin.name: b for b in evaluator.breakdown(evaluation, candidates)}
    assert parts["TaintToleration"].normalized.tolist() == [0, 100]
    # n0 3*0 + 2*100 + 75 + 100 = 375 ; n1 3*100 + 2*42 + 75 + 100 = 559
    assert evaluator.totals(evaluation, candidates).tolist() == [375, 559]


# ---------------------------------------------------------------- score bounds
class Constant(ScorePlugin):
    """Scores every node ``value`` (a research plugin, as a user would write one)."""

    name = "Constant"
    scope: ClassVar[Scope] = Scope.CLUSTER

    def __init__(self, value: int, normalized: int | None = None) -> None:
        self.value = value
        if normalized is not None:
            self.normalize_score = lambda scores: np.full(len(scores), normalized, np.int64)

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return np.full(state.n_nodes, self.value, dtype=np.int64)[nodes]


TWO_NODES = Workload((node("n0"), node("n1")), (Pod("p", template()),))


@pytest.mark.parametrize(
    "plugin",
    [
        pytest.param(Constant(101), id="raw-101"),
        pytest.param(Constant(-1), id="raw-negative"),
        pytest.param(Constant(5, normalized=101), id="normalized-101"),
    ],
)
def test_score_outside_0_100_raises(plugin: Constant) -> None:
    profile = Profile.default().with_score(plugin)
    with pytest.raises(SchedulingError, match="Constant"):
        simulate(TWO_NODES, Greedy(profile))
    evaluator = Evaluator(profile, prepare(TWO_NODES))
    with pytest.raises(SchedulingError):
        evaluator.totals(evaluator.evaluate(TWO_NODES.pods[0]), np.arange(2))


def test_score_100_is_allowed() -> None:
    profile = Profile.default().with_score(Constant(100), weight=2)
    evaluator = Evaluator(profile, prepare(TWO_NODES))
    evaluation = evaluator.evaluate(TWO_NODES.pods[0])
    parts = evaluator.breakdown(evaluation, np.arange(2))
    assert parts[-1].weighted.tolist() == [200, 200]


class Exploding(ScorePlugin):
    """A normalising score plugin that fails the test if normalisation is ever run."""

    name = "Exploding"

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return np.arange(state.n_nodes, dtype=np.int64)[nodes]

    def normalize_score(self, scores: np.ndarray) -> np.ndarray:
        raise AssertionError("scored although only one node was feasible")


def test_single_feasible_node_is_taken_without_scoring() -> None:
    workload = Workload((node("n0", taints=HARD), node("n1"), node("n2", taints=HARD)),
                        (Pod("p", template()),))
    profile = Profile.default().with_score(Exploding())
    assert simulate(workload, Greedy(profile)).assignment() == {"default/p": "n1"}


@pytest.mark.parametrize(
    "taints",
    [
        pytest.param((HARD, (), HARD), id="only-feasible-node"),
        pytest.param(((), (), HARD), id="on-an-infeasible-node-too"),
    ],
)
def test_out_of_range_score_where_kube_does_not_score_is_not_an_error(
    taints: tuple[tuple[Taint, ...], ...]
) -> None:
    # §2/§10: kube calls Score only on the feasible candidates, and not at all when one node is
    # feasible; so a plugin's bad score on a node it is never asked about cannot fail the cycle.
    class BadOnN2(Constant):
        def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
            return np.array([10, 10, 101], dtype=np.int64)[nodes]

    workload = Workload(tuple(node(f"n{i}", taints=t) for i, t in enumerate(taints)),
                        (Pod("p", template()),))
    profile = Profile.default().with_score(BadOnN2(0))
    result = simulate(workload, Greedy(profile))
    assert result.assignment()["default/p"] in {"n0", "n1"}


# ---------------------------------------------------------------- Greedy choices
def test_greedy_picks_the_highest_total() -> None:
    # LeastAllocated + Balanced: n2 (8000m) leaves the most room
    # n0: cpu 75, mem 87 → 81 ; balanced .25 vs .125 → 93 ; n2: cpu 87, mem 87 → 87 ; 100
    workload = Workload((node("n0"), node("n1", cpu=2000), node("n2", cpu=8000)),
                        (Pod("p", template(1000, Gi)),))
    for seed in range(5):
        assert simulate(workload, Greedy(), seed).assignment() == {"default/p": "n2"}


@pytest.mark.parametrize(
    "nodes",
    [
        pytest.param(tuple(node(f"n{i}") for i in range(4)), id="all-tied"),
        pytest.param((*(node(f"n{i}") for i in range(4)), node("n4", taints=soft("x"))),
                     id="tied-among-candidates-with-a-normalising-plugin"),
    ],
)
def test_greedy_breaks_ties_uniformly(nodes: tuple[Node, ...]) -> None:
    workload = Workload(nodes, (Pod("p", template()),))
    chosen = [simulate(workload, Greedy(), seed).assignment()["default/p"] for seed in range(200)]
    counts = Counter(chosen)
    assert set(counts) == {"n0", "n1", "n2", "n3"}  # every tied node, never the worse n4
    assert all(25 <= c <= 75 for c in counts.values())  # 200 draws, 1/4 each: about 50
    # same seed, same choice
    assert [simulate(workload, Greedy(), s).assignment()["default/p"] for s in range(200)] == chosen


def test_greedy_without_score_plugins_takes_the_first_feasible_in_round_robin_order() -> None:
    # no score plugins → numNodesToFind = 1: the search stops at the first feasible node and
    # the next one starts after it: p0 → n0 (next 1) ; p1: n1 rejected, n2 (next 0) ; p2 → n0
    workload = Workload((node("n0"), node("n1", taints=HARD), node("n2")),
                        pods(template(10, 1), 4))
    profile = replace(Profile.default(), scores=())
    policy, state = greedy_on(workload, profile)
    assert place_all(policy, state, workload) == [0, 2, 0, 2]
    assert reference_bindings(workload, profile) == ["n0", "n2", "n0", "n2"]


def wide_cluster() -> tuple[Node, ...]:
    """200 nodes: n0..n9 tainted NoSchedule, n50 16 cores, n150 32 cores, the rest 4 cores."""
    cpus = {50: 16000, 150: 32000}
    return tuple(node(f"n{i}", cpus.get(i, 4000), 64 * Gi, taints=HARD if i < 10 else ())
                 for i in range(200))


def test_greedy_round_robin_start_with_percentage_below_100() -> None:
    # percentage 50 of 200 nodes → max(100, 100) = 100 feasible nodes searched per pod.
    # LeastAllocated, pod 1000m / 1Gi: mem (64-1)*100/64 = 98 ; others cpu 75 → 86 ;
    # n50 cpu (16000-1000)*100/16000 = 93 → 95 ; n150 cpu (32000-1000)*100/32000 = 96 → 97
    # p0: start 0, n0..n9 fail, n10..n109 found → n50 (95) ; next = 0 + 110 = 110
    # p1: start 110: n110..n199 (90) + wrap n0..n9 fail + n10..n19 (10) → n150 (97) ;
    #     examined 90 + 10 + 10 = 110 → next = 220 % 200 = 20
    # p2: start 20: n20..n119 → n50, now (16000-2000)*100/16000 = 87, mem 96 → 91 > 86 ;
    #     next = 120
    # p3: start 120: n120..n199 + n10..n29 → n150, (32000-2000)*100/32000 = 93, 96 → 94 ;
    #     examined 80 + 10 + 20 = 110 → next = 30
    fit_only = Profile(filters=Profile.default().filters, scores=((NodeResourcesFit(), 1),),
                       percentage_of_nodes_to_score=50)
    workload = Workload(wide_cluster(), pods(template(1000, Gi), 4))
    policy, state = greedy_on(workload, fit_only)
    starts, chosen = [], []
    for p in workload.pending_pods:
        decision = policy.place(p)
        state.bind(p, decision.node)
        chosen.append(decision.node)
        starts.append(policy.next_start_node_index)
    assert chosen == [50, 150, 50, 150]
    assert starts == [110, 20, 120, 30]
    assert reference_bindings(workload, fit_only) == ["n50", "n150", "n50", "n150"]
    # scoring every feasible node instead, p0 takes the best node of all, n150 (97)
    everyone = fit_only.with_percentage(100)
    assert simulate(workload, Greedy(everyone)).bindings["node"][0] == "n150"


# ---------------------------------------------------------------- RoundRobin, Random
def test_round_robin_wraps_around_and_skips_infeasible_nodes() -> None:
    # first feasible node after the last one chosen, in node order: n0, n2 (n1 rejected),
    # then wrap to n0, n2, ...
    workload = Workload((node("n0"), node("n1", taints=HARD), node("n2")),
                        pods(template(10, 1), 5))
    result = simulate(workload, RoundRobin())
    assert result.bindings["node"].tolist() == ["n0", "n2", "n0", "n2", "n0"]
    assert reference_bindings(workload, Profile.default(), "round-robin") == [
        "n0", "n2", "n0", "n2", "n0"]


def test_round_robin_continues_after_the_last_choice_when_it_becomes_infeasible() -> None:
    # n0 takes one pod only (pods=1): p0 → n0 ; p1 → n1 ; p2 → n2 ; p3 → wrap: n0 full → n1
    nodes = (Node("n0", {"cpu": 4000, "memory": Gi, "pods": 1}), node("n1"), node("n2"))
    workload = Workload(nodes, pods(template(10, 1), 4))
    assert simulate(workload, RoundRobin()).bindings["node"].tolist() == ["n0", "n1", "n2", "n1"]


def test_random_only_among_feasible_nodes() -> None:
    workload = Workload(
        tuple(node(f"n{i}", taints=() if i in (1, 3) else HARD) for i in range(5)),
        (Pod("p", template()),),
    )
    chosen = Counter(simulate(workload, Random(), seed).assignment()["default/p"]
                     for seed in range(100))
    assert set(chosen) == {"n1", "n3"}
    assert [simulate(workload, Random(), 7).assignment() for _ in range(2)] == [
        simulate(workload, Random(), 7).assignment()] * 2


@pytest.mark.parametrize("policy", [Greedy, RoundRobin, Random])
def test_unschedulable_pod_gets_kubes_message(policy: type) -> None:
    # 2 tainted nodes (counted under TaintToleration, even though they lack cpu too),
    # 3 with too little cpu; sort.Strings puts "2 node(s)…" before "3 Insufficient…"
    nodes = (
        *(node(f"t{i}", cpu=500, taints=HARD) for i in range(2)),
        *(node(f"c{i}", cpu=500) for i in range(3)),
    )
    result = simulate(Workload(nodes, (Pod("p", template(1000, Gi)),)), policy())
    assert result.bindings["node"].tolist() == [None]
    assert result.bindings["reason"].tolist() == [
        "0/5 nodes are available: 2 node(s) had untolerated taint {k: v}, 3 Insufficient cpu."
    ]


def test_unschedulable_message_counts_first_failing_filter_and_sorts_as_strings() -> None:
    pool = {"pool": "main"}
    nodes = (
        # 2 tainted, also too small: counted once, as taints (TaintToleration runs before Fit)
        *(node(f"t{i}", cpu=500, labels=pool, taints=HARD) for i in range(2)),
        # the first untolerated taint in node order is named: {a: 1}, not {k: v}
        node("ta", labels=pool, taints=(*soft("s"), Taint("a", "1", "NoExecute"), *HARD)),
        # 3 with too little cpu
        *(node(f"c{i}", cpu=500, labels=pool) for i in range(3)),
        # one short of cpu and memory: both reasons count for it
        node("cm", cpu=500, memory=Gi // 2, labels=pool),
        # one cordoned (NodeUnschedulable runs first), also tainted and too small
        node("u", cpu=500, labels=pool, taints=HARD, unschedulable=True),
        # 10 outside the pod's nodeSelector
        *(node(f"o{i}", labels={"pool": "other"}) for i in range(10)),
    )
    workload = Workload(nodes, (Pod("p", template(1000, Gi, node_selector=pool)),))
    message = simulate(workload, Greedy()).bindings["reason"][0]
    # counts: Insufficient cpu 3 + 1 = 4 ; Insufficient memory 1 ; taint {k: v} 2 ;
    # taint {a: 1} 1 ; unschedulable 1 ; affinity/selector 10 — sorted as strings, so "10 …"
    # comes before "2 …" and "1 Insufficient" before "1 node(s)"
    assert message == (
        "0/18 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint "
        "{a: 1}, 1 node(s) were unschedulable, 10 node(s) didn't match Pod's node "
        "affinity/selector, 2 node(s) had untolerated taint {k: v}, 4 Insufficient cpu."
    )
    state = prepare(workload)
    assert Evaluator(Profile.default(), state).unschedulable_message(workload.pods[0]) == message


def test_pod_tolerating_a_taint_is_scored_but_not_filtered_by_it() -> None:
    # the toleration lets n1 pass; the soft taint on n0 is untolerated (only the NoSchedule
    # toleration given), so TaintToleration prefers n1: raw [1, 0] → [0, 100]
    tolerate = (Toleration("k", "Equal", "v", "NoSchedule"),)
    workload = Workload((node("n0", taints=soft("x")), node("n1", taints=HARD)),
                        (Pod("p", template(tolerations=tolerate)),))
    assert simulate(workload, Greedy()).assignment() == {"default/p": "n1"}


def test_bind_updates_scores_of_the_next_pod() -> None:
    # two equal nodes; LeastAllocated + Balanced only. p0 ties (random), then p1 must go to
    # the other node: the used one now scores cpu (4000-2000)*100/4000 = 50 < 75
    profile = Profile(filters=Profile.default().filters,
                      scores=((NodeResourcesFit(), 1), (NodeResourcesBalancedAllocation(), 1)))
    workload = Workload((node("n0"), node("n1")), pods(template(1000, 2 * Gi), 2))
    for seed in range(10):
        chosen = simulate(workload, Greedy(profile), seed).bindings["node"].tolist()
        assert sorted(chosen) == ["n0", "n1"]


def test_taint_toleration_alone_spreads_nothing() -> None:
    # a sanity check on a normalising plugin alone: all raw 0 → all 100 → a tie everywhere
    profile = Profile(scores=((TaintToleration(), 3),))
    evaluator = Evaluator(profile, prepare(TWO_NODES))
    totals = evaluator.totals(evaluator.evaluate(TWO_NODES.pods[0]), np.arange(2))
    assert totals.tolist() == [300, 300]


class _SkippingReverse(ScorePlugin):
    """Skips every pod (kube's PreScore Skip) but would reverse-normalise zeros to 100."""

    name = "SkippingReverse"
    scope = Scope.STATIC

    def score(self, state, pod, nodes):
        return None

    def normalize_score(self, scores):
        return default_normalize(scores, reverse=True)


def test_a_skipped_score_plugin_contributes_zero() -> None:
    # Kubernetes: a plugin whose PreScore returned Skip adds 0 to every node's total, even a
    # reverse-normalising one whose all-zero raw scores would otherwise normalise to 100.
    nodes = [Node(f"n{i}", {"cpu": 4000, "memory": 8 * 2**30}) for i in range(3)]
    pod = Pod("p", PodTemplate(containers=(Container(requests={"cpu": 100}),)))
    state = prepare(Workload(nodes, [pod]))
    evaluator = Evaluator(Profile(scores=((_SkippingReverse(), 5),)), state)
    evaluation = evaluator.evaluate(pod)
    assert list(evaluator.totals(evaluation, np.arange(3))) == [0, 0, 0]
    parts = evaluator.breakdown(evaluation, np.arange(3))
    assert list(parts[0].normalized) == [0, 0, 0]


def test_pods_of_one_template_with_different_owners_are_evaluated_apart() -> None:
    """Default spreading depends on the owner, so the framework's caches key pods by template
    and owner: an unowned pod skips PodTopologySpread, a ReplicaSet's pod of the same
    template is spread away from its siblings."""
    from schedlab.objects import ApiObjects, LabelSelector, OwnerRef

    web = PodTemplate(labels={"app": "web"})
    nodes = [Node(n, {"cpu": 4000, "memory": 2**33},
                  {"kubernetes.io/hostname": n, "topology.kubernetes.io/zone": "z"})
             for n in ("a", "b")]
    owner = OwnerRef("ReplicaSet", "web")
    objects = ApiObjects(controllers={("ReplicaSet", "default", "web"): LabelSelector(
        {"app": "web"})})
    state = ClusterState(nodes, objects=objects)
    state.bind(Pod("web-0", web, owner), 0)
    evaluator = Evaluator(Profile.default(100), state)
    both = np.arange(2)

    def spread_scores(pod: Pod) -> list[int]:
        parts = evaluator.breakdown(evaluator.evaluate(pod), both)
        return next(p.normalized.tolist() for p in parts if p.plugin.name == "PodTopologySpread")

    assert spread_scores(Pod("loose", web)) == [0, 0]
    assert spread_scores(Pod("web-1", web, owner)) == [87, 100]  # raw 8 and 7
    assert spread_scores(Pod("loose", web)) == [0, 0]
