"""Kubernetes matching rules for one object at a time: node selector terms and tolerations.

This is the plain, scalar statement of the rules (k8s.io/component-helpers nodeaffinity and
v1helper tolerations). ``schedlab.verify``, the scalar reference plugins and the DaemonSet
controller use it; the vectorised plugins are tested against it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from schedlab.objects import (
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Taint,
    Toleration,
)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")
METADATA_NAME = "metadata.name"

# k8s.io/apimachinery/pkg/util/validation: IsQualifiedName, IsDNS1123Subdomain, IsValidLabelValue.
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


def parse_int64(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 10, 64): an optional sign and decimal digits, in range."""
    body = text[1:] if text[:1] in "+-" else text
    if not body.isascii() or not body.isdigit():
        return None
    value = int(text)
    return value if INT64_MIN <= value <= INT64_MAX else None


def _is_label_key(key: str) -> bool:
    """IsQualifiedName: a name of at most 63 characters, optionally prefixed by a DNS subdomain
    of at most 253 characters and a slash."""
    parts = key.split("/")
    if len(parts) > 2:
        return False
    if len(parts) == 2 and not (
        len(parts[0]) <= 253 and _DNS1123_SUBDOMAIN.fullmatch(parts[0]) is not None
    ):
        return False
    name = parts[-1]
    return len(name) <= 63 and _QUALIFIED_NAME.fullmatch(name) is not None


def _is_label_value(value: str) -> bool:
    """IsValidLabelValue: empty, or at most 63 characters of [-A-Za-z0-9_.], alphanumeric at
    both ends."""
    return len(value) <= 63 and _LABEL_VALUE.fullmatch(value) is not None


@lru_cache(maxsize=4096)
def requirement_is_valid(req: NodeSelectorRequirement) -> bool:
    """labels.NewRequirement's checks: a known operator, a valid label key, one or more values
    for In/NotIn, none for Exists/DoesNotExist, exactly one int64 for Gt/Lt, and every value a
    valid label value (so "-3" or "+5" are refused as Gt/Lt bounds). A term holding an invalid
    requirement never matches."""
    n = len(req.values)
    if req.operator in ("In", "NotIn"):
        shape_ok = n > 0
    elif req.operator in ("Exists", "DoesNotExist"):
        shape_ok = n == 0
    elif req.operator in ("Gt", "Lt"):
        shape_ok = n == 1 and parse_int64(req.values[0]) is not None
    else:
        return False
    return shape_ok and _is_label_key(req.key) and all(_is_label_value(v) for v in req.values)


def requirement_matches(req: NodeSelectorRequirement, labels: Mapping[str, str]) -> bool:
    """One matchExpressions entry against a node's labels (the six operators); an invalid
    requirement (see ``requirement_is_valid``) never matches."""
    if not requirement_is_valid(req):
        return False
    present = req.key in labels
    value = labels.get(req.key)
    if req.operator == "In":
        return present and value in req.values
    if req.operator == "NotIn":
        return not present or value not in req.values
    if req.operator == "Exists":
        return present
    if req.operator == "DoesNotExist":
        return not present
    label = parse_int64(value) if value is not None else None  # Gt, Lt
    if label is None:
        return False
    bound = int(req.values[0])  # requirement_is_valid parsed it as an int64
    return label > bound if req.operator == "Gt" else label < bound


def field_matches(req: NodeSelectorRequirement, node_name: str) -> bool:
    """One matchFields entry against a node's name. Only In and NotIn with exactly one value
    parse (anything else never matches); the only node field is metadata.name, any other key
    reads as "" (fields.Set.Get), as in nodeaffinity.go."""
    if req.operator not in ("In", "NotIn") or len(req.values) != 1:
        return False
    field_value = node_name if req.key == METADATA_NAME else ""
    return (field_value == req.values[0]) == (req.operator == "In")


def term_matches(term: NodeSelectorTerm, labels: Mapping[str, str], node_name: str) -> bool:
    """A term matches when all its expressions and fields match; an empty term never does."""
    if term.is_empty:
        return False
    return all(requirement_matches(r, labels) for r in term.match_expressions) and all(
        field_matches(r, node_name) for r in term.match_fields
    )


def required_affinity_matches(
    node_selector: Mapping[str, str],
    affinity: NodeAffinity | None,
    labels: Mapping[str, str],
    node_name: str,
) -> bool:
    """nodeSelector (every key present with the same value) and the required terms (any)."""
    if any(labels.get(k) != v for k, v in node_selector.items()):
        return False
    if affinity is None or affinity.required is None:
        return True
    return any(term_matches(t, labels, node_name) for t in affinity.required)


def preferred_affinity_score(
    affinity: NodeAffinity | None, labels: Mapping[str, str], node_name: str
) -> int:
    """Sum of the weights of the preferred terms that match the node."""
    if affinity is None:
        return 0
    return sum(
        t.weight for t in affinity.preferred if term_matches(t.preference, labels, node_name)
    )


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """v1 Toleration.ToleratesTaint."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator in ("", "Equal"):
        return toleration.value == taint.value
    return toleration.operator == "Exists"


def first_untolerated(
    taints: Iterable[Taint], tolerations: Iterable[Toleration], effects: Iterable[str]
) -> Taint | None:
    """The first taint (in node order) with an effect in ``effects`` that no toleration
    tolerates, or None."""
    tolerations = tuple(tolerations)
    effects = tuple(effects)
    for taint in taints:
        if taint.effect in effects and not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None
