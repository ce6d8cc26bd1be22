"""kube-scheduler's scheduling queue (``pkg/scheduler/backend/queue``), over pod ids.

Three places, as in kube: ``active`` (a heap in PrioritySort order: higher priority first,
then the earlier queue timestamp, then the pod id, which follows input order), the backoff
queue (pods moved by a cluster event before their backoff expired) and the unschedulable
pods (failed, waiting for a cluster event that may help them). The timestamp of a pod is
when it entered the queue and is reset when a failed pod is put back, as
``QueuedPodInfo.Timestamp``.

Backoff is modelled: 1 s after the first failed attempt, doubling per attempt, at most 10 s
(``podInitialBackoffSeconds``, ``podMaxBackoffSeconds``). A pod leaves the backoff queue at
the exact moment its backoff expires (kube checks every second). Pods left among the
unschedulable pods for 5 minutes are retried (``podMaxInUnschedulablePodsDuration``).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Literal

from numba.extending import register_jitable

from schedlab.objects import PodTemplate

QueueMode = Literal["retry", "fail"]
"""What happens to a pod that fits nowhere: it waits and is retried, or it fails at once."""
INITIAL_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 10.0
MAX_UNSCHEDULABLE_SECONDS = 300.0
"""How long a pod waits among the unschedulable pods before it is retried anyway."""


def helped_by_binds(template: PodTemplate) -> bool:
    """Whether a pod bound elsewhere may make a pod of ``template`` that fits nowhere
    schedulable (kube's AssignedPodAdd moves it): required pod affinity, hard spreading."""
    return bool((template.pod_affinity is not None and template.pod_affinity.required)
                or any(c.when_unsatisfiable == "DoNotSchedule"
                       for c in template.topology_spread_constraints))


@register_jitable
def backoff_seconds(attempts: int) -> float:
    """The backoff after ``attempts`` (>= 1) failed scheduling attempts, seconds (also
    callable from compiled code: ``replay_kernels``)."""
    return min(INITIAL_BACKOFF_SECONDS * 2.0 ** min(attempts - 1, 16), MAX_BACKOFF_SECONDS)


GENERATIONS = 1 << 20
"""The replay's timer (and eviction) tokens pack (pod id, generation modulo this)."""
ACTIVE, BACKOFF, UNSCHEDULABLE = range(3)
"""Where a pod waits in the queue."""


class _Record:
    """What the queue keeps about a pod from ``add`` to ``forget``: its priority, queue
    timestamp (seconds), failed attempts' count, when its backoff ends (seconds) and the
    generation its timers must carry to count."""

    __slots__ = ("priority", "timestamp", "attempts", "backoff_until", "generation")

    def __init__(self, priority: int, timestamp: float) -> None:
        self.priority = priority
        self.timestamp = timestamp
        self.attempts = 0
        self.backoff_until = 0.0
        self.generation = 0


class SchedulingQueue:
    """The queue of pending pods (by id). The replay owns the clock: it calls ``add`` when a
    pod arrives, ``failed`` after an attempt fails, ``move`` on a cluster event that may help,
    and asks ``timers`` (backoff expiries and unschedulable leftovers, as (time, pod id,
    generation)) to schedule; ``expire`` handles a timer when its time comes."""

    def __init__(self) -> None:
        self._active: list[tuple[int, float, int]] = []
        """Heap of (-priority, timestamp, pod id)."""
        self._where: dict[int, int] = {}
        """Pod id → where it waits (ACTIVE, BACKOFF, UNSCHEDULABLE), for the pods in the
        queue (insertion ordered)."""
        self._pods: dict[int, _Record] = {}
        """Pod id → its record, from ``add`` to ``forget``."""
        self._unschedulable: dict[int, None] = {}
        """The unschedulable pods (insertion ordered)."""
        self._bind_helped: dict[int, None] = {}
        """Those of them a pod bound elsewhere may help."""
        self.timers: list[tuple[float, int, int]] = []
        """Timers the replay must schedule: (time, pod id, generation)."""

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, pod: int) -> bool:
        return pod in self._where

    @property
    def active(self) -> int:
        """How many pods are ready to be tried."""
        return len(self._active)

    @property
    def backing_off(self) -> int:
        """How many pods wait for their backoff to expire."""
        return len(self._where) - len(self._active) - len(self._unschedulable)

    def attempts(self, pod: int) -> int:
        record = self._pods.get(pod)
        return 0 if record is None else record.attempts

    def add(self, pod: int, priority: int, now: float) -> None:
        """A pod enters the queue at ``now``, ready to be tried."""
        record = self._pods.get(pod)
        if record is None:
            self._pods[pod] = _Record(priority, now)
        else:
            record.priority = priority
        self._activate(pod, now)

    def _activate(self, pod: int, timestamp: float) -> None:
        self._where[pod] = ACTIVE
        record = self._pods[pod]
        record.timestamp = timestamp
        heapq.heappush(self._active, (-record.priority, timestamp, pod))

    def pop(self) -> int:
        """The next pod to try (the queue must have an active pod); it leaves the queue
        until ``failed`` puts it back."""
        _, _, pod = heapq.heappop(self._active)
        del self._where[pod]
        self._pods[pod].attempts += 1
        return pod

    def pop_all(self) -> list[int]:
        """Every active pod, in order (for a policy that plans a batch)."""
        return [self.pop() for _ in range(len(self._active))]

    def failed(self, pod: int, now: float, helped_by_binds: bool) -> None:
        """An attempt of ``pod`` failed at ``now``: it waits among the unschedulable pods,
        with its timestamp reset and its backoff grown. ``helped_by_binds``: a pod bound
        elsewhere may make it schedulable (required pod affinity, hard spreading)."""
        self._where[pod] = UNSCHEDULABLE
        record = self._pods[pod]
        record.timestamp = now
        record.backoff_until = now + backoff_seconds(record.attempts)
        self._unschedulable[pod] = None
        if helped_by_binds:
            self._bind_helped[pod] = None
        record.generation += 1
        self.timers.append((now + MAX_UNSCHEDULABLE_SECONDS, pod, record.generation))

    def move(self, now: float, binds_only: bool = False) -> None:
        """A cluster event that may help: move the unschedulable pods (with ``binds_only``,
        those a bind may help) to the active queue, or to the backoff queue until their
        backoff expires."""
        waiting = self._bind_helped if binds_only else self._unschedulable
        if waiting:
            for pod in list(waiting):
                self._move(pod, now)

    def _move(self, pod: int, now: float) -> None:
        del self._unschedulable[pod]
        self._bind_helped.pop(pod, None)
        record = self._pods[pod]
        if record.backoff_until <= now:
            self._activate(pod, record.timestamp)
        else:
            self._where[pod] = BACKOFF
            record.generation += 1
            self.timers.append((record.backoff_until, pod, record.generation))

    def expire(self, pod: int, generation: int, now: float) -> None:
        """A timer of ``pod`` is due: its backoff ended (it becomes active) or it stayed
        unschedulable too long (it is moved). Stale timers do nothing."""
        record = self._pods.get(pod)
        if record is None or record.generation != generation or pod not in self._where:
            return
        if self._where[pod] == BACKOFF:
            self._activate(pod, record.timestamp)
        elif self._where[pod] == UNSCHEDULABLE:
            self._move(pod, now)

    def remove(self, pod: int) -> None:
        """Take a pod out of the queue wherever it waits (it was deleted): its timers go
        stale."""
        where = self._where.pop(pod, None)
        self._unschedulable.pop(pod, None)
        self._bind_helped.pop(pod, None)
        record = self._pods.get(pod)
        if record is not None:
            record.generation += 1
        if where == ACTIVE:
            self._active = [e for e in self._active if e[2] != pod]
            heapq.heapify(self._active)

    def forget(self, pod: int) -> None:
        """Drop what the queue keeps about a pod that has left it for good."""
        self._pods.pop(pod, None)

    def records(self) -> list[tuple[int, int, int, float, int, float, int]]:
        """Every pod in the queue, in the order it holds them, as (pod, where: ``ACTIVE``,
        ``BACKOFF`` or ``UNSCHEDULABLE``, priority, timestamp, attempts, backoff end,
        generation), for a compiled run to take the queue over (``sim.replay_runs``); the
        unschedulable pods' order is ``unschedulable()``."""
        pods = self._pods
        return [(pod, where, pods[pod].priority, pods[pod].timestamp, pods[pod].attempts,
                 pods[pod].backoff_until, pods[pod].generation)
                for pod, where in self._where.items()]

    def unschedulable(self) -> list[int]:
        """The unschedulable pods, in the order they became so."""
        return list(self._unschedulable)

    def restore(self, records: list[tuple[int, int, int, float, int, float, int]],
                unschedulable: list[int], bind_helped: set[int]) -> None:
        """Hold exactly ``records`` (as ``records`` gives them) with ``unschedulable`` in
        that order, those in ``bind_helped`` helped by binds: the queue as a compiled run
        left it."""
        self._where, self._pods, self._active = {}, {}, []
        for pod, where, priority, timestamp, attempts, backoff_until, generation in records:
            record = self._pods[pod] = _Record(priority, timestamp)
            record.attempts, record.backoff_until = attempts, backoff_until
            record.generation = generation
            self._where[pod] = where
            if where == ACTIVE:
                self._active.append((-priority, timestamp, pod))
        heapq.heapify(self._active)
        self._unschedulable = dict.fromkeys(unschedulable)
        self._bind_helped = dict.fromkeys(p for p in unschedulable if p in bind_helped)

    def pending(self) -> Iterator[int]:
        """The ids of every pod in the queue."""
        return iter(list(self._where))
