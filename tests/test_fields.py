"""schedlab.fields: the field walker both readers share, and the v1 NodeAffinity parser."""

from __future__ import annotations

from typing import Any

import pytest

from schedlab.errors import ConfigError, InputError
from schedlab.fields import PREFERRED, REQUIRED, Field, node_affinity
from schedlab.objects import (
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PreferredSchedulingTerm,
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
    assert "got [0, 1, 2, 3, 4, 5, ...], expected" in shown
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
