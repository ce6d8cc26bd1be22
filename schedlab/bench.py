"""``run_bench``: several policies and seeds on one workload, with quality and speed side by
side (what ``schedlab bench`` prints and saves)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from schedlab.errors import InputError
from schedlab.framework.profile import Profile
from schedlab.objects import Workload
from schedlab.policies import make_policy
from schedlab.report import table
from schedlab.sim import simulate

DEFAULT_POLICIES = ("greedy", "round-robin", "random")
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
              seeds: Sequence[int] = DEFAULT_SEEDS, profile: Profile | None = None
              ) -> pd.DataFrame:
    """One row per (policy, seed): pods, placed, unschedulable, nodes_used, one
    ``alloc_<resource>`` column per resource the cluster offers, seconds and pods_per_s."""
    rows = []
    for name in policies:
        for seed in seeds:
            result = simulate(workload, make_policy(name, profile), seed)
            summary = result.summary
            rows.append({
                "policy": name, "seed": seed, "pods": summary["pods"],
                "placed": summary["placed"], "unschedulable": summary["unschedulable"],
                "nodes_used": summary["nodes_used"],
                **{f"alloc_{r}": v for r, v in summary["allocation"].items()},
                "seconds": result.seconds, "pods_per_s": result.pods_per_second,
            })
    return pd.DataFrame(rows)


def per_policy(results: pd.DataFrame) -> pd.DataFrame:
    """Per policy: means over seeds of the quality columns, the median of pods_per_s."""
    quality = [c for c in results.columns if c not in ("policy", "seed", "seconds", "pods_per_s")]
    grouped = results.groupby("policy", sort=False)
    summary = grouped[quality].mean()
    summary["pods_per_s"] = grouped["pods_per_s"].median()
    summary["seeds"] = grouped["seed"].count()
    return summary


def bench_table(results: pd.DataFrame) -> str:
    """The printed table: one line per policy."""
    summary = per_policy(results)
    columns = ["placed", "unschedulable", *[c for c in summary.columns if c.startswith("alloc_")],
               "nodes_used", "pods_per_s"]
    def cell(column: str, value: float) -> float | str:
        return f"{100 * value:.1f}%" if column.startswith("alloc_") else float(value)

    rows = [[policy, *[cell(c, summary.loc[policy, c]) for c in columns]]
            for policy in summary.index]
    header = ["policy", *[c.replace("alloc_", "alloc ") for c in columns]]
    return table(rows, header)


def bench_summary(results: pd.DataFrame, parameters: dict[str, Any]) -> dict[str, Any]:
    """summary.json's content: parameters, machine, versions and the per-policy figures."""
    from schedlab.report import machine, versions

    summary = per_policy(results)
    return {
        "parameters": parameters,
        "machine": machine(),
        "versions": versions(),
        "policies": {p: {k: float(v) for k, v in summary.loc[p].items()} for p in summary.index},
    }
