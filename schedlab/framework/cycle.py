"""The scheduling cycle: run a profile's filters and scores for a pod over all nodes.

``Evaluator`` caches each plugin's answers per the plugin's cache key (by default the pod
template) and keeps them in sync with the cluster state: after binds, a NODE-scope plugin is
asked again only about the nodes that changed, a CLUSTER-scope plugin about every node, a
STATIC one never. Normalisation, weights and bound checks are applied per pod over the
candidate nodes, exactly as kube-scheduler's framework.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np

from schedlab.caches import IdCache
from schedlab.cluster import ALL, ClusterState, NodeIndex
from schedlab.errors import SchedulingError
from schedlab.framework.plugin import (
    MAX_NODE_SCORE,
    FilterPlugin,
    Plugin,
    Scope,
    ScorePlugin,
    reason_counts,
)
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
class Answer:
    """One plugin's answer for one cache key (see ``Plugin.cache_key``), over all nodes.

    values   bool (n_nodes,) for a filter, int64 (n_nodes,) raw scores for a score plugin
             (zeros if it skipped the pod)
    epoch    the state's epoch the values are in sync with
    skipped  a score plugin skipped the pod (kube's PreScore Skip): it contributes 0
    alike    a score plugin gave every node the same raw score
    alike_normalized  the normalised score of those equal raw scores, once worked out
    suspect  a score plugin without normalize_score gave some node a score outside 0..100
             (kube rejects that only if the node is scored, so candidates are then checked)
    fixed    a filter that skips the pod (``FilterPlugin.skips_filter``): every node passes,
             whatever the state, and the answer is never brought in sync again
    """

    values: np.ndarray
    epoch: int
    skipped: bool = False
    alike: bool = False
    suspect: bool = False
    alike_normalized: int | None = None
    fixed: bool = False
    token: object = None
    """A CLUSTER plugin's ``state_token`` when the values were computed."""
    generation: int = 0
    """Counts the times the values were replaced on every node (after which the totals of
    the templates using them are recombined everywhere)."""


@dataclass
class Evaluation:
    """A pod template's filter and score answers over all nodes, as of ``epoch``.

    masks        per filter plugin: bool (n_nodes,), True where it passes
    feasible     bool (n_nodes,): all filters pass
    raw          per score plugin: int64 (n_nodes,) raw scores (zeros if it skipped the pod,
                 or if its scores depend on the candidates and are computed per cycle)
    plain_total  int64 (n_nodes,): Σ weight × raw over the score plugins that neither
                 normalise nor depend on the candidates
    ranked       int64 (n_nodes,): ``plain_total`` on feasible nodes, -1 on the others
    skipped      the score plugins that skipped the pod: they contribute 0
    uniform      the score plugins with normalize_score or candidate-dependent scores whose
                 normalised scores are equal on every node of any candidate set (they skipped
                 the pod, or their raw scores are equal on every node)
    suspect      some plugin without normalize_score scored a node outside 0..100
    The arrays are shared with other templates a plugin answers alike, and replaced or
    updated as the state changes: callers read them, right after ``evaluate``.
    """

    pod: Pod
    filter_answers: list[Answer]
    score_answers: list[Answer]
    static_feasible: np.ndarray
    """bool (n_nodes,): the STATIC filters all pass."""
    static_plain: np.ndarray
    """int64 (n_nodes,): the STATIC plugins' part of ``plain_total``."""
    feasible: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    plain_total: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    ranked: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    epoch: int = -1
    skipped: set[int] = field(default_factory=set)
    uniform: set[int] = field(default_factory=set)
    suspect: bool = False
    generations: list[int] = field(default_factory=list, repr=False)
    """The ``generation`` of each dynamic answer when the totals were last combined."""

    @property
    def masks(self) -> list[np.ndarray]:
        return [a.values for a in self.filter_answers]

    @property
    def raw(self) -> list[np.ndarray]:
        return [a.values for a in self.score_answers]


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


def fit_error(counts: Mapping[str, int], n_nodes: int) -> str:
    """kube's FitError text for ``n_nodes`` nodes, each counted under its reasons:
    "0/N nodes are available: <count> <reason>, ..." (sorted as strings, zeros left out)."""
    parts = sorted(f"{count} {reason}" for reason, count in counts.items() if count)
    return f"0/{n_nodes} nodes are available: {', '.join(parts)}."


def _in_bounds(scores: np.ndarray) -> bool:
    return not len(scores) or 0 <= scores.min() <= scores.max() <= MAX_NODE_SCORE


def check_bounds(plugin: ScorePlugin, scores: np.ndarray) -> None:
    """Raise SchedulingError if a plugin's (normalised) scores leave 0..MAX_NODE_SCORE."""
    if not _in_bounds(scores):
        bad = scores[(scores < 0) | (scores > MAX_NODE_SCORE)][0]
        raise SchedulingError(
            f"plugin {plugin.name} returned score {bad}, expected 0..{MAX_NODE_SCORE}"
        )


class Evaluator:
    """Filters and scores pods against one cluster state with one profile.

    Each plugin's answers are cached per its ``cache_key`` (pods it answers alike share one
    answer) and kept in sync with the state: after binds a NODE plugin is asked again about
    the nodes that changed, a CLUSTER plugin about every node, a STATIC one never. A pod's
    totals are then combined from its plugins' answers over all nodes.
    """

    def __init__(self, profile: Profile, state: ClusterState) -> None:
        self.profile = profile
        self.state = state
        # (pod cache keys hold id(template): each entry keeps the pod's template alive)
        self._cache: IdCache[Hashable, Evaluation] = IdCache()
        """Pod cache key → the pod's evaluation."""
        self._answers: IdCache[tuple[bool, int, Hashable], Answer] = IdCache()
        """(is a filter, plugin id, plugin's cache key) → its answer."""
        self._messages: IdCache[Hashable, tuple[int, str]] = IdCache()
        """Pod cache key → (epoch, its unschedulable message over all nodes then)."""
        self._tokens: IdCache[tuple[int, Hashable], tuple[int, object]] = IdCache()
        """(plugin id, pod cache key) → (epoch, the plugin's state token then)."""
        self._static_rejections: IdCache[Hashable, tuple[Counter[str], np.ndarray, int]] = (
            IdCache())
        """Pod cache key → what the leading STATIC filters reject over all nodes."""
        self.count_rejections: Callable[[Pod], Mapping[str, int] | None] | None = None
        """Optionally set by a compiled cycle: the reasons and their counts over every node
        for a pod no node takes, as ``unschedulable_message`` counts them, worked out
        faster (None: let the evaluator count them)."""
        scores = profile.scores
        self._per_cycle = [i for i, (p, _) in enumerate(scores)
                           if p.normalize_score is not None or p.candidate_dependent]
        """Score plugins whose contribution is worked out per cycle over the candidates."""
        self._plain = [i for i, (p, _) in enumerate(scores) if i not in self._per_cycle]
        self._dynamic_filters = [i for i, p in enumerate(profile.filters)
                                 if p.scope is not Scope.STATIC]
        self._dynamic_plain = [i for i in self._plain if scores[i][0].scope is not Scope.STATIC]
        self._dynamic = [(True, i, profile.filters[i]) for i in self._dynamic_filters] + [
            (False, i, p) for i, (p, _) in enumerate(scores) if p.scope is not Scope.STATIC]
        """(is a filter, index, plugin) of the NODE and CLUSTER plugins."""

    # ----------------------------------------------------------------- raw answers
    def _filter(self, plugin: FilterPlugin, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        mask = np.asarray(plugin.filter(self.state, pod, nodes), dtype=bool)
        self._check_mask(plugin, mask,
                         self.state.n_nodes if nodes is ALL else self.state.count(nodes))
        return mask

    @staticmethod
    def _check_mask(plugin: FilterPlugin, mask: np.ndarray, expected: int) -> None:
        if mask.shape != (expected,):
            raise SchedulingError(f"plugin {plugin.name} filter returned shape {mask.shape}, "
                                  f"expected ({expected},)")

    def raw_scores(self, plugin: ScorePlugin, pod: Pod, nodes: NodeIndex) -> np.ndarray | None:
        """The plugin's raw scores of ``pod`` on ``nodes``, checked for shape and type; None
        if it skips the pod."""
        expected = self.state.n_nodes if nodes is ALL else self.state.count(nodes)
        raw = plugin.score(self.state, pod, nodes)
        if raw is None:
            return None
        raw = np.asarray(raw)
        if raw.shape != (expected,) or raw.dtype.kind not in "iu":
            raise SchedulingError(f"plugin {plugin.name} score returned {raw.dtype} of shape "
                                  f"{raw.shape}, expected int64 of shape ({expected},)")
        return raw.astype(np.int64, copy=False)

    def normalize(self, plugin: ScorePlugin, raw: np.ndarray) -> np.ndarray:
        """The plugin's normalised scores of ``raw`` (int64 (k,)), checked for bounds."""
        normalize_score = plugin.normalize_score
        assert normalize_score is not None  # (asked only of plugins that normalise)
        normalized = np.asarray(normalize_score(raw.copy()), dtype=np.int64)
        check_bounds(plugin, normalized)
        return normalized

    def _answer(self, plugin: FilterPlugin | ScorePlugin, is_filter: bool, pod: Pod) -> Answer:
        """The plugin's answer for ``pod`` (shared by the pods of equal cache keys), created
        out of sync if it is new."""
        key = (is_filter, id(plugin), plugin.cache_key(self.state, pod))
        answer = self._answers.get(key)
        if answer is None:
            n = self.state.n_nodes
            answer = self._answers.put(
                key, Answer(np.ones(n, bool) if is_filter else np.zeros(n, np.int64), -1),
                pod.template)
        return answer

    def sync(self, answer: Answer, plugin: FilterPlugin | ScorePlugin, is_filter: bool,
             pod: Pod) -> None:
        """Bring ``answer`` in sync with the state: ask NODE plugins about the changed nodes,
        CLUSTER plugins about every node unless their state token is unchanged."""
        epoch = self.state.epoch
        if answer.epoch == epoch or (answer.epoch >= 0 and (plugin.scope is Scope.STATIC
                                                            or answer.fixed)):
            return
        # (``is_filter`` tells which of its points ``plugin`` answers for: the type checker
        # cannot follow it, and a plugin may be both, so no isinstance on this hot path)
        if (answer.epoch < 0 and is_filter
                and plugin.skips_filter(self.state, pod)):  # type: ignore[union-attr]
            answer.values[:] = True
            answer.epoch, answer.fixed = epoch, True
            answer.generation += 1
            return
        token = self._token(plugin, pod) if plugin.scope is Scope.CLUSTER else None
        rows: NodeIndex = ALL
        if answer.epoch >= 0:
            if token is not None and token == answer.token:
                answer.epoch = epoch
                return
            if plugin.scope is Scope.NODE:
                changed = self.state.changed_since(answer.epoch)
                if len(changed) * REFRESH_ALL_FRACTION <= self.state.n_nodes:
                    rows = changed
        answer.epoch, answer.token = epoch, token
        if is_filter:
            self._store(answer, plugin, rows,
                        self._filter(plugin, pod, rows))  # type: ignore[arg-type]
            return
        scorer: ScorePlugin = plugin  # type: ignore[assignment]  # (not a filter's answer)
        if scorer.candidate_dependent:  # scored per cycle: only whether it skips is kept
            answer.skipped = scorer.skips(self.state, pod)
            return
        scores = self.raw_scores(scorer, pod, rows)
        was_skipped, answer.skipped = answer.skipped, scores is None
        if was_skipped and answer.skipped and answer.generation:
            return  # still skipping: the values stay all 0
        self._store(answer, plugin, rows, scores if scores is not None
                    else np.zeros(self.state.count(rows), np.int64))
        answer.alike_normalized = None
        if scorer.normalize_score is None:
            answer.suspect = answer.suspect or (scores is not None and not _in_bounds(scores))
        else:
            values = answer.values
            answer.alike = scores is None or not len(values) or values.min() == values.max()

    def _token(self, plugin: FilterPlugin | ScorePlugin, pod: Pod) -> object:
        """``plugin.state_token`` for ``pod``, asked once per epoch (a plugin's filter and
        score answers share it; every change of the state starts a new epoch)."""
        key = (id(plugin), pod.cache_key)
        cached = self._tokens.get(key)
        if cached is not None and cached[0] == self.state.epoch:
            return cached[1]
        token = plugin.state_token(self.state, pod)
        self._tokens.put(key, (self.state.epoch, token), pod.template)
        return token

    def answer(self, plugin: FilterPlugin | ScorePlugin, is_filter: bool, pod: Pod) -> Answer:
        """The plugin's answer for ``pod`` over all nodes (shared by the pods it answers
        alike), in sync with the state."""
        answer = self._answer(plugin, is_filter, pod)
        self.sync(answer, plugin, is_filter, pod)
        return answer

    @staticmethod
    def _store(answer: Answer, plugin: Plugin, rows: NodeIndex, values: np.ndarray) -> None:
        """Put new values of ``rows`` in ``answer``: a whole new array is kept as it is,
        unless it belongs to a NODE plugin, whose array is later updated in place."""
        if rows is ALL:
            answer.generation += 1
        if rows is not ALL or plugin.scope is Scope.NODE:
            answer.values[rows] = values
        else:
            answer.values = values

    # ----------------------------------------------------------------- per template
    def evaluate(self, pod: Pod) -> Evaluation:
        """The pod's answers over all nodes, in sync with the state's current epoch."""
        ev = self._cache.get(pod.cache_key)
        if ev is None:
            return self._cache.put(pod.cache_key, self._first_evaluation(pod), pod.template)
        if ev.epoch != self.state.epoch:
            ev.pod = pod
            self._refresh(ev)
        return ev

    def _first_evaluation(self, pod: Pod) -> Evaluation:
        """Ask the STATIC plugins once and combine their answers; then ``_refresh``."""
        n = self.state.n_nodes
        filters = [self._answer(p, True, pod) for p in self.profile.filters]
        scores = [self._answer(p, False, pod) for p, _ in self.profile.scores]
        static_feasible = np.ones(n, bool)
        for answer, plugin in zip(filters, self.profile.filters, strict=True):
            if plugin.scope is Scope.STATIC:
                self.sync(answer, plugin, True, pod)
                static_feasible &= answer.values
        static_plain = np.zeros(n, np.int64)
        for i, (scorer, weight) in enumerate(self.profile.scores):
            if scorer.scope is Scope.STATIC:
                self.sync(scores[i], scorer, False, pod)
                if i in self._plain:
                    static_plain += scores[i].values * weight
        ev = Evaluation(pod, filters, scores, static_feasible, static_plain,
                        generations=[-1] * len(self._dynamic))
        self._refresh(ev)
        return ev

    def _refresh(self, ev: Evaluation) -> None:
        """Bring the dynamic plugins' answers in sync and recombine the totals: on the nodes
        changed since the evaluation's epoch, or on every node if an answer was recomputed
        everywhere since then (or many nodes changed)."""
        pod, profile = ev.pod, self.profile
        everywhere = ev.epoch < 0
        for j, (is_filter, i, plugin) in enumerate(self._dynamic):
            answer = ev.filter_answers[i] if is_filter else ev.score_answers[i]
            self.sync(answer, plugin, is_filter, pod)
            if ev.generations[j] != answer.generation:
                ev.generations[j] = answer.generation
                everywhere = True
        rows: NodeIndex = ALL
        if not everywhere:
            rows = self.state.changed_since(ev.epoch)
            everywhere = len(rows) * REFRESH_ALL_FRACTION > self.state.n_nodes
        feasible = ev.static_feasible if everywhere else ev.static_feasible[rows]
        for i in self._dynamic_filters:
            values = ev.filter_answers[i].values
            feasible = feasible & (values if everywhere else values[rows])
        plain = ev.static_plain if everywhere else ev.static_plain[rows]
        for i in self._dynamic_plain:
            values = ev.score_answers[i].values
            values = values if everywhere else values[rows]
            weight = profile.scores[i][1]
            plain = plain + (values if weight == 1 else values * weight)
        ranked = np.where(feasible, plain, -1)
        if everywhere:
            ev.feasible = feasible.copy() if feasible is ev.static_feasible else feasible
            ev.plain_total = plain.copy() if plain is ev.static_plain else plain
            ev.ranked = ranked
        else:
            ev.feasible[rows], ev.plain_total[rows], ev.ranked[rows] = feasible, plain, ranked
        ev.epoch = self.state.epoch
        scores = ev.score_answers
        ev.skipped = {i for i, a in enumerate(scores) if a.skipped}
        ev.uniform = {i for i in self._per_cycle if scores[i].skipped or (
            scores[i].alike and not profile.scores[i][0].candidate_dependent)}
        ev.suspect = any(a.suspect for a in scores)

    # ----------------------------------------------------------------- scoring
    def _scores(self, ev: Evaluation, i: int, nodes: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray | int]:
        """Score plugin i's raw and normalised scores over candidate ``nodes``: int64 arrays,
        or 0 for the normalised scores of a plugin that skipped the pod."""
        plugin = self.profile.scores[i][0]
        raw = ev.raw[i][nodes]
        if plugin.candidate_dependent and i not in ev.skipped:
            scored = self.raw_scores(plugin, ev.pod, nodes)
            if scored is None:
                return raw, 0
            raw = scored
        elif i in ev.skipped:
            return raw, 0
        if plugin.normalize_score is None:
            check_bounds(plugin, raw)
            return raw, raw
        return raw, self.normalize(plugin, raw)

    def breakdown(self, ev: Evaluation, nodes: np.ndarray) -> list[ScoreBreakdown]:
        """Raw, normalised and weighted scores of every score plugin over candidate ``nodes``
        (int64 index array), normalised over exactly those nodes."""
        found = []
        for i, (plugin, weight) in enumerate(self.profile.scores):
            raw, normalized = self._scores(ev, i, nodes)
            found.append(ScoreBreakdown(plugin, weight, raw,
                                        np.broadcast_to(normalized, len(nodes))))
        return found

    def ranks_by_plain_total(self, ev: Evaluation) -> bool:
        """True when every per-cycle plugin gives all nodes the same score for this pod and
        no raw score is out of bounds, so that ranking feasible nodes by ``ev.plain_total``
        ranks them by total score."""
        return not ev.suspect and all(i in ev.uniform for i in self._per_cycle)

    def check_uniform(self, ev: Evaluation) -> None:
        """Normalise the uniform plugins' equal scores once, as scoring two or more nodes
        would, so that a score outside 0..100 raises even when ranking by plain totals."""
        for i in ev.uniform - ev.skipped:
            self.normalize_alike(ev.score_answers[i], self.profile.scores[i][0])

    def normalize_alike(self, answer: Answer, plugin: ScorePlugin) -> None:
        """Normalise the equal raw scores of an ``alike`` answer once (raises if the result
        is out of bounds, as normalising them over any candidates would)."""
        if answer.alike_normalized is None:
            answer.alike_normalized = int(self.normalize(plugin, answer.values[:1])[0])

    def totals(self, ev: Evaluation, nodes: np.ndarray, ranking: bool = False) -> np.ndarray:
        """int64 (k,): the total weighted score of each candidate node in ``nodes``; raises
        SchedulingError if a plugin scored one of them outside 0..100. With ``ranking``, the
        uniform plugins, which add the same amount to every candidate, are left out (the
        totals then rank the nodes as the full ones do, with the same ties)."""
        total = ev.plain_total[nodes]
        if ranking and ev.uniform:
            self.check_uniform(ev)
        for i, (plugin, weight) in enumerate(self.profile.scores):
            if i in self._per_cycle:
                if ranking and i in ev.uniform:
                    continue
                total = total + self._scores(ev, i, nodes)[1] * weight
            elif ev.suspect:
                check_bounds(plugin, ev.raw[i][nodes])
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
        each node's reasons from the first filter that rejected it (over all nodes, the
        text is kept until the state changes: pods of a template that fail one after the
        other share it; ``count_rejections`` may count them)."""
        if nodes is None:
            cached = self._messages.get(pod.cache_key)
            if cached is not None and cached[0] == self.state.epoch:
                return cached[1]
            counts = None if self.count_rejections is None else self.count_rejections(pod)
            message = (fit_error(counts, self.state.n_nodes) if counts is not None else
                       self._unschedulable_message(pod, np.arange(self.state.n_nodes), True))
            self._messages.put(pod.cache_key, (self.state.epoch, message), pod.template)
            return message
        return self._unschedulable_message(pod, nodes)

    def _unschedulable_message(self, pod: Pod, nodes: np.ndarray, everywhere: bool = False
                               ) -> str:
        """The FitError text over ``nodes`` (every node with ``everywhere``): each filter in
        turn is asked about the nodes no earlier filter rejected, the STATIC ones from their
        cached answers, the others afresh (no cache to bring in sync). Over every node, what
        the leading STATIC filters reject is counted once per template."""
        counts: Counter[str] = Counter()
        undecided, first = nodes, 0
        if everywhere:
            static_counts, undecided, first = self.static_rejections(pod)
            counts.update(static_counts)
        counts.update(self._rejections(pod, undecided, first=first)[0])
        return fit_error(counts, len(nodes))

    def static_rejections(self, pod: Pod) -> tuple[Counter[str], np.ndarray, int]:
        """What the leading STATIC filters (those before the first that is not) reject over
        every node, worked out once per template: the count of each reason, the nodes they
        let through (sorted int64) and the index of the first filter after them."""
        cached = self._static_rejections.get(pod.cache_key)
        if cached is None:
            cached = self._static_rejections.put(
                pod.cache_key,
                self._rejections(pod, np.arange(self.state.n_nodes), static_only=True),
                pod.template)
        return cached

    def _rejections(self, pod: Pod, nodes: np.ndarray, first: int = 0,
                    static_only: bool = False) -> tuple[Counter[str], np.ndarray, int]:
        """Run the filters from the ``first`` on ``nodes`` (int64 indices), each on the nodes
        the earlier ones let through (with ``static_only``, up to the first filter that is
        not STATIC): the count of each rejection reason, the nodes let through, and the
        index of the filter to run next."""
        counts: Counter[str] = Counter()
        filters = self.profile.filters
        index = first
        while index < len(filters) and len(nodes):
            plugin = filters[index]
            if plugin.scope is Scope.STATIC:
                passes = self.answer(plugin, True, pod).values[nodes]
                failed = nodes[~passes]
                rejected = reason_counts(plugin.failure_reasons(self.state, pod, failed)) \
                    if len(failed) else []
            elif static_only:
                break
            else:
                passes, rejected = plugin.rejections(self.state, pod, nodes)
                self._check_mask(plugin, passes, len(nodes))
            for reason, count in rejected:
                counts[reason] += count
            nodes = nodes[passes]
            index += 1
        return counts, nodes, index
