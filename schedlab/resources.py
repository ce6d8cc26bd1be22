"""The resource axis and kube-scheduler's pod request arithmetic.

cpu is in millicores, memory and ephemeral-storage in bytes, every other name is an extended
(scalar) resource counted in its own unit, such as ``nvidia.com/gpu``. The pod-count limit of a
node is kept apart from this axis (``ClusterState.allowed_pods``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Protocol

from schedlab import quantity

CPU, MEMORY, EPHEMERAL_STORAGE, PODS = "cpu", "memory", "ephemeral-storage", "pods"
NATIVE: tuple[str, ...] = (CPU, MEMORY, EPHEMERAL_STORAGE)
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
NON_ZERO_DEFAULTS: Mapping[str, int] = {
    CPU: DEFAULT_MILLI_CPU_REQUEST,
    MEMORY: DEFAULT_MEMORY_REQUEST,
}
DEFAULT_ALLOWED_PODS = 110
HUGEPAGES_PREFIX = "hugepages-"
CONTAINER_RESOURCE_NAME = (
    "a standard resource name (cpu, memory, ephemeral-storage, hugepages-<size>) or a fully "
    "qualified extended resource name (a DNS subdomain prefix, '/', at most 63 characters of "
    "[-A-Za-z0-9_.] alphanumeric at both ends: example.com/gpu)"
)
NODE_RESOURCE_NAME = (
    "a standard resource name (cpu, memory, ephemeral-storage, pods, hugepages-<size>) or a "
    "fully qualified extended resource name (a DNS subdomain prefix, '/', at most 63 "
    "characters of [-A-Za-z0-9_.] alphanumeric at both ends: example.com/gpu)"
)

# k8s.io/apimachinery/pkg/util/validation IsQualifiedName (as schedlab.matching has it; the
# resource axis must not import the matching room).
_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?", re.ASCII)
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
                        re.ASCII)


def _is_qualified_name(text: str) -> bool:
    prefix, slash, name = text.rpartition("/")
    if slash and not (
        0 < len(prefix) <= 253 and "/" not in prefix and _SUBDOMAIN.fullmatch(prefix)
    ):
        return False
    return 0 < len(name) <= 63 and _NAME.fullmatch(name) is not None


def _is_hugepages(name: str) -> bool:
    """``hugepages-<size>`` with a positive quantity as the size."""
    if not name.startswith(HUGEPAGES_PREFIX):
        return False
    try:
        return quantity.parse_quantity(name[len(HUGEPAGES_PREFIX):]) > 0
    except quantity.QuantityError:
        return False


def _is_extended_name(name: str) -> bool:
    """kube's ``IsExtendedResourceName``: a prefixed name outside ``kubernetes.io/``, not
    starting ``requests.``, that is still a qualified name with ``requests.`` before it."""
    return (
        "/" in name
        and "kubernetes.io/" not in name
        and not name.startswith("requests.")
        and _is_qualified_name("requests." + name)
    )


def is_container_resource_name(name: str) -> bool:
    """True for a name the API server takes in a container's ``resources.requests`` or
    ``limits`` and a pod's ``spec.overhead`` (kube's validateContainerResourceName): a
    qualified name that is ``cpu``, ``memory``, ``ephemeral-storage`` or ``hugepages-<size>``,
    or has a prefix: an extended resource name (``example.com/gpu``), or one in the
    ``kubernetes.io/`` namespace (native, which the API server also takes)."""
    if not _is_qualified_name(name):
        return False
    if "/" not in name:
        return name in NATIVE or _is_hugepages(name)
    return "kubernetes.io/" in name or _is_extended_name(name)


def is_node_resource_name(name: str) -> bool:
    """True for a name of a Node's ``status.allocatable`` or ``capacity``: a container
    resource name (``is_container_resource_name``) or ``pods``. (The API server checks only
    the quantities there; the kubelet writes these names, so anything else is a typo.)"""
    return name == PODS or is_container_resource_name(name)


def is_extended(name: str) -> bool:
    """True for resources kube-scheduler treats as scalar (anything but cpu/memory/storage)."""
    return name not in NATIVE and name != PODS


class ResourceAxis:
    """The columns of every (n_nodes, n_resources) array: cpu, memory, ephemeral-storage, then
    the extended resources in sorted order."""

    def __init__(self, extended: Iterable[str] = ()) -> None:
        self.names: tuple[str, ...] = NATIVE + tuple(sorted(set(extended) - set(NATIVE) - {PODS}))
        self.index: dict[str, int] = {name: i for i, name in enumerate(self.names)}

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"ResourceAxis({self.names})"


def _add(total: dict[str, int], amounts: Mapping[str, int]) -> None:
    for name, amount in amounts.items():
        total[name] = total.get(name, 0) + amount


class Container(Protocol):
    """What the request arithmetic reads of a container (``schedlab.objects.Container``; the
    resource axis does not import the objects built on it)."""

    @property
    def requests(self) -> Mapping[str, int]: ...

    @property
    def sidecar(self) -> bool: ...


def _with_defaults(container: Container, defaults: Mapping[str, int]) -> Mapping[str, int]:
    missing = {k: v for k, v in defaults.items() if k not in container.requests}
    return {**container.requests, **missing} if missing else container.requests


def pod_requests(
    containers: Iterable[Container],
    init_containers: Iterable[Container],
    overhead: Mapping[str, int],
    defaults: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """kube's PodRequests: the sum over containers, raised to the largest init-container
    need (sidecars, init containers with restartPolicy Always, stay running and add up), plus
    overhead. ``defaults`` fills each container's missing requests (the non-zero variant)."""
    pick = (lambda c: _with_defaults(c, defaults)) if defaults else (lambda c: c.requests)
    total: dict[str, int] = {}
    for container in containers:
        _add(total, pick(container))
    sidecars: dict[str, int] = {}
    init_max: dict[str, int] = {}
    for init in init_containers:
        amounts = pick(init)
        if init.sidecar:
            _add(total, amounts)
            _add(sidecars, amounts)
            effective = dict(sidecars)
        else:
            effective = dict(amounts)
            _add(effective, sidecars)
        for name, amount in effective.items():
            init_max[name] = max(init_max.get(name, 0), amount)
    for name, amount in init_max.items():
        total[name] = max(total.get(name, 0), amount)
    _add(total, overhead)
    return total
