"""Optimal: the batch placed by an integer program, with its bounds and the greedy fallback.

Given the state (pods already bound) and the pending pods, it maximises the priority-weighted
number of pods placed, then a secondary objective (``schedlab.optimal.OBJECTIVES``), with
CP-SAT (greedy's placement as a complete hint) or HiGHS, within a time limit. The plan is then
bound pod by pod in input order; each step is checked against the profile's filters, and a pod
whose planned node no longer passes them gets Greedy's decision instead ("repaired"). A pod the
plan leaves out stays unscheduled (placing it would take room the plan gives later pods).
Without a solution in time, every pod gets Greedy's decision (status "fallback").
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypedDict

import numpy as np

from schedlab.cluster import ClusterState
from schedlab.errors import ConfigError
from schedlab.framework.cycle import Evaluator
from schedlab.framework.profile import Profile
from schedlab.gpu import best_gpus
from schedlab.matching import PodSelector, spread_selector
from schedlab.objects import Pod
from schedlab.optimal.bounds import nodes_lower_bound
from schedlab.optimal.model import (
    BALANCED_RESOURCES,
    OBJECTIVES,
    PER_MILLE,
    LinearModel,
    Objective,
    PlacementModel,
    PodClass,
    build,
    objective_value,
    pod_classes,
)
from schedlab.optimal.solve import SOLVERS, SolveProgress, Solver, Stage, lp_relaxation, solve
from schedlab.policies.base import Decision, Policy
from schedlab.policies.greedy import Greedy
from schedlab.resources import is_extended

MINIMISED = ("nodes", "balance")
FIRST_SHARE = 0.6
"""The share of the time limit the primary objective may take; the secondary gets the rest."""
LEFT_OUT = "left out by the optimal plan: the room it could take goes to pods placed later"


class _SolveOptions(TypedDict):
    """The arguments both solves of a plan share."""

    solver: Solver
    num_workers: int
    seed: int
    deterministic: bool


@dataclass
class OptimalReport:
    """What the solve found, kept apart from what the binding did.

    status            "optimal" (both objectives proven), "feasible" (a solution, not proven
                      optimal), "fallback" (no solution in time: Greedy's placement)
    placed            pods the plan places; ``placed_upper_bound`` no placement can place more
                      (priority-weighted: ``weighted`` and ``weighted_upper_bound``: the
                      solver's bound or the linear relaxation's, whichever is lower)
    secondary         the secondary objective of the plan, in its unit (nodes; peak per mille;
                      milli-GPU; score); ``secondary_bound`` the best any placement placing as
                      many can reach, as the solver proved it
    nodes_used        nodes holding a pod after the plan; ``nodes_lower_bound`` fewer nodes
                      cannot hold the pods placed (capacity-sum and Martello–Toth L2 bounds,
                      and the solver's bound when the objective is "nodes")
    repaired          pods whose planned node failed the filters when bound, given Greedy's
                      decision instead
    solved_by         whose plan is bound: "cp-sat" or "highs" (the solver that found it,
                      for the last objective solved), "greedy" (Greedy's placement was
                      better), or "" (fallback)
    """

    status: str
    solver: str
    objective: str
    placed: int
    placed_upper_bound: int
    weighted: int
    weighted_upper_bound: int
    secondary: float | None
    secondary_bound: float | None
    nodes_used: int
    nodes_lower_bound: int
    seconds: float
    repaired: int = 0
    solved_by: str = ""


class Optimal(Policy):
    """The exact baseline: see the module docstring. ``time_limit`` (seconds) covers both
    objectives; ``deterministic`` counts it in CP-SAT's deterministic time, for reproducible
    tables whatever the machine's load. ``progress``, if given, is told one line as the solve
    goes: the objective, the solver, the best solution so far and the bound."""

    name = "optimal"
    uses_scores = False
    batch_window = 60.0

    def __init__(self, profile: Profile | None = None, *, objective: Objective = "nodes",
                 solver: Solver = "auto", time_limit: float = 10.0, num_workers: int = 2,
                 deterministic: bool = False, progress: Callable[[str], None] | None = None
                 ) -> None:
        super().__init__(profile)
        if objective not in OBJECTIVES:
            raise ConfigError("optimal", "objective", objective, f"one of {', '.join(OBJECTIVES)}")
        if solver not in SOLVERS:
            raise ConfigError("optimal", "solver", solver, f"one of {', '.join(SOLVERS)}")
        if not time_limit > 0:
            raise ConfigError("optimal", "time_limit", time_limit, "seconds > 0")
        if num_workers < 1:
            raise ConfigError("optimal", "num_workers", num_workers, "at least 1")
        if deterministic and solver == "highs":
            raise ConfigError("optimal", "solver", solver, "cp-sat or auto with deterministic "
                              "(HiGHS runs on wall-clock time only)")
        self.objective = objective
        self.solver = solver
        self.time_limit = time_limit
        self.num_workers = num_workers
        self.deterministic = deterministic
        self.progress = progress
        self.report: OptimalReport | None = None

    def reset(self, state: ClusterState, rng: np.random.Generator) -> None:
        super().reset(state, rng)
        self._greedy = Greedy(self.profile)  # the fallback draws from rng as Greedy would
        self._greedy.reset(state, rng)
        seed_seq = rng.bit_generator.seed_seq
        assert isinstance(seed_seq, np.random.SeedSequence)  # a Generator's bit generator has one
        child = np.random.default_rng(seed_seq.spawn(1)[0])
        self._seed = int(child.integers(2**31))  # the solver's, drawn without touching rng
        self._plan: dict[str, tuple[int, tuple[int, ...] | None]] = {}
        self.report = None

    def plan(self, pods: Sequence[Pod]) -> None:
        start = time.perf_counter()
        state = self.state
        classes = pod_classes(state, pods, self.profile)
        scores = _snapshot_scores(state, self.profile, classes) \
            if self.objective == "score" else None
        placement = build(state, classes, self.objective, scores)
        greedy_hint = _greedy_values(state, pods, self.profile, placement,
                                     copy.deepcopy(self.rng))
        relaxation = lp_relaxation(placement.model, placement.primary,
                                   None if self.deterministic else self.time_limit / 10)
        relaxed = None if relaxation is None else relaxation[0]
        if relaxation is not None:  # the relaxation rounded down, Greedy placing the rest
            rounded = _greedy_values(state, pods, self.profile, placement,
                                     copy.deepcopy(self.rng), relaxation[1])
            if rounded is not None and (greedy_hint is None or _better(
                    placement, np.array(rounded), np.array(greedy_hint))):
                greedy_hint = rounded
        deadline = start + self.time_limit

        def left() -> float:
            """Seconds left: of the limit in deterministic time, else until the deadline."""
            if self.deterministic:
                return self.time_limit * (1 - FIRST_SHARE if first_done else 1.0)
            return max(deadline - time.perf_counter(), 0.1)

        common: _SolveOptions = {"solver": self.solver, "num_workers": self.num_workers,
                                 "seed": self._seed, "deterministic": self.deterministic}
        first_done = False
        first = solve(placement.model, placement.primary, time_limit=FIRST_SHARE * left(),
                      hint=greedy_hint, progress=self._told("pods placed (weighted)", None),
                      **common)
        first_done = True
        second: Stage | None = None
        if first.values is not None:
            assert first.objective is not None  # solve finds a solution with its objective
            offset = placement.secondary_offset if self.objective in MINIMISED else None
            second = solve(placement.model, placement.secondary, time_limit=left(),
                           hint=first.values,
                           floor=(placement.primary, int(round(first.objective))),
                           progress=self._told(self.objective, offset), **common)
        best = second if second is not None and second.values is not None else first
        kept_greedy = (best.values is not None and greedy_hint is not None
                       and _better(placement, np.array(greedy_hint), best.values))
        if kept_greedy:
            best = Stage("feasible", np.array(greedy_hint), None, None, 0.0, "greedy")
        if best.values is not None:
            self._plan = _assign(state, placement, best.values)
        self.report = self._report(placement, first, second, best, pods, relaxed, scores,
                                   time.perf_counter() - start)

    def _told(self, objective: str, offset: float | None) -> SolveProgress | None:
        """The solver's progress as a line for ``self.progress``, in the objective's unit
        (``offset`` given: a minimised objective, solved as -(value + offset))."""
        progress = self.progress
        if progress is None:
            return None

        def told(solver: str, found: float | None, bound: float | None) -> None:
            def shown(value: float | None) -> str:
                if value is None:
                    return "-"
                return f"{-(value + offset) if offset is not None else value:,.0f}"

            progress(f"{objective}: {solver}, best {shown(found)}, bound {shown(bound)}")

        return told

    def place(self, pod: Pod) -> Decision:
        if self.report is None or self.report.status == "fallback":
            return self._greedy.place(pod)
        planned = self._plan.get(pod.key)
        feasible = self.evaluator.evaluate(pod).feasible
        if planned is None:  # placing it would take room the plan gives later pods
            if not feasible.any():
                return self.unschedulable(pod)
            return Decision(None, LEFT_OUT)
        node, gpus = planned
        if feasible[node]:
            request = pod.template.gpu
            if request is not None and (gpus is None or not all(
                    self.state.gpu_free[node, g] >= request.milli for g in gpus)):
                gpus = best_gpus(self.state.gpu_free[node], request)
            return Decision(node, gpus=gpus if request is not None else None)
        self.report.repaired += 1  # the plan no longer holds: it is not proven any more
        if self.report.status == "optimal":
            self.report.status = "feasible"
        return self._greedy.place(pod)

    def _report(self, placement: PlacementModel, first: Stage, second: Stage | None,
                best: Stage, pods: Sequence[Pod], relaxed: float | None,
                scores: dict[int, np.ndarray] | None, seconds: float) -> OptimalReport:
        state = self.state
        classes = placement.classes
        weighted_total = sum(c.weight * len(c.pods) for c in classes)
        if best.values is None:
            return OptimalReport("fallback", self.solver, self.objective, 0, len(pods), 0,
                                 weighted_total, None, None, int((state.pod_count > 0).sum()),
                                 0, seconds)
        counts = {key: int(best.values[v]) for key, v in placement.x.items()
                  if best.values[v]}
        weighted = objective_value(placement.primary, best.values)
        found_bounds = [int(np.floor(b + 1e-6)) for b in (first.bound, relaxed) if b is not None]
        weighted_bound = max(min([weighted_total, *found_bounds]), weighted)
        demand = np.array([classes[c].requests for (c, _), k in counts.items()
                           for _ in range(k)], dtype=np.int64).reshape(-1, len(state.resources))
        free = state.allocatable - state.requested
        lower = max(int((state.pod_count > 0).sum()), nodes_lower_bound(demand, free))
        secondary_bound = None
        if second is not None and second.bound is not None:  # to maximise, model's unit
            raw = int(np.floor(second.bound + 1e-6))
            secondary_bound = -(raw + placement.secondary_offset) \
                if self.objective in MINIMISED else raw
            if self.objective == "nodes":
                lower = max(lower, secondary_bound)
        proven = (first.status == "optimal" and second is not None
                  and second.status == "optimal" and best is second)
        return OptimalReport(
            "optimal" if proven else "feasible", self.solver, self.objective,
            sum(counts.values()),
            min(len(pods), weighted_bound),  # every pod is worth at least 1
            weighted, weighted_bound,
            _secondary_of(state, placement, counts, self.objective, scores), secondary_bound,
            int(((state.pod_count > 0) | _used_nodes(state, counts)).sum()), lower, seconds,
            solved_by=best.solver)

    def details(self) -> dict[str, Any]:
        return {} if self.report is None else asdict(self.report)

    def __repr__(self) -> str:
        return (f"Optimal(objective={self.objective!r}, solver={self.solver!r}, "
                f"time_limit={self.time_limit})")


def _used_nodes(state: ClusterState, counts: dict[tuple[int, int], int]) -> np.ndarray:
    """bool (n_nodes,): the nodes ``counts`` (class, node) → pods puts a pod on."""
    used = np.zeros(state.n_nodes, dtype=bool)
    used[[n for _, n in counts]] = True
    return used


def _secondary_of(state: ClusterState, placement: PlacementModel,
                  counts: dict[tuple[int, int], int], objective: str,
                  scores: dict[int, np.ndarray] | None) -> int:
    """The secondary objective of a plan, from its counts: nodes holding a pod; the peak,
    over nodes and cpu or memory, of ceil(1000 × requested / allocatable); milli-GPU
    placed; or the total snapshot score."""
    classes = placement.classes
    if objective == "nodes":
        return int(((state.pod_count > 0) | _used_nodes(state, counts)).sum())
    if objective == "gpu":
        return sum(classes[c].gpu_milli * k for (c, _), k in counts.items())
    if objective == "score":
        assert scores is not None  # given with the "score" objective
        return sum(int(scores[c][n]) * k for (c, n), k in counts.items())
    requested = state.requested.copy()
    for (c, n), k in counts.items():
        requested[n] += k * classes[c].requests
    columns = [state.resources.index[r] for r in BALANCED_RESOURCES]
    allocatable = state.allocatable[:, columns]
    per_mille = -(-PER_MILLE * requested[:, columns] // np.maximum(allocatable, 1))
    return int(np.where(allocatable > 0, per_mille, 0).max(initial=0))


def _better(placement: PlacementModel, candidate: np.ndarray, found: np.ndarray) -> bool:
    """``candidate`` beats ``found`` lexicographically (primary, then secondary)."""
    key = [(objective_value(placement.primary, v), objective_value(placement.secondary, v))
           for v in (candidate, found)]
    return key[0] > key[1]


def _snapshot_scores(state: ClusterState, profile: Profile, classes: list[PodClass]
                     ) -> dict[int, np.ndarray]:
    """Per class index: int64 (n_nodes,) the profile's total score of one pod of the class
    on each node it passes now (0 elsewhere), normalised over those nodes."""
    evaluator = Evaluator(profile, state)
    scores = {}
    for c, cls in enumerate(classes):
        evaluation = evaluator.evaluate(cls.pod)
        nodes = np.flatnonzero(evaluation.feasible)
        total = np.zeros(state.n_nodes, dtype=np.int64)
        if len(nodes):
            total[nodes] = evaluator.totals(evaluation, nodes)
        scores[c] = total
    return scores


def _replica(state: ClusterState) -> ClusterState:
    """A new state with the same nodes and the same pods bound, on the same devices."""
    extended = [r for r in state.resources.names if is_extended(r)]
    replica = ClusterState(state.nodes, extended, state.objects)
    replica.workload_pods = state.workload_pods
    by_key = {p.key: p for p in state.workload_pods}
    for key, node in state.bound.items():
        replica.bind(by_key[key], node, state.gpus_of.get(key))
    return replica


def _greedy_values(state: ClusterState, pods: Sequence[Pod], profile: Profile,
                   placement: PlacementModel, rng: np.random.Generator,
                   first: np.ndarray | None = None) -> list[int] | None:
    """A placement as values of every variable of the model: the pods ``first`` (a solution
    of the linear relaxation, rounded down) puts on nodes are bound there, then Greedy places
    the others in input order. None when the placement breaks the model's bounds or the
    state's bound pods are unknown to it."""
    try:
        replica = _replica(state)
    except KeyError:  # a bound pod the state does not know (built by hand)
        return None
    greedy = Greedy(profile)
    greedy.reset(replica, rng)
    index = {cls.pod.cache_key: c for c, cls in enumerate(placement.classes)}
    preset: dict[str, int] = {}
    if first is not None:
        for c, cls in enumerate(placement.classes):
            slots = [n for n, v in placement.x_by_class.get(c, ())
                     for _ in range(int(np.floor(first[v] + 1e-9)))]
            preset.update((pod.key, n) for pod, n in zip(cls.pods, slots, strict=False))
    known: dict[int, int] = {}
    order = [p for p in pods if p.key in preset] + [p for p in pods if p.key not in preset]
    for pod in order:
        node = preset.get(pod.key)
        request = pod.template.gpu
        if node is None:
            decision = greedy.place(pod)
            node, gpus = decision.node, decision.gpus
        else:
            if request is None:
                gpus = None
            else:
                gpus = best_gpus(replica.gpu_free[node], request)
                if len(gpus) < request.count:
                    continue  # the rounded relaxation left no device: Greedy's turn is over
        if node is None:
            continue
        replica.bind(pod, node, gpus)
        key = (index[pod.cache_key], node)
        if key not in placement.x:
            return None
        known[placement.x[key]] = known.get(placement.x[key], 0) + 1
        if request is not None:
            for g in replica.gpus_of[pod.key]:
                var = (placement.sharing.get((key[0], node, g)) if request.shares
                       else placement.whole.get((node, g)))
                if var is None:
                    return None
                known[var] = known[var] + 1 if request.shares and var in known else 1
    return _complete(placement, known)


def _complete(placement: PlacementModel, known: dict[int, int]) -> list[int] | None:
    """Values of every variable given the placement's ``known`` ones (others 0 unless the
    rows force them): the auxiliary variables are solved for, quickly, with CP-SAT."""
    model = placement.model
    fixed_lower, fixed_upper = list(model.lower), list(model.upper)
    for table in (placement.x, placement.sharing, placement.whole):
        for v in table.values():
            value = known.get(v, 0)
            if not model.lower[v] <= value <= model.upper[v]:
                return None  # outside the model's bounds (a relaxation it does not cover)
            fixed_lower[v] = fixed_upper[v] = value
    fixed = LinearModel(fixed_lower, fixed_upper, model.rows)
    stage = solve(fixed, placement.secondary, solver="cp-sat", time_limit=5.0, num_workers=1,
                  seed=0, deterministic=True)
    return None if stage.values is None else stage.values.tolist()


def _assign(state: ClusterState, placement: PlacementModel, values: np.ndarray
            ) -> dict[str, tuple[int, tuple[int, ...] | None]]:
    """Pod key → (node, GPU devices) for the solution ``values``: each class's pods, in input
    order, take its nodes so that the domains of its first DoNotSchedule spreading constraint
    fill evenly (the fewest-so-far first), else in node order."""
    plan: dict[str, tuple[int, tuple[int, ...] | None]] = {}
    whole_pool: dict[int, list[int]] = {}
    for (n, d), v in sorted(placement.whole.items()):
        if values[v]:
            whole_pool.setdefault(n, []).append(d)
    for c, cls in enumerate(placement.classes):
        slots: list[int] = []
        for n, v in placement.x_by_class.get(c, ()):
            slots += [n] * int(values[v])
        slots = _spread_order(state, cls.pod, slots)
        devices = _devices(placement, values, c, slots, whole_pool)
        for pod, node, gpus in zip(cls.pods, slots, devices, strict=False):
            plan[pod.key] = (node, gpus)
    return plan


def _spread_order(state: ClusterState, pod: Pod, slots: list[int]) -> list[int]:
    """``slots`` (nodes, one per pod) reordered so that the domains of the pod's first
    DoNotSchedule spreading constraint fill evenly: the next pod goes to the domain holding
    the fewest matching pods so far (bound ones included)."""
    own = [t for t in pod.template.topology_spread_constraints
           if t.when_unsatisfiable == "DoNotSchedule"]
    if not own or len(slots) < 2:
        return slots
    constraint = own[0]
    codes = state.labels.codes(constraint.topology_key)
    selector = PodSelector(spread_selector(constraint, pod.template.labels),
                           frozenset({pod.namespace}))
    bound = state.tally((selector,), terminating=False).domains(constraint.topology_key)
    by_domain: dict[int, list[int]] = {}
    for n in slots:
        by_domain.setdefault(int(codes[n]), []).append(n)
    placed = {d: int(bound[d]) if d >= 0 else 0 for d in by_domain}
    ordered: list[int] = []
    while len(ordered) < len(slots):
        domain = min((d for d in by_domain if by_domain[d]), key=lambda d: (placed[d], d))
        ordered.append(by_domain[domain].pop(0))
        placed[domain] += 1
    return ordered


def _devices(placement: PlacementModel, values: np.ndarray, c: int, slots: list[int],
             whole_pool: dict[int, list[int]]) -> list[tuple[int, ...] | None]:
    """The devices each slot's pod takes, from the solution's per-device counts: a sharing
    pod one of its class's device slots on the node, a whole-GPU pod the next devices the
    solution takes whole there (``whole_pool``, shared by the classes, consumed)."""
    request = placement.classes[c].pod.template.gpu
    if request is None:
        return [None] * len(slots)
    pools = whole_pool
    if request.shares:
        pools = {}
        for (k, n, d), v in sorted(placement.sharing.items()):
            if k == c:
                pools.setdefault(n, []).extend([d] * int(values[v]))
    taken: list[tuple[int, ...] | None] = []
    count = request.count
    for n in slots:
        pool = pools.get(n, [])
        taken.append(tuple(sorted(pool[:count])) if len(pool) >= count else None)
        del pool[:count]
    return taken


