"""PodTopologySpread: spread matching pods over topology domains (kube's podtopologyspread
plugin): DoNotSchedule constraints filter, ScheduleAnyway constraints score, and pods without
constraints get the default ones."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import TypeAlias

import numpy as np

from schedlab.caches import IdCache, PerState
from schedlab.cluster import ALL, ClusterState, NodeIndex, Tally
from schedlab.fields import Field, topology_spread_constraints
from schedlab.framework.args import PluginArgs, arg
from schedlab.framework.domains import DomainRule
from schedlab.framework.plugin import FilterPlugin, Scope, ScorePlugin
from schedlab.framework.selectors import required_mask
from schedlab.matching import (
    PodSelector,
    default_spread_selector,
    label_selector_matches,
    spread_selector,
)
from schedlab.objects import (
    HOSTNAME_KEY,
    ZONE_KEY,
    LabelSelector,
    Pod,
    PodTemplate,
    TopologySpreadConstraint,
)
from schedlab.plugins.taint_toleration import HARD_EFFECTS, untolerated

REASON_MISSING_LABEL = (
    "node(s) didn't match pod topology spread constraints (missing required label)"
)
REASON_SKEW = "node(s) didn't match pod topology spread constraints"

SYSTEM_DEFAULT_CONSTRAINTS: tuple[TopologySpreadConstraint, ...] = (
    TopologySpreadConstraint(3, HOSTNAME_KEY, "ScheduleAnyway"),
    TopologySpreadConstraint(5, ZONE_KEY, "ScheduleAnyway"),
)
"""kube-scheduler's system default constraints (defaultingType System)."""
DEFAULTING_TYPES: tuple[str, ...] = ("System", "List")


def _default_constraints(node: Field) -> tuple[TopologySpreadConstraint, ...]:
    return tuple(topology_spread_constraints(node, defaults=True))


@dataclass(frozen=True)
class PodTopologySpreadArgs(PluginArgs):
    """kube's PodTopologySpreadArgs: with ``defaulting_type`` "System" (the default, as kube's
    v1 defaulting) pods without constraints get ``SYSTEM_DEFAULT_CONSTRAINTS``; with "List"
    they get ``default_constraints`` (without label selectors: the selector comes from the
    Services and controllers selecting the pod; no repeated {topologyKey,
    whenUnsatisfiable} pair), which System does not allow."""

    defaulting_type: str = arg("System", choices=DEFAULTING_TYPES)
    default_constraints: tuple[TopologySpreadConstraint, ...] = arg(
        (), read=_default_constraints)

    def validate(self) -> None:
        if self.defaulting_type == "System" and self.default_constraints:
            raise self.error(("defaultConstraints",), self.default_constraints,
                             "no default constraints with defaultingType System (the "
                             "default: set defaultingType: List to use them)")


class PodTopologySpread(FilterPlugin, ScorePlugin):
    """Spreading by the pod's constraints or the defaults (PodTopologySpreadArgs)."""

    name = "PodTopologySpread"
    has_pre_filter = True
    has_pre_score = True
    scope = Scope.CLUSTER
    tally_driven = True
    candidate_dependent = True
    Args = PodTopologySpreadArgs
    args: PodTopologySpreadArgs

    @property
    def system_defaulted(self) -> bool:
        return self.args.defaulting_type == "System"

    @property
    def defaults(self) -> tuple[TopologySpreadConstraint, ...]:
        """The constraints a pod without its own gets (before their selector is set)."""
        if self.system_defaulted:
            return SYSTEM_DEFAULT_CONSTRAINTS
        return self.args.default_constraints

    # ----------------------------------------------------------------- compiled constraints
    def _spread(self, state: ClusterState, pod: Pod) -> tuple[Spread, Spread]:
        """The pod's (filter, score) constraints compiled against ``state``, cached per state,
        plugin and ``pod.cache_key`` (the owner matters: it gives the default selector)."""
        compiled = _COMPILED.of(state)
        key = (id(self), pod.cache_key)
        cached = compiled.get(key)
        if cached is None:
            own = pod.template.topology_spread_constraints
            default_selector = None if own else default_spread_selector(pod, state.objects)
            constraints = own or (self.defaults if default_selector is not None else ())
            # Filtering always needs every key on a counted node; scoring with the system
            # defaults does not (nodes without a zone still spread by hostname).
            require_all = {"DoNotSchedule": True,
                           "ScheduleAnyway": bool(own) or not self.system_defaulted}
            filtering, scoring = (
                Spread(state, pod, [
                    (c, spread_selector(c, pod.template.labels) if own else default_selector)
                    for c in constraints if c.when_unsatisfiable == action
                ], require_all[action])
                for action in ("DoNotSchedule", "ScheduleAnyway")
            )
            cached = compiled.put(key, (filtering, scoring), (self, pod.template))
        return cached

    def state_token(self, state: ClusterState, pod: Pod) -> Hashable:
        """The versions of the tallies the filter constraints read (scores are computed
        per cycle, never cached)."""
        return tuple(c.tally.version for c in self._spread(state, pod)[0].constraints)

    def tallies_read(self, state: ClusterState, pod: Pod) -> list[Tally]:
        """The tallies of the pod's constraints, filtering and scoring."""
        return [c.tally for spread in self._spread(state, pod) for c in spread.constraints]

    # ----------------------------------------------------------------- filter
    @staticmethod
    def _allowed_domains(c: _Constraint) -> np.ndarray:
        """bool (n_values + 1,): domains where one more pod keeps the skew within maxSkew
        (the last entry, for nodes lacking the key, is False)."""
        return c.rule().allowed()

    def hard_constraints(self, state: ClusterState, pod: Pod
                         ) -> list[tuple[TopologySpreadConstraint, np.ndarray]]:
        """The DoNotSchedule constraints the filter applies to ``pod``, each with a bool
        (n_nodes,) array: the nodes whose matching pods count toward it, which have the key
        of every such constraint and pass its inclusion policies (nodeAffinityPolicy,
        nodeTaintsPolicy)."""
        return [(c.constraint, c.counted) for c in self._spread(state, pod)[0].constraints]

    def domain_rules(self, state: ClusterState, pod: Pod) -> list[DomainRule] | None:
        """One skew rule per DoNotSchedule constraint; None when the pod has scoring
        constraints that its own pods match (their binds change its scores)."""
        filtering, scoring = self._spread(state, pod)
        if any(c.self_match for c in scoring.constraints):
            return None
        return [c.rule() for c in filtering.constraints]

    def skips_filter(self, state: ClusterState, pod: Pod) -> bool:
        """No DoNotSchedule constraint (kube's PreFilter Skip)."""
        return not self._spread(state, pod)[0].constraints

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        passes = None
        for c in self._spread(state, pod)[0].constraints:
            allowed = self._allowed_domains(c)[c.codes[nodes]]
            passes = allowed if passes is None else passes & allowed
        return np.ones(state.count(nodes), dtype=bool) if passes is None else passes

    def failure_reasons(
        self, state: ClusterState, pod: Pod, nodes: np.ndarray
    ) -> list[tuple[str, np.ndarray]]:
        """Per node, the reason of the first constraint it fails (missing key, then skew)."""
        undecided = np.ones(len(nodes), dtype=bool)
        missing, skewed = np.zeros(len(nodes), bool), np.zeros(len(nodes), bool)
        for c in self._spread(state, pod)[0].constraints:
            codes = c.codes[nodes]
            missing |= undecided & (codes < 0)
            skewed |= undecided & (codes >= 0) & ~self._allowed_domains(c)[codes]
            undecided &= ~(missing | skewed)
        return [(REASON_MISSING_LABEL, missing), (REASON_SKEW, skewed)]

    # ----------------------------------------------------------------- score
    def skips(self, state: ClusterState, pod: Pod) -> bool:
        return not self._spread(state, pod)[1].constraints

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray | None:
        """kube's score over the candidate ``nodes``: Σ over constraints whose key the node
        has of (matching pods in its domain × ln(domains among the candidates + 2) +
        maxSkew - 1), rounded; -1 marks a node ignored for lacking a constraint's key."""
        spread = self._spread(state, pod)[1]
        if not spread.constraints:
            return None
        if isinstance(nodes, slice) or nodes.dtype.kind != "i":  # else already indices
            nodes = np.arange(state.n_nodes)[nodes]
        return spread.scores(nodes.astype(np.int64, copy=False))

    def scoring(self, state: ClusterState, pod: Pod) -> Spread:
        """The pod's scoring constraints compiled against ``state`` (none: it skips); their
        ``scores(nodes)`` are ``score``'s (for a compiled cycle that calls them directly)."""
        return self._spread(state, pod)[1]

    def normalize_score(self, scores: np.ndarray) -> np.ndarray:
        """Over the nodes not ignored (raw ≥ 0): 100 × (max + min - s) / max (100 when max
        is 0); ignored nodes get 0."""
        from schedlab.kernels import spread_normalize

        return spread_normalize(scores.astype(np.int64, copy=False))


class _Constraint:
    """One constraint of a pod, compiled against a state.

    codes          intp (n_nodes,): value code of the node's label for the key, -1 if absent
    counted        bool (n_nodes,): the nodes whose matching pods count (key check and
                   inclusion policies)
    domain_exists  bool (n_values + 1,): some counted node has that value (last entry False)
    domain_codes   int (n_nodes,): ``codes`` with nodes lacking the key mapped to the domain
                   of the value "" when keys are not all required (as Go's missing-label "")
    self_match     1 if the selector matches the pod itself, else 0
    tally          the bound pods in the pod's namespace its selector matches, without the
                   terminating ones (kube's PodTopologySpread skips pods being deleted)
    """

    def __init__(self, state: ClusterState, pod: Pod, constraint: TopologySpreadConstraint,
                 selector: LabelSelector | None, eligible: np.ndarray, require_all: bool) -> None:
        template = pod.template
        key = constraint.topology_key
        self.constraint = constraint
        self.codes = state.labels.codes(key)
        n_values = state.labels.n_values(key)
        empty = state.labels.value_codes(key, ("",))
        empty_code = int(empty[0]) if len(empty) else n_values
        has_key = self.codes >= 0
        self.hostname = key == HOSTNAME_KEY
        self.domain_codes = np.where(has_key | require_all, self.codes, empty_code)
        self.counted = eligible & _included(state, template, constraint)
        self._where = None if np.array_equal(self.counted, has_key) else self.counted & has_key
        self._absent_into = None
        if not require_all and len(empty) and (self.counted & ~has_key).any():
            self._absent_into = (empty_code, self.counted & ~has_key)
        self.domain_exists = np.zeros(n_values + 1, dtype=bool)
        self.domain_exists[self.codes[self.counted & has_key]] = True
        self.self_match = int(label_selector_matches(selector, template.labels))
        self.tally = state.tally((PodSelector(selector, frozenset({template.namespace})),),
                                 terminating=False)
        self._counts: np.ndarray | None = None

    @property
    def live_domain_counts(self) -> bool:
        """``domain_counts`` returns the tally's own array, kept up to date in place."""
        return self._absent_into is None

    @cached_property
    def adds(self) -> np.ndarray:
        """int64 (n_nodes,): what binding one more pod like the one asked about adds to its
        node's domain: ``self_match`` where the node counts and has the key."""
        return (self.counted & (self.codes >= 0)).astype(np.int64) * self.self_match

    def rule(self) -> DomainRule:
        """The filter's skew rule over the matching pods per domain now (the counts are the
        tally's live array when ``live_domain_counts``)."""
        return DomainRule(self.codes, self.domain_counts(), self.adds,
                          self.constraint.max_skew, self.constraint.min_domains,
                          self.self_match, self.domain_exists)

    def domain_counts(self) -> np.ndarray:
        """int64 (n_values + 1,): matching pods per domain over the counted nodes."""
        if self._counts is None:  # (live: the tally keeps it up to date)
            self._counts = self.tally.domains(self.constraint.topology_key, self._where)
        counts = self._counts
        if self._absent_into is None:
            return counts
        code, absent = self._absent_into
        counts = counts.copy()
        counts[code] += self.tally.per_node[absent].sum()
        return counts


SpreadArguments: TypeAlias = tuple[bool, np.ndarray, tuple[np.ndarray, ...],
                                   tuple[np.ndarray, ...], tuple[np.ndarray, ...], np.ndarray,
                                   np.ndarray, np.ndarray]
"""``kernels.spread_scores``'s arguments after the candidate nodes (``Spread.kernel_arguments``):
check_keys, has_all_keys, codes, domain_codes, counts, hostname, max_skew, n_domains."""


class Spread:
    """A pod's constraints of one kind (filter or score) with their shared node masks."""

    def __init__(self, state: ClusterState, pod: Pod,
                 constraints: list[tuple[TopologySpreadConstraint, LabelSelector | None]],
                 require_all: bool) -> None:
        self.require_all = require_all
        self.has_all_keys = np.ones(state.n_nodes, dtype=bool)
        for c, _ in constraints:
            self.has_all_keys &= state.labels.codes(c.topology_key) >= 0
        self.keys_everywhere = bool(self.has_all_keys.all())
        eligible = self.has_all_keys if require_all else np.ones(state.n_nodes, dtype=bool)
        self.constraints = [_Constraint(state, pod, c, selector, eligible, require_all)
                            for c, selector in constraints]
        # the constraints' arrays as ``kernels.spread_scores`` takes them
        self.codes = tuple(c.codes.astype(np.int64) for c in self.constraints)
        self.domain_codes = tuple(c.domain_codes.astype(np.int64) for c in self.constraints)
        self.hostname = np.array([c.hostname for c in self.constraints], dtype=bool)
        self.max_skew = np.array([c.constraint.max_skew for c in self.constraints],
                                 dtype=np.int64)
        self.n_domains = np.array([len(c.domain_exists) for c in self.constraints],
                                  dtype=np.int64)
        self._skips_keyless = require_all and not self.keys_everywhere
        self._live_arguments: SpreadArguments | None = None

    def kernel_arguments(self) -> SpreadArguments:
        """The arguments of ``kernels.spread_scores`` after the candidate nodes: the
        constraints' arrays and their matching pods now (live arrays, kept once found)."""
        arguments = self._live_arguments
        if arguments is None:
            counts = tuple(c.tally.per_node if c.hostname else c.domain_counts()
                           for c in self.constraints)
            arguments = (self._skips_keyless, self.has_all_keys, self.codes, self.domain_codes,
                         counts, self.hostname, self.max_skew, self.n_domains)
            if all(c.hostname or c.live_domain_counts for c in self.constraints):
                self._live_arguments = arguments  # (the tallies update them in place)
        return arguments

    @property
    def live(self) -> bool:
        """Whether ``kernel_arguments`` are live arrays the tallies keep up to date (once
        asked): else they are copies, made again at each call."""
        return self._live_arguments is not None

    def scores(self, nodes: np.ndarray) -> np.ndarray:
        """PodTopologySpread's raw scores (int64 (k,)) of the candidate ``nodes`` (sorted
        int64 (k,)), with at least one constraint."""
        from schedlab.kernels import spread_scores

        return spread_scores(nodes, *self.kernel_arguments())


def _included(state: ClusterState, template: PodTemplate,
              constraint: TopologySpreadConstraint) -> np.ndarray:
    """bool (n_nodes,): the nodes the constraint's inclusion policies let count."""
    included = np.ones(state.n_nodes, dtype=bool)
    if constraint.node_affinity_policy == "Honor":
        included &= required_mask(state, template.node_selector, template.affinity)
    if constraint.node_taints_policy == "Honor":
        flags = untolerated(state, template.tolerations, HARD_EFFECTS)
        included &= ~state.taints.per_node(flags, ALL).any(axis=1)
    return included


_COMPILED: PerState[ClusterState, IdCache[tuple[int, Hashable], tuple[Spread, Spread]]] = (
    PerState(lambda _: IdCache()))
"""Per state: (id(plugin), pod.cache_key) → the pod's (filter, score) ``Spread``s."""
