"""``run_bench``: several policies and seeds on one workload, with quality and speed side by
side (what ``schedlab bench`` prints and saves)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from schedlab.errors import InputError
from schedlab.framework.profile import Profile
from schedlab.objects import Workload
from schedlab.policies import make_policy
from schedlab.report import table
from schedlab.sim import simulate

DEFAULT_POLICIES = ("round-robin", "greedy", "optimal")
DEFAULT_SEEDS = (0, 1, 2)


def default_trace_dir() -> Path:
    """The bundled default (``traces/default``) of the checkout schedlab runs from."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[1]):
        candidate = root / "traces" / "default"
        if (candidate / "nodes.yaml").is_file():
            return candidate
    raise InputError("traces/default", "nodes.yaml", "missing",
                     "the bundled trace of a schedlab checkout; pass --nodes and --pods")


def parse_seeds(text: str) -> list[int]:
    """Seeds from "7", "1,2,3" or "42-51" (inclusive)."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            low, _, high = part.strip().partition("-")
            seeds += list(range(int(low), int(high or low) + 1))
    except ValueError:
        raise InputError("--seeds", "value", text, "seeds such as 7, 1,2,3 or 42-51") from None
    if not seeds:
        raise InputError("--seeds", "value", text, "at least one seed")
    return seeds


def run_bench(workload: Workload, policies: Sequence[str] = DEFAULT_POLICIES,
              seeds: Sequence[int] = DEFAULT_SEEDS, profile: Profile | None = None,
              options: Mapping[str, Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """One row per (policy, seed): pods, placed, unschedulable, nodes_used, peak_util (the
    highest cpu or memory requested / allocatable of any node), one ``alloc_<resource>``
    column per resource the cluster offers, seconds and pods_per_s. ``options`` gives a
    policy's constructor options by name (e.g. ``{"optimal": {"time_limit": 30}}``).

    With optimal among the policies, every row also has the gaps to what no placement of
    the same snapshot can beat, from optimal's run with the same seed: ``placed_gap`` (its
    upper bound on pods placed minus the row's placed) and ``nodes_gap`` (the row's nodes
    used minus its lower bound on the nodes those pods need; NaN for a run placing fewer
    pods than optimal's, where the bound does not apply), and optimal's rows its ``status``
    (optimal, feasible or fallback)."""
    options = options or {}
    rows = []
    reports: dict[int, dict[str, Any]] = {}
    for name in policies:
        for seed in seeds:
            result = simulate(workload, make_policy(name, profile, **options.get(name, {})),
                              seed)
            summary = result.summary
            if name == "optimal":
                reports[seed] = summary["report"]
            rows.append({
                "policy": name, "seed": seed, "pods": summary["pods"],
                "placed": summary["placed"], "unschedulable": summary["unschedulable"],
                "nodes_used": summary["nodes_used"], "peak_util": summary["peak_utilisation"],
                **{f"alloc_{r}": v for r, v in summary["allocation"].items()},
                "seconds": result.seconds, "pods_per_s": result.pods_per_second,
            })
    results = pd.DataFrame(rows)
    if reports:
        report = results["seed"].map(reports)
        results["placed_gap"] = report.map(lambda r: r["placed_upper_bound"]) - results["placed"]
        nodes_gap = results["nodes_used"] - report.map(lambda r: r["nodes_lower_bound"])
        comparable = results["placed"] >= report.map(lambda r: r["placed"])
        results["nodes_gap"] = nodes_gap.where(comparable)  # NaN: fewer pods than the bound's
        results["status"] = [reports[s]["status"] if p == "optimal" else ""
                             for p, s in zip(results["policy"], results["seed"], strict=True)]
    return results


def per_policy(results: pd.DataFrame) -> pd.DataFrame:
    """Per policy: means over seeds of the quality columns, the median of pods_per_s."""
    quality = [c for c in results.columns
               if c not in ("policy", "seed", "seconds", "pods_per_s", "status")]
    grouped = results.groupby("policy", sort=False)
    summary = grouped[quality].mean()
    summary["pods_per_s"] = grouped["pods_per_s"].median()
    summary["seeds"] = grouped["seed"].count()
    return summary


def bench_table(results: pd.DataFrame) -> str:
    """The printed table: one line per policy."""
    summary = per_policy(results)
    gaps = [c for c in ("placed_gap", "nodes_gap") if c in summary.columns]
    columns = ["placed", "unschedulable", *[c for c in summary.columns if c.startswith("alloc_")],
               "nodes_used", "peak_util", *gaps, "pods_per_s"]

    def cell(column: str, value: float) -> float | str:
        if value != value:  # NaN: the figure does not apply
            return "-"
        percent = column.startswith("alloc_") or column == "peak_util"
        return f"{100 * value:.1f}%" if percent else float(value)

    rows = [[policy, *[cell(c, summary.loc[policy, c]) for c in columns]]
            for policy in summary.index]
    header = ["policy", *[c.replace("alloc_", "alloc ").replace("_", " ") for c in columns]]
    return table(rows, header)


def optimal_note(results: pd.DataFrame) -> str:
    """One line on optimal's runs: statuses over seeds (empty without optimal)."""
    if "status" not in results.columns:
        return ""
    statuses = results.loc[results["policy"] == "optimal", "status"].value_counts()
    told = ", ".join(f"{status} on {count}" for status, count in statuses.items())
    return (f"optimal: {told} of {int(statuses.sum())} seeds; gaps are to its bounds on the "
            "same snapshot (placed: pods no placement can exceed; nodes: fewer nodes cannot "
            "hold the pods placed)")


def bench_summary(results: pd.DataFrame, parameters: dict[str, Any]) -> dict[str, Any]:
    """summary.json's content: parameters, machine, versions and the per-policy figures."""
    from schedlab.report import machine, versions

    summary = per_policy(results)
    figures = {p: {k: float(v) for k, v in summary.loc[p].items()} for p in summary.index}
    if "status" in results.columns:
        figures["optimal"]["status"] = results.loc[results["policy"] == "optimal",
                                                   "status"].tolist()
    return {
        "parameters": parameters,
        "machine": machine(),
        "versions": versions(),
        "policies": figures,
    }
