"""Kubernetes matching rules, case by case (schedlab.matching).

Sources: k8s.io/apimachinery labels.NewRequirement / Requirement.Matches, component-helpers
nodeaffinity, v1 Toleration.ToleratesTaint and FindMatchingUntoleratedTaint; see
kube-scheduler.md sections 5 and 6.
"""

from __future__ import annotations

import pytest

from schedlab.matching import (
    UNSCHEDULABLE_TAINT,
    PodSelector,
    SelectorIndex,
    field_matches,
    first_untolerated,
    parse_int64,
    preferred_affinity_score,
    required_affinity_matches,
    requirement_is_valid,
    requirement_matches,
    term_matches,
    tolerates,
)
from schedlab.objects import (
    ApiObjects,
    LabelSelector,
    LabelSelectorRequirement,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PodTemplate,
    PreferredSchedulingTerm,
    Taint,
    Toleration,
)

Req = NodeSelectorRequirement
LABELS = {"zone": "a", "gen": "5", "plus": "+7", "minus": "-3", "word": "x5", "empty": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", 5),
        ("+5", 5),  # strconv.ParseInt accepts a leading plus
        ("-3", -3),
        ("007", 7),  # base 10: leading zeros are digits, not octal
        ("-0", 0),
        (str(2**63 - 1), 2**63 - 1),
        (str(-(2**63)), -(2**63)),
        (str(2**63), None),  # int64 overflow: ErrRange
        (str(-(2**63) - 1), None),
        ("", None),
        ("+", None),
        ("-", None),
        ("1_000", None),  # underscores only with base 0
        (" 5", None),
        ("5 ", None),
        ("5.0", None),
        ("0x10", None),
        ("١٢", None),  # non-ASCII digits
        ("²", None),
    ],
)
def test_parse_int64_is_go_strconv_parseint_base_10(text: str, expected: int | None) -> None:
    assert parse_int64(text) == expected


@pytest.mark.parametrize(
    ("req", "expected"),
    [
        # In: the label exists and its value is listed.
        (Req("zone", "In", ("a", "b")), True),
        (Req("zone", "In", ("b",)), False),
        (Req("absent", "In", ("a",)), False),
        (Req("empty", "In", ("",)), True),  # "" is a valid label value
        # NotIn: the label is absent, or its value is not listed.
        (Req("zone", "NotIn", ("b",)), True),
        (Req("zone", "NotIn", ("a", "b")), False),
        (Req("absent", "NotIn", ("a",)), True),
        # Exists / DoesNotExist look at the key only.
        (Req("zone", "Exists"), True),
        (Req("absent", "Exists"), False),
        (Req("empty", "Exists"), True),
        (Req("zone", "DoesNotExist"), False),
        (Req("absent", "DoesNotExist"), True),
        # Gt / Lt: both sides parse as int64, the comparison is strict.
        (Req("gen", "Gt", ("4",)), True),
        (Req("gen", "Gt", ("5",)), False),
        (Req("gen", "Lt", ("6",)), True),
        (Req("gen", "Lt", ("5",)), False),
        (Req("gen", "Gt", ("05",)), False),  # "05" is 5
        (Req("plus", "Gt", ("6",)), True),  # node label "+7" parses as 7
        (Req("minus", "Lt", ("0",)), True),  # node label "-3" parses as -3
        (Req("minus", "Gt", ("0",)), False),
        (Req("absent", "Gt", ("0",)), False),
        (Req("absent", "Lt", ("0",)), False),
        (Req("word", "Gt", ("0",)), False),  # a non-integer label never matches
        (Req("word", "Lt", ("9",)), False),
        (Req("empty", "Lt", ("9",)), False),
    ],
)
def test_node_selector_operators(req: NodeSelectorRequirement, expected: bool) -> None:
    assert requirement_matches(req, LABELS) is expected


@pytest.mark.parametrize(
    "req",
    [
        # labels.NewRequirement rejects these; the term holding them never matches.
        Req("zone", "In", ()),  # In / NotIn need at least one value
        Req("zone", "NotIn", ()),
        Req("zone", "Exists", ("a",)),  # Exists / DoesNotExist take no values
        Req("absent", "DoesNotExist", ("a",)),
        Req("gen", "Gt", ()),  # Gt / Lt take exactly one value ...
        Req("gen", "Gt", ("1", "2")),
        Req("gen", "Gt", ("x",)),  # ... that parses as int64
        Req("gen", "Lt", (str(2**63),)),  # int64 overflow
        Req("gen", "Gt", ("-3",)),  # "-3" / "+5" parse, but are not valid label values
        Req("gen", "Lt", ("+9",)),
        Req("zone", "NotIn", ("b c",)),  # an invalid label value in the list
        Req("absent", "NotIn", ("-a",)),
        Req("zone", "In", ("a", "x" * 64)),  # label values are at most 63 characters
        Req("zone", "Equal", ("a",)),  # not a node selector operator
        Req("bad key", "DoesNotExist"),  # invalid label key
        Req("/zone", "DoesNotExist"),  # empty prefix
        Req("Example.com/zone", "DoesNotExist"),  # prefix must be a lower-case DNS subdomain
        Req("a/b/c", "DoesNotExist"),
        Req("example.com/", "DoesNotExist"),  # empty name part
        Req("k" * 64, "DoesNotExist"),  # name part at most 63 characters
    ],
)
def test_invalid_requirement_never_matches(req: NodeSelectorRequirement) -> None:
    assert not requirement_is_valid(req)
    assert not requirement_matches(req, LABELS)
    assert not term_matches(NodeSelectorTerm(match_expressions=(req,)), LABELS, "n1")


@pytest.mark.parametrize(
    "req",
    [
        Req("topology.kubernetes.io/zone", "Exists"),
        Req("example.com/Gpu_Model.2", "DoesNotExist"),
        Req("k" * 63, "In", ("v" * 63,)),
        Req("zone", "In", ("",)),
        Req("gen", "Gt", ("0",)),
        Req("gen", "Lt", (str(2**63 - 1),)),
    ],
)
def test_valid_requirement(req: NodeSelectorRequirement) -> None:
    assert requirement_is_valid(req)


def term(
    *exprs: NodeSelectorRequirement, fields: tuple[NodeSelectorRequirement, ...] = ()
) -> NodeSelectorTerm:
    """A term from its expressions and fields."""
    return NodeSelectorTerm(match_expressions=exprs, match_fields=fields)


ZONE_A, ZONE_B = Req("zone", "In", ("a",)), Req("zone", "In", ("b",))
GEN_5 = Req("gen", "Gt", ("4",))
NAME_N1 = Req("metadata.name", "In", ("n1",))


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        ((term(ZONE_A),), True),
        ((term(ZONE_A, GEN_5),), True),  # expressions are ANDed
        ((term(ZONE_A, ZONE_B),), False),
        ((term(ZONE_B), term(GEN_5)), True),  # terms are ORed
        ((term(ZONE_B), term(ZONE_B, GEN_5)), False),
        ((), False),  # required with no terms matches nothing
        ((term(),), False),  # an empty term matches nothing ...
        ((term(), term(ZONE_A)), True),  # ... and is dropped, not fatal
        ((term(Req("zone", "In", ())), term(ZONE_A)), True),  # an invalid term is skipped too
        ((term(ZONE_A, Req("zone", "In", ())),), False),  # invalid expression fails its term
        ((term(fields=(NAME_N1,)),), True),
        ((term(ZONE_A, fields=(NAME_N1,)),), True),  # expressions AND fields
        ((term(ZONE_B, fields=(NAME_N1,)),), False),
        ((term(ZONE_A, fields=(Req("metadata.name", "In", ("n2",)),)),), False),
    ],
)
def test_required_terms(terms: tuple[NodeSelectorTerm, ...], expected: bool) -> None:
    affinity = NodeAffinity(required=terms)
    assert required_affinity_matches({}, affinity, LABELS, "n1") is expected


@pytest.mark.parametrize(
    ("req", "node_name", "expected"),
    [
        (Req("metadata.name", "In", ("n1",)), "n1", True),
        (Req("metadata.name", "In", ("n1",)), "n2", False),
        (Req("metadata.name", "NotIn", ("n1",)), "n1", False),
        (Req("metadata.name", "NotIn", ("n1",)), "n2", True),
        # exactly one value, operator In or NotIn; anything else is a parse error
        (Req("metadata.name", "In", ("n1", "n2")), "n1", False),
        (Req("metadata.name", "NotIn", ("n1", "n2")), "n3", False),
        (Req("metadata.name", "NotIn", ()), "n1", False),
        (Req("metadata.name", "Exists"), "n1", False),
        (Req("metadata.name", "DoesNotExist"), "n1", False),
        # another field reads as "" (fields.Set.Get): In never matches a node, NotIn always
        (Req("metadata.uid", "In", ("n1",)), "n1", False),
        (Req("metadata.uid", "NotIn", ("n1",)), "n1", True),
    ],
)
def test_match_fields(req: NodeSelectorRequirement, node_name: str, expected: bool) -> None:
    assert field_matches(req, node_name) is expected


@pytest.mark.parametrize(
    ("node_selector", "affinity", "expected"),
    [
        ({}, None, True),
        ({"zone": "a"}, None, True),
        ({"zone": "a", "gen": "5"}, None, True),
        ({"zone": "b"}, None, False),
        ({"absent": ""}, None, False),  # the key must exist, even for an empty value
        ({"empty": ""}, None, True),
        ({}, NodeAffinity(required=None), True),  # no required selector: anything goes
        ({}, NodeAffinity(required=(term(ZONE_B),)), False),
        ({"zone": "a"}, NodeAffinity(required=(term(ZONE_B),)), False),  # both must hold
        ({"zone": "b"}, NodeAffinity(required=(term(ZONE_A),)), False),
        ({"zone": "a"}, NodeAffinity(required=(term(ZONE_A),)), True),
    ],
)
def test_node_selector_and_required_affinity(
    node_selector: dict[str, str], affinity: NodeAffinity | None, expected: bool
) -> None:
    assert required_affinity_matches(node_selector, affinity, LABELS, "n1") is expected


def test_preferred_weights_sum_over_matching_terms() -> None:
    affinity = NodeAffinity(
        preferred=(
            PreferredSchedulingTerm(10, term(ZONE_A)),
            PreferredSchedulingTerm(5, term(GEN_5)),
            PreferredSchedulingTerm(7, term(ZONE_B)),  # does not match
            PreferredSchedulingTerm(3, term()),  # empty preference: never matches
            PreferredSchedulingTerm(0, term(ZONE_A)),  # weight 0 adds nothing
            PreferredSchedulingTerm(20, term(fields=(NAME_N1,))),
        )
    )
    assert preferred_affinity_score(affinity, LABELS, "n1") == 10 + 5 + 20
    assert preferred_affinity_score(affinity, LABELS, "n2") == 10 + 5
    assert preferred_affinity_score(affinity, {}, "n2") == 0
    assert preferred_affinity_score(None, LABELS, "n1") == 0


GPU = Taint("gpu", "true", "NoSchedule")
Tol = Toleration


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        (Tol("gpu", "Equal", "true", "NoSchedule"), GPU, True),
        (Tol("gpu", "Equal", "true"), GPU, True),  # empty effect matches every effect
        (Tol("gpu", "Equal", "true"), Taint("gpu", "true", "NoExecute"), True),
        (Tol("gpu", "Equal", "true"), Taint("gpu", "true", "PreferNoSchedule"), True),
        (Tol("gpu", "Equal", "false"), GPU, False),  # Equal compares values
        (Tol("gpu", "Equal", ""), GPU, False),
        (Tol("gpu", "Equal", ""), Taint("gpu", "", "NoSchedule"), True),
        (Tol("gpu", "", "true"), GPU, True),  # an empty operator means Equal
        (Tol("gpu", "Exists"), GPU, True),  # Exists ignores the value
        (Tol("gpu", "Exists", effect="NoSchedule"), GPU, True),
        (Tol("gpu", "Exists", effect="NoExecute"), GPU, False),  # effect mismatch
        (Tol("gpu", "Equal", "true", "PreferNoSchedule"), GPU, False),
        (Tol("other", "Exists"), GPU, False),  # key mismatch
        (Tol("", "Exists"), GPU, True),  # empty key + Exists tolerates every taint
        (Tol("", "Exists"), Taint("any", "v", "NoExecute"), True),
        (Tol("", "Exists", effect="NoExecute"), GPU, False),
        (Tol("gpu", "Gt", "true"), GPU, False),  # an unknown operator tolerates nothing
    ],
)
def test_tolerates(toleration: Toleration, taint: Taint, expected: bool) -> None:
    assert tolerates(toleration, taint) is expected


HARD = ("NoSchedule", "NoExecute")
SOFT = Taint("soft", "", "PreferNoSchedule")
EXEC = Taint("exec", "1", "NoExecute")


@pytest.mark.parametrize(
    ("taints", "tolerations", "expected"),
    [
        ((), (), None),
        ((GPU,), (), GPU),
        ((GPU,), (Tol("gpu", "Exists"),), None),
        ((SOFT,), (), None),  # PreferNoSchedule is not a filter effect
        ((SOFT, EXEC, GPU), (), EXEC),  # the first untolerated, in node order
        ((GPU, EXEC), (), GPU),
        ((GPU, EXEC), (Tol("gpu", "Exists"),), EXEC),
        ((GPU, EXEC), (Tol("gpu", "Exists"), Tol("exec", "Equal", "1")), None),
        ((GPU, EXEC), (Tol("", "Exists"),), None),
        ((GPU, EXEC), (Tol("", "Exists", effect="NoExecute"),), GPU),
    ],
)
def test_first_untolerated(
    taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...], expected: Taint | None
) -> None:
    assert first_untolerated(taints, tolerations, HARD) == expected


def test_unschedulable_taint_is_the_node_unschedulable_plugins() -> None:
    assert Taint("node.kubernetes.io/unschedulable", "", "NoSchedule") == UNSCHEDULABLE_TAINT
    assert first_untolerated((UNSCHEDULABLE_TAINT,), (), HARD) == UNSCHEDULABLE_TAINT
    wildcard = Tol("", "Exists")
    assert first_untolerated((UNSCHEDULABLE_TAINT,), (wildcard,), HARD) is None


def test_a_selector_index_finds_what_a_full_scan_finds() -> None:
    """Items indexed by a label their pods carry (matchLabels, In with one value) or by
    none (NotIn, Exists, no selector): a template finds those a scan of all would, in the
    order added, and ``since`` skips the first ones."""
    ns = frozenset({"default"})
    selectors = {
        "labels": LabelSelector({"app": "a"}),
        "in": LabelSelector(match_expressions=(LabelSelectorRequirement("app", "In", ("a",)),)),
        "not-in": LabelSelector(match_expressions=(
            LabelSelectorRequirement("app", "NotIn", ("b",)),)),
        "exists": LabelSelector(match_expressions=(LabelSelectorRequirement("tier", "Exists"),)),
        "none": None,
        "other": LabelSelector({"app": "b"}),
    }
    index: SelectorIndex[str] = SelectorIndex()
    for name, selector in selectors.items():
        index.add((PodSelector(selector, ns),), name)
    objects = ApiObjects()
    for labels in ({"app": "a", "tier": "x"}, {"app": "b"}, {}):
        template = PodTemplate(labels=labels)
        scan = [name for name, selector in selectors.items()
                if PodSelector(selector, ns).matches(template, objects)]
        assert index.matching(template, objects) == scan
        assert index.matching(template, objects, 2) == [
            name for name in scan if list(selectors).index(name) >= 2]
