"""InterPodAffinity and PodTopologySpread case by case, each case run on the scalar
reference (``schedlab.reference``) and on the vectorised plugins: mostly ported from
kube-scheduler's filtering_test.go and scoring_test.go of both plugins (names kept where a
case is ported); expected values are kube's, or worked out by hand from the Go code where
stated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from schedlab import reference
from schedlab.cluster import ALL, ClusterState
from schedlab.framework.profile import Profile
from schedlab.objects import (
    HOSTNAME_KEY,
    ApiObjects,
    LabelSelector,
    LabelSelectorRequirement,
    Node,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    OwnerRef,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodTemplate,
    Service,
    Taint,
    TopologySpreadConstraint,
    WeightedPodAffinityTerm,
    Workload,
)
from schedlab.plugins import inter_pod_affinity, pod_topology_spread
from schedlab.reference import NodeInfo, ReferenceScheduler, reference_bindings

AFFINITY = inter_pod_affinity.REASON_AFFINITY
ANTI = inter_pod_affinity.REASON_ANTI_AFFINITY
EXISTING = inter_pod_affinity.REASON_EXISTING_ANTI_AFFINITY
MISSING = pod_topology_spread.REASON_MISSING_LABEL
SKEW = pod_topology_spread.REASON_SKEW


def ipa(**kwargs: Any) -> inter_pod_affinity.InterPodAffinity:
    return inter_pod_affinity.InterPodAffinity(**kwargs)


def pts(**kwargs: Any) -> pod_topology_spread.PodTopologySpread:
    return pod_topology_spread.PodTopologySpread(**kwargs)


LIST = {"defaulting_type": "List"}  # no default constraints


# ---------------------------------------------------------------- builders
def node(name: str, taints: Sequence[Taint] = (), **labels: str) -> Node:
    return Node(name, labels=labels, taints=tuple(taints))


def host(name: str, **labels: str) -> Node:
    """A node labelled with its hostname."""
    return node(name, **{HOSTNAME_KEY: name}, **labels)


def zoned(name: str, zone: str) -> Node:
    """A node with labels zone and node (as kube's spreading tests)."""
    return node(name, zone=zone, node=name)


def labels(**pairs: str) -> LabelSelector:
    return LabelSelector(match_labels=pairs)


def expr(key: str, operator: str, *values: str) -> LabelSelectorRequirement:
    return LabelSelectorRequirement(key, operator, values)


def exists(key: str) -> LabelSelector:
    return LabelSelector(match_expressions=(expr(key, "Exists"),))


FOO, BAR = exists("foo"), exists("bar")


def term(key: str, selector: LabelSelector | None, **kwargs: Any) -> PodAffinityTerm:
    return PodAffinityTerm(key, selector, **kwargs)


def weighted(weight: int, key: str, selector: LabelSelector) -> WeightedPodAffinityTerm:
    return WeightedPodAffinityTerm(weight, term(key, selector))


def spread(max_skew: int, key: str, when: str = "DoNotSchedule",
           selector: LabelSelector | None = FOO, **kwargs: Any) -> TopologySpreadConstraint:
    return TopologySpreadConstraint(max_skew, key, when, selector, **kwargs)


def tmpl(namespace: str = "default", **kwargs: Any) -> PodTemplate:
    return PodTemplate(namespace=namespace, **kwargs)


def lab(*keys: str, **pairs: str) -> dict[str, str]:
    """Pod labels: each of ``keys`` with value "" (kube's ``.Label("foo", "")``) and ``pairs``."""
    return {**dict.fromkeys(keys, ""), **pairs}


def cluster(nodes: Sequence[Node], existing: Sequence[tuple[str, PodTemplate]]
            ) -> list[NodeInfo]:
    """NodeInfos of ``nodes`` with pods of the (node name, template) pairs bound."""
    infos = [NodeInfo(n) for n in nodes]
    index = {n.name: i for i, n in enumerate(nodes)}
    for k, (name, template) in enumerate(existing):
        infos[index[name]].add(Pod(f"existing-{k}", template))
    return infos


IMPLEMENTATIONS = ("reference", "vectorised")
"""Every case runs on the scalar reference and on the vectorised plugin."""
_implementation = "reference"


@pytest.fixture(autouse=True, params=IMPLEMENTATIONS)
def implementation(request: pytest.FixtureRequest) -> str:
    global _implementation
    _implementation = request.param
    return request.param


def state_of(nodes: Sequence[Node], existing: Sequence[tuple[str, PodTemplate]],
             objects: ApiObjects) -> ClusterState:
    """A ClusterState of ``nodes`` with pods of the (node name, template) pairs bound."""
    state = ClusterState(nodes, objects=objects)
    for k, (name, template) in enumerate(existing):
        state.bind(Pod(f"existing-{k}", template), state.index[name])
    return state


def reasons(plugin: Any, template: PodTemplate, nodes: Sequence[Node],
            existing: Sequence[tuple[str, PodTemplate]] = (), objects: ApiObjects | None = None,
            owner: OwnerRef | None = None) -> list[list[str]]:
    pod = Pod("p", template, owner)
    objects = objects or ApiObjects()
    if _implementation == "reference":
        return reference.filter_all(plugin, pod, cluster(nodes, existing), objects)
    state = state_of(nodes, existing, objects)
    mask = plugin.filter(state, pod, ALL)
    failed = np.flatnonzero(~mask)
    found: list[list[str]] = [[] for _ in nodes]
    for reason, which in plugin.failure_reasons(state, pod, failed):
        for i in failed[which]:
            found[i].append(reason)
    return found


def scores(plugin: Any, template: PodTemplate, nodes: Sequence[Node],
           existing: Sequence[tuple[str, PodTemplate]] = (), *,
           failed: Sequence[Node] = (), objects: ApiObjects | None = None,
           owner: OwnerRef | None = None) -> tuple[list[int], list[int]] | None:
    """Raw and normalised scores over ``nodes`` (the candidates); ``failed`` nodes are in
    the cluster but not candidates. The vectorised PodTopologySpread marks ignored nodes
    with raw -1, shown as kube's 0."""
    pod = Pod("p", template, owner)
    objects = objects or ApiObjects()
    if _implementation == "reference":
        infos = cluster((*nodes, *failed), existing)
        return reference.score_candidates(plugin, pod, infos, range(len(nodes)), objects)
    state = state_of((*nodes, *failed), existing, objects)
    candidates = np.arange(len(nodes))
    raw = plugin.score(state, pod, candidates if plugin.candidate_dependent else ALL)
    if raw is None:
        return None
    raw = raw[: len(nodes)]
    shown = np.maximum(raw, 0) if plugin.candidate_dependent else raw
    return shown.tolist(), plugin.normalize_score(raw).tolist()


def normalized(*args: Any, **kwargs: Any) -> list[int] | None:
    result = scores(*args, **kwargs)
    return None if result is None else result[1]


# ================================================================ InterPodAffinity: filter
REGION = {"region": "r1", "zone": "z11", "node": "machine1"}  # kube's node1
SECURITY = {"service": "securityscan"}


def affinity(*required: PodAffinityTerm, preferred: Sequence[WeightedPodAffinityTerm] = ()
             ) -> PodAffinity:
    return PodAffinity(required=required, preferred=tuple(preferred))


def test_pod_matching_its_own_term_is_not_enough_when_another_pod_exists() -> None:
    # kube: "pod matches its own Label in PodAffinity and that matches the existing pod Labels"
    # (the term is NotIn: the existing pod does not match it, and neither does the pod)
    t = term("region", LabelSelector(match_expressions=(
        expr("service", "NotIn", "securityscan", "value2"),)))
    pod = tmpl(labels=SECURITY, pod_affinity=affinity(t))
    nodes = [node("machine1", **REGION), node("machine2", region="r1")]
    assert reasons(ipa(), pod, nodes, [("machine2", tmpl(labels=SECURITY))]) == [
        [AFFINITY], [AFFINITY]]


def test_first_pod_rule() -> None:
    web = tmpl(labels={"app": "web"}, pod_affinity=affinity(term("zone", labels(app="web"))))
    nodes = [node("a", zone="z1"), node("b", zone="z2"), node("c")]
    # no pod matches anywhere and the pod matches its own term: any node with the key
    assert reasons(ipa(), web, nodes) == [[], [], [AFFINITY]]
    # a matching pod on a node without the key leaves the counts empty: still the first pod
    assert reasons(ipa(), web, nodes, [("c", tmpl(labels={"app": "web"}))]) == [
        [], [], [AFFINITY]]
    # a matching pod in z2: only z2
    assert reasons(ipa(), web, nodes, [("b", tmpl(labels={"app": "web"}))]) == [
        [AFFINITY], [], [AFFINITY]]
    # the pod does not match its own term: no node without a matching pod
    lone = tmpl(labels={"app": "api"}, pod_affinity=web.pod_affinity)
    assert reasons(ipa(), lone, nodes) == [[AFFINITY], [AFFINITY], [AFFINITY]]


def test_existing_pods_must_match_all_terms_and_the_node_every_key() -> None:
    terms = affinity(term("zone", labels(app="db")), term("region", labels(tier="backend")))
    pod = tmpl(pod_affinity=terms)
    nodes = [node("a", zone="z1", region="r1"), node("b", zone="z2", region="r1"),
             node("c", zone="z2"), node("d", zone="z3", region="r2")]
    existing = [("a", tmpl(labels={"app": "db"})),  # matches one term only: not counted
                ("b", tmpl(labels={"app": "db", "tier": "backend"}))]
    # counts: (zone, z2) and (region, r1); a is in r1 but z1; c lacks region; d neither
    assert reasons(ipa(), pod, nodes, existing) == [[AFFINITY], [], [AFFINITY], [AFFINITY]]


def test_anti_affinity_of_the_pod() -> None:
    pod = tmpl(labels={"app": "web"},
               pod_anti_affinity=affinity(term("zone", labels(app="web"))))
    nodes = [node("a", zone="z1"), node("b", zone="z1"), node("c", zone="z2"), node("d")]
    existing = [("a", tmpl(labels={"app": "web"})),
                ("c", tmpl(namespace="other", labels={"app": "web"}))]  # other namespace
    assert reasons(ipa(), pod, nodes, existing) == [[ANTI], [ANTI], [], []]


def test_existing_pods_anti_affinity_uses_their_namespace() -> None:
    nodes = [node("a", zone="z1"), node("b", zone="z1"), node("c", zone="z2")]
    pod = tmpl(labels={"app": "web"})
    own_namespace = term("zone", labels(app="web"))  # resolves to the existing pod's: "other"
    listed = term("zone", labels(app="web"), namespaces=("default",))
    by_selector = term("zone", labels(app="web"), namespace_selector=labels(team="a"))

    def with_term(t: PodAffinityTerm) -> list[list[str]]:
        existing = [("a", tmpl(namespace="other", pod_anti_affinity=affinity(t)))]
        objects = ApiObjects(namespaces={"default": {"team": "a"}, "other": {"team": "b"}})
        return reasons(ipa(), pod, nodes, existing, objects)

    assert with_term(own_namespace) == [[], [], []]
    assert with_term(listed) == [[EXISTING], [EXISTING], []]
    assert with_term(by_selector) == [[EXISTING], [EXISTING], []]
    everywhere = term("zone", labels(app="web"), namespace_selector=LabelSelector())
    assert with_term(everywhere) == [[EXISTING], [EXISTING], []]
    by_name = term("zone", labels(app="web"), namespace_selector=labels(
        **{"kubernetes.io/metadata.name": "default"}))
    assert with_term(by_name) == [[EXISTING], [EXISTING], []]


def test_only_the_first_failing_check_is_the_reason() -> None:
    # kube: "satisfies the PodAffinity but doesn't satisfy the PodAntiAffinity symmetry ..."
    pod = tmpl(labels=SECURITY, pod_affinity=affinity(term("region", labels(**SECURITY))))
    existing_anti = tmpl(labels=SECURITY,
                         pod_anti_affinity=affinity(term("zone", labels(**SECURITY))))
    nodes = [node("machine1", **REGION), node("machine2", region="r2", zone="z11")]
    # machine1: affinity satisfied (the existing pod is in r1), existing anti-affinity in z11
    # machine2: no matching pod in r2 and counts not empty: affinity fails first
    assert reasons(ipa(), pod, nodes, [("machine1", existing_anti)]) == [[EXISTING], [AFFINITY]]


def test_a_node_without_labels_fails_only_affinity() -> None:
    pod = tmpl(labels={"app": "x"}, pod_affinity=affinity(term("zone", labels(app="x"))),
               pod_anti_affinity=affinity(term("zone", labels(app="x"))))
    assert reasons(ipa(), pod, [node("bare"), node("z", zone="z1")]) == [[AFFINITY], []]


# ================================================================ InterPodAffinity: score
CHINA, INDIA = {"region": "China"}, {"region": "India"}
AZ1, AZ2 = {"az": "az1"}, {"az": "az2"}
S1, S2 = {"security": "S1"}, {"security": "S2"}
STAY_S1_REGION = affinity(preferred=[weighted(5, "region", LabelSelector(match_expressions=(
    expr("security", "In", "S1"),)))])
STAY_S2_REGION = affinity(preferred=[weighted(6, "region", LabelSelector(match_expressions=(
    expr("security", "In", "S2"),)))])
AWAY_S1_AZ = affinity(preferred=[weighted(5, "az", labels(security="S1"))])
AWAY_S2_AZ = affinity(preferred=[weighted(5, "az", labels(security="S2"))])


def test_preferred_affinity_of_the_pod() -> None:
    nodes = [node("node1", **CHINA), node("node2", **INDIA), node("node3", **AZ1)]
    existing = [("node1", tmpl(labels=S1)), ("node2", tmpl(labels=S2)), ("node3", tmpl(labels=S1))]
    pod = tmpl(labels=S1, pod_affinity=STAY_S1_REGION)
    assert scores(ipa(), pod, nodes, existing) == ([5, 0, 0], [100, 0, 0])
    # kube: "different Label operators and values for pod affinity scheduling preference"
    affinity3 = affinity(preferred=[
        WeightedPodAffinityTerm(8, term("region", LabelSelector(match_expressions=(
            expr("security", "NotIn", "S1"), expr("security", "In", "S2"))))),
        WeightedPodAffinityTerm(2, term("region", LabelSelector(match_expressions=(
            expr("security", "Exists"), expr("wrongkey", "DoesNotExist"))))),
    ])
    assert scores(ipa(), tmpl(labels=S1, pod_affinity=affinity3), nodes, existing) == (
        [2, 10, 0], [20, 100, 0])


def test_nodes_of_one_region_score_the_same() -> None:
    # kube: "nodes in one region has more matching pods comparing to other region"
    nodes = [node("node1", **CHINA), node("node2", **INDIA), node("node3", **CHINA),
             node("node4", **CHINA), node("node5", **INDIA)]
    existing = [(n, tmpl(labels=S2)) for n in ("node1", "node1", "node2", "node3", "node4",
                                               "node5")]
    pod = tmpl(labels=S1, pod_affinity=STAY_S2_REGION)
    assert normalized(ipa(), pod, nodes, existing) == [100, 0, 100, 100, 0]


def test_normalisation_with_negative_raw_scores() -> None:
    # kube: "Anti Affinity: pod that does not match existing pods in node will get high score"
    nodes = [node("node1", **AZ1), node("node2", **CHINA)]
    existing = [("node1", tmpl(labels=S1)), ("node2", tmpl(labels=S2))]
    assert scores(ipa(), tmpl(labels=S1, pod_anti_affinity=AWAY_S1_AZ), nodes, existing) == (
        [-5, 0], [0, 100])
    # true minimum, truncation: raw -5, 3, 0 over a span of 8: 0, 100, int(100 * 5/8) = 62
    mixed = affinity(preferred=[weighted(3, "region", labels(security="S2"))])
    pod = tmpl(labels=S1, pod_affinity=mixed, pod_anti_affinity=AWAY_S1_AZ)
    three = [node("node1", **AZ1), node("node2", **INDIA), node("node3", **CHINA)]
    assert scores(ipa(), pod, three, existing) == ([-5, 3, 0], [0, 100, 62])


def test_symmetry_and_both_directions() -> None:
    # kube: "Affinity and Anti Affinity and symmetry" (weights 8, -5, 8, -5)
    both = affinity(preferred=[weighted(8, "region", labels(security="S1"))])
    pod = tmpl(labels=S1, pod_affinity=both, pod_anti_affinity=AWAY_S2_AZ)
    nodes = [node("node1", **CHINA), node("node2", **AZ1), node("node3", **INDIA),
             node("node4", **AZ2)]
    existing = [("node1", tmpl(labels=S1)), ("node2", tmpl(labels=S2)),
                ("node3", tmpl(pod_affinity=both, pod_anti_affinity=AWAY_S2_AZ)),
                ("node4", tmpl(pod_anti_affinity=AWAY_S1_AZ))]
    assert scores(ipa(), pod, nodes, existing) == ([8, -5, 8, -5], [100, 0, 100, 0])
    # kube: "Anti Affinity symmetry: the existing pods in node which has anti affinity match"
    nodes = [node("node1", **AZ1), node("node2", **AZ2)]
    existing = [("node1", tmpl(labels=S1, pod_anti_affinity=AWAY_S2_AZ)),
                ("node2", tmpl(labels=S2, pod_anti_affinity=AWAY_S1_AZ))]
    assert normalized(ipa(), tmpl(labels=S2), nodes, existing) == [0, 100]


def test_symmetry_with_namespace_selector() -> None:
    # kube: "Affinity symmetry with namespace selector" / "AntiAffinity symmetry with ..."
    selected = PodAffinityTerm("region", LabelSelector(match_expressions=(
        expr("security", "In", "S1"),)), namespaces=("subteam2.team2",),
        namespace_selector=LabelSelector(match_expressions=(expr("team", "In", "team1"),)))
    objects = ApiObjects(namespaces={"subteam1.team1": {"team": "team1"},
                                     "subteam2.team1": {"team": "team1"},
                                     "subteam1.team2": {"team": "team2"},
                                     "subteam2.team2": {"team": "team2"}})
    nodes = [node("node1", **CHINA), node("node2", **INDIA), node("node3", **AZ1)]
    pod = tmpl("subteam1.team1", labels=S1)
    for kind, want in (("pod_affinity", [100, 0, 0]), ("pod_anti_affinity", [0, 100, 100])):
        existing = [("node1", tmpl(labels=S1, **{kind: PodAffinity(
                        preferred=(WeightedPodAffinityTerm(5, selected),))})),
                    ("node2", tmpl(labels=S2, pod_affinity=STAY_S2_REGION))]
        assert normalized(ipa(), pod, nodes, existing, objects=objects) == want


HARD = affinity(PodAffinityTerm("region", LabelSelector(match_expressions=(
    expr("service", "In", "S1"),)), namespaces=("default", "subteam2.team2"),
    namespace_selector=LabelSelector(match_expressions=(expr("team", "In", "team1"),))))


@pytest.mark.parametrize(("weight", "namespace", "want"), [
    (1, "default", ([1, 1, 0], [100, 100, 0])),  # kube: "with default weight"
    (5, "default", ([5, 5, 0], [100, 100, 0])),
    (0, "default", None),  # kube: "with zero weight": Skip
    (1, "subteam1.team2", None),  # "with no matching namespace"
    (1, "subteam1.team1", ([1, 1, 0], [100, 100, 0])),  # "with matching NamespaceSelector"
    (1, "subteam2.team2", ([1, 1, 0], [100, 100, 0])),  # "with matching Namespaces"
])
def test_hard_pod_affinity_weight(weight: int, namespace: str, want: Any) -> None:
    objects = ApiObjects(namespaces={"subteam1.team1": {"team": "team1"},
                                     "subteam1.team2": {"team": "team2"},
                                     "subteam2.team2": {"team": "team2"}})
    nodes = [node("node1", **CHINA), node("node2", **INDIA), node("node3", **AZ1)]
    existing = [("node1", tmpl(pod_affinity=HARD)), ("node2", tmpl(pod_affinity=HARD))]
    pod = tmpl(namespace, labels={"service": "S1"})
    assert scores(ipa(hard_pod_affinity_weight=weight), pod, nodes, existing,
                  objects=objects) == want


def test_ignore_preferred_terms_of_existing_pods() -> None:
    nodes = [node("node1", **CHINA), node("node2", **INDIA)]
    both = PodAffinity(preferred=(weighted(8, "region", labels(security="S1")),))
    existing = [("node1", tmpl(labels=S1, pod_affinity=both, pod_anti_affinity=AWAY_S2_AZ)),
                ("node2", tmpl(labels=S2, pod_affinity=STAY_S2_REGION))]
    pod = tmpl(labels=S2)
    # kube: "Ignore preferred terms of existing pods" (Skip) / "Do not ignore ..."
    assert scores(ipa(ignore_preferred_terms_of_existing_pods=True), pod, nodes, existing) is None
    assert normalized(ipa(), pod, nodes, existing) == [0, 100]
    # kube v1.32 Go: the option only skips pods without preferred terms of their own; a pod
    # with some still gets the existing pods' preferred terms (here +6 in India)
    prefers = tmpl(labels=S2, pod_affinity=affinity(
        preferred=[weighted(1, "region", labels(security="none"))]))
    assert scores(ipa(ignore_preferred_terms_of_existing_pods=True), prefers, nodes,
                  existing) == ([0, 6], [0, 100])


def test_skip_when_no_term_gives_an_entry() -> None:
    nodes = [node("node1", **CHINA), node("node2", **INDIA), node("node3", **AZ1)]
    # kube: "all nodes are same priority as Affinity is nil"
    assert scores(ipa(), tmpl(labels=S1), nodes) is None
    # preferred terms matching no pod: no entry, Skip
    assert scores(ipa(), tmpl(pod_affinity=STAY_S1_REGION), nodes, [("node1", tmpl())]) is None
    # entries that sum to 0 still count: every node 0 (not Skip)
    cancel = tmpl(pod_affinity=affinity(preferred=[weighted(5, "region", labels(**S1))]),
                  pod_anti_affinity=affinity(preferred=[weighted(5, "region", labels(**S1))]))
    assert scores(ipa(), cancel, nodes, [("node1", tmpl(labels=S1))]) == ([0, 0, 0], [0, 0, 0])
    # kube: "Avoid panic when partial nodes in a topology don't have pods with affinity"
    two = [node("node1", **CHINA), node("node2", **CHINA)]
    existing = [("node1", tmpl(labels=S1)),
                ("node2", tmpl(pod_affinity=PodAffinity(preferred=(
                    weighted(8, "region", labels(security="S1")),)),
                    pod_anti_affinity=AWAY_S2_AZ))]
    assert scores(ipa(), tmpl(labels=S1), two, existing) == ([8, 8], [0, 0])


# ================================================================ PodTopologySpread: filter
ABXY = [zoned("node-a", "zone1"), zoned("node-b", "zone1"), zoned("node-x", "zone2"),
        zoned("node-y", "zone2")]


def on(*placements: tuple[str, int], **template: Any) -> list[tuple[str, PodTemplate]]:
    """``count`` pods of ``template`` (default: labelled foo) on each named node."""
    t = tmpl(**({"labels": lab("foo")} | template))
    return [(name, t) for name, count in placements for _ in range(count)]


def test_spread_filter_kube_cases() -> None:
    one_zone = tmpl(labels=lab("foo"), topology_spread_constraints=(spread(1, "zone"),))
    # "no existing pods"
    assert reasons(pts(), one_zone, ABXY) == [[], [], [], []]
    # "existing pods in a different namespace do not count"
    existing = on(("node-a", 1), ("node-x", 1), ("node-y", 1), namespace="ns1")[:1] + on(
        ("node-a", 1), namespace="ns2") + on(("node-x", 1), ("node-y", 1))
    assert reasons(pts(), one_zone, ABXY, existing) == [[], [], [SKEW], [SKEW]]
    # "pods spread across zones as 1/2 due to absence of label 'zone' on node-b"
    typo = [ABXY[0], node("node-b", zon="zone1", node="node-b"), ABXY[2], ABXY[3]]
    existing = on(("node-a", 1), ("node-b", 1), ("node-x", 1), ("node-y", 1))
    assert reasons(pts(), one_zone, typo, existing) == [[], [MISSING], [SKEW], [SKEW]]
    # "pod cannot be scheduled as all nodes don't have label 'rack'"
    rack = tmpl(labels=lab("foo"), topology_spread_constraints=(spread(1, "rack"),))
    assert reasons(pts(), rack, ABXY[:1]) == [[MISSING]]
    # "pods spread across nodes as 2/1/0/3, only node-x fits" / maxSkew 2 / no self-match
    existing = on(("node-a", 2), ("node-b", 1), ("node-y", 3))
    per_node = tmpl(labels=lab("foo"), topology_spread_constraints=(spread(1, "node"),))
    assert reasons(pts(), per_node, ABXY, existing) == [[SKEW], [SKEW], [], [SKEW]]
    skew2 = tmpl(labels=lab("foo"), topology_spread_constraints=(spread(2, "node"),))
    assert reasons(pts(), skew2, ABXY, existing) == [[SKEW], [], [], [SKEW]]
    other = tmpl(labels=lab("bar"), topology_spread_constraints=(spread(1, "node"),))
    assert reasons(pts(), other, ABXY, existing) == [[SKEW], [], [], [SKEW]]


def test_spread_filter_null_selector_counts_nothing() -> None:
    pod = tmpl(labels=lab("foo"), topology_spread_constraints=(spread(1, "zone", selector=None),))
    assert reasons(pts(), pod, ABXY, on(("node-x", 1), ("node-y", 1))) == [[], [], [], []]


def test_spread_filter_node_affinity_policy() -> None:
    # kube: "incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits"
    only_a_y = NodeAffinity(required=(NodeSelectorTerm((NodeSelectorRequirement(
        "node", "In", ("node-a", "node-y")),)),))
    existing = on(("node-a", 2), ("node-b", 1), ("node-y", 3))
    honor = tmpl(labels=lab("foo"), affinity=only_a_y,
                 topology_spread_constraints=(spread(1, "node"),))
    assert reasons(pts(), honor, ABXY, existing) == [[], [], [], [SKEW]]
    ignore = tmpl(labels=lab("foo"), affinity=only_a_y, topology_spread_constraints=(
        spread(1, "node", node_affinity_policy="Ignore"),))
    assert reasons(pts(), ignore, ABXY, existing) == [[SKEW], [SKEW], [], [SKEW]]


def test_spread_filter_node_taints_policy() -> None:
    tainted = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")
    nodes = [node("node-a", node="node-a"), node("node-b", node="node-b"),
             node("node-c", taints=(tainted,), node="node-c")]
    existing = on(("node-a", 2), ("node-b", 1))
    honor = tmpl(labels=lab("foo"), topology_spread_constraints=(
        spread(1, "node", node_taints_policy="Honor"),))
    # domains a:2, b:1 (c is not counted): min 1; c is no domain: 0 + 1 - 1
    assert reasons(pts(), honor, nodes, existing) == [[SKEW], [], []]
    ignore = tmpl(labels=lab("foo"), topology_spread_constraints=(spread(1, "node"),))
    assert reasons(pts(), ignore, nodes, existing) == [[SKEW], [SKEW], []]


@pytest.mark.parametrize(("min_domains", "want"), [
    (4, [[SKEW], [SKEW], []]),  # kube: "... the number of domains < minDomains ..."
    (2, [[], [], []]),  # kube: "... the number of domains > minDomains, then the all nodes fit"
    (3, [[], [], []]),
])
def test_spread_filter_min_domains(min_domains: int, want: list[list[str]]) -> None:
    nodes = [node(n, node=n) for n in ("node-a", "node-b", "node-c")]
    pod = tmpl(labels=lab("foo"), topology_spread_constraints=(
        spread(2, "node", min_domains=min_domains),))
    assert reasons(pts(), pod, nodes, on(("node-a", 2), ("node-b", 2), ("node-c", 1))) == want


def test_spread_filter_two_constraints_and_reason_order() -> None:
    # kube: "pods spread across zone as 3/3, and nodes spread as 2/1/0/3" style: both kept
    pod = tmpl(labels=lab("foo"), topology_spread_constraints=(
        spread(1, "zone"), spread(1, "node")))
    existing = on(("node-a", 2), ("node-b", 1), ("node-y", 3))  # zones 3/3; nodes 2/1/0/3
    assert reasons(pts(), pod, ABXY, existing) == [[SKEW], [SKEW], [], [SKEW]]
    # Go checks constraint by constraint: node-z fails the zone skew (zone2 holds 3, the
    # minimum is 1) before its missing "node" label is looked at
    lacking = [zoned("node-a", "zone1"), zoned("node-b", "zone2"), node("node-z", zone="zone2")]
    assert reasons(pts(), pod, lacking, on(("node-a", 1), ("node-b", 3))) == [
        [], [SKEW], [SKEW]]
    assert reasons(pts(), pod, lacking, on(("node-a", 1), ("node-b", 1))) == [[], [], [MISSING]]


def test_spread_filter_match_label_keys() -> None:
    nodes = [node("node-a", node="node-a"), node("node-b", node="node-b")]
    existing = [("node-a", tmpl(labels={"app": "web", "version": "1"})),
                ("node-a", tmpl(labels={"app": "web", "version": "1"})),
                ("node-b", tmpl(labels={"app": "web", "version": "2"}))]
    keyed = tmpl(labels={"app": "web", "version": "2"}, topology_spread_constraints=(
        spread(1, "node", selector=exists("app"), match_label_keys=("version",)),))
    assert reasons(pts(), keyed, nodes, existing) == [[], [SKEW]]  # counts 0/1
    plain = tmpl(labels={"app": "web", "version": "2"}, topology_spread_constraints=(
        spread(1, "node", selector=exists("app")),))
    assert reasons(pts(), plain, nodes, existing) == [[SKEW], []]  # counts 2/1


def test_spread_filter_default_constraints() -> None:
    nodes = [node("node-a", node="node-a"), node("node-b", node="node-b")]
    existing = on(("node-a", 1), labels={"app": "web"})
    pod = tmpl(labels={"app": "web"})
    service = ApiObjects(services=(Service("web", selector={"app": "web"}),))
    listed = pts(defaulting_type="List", default_constraints=(
        TopologySpreadConstraint(1, "node", "DoNotSchedule", labels(ignored="selector")),))
    # a Service selects the pod: its selector replaces the default constraint's
    assert reasons(listed, pod, nodes, existing, service) == [[SKEW], []]
    # nothing selects the pod: no constraints
    assert reasons(listed, pod, nodes, existing) == [[], []]
    # the system defaults are ScheduleAnyway only; explicit constraints replace defaults
    assert reasons(pts(), pod, nodes, existing, service) == [[], []]
    own = tmpl(labels={"app": "web"}, topology_spread_constraints=(
        spread(1, "node", "ScheduleAnyway"),))
    assert reasons(listed, own, nodes, existing, service) == [[], []]


# ================================================================ PodTopologySpread: score
def hosts(*names: str, **labels: str) -> list[Node]:
    return [host(n, **labels) for n in names]


def hostname_pod(max_skew: int = 1, selector: LabelSelector | None = FOO) -> PodTemplate:
    return tmpl(labels=lab("foo"), topology_spread_constraints=(
        spread(max_skew, HOSTNAME_KEY, "ScheduleAnyway", selector),))


def test_spread_score_one_constraint_on_hostname() -> None:
    abcd = hosts("node-a", "node-b", "node-c", "node-d")
    assert normalized(pts(), hostname_pod(), abcd[:2]) == [100, 100]
    existing = on(("node-a", 2), ("node-b", 1), ("node-d", 3))
    assert normalized(pts(), hostname_pod(), abcd, existing) == [20, 60, 100, 0]
    assert normalized(pts(), hostname_pod(selector=None), abcd, existing) == [100] * 4
    assert normalized(pts(), hostname_pod(2), abcd, existing) == [33, 66, 100, 16]
    existing = on(("node-a", 4), ("node-b", 3), ("node-c", 2), ("node-d", 1))
    assert normalized(pts(), hostname_pod(3), abcd, existing) == [44, 66, 77, 100]
    # "only one node is candidate"
    assert normalized(pts(), hostname_pod(), abcd[:1], on(("node-a", 2), ("node-b", 1)),
                      failed=abcd[1:2]) == [100]


def test_spread_score_candidates_and_ignored_nodes() -> None:
    existing = on(("node-a", 4), ("node-b", 2), ("node-x", 1), ("node-y", 3))
    # "one constraint on node, 3 out of 4 nodes are candidates"
    assert normalized(pts(), hostname_pod(), hosts("node-a", "node-b", "node-x"), existing,
                      failed=hosts("node-y")) == [33, 83, 100]
    # "... one node doesn't match topology key": node-b is ignored (0); weight ln(2 + 2)
    nodes = [host("node-a"), node("node-b", n="node-b"), host("node-x")]
    assert scores(pts(), hostname_pod(), nodes, existing, failed=hosts("node-y")) == (
        [6, 0, 1], [16, 0, 100])
    # "one constraint on zone, 3 out of 4 nodes are candidates"
    zone = tmpl(labels=lab("foo"), topology_spread_constraints=(
        spread(1, "zone", "ScheduleAnyway"),))
    nodes = [host("node-a", zone="zone1"), host("node-b", zone="zone1"),
             host("node-x", zone="zone2")]
    assert normalized(pts(), zone, nodes, existing,
                      failed=[host("node-y", zone="zone2")]) == [75, 75, 100]


def test_spread_score_two_constraints() -> None:
    both = tmpl(labels=lab("foo", "bar"), topology_spread_constraints=(
        spread(1, "zone", "ScheduleAnyway"), spread(1, HOSTNAME_KEY, "ScheduleAnyway")))
    existing = on(("node-a", 2), ("node-b", 1), ("node-x", 2), ("node-y", 4))
    a, b, x, y = (host(n, zone=z) for n, z in (("node-a", "zone1"), ("node-b", "zone1"),
                                               ("node-x", "zone2"), ("node-y", "zone2")))
    # "two Constraints on zone and node, 2 out of 4 nodes are candidates"
    assert normalized(pts(), both, [a, x], existing, failed=[b, y]) == [100, 63]
    # "two Constraints on zone and node, with different labelSelectors"
    mixed = tmpl(labels=lab("foo", "bar"), topology_spread_constraints=(
        spread(1, "zone", "ScheduleAnyway", FOO),
        spread(1, HOSTNAME_KEY, "ScheduleAnyway", BAR)))
    existing = [("node-a", tmpl(labels=lab("foo"))), ("node-b", tmpl(labels=lab("foo", "bar"))),
                ("node-y", tmpl(labels=lab("foo"))), ("node-y", tmpl(labels=lab("bar")))]
    assert normalized(pts(), mixed, [a, b, x, y], existing) == [60, 20, 100, 60]
    # "... 3 out of 4 nodes are candidates"
    assert normalized(pts(), mixed, [a, b, x], existing, failed=[y]) == [50, 25, 100]
    # "... some nodes have 0 pods"
    existing = [("node-b", tmpl(labels=lab("bar"))), ("node-x", tmpl(labels=lab("foo"))),
                ("node-y", tmpl(labels=lab("foo", "bar")))]
    assert normalized(pts(), mixed, [a, b, x, y], existing) == [100, 60, 40, 0]


def test_spread_score_counts_per_constraint() -> None:
    # kube: "two Constraints on zone, 2 out of 4 nodes are candidates" (the case v1.28-v1.32
    # got wrong with counts shared by key, kubernetes#129067; per constraint as v1.33)
    pod = tmpl(labels=lab("foo", "bar"), topology_spread_constraints=(
        spread(1, "zone", "ScheduleAnyway", FOO), spread(1, "zone", "ScheduleAnyway", BAR)))
    existing = [("node-a", tmpl(labels=lab("foo", "bar"))), ("node-a", tmpl(labels=lab("foo"))),
                ("node-b", tmpl(labels=lab("foo", "bar"))), ("node-y", tmpl(labels=lab("foo"))),
                ("node-y", tmpl(labels=lab("foo", "bar"))), ("node-y", tmpl(labels=lab("foo")))]
    nodes = [node("node-a", zone="zone1"), node("node-x", zone="zone2")]
    failed = [node("node-b", zone="zone1"), node("node-y", zone="zone2")]
    # foo: zone1 3, zone2 3; bar: zone1 2, zone2 1; weight ln(4): a 6.93 -> 7, x 5.55 -> 6
    assert scores(pts(), pod, nodes, existing, failed=failed) == ([7, 6], [85, 100])


def test_spread_score_namespaces_policies_and_match_label_keys() -> None:
    # "existing pods in a different namespace do not count"
    existing = on(("node-a", 1), namespace="ns1") + on(("node-a", 1), ("node-b", 2))
    assert normalized(pts(), hostname_pod(), hosts("node-a", "node-b"), existing) == [100, 33]
    # NodeAffinityPolicy / NodeTaintsPolicy, honoured and ignored
    abc = [node(n, node=n, **({"foo": ""} if n != "node-c" else {}))
           for n in ("node-a", "node-b", "node-c")]
    existing = on(("node-a", 2), ("node-b", 1), ("node-c", 1))
    for policy, want in (("Honor", [0, 33, 100]), ("Ignore", [66, 100, 100])):
        pod = tmpl(labels=lab("foo"), node_selector={"foo": ""}, topology_spread_constraints=(
            spread(1, "node", "ScheduleAnyway", node_affinity_policy=policy),))
        assert normalized(pts(), pod, abc, existing) == want
    tainted = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")
    abc = [node("node-a", node="node-a"), node("node-b", node="node-b"),
           node("node-c", taints=(tainted,), node="node-c")]
    for policy, want in (("Honor", [0, 33, 100]), ("Ignore", [66, 100, 100])):
        pod = tmpl(labels=lab("foo"), topology_spread_constraints=(
            spread(1, "node", "ScheduleAnyway", node_taints_policy=policy),))
        assert normalized(pts(), pod, abc, existing) == want
    # "matchLabelKeys ANDed with LabelSelector when LabelSelector is empty"
    pod = tmpl(labels=lab("foo", "bar"), topology_spread_constraints=(
        spread(1, "zone", "ScheduleAnyway", LabelSelector(), match_label_keys=("foo",)),
        spread(1, HOSTNAME_KEY, "ScheduleAnyway", LabelSelector(), match_label_keys=("bar",))))
    nodes = [host("node-a", zone="zone1"), host("node-b", zone="zone1"),
             host("node-c", zone="zone2"), host("node-d", zone="zone2")]
    existing = [("node-a", tmpl(labels=lab("foo"))), ("node-b", tmpl(labels=lab("foo", "bar"))),
                ("node-c", tmpl(labels=lab("foo"))), ("node-c", tmpl(labels=lab("bar")))]
    assert normalized(pts(), pod, nodes, existing) == [60, 20, 60, 100]


def test_spread_score_min_domains_has_no_effect() -> None:
    # kube: "minDomains has no effect when ScheduleAnyway"
    pod = tmpl(labels=lab("foo"), topology_spread_constraints=(
        spread(2, "node", "ScheduleAnyway", min_domains=10),))
    nodes = [node(n, node=n) for n in ("node-a", "node-b", "node-c")]
    existing = on(("node-a", 2), ("node-b", 2), ("node-c", 1))
    assert normalized(pts(), pod, nodes, existing) == [75, 75, 100]


def test_spread_score_system_defaults() -> None:
    # kube: "system defaulting, nodes don't have zone, pods match service": the zone
    # constraint sees one domain "" (requireAll is false) and adds the same to every node
    abcd = hosts("node-a", "node-b", "node-c", "node-d")
    existing = on(("node-a", 4), ("node-b", 3), ("node-c", 2), ("node-d", 1))
    service = ApiObjects(services=(Service("s", selector={"foo": ""}),))
    assert normalized(pts(), tmpl(labels=lab("foo")), abcd, existing,
                      objects=service) == [44, 66, 77, 100]
    # a Service in another namespace, or without a selector, selects nothing: Skip
    elsewhere = ApiObjects(services=(Service("s", "other", {"foo": ""}), Service("t")))
    assert scores(pts(), tmpl(labels=lab("foo")), abcd, existing, objects=elsewhere) is None
    # a ReplicaSet owning the pod gives the selector too
    owned = ApiObjects(controllers={("ReplicaSet", "default", "rs"): labels(foo="")})
    assert normalized(pts(), tmpl(labels=lab("foo")), abcd, existing, objects=owned,
                      owner=OwnerRef("ReplicaSet", "rs")) == [44, 66, 77, 100]
    # nodes without a zone are not ignored with system defaults, but are with List defaults
    mixed = [host("node-a", **{"topology.kubernetes.io/zone": "z1"}), host("node-b")]
    existing = on(("node-a", 4), ("node-b", 3))
    # weights ln(2 + 2) (zone: domains "z1" and ""); node-a: 4 ln4 + 2 (hostname)
    # + 4 ln4 + 4 (zone) = 17.09; node-b has no zone: 3 ln4 + 2 = 6.16
    assert scores(pts(), tmpl(labels=lab("foo")), mixed, existing, objects=service) == (
        [17, 6], [35, 100])
    listed = pts(defaulting_type="List", default_constraints=pod_topology_spread
                 .SYSTEM_DEFAULT_CONSTRAINTS)
    # List defaults: node-b (no zone) is ignored and counts nowhere; weights ln(1 + 2)
    assert scores(listed, tmpl(labels=lab("foo")), mixed, existing, objects=service) == (
        [15, 0], [100, 0])


def test_spread_score_skips_without_schedule_anyway_constraints() -> None:
    hard_only = tmpl(labels=lab("foo"), topology_spread_constraints=(spread(1, "node"),))
    nodes = [node("a", node="a"), node("b", node="b")]
    assert scores(pts(), hard_only, nodes) is None
    assert scores(pts(**LIST), tmpl(labels=lab("foo")), nodes) is None


# ================================================================ the cycle API and scheduler
def test_per_node_plugins_through_the_cycle_api() -> None:
    from schedlab.plugins import NodeAffinity as NodeAffinityPlugin
    from schedlab.plugins import TaintToleration

    nodes = [node("a", disk="ssd"), node("b", taints=(Taint("k", "", "PreferNoSchedule"),))]
    infos = cluster(nodes, [])
    pod = Pod("p", tmpl(node_selector={"disk": "ssd"}))
    plugin = NodeAffinityPlugin()
    assert reference.filter_all(plugin, pod, infos) == [
        reference.filter_node(plugin, pod, info) for info in infos]
    assert reference.score_candidates(TaintToleration(), pod, infos, [0, 1]) == ([0, 1], [100, 0])
    assert reference.has_reference(ipa()) and reference.has_reference(pts())
    assert not reference.is_per_node(ipa()) and reference.is_per_node(plugin)
    with pytest.raises(KeyError):
        reference.filter_node(ipa(), pod, infos[0])


def test_node_info_keeps_its_pods() -> None:
    info = NodeInfo(node("a"))
    plain = Pod("plain", tmpl())
    anti = Pod("anti", tmpl(pod_anti_affinity=affinity(term("zone", labels(app="x")))))
    preferring = Pod("pref", tmpl(pod_affinity=STAY_S1_REGION))
    for p in (plain, anti, preferring):
        info.add(p)
    assert (info.pod_count, info.pods_with_affinity, info.pods_with_required_anti_affinity) == (
        3, [anti, preferring], [anti])
    info.add(anti, -1)
    assert (info.pods, info.pods_with_affinity, info.pods_with_required_anti_affinity) == (
        [plain, preferring], [preferring], [])


def test_reference_scheduler_spreads_and_keeps_anti_affinity() -> None:
    nodes = tuple(host(f"n{i}", zone=f"z{i % 2}") for i in range(4))
    spread_pod = tmpl(labels={"app": "web"}, topology_spread_constraints=(
        spread(1, "zone", selector=labels(app="web")),))
    lonely = tmpl(labels={"app": "db"}, pod_anti_affinity=affinity(
        term(HOSTNAME_KEY, labels(app="db"))))
    pods = (*(Pod(f"web-{i}", spread_pod) for i in range(4)),
            *(Pod(f"db-{i}", lonely) for i in range(5)))
    profile = Profile(filters=(pts(**LIST), ipa()), scores=((pts(**LIST), 1), (ipa(), 1)))
    workload = Workload(nodes, pods)
    chosen = reference_bindings(workload, profile, "round-robin")
    zones = [nodes[int(n[1:])].labels["zone"] for n in chosen[:4]]
    assert sorted(zones) == ["z0", "z0", "z1", "z1"]
    assert sorted(chosen[4:8]) == ["n0", "n1", "n2", "n3"] and chosen[8] is None
    greedy = reference_bindings(workload, profile, "greedy", seed=3)
    assert len(set(greedy[4:8])) == 4 and greedy[8] is None
    scheduler = ReferenceScheduler(workload, profile)
    assert scheduler.objects is workload.objects


def test_reference_scheduler_reads_the_workload_objects() -> None:
    nodes = tuple(host(f"n{i}") for i in range(3))
    web = tmpl(labels={"app": "web"})
    bound = [Pod(f"bound-{n}", replace(web, node_name=n)) for n in ("n0", "n1")]
    pods = (*bound, Pod("p", web))
    listed = pts(defaulting_type="List", default_constraints=(
        TopologySpreadConstraint(1, HOSTNAME_KEY, "DoNotSchedule"),))
    profile = Profile(filters=(listed,))
    with_service = Workload(nodes, pods, ApiObjects(services=(Service("web", selector={
        "app": "web"}),)))
    # with the Service the default constraint applies: only n2 (0 pods) keeps the skew at 1
    assert reference_bindings(with_service, profile, "round-robin") == ["n2"]
    # without it the pod has no constraints: the first node
    assert reference_bindings(Workload(nodes, pods), profile, "round-robin") == ["n0"]


def test_spread_filter_skips_pods_without_hard_constraints() -> None:
    """kube's PreFilter returns Skip without DoNotSchedule constraints: every node passes,
    whatever is bound; a hard constraint is filtered."""
    nodes = [zoned("n0", "z0"), zoned("n1", "z1")]
    existing = [("n0", tmpl(labels=lab("foo")))] * 2
    state = state_of(nodes, existing, ApiObjects())
    soft = Pod("p", tmpl(labels=lab("foo"), topology_spread_constraints=(
        spread(1, "zone", "ScheduleAnyway"),)))
    hard = Pod("q", tmpl(labels=lab("foo"), topology_spread_constraints=(spread(1, "zone"),)))
    plugin = pts()
    assert plugin.skips_filter(state, soft)
    assert plugin.filter(state, soft, ALL).tolist() == [True, True]
    assert not plugin.skips_filter(state, hard)
    assert plugin.filter(state, hard, ALL).tolist() == [False, True]
