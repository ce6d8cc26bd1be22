"""GPU devices: which nodes can host a GPU ask, and which of a node's devices a pod takes.

A node's devices are a row of ``ClusterState.gpu_free`` (milli-GPU free per device, 0 on the
padding). A ``GpuRequest`` fits a node when ``count`` of its devices each have at least
``milli`` free and the node's model is allowed: a sharing pod (one GPU, milli < 1000) needs one
device's remainder, a whole-GPU pod needs fully free devices.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.objects import MILLI_PER_GPU, GpuRequest, Node, Pod
from schedlab.resources import CPU

GpuSelection = Literal["best", "random"]
GPU_SELECTIONS: tuple[str, ...] = ("best", "random")


def gpu_ask_milli(pod: Pod) -> int:
    """The pod's whole GPU ask in milli-GPU (``count * milli``; 0 without one)."""
    return 0 if pod.template.gpu is None else pod.template.gpu.total_milli


def gpu_capacity_milli(nodes: Iterable[Node]) -> int:
    """The GPU capacity of ``nodes`` in milli-GPU."""
    return sum(n.gpus for n in nodes) * MILLI_PER_GPU


def gpu_free_milli(state: ClusterState, nodes: NodeIndex) -> np.ndarray:
    """Milli-GPU free on ``nodes`` over all their devices: int64 (len(nodes),)."""
    return state.gpu_free[nodes].sum(axis=1)


def cpu_free_milli(state: ClusterState, nodes: NodeIndex) -> np.ndarray:
    """Millicores free on ``nodes`` (allocatable minus the real requests bound): int64
    (len(nodes),)."""
    column = state.resources.index[CPU]
    return state.allocatable[nodes, column] - state.requested[nodes, column]


def fitting_devices(free: np.ndarray, milli: int) -> np.ndarray:
    """How many devices of each row of ``free`` (int64 (k, max GPUs)) have ``milli`` free:
    int64 (k,)."""
    return np.count_nonzero(free >= milli, axis=-1)


def fits(state: ClusterState, request: GpuRequest, nodes: NodeIndex) -> np.ndarray:
    """Bool (len(nodes),): ``request`` fits the devices of ``nodes`` and their model."""
    enough = fitting_devices(state.gpu_free[nodes], request.milli) >= request.count
    return enough & state.gpu_model_allowed(request.models)[nodes]


def fits_node(state: ClusterState, request: GpuRequest, node: int) -> bool:
    """``fits`` on one node index."""
    return (bool(state.gpu_model_allowed(request.models)[node])
            and int(np.count_nonzero(state.gpu_free[node] >= request.milli)) >= request.count)


def best_gpus(free: np.ndarray, request: GpuRequest) -> tuple[int, ...]:
    """The tightest devices of one node that fit (least free first, then lowest index):
    the FGD simulator's ``best`` selection. ``free`` is the node's row, int64 (max GPUs,)."""
    candidates = np.flatnonzero(free >= request.milli)
    if request.milli == MILLI_PER_GPU:  # (whole devices: all fully free, the lowest first)
        return tuple(candidates[: request.count].tolist())
    order = candidates[np.argsort(free[candidates], kind="stable")]
    return tuple(int(g) for g in np.sort(order[: request.count]))


def default_gpus(state: ClusterState, pod: Pod, node: int) -> tuple[int, ...] | None:
    """The devices a pod takes on node index ``node`` when no policy chose them (a pod named
    to its node in its manifest, a policy without a GPU selector): ``best_gpus`` on the
    node's row; None for a pod without a GPU ask."""
    request = pod.template.gpu
    return None if request is None else best_gpus(state.gpu_free[node], request)


def random_gpus(free: np.ndarray, request: GpuRequest, rng: np.random.Generator
                ) -> tuple[int, ...]:
    """``request.count`` devices drawn uniformly from those that fit, with ``rng``."""
    candidates = np.flatnonzero(free >= request.milli)
    chosen = rng.choice(candidates, size=request.count, replace=False)
    return tuple(int(g) for g in np.sort(chosen))


def select_gpus(method: GpuSelection, free: np.ndarray, request: GpuRequest,
                rng: np.random.Generator) -> tuple[int, ...]:
    """The devices ``method`` ("best" or "random") picks on a node whose row is ``free``."""
    if method == "random":
        return random_gpus(free, request, rng)
    return best_gpus(free, request)
