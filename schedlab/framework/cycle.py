"""The scheduling cycle: run a profile's filters and scores for a pod over all nodes.

``Evaluator`` caches the answers per pod template and keeps them in sync with the cluster
state: after binds, a NODE-scope plugin is asked again only about the nodes that changed, a
CLUSTER-scope plugin about every node, a STATIC one never. Normalisation, weights and bound
checks are applied per pod over the candidate nodes, exactly as kube-scheduler's framework.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from schedlab.cluster import ALL, ClusterState, NodeIndex
from schedlab.errors import SchedulingError
from schedlab.framework.plugin import MAX_NODE_SCORE, FilterPlugin, Scope, ScorePlugin
from schedlab.framework.profile import Profile
from schedlab.objects import Pod

REFRESH_ALL_FRACTION = 4
"""Refresh every node instead of the changed ones when more than 1/4 of them changed."""


def num_feasible_nodes_to_find(percentage: int, n_nodes: int) -> int:
    """kube-scheduler's numFeasibleNodesToFind (percentage 0 is the adaptive default)."""
    if n_nodes < 100 or percentage >= 100:
        return n_nodes
    if percentage == 0:
        percentage = max(50 - n_nodes // 125, 5)
    return max(n_nodes * percentage // 100, 100)


@dataclass
class Evaluation:
    """A template's filter and score answers over all nodes, as of ``epoch``.

    masks        per filter plugin: bool (n_nodes,), True where it passes
    feasible     bool (n_nodes,): all filters pass
    raw          per score plugin: int64 (n_nodes,) raw scores (zeros if it skipped the pod)
    plain_total  int64 (n_nodes,): Σ weight × raw over score plugins without normalize_score
    constant     per score plugin with normalize_score: its normalised score when its raw
                 scores are equal on every node (then any candidate set gets that value)
    suspect      True once a plugin without normalize_score gave some node a score outside
                 0..100; kube rejects that only if the node is scored, so candidates are then
                 checked at scoring time
    """

    masks: list[np.ndarray]
    feasible: np.ndarray
    raw: list[np.ndarray]
    plain_total: np.ndarray
    constant: dict[int, int]
    epoch: int
    suspect: bool = False
    static_feasible: np.ndarray | None = None
    """bool (n_nodes,): the static filters all pass (the part of ``feasible`` binds keep)."""
    ranked: np.ndarray | None = None
    """int64 (n_nodes,): ``plain_total`` on feasible nodes, -1 on the others."""


@dataclass(frozen=True)
class ScoreBreakdown:
    """One score plugin's scores over candidate nodes, each int64 (k,)."""

    plugin: ScorePlugin
    weight: int
    raw: np.ndarray
    normalized: np.ndarray

    @property
    def weighted(self) -> np.ndarray:
        return self.normalized * self.weight


def _in_bounds(scores: np.ndarray) -> bool:
    return not len(scores) or 0 <= scores.min() <= scores.max() <= MAX_NODE_SCORE


def _check_bounds(plugin: ScorePlugin, scores: np.ndarray) -> None:
    if not _in_bounds(scores):
        bad = scores[(scores < 0) | (scores > MAX_NODE_SCORE)][0]
        raise SchedulingError(
            f"plugin {plugin.name} returned score {bad}, expected 0..{MAX_NODE_SCORE}"
        )


def _union(a: NodeIndex | None, b: NodeIndex | None) -> NodeIndex | None:
    """The refreshed rows after refreshing ``a`` and ``b`` (each the changed nodes or ALL)."""
    if a is None or a is b:
        return b
    return a if b is None else ALL


class Evaluator:
    """Filters and scores pods against one cluster state with one profile."""

    def __init__(self, profile: Profile, state: ClusterState) -> None:
        self.profile = profile
        self.state = state
        self._cache: dict[int, tuple[object, Evaluation]] = {}
        self._n_normalizing = sum(p.normalize_score is not None for p, _ in profile.scores)
        self._static_filters = [i for i, p in enumerate(profile.filters)
                                if p.scope is Scope.STATIC]

    # ----------------------------------------------------------------- raw answers
    def _filter(self, plugin: FilterPlugin, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        mask = np.asarray(plugin.filter(self.state, pod, nodes), dtype=bool)
        expected = self.state.n_nodes if nodes is ALL else len(nodes)
        if mask.shape != (expected,):
            raise SchedulingError(f"plugin {plugin.name} filter returned shape {mask.shape}, "
                                  f"expected ({expected},)")
        return mask

    def _score(self, plugin: ScorePlugin, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        expected = self.state.n_nodes if nodes is ALL else len(nodes)
        raw = plugin.score(self.state, pod, nodes)
        if raw is None:
            return np.zeros(expected, dtype=np.int64)
        raw = np.asarray(raw)
        if raw.shape != (expected,) or raw.dtype.kind not in "iu":
            raise SchedulingError(f"plugin {plugin.name} score returned {raw.dtype} of shape "
                                  f"{raw.shape}, expected int64 of shape ({expected},)")
        return raw.astype(np.int64, copy=False)

    def _plain_total(self, ev: Evaluation, nodes: NodeIndex) -> np.ndarray:
        """Σ weight × raw over the plugins without normalize_score, on ``nodes``; flags the
        evaluation as suspect if one of those raw scores is out of bounds."""
        total = np.zeros(self.state.n_nodes if nodes is ALL else len(nodes), dtype=np.int64)
        for (plugin, weight), scores in zip(self.profile.scores, ev.raw, strict=True):
            if plugin.normalize_score is None:
                rows = scores[nodes]
                ev.suspect = ev.suspect or not _in_bounds(rows)
                total += rows * weight
        return total

    def _constants(self, pod: Pod, raw: list[np.ndarray]) -> dict[int, int]:
        constant = {}
        for i, ((plugin, _), scores) in enumerate(zip(self.profile.scores, raw, strict=True)):
            static = plugin.normalize_score is not None and plugin.scope is Scope.STATIC
            if static and scores.min() == scores.max():
                constant[i] = int(self._normalize(plugin, scores[:1])[0])
        return constant

    def _normalize(self, plugin: ScorePlugin, raw: np.ndarray) -> np.ndarray:
        normalized = np.asarray(plugin.normalize_score(raw.copy()), dtype=np.int64)
        _check_bounds(plugin, normalized)
        return normalized

    # ----------------------------------------------------------------- cache
    def evaluate(self, pod: Pod) -> Evaluation:
        """The pod's answers over all nodes, in sync with the state's current epoch."""
        cached = self._cache.get(id(pod.template))
        if cached is None:
            evaluation = self._evaluate_all(pod)
            self._cache[id(pod.template)] = (pod.template, evaluation)
            return evaluation
        evaluation = cached[1]
        if evaluation.epoch != self.state.epoch:
            self._refresh(pod, evaluation)
        return evaluation

    def _evaluate_all(self, pod: Pod) -> Evaluation:
        masks = [self._filter(p, pod, ALL) for p in self.profile.filters]
        feasible = np.logical_and.reduce(masks) if masks else np.ones(self.state.n_nodes, bool)
        raw = [self._score(p, pod, ALL) for p, _ in self.profile.scores]
        ev = Evaluation(masks, np.array(feasible, dtype=bool), raw, np.empty(0, np.int64),
                        self._constants(pod, raw), self.state.epoch)
        static = [masks[i] for i in self._static_filters]
        ev.static_feasible = np.logical_and.reduce(static) if static else np.ones_like(ev.feasible)
        ev.plain_total = self._plain_total(ev, ALL)
        ev.ranked = np.where(ev.feasible, ev.plain_total, -1)
        return ev

    def _refresh(self, pod: Pod, ev: Evaluation) -> None:
        changed = self.state.changed_since(ev.epoch)
        ev.epoch = self.state.epoch
        if len(changed) * REFRESH_ALL_FRACTION > self.state.n_nodes:
            changed = ALL
        filtered: NodeIndex | None = None
        for i, plugin in enumerate(self.profile.filters):
            if plugin.scope is not Scope.STATIC:
                nodes = changed if plugin.scope is Scope.NODE else ALL
                ev.masks[i][nodes] = self._filter(plugin, pod, nodes)
                filtered = _union(filtered, nodes)
        if filtered is not None:
            dynamic = [m[filtered] for i, m in enumerate(ev.masks) if i not in self._static_filters]
            ev.feasible[filtered] = np.logical_and.reduce([ev.static_feasible[filtered], *dynamic])
        scored: NodeIndex | None = None
        for i, (plugin, _) in enumerate(self.profile.scores):
            if plugin.scope is not Scope.STATIC:
                nodes = changed if plugin.scope is Scope.NODE else ALL
                ev.raw[i][nodes] = self._score(plugin, pod, nodes)
                scored = _union(scored, nodes)
        if scored is not None:
            ev.plain_total[scored] = self._plain_total(ev, scored)
        touched = _union(filtered, scored)
        if touched is not None:
            ev.ranked[touched] = np.where(ev.feasible[touched], ev.plain_total[touched], -1)

    # ----------------------------------------------------------------- scoring
    def breakdown(self, ev: Evaluation, nodes: np.ndarray) -> list[ScoreBreakdown]:
        """Raw, normalised and weighted scores of every score plugin over candidate ``nodes``
        (int64 index array), normalised over exactly those nodes."""
        parts = []
        for i, (plugin, weight) in enumerate(self.profile.scores):
            raw = ev.raw[i][nodes]
            if plugin.normalize_score is None:
                _check_bounds(plugin, raw)
                normalized = raw
            elif i in ev.constant:
                normalized = np.full(len(nodes), ev.constant[i], dtype=np.int64)
            else:
                normalized = self._normalize(plugin, raw)
            parts.append(ScoreBreakdown(plugin, weight, raw, normalized))
        return parts

    def ranks_by_plain_total(self, ev: Evaluation) -> bool:
        """True when every normalising plugin gives all nodes the same score for this pod
        and no raw score is out of bounds, so that ranking feasible nodes by
        ``ev.plain_total`` ranks them by total score."""
        return len(ev.constant) == self._n_normalizing and not ev.suspect

    def totals(self, ev: Evaluation, nodes: np.ndarray) -> np.ndarray:
        """int64 (k,): the total weighted score of each candidate node in ``nodes``; raises
        SchedulingError if a plugin scored one of them outside 0..100."""
        total = ev.plain_total[nodes]
        for i, (plugin, weight) in enumerate(self.profile.scores):
            if plugin.normalize_score is None:
                if ev.suspect:
                    _check_bounds(plugin, ev.raw[i][nodes])
                continue
            if i in ev.constant:
                total = total + ev.constant[i] * weight
            else:
                total = total + self._normalize(plugin, ev.raw[i][nodes]) * weight
        return total

    # ----------------------------------------------------------------- diagnosis
    def failures(self, pod: Pod, nodes: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
        """Every filter's rejections among ``nodes`` (int64 indices): (plugin, reason, bool
        (len(nodes),)) for each reason, computed on demand (not on the hot path)."""
        ev = self.evaluate(pod)
        found = []
        for plugin, mask in zip(self.profile.filters, ev.masks, strict=True):
            failed = nodes[~mask[nodes]]
            if len(failed) == 0:
                continue
            for reason, which in plugin.failure_reasons(self.state, pod, failed):
                hit = np.zeros(len(nodes), dtype=bool)
                hit[np.searchsorted(nodes, failed[which])] = True
                found.append((plugin.name, reason, hit))
        return found

    def unschedulable_message(self, pod: Pod, nodes: np.ndarray | None = None) -> str:
        """kube's FitError text: "0/N nodes are available: <count> <reason>, ...", counting
        each node's reasons from the first filter that rejected it."""
        ev = self.evaluate(pod)
        nodes = np.arange(self.state.n_nodes) if nodes is None else nodes
        counts: Counter[str] = Counter()
        undecided = np.ones(len(nodes), dtype=bool)
        for plugin, mask in zip(self.profile.filters, ev.masks, strict=True):
            failing = undecided & ~mask[nodes]
            if failing.any():
                failed = nodes[failing]
                for reason, which in plugin.failure_reasons(self.state, pod, failed):
                    counts[reason] += int(which.sum())
                undecided &= ~failing
        parts = sorted(f"{count} {reason}" for reason, count in counts.items() if count)
        return f"0/{len(nodes)} nodes are available: {', '.join(parts)}."
