"""Compiled loops of the replay (``sim.replay_runs``; numba, compiled at first use and cached
on disk): the heap of departures, and runs of the timeline, arrivals and departures placed
and taken off the cluster in one call, instant by instant, as ``sim.replay.Replay.run``
handles them one by one.

A run's pods are of classes (pod cache keys) whose answers no bind or unbind of the run
changes but on the nodes it touches (``sim.replay_runs`` makes sure of it), so each pod is
searched by ``search_kernels.cached_search``, the very search of Greedy's compiled cycle,
and its tie drawn as Greedy draws it (``kernels.draw``); the scheduling queue is kept as
``sim.queue`` keeps it. The loop stops, leaving the rest of the instant to the replay, at
anything else: a pod of another class, a pod that fits nowhere whose failure it does not
word, the horizon (the next node event, entry of the replay's heap or row it makes).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from schedlab.framework.cycle import REFRESH_ALL_FRACTION
from schedlab.gpu_kernels import count_reasons
from schedlab.kernels import draw
from schedlab.search_kernels import cached_search, fits_any
from schedlab.sim.queue import (
    ACTIVE,
    BACKOFF,
    GENERATIONS,
    MAX_UNSCHEDULABLE_SECONDS,
    UNSCHEDULABLE,
    backoff_seconds,
)
from schedlab.sim.results import PENDING, RUNNING, SUCCEEDED, WAITING

REACHED, NOT_A_SLOT, FITS_NOWHERE, LOG_FULL = range(4)
"""Why ``replay_run`` stopped: at the horizon (or the end of the trace); at a pod of a class
the run does not place (or a terminating pod's end); at a pod that fits nowhere whose
failure it does not word (or with ``queue="fail"``); its logs or queue are full."""

# ``counters`` entries of ``replay_run``
(NEXT_ARRIVAL, START, SEQ, N_ATTEMPTS, N_FAILS, N_UNBINDS, N_CHANGES, EVENTS, INSTANTS, N_ROWS,
 N_RUNNING, NODES_USED, N_PENDING, BACKING_OFF, EPOCH, IN_QUEUE_RUN, PEAK_PENDING,
 PEAK_BACKING_OFF, N_COUNTERS) = range(19)

NOT_QUEUED = -1
"""Where a pod not in the queue waits (else ``sim.queue``'s ACTIVE, BACKOFF,
UNSCHEDULABLE)."""


@njit(cache=True)
def _before(first: np.ndarray, second: np.ndarray, third: np.ndarray, i: int, j: int
            ) -> bool:
    """Whether entry ``i`` of a heap (``heap_push``) comes before entry ``j``."""
    if first[i] != first[j]:
        return first[i] < first[j]
    if second[i] != second[j]:
        return second[i] < second[j]
    return third[i] < third[j]


@njit(cache=True)
def _swap(first: np.ndarray, second: np.ndarray, third: np.ndarray, i: int, j: int) -> None:
    first[i], first[j] = first[j], first[i]
    second[i], second[j] = second[j], second[i]
    third[i], third[j] = third[j], third[i]


@njit(cache=True)
def heap_push(first: np.ndarray, second: np.ndarray, third: np.ndarray, size: np.ndarray,
              a: float, b: float, c: int) -> None:
    """Push (``a``, ``b``, ``c``) on the binary heap of the first ``size[0]`` entries of
    ``first``, ``second``, ``third`` (ordered by them in turn); there must be room. The
    departures and the queue's timers are (time, sequence number, pod or token), its ready
    pods (-priority, timestamp, pod)."""
    i = size[0]
    size[0] = i + 1
    first[i], second[i], third[i] = a, b, c
    while i > 0:
        parent = (i - 1) // 2
        if not _before(first, second, third, i, parent):
            break
        _swap(first, second, third, i, parent)
        i = parent


@njit(cache=True)
def heap_pop(first: np.ndarray, second: np.ndarray, third: np.ndarray, size: np.ndarray
             ) -> int:
    """Take the first entry off the heap (``heap_push``; not empty); returns its third."""
    c = third[0]
    n = size[0] - 1
    size[0] = n
    first[0], second[0], third[0] = first[n], second[n], third[n]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        child = left
        if left + 1 < n and _before(first, second, third, left + 1, left):
            child = left + 1
        if not _before(first, second, third, child, i):
            break
        _swap(first, second, third, i, child)
        i = child
    return c


@njit(cache=True)
def _count(program: np.ndarray, at: int, node: int, delta: int, tally_node: np.ndarray,
           tally_domains: np.ndarray, int_rows: np.ndarray, bool_rows: np.ndarray,
           tally_changes: np.ndarray) -> None:
    """Add ``delta`` pods on ``node`` to the tallies of the program at ``program[at:]``, as
    ``cluster.Tally.add``: how many tallies, then per tally its row of ``tally_node`` (its
    per-node counts) and how many views, and per view the rows of its label codes
    (``int_rows``), of its node mask (``bool_rows``; -1: none) and of its per-domain counts
    (``tally_domains``)."""
    n_tallies = program[at]
    at += 1
    for _ in range(n_tallies):
        row = program[at]
        tally_changes[row] += 1
        tally_node[row, node] += delta
        n_views = program[at + 1]
        at += 2
        for _ in range(n_views):
            code = int_rows[program[at], node]
            where = program[at + 1]
            if code >= 0 and (where < 0 or bool_rows[where, node]):
                tally_domains[program[at + 2], code] += delta
            at += 3


@njit(cache=True)
def _account(s: int, node: int, sign: int, slot_requested: np.ndarray,
          slot_nonzero: np.ndarray, requested: np.ndarray, nonzero_requested: np.ndarray,
          pod_count: np.ndarray, node_version: np.ndarray, total_requested: np.ndarray,
          program: np.ndarray, program_at: np.ndarray, tally_node: np.ndarray,
          tally_domains: np.ndarray, int_rows: np.ndarray, bool_rows: np.ndarray,
          tally_changes: np.ndarray) -> None:
    """A pod of slot ``s`` bound (``sign`` 1) to or unbound (-1) from ``node``."""
    for r in range(requested.shape[1]):
        requested[node, r] += sign * slot_requested[s, r]
        nonzero_requested[node, r] += sign * slot_nonzero[s, r]
        total_requested[r] += sign * slot_requested[s, r]
    pod_count[node] += sign
    node_version[node] += 1
    _count(program, program_at[s], node, sign, tally_node, tally_domains, int_rows, bool_rows,
           tally_changes)


MAX_SPREAD_CONSTRAINTS = 4
"""PodTopologySpread scoring constraints a slot's pods may have (their arrays go to
``cached_search`` as tuples, one compiled version per length)."""


@njit(cache=True)
def _search(s: int, mask: np.ndarray, start: int, to_find: int, node_version: np.ndarray,
            cache: np.ndarray, pod_count: np.ndarray, allowed_pods: np.ndarray,
            requested: np.ndarray, allocatable: np.ndarray, nonzero_requested: np.ndarray,
            plain: np.ndarray, shape: np.ndarray, buffers: np.ndarray,
            spread_weight: np.ndarray, spread_check: np.ndarray, keys: np.ndarray,
            con_first: np.ndarray, con_count: np.ndarray, con_codes: np.ndarray,
            con_domains: np.ndarray, con_node_counts: np.ndarray, con_counts: np.ndarray,
            con_hostname: np.ndarray, con_skew: np.ndarray, con_n_domains: np.ndarray,
            int_rows: np.ndarray, tally_node: np.ndarray, tally_domains: np.ndarray,
            norm_weight: int, norm: np.ndarray, reverse: bool) -> tuple[int, int, int]:
    """``cached_search`` for a pod of slot ``s``, its spreading constraints (``con_*`` from
    ``con_first[s]``, ``con_count[s]`` of them, at most ``MAX_SPREAD_CONSTRAINTS``; one
    unread dummy without spreading) passed as tuples of their rows: label codes, domain
    codes (``int_rows``) and the matching pods per node or per domain (``tally_node``,
    ``tally_domains``)."""
    f = con_first[s]
    m = max(con_count[s], 1)
    codes = (int_rows[con_codes[f]], int_rows[con_codes[f + 1 if m > 1 else f]],
             int_rows[con_codes[f + 2 if m > 2 else f]],
             int_rows[con_codes[f + 3 if m > 3 else f]])
    domains = (int_rows[con_domains[f]], int_rows[con_domains[f + 1 if m > 1 else f]],
               int_rows[con_domains[f + 2 if m > 2 else f]],
               int_rows[con_domains[f + 3 if m > 3 else f]])
    counts = (_counts_of(f, con_node_counts, con_counts, tally_node, tally_domains),
              _counts_of(f + 1 if m > 1 else f, con_node_counts, con_counts, tally_node,
                         tally_domains),
              _counts_of(f + 2 if m > 2 else f, con_node_counts, con_counts, tally_node,
                         tally_domains),
              _counts_of(f + 3 if m > 3 else f, con_node_counts, con_counts, tally_node,
                         tally_domains))
    tail = (con_hostname[f:f + m], con_skew[f:f + m], con_n_domains[f:f + m])
    head = (spread_check[s], keys)
    search = (mask, start, to_find, node_version, cache, pod_count, allowed_pods, requested,
              allocatable, nonzero_requested, plain, shape, buffers,
              spread_weight[s] if con_count[s] else 0)
    normalized = (norm_weight, norm, reverse)
    if m == 1:  # (a tuple's length is its type: one call per length)
        return cached_search(*search, (*head, codes[:1], domains[:1], counts[:1], *tail),
                             *normalized)
    if m == 2:
        return cached_search(*search, (*head, codes[:2], domains[:2], counts[:2], *tail),
                             *normalized)
    if m == 3:
        return cached_search(*search, (*head, codes[:3], domains[:3], counts[:3], *tail),
                             *normalized)
    return cached_search(*search, (*head, codes, domains, counts, *tail), *normalized)


@njit(cache=True)
def _counts_of(c: int, con_node_counts: np.ndarray, con_counts: np.ndarray,
               tally_node: np.ndarray, tally_domains: np.ndarray) -> np.ndarray:
    """Constraint ``c``'s matching pods: per node (a hostname constraint) or per domain."""
    return tally_node[con_counts[c]] if con_node_counts[c] else tally_domains[con_counts[c]]


@njit(cache=True, inline="always")
def _activate(pod: int, timestamp: float, queue: tuple) -> None:
    """``SchedulingQueue._activate``: the pod is ready, queued by (-priority, timestamp,
    id) in the heap of ready pods."""
    where, priority, stamp, _, _, _, prio, times, pods, size = queue[:10]
    where[pod] = ACTIVE
    stamp[pod] = timestamp
    heap_push(prio, times, pods, size, -priority[pod], timestamp, pod)


@njit(cache=True, inline="always")
def _pop_active(queue: tuple) -> int:
    """``SchedulingQueue.pop``: the first ready pod leaves the queue, one attempt more."""
    where, _, _, attempts, _, _, prio, times, pods, size = queue[:10]
    pod = heap_pop(prio, times, pods, size)
    where[pod] = NOT_QUEUED
    attempts[pod] += 1
    return pod


@njit(cache=True, inline="always")
def _timer(at: float, pod: int, queue: tuple, counters: np.ndarray) -> None:
    """A queue timer for the pod's current generation, as the replay's heap holds it."""
    generation = queue[5]
    timer_times, timer_seqs, timer_tokens, timer_size = queue[12:16]
    heap_push(timer_times, timer_seqs, timer_tokens, timer_size, at, counters[SEQ],
              pod * GENERATIONS + generation[pod] % GENERATIONS)
    counters[SEQ] += 1


@njit(cache=True, inline="always")
def _move_pod(pod: int, now: float, queue: tuple, counters: np.ndarray) -> None:
    """``SchedulingQueue._move`` of an unschedulable pod (already off the list): ready, or
    backing off until its backoff ends."""
    where, _, stamp, _, backoff_until, generation = queue[:6]
    if backoff_until[pod] <= now:
        _activate(pod, stamp[pod], queue)
    else:
        where[pod] = BACKOFF
        counters[BACKING_OFF] += 1
        generation[pod] += 1
        _timer(backoff_until[pod], pod, queue, counters)


@njit(cache=True, inline="always")
def _move_unschedulable(now: float, binds_only: bool, helped: np.ndarray, queue: tuple,
                        counters: np.ndarray) -> None:
    """``SchedulingQueue.move``: the unschedulable pods (with ``binds_only``, those a bind
    may help: ``helped``, per pod) moved, in the order they became unschedulable."""
    listed, listed_size = queue[10], queue[11]
    kept = 0
    for i in range(listed_size[0]):
        pod = listed[i]
        if binds_only and not helped[pod]:
            listed[kept] = pod
            kept += 1
        else:
            _move_pod(pod, now, queue, counters)
    listed_size[0] = kept


@njit(cache=True, inline="always")
def _expire(token: int, now: float, queue: tuple, counters: np.ndarray) -> None:
    """``SchedulingQueue.expire``: a due timer of a pod backing off (ready now) or
    unschedulable for too long (moved); a stale one does nothing."""
    pod, generation = token // GENERATIONS, token % GENERATIONS
    where = queue[0]
    if where[pod] == NOT_QUEUED or queue[5][pod] != generation:
        return
    if where[pod] == BACKOFF:
        counters[BACKING_OFF] -= 1
        _activate(pod, queue[2][pod], queue)
    elif where[pod] == UNSCHEDULABLE:
        listed, listed_size = queue[10], queue[11]
        kept = 0
        for i in range(listed_size[0]):
            if listed[i] != pod:
                listed[kept] = listed[i]
                kept += 1
        listed_size[0] = kept
        _move_pod(pod, now, queue, counters)


@njit(cache=True, inline="always")
def _failed(pod: int, now: float, queue: tuple, counters: np.ndarray) -> None:
    """``SchedulingQueue.failed``: unschedulable, its timestamp reset, its backoff grown,
    a timer for its leaving the unschedulable pods anyway."""
    where, _, stamp, attempts, backoff_until, generation = queue[:6]
    listed, listed_size = queue[10], queue[11]
    where[pod] = UNSCHEDULABLE
    stamp[pod] = now
    backoff_until[pod] = now + backoff_seconds(attempts[pod])
    listed[listed_size[0]] = pod
    listed_size[0] += 1
    generation[pod] += 1
    _timer(now + MAX_UNSCHEDULABLE_SECONDS, pod, queue, counters)


@njit(cache=True)
def replay_run(clock: np.ndarray, counters: np.ndarray, n_trace: int, pods: tuple,
               slots: tuple, tallies: tuple, cluster: tuple, departures: tuple,
               queue: tuple, logs: tuple, python_untimed: bool, retry: bool, to_find: int,
               rng: np.random.Generator | int) -> int:
    """Replay instants until one the loop does not handle; returns why it stopped.

    clock     float64: [the time the allocation was integrated to (the recorder's), the
              horizon (instants before it only), the last instant allowed (inf: none), when
              the next timeline row is due and the seconds between rows (0: a row after
              every instant), the recorder's]
    counters  int64 (N_COUNTERS,): read and updated (the next trace pod to arrive, Greedy's
              search start, the next heap sequence number, the logs' lengths, ...;
              IN_QUEUE_RUN: it stopped while the queue ran, ready pods left at the instant)
    pods      per pod id: (``arrival`` and ``duration`` (s, NaN: runs for ever; trace pods
              only), ``status``, ``start``, ``end``, ``node`` (global index), ``pod_class``
              (class index; < 0 for pods the run leaves to the replay), the replay's books;
              ``helped``: a bind may help it (``sim.queue.helped_by_binds``))
    slots     per class its slot (``slot_of``; -1: none) and per slot its priority,
              requests, mask (bool (slots, n_nodes)) and ``CompiledCycle``'s plan of the
              class as rows of ``int_rows`` (int64 (rows, n_nodes)) and ``bool_rows``:
              STATIC plain scores, shape, the row of ``store`` remembering its nodes
              (``cached_search``'s cache), the normalised plugin, the spreading constraints
              (``_search``), the tallies its pods count in (``_count``'s program at
              ``program_at``); whether its failures are worded (``words``) and if so the
              nodes the leading STATIC filters let through (``undecided``), its
              ``FitReasons`` row of ``reason_bits``, counts and the epoch they were synced
    tallies   (``tally_node``, ``tally_domains``: copies of the counts of the slots'
              tallies; ``tally_changes``: per tally, how often the run changed it)
    cluster   the state's arrays the search reads and a bind writes, the compiled cycle's
              ``store`` and buffers, ``changed_at`` (per node the epoch of its last change)
              and the view's node indices (``global_of``, ``view_of``)
    departures  the heap (``heap_push``) of (time, sequence, pod) of the running pods' ends
    queue     the scheduling queue (``sim.queue``) as arrays: per pod where it waits
              (NOT_QUEUED, ACTIVE, BACKOFF, UNSCHEDULABLE), priority, timestamp, attempts,
              backoff end, generation; the active heap (-priority, timestamp, pod) with its
              size; the unschedulable pods in order with their count; the heap of its
              timers (time, sequence, token) before the horizon with its size
    logs      ``attempts`` int64 (cap, 3): pod, node index in the view (-1: fits nowhere)
              and the row of its counts in ``fail_counts`` (int64 (cap, width)), at
              ``attempt_times``; ``unbinds`` int64 (cap, 2): pod, node; ``changes`` int64
              (2 cap,): the node of each bind and unbind in order; ``rows`` float64 (rows,
              4) and ``row_requested`` int64 (rows, n_resources): the timeline's rows (as
              ``Recorder.advance`` and ``sample`` make them; none: the replay makes them),
              each its time, pods running and pending, nodes used and the requests bound
    ``python_untimed``: the replay's heap holds other entries than timers (after the
    horizon), so timers make instants; ``retry``: the queue's mode (else a pod that fits
    nowhere is left to the replay, which fails it).
    """
    arrival, duration, status, start, end, pod_node, pod_class, helped = pods
    (slot_of, slot_priority, slot_requested, slot_nonzero, masks, int_rows, bool_rows,
     plain_row, shapes, cache_row, norm_weight, norm_row, norm_reverse, spread_weight,
     spread_check, keys_row, con_first, con_count, con_codes, con_domains, con_node_counts,
     con_counts, con_hostname, con_skew, con_n_domains, program, program_at, words,
     und_first, und_count, undecided, reason_row, reason_counts, reason_synced,
     nowhere) = slots
    tally_node, tally_domains, tally_changes = tallies
    (node_version, pod_count, allowed_pods, requested, allocatable, nonzero_requested, store,
     buffers, changed_at, reason_bits, gpu_free, global_of, view_of, fit_steps,
     no_gpu_model) = cluster
    dep_times, dep_seqs, dep_pods, dep_size = departures
    active_size, listed_size = queue[9], queue[11]
    timer_times, timer_seqs, timer_tokens, timer_size = queue[12:16]
    attempt_log, attempt_times, _, unbind_log, _, row_log = logs[:6]
    horizon, last_instant, bucket = clock[1], clock[2], clock[4]
    capacity, heap_room = attempt_log.shape[0], dep_times.shape[0]
    queue_room, timer_room = queue[8].shape[0], timer_times.shape[0]
    row_capacity = row_log.shape[0]
    reason = REACHED
    while True:
        next_arrival = counters[NEXT_ARRIVAL]
        now = arrival[next_arrival] if next_arrival < n_trace else math.inf
        if dep_size[0] and dep_times[0] < now:
            now = dep_times[0]
        if (timer_size[0] and timer_times[0] < now
                and (python_untimed or dep_size[0] > 0 or counters[BACKING_OFF] > 0)):
            now = timer_times[0]
        if now == math.inf or now >= horizon or now > last_instant:
            break
        # arrivals of other classes: the replay handles this instant
        first, foreign, arriving = next_arrival, False, 0
        while first < n_trace and arrival[first] <= now:
            if status[first] == WAITING:
                c = pod_class[first]
                foreign |= c < 0 or slot_of[c] < 0
                arriving += 1
            first += 1
        queued = active_size[0] + listed_size[0] + counters[BACKING_OFF]
        rows = 0  # (the timeline rows this instant makes: those due before it, its own)
        if row_capacity:
            next_row = clock[3]
            while bucket > 0 and next_row < now:
                rows += 1
                next_row += bucket
            rows += 1
        if foreign or queued + arriving > queue_room or counters[N_ROWS] + rows > row_capacity:
            reason = NOT_A_SLOT if foreign else LOG_FULL
            break
        while row_capacity and bucket > 0 and clock[3] < now:  # (the recorder's advance)
            _row(clock[3], logs, counters)
            clock[3] += bucket
        # the recorder's advance: the state since the last instant lasted until now
        if now > clock[0]:
            elapsed = now - clock[0]
            total_requested, requested_time = logs[7], logs[8]
            for r in range(total_requested.shape[0]):
                requested_time[r] += total_requested[r] * elapsed
            clock[0] = now
        # departures due, each moving the unschedulable pods
        stopped = False
        while dep_size[0] and dep_times[0] <= now:
            pod = dep_pods[0]
            if status[pod] != RUNNING:
                heap_pop(dep_times, dep_seqs, dep_pods, dep_size)  # (a stale end)
                continue
            c = pod_class[pod]
            s = slot_of[c] if c >= 0 else -1
            if (s < 0 or counters[N_UNBINDS] == capacity
                    or timer_size[0] + listed_size[0] + 1 >= timer_room):
                reason = NOT_A_SLOT if s < 0 else LOG_FULL
                stopped = True
                break
            heap_pop(dep_times, dep_seqs, dep_pods, dep_size)
            view = view_of[pod_node[pod]]
            _place(s, view, -1, slots, tallies, cluster, logs, counters)
            status[pod] = SUCCEEDED
            end[pod] = now
            counters[N_RUNNING] -= 1
            counters[NODES_USED] -= pod_count[view] == 0
            unbind_log[counters[N_UNBINDS], 0] = pod
            unbind_log[counters[N_UNBINDS], 1] = view
            counters[N_UNBINDS] += 1
            counters[EVENTS] += 1
            _move_unschedulable(now, False, helped, queue, counters)
        if stopped:
            break
        # arrivals enter the queue, then its timers due act
        while counters[NEXT_ARRIVAL] < n_trace and arrival[counters[NEXT_ARRIVAL]] <= now:
            pod = counters[NEXT_ARRIVAL]
            counters[NEXT_ARRIVAL] += 1
            if status[pod] != WAITING:
                continue
            counters[EVENTS] += 1
            counters[N_PENDING] += 1
            status[pod] = PENDING
            queue[1][pod] = slot_priority[slot_of[pod_class[pod]]]
            queue[3][pod], queue[4][pod], queue[5][pod] = 0, 0.0, 0
            _activate(pod, now, queue)
        while timer_size[0] and timer_times[0] <= now:
            token = timer_tokens[0]
            heap_pop(timer_times, timer_seqs, timer_tokens, timer_size)
            _expire(token, now, queue, counters)
        # the queue runs until no pod is ready
        while active_size[0]:
            if (counters[N_ATTEMPTS] == capacity or dep_size[0] == heap_room
                    or timer_size[0] + listed_size[0] + 1 >= timer_room):
                reason = LOG_FULL
                stopped = counters[IN_QUEUE_RUN] = True
                break
            pod = queue[8][0]  # (tried before it is popped: a failure may be the replay's)
            s = slot_of[pod_class[pod]]
            if _still_nowhere(s, slots, cluster, logs, counters):
                found, next_start, n_best = 0, counters[START], 0
            else:
                found, next_start, n_best = _search(
                    s, masks[s], counters[START], to_find, node_version, store[cache_row[s]],
                    pod_count, allowed_pods, requested, allocatable, nonzero_requested,
                    int_rows[plain_row[s]], shapes[s], buffers, spread_weight, spread_check,
                    bool_rows[keys_row[s]], con_first, con_count, con_codes, con_domains,
                    con_node_counts, con_counts, con_hostname, con_skew, con_n_domains,
                    int_rows, tally_node, tally_domains, norm_weight[s],
                    int_rows[norm_row[s]], norm_reverse[s])
                nowhere[s] = counters[EPOCH] + counters[N_CHANGES] if found == 0 else -1
            if found == 0 and not (retry and words[s]):
                reason = FITS_NOWHERE
                stopped = counters[IN_QUEUE_RUN] = True
                break
            _pop_active(queue)
            at = counters[N_ATTEMPTS]
            counters[N_ATTEMPTS] += 1
            attempt_log[at, 0] = pod
            attempt_times[at] = now
            if found == 0:
                _word_failure(s, slots, cluster, logs, counters, at)
                _failed(pod, now, queue, counters)
                continue
            counters[START] = next_start
            view = buffers[0, 0] if found == 1 else buffers[2, draw(rng, n_best)
                                                             if n_best > 1 else 0]
            _place(s, view, 1, slots, tallies, cluster, logs, counters)
            attempt_log[at, 1] = view
            attempt_log[at, 2] = -1
            status[pod] = RUNNING
            start[pod] = now
            counters[N_RUNNING] += 1
            counters[N_PENDING] -= 1
            counters[NODES_USED] += pod_count[view] == 1
            pod_node[pod] = global_of[view]
            ends = now + duration[pod]
            if not math.isnan(ends):
                heap_push(dep_times, dep_seqs, dep_pods, dep_size, max(ends, now),
                          counters[SEQ], pod)
                counters[SEQ] += 1
            _move_unschedulable(now, True, helped, queue, counters)
        if stopped:
            break
        counters[INSTANTS] += 1
        counters[PEAK_PENDING] = max(counters[PEAK_PENDING], counters[N_PENDING])
        counters[PEAK_BACKING_OFF] = max(counters[PEAK_BACKING_OFF], counters[BACKING_OFF])
        if row_capacity and (bucket == 0 or clock[3] == now):  # (the recorder's sample)
            _row(now, logs, counters)
            if bucket > 0:
                clock[3] += bucket
    return reason


@njit(cache=True, inline="always")
def _row(at: float, logs: tuple, counters: np.ndarray) -> None:
    """A timeline row at ``at``: the pods running and pending, nodes used, requests bound."""
    row_log, row_requested = logs[5], logs[6]
    n_rows = counters[N_ROWS]
    row_log[n_rows, 0] = at
    row_log[n_rows, 1] = counters[N_RUNNING]
    row_log[n_rows, 2] = counters[N_PENDING]
    row_log[n_rows, 3] = counters[NODES_USED]
    row_requested[n_rows] = logs[7]
    counters[N_ROWS] += 1


@njit(cache=True, inline="always")
def _place(s: int, node: int, sign: int, slots: tuple, tallies: tuple, cluster: tuple,
           logs: tuple, counters: np.ndarray) -> None:
    """A pod of slot ``s`` bound (``sign`` 1) to or unbound (-1) from ``node``: the
    cluster's arrays, the tallies' copies, the bound requests, the change noted."""
    _account(s, node, sign, slots[2], slots[3], cluster[3], cluster[5], cluster[1], cluster[0],
          logs[7], slots[25], slots[26], tallies[0], tallies[1], slots[5], slots[6],
          tallies[2])
    change_log = logs[4]
    change_log[counters[N_CHANGES]] = node
    counters[N_CHANGES] += 1
    cluster[8][node] = counters[EPOCH] + counters[N_CHANGES]


@njit(cache=True, inline="always")
def _still_nowhere(s: int, slots: tuple, cluster: tuple, logs: tuple,
                   counters: np.ndarray) -> bool:
    """``CompiledCycle._still_nowhere`` within a run: the search found no node for slot
    ``s`` at epoch ``nowhere[s]`` (this run's; -1: none) and none of the few nodes changed
    since passes its mask and fits its pods (a node's fit changes only with it), so it
    would find none now; the epoch is then moved on."""
    nowhere = slots[34]
    if nowhere[s] < 0:
        return False
    since = nowhere[s] - counters[EPOCH]
    changed = logs[4][since:counters[N_CHANGES]]
    masks = slots[4]
    if changed.shape[0] * REFRESH_ALL_FRACTION > masks.shape[1]:
        return False  # (many changes: the search is as quick)
    shape = slots[8][s]
    m_fit = shape[4]
    if fits_any(changed, masks[s], shape[0] != 0, cluster[1], cluster[2], cluster[3],
                cluster[4], shape[7:7 + m_fit], shape[7 + m_fit:7 + 2 * m_fit]):
        return False
    nowhere[s] = counters[EPOCH] + counters[N_CHANGES]
    return True


@njit(cache=True, inline="always")
def _word_failure(s: int, slots: tuple, cluster: tuple, logs: tuple, counters: np.ndarray,
                  at: int) -> None:
    """Count why a pod of slot ``s`` fits nowhere as ``CompiledCycle.rejection_counts``
    does, into the next row of the failures' counts, noted at attempt ``at``."""
    und_first, und_count, undecided = slots[28], slots[29], slots[30]
    reason_row, reason_counts, reason_synced = slots[31], slots[32], slots[33]
    shape = slots[8][s]
    m_fit = shape[4]
    first = und_first[s]
    width = m_fit + 4
    counts = reason_counts[s, :width]
    if reason_synced[s] != counters[EPOCH] + counters[N_CHANGES]:  # (else counted as is)
        count_reasons(undecided[first:first + und_count[s]], reason_synced[s], cluster[8],
                      cluster[9][reason_row[s]], counts, cluster[13], cluster[1], cluster[2],
                      cluster[3], cluster[4], shape[7:7 + m_fit],
                      shape[7 + m_fit:7 + 2 * m_fit], False, cluster[14], cluster[10], 0, 0)
        reason_synced[s] = counters[EPOCH] + counters[N_CHANGES]
    fail_counts, attempt_log = logs[2], logs[0]
    row = counters[N_FAILS]
    counters[N_FAILS] += 1
    fail_counts[row, :width] = counts
    attempt_log[at, 1] = -1
    attempt_log[at, 2] = row
