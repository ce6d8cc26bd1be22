"""The FGD paper's experiment (Weng et al., USENIX ATC '23, Fig. 9): GPU allocation as pods of
an Alibaba GPU trace arrive, under each placement policy.

The replay follows the paper's simulator (``../shared/reference/fgd-simulator.md``):

* the cluster is the trace's GPU nodes, in an order shuffled by the seed; ties between
  equally scored nodes go to the first node in that order (the simulator's fork of
  kube-scheduler picks the smallest node name, and its names carry a seeded random prefix);
* the pods arrive one at a time in an order shuffled by the seed, then clones drawn uniformly
  with replacement are appended until the GPU ask reaches ``tune`` times the cluster's GPU
  capacity (stopping, as the simulator does, when the next clone's per-GPU milli would pass
  the target); nothing departs; a pod that fits nowhere fails at once;
* the profile is kube's filters plus ``GpuShare``, with the policy's plugin as the only score
  (weight 1000), every feasible node scored;
* typical pods are drawn from the original trace, before shuffling and tuning;
* after every pod the timeline records arrived and allocated milli-GPU and fragmentation.

The random draws come from numpy generators seeded with the run's seed, not Go's; so runs
match the paper's statistically, not pod for pod.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from schedlab.errors import InputError
from schedlab.fragmentation import TypicalPods
from schedlab.framework.plugin import ScorePlugin
from schedlab.framework.profile import Profile
from schedlab.gpu import gpu_ask_milli, gpu_capacity_milli
from schedlab.metrics import GpuTimeline
from schedlab.objects import Pod, Workload
from schedlab.plugins import (
    BestFitScore,
    DotProductScore,
    FGDScore,
    GpuClusteringScore,
    GpuPackingScore,
    GpuShare,
    RandomScore,
)
from schedlab.policies import Greedy
from schedlab.sim.simulate import simulate

PolicySpec = ScorePlugin | Callable[[int, TypicalPods], ScorePlugin]
"""A policy of the race: a score plugin, or a function of (seed, typical pods) making one."""

def random_policy(seed: int, typical: TypicalPods) -> ScorePlugin:
    """The paper's Random, drawing from a stream of ``seed`` of its own."""
    return RandomScore(seed=seed * 1000 + RANDOM_SCORE_STREAM)


def fgd_policy(seed: int, typical: TypicalPods) -> ScorePlugin:
    """The paper's FGD, against the trace's ``typical`` pods."""
    return FGDScore(typical_pods=typical)


PAPER_POLICIES: dict[str, PolicySpec] = {
    "Random": random_policy,
    "DotProd": DotProductScore(),
    "GpuClustering": GpuClusteringScore(),
    "GpuPacking": GpuPackingScore(),
    "BestFit": BestFitScore(),
    "FGD": fgd_policy,
}
"""The paper's six policies, in its order."""
SCORE_WEIGHT = 1000
ARRIVAL_POINTS = (90, 95, 100, 110, 120, 130)
"""Arrived workload (% of GPU capacity) at which the table reports allocation."""
DEFAULT_TUNE = 1.3
REPLAY_STREAM, RANDOM_SCORE_STREAM = 1, 2
"""Seeds of a run's random streams besides the policy's: [seed, stream]."""


def tune_pods(pods: Sequence[Pod], target_milli: float, rng: np.random.Generator
              ) -> list[Pod]:
    """``pods`` (in arrival order) brought to a GPU ask of about ``target_milli``, as the
    simulator's TunePodsByNodeTotalResource: below the target, clones of pods drawn
    uniformly (from ``pods`` sorted by name) are appended, named ``<pod>-tuned-<i>``, until
    the next draw's per-GPU milli would pass the target; above it, pods drawn uniformly are
    removed until the ask is at most the target."""
    tuned = list(pods)
    total = sum(gpu_ask_milli(p) for p in tuned)
    if not any(p.template.gpu is not None for p in pods):
        return tuned  # no GPU ask to tune: clones would never reach the target
    if total > target_milli:
        while total > target_milli and tuned:
            total -= gpu_ask_milli(tuned.pop(int(rng.integers(len(tuned)))))
        return tuned
    by_name = sorted(pods, key=lambda p: p.name)
    while by_name:
        drawn = by_name[int(rng.integers(len(by_name)))]
        per_gpu = 0 if drawn.template.gpu is None else drawn.template.gpu.milli
        if total + per_gpu > target_milli:
            break
        total += gpu_ask_milli(drawn)
        tuned.append(Pod(f"{drawn.name}-tuned-{len(tuned) - len(pods)}", drawn.template,
                         drawn.owner))
    return tuned


def replay_workload(trace: Workload, seed: int, tune: float = DEFAULT_TUNE) -> Workload:
    """The workload one run replays: pods sorted by name and shuffled, tuned to ``tune`` ×
    the GPU capacity, and the nodes in a shuffled order, all drawn from ``seed`` (a stream
    apart from the policy's, which ``simulate`` draws from ``seed`` itself)."""
    rng = np.random.default_rng([seed, REPLAY_STREAM])
    by_name = sorted(trace.pods, key=lambda p: p.name)
    shuffled = [by_name[i] for i in rng.permutation(len(by_name))]
    target = tune * gpu_capacity_milli(trace.nodes)
    pods = tune_pods(shuffled, target, rng) if tune > 0 else shuffled
    nodes = [trace.nodes[i] for i in rng.permutation(len(trace.nodes))]
    return Workload(tuple(nodes), tuple(pods), trace.objects)


def race_profile(plugin: ScorePlugin) -> Profile:
    """kube's default filters and ``GpuShare``; ``plugin`` the only score, weight 1000."""
    filters = Profile.default().filters + (GpuShare(),)
    return Profile(filters, ((plugin, SCORE_WEIGHT),), percentage_of_nodes_to_score=100)


@dataclass
class FgdRun:
    """One run: the policy's name, the seed, the timeline (``GpuTimeline.frame`` after the
    columns ``policy`` and ``seed``, which label every row) and the wall time of the replay in
    seconds (placing every pod and recording every metric)."""

    policy: str
    seed: int
    timeline: pd.DataFrame
    seconds: float


def run_once(trace: Workload, typical: TypicalPods, name: str, spec: PolicySpec, seed: int,
             tune: float = DEFAULT_TUNE) -> FgdRun:
    """Replay ``trace`` once with the policy ``spec`` and ``seed``."""
    workload = replay_workload(trace, seed, tune)
    plugin = spec if isinstance(spec, ScorePlugin) else spec(seed, typical)
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
        spec = PAPER_POLICIES[name]
        plugin = spec if isinstance(spec, ScorePlugin) else spec(seed, typical)
        result = simulate(ordered, Greedy(race_profile(plugin), tie_break="first"), seed)
        used = bound.capacity_milli - int(result.state.gpu_free.sum())
        best = max(best, (100 * used / bound.capacity_milli, name))
    return OfflineReference(seed, bound.allocation_pct, bound.status, best[0], best[1])


def allocation_at(timeline: pd.DataFrame, capacity_milli: int,
                  points: Sequence[int] = ARRIVAL_POINTS) -> dict[int, float]:
    """GPU allocation (% of capacity) at each arrived workload in ``points`` (%), as the
    paper's analysis: the mean over the pods whose arrived workload rounds to the point, or
    to a point 1 away when none does; NaN past the end of the run."""
    arrived = np.round(100 * timeline["arrived_gpu_milli"].to_numpy() / capacity_milli)
    allocated = 100 * timeline["used_gpu_milli"].to_numpy() / capacity_milli
    found = {}
    for point in points:
        at = arrived == point
        if not at.any():
            at = np.abs(arrived - point) <= 1
        found[point] = float(allocated[at].mean()) if at.any() else float("nan")
    return found


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {"median": float(np.median(values)), "min": float(np.min(values)),
            "max": float(np.max(values))}


def summarize_runs(runs: Sequence[FgdRun], capacity_milli: int) -> dict[str, Any]:
    """Per policy: GPU allocation and unallocated GPU % at each arrival point (median, min
    and max over seeds) and seconds per run (median, max)."""
    summary: dict[str, Any] = {}
    for name in dict.fromkeys(r.policy for r in runs):
        mine = [r for r in runs if r.policy == name]
        at = [allocation_at(r.timeline, capacity_milli) for r in mine]
        summary[name] = {
            "allocation_pct": {str(p): _spread([a[p] for a in at]) for p in ARRIVAL_POINTS},
            "unallocated_gpu_pct": {str(p): _spread([100 - a[p] for a in at])
                                    for p in ARRIVAL_POINTS},
            "seconds_per_run": {"median": float(np.median([r.seconds for r in mine])),
                                "max": float(max(r.seconds for r in mine))},
            "pods": int(len(mine[0].timeline)),
            "seeds": [r.seed for r in mine],
        }
    return summary


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


def race_policies(names: Sequence[str] | None) -> dict[str, PolicySpec]:
    """Policies by name: the paper's six (all of them for None or an empty list), or any
    registered score plugin (made with its defaults)."""
    from schedlab.framework.profile import PLUGINS

    if not names:
        return dict(PAPER_POLICIES)
    by_plugin = {"FGDScore": fgd_policy, "RandomScore": random_policy}
    found: dict[str, PolicySpec] = {}
    for name in names:
        if name in PAPER_POLICIES or name in by_plugin:
            found[name] = PAPER_POLICIES.get(name) or by_plugin[name]
        elif isinstance(plugin := PLUGINS.get(name), type) and issubclass(plugin, ScorePlugin):
            found[name] = plugin()
        else:
            raise InputError("--policy", "name", name,
                             f"one of {', '.join(PAPER_POLICIES)} or a registered score plugin")
    return found


def write_race(runs: Sequence[FgdRun], out: str | os.PathLike[str],
               parameters: Mapping[str, Any],
               offline: Sequence[OfflineReference] = (),
               formats: Sequence[str] | None = ("png",)) -> str:
    """Save the race in ``out``: ``timelines/<policy>-seed<seed>.parquet`` per run,
    ``allocation.<format>`` for each of ``formats`` (png, pdf, svg; see ``plot_race``) and
    ``summary.json`` (parameters, machine, versions, per-policy figures, and ``outputs``: the
    files written, relative to ``out``); returns the printed table and where the files went.

    Every file is written to a temporary file first and renamed into place only when all
    were written (``report.write_atomic_all``), so a failure leaves ``out`` as it was. Then
    the files the previous race's ``summary.json`` lists in ``outputs`` and this race did not
    write are deleted; nothing else is (a missing or malformed record: nothing)."""
    from schedlab.report import figure_writers, machine, plot_formats, versions, write_outputs

    out = Path(out)
    formats = plot_formats(formats)
    capacity = parameters.get("gpu_capacity_milli") or _capacity(parameters)

    def timeline(run: FgdRun) -> Callable[[str], Any]:
        return lambda tmp: run.timeline.to_parquet(tmp, index=False)

    writers: dict[Path, Callable[[str], Any]] = {}
    for run in runs:
        path = out / "timelines" / f"{run.policy}-seed{run.seed}.parquet"
        writers[path] = timeline(run)
    figure = race_figure(runs, capacity, parameters.get("workload"), parameters.get("tune"))
    writers.update(figure_writers(figure, out / "allocation", formats))
    summary = summarize_runs(runs, capacity)
    content = {"parameters": {**parameters, "gpu_capacity_milli": capacity},
               "machine": machine(), "versions": versions(), "policies": summary}
    if offline:
        content["offline"] = {
            "allocation_upper_pct": _spread([o.upper_pct for o in offline]),
            "allocation_lower_pct": _spread([o.lower_pct for o in offline]),
            "runs": [asdict(o) for o in offline]}
    write_outputs(out, writers, content)
    told = "" if not offline else (
        f"offline optimum (every pod known at once): allocation between "
        f"{np.median([o.lower_pct for o in offline]):.2f}% (best of FGD and BestFit, largest "
        f"GPU asks first) and {np.median([o.upper_pct for o in offline]):.2f}% (relaxation "
        f"bound), medians over seeds\n")
    plots = ", ".join(str(out / f"allocation.{fmt}") for fmt in formats)
    return (f"{race_table(summary)}\n{told}"
            f"saved {len(runs)} timelines in {out / 'timelines'}, {out / 'summary.json'} and "
            f"{plots}")


def _capacity(parameters: Mapping[str, Any]) -> int:
    trace, _ = load_race(parameters["trace_dir"], parameters["workload"])
    return gpu_capacity_milli(trace.nodes)


def _percent(value: float, sign: str = "%") -> str:
    """``value`` with two decimals, "-" where the runs never reached the point (NaN)."""
    return "-" if value != value else f"{value:.2f}{sign}"


def race_table(summary: Mapping[str, Any]) -> str:
    """The printed table: per policy and arrival point, the median GPU allocation and
    unallocated GPU % with their min–max over seeds, and seconds per run."""
    from schedlab.report import table

    rows = []
    for name, figures in summary.items():
        for point in ARRIVAL_POINTS:
            alloc = figures["allocation_pct"][str(point)]
            unalloc = figures["unallocated_gpu_pct"][str(point)]
            rows.append([name, f"{point}%", _percent(alloc["median"]),
                         _percent(unalloc["median"]),
                         f"{_percent(unalloc['min'], '')}–{_percent(unalloc['max'], '')}"])
        seconds = figures["seconds_per_run"]
        rows.append([name, "s/run", f"{seconds['median']:.2f}", f"max {seconds['max']:.2f}", ""])
    header = ["policy", "arrived", "GPU alloc", "unalloc GPU", "unalloc min–max"]
    return table(rows, header)


def race_figure(runs: Sequence[FgdRun], capacity_milli: int, workload: str | None = None,
                tune: float | None = None) -> Any:
    """The matplotlib figure of ``plot_race`` (close it with ``plt.close``)."""
    from schedlab.report import plain_figures

    with plain_figures() as plt:
        return _race_figure(plt, runs, capacity_milli, workload, tune)


def _race_figure(plt: Any, runs: Sequence[FgdRun], capacity_milli: int, workload: str | None,
                 tune: float | None) -> Any:
    from schedlab.report import policy_colour, policy_style, seed_list

    points = list(range(70, 131))
    seeds = sorted({r.seed for r in runs})
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    for order, name in enumerate(dict.fromkeys(r.policy for r in runs)):
        curves = np.array([list(allocation_at(r.timeline, capacity_milli, points).values())
                           for r in runs if r.policy == name])
        unallocated = 100 - curves
        colour = policy_colour(name)
        with warnings.catch_warnings():  # points past the end of every run are NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            ax.fill_between(points, np.nanmin(unallocated, axis=0),
                            np.nanmax(unallocated, axis=0), color=colour, alpha=0.15,
                            linewidth=0)
            # markers at staggered points, so lines that overlap still show each policy
            ax.plot(points, np.nanmedian(unallocated, axis=0), label=name, color=colour,
                    linewidth=1.5, markersize=4.5, markevery=(order % 5, 5),
                    **policy_style(name))
    ax.set_xlim(75, 130)
    ax.set_ylim(0, 25)
    ax.set_xlabel("Arrived workload (% of GPU capacity)")
    ax.set_ylabel("Unallocated GPU (%)")
    what = [f"workload {workload}" if workload else None,
            f"tune {tune:g}" if tune is not None else None]
    ax.set_title("FGD race: " + ", ".join(w for w in what if w) if any(what) else "FGD race",
                 fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(title=f"median over {len(seeds)} seed{'s' * (len(seeds) != 1)} "
                    f"({seed_list(seeds)});\nband: min–max",
              title_fontsize=8.5, fontsize=8.5, ncols=2, loc="upper right")
    fig.tight_layout()
    return fig


def plot_race(runs: Sequence[FgdRun], capacity_milli: int, path: str | os.PathLike[str],
              formats: Sequence[str] | None = ("png",), workload: str | None = None,
              tune: float | None = None) -> list[Path]:
    """Unallocated GPU % against arrived workload % per policy (the shape of the paper's
    Fig. 9a): the median over seeds, shaded between the min and the max, each policy in its
    colour and style of every figure (``report.policy_colour``, ``report.policy_style``),
    titled with ``workload`` and ``tune`` when given, the legend naming the seeds. Saved as
    ``path`` with the suffix of each of ``formats`` (png, pdf, svg; ``path``'s own suffix, if
    one of them, is replaced), all or none; the same runs give the same bytes. Returns the
    paths written."""
    from schedlab.report import PLOT_FORMATS, figure_writers, write_atomic_all

    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lstrip(".") in PLOT_FORMATS else path
    writers = figure_writers(race_figure(runs, capacity_milli, workload, tune), stem, formats)
    write_atomic_all(writers)
    return list(writers)
