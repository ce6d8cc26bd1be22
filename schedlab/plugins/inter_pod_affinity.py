"""InterPodAffinity: required and preferred pod affinity and anti-affinity, both the incoming
pod's terms and the terms of the pods already bound (kube's interpodaffinity plugin)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from schedlab.caches import IdCache, PerState
from schedlab.cluster import ALL, ClusterState, KeyedTallies, NodeIndex, Tally
from schedlab.framework.args import PluginArgs, arg
from schedlab.framework.domains import DomainRule
from schedlab.framework.plugin import MAX_NODE_SCORE, FilterPlugin, Scope, ScorePlugin
from schedlab.matching import PodSelector, SelectorIndex
from schedlab.objects import Pod, PodAffinity, PodTemplate

REASON_AFFINITY = "node(s) didn't match pod affinity rules"
REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"

CarriedKind = Literal[
    "required-affinity", "required-anti-affinity", "preferred-affinity", "preferred-anti-affinity",
]


@dataclass(frozen=True)
class CarriedTerm:
    """A pod (anti-)affinity term that bound pods carry, as the pods it matches see it.

    ``kind`` says which of the pod's term lists it is in; ``weight`` is the preferred term's
    weight (0 for required terms)."""

    kind: CarriedKind
    selector: PodSelector
    topology_key: str
    weight: int = 0


def carried_terms(template: PodTemplate) -> list[CarriedTerm]:
    """The pod (anti-)affinity terms a pod of ``template`` carries, each with the namespace it
    resolves in (``state.tally_by(carried_terms)`` counts the bound pods carrying each)."""
    namespace = template.namespace
    found = []
    lists: tuple[tuple[CarriedKind, CarriedKind, PodAffinity | None], ...] = (
        ("required-affinity", "preferred-affinity", template.pod_affinity),
        ("required-anti-affinity", "preferred-anti-affinity", template.pod_anti_affinity))
    for required, preferred, rules in lists:
        if rules is None:
            continue
        found += [CarriedTerm(required, PodSelector.of_term(t, namespace),
                              t.topology_key) for t in rules.required]
        found += [CarriedTerm(preferred, PodSelector.of_term(w.term, namespace),
                              w.term.topology_key, w.weight) for w in rules.preferred]
    return found


@dataclass(frozen=True)
class InterPodAffinityArgs(PluginArgs):
    """kube's InterPodAffinityArgs: ``hard_pod_affinity_weight`` (0..100) scores the incoming
    pod's match with bound pods' required affinity terms;
    ``ignore_preferred_terms_of_existing_pods`` skips scoring pods that have no preferred
    terms of their own (as kube v1.32 does, bound pods' terms still count for a pod that has
    some)."""

    hard_pod_affinity_weight: int = arg(1, minimum=0, maximum=100)
    ignore_preferred_terms_of_existing_pods: bool = False


class InterPodAffinity(FilterPlugin, ScorePlugin):
    """Pod (anti-)affinity, the pod's and the bound pods' (InterPodAffinityArgs)."""

    name = "InterPodAffinity"
    has_pre_filter = True
    has_pre_score = True
    scope = Scope.CLUSTER
    tally_driven = True
    Args = InterPodAffinityArgs
    args: InterPodAffinityArgs

    # ----------------------------------------------------------------- compiled terms
    @staticmethod
    def _terms(state: ClusterState, pod: Pod) -> _PodTerms:
        """The pod template's terms compiled against ``state``, its matching carried terms
        brought up to date."""
        terms = _RUNS.of(state).terms(state, pod.template)
        terms.sync_carried(state)
        return terms

    def state_token(self, state: ClusterState, pod: Pod) -> Hashable:
        """How many bound terms match the pod and the sum of the versions of the tallies
        its answers read (``_PodTerms.version``)."""
        return self._terms(state, pod).version()

    def tallies_read(self, state: ClusterState, pod: Pod) -> list[Tally]:
        """The tallies of the pod's own terms and of the bound pods' terms that match it."""
        return self._terms(state, pod).read()

    # ----------------------------------------------------------------- filter
    def _affinity_passing(self, state: ClusterState, terms: _PodTerms) -> np.ndarray | None:
        """bool (n_nodes,): the pod's required affinity lets it run there (None: no terms)."""
        affinity = None
        tally = terms.affinity_tally
        if tally is not None:  # (the pod has required affinity terms, so their keys)
            domains = [(tally.domains(k), state.labels.codes(k)) for k in terms.affinity_keys]
            first_pod = terms.matches_own_affinity and not any(c.any() for c, _ in domains)
            affinity = terms.has_affinity_keys.copy()
            if not first_pod:
                for counts, codes in domains:
                    affinity &= (counts > 0)[codes]
        return affinity

    def _passing(self, state: ClusterState, pod: Pod) -> tuple[np.ndarray | None, ...]:
        """bool (n_nodes,) arrays, True where the node passes (None: everywhere): the pod's
        required affinity, its required anti-affinity, the bound pods' required
        anti-affinity."""
        terms = self._terms(state, pod)
        return (self._affinity_passing(state, terms),
                _none_in_domain(state, terms.anti_affinity),
                _none_in_domain(state, terms.carried_anti_affinity()))

    def anti_affinity_passing(self, state: ClusterState, pod: Pod) -> np.ndarray | None:
        """bool (n_nodes,): True where required anti-affinity lets ``pod`` run, the pod's own
        (no bound pod it matches in the node's domain) and the bound pods' (no bound pod
        whose term matches it in the node's domain); None when no such term exists (every
        node passes). One lookup per topology key."""
        return _none_in_domain(state, self._terms(state, pod).all_anti_affinity())

    def domain_rules(self, state: ClusterState, pod: Pod) -> list[DomainRule] | None:
        """One empty rule per topology key of the required anti-affinity the filter checks;
        a pod of the template adds to a domain for each of its own required anti-affinity
        terms that matches it (twice: as its term and as a term it carries). None when the
        pod has required affinity terms (kube's rule for the first pod joins all their keys)
        or preferred terms its own pods match (their binds change its scores)."""
        template = pod.template
        terms = self._terms(state, pod)
        if terms.affinity_tally is not None:
            return None
        own_adds: dict[str, int] = {}
        for term in carried_terms(template):
            if not term.selector.matches(template, state.objects):
                continue
            if term.kind != "required-anti-affinity":
                return None
            own_adds[term.topology_key] = own_adds.get(term.topology_key, 0) + 2
        counts_per_key = {key: counts.copy() for key, counts in
                          _counts_per_key(terms.all_anti_affinity()).items()}
        rules = []
        for key in dict.fromkeys([*counts_per_key, *own_adds]):
            codes = state.labels.codes(key)
            counts = counts_per_key.get(key)
            if counts is None:
                counts = np.zeros(state.labels.n_values(key) + 1, dtype=np.int64)
            adds = np.where(codes >= 0, own_adds.get(key, 0), 0).astype(np.int64)
            rules.append(DomainRule(codes, counts, adds))
        return rules

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        terms = self._terms(state, pod)
        affinity = self._affinity_passing(state, terms)
        anti = _none_in_domain(state, terms.all_anti_affinity())  # (anti_affinity_passing)
        if affinity is None:
            if anti is None:
                return np.ones(state.count(nodes), dtype=bool)
            passes = anti
        elif anti is None:
            passes = affinity
        else:
            passes = affinity & anti
        return passes if nodes is ALL else passes[nodes]

    def failure_reasons(
        self, state: ClusterState, pod: Pod, nodes: np.ndarray
    ) -> list[tuple[str, np.ndarray]]:
        undecided = np.ones(len(nodes), dtype=bool)
        found = []
        reasons = (REASON_AFFINITY, REASON_ANTI_AFFINITY, REASON_EXISTING_ANTI_AFFINITY)
        for reason, passing in zip(reasons, self._passing(state, pod), strict=True):
            fails = undecided & (False if passing is None else ~passing[nodes])
            found.append((reason, fails))
            undecided &= ~fails
        return found

    # ----------------------------------------------------------------- score
    def _weight_of(self, term: CarriedTerm) -> int:
        """What each bound pod carrying ``term`` (which matches the incoming pod) adds."""
        if term.kind == "required-affinity":
            return self.args.hard_pod_affinity_weight
        return {"preferred-affinity": term.weight, "preferred-anti-affinity": -term.weight}.get(
            term.kind, 0)

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray | None:
        """Σ over topology keys of the weights of the matching terms in the node's domain
        (kube's topologyScore); None (skip) when no term matches a pod on a node with its
        key, as kube skips when its topology map stays empty."""
        terms = self._terms(state, pod)
        if self.args.ignore_preferred_terms_of_existing_pods and not terms.preferred:
            return None
        weighted = [(tally, key, weight) for tally, key, weight in terms.preferred]
        weighted += [(tally, term.topology_key, self._weight_of(term))
                     for term, tally in terms.carried]
        topology: dict[str, np.ndarray] = {}
        for tally, key, weight in weighted:
            counts = tally.domains(key)
            if weight and counts.any():
                topology[key] = topology[key] + counts * weight if key in topology else (
                    counts * weight)
        if not topology:
            return None
        raw = np.zeros(state.n_nodes, dtype=np.int64)
        for key, scores in topology.items():
            raw += scores[state.labels.codes(key)]
        return raw[nodes]

    def normalize_score(self, scores: np.ndarray) -> np.ndarray:
        """100 × (s - min) / (max - min) in float64, truncated; all 0 when max == min."""
        low, high = scores.min(), scores.max()
        if high <= low:
            return np.zeros(len(scores), dtype=np.int64)
        return (MAX_NODE_SCORE * ((scores - low) / float(high - low))).astype(np.int64)


def _counts_per_key(tallies: list[tuple[Tally, str]]) -> dict[str, np.ndarray]:
    """Per distinct topology key, int64 (n_values(key) + 1,): the pods the tallies of that
    key count per domain (a new array where several tallies share the key)."""
    per_key: dict[str, np.ndarray] = {}
    for tally, key in tallies:
        counts = tally.domains(key)
        per_key[key] = per_key[key] + counts if key in per_key else counts
    return per_key


def _none_in_domain(state: ClusterState, tallies: list[tuple[Tally, str]]) -> np.ndarray | None:
    """bool (n_nodes,): True where no tally counts a pod in the node's domain of its key
    (None when there are no tallies); one lookup per distinct key."""
    passing = None
    for key, counts in _counts_per_key(tallies).items():
        clear = (counts == 0)[state.labels.codes(key)]
        passing = clear if passing is None else passing & clear
    return passing


class _PodTerms:
    """A pod template's pod (anti-)affinity terms, compiled against one state: its own, and
    those bound pods carry that match it.

    affinity_keys         the distinct topology keys of the required affinity terms
    affinity_tally        bound pods matching all the required affinity terms
    has_affinity_keys     bool (n_nodes,): the node has every one of those keys
    matches_own_affinity  the pod matches all its own required affinity terms
    anti_affinity         (tally of pods matching the term, topology key) per required
                          anti-affinity term
    preferred             (tally, topology key, +weight or -weight) per preferred term
    tallies               all the tallies above
    carried               (term, tally of the bound pods carrying it) per term carried by
                          bound pods (now or before) that matches the template, as of the
                          last ``sync_carried``
    """

    def __init__(self, state: ClusterState, template: PodTemplate, carried: _CarriedIndex
                 ) -> None:
        namespace = template.namespace
        affinity = template.pod_affinity or PodAffinity()
        anti = template.pod_anti_affinity or PodAffinity()
        required = [PodSelector.of_term(t, namespace) for t in affinity.required]
        self.affinity_keys = tuple(dict.fromkeys(t.topology_key for t in affinity.required))
        self.affinity_tally = state.tally(tuple(required)) if required else None
        self.has_affinity_keys = np.ones(state.n_nodes, dtype=bool)
        for key in self.affinity_keys:
            self.has_affinity_keys &= state.labels.codes(key) >= 0
        self.matches_own_affinity = all(s.matches(template, state.objects) for s in required)
        self.anti_affinity = [(state.tally((PodSelector.of_term(t, namespace),)), t.topology_key)
                              for t in anti.required]
        self.preferred = [
            (state.tally((PodSelector.of_term(w.term, namespace),)), w.term.topology_key,
             sign * w.weight)
            for sign, rules in ((1, affinity), (-1, anti)) for w in rules.preferred
        ]
        self.tallies = [t for t, _ in self.anti_affinity] + [t for t, _, _ in self.preferred]
        if self.affinity_tally is not None:
            self.tallies.append(self.affinity_tally)
        self._read = list(self.tallies)
        """``tallies`` and those of ``carried``: every tally the answers read."""
        self.template = template
        self.carried: list[tuple[CarriedTerm, Tally]] = []
        self._all_carried = carried
        self._seen = 0
        """How many of the carried terms were looked at."""

    def sync_carried(self, state: ClusterState) -> None:
        """Add to ``carried`` the matching terms first carried since the last call."""
        all_carried = self._all_carried
        if all_carried.count() > self._seen:
            found = all_carried.matching_since(self.template, state, self._seen)
            self.carried += found
            self._read += [tally for _, tally in found]
            self._seen = all_carried.count()

    def read(self) -> list[Tally]:
        """Every tally the answers read, as of the last ``sync_carried``."""
        return list(self._read)

    def version(self) -> tuple[int, int]:
        """(how many terms ``carried`` holds, the sum of the versions of the tallies the
        answers read), as of the last ``sync_carried``: it changes whenever one of those
        tallies does (a version only grows, by at least one per change) or a term is
        carried."""
        read = self._read
        return (len(self.carried), sum([t.version for t in read]) if read else 0)

    def carried_anti_affinity(self) -> list[tuple[Tally, str]]:
        """(tally of the bound pods carrying it, topology key) per required anti-affinity
        term in ``carried``."""
        return [(tally, term.topology_key) for term, tally in self.carried
                if term.kind == "required-anti-affinity"]

    def all_anti_affinity(self) -> list[tuple[Tally, str]]:
        """``anti_affinity`` and ``carried_anti_affinity()``: the required anti-affinity the
        filter checks, for one lookup per topology key."""
        return self.anti_affinity + self.carried_anti_affinity()


class _AffinityRun:
    """What InterPodAffinity derives from one cluster state, shared by all its instances
    (nothing here depends on their args): the bound pods carrying each term (indexed), and each pod
    template's terms (``_PodTerms``) by id(template)."""

    def __init__(self, state: ClusterState) -> None:
        self.carried = _CarriedIndex(state.tally_by(carried_terms))
        self._terms: IdCache[int, _PodTerms] = IdCache()

    def terms(self, state: ClusterState, template: PodTemplate) -> _PodTerms:
        terms = self._terms.get(id(template))
        if terms is None:
            terms = self._terms.put(id(template), _PodTerms(state, template, self.carried),
                                    template)
        return terms


class _CarriedIndex:
    """The terms bound pods carry (``tally_by(carried_terms)``, in the order they appeared),
    indexed as they appear (``SelectorIndex``) so that a template is matched only against
    the terms that may match it."""

    def __init__(self, carried: KeyedTallies[CarriedTerm]) -> None:
        self._carried = carried
        self._index: SelectorIndex[tuple[CarriedTerm, Tally]] = SelectorIndex()

    def count(self) -> int:
        """How many terms bound pods carry (or carried)."""
        return len(self._carried)

    def matching_since(self, template: PodTemplate, state: ClusterState, seen: int
                       ) -> list[tuple[CarriedTerm, Tally]]:
        """(term, tally) of the terms after the first ``seen`` that match ``template``, in
        order."""
        for term, tally in self._carried.added_since(len(self._index)):
            self._index.add((term.selector,), (term, tally))
        return self._index.matching(template, state.objects, seen)


_RUNS: PerState[ClusterState, _AffinityRun] = PerState(_AffinityRun)
