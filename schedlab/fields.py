"""Walking a parsed YAML/JSON document field by field, with the field path for error messages.

``Field`` wraps one value of a document (a Kubernetes manifest, a KubeSchedulerConfiguration)
and knows where it stands, so that a bad value raises one line naming the file or object, the
field path (``spec.containers[0].resources.requests.cpu``), the value and what was expected.
``node_affinity`` reads a v1 NodeAffinity with it; the manifest reader (a pod's
``spec.affinity.nodeAffinity``) and the configuration reader (NodeAffinityArgs
``addedAffinity``) share it, each with its own rules. ``label_selector``, ``pod_affinity`` and
``topology_spread_constraints`` read a metav1.LabelSelector, a v1 PodAffinity (or
PodAntiAffinity) and a list of v1 TopologySpreadConstraints, checked as the API server checks
a pod; the configuration reader uses the last for PodTopologySpreadArgs ``defaultConstraints``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

from schedlab import quantity
from schedlab.errors import InputError, printable
from schedlab.matching import METADATA_NAME, parse_int64, requirement_is_valid
from schedlab.objects import (
    LABEL_SELECTOR_OPERATORS,
    NODE_SELECTOR_OPERATORS,
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

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
WHEN_UNSATISFIABLE: tuple[str, ...] = ("DoNotSchedule", "ScheduleAnyway")
NODE_INCLUSION_POLICIES: tuple[str, ...] = ("Honor", "Ignore")

LABEL_KEY = (
    "a valid label key (an optional DNS subdomain prefix and '/', then at most 63 "
    "characters of [-A-Za-z0-9_.], alphanumeric at both ends)"
)
LABEL_VALUE = (
    "a valid label value (at most 63 characters of [-A-Za-z0-9_.], alphanumeric at both ends)"
)
DNS1123_SUBDOMAIN = (
    "a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', alphanumeric at both ends, "
    "at most 253 characters)"
)
DNS1123_LABEL = (
    "a DNS-1123 label (lowercase letters, digits and '-', alphanumeric at both ends, at most "
    "63 characters)"
)
DNS1035_LABEL = (
    "a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, ending "
    "alphanumeric, at most 63 characters)"
)
_UNSET: Any = object()
LONGEST_KEY_SHOWN = 80
"""The most characters of a mapping key a field path in a message shows."""

# k8s.io/apimachinery/pkg/util/validation: IsDNS1123Subdomain, IsDNS1123Label, IsDNS1035Label.
_DNS1123_LABEL_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", re.ASCII)
_DNS1123_SUBDOMAIN_RE = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", re.ASCII
)
_DNS1035_LABEL_RE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?", re.ASCII)


def is_dns1123_subdomain(name: str) -> bool:
    """IsDNS1123Subdomain: the names of Nodes, Pods and workload controllers."""
    return len(name) <= 253 and _DNS1123_SUBDOMAIN_RE.fullmatch(name) is not None


def is_dns1123_label(name: str) -> bool:
    """IsDNS1123Label: the names of Namespaces (and so ``metadata.namespace``)."""
    return len(name) <= 63 and _DNS1123_LABEL_RE.fullmatch(name) is not None


def is_dns1035_label(name: str) -> bool:
    """IsDNS1035Label: the names of Services."""
    return len(name) <= 63 and _DNS1035_LABEL_RE.fullmatch(name) is not None

def key_shown(key: str) -> str:
    """A mapping key as a field path shows it: past ``LONGEST_KEY_SHOWN`` characters, its
    first ones and "..." (a key from a file may be megabytes long); control characters
    escaped (``errors.printable``), so a message stays one line."""
    if len(key) <= LONGEST_KEY_SHOWN:
        return printable(key) if not key.isprintable() else key
    return f"{printable(key[:LONGEST_KEY_SHOWN])}..."


_to_int = lru_cache(maxsize=4096, typed=True)(quantity.to_int)
"""``quantity.to_int`` remembering the few distinct amounts a large document repeats."""


class Field:
    """A value inside a parsed document, knowing its place for error messages.

    ``where`` names the file (and object) for messages; the field path is built from the
    parents only when an error needs it (a root's path is the ``path`` it was given, or
    "document" when that is empty). An absent field has the value None. Errors are
    ``error_class`` (``InputError`` or a subclass such as ``ConfigError``). A ``strict``
    document refuses fields it does not know (see ``check_fields``), as kube decodes its
    configuration; a lenient one, as the manifest reader, ignores them.
    """

    __slots__ = ("value", "where", "_parent", "_key", "_error_class", "_strict")

    def __init__(
        self,
        value: Any,
        where: str,
        path: str = "",
        *,
        error_class: type[InputError] = InputError,
        strict: bool = False,
    ) -> None:
        self.value, self.where = value, where
        self._parent: Field | None = None
        self._key: str | int = path
        self._error_class, self._strict = error_class, strict

    def _child(self, value: Any, key: str | int) -> Field:
        """The field ``key`` (a mapping key or a list index) below this one."""
        child = Field.__new__(Field)
        child.value, child.where, child._parent, child._key = value, self.where, self, key
        child._error_class, child._strict = self._error_class, self._strict
        return child

    @property
    def path(self) -> str:
        """The field path from the root: ``a.b[0].c``; a key longer than
        ``LONGEST_KEY_SHOWN`` characters is shortened (``key_shown``)."""
        if self._parent is None:
            return str(self._key)
        parent = self._parent.path
        if isinstance(self._key, int):
            return f"{parent}[{self._key}]"
        key = key_shown(self._key)
        return f"{parent}.{key}" if parent else key

    def error(self, expected: str, value: Any = _UNSET) -> InputError:
        """The error for this field's value (or for ``value`` when given, to show something
        else at this field's path), saying what was ``expected`` instead (to raise).

        Long values are shown shortened (``errors.shown``)."""
        if value is _UNSET:
            value = self.value
        return self._error_class(self.where, self.path or "document", value, expected)

    def __getitem__(self, key: str) -> Field:
        """The field ``key`` of this mapping (value None when absent, or when this field is)."""
        if self.value is None:
            return self._child(None, key)
        if not isinstance(self.value, dict):
            raise self.error("a mapping")
        return self._child(self.value.get(key), key)

    def entries(self) -> Iterator[tuple[str, Field]]:
        """The (key, field) pairs of a mapping; none when the field is absent."""
        if self.value is None:
            return
        if not isinstance(self.value, dict):
            raise self.error("a mapping")
        for key, value in self.value.items():
            if not isinstance(key, str):
                raise self.error("a mapping with string keys")
            yield key, self._child(value, key)

    def check_fields(self, allowed: Iterable[str] | None, type_name: str) -> None:
        """In a strict document, an error for the first key of this mapping not in ``allowed``
        (None: any key), naming ``type_name`` (the kube type, "NodeSelectorTerm"). Nothing in
        a lenient document."""
        if not self._strict or allowed is None:
            return
        allowed = tuple(allowed)
        for key, field in self.entries():
            if key not in allowed:
                options = ", ".join(allowed) if allowed else "none"
                raise field.error(f"a known field of {type_name} (one of: {options})")

    def mapping(self, allowed: Iterable[str] | None, type_name: str) -> dict[str, Field]:
        """The present (non-null) fields of a mapping, by key; an absent mapping has none.
        Unknown keys are refused as ``check_fields`` does."""
        self.check_fields(allowed, type_name)
        return {key: field for key, field in self.entries() if field.value is not None}

    def elements(self) -> list[Field]:
        """The items of a list; none when the field is absent."""
        if self.value is None:
            return []
        if not isinstance(self.value, list):
            raise self.error("a list")
        return [self._child(v, i) for i, v in enumerate(self.value)]

    def string(self, default: str | None = None) -> str:
        """The value as a string; ``default`` when absent (absent is an error without one)."""
        if self.value is None and default is not None:
            return default
        if not isinstance(self.value, str):
            raise self.error("a string")
        return self.value

    def name(self) -> str:
        """The value as a non-empty string."""
        if not isinstance(self.value, str) or not self.value:
            raise self.error("a non-empty string")
        return self.value

    def dns_subdomain(self) -> str:
        """The value as a DNS-1123 subdomain (a Node's, Pod's or controller's name)."""
        return self.checked(is_dns1123_subdomain, DNS1123_SUBDOMAIN)

    def dns_label(self) -> str:
        """The value as a DNS-1123 label (a Namespace's name)."""
        return self.checked(is_dns1123_label, DNS1123_LABEL)

    def dns1035_label(self) -> str:
        """The value as a DNS-1035 label (a Service's name)."""
        return self.checked(is_dns1035_label, DNS1035_LABEL)

    def choice(self, options: tuple[str, ...], default: str | None = None) -> str:
        """The value, one of ``options``; ``default`` when absent."""
        if self.value is None and default is not None:
            return default
        if not isinstance(self.value, str) or self.value not in options:
            raise self.error("one of " + ", ".join(o or '""' for o in options))
        return self.value

    def integer(
        self,
        *,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        """The value as an int (not a bool) within [minimum, maximum]; ``default`` when
        absent."""
        if self.value is None and default is not None:
            return default
        value = self.value
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)
        ):
            if minimum is not None and maximum is not None:
                raise self.error(f"an integer in {minimum}..{maximum}")
            if minimum is not None:
                raise self.error(f"an integer >= {minimum}")
            if maximum is not None:
                raise self.error(f"an integer <= {maximum}")
            raise self.error("an integer")
        return value

    def boolean(self) -> bool:
        """The value as a bool; False when absent."""
        if self.value is None:
            return False
        if not isinstance(self.value, bool):
            raise self.error("true or false")
        return self.value

    def quantity(self, resource: str) -> int:
        """The value as an integer amount of ``resource`` in schedlab's units."""
        try:
            return _to_int(resource, self.value)
        except (quantity.QuantityError, TypeError):  # TypeError: a list or mapping
            raise self.error(quantity.EXPECTED) from None

    def quantities(
        self, valid_name: Callable[[str], bool] | None = None, expected_name: str = ""
    ) -> dict[str, int]:
        """A mapping of resource name to quantity, as integer amounts; with ``valid_name``,
        a name it refuses is an error at its own path saying ``expected_name``."""
        self.check_names(valid_name, expected_name)
        return {key: field.quantity(key) for key, field in self.entries()}

    def check_names(
        self, valid_name: Callable[[str], bool] | None, expected_name: str
    ) -> None:
        """An error for the first key of this mapping ``valid_name`` refuses (none without
        ``valid_name``), shown at its own path with the key as the value."""
        if valid_name is None:
            return
        for key, field in self.entries():
            if not valid_name(key):
                raise field.error(expected_name, value=key)

    def checked(self, valid: Callable[[str], bool], expected: str) -> str:
        """The value as a string that ``valid`` accepts (else an error saying ``expected``)."""
        if not isinstance(self.value, str) or not valid(self.value):
            raise self.error(expected)
        return self.value

    def strings(self) -> dict[str, str]:
        """A mapping of string to string (labels, nodeSelector)."""
        return {key: field.string() for key, field in self.entries()}

    def label_key(self) -> str:
        """The value as a valid label key (the API server's IsQualifiedName)."""
        return self.checked(_is_label_key, LABEL_KEY)

    def label_value(self) -> str:
        """The value as a valid label value (IsValidLabelValue; empty is valid)."""
        return self.checked(_is_label_value, LABEL_VALUE)

    def label_map(self) -> dict[str, str]:
        """A mapping of valid label keys to valid label values (matchLabels, a Service's
        selector), as the API server's ValidateLabels; a bad key is shown at its own path."""
        labels = {}
        for key, field in self.entries():
            if not _is_label_key(key):
                raise field.error(LABEL_KEY, value=key)
            labels[key] = field.label_value()
        return labels


def is_label_key(key: str) -> bool:
    """IsQualifiedName: a valid label key (optional DNS subdomain prefix and '/')."""
    return requirement_is_valid(NodeSelectorRequirement(key, "Exists"))


def is_label_value(value: str) -> bool:
    """IsValidLabelValue: a valid label value (empty is valid)."""
    return requirement_is_valid(NodeSelectorRequirement("k", "In", (value,)))


_is_label_key, _is_label_value = is_label_key, is_label_value


# --- node affinity ---------------------------------------------------------------------------


def node_affinity(
    field: Field,
    *,
    min_preferred_weight: int,
    label_syntax: bool = False,
    require_preference: bool = False,
    warn: Callable[[Field, str], None] | None = None,
) -> NodeAffinity | None:
    """A v1 NodeAffinity (``requiredDuringSchedulingIgnoredDuringExecution``,
    ``preferredDuringSchedulingIgnoredDuringExecution``) as ``objects.NodeAffinity``; None when
    the field is absent.

    Checked as the API server checks a pod's node affinity: at least one required term;
    matchExpressions operators In/NotIn (one or more values), Exists/DoesNotExist (none),
    Gt/Lt (exactly one); matchFields only ``metadata.name`` In/NotIn with one value; preferred
    weights ``min_preferred_weight``..100 (1 for a pod; kube's NodeAffinityArgs allow 0, a
    term that adds nothing). ``label_syntax`` also requires what kube's args validation
    (labels.NewRequirement) requires: valid label keys and values, Gt/Lt bounds that are int64
    integers. ``require_preference`` refuses a preferred term without ``preference``.
    Without ``label_syntax``, a Gt/Lt bound that is not an int64 is accepted, as the API
    server accepts it in a pod (the term never matches), and ``warn`` (if given) is called
    with the value's field and a message. Unknown fields are refused in a strict document
    (``Field.check_fields``).
    """
    if field.value is None:
        return None
    field.check_fields((REQUIRED, PREFERRED), "NodeAffinity")
    selector = field[REQUIRED]
    required = None
    if selector.value is not None:
        selector.check_fields(("nodeSelectorTerms",), "NodeSelector")
        terms = selector["nodeSelectorTerms"]
        elements = terms.elements()
        if not elements:
            raise terms.error("at least one node selector term")
        required = tuple(
            node_selector_term(t, label_syntax=label_syntax, warn=warn) for t in elements
        )
    preferred = []
    for item in field[PREFERRED].elements():
        item.check_fields(("weight", "preference"), "PreferredSchedulingTerm")
        weight = item["weight"].integer(minimum=min_preferred_weight, maximum=100)
        preference = item["preference"]
        if require_preference and preference.value is None:
            raise preference.error("a node selector term")
        term = node_selector_term(preference, label_syntax=label_syntax, warn=warn)
        preferred.append(PreferredSchedulingTerm(weight, term))
    return NodeAffinity(required, tuple(preferred))


def node_selector_term(
    field: Field,
    *,
    label_syntax: bool = False,
    warn: Callable[[Field, str], None] | None = None,
) -> NodeSelectorTerm:
    """A v1 NodeSelectorTerm (``matchExpressions`` over labels, ``matchFields`` over the node
    name), checked as ``node_affinity`` says; an absent term has neither."""
    field.check_fields(("matchExpressions", "matchFields"), "NodeSelectorTerm")
    expressions = field["matchExpressions"].elements()
    match_fields = field["matchFields"].elements()
    return NodeSelectorTerm(
        tuple(label_requirement(r, label_syntax=label_syntax, warn=warn) for r in expressions),
        tuple(field_requirement(r) for r in match_fields),
    )


def label_requirement(
    field: Field,
    *,
    label_syntax: bool = False,
    warn: Callable[[Field, str], None] | None = None,
) -> NodeSelectorRequirement:
    """One ``matchExpressions`` entry: a non-empty key, one of the six operators, and as many
    string values as the operator takes (see ``node_affinity`` for ``label_syntax`` and
    ``warn``)."""
    field.check_fields(("key", "operator", "values"), "NodeSelectorRequirement")
    key_field = field["key"]
    key = key_field.name()
    operator = field["operator"].choice(NODE_SELECTOR_OPERATORS)
    values_field = field["values"]
    value_fields = values_field.elements()
    values = tuple(v.string() for v in value_fields)
    if operator in ("In", "NotIn") and not values:
        raise values_field.error(f"at least one value for operator {operator}")
    if operator in ("Exists", "DoesNotExist") and values:
        raise values_field.error(f"no values for operator {operator}")
    if operator in ("Gt", "Lt") and (
        len(values) != 1 or (label_syntax and parse_int64(values[0]) is None)
    ):
        one = "exactly one integer value" if label_syntax else "exactly one value"
        raise values_field.error(f"{one} for operator {operator}")
    if operator in ("Gt", "Lt") and warn is not None and parse_int64(values[0]) is None:
        warn(value_fields[0], f"not an integer: the requirement {operator} never matches")
    if label_syntax:
        key_field.label_key()
        for value_field in value_fields:
            value_field.label_value()
    return NodeSelectorRequirement(key, operator, values)


def field_requirement(field: Field) -> NodeSelectorRequirement:
    """One ``matchFields`` entry: key ``metadata.name``, operator In or NotIn, exactly one
    node name."""
    field.check_fields(("key", "operator", "values"), "NodeSelectorRequirement")
    key_field = field["key"]
    if key_field.value != METADATA_NAME:
        raise key_field.error(f"{METADATA_NAME} (the only field matchFields takes)")
    operator = field["operator"].choice(("In", "NotIn"))
    values_field = field["values"]
    values = tuple(v.string() for v in values_field.elements())
    if len(values) != 1:
        raise values_field.error("exactly one node name")
    return NodeSelectorRequirement(METADATA_NAME, operator, values)


# --- label selectors -------------------------------------------------------------------------


def label_selector(field: Field) -> LabelSelector | None:
    """A metav1.LabelSelector (``matchLabels``, ``matchExpressions``); None when the field is
    absent or null, an empty ``LabelSelector`` for ``{}``.

    Checked as the API server's ValidateLabelSelector: matchLabels keys and values are valid
    label keys and values; each expression has a valid key, an operator In, NotIn, Exists or
    DoesNotExist, one or more valid label values for In/NotIn and none for Exists/DoesNotExist.
    """
    if field.value is None:
        return None
    field.check_fields(("matchLabels", "matchExpressions"), "LabelSelector")
    match_labels = field["matchLabels"].label_map()
    expressions = field["matchExpressions"].elements()
    return LabelSelector(match_labels, tuple(label_selector_requirement(e) for e in expressions))


def label_selector_requirement(field: Field) -> LabelSelectorRequirement:
    """One ``matchExpressions`` entry of a label selector (see ``label_selector``)."""
    field.check_fields(("key", "operator", "values"), "LabelSelectorRequirement")
    key = field["key"].label_key()
    operator = field["operator"].choice(LABEL_SELECTOR_OPERATORS)
    values_field = field["values"]
    value_fields = values_field.elements()
    if operator in ("In", "NotIn") and not value_fields:
        raise values_field.error(f"at least one value for operator {operator}")
    if operator in ("Exists", "DoesNotExist") and value_fields:
        raise values_field.error(f"no values for operator {operator}")
    return LabelSelectorRequirement(key, operator, tuple(v.label_value() for v in value_fields))


# --- pod affinity ----------------------------------------------------------------------------

_TERM_FIELDS = (
    "labelSelector", "namespaces", "topologyKey", "namespaceSelector", "matchLabelKeys",
    "mismatchLabelKeys",
)
_UNMODELLED_TERM_FIELDS = ("matchLabelKeys", "mismatchLabelKeys")


def pod_affinity(field: Field, type_name: str = "PodAffinity") -> PodAffinity | None:
    """A v1 PodAffinity or PodAntiAffinity (``type_name``, for messages) as
    ``objects.PodAffinity``; None when the field is absent (``{}`` is an affinity without
    terms, which kube still counts as the pod having affinity).

    Required terms are a list of PodAffinityTerm (see ``pod_affinity_term``); preferred ones
    ``{weight: 1..100, podAffinityTerm}``.
    """
    if field.value is None:
        return None
    field.check_fields((REQUIRED, PREFERRED), type_name)
    required = tuple(pod_affinity_term(t) for t in field[REQUIRED].elements())
    preferred = []
    for item in field[PREFERRED].elements():
        item.check_fields(("weight", "podAffinityTerm"), "WeightedPodAffinityTerm")
        weight = item["weight"].integer(minimum=1, maximum=100)
        term = item["podAffinityTerm"]
        if term.value is None:
            raise term.error("a pod affinity term (with a topologyKey)")
        preferred.append(WeightedPodAffinityTerm(weight, pod_affinity_term(term)))
    return PodAffinity(required, tuple(preferred))


def pod_affinity_term(field: Field) -> PodAffinityTerm:
    """A v1 PodAffinityTerm: ``labelSelector`` (absent: None, matching no pod),
    ``namespaces`` (non-empty strings), ``namespaceSelector`` (absent: None; ``{}`` selects
    every namespace) and ``topologyKey`` (required, a valid label key, as the API server
    checks). ``matchLabelKeys`` and ``mismatchLabelKeys`` are not modelled: a non-empty list
    is an error rather than silently ignored."""
    field.check_fields(_TERM_FIELDS, "PodAffinityTerm")
    for name in _UNMODELLED_TERM_FIELDS:
        keys = field[name]
        if keys.elements():
            raise keys.error(
                f"no {name} (schedlab does not model {name} of pod affinity terms; the API "
                "server merges them into labelSelector when it creates a pod: write the "
                "merged labelSelector instead)"
            )
    selector = label_selector(field["labelSelector"])
    namespaces = tuple(n.dns_label() for n in field["namespaces"].elements())
    namespace_selector = label_selector(field["namespaceSelector"])
    topology_key = field["topologyKey"].label_key()
    return PodAffinityTerm(topology_key, selector, namespaces, namespace_selector)


# --- topology spread constraints -------------------------------------------------------------

_CONSTRAINT_FIELDS = (
    "maxSkew", "topologyKey", "whenUnsatisfiable", "labelSelector", "minDomains",
    "matchLabelKeys", "nodeAffinityPolicy", "nodeTaintsPolicy",
)


def topology_spread_constraints(
    field: Field, *, defaults: bool = False
) -> tuple[TopologySpreadConstraint, ...]:
    """A list of v1 TopologySpreadConstraint (see ``topology_spread_constraint``); two
    constraints with the same ``{topologyKey, whenUnsatisfiable}`` pair are an error, as the
    API server's. ``defaults`` reads PodTopologySpreadArgs ``defaultConstraints``."""
    constraints: list[TopologySpreadConstraint] = []
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(field.elements()):
        constraint = topology_spread_constraint(item, default=defaults)
        pair = (constraint.topology_key, constraint.when_unsatisfiable)
        if pair in seen:
            shown = {"topologyKey": pair[0], "whenUnsatisfiable": pair[1]}
            raise item.error(
                "a {topologyKey, whenUnsatisfiable} pair no other constraint has "
                f"({field.path}[{seen[pair]}] has it)",
                value=shown,
            )
        seen[pair] = index
        constraints.append(constraint)
    return tuple(constraints)


def topology_spread_constraint(field: Field, *, default: bool = False) -> TopologySpreadConstraint:
    """A v1 TopologySpreadConstraint, checked as the API server checks a pod's.

    ``maxSkew`` an integer >= 1; ``topologyKey`` a valid label key; ``whenUnsatisfiable``
    DoNotSchedule or ScheduleAnyway (required); ``labelSelector`` optional (absent: None,
    matching no pod); ``minDomains`` optional, >= 1 and only with DoNotSchedule (absent: 1);
    ``matchLabelKeys`` valid label keys, only with a labelSelector and none of its keys;
    ``nodeAffinityPolicy`` (default Honor) and ``nodeTaintsPolicy`` (default Ignore) Honor or
    Ignore. A ``default`` constraint (PodTopologySpreadArgs) must not set a labelSelector, as
    kube's args validation requires (the selector is deduced for each pod); matchLabelKeys
    need no selector there.
    """
    field.check_fields(_CONSTRAINT_FIELDS, "TopologySpreadConstraint")
    max_skew = field["maxSkew"].integer(minimum=1, maximum=INT32_MAX)
    topology_key = field["topologyKey"].label_key()
    when = field["whenUnsatisfiable"].choice(WHEN_UNSATISFIABLE)
    selector_field = field["labelSelector"]
    if default and selector_field.value is not None:
        raise selector_field.error(
            "no labelSelector in a default constraint (it is deduced for each pod from the "
            "Services and controllers selecting it)"
        )
    selector = label_selector(selector_field)
    min_domains_field = field["minDomains"]
    min_domains = 1
    if min_domains_field.value is not None:
        min_domains = min_domains_field.integer(minimum=1, maximum=INT32_MAX)
        if when != "DoNotSchedule":
            raise min_domains_field.error(
                f"no minDomains with whenUnsatisfiable {when} (minDomains needs DoNotSchedule)"
            )
    keys_field = field["matchLabelKeys"]
    key_fields = keys_field.elements()
    if key_fields and selector is None and not default:
        raise keys_field.error("no matchLabelKeys without a labelSelector")
    selector_keys = set() if selector is None else {
        *selector.match_labels, *(r.key for r in selector.match_expressions)
    }
    keys = []
    for key_field in key_fields:
        key = key_field.label_key()
        if key in selector_keys:
            raise key_field.error("a key that labelSelector does not also name")
        keys.append(key)
    return TopologySpreadConstraint(
        max_skew=max_skew,
        topology_key=topology_key,
        when_unsatisfiable=when,
        label_selector=selector,
        min_domains=min_domains,
        match_label_keys=tuple(keys),
        node_affinity_policy=field["nodeAffinityPolicy"].choice(
            NODE_INCLUSION_POLICIES, default="Honor"
        ),
        node_taints_policy=field["nodeTaintsPolicy"].choice(
            NODE_INCLUSION_POLICIES, default="Ignore"
        ),
    )
