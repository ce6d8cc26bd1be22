"""The FGD race as a person reads it: the files a race leaves (timelines, ``summary.json``,
the figure), the table it prints, and the figure of unallocated GPU against arrived workload.
matplotlib is imported only when a figure is drawn (through ``report.plain_figures``)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from schedlab.gpu import gpu_capacity_milli
from schedlab.sim.fgd.runner import FgdRun, OfflineReference, load_race
from schedlab.sim.fgd.statistics import (
    ARRIVAL_POINTS,
    allocation_at,
    summarize_offline,
    summarize_runs,
)


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
        content["offline"] = summarize_offline(offline)
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
        # (runs of the policy, points): allocated GPU (% of capacity), NaN past a run's end
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
