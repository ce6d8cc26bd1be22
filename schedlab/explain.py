"""``explain``: for one pod, why each node passed or failed and how each plugin scored it."""

from __future__ import annotations

from typing import Any

import numpy as np

from schedlab.framework.profile import Profile
from schedlab.objects import Pod, Workload
from schedlab.policies.greedy import Greedy
from schedlab.report import table
from schedlab.sim.simulate import simulate


def explain(workload: Workload, pod: Pod, profile: Profile | None = None,
            seed: int = 0, in_order: bool = False) -> dict[str, Any]:
    """Bind the workload's already-bound pods (other than ``pod``), then evaluate ``pod``.

    With ``in_order``, the pending pods listed before ``pod`` (all of them if ``pod`` is not
    in the workload) are placed first, in input order, by the same Greedy that explains
    ``pod``: the report is then the decision a run of ``place`` with this profile at
    percentageOfNodesToScore 100 and ``seed`` makes for ``pod``.

    Every node is filtered with every filter plugin (all reasons are listed, not only the
    first filter's), and every feasible node is scored by every score plugin, normalised over
    all feasible nodes (as with percentageOfNodesToScore 100). The selection is Greedy's with
    ``seed``. Returns ``{"pod", "selected", "nodes": [{"name", "feasible", "reasons":
    [{"plugin", "reason"}], "scores": {plugin: {"raw", "normalized", "weighted"}},
    "total"}]}``, nodes in input order; infeasible nodes have no scores and total 0.
    """
    profile = (profile or Profile.default()).with_percentage(100)
    earlier = [p for p in workload.pods if p.key != pod.key and p.template.node_name is not None]
    if in_order:
        pending = workload.pending_pods
        keys = [p.key for p in pending]
        earlier += pending[: keys.index(pod.key) if pod.key in keys else len(pending)]
    greedy = Greedy(profile)
    state = simulate(Workload(workload.nodes, tuple(earlier), workload.objects), greedy, seed,
                     workload_pods=workload.pods).state
    decision = greedy.place(pod)
    evaluation = greedy.evaluator.evaluate(pod)
    everything = np.arange(state.n_nodes)
    feasible = np.flatnonzero(evaluation.feasible)
    rows: list[dict[str, Any]] = [
        {"name": name, "feasible": bool(evaluation.feasible[i]), "reasons": [], "scores": {},
         "total": 0}
        for i, name in enumerate(state.names)
    ]
    for plugin, reason, hit in greedy.evaluator.failures(pod, everything):
        for i in np.flatnonzero(hit):
            rows[i]["reasons"].append({"plugin": plugin, "reason": reason})
    if len(feasible):
        for part in greedy.evaluator.breakdown(evaluation, feasible):
            for j, i in enumerate(feasible):
                rows[i]["scores"][part.plugin.name] = {
                    "raw": int(part.raw[j]), "normalized": int(part.normalized[j]),
                    "weighted": int(part.weighted[j])}
                rows[i]["total"] += int(part.weighted[j])
    selected = None if decision.node is None else state.names[decision.node]
    return {"pod": pod.key, "selected": selected, "nodes": rows}


def explain_table(report: dict[str, Any]) -> str:
    """``explain``'s result as a plain-text table for people."""
    plugins = sorted({p for row in report["nodes"] for p in row["scores"]})
    header = ["node", "feasible", "total", *plugins, "reasons"]
    lines: list[list[str]] = []
    for row in report["nodes"]:
        marker = " *" if row["name"] == report["selected"] else ""
        scores = [
            f"{row['scores'][p]['weighted']} ({row['scores'][p]['raw']})" if p in row["scores"]
            else "-" for p in plugins
        ]
        reasons = "; ".join(f"{r['plugin']}: {r['reason']}" for r in row["reasons"])
        lines.append([row["name"] + marker, "yes" if row["feasible"] else "no",
                      row["total"] if row["feasible"] else "-", *scores, reasons])
    text = table(lines, header)
    chosen = report["selected"] or "none (unschedulable)"
    return (f"pod {report['pod']}: selected {chosen}\n"
            f"scores are weighted (raw); * marks the selected node\n{text}")
