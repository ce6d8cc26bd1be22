"""Greedy's scheduling cycle compiled for the FGD paper's profiles (numba), exactly.

A profile qualifies when its NODE-scope plugins are, by exact class, at most one
NodeResourcesFit filter, at most one GpuShare filter and one FGDScore (the FGD race's
profile: kube's filters, ``GpuShare`` and ``FGDScore``); ``CompiledCycle`` takes the profiles
without GPU plugins. Per pod class (the pod's cache key) an array holds each node's total
score (the STATIC plugins' plain scores plus FGDScore's, weighted) where the class is
feasible, -1 elsewhere. A bind changes one node's fragmentation, resources and devices, so a
class's entries are worked out again only on the nodes bound or unbound since the class was
last placed (``gpu_kernels.fgd_best``), from the fragmentation parts ``Fragmentation`` keeps
node by node; one pass then finds kube's candidates and the best of them. The STATIC and
CLUSTER filters answer through the plugin API, from ``CompiledCycle``'s plans and masks.

A pod is left to the numpy cycle (``best_candidates`` returns None) when some score of its
plan is not plain or depends on the candidates (a CLUSTER score, a normalised score,
PodTopologySpread's), or where ``CompiledCycle`` leaves it there. The candidates, totals and
next start index are the numpy cycle's, so are the decisions and random draws.

When no node is feasible, kube's reasons are counted the same way: per class and node, the
reasons NodeResourcesFit and GpuShare reject the node for, worked out again on the changed
nodes only (``gpu_kernels.count_reasons``).

The per-class arrays take at most 17 bytes per node and class; at most ``MEMORY_BUDGET``
bytes are kept, the least recently used class giving its room to a new one.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeAlias

import numpy as np

from schedlab.caches import IdCache
from schedlab.cluster import ClusterState
from schedlab.fragmentation import Fragmentation, cpu_milli
from schedlab.framework.cycle import Answer, Evaluator, fit_error
from schedlab.framework.plugin import Scope
from schedlab.gpu_kernels import FIT, GPUS, count_reasons, fgd_best
from schedlab.objects import Pod
from schedlab.plugins.fgd_score import FGDScore, sigmoid_thresholds
from schedlab.plugins.gpu_share import GpuShare
from schedlab.plugins.node_resources_fit import NodeResourcesFit
from schedlab.policies.compiled import CompiledCycle, Plan, counted_reasons

MEMORY_BUDGET = 256 * 2**20
"""Bytes the per-class arrays may take."""
_NONE = np.empty(0, dtype=np.int64)
_ClassArguments: TypeAlias = tuple[bool, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                   np.ndarray, np.ndarray, np.ndarray, int, np.ndarray]
"""``gpu_kernels.fgd_best``'s per-class arguments, from ``check_fit`` to ``ask``."""
_Fragments: TypeAlias = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                              np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""``gpu_kernels.fgd_best``'s arguments from ``gpu_free`` to ``thresholds``."""


class _Class:
    """One pod class: its plan, the mask the kernel reads (the plan's mask and the GPU model
    GpuShare allows), its totals per node as of ``synced`` (-1: none yet) and the kernel's
    per-class arguments."""

    __slots__ = ("plan", "gpu_allowed", "tally_driven", "tallies", "base_mask", "mask",
                 "values", "synced", "arguments", "used", "reasons")

    def __init__(self, plan: Plan, gpu_allowed: np.ndarray | None,
                 arguments: _ClassArguments) -> None:
        self.plan = plan
        self.gpu_allowed = gpu_allowed
        self.tally_driven = all(plugin.tally_driven for plugin, _ in plan.filters)
        """The CLUSTER filters read bound pods only through tallies: while no tally changes,
        neither does the plan's mask."""
        self.tallies: tuple[int, int] = (-1, -1)
        """The state's (tally_epoch, tallies_made) when the mask was last brought in sync."""
        self.base_mask: np.ndarray | None = None
        self.mask = plan.mask
        self.values: np.ndarray | None = None
        self.synced = -1
        self.arguments = arguments
        self.used = 0
        self.reasons: _Reasons | None = None


class _Reasons:
    """Why a class's pods fit nowhere, kept as ``_Class.values`` is: per node the bits of
    ``gpu_kernels.node_reasons`` for the NODE filters after the leading STATIC ones
    (``steps``), and their counts over the nodes those let through, as of ``synced``.
    ``cluster``: the answers of the CLUSTER filters among them, which must pass every node
    for the counts to be kube's."""

    __slots__ = ("steps", "cluster", "bits", "counts", "synced")

    def __init__(self, steps: np.ndarray, cluster: list[Answer], columns: int,
                 n_nodes: int) -> None:
        self.steps = steps
        self.cluster = cluster
        self.bits = np.zeros(n_nodes, dtype=np.int64)
        self.counts = np.zeros(columns + 4, dtype=np.int64)
        self.synced = -1


class GpuCycle:
    """The best candidates of Greedy's cycle for a profile that qualifies (``of``)."""

    def __init__(self, evaluator: Evaluator, fit: NodeResourcesFit | None,
                 gpu_filter: bool, fgd: tuple[FGDScore, int]) -> None:
        self.evaluator = evaluator
        self.state: ClusterState = evaluator.state
        self._plans = CompiledCycle(evaluator, fit, None, None)
        """Plans and masks of the STATIC and CLUSTER plugins (the NODE ones are ours)."""
        self._gpu_filter = gpu_filter
        self._fgd, self._weight = fgd
        n = self.state.n_nodes
        self._best = np.zeros(n, dtype=np.int64)
        self._classes: IdCache[Hashable, _Class | None] = IdCache()
        """By the pod's cache key: None where the loop cannot run."""
        self._kept: list[_Class] = []
        """The classes holding arrays, at most ``_max_kept``."""
        self._max_kept = max(1, MEMORY_BUDGET // max(17 * n, 1))
        self._clock = 0
        self._fragmentation: Fragmentation | None = None
        self._fragments: _Fragments | None = None

    @classmethod
    def of(cls, evaluator: Evaluator) -> GpuCycle | None:
        """The compiled cycle for the evaluator's profile, or None if its NODE-scope plugins
        are not at most a NodeResourcesFit filter, at most a GpuShare filter and one
        FGDScore."""
        profile = evaluator.profile
        fit = gpu_filter = None
        for plugin in profile.filters:
            if plugin.scope is not Scope.NODE:
                continue
            if type(plugin) is NodeResourcesFit and fit is None:
                fit = plugin
            elif type(plugin) is GpuShare and gpu_filter is None:
                gpu_filter = plugin
            else:
                return None
        node_scores = [(p, w) for p, w in profile.scores if p.scope is Scope.NODE]
        if len(node_scores) != 1 or type(node_scores[0][0]) is not FGDScore:
            return None
        fgd, weight = node_scores[0]
        assert isinstance(fgd, FGDScore)  # (checked above)
        return cls(evaluator, fit, gpu_filter is not None, (fgd, weight))

    # ------------------------------------------------------------------ per class
    def _new_class(self, pod: Pod) -> _Class | None:
        plan = self._plans.plan(pod)
        if plan is None or plan.cluster_plain or plan.per_cycle or plan.spreads:
            return None
        request = pod.template.gpu
        filtered = self._gpu_filter and request is not None
        count = request.count if request is not None else 0
        milli = request.milli if request is not None else 0
        ask = np.array([cpu_milli(pod), count, milli,
                        request is not None and request.shares, not pod.template.requests,
                        filtered], dtype=np.int64)
        gpu_allowed = (self.state.gpu_model_allowed(request.models)
                       if filtered and request is not None else None)
        state = self.state
        fit_columns, fit_want = plan.fit
        arguments = (self._plans.fit is not None, state.pod_count, state.allowed_pods,
                     state.requested, state.allocatable, fit_columns, fit_want,
                     plan.static_plain, self._weight, ask)
        return _Class(plan, gpu_allowed, arguments)

    def _keep(self, record: _Class) -> np.ndarray:
        """The class's totals array, made (and room made for it) if it has none."""
        values = record.values
        if values is None:
            if len(self._kept) >= self._max_kept:
                evicted = min(self._kept, key=lambda kept: kept.used)
                self._kept.remove(evicted)
                evicted.values, evicted.synced, evicted.reasons = None, -1, None
            values = record.values = np.empty(self.state.n_nodes, dtype=np.int64)
            record.synced = -1
            self._kept.append(record)
        self._clock += 1
        record.used = self._clock
        return values

    def _sync(self) -> _Fragments:
        """Bring the fragmentation in sync (a new one, of other typical pods, makes every
        class start again); its arrays as ``fgd_best`` reads them."""
        state = self.state
        fragmentation = self._fgd.fragmentation(state)
        fragments = self._fragments
        if fragments is None or fragmentation is not self._fragmentation:
            self._fragmentation = fragmentation
            parts = fragmentation.parts
            fragments = self._fragments = (
                state.gpu_free, fragmentation.accessible, parts.below, parts.fitting,
                parts.idle, parts.cpu_free, fragmentation.scaled, fragmentation.shapes,
                sigmoid_thresholds(fragmentation.typical.total))
            for record in self._kept:
                record.synced = -1
        return fragments

    # ------------------------------------------------------------------ the cycle
    def best_candidates(self, pod: Pod, start: int, to_find: int
                        ) -> tuple[np.ndarray, int] | None:
        """For the cycle that searches from node ``start`` for ``to_find`` feasible nodes:
        the candidates of the highest total score (sorted int64; none if no node is
        feasible) and where the next search starts; None to leave the pod to the numpy
        cycle. The array is a view of a buffer the next call overwrites."""
        key = pod.cache_key
        record = self._classes.get(key)
        if record is None:
            if key in self._classes:
                return None
            record = self._classes.put(key, self._new_class(pod), pod.template)
            if record is None:
                return None
        plan = record.plan
        if plan.fits_nowhere:
            return _NONE, start
        state = self.state
        tallies = (state.tally_epoch, state.tallies_made)
        if tallies != record.tallies or not record.tally_driven:
            record.tallies = tallies
            mask = self._plans.mask(plan, pod)
            if mask is not record.base_mask:
                record.base_mask = mask
                record.mask = mask if record.gpu_allowed is None else mask & record.gpu_allowed
                record.synced = -1
        fragments = self._sync()
        values = self._keep(record)
        found, next_start = fgd_best(start, to_find, record.mask, values, record.synced,
                                     self._plans.changed_at(), *record.arguments, *fragments,
                                     self._best)
        record.synced = state.epoch
        return self._best[:found], next_start

    # ------------------------------------------------------------------ no node
    def _reasons(self, record: _Class, pod: Pod, first: int) -> _Reasons | None:
        """The class's reasons counter (made on first use), or None if a STATIC filter
        follows the leading ones or the fit columns are too many to count as bits (the
        numpy evaluator then counts)."""
        if record.reasons is None:
            answers = {id(plugin): answer for plugin, answer in record.plan.filters}
            steps, cluster = [], []
            for plugin in self.evaluator.profile.filters[first:]:
                if plugin.scope is Scope.STATIC:
                    return None
                if plugin.scope is Scope.CLUSTER:
                    if id(plugin) in answers:  # (the others skip the pod: they pass all)
                        cluster.append(answers[id(plugin)])
                elif type(plugin) is NodeResourcesFit:
                    steps.append(FIT)
                elif pod.template.gpu is not None:  # (GpuShare passes pods without GPUs)
                    steps.append(GPUS)
            columns = len(record.plan.fit[0])
            if columns + 4 > 63:
                return None
            record.reasons = _Reasons(np.array(steps, dtype=np.int64), cluster, columns,
                                      self.state.n_nodes)
        return record.reasons

    def unschedulable_message(self, pod: Pod) -> str | None:
        """kube's FitError text for a pod ``best_candidates`` found no node for, as
        ``Evaluator.unschedulable_message`` words it; None to leave it to the evaluator
        (where a filter other than NodeResourcesFit and GpuShare rejects some node after the
        leading STATIC ones)."""
        record = self._classes.get(pod.cache_key)
        if record is None:
            return None
        static_counts, undecided, first = self.evaluator.static_rejections(pod)
        reasons = self._reasons(record, pod, first)
        if reasons is None or not all(answer.values.all() for answer in reasons.cluster):
            return None
        state, plan = self.state, record.plan
        request = pod.template.gpu
        fit_columns, fit_want = plan.fit
        count_reasons(undecided, reasons.synced, self._plans.changed_at(), reasons.bits,
                      reasons.counts, reasons.steps, state.pod_count, state.allowed_pods,
                      state.requested, state.allocatable, fit_columns, fit_want,
                      plan.fits_nowhere,
                      record.mask if record.gpu_allowed is None else record.gpu_allowed,
                      state.gpu_free, 0 if request is None else request.count,
                      0 if request is None else request.milli)
        reasons.synced = state.epoch
        missing: list[str] = []
        if plan.fits_nowhere:
            fit = self._plans.fit
            assert fit is not None  # (only NodeResourcesFit finds a pod fitting nowhere)
            missing = fit.checked_columns(state, pod)[1]
        return fit_error(counted_reasons(static_counts, reasons.counts, state.resources.names,
                                         fit_columns, missing, gpus=True), state.n_nodes)
