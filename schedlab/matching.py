"""Kubernetes matching rules for one object at a time: node selector terms, tolerations, pod
label selectors, pod affinity terms and spreading selectors.

This is the plain, scalar statement of the rules (k8s.io/component-helpers nodeaffinity and
v1helper tolerations). ``schedlab.verify``, the scalar reference plugins and the DaemonSet
controller use it; the vectorised plugins are tested against it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from schedlab.objects import (
    LABEL_SELECTOR_OPERATORS,
    ApiObjects,
    LabelSelector,
    LabelSelectorRequirement,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PodAffinityTerm,
    PodTemplate,
    Taint,
    Toleration,
    TopologySpreadConstraint,
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


# --- pods: label selectors, affinity terms, spreading ------------------------------------------


def label_requirement_matches(req: LabelSelectorRequirement, labels: Mapping[str, str]) -> bool:
    """One label selector expression against a pod's (or namespace's) labels. A requirement
    the API server would refuse (unknown operator, bad key or value, values missing for
    In/NotIn or given for Exists/DoesNotExist) never matches."""
    as_node_requirement = NodeSelectorRequirement(req.key, req.operator, req.values)
    if req.operator not in LABEL_SELECTOR_OPERATORS:
        return False
    return requirement_matches(as_node_requirement, labels)


def label_selector_matches(selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
    """metav1.LabelSelectorAsSelector(selector).Matches(labels): None matches nothing, an empty
    selector everything."""
    if selector is None:
        return False
    return all(labels.get(k) == v for k, v in selector.match_labels.items()) and all(
        label_requirement_matches(r, labels) for r in selector.match_expressions
    )


def term_namespaces(term: PodAffinityTerm, owner_namespace: str) -> tuple[str, ...]:
    """The namespaces a term names: its list, or the owner's namespace when it has neither a
    list nor a namespace selector."""
    if not term.namespaces and term.namespace_selector is None:
        return (owner_namespace,)
    return term.namespaces


def affinity_term_matches(
    term: PodAffinityTerm,
    owner_namespace: str,
    pod: PodTemplate,
    objects: ApiObjects,
) -> bool:
    """A pod (anti-)affinity term of a pod in ``owner_namespace`` matches ``pod``: the pod's
    namespace is listed or selected, and the label selector matches its labels."""
    return PodSelector.of_term(term, owner_namespace).matches(pod, objects)


def spread_selector(
    constraint: TopologySpreadConstraint, pod_labels: Mapping[str, str]
) -> LabelSelector | None:
    """The constraint's selector with ``key in (value)`` added for each matchLabelKeys key the
    pod carries (keys it lacks are ignored); None (matching no pod) stays None."""
    selector = constraint.label_selector
    added = {k: pod_labels[k] for k in constraint.match_label_keys if k in pod_labels}
    if selector is None or not added:
        return selector
    extra = tuple(LabelSelectorRequirement(k, "In", (v,)) for k, v in added.items())
    return LabelSelector(selector.match_labels, selector.match_expressions + extra)


SPREAD_OWNER_KINDS: tuple[str, ...] = ("ReplicaSet", "StatefulSet", "Deployment")
"""Owners whose selector joins a pod's default spreading selector (a Deployment's pods are
owned by its ReplicaSet in Kubernetes, which has the Deployment's selector)."""


def default_spread_selector(pod: Pod, objects: ApiObjects) -> LabelSelector | None:
    """kube's helper.DefaultSelector: the selectors of the Services in the pod's namespace that
    select it (a Service without a selector selects nothing), merged, plus the selector of the
    ReplicaSet or StatefulSet owning it. None when that is empty (no default constraints)."""
    template = pod.template
    merged: dict[str, str] = {}
    for service in objects.services:
        selector = service.selector
        selects = selector is not None and all(
            template.labels.get(k) == v for k, v in selector.items()
        )
        if service.namespace == template.namespace and selects:
            assert selector is not None  # selects implies it
            merged.update(selector)
    expressions: tuple[LabelSelectorRequirement, ...] = ()
    if pod.owner is not None and pod.owner.kind in SPREAD_OWNER_KINDS:
        owner = objects.controllers.get((pod.owner.kind, template.namespace, pod.owner.name))
        if owner is not None:
            expressions = tuple(
                LabelSelectorRequirement(k, "In", (v,)) for k, v in owner.match_labels.items()
            ) + owner.match_expressions
    if not merged and not expressions:
        return None
    return LabelSelector(merged, expressions)


def node_counts_for_spread(
    constraint: TopologySpreadConstraint, pod: PodTemplate, labels: Mapping[str, str],
    taints: Iterable[Taint], node_name: str,
) -> bool:
    """matchNodeInclusionPolicies: with nodeAffinityPolicy Honor the pod's nodeSelector and
    required node affinity must match the node; with nodeTaintsPolicy Honor every NoSchedule
    and NoExecute taint of the node must be tolerated."""
    if constraint.node_affinity_policy == "Honor" and not required_affinity_matches(
        pod.node_selector, pod.affinity, labels, node_name
    ):
        return False
    return constraint.node_taints_policy != "Honor" or (
        first_untolerated(taints, pod.tolerations, ("NoSchedule", "NoExecute")) is None
    )


@dataclass(frozen=True)
class PodSelector:
    """Which pods a term or a spreading constraint counts: those in one of ``namespaces`` or
    in a namespace whose labels ``namespace_selector`` matches (None: none), whose labels
    ``label_selector`` matches (None: no pod)."""

    label_selector: LabelSelector | None
    namespaces: frozenset[str] = frozenset()
    namespace_selector: LabelSelector | None = None

    @classmethod
    def of_term(cls, term: PodAffinityTerm, owner_namespace: str) -> PodSelector:
        """The pods an affinity term of a pod in ``owner_namespace`` matches."""
        namespaces = frozenset(term_namespaces(term, owner_namespace))
        return cls(term.label_selector, namespaces, term.namespace_selector)

    @property
    def required_label(self) -> tuple[str, str] | None:
        """A label (key, value) that every pod it matches carries (a matchLabels pair, or an
        In requirement with one value); None where the selector names none."""
        selector = self.label_selector
        if selector is None:
            return None
        for pair in selector.match_labels.items():
            return pair
        for requirement in selector.match_expressions:
            if requirement.operator == "In" and len(requirement.values) == 1:
                return requirement.key, requirement.values[0]
        return None

    def matches(self, pod: PodTemplate, objects: ApiObjects) -> bool:
        in_namespace = pod.namespace in self.namespaces or (
            self.namespace_selector is not None
            and label_selector_matches(
                self.namespace_selector, objects.namespace_labels(pod.namespace)
            )
        )
        return in_namespace and label_selector_matches(self.label_selector, pod.labels)


T = TypeVar("T")


class SelectorIndex(Generic[T]):
    """Items (tallies, carried terms) each with the selectors that say which pods it
    concerns, kept in the order added and indexed by a label every such pod carries
    (``PodSelector.required_label``), so that a pod template is matched only against the
    items that may concern it (not a scan of all of them for every new template)."""

    def __init__(self) -> None:
        self._items: list[tuple[tuple[PodSelector, ...], T]] = []
        self._by_label: dict[tuple[str, str] | None, list[int]] = {}
        """Positions in ``_items`` by the label (None: the selectors name none)."""

    def __len__(self) -> int:
        return len(self._items)

    def add(self, selectors: tuple[PodSelector, ...], item: T) -> tuple[str, str] | None:
        """Index ``item``, which concerns the pods all ``selectors`` match; returns the label
        every such pod carries that it is indexed by (None: the selectors name none)."""
        label = next((s.required_label for s in selectors if s.required_label is not None),
                     None)
        self._by_label.setdefault(label, []).append(len(self._items))
        self._items.append((selectors, item))
        return label

    def matching(self, template: PodTemplate, objects: ApiObjects, since: int = 0
                 ) -> list[T]:
        """The items added after the first ``since`` whose selectors all match a pod of
        ``template``, in the order added."""
        lists = [self._by_label.get(pair, []) for pair in (None, *template.labels.items())]
        positions = sorted(p for found in lists for p in found[bisect_left(found, since):])
        return [item for selectors, item in map(self._items.__getitem__, positions)
                if all(s.matches(template, objects) for s in selectors)]
