"""The strategies for pod labels, namespaces, owners, pod (anti-)affinity, topology spread
constraints, API objects and the InterPodAffinity / PodTopologySpread profiles: they build
objects Kubernetes would accept, and they reach the interesting cases often enough."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from schedlab.framework.profile import Profile
from schedlab.matching import affinity_term_matches, default_spread_selector, label_selector_matches
from schedlab.objects import (
    LABEL_SELECTOR_OPERATORS,
    ApiObjects,
    LabelSelector,
    PodAffinityTerm,
    TopologySpreadConstraint,
    Workload,
)
from schedlab.plugins import (
    InterPodAffinity,
    NodeResourcesFit,
    PodTopologySpread,
)
from schedlab.testing.strategies import (
    ABSENT_TOPOLOGY_KEY,
    CONTROLLER_NAMES,
    DISK,
    HOSTNAME,
    NAMESPACE_LABEL_VALUES,
    NAMESPACES,
    OWNER_KINDS,
    POD_LABEL_VALUES,
    ZONE,
    api_objects,
    label_selectors,
    owner_refs,
    pod_affinities,
    pod_affinity_terms,
    pod_templates,
    pods,
    profiles,
    topology_spread_constraints,
    workloads,
)
from schedlab.traces import dump_manifests, load_manifests
from schedlab.verify import check_placement

T = TypeVar("T")
ROUND_TRIP = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def sample(strategy: st.SearchStrategy[T], n: int = 200) -> list[T]:
    """``n`` examples of ``strategy`` as hypothesis generates them for a test (no shrinking;
    hypothesis never repeats a choice sequence, so fewer when it runs out); derandomised, so
    the coverage counts below are of one fixed sample, not a flaky draw."""
    found: list[T] = []

    @settings(max_examples=n, database=None, phases=[Phase.generate], deadline=None,
              derandomize=True, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(example: T) -> None:
        found.append(example)

    collect()
    return found


def count(examples: Iterable[T], predicate: Callable[[T], Any]) -> int:
    return sum(1 for e in examples if predicate(e))


def pod_label_sets() -> list[dict[str, str]]:
    """Every labelling of a pod over the vocabulary (each key absent or any of its values)."""
    choices = [[None, *values] for values in POD_LABEL_VALUES.values()]
    return [{k: v for k, v in zip(POD_LABEL_VALUES, combo, strict=True) if v is not None}
            for combo in itertools.product(*choices)]


def selector_is_valid(selector: LabelSelector, vocabulary: dict[str, tuple[str, ...]]) -> bool:
    """A selector the API server accepts, over ``vocabulary``'s keys."""
    if not set(selector.match_labels) <= set(vocabulary):
        return False
    for r in selector.match_expressions:
        if r.key not in vocabulary or r.operator not in LABEL_SELECTOR_OPERATORS:
            return False
        needs_values = r.operator in ("In", "NotIn")
        if bool(r.values) != needs_values or len(set(r.values)) != len(r.values):
            return False
    return True


def constraints_are_valid(constraints: tuple[TopologySpreadConstraint, ...],
                          defaults: bool = False) -> None:
    pairs = [(c.topology_key, c.when_unsatisfiable) for c in constraints]
    assert len(set(pairs)) == len(pairs)
    for c in constraints:
        assert 1 <= c.max_skew <= 3
        assert c.topology_key in (HOSTNAME, ZONE, DISK)
        assert c.when_unsatisfiable in ("DoNotSchedule", "ScheduleAnyway")
        assert c.min_domains == 1 or (c.min_domains > 1 and c.when_unsatisfiable == "DoNotSchedule")
        assert c.node_affinity_policy in ("Honor", "Ignore")
        assert c.node_taints_policy in ("Honor", "Ignore")
        assert c.label_selector is None or not defaults
        if c.label_selector is None:
            assert not c.match_label_keys  # the API server requires a selector with them
        else:
            assert selector_is_valid(c.label_selector, dict(POD_LABEL_VALUES))
            named = {*c.label_selector.match_labels,
                     *(r.key for r in c.label_selector.match_expressions)}
            assert not named & set(c.match_label_keys)
            assert set(c.match_label_keys) <= set(POD_LABEL_VALUES)


# ---------------------------------------------------------------------------- validity
@given(selector=label_selectors())
def test_pod_label_selectors_are_valid(selector: LabelSelector) -> None:
    assert selector_is_valid(selector, dict(POD_LABEL_VALUES))


@given(selector=label_selectors(NAMESPACE_LABEL_VALUES))
def test_namespace_selectors_are_valid(selector: LabelSelector) -> None:
    assert selector_is_valid(selector, dict(NAMESPACE_LABEL_VALUES))


@given(affinity=pod_affinities())
def test_pod_affinities_are_valid(affinity: Any) -> None:
    assert len(affinity.required) <= 2 and len(affinity.preferred) <= 2
    terms = [*affinity.required, *(w.term for w in affinity.preferred)]
    assert all(1 <= w.weight <= 100 for w in affinity.preferred)
    for term in terms:
        assert term.topology_key in (HOSTNAME, ZONE, DISK, ABSENT_TOPOLOGY_KEY)
        assert set(term.namespaces) <= set(NAMESPACES)
        assert len(set(term.namespaces)) == len(term.namespaces)
        if term.label_selector is not None:
            assert selector_is_valid(term.label_selector, dict(POD_LABEL_VALUES))
        if term.namespace_selector is not None:
            assert selector_is_valid(term.namespace_selector, dict(NAMESPACE_LABEL_VALUES))


@given(constraints=topology_spread_constraints())
def test_topology_spread_constraints_are_valid(constraints: Any) -> None:
    assert 1 <= len(constraints) <= 3
    constraints_are_valid(constraints)


@given(constraints=topology_spread_constraints(min_size=0, max_size=6, defaults=True))
def test_default_topology_spread_constraints_have_no_selector(constraints: Any) -> None:
    constraints_are_valid(constraints, defaults=True)
    assert all(c.label_selector is None for c in constraints)


@given(objects=api_objects())
def test_api_objects_are_valid(objects: ApiObjects) -> None:
    assert set(objects.namespaces) <= set(NAMESPACES)
    keys = [(s.namespace, s.name) for s in objects.services]
    assert len(set(keys)) == len(keys)
    labellings = pod_label_sets()
    for (kind, namespace, name), selector in objects.controllers.items():
        assert kind in OWNER_KINDS and namespace in NAMESPACES and name in CONTROLLER_NAMES
        # The API server refuses an empty controller selector or one no template satisfies.
        assert not selector.is_empty
        assert any(label_selector_matches(selector, labels) for labels in labellings)


@given(template=pod_templates(with_pod_affinity=False))
def test_pod_affinity_can_be_turned_off(template: Any) -> None:
    assert not template.has_pod_affinity
    assert not template.topology_spread_constraints
    assert set(template.labels) <= set(POD_LABEL_VALUES)
    assert template.namespace in NAMESPACES


@settings(max_examples=15)
@given(workload=workloads(with_pod_affinity=False))
def test_workloads_without_pod_affinity(workload: Workload) -> None:
    templates = [p.template for p in workload.pods]
    assert not any(t.has_pod_affinity or t.topology_spread_constraints for t in templates)


@given(profile=profiles(require_all_filters=False))
def test_profiles_order_the_inter_pod_plugins_as_kube(profile: Profile) -> None:
    filters = list(profile.filters)
    spread = [i for i, p in enumerate(filters) if isinstance(p, PodTopologySpread)]
    inter = [i for i, p in enumerate(filters) if isinstance(p, InterPodAffinity)]
    fit = [i for i, p in enumerate(filters) if isinstance(p, NodeResourcesFit)]
    assert len(spread) <= 1 and len(inter) <= 1
    if spread and inter:
        assert spread[0] + 1 == inter[0]
    first = (spread or inter or [None])[0]
    if first is not None and fit:
        assert first == fit[0] + 1
    scored = {p.name: p for p, _ in profile.scores}
    for plugin in filters:
        assert scored.get(plugin.name, plugin) is plugin  # one object in both lists
    for plugin in [*filters, *scored.values()]:
        if isinstance(plugin, PodTopologySpread):
            if plugin.args.defaulting_type == "System":
                assert plugin.args.default_constraints == ()
            else:
                assert len(plugin.args.default_constraints) <= 2
                constraints_are_valid(plugin.args.default_constraints, defaults=True)


@given(profile=profiles())
def test_profiles_requiring_all_filters_have_the_inter_pod_ones(profile: Profile) -> None:
    assert {type(p) for p in profile.filters} >= {PodTopologySpread, InterPodAffinity}
    assert len(profile.filters) == 7


@settings(ROUND_TRIP, max_examples=20)
@given(workload=workloads())
def test_drawn_workloads_are_valid(tmp_path: Path, workload: Workload) -> None:
    """Generated workloads are valid Kubernetes objects: the strict reader takes them back
    (only the node pod limit changes: an absent one reads as the default 110). Kubelet-bound
    pods may break inter-pod constraints among themselves (the kubelet does not check them),
    but nothing verify checks, as it checks only policy-placed pods."""
    assert check_placement(workload, {}) == []
    path = tmp_path / "workload.yaml"
    path.write_text(dump_manifests(workload))
    loaded = load_manifests(path)
    nodes = tuple(dataclasses.replace(n, allocatable={"pods": 110, **n.allocatable})
                  for n in workload.nodes)
    assert loaded == dataclasses.replace(workload, nodes=nodes)


# ---------------------------------------------------------------------------- coverage
# Hypothesis' generation varies a lot from run to run (and favours small choices): the bounds
# are about a third of the lowest counts seen over many runs.
def test_selectors_match_some_pods_and_miss_others() -> None:
    selectors = sample(label_selectors())
    labellings = pod_label_sets()
    matched = [count(labellings, lambda labels, s=s: label_selector_matches(s, labels))
               for s in selectors]
    assert count(selectors, lambda s: s.is_empty) >= 1  # hypothesis draws each example once
    assert count(matched, lambda m: 0 < m < len(labellings)) >= 80
    assert count(matched, lambda m: m == 0) >= 5
    operators = {r.operator for s in selectors for r in s.match_expressions}
    assert operators == set(LABEL_SELECTOR_OPERATORS)


def test_affinity_terms_cover_their_options() -> None:
    terms: list[PodAffinityTerm] = sample(pod_affinity_terms())
    assert count(terms, lambda t: t.label_selector is None) >= 5
    assert count(terms, lambda t: t.label_selector == LabelSelector()) >= 5
    assert count(terms, lambda t: t.namespaces) >= 10
    assert count(terms, lambda t: t.namespace_selector is None) >= 60
    assert count(terms, lambda t: t.namespace_selector == LabelSelector()) >= 5
    assert count(terms, lambda t: t.namespace_selector and not t.namespace_selector.is_empty) >= 3
    keys = {t.topology_key for t in terms}
    assert keys == {HOSTNAME, ZONE, DISK, ABSENT_TOPOLOGY_KEY}


def test_spread_constraints_cover_their_options() -> None:
    constraints = [c for cs in sample(topology_spread_constraints()) for c in cs]
    assert count(constraints, lambda c: c.min_domains > 1) >= 10
    assert count(constraints, lambda c: c.match_label_keys) >= 10
    assert count(constraints, lambda c: c.label_selector is None) >= 5
    assert count(constraints, lambda c: c.node_affinity_policy == "Ignore") >= 10
    assert count(constraints, lambda c: c.node_taints_policy == "Honor") >= 10
    assert {(c.topology_key, c.when_unsatisfiable) for c in constraints} == {
        (k, w) for k in (HOSTNAME, ZONE, DISK) for w in ("DoNotSchedule", "ScheduleAnyway")}


def test_pods_and_objects_cover_owners_services_and_namespaces() -> None:
    drawn = sample(pods(), 60)
    assert 5 <= count(drawn, lambda p: p.owner is not None) <= 50
    assert count(drawn, lambda p: p.namespace != "default") >= 1
    assert count(drawn, lambda p: not p.template.labels) >= 3
    objects = sample(api_objects(), 100)
    assert count(objects, lambda o: o.controllers) >= 50
    assert count(objects, lambda o: any(s.selector is None for s in o.services)) >= 2
    assert count(objects, lambda o: any(s.selector for s in o.services)) >= 15
    assert count(objects, lambda o: any(dict(v) == {"team": "a"}
                                        for v in o.namespaces.values())) >= 5
    assert {o.kind for o in sample(owner_refs())} == {*OWNER_KINDS, "Job"}


def _term_matches_another_pod(workload: Workload, anti: bool) -> bool:
    for pod in workload.pods:
        affinity = pod.template.pod_anti_affinity if anti else pod.template.pod_affinity
        if affinity is None:
            continue
        for term in [*affinity.required, *(w.term for w in affinity.preferred)]:
            if any(other is not pod and affinity_term_matches(term, pod.namespace,
                                                              other.template, workload.objects)
                   for other in workload.pods):
                return True
    return False


def test_workloads_exercise_the_inter_pod_constraints() -> None:
    drawn = sample(workloads(max_nodes=6), 40)

    def any_pod(predicate: Callable[[Any], Any]) -> Callable[[Workload], bool]:
        return lambda w: any(predicate(p) for p in w.pods)

    def spread(predicate: Callable[[TopologySpreadConstraint], Any]) -> Callable[[Any], bool]:
        return lambda p: any(predicate(c) for c in p.template.topology_spread_constraints)

    assert count(drawn, lambda w: _term_matches_another_pod(w, anti=False)) >= 2
    assert count(drawn, lambda w: _term_matches_another_pod(w, anti=True)) >= 1
    assert count(drawn, any_pod(lambda p: p.template.node_name and p.template.has_pod_affinity)
                 ) >= 3
    assert count(drawn, lambda w: any(default_spread_selector(p, w.objects) is not None
                                      for p in w.pending_pods)) >= 1
    assert count(drawn, any_pod(spread(lambda c: c.when_unsatisfiable == "DoNotSchedule"))) >= 1
    assert count(drawn, lambda w: any(ZONE not in n.labels for n in w.nodes)) >= 3
    zoned = [ZONE in n.labels for w in drawn for n in w.nodes]
    assert 0.5 <= sum(zoned) / len(zoned) <= 0.95


def test_profiles_cover_the_inter_pod_plugins() -> None:
    drawn = sample(profiles(require_all_filters=False))

    def has(cls: type, where: str) -> Callable[[Profile], bool]:
        if where == "filter":
            return lambda p: any(isinstance(f, cls) for f in p.filters)
        return lambda p: any(isinstance(s, cls) for s, _ in p.scores)

    for cls in (PodTopologySpread, InterPodAffinity):
        assert count(drawn, has(cls, "filter")) >= 30
        assert count(drawn, has(cls, "score")) >= 10
        assert count(drawn, lambda p, c=cls: not has(c, "filter")(p)) >= 30
    plugins = list({id(x): x for p in drawn for x in [*p.filters, *(s for s, _ in p.scores)]}
                   .values())
    spreads = [p for p in plugins if isinstance(p, PodTopologySpread)]
    listed = [p.args.default_constraints for p in spreads if p.args.defaulting_type == "List"]
    assert count(listed, bool) >= 3
    assert count(listed, lambda constraints: not constraints)
    assert count(spreads, lambda p: p.args.defaulting_type == "System") >= 10
    inter = [p for p in plugins if isinstance(p, InterPodAffinity)]
    assert count(inter, lambda p: p.args.hard_pod_affinity_weight not in (0, 1)) >= 10
    assert count(inter, lambda p: p.args.hard_pod_affinity_weight == 0) >= 3
    assert count(inter, lambda p: p.args.ignore_preferred_terms_of_existing_pods) >= 10
