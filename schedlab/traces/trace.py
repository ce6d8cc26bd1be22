"""A workload over time: when each pod arrives and how long it runs, and what happens to the
nodes. ``Trace`` is what the native format (``schedlab.traces.native``) stores and what the
readers of timed sources (manifests with ``schedlab.io/arrival`` and ``schedlab.io/duration``
annotations, the Alibaba GPU trace, the synthetic generator) return.

Times are float seconds from the trace's start (0). A pod's ``duration`` counts from the
moment it starts running (not from its arrival: it may wait in a queue first); NaN means it
runs until the end of the trace. A pod's ``deletion`` (NaN: never) is when it is deleted
(``metadata.deletionTimestamp``): a pending pod then leaves the queue, a running one
terminates and leaves after its grace period (``TERMINATION_GRACE_SECONDS``) unless its
duration ends first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from schedlab.errors import SchedlabError
from schedlab.objects import PodTemplate, Workload

EVENT_KINDS: tuple[str, ...] = (
    "node-add", "node-remove", "node-fail", "node-recover", "cordon", "uncordon", "drain",
)
"""The kinds of node events. A node with a ``node-add`` event is absent before it."""
TERMINATION_GRACE_SECONDS = 30.0
"""How long a running pod takes to leave once deleted (kube's default
``terminationGracePeriodSeconds``)."""
POD_MANAGEMENT_POLICIES: tuple[str, ...] = ("OrderedReady", "Parallel")
CONTROLLER_KINDS: tuple[str, ...] = (
    "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job",
)


@dataclass(frozen=True)
class Controller:
    """What a replay needs of a workload controller to keep its promises over time.

    kind, namespace, name  the controller (``kind`` one of ``CONTROLLER_KINDS``); its pods
                 are those whose ``owner`` is (kind, name) in ``namespace``
    template     the pod template of the pods it creates later (a DaemonSet's pod for a node
                 that joins, a Job's next pods); None when it creates only replacements
    duration     seconds each pod it creates later runs (NaN: until the end)
    pod_management_policy  a StatefulSet's: "OrderedReady" (pod N only once pods 0..N-1
                 run) or "Parallel"
    parallelism, completions  a Job's (completions None: a work queue, done once a pod
                 succeeds)
    succeeded    a Job's pods that had already succeeded when the trace starts
    """

    kind: str
    namespace: str
    name: str
    template: PodTemplate | None = None
    duration: float = math.nan
    pod_management_policy: str = "OrderedReady"
    parallelism: int = 1
    completions: int | None = None
    succeeded: int = 0

    def __post_init__(self) -> None:
        where = f"trace: controller {self.kind}/{self.namespace}/{self.name}"
        if self.kind not in CONTROLLER_KINDS:
            raise SchedlabError(f"{where}: kind: expected one of {', '.join(CONTROLLER_KINDS)}")
        if self.pod_management_policy not in POD_MANAGEMENT_POLICIES:
            raise SchedlabError(f"{where}: pod_management_policy "
                                f"{self.pod_management_policy!r}: expected OrderedReady or "
                                "Parallel")
        if not (math.isnan(self.duration) or 0 <= self.duration < math.inf):
            raise SchedlabError(f"{where}: duration {self.duration!r}: expected finite seconds "
                                ">= 0 or NaN")
        if math.isnan(self.duration):  # one NaN object, so that equal controllers compare equal
            object.__setattr__(self, "duration", math.nan)
        for name in ("parallelism", "succeeded"):
            if getattr(self, name) < 0:
                raise SchedlabError(f"{where}: {name} {getattr(self, name)}: expected >= 0")
        if self.completions is not None and self.completions < 0:
            raise SchedlabError(f"{where}: completions {self.completions}: expected >= 0")

    @property
    def key(self) -> tuple[str, str, str]:
        return self.kind, self.namespace, self.name


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
    deletion  float64 (n_pods,): when the pod is deleted, seconds >= its arrival; NaN: never
              (None: never for every pod)
    controllers  the workload controllers whose pods the replay keeps over time (unique
              keys)

    The arrays are read-only copies. Two traces are equal when their workloads, arrays (NaN
    equal to NaN), events and sources are.
    """

    workload: Workload
    arrival: np.ndarray
    duration: np.ndarray
    events: tuple[NodeEvent, ...] = ()
    source: str = ""
    deletion: np.ndarray | None = None
    controllers: tuple[Controller, ...] = ()

    def __post_init__(self) -> None:
        n_pods = len(self.workload.pods)
        arrival = _read_only(self.arrival, "arrival", n_pods)
        duration = _read_only(self.duration, "duration", n_pods)
        deletion = _read_only(np.full(n_pods, np.nan) if self.deletion is None
                              else self.deletion, "deletion", n_pods)
        object.__setattr__(self, "arrival", arrival)
        object.__setattr__(self, "duration", duration)
        object.__setattr__(self, "deletion", deletion)
        object.__setattr__(self, "events", tuple(self.events))
        object.__setattr__(self, "controllers", tuple(self.controllers))
        bad = np.flatnonzero(~np.isnan(deletion) & ~(deletion >= arrival))
        if len(bad):
            raise SchedlabError(f"trace: pod {self.workload.pods[bad[0]].key}: deletion "
                                f"{deletion[bad[0]]!r}: expected NaN (never) or seconds >= its "
                                f"arrival {arrival[bad[0]]!r}")
        keys = [c.key for c in self.controllers]
        if len(set(keys)) != len(keys):
            twice = next(k for k in keys if keys.count(k) > 1)
            raise SchedlabError(f"trace: controller {'/'.join(twice)}: expected each "
                                "controller once")
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
        # __post_init__ makes deletion an array (NaN: never)
        assert self.deletion is not None and other.deletion is not None
        return (self.workload == other.workload and self.source == other.source
                and self.events == other.events and self.controllers == other.controllers
                and np.array_equal(self.arrival, other.arrival)
                and np.array_equal(self.duration, other.duration, equal_nan=True)
                and np.array_equal(self.deletion, other.deletion, equal_nan=True))

    @property
    def end(self) -> float:
        """The last arrival, deletion or node event (0 for an empty trace), seconds."""
        times = [0.0, float(self.arrival[-1]) if len(self.arrival) else 0.0]
        assert self.deletion is not None  # __post_init__ makes it an array (NaN: never)
        if not np.isnan(self.deletion).all():
            times.append(float(np.nanmax(self.deletion)))
        if self.events:
            times.append(self.events[-1].time)
        return max(times)

    def sped_up(self, factor: float) -> Trace:
        """The trace with every arrival, deletion and node event time divided by ``factor``
        (> 0), so inter-arrival times shrink and the cluster is loaded ``factor`` times as
        fast; durations are unchanged."""
        if not (isinstance(factor, float | int) and math.isfinite(factor) and factor > 0):
            raise SchedlabError(f"speedup {factor!r}: expected a finite number > 0")
        if factor == 1:
            return self
        events = tuple(NodeEvent(e.time / factor, e.kind, e.node) for e in self.events)
        assert self.deletion is not None  # __post_init__ makes it an array (NaN: never)
        return Trace(self.workload, self.arrival / factor, self.duration, events, self.source,
                     self.deletion / factor, self.controllers)

    __hash__ = None  # type: ignore[assignment]

    @staticmethod
    def sorted(workload: Workload, arrival: object, duration: object,
               events: tuple[NodeEvent, ...] | list[NodeEvent] = (), source: str = "",
               deletion: object = None, controllers: tuple[Controller, ...] = ()) -> Trace:
        """A trace of pods and events given in any order: pods sorted by arrival and events
        by time, both stably (ties keep the given order)."""
        arrival = np.asarray(arrival, dtype=np.float64)
        duration = np.asarray(duration, dtype=np.float64)
        deletion = np.full(len(arrival), np.nan) if deletion is None else np.asarray(
            deletion, dtype=np.float64)
        if arrival.shape != (len(workload.pods),):
            raise SchedlabError(f"trace: arrival: shape {arrival.shape}: expected "
                                f"({len(workload.pods)},), one value per pod")
        order = np.argsort(arrival, kind="stable")
        if np.any(order != np.arange(len(order))):
            pods = tuple(workload.pods[i] for i in order)
            workload = Workload(workload.nodes, pods, workload.objects)
            arrival, duration = arrival[order], duration[order]
            deletion = deletion[order] if deletion.shape == order.shape else deletion
        ordered = tuple(sorted(events, key=lambda e: e.time))
        return Trace(workload, arrival, duration, ordered, source, deletion, controllers)
