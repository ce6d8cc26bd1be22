"""Greedy's fast path: runs of pods placed in one compiled loop, with the decisions, ties
and random draws of the pod-by-pod cycle.

Pods are grouped in classes by their cache key (template and owner). While pods are placed,
a class's answers can change in two ways only: on the node a pod was just bound to
(NodeResourcesFit and BalancedAllocation, NODE scope), or everywhere when a CLUSTER plugin
sees a new bound pod it counts. The second is ruled out for a run: it holds pods that no
tally counts (``ClusterState.counted``) and the profile's CLUSTER plugins read bound pods only
through tallies (``Plugin.tally_driven``), so a class's filters and the scores that do not
change with binds are fixed for the run (the ``plain`` row). Per class, a max-and-count tree
over the nodes (``kernels.place_run``) holds each node's total score (-1 where the class
cannot run); after a bind only the bound node's entry changes, so the next pod of any class
costs a few tree walks instead of a pass over every node. The tree also counts feasible
nodes, which finds kube's candidates (the first ``num_feasible_nodes_to_find`` feasible
nodes in round-robin order from where the last search stopped), and the count of tied best
nodes, which draws the same random tie-break as the pod-by-pod cycle.

Pods that a tally counts (a Deployment's pods that spread over zones or keep off each other's
nodes) change what CLUSTER plugins answer, for their own class and others. After such a pod
the run goes on only with pods of its class, and only when every CLUSTER plugin describes
how those binds change its answers (``Plugin.domain_rules``: its filter as rules over the
pods counted per topology domain, its scores unchanged): the loop then adds each bind to
the counts and works out again the mask entry and tree leaf of the nodes whose domain
flipped (``_load_rules``). Otherwise such a pod ends the run.

A run also ends at a pod the loop cannot place as the cycle would: one asking for GPUs, one
whose class has scores normalised over the candidates that are not alike on every node
(PodTopologySpread's default spreading, preferred affinities), one that fits nowhere (the
cycle words the reason). Greedy places such a pod pod by pod and the next run starts after
it.

The per-class arrays take about 105 bytes per node and class; at most ``MAX_CLASSES`` classes
and ``MEMORY_BUDGET`` bytes are kept, the least recently prepared class giving its room to a
new one (whose tree is then built afresh, as a pod-by-pod cycle scores every node once).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from schedlab.errors import SchedulingError, SlowPathWarning
from schedlab.framework.cycle import Evaluator
from schedlab.framework.domains import DomainRule
from schedlab.framework.plugin import Plugin, Scope
from schedlab.framework.profile import Profile
from schedlab.kernels import FITS_NOWHERE, PLACED_ALL, place_run
from schedlab.objects import Pod
from schedlab.policies.base import NO_NODES
from schedlab.policies.compiled import CompiledCycle, Plan

MEMORY_BUDGET = 512 * 2**20
"""Bytes the per-class arrays (masks, scores, trees) may take."""
MAX_CLASSES = 64
"""Classes kept at once (fewer keeps their arrays in the processor's caches)."""
_WARNED: set[type] = set()
"""The plugin classes a slow-path warning was given for (once per class and process)."""
_FIRST_CHUNK = 4
_LARGEST_CHUNK = 1 << 16


@dataclass
class _Class:
    """Pods of one cache key: ``slot`` is its row in the per-class arrays (-1: none), ``made_of``
    what that row was made from (the answers' arrays and generations)."""

    slot: int = -1
    never: bool = False
    """Its pods always take the pod-by-pod cycle (GPU pods, scores normalised over the
    candidates, a resource no node has)."""
    counted: bool = False
    """A tally counts its pods (it stays so: tallies are never dropped)."""
    made_of: tuple[tuple[np.ndarray, ...], tuple[int, ...]] = ((), ())

    def made_of_same(self, made_of: tuple[tuple[np.ndarray, ...], tuple[int, ...]]) -> bool:
        arrays, generations = self.made_of
        return (len(arrays) == len(made_of[0]) and generations == made_of[1]
                and all(a is b for a, b in zip(arrays, made_of[0], strict=True)))


def _user_plugins(plugins: Sequence[Plugin]) -> list[Plugin]:
    return [p for p in plugins if not type(p).__module__.startswith("schedlab.")]


class RunPlacer:
    """Places runs of pods for a policy whose cycle compiles (``CompiledCycle``): Greedy, and
    RoundRobin as a search for one feasible node."""

    def __init__(self, cycle: CompiledCycle, to_find: int, random_ties: bool,
                 counted_pods: bool = True) -> None:
        self.cycle = cycle
        self.counted_pods = counted_pods
        """Place pods a tally counts in runs even where the run cannot follow their binds,
        one per run (worth it where the cycle scores every node, not for a search that
        stops at the first feasible one); without, only runs that follow them."""
        self.state = state = cycle.state
        self.to_find = to_find
        self.random_ties = random_ties
        n, r = state.n_nodes, len(state.resources)
        self._size = 1 << max(n - 1, 0).bit_length()
        fit, balanced = cycle.fit_score, cycle.balanced
        self._weights = (fit[1] if fit else 0,
                         bool(fit and fit[0].scoring_strategy == "LeastAllocated"),
                         balanced[1] if balanced else 0)
        # the state as the runs leave it (the caller binds what they place)
        self._requested = state.requested.copy()
        self._nonzero = state.nonzero_requested.copy()
        self._pod_count = state.pod_count.copy()
        self._epoch = state.epoch
        self._fits_nowhere = (-1, -1)
        """(class, epoch): the class's pods fit nowhere in the state of that epoch."""
        self._placed: list[int] = []
        """The nodes of the last run, which the caller binds before the next."""
        self._counted = (state.tally_epoch, state.tallies_made)
        """When the classes were last checked: what a CLUSTER plugin answers changes only
        with the tallies (``Plugin.tally_driven``)."""
        self._log = np.empty(max(1024, 4 * n), dtype=np.int64)
        self._log_length = 0
        self._index: dict[Hashable, int] = {}
        self._classes: list[_Class] = []
        self._slot_of = np.full(64, -1, dtype=np.int64)
        per_slot = n * 10 + self._size * 48 + r * 80
        self._max_slots = max(1, min(MAX_CLASSES, MEMORY_BUDGET // max(per_slot, 1)))
        self._owner: list[int] = []
        """The class of each slot."""
        self._used: list[int] = []
        """When each slot was last prepared (for eviction)."""
        self._clock = 0
        self._slots = self._allocate(min(4, self._max_slots), n, r)
        self._no_rules = _rule_arrays(0, 1, 1)
        self._rules_slot, self._rules = -1, self._no_rules
        """The slot whose own binds the run follows (``_load_rules``), and its rules."""
        self._domain_orders: dict[tuple[int, int], tuple[np.ndarray, ...]] = {}

    @classmethod
    def of(cls, cycle: CompiledCycle, to_find: int, random_ties: bool,
           counted_pods: bool = True) -> RunPlacer | None:
        """The fast path for the cycle's profile, or None (with a warning naming the plugin,
        if it is a user's) when a CLUSTER plugin does not declare ``tally_driven``."""
        blocking = [p for p in cycle.profile.plugins
                    if p.scope is Scope.CLUSTER and not p.tally_driven]
        if blocking:
            for plugin in _user_plugins(blocking):
                _warn_once(plugin, "is CLUSTER-scoped and does not declare tally_driven")
            return None
        return cls(cycle, to_find, random_ties, counted_pods)

    @classmethod
    def for_evaluator(cls, evaluator: Evaluator, to_find: int, random_ties: bool,
                      counted_pods: bool = True) -> RunPlacer | None:
        """The fast path for a policy's evaluator (None, with a warning naming a user's
        plugin, where the cycle does not compile)."""
        cycle = CompiledCycle.of(evaluator)
        if cycle is None:
            warn_uncompiled(evaluator.profile)
            return None
        return cls.of(cycle, to_find, random_ties, counted_pods)

    # ------------------------------------------------------------------ arrays
    def _allocate(self, slots: int, n: int, r: int) -> dict[str, np.ndarray]:
        padding = np.full((slots, r), -1, dtype=np.int64)
        tree_top = np.full((slots, 2 * self._size), -2, dtype=np.int64)
        return {
            "mask": np.zeros((slots, n), dtype=bool),
            "plain": np.zeros((slots, n), dtype=np.int64),
            "check_fit": np.zeros(slots, dtype=bool),
            "fit_columns": padding.copy(), "fit_want": np.zeros((slots, r), np.int64),
            "score_columns": padding.copy(), "score_weights": np.zeros((slots, r), np.int64),
            "weight_sum": np.ones(slots, dtype=np.int64),
            "score_pod": np.zeros((slots, r), np.int64),
            "balanced_columns": padding, "balanced_pod": np.zeros((slots, r), np.int64),
            "pod_requested": np.zeros((slots, r), np.int64),
            "pod_nonzero": np.zeros((slots, r), np.int64),
            "top": tree_top, "count": np.zeros_like(tree_top),
            "feasible": np.zeros_like(tree_top),
            "synced": np.full(slots, -1, dtype=np.int64),
            "ends_run": np.zeros(slots, dtype=bool),
        }

    def _grow_slots(self) -> None:
        old = self._slots
        capacity = min(2 * len(old["synced"]), self._max_slots)
        grown = self._allocate(capacity, self.state.n_nodes, len(self.state.resources))
        for name, array in old.items():
            grown[name][: len(array)] = array
        self._slots = grown

    def _free_slot(self) -> int:
        """A slot for a class: a new one, else the least recently prepared class's."""
        if len(self._owner) == len(self._slots["synced"]) and len(self._owner) < self._max_slots:
            self._grow_slots()
        if len(self._owner) < len(self._slots["synced"]):
            self._owner.append(-1)
            self._used.append(0)
            return len(self._owner) - 1
        slot = int(np.argmin(self._used))
        evicted = self._classes[self._owner[slot]]
        evicted.slot = -1
        self._slot_of[self._owner[slot]] = -1
        return slot

    # ------------------------------------------------------------------ classes
    def _class_ids(self, pods: Sequence[Pod], begin: int, end: int) -> np.ndarray:
        """int64 (end - begin,): the class of each of pods[begin:end]."""
        index = self._index
        ids = [index.get(pods[i].cache_key, -1) for i in range(begin, end)]
        for offset, class_id in enumerate(ids):
            if class_id < 0:
                key = pods[begin + offset].cache_key
                class_id = index.get(key, -1)
                if class_id < 0:
                    class_id = index[key] = len(self._classes)
                    self._classes.append(_Class())
                    if class_id >= len(self._slot_of):
                        self._slot_of = np.concatenate(
                            (self._slot_of, np.full(len(self._slot_of), -1, np.int64)))
                ids[offset] = class_id
        return np.array(ids, dtype=np.int64)

    def _prepare(self, class_id: int, pod: Pod, followed: bool) -> bool:
        """Make the class's row ready for the loop; False if its pods must be placed one by
        one (see the module's docstring). ``followed``: the next pod is of the class too
        (worth following its binds' effects, if a tally counts its pods)."""
        state, cycle, record = self.state, self.cycle, self._classes[class_id]
        if record.never:
            return False
        plan = cycle.plan(pod)
        if pod.template.gpu is not None or plan is None or plan.fits_nowhere or plan.spreads:
            record.never = True  # (the plan is kept for the state's life)
            return False
        made_of = self._fixed_answers(plan, pod)  # (may make tallies: asked first)
        tallies = (state.tally_epoch, state.tallies_made)
        if tallies != self._counted:
            self._counted = tallies
            self._slot_of[:] = -1  # (a class that no tally counted may be counted now)
        if made_of is None:
            return False
        counted = record.counted = state.counted(pod.template)
        rules = self._own_rules(pod) if counted and followed else None
        if counted and not self.counted_pods and rules is None:
            # (no rules for one pod of the class: none for any, so its pods never run; the
            # class stays counted, as tallies stay)
            record.never = followed
            return False
        self._clock += 1
        slot = record.slot
        if slot < 0:
            slot = self._free_slot()
            self._fill(slot, plan, pod)
        elif not record.made_of_same(made_of):
            if record.made_of_same((record.made_of[0][:1] + made_of[0][1:], made_of[1])):
                self._new_mask(slot, made_of[0][0])
            else:
                self._fill(slot, plan, pod)
        record.slot, record.made_of = slot, made_of
        self._owner[slot], self._used[slot] = class_id, self._clock
        self._slots["ends_run"][slot] = counted
        self._slot_of[class_id] = slot
        if rules is not None:
            self._load_rules(slot, plan, rules)
        return True

    def _own_rules(self, pod: Pod) -> list[DomainRule] | None:
        """The rules of the profile's CLUSTER filters for the pod's class, if every CLUSTER
        plugin gives them (``Plugin.domain_rules``: it promises its scores stay too)."""
        profile = self.cycle.profile
        filtering = {id(p) for p in profile.filters}
        rules: list[DomainRule] = []
        for plugin in {id(p): p for p in profile.plugins if p.scope is Scope.CLUSTER}.values():
            found = plugin.domain_rules(self.state, pod)
            if found is None:
                return None
            if id(plugin) in filtering:
                rules += found
        return rules

    def _load_rules(self, slot: int, plan: Plan, rules: list[DomainRule]) -> None:
        """Let the run follow what the binds of the class's pods (which tallies count)
        change in its filters, as ``rules`` say."""
        n, width = self.state.n_nodes, max((len(r.counts) for r in rules), default=1)
        arrays = _rule_arrays(len(rules), n, width)
        arrays["base"] = plan.static_feasible
        passing = plan.static_feasible.copy()
        for f, rule in enumerate(rules):
            domains = len(rule.counts)
            arrays["codes"][f], arrays["adds"][f] = rule.codes, rule.adds
            arrays["params"][f] = (rule.max_skew is not None, rule.max_skew or 0,
                                   rule.min_domains, rule.self_match, domains)
            arrays["counts"][f, :domains] = rule.counts
            if rule.exists is not None:
                arrays["exists"][f, :domains] = rule.exists
            arrays["allowed"][f, :domains] = allowed = rule.allowed()
            passing &= allowed[rule.codes]
            arrays["order"][f], arrays["starts"][f] = self._by_domain(rule.codes, domains, width)
        if np.array_equal(passing, self._slots["mask"][slot]):
            self._rules_slot, self._rules = slot, arrays
        # (else the rules do not give the filters' answers: each pod takes a run of its own)

    def _by_domain(self, codes: np.ndarray, domains: int, width: int
                   ) -> tuple[np.ndarray, np.ndarray]:
        """The nodes by their domain in ``codes`` (of ``domains`` domains, the last being
        that of the nodes lacking the key), and where each of ``width`` domains starts
        there: int64 (n_nodes,), int64 (width + 1,). Kept per codes array (the state has one
        per topology key)."""
        found = self._domain_orders.get((id(codes), width))
        if found is None or found[0] is not codes:
            keyed = np.where(codes < 0, domains - 1, codes)
            order = np.argsort(keyed, kind="stable")
            found = (codes, order, np.searchsorted(keyed[order], np.arange(width + 1)))
            self._domain_orders[(id(codes), width)] = found
        return found[1], found[2]

    def _new_mask(self, slot: int, mask: np.ndarray) -> None:
        """The class's filters changed on some nodes (a CLUSTER filter, after a bind of a
        pod a tally counts): their tree entries are worked out again."""
        rows = self._slots["mask"]
        flipped = np.flatnonzero(rows[slot] != mask)
        rows[slot] = mask
        self._append_log(flipped)

    def _fixed_answers(self, plan: Plan, pod: Pod
                       ) -> tuple[tuple[np.ndarray, ...], tuple[int, ...]] | None:
        """Bring the class's CLUSTER answers in sync: what its mask and plain row are made
        of, or None if some score must be normalised over the candidates of each cycle."""
        evaluator = self.cycle.evaluator
        mask = self.cycle.mask(plan, pod)
        arrays, generations = [mask], []
        for plugin, _, answer in plan.cluster_plain:
            evaluator.sync(answer, plugin, False, pod)
            if answer.suspect:
                return None
            arrays.append(answer.values)
            generations.append(answer.generation)
        for plugin, _, answer in plan.per_cycle:
            evaluator.sync(answer, plugin, False, pod)
            if answer.skipped:
                continue
            if plugin.candidate_dependent or not answer.alike:
                return None
            try:
                evaluator.normalize_alike(answer, plugin)
            except SchedulingError:
                return None  # (the cycle raises it when it scores two nodes)
        return tuple(arrays), tuple(generations)

    def _fill(self, slot: int, plan: Plan, pod: Pod) -> None:
        slots, state = self._slots, self.state
        plain = plan.static_plain.copy()
        for _, weight, answer in plan.cluster_plain:
            plain += answer.values * weight
        slots["mask"][slot] = self.cycle.mask(plan, pod)
        slots["plain"][slot] = plain
        slots["check_fit"][slot] = self.cycle.fit is not None
        for prefix, columns, pod_side in (("fit", plan.fit[0], plan.fit[1]),
                                          ("score", plan.score[0], plan.score[2]),
                                          ("balanced", plan.balanced[0], plan.balanced[1])):
            slots[f"{prefix}_columns"][slot] = -1
            slots[f"{prefix}_columns"][slot, : len(columns)] = columns
            side = slots["fit_want" if prefix == "fit" else f"{prefix}_pod"]
            side[slot] = 0
            side[slot, : len(columns)] = pod_side
        weights = plan.score[1]
        slots["score_weights"][slot] = 0
        slots["score_weights"][slot, : len(weights)] = weights
        slots["weight_sum"][slot] = max(int(weights.sum()), 1)
        requests = state.requests_of(pod)
        slots["pod_requested"][slot] = requests.requested
        slots["pod_nonzero"][slot] = requests.nonzero
        slots["synced"][slot] = -1

    # ------------------------------------------------------------------ runs
    def _absorb(self) -> None:
        """Take in what changed since the last run: its own pods bound (as expected), then
        binds and unbinds made pod by pod or by a replay (the mirrored rows, the log, and
        every class to be checked again). If the run's pods were not bound as placed, the
        mirror starts again from the state."""
        state = self.state
        placed, self._placed = self._placed, []
        since = self._epoch - len(placed)
        counted = (state.tally_epoch, state.tallies_made)
        if counted != self._counted:
            self._counted = counted
            self._slot_of[:] = -1  # (what a CLUSTER plugin answers may have changed)
        if state.epoch == self._epoch:
            return
        changed = state.changes_since(since)
        if changed[: len(placed)] != placed:
            self._requested[:] = state.requested
            self._nonzero[:] = state.nonzero_requested
            self._pod_count[:] = state.pod_count
            self._log_length = 0
            self._slots["synced"][:] = -1
            self._slot_of[:] = -1
            self._epoch = state.epoch
            return
        foreign = changed[len(placed):]
        if foreign:
            rows = np.unique(foreign)
            self._requested[rows] = state.requested[rows]
            self._nonzero[rows] = state.nonzero_requested[rows]
            self._pod_count[rows] = state.pod_count[rows]
            self._append_log(np.array(foreign, dtype=np.int64))
        self._epoch = state.epoch

    def _append_log(self, changed: np.ndarray) -> None:
        self._reserve_log(len(changed))
        self._log[self._log_length: self._log_length + len(changed)] = changed
        self._log_length += len(changed)

    def _reserve_log(self, more: int) -> None:
        """Room for ``more`` entries: the log starts again (every tree to be rebuilt) once it
        holds several times the nodes."""
        if self._log_length + more <= len(self._log):
            return
        if self._log_length > 4 * self.state.n_nodes:
            self._log_length = 0
            self._slots["synced"][:] = -1
        if self._log_length + more > len(self._log):
            self._log = np.concatenate(
                (self._log[: self._log_length],
                 np.empty(max(self._log_length + more, 2 * len(self._log)), np.int64)))

    def place(self, pods: Sequence[Pod], first: int, start: int, rng: np.random.Generator
              ) -> tuple[np.ndarray, int]:
        """Nodes (int64) for pods[first:], one per pod, as far as a run goes (none if the
        pod at ``first`` starts none), each placed as if the ones before it were bound, and
        the round-robin start after them. The caller binds them, in order, before it asks
        again."""
        if first < len(pods):
            class_id = int(self._class_ids(pods, first, first + 1)[0])
            record = self._classes[class_id]
            if record.never or self._fits_nowhere == (class_id, self.state.epoch) or (
                    record.counted and not self.counted_pods and (
                        first + 1 == len(pods)
                        or pods[first + 1].cache_key != pods[first].cache_key)):
                return NO_NODES, start
        self._absorb()
        self._rules_slot, self._rules = -1, self._no_rules
        found: list[np.ndarray] = []
        begin, chunk, following = first, _FIRST_CHUNK, -1
        while begin < len(pods):
            end = min(len(pods), begin + chunk)
            classes = self._class_ids(pods, begin, end)
            if begin == first:
                slot = self._slot_of[classes[0]]
                followed = len(classes) > 1 and classes[1] == classes[0]
                if (slot < 0 or self._slots["ends_run"][slot]) and not self._prepare(
                        int(classes[0]), pods[begin], followed):
                    break  # (its class takes the pod-by-pod cycle)
            self._reserve_log(end - begin)
            slots, rules = self._slots, self._rules
            out = np.empty(end - begin, dtype=np.int64)
            placed, start, self._log_length, stopped = place_run(
                classes, self._slot_of, start, self.to_find, rng if self.random_ties else 0,
                self._pod_count, self.state.allowed_pods, self._requested,
                self.state.allocatable, self._nonzero, *self._weights, slots["mask"],
                slots["plain"], slots["check_fit"], slots["fit_columns"], slots["fit_want"],
                slots["score_columns"], slots["score_weights"], slots["weight_sum"],
                slots["score_pod"], slots["balanced_columns"], slots["balanced_pod"],
                slots["pod_requested"], slots["pod_nonzero"], slots["ends_run"], slots["top"],
                slots["count"], slots["feasible"], slots["synced"], self._log,
                self._log_length, following, self._rules_slot, rules["base"], rules["codes"],
                rules["adds"], rules["params"], rules["counts"], rules["exists"],
                rules["allowed"], rules["order"], rules["starts"], out)
            found.append(out[:placed])
            self._epoch += placed
            begin += placed
            if stopped == PLACED_ALL:
                last = self._slot_of[classes[-1]]
                following = last if slots["ends_run"][last] else -1
                chunk = min(2 * chunk, _LARGEST_CHUNK)
                continue
            if stopped == FITS_NOWHERE:  # so do its class's next pods, until something changes
                self._fits_nowhere = (int(classes[placed]), self._epoch)
            # A class not prepared is prepared at the next call, once the pods placed here are
            # bound: preparing asks the plugins, which may make a tally counting them.
            break
        nodes = np.concatenate(found) if found else NO_NODES
        self._placed = nodes.tolist()
        return nodes, start


def _rule_arrays(rules: int, n: int, width: int) -> dict[str, np.ndarray]:
    """``kernels.place_run``'s rule arrays for ``rules`` rules over ``n`` nodes and up to
    ``width`` domains each (``base`` all False, to be filled)."""
    return {"base": np.zeros(n, bool),
            "codes": np.empty((rules, n), np.int64), "adds": np.empty((rules, n), np.int64),
            "params": np.zeros((rules, 5), np.int64),
            "counts": np.zeros((rules, width), np.int64),
            "exists": np.zeros((rules, width), bool), "allowed": np.zeros((rules, width), bool),
            "order": np.empty((rules, n), np.int64),
            "starts": np.empty((rules, width + 1), np.int64)}


def warn_uncompiled(profile: Profile) -> None:
    """Warn (once per plugin class) when a user's NODE-scoped plugins are what keeps the
    profile from the compiled cycle."""
    users = _user_plugins([p for p in profile.plugins if p.scope is Scope.NODE])
    without = replace(profile, filters=tuple(p for p in profile.filters if p not in users),
                      scores=tuple((p, w) for p, w in profile.scores if p not in users))
    if users and CompiledCycle.resource_plugins(without) is not None:
        for plugin in users:
            _warn_once(plugin, "is NODE-scoped and has no compiled kernel")


def _warn_once(plugin: Plugin, why: str) -> None:
    """A SlowPathWarning naming the plugin, the first time its class keeps the path off."""
    if type(plugin) in _WARNED:
        return
    _WARNED.add(type(plugin))
    warnings.warn(
        f"plugin {plugin.name} ({type(plugin).__module__}.{type(plugin).__qualname__}) "
        f"{why}: Greedy places every pod with the pod-by-pod cycle (the same decisions, "
        "several times slower)", SlowPathWarning, stacklevel=4)
