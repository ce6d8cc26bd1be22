"""Kubernetes objects as schedlab holds them: small, frozen, hashable Python values.

Readers (``schedlab.traces``) build these from manifests or traces; ``schedlab.cluster`` and
``schedlab.pods`` compile them into numpy arrays once. Resource amounts are integers in
schedlab's units: cpu in millicores, memory and storage in bytes, extended resources as counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from schedlab import resources

TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
TAINT_EFFECTS: tuple[str, ...] = ("NoSchedule", "PreferNoSchedule", "NoExecute")
NODE_SELECTOR_OPERATORS: tuple[str, ...] = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")


class FrozenMap(Mapping[str, Any]):
    """An immutable, hashable mapping (labels, requests, node selectors)."""

    __slots__ = ("_items", "_dict", "_hash")

    def __init__(self, items: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        self._dict = dict(items)
        self._items = tuple(sorted(self._dict.items()))
        self._hash = hash(self._items)

    def __getitem__(self, key: str) -> Any:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
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
    """``operator`` is "Equal" (the default) or "Exists"; an empty key with Exists matches all."""

    key: str = ""
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str = ""
    effect: str = ""


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
class Container:
    """``requests`` holds only the resources the container names (absent ≠ explicit 0);
    ``sidecar`` is an init container with ``restartPolicy: Always``."""

    name: str = "main"
    requests: Mapping[str, int] = field(default_factory=FrozenMap)
    sidecar: bool = False

    def __post_init__(self) -> None:
        _freeze(self, requests=FrozenMap(self.requests))


@dataclass(frozen=True)
class OwnerRef:
    kind: str
    name: str


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

    def __post_init__(self) -> None:
        _freeze(
            self,
            labels=FrozenMap(self.labels),
            containers=tuple(self.containers),
            init_containers=tuple(self.init_containers),
            overhead=FrozenMap(self.overhead),
            node_selector=FrozenMap(self.node_selector),
            tolerations=tuple(self.tolerations),
        )

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


@dataclass(frozen=True)
class Pod:
    name: str
    template: PodTemplate
    owner: OwnerRef | None = None

    @property
    def namespace(self) -> str:
        return self.template.namespace

    @property
    def key(self) -> str:
        """``namespace/name``, unique within a workload."""
        return f"{self.template.namespace}/{self.name}"


@dataclass(frozen=True)
class Node:
    """``allocatable`` maps resource name to amount; ``pods`` is the pod-count limit."""

    name: str
    allocatable: Mapping[str, int] = field(default_factory=FrozenMap)
    labels: Mapping[str, str] = field(default_factory=FrozenMap)
    taints: tuple[Taint, ...] = ()
    unschedulable: bool = False

    def __post_init__(self) -> None:
        _freeze(
            self,
            allocatable=FrozenMap(self.allocatable),
            labels=FrozenMap(self.labels),
            taints=tuple(self.taints),
        )


@dataclass(frozen=True)
class Workload:
    """Nodes and pods in input order. Pods whose template names a node are already bound."""

    nodes: tuple[Node, ...]
    pods: tuple[Pod, ...]

    def __post_init__(self) -> None:
        _freeze(self, nodes=tuple(self.nodes), pods=tuple(self.pods))

    @property
    def bound_pods(self) -> tuple[Pod, ...]:
        return tuple(p for p in self.pods if p.template.node_name is not None)

    @property
    def pending_pods(self) -> tuple[Pod, ...]:
        return tuple(p for p in self.pods if p.template.node_name is None)
