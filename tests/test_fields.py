"""schedlab.fields: the field walker both readers share, and the v1 NodeAffinity parser."""

from __future__ import annotations

from typing import Any

import pytest

from schedlab.errors import ConfigError, InputError
from schedlab.fields import (
    PREFERRED,
    REQUIRED,
    Field,
    label_selector,
    node_affinity,
    pod_affinity_term,
    topology_spread_constraints,
)
from schedlab.fields import pod_affinity as read_pod_affinity
from schedlab.objects import (
    LabelSelector,
    LabelSelectorRequirement,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PodAffinity,
    PodAffinityTerm,
    PreferredSchedulingTerm,
    TopologySpreadConstraint,
    WeightedPodAffinityTerm,
)


def message(field: Field, expected: str = "something") -> str:
    return str(field.error(expected))


# --- Field -----------------------------------------------------------------------------------


def test_path_is_built_from_keys_and_indexes() -> None:
    root = Field({"spec": {"containers": [{"name": 3}]}}, "pods.yaml: Pod default/p")
    name = root["spec"]["containers"].elements()[0]["name"]
    assert name.path == "spec.containers[0].name"
    with pytest.raises(InputError) as caught:
        name.string()
    assert str(caught.value) == (
        "pods.yaml: Pod default/p: spec.containers[0].name: got 3, expected a string"
    )


def test_a_root_path_prefixes_its_children_and_an_empty_one_is_the_document() -> None:
    root = Field({}, "sched.yaml", "profiles[0]")
    assert root["plugins"]["score"].path == "profiles[0].plugins.score"
    assert message(Field(5, "f.yaml")) == "f.yaml: document: got 5, expected something"


def test_error_class_is_kept_by_children() -> None:
    root = Field({"a": [1]}, "s.yaml", error_class=ConfigError)
    error = root["a"].elements()[0].error("x")
    assert isinstance(error, ConfigError)
    assert isinstance(Field(None, "m.yaml").error("x"), InputError)
    assert not isinstance(Field(None, "m.yaml").error("x"), ConfigError)


def test_absent_fields_read_as_none_and_defaults() -> None:
    absent = Field(None, "f")["a"]["b"]
    assert absent.value is None and absent.path == "a.b"
    assert absent.elements() == [] and list(absent.entries()) == []
    assert absent.string("x") == "x" and absent.boolean() is False
    assert absent.integer(default=4) == 4 and absent.choice(("A", "B"), default="B") == "B"
    assert Field({"a": None}, "f")["a"].value is None


@pytest.mark.parametrize(("value", "call", "expected"), [
    ("text", lambda f: f["key"], "a mapping"),
    ({"a": 1}, lambda f: f.elements(), "a list"),
    ({1: "a"}, lambda f: list(f.entries()), "a mapping with string keys"),
    ("", lambda f: f.name(), "a non-empty string"),
    ("C", lambda f: f.choice(("A", "")), 'one of A, ""'),
    (True, lambda f: f.integer(), "an integer"),
    (-1, lambda f: f.integer(minimum=0), "an integer >= 0"),
    (7, lambda f: f.integer(maximum=5), "an integer <= 5"),
    (101, lambda f: f.integer(minimum=0, maximum=100), "an integer in 0..100"),
    ("yes", lambda f: f.boolean(), "true or false"),
    ("12Q", lambda f: f.quantity("cpu"), "a non-negative Kubernetes quantity"),
])
def test_typed_getters_name_what_they_expect(value: Any, call: Any, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        call(Field(value, "f"))
    assert f"expected {expected}" in str(caught.value)


def test_typed_getters_return_values() -> None:
    field = Field({"cpu": "250m", "memory": "1Gi", "n": 3, "flag": True}, "f")
    assert field["n"].integer(minimum=0, maximum=3) == 3
    assert field["flag"].boolean() is True
    assert field["cpu"].quantity("cpu") == 250
    assert Field({"cpu": "1", "memory": "1Ki"}, "f").quantities() == {"cpu": 1000, "memory": 1024}
    assert Field({"a": "x", "b": ""}, "f").strings() == {"a": "x", "b": ""}


def test_long_values_are_shortened_unquoted_short_ones_shown_whole() -> None:
    shown = message(Field({"name": "c"}, "f"))
    assert shown == "f: document: got {'name': 'c'}, expected something"
    shown = message(Field(list(range(100)), "f"))
    assert "got [0, 1, 2, 3, 4, 5, 6, 7, ...], expected" in shown
    assert "\n" not in shown


def test_strict_documents_refuse_unknown_fields_lenient_ones_ignore_them() -> None:
    value = {"name": "a", "wieght": 1, "skip": None}
    lenient = Field(value, "m.yaml")
    lenient.check_fields(("name", "weight"), "Plugin")
    assert set(lenient.mapping(("name", "weight"), "Plugin")) == {"name", "wieght"}
    strict = Field(value, "s.yaml", "plugins[0]", error_class=ConfigError, strict=True)
    with pytest.raises(ConfigError) as caught:
        strict.mapping(("name", "weight"), "Plugin")
    assert str(caught.value) == (
        "s.yaml: plugins[0].wieght: got 1, expected a known field of Plugin (one of: name, weight)"
    )
    with pytest.raises(ConfigError, match=r"\(one of: none\)"):
        strict.check_fields((), "Empty")
    assert set(strict.mapping(None, "Any")) == {"name", "wieght"}  # present fields only


# --- node affinity ---------------------------------------------------------------------------

ZONE_IN = {"key": "zone", "operator": "In", "values": ["a"]}
NAME_IS = {"key": "metadata.name", "operator": "NotIn", "values": ["n1"]}


def pod_affinity(value: Any) -> NodeAffinity | None:
    return node_affinity(Field(value, "pods.yaml: Pod default/p"), min_preferred_weight=1)


def args_affinity(value: Any) -> NodeAffinity | None:
    field = Field(value, "sched.yaml", "addedAffinity", error_class=ConfigError, strict=True)
    return node_affinity(field, min_preferred_weight=0, label_syntax=True,
                         require_preference=True)


def affinity_error(parse: Any, value: Any) -> str:
    with pytest.raises(InputError) as caught:
        parse(value)
    return str(caught.value)


def required(*requirements: dict[str, Any], fields: tuple[dict[str, Any], ...] = ()) -> dict:
    term = {"matchExpressions": list(requirements), "matchFields": list(fields)}
    return {REQUIRED: {"nodeSelectorTerms": [term]}}


def test_both_rule_sets_read_the_same_affinity() -> None:
    value = {
        **required(ZONE_IN, {"key": "cores", "operator": "Gt", "values": ["8"]}, fields=(NAME_IS,)),
        PREFERRED: [{"weight": 5, "preference": {"matchExpressions": [
            {"key": "ssd", "operator": "Exists"}]}}],
    }
    expected = NodeAffinity(
        required=(NodeSelectorTerm(
            (NodeSelectorRequirement("zone", "In", ("a",)),
             NodeSelectorRequirement("cores", "Gt", ("8",))),
            (NodeSelectorRequirement("metadata.name", "NotIn", ("n1",)),),
        ),),
        preferred=(PreferredSchedulingTerm(5, NodeSelectorTerm(
            (NodeSelectorRequirement("ssd", "Exists"),))),),
    )
    assert pod_affinity(value) == expected
    assert args_affinity(value) == expected


def test_absent_and_empty_affinity() -> None:
    assert pod_affinity(None) is None
    assert pod_affinity({}) == NodeAffinity(None, ())


@pytest.mark.parametrize("parse", [pod_affinity, args_affinity])
@pytest.mark.parametrize(("value", "where", "expected"), [
    ({REQUIRED: {"nodeSelectorTerms": []}}, f"{REQUIRED}.nodeSelectorTerms: got []",
     "at least one node selector term"),
    (required({"key": "k", "operator": "Has"}), "matchExpressions[0].operator: got 'Has'",
     "one of In, NotIn, Exists, DoesNotExist, Gt, Lt"),
    (required({"operator": "Exists"}), "matchExpressions[0].key: got None",
     "a non-empty string"),
    (required({"key": "k", "operator": "In"}), "matchExpressions[0].values: got None",
     "at least one value for operator In"),
    (required({"key": "k", "operator": "Exists", "values": ["a"]}),
     "matchExpressions[0].values: got ['a']", "no values for operator Exists"),
    (required({"key": "k", "operator": "In", "values": [1]}),
     "matchExpressions[0].values[0]: got 1", "a string"),
    (required(fields=({"key": "metadata.uid", "operator": "In", "values": ["a"]},)),
     "matchFields[0].key: got 'metadata.uid'", "metadata.name (the only field matchFields"),
    (required(fields=({"key": "metadata.name", "operator": "Gt", "values": ["a"]},)),
     "matchFields[0].operator: got 'Gt'", "one of In, NotIn"),
    (required(fields=({"key": "metadata.name", "operator": "In", "values": []},)),
     "matchFields[0].values: got []", "exactly one node name"),
    ({PREFERRED: [{"weight": 101, "preference": {}}]}, f"{PREFERRED}[0].weight: got 101",
     "an integer in "),
])
def test_shared_rules(parse: Any, value: Any, where: str, expected: str) -> None:
    text = affinity_error(parse, value)
    assert f"{where}, expected {expected}" in text, text
    if parse is args_affinity:
        assert text.startswith("sched.yaml: addedAffinity.")


def test_errors_are_the_readers_own_class() -> None:
    bad = {REQUIRED: {"nodeSelectorTerms": []}}
    with pytest.raises(InputError) as caught:
        pod_affinity(bad)
    assert not isinstance(caught.value, ConfigError)
    with pytest.raises(ConfigError):
        args_affinity(bad)


def test_preferred_weight_floor() -> None:
    zero = {PREFERRED: [{"weight": 0, "preference": {}}]}
    assert "weight: got 0, expected an integer in 1..100" in affinity_error(pod_affinity, zero)
    assert args_affinity(zero) == NodeAffinity(
        None, (PreferredSchedulingTerm(0, NodeSelectorTerm()),)
    )


def test_preference_required_only_when_asked() -> None:
    value = {PREFERRED: [{"weight": 3}]}
    assert pod_affinity(value) == NodeAffinity(
        None, (PreferredSchedulingTerm(3, NodeSelectorTerm()),)
    )
    assert f"{PREFERRED}[0].preference: got None, expected a node selector term" in (
        affinity_error(args_affinity, value)
    )


@pytest.mark.parametrize(("requirement", "where", "expected"), [
    ({"key": "a b", "operator": "Exists"}, "key: got 'a b'", "a valid label key"),
    ({"key": "k", "operator": "In", "values": ["-x-"]}, "values[0]: got '-x-'",
     "a valid label value"),
    ({"key": "k", "operator": "Lt", "values": ["big"]}, "values: got ['big']",
     "exactly one integer value for operator Lt"),
])
def test_label_syntax_only_for_args(
    requirement: dict[str, Any], where: str, expected: str
) -> None:
    """The API server checks a pod's label keys but not its values; the manifest reader checks
    neither (an invalid requirement never matches, see schedlab.matching). kube's
    NodeAffinityArgs validation parses both."""
    value = required(requirement)
    assert pod_affinity(value) is not None
    assert f"matchExpressions[0].{where}, expected {expected}" in affinity_error(
        args_affinity, value
    )


def test_unknown_fields_refused_only_in_strict_documents() -> None:
    value = required({"key": "k", "operator": "Exists", "value": ["typo"]})
    assert pod_affinity(value) is not None
    expected = ("matchExpressions[0].value: got ['typo'], expected a known field of "
                "NodeSelectorRequirement (one of: key, operator, values)")
    assert expected in affinity_error(args_affinity, value)
    assert "expected a known field of NodeAffinity" in affinity_error(
        args_affinity, {"requiredDuringScheduling": {}}
    )


# --- label selectors, pod affinity, spread constraints ----------------------------------------


def error_of(call: Any) -> str:
    with pytest.raises(InputError) as caught:
        call()
    text = str(caught.value)
    assert "\n" not in text
    return text


def test_error_can_show_another_value_at_the_fields_path() -> None:
    field = Field({"a": {"b": 1}}, "f")["a"]
    assert str(field.error("x", value="shown")) == "f: a: got 'shown', expected x"
    assert str(field.error("x", value=None)) == "f: a: got None, expected x"


def test_label_getters() -> None:
    field = Field({"k": "app.kubernetes.io/name", "v": "", "labels": {"a/b": "c"}}, "f")
    assert field["k"].label_key() == "app.kubernetes.io/name"
    assert field["v"].label_value() == ""
    assert field["labels"].label_map() == {"a/b": "c"}
    assert "f: k: got 3, expected a valid label key" in error_of(lambda: Field({"k": 3}, "f")[
        "k"].label_key())
    text = error_of(lambda: Field({"m": {"a b": "c"}}, "f")["m"].label_map())
    assert text.startswith("f: m.a b: got 'a b', expected a valid label key (an optional DNS")
    text = error_of(lambda: Field({"m": {"a": "c d"}}, "f")["m"].label_map())
    assert text.startswith("f: m.a: got 'c d', expected a valid label value (at most 63")
    assert "got True, expected a valid label value" in error_of(
        lambda: Field({"m": {"a": True}}, "f")["m"].label_map()
    )


def selector(value: Any, strict: bool = False) -> LabelSelector | None:
    error_class = ConfigError if strict else InputError
    return label_selector(Field(value, "f", "sel", error_class=error_class, strict=strict))


def test_label_selector_absent_empty_and_full() -> None:
    assert selector(None) is None
    assert selector({}) == LabelSelector()
    value = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["fe", "be"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "x", "operator": "Exists", "values": []},
        ],
    }
    assert selector(value) == LabelSelector(
        {"app": "web"},
        (
            LabelSelectorRequirement("tier", "In", ("fe", "be")),
            LabelSelectorRequirement("canary", "DoesNotExist"),
            LabelSelectorRequirement("x", "Exists"),
        ),
    )


@pytest.mark.parametrize(("value", "expected"), [
    ("app=web", "sel: got 'app=web', expected a mapping"),
    ({"matchLabels": {"-a": "b"}}, "sel.matchLabels.-a: got '-a', expected a valid label key"),
    ({"matchLabels": {"a": "b c"}}, "sel.matchLabels.a: got 'b c', expected a valid label value"),
    ({"matchExpressions": [{"key": "k", "operator": "Gt", "values": ["1"]}]},
     "sel.matchExpressions[0].operator: got 'Gt', expected one of In, NotIn, Exists, "
     "DoesNotExist"),
    ({"matchExpressions": [{"key": "k", "operator": "NotIn", "values": []}]},
     "sel.matchExpressions[0].values: got [], expected at least one value for operator NotIn"),
    ({"matchExpressions": [{"key": "k", "operator": "DoesNotExist", "values": ["a"]}]},
     "sel.matchExpressions[0].values: got ['a'], expected no values for operator DoesNotExist"),
    ({"matchExpressions": [{"operator": "Exists"}]},
     "sel.matchExpressions[0].key: got None, expected a valid label key"),
    ({"matchExpressions": [{"key": "k", "operator": "In", "values": ["ok", "not ok"]}]},
     "sel.matchExpressions[0].values[1]: got 'not ok', expected a valid label value"),
    ({"matchExpressions": {"key": "k"}},
     "sel.matchExpressions: got {'key': 'k'}, expected a list"),
])
def test_label_selector_errors(value: Any, expected: str) -> None:
    assert f"f: {expected}" in error_of(lambda: selector(value))


def test_label_selector_unknown_fields_only_in_strict_documents() -> None:
    value = {"matchLabel": {"a": "b"}}
    assert selector(value) == LabelSelector()
    with pytest.raises(ConfigError, match=r"sel.matchLabel: got \{'a': 'b'\}, expected a known "
                       r"field of LabelSelector \(one of: matchLabels, matchExpressions\)"):
        selector(value, strict=True)


def term(value: Any) -> PodAffinityTerm:
    return pod_affinity_term(Field(value, "f", "term"))


def test_pod_affinity_term() -> None:
    assert term({"topologyKey": "zone"}) == PodAffinityTerm("zone")
    assert term({
        "labelSelector": {"matchLabels": {"app": "db"}},
        "namespaces": ["a", "b"],
        "namespaceSelector": {},
        "topologyKey": "kubernetes.io/hostname",
        "matchLabelKeys": [],
        "mismatchLabelKeys": None,
    }) == PodAffinityTerm(
        "kubernetes.io/hostname", LabelSelector({"app": "db"}), ("a", "b"), LabelSelector()
    )


@pytest.mark.parametrize(("value", "expected"), [
    ({}, "term.topologyKey: got None, expected a valid label key"),
    ({"topologyKey": ""}, "term.topologyKey: got '', expected a valid label key"),
    ({"topologyKey": "a/b/c"}, "term.topologyKey: got 'a/b/c', expected a valid label key"),
    ({"topologyKey": "z", "namespaces": [""]},
     "term.namespaces[0]: got '', expected a DNS-1123 label"),
    ({"topologyKey": "z", "namespaceSelector": {"matchLabels": {"env": "a b"}}},
     "term.namespaceSelector.matchLabels.env: got 'a b', expected a valid label value"),
    ({"topologyKey": "z", "matchLabelKeys": ["app"]},
     "term.matchLabelKeys: got ['app'], expected no matchLabelKeys (schedlab does not model "
     "matchLabelKeys of pod affinity terms; "),
    ({"topologyKey": "z", "mismatchLabelKeys": ["tenant"]},
     "term.mismatchLabelKeys: got ['tenant'], expected no mismatchLabelKeys"),
])
def test_pod_affinity_term_errors(value: Any, expected: str) -> None:
    assert f"f: {expected}" in error_of(lambda: term(value))


def test_pod_affinity_absent_empty_and_full() -> None:
    def read(value: Any) -> PodAffinity | None:
        return read_pod_affinity(Field(value, "f", "podAffinity"))

    assert read(None) is None
    assert read({}) == PodAffinity()
    value = {
        REQUIRED: [{"topologyKey": "zone"}],
        PREFERRED: [{"weight": 100, "podAffinityTerm": {"topologyKey": "host"}}],
    }
    assert read(value) == PodAffinity(
        (PodAffinityTerm("zone"),), (WeightedPodAffinityTerm(100, PodAffinityTerm("host")),)
    )
    for weight in (0, 101, "5"):
        bad = {PREFERRED: [{"weight": weight, "podAffinityTerm": {"topologyKey": "z"}}]}
        assert f"podAffinity.{PREFERRED}[0].weight: got {weight!r}, expected an integer in " \
            "1..100" in error_of(lambda bad=bad: read(bad))
    assert f"podAffinity.{PREFERRED}[0].podAffinityTerm: got None, expected a pod affinity " \
        "term" in error_of(lambda: read({PREFERRED: [{"weight": 1}]}))
    strict = Field({REQUIRED: [], "preferred": []}, "s", "a", error_class=ConfigError, strict=True)
    assert "a.preferred: got [], expected a known field of PodAntiAffinity" in error_of(
        lambda: read_pod_affinity(strict, "PodAntiAffinity")
    )


def constraints(value: Any, defaults: bool = False) -> tuple[TopologySpreadConstraint, ...]:
    return topology_spread_constraints(Field(value, "f", "tsc"), defaults=defaults)


ZONE = {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}


def test_spread_constraints_with_defaults_and_every_field() -> None:
    assert constraints(None) == ()
    full = {
        "maxSkew": 2, "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "a"}},
        "minDomains": 4, "matchLabelKeys": ["pod-template-hash"],
        "nodeAffinityPolicy": "Ignore", "nodeTaintsPolicy": "Honor",
    }
    anyway = {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway"}
    assert constraints([ZONE, full, anyway]) == (
        TopologySpreadConstraint(1, "zone", "DoNotSchedule", None, 1, (), "Honor", "Ignore"),
        TopologySpreadConstraint(
            2, "kubernetes.io/hostname", "DoNotSchedule", LabelSelector({"app": "a"}), 4,
            ("pod-template-hash",), "Ignore", "Honor",
        ),
        TopologySpreadConstraint(1, "zone", "ScheduleAnyway"),
    )


@pytest.mark.parametrize(("change", "expected"), [
    ({"maxSkew": None}, "tsc[0].maxSkew: got None, expected an integer in 1..2147483647"),
    ({"maxSkew": 0}, "tsc[0].maxSkew: got 0, expected an integer in 1..2147483647"),
    ({"maxSkew": 2**31}, "tsc[0].maxSkew: got 2147483648, expected an integer in 1.."),
    ({"topologyKey": None}, "tsc[0].topologyKey: got None, expected a valid label key"),
    ({"whenUnsatisfiable": None},
     "tsc[0].whenUnsatisfiable: got None, expected one of DoNotSchedule, ScheduleAnyway"),
    ({"whenUnsatisfiable": "Never"}, "tsc[0].whenUnsatisfiable: got 'Never', expected one of"),
    ({"minDomains": 0}, "tsc[0].minDomains: got 0, expected an integer in 1..2147483647"),
    ({"whenUnsatisfiable": "ScheduleAnyway", "minDomains": 1},
     "tsc[0].minDomains: got 1, expected no minDomains with whenUnsatisfiable ScheduleAnyway "
     "(minDomains needs DoNotSchedule)"),
    ({"matchLabelKeys": ["app"]},
     "tsc[0].matchLabelKeys: got ['app'], expected no matchLabelKeys without a labelSelector"),
    ({"labelSelector": {"matchLabels": {"app": "a"}}, "matchLabelKeys": ["app"]},
     "tsc[0].matchLabelKeys[0]: got 'app', expected a key that labelSelector does not also "
     "name"),
    ({"labelSelector": {"matchExpressions": [{"key": "v", "operator": "Exists"}]},
      "matchLabelKeys": ["h", "v"]},
     "tsc[0].matchLabelKeys[1]: got 'v', expected a key that labelSelector does not also name"),
    ({"labelSelector": {}, "matchLabelKeys": ["a b"]},
     "tsc[0].matchLabelKeys[0]: got 'a b', expected a valid label key"),
    ({"labelSelector": {"matchLabels": {"a": 1}}},
     "tsc[0].labelSelector.matchLabels.a: got 1, expected a valid label value"),
    ({"nodeAffinityPolicy": "honor"},
     "tsc[0].nodeAffinityPolicy: got 'honor', expected one of Honor, Ignore"),
    ({"nodeTaintsPolicy": ""}, "tsc[0].nodeTaintsPolicy: got '', expected one of Honor, Ignore"),
])
def test_spread_constraint_errors(change: dict[str, Any], expected: str) -> None:
    assert f"f: {expected}" in error_of(lambda: constraints([{**ZONE, **change}]))


def test_repeated_pair_is_refused_at_the_later_constraint() -> None:
    other = {**ZONE, "whenUnsatisfiable": "ScheduleAnyway"}
    again = {**ZONE, "maxSkew": 5, "labelSelector": {}}
    assert len(constraints([ZONE, other])) == 2
    assert error_of(lambda: constraints([ZONE, other, again])) == (
        "f: tsc[2]: got {'topologyKey': 'zone', 'whenUnsatisfiable': 'DoNotSchedule'}, "
        "expected a {topologyKey, whenUnsatisfiable} pair no other constraint has "
        "(tsc[0] has it)"
    )


def test_default_constraints_take_no_selector_and_need_none_for_match_label_keys() -> None:
    keyed = {**ZONE, "matchLabelKeys": ["pod-template-hash"]}
    assert constraints([keyed], defaults=True) == (
        TopologySpreadConstraint(1, "zone", match_label_keys=("pod-template-hash",)),
    )
    assert "tsc[0].labelSelector: got {}, expected no labelSelector in a default constraint" in (
        error_of(lambda: constraints([{**ZONE, "labelSelector": {}}], defaults=True))
    )
