"""``simulate``: bind the already-bound pods, then place every pending pod in input order."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from schedlab.cluster import ClusterState
from schedlab.gpu import default_gpus
from schedlab.metrics import summarize
from schedlab.objects import Pod, Workload
from schedlab.policies.base import Decision, Policy


@dataclass
class RunResult:
    """One run. ``bindings`` has one row per pending pod in input order, columns
    pod ("namespace/name"), node (name, or None), reason (None when placed) and gpus (the
    device indices a GPU pod holds, else None); ``seconds``
    is the wall time of the placement loop alone (with a batch policy's planning)."""

    policy: str
    seed: int
    bindings: pd.DataFrame
    summary: dict[str, Any]
    seconds: float
    state: ClusterState

    @property
    def pods_per_second(self) -> float:
        return len(self.bindings) / self.seconds if self.seconds > 0 else float("inf")

    def record(self) -> dict[str, Any]:
        """The run as one flat record (a row for pandas): policy, seed, the summary's figures
        with nested ones joined by "_" (``allocation_cpu``, ``report_status``, ...), seconds
        and pods_per_s."""
        return {"policy": self.policy, "seed": self.seed, **flatten(self.summary),
                "seconds": self.seconds, "pods_per_s": self.pods_per_second}

    def assignment(self) -> dict[str, str | None]:
        """Pod key → node name (None when unschedulable), for ``schedlab.verify``."""
        return dict(zip(self.bindings["pod"], self.bindings["node"], strict=True))


def flatten(figures: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level, their keys joined by "_"."""
    flat: dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}_"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def prepare(workload: Workload) -> ClusterState:
    """A fresh state for ``workload`` with its already-bound pods bound."""
    state = ClusterState.from_workload(workload)
    for pod in workload.bound_pods:
        assert pod.template.node_name is not None  # a bound pod names its node
        node = state.index[pod.template.node_name]
        state.bind(pod, node, default_gpus(state, pod, node))
    return state


Observer = Callable[[ClusterState, Pod, Decision], None]
"""Called after every pending pod is placed (or fails), with the state after the bind."""


def simulate(workload: Workload, policy: Policy, seed: int = 0,
             observe: Observer | None = None,
             workload_pods: Sequence[Pod] | None = None) -> RunResult:
    """Place ``workload``'s pending pods, in order, with ``policy`` seeded by ``seed``; a pod
    that fits nowhere fails at once (no queue, no retry). ``observe``, if given, sees the
    state after every pod (e.g. ``metrics.GpuTimeline`` records GPU allocation).
    ``workload_pods`` are the pods plugins may learn workload statistics from
    (``ClusterState.workload_pods``, such as FGD's typical pods); default: the workload's.

    Same workload, policy and seed give the same bindings.
    """
    state = prepare(workload)
    if workload_pods is not None:
        state.workload_pods = tuple(workload_pods)
    policy.reset(state, np.random.default_rng(seed))
    pending = workload.pending_pods
    nodes: list[str | None] = []
    reasons: list[str | None] = []
    start = time.perf_counter()
    policy.plan(pending)
    names = state.names
    i = 0
    while i < len(pending):
        if observe is None:  # (runs are placed without Decision objects to observe)
            run = policy.place_run(pending, i)
            if len(run):
                state.bind_many(pending[i:i + len(run)], run)
                nodes.extend([names[node] for node in run.tolist()])
                reasons.extend([None] * len(run))
                i += len(run)
                continue
        pod = pending[i]
        i += 1
        decision = policy.place(pod)
        if decision.node is not None:
            state.bind(pod, decision.node, decision.devices(state, pod))
            nodes.append(names[decision.node])
        else:
            nodes.append(None)
        reasons.append(decision.reason)
        if observe is not None:
            observe(state, pod, decision)
    seconds = time.perf_counter() - start
    gpus = [list(state.gpus_of[p.key]) if p.key in state.gpus_of else None for p in pending]
    bindings = pd.DataFrame(
        {"pod": [p.key for p in pending], "node": nodes, "reason": reasons, "gpus": gpus},
        dtype=object,
    )
    placed = sum(n is not None for n in nodes)
    summary = summarize(state, placed, len(pending) - placed)
    if policy.details():
        summary["report"] = policy.details()
    return RunResult(policy.name, seed, bindings, summary, seconds, state)
