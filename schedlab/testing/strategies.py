"""Hypothesis strategies for schedlab objects: nodes, pods, clusters, workloads, profiles.

Every strategy draws from a small shared vocabulary (a few label keys and values, a few taint
keys, round resource amounts mixed with arbitrary ones), so node selectors match some nodes
and miss others, tolerations sometimes tolerate the cluster's taints, requests sometimes fit
exactly and scores often tie. Pods likewise draw their labels, namespaces and owners from a
few values (``POD_LABEL_VALUES``, ``NAMESPACES``, ``CONTROLLER_NAMES``), so pod (anti-)affinity
terms, spreading selectors, Services and controllers often select some pods and miss others.
Examples stay small so property tests run fast.

Amounts are integers in schedlab's units: cpu in millicores, memory and ephemeral-storage in
bytes, ``pods`` and extended resources as counts.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

from schedlab import resources
from schedlab.framework.plugin import FilterPlugin, ScorePlugin
from schedlab.framework.profile import Profile
from schedlab.matching import METADATA_NAME, UNSCHEDULABLE_TAINT
from schedlab.objects import (
    LABEL_SELECTOR_OPERATORS,
    NAMESPACE_NAME_LABEL,
    NODE_SELECTOR_OPERATORS,
    TAINT_EFFECTS,
    ApiObjects,
    Container,
    GpuRequest,
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
    PreferredSchedulingTerm,
    Service,
    Taint,
    Toleration,
    TopologySpreadConstraint,
    WeightedPodAffinityTerm,
    Workload,
)
from schedlab.plugins import (
    InterPodAffinity,
    NodeName,
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
    NodeUnschedulable,
    PodTopologySpread,
    RequestedToCapacityRatioParam,
    ScoringStrategy,
    TaintToleration,
)
from schedlab.plugins import NodeAffinity as NodeAffinityPlugin
from schedlab.plugins.node_resources_fit import MAX_CUSTOM_PRIORITY_SCORE, MAX_UTILIZATION

_T = TypeVar("_T")
MiB, GiB = 2**20, 2**30
GPU = "example.com/gpu"
"""The extended resource some nodes have and some pods request."""
ABSENT_RESOURCE = "example.com/fpga"
"""An extended resource pods sometimes request and no node has."""
HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
DISK = "example.com/disk"
RANK = "example.com/rank"
"""A label with integer values, for the Gt and Lt operators."""
MAX_NODES = 12
NODE_NAMES: tuple[str, ...] = tuple(f"node-{i}" for i in range(MAX_NODES))
LABEL_VALUES: Mapping[str, tuple[str, ...]] = {
    HOSTNAME: NODE_NAMES,
    ZONE: ("zone-a", "zone-b", "zone-c"),
    DISK: ("ssd", "hdd"),
    RANK: ("0", "1", "3", "7", "10"),
}
"""The label vocabulary nodes carry and selectors ask for, per key."""
LABEL_KEYS: tuple[str, ...] = tuple(LABEL_VALUES)
TAINT_KEYS: tuple[str, ...] = ("dedicated", GPU, "example.com/maintenance")
TAINT_VALUES: tuple[str, ...] = ("", "a", "b")
POD_LABEL_VALUES: Mapping[str, tuple[str, ...]] = {
    "app": ("web", "db", "cache"),
    "tier": ("front", "back"),
}
"""The label vocabulary pods carry and pod label selectors ask for, per key."""
POD_LABEL_KEYS: tuple[str, ...] = tuple(POD_LABEL_VALUES)
NAMESPACES: tuple[str, ...] = ("default", "team-a")
"""The namespaces pods live in (mostly the first) and affinity terms name."""
NAMESPACE_LABEL_VALUES: Mapping[str, tuple[str, ...]] = {
    "team": ("a", "b"),
    NAMESPACE_NAME_LABEL: NAMESPACES,
}
"""The labels Namespaces carry (``team``, declared by ``api_objects``, and the name label the
API server adds) and namespace selectors ask for."""
ABSENT_TOPOLOGY_KEY = "example.com/rack"
"""A topology key no generated node has."""
OWNER_KINDS: tuple[str, ...] = ("ReplicaSet", "StatefulSet")
CONTROLLER_NAMES: tuple[str, ...] = ("web", "db")
"""The names of the controllers ``api_objects`` declares and pods' owners refer to."""
SERVICE_NAMES: tuple[str, ...] = ("web-svc", "db-svc")
SCORED_RESOURCES: tuple[str, ...] = (resources.CPU, resources.MEMORY,
                                     resources.EPHEMERAL_STORAGE, GPU)
"""Resources a generated NodeResourcesFit or BalancedAllocation may be configured with."""

_ROUND_UNIT = {resources.CPU: 250, resources.MEMORY: 256 * MiB,
               resources.EPHEMERAL_STORAGE: GiB, resources.PODS: 1}
_DEFAULT_MAX = {resources.CPU: 16_000, resources.MEMORY: 32 * GiB,
                resources.EPHEMERAL_STORAGE: 100 * GiB, resources.PODS: 110}
_CONTAINER_MAX = {resources.CPU: 2_000, resources.MEMORY: 4 * GiB,
                  resources.EPHEMERAL_STORAGE: 8 * GiB}
_EXTENDED_MAX = 8
GPU_MODELS: tuple[str, ...] = ("A10", "T4", "V100")
"""The GPU models of generated GPU nodes (``nodes(gpus=True)``)."""
ABSENT_GPU_MODEL = "H100"
"""A GPU model pods sometimes ask for and no node has."""
SHARING_MILLI: tuple[int, ...] = (50, 100, 250, 500, 810, 999)
"""Milli-GPU asks of generated sharing pods."""
WHOLE_GPU_COUNTS: tuple[int, ...] = (1, 2, 4, 8)
"""GPU counts of generated whole-GPU pods."""
_NODE_GPU_COUNTS = st.sampled_from(WHOLE_GPU_COUNTS) | st.integers(1, 8)


@functools.lru_cache(maxsize=4096)
def _sampled_from(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


def _sampled(values: Iterable[_T]) -> st.SearchStrategy[_T]:
    """``st.sampled_from(values)``, one object per distinct tuple of values: hypothesis
    validates each new strategy object on its first draw, which costs more than the draw."""
    return _sampled_from(tuple(values))


def _one_in(draw: st.DrawFn, n: int) -> bool:
    """True with probability about 1/n."""
    return draw(st.integers(0, n - 1)) == 0


@functools.lru_cache(maxsize=4096)  # one strategy object per arguments (see ``_sampled``)
def quantities(resource: str, *, min_value: int = 0, max_value: int | None = None
               ) -> st.SearchStrategy[int]:
    """Integer amounts of ``resource`` in schedlab's units, in [min_value, max_value].

    A third are round multiples (250m cpu, 256Mi memory, 1Gi storage, 1 of a count), so sums
    fit exactly and scores tie; a third are a round amount plus a random remainder, so
    divisions truncate; a third are any integer in the range (hypothesis favours small
    ones). The round part is drawn uniformly, since hypothesis skews wide integer ranges
    towards small values. The default ``max_value`` is a large node's size: 16 cpus, 32Gi
    memory, 100Gi storage, 110 pods, 8 of an extended resource.
    """
    unit = _ROUND_UNIT.get(resource, 1)
    top = _DEFAULT_MAX.get(resource, _EXTENDED_MAX) if max_value is None else max_value
    if top < min_value:
        raise ValueError(f"max_value {top} < min_value {min_value}")
    low_k, high_k = -(-min_value // unit), top // unit
    arbitrary = st.integers(min_value, top)
    if low_k > high_k:
        return arbitrary
    ks = st.sampled_from(range(low_k, high_k + 1))
    near = st.tuples(ks, st.integers(0, unit - 1)).map(
        lambda kr: min(top, max(min_value, kr[0] * unit + kr[1])))
    return st.one_of(ks.map(lambda k: k * unit), near, arbitrary)


def taints(keys: Sequence[str] = TAINT_KEYS, values: Sequence[str] = TAINT_VALUES
           ) -> st.SearchStrategy[Taint]:
    """A ``Taint`` with a key and value from the vocabulary and any of the three effects
    (NoSchedule, PreferNoSchedule, NoExecute)."""
    return st.builds(Taint, _sampled(tuple(keys)), _sampled(tuple(values)),
                     _sampled(TAINT_EFFECTS))


@st.composite
def tolerations(draw: st.DrawFn, taints: Sequence[Taint] = ()) -> Toleration:
    """A ``Toleration``. Half the time, when ``taints`` (the cluster's taints) is non-empty, it
    is built to tolerate one of them: ``Equal`` on its key and value, ``Exists`` on its key, or
    the match-everything empty key with ``Exists``, with the taint's effect or an empty one.
    Otherwise it is drawn from the taint vocabulary (so it may tolerate nothing). An empty key
    always comes with ``Exists``, as the API requires."""
    pool = tuple(taints)
    effect_of = _sampled(("", *TAINT_EFFECTS))
    if bool(pool) and draw(st.booleans()):  # bool(): mypy would type draw's result as pool's
        taint = draw(_sampled(pool))
        effect = draw(_sampled(("", taint.effect)))
        kind = draw(_sampled(("equal", "exists", "all")))
        if kind == "equal":
            return Toleration(taint.key, "Equal", taint.value, effect)
        if kind == "exists":
            return Toleration(taint.key, "Exists", "", effect)
        return Toleration("", "Exists", "", effect)
    if _one_in(draw, 8):
        return Toleration("", "Exists", "", draw(effect_of))
    key = draw(_sampled(TAINT_KEYS + (UNSCHEDULABLE_TAINT.key,)))
    if draw(st.booleans()):
        return Toleration(key, "Exists", "", draw(effect_of))
    return Toleration(key, "Equal", draw(_sampled(TAINT_VALUES)), draw(effect_of))


def _values_for(label_values: Mapping[str, Sequence[str]] | Sequence[str], key: str
                ) -> tuple[str, ...]:
    if isinstance(label_values, Mapping):
        return tuple(label_values.get(key, ()))
    return tuple(label_values)


@st.composite
def _invalid_requirements(draw: st.DrawFn, key: str) -> NodeSelectorRequirement:
    """A requirement labels.NewRequirement refuses (so its term never matches)."""
    return draw(_sampled((
        NodeSelectorRequirement(key, "In", ()),
        NodeSelectorRequirement(key, "Exists", ("x",)),
        NodeSelectorRequirement(key, "Gt", ("abc",)),
        NodeSelectorRequirement(key, "Lt", ("1", "2")),
        NodeSelectorRequirement(key, "Gt", ("-3",)),
        NodeSelectorRequirement(key, "Equals", ("x",)),
        NodeSelectorRequirement("bad key!", "Exists", ()),
        NodeSelectorRequirement(key, "In", ("not a label value",)),
    )))


@st.composite
def node_selector_requirements(
    draw: st.DrawFn,
    label_keys: Sequence[str] = LABEL_KEYS,
    label_values: Mapping[str, Sequence[str]] | Sequence[str] = LABEL_VALUES,
    *,
    allow_invalid: bool = False,
) -> NodeSelectorRequirement:
    """A ``matchExpressions`` entry on one of ``label_keys`` with any of the six operators:
    In / NotIn with 1–3 values from ``label_values`` (a mapping key → values, or one shared
    sequence) plus sometimes a value no node has; Exists / DoesNotExist without values; Gt / Lt
    with one integer, often a numeric label value ± 1, else in 0..12 (mostly on the numeric
    label ``RANK``; never matching on non-numeric ones). With ``allow_invalid``, about one
    in ten is a requirement Kubernetes' parser refuses (no values for In, a non-integer Gt
    bound, an unknown operator...)."""
    key = draw(_sampled(tuple(label_keys)))
    if allow_invalid and _one_in(draw, 10):
        return draw(_invalid_requirements(key))
    operator = draw(_sampled(NODE_SELECTOR_OPERATORS))
    if operator in ("Gt", "Lt") and RANK in label_keys and not _one_in(draw, 4):
        key = RANK
    if operator in ("In", "NotIn"):
        pool = (*_values_for(label_values, key), "other")
        values = draw(st.lists(_sampled(pool), min_size=1, max_size=3, unique=True))
    elif operator in ("Exists", "DoesNotExist"):
        values = []
    else:
        numeric = [v for v in _values_for(label_values, key) if v.isdigit()]
        if numeric and not _one_in(draw, 4):
            offset = draw(_sampled((0, 0, -1, 1)))
            values = [str(int(draw(_sampled(numeric))) + offset)]
        else:
            values = [str(draw(st.integers(0, 12)))]
    return NodeSelectorRequirement(key, operator, tuple(values))


@st.composite
def node_selector_terms(
    draw: st.DrawFn,
    label_keys: Sequence[str] = LABEL_KEYS,
    label_values: Mapping[str, Sequence[str]] | Sequence[str] = LABEL_VALUES,
    node_names: Sequence[str] = NODE_NAMES,
    *,
    allow_invalid: bool = False,
) -> NodeSelectorTerm:
    """A ``NodeSelectorTerm``: 0–2 match expressions and sometimes a ``metadata.name`` In /
    NotIn match field naming one of ``node_names`` (with ``allow_invalid``, sometimes an
    unparseable field). It is sometimes empty, which matches no node."""
    expressions = draw(st.lists(
        node_selector_requirements(label_keys, label_values, allow_invalid=allow_invalid),
        min_size=0 if _one_in(draw, 8) else 1, max_size=2))
    fields = []
    if node_names and _one_in(draw, 4):
        operator = draw(_sampled(("In", "NotIn")))
        name = draw(_sampled((*node_names, "node-missing")))
        fields.append(NodeSelectorRequirement(METADATA_NAME, operator, (name,)))
    if allow_invalid and _one_in(draw, 10):
        fields.append(draw(_sampled((
            NodeSelectorRequirement(METADATA_NAME, "Exists", ()),
            NodeSelectorRequirement(METADATA_NAME, "In", ("a", "b")),
            NodeSelectorRequirement("metadata.namespace", "In", ("",)),
            NodeSelectorRequirement("spec.unschedulable", "NotIn", ("x",)),
        ))))
    return NodeSelectorTerm(tuple(expressions), tuple(fields))


@st.composite
def node_affinities(
    draw: st.DrawFn,
    label_keys: Sequence[str] = LABEL_KEYS,
    label_values: Mapping[str, Sequence[str]] | Sequence[str] = LABEL_VALUES,
    node_names: Sequence[str] = NODE_NAMES,
    *,
    allow_invalid: bool = False,
) -> NodeAffinity:
    """A ``NodeAffinity``: no required selector or 1–2 ORed required terms, and 0–2
    preferred terms with weights 1..100 (see ``node_selector_terms``)."""
    terms = node_selector_terms(label_keys, label_values, node_names,
                                allow_invalid=allow_invalid)
    required = draw(st.none() | st.lists(terms, min_size=1, max_size=2).map(tuple))
    preferred = draw(st.lists(st.builds(PreferredSchedulingTerm, st.integers(1, 100), terms),
                              max_size=2))
    return NodeAffinity(required, tuple(preferred))


@st.composite
def nodes(draw: st.DrawFn, name: str | None = None, *,
          extended_resource: str | None = GPU, gpus: bool = False) -> Node:
    """A ``Node`` named ``name`` (default: one of ``NODE_NAMES``).

    Allocatable: cpu and memory (usually at least 1 cpu and 2Gi, sometimes less), usually
    ephemeral-storage, half the time the pod-count limit ``pods`` (absent means 110; a
    present one is 1..12, so "Too many pods" happens) and 0..8 of ``extended_resource``.
    Labels: usually
    ``kubernetes.io/hostname`` = the name, usually a zone (about three nodes in four, so
    spreading and affinity have zones to count and some nodes lack the key), and half the time
    each a disk type and the numeric ``RANK``. A third of the nodes have 1–2 taints with any effect;
    about one node in six is unschedulable. With ``gpus``, two nodes in three have 1..8 GPU
    devices (often 1, 2, 4 or 8) of one of ``GPU_MODELS`` (without it, none: the draws are
    those of before GPUs existed).
    """
    name = draw(_sampled(NODE_NAMES)) if name is None else name
    allocatable = {}
    for resource, smallest in ((resources.CPU, 1000), (resources.MEMORY, 2 * GiB)):
        small = _one_in(draw, 10)
        allocatable[resource] = draw(quantities(resource, min_value=0 if small else smallest))
    if not _one_in(draw, 6):
        allocatable[resources.EPHEMERAL_STORAGE] = draw(quantities(resources.EPHEMERAL_STORAGE))
    if draw(st.booleans()):
        allocatable[resources.PODS] = draw(st.integers(1, 12))
    if extended_resource is not None and draw(st.booleans()):
        allocatable[extended_resource] = draw(quantities(extended_resource))
    labels = {}
    if not _one_in(draw, 8):
        labels[HOSTNAME] = name
    for key in (ZONE, DISK, RANK):
        if (not _one_in(draw, 6)) if key == ZONE else draw(st.booleans()):
            labels[key] = draw(_sampled(LABEL_VALUES[key]))
    node_taints = []
    if _one_in(draw, 3):
        node_taints = draw(st.lists(taints(), min_size=1, max_size=2,
                                    unique_by=lambda t: (t.key, t.effect)))
    unschedulable = _one_in(draw, 6)
    n_gpus, model = 0, ""
    if gpus and not _one_in(draw, 3):
        n_gpus, model = draw(_NODE_GPU_COUNTS), draw(_sampled(GPU_MODELS))
    return Node(name, allocatable, labels, tuple(node_taints), unschedulable, n_gpus, model)


_REQUEST_KINDS = {resources.CPU: ("absent", "zero", "some", "some"),
                  resources.MEMORY: ("absent", "zero", "some", "some"),
                  resources.EPHEMERAL_STORAGE: ("absent", "absent", "zero", "some")}


@st.composite
def _containers(draw: st.DrawFn, extended_resource: str | None, sidecar: bool = False
                ) -> Container:
    """A container naming each native resource or not (absent ≠ explicit 0)."""
    requests = {}
    for resource, top in _CONTAINER_MAX.items():
        kind = draw(_sampled(_REQUEST_KINDS[resource]))
        if kind == "zero":
            requests[resource] = 0
        elif kind == "some":
            requests[resource] = draw(quantities(resource, max_value=top))
    if extended_resource is not None and _one_in(draw, 10):
        requests[extended_resource] = draw(st.integers(0, 2))
    return Container(requests=requests, sidecar=sidecar)


# ---------------------------------------------------------------------------- pod affinity
# The drawing happens in plain ``_draw_*`` functions called with ``draw``: building a fresh
# composite strategy per draw (and validating it) costs more than drawing from it.
def _draw_namespace(draw: st.DrawFn, namespaces: Sequence[str] = NAMESPACES) -> str:
    """The first of ``namespaces`` three times in four, else one of the others."""
    if len(namespaces) == 1 or not _one_in(draw, 4):
        return namespaces[0]
    return draw(_sampled(tuple(namespaces[1:])))


def _draw_pod_labels(draw: st.DrawFn) -> dict[str, str]:
    """No labels a fifth of the time; else usually ``app`` and a third of the time ``tier``."""
    if _one_in(draw, 5):
        return {}
    labels = {}
    if not _one_in(draw, 6):
        labels["app"] = draw(_sampled(POD_LABEL_VALUES["app"]))
    if _one_in(draw, 3):
        labels["tier"] = draw(_sampled(POD_LABEL_VALUES["tier"]))
    return labels


def _draw_selector_value(draw: st.DrawFn, values: Sequence[str]) -> str:
    """One of ``values``, or now and then (one time in 7..10) "other", which no object
    carries. ("other" comes last: hypothesis favours the first choices.)"""
    return draw(_sampled((*values, *values, *values, "other")))


def _draw_requirement(draw: st.DrawFn, label_values: Mapping[str, Sequence[str]],
                      used: Sequence[str] = ()) -> LabelSelectorRequirement:
    """An expression, three times in four on a key not in ``used`` when there is one (two
    requirements on one key often contradict each other)."""
    fresh = tuple(k for k in label_values if k not in used)
    key = draw(_sampled(fresh if fresh and not _one_in(draw, 4) else tuple(label_values)))
    operator = draw(_sampled(LABEL_SELECTOR_OPERATORS))
    values: list[str] = []
    if operator in ("In", "NotIn"):
        values.append(_draw_selector_value(draw, label_values[key]))
        if _one_in(draw, 3):
            second = _draw_selector_value(draw, label_values[key])
            values += [second] if second not in values else []
    return LabelSelectorRequirement(key, operator, tuple(values))


def _draw_selector(draw: st.DrawFn, label_values: Mapping[str, Sequence[str]]) -> LabelSelector:
    if _one_in(draw, 6):
        return LabelSelector()
    keys = tuple(label_values)
    match_labels = {}
    for _ in range(draw(st.integers(0, 2))):
        key = draw(_sampled(keys))
        match_labels[key] = _draw_selector_value(draw, label_values[key])
    expressions: list[LabelSelectorRequirement] = []
    for _ in range(draw(st.integers(0 if match_labels else 1, 2))):
        used = (*match_labels, *(r.key for r in expressions))
        expressions.append(_draw_requirement(draw, label_values, used))
    return LabelSelector(match_labels, tuple(expressions))


@st.composite
def label_selector_requirements(
    draw: st.DrawFn, label_values: Mapping[str, Sequence[str]] = POD_LABEL_VALUES
) -> LabelSelectorRequirement:
    """A ``matchExpressions`` entry on one of the keys of ``label_values``: In / NotIn with 1–2
    of its values (sometimes "other", which no object carries), Exists / DoesNotExist
    without values. Always one the API server accepts."""
    return _draw_requirement(draw, label_values)


@st.composite
def label_selectors(
    draw: st.DrawFn, label_values: Mapping[str, Sequence[str]] = POD_LABEL_VALUES
) -> LabelSelector:
    """A ``LabelSelector`` over ``label_values`` (default: the pod label vocabulary; pass
    ``NAMESPACE_LABEL_VALUES`` for namespace selectors): one in six is empty ({}, matching
    everything); the others have 0–2 matchLabels (values sometimes "other") and 0–2
    expressions (see ``label_selector_requirements``), at least one of the two, mostly on
    distinct keys. About a quarter match no pod labels at all."""
    return _draw_selector(draw, label_values)


_TERM_TOPOLOGY_KEYS = (HOSTNAME,) * 4 + (ZONE,) * 4 + (DISK, ABSENT_TOPOLOGY_KEY)


def _draw_term(draw: st.DrawFn, namespaces: Sequence[str]) -> PodAffinityTerm:
    key = draw(_sampled(_TERM_TOPOLOGY_KEYS))
    selector = None if _one_in(draw, 8) else _draw_selector(draw, POD_LABEL_VALUES)
    listed: tuple[str, ...] = ()
    if _one_in(draw, 4):
        listed = tuple(dict.fromkeys(
            draw(_sampled(tuple(namespaces))) for _ in range(draw(st.integers(1, 2)))))
    kind = draw(st.integers(0, 4))  # 0-2: None, 3: empty, 4: some
    namespace_selector = None if kind < 3 else LabelSelector()
    if kind == 4:
        namespace_selector = _draw_selector(draw, NAMESPACE_LABEL_VALUES)
    return PodAffinityTerm(key, selector, listed, namespace_selector)


@st.composite
def pod_affinity_terms(draw: st.DrawFn, namespaces: Sequence[str] = NAMESPACES
                       ) -> PodAffinityTerm:
    """A ``PodAffinityTerm``: its topology key is the hostname or the zone four times in five
    each, else the disk type or ``ABSENT_TOPOLOGY_KEY`` (which no node has); its label
    selector is one of ``label_selectors`` or, one in eight, None (matching no pod). A
    quarter list 1–2 of ``namespaces``; namespaceSelector is None three times in five (so
    most terms concern the pod's own namespace), else empty (every namespace) or a selector
    over ``NAMESPACE_LABEL_VALUES``."""
    return _draw_term(draw, namespaces)


def _draw_pod_affinity(draw: st.DrawFn, namespaces: Sequence[str] = NAMESPACES) -> PodAffinity:
    required = tuple(_draw_term(draw, namespaces) for _ in range(draw(st.integers(0, 2))))
    preferred = tuple(WeightedPodAffinityTerm(draw(st.integers(1, 100)),
                                              _draw_term(draw, namespaces))
                      for _ in range(draw(st.integers(0, 2))))
    return PodAffinity(required, preferred)


@st.composite
def pod_affinities(draw: st.DrawFn, namespaces: Sequence[str] = NAMESPACES) -> PodAffinity:
    """A ``PodAffinity`` (used for podAffinity and podAntiAffinity alike): 0–2 required terms
    and 0–2 preferred ones with weights 1..100 (see ``pod_affinity_terms``); sometimes
    neither, which kube still counts as the pod having affinity."""
    return _draw_pod_affinity(draw, namespaces)


WHEN_UNSATISFIABLE: tuple[str, ...] = ("DoNotSchedule", "ScheduleAnyway")
_SPREAD_PAIRS = tuple((key, when) for key in (HOSTNAME, ZONE, DISK) for when in WHEN_UNSATISFIABLE)
_SPREAD_PAIR_INDICES = (0, 1, 0, 1, 2, 3, 2, 3, 4, 5)
"""Hostname and zone pairs twice as likely as disk ones."""


def _draw_spread(draw: st.DrawFn, min_size: int, max_size: int, defaults: bool
                 ) -> tuple[TopologySpreadConstraint, ...]:
    picks = draw(st.lists(_sampled(_SPREAD_PAIR_INDICES), min_size=min_size,
                          max_size=max_size, unique=True))
    constraints = []
    for key, when in (_SPREAD_PAIRS[i] for i in picks):
        selector = None if defaults or _one_in(draw, 16) else _draw_selector(draw,
                                                                           POD_LABEL_VALUES)
        min_domains = 1
        if when == "DoNotSchedule" and _one_in(draw, 3):
            min_domains = draw(st.integers(2, 4))
        match_label_keys: tuple[str, ...] = ()
        if selector is not None and _one_in(draw, 4):
            named = {*selector.match_labels, *(r.key for r in selector.match_expressions)}
            free = tuple(k for k in POD_LABEL_KEYS if k not in named)
            if free:
                match_label_keys = (draw(_sampled(free)),)
        constraints.append(TopologySpreadConstraint(
            max_skew=draw(st.integers(1, 3)),
            topology_key=key,
            when_unsatisfiable=when,
            label_selector=selector,
            min_domains=min_domains,
            match_label_keys=match_label_keys,
            node_affinity_policy="Ignore" if _one_in(draw, 4) else "Honor",
            node_taints_policy="Honor" if _one_in(draw, 4) else "Ignore",
        ))
    return tuple(constraints)


@st.composite
def topology_spread_constraints(
    draw: st.DrawFn, *, min_size: int = 1, max_size: int = 3, defaults: bool = False
) -> tuple[TopologySpreadConstraint, ...]:
    """``min_size``..``max_size`` (at most 6) ``TopologySpreadConstraint`` objects with
    distinct (topologyKey, whenUnsatisfiable) pairs, as the API server requires: keys the
    hostname or the zone (two in five each) or the disk type, both whenUnsatisfiable values,
    maxSkew 1..3; with DoNotSchedule a third have minDomains 2..4. The label selector is
    one of ``label_selectors`` or, now and then, None (matching no pod); a quarter of those
    with a selector have one matchLabelKeys key of the pod vocabulary the selector does not
    name. A quarter have nodeAffinityPolicy Ignore, a quarter nodeTaintsPolicy Honor (the
    non-defaults). With ``defaults``, constraints for PodTopologySpreadArgs
    ``defaultConstraints``: no selector and no matchLabelKeys."""
    return _draw_spread(draw, min_size, max_size, defaults)


def _draw_owner(draw: st.DrawFn) -> OwnerRef:
    kind = "Job" if _one_in(draw, 10) else draw(_sampled(OWNER_KINDS))
    return OwnerRef(kind, draw(_sampled(CONTROLLER_NAMES)))


@st.composite
def owner_refs(draw: st.DrawFn) -> OwnerRef:
    """An ``OwnerRef`` naming one of ``CONTROLLER_NAMES`` of a kind in ``OWNER_KINDS`` (whose
    selector ``api_objects`` may declare); one in ten is a Job, which default spreading
    ignores."""
    return _draw_owner(draw)


_APPS = POD_LABEL_VALUES["app"]
_CONTROLLER_EXPRESSIONS = (
    LabelSelectorRequirement("tier", "Exists"),
    LabelSelectorRequirement("tier", "In", ("front",)),
    LabelSelectorRequirement("tier", "DoesNotExist"),
    None,  # app NotIn (another app)
)


def _draw_controller_selector(draw: st.DrawFn) -> LabelSelector:
    """A non-empty selector some pod labels satisfy, as the API server requires of a
    controller: usually ``app`` = a value, sometimes (always without it) one expression."""
    app = draw(_sampled(_APPS))
    match_labels = {} if _one_in(draw, 5) else {"app": app}
    expressions = []
    if not match_labels or _one_in(draw, 3):
        expression = draw(_sampled(_CONTROLLER_EXPRESSIONS))
        if expression is None:
            other = _APPS[(_APPS.index(app) + draw(st.integers(1, len(_APPS) - 1))) % len(_APPS)]
            expression = LabelSelectorRequirement("app", "NotIn", (other,))
        expressions.append(expression)
    return LabelSelector(match_labels, tuple(expressions))


def _draw_service_selector(draw: st.DrawFn) -> dict[str, str] | None:
    """None (selecting no pod) one in six, {} (selecting every pod) one in twelve, else 1–2
    pod labels."""
    kind = draw(st.integers(0, 11))
    if kind < 2:
        return None
    if kind == 2:
        return {}
    keys = POD_LABEL_KEYS if _one_in(draw, 3) else (draw(_sampled(POD_LABEL_KEYS)),)
    return {key: draw(_sampled(POD_LABEL_VALUES[key])) for key in keys}


_NAMESPACE_LABELS = ((), (("team", "a"),), (("team", "b"),))


@st.composite
def api_objects(draw: st.DrawFn, namespaces: Sequence[str] = NAMESPACES) -> ApiObjects:
    """``ApiObjects`` for pods in ``namespaces``: each namespace is declared three times in
    four, with no labels, ``team: a`` or ``team: b``; 0–2 Services (names from
    ``SERVICE_NAMES``, in mostly the first namespace) whose selectors are 1–2 pod labels,
    sometimes None or {}; and for each kind of ``OWNER_KINDS`` and name of
    ``CONTROLLER_NAMES``, three times in four a controller in one of the namespaces (mostly
    the first) with a non-empty selector over the pod vocabulary, for the pods
    ``owner_refs`` gives owners."""
    pool = tuple(namespaces)
    declared = {}
    for name in pool:
        if not _one_in(draw, 4):
            declared[name] = dict(draw(_sampled(_NAMESPACE_LABELS)))
    services: dict[tuple[str, str], Service] = {}
    for _ in range(draw(st.integers(0, 2))):
        service = Service(draw(_sampled(SERVICE_NAMES)), _draw_namespace(draw, pool),
                          _draw_service_selector(draw))
        services.setdefault((service.namespace, service.name), service)
    controllers = {}
    for kind in OWNER_KINDS:
        for name in CONTROLLER_NAMES:
            if not _one_in(draw, 4):
                key = (kind, _draw_namespace(draw, pool), name)
                controllers[key] = _draw_controller_selector(draw)
    return ApiObjects(declared, tuple(services.values()), controllers)


_ZERO_REQUESTS = st.sampled_from(({}, {resources.CPU: 0}, {resources.MEMORY: 0}))


def _draw_gpu_request(draw: st.DrawFn, models: Sequence[str]) -> GpuRequest:
    if draw(st.booleans()):
        count, milli = 1, draw(_sampled(SHARING_MILLI))
    else:
        count, milli = draw(_sampled(WHOLE_GPU_COUNTS)), 1000
    allowed: frozenset[str] = frozenset()
    if _one_in(draw, 3):
        if _one_in(draw, 6):
            allowed = frozenset((ABSENT_GPU_MODEL,))
        else:
            allowed = frozenset(draw(st.lists(_sampled(tuple(models)), min_size=1,
                                              max_size=2, unique=True)))
    return GpuRequest(count, milli, allowed)


@st.composite
def gpu_requests(draw: st.DrawFn, models: Sequence[str] = GPU_MODELS) -> GpuRequest:
    """A ``GpuRequest``: half sharing (one GPU, milli from ``SHARING_MILLI``), half whole
    GPUs (count from ``WHOLE_GPU_COUNTS``); a third name 1–2 of ``models`` (one in six of
    those only ``ABSENT_GPU_MODEL``, which no node has), the others any model."""
    return _draw_gpu_request(draw, models)


@st.composite
def pod_templates(
    draw: st.DrawFn,
    *,
    taints: Sequence[Taint] = (),
    label_keys: Sequence[str] = LABEL_KEYS,
    label_values: Mapping[str, Sequence[str]] = LABEL_VALUES,
    node_names: Sequence[str] = NODE_NAMES,
    extended_resource: str | None = GPU,
    with_node_name: bool = False,
    allow_invalid: bool = False,
    with_pod_affinity: bool = True,
    gpus: bool = False,
) -> PodTemplate:
    """A pending ``PodTemplate``.

    Its namespace is "default" three times in four, else another of ``NAMESPACES``;
    its labels come from ``POD_LABEL_VALUES`` (usually ``app``, sometimes ``tier``, a fifth
    of the time none). With ``with_pod_affinity`` (the default), independently a third of
    the pods have a podAffinity, a third a podAntiAffinity (see ``pod_affinities``) and a
    third topologySpreadConstraints (see ``topology_spread_constraints``).

    One in eight is best-effort: 1–2 containers requesting nothing (or an explicit 0), no
    selector, maybe tolerations. The others have 1–3 containers, each naming cpu, memory and
    ephemeral-storage or not (absent requests exercise the scoring defaults of 100m /
    200Mi, some are an explicit 0), sometimes asking for ``extended_resource`` or for
    ``ABSENT_RESOURCE``, which no node has; 0–2 init containers, some of them sidecars;
    sometimes a pod overhead; sometimes a nodeSelector and a node affinity (required and/or
    preferred) over ``label_values`` (pass ``cluster_labels(cluster)`` to match more
    often); 0–4 tolerations biased towards ``taints`` (the cluster's) and the unschedulable
    taint. With ``with_node_name`` it sometimes names a node (one of ``node_names`` or a
    missing one), as spec.nodeName, for the NodeName plugin. ``allow_invalid`` lets the
    affinity hold requirements Kubernetes' parser refuses (see
    ``node_selector_requirements``). With ``gpus``, half the pods (best-effort ones too) have
    a GPU ask (see ``gpu_requests``); without it none, and the draws are those of before
    GPUs existed.
    """
    gpu = _draw_gpu_request(draw, GPU_MODELS) if gpus and draw(st.booleans()) else None
    namespace = _draw_namespace(draw)
    labels = _draw_pod_labels(draw)
    pod_affinity = anti_affinity = None
    spread: tuple[TopologySpreadConstraint, ...] = ()
    if with_pod_affinity:
        pod_affinity = _draw_pod_affinity(draw) if _one_in(draw, 3) else None
        anti_affinity = _draw_pod_affinity(draw) if _one_in(draw, 3) else None
        spread = _draw_spread(draw, 1, 3, False) if _one_in(draw, 3) else ()
    if _one_in(draw, 8):  # best-effort: no requests at all, or explicit zeros
        zero = draw(_ZERO_REQUESTS)
        containers = [Container(requests=zero)] * draw(st.integers(1, 2))
        return PodTemplate(namespace=namespace, labels=labels, containers=tuple(containers),
                           tolerations=tuple(draw(st.lists(tolerations(taints), max_size=2))),
                           pod_affinity=pod_affinity, pod_anti_affinity=anti_affinity,
                           topology_spread_constraints=spread, gpu=gpu)
    containers = draw(st.lists(_containers(extended_resource), min_size=1, max_size=3))
    if _one_in(draw, 25):
        containers[0] = Container(requests={**containers[0].requests, ABSENT_RESOURCE: 1})
    init = draw(st.lists(
        st.booleans().flatmap(lambda side: _containers(extended_resource, side)), max_size=2))
    overhead = {}
    if _one_in(draw, 5):
        overhead = {resources.CPU: draw(quantities(resources.CPU, max_value=250)),
                    resources.MEMORY: draw(quantities(resources.MEMORY, max_value=256 * MiB))}
    selector = {}
    if _one_in(draw, 4):
        size = 2 if _one_in(draw, 4) else 1
        for key in draw(st.lists(_sampled(tuple(label_keys)), min_size=size,
                                 max_size=size, unique=True)):
            values = label_values.get(key, ())
            selector[key] = draw(_sampled(values)) if values else "other"
        if _one_in(draw, 8):
            selector[draw(_sampled(tuple(label_keys)))] = "other"
    affinity = None
    if _one_in(draw, 2):
        affinity = draw(node_affinities(label_keys, label_values, node_names,
                                        allow_invalid=allow_invalid))
    pool = (*taints, UNSCHEDULABLE_TAINT)
    tols = draw(st.lists(tolerations(pool), max_size=4))
    node_name = None
    if with_node_name and _one_in(draw, 3):
        node_name = draw(_sampled((*node_names, "node-missing")))
    return PodTemplate(
        namespace=namespace, labels=labels,
        containers=tuple(containers), init_containers=tuple(init), overhead=overhead,
        node_selector=selector, affinity=affinity, tolerations=tuple(tols),
        node_name=node_name, pod_affinity=pod_affinity, pod_anti_affinity=anti_affinity,
        topology_spread_constraints=spread, gpu=gpu,
    )


@st.composite
def pods(draw: st.DrawFn, templates: Sequence[PodTemplate] | None = None, *,
         name: str | None = None, **template_kwargs: Any) -> Pod:
    """A ``Pod`` named ``name`` (default "pod-<n>") whose template is one of ``templates``
    (the same object, as readers intern them) or, if None, drawn from
    ``pod_templates(**template_kwargs)``. A third have an owner (see ``owner_refs``), whose
    controller selector gives default spreading constraints."""
    if templates is not None:
        template = draw(st.sampled_from(tuple(templates)))
    else:
        template = draw(pod_templates(**template_kwargs))
    if name is None:
        name = f"pod-{draw(st.integers(0, 999))}"
    owner = _draw_owner(draw) if _one_in(draw, 3) else None
    return Pod(name, template, owner)


@st.composite
def clusters(draw: st.DrawFn, *, min_nodes: int = 1, max_nodes: int = MAX_NODES,
             kinds: int | None = None, extended_resource: str | None = GPU,
             gpus: bool = False) -> list[Node]:
    """A list of ``min_nodes``..``max_nodes`` nodes (see ``nodes``) named node-0, node-1, ...,
    sharing the label and taint vocabulary. With ``kinds``, at most that many different node
    shapes are drawn and repeated (each copy renamed, its hostname label following), which
    keeps clusters of 100+ nodes cheap to generate. With ``gpus``, nodes have GPU devices
    as ``nodes(gpus=True)`` draws them."""
    n = draw(st.integers(min_nodes, max_nodes))
    names = [f"node-{i}" for i in range(n)]
    if kinds is None:
        return [draw(nodes(name, extended_resource=extended_resource, gpus=gpus))
                for name in names]
    shapes = draw(st.lists(nodes(extended_resource=extended_resource, gpus=gpus),
                           min_size=1, max_size=kinds))
    picks = draw(st.lists(st.integers(0, len(shapes) - 1), min_size=n, max_size=n))
    built = []
    for name, pick in zip(names, picks, strict=True):
        shape = shapes[pick]
        labels = dict(shape.labels)
        if HOSTNAME in labels:
            labels[HOSTNAME] = name
        built.append(dataclasses.replace(shape, name=name, labels=labels))
    return built


def cluster_labels(cluster: Sequence[Node], keys: Sequence[str] = LABEL_KEYS
                   ) -> dict[str, tuple[str, ...]]:
    """Per key of ``keys``: the values ``cluster``'s nodes carry (in first-seen order), or the
    vocabulary's values when no node has the key; selectors drawn over it match more often
    than over the whole vocabulary."""
    found: dict[str, dict[str, None]] = {key: {} for key in keys}
    for node in cluster:
        for key, value in node.labels.items():
            if key in found:
                found[key][value] = None
    return {key: tuple(values) or tuple(LABEL_VALUES.get(key, ("other",)))
            for key, values in found.items()}


def cluster_taints(cluster: Sequence[Node]) -> list[Taint]:
    """The distinct taints of ``cluster``, in first-seen order."""
    return list(dict.fromkeys(t for node in cluster for t in node.taints))


@st.composite
def _bound_pod(draw: st.DrawFn, node: Node, used: dict[str, int], name: str,
               with_pod_affinity: bool = True) -> Pod | None:
    """A pod bound to ``node`` by the kubelet (template.node_name set) that fits beside the
    requests ``used`` already there (updated in place), or None if the node is full. It has
    pod labels and a namespace as ``pod_templates`` draws them and, with
    ``with_pod_affinity``, a quarter of the time each a podAffinity and a podAntiAffinity
    (terms later pods must respect or are scored by; the kubelet does not check them)."""
    allowed = node.allocatable.get(resources.PODS, resources.DEFAULT_ALLOWED_PODS)
    if used.get(resources.PODS, 0) >= allowed:
        return None
    requests = {}
    for resource in (*_CONTAINER_MAX, *(r for r in node.allocatable if resources.is_extended(r))):
        free = node.allocatable.get(resource, 0) - used.get(resource, 0)
        kind = draw(_sampled(("absent", "zero", "some")))
        if kind == "zero" or (kind == "some" and free <= 0):
            requests[resource] = 0
        elif kind == "some":
            requests[resource] = draw(quantities(resource, max_value=free))
    namespace, labels = _draw_namespace(draw), _draw_pod_labels(draw)
    affinity = anti_affinity = None
    if with_pod_affinity:
        affinity = _draw_pod_affinity(draw) if _one_in(draw, 4) else None
        anti_affinity = _draw_pod_affinity(draw) if _one_in(draw, 4) else None
    template = PodTemplate(namespace=namespace, labels=labels,
                           containers=(Container(requests=requests),), node_name=node.name,
                           pod_affinity=affinity, pod_anti_affinity=anti_affinity)
    for resource, amount in template.requests.items():
        used[resource] = used.get(resource, 0) + amount
    used[resources.PODS] = used.get(resources.PODS, 0) + 1
    return Pod(name, template)


@st.composite
def tightened(draw: st.DrawFn, node: Node, used: Mapping[str, int], request: Mapping[str, int],
              *, max_copies: int = 1) -> Node:
    """``node`` with the allocatable of one or two resources (among those ``request`` asks a
    positive amount of, and ``pods``) set so that exactly 1..``max_copies`` more pods of
    ``request`` fit beside ``used``, give or take one unit (never below ``used``). Exact fits
    are where ``<`` and ``<=`` differ, and random amounts rarely hit them."""
    names = sorted(r for r, amount in request.items() if amount > 0 and r != resources.PODS)
    chosen = draw(st.lists(_sampled((*names, resources.PODS)), min_size=1, max_size=2,
                           unique=True))
    copies = draw(st.integers(1, max_copies))
    allocatable = dict(node.allocatable)
    for name in chosen:
        per = 1 if name == resources.PODS else request[name]
        base = used.get(name, 0)
        allocatable[name] = max(base, base + copies * per + draw(_sampled((-1, 0, 0, 1))))
    return dataclasses.replace(node, allocatable=allocatable)


@st.composite
def workloads(
    draw: st.DrawFn,
    *,
    min_nodes: int = 1,
    max_nodes: int = MAX_NODES,
    kinds: int | None = None,
    max_templates: int = 4,
    max_pending: int = 16,
    max_bound: int = 4,
    with_pod_affinity: bool = True,
) -> Workload:
    """A ``Workload``: a cluster (see ``clusters``), up to ``max_pending`` pending pods
    stamped from 1..``max_templates`` shared templates (pods of one template share the one
    ``PodTemplate`` object, as the framework caches per template identity), and up to
    ``max_bound`` pods already bound by the kubelet (``template.node_name`` set) whose
    requests and count fit their node, so the starting state is one Kubernetes could hold.
    Up to three nodes are ``tightened`` so that exactly a few pods of one template fit.
    Pods are in a random order; their keys are unique.

    Pods have labels and namespaces from the pod vocabulary; with ``with_pod_affinity`` (the
    default) templates have pod (anti-)affinity and spreading constraints as
    ``pod_templates`` draws them and bound pods sometimes (anti-)affinity terms (among the
    kubelet-bound pods these may be broken: the kubelet does not check them). Half the
    templates' pods have an owner (one ``owner_refs`` per template, as a controller's pods
    share it), and ``objects`` are drawn by ``api_objects``, so Services and controllers
    select some pods for default spreading."""
    cluster = draw(clusters(min_nodes=min_nodes, max_nodes=max_nodes, kinds=kinds))
    names = [n.name for n in cluster]
    templates = draw(st.lists(
        pod_templates(taints=cluster_taints(cluster), label_values=cluster_labels(cluster),
                      node_names=names[:MAX_NODES], with_pod_affinity=with_pod_affinity),
        min_size=1, max_size=max_templates))
    owners = [_draw_owner(draw) if draw(st.booleans()) else None for _ in templates]
    count = draw(st.integers(0, max_pending))
    picks = draw(st.lists(st.integers(0, len(templates) - 1), min_size=count, max_size=count))
    pending = [Pod(f"pod-{i}", templates[j], owners[j]) for i, j in enumerate(picks)]
    used: dict[int, dict[str, int]] = {}
    bound = []
    for k, i in enumerate(draw(st.lists(st.integers(0, len(cluster) - 1), max_size=max_bound))):
        pod = draw(_bound_pod(cluster[i], used.setdefault(i, {}), f"bound-{k}",
                              with_pod_affinity))
        if pod is not None:
            bound.append(pod)
    for i in draw(st.sets(st.integers(0, len(cluster) - 1), max_size=3)):
        template = draw(st.sampled_from(templates))
        cluster[i] = draw(tightened(cluster[i], used.get(i, {}), template.requests,
                                    max_copies=3))
    pods = tuple(draw(st.permutations(pending + bound)))
    return Workload(tuple(cluster), pods, draw(api_objects()))


@st.composite
def _fit_plugins(draw: st.DrawFn, extended_resource: str = GPU) -> NodeResourcesFit:
    names = (*SCORED_RESOURCES[:3], extended_resource)
    weights = draw(st.dictionaries(_sampled(names), st.integers(1, 5), min_size=1,
                                   max_size=4))
    strategy = draw(_sampled(("LeastAllocated", "MostAllocated",
                                     "RequestedToCapacityRatio")))
    ratio = None
    if strategy == "RequestedToCapacityRatio":
        points = draw(st.lists(st.integers(0, MAX_UTILIZATION), min_size=1, max_size=4,
                               unique=True))
        ratio = RequestedToCapacityRatioParam(tuple(
            (u, draw(st.integers(0, MAX_CUSTOM_PRIORITY_SCORE))) for u in sorted(points)))
    return NodeResourcesFit(scoring_strategy=ScoringStrategy(strategy, weights, ratio))


@st.composite
def _balanced_plugins(draw: st.DrawFn, extended_resource: str = GPU
                      ) -> NodeResourcesBalancedAllocation:
    names = (*SCORED_RESOURCES[:3], extended_resource)
    chosen = draw(st.lists(_sampled(names), min_size=2, max_size=3, unique=True))
    return NodeResourcesBalancedAllocation(resources=dict.fromkeys(chosen, 1))


@st.composite
def _inter_pod_affinity_plugins(draw: st.DrawFn) -> InterPodAffinity:
    weight = draw(_sampled((0, 1, 1, 100)) | st.integers(0, 100))
    return InterPodAffinity(hard_pod_affinity_weight=weight,
                            ignore_preferred_terms_of_existing_pods=_one_in(draw, 3))


@st.composite
def _spread_plugins(draw: st.DrawFn) -> PodTopologySpread:
    if draw(st.booleans()):
        return PodTopologySpread()
    constraints = _draw_spread(draw, 0, 2, True)
    return PodTopologySpread(defaulting_type="List", default_constraints=constraints)


def percentages() -> st.SearchStrategy[int]:
    """percentageOfNodesToScore: 0 (adaptive), 100, or anything in 1..100."""
    return st.one_of(st.just(0), st.just(100), st.integers(1, 100))


@st.composite
def profiles(draw: st.DrawFn, *, require_all_filters: bool = True,
             extended_resource: str = GPU) -> Profile:
    """A ``Profile``: a fifth of the time the default one; otherwise the five node-local
    built-in filters in a random order (with ``require_all_filters=False``, a random subset of
    them, so a placement need not hold every hard constraint: see ``enforced_constraints``)
    and a random subset of the built-in score plugins (possibly none) with weights 1..5.
    NodeResourcesFit gets a random strategy (RequestedToCapacityRatio with a valid shape of
    1–4 points) and resource weights over cpu, memory, ephemeral-storage and
    ``extended_resource``; BalancedAllocation 2 or 3 resources; NodeAffinity sometimes an
    ``added_affinity``.

    PodTopologySpread (System defaulting half the time, else List with 0–2 default
    constraints, see ``topology_spread_constraints(defaults=True)``) and InterPodAffinity
    (hardPodAffinityWeight often 0, 1 or 100, else any in 0..100; a third ignoring the
    preferred terms of existing pods) are filters (each only half the time without
    ``require_all_filters``; with it every hard constraint holds), inserted in kube's order: right
    after NodeResourcesFit (at the end without it), PodTopologySpread first. Both are in the
    pool of score plugins. A
    plugin in both lists is one object, as in kube. The percentage_of_nodes_to_score is 0, 100
    or in 1..100."""
    percentage = draw(percentages())
    if _one_in(draw, 5):
        return Profile.default(percentage)
    affinity = NodeAffinityPlugin(
        added_affinity=draw(st.none() | node_affinities()) if _one_in(draw, 3) else None)
    fit = draw(_fit_plugins(extended_resource))
    taint = TaintToleration()
    filter_pool: list[FilterPlugin] = [NodeUnschedulable(), NodeName(), taint, affinity, fit]
    if require_all_filters:
        filters = draw(st.permutations(filter_pool))
    else:
        order = draw(st.lists(st.integers(0, len(filter_pool) - 1), unique=True))
        filters = [filter_pool[i] for i in order]
    spread, inter_pod = draw(_spread_plugins()), draw(_inter_pod_affinity_plugins())
    inter_pod_filters = [p for p in (spread, inter_pod)
                         if require_all_filters or draw(st.booleans())]
    at = next((i + 1 for i, p in enumerate(filters) if p is fit), len(filters))
    filters[at:at] = inter_pod_filters
    score_pool: list[ScorePlugin] = [taint, affinity, fit,
                                     draw(_balanced_plugins(extended_resource))]
    score_pool += [spread, inter_pod]
    order = draw(st.lists(st.integers(0, len(score_pool) - 1), unique=True))
    scores = tuple((score_pool[i], draw(st.integers(1, 5))) for i in order)
    return Profile(tuple(filters), scores, percentage)
