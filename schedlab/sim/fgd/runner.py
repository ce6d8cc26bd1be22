"""Running the FGD race: one run of a policy and a seed (its timeline and wall time), every
run of a race in worker processes, and the offline reference of each seed (bounds on the
best allocation with every pod known at once). The traces the runs read are loaded once per
process and kept."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from schedlab.fragmentation import TypicalPods
from schedlab.gpu import gpu_ask_milli
from schedlab.metrics import GpuTimeline
from schedlab.objects import Workload
from schedlab.policies import Greedy
from schedlab.sim.fgd.tuning import (
    DEFAULT_TUNE,
    PAPER_POLICIES,
    PolicySpec,
    policy_plugin,
    race_profile,
    replay_workload,
)
from schedlab.sim.simulate import simulate


@dataclass
class FgdRun:
    """One run: the policy's name, the seed, the timeline (one row per pod in arrival order:
    the columns ``policy`` and ``seed``, which label every row, then ``GpuTimeline.frame``'s,
    in milli-GPU) and the wall time of the replay in seconds (placing every pod and recording
    every metric)."""

    policy: str
    seed: int
    timeline: pd.DataFrame
    seconds: float


def run_once(trace: Workload, typical: TypicalPods, name: str, spec: PolicySpec, seed: int,
             tune: float = DEFAULT_TUNE) -> FgdRun:
    """Replay ``trace`` once with the policy ``spec`` and ``seed``."""
    workload = replay_workload(trace, seed, tune)
    plugin = policy_plugin(spec, seed, typical)
    timeline = GpuTimeline(typical)
    start = time.perf_counter()
    simulate(workload, Greedy(race_profile(plugin), tie_break="first"), seed, observe=timeline)
    seconds = time.perf_counter() - start
    return FgdRun(name, seed, label_timeline(timeline.frame(), name, seed), seconds)


def label_timeline(frame: pd.DataFrame, policy: str, seed: int) -> pd.DataFrame:
    """``frame`` with the columns ``policy`` (string) and ``seed`` (int64) first, so that the
    timelines of many runs read as one table (``pd.read_parquet("timelines")``)."""
    labels = pd.DataFrame({"policy": pd.Series([policy] * len(frame), dtype="string"),
                           "seed": pd.Series([seed] * len(frame), dtype="int64")},
                          index=frame.index)
    return pd.concat([labels, frame], axis=1)


@dataclass
class OfflineReference:
    """Where the offline optimum of one run's workload lies, in % of the GPU capacity
    allocated: at most ``upper_pct`` (``schedlab.optimal.offline.gpu_allocation_bound``, a
    relaxation), at least ``lower_pct`` (the best of FGD and BestFit given every pod at once,
    the largest GPU asks first: ``lower_policy``)."""

    seed: int
    upper_pct: float
    upper_status: str
    lower_pct: float
    lower_policy: str


def offline_reference(trace: Workload, typical: TypicalPods, seed: int,
                      tune: float = DEFAULT_TUNE, time_limit: float = 30.0
                      ) -> OfflineReference:
    """The bounds on the best GPU allocation any placement of run ``seed``'s pods reaches."""
    from schedlab.optimal.offline import gpu_allocation_bound

    workload = replay_workload(trace, seed, tune)
    bound = gpu_allocation_bound(workload, time_limit=time_limit)
    largest_first = sorted(workload.pods, key=gpu_ask_milli, reverse=True)
    ordered = Workload(workload.nodes, tuple(largest_first), workload.objects)
    best = (-1.0, "")
    for name in ("FGD", "BestFit"):
        plugin = policy_plugin(PAPER_POLICIES[name], seed, typical)
        result = simulate(ordered, Greedy(race_profile(plugin), tie_break="first"), seed)
        used = bound.capacity_milli - int(result.state.gpu_free.sum())
        best = max(best, (100 * used / bound.capacity_milli, name))
    return OfflineReference(seed, bound.allocation_pct, bound.status, best[0], best[1])


_LOADED: dict[tuple[str, str], tuple[Workload, TypicalPods]] = {}


def load_race(trace_dir: str | os.PathLike[str], workload: str) -> tuple[Workload, TypicalPods]:
    """The trace's GPU nodes and ``workload``'s pods, with its typical pods (cached)."""
    from schedlab.traces.alibaba import load_trace

    key = (str(trace_dir), workload)
    if key not in _LOADED:
        trace = load_trace(trace_dir, workload)
        _LOADED[key] = (trace, TypicalPods.of(trace.pods))
    return _LOADED[key]


def _run_job(trace_dir: str, workload: str, name: str, spec: PolicySpec, seed: int,
             tune: float) -> FgdRun:
    trace, typical = load_race(trace_dir, workload)
    return run_once(trace, typical, name, spec, seed, tune)


def _ignore_interrupts() -> None:
    """In a worker: Ctrl-C is the parent's to handle (it terminates the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _in_processes(jobs: int, function: Callable[..., Any], tasks: Sequence[tuple],
                  on_result: Callable[[Any], None] | None = None) -> list[Any]:
    """``function(*task)`` for every task, in ``jobs`` processes; results in task order,
    each told to ``on_result`` as it comes. An interruption or a failure stops every worker
    at once."""
    if jobs <= 1:
        results = []
        for task in tasks:
            results.append(function(*task))
            if on_result is not None:
                on_result(results[-1])
        return results
    pool = multiprocessing.Pool(jobs, initializer=_ignore_interrupts)
    try:
        pending = [pool.apply_async(function, task) for task in tasks]
        results = []
        for result in pending:
            results.append(result.get())
            if on_result is not None:
                on_result(results[-1])
        pool.close()
        return results
    except BaseException:  # Ctrl-C or a failed run: stop every worker now, run nothing more
        pool.terminate()
        raise
    finally:
        pool.join()


def run_race(trace_dir: str | os.PathLike[str], workload: str = "default",
             policies: Mapping[str, PolicySpec] | None = None,
             seeds: Sequence[int] = range(42, 52), tune: float = DEFAULT_TUNE, jobs: int = 1,
             on_run: Callable[[FgdRun], None] | None = None) -> list[FgdRun]:
    """Every policy (the paper's six by default) with every seed on ``workload`` of the
    trace in ``trace_dir``, in ``jobs`` processes; ``on_run`` sees each run as it ends.
    Runs come back in (policy, seed) order whatever ``jobs`` is."""
    policies = dict(PAPER_POLICIES if policies is None else policies)
    load_race(trace_dir, workload)  # fail early, in this process, on a bad trace
    tasks = [(str(trace_dir), workload, name, spec, seed, tune)
             for name, spec in policies.items() for seed in seeds]
    return _in_processes(jobs, _run_job, tasks, on_run)


def _offline_job(trace_dir: str, workload: str, seed: int, tune: float) -> OfflineReference:
    trace, typical = load_race(trace_dir, workload)
    return offline_reference(trace, typical, seed, tune)


def run_offline(trace_dir: str | os.PathLike[str], workload: str = "default",
                seeds: Sequence[int] = range(42, 52), tune: float = DEFAULT_TUNE,
                jobs: int = 1, on_run: Callable[[OfflineReference], None] | None = None
                ) -> list[OfflineReference]:
    """``offline_reference`` for every seed, in ``jobs`` processes, in seed order; ``on_run``
    sees each as it ends."""
    load_race(trace_dir, workload)
    return _in_processes(jobs, _offline_job, [(str(trace_dir), workload, s, tune) for s in seeds],
                         on_run)
