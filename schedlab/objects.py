"""Kubernetes objects as schedlab holds them: small, frozen, hashable Python values.

Readers (``schedlab.traces``) build these from manifests or traces; ``schedlab.cluster`` and
``schedlab.pods`` compile them into numpy arrays once. Resource amounts are integers in
schedlab's units: cpu in millicores, memory and storage in bytes, extended resources as counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, Literal, NamedTuple, TypeVar

from schedlab import resources
from schedlab.errors import SchedlabError

TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
TAINT_EFFECTS: tuple[str, ...] = ("NoSchedule", "PreferNoSchedule", "NoExecute")
NODE_SELECTOR_OPERATORS: tuple[str, ...] = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
LABEL_SELECTOR_OPERATORS: tuple[str, ...] = ("In", "NotIn", "Exists", "DoesNotExist")
ZONE_KEY = "topology.kubernetes.io/zone"
HOSTNAME_KEY = "kubernetes.io/hostname"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""The label the API server puts on every Namespace, holding its name."""
MILLI_PER_GPU = 1000
"""A whole GPU in milli-GPU, the unit of GPU sharing."""
GPU_MODEL_KEY = "alibabacloud.com/gpu-card-model"
"""Node label holding the GPU model; pod annotation holding the allowed models ("|")."""
GPU_COUNT_KEY = "alibabacloud.com/gpu-count"
"""Node allocatable: GPUs on the node; pod annotation: GPUs asked for."""
GPU_MILLI_KEY = "alibabacloud.com/gpu-milli"
"""Node allocatable: milli-GPU on the node (GPUs × 1000); pod annotation: milli per GPU."""


K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """An immutable, hashable mapping (labels, requests, node selectors)."""

    __slots__ = ("_items", "_dict", "_hash")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._dict = dict(items)
        self._items = tuple(sorted(self._dict.items()))
        self._hash = hash(self._items)

    def __getitem__(self, key: K) -> V:
        return self._dict[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._items == other._items
        return isinstance(other, Mapping) and self._dict == dict(other)

    def __repr__(self) -> str:
        return f"FrozenMap({self._dict!r})"


def _freeze(obj: object, **fields: object) -> None:
    """Set fields on a frozen dataclass during ``__post_init__``."""
    for name, value in fields.items():
        object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Taint:
    key: str
    value: str = ""
    effect: TaintEffect = "NoSchedule"


@dataclass(frozen=True)
class Toleration:
    """``operator`` is "Equal" (the default) or "Exists"; an empty key with Exists matches all.
    ``seconds`` is ``tolerationSeconds`` (NoExecute only): how long a bound pod stays once the
    node gets the taint; None tolerates it for ever."""

    key: str = ""
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str = ""
    effect: str = ""
    seconds: int | None = None


@dataclass(frozen=True)
class NodeSelectorRequirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _freeze(self, values=tuple(self.values))


@dataclass(frozen=True)
class NodeSelectorTerm:
    """All ``match_expressions`` (over labels) and ``match_fields`` (over metadata.name) must
    match. A term with neither matches no node."""

    match_expressions: tuple[NodeSelectorRequirement, ...] = ()
    match_fields: tuple[NodeSelectorRequirement, ...] = ()

    def __post_init__(self) -> None:
        _freeze(
            self,
            match_expressions=tuple(self.match_expressions),
            match_fields=tuple(self.match_fields),
        )

    @property
    def is_empty(self) -> bool:
        return not self.match_expressions and not self.match_fields


@dataclass(frozen=True)
class PreferredSchedulingTerm:
    weight: int
    preference: NodeSelectorTerm


@dataclass(frozen=True)
class NodeAffinity:
    """``required`` is None when the pod has no requiredDuringScheduling... selector."""

    required: tuple[NodeSelectorTerm, ...] | None = None
    preferred: tuple[PreferredSchedulingTerm, ...] = ()

    def __post_init__(self) -> None:
        required = None if self.required is None else tuple(self.required)
        _freeze(self, required=required, preferred=tuple(self.preferred))


@dataclass(frozen=True)
class LabelSelectorRequirement:
    """One matchExpressions entry of a pod label selector (In, NotIn, Exists, DoesNotExist)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _freeze(self, values=tuple(self.values))


@dataclass(frozen=True)
class LabelSelector:
    """A metav1.LabelSelector: every ``match_labels`` pair and every expression must match.
    An empty selector matches every pod; where a field may be nil, None matches none."""

    match_labels: Mapping[str, str] = field(default_factory=FrozenMap)
    match_expressions: tuple[LabelSelectorRequirement, ...] = ()

    def __post_init__(self) -> None:
        _freeze(
            self,
            match_labels=FrozenMap(self.match_labels),
            match_expressions=tuple(self.match_expressions),
        )

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions


@dataclass(frozen=True)
class PodAffinityTerm:
    """Pods matching ``label_selector`` (None matches none) in the ``namespaces`` listed or
    selected by ``namespace_selector`` (None selects none, empty selects all; with neither,
    the namespace of the pod carrying the term), counted per ``topology_key`` domain."""

    topology_key: str
    label_selector: LabelSelector | None = None
    namespaces: tuple[str, ...] = ()
    namespace_selector: LabelSelector | None = None

    def __post_init__(self) -> None:
        _freeze(self, namespaces=tuple(self.namespaces))


@dataclass(frozen=True)
class WeightedPodAffinityTerm:
    """A preferred term; ``weight`` is 1..100."""

    weight: int
    term: PodAffinityTerm


@dataclass(frozen=True)
class PodAffinity:
    """The required and preferred terms of a podAffinity or a podAntiAffinity."""

    required: tuple[PodAffinityTerm, ...] = ()
    preferred: tuple[WeightedPodAffinityTerm, ...] = ()

    def __post_init__(self) -> None:
        _freeze(self, required=tuple(self.required), preferred=tuple(self.preferred))


@dataclass(frozen=True)
class TopologySpreadConstraint:
    """A pod's topologySpreadConstraints entry, with Kubernetes' defaults.

    ``when_unsatisfiable`` is "DoNotSchedule" (a filter) or "ScheduleAnyway" (a score);
    ``label_selector`` None matches no pod; ``match_label_keys`` adds ``key in (value)`` for
    each key the pod carries; the policies are "Honor" or "Ignore".
    """

    max_skew: int
    topology_key: str
    when_unsatisfiable: str = "DoNotSchedule"
    label_selector: LabelSelector | None = None
    min_domains: int = 1
    match_label_keys: tuple[str, ...] = ()
    node_affinity_policy: str = "Honor"
    node_taints_policy: str = "Ignore"

    def __post_init__(self) -> None:
        _freeze(self, match_label_keys=tuple(self.match_label_keys))


@dataclass(frozen=True)
class Container:
    """``requests`` holds only the resources the container names (absent ≠ explicit 0);
    ``sidecar`` is an init container with ``restartPolicy: Always``."""

    name: str = "main"
    requests: Mapping[str, int] = field(default_factory=FrozenMap)
    sidecar: bool = False

    def __post_init__(self) -> None:
        _freeze(self, requests=FrozenMap(self.requests))


class OwnerRef(NamedTuple):
    """The controller that owns a pod (kind and name). A named tuple: pods' cache keys hold
    it and are hashed on every scheduling cycle."""

    kind: str
    name: str


@dataclass(frozen=True)
class GpuRequest:
    """A pod's GPU ask: ``count`` GPUs of one node, each with ``milli`` milli-GPU free
    (1..1000), of a model in ``models`` (empty: any model).

    ``count`` 1 with ``milli`` below 1000 is a sharing pod: it fits inside one GPU's
    remainder. ``milli`` 1000 asks for ``count`` fully free GPUs; a pod asking for more than
    one GPU asks for whole GPUs (as in the Alibaba trace).
    """

    count: int
    milli: int = MILLI_PER_GPU
    models: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _freeze(self, models=frozenset(self.models))
        whole = self.milli == MILLI_PER_GPU
        if not (isinstance(self.count, int) and self.count >= 1 and isinstance(self.milli, int)
                and 1 <= self.milli <= MILLI_PER_GPU and (self.count == 1 or whole)):
            raise SchedlabError(
                f"GPU request: count {self.count!r}, milli {self.milli!r}: expected count >= 1 "
                f"and milli 1..{MILLI_PER_GPU}, and milli {MILLI_PER_GPU} when count > 1"
            )

    @property
    def total_milli(self) -> int:
        """The whole ask in milli-GPU: ``count * milli``."""
        return self.count * self.milli

    @property
    def shares(self) -> bool:
        """True for a sharing pod (one GPU, less than all of it)."""
        return self.count == 1 and self.milli < MILLI_PER_GPU


@dataclass(frozen=True)
class PodTemplate:
    """Everything about a pod that scheduling reads, shared by the pods stamped from it.

    Readers intern templates, so pods of one controller share one object and the framework
    compiles and caches per template.
    """

    namespace: str = "default"
    labels: Mapping[str, str] = field(default_factory=FrozenMap)
    containers: tuple[Container, ...] = ()
    init_containers: tuple[Container, ...] = ()
    overhead: Mapping[str, int] = field(default_factory=FrozenMap)
    node_selector: Mapping[str, str] = field(default_factory=FrozenMap)
    affinity: NodeAffinity | None = None
    tolerations: tuple[Toleration, ...] = ()
    priority: int = 0
    node_name: str | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAffinity | None = None
    topology_spread_constraints: tuple[TopologySpreadConstraint, ...] = ()
    gpu: GpuRequest | None = None
    """GPU devices asked for (None: no GPU)."""

    def __post_init__(self) -> None:
        _freeze(
            self,
            labels=FrozenMap(self.labels),
            containers=tuple(self.containers),
            init_containers=tuple(self.init_containers),
            overhead=FrozenMap(self.overhead),
            node_selector=FrozenMap(self.node_selector),
            tolerations=tuple(self.tolerations),
            topology_spread_constraints=tuple(self.topology_spread_constraints),
        )

    @property
    def has_pod_affinity(self) -> bool:
        """True when the pod has any podAffinity or podAntiAffinity (kube's PodsWithAffinity)."""
        return self.pod_affinity is not None or self.pod_anti_affinity is not None

    @cached_property
    def requests(self) -> dict[str, int]:
        """The pod's effective request per resource (kube's PodRequests), without defaults."""
        return resources.pod_requests(self.containers, self.init_containers, self.overhead)

    @cached_property
    def nonzero_requests(self) -> dict[str, int]:
        """As ``requests``, with 100m cpu / 200MiB memory for each container that names none;
        used only for scoring, as kube-scheduler's NonZeroRequested."""
        return resources.pod_requests(
            self.containers, self.init_containers, self.overhead, resources.NON_ZERO_DEFAULTS
        )


@dataclass(frozen=True, slots=True)
class Pod:
    name: str
    template: PodTemplate
    owner: OwnerRef | None = None
    key: str = field(init=False, repr=False, compare=False)
    """``namespace/name``, unique within a workload."""
    cache_key: tuple[int, OwnerRef | None] = field(init=False, repr=False, compare=False)
    """What scheduling reads of this pod besides its name: its template (by identity, as
    readers intern templates) and its owner (default spreading depends on it). Pods with
    equal keys get the same answers from every plugin."""

    def __post_init__(self) -> None:
        # (both are asked on every scheduling cycle and bind: kept, not recomputed)
        object.__setattr__(self, "key", f"{self.template.namespace}/{self.name}")
        object.__setattr__(self, "cache_key", (id(self.template), self.owner))

    @property
    def namespace(self) -> str:
        return self.template.namespace


@dataclass(frozen=True)
class Node:
    """``allocatable`` maps resource name to amount (``pods`` is the pod-count limit);
    ``gpus`` GPU devices of model ``gpu_model`` have 1000 milli-GPU each."""

    name: str
    allocatable: Mapping[str, int] = field(default_factory=FrozenMap)
    labels: Mapping[str, str] = field(default_factory=FrozenMap)
    taints: tuple[Taint, ...] = ()
    unschedulable: bool = False
    gpus: int = 0
    gpu_model: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.gpus, bool) or not isinstance(self.gpus, int) or self.gpus < 0:
            raise SchedlabError(f"node {self.name}: gpus {self.gpus!r}: expected an integer >= 0")
        _freeze(
            self,
            allocatable=FrozenMap(self.allocatable),
            labels=FrozenMap(self.labels),
            taints=tuple(self.taints),
        )


@dataclass(frozen=True)
class Service:
    """A v1 Service as scheduling reads it: its pod selector (None selects no pod)."""

    name: str
    namespace: str = "default"
    selector: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if self.selector is not None:
            _freeze(self, selector=FrozenMap(self.selector))


@dataclass(frozen=True)
class ApiObjects:
    """The API objects besides nodes and pods that scheduling reads.

    namespaces   namespace name → its labels as declared (``NAMESPACE_NAME_LABEL`` is implied)
    services     the Services, whose selectors give pods default spreading constraints
    controllers  (kind, namespace, name) → the ``spec.selector`` of each ReplicaSet,
                 StatefulSet or Deployment, for the pods they own
    """

    namespaces: Mapping[str, Mapping[str, str]] = field(default_factory=FrozenMap)
    services: tuple[Service, ...] = ()
    controllers: Mapping[tuple[str, str, str], LabelSelector] = field(default_factory=FrozenMap)

    def __post_init__(self) -> None:
        namespaces = FrozenMap((k, FrozenMap(v)) for k, v in self.namespaces.items())
        _freeze(
            self,
            namespaces=namespaces,
            services=tuple(self.services),
            controllers=FrozenMap(self.controllers),
        )

    def namespace_labels(self, namespace: str) -> Mapping[str, str]:
        """The labels of ``namespace``, with its ``kubernetes.io/metadata.name``."""
        declared = self.namespaces.get(namespace, {})
        return FrozenMap({**declared, NAMESPACE_NAME_LABEL: namespace})


@dataclass(frozen=True)
class Workload:
    """Nodes and pods in input order. Pods whose template names a node are already bound."""

    nodes: tuple[Node, ...]
    pods: tuple[Pod, ...]
    objects: ApiObjects = field(default_factory=ApiObjects)

    def __post_init__(self) -> None:
        _freeze(self, nodes=tuple(self.nodes), pods=tuple(self.pods))

    @property
    def bound_pods(self) -> tuple[Pod, ...]:
        return tuple(p for p in self.pods if p.template.node_name is not None)

    @property
    def pending_pods(self) -> tuple[Pod, ...]:
        return tuple(p for p in self.pods if p.template.node_name is None)
