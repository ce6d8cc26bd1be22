"""Greedy's scheduling cycle with the per-node work compiled (numba), exactly.

kube's cycle for one pod searches the nodes in round-robin order from where the previous pod
stopped, keeps the first ``num_feasible_nodes_to_find`` that pass every filter and scores
those. ``Evaluator`` does it with numpy over answers cached per pod template and kept in sync
node by node, which costs a few dozen small array operations per plugin and pod. Here one
compiled loop (``search_kernels.cached_search``) walks the nodes in that order, checks the
NODE-scope filter (NodeResourcesFit) on each against the live state, stops at the last
candidate it needs and adds the NODE-scope scores (NodeResourcesFit's LeastAllocated or
MostAllocated, NodeResourcesBalancedAllocation) to the STATIC plugins' totals, with kube's
arithmetic in kube's order (the same integers, the same floats). PodTopologySpread scores the
candidates with its own compiled loop, and a last one keeps the best. Every other plugin
answers through the plugin API, from the same cached answers as ``Evaluator``: the STATIC
and CLUSTER filters as a mask the loop reads, the other normalised or candidate-dependent
scores (TaintToleration, NodeAffinity, InterPodAffinity, research plugins) over the
candidates the loop found; STATIC ones that score every node alike are left out, as they
add the same to every candidate. The candidates, totals and next start index are the numpy
cycle's, so are the decisions and random draws (tests compare the two on generated
clusters and replays).

A profile qualifies when its NODE-scope plugins are among those three built-ins (any STATIC
or CLUSTER plugins may join them). They are recognised by their exact class: a subclass may
change what they compute, so it answers through the plugin API like any other plugin. This
module is Greedy's accelerator for kube's own plugins (policies may import plugins), not a
part of the plugin contract; issue 14's fast path is where compiled kernels become a hook
plugins declare.

The loop remembers NodeResourcesFit's answer and the NODE-scope scores of each node per pod
shape and works them out again only on the nodes bound or unbound since
(``ClusterState.node_version``); it also adds the first spreading's scores and one
DefaultNormalizeScore'd STATIC score and keeps the best candidates, in the same call. What it
remembers takes up to ``CACHE_BYTES``, the least recently searched shape giving its room to a
new one. A pod is left to the numpy cycle (``best_candidates``
returns None) when some node lacks a resource it is scored on, or a STATIC plugin without
normalisation scored some node out of bounds, so that those cases keep the numpy cycle's
arithmetic and errors.

When no node takes a pod, kube's reasons are counted the same way (``rejection_counts``,
which ``of`` hands the evaluator as its ``count_rejections``): per pod class and node, the
reasons NodeResourcesFit rejects the node for, worked out again on the changed nodes only
(``gpu_kernels.count_reasons``, as ``GpuCycle`` does for its filters).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from schedlab.caches import IdCache
from schedlab.cluster import ClusterState
from schedlab.framework.cycle import REFRESH_ALL_FRACTION, Answer, Evaluator, check_bounds
from schedlab.framework.plugin import FilterPlugin, Scope, ScorePlugin
from schedlab.framework.profile import Profile
from schedlab.gpu_kernels import FIT, count_reasons
from schedlab.kernels import add_spread, best_nodes
from schedlab.objects import Pod
from schedlab.plugins.node_affinity import NodeAffinity
from schedlab.plugins.node_resources_balanced_allocation import NodeResourcesBalancedAllocation
from schedlab.plugins.node_resources_fit import NodeResourcesFit
from schedlab.plugins.pod_topology_spread import PodTopologySpread, Spread, SpreadArguments
from schedlab.plugins.resource_allocation import scored_columns
from schedlab.plugins.taint_toleration import TaintToleration
from schedlab.search_kernels import cached_search, fits_any, pack_shape

_NONE = np.empty(0, dtype=np.int64)
_NO_SPREAD: SpreadArguments = (
    False, np.ones(1, dtype=bool), (np.zeros(1, dtype=np.int64),), (np.zeros(1, dtype=np.int64),),
    (np.zeros(1, dtype=np.int64),), np.zeros(1, dtype=bool), np.ones(1, dtype=np.int64),
    np.ones(1, dtype=np.int64))
"""``cached_search``'s spreading arguments when the pod has no scoring constraint (unread)."""
_STRATEGIES = {"LeastAllocated": True, "MostAllocated": False}
"""The NodeResourcesFit strategies compiled here (True: least allocated)."""
_DEFAULT_NORMALIZED: dict[type, bool] = {NodeAffinity: False, TaintToleration: True}
"""The STATIC plugins whose NormalizeScore is DefaultNormalizeScore (True: reversed), which
``cached_search`` may apply."""
_NOT_NORMALIZED = (0, np.zeros(1, dtype=np.int64), False)
FIT_ONLY = np.array([FIT], dtype=np.int64)
"""``gpu_kernels.count_reasons``' steps for NodeResourcesFit alone."""
NO_GPU_MODEL = np.ones(1, dtype=bool)
"""``count_reasons``' GPU model mask, unread without its GPU step."""
CACHE_BYTES = 1 << 25
"""Memory the compiled cycle may keep per node and pod shape (16 bytes a node and shape);
past it, the least recently searched shape's memory is given to a new one."""


@dataclass
class Plan:
    """What the loop needs to know of one pod template (per cache key, per state)."""

    static_feasible: np.ndarray
    filters: list[tuple[FilterPlugin, Answer]]
    """The CLUSTER filters with the template's answers."""
    cluster_plain: list[tuple[ScorePlugin, int, Answer]]
    """The CLUSTER score plugins without normalisation, with weights and answers."""
    per_cycle: list[tuple[ScorePlugin, int, Answer]]
    """The score plugins normalised or scored per cycle (but STATIC ones that add the same
    to every node), with weights and answers."""
    spreads: list[tuple[Spread, int]]
    """PodTopologySpread's scoring constraints (when it scores the pod), with weights."""
    fits_nowhere: bool
    """The pod asks for a resource no node has."""
    mask: np.ndarray
    static_plain: np.ndarray
    """int64 (n_nodes,): the STATIC plugins' scores without normalisation, weighted."""
    fit: tuple[np.ndarray, np.ndarray]
    """NodeResourcesFit's filter: the resource columns it checks, the pod's requests there."""
    score: tuple[np.ndarray, np.ndarray, np.ndarray]
    """NodeResourcesFit's score: resource columns, their weights, the pod's non-zero
    requests there."""
    balanced: tuple[np.ndarray, np.ndarray]
    """NodeResourcesBalancedAllocation: resource columns, the pod's requests there."""
    shape: np.ndarray
    """``search_kernels.cached_search``'s ``shape`` (``pack_shape``)."""
    shape_key: bytes
    """``shape``'s bytes: which of ``CompiledCycle``'s caches its pods share (``_cache``)."""
    normalized: tuple[int, np.ndarray, bool]
    """The per-cycle plugin ``cached_search`` normalises (weight 0: none): its weight, raw
    scores (STATIC, none negative) and whether DefaultNormalizeScore is reversed."""
    rest: list[tuple[ScorePlugin, int, Answer]]
    """``per_cycle`` but that one."""
    mask_key: tuple[int, ...] = ()
    nowhere: tuple[int, np.ndarray] | None = None
    """(epoch, mask): the search found no node for the pod at that epoch with that mask
    (None: it found some, or has not searched)."""


class FitReasons:
    """Why a class's pods fit nowhere, kept node by node: per node the bits of
    ``gpu_kernels.node_reasons`` for NodeResourcesFit (over the nodes the leading STATIC
    filters let through), in row ``row`` of ``CompiledCycle.reason_bits``, and their counts
    (int64 (c + 4,) for c checked columns), as of ``synced`` (-1: not yet counted).
    ``mask``: the plan's mask when the CLUSTER filters were last found to pass every one of
    those nodes (then kube counts NodeResourcesFit's reasons alone)."""

    __slots__ = ("row", "counts", "synced", "mask")

    def __init__(self, columns: int, row: int) -> None:
        self.row = row
        self.counts = np.zeros(columns + 4, dtype=np.int64)
        self.synced = -1
        self.mask: np.ndarray | None = None


def counted_reasons(static_counts: Mapping[str, int], counts: np.ndarray,
                    names: Sequence[str], fit_columns: np.ndarray, missing: Sequence[str],
                    gpus: bool) -> dict[str, int]:
    """kube's reasons and their counts over every node: the leading STATIC filters'
    (``static_counts``) and those ``gpu_kernels.count_reasons`` counted (``counts``: too
    many pods, then short of each of ``fit_columns``, then, for the resources no node has
    (``missing``, named by ``names``), the third from last; with ``gpus``, the last two:
    no GPU of an allowed model, too few GPUs)."""
    counted = counts.tolist()
    found = [("Too many pods", counted[0]),
             *((f"Insufficient {names[c]}", counted[1 + j])
               for j, c in enumerate(fit_columns.tolist()))]
    if gpus:
        found += [("node(s) didn't have GPUs of an allowed model", counted[-2]),
                  ("Insufficient GPU", counted[-1])]
    found += [(f"Insufficient {name}", counted[-3]) for name in missing]
    reasons = dict(static_counts)
    for reason, count in found:
        reasons[reason] = reasons.get(reason, 0) + count
    return reasons


@dataclass
class CompiledSearch:
    """How a policy places a pod when its plan is known: ``cycle.best_candidates`` from
    ``start`` for ``to_find`` feasible nodes, then one of the best at random
    (``random_ties``: ``rng.integers(ties)``) or the first. ``start`` is read from and
    written back to the policy (``Greedy.next_start_node_index``)."""

    cycle: CompiledCycle
    to_find: int
    random_ties: bool


class CompiledCycle:
    """The best candidates of Greedy's cycle for a profile that qualifies (``of``)."""

    def __init__(self, evaluator: Evaluator, fit: NodeResourcesFit | None,
                 fit_score: tuple[NodeResourcesFit, int] | None,
                 balanced: tuple[NodeResourcesBalancedAllocation, int] | None) -> None:
        self.evaluator = evaluator
        self.state: ClusterState = evaluator.state
        self.profile: Profile = evaluator.profile
        self.fit, self.fit_score, self.balanced = fit, fit_score, balanced
        n = self.state.n_nodes
        self.buffers = np.zeros((3, n), dtype=np.int64)
        """``cached_search``'s buffers: candidates, their totals, the best of them."""
        self._nodes, self._totals, self._best = self.buffers
        self._plans: IdCache[Hashable, Plan | None] = IdCache()
        """By the pod's cache key (its template's id): None where the loop cannot run."""
        self.store = np.empty((0, 2, n), dtype=np.int64)
        """What ``search_kernels.cached_search`` remembers of each node per pod shape (its
        requests where the NODE-scope plugins read them): int64 (rows, 2, n_nodes), a row
        per shape (``cache_row``), grown as shapes come."""
        self._caches: dict[bytes, int] = {}
        """Pod shape → its row of ``store``, the most recently searched shape last."""
        self._max_caches = max(CACHE_BYTES // (16 * max(n, 1)), 1)
        scores = self.profile.scores
        self._cluster_plain = [(p, w) for p, w in scores if p.scope is Scope.CLUSTER
                               and p.normalize_score is None and not p.candidate_dependent]
        self._per_cycle = [(p, w) for p, w in scores
                           if p.normalize_score is not None or p.candidate_dependent]
        self._reasons: IdCache[Hashable, FitReasons | None] = IdCache()
        self.reason_bits = np.zeros((0, n), dtype=np.int64)
        """int64 (rows, n_nodes): each ``FitReasons``' bits per node, a row each."""
        self._records = 0
        """By the pod's cache key: None where ``rejection_counts`` leaves it to the
        evaluator."""
        self._changed_at = np.zeros(n, dtype=np.int64)
        """int64 (n_nodes,): ``changed_at``'s, noted up to ``_epoch``."""
        self._epoch = self.state.epoch

    @classmethod
    def of(cls, evaluator: Evaluator) -> CompiledCycle | None:
        """The compiled cycle for the evaluator's profile, or None if its NODE-scope plugins
        are not those ``resource_plugins`` accepts. It counts the evaluator's reasons for
        the pods that fit nowhere (``Evaluator.count_rejections``)."""
        found = cls.resource_plugins(evaluator.profile)
        if found is None:
            return None
        cycle = cls(evaluator, *found)
        evaluator.count_rejections = cycle.rejection_counts
        return cycle

    @staticmethod
    def resource_plugins(profile: Profile) -> tuple[
            NodeResourcesFit | None, tuple[NodeResourcesFit, int] | None,
            tuple[NodeResourcesBalancedAllocation, int] | None] | None:
        """The profile's NODE-scope plugins if they are (one each at most) NodeResourcesFit's
        filter, its LeastAllocated or MostAllocated score (with its weight) and
        NodeResourcesBalancedAllocation (with its weight), else None."""
        fit = None
        for plugin in profile.filters:
            if plugin.scope is Scope.NODE:
                if type(plugin) is not NodeResourcesFit or fit is not None:
                    return None
                fit = plugin
        fit_score = balanced = None
        for scorer, weight in profile.scores:
            if scorer.scope is not Scope.NODE:
                continue
            if (type(scorer) is NodeResourcesFit and fit_score is None
                    and scorer.scoring_strategy in _STRATEGIES):
                fit_score = (scorer, weight)
            elif type(scorer) is NodeResourcesBalancedAllocation and balanced is None:
                balanced = (scorer, weight)
            else:
                return None
        return fit, fit_score, balanced

    # ------------------------------------------------------------------ per template
    @property
    def planned(self) -> int:
        """How many pod classes were planned (``plan``) so far."""
        return len(self._plans)

    def known_plan(self, pod: Pod) -> Plan | None:
        """The pod's plan if ``plan`` was asked for its class (None otherwise, or if the
        loop cannot run it)."""
        return self._plans.get(pod.cache_key)

    @property
    def max_shapes(self) -> int:
        """How many pod shapes ``store`` remembers at most."""
        return self._max_caches

    def plan(self, pod: Pod) -> Plan | None:
        """What the loop needs of the pod's template (None where the loop cannot run)."""
        key = pod.cache_key
        if key in self._plans:
            return self._plans[key]
        return self._plans.put(key, self._new_plan(pod), pod.template)

    def _new_plan(self, pod: Pod) -> Plan | None:
        state, evaluator, profile = self.state, self.evaluator, self.profile
        n = state.n_nodes
        static_feasible = np.ones(n, dtype=bool)
        filters = []
        for plugin in profile.filters:
            if plugin.scope is Scope.STATIC:
                static_feasible &= evaluator.answer(plugin, True, pod).values
            elif plugin.scope is Scope.CLUSTER:
                answer = evaluator.answer(plugin, True, pod)
                if not answer.fixed:
                    filters.append((plugin, answer))
        static_plain = np.zeros(n, dtype=np.int64)
        cluster_plain, per_cycle, spreads = [], [], []
        for scorer, weight in profile.scores:
            if scorer.scope is Scope.NODE:
                continue
            if type(scorer) is PodTopologySpread:
                spread = scorer.scoring(state, pod)
                if spread.constraints:
                    spreads.append((spread, weight))
                continue
            answer = evaluator.answer(scorer, False, pod)
            if scorer.normalize_score is not None or scorer.candidate_dependent:
                if scorer.scope is Scope.STATIC and (answer.skipped or answer.alike):
                    if not answer.skipped:
                        evaluator.normalize_alike(answer, scorer)
                    continue
                per_cycle.append((scorer, weight, answer))
            elif scorer.scope is Scope.CLUSTER:
                cluster_plain.append((scorer, weight, answer))
            elif answer.suspect:
                return None  # the numpy cycle reports the bad score
            else:
                static_plain += answer.values * weight
        fit_columns, fit_want, fits_nowhere = _NONE, _NONE, False
        if self.fit is not None and not state.requests_of(pod).is_empty:
            fit_columns, missing = self.fit.checked_columns(state, pod)
            fit_want = state.requests_of(pod).requested[fit_columns]
            fits_nowhere = bool(missing)
        score_columns, score_weights, score_pod = _NONE, _NONE, _NONE
        if self.fit_score is not None:
            score_columns, score_weights, score_pod, everywhere = scored_columns(
                state, pod, self.fit_score[0].resources, nonzero=True)
            if not everywhere:
                return None
        balanced_columns, balanced_pod = _NONE, _NONE
        if self.balanced is not None:
            balanced_columns, _, balanced_pod, everywhere = scored_columns(
                state, pod, self.balanced[0].resources, nonzero=False)
            if not everywhere:
                return None
        fit_weight = least = balanced_weight = 0
        if self.fit_score is not None:
            fit_weight = self.fit_score[1]
            least = _STRATEGIES[self.fit_score[0].scoring_strategy]
        if self.balanced is not None:
            balanced_weight = self.balanced[1]
        shape = pack_shape(self.fit is not None, fit_weight, bool(least), balanced_weight,
                           fit_columns, fit_want, score_columns, score_weights, score_pod,
                           balanced_columns, balanced_pod)
        normalized, rest = _NOT_NORMALIZED, per_cycle
        for i, (scorer, weight, answer) in enumerate(per_cycle):
            reverse = _DEFAULT_NORMALIZED.get(type(scorer))
            if (reverse is not None and scorer.scope is Scope.STATIC and not answer.skipped
                    and (not len(answer.values) or answer.values.min() >= 0)):
                normalized = (weight, answer.values, reverse)
                rest = per_cycle[:i] + per_cycle[i + 1:]
                break
        return Plan(static_feasible, filters, cluster_plain, per_cycle, spreads,
                     fits_nowhere, static_feasible, static_plain, (fit_columns, fit_want),
                     (score_columns, score_weights, score_pod),
                     (balanced_columns, balanced_pod), shape, shape.tobytes(), normalized,
                     rest)

    def cache_row(self, plan: Plan) -> int:
        """The row of ``store`` that remembers each node for the plan's pods (int64 (2,
        n_nodes): versions, -1 before the first search, and scores), made the most recently
        searched: past ``CACHE_BYTES`` the least recently searched shape's row is given to a
        new one."""
        caches = self._caches
        row = caches.pop(plan.shape_key, None)
        if row is None:
            if len(caches) < self._max_caches:
                row = len(caches)
                if row == len(self.store):  # (grown by doubling: a few copies in all)
                    grown = np.empty((min(max(2 * row, 1), self._max_caches),
                                      *self.store.shape[1:]), dtype=np.int64)
                    grown[:row] = self.store
                    self.store = grown
            else:
                row = caches.pop(next(iter(caches)))
            self.store[row, 0] = -1
        caches[plan.shape_key] = row  # (the most recently searched, last)
        return row

    def mask(self, plan: Plan, pod: Pod) -> np.ndarray:
        """bool (n_nodes,): the STATIC and CLUSTER filters all pass."""
        if not plan.filters:
            return plan.mask
        for plugin, answer in plan.filters:
            self.evaluator.sync(answer, plugin, True, pod)
        key = tuple(answer.generation for _, answer in plan.filters)
        if key != plan.mask_key:
            mask = plan.static_feasible.copy()
            for _, answer in plan.filters:
                mask &= answer.values
            plan.mask, plan.mask_key = mask, key
        return plan.mask

    # ------------------------------------------------------------------ the cycle
    def best_candidates(self, pod: Pod, start: int, to_find: int
                        ) -> tuple[np.ndarray, int] | None:
        """For the cycle that searches from node ``start`` for ``to_find`` feasible nodes:
        the candidates of the highest total score (sorted int64; all of them, unscored, if
        there are fewer than two; none if no node is feasible) and where the next search
        starts; None to leave the pod to the numpy cycle. The array is a view of a buffer
        the next call overwrites."""
        plan = self.plan(pod)
        if plan is None:
            return None
        if plan.fits_nowhere:
            return _NONE, start
        mask = self.mask(plan, pod)
        if self._still_nowhere(plan, mask):
            return _NONE, start  # (a search finding no node leaves the start as it was)
        # the search, NodeResourcesFit's and BalancedAllocation's scores from what is
        # remembered of unchanged nodes, the first spreading's scores, one normalised score
        # and the best candidates by those totals, in one call
        state = self.state
        spread_weight, spread_arguments = 0, _NO_SPREAD
        spreads = plan.spreads
        if spreads:
            spread_weight, spread_arguments = spreads[0][1], spreads[0][0].kernel_arguments()
            spreads = spreads[1:]
        row = self.cache_row(plan)  # (first: it may grow the store)
        k, next_start, n_best = cached_search(
            mask, start, to_find, state.node_version, self.store[row],
            state.pod_count, state.allowed_pods, state.requested, state.allocatable,
            state.nonzero_requested, plan.static_plain, plan.shape, self.buffers,
            spread_weight, spread_arguments, *plan.normalized)
        per_cycle = plan.rest
        plan.nowhere = None if k else (self.state.epoch, mask)
        nodes = self._nodes[:k]
        if k < 2:
            return nodes, next_start
        totals = self._totals[:k]
        evaluator = self.evaluator
        changed = bool(spreads) or not n_best
        for plugin, weight, answer in plan.cluster_plain:
            evaluator.sync(answer, plugin, False, pod)
            raw = answer.values[nodes]
            if answer.suspect:
                check_bounds(plugin, raw)
            totals += raw * weight
            changed = True
        for spread, weight in spreads:
            add_spread(totals, weight, nodes, self._best, *spread.kernel_arguments())
        for plugin, weight, answer in per_cycle:
            normalized = self._normalized(plugin, answer, pod, nodes)
            if normalized is not None:
                totals += normalized * weight
                changed = True
        if changed:  # (else the kernel's best stand)
            n_best = best_nodes(nodes, totals, self._best)
        return self._best[:n_best], next_start

    def _still_nowhere(self, plan: Plan, mask: np.ndarray) -> bool:
        """Whether the search would still find no node for the plan's pods: it found none
        at an epoch with this very mask, and none of the few nodes changed since (a node's
        fit changes only with it) passes the mask and fits the pod."""
        nowhere, state = plan.nowhere, self.state
        if nowhere is None or nowhere[1] is not mask:
            return False
        epoch = nowhere[0]
        if epoch != state.epoch:
            if (state.epoch - epoch) * REFRESH_ALL_FRACTION > state.n_nodes:
                return False  # (many changes: the search is as quick)
            fit_columns, fit_want = plan.fit
            if fits_any(state.changed_since(epoch), mask, self.fit is not None,
                        state.pod_count, state.allowed_pods, state.requested,
                        state.allocatable, fit_columns, fit_want):
                return False
            plan.nowhere = (state.epoch, mask)
        return True

    def _normalized(self, plugin: ScorePlugin, answer: Answer, pod: Pod, nodes: np.ndarray
                    ) -> np.ndarray | None:
        """A per-cycle plugin's normalised scores over ``nodes``; None where it adds the same
        to every node (it skipped the pod, or scored every node alike)."""
        evaluator = self.evaluator
        evaluator.sync(answer, plugin, False, pod)
        if answer.skipped:
            return None
        if plugin.candidate_dependent:
            raw = evaluator.raw_scores(plugin, pod, nodes)
            if raw is None:
                return None
        elif answer.alike:
            evaluator.normalize_alike(answer, plugin)
            return None
        else:
            raw = answer.values[nodes]
        if plugin.normalize_score is None:
            check_bounds(plugin, raw)
            return raw
        return evaluator.normalize(plugin, raw)

    def changed_at(self) -> np.ndarray:
        """int64 (n_nodes,): per node, the state's epoch when its last change (bind, unbind,
        termination) was noted (0: none), noted now. Per-node records kept as of the epoch
        of a call need working out again on the nodes whose entry is later."""
        state = self.state
        if state.epoch != self._epoch:
            self._changed_at[state.changed_since(self._epoch)] = state.epoch
            self._epoch = state.epoch
        return self._changed_at

    # ------------------------------------------------------------------ no node
    def rejection_counts(self, pod: Pod) -> dict[str, int] | None:
        """kube's reasons over every node for a pod no node takes, counted as
        ``Evaluator.unschedulable_message`` counts them: the leading STATIC filters' once
        per class, NodeResourcesFit's kept per node (``gpu_kernels.count_reasons``) and
        worked out again on the nodes changed since the class was last counted. None to
        leave it to the evaluator (``reasons_record``)."""
        found = self.reasons_record(pod)
        if found is None:
            return None
        plan, record, static_counts, undecided = found
        state = self.state
        fit_columns, fit_want = plan.fit
        count_reasons(undecided, record.synced, self.changed_at(), self.reason_bits[record.row],
                      record.counts, FIT_ONLY, state.pod_count, state.allowed_pods,
                      state.requested, state.allocatable, fit_columns, fit_want,
                      plan.fits_nowhere, NO_GPU_MODEL, state.gpu_free, 0, 0)
        record.synced = state.epoch
        return self.worded(pod, plan, static_counts, record.counts)

    def worded(self, pod: Pod, plan: Plan, static_counts: Mapping[str, int],
               counts: np.ndarray) -> dict[str, int]:
        """The reasons and counts of ``rejection_counts`` from the class's ``counts``."""
        assert self.fit is not None  # (the counts are NodeResourcesFit's)
        state = self.state
        missing = self.fit.checked_columns(state, pod)[1] if plan.fits_nowhere else []
        return counted_reasons(static_counts, counts, state.resources.names, plan.fit[0],
                               missing, gpus=False)

    def reasons_record(self, pod: Pod) -> tuple[Plan, FitReasons, Mapping[str, int],
                                                  np.ndarray] | None:
        """What ``rejection_counts`` counts with: the pod's plan, its class's record, the
        leading STATIC filters' counts and the nodes they let through (sorted int64). None
        to leave the counting to the evaluator: the loop cannot run the pod, or a filter
        after the leading STATIC ones is neither NodeResourcesFit nor a CLUSTER filter
        passing every node they let through."""
        plan = self.plan(pod)
        if plan is None or self.fit is None:
            return None
        static_counts, undecided, first = self.evaluator.static_rejections(pod)
        record = self._fit_reasons(pod, plan, first)
        if record is None:
            return None
        mask = self.mask(plan, pod)
        if mask is not record.mask:
            if np.count_nonzero(mask) != len(undecided):  # (the mask is within them)
                return None
            record.mask = mask
        return plan, record, static_counts, undecided

    def _fit_reasons(self, pod: Pod, plan: Plan, first: int) -> FitReasons | None:
        """The class's reasons kept per node (made on first use), or None when a filter
        after the leading STATIC ones (from ``first``) is STATIC, or NodeResourcesFit is not
        among them, or it checks too many columns to count as bits."""
        key = pod.cache_key
        if key in self._reasons:
            return self._reasons[key]
        after = self.profile.filters[first:]
        record = None
        if (self.fit in after and len(plan.fit[0]) + 4 <= 63
                and all(p is self.fit or p.scope is Scope.CLUSTER for p in after)):
            row = self._records
            self._records += 1
            if row == len(self.reason_bits):  # (grown by doubling)
                grown = np.zeros((max(2 * row, 1), self.state.n_nodes), dtype=np.int64)
                grown[:row] = self.reason_bits
                self.reason_bits = grown
            record = FitReasons(len(plan.fit[0]), row)
        return self._reasons.put(key, record, pod.template)
