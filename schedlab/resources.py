"""The resource axis and kube-scheduler's pod request arithmetic.

cpu is in millicores, memory and ephemeral-storage in bytes, every other name is an extended
(scalar) resource counted in its own unit, such as ``nvidia.com/gpu``. The pod-count limit of a
node is kept apart from this axis (``ClusterState.allowed_pods``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from schedlab.objects import Container

CPU, MEMORY, EPHEMERAL_STORAGE, PODS = "cpu", "memory", "ephemeral-storage", "pods"
NATIVE: tuple[str, ...] = (CPU, MEMORY, EPHEMERAL_STORAGE)
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
NON_ZERO_DEFAULTS: Mapping[str, int] = {
    CPU: DEFAULT_MILLI_CPU_REQUEST,
    MEMORY: DEFAULT_MEMORY_REQUEST,
}
DEFAULT_ALLOWED_PODS = 110


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
