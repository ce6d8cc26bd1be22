"""Solving a ``LinearModel`` with OR-Tools CP-SAT or HiGHS (through scipy), lexicographically:
first the primary objective, then the secondary one with the primary held at what was found.

``solver="auto"`` (the default) suits the solver to the instance: on a model of at most
``AUTO_HIGHS_MAX_VARS`` variables HiGHS tries first with ``AUTO_HIGHS_SHARE`` of the time (it
proves small count models in a fraction of a second where CP-SAT may spend its whole limit),
and CP-SAT takes the rest, started from the better of HiGHS's solution and the hint, when HiGHS
did not prove its answer; larger models, and deterministic runs, go to CP-SAT alone (HiGHS runs
on wall-clock time only and overran its limit by several seconds on large models).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

import numpy as np

from schedlab.optimal.model import LinearModel

T = TypeVar("T")
Solver = Literal["auto", "cp-sat", "highs"]
SOLVERS: tuple[str, ...] = ("auto", "cp-sat", "highs")
Status = Literal["optimal", "feasible", "none"]
HIGHS_SHARE = 0.9
"""HiGHS overruns its time limit by several seconds on large models (measured: 6 s past 52 s
on 10,000 pods × 2,000 nodes); it is given this share of the limit."""
AUTO_HIGHS_MAX_VARS = 10_000
"""``auto`` tries HiGHS first on models of at most this many variables."""
AUTO_HIGHS_SHARE = 0.4
"""``auto``: the share of a solve's time HiGHS has before CP-SAT takes over."""

SolveProgress = Callable[[str, float | None, float | None], None]
"""Told as a solve goes: (solver, objective of the best solution so far or None, best bound
or None), both maximised; CP-SAT tells every improving solution, HiGHS only its start."""


@dataclass
class Stage:
    """One solve: ``status`` ("optimal", "feasible", or "none" when no solution was found in
    time), the variables' values (None without a solution), the objective found and the
    solver's best bound on it (maximising), the seconds it took and the solver whose solution
    it is ("" when none was needed)."""

    status: Status
    values: np.ndarray | None
    objective: float | None
    bound: float | None
    seconds: float
    solver: str = ""


def solve(model: LinearModel, objective: Mapping[int, int], *, solver: Solver,
          time_limit: float, num_workers: int, seed: int, deterministic: bool,
          hint: Sequence[int] | np.ndarray | None = None,
          floor: tuple[Mapping[int, int], int] | None = None,
          progress: SolveProgress | None = None) -> Stage:
    """Maximise ``objective`` over ``model`` (plus the row ``floor`` = (coefs, least value)
    when given) within ``time_limit`` seconds; ``hint`` is a complete solution to start from
    (CP-SAT only). ``deterministic`` makes CP-SAT count the limit in its deterministic time
    and search in a reproducible order whatever the number of workers. ``progress`` is told
    the incumbent and bound as they improve."""
    start = time.perf_counter()
    if model.n_vars == 0:  # nothing to decide: every row was checked when it was added
        return Stage("optimal", np.zeros(0, dtype=np.int64), 0.0, 0.0, 0.0)
    tell = progress or (lambda *_: None)
    if solver == "auto":
        stage = _auto(model, objective, time_limit, num_workers, seed, deterministic, hint,
                      floor, tell)
    elif solver == "cp-sat":
        stage = _cp_sat(model, objective, time_limit, num_workers, seed, deterministic, hint,
                        floor, tell)
    elif solver == "highs":
        stage = _highs(model, objective, time_limit * HIGHS_SHARE, floor, tell)
    else:
        raise ValueError(f"unknown solver {solver!r}")
    stage.seconds = time.perf_counter() - start
    return stage


def _auto(model: LinearModel, objective: Mapping[int, int], time_limit: float,
          num_workers: int, seed: int, deterministic: bool,
          hint: Sequence[int] | np.ndarray | None,
          floor: tuple[Mapping[int, int], int] | None, tell: SolveProgress) -> Stage:
    """HiGHS first on a small model, CP-SAT for the rest of the time unless HiGHS proved its
    answer (see the module docstring); the better solution and the tighter bound of the two
    (optimal when that bound meets that solution)."""
    if deterministic or model.n_vars > AUTO_HIGHS_MAX_VARS:
        return _cp_sat(model, objective, time_limit, num_workers, seed, deterministic, hint,
                       floor, tell)
    start = time.perf_counter()
    first = _highs(model, objective, time_limit * AUTO_HIGHS_SHARE, floor, tell)
    if first.status == "optimal":
        return first
    if first.values is not None and (hint is None or first.objective is not None and
                                     first.objective > _value(objective, hint)):
        hint = first.values.tolist()
    rest = max(time_limit - (time.perf_counter() - start), 0.1)
    second = _cp_sat(model, objective, rest, num_workers, seed, deterministic, hint, floor, tell)
    found = [stage for stage in (second, first) if stage.objective is not None]
    if not found:
        return second
    # found holds the stages with an objective, which mypy cannot follow through the filter
    best = max(found, key=lambda stage: cast(float, stage.objective))  # CP-SAT's on a tie
    assert best.objective is not None
    bounds = [b for b in (first.bound, second.bound) if b is not None]
    bound = min(bounds) if bounds else None
    proven = bound is not None and bound <= best.objective + 1e-6
    return Stage("optimal" if proven or best.status == "optimal" else "feasible", best.values,
                 best.objective, best.objective if proven else bound, 0.0, best.solver)


def interruptible(call: Callable[[], T], stop: Callable[[], object] | None = None) -> T:
    """``call()`` in a worker thread (the solvers release the GIL) while this thread waits,
    so Ctrl-C interrupts a long solve at once: ``stop`` (CP-SAT's StopSearch) is called and
    the KeyboardInterrupt goes on; a solver that cannot be stopped is left to finish its
    time limit in the background (a daemon thread, which does not keep the process)."""
    outcome: list[Any] = []

    def work() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as error:  # handed to the waiting thread
            outcome.append((False, error))

    worker = threading.Thread(target=work, daemon=True, name="schedlab-solver")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
    except BaseException:
        if stop is not None:
            stop()
            worker.join(5.0)
        raise
    done, value = outcome[0]
    if not done:
        raise value
    return value


def _value(objective: Mapping[int, int], values: Sequence[int] | np.ndarray) -> float:
    return float(sum(k * values[v] for v, k in objective.items()))


def _cp_sat(model: LinearModel, objective: Mapping[int, int], time_limit: float,
            num_workers: int, seed: int, deterministic: bool,
            hint: Sequence[int] | np.ndarray | None,
            floor: tuple[Mapping[int, int], int] | None, tell: SolveProgress) -> Stage:
    from ortools.sat.python import cp_model

    class Told(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            tell("cp-sat", self.ObjectiveValue(), self.BestObjectiveBound())

    cp = cp_model.CpModel()
    variables = [cp.new_int_var(int(lo), int(hi), "")
                 for lo, hi in zip(model.lower, model.upper, strict=True)]
    def weighted(coefs: Mapping[int, int]) -> cp_model.LinearExpr:
        return cp_model.LinearExpr.WeightedSum([variables[v] for v in coefs],
                                               list(coefs.values()))

    coefs: Mapping[int, int]  # a row's, then the floor's
    for coefs, lo, hi in model.rows:
        expression = weighted(coefs)
        if lo == hi:
            cp.add(expression == int(lo))
        else:
            if np.isfinite(hi):
                cp.add(expression <= int(hi))
            if np.isfinite(lo):
                cp.add(expression >= int(lo))
    if floor is not None:
        coefs, least = floor
        cp.add(weighted(coefs) >= int(least))
    cp.maximize(weighted(objective))
    if hint is not None:
        for variable, value in zip(variables, hint, strict=True):
            cp.add_hint(variable, int(value))
    engine = cp_model.CpSolver()
    engine.parameters.num_workers = num_workers
    engine.parameters.random_seed = seed
    if deterministic:
        engine.parameters.max_deterministic_time = time_limit
        engine.parameters.interleave_search = True
    else:
        engine.parameters.max_time_in_seconds = time_limit
    engine.parameters.catch_sigint_signal = False  # Ctrl-C is the caller's (interruptible)
    tell("cp-sat", None, None)
    code = interruptible(lambda: engine.Solve(cp, Told()), engine.StopSearch)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Stage("none", None, None, None, 0.0)
    values = np.array([engine.Value(v) for v in variables], dtype=np.int64)
    status: Status = "optimal" if code == cp_model.OPTIMAL else "feasible"
    return Stage(status, values, engine.ObjectiveValue(), engine.BestObjectiveBound(), 0.0,
                 "cp-sat")


def _matrix(model: LinearModel, objective: Mapping[int, int],
            floor: tuple[Mapping[int, int], int] | None) -> tuple[np.ndarray, list]:
    """The cost vector (to minimise) and scipy ``LinearConstraint`` list of a model."""
    from scipy.optimize import LinearConstraint
    from scipy.sparse import coo_array

    rows: list[tuple[Mapping[int, int], float, float]] = list(model.rows)
    if floor is not None:
        rows.append((floor[0], floor[1], np.inf))
    n = model.n_vars
    cost = np.zeros(n)
    for v, k in objective.items():
        cost[v] = -k  # scipy minimises
    constraints = []
    if rows:
        r_index = [i for i, (coefs, _, _) in enumerate(rows) for _ in coefs]
        c_index = [v for coefs, _, _ in rows for v in coefs]
        data = [k for coefs, _, _ in rows for k in coefs.values()]
        matrix = coo_array((data, (r_index, c_index)), shape=(len(rows), n)).tocsr()
        constraints.append(LinearConstraint(matrix, [lo for _, lo, _ in rows],
                                            [hi for _, _, hi in rows]))
    return cost, constraints


def lp_relaxation(model: LinearModel, objective: Mapping[int, int], time_limit: float | None
                  ) -> tuple[float, np.ndarray] | None:
    """The optimum of the linear relaxation (a bound on the integer optimum of a
    maximisation) and a solution reaching it, by HiGHS; None when not found within
    ``time_limit`` seconds (None: no limit, for reproducible results)."""
    from scipy.optimize import Bounds, milp

    if model.n_vars == 0:
        return 0.0, np.zeros(0)
    cost, constraints = _matrix(model, objective, None)
    result = interruptible(lambda: milp(
        cost, integrality=np.zeros(model.n_vars, dtype=np.uint8),
        bounds=Bounds(model.lower, model.upper), constraints=constraints,
        options={"disp": False} if time_limit is None else {"time_limit": max(time_limit, 0.1),
                                                             "disp": False}))
    return None if result.status != 0 else (float(-result.fun), result.x)


def _highs(model: LinearModel, objective: Mapping[int, int], time_limit: float,
           floor: tuple[Mapping[int, int], int] | None, tell: SolveProgress) -> Stage:
    from scipy.optimize import Bounds, milp

    tell("highs", None, None)

    cost, constraints = _matrix(model, objective, floor)
    result = interruptible(lambda: milp(
        cost, integrality=np.ones(model.n_vars, dtype=np.uint8),
        bounds=Bounds(model.lower, model.upper),
        constraints=constraints,
        options={"time_limit": time_limit, "disp": False, "mip_rel_gap": 0.0}))
    if result.x is None:
        return Stage("none", None, None, None, 0.0)
    values = np.round(result.x).astype(np.int64)
    found = float(-result.fun)
    bound = getattr(result, "mip_dual_bound", None)
    status: Status = "optimal" if result.status == 0 else "feasible"
    if status == "optimal":
        bound = found
    else:
        bound = float(-bound) if bound is not None and np.isfinite(bound) else None
    tell("highs", found, bound)
    return Stage(status, values, found, bound, 0.0, "highs")
