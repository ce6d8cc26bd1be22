"""Compiled loops of the replay (``sim.replay_runs``; numba, compiled at first use and cached
on disk): the heap of departures, and runs of the timeline, arrivals and departures placed
and taken off the cluster in one call, instant by instant, as ``sim.replay.Replay.run``
handles them one by one.

A run's pods are of classes (pod cache keys) whose answers no bind or unbind of the run
changes but on the nodes it touches (``sim.replay_runs`` makes sure of it), so each pod is
searched by ``search_kernels.cached_search``, the very search of Greedy's compiled cycle,
and its tie drawn as Greedy draws it (``kernels.draw``). The loop stops, leaving the rest of
the instant to the replay, at anything else: a pod of another class, a pod that fits
nowhere, an instant whose arrivals differ in priority, the horizon (the next node event,
queue entry or timeline row).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from schedlab.kernels import draw
from schedlab.search_kernels import cached_search

# pod states, as ``sim.replay`` numbers them
_WAITING, _RUNNING, _SUCCEEDED = 0, 3, 4

REACHED, NOT_A_SLOT, FITS_NOWHERE, PRIORITIES, LOG_FULL = range(5)
"""Why ``replay_run`` stopped: at the horizon (or the end of the trace); at a pod of a class
the run does not place (or a terminating pod's end); at a pod that fits nowhere; at an
instant whose arriving pods differ in priority; its logs are full."""

# ``counters`` entries of ``replay_run``
(NEXT_ARRIVAL, START, SEQ, N_BINDS, N_UNBINDS, N_CHANGES, EVENTS, TIMERS_DONE, INSTANTS,
 N_ROWS, RUNNING, NODES_USED, N_COUNTERS) = range(13)


@njit(cache=True)
def _before(times: np.ndarray, seqs: np.ndarray, i: int, j: int) -> bool:
    return times[i] < times[j] or (times[i] == times[j] and seqs[i] < seqs[j])


@njit(cache=True)
def _swap(times: np.ndarray, seqs: np.ndarray, pods: np.ndarray, i: int, j: int) -> None:
    times[i], times[j] = times[j], times[i]
    seqs[i], seqs[j] = seqs[j], seqs[i]
    pods[i], pods[j] = pods[j], pods[i]


@njit(cache=True)
def heap_push(times: np.ndarray, seqs: np.ndarray, pods: np.ndarray, size: np.ndarray,
              at: float, seq: int, pod: int) -> None:
    """Push (``at``, ``seq``, ``pod``) on the binary heap of the first ``size[0]`` entries
    of ``times``, ``seqs``, ``pods`` (ordered by time, then sequence); there must be room."""
    i = size[0]
    size[0] = i + 1
    times[i], seqs[i], pods[i] = at, seq, pod
    while i > 0:
        parent = (i - 1) // 2
        if not _before(times, seqs, i, parent):
            break
        _swap(times, seqs, pods, i, parent)
        i = parent


@njit(cache=True)
def heap_pop(times: np.ndarray, seqs: np.ndarray, pods: np.ndarray, size: np.ndarray) -> int:
    """Take the first entry off the heap (``heap_push``; not empty); returns its pod."""
    pod = pods[0]
    n = size[0] - 1
    size[0] = n
    times[0], seqs[0], pods[0] = times[n], seqs[n], pods[n]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        child = left
        if left + 1 < n and _before(times, seqs, left + 1, left):
            child = left + 1
        if not _before(times, seqs, child, i):
            break
        _swap(times, seqs, pods, i, child)
        i = child
    return pod


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
def _move(s: int, node: int, sign: int, slot_requested: np.ndarray,
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
    if m == 1:
        return cached_search(mask, start, to_find, node_version, cache, pod_count,
                             allowed_pods, requested, allocatable, nonzero_requested, plain,
                             shape, buffers, spread_weight[s] if con_count[s] else 0,
                             (*head, codes[:1], domains[:1], counts[:1], *tail), norm_weight,
                             norm, reverse)
    if m == 2:
        return cached_search(mask, start, to_find, node_version, cache, pod_count,
                             allowed_pods, requested, allocatable, nonzero_requested, plain,
                             shape, buffers, spread_weight[s],
                             (*head, codes[:2], domains[:2], counts[:2], *tail), norm_weight,
                             norm, reverse)
    if m == 3:
        return cached_search(mask, start, to_find, node_version, cache, pod_count,
                             allowed_pods, requested, allocatable, nonzero_requested, plain,
                             shape, buffers, spread_weight[s],
                             (*head, codes[:3], domains[:3], counts[:3], *tail), norm_weight,
                             norm, reverse)
    return cached_search(mask, start, to_find, node_version, cache, pod_count, allowed_pods,
                         requested, allocatable, nonzero_requested, plain, shape, buffers,
                         spread_weight[s], (*head, codes, domains, counts, *tail),
                         norm_weight, norm, reverse)


@njit(cache=True)
def _counts_of(c: int, con_node_counts: np.ndarray, con_counts: np.ndarray,
               tally_node: np.ndarray, tally_domains: np.ndarray) -> np.ndarray:
    """Constraint ``c``'s matching pods: per node (a hostname constraint) or per domain."""
    return tally_node[con_counts[c]] if con_node_counts[c] else tally_domains[con_counts[c]]


@njit(cache=True)
def replay_run(clock: np.ndarray, counters: np.ndarray, n_trace: int, arrival: np.ndarray,
               duration: np.ndarray, status: np.ndarray, start: np.ndarray, end: np.ndarray,
               pod_node: np.ndarray, pod_class: np.ndarray, slot_of: np.ndarray,
               dep_times: np.ndarray, dep_seqs: np.ndarray, dep_pods: np.ndarray,
               dep_size: np.ndarray, timer_times: np.ndarray, python_untimed: bool,
               global_of: np.ndarray, view_of: np.ndarray, bind_log: np.ndarray,
               unbind_log: np.ndarray, change_log: np.ndarray, row_log: np.ndarray,
               row_requested: np.ndarray, total_requested: np.ndarray,
               requested_time: np.ndarray, slot_priority: np.ndarray,
               slot_requested: np.ndarray, slot_nonzero: np.ndarray, masks: np.ndarray,
               int_rows: np.ndarray, bool_rows: np.ndarray, plain_row: np.ndarray,
               shapes: np.ndarray, store: np.ndarray, cache_row: np.ndarray,
               norm_weight: np.ndarray, norm_row: np.ndarray, norm_reverse: np.ndarray,
               spread_weight: np.ndarray, spread_check: np.ndarray, keys_row: np.ndarray,
               con_first: np.ndarray, con_count: np.ndarray, con_codes: np.ndarray,
               con_domains: np.ndarray, con_node_counts: np.ndarray, con_counts: np.ndarray,
               con_hostname: np.ndarray, con_skew: np.ndarray, con_n_domains: np.ndarray,
               program: np.ndarray, program_at: np.ndarray, tally_node: np.ndarray,
               tally_domains: np.ndarray, tally_changes: np.ndarray,
               node_version: np.ndarray, pod_count: np.ndarray, allowed_pods: np.ndarray,
               requested: np.ndarray, allocatable: np.ndarray, nonzero_requested: np.ndarray,
               to_find: int, rng: np.random.Generator | int, buffers: np.ndarray) -> int:
    """Replay instants until one the loop does not handle; returns why it stopped.

    clock     float64: [the time the allocation was integrated to (the recorder's), the
              horizon (instants before it only), the last instant allowed (inf: none)]
    counters  int64 (N_COUNTERS,): read and updated; the next trace pod to arrive, Greedy's
              search start, the next heap sequence number, the lengths of the logs, the
              events, timers and instants handled, the pods running and the nodes used
    per pod id: ``arrival``, ``duration`` (s, NaN: runs for ever; trace pods), ``status``,
              ``start``, ``end``, ``pod_node`` (global node index; ``global_of`` and
              ``view_of`` map view and global indices), ``pod_class`` (class index; < 0
              for pods the run leaves to the replay); ``slot_of`` maps a class to its slot
              (-1: none)
    departures: the heap (``heap_push``) of (time, sequence, pod) of the running pods' ends
    timer_times  float64: the times of the replay's queue timers before the horizon (the
              queue is empty: they do nothing but make an instant each while something is
              left to happen, ``python_untimed``: the replay's heap holds other entries)
    logs      ``bind_log`` int64 (cap, 2): pod, node index in the view; ``unbind_log``
              int64 (cap, 2): likewise; ``change_log`` int64 (2 cap,): the node of each bind
              and unbind, in order (``ClusterState.changes_since``); ``row_log`` float64
              (rows, 3): after each instant, unless it has no row (0 rows: the timeline has
              rows per bucket), its time, pods running and nodes used, and ``row_requested``
              int64 (rows, n_resources) what the bound pods request
    recorder  ``total_requested`` int64 (n_resources,), ``requested_time`` float64: the
              integral of it over time, as ``Recorder.advance`` sums it
    per slot  priority, requests, mask (bool (slots, n_nodes)), and ``CompiledCycle``'s plan
              of the class, rows of ``int_rows`` (int64 (rows, n_nodes)) and ``bool_rows``:
              STATIC plain scores, shape, the row of ``store`` remembering its nodes
              (``cached_search``'s cache), the normalised plugin, the spreading constraints
              (``_search``), and the tallies its pods count in (``_count``'s program at
              ``program_at``), whose counts ``tally_node`` and ``tally_domains`` hold
    """
    horizon, last_instant = clock[1], clock[2]
    next_arrival, search_start, seq = counters[NEXT_ARRIVAL], counters[START], counters[SEQ]
    n_binds, n_unbinds, n_changes = counters[N_BINDS], counters[N_UNBINDS], counters[N_CHANGES]
    events, timer, instants = counters[EVENTS], counters[TIMERS_DONE], counters[INSTANTS]
    n_timers = timer_times.shape[0]
    capacity = bind_log.shape[0]
    n_rows, running, nodes_used = counters[N_ROWS], counters[RUNNING], counters[NODES_USED]
    row_capacity = row_log.shape[0]
    heap_room = dep_times.shape[0]
    reason = REACHED
    while True:
        now = arrival[next_arrival] if next_arrival < n_trace else math.inf
        if dep_size[0] and dep_times[0] < now:
            now = dep_times[0]
        if (timer < n_timers and timer_times[timer] < now
                and (python_untimed or dep_size[0] > 0)):
            now = timer_times[timer]
        if now == math.inf or now >= horizon or now > last_instant:
            break
        # the recorder's advance: the state since the last instant lasted until now
        if now > clock[0]:
            elapsed = now - clock[0]
            for r in range(total_requested.shape[0]):
                requested_time[r] += total_requested[r] * elapsed
            clock[0] = now
        # departures due
        stopped = False
        while dep_size[0] and dep_times[0] <= now:
            pod = dep_pods[0]
            if status[pod] != _RUNNING:
                heap_pop(dep_times, dep_seqs, dep_pods, dep_size)  # (a stale end)
                continue
            c = pod_class[pod]
            s = slot_of[c] if c >= 0 else -1
            if s < 0 or n_unbinds == capacity:
                reason = NOT_A_SLOT if s < 0 else LOG_FULL
                stopped = True
                break
            heap_pop(dep_times, dep_seqs, dep_pods, dep_size)
            view = view_of[pod_node[pod]]
            _move(s, view, -1, slot_requested, slot_nonzero, requested, nonzero_requested,
                  pod_count, node_version, total_requested, program, program_at, tally_node,
                  tally_domains, int_rows, bool_rows, tally_changes)
            status[pod] = _SUCCEEDED
            end[pod] = now
            running -= 1
            nodes_used -= pod_count[view] == 0
            unbind_log[n_unbinds, 0] = pod
            unbind_log[n_unbinds, 1] = view
            n_unbinds += 1
            change_log[n_changes] = view
            n_changes += 1
            events += 1
        if stopped:
            break
        # arrivals, in the queue's order: all of slots and of one priority, so by pod id
        first, seen, foreign, mixed = next_arrival, -1, False, False
        while first < n_trace and arrival[first] <= now:
            if status[first] == _WAITING:
                c = pod_class[first]
                s = slot_of[c] if c >= 0 else -1
                if s < 0:
                    foreign = True
                elif seen >= 0 and slot_priority[s] != slot_priority[seen]:
                    mixed = True
                seen = s
            first += 1
        if foreign or mixed:
            reason = NOT_A_SLOT if foreign else PRIORITIES
            break
        while next_arrival < n_trace and arrival[next_arrival] <= now:
            pod = next_arrival
            if status[pod] != _WAITING:
                next_arrival += 1
                continue
            s = slot_of[pod_class[pod]]
            if n_binds == capacity or dep_size[0] == heap_room:
                reason = LOG_FULL
                stopped = True
                break
            found, next_start, n_best = _search(
                s, masks[s], search_start, to_find, node_version, store[cache_row[s]],
                pod_count, allowed_pods, requested, allocatable, nonzero_requested,
                int_rows[plain_row[s]], shapes[s], buffers, spread_weight, spread_check,
                bool_rows[keys_row[s]], con_first, con_count, con_codes, con_domains,
                con_node_counts, con_counts, con_hostname, con_skew, con_n_domains, int_rows,
                tally_node, tally_domains, norm_weight[s], int_rows[norm_row[s]],
                norm_reverse[s])
            if found == 0:
                reason = FITS_NOWHERE
                stopped = True
                break
            search_start = next_start
            if found == 1:
                view = buffers[0, 0]
            else:
                view = buffers[2, draw(rng, n_best) if n_best > 1 else 0]
            _move(s, view, 1, slot_requested, slot_nonzero, requested, nonzero_requested,
                  pod_count, node_version, total_requested, program, program_at, tally_node,
                  tally_domains, int_rows, bool_rows, tally_changes)
            status[pod] = _RUNNING
            start[pod] = now
            running += 1
            nodes_used += pod_count[view] == 1
            pod_node[pod] = global_of[view]
            bind_log[n_binds, 0] = pod
            bind_log[n_binds, 1] = view
            n_binds += 1
            change_log[n_changes] = view
            n_changes += 1
            events += 1
            ends = now + duration[pod]
            if not math.isnan(ends):
                heap_push(dep_times, dep_seqs, dep_pods, dep_size, max(ends, now), seq, pod)
                seq += 1
            next_arrival += 1
        if stopped:
            break
        while timer < n_timers and timer_times[timer] <= now:
            timer += 1
        instants += 1
        if row_capacity:
            row_log[n_rows, 0] = now
            row_log[n_rows, 1] = running
            row_log[n_rows, 2] = nodes_used
            row_requested[n_rows] = total_requested
            n_rows += 1
            if n_rows == row_capacity:
                reason = LOG_FULL
                break
    counters[NEXT_ARRIVAL], counters[START], counters[SEQ] = next_arrival, search_start, seq
    counters[N_BINDS], counters[N_UNBINDS], counters[N_CHANGES] = n_binds, n_unbinds, n_changes
    counters[EVENTS], counters[TIMERS_DONE], counters[INSTANTS] = events, timer, instants
    counters[N_ROWS], counters[RUNNING], counters[NODES_USED] = n_rows, running, nodes_used
    return reason
