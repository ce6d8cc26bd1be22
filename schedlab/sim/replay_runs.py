"""The replay's fast path: runs of the timeline, many instants of arrivals and departures,
replayed in one compiled call (``replay_kernels.replay_run``) with the decisions, random draws,
timeline and tables of the replay's loop.

A run places pods of *slots*: pod classes (cache keys) the policy places with its compiled
search alone (``Policy.compiled_search``: Greedy with a compiled cycle) whose answers no bind
or unbind of the run changes except on the node it touches. A class is a slot when

- the compiled cycle has planned it (the replay placed one of its pods before), its plan
  needs no plugin per cycle (its CLUSTER scores are skipped or alike on every node; at most
  one PodTopologySpread scoring, whose live tallies the loop keeps up to date), and it fits
  somewhere;
- its pods ask no GPU, name no node, and belong to no StatefulSet or Job (whose controllers
  react to their pods' starts and ends);
- each CLUSTER plugin of its plan is ``tally_driven`` and says which tallies it reads
  (``Plugin.tallies_read``), and none of those is one a slot's pods count in.

A run takes the scheduling queue over (its pods must all be of slots: backoff, the
unschedulable pods, the queue's timers, kube's FitError counted as
``CompiledCycle.rejection_counts`` counts it) when no node is failed. It stops before the next
node event, the next entry of the replay's heap but a queue timer (a deletion, an eviction),
the next timeline row when the replay must make it (GPU fragmentation), and, leaving the rest
of the instant to the replay, at a pod of another class, at a pod that fits nowhere whose
failure it does not word (or any, with ``queue="fail"``), or when its logs are full; stopped
in the middle of an instant's queue run, the replay runs the rest of it (``queue_due``). It
then hands the replay its books: pod states and times, the queue and its timers, the
recorder's attempts, rows and integrals, the cluster state's bound pods, change log and
tallies (``_hand_back``).
``progress`` is called once per run, with the last instant it replayed.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable, Hashable
from typing import Any, Protocol

import numpy as np

from schedlab.cluster import ClusterState, Tally
from schedlab.framework.cycle import fit_error
from schedlab.framework.plugin import Scope
from schedlab.objects import Pod, PodTemplate
from schedlab.policies.base import Policy
from schedlab.policies.compiled import (
    FIT_ONLY,
    NO_GPU_MODEL,
    CompiledCycle,
    CompiledSearch,
    FitReasons,
    Plan,
)
from schedlab.sim.queue import ACTIVE, BACKOFF, QueueMode, SchedulingQueue, helped_by_binds
from schedlab.sim.replay_kernels import (
    BACKING_OFF,
    EPOCH,
    EVENTS,
    FITS_NOWHERE,
    IN_QUEUE_RUN,
    INSTANTS,
    MAX_SPREAD_CONSTRAINTS,
    N_ATTEMPTS,
    N_CHANGES,
    N_COUNTERS,
    N_PENDING,
    N_ROWS,
    N_RUNNING,
    N_UNBINDS,
    NEXT_ARRIVAL,
    NODES_USED,
    NOT_A_SLOT,
    NOT_QUEUED,
    PEAK_BACKING_OFF,
    PEAK_PENDING,
    SEQ,
    START,
    heap_pop,
    heap_push,
    replay_run,
)
from schedlab.sim.results import Recorder
from schedlab.traces.trace import Trace


class ReplayBooks(Protocol):
    """What runs read and write of the replay they run in (``sim.replay.Replay``)."""

    trace: Trace
    policy: Policy

    @property
    def observe(self) -> object: ...

    window: float
    recorder: Recorder
    state: ClusterState
    rng: np.random.Generator
    pods: list[Pod]
    status: array[int]
    arrival: array[float]
    duration: array[float]
    start: array[float]
    end: array[float]
    node: array[int]
    running: dict[int, None]
    pending: int
    departures: Departures
    heap: list[tuple[float, int, int, int, int]]
    python_untimed: int
    queue_due: float | None
    peaks: dict[str, int]
    queue: SchedulingQueue
    mode: QueueMode
    reason: list[str | None]
    next_arrival: int
    seq: int
    events: int
    now: float
    global_array: np.ndarray
    view_of: np.ndarray
    progress: Callable[[float], None] | None

    def is_timer(self, entry: tuple[float, int, int, int, int]) -> bool: ...

    def timer(self, at: float, seq: int, token: int) -> tuple[float, int, int, int, int]: ...

    def take_run(self, binds: np.ndarray, unbinds: np.ndarray, templates: list[PodTemplate],
                 changes: np.ndarray, tally_changes: int) -> None: ...

LOG_CAPACITY = 1 << 17
"""Arrivals (and departures) a run logs at most before it hands the books back."""
UNCLASSIFIED, LEFT_TO_REPLAY = -2, -1
"""``pod_class`` of a pod not yet classified, and of one whose end the replay handles."""
CLASSIFY_AHEAD = LOG_CAPACITY
"""Trace pods classified at a time, ahead of the arrivals."""
_REPLACED_BY_CONTROLLERS = frozenset({"StatefulSet", "Job"})


class Departures:
    """The heap of the running pods' ends as arrays a compiled run shares: (time, sequence
    number, pod id), the earliest (then the lowest sequence) first."""

    def __init__(self, capacity: int) -> None:
        capacity = max(capacity, 16)
        self.times = np.empty(capacity)
        self.seqs = np.empty(capacity, dtype=np.int64)
        self.pods = np.empty(capacity, dtype=np.int64)
        self.size = np.zeros(1, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.size[0])

    def first(self) -> tuple[float, int]:
        """(time, sequence number) of the first entry (not empty)."""
        return float(self.times[0]), int(self.seqs[0])

    def push(self, at: float, seq: int, pod: int) -> None:
        if self.size[0] == len(self.times):
            self.grow()
        heap_push(self.times, self.seqs, self.pods, self.size, at, seq, pod)

    def pop(self) -> int:
        """Take off the first entry; returns its pod."""
        return int(heap_pop(self.times, self.seqs, self.pods, self.size))

    def grow(self) -> None:
        """Double the room (a heap stays a heap)."""
        n = len(self.times)
        for name in ("times", "seqs", "pods"):
            old = getattr(self, name)
            new = np.empty(2 * n, dtype=old.dtype)
            new[:n] = old
            setattr(self, name, new)


class _Rows:
    """Arrays of one length stacked as rows of a 2-D array, each distinct one once."""

    def __init__(self, n: int, dtype: Any) -> None:
        self.n, self.dtype = n, dtype
        self._rows: list[np.ndarray] = []
        self._index: dict[bytes, int] = {}

    def add(self, values: np.ndarray) -> int:
        """The row holding ``values`` (added if new)."""
        values = np.ascontiguousarray(values, dtype=self.dtype)
        key = values.tobytes()
        row = self._index.get(key)
        if row is None:
            row = self._index[key] = len(self._rows)
            self._rows.append(values)
        return row

    def stacked(self) -> np.ndarray:
        """The rows as one array (one row of zeros if none)."""
        return np.stack(self._rows) if self._rows else np.zeros((1, self.n), self.dtype)


class _Slots:
    """The slots of one compiled cycle, their plans' arrays stacked as ``replay_run`` takes
    them, and copies of the tallies they count in or read (``sync_tallies`` and
    ``return_tallies`` keep those and the state's in step)."""

    def __init__(self, runs: ReplayRuns, cycle: CompiledCycle) -> None:
        state = cycle.state
        self.cycle = cycle
        self.planned = cycle.planned
        self.tallies_made = state.tallies_made
        n = state.n_nodes
        self.slot_of = np.full(len(runs.class_pods) + 1, -1, dtype=np.int64)
        candidates = []
        for c, pod in enumerate(runs.class_pods):
            plan = cycle.known_plan(pod)
            if plan is not None and _qualifies(pod, plan):
                candidates.append((c, pod, plan))
        # a class reading a tally some slot's pods count in is not a slot
        counted = {id(t) for _, pod, _ in candidates for t in state.placed_tallies(pod.template)}
        chosen: list[tuple[int, Pod, Plan]] = []
        shapes: set[bytes] = set()
        for c, pod, plan in candidates:
            reads = _tallies_read(state, pod, plan)
            if reads is None or any(id(t) in counted for t in reads):
                continue
            if plan.shape_key not in shapes and len(shapes) == cycle.max_shapes:
                continue  # (the cycle remembers no more shapes at once)
            shapes.add(plan.shape_key)
            chosen.append((c, pod, plan))
        self.classes = [c for c, _, _ in chosen]
        self.pods = [pod for _, pod, _ in chosen]
        self.plans = [plan for _, _, plan in chosen]
        n_slots = len(chosen)
        ints, bools = _Rows(n, np.int64), _Rows(n, bool)
        self.tallies: list[Tally] = []
        tally_row: dict[int, int] = {}
        domain_rows: list[np.ndarray] = []
        domain_row: dict[int, int] = {}
        self.views: list[int] = []
        """Per tally: how many per-domain views it had (a new one makes the slots stale)."""

        def tally(t: Tally) -> int:
            row = tally_row.get(id(t))
            if row is None:
                row = tally_row[id(t)] = len(self.tallies)
                self.tallies.append(t)
                self.views.append(len(t.views))
                for _, _, counts in t.views:
                    domain_row[id(counts)] = len(domain_rows)
                    domain_rows.append(counts)
            return row

        program: list[int] = []
        self.program_at = np.zeros(n_slots, dtype=np.int64)
        for s, pod in enumerate(self.pods):
            self.program_at[s] = len(program)
            own = state.placed_tallies(pod.template)
            program.append(len(own))
            for t in own:
                program += [tally(t), len(t.views)]
                for codes, where, counts in t.views:
                    program += [ints.add(codes), -1 if where is None else bools.add(where),
                                domain_row[id(counts)]]
        self.program = np.array(program or [0], dtype=np.int64)
        self.plain_row = np.array([ints.add(p.static_plain) for p in self.plans], np.int64)
        self.norm_weight = np.array([p.normalized[0] for p in self.plans], dtype=np.int64)
        self.norm_reverse = np.array([p.normalized[2] for p in self.plans], dtype=bool)
        self.norm_row = np.array([ints.add(p.normalized[1]) if p.normalized[0] else 0
                                  for p in self.plans], dtype=np.int64)
        width = max([len(p.shape) for p in self.plans], default=1)
        self.shapes = np.zeros((n_slots, width), dtype=np.int64)
        for s, plan in enumerate(self.plans):
            self.shapes[s, :len(plan.shape)] = plan.shape
        # the first spreading constraints: their arrays, and the tallies' live counts
        self.spread_weight = np.zeros(n_slots, dtype=np.int64)
        self.spread_check = np.zeros(n_slots, dtype=bool)
        self.keys_row = np.zeros(n_slots, dtype=np.int64)
        self.con_first = np.zeros(n_slots, dtype=np.int64)
        self.con_count = np.zeros(n_slots, dtype=np.int64)
        constraints: list[tuple[int, int, bool, int, bool, int, int]] = []
        for s, plan in enumerate(self.plans):
            self.con_first[s] = len(constraints)
            if not plan.spreads:
                continue
            spread, self.spread_weight[s] = plan.spreads[0]
            check, keys, label_codes, domain_codes, live_counts, hostname, skew, n_domains = (
                spread.kernel_arguments())
            self.spread_check[s], self.keys_row[s] = check, bools.add(keys)
            self.con_count[s] = len(label_codes)
            for c, constraint in enumerate(spread.constraints):
                by_node = bool(hostname[c])  # (counts per node, else per domain)
                row = tally(constraint.tally)  # (which stacks its per-domain counts too)
                if not by_node:
                    row = domain_row[id(live_counts[c])]
                constraints.append((ints.add(label_codes[c]), ints.add(domain_codes[c]),
                                    by_node, row, by_node, int(skew[c]), int(n_domains[c])))
        constraints.append((0, 0, True, 0, False, 1, 1))  # (the unread dummy of the last)
        columns = list(zip(*constraints, strict=True))
        self.con_codes, self.con_domains = (np.array(columns[i], np.int64) for i in (0, 1))
        self.con_node_counts = np.array(columns[2], dtype=bool)
        self.con_counts = np.array(columns[3], dtype=np.int64)
        self.con_hostname = np.array(columns[4], dtype=bool)
        self.con_skew, self.con_n_domains = (np.array(columns[i], np.int64) for i in (5, 6))
        self.int_rows, self.bool_rows = ints.stacked(), bools.stacked()
        self.tally_node = np.zeros((max(len(self.tallies), 1), n), dtype=np.int64)
        self._domain_arrays = domain_rows
        self.tally_domains = np.zeros(
            (max(len(domain_rows), 1), max([len(d) for d in domain_rows], default=1)),
            dtype=np.int64)
        self._synced = [-1] * len(self.tallies)
        """Per tally: its version when ``tally_node``, ``tally_domains`` last matched it."""
        self._views_of = [[domain_row[id(counts)] for _, _, counts in t.views]
                          for t in self.tallies]
        # per slot and run
        self.priority = np.array([p.template.priority for p in self.pods], dtype=np.int64)
        self.counted = np.array([bool(state.placed_tallies(p.template)) for p in self.pods],
                                dtype=bool)
        n_resources = len(state.resources.names)
        requests = [state.requests_of(p) for p in self.pods]
        self.requested = np.array([r.requested for r in requests], dtype=np.int64).reshape(
            n_slots, n_resources)
        self.nonzero = np.array([r.nonzero for r in requests], dtype=np.int64).reshape(
            n_slots, n_resources)
        self.masks = np.zeros((n_slots, n), dtype=bool)
        self._masks_of: list[np.ndarray | None] = [None] * n_slots
        self.cache_row = np.zeros(n_slots, dtype=np.int64)
        # wording failures as ``CompiledCycle.rejection_counts`` (``refresh``)
        evaluator = cycle.evaluator
        self.static_counts = [evaluator.static_rejections(p)[0] for p in self.pods]
        undecided = [evaluator.static_rejections(p)[1] for p in self.pods]
        self.und_count = np.array([len(u) for u in undecided], dtype=np.int64)
        self.und_first = np.concatenate(([0], np.cumsum(self.und_count)[:-1])).astype(np.int64)
        self.undecided = (np.concatenate(undecided).astype(np.int64) if n_slots
                          else np.zeros(0, dtype=np.int64))
        self.words = np.zeros(n_slots, dtype=bool)
        self.records: list[FitReasons | None] = [None] * n_slots
        self.reason_row = np.zeros(n_slots, dtype=np.int64)
        width = max([len(p.fit[0]) + 4 for p in self.plans], default=4)
        self.reason_counts = np.zeros((n_slots, width), dtype=np.int64)
        self.reason_synced = np.zeros(n_slots, dtype=np.int64)
        self._messages: dict[tuple[int, bytes], str] = {}

    def stale(self, cycle: CompiledCycle) -> bool:
        """Whether the slots must be made again: a new cycle, new classes planned, new
        tallies or per-domain views."""
        return (cycle is not self.cycle or cycle.planned != self.planned
                or cycle.state.tallies_made != self.tallies_made
                or any(len(t.views) != v for t, v in zip(self.tallies, self.views,
                                                         strict=True)))

    def refresh(self) -> None:
        """Before a run: each slot's mask and row of remembered nodes brought up to date
        (the plugins' answers in sync with the state), the slots whose CLUSTER scores are
        not alike on every node now switched off, and the copies of the tallies the
        replay changed since made again."""
        cycle = self.cycle
        for s, (c, pod, plan) in enumerate(zip(self.classes, self.pods, self.plans,
                                               strict=True)):
            mask = cycle.mask(plan, pod)
            if mask is not self._masks_of[s]:
                self._masks_of[s] = mask
                self.masks[s] = mask
            self.cache_row[s] = cycle.cache_row(plan)
            on = all(_constant(cycle, plugin, answer, pod) for plugin, _, answer in plan.rest)
            self.slot_of[c] = s if on else -1
            found = cycle.reasons_record(pod)
            record = self.records[s] = None if found is None else found[1]
            self.words[s] = record is not None
            if record is not None:
                self.reason_row[s] = record.row
                self.reason_counts[s, :len(record.counts)] = record.counts
                self.reason_synced[s] = record.synced
        for row, tally in enumerate(self.tallies):
            if tally.version != self._synced[row]:
                self._synced[row] = tally.version
                self.tally_node[row] = tally.per_node
                for domain_row in self._views_of[row]:
                    counts = self._domain_arrays[domain_row]
                    self.tally_domains[domain_row, :len(counts)] = counts

    def return_reasons(self) -> None:
        """After a run: the classes' ``FitReasons`` given the counts it kept."""
        for s, record in enumerate(self.records):
            if record is not None:
                record.counts[:] = self.reason_counts[s, :len(record.counts)]
                record.synced = int(self.reason_synced[s])

    def message(self, s: int, counts: np.ndarray) -> str:
        """kube's FitError for a pod of slot ``s`` whose reasons a run counted."""
        key = (s, counts.tobytes())
        message = self._messages.get(key)
        if message is None:
            cycle = self.cycle
            width = len(self.plans[s].fit[0]) + 4
            message = self._messages[key] = fit_error(
                cycle.worded(self.pods[s], self.plans[s], self.static_counts[s],
                             counts[:width]), cycle.state.n_nodes)
        return message

    def return_tallies(self, changes: np.ndarray) -> None:
        """After a run that changed tally ``row`` ``changes[row]`` times: the state's
        tallies given the copies' counts and their versions moved on."""
        for row in np.flatnonzero(changes).tolist():
            tally = self.tallies[row]
            tally.per_node[:] = self.tally_node[row]
            for domain_row in self._views_of[row]:
                counts = self._domain_arrays[domain_row]
                counts[:] = self.tally_domains[domain_row, :len(counts)]
            tally.version += int(changes[row])
            self._synced[row] = tally.version


def _qualifies(pod: Pod, plan: Plan) -> bool:
    """What makes a planned class a slot whatever the cluster (module docstring)."""
    template = pod.template
    if (template.gpu is not None or template.node_name is not None or plan.fits_nowhere
            or plan.cluster_plain or len(plan.spreads) > 1
            or (pod.owner is not None and pod.owner.kind in _REPLACED_BY_CONTROLLERS)):
        return False
    if plan.spreads:
        spread = plan.spreads[0][0]
        spread.kernel_arguments()
        if not spread.live or len(spread.constraints) > MAX_SPREAD_CONSTRAINTS:
            return False
    return all(plugin.scope is Scope.CLUSTER and not plugin.candidate_dependent
               for plugin, _, _ in plan.rest)


def _tallies_read(state: Any, pod: Pod, plan: Plan) -> list[Tally] | None:
    """The tallies the class's CLUSTER filters and scores read (None: some plugin does not
    say)."""
    read: list[Tally] = []
    for plugin in [p for p, _ in plan.filters] + [p for p, _, _ in plan.rest]:
        tallies = plugin.tallies_read(state, pod) if plugin.tally_driven else None
        if tallies is None:
            return None
        read += tallies
    return read


def _constant(cycle: CompiledCycle, plugin: Any, answer: Any, pod: Pod) -> bool:
    """Whether a per-cycle CLUSTER score adds the same to every candidate now (it skipped
    the pod, or scored every node alike)."""
    cycle.evaluator.sync(answer, plugin, False, pod)
    return bool(answer.skipped or answer.alike)


class ReplayRuns:
    """The compiled runs of one replay (``of``): its classes and slots, and ``run``."""

    def __init__(self, replay: ReplayBooks) -> None:
        self.replay = replay
        self.class_pods: list[Pod] = []
        """Per class: a pod of it."""
        self._class_helped: list[bool] = []
        self._class_of_key: dict[Hashable, int] = {}
        self._class_of_ids: dict[tuple[int, int], int] = {}
        n_pods = len(replay.pods)
        self.pod_class = array("q", [UNCLASSIFIED]) * n_pods
        """Per pod id: its class (``UNCLASSIFIED``, ``LEFT_TO_REPLAY``)."""
        self._helped = array("b", [0]) * n_pods
        """Per pod id: a bind may help it (``sim.queue.helped_by_binds``), once classified."""
        self._classified = 0
        """Trace pods classified so far (in arrival order)."""
        self._slots: _Slots | None = None
        self._counters = np.zeros(N_COUNTERS, dtype=np.int64)
        self._clock = np.zeros(5)
        self._queue = _QueueArrays(n_pods)
        rows = 2 * LOG_CAPACITY if replay.recorder.typical is None else 0  # (else GPU rows)
        n_resources = len(replay.state.resources.names)
        self._logs = (np.empty((LOG_CAPACITY, 3), dtype=np.int64), np.empty(LOG_CAPACITY),
                      np.empty((LOG_CAPACITY, 1), dtype=np.int64),
                      np.empty((LOG_CAPACITY, 2), dtype=np.int64),
                      np.empty(2 * LOG_CAPACITY, dtype=np.int64), np.empty((rows, 4)),
                      np.empty((rows, n_resources), dtype=np.int64))
        self._stopped_at = math.nan
        """The instant the last run stopped at, leaving it to the replay."""

    @classmethod
    def of(cls, replay: ReplayBooks) -> ReplayRuns | None:
        """The runs of ``replay``, or None where they cannot be: a policy without a compiled
        search, an observer, a scheduling window, or a timeline row after every instant
        with GPU figures (which runs do not work out)."""
        if (replay.policy.compiled_search() is None or replay.observe is not None
                or replay.window or not replay.recorder.rows_in_runs):
            return None
        return cls(replay)

    # ------------------------------------------------------------------ classes
    def new_pod(self, pod_id: int, pod: Pod) -> None:
        """A controller made pod ``pod_id`` (trace pods are classified ahead of arrivals)."""
        assert pod_id == len(self.pod_class)
        self.pod_class.append(UNCLASSIFIED)
        self._helped.append(0)
        self._classify(pod_id, pod)

    def _classify(self, pod_id: int, pod: Pod) -> None:
        self._classify_all(range(pod_id, pod_id + 1))

    def _class_of(self, pod: Pod) -> int:
        """The pod's class (its cache key's), numbered on first sight."""
        c = self._class_of_key.get(pod.cache_key)
        if c is None:
            c = self._class_of_key[pod.cache_key] = len(self.class_pods)
            self.class_pods.append(pod)
            self._class_helped.append(helped_by_binds(pod.template))
        self._class_of_ids[id(pod.template), id(pod.owner)] = c
        return c

    def _classify_all(self, pod_ids: range) -> None:
        """Classify the pods ``pod_ids`` not classified yet (looked up by the ids of their
        template and owner, cheaper to hash than their cache key)."""
        pods, pod_class, helped = self.replay.pods, self.pod_class, self._helped
        class_helped, known = self._class_helped, self._class_of_ids.get
        for pod_id in pod_ids:
            if pod_class[pod_id] == UNCLASSIFIED:
                pod = pods[pod_id]
                c = known((id(pod.template), id(pod.owner)))
                if c is None:
                    c = self._class_of(pod)
                pod_class[pod_id] = c
                helped[pod_id] = class_helped[c]

    def _classify_ahead(self, next_arrival: int, n_trace: int) -> None:
        end = min(max(next_arrival, self._classified) + CLASSIFY_AHEAD, n_trace)
        self._classify_all(range(self._classified, end))
        self._classified = max(self._classified, end)

    def bound(self, pod_id: int) -> None:
        """The replay bound a pod: classify it, for its end."""
        if self.pod_class[pod_id] == UNCLASSIFIED:
            self._classify(pod_id, self.replay.pods[pod_id])

    def terminating(self, pod_id: int) -> None:
        """A running pod is being deleted: the replay handles its end."""
        self.pod_class[pod_id] = LEFT_TO_REPLAY

    # ------------------------------------------------------------------ a run
    def run(self, now: float, horizon: float, until: float) -> bool:
        """Replay, from the replay's next instant ``now``, the instants before ``horizon``
        (and before the replay's heap's next entry that is not a queue timer) and not after
        ``until`` that runs can; the replay goes on from where they stop. Returns whether
        anything was replayed."""
        if now == self._stopped_at:
            return False  # (it stopped at this instant: the replay handles it)
        replay = self.replay
        search = replay.policy.compiled_search()
        if search is None:  # (a view of no node: the policy has no compiled cycle)
            return False
        n_trace = len(replay.trace.workload.pods)
        self._classify_ahead(replay.next_arrival, n_trace)
        slots = self._slots_of(search)
        if not len(slots.classes):
            return False
        slots.refresh()
        if not self._next_is_placed(slots, now, n_trace):
            return False
        records = replay.queue.records()
        pod_class = self.pod_class
        if any(pod_class[r[0]] < 0 or slots.slot_of[pod_class[r[0]]] < 0 for r in records):
            return False  # (a pod of another class waits)
        departures = replay.departures
        if 2 * len(departures) > len(departures.times):
            departures.grow()
        queue = self._queue
        queue.load(records, replay.queue.unschedulable(), len(replay.pods),
                   self._take_timers(replay), replay.next_arrival)
        if replay.heap:
            horizon = min(horizon, replay.heap[0][0])
        clock, counters, recorder = self._clock, self._counters, replay.recorder
        last, requested, requested_time = recorder.integrals()
        clock[:] = (last, horizon, until, recorder.next_row, recorder.bucket or 0.0)
        state, cycle = replay.state, slots.cycle
        counters[:] = 0
        counters[NEXT_ARRIVAL] = replay.next_arrival
        counters[START] = replay.policy.next_start_node_index  # type: ignore[attr-defined]
        counters[SEQ] = replay.seq + 1
        counters[N_RUNNING], counters[NODES_USED] = len(replay.running), recorder.nodes_used
        counters[N_PENDING], counters[EPOCH] = replay.pending, state.epoch
        counters[BACKING_OFF] = queue.backing_off
        total_requested = np.array(requested, dtype=np.int64)
        integral = np.array(requested_time, dtype=np.float64)
        tally_changes = np.zeros(len(slots.tallies), dtype=np.int64)
        status = np.frombuffer(replay.status, dtype=np.int8)
        start = np.frombuffer(replay.start)
        end = np.frombuffer(replay.end)
        node = np.frombuffer(replay.node, dtype=np.int64)
        classes = np.frombuffer(pod_class, dtype=np.int64)
        helped = np.frombuffer(self._helped, dtype=np.int8).view(bool)
        logs = self._logs
        if logs[2].shape[1] < slots.reason_counts.shape[1]:
            logs = self._logs = (*logs[:2], np.empty((LOG_CAPACITY,
                                                       slots.reason_counts.shape[1]),
                                                      dtype=np.int64), *logs[3:])
        try:
            stopped = replay_run(
                clock, counters, n_trace,
                (np.frombuffer(replay.arrival), np.frombuffer(replay.duration), status, start,
                 end, node, classes, helped),
                (slots.slot_of, slots.priority, slots.requested, slots.nonzero, slots.masks,
                 slots.int_rows, slots.bool_rows, slots.plain_row, slots.shapes,
                 slots.cache_row, slots.norm_weight, slots.norm_row, slots.norm_reverse,
                 slots.spread_weight, slots.spread_check, slots.keys_row, slots.con_first,
                 slots.con_count, slots.con_codes, slots.con_domains, slots.con_node_counts,
                 slots.con_counts, slots.con_hostname, slots.con_skew, slots.con_n_domains,
                 slots.program, slots.program_at, slots.words, slots.und_first,
                 slots.und_count, slots.undecided, slots.reason_row, slots.reason_counts,
                 slots.reason_synced, np.full(len(slots.classes), -1, dtype=np.int64)),
                (slots.tally_node, slots.tally_domains, tally_changes),
                (state.node_version, state.pod_count, state.allowed_pods, state.requested,
                 state.allocatable, state.nonzero_requested, cycle.store, cycle.buffers,
                 cycle.changed_at(), cycle.reason_bits, state.gpu_free, replay.global_array,
                 replay.view_of, FIT_ONLY, NO_GPU_MODEL),
                (departures.times, departures.seqs, departures.pods, departures.size),
                queue.arrays, (*logs, total_requested, integral),
                bool(replay.python_untimed), replay.mode == "retry", search.to_find,
                replay.rng if search.random_ties else 0)
        finally:  # (the arrays must not be resized while viewed)
            del status, start, end, node, classes, helped
        self._stopped_at = clock[0] if stopped in (NOT_A_SLOT, FITS_NOWHERE) else math.nan
        began = self._clock[0] > last  # (an instant begun: its allocation integrated)
        self._hand_back(slots, total_requested, integral, tally_changes)
        return bool(began or counters[EVENTS] or counters[INSTANTS] or counters[N_ATTEMPTS]
                    or counters[IN_QUEUE_RUN])

    def _slots_of(self, search: CompiledSearch) -> _Slots:
        slots = self._slots
        if slots is None or slots.stale(search.cycle):
            slots = self._slots = _Slots(self, search.cycle)
        elif len(slots.slot_of) <= len(self.class_pods):
            grown = np.full(len(self.class_pods) + 1, -1, dtype=np.int64)
            grown[:len(slots.slot_of)] = slots.slot_of
            slots.slot_of = grown
        return slots

    def _next_is_placed(self, slots: _Slots, now: float, n_trace: int) -> bool:
        """Whether a run would replay something: the queue holds pods, or the arrival or
        departure due first is of a slot (else the replay handles that instant)."""
        replay = self.replay
        if len(replay.queue):
            return True
        departures = replay.departures
        if len(departures) and departures.first()[0] <= now:
            c = self.pod_class[int(departures.pods[0])]
        elif replay.next_arrival < n_trace:
            c = self.pod_class[replay.next_arrival]
        else:
            return False
        return c >= 0 and slots.slot_of[c] >= 0

    @staticmethod
    def _take_timers(replay: ReplayBooks) -> list[tuple[float, int, int, int, int]]:
        """The queue timers first in the replay's heap (before any other entry), taken off
        it: the run acts on them as the replay would and gives back the rest."""
        heap, is_timer = replay.heap, replay.is_timer
        taken = []
        while heap and is_timer(heap[0]):
            taken.append(heapq.heappop(heap))
        return taken

    def _hand_back(self, slots: _Slots, total_requested: np.ndarray, integral: np.ndarray,
                   tally_changes: np.ndarray) -> None:
        """Give the replay, its queue, recorder, policy and cluster state the books of the
        run."""
        replay, counters, queue = self.replay, self._counters, self._queue
        for at, seq, token in queue.timers():
            heapq.heappush(replay.heap, replay.timer(at, seq, token))
        replay.queue.restore(*queue.records(int(counters[NEXT_ARRIVAL]), self._helped))
        replay.next_arrival = int(counters[NEXT_ARRIVAL])
        replay.policy.next_start_node_index = int(counters[START])  # type: ignore[attr-defined]
        replay.seq = int(counters[SEQ]) - 1
        replay.events += int(counters[EVENTS])
        replay.pending = int(counters[N_PENDING])
        replay.now = float(self._clock[0])  # (the instant it reached, begun or done)
        if counters[IN_QUEUE_RUN]:
            replay.queue_due = replay.now
        peaks = replay.peaks
        peaks["pending"] = max(peaks["pending"], int(counters[PEAK_PENDING]))
        peaks["backing_off"] = max(peaks["backing_off"], int(counters[PEAK_BACKING_OFF]))
        slots.return_tallies(tally_changes)
        slots.return_reasons()
        attempt_log, attempt_times, fail_counts, unbind_log, change_log = self._logs[:5]
        attempts = attempt_log[:int(counters[N_ATTEMPTS])]
        unbinds = unbind_log[:int(counters[N_UNBINDS])]
        changes = change_log[:int(counters[N_CHANGES])]
        placed = attempts[:, 1] >= 0
        binds = attempts[placed, :2]
        classes = np.frombuffer(self.pod_class, dtype=np.int64)
        moved = np.concatenate((binds[:, 0], unbinds[:, 0]))
        tally_moves = int(slots.counted[slots.slot_of[classes[moved]]].sum())
        reasons: list[str | None] = [None] * len(attempts)
        for i in np.flatnonzero(~placed).tolist():
            pod = int(attempts[i, 0])
            reasons[i] = replay.reason[pod] = slots.message(
                int(slots.slot_of[classes[pod]]), fail_counts[attempts[i, 2]])
        nodes = np.where(placed, replay.global_array[np.maximum(attempts[:, 1], 0)], -1)
        replay.recorder.take_run(float(self._clock[0]), float(self._clock[3]),
                                 total_requested.tolist(),
                                 integral.tolist(), changes, attempt_times[:len(attempts)],
                                 attempts[:, 0], nodes, reasons)
        slot_of = slots.slot_of
        replay.take_run(np.column_stack((binds, slot_of[classes[binds[:, 0]]])),
                        np.column_stack((unbinds, slot_of[classes[unbinds[:, 0]]])),
                        [pod.template for pod in slots.pods], changes, tally_moves)
        rows = int(counters[N_ROWS])
        replay.recorder.take_rows(self._logs[5][:rows], self._logs[6][:rows])
        if counters[INSTANTS] and replay.progress is not None:
            replay.progress(float(self._clock[0]))


class _QueueArrays:
    """The scheduling queue as ``replay_run`` keeps it (``arrays``), loaded from the
    replay's and given back (``load``, ``records``, ``timers``)."""

    def __init__(self, n_pods: int) -> None:
        self._per_pod(max(n_pods, 16))
        self._room(1024)
        self._members: list[int] = []
        self._first_arrival = 0

    def _per_pod(self, n: int) -> None:
        self.where = np.full(n, NOT_QUEUED, dtype=np.int8)
        self.priority = np.zeros(n, dtype=np.int64)
        self.stamp = np.zeros(n)
        self.attempts = np.zeros(n, dtype=np.int64)
        self.backoff_until = np.zeros(n)
        self.generation = np.zeros(n, dtype=np.int64)

    def _room(self, n: int) -> None:
        self.active = (np.empty(n, dtype=np.int64), np.empty(n), np.empty(n, dtype=np.int64),
                       np.zeros(1, dtype=np.int64))
        self.listed = (np.empty(n, dtype=np.int64), np.zeros(1, dtype=np.int64))
        self.timer_heap = (np.empty(4 * n), np.empty(4 * n, dtype=np.int64),
                           np.empty(4 * n, dtype=np.int64), np.zeros(1, dtype=np.int64))

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.where, self.priority, self.stamp, self.attempts, self.backoff_until,
                self.generation, *self.active, *self.listed, *self.timer_heap)

    @property
    def backing_off(self) -> int:
        return sum(1 for pod in self._members if self.where[pod] == BACKOFF)

    def load(self, records: list[tuple[int, int, int, float, int, float, int]],
             unschedulable: list[int], n_pods: int,
             timers: list[tuple[float, int, int, int, int]], next_arrival: int) -> None:
        """Take over the replay's queue (``SchedulingQueue.records``), its unschedulable
        pods in order and its timers, with room for ``LOG_CAPACITY`` more pods, before
        trace pod ``next_arrival`` arrives."""
        if n_pods > len(self.where):
            old = self.arrays[:6]
            self._per_pod(2 * n_pods)
            for new, values in zip(self.arrays[:6], old, strict=True):
                new[:len(values)] = values
        room = len(records) + LOG_CAPACITY
        if room > len(self.active[0]) or len(timers) + room > len(self.timer_heap[0]):
            self._room(max(room, len(timers)))
        self._members = [r[0] for r in records]
        self._first_arrival = next_arrival
        heap: list[tuple[int, float, int]] = []
        for pod, where, priority, stamp, attempts, backoff_until, generation in records:
            self.where[pod], self.priority[pod], self.stamp[pod] = where, priority, stamp
            self.attempts[pod], self.backoff_until[pod] = attempts, backoff_until
            self.generation[pod] = generation
            if where == ACTIVE:
                heapq.heappush(heap, (-priority, stamp, pod))
        prio, stamps, pods, size = self.active
        for i, (minus, stamp, pod) in enumerate(heap):  # (a heap of the same order)
            prio[i], stamps[i], pods[i] = minus, stamp, pod
        size[0] = len(heap)
        listed, listed_size = self.listed
        listed[:len(unschedulable)] = unschedulable
        listed_size[0] = len(unschedulable)
        times, seqs, tokens, timer_size = self.timer_heap
        for i, (at, _, seq, _, token) in enumerate(timers):  # (popped in order: a heap)
            times[i], seqs[i], tokens[i] = at, seq, token
        timer_size[0] = len(timers)

    def records(self, next_arrival: int, helped: array[int]) -> tuple[
            list[tuple[int, int, int, float, int, float, int]], list[int], set[int]]:
        """The queue after a run, as ``SchedulingQueue.restore`` takes it: of the pods that
        were in it and those that arrived (trace pods up to ``next_arrival``), those still
        waiting; the unschedulable ones in order; those of them a bind may help (per pod
        id in ``helped``). The arrays forget them."""
        where = self.where
        found = []
        for pod in self._members + list(range(self._first_arrival, next_arrival)):
            if where[pod] != NOT_QUEUED:
                found.append((pod, int(where[pod]), int(self.priority[pod]),
                              float(self.stamp[pod]), int(self.attempts[pod]),
                              float(self.backoff_until[pod]), int(self.generation[pod])))
                where[pod] = NOT_QUEUED
        listed, listed_size = self.listed
        unschedulable = listed[:int(listed_size[0])].tolist()
        return found, unschedulable, {pod for pod in unschedulable if helped[pod]}

    def timers(self) -> list[tuple[float, int, int]]:
        times, seqs, tokens, size = self.timer_heap
        n = int(size[0])
        return list(zip(times[:n].tolist(), seqs[:n].tolist(), tokens[:n].tolist(),
                        strict=True))
