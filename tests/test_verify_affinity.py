"""schedlab.verify: the inter-pod constraints (pod-affinity, pod-anti-affinity,
topology-spread), which depend on the order of binds; and agreement with the scalar
reference's InterPodAffinity and PodTopologySpread filters on random small clusters."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from schedlab import reference
from schedlab.objects import (
    HOSTNAME_KEY,
    ApiObjects,
    LabelSelector,
    LabelSelectorRequirement,
    Node,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodTemplate,
    Taint,
    TopologySpreadConstraint,
    Workload,
)
from schedlab.plugins import inter_pod_affinity, pod_topology_spread
from schedlab.verify import CONSTRAINTS, Violation, check_placement

INTER_POD = ("pod-affinity", "pod-anti-affinity", "topology-spread")


def concrete(cls: type) -> type:
    """``cls``, or a subclass with stub extension points while its vectorised ``filter`` /
    ``score`` are not written yet (only the reference is called here)."""
    missing = getattr(cls, "__abstractmethods__", frozenset())
    if not missing:
        return cls
    return type(cls.__name__, (cls,), {name: lambda self, *args: None for name in missing})


def node(name: str, zone: str | None = None, taints: tuple[Taint, ...] = (),
         **labels: str) -> Node:
    zone_label = {} if zone is None else {"zone": zone}
    return Node(name, labels={HOSTNAME_KEY: name, **zone_label, **labels}, taints=taints)


def app(name: str) -> LabelSelector:
    return LabelSelector(match_labels={"app": name})


def pod(name: str, labels: dict[str, str] | None = None, namespace: str = "default",
        **kwargs: Any) -> Pod:
    return Pod(name, PodTemplate(namespace=namespace, labels=labels or {}, **kwargs))


def required(*terms: PodAffinityTerm) -> PodAffinity:
    return PodAffinity(required=terms)


def found(workload: Workload, bindings: dict[str, str | None]) -> list[tuple[str, str, str]]:
    """(constraint, pod, node) of each inter-pod violation."""
    return [(v.constraint, v.pod or "", v.node) for v in check_placement(workload, bindings)
            if v.constraint in INTER_POD]


ZONES = (node("a1", "a"), node("a2", "a"), node("b1", "b"), node("bare"))


def test_constraints_are_listed() -> None:
    assert set(INTER_POD) <= set(CONSTRAINTS)


# ---------------------------------------------------------------- pod affinity
def test_pod_affinity() -> None:
    near_db = dict(labels={"app": "web"}, pod_affinity=required(PodAffinityTerm("zone", app("db"))))
    workload = Workload(ZONES, (pod("db", {"app": "db"}), pod("w1", **near_db),
                                pod("w2", **near_db), pod("w3", **near_db)))
    ok = {"default/db": "a1", "default/w1": "a2", "default/w2": "a1"}
    assert found(workload, ok) == []
    assert found(workload, {**ok, "default/w3": "b1"}) == [("pod-affinity", "default/w3", "b1")]
    (violation,) = [v for v in check_placement(workload, {**ok, "default/w3": "bare"})
                    if v.constraint == "pod-affinity"]
    assert violation == Violation("default/w3", "bare", "pod-affinity",
                                  "node has no label zone (topologyKey of a required pod "
                                  "affinity term)")
    # bound before the db pod: no matching pod anywhere, and a web pod is no db pod
    assert found(workload, {"default/w1": "a2", "default/db": "a1"}) == [
        ("pod-affinity", "default/w1", "a2")]


def test_pod_affinity_first_pod_rule() -> None:
    together = dict(labels={"app": "web"},
                    pod_affinity=required(PodAffinityTerm("zone", app("web"))))
    workload = Workload(ZONES, tuple(pod(f"w{i}", **together) for i in range(3)))
    assert found(workload, {"default/w0": "b1", "default/w1": "b1", "default/w2": "a1"}) == [
        ("pod-affinity", "default/w2", "a1")]
    # the first web pod on a node without the key counts nowhere: the next is a first pod too
    assert found(workload, {"default/w0": "bare", "default/w1": "a1", "default/w2": "a2"}) == [
        ("pod-affinity", "default/w0", "bare")]


def test_kubelet_bound_pods_come_first() -> None:
    near_db = dict(labels={"app": "web"}, pod_affinity=required(PodAffinityTerm("zone", app("db"))))
    # the db pod comes after the web pod in the workload, but the kubelet bound it
    workload = Workload(ZONES, (pod("w", **near_db), pod("db", {"app": "db"}, node_name="b1")))
    assert found(workload, {"default/w": "b1"}) == []
    assert found(workload, {"default/w": "a1"}) == [("pod-affinity", "default/w", "a1")]


# ---------------------------------------------------------------- anti-affinity
def test_pod_anti_affinity_both_ways() -> None:
    alone = dict(labels={"app": "db"},
                 pod_anti_affinity=required(PodAffinityTerm(HOSTNAME_KEY, app("web"))))
    workload = Workload(ZONES, (pod("db", **alone), pod("web", {"app": "web"})))
    # the db pod first: the web pod breaks the db pod's term; the web pod first: the db pod
    # breaks its own
    assert found(workload, {"default/db": "a1", "default/web": "a1"}) == [
        ("pod-anti-affinity", "default/web", "a1")]
    assert found(workload, {"default/web": "a1", "default/db": "a1"}) == [
        ("pod-anti-affinity", "default/db", "a1")]
    assert found(workload, {"default/web": "a1", "default/db": "a2"}) == []
    details = {v.detail for v in check_placement(workload, {"default/db": "a1",
                                                            "default/web": "a1"})}
    assert ("pod default/db in kubernetes.io/hostname=a1 has a required anti-affinity term "
            "matching the pod") in details


def test_existing_anti_affinity_namespaces() -> None:
    objects = ApiObjects(namespaces={"default": {"team": "a"}})
    web = pod("web", {"app": "web"})

    def violations(anti: PodAffinityTerm) -> list[tuple[str, str, str]]:
        guard = pod("guard", namespace="other", pod_anti_affinity=required(anti))
        workload = Workload(ZONES, (guard, web), objects)
        return found(workload, {"other/guard": "a1", "default/web": "a2"})

    assert violations(PodAffinityTerm("zone", app("web"))) == []  # the guard's namespace
    hit = [("pod-anti-affinity", "default/web", "a2")]
    assert violations(PodAffinityTerm("zone", app("web"), namespaces=("default",))) == hit
    selector = LabelSelector(match_labels={"team": "a"})
    assert violations(PodAffinityTerm("zone", app("web"), namespace_selector=selector)) == hit
    assert violations(PodAffinityTerm("zone", app("web"),
                                      namespace_selector=LabelSelector())) == hit


def test_anti_affinity_of_a_pod_matching_itself() -> None:
    # one per zone: the pod never counts against itself
    one_per_zone = dict(labels={"app": "db"},
                        pod_anti_affinity=required(PodAffinityTerm("zone", app("db"))))
    workload = Workload(ZONES, tuple(pod(f"d{i}", **one_per_zone) for i in range(4)))
    assert found(workload, {"default/d0": "a1", "default/d1": "b1", "default/d2": "bare",
                            "default/d3": "bare"}) == []
    assert sorted(found(workload, {"default/d0": "a1", "default/d1": "a2"})) == [
        ("pod-anti-affinity", "default/d1", "a2"), ("pod-anti-affinity", "default/d1", "a2")]


# ---------------------------------------------------------------- topology spread
def spread(max_skew: int = 1, key: str = "zone", **kwargs: Any) -> TopologySpreadConstraint:
    return TopologySpreadConstraint(max_skew, key, "DoNotSchedule", app("web"), **kwargs)


def webs(n: int, *constraints: TopologySpreadConstraint, **kwargs: Any) -> tuple[Pod, ...]:
    return tuple(pod(f"w{i}", {"app": "web"}, topology_spread_constraints=constraints, **kwargs)
                 for i in range(n))


def test_topology_spread_depends_on_the_order() -> None:
    nodes = (node("a1", "a"), node("b1", "b"))
    workload = Workload(nodes, webs(3, spread()))
    # the same final placement, two orders
    assert found(workload, {"default/w0": "a1", "default/w1": "b1", "default/w2": "a1"}) == []
    assert found(workload, {"default/w0": "a1", "default/w1": "a1", "default/w2": "b1"}) == [
        ("topology-spread", "default/w1", "a1")]
    (violation,) = check_placement(workload, {"default/w0": "a1", "default/w1": "a1"})
    assert violation.detail == "zone=a holds 1 matching pod(s); 1 + 1 - global minimum 0 = " \
                               "skew 2 > maxSkew 1"


def test_topology_spread_missing_label_namespace_and_other_constraints() -> None:
    nodes = (node("a1", "a"), node("b1", "b"), node("bare"))
    workload = Workload(nodes, (*webs(2, spread()), pod("x", {"app": "web"}, namespace="o"),
                                pod("soft", {"app": "web"}, topology_spread_constraints=(
                                    replace(spread(), when_unsatisfiable="ScheduleAnyway"),))))
    assert found(workload, {"default/w0": "bare"}) == [("topology-spread", "default/w0", "bare")]
    # pods of another namespace do not count; ScheduleAnyway constraints are not checked, but
    # their pods count for others
    assert found(workload, {"o/x": "a1", "default/soft": "b1", "default/w0": "a1"}) == []
    assert found(workload, {"default/soft": "a1", "default/w0": "a1"}) == [
        ("topology-spread", "default/w0", "a1")]
    assert found(workload, {"o/x": "a1", "default/w0": "a1", "default/w1": "a1"}) == [
        ("topology-spread", "default/w1", "a1")]


def test_topology_spread_min_domains_and_node_policies() -> None:
    nodes = (node("a1", "a"), node("b1", "b"))
    order = {"default/w0": "a1", "default/w1": "b1", "default/w2": "a1"}
    assert found(Workload(nodes, webs(3, spread(max_skew=1))), order) == []
    # two domains < minDomains 3: the global minimum is 0, not 1
    assert found(Workload(nodes, webs(3, spread(max_skew=1, min_domains=3))), order) == [
        ("topology-spread", "default/w2", "a1")]
    tainted = (node("a1", "a"), node("b1", "b", taints=(Taint("gpu", "", "NoSchedule"),)))
    honor = Workload(tainted, webs(2, spread(node_taints_policy="Honor")))
    ignore = Workload(tainted, webs(2, spread()))
    # Honor: zone b (tainted, not tolerated) is no domain, the minimum is zone a's count
    assert found(honor, {"default/w0": "a1", "default/w1": "a1"}) == []
    assert found(ignore, {"default/w0": "a1", "default/w1": "a1"}) == [
        ("topology-spread", "default/w1", "a1")]
    only_a = NodeAffinity(required=(NodeSelectorTerm((NodeSelectorRequirement(
        "zone", "In", ("a",)),)),))
    honor = Workload(nodes, webs(2, spread(), affinity=only_a))
    ignore = Workload(nodes, webs(2, spread(node_affinity_policy="Ignore"), affinity=only_a))
    assert found(honor, {"default/w0": "a1", "default/w1": "a1"}) == []
    assert found(ignore, {"default/w0": "a1", "default/w1": "a1"}) == [
        ("topology-spread", "default/w1", "a1")]


def test_topology_spread_match_label_keys() -> None:
    nodes = (node("a1", "a"), node("b1", "b"))
    keyed = TopologySpreadConstraint(1, "zone", "DoNotSchedule", LabelSelector(
        match_expressions=(LabelSelectorRequirement("app", "Exists"),)),
        match_label_keys=("version",))
    pods = tuple(pod(f"v{v}-{i}", {"app": "web", "version": str(v)},
                     topology_spread_constraints=(keyed,)) for v in (1, 2) for i in range(2))
    workload = Workload(nodes, pods)
    # each version spreads on its own: both versions' first pods in zone a are fine
    assert found(workload, {"default/v1-0": "a1", "default/v2-0": "a1", "default/v1-1": "b1",
                            "default/v2-1": "b1"}) == []
    assert found(workload, {"default/v1-0": "a1", "default/v2-0": "b1", "default/v1-1": "a1"}) == [
        ("topology-spread", "default/v1-1", "a1")]


def test_default_constraints_are_not_checked() -> None:
    workload = Workload((node("a1", "a"), node("b1", "b")), webs(3))
    assert found(workload, {"default/w0": "a1", "default/w1": "a1", "default/w2": "a1"}) == []


def test_efficient_on_a_larger_placement() -> None:
    nodes = tuple(node(f"n{i}", f"z{i % 4}") for i in range(40))
    anti = required(PodAffinityTerm(HOSTNAME_KEY, app("db")))
    near = required(PodAffinityTerm("zone", app("db")))
    pods = (*(pod(f"db{i}", {"app": "db"}, pod_anti_affinity=anti) for i in range(30)),
            *(pod(f"w{i}", {"app": "web"}, pod_affinity=near, topology_spread_constraints=(
                spread(5),)) for i in range(300)))
    bindings = {f"default/db{i}": f"n{i}" for i in range(30)}
    bindings |= {f"default/w{i}": f"n{i % 40}" for i in range(300)}
    assert found(Workload(nodes, pods), bindings) == []


# ---------------------------------------------------------------- agreement with the reference
def _random_term(rng: random.Random, keys: list[str]) -> PodAffinityTerm:
    namespaces = rng.choice([(), (), ("default",), ("other",), ("default", "other")])
    selector = rng.choice([None, LabelSelector(), None]) if rng.random() < 0.3 else (
        LabelSelector(match_labels={"app": rng.choice("xyz")}))
    namespace_selector = rng.choice([None, None, LabelSelector(match_labels={"team": "a"})])
    return PodAffinityTerm(rng.choice(keys), selector, namespaces, namespace_selector)


def _random_template(rng: random.Random) -> PodTemplate:
    keys = ["zone", HOSTNAME_KEY, "rack"]
    kwargs: dict[str, Any] = {}
    if rng.random() < 0.3:
        kwargs["pod_affinity"] = PodAffinity(required=tuple(
            _random_term(rng, keys) for _ in range(rng.randint(1, 2))))
    if rng.random() < 0.3:
        kwargs["pod_anti_affinity"] = PodAffinity(required=(_random_term(rng, keys),))
    if rng.random() < 0.4:
        kwargs["topology_spread_constraints"] = tuple(
            TopologySpreadConstraint(
                rng.randint(1, 2), key, rng.choice(["DoNotSchedule", "ScheduleAnyway"]),
                LabelSelector(match_labels={"app": rng.choice("xyz")}),
                min_domains=rng.choice([1, 1, 3]),
                match_label_keys=rng.choice([(), ("tier",)]),
                node_affinity_policy=rng.choice(["Honor", "Ignore"]),
                node_taints_policy=rng.choice(["Honor", "Ignore"]))
            for key in rng.sample(keys, rng.randint(1, 2)))
    if rng.random() < 0.2:
        kwargs["node_selector"] = {"disk": "ssd"}
    labels = {"app": rng.choice("xyz")} | ({"tier": rng.choice("12")} if rng.random() < 0.5
                                           else {})
    return PodTemplate(namespace=rng.choice(["default", "default", "other"]), labels=labels,
                       **kwargs)


@pytest.mark.parametrize("seed", range(12))
def test_verify_agrees_with_the_reference_filters(seed: int) -> None:
    """For each pod in turn and each node, verify finds an inter-pod violation of a kind
    exactly when the reference filter of the matching plugin rejects the node."""
    rng = random.Random(seed)
    nodes = tuple(
        Node(f"n{i}", labels={HOSTNAME_KEY: f"n{i}",
                              **({"zone": f"z{i % 3}"} if rng.random() < 0.85 else {}),
                              **({"rack": f"r{i % 2}"} if rng.random() < 0.5 else {}),
                              **({"disk": "ssd"} if rng.random() < 0.5 else {})},
             taints=(Taint("t", "", "NoSchedule"),) if rng.random() < 0.2 else ())
        for i in range(7))
    templates = [_random_template(rng) for _ in range(5)]
    pods = tuple(Pod(f"p{i}", rng.choice(templates)) for i in range(14))
    objects = ApiObjects(namespaces={"default": {"team": "a"}, "other": {"team": "b"}})
    workload = Workload(nodes, pods, objects)
    ipa = concrete(inter_pod_affinity.InterPodAffinity)()
    pts = concrete(pod_topology_spread.PodTopologySpread)(defaulting_type="List")
    infos = [reference.NodeInfo(n) for n in nodes]
    bindings: dict[str, str | None] = {}
    for p in pods:
        expected_ipa = reference.filter_all(ipa, p, infos, objects)
        expected_pts = reference.filter_all(pts, p, infos, objects)
        for i, n in enumerate(nodes):
            kinds = {v.constraint for v in check_placement(workload, {**bindings, p.key: n.name})
                     if v.pod == p.key}
            assert bool(expected_ipa[i]) == bool(kinds & {"pod-affinity", "pod-anti-affinity"})
            assert bool(expected_pts[i]) == ("topology-spread" in kinds)
            if expected_ipa[i] == [inter_pod_affinity.REASON_AFFINITY]:
                assert "pod-affinity" in kinds
        i = rng.randrange(len(nodes))
        bindings[p.key] = nodes[i].name
        infos[i].add(p)
