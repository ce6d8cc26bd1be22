"""Property tests: the vectorised plugins against the scalar reference (``check_plugin``), the
policies against ``verify`` and the reference scheduler, the framework's incremental caching,
and the power of ``check_plugin`` / ``check_policy`` to catch broken plugins and policies."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from schedlab.cluster import ALL, ClusterState, NodeIndex
from schedlab.framework.cycle import Evaluator, num_feasible_nodes_to_find
from schedlab.framework.plugin import (
    FilterPlugin,
    Scope,
    ScorePlugin,
    default_normalize,
)
from schedlab.framework.profile import Profile
from schedlab.objects import NodeAffinity as NodeAffinityTerms
from schedlab.objects import (
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PreferredSchedulingTerm,
    TopologySpreadConstraint,
    Workload,
)
from schedlab.plugins import (
    InterPodAffinity,
    NodeAffinity,
    NodeName,
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
    NodeUnschedulable,
    PodTopologySpread,
    RequestedToCapacityRatioParam,
    ScoringStrategy,
    TaintToleration,
)
from schedlab.policies import Decision, Greedy, Policy, Random, RoundRobin, make_policy
from schedlab.reference import reference_bindings
from schedlab.sim.simulate import prepare, simulate
from schedlab.testing import (
    GPU,
    HOSTNAME,
    RANK,
    ZONE,
    check_plugin,
    check_policy,
    enforced_constraints,
    profiles,
    workloads,
)
from schedlab.verify import check_placement

EXAMPLES = settings.default.max_examples
"""max_examples of the loaded hypothesis profile, for the checks that take it explicitly."""
SEEDS = st.integers(0, 2**32 - 1)
ANY_PROFILE = profiles(require_all_filters=False)
"""Profiles whose filters may leave hard constraints unenforced (``enforced_constraints``)."""
POLICY_NAMES = ("greedy", "round-robin", "random")

ADDED = NodeAffinityTerms(
    required=(NodeSelectorTerm((NodeSelectorRequirement(ZONE, "In", ("zone-a", "zone-b")),)),
              NodeSelectorTerm((NodeSelectorRequirement(RANK, "Gt", ("2",)),))),
    preferred=(PreferredSchedulingTerm(7, NodeSelectorTerm(
        (NodeSelectorRequirement(ZONE, "NotIn", ("zone-c",)),))),),
)
ALL_RESOURCES = {"cpu": 1, "memory": 2, "ephemeral-storage": 1, GPU: 3}
BUILTIN_VARIANTS = [
    NodeUnschedulable(),
    NodeName(),
    TaintToleration(),
    NodeAffinity(),
    NodeAffinity(added_affinity=ADDED),
    NodeResourcesFit(),
    NodeResourcesFit(scoring_strategy=ScoringStrategy("LeastAllocated", ALL_RESOURCES)),
    NodeResourcesFit(scoring_strategy=ScoringStrategy("MostAllocated", ALL_RESOURCES)),
    NodeResourcesFit(scoring_strategy=ScoringStrategy(
        "RequestedToCapacityRatio", ALL_RESOURCES,
        RequestedToCapacityRatioParam(((10, 1), (55, 9), (100, 10))))),
    # A decreasing shape: the interpolation divides negative numbers, which Go truncates.
    NodeResourcesFit(scoring_strategy=ScoringStrategy(
        "RequestedToCapacityRatio",
        requested_to_capacity_ratio=RequestedToCapacityRatioParam(((0, 10), (30, 3), (100, 0))))),
    NodeResourcesFit(ignored_resource_groups=["example.com"]),
    NodeResourcesBalancedAllocation(),
    NodeResourcesBalancedAllocation(resources={"cpu": 1, "memory": 1, "ephemeral-storage": 1}),
    NodeResourcesBalancedAllocation(resources={"cpu": 1, "memory": 1, GPU: 1}),
    InterPodAffinity(),
    InterPodAffinity(hard_pod_affinity_weight=0, ignore_preferred_terms_of_existing_pods=True),
    InterPodAffinity(hard_pod_affinity_weight=100),
    PodTopologySpread(),
    PodTopologySpread(defaulting_type="List", default_constraints=(
        TopologySpreadConstraint(1, ZONE, "DoNotSchedule", min_domains=4),
        TopologySpreadConstraint(2, HOSTNAME, "ScheduleAnyway"))),
]


def _id(plugin: object) -> str:
    text = repr(plugin)
    for long, short in (("scoring_strategy=ScoringStrategy", ""), ("FrozenMap", ""),
                        (", ignored_resources=(), ignored_resource_groups=()", ""),
                        (", requested_to_capacity_ratio=None", ""),
                        ("RequestedToCapacityRatioParam(shape=", "shape=(")):
        text = text.replace(long, short)
    return text


# ---------------------------------------------------------------------------- plugins
@pytest.mark.parametrize("plugin", BUILTIN_VARIANTS, ids=_id)
def test_builtin_plugin_conforms(plugin: FilterPlugin | ScorePlugin) -> None:
    check_plugin(plugin, max_examples=EXAMPLES)


class ClusterLoad(FilterPlugin, ScorePlugin):
    """A research-style plugin whose answers depend on the whole cluster (CLUSTER scope):
    nodes with more than half the cluster's pods plus one are filtered out, and nodes score
    by how few pods they hold (reverse-normalised)."""

    name = "ClusterLoad"
    scope = Scope.CLUSTER

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return state.pod_count[nodes] <= state.pod_count.sum() // 2 + 1

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return state.pod_count[nodes].copy()

    def normalize_score(self, scores: np.ndarray) -> np.ndarray:
        return default_normalize(scores, reverse=True)


def test_custom_cluster_plugin_conforms() -> None:
    check_plugin(ClusterLoad(), max_examples=EXAMPLES)


# ---------------------------------------------------------------------------- policies
@pytest.mark.parametrize("name", POLICY_NAMES)
@given(workload=workloads(), profile=profiles(), seed=SEEDS)
def test_placements_hold_every_hard_constraint(name: str, workload: Workload, profile: Profile,
                                               seed: int) -> None:
    result = simulate(workload, make_policy(name, profile), seed)
    assert check_placement(workload, result.assignment()) == []


@pytest.mark.parametrize("name", POLICY_NAMES)
@given(workload=workloads(), profile=ANY_PROFILE, seed=SEEDS)
def test_bindings_equal_the_scalar_reference(name: str, workload: Workload, profile: Profile,
                                             seed: int) -> None:
    result = simulate(workload, make_policy(name, profile), seed)
    assert list(result.bindings["node"]) == reference_bindings(workload, profile, name, seed)


@pytest.mark.parametrize("name", POLICY_NAMES)
@given(workload=workloads(), profile=ANY_PROFILE, seed=SEEDS)
def test_same_seed_same_bindings(name: str, workload: Workload, profile: Profile,
                                 seed: int) -> None:
    policy = make_policy(name, profile)
    first = simulate(workload, policy, seed)
    again = simulate(workload, policy, seed)  # the same object, reset by simulate
    fresh = simulate(workload, make_policy(name, profile), seed)
    pd.testing.assert_frame_equal(first.bindings, again.bindings)
    pd.testing.assert_frame_equal(first.bindings, fresh.bindings)


@pytest.mark.parametrize("policy", [Greedy(), Greedy(Profile.default(100)), RoundRobin(),
                                    Random()], ids=["greedy", "greedy-100", "round-robin",
                                                    "random"])
def test_builtin_policy_conforms(policy: Policy) -> None:
    check_policy(policy, max_examples=EXAMPLES)


@pytest.mark.slow
@settings(max_examples=max(4, EXAMPLES // 5))
@given(workload=workloads(min_nodes=101, max_nodes=180, kinds=3, max_pending=12, max_bound=8),
       profile=ANY_PROFILE, seed=SEEDS)
def test_large_clusters_rotate_like_the_reference(workload: Workload, profile: Profile,
                                                  seed: int) -> None:
    """With over 100 nodes kube scores only the first numFeasibleNodesToFind feasible nodes,
    searching round-robin from where the last pod's search stopped."""
    result = simulate(workload, Greedy(profile), seed)
    assert list(result.bindings["node"]) == reference_bindings(workload, profile, "greedy", seed)
    enforced = enforced_constraints(profile)
    assert not [v for v in check_placement(workload, result.assignment()) if enforced(v)]


def test_large_cluster_strategy_exercises_rotation() -> None:
    """The slow test above is worth its time only if 100 < numFeasibleNodesToFind < nodes."""
    assert num_feasible_nodes_to_find(0, 150) == 100
    assert num_feasible_nodes_to_find(37, 180) == 100


# ---------------------------------------------------------------------------- caching
def _equal_evaluations(long: object, fresh: object) -> None:
    for field in ("masks", "raw"):
        a, b = getattr(long, field), getattr(fresh, field)
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y, err_msg=field)
    np.testing.assert_array_equal(long.feasible, fresh.feasible, err_msg="feasible")
    np.testing.assert_array_equal(long.plain_total, fresh.plain_total, err_msg="plain_total")
    assert long.uniform == fresh.uniform


OPS = st.lists(st.tuples(st.sampled_from(("bind", "bind", "unbind", "evaluate")),
                         st.integers(0, 2**16), st.integers(0, 2**16)), max_size=30)


@given(workload=workloads(), profile=ANY_PROFILE, with_cluster_plugin=st.booleans(), ops=OPS)
def test_incremental_evaluator_equals_a_fresh_one(workload: Workload, profile: Profile,
                                                  with_cluster_plugin: bool,
                                                  ops: list[tuple[str, int, int]]) -> None:
    if with_cluster_plugin:
        plugin = ClusterLoad()
        profile = profile.with_filter(plugin).with_score(plugin, 2)
    state = prepare(workload)
    templates = list({id(p.template): p.template for p in workload.pods}.values())
    if not templates:
        return
    asked = [Pod(f"asked-{i}", t) for i, t in enumerate(templates)]
    long = Evaluator(profile, state)
    bound: list[Pod] = []
    for step, (op, a, b) in enumerate(ops + [("evaluate", i, 0) for i in range(len(asked))]):
        if op == "bind":
            pod = Pod(f"extra-{step}", templates[a % len(templates)])
            state.bind(pod, b % state.n_nodes)
            bound.append(pod)
        elif op == "unbind" and bound:
            state.unbind(bound.pop(a % len(bound)))
        elif op == "evaluate":
            pod = asked[a % len(asked)]
            _equal_evaluations(long.evaluate(pod), Evaluator(profile, state).evaluate(pod))


# ---------------------------------------------------------------------------- strategies
@given(workload=workloads())
def test_workloads_start_in_a_state_kubernetes_could_hold(workload: Workload) -> None:
    state = prepare(workload)
    assert (state.requested <= state.allocatable).all()
    assert (state.pod_count <= state.allowed_pods).all()
    assert len({p.key for p in workload.pods}) == len(workload.pods)
    # Pending pods are stamped from at most 4 template objects (shared, not copied).
    assert len({id(p.template) for p in workload.pending_pods}) <= 4


# ---------------------------------------------------------------------------- meta
FIND_ONLY = settings(phases=[Phase.generate], database=None, print_blob=False)
"""Stop at the first failing example: these tests only ask whether the checks fail."""

class LyingScope(FilterPlugin):
    """Declares STATIC but reads pod counts."""

    name = "LyingScope"
    scope = Scope.STATIC

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return state.pod_count[nodes] < 2


class TooHigh(ScorePlugin):
    """Scores 150 everywhere and has no normalize_score."""

    name = "TooHigh"
    scope = Scope.STATIC

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return np.full(state.n_nodes, 150, dtype=np.int64)[nodes]


class SubsetLiar(FilterPlugin):
    """Answers for an index array differ from its answers for ALL."""

    name = "SubsetLiar"
    scope = Scope.STATIC

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        mask = ~state.unschedulable
        return mask if nodes is ALL else np.ones(len(nodes), dtype=bool)


class Unnormalised(ScorePlugin):
    """normalize_score maps equal raw scores to different results."""

    name = "Unnormalised"
    scope = Scope.STATIC

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return np.zeros(state.n_nodes, dtype=np.int64)[nodes]

    def normalize_score(self, scores: np.ndarray) -> np.ndarray:
        return np.arange(len(scores), dtype=np.int64) % 101


class ReasonLess(FilterPlugin):
    """Rejects nodes without giving them a reason."""

    name = "ReasonLess"
    scope = Scope.STATIC

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return ~state.unschedulable[nodes]

    def failure_reasons(self, state: ClusterState, pod: Pod, nodes: np.ndarray
                        ) -> list[tuple[str, np.ndarray]]:
        return []


class AliasedScore(ScorePlugin):
    """Returns a view of the state's pod counts, which the framework would write into."""

    name = "AliasedScore"
    scope = Scope.NODE

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return state.pod_count[nodes]  # with ALL (a slice) numpy returns a view


class StrictFit(NodeResourcesFit):
    """A subclass breaking kube semantics: a pod must leave some cpu free (``<`` where kube
    has ``<=``)."""

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        want = state.requests_of(pod).requested[0]
        full = state.requested[nodes, 0] + want == state.allocatable[nodes, 0]
        return super().filter(state, pod, nodes) & ~(full & (want > 0))


class MiscountedFit(NodeResourcesFit):
    """Its one-pass rejections count every rejected node as short of memory."""

    def rejections(self, state: ClusterState, pod: Pod, nodes: np.ndarray
                   ) -> tuple[np.ndarray, list[tuple[str, int]]]:
        passes = self.filter(state, pod, nodes)
        return passes, [("Insufficient memory", int(np.count_nonzero(~passes)))]


class SkipsAlways(FilterPlugin):
    """Says it skips every pod but rejects cordoned nodes."""

    name = "SkipsAlways"
    scope = Scope.STATIC

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return ~state.unschedulable[nodes]

    def skips_filter(self, state: ClusterState, pod: Pod) -> bool:
        return True


class StaleToken(FilterPlugin):
    """A CLUSTER filter whose state token never changes, though its answers do."""

    name = "StaleToken"

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return (state.pod_count.sum() < 3) | (state.pod_count[nodes] == 0)

    def state_token(self, state: ClusterState, pod: Pod) -> Hashable:
        return "always the same"


class CoarseKey(FilterPlugin):
    """Answers by the pod's cpu request but gives every pod the same cache key."""

    name = "CoarseKey"
    scope = Scope.STATIC

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        cpu = state.requests_of(pod).requested[0]
        return state.allocatable[nodes, 0] >= 2 * cpu

    def cache_key(self, state: ClusterState, pod: Pod) -> Hashable:
        return "every pod alike"


@pytest.mark.parametrize(("plugin", "rule"), [
    (LyingScope(), "scope"),
    (StaleToken(), "state-token"),
    (CoarseKey(), "cache-key"),
    (TooHigh(), "score-bounds"),
    (SubsetLiar(), "(subset|rejections)"),
    (Unnormalised(), "normalize"),
    (ReasonLess(), "failure-reasons"),
    (AliasedScore(), "fresh-arrays"),
    (StrictFit(), "(reference|failure-reasons|rejections)"),
    (MiscountedFit(), "rejections"),
    (SkipsAlways(), "skips-filter"),
], ids=lambda x: x.split("|")[0].strip("(") if isinstance(x, str) else type(x).__name__)
def test_check_plugin_catches_broken_plugins(plugin: FilterPlugin | ScorePlugin,
                                             rule: str) -> None:
    with pytest.raises(AssertionError, match=f"breaks rule '{rule}'"):
        check_plugin(plugin, max_examples=300, hypothesis_settings=FIND_ONLY)


class FirstNode(Policy):
    """Puts every pod on node 0, whatever the filters say."""

    name = "first-node"
    uses_scores = False

    def place(self, pod: Pod) -> Decision:
        return Decision(0)


class Unseeded(Policy):
    """Draws from an unseeded generator."""

    name = "unseeded"
    uses_scores = False

    def place(self, pod: Pod) -> Decision:
        found = np.flatnonzero(self.evaluator.evaluate(pod).feasible)
        if len(found) == 0:
            return self.unschedulable(pod)
        return Decision(int(np.random.default_rng().choice(found)))


class GivesUp(RoundRobin):
    """Leaves every other pod unschedulable although it fits."""

    name = "gives-up"

    def place(self, pod: Pod) -> Decision:
        if pod.name.endswith(("0", "2", "4", "6", "8")):
            return Decision(None, "gave up")
        return super().place(pod)


@pytest.mark.parametrize(("policy", "rule"), [
    (FirstNode(), "hard-constraints"),
    (Unseeded(), "reproducible"),
    (GivesUp(), "unschedulable"),
], ids=lambda x: x if isinstance(x, str) else type(x).__name__)
def test_check_policy_catches_broken_policies(policy: Policy, rule: str) -> None:
    with pytest.raises(AssertionError, match=f"breaks rule '{rule}'"):
        check_policy(policy, max_examples=300, hypothesis_settings=FIND_ONLY)
