"""``run_bench``: several policies, scheduler configurations and seeds on one workload, with
quality and speed side by side (what ``schedlab bench`` prints and saves)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from schedlab.errors import InputError
from schedlab.framework.profile import Profile
from schedlab.objects import Workload
from schedlab.policies import make_policy
from schedlab.report import table
from schedlab.sim import simulate

DEFAULT_POLICIES = ("round-robin", "greedy", "optimal")
DEFAULT_SEEDS = (0, 1, 2)
DEFAULT_CONFIG = "default"
"""The name of the configuration when none is given (kube-scheduler's default profile)."""
ORDER_STREAM = 3
"""A run's arrival order is drawn from the stream [seed, ORDER_STREAM], apart from the
policy's own draws (which come from the seed itself)."""
MAX_SEEDS = 10_000
"""The most seeds one bench takes (``parse_seeds``)."""
Order = Literal["shuffled", "input"]
PERCENT_COLUMNS = ("peak_utilisation",)


def default_trace_dir() -> Path:
    """The bundled default trace (``traces/default`` of the checkout), shipped as package
    data so that an installed schedlab runs ``schedlab bench`` anywhere."""
    return Path(str(resources.files("schedlab") / "data" / "default"))


def parse_seeds(text: str) -> list[int]:
    """Seeds from "7", "1,2,3" or "42-51" (inclusive): integers in 0..2**32-1 written in
    ASCII digits, each at most once, at most ``MAX_SEEDS`` of them."""
    seeds: list[int] = []
    expected = "seeds such as 7, 1,2,3 or 42-51 (integers 0..4294967295)"
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        bounds = [low, high] if dash else [low]
        if not all(b.isascii() and b.isdigit() for b in bounds):
            raise InputError("--seeds", "value", text, expected)
        first, last = int(bounds[0]), int(bounds[-1])
        if last >= 2**32 or first > last:
            raise InputError("--seeds", "value", text, expected)
        if len(seeds) + last - first + 1 > MAX_SEEDS:
            raise InputError("--seeds", "value", text, f"at most {MAX_SEEDS:,} seeds")
        seeds += range(first, last + 1)
    repeated = [seed for seed, count in Counter(seeds).items() if count > 1]
    if repeated:
        raise InputError("--seeds", "value", text, f"each seed once ({repeated[0]} repeats)")
    return seeds


def arrival_order(workload: Workload, seed: int) -> Workload:
    """``workload`` with its pending pods in an order drawn from ``seed`` (the stream
    ``[seed, ORDER_STREAM]``); bound pods first, as they were."""
    pending = workload.pending_pods
    order = np.random.default_rng([seed, ORDER_STREAM]).permutation(len(pending))
    return Workload(workload.nodes, workload.bound_pods + tuple(pending[i] for i in order),
                    workload.objects)


def run_bench(workload: Workload, policies: Sequence[str] = DEFAULT_POLICIES,
              seeds: Sequence[int] = DEFAULT_SEEDS,
              profile: Profile | Mapping[str, Profile] | None = None,
              options: Mapping[str, Mapping[str, Any]] | None = None, *,
              order: Order = "shuffled",
              on_run: Callable[[dict[str, Any]], None] | None = None) -> pd.DataFrame:
    """One row per (config, policy, seed): ``RunResult.record`` of the run (pods, placed,
    unschedulable, nodes_used, peak_utilisation, ``allocation_<resource>`` per resource the
    cluster offers, seconds, pods_per_s, ...) labelled with the configuration's name.

    ``profile`` is one scheduler profile (named ``DEFAULT_CONFIG`` when None, else by its
    ``name``) or several by name, to compare configurations side by side. ``options`` gives
    a policy's constructor options by name (e.g. ``{"optimal": {"time_limit": 30}}``).
    ``order="shuffled"`` (the default) replays each seed's pending pods in an order drawn
    from the seed (``arrival_order``), so that seeds are replicates; ``"input"`` keeps the
    input order, where the seed only breaks ties. ``on_run`` sees each row as it is made.

    With optimal among the policies, every row also has the gaps to what no placement of
    the same snapshot can beat, from optimal's run with the same configuration and seed:
    ``placed_gap`` (its upper bound on pods placed minus the row's placed) and ``nodes_gap``
    (the row's nodes used minus its lower bound on the nodes those pods need; NaN for a run
    placing fewer pods than optimal's, where the bound does not apply)."""
    options = options or {}
    if profile is None or isinstance(profile, Profile):
        name = DEFAULT_CONFIG if profile is None else profile.name
        profiles: Mapping[str, Profile | None] = {name: profile}
    else:
        profiles = profile
    rows = []
    for config, chosen in profiles.items():
        for name in policies:
            for seed in seeds:
                replay = arrival_order(workload, seed) if order == "shuffled" else workload
                policy = make_policy(name, chosen, **options.get(name, {}))
                row = {"config": config, **simulate(replay, policy, seed).record()}
                row["policy"] = name
                rows.append(row)
                if on_run is not None:
                    on_run(row)
    results = pd.DataFrame(rows)
    if "report_placed_upper_bound" in results.columns:
        _add_gaps(results)
    return results


def _add_gaps(results: pd.DataFrame) -> None:
    """``placed_gap`` and ``nodes_gap`` of every row against optimal's run with the same
    configuration and seed (see ``run_bench``)."""
    optimal = results[results["policy"] == "optimal"].set_index(["config", "seed"])
    key = pd.MultiIndex.from_frame(results[["config", "seed"]])
    bound = optimal.reindex(key)
    results["placed_gap"] = bound["report_placed_upper_bound"].to_numpy() - results["placed"]
    nodes_gap = results["nodes_used"] - bound["report_nodes_lower_bound"].to_numpy()
    comparable = results["placed"] >= bound["report_placed"].to_numpy()
    results["nodes_gap"] = nodes_gap.where(comparable)  # NaN: fewer pods than the bound's


QUALITY = ("placed", "unschedulable", "nodes_used", "peak_utilisation", "placed_gap",
           "nodes_gap")


def per_policy(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (config, policy), in run order: the number of seeds, the means over seeds
    of the quality columns (allocation per resource included) and the median pods_per_s."""
    quality = [c for c in results.columns
               if c in QUALITY or c.startswith("allocation_")]
    grouped = results.groupby(["config", "policy"], sort=False)
    summary = grouped[quality].mean()
    summary["pods_per_s"] = grouped["pods_per_s"].median()
    summary.insert(0, "seeds", grouped["seed"].count())
    return summary.reset_index()


def bench_table(results: pd.DataFrame) -> str:
    """The printed table: one line per configuration and policy (allocation columns of
    resources nothing was allocated of are left out; ``results`` keeps them)."""
    summary = per_policy(results)
    allocation = [c for c in summary.columns  # a resource no pod asks for says nothing
                  if c.startswith("allocation_") and (summary[c] != 0).any()]
    columns = ["seeds", "placed", "unschedulable", *allocation, "nodes_used",
               "peak_utilisation", *[c for c in ("placed_gap", "nodes_gap")
                                     if c in summary.columns], "pods_per_s"]
    header = ["config", "policy", *[c.replace("allocation_", "alloc ").replace("_", " ")
                                    .replace("utilisation", "util") for c in columns]]
    percent = {c for c in columns if c in allocation or c in PERCENT_COLUMNS}
    return table(summary[["config", "policy", *columns]], header, percent=percent)


def optimal_note(results: pd.DataFrame) -> str:
    """A line on optimal's runs: statuses over seeds, and why a run was not proven
    optimal (empty without optimal)."""
    runs = results[results["policy"] == "optimal"]
    if runs.empty or "report_status" not in runs.columns:
        return ""
    statuses = runs["report_status"].value_counts()
    told = ", ".join(f"{status} on {count}" for status, count in statuses.items())
    why = []
    if (runs["report_status"] == "feasible").any():
        repaired = runs["report_repaired"].fillna(0).sum()
        why.append("feasible: the time limit ran out before the proof"
                   + (f" or {repaired:.0f} planned pods needed repair" if repaired else "")
                   + " (a longer --time-limit or another --solver may prove it)")
    if (runs["report_status"] == "fallback").any():
        why.append("fallback: no solution within the time limit, Greedy's placement kept")
    return (f"optimal: {told} of {len(runs)} runs; gaps are to its bounds on the same "
            "snapshot (placed: pods no placement can exceed; nodes: fewer nodes cannot hold "
            "the pods placed)" + "".join(f"\n  {w}" for w in why))


def bench_summary(results: pd.DataFrame, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """summary.json's content: parameters, machine, versions and ``results``, one flat record
    per configuration and policy (``per_policy``), labelled by both."""
    from schedlab.report import machine, versions

    return {
        "parameters": dict(parameters),
        "machine": machine(),
        "versions": versions(),
        "results": per_policy(results).to_dict(orient="records"),
    }


def bench_figure(results: pd.DataFrame, title: str) -> Any:
    """Pods placed and cpu allocated per configuration (groups) and policy (bars): the mean
    over seeds, whiskers from the min to the max, each policy in its colour of every schedlab
    figure (``report.policy_colour``); ``title`` names the workload."""
    from schedlab.report import plain_figures

    with plain_figures() as plt:
        return _bench_figure(plt, results, title)


def _bench_figure(plt: Any, results: pd.DataFrame, title: str) -> Any:
    from schedlab.report import policy_colour, seed_list

    configs = list(dict.fromkeys(results["config"]))
    policies = list(dict.fromkeys(results["policy"]))
    width = 0.8 / len(policies)
    panels = [("placed", "Pods placed", 1.0)]
    if "allocation_cpu" in results.columns:
        panels.append(("allocation_cpu", "CPU allocated (%)", 100.0))
    fig, axes = plt.subplots(ncols=len(panels), figsize=(4.0 * len(panels) + 1.5, 4.0), dpi=120,
                             squeeze=False)
    for ax, (column, label, scale) in zip(axes[0], panels, strict=True):
        for i, policy in enumerate(policies):
            mine = results[results["policy"] == policy].groupby("config", sort=False)[column]
            stats = (mine.agg(["mean", "min", "max"]) * scale).reindex(configs)
            # (a mean of equal values may round past them: whiskers never below 0)
            error = np.maximum(np.vstack([stats["mean"] - stats["min"],
                                          stats["max"] - stats["mean"]]), 0.0)
            ax.bar(np.arange(len(configs)) + (i - (len(policies) - 1) / 2) * width,
                   stats["mean"], width, yerr=error, capsize=3, ecolor="#777777", label=policy,
                   color=policy_colour(policy))
        ax.set_xticks(range(len(configs)), configs)
        ax.set_xlabel("scheduler configuration")
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0][-1].legend(title="policy", fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    seeds = sorted(int(s) for s in results["seed"].unique())
    fig.suptitle(f"{title}\nbars: mean over {len(seeds)} seed{'s' * (len(seeds) != 1)} "
                 f"({seed_list(seeds)}); whiskers: min–max", fontsize=9)
    fig.tight_layout()
    return fig


def write_bench(results: pd.DataFrame, out: str | os.PathLike[str],
                parameters: Mapping[str, Any], title: str,
                formats: Sequence[str] | None = ("png",)) -> list[str]:
    """Save a bench in ``out``: ``results.parquet``, ``bench.<format>`` (``bench_figure``)
    for each of ``formats`` and ``summary.json`` (``bench_summary``), all or none; files of
    the previous bench there that this one did not write are deleted (``report
    .write_outputs``). Returns the files written, relative to ``out``."""
    from schedlab.report import figure_writers, write_outputs

    out = Path(out)
    writers: dict[Path, Callable[[str], Any]] = {
        out / "results.parquet": lambda tmp: results.to_parquet(tmp, index=False)}
    writers.update(figure_writers(bench_figure(results, title), out / "bench", formats))
    return write_outputs(out, writers, bench_summary(results, parameters))
