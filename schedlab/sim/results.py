"""What a replay records and hands back: ``ReplayResult`` (pods, decisions, timeline,
summary as pandas and JSON) and ``Recorder``, the replay's bookkeeping behind it."""

from __future__ import annotations

import math
import os
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from schedlab.cluster import ClusterState
from schedlab.fragmentation import Fragmentation, TypicalPods
from schedlab.objects import Node, Pod, PodTemplate
from schedlab.policies.base import Policy
from schedlab.sim.queue import QueueMode
from schedlab.traces.trace import Trace

WAITING, HELD, PENDING, RUNNING, SUCCEEDED, FAILED, EVICTED = range(7)
"""The replay's pod state codes."""
STATES: tuple[str, ...] = (
    "Waiting", "Pending", "Pending", "Running", "Succeeded", "Failed", "Evicted",
)
"""Final state names by the replay's state codes (a held StatefulSet pod is Pending)."""
FINAL_STATES: tuple[str, ...] = ("Succeeded", "Running", "Pending", "Failed", "Evicted")


@dataclass
class ReplayResult:
    """One replay.

    pods       one row per pod incarnation that arrived, in creation order: policy, seed,
               pod ("namespace/name"), incarnation (0 first), owner ("Kind/name" or null),
               arrival, start, end (seconds; null where it did not happen), node (null if
               never placed), state (Succeeded, Running, Pending, Failed, Evicted), reason
               (null when nothing went wrong; the last scheduling failure of a pod still
               Pending), gpus (device indices, GPU pods), wait (start - arrival, seconds;
               null if it never started)
    decisions  every scheduling attempt: time, pod, incarnation, node (null: it failed),
               reason
    timeline   one row per event time (or per ``bucket`` seconds): time, running, pending
               (waiting in the queue or held), nodes (present), nodes_used,
               allocation_<resource> (requested / allocatable of the present nodes),
               and where nodes have GPUs gpu_allocation and gpu_fragmentation_milli (against
               the trace's typical pods)
    summary    policy, seed, queue, counts per final state, mean and p99 wait (seconds),
               end (seconds), mean allocation over time per resource, events (arrivals,
               departures, deletions, evictions, node events), attempts, and the policy's
               report on its last batch if it has one (Optimal's); no timings, so the
               same seed gives the same bytes
    seconds    wall time of the replay loop
    """

    policy: str
    seed: int
    pods: pd.DataFrame
    decisions: pd.DataFrame
    timeline: pd.DataFrame
    summary: dict[str, Any]
    seconds: float

    @property
    def events_per_second(self) -> float:
        events = self.summary["events"]
        return events / self.seconds if self.seconds > 0 else float("inf")

    def figure(self) -> Any:
        """Allocation and pending pods over time (matplotlib figure)."""
        from schedlab.report import plain_figures

        with plain_figures() as plt:
            return _timeline_figure(plt, self)

    def save(self, out: str | os.PathLike[str], formats: tuple[str, ...] = ("png",)
             ) -> list[str]:
        """Write ``pods.parquet``, ``decisions.parquet``, ``timeline.parquet``,
        ``timeline.<format>`` and ``summary.json`` in ``out``, all or none (the files of an
        earlier run there that this one did not write again are deleted). Returns the files
        written, relative to ``out``."""
        from schedlab.report import figure_writers, write_outputs

        out = Path(out)
        writers: dict[Path, Callable[[str], Any]] = {
            out / f"{name}.parquet": _parquet_writer(frame)
            for name, frame in (("pods", self.pods), ("decisions", self.decisions),
                                ("timeline", self.timeline))}
        writers.update(figure_writers(self.figure(), out / "timeline", formats))
        return write_outputs(out, writers, self.summary)


def _parquet_writer(frame: pd.DataFrame) -> Callable[[str], None]:
    return lambda tmp: frame.to_parquet(tmp, index=False)


def _timeline_figure(plt: Any, result: ReplayResult) -> Any:
    from schedlab.report import policy_colour

    timeline = result.timeline
    hours = timeline["time"] / 3600.0
    fig, (top, bottom) = plt.subplots(nrows=2, sharex=True, figsize=(7.0, 5.0), dpi=120)
    colour = policy_colour(result.policy)
    styles = ["-", "--", ":", "-."]
    columns = [c for c in timeline.columns if c.startswith("allocation_")]
    if "gpu_allocation" in timeline.columns:
        columns.append("gpu_allocation")
    columns = [c for c in columns if (timeline[c] > 0).any()] or columns[:1]  # used ones
    for i, column in enumerate(columns):
        name = column.removeprefix("allocation_").replace("gpu_allocation", "gpu")
        top.step(hours, timeline[column] * 100.0, where="post", color=colour,
                 linestyle=styles[i % len(styles)], label=name)
    top.set_ylabel("allocated (%)")
    top.set_ylim(0, 105)
    top.legend(title="resource", fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    top.grid(alpha=0.3)
    bottom.step(hours, timeline["pending"], where="post", color=colour, label="pending")
    bottom.set_ylabel("pods pending")
    bottom.set_xlabel("time (hours)")
    bottom.grid(alpha=0.3)
    fig.suptitle(f"{result.policy}, seed {result.seed}: allocation and pending pods over time",
                 fontsize=9)
    fig.tight_layout()
    return fig


class ReplayLog(Protocol):
    """What ``Recorder`` reads of the replay it keeps the books of (``sim.replay.Replay``):
    the run's labels, the clock, and per pod incarnation (the id) its columns."""

    trace: Trace
    policy: Policy
    seed: int
    mode: QueueMode
    nodes: tuple[Node, ...]
    now: float
    events: int
    pending: int
    running: dict[int, None]
    pods: list[Pod]
    status: array[int]
    arrival: array[float]
    start: array[float]
    end: array[float]
    node: array[int]
    incarnation: array[int]
    reason: list[str | None]
    gpus: dict[int, tuple[int, ...]]


class Recorder:
    """The replay's bookkeeping: scheduling attempts, the figures of the timeline kept up
    to date bind by bind (no rescans), and the final tables."""

    def __init__(self, replay: ReplayLog, bucket: float | None) -> None:
        self.replay = replay
        self.bucket = bucket
        self._time, self._pod, self._node = array("d"), array("q"), array("q")
        self._reason = array("q")
        self._reasons: dict[str | None, int] = {None: -1}
        self._rows: list[tuple[Any, ...]] = []
        self._last = 0.0
        self._next_sample = 0.0
        self._area: np.ndarray | None = None
        """Per resource: the integral of its allocation over time, up to the last snapshot."""
        self._requested_time: list[float] = []
        """Per resource: the integral of its requested amount since the last snapshot (whose
        allocatable is fixed: ``_fold`` divides once). Python floats, as ``requested`` is
        Python ints: a few resources cost less so than as arrays, with the same sums."""
        self.requested: list[int] = []
        """Per resource: what the bound pods request in all."""
        self._requests: dict[int, tuple[PodTemplate, tuple[tuple[int, int], ...]]] = {}
        """id(pod template) → (the template, kept alive so that its id names it, its non-zero
        requests as (resource column, amount) pairs)."""
        gpu_nodes = any(n.gpus for n in replay.trace.workload.nodes)
        pods = replay.trace.workload.pods
        self.typical = TypicalPods.of(pods) if gpu_nodes and any(
            p.template.gpu is not None for p in pods) else None
        self.gpu = gpu_nodes

    # ------------------------------------------------------------------ state figures
    def snapshot(self, state: ClusterState) -> None:
        """A new cluster view: recount its figures."""
        if self._area is not None:
            self._fold()
        self.state = state
        self.requested = state.requested.sum(axis=0).tolist()
        self._requests = {}  # (the resource columns are the state's)
        self.allocatable = state.allocatable.sum(axis=0)
        self._all_allocatable = bool((self.allocatable > 0).all())
        self._pods_on: list[int] = state.pod_count.tolist()
        """Pods bound per node of the state (as ``state.pod_count``, read faster)."""
        self.nodes_used = int((state.pod_count > 0).sum())
        self.gpu_capacity = int(state.gpu_count.sum()) * 1000
        self.gpu_used = self.gpu_capacity - int(state.gpu_free.sum())
        if self._area is None:
            self._area = np.zeros(len(self.allocatable))
            self._requested_time = [0.0] * len(self.allocatable)

    def _fold(self) -> None:
        """Add the allocation integral since the last snapshot to ``_area``."""
        assert self._area is not None
        self._area += np.divide(np.array(self._requested_time), self.allocatable,
                                out=np.zeros(len(self._area)), where=self.allocatable > 0)
        self._requested_time = [0.0] * len(self._requested_time)

    def _requests_of(self, pod: Pod) -> tuple[tuple[int, int], ...]:
        """The pod's non-zero requests as (resource column, amount) pairs."""
        entry = self._requests.get(id(pod.template))
        if entry is None:
            requested = self.state.requests_of(pod).requested.tolist()
            entry = self._requests[id(pod.template)] = (pod.template, tuple(
                (k, amount) for k, amount in enumerate(requested) if amount))
        return entry[1]

    def bound(self, pod: Pod, node: int) -> None:
        """``pod`` was bound to node ``node`` (index in the state)."""
        requested = self.requested
        for k, amount in self._requests_of(pod):
            requested[k] += amount
        self._pods_on[node] += 1
        self.nodes_used += self._pods_on[node] == 1
        gpu = pod.template.gpu
        if gpu is not None:
            self.gpu_used += gpu.count * gpu.milli

    def unbound(self, pod: Pod, node: int) -> None:
        """``pod`` left node ``node`` (index in the state)."""
        requested = self.requested
        for k, amount in self._requests_of(pod):
            requested[k] -= amount
        self._pods_on[node] -= 1
        self.nodes_used -= self._pods_on[node] == 0
        gpu = pod.template.gpu
        if gpu is not None:
            self.gpu_used -= gpu.count * gpu.milli

    # ------------------------------------------------------------------ compiled runs
    @property
    def next_row(self) -> float:
        """When the next timeline row is due (with a bucket)."""
        return self._next_sample

    def integrals(self) -> tuple[float, list[int], list[float]]:
        """(the time the allocation is integrated to, per resource what the bound pods
        request, its integral over time since the last snapshot), for a compiled run of
        the replay (``sim.replay_runs``) to go on with."""
        return self._last, self.requested, self._requested_time

    @property
    def rows_in_runs(self) -> bool:
        """Whether compiled runs may replay instants (``sim.replay_runs``): they make the
        timeline's rows unless these carry GPU fragmentation (``typical``), which the
        replay works out per row; then rows must come per bucket, runs stopping before
        each (``run_horizon``)."""
        return self.typical is None or bool(self.bucket)

    @property
    def run_horizon(self) -> float:
        """The instant compiled runs stop before, for a row the replay makes (inf: none)."""
        return self._next_sample if self.typical is not None and self.bucket else math.inf

    def take_rows(self, rows: np.ndarray, requested: np.ndarray) -> None:
        """A compiled run's timeline rows, one per instant: float64 (k, 4) time, pods running
        and pending, nodes used, and int64 (k, n_resources) what the bound pods requested
        then."""
        if not len(rows):
            return
        if self._all_allocatable:
            allocation = requested / self.allocatable
        else:
            allocation = np.divide(requested, self.allocatable, out=np.zeros(requested.shape),
                                   where=self.allocatable > 0)
        k = len(rows)
        counts = rows[:, 1:].astype(np.int64).T.tolist()
        columns = [rows[:, 0].tolist(), counts[0], counts[1], [self.state.n_nodes] * k,
                   counts[2], *allocation.T.tolist()]
        if self.gpu:
            columns += [[self.gpu_used / self.gpu_capacity if self.gpu_capacity else math.nan]
                        * k, [math.nan] * k]  # (no fragmentation without typical pods)
        self._rows += zip(*columns, strict=True)

    def take_run(self, last: float, next_row: float, requested: list[int],
                 requested_time: list[float],
                 changes: np.ndarray, times: np.ndarray, pods: np.ndarray,
                 nodes: np.ndarray, reasons: list[str | None]) -> None:
        """The books of a compiled run, which integrated the allocation up to ``last``
        itself (``integrals``) and made the rows due before ``next_row`` (``take_rows``,
        unless ``typical``): the nodes (in the state) of its binds and unbinds (int64),
        and its attempts: times (s), pod ids, global node indices (-1: none) and the
        reasons of those that fit nowhere."""
        self._last, self.requested, self._requested_time = last, requested, requested_time
        self._next_sample = next_row
        pods_on, pod_count = self._pods_on, self.state.pod_count
        for node in np.unique(changes).tolist():
            was = pods_on[node]
            pods_on[node] = now = int(pod_count[node])
            self.nodes_used += (now > 0) - (was > 0)
        self._time.frombytes(np.ascontiguousarray(times, dtype=np.float64).tobytes())
        self._pod.frombytes(np.ascontiguousarray(pods, dtype=np.int64).tobytes())
        self._node.frombytes(np.ascontiguousarray(nodes, dtype=np.int64).tobytes())
        codes = self._reasons
        self._reason.extend([codes[r] if r in codes else codes.setdefault(r, len(codes) - 1)
                             for r in reasons])

    def _allocation(self) -> np.ndarray:
        requested = np.array(self.requested, dtype=np.int64)
        if self._all_allocatable:  # (the same quotients, without the mask)
            return requested / self.allocatable
        return np.divide(requested, self.allocatable, out=np.zeros(len(requested)),
                         where=self.allocatable > 0)

    # ------------------------------------------------------------------ over time
    def decision(self, pod_id: int, node: int, reason: str | None) -> None:
        """A scheduling attempt of ``pod_id`` now: node (global index) or -1 with a reason."""
        code = self._reasons.get(reason)
        if code is None:
            code = self._reasons[reason] = len(self._reasons) - 1
        self._time.append(self.replay.now)
        self._pod.append(pod_id)
        self._node.append(node)
        self._reason.append(code)

    def advance(self, now: float) -> None:
        """The clock moves to ``now``: the state since the last event lasted until then."""
        if now > self._last:
            elapsed, requested_time = now - self._last, self._requested_time
            for k, amount in enumerate(self.requested):
                requested_time[k] += amount * elapsed
            self._last = now
        while self.bucket and self._next_sample < now:
            self._row(self._next_sample)
            self._next_sample += self.bucket

    def sample(self, now: float) -> None:
        """The events of ``now`` are done: a timeline row (without a bucket)."""
        if not self.bucket:
            self._row(now)
        elif self._next_sample == now:
            self._row(now)
            self._next_sample += self.bucket

    def _row(self, now: float) -> None:
        replay = self.replay
        row: tuple[Any, ...] = (now, len(replay.running), replay.pending,
                                self.state.n_nodes, self.nodes_used, *self._allocation())
        if self.gpu:
            fragmentation = math.nan if self.typical is None else float(
                Fragmentation.of(self.state, self.typical).total_milli())
            row += (self.gpu_used / self.gpu_capacity if self.gpu_capacity else math.nan,
                    fragmentation)
        self._rows.append(row)

    # ------------------------------------------------------------------ the result
    def result(self, end: float, seconds: float) -> ReplayResult:
        replay = self.replay
        pods = self._pods()
        names = list(self.state.resources.names)
        columns = ["time", "running", "pending", "nodes", "nodes_used",
                   *(f"allocation_{r}" for r in names)]
        if self.gpu:
            columns += ["gpu_allocation", "gpu_fragmentation_milli"]
        timeline = pd.DataFrame(self._rows, columns=columns)
        if not len(timeline):
            timeline = timeline.astype({"time": "float64"})
        decisions = self._decisions()
        waits = pods["wait"].dropna().to_numpy(dtype=float)
        self._fold()
        assert self._area is not None
        counts = pods["state"].value_counts()
        summary: dict[str, Any] = {
            "policy": replay.policy.name, "seed": replay.seed, "queue": replay.mode,
            "pods": len(pods),
            **{state.lower(): int(counts.get(state, 0)) for state in FINAL_STATES},
            "mean_wait": float(waits.mean()) if len(waits) else None,
            "p99_wait": float(np.percentile(waits, 99)) if len(waits) else None,
            "end": end,
            "mean_allocation": {r: float(a / end) if end > 0 else None
                                for r, a, total in zip(names, self._area, self.allocatable,
                                                       strict=True) if total > 0},
            "events": replay.events, "attempts": len(decisions),
        }
        details = {k: v for k, v in replay.policy.details().items() if k != "seconds"}
        if details:
            summary["report"] = details
        labels = {"policy": replay.policy.name, "seed": replay.seed}
        return ReplayResult(replay.policy.name, replay.seed, _labelled(pods, labels),
                            _labelled(decisions, labels), _labelled(timeline, labels), summary,
                            seconds)

    def _pods(self) -> pd.DataFrame:
        replay = self.replay
        status = np.frombuffer(replay.status, dtype=np.int8)
        arrived = np.flatnonzero(status > 0)
        pods = [replay.pods[i] for i in arrived.tolist()]
        start = np.frombuffer(replay.start, dtype=np.float64)[arrived]
        arrival = np.frombuffer(replay.arrival, dtype=np.float64)[arrived]
        node = np.frombuffer(replay.node, dtype=np.int64)[arrived]
        names = np.array([n.name for n in replay.nodes] + [None], dtype=object)
        return pd.DataFrame({
            "pod": _objects([p.key for p in pods]),
            "incarnation": np.frombuffer(replay.incarnation, dtype=np.int64)[arrived],
            "owner": _objects([None if p.owner is None else f"{p.owner.kind}/{p.owner.name}"
                               for p in pods]),
            "arrival": arrival,
            "start": start,
            "end": np.frombuffer(replay.end, dtype=np.float64)[arrived],
            "node": _objects(names[node]),
            "state": _objects(np.array(STATES, dtype=object)[status[arrived]]),
            "reason": _objects([replay.reason[i] for i in arrived.tolist()]),
            "gpus": _objects([list(replay.gpus[i]) if i in replay.gpus else None
                              for i in arrived.tolist()]),
            "wait": start - arrival,
        })

    def _decisions(self) -> pd.DataFrame:
        replay = self.replay
        pod_ids = np.frombuffer(self._pod, dtype=np.int64)
        reasons = np.array(list(self._reasons)[1:] + [None], dtype=object)
        names = np.array([n.name for n in replay.nodes] + [None], dtype=object)
        keys = np.array([p.key for p in replay.pods] + [None], dtype=object)
        incarnation = np.frombuffer(replay.incarnation, dtype=np.int64)
        return pd.DataFrame({
            "time": np.frombuffer(self._time, dtype=np.float64),
            "pod": _objects(keys[pod_ids]),
            "incarnation": incarnation[pod_ids],
            "node": _objects(names[np.frombuffer(self._node, dtype=np.int64)]),
            "reason": _objects(reasons[np.frombuffer(self._reason, dtype=np.int64)]),
        })


def _objects(values: Any) -> pd.Series:
    """A column of Python objects (strings, lists) whose missing values stay None."""
    return pd.Series(values, dtype=object)


def _labelled(frame: pd.DataFrame, labels: dict[str, Any]) -> pd.DataFrame:
    """``frame`` with the run's labels as its first columns."""
    for i, (name, value) in enumerate(labels.items()):
        frame.insert(i, name, value)
    return frame
