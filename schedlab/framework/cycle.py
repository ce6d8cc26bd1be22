"""The scheduling cycle: run a profile's filters and scores for a pod over all nodes.

``Evaluator`` caches the answers per pod template and keeps them in sync with the cluster
state: after binds, a NODE-scope plugin is asked again only about the nodes that changed, a
CLUSTER-scope plugin about every node, a STATIC one never. Normalisation, weights and bound
checks are applied per pod over the candidate nodes, exactly as kube-scheduler's framework.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

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
    skipped: set[int] = field(default_factory=set)
    """Score plugins that skipped this pod (kube's PreScore Skip): they contribute 0."""
    static_feasible: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    """bool (n_nodes,): the STATIC filters all pass (the part of ``feasible`` binds keep)."""
    static_plain: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    """int64 (n_nodes,): the STATIC plugins' part of ``plain_total``."""
    ranked: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
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


class Evaluator:
    """Filters and scores pods against one cluster state with one profile."""

    def __init__(self, profile: Profile, state: ClusterState) -> None:
        self.profile = profile
        self.state = state
        self._cache: dict[int, tuple[object, Evaluation]] = {}
        self._n_normalizing = sum(p.normalize_score is not None for p, _ in profile.scores)
        filters, scores = profile.filters, profile.scores
        self._dynamic_filters = [i for i, p in enumerate(filters) if p.scope is not Scope.STATIC]
        self._dynamic_scores = [i for i, (p, _) in enumerate(scores) if p.scope is not Scope.STATIC]
        dynamic = [filters[i] for i in self._dynamic_filters] + [
            scores[i][0] for i in self._dynamic_scores]
        self._node_scoped = all(p.scope is Scope.NODE for p in dynamic)
        """After binds, dynamic plugins are asked about the changed nodes only if all of them
        have NODE scope; one CLUSTER plugin makes them all be asked about every node."""

    # ----------------------------------------------------------------- raw answers
    def _filter(self, plugin: FilterPlugin, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        mask = np.asarray(plugin.filter(self.state, pod, nodes), dtype=bool)
        expected = self.state.count(nodes)
        if mask.shape != (expected,):
            raise SchedulingError(f"plugin {plugin.name} filter returned shape {mask.shape}, "
                                  f"expected ({expected},)")
        return mask

    def _score(self, plugin: ScorePlugin, pod: Pod, nodes: NodeIndex) -> np.ndarray | None:
        """The plugin's raw scores, checked for shape and type; None if it skips the pod."""
        expected = self.state.count(nodes)
        raw = plugin.score(self.state, pod, nodes)
        if raw is None:
            return None
        raw = np.asarray(raw)
        if raw.shape != (expected,) or raw.dtype.kind not in "iu":
            raise SchedulingError(f"plugin {plugin.name} score returned {raw.dtype} of shape "
                                  f"{raw.shape}, expected int64 of shape ({expected},)")
        return raw.astype(np.int64, copy=False)

    def _weighted(self, ev: Evaluation, i: int, raw: np.ndarray) -> np.ndarray | int:
        """Plugin i's contribution to ``plain_total`` (0 for normalising plugins); flags the
        evaluation as suspect if a raw score is out of bounds."""
        plugin, weight = self.profile.scores[i]
        if plugin.normalize_score is not None:
            return 0
        ev.suspect = ev.suspect or not _in_bounds(raw)
        return raw * weight

    def _constants(self, raw: list[np.ndarray], skipped: set[int]) -> dict[int, int]:
        constant = {}
        for i, ((plugin, _), scores) in enumerate(zip(self.profile.scores, raw, strict=True)):
            static = plugin.normalize_score is not None and plugin.scope is Scope.STATIC
            if static and i in skipped:
                constant[i] = 0
            elif static and scores.min() == scores.max():
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
        """Ask the STATIC plugins once, then the others through ``_refresh``."""
        n = self.state.n_nodes
        masks = [np.ones(n, bool) if i in self._dynamic_filters else self._filter(p, pod, ALL)
                 for i, p in enumerate(self.profile.filters)]
        answers = [None if i in self._dynamic_scores else self._score(p, pod, ALL)
                   for i, (p, _) in enumerate(self.profile.scores)]
        skipped = {i for i, r in enumerate(answers) if r is None and i not in self._dynamic_scores}
        raw = [np.zeros(n, np.int64) if r is None else r for r in answers]
        ev = Evaluation(masks, np.ones(n, bool), raw, np.zeros(n, np.int64),
                        self._constants(raw, skipped), self.state.epoch, skipped=skipped,
                        static_feasible=np.ones(n, bool), static_plain=np.zeros(n, np.int64),
                        ranked=np.zeros(n, np.int64))
        for mask in masks:
            ev.static_feasible &= mask
        for i, scores in enumerate(raw):
            if i not in self._dynamic_scores:
                ev.static_plain += self._weighted(ev, i, scores)
        self._refresh(pod, ev, ALL)
        return ev

    def _refresh(self, pod: Pod, ev: Evaluation, rows: NodeIndex | None = None) -> None:
        """Ask the dynamic plugins again about ``rows`` (default: the nodes changed since the
        evaluation's epoch) and update feasibility and totals there."""
        if rows is None:
            changed = self.state.changed_since(ev.epoch)
            few = len(changed) * REFRESH_ALL_FRACTION <= self.state.n_nodes
            rows = changed if few and self._node_scoped else ALL
        ev.epoch = self.state.epoch
        feasible = ev.static_feasible[rows]
        for i in self._dynamic_filters:
            mask = ev.masks[i][rows] = self._filter(self.profile.filters[i], pod, rows)
            feasible = feasible & mask
        plain = ev.static_plain[rows]
        for i in self._dynamic_scores:
            scores = self._score(self.profile.scores[i][0], pod, rows)
            if scores is None:
                ev.skipped.add(i)
                scores = np.zeros(self.state.count(rows), np.int64)
            else:
                ev.skipped.discard(i)
            ev.raw[i][rows] = scores
            plain = plain + self._weighted(ev, i, scores)
        ev.feasible[rows] = feasible
        ev.plain_total[rows] = plain
        ev.ranked[rows] = np.where(feasible, plain, -1)

    # ----------------------------------------------------------------- scoring
    def _normalized(self, ev: Evaluation, i: int, nodes: np.ndarray) -> np.ndarray | int:
        """Score plugin i's normalised scores over candidate ``nodes``: an int64 array, or one
        int shared by all of them (a skipped plugin's 0, a constant plugin's value)."""
        plugin = self.profile.scores[i][0]
        if plugin.normalize_score is None:
            raw = ev.raw[i][nodes]
            _check_bounds(plugin, raw)
            return raw
        if i in ev.skipped:
            return 0
        if i in ev.constant:
            return ev.constant[i]
        return self._normalize(plugin, ev.raw[i][nodes])

    def breakdown(self, ev: Evaluation, nodes: np.ndarray) -> list[ScoreBreakdown]:
        """Raw, normalised and weighted scores of every score plugin over candidate ``nodes``
        (int64 index array), normalised over exactly those nodes."""
        return [
            ScoreBreakdown(plugin, weight, ev.raw[i][nodes],
                           np.broadcast_to(self._normalized(ev, i, nodes), len(nodes)))
            for i, (plugin, weight) in enumerate(self.profile.scores)
        ]

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
            if plugin.normalize_score is not None:
                total = total + self._normalized(ev, i, nodes) * weight
            elif ev.suspect:
                self._normalized(ev, i, nodes)  # only to check the bounds on these nodes
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
