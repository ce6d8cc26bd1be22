"""GPU fragmentation against "typical pods", as the FGD paper defines it, kept incrementally.

For a node and a typical pod shape t (frequency w_t), the node's idle milli-GPU count as
fragment unless t fits the node (its GPU model, enough devices with t's milli free, enough free
cpu); when t fits, only the devices with less than t's milli free count. CPU-only shapes never
use GPUs, so for them all idle milli-GPU is fragment. A node's fragmentation is
Σ_t w_t × fragment_t, the cluster's the sum over nodes. Memory plays no part, as in the paper's
simulator.

Amounts are kept exactly, as integers scaled by the typical pods' total count (w_t is
count_t / total): a bind changes one node's row, and the incremental figure equals a recount.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from schedlab.caches import IdCache, PerState
from schedlab.cluster import ALL, ClusterState, NodeIndex
from schedlab.errors import SchedlabError
from schedlab.gpu import cpu_free_milli
from schedlab.objects import Pod
from schedlab.resources import CPU

DEFAULT_COVERAGE_PCT = 95
"""The FGD simulator's podPopularityThreshold: the typical shapes cover 95% of the pods."""


def cpu_milli(pod: Pod) -> int:
    """The pod's cpu request in millicores, 100 if it names none (kube's non-zero request, as
    the FGD simulator reads it)."""
    return int(pod.template.nonzero_requests.get(CPU, 0))


def shape_of(pod: Pod) -> tuple[int, int, int, frozenset[str]]:
    """What fragmentation reads of a pod: (cpu milli, GPU count, milli per GPU, models)."""
    gpu = pod.template.gpu
    if gpu is None:
        return cpu_milli(pod), 0, 0, frozenset()
    return cpu_milli(pod), gpu.count, gpu.milli, gpu.models


@dataclass(frozen=True, eq=False)
class TypicalPods:
    """The pod shapes fragmentation is measured against, most frequent first.

    cpu_milli  int64 (T,): cpu request, millicores
    gpu_count  int64 (T,): GPUs asked (0 for CPU-only shapes)
    gpu_milli  int64 (T,): milli-GPU asked per GPU (0 for CPU-only shapes)
    models     T frozensets of allowed GPU models (empty: any)
    counts     int64 (T,): pods of each shape among those the shapes were drawn from; the
               frequency of shape t is counts[t] / counts.sum()
    """

    cpu_milli: np.ndarray
    gpu_count: np.ndarray
    gpu_milli: np.ndarray
    models: tuple[frozenset[str], ...]
    counts: np.ndarray

    def __post_init__(self) -> None:
        lengths = {len(self.cpu_milli), len(self.gpu_count), len(self.gpu_milli),
                   len(self.models), len(self.counts)}
        if len(lengths) != 1 or not len(self.counts) or (np.asarray(self.counts) <= 0).any():
            raise SchedlabError("typical pods: expected at least one shape, the same number "
                                "of entries in every field, and positive counts")

    @classmethod
    def of(cls, pods: Iterable[Pod], coverage_pct: float = DEFAULT_COVERAGE_PCT) -> TypicalPods:
        """The most frequent shapes of ``pods`` that together cover ``coverage_pct`` % of
        them, as the FGD simulator's GetTypicalPods with CPU-only pods included: equally
        frequent shapes are ordered by larger cpu, then milli per GPU, GPU count and models
        (joined by "|")."""
        if not 0 < coverage_pct <= 100:
            raise SchedlabError(f"typical pods: coverage {coverage_pct!r} is not in (0, 100]")
        tally = Counter(shape_of(p) for p in pods)
        if not tally:
            raise SchedlabError("typical pods: no pods to draw shapes from")
        total = sum(tally.values())
        kept: list[tuple[tuple[int, int, int, frozenset[str]], int]] = []
        covered = 0
        def rank(item: tuple[tuple[int, int, int, frozenset[str]], int]) -> tuple:
            (cpu, count, milli, models), pods_of_shape = item
            return pods_of_shape, cpu, milli, count, "|".join(sorted(models))

        for shape, count in sorted(tally.items(), key=rank, reverse=True):
            kept.append((shape, count))
            covered += count
            if covered * 100 >= coverage_pct * total:
                break
        shapes = [s for s, _ in kept]
        return cls(
            np.array([s[0] for s in shapes], dtype=np.int64),
            np.array([s[1] for s in shapes], dtype=np.int64),
            np.array([s[2] for s in shapes], dtype=np.int64),
            tuple(s[3] for s in shapes),
            np.array([c for _, c in kept], dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.counts)

    @cached_property
    def total(self) -> int:
        """The scale of fragmentation amounts: Σ counts."""
        return int(self.counts.sum())


@dataclass
class NodeParts:
    """Per node and typical shape, what a node's fragment is made of (rows are nodes).

    below     int64 (k, T): milli-GPU free on devices with less than the shape's milli free
    fitting   int64 (k, T): devices with at least the shape's milli free
    idle      int64 (k,): milli-GPU free on the node
    cpu_free  int64 (k,): millicores free
    """

    below: np.ndarray
    fitting: np.ndarray
    idle: np.ndarray
    cpu_free: np.ndarray


class Fragmentation:
    """A cluster state's GPU fragmentation against ``typical``, per node, kept in sync with
    the state lazily: ``sync`` recounts only the nodes bound or unbound since the last one.

    ``scaled`` is int64 (n_nodes,): each node's fragmentation in milli-GPU times
    ``typical.total`` (exact); ``node_milli()`` and ``total_milli()`` give milli-GPU.
    Get the shared instance of a state with ``Fragmentation.of(state, typical)``. It holds its
    state by a weak reference (the shared instances are kept per state while it lives).
    """

    def __init__(self, state: ClusterState, typical: TypicalPods) -> None:
        self._state = weakref.ref(state)
        self.typical = typical
        gpu_shape = typical.gpu_count > 0
        allowed = [state.gpu_model_allowed(m) for m in typical.models]
        self.accessible = np.stack(allowed, axis=1) & gpu_shape
        """bool (n_nodes, T): the shape asks for GPUs and may use the node's model."""
        self.accessible.flags.writeable = False
        self.shapes = np.stack((typical.cpu_milli, typical.gpu_count, typical.gpu_milli,
                                typical.counts)).astype(np.int64)
        """int64 (4, T): the typical shapes' cpu milli, GPU count, milli per GPU and count
        (the rows of ``schedlab.gpu_kernels``)."""
        self.shapes.flags.writeable = False
        self.parts = self.parts_of(ALL)
        self.scaled = self.amounts(self.parts, ALL)
        self._total = int(self.scaled.sum())
        """Σ ``scaled``, kept as nodes are recounted."""
        self._epoch = state.epoch

    @classmethod
    def of(cls, state: ClusterState, typical: TypicalPods) -> Fragmentation:
        """The state's fragmentation against ``typical``, shared by everyone who asks, synced."""
        shared = _SHARED.of(state)
        fragmentation = shared.get(id(typical))
        if fragmentation is None:
            fragmentation = shared.put(id(typical), cls(state, typical), typical)
        fragmentation.sync()
        return fragmentation

    @property
    def state(self) -> ClusterState:
        """The cluster state measured."""
        state = self._state()
        if state is None:
            raise SchedlabError("fragmentation: the cluster state it measures is gone")
        return state

    def parts_of(self, nodes: NodeIndex) -> NodeParts:
        """The parts of ``nodes``' fragments as the state holds them now."""
        state = self.state
        free = state.gpu_free[nodes]
        below_mask = free[:, None, :] < self.typical.gpu_milli[None, :, None]
        below = np.where(below_mask, free[:, None, :], 0).sum(axis=2)
        fitting = free.shape[1] - below_mask.sum(axis=2)
        return NodeParts(below, fitting, free.sum(axis=1), cpu_free_milli(state, nodes))

    def amounts(self, parts: NodeParts, nodes: NodeIndex) -> np.ndarray:
        """Scaled fragmentation (int64 (k,)) of nodes ``nodes`` in the state ``parts`` gives."""
        typical = self.typical
        fits = (
            self.accessible[nodes]
            & (parts.fitting >= typical.gpu_count)
            & (parts.cpu_free[:, None] >= typical.cpu_milli)
        )
        fragment = np.where(fits, parts.below, parts.idle[:, None])
        return fragment @ typical.counts

    def sync(self) -> None:
        """Recount the nodes bound or unbound since the last sync (compiled: the same
        integers as ``parts_of`` and ``amounts``)."""
        state = self.state
        if self._epoch == state.epoch:
            return
        from schedlab.gpu_kernels import sync_nodes

        parts = self.parts
        self._total += sync_nodes(
            state.changed_since(self._epoch), state.gpu_free, state.allocatable,
            state.requested, state.resources.index[CPU], self.accessible, parts.below,
            parts.fitting, parts.idle, parts.cpu_free, self.scaled, self.shapes)
        self._epoch = state.epoch

    def node_milli(self) -> np.ndarray:
        """float64 (n_nodes,): each node's fragmentation in milli-GPU."""
        self.sync()
        return self.scaled / self.typical.total

    def total_milli(self) -> float:
        """The cluster's fragmentation in milli-GPU."""
        self.sync()
        return float(np.float64(self._total) / self.typical.total)


_SHARED: PerState[ClusterState, IdCache[int, Fragmentation]] = PerState(lambda _: IdCache())
"""Per state: id(typical pods) → the state's shared ``Fragmentation`` against them."""
