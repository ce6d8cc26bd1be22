"""A workload over time: when each pod arrives and how long it runs, and what happens to the
nodes. ``Trace`` is what the native format (``schedlab.traces.native``) stores and what the
readers of timed sources (manifests with ``schedlab.io/arrival`` and ``schedlab.io/duration``
annotations, the Alibaba GPU trace, the synthetic generator) return.

Times are float seconds from the trace's start (0). A pod's ``duration`` counts from the
moment it starts running (not from its arrival: it may wait in a queue first); NaN means it
runs until the end of the trace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from schedlab.errors import SchedlabError
from schedlab.objects import Workload

EVENT_KINDS: tuple[str, ...] = (
    "node-add", "node-remove", "node-fail", "node-recover", "cordon", "uncordon", "drain",
)
"""The kinds of node events. A node with a ``node-add`` event is absent before it."""


@dataclass(frozen=True)
class NodeEvent:
    """Something that happens to node ``node`` at ``time`` seconds: one of ``EVENT_KINDS``."""

    time: float
    kind: str
    node: str


def _read_only(values: object, name: str, n_pods: int) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    if array.shape != (n_pods,):
        raise SchedlabError(f"trace: {name}: shape {array.shape}: expected ({n_pods},), one "
                            "value per pod")
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Trace:
    """A workload over time.

    workload  all nodes that ever exist, in input order; the pods in arrival order (ties in
              input order)
    arrival   float64 (n_pods,): seconds from the trace start, finite, >= 0, non-decreasing
    duration  float64 (n_pods,): seconds counted from the pod's start, >= 0; NaN = runs until
              the end of the trace
    events    node events sorted by time (ties in input order), on nodes of the workload
    source    where the trace came from (free text, kept in ``meta.json``)

    The arrays are read-only copies. Two traces are equal when their workloads, arrays (NaN
    equal to NaN), events and sources are.
    """

    workload: Workload
    arrival: np.ndarray
    duration: np.ndarray
    events: tuple[NodeEvent, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        n_pods = len(self.workload.pods)
        arrival = _read_only(self.arrival, "arrival", n_pods)
        duration = _read_only(self.duration, "duration", n_pods)
        object.__setattr__(self, "arrival", arrival)
        object.__setattr__(self, "duration", duration)
        object.__setattr__(self, "events", tuple(self.events))
        bad = np.flatnonzero(~(np.isfinite(arrival) & (arrival >= 0)))
        if len(bad):
            raise SchedlabError(f"trace: pod {self.workload.pods[bad[0]].key}: arrival "
                                f"{arrival[bad[0]]!r}: expected finite seconds >= 0")
        if n_pods > 1 and np.any(np.diff(arrival) < 0):
            row = int(np.flatnonzero(np.diff(arrival) < 0)[0]) + 1
            raise SchedlabError(f"trace: pod {self.workload.pods[row].key}: arrival "
                                f"{arrival[row]!r}: expected pods in arrival order (the pod "
                                f"before arrives at {arrival[row - 1]!r})")
        bad = np.flatnonzero(~(np.isnan(duration) | ((duration >= 0) & np.isfinite(duration))))
        if len(bad):
            raise SchedlabError(f"trace: pod {self.workload.pods[bad[0]].key}: duration "
                                f"{duration[bad[0]]!r}: expected finite seconds >= 0 or NaN "
                                "(runs until the end)")
        names = {node.name for node in self.workload.nodes}
        previous = 0.0
        for event in self.events:
            if not (isinstance(event.time, float | int) and math.isfinite(event.time)
                    and event.time >= 0):
                raise SchedlabError(f"trace: event {event}: time: expected finite seconds >= 0")
            if event.kind not in EVENT_KINDS:
                raise SchedlabError(f"trace: event {event}: kind: expected one of "
                                    f"{', '.join(EVENT_KINDS)}")
            if event.node not in names:
                raise SchedlabError(f"trace: event {event}: node: expected a node of the "
                                    "workload")
            if event.time < previous:
                raise SchedlabError(f"trace: event {event}: time: expected events sorted by "
                                    "time")
            previous = event.time

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return (self.workload == other.workload and self.source == other.source
                and self.events == other.events
                and np.array_equal(self.arrival, other.arrival)
                and np.array_equal(self.duration, other.duration, equal_nan=True))

    __hash__ = None  # type: ignore[assignment]

    @staticmethod
    def sorted(workload: Workload, arrival: object, duration: object,
               events: tuple[NodeEvent, ...] | list[NodeEvent] = (), source: str = "") -> Trace:
        """A trace of pods and events given in any order: pods sorted by arrival and events
        by time, both stably (ties keep the given order)."""
        arrival = np.asarray(arrival, dtype=np.float64)
        duration = np.asarray(duration, dtype=np.float64)
        if arrival.shape != (len(workload.pods),):
            raise SchedlabError(f"trace: arrival: shape {arrival.shape}: expected "
                                f"({len(workload.pods)},), one value per pod")
        order = np.argsort(arrival, kind="stable")
        if np.any(order != np.arange(len(order))):
            pods = tuple(workload.pods[i] for i in order)
            workload = Workload(workload.nodes, pods, workload.objects)
            arrival, duration = arrival[order], duration[order]
        ordered = tuple(sorted(events, key=lambda e: e.time))
        return Trace(workload, arrival, duration, ordered, source)
