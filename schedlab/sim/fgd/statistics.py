"""The figures of an FGD race: GPU allocation at each arrival point of a run's timeline, as
the paper's analysis reads it, and per policy their median, min and max over the seeds (with
the seconds per run); the offline references likewise over the seeds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from schedlab.sim.fgd.runner import FgdRun, OfflineReference

ARRIVAL_POINTS = (90, 95, 100, 110, 120, 130)
"""Arrived workload (% of GPU capacity) at which the table reports allocation."""


def allocation_at(timeline: pd.DataFrame, capacity_milli: int,
                  points: Sequence[int] = ARRIVAL_POINTS) -> dict[int, float]:
    """GPU allocation (% of capacity) at each arrived workload in ``points`` (%), as the
    paper's analysis: the mean over the pods whose arrived workload rounds to the point, or
    to a point 1 away when none does; NaN past the end of the run. ``timeline`` has a row
    per pod in arrival order with ``arrived_gpu_milli`` and ``used_gpu_milli`` (milli-GPU, of
    ``capacity_milli``)."""
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


def summarize_offline(offline: Sequence[OfflineReference]) -> dict[str, Any]:
    """The bounds on the offline optimum (% of GPU capacity allocated): the upper and the
    lower one's median, min and max over seeds, and every seed's reference."""
    return {"allocation_upper_pct": _spread([o.upper_pct for o in offline]),
            "allocation_lower_pct": _spread([o.lower_pct for o in offline]),
            "runs": [asdict(o) for o in offline]}
