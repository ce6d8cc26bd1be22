"""Compiled loops (numba; compiled at first use and cached on disk), imported only where
used so that ``import schedlab`` stays light. Integer and float operations are those of
kube-scheduler's formulas as the numpy plugins write them, element by element and in the
same order, so the results are the same bit for bit."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

MAX_NODE_SCORE = 100


@njit(cache=True)
def search_and_score(mask: np.ndarray, start: int, to_find: int, check_fit: bool,
                     pod_count: np.ndarray, allowed_pods: np.ndarray, requested: np.ndarray,
                     allocatable: np.ndarray, fit_columns: np.ndarray, fit_want: np.ndarray,
                     nonzero_requested: np.ndarray, plain: np.ndarray, fit_weight: int,
                     least: bool, score_columns: np.ndarray, score_weights: np.ndarray,
                     score_pod: np.ndarray, balanced_weight: int, balanced_columns: np.ndarray,
                     balanced_pod: np.ndarray, nodes: np.ndarray, totals: np.ndarray
                     ) -> tuple[int, int]:
    """Search the nodes from ``start`` in round-robin order for ``to_find`` feasible ones
    (``mask`` and, with ``check_fit``, NodeResourcesFit's filter on ``fit_columns``), write
    them sorted into ``nodes`` and their totals into ``totals``: ``plain`` plus
    NodeResourcesFit's score × ``fit_weight`` and the balanced allocation × its weight.
    Returns (how many were found, the next start: past the last one if ``to_find`` were
    found among fewer than all nodes, else ``start``)."""
    n = mask.shape[0]
    found = 0
    last = -1
    for step in range(n):
        node = start + step
        if node >= n:
            node -= n
        if not mask[node]:
            continue
        if check_fit:
            if pod_count[node] >= allowed_pods[node]:
                continue
            fits = True
            for j in range(fit_columns.shape[0]):
                column = fit_columns[j]
                if requested[node, column] + fit_want[j] > allocatable[node, column]:
                    fits = False
                    break
            if not fits:
                continue
        nodes[found] = node
        found += 1
        if found == to_find:
            last = step
            break
    next_start = start
    if found == to_find and to_find < n:
        next_start = (start + last + 1) % n
    # in ascending order: the nodes found past the end of the array come first
    wrapped = 0
    while wrapped < found and nodes[wrapped] >= start:
        wrapped += 1
    if 0 < wrapped < found:
        nodes[:found] = np.concatenate((nodes[wrapped:found], nodes[:wrapped]))
    weight_sum = 0
    for j in range(score_weights.shape[0]):
        weight_sum += score_weights[j]
    if weight_sum < 1:
        weight_sum = 1
    m = balanced_columns.shape[0]
    fraction = np.empty(m)
    for i in range(found):
        node = nodes[i]
        total = plain[node]
        if fit_weight:
            score = 0
            for j in range(score_columns.shape[0]):
                column = score_columns[j]
                free = allocatable[node, column]
                asked = nonzero_requested[node, column] + score_pod[j]
                if least:
                    part = (free - asked if free > asked else 0) * MAX_NODE_SCORE // free
                else:
                    part = (asked if asked < free else free) * MAX_NODE_SCORE // free
                score += part * score_weights[j]
            total += score // weight_sum * fit_weight
        if balanced_weight:
            for j in range(m):
                column = balanced_columns[j]
                share = (requested[node, column] + balanced_pod[j]) / allocatable[node, column]
                fraction[j] = share if share < 1.0 else 1.0
            if m < 2:
                std = 0.0
            elif m == 2:
                std = abs((fraction[0] - fraction[1]) / 2)
            else:
                mean_sum = fraction[0]
                for j in range(1, m):
                    mean_sum += fraction[j]
                mean = mean_sum / m
                squares = 0.0
                for j in range(m):
                    squares += (fraction[j] - mean) * (fraction[j] - mean)
                std = math.sqrt(squares / m)
            total += int((1 - std) * MAX_NODE_SCORE) * balanced_weight
        totals[i] = total
    return found, next_start


@njit(cache=True)
def spread_scores(nodes: np.ndarray, check_keys: bool, has_all_keys: np.ndarray,
                  codes: tuple[np.ndarray, ...], domain_codes: tuple[np.ndarray, ...],
                  counts: tuple[np.ndarray, ...], hostname: np.ndarray, max_skew: np.ndarray,
                  n_domains: np.ndarray) -> np.ndarray:
    """PodTopologySpread's raw scores (int64 (k,)) of the candidate ``nodes`` (int64 (k,)):
    per constraint c (tuples ``codes``, ``domain_codes``, ``counts``: matching pods per node
    for a ``hostname`` constraint, else per domain), over the nodes with c's key, matching
    pods × ln(domains among the kept candidates + 2) + maxSkew - 1; rounded half up; -1 for
    a node lacking some key when ``check_keys``."""
    k = nodes.shape[0]
    kept = np.ones(k, dtype=np.bool_)
    n_kept = k
    if check_keys:
        n_kept = 0
        for i in range(k):
            kept[i] = has_all_keys[nodes[i]]
            n_kept += kept[i]
    total = np.zeros(k)
    for c in range(len(codes)):
        node_codes = codes[c]
        if hostname[c]:
            size = n_kept
        else:
            seen = np.zeros(n_domains[c], dtype=np.bool_)
            size = 0
            for i in range(k):
                if kept[i]:
                    domain = domain_codes[c][nodes[i]]
                    if not seen[domain]:
                        seen[domain] = True
                        size += 1
        weight = math.log(size + 2)
        matching = counts[c]
        for i in range(k):
            code = node_codes[nodes[i]]
            if code < 0:
                continue
            count = matching[nodes[i]] if hostname[c] else matching[code]
            total[i] += count * weight + (max_skew[c] - 1)
    raw = np.empty(k, dtype=np.int64)
    for i in range(k):
        if not kept[i]:
            raw[i] = -1
        else:
            whole = math.trunc(total[i])
            raw[i] = int(whole) + (1 if total[i] - whole >= 0.5 else 0)
    return raw


@njit(cache=True)
def add_spread(totals: np.ndarray, weight: int, nodes: np.ndarray, check_keys: bool,
               has_all_keys: np.ndarray, codes: tuple[np.ndarray, ...],
               domain_codes: tuple[np.ndarray, ...], counts: tuple[np.ndarray, ...],
               hostname: np.ndarray, max_skew: np.ndarray, n_domains: np.ndarray) -> None:
    """``totals`` (int64 (k,)) += ``weight`` × PodTopologySpread's normalised scores of the
    candidate ``nodes`` (``spread_scores`` then ``spread_normalize``), in place."""
    normalized = spread_normalize(spread_scores(nodes, check_keys, has_all_keys, codes,
                                                domain_codes, counts, hostname, max_skew,
                                                n_domains))
    for i in range(nodes.shape[0]):
        totals[i] += weight * normalized[i]


@njit(cache=True)
def best_nodes(nodes: np.ndarray, totals: np.ndarray, best: np.ndarray) -> int:
    """Writes the ``nodes`` (int64 (k,), k >= 1) of the highest ``totals`` (int64 (k,)) into
    ``best``, in order, and returns how many there are."""
    top = totals[0]
    for i in range(1, totals.shape[0]):
        if totals[i] > top:
            top = totals[i]
    found = 0
    for i in range(totals.shape[0]):
        if totals[i] == top:
            best[found] = nodes[i]
            found += 1
    return found


@njit(cache=True)
def spread_normalize(scores: np.ndarray) -> np.ndarray:
    """PodTopologySpread's NormalizeScore of raw ``scores`` (int64 (k,), -1 for ignored
    nodes): over the others, 100 × (max + min - s) // max (100 when max is 0); 0 for the
    ignored ones."""
    k = scores.shape[0]
    low, high, kept = 0, 0, 0
    for i in range(k):
        s = scores[i]
        if s < 0:
            continue
        if kept == 0 or s < low:
            low = s
        if kept == 0 or s > high:
            high = s
        kept += 1
    out = np.zeros(k, dtype=np.int64)
    for i in range(k):
        if scores[i] >= 0:
            out[i] = 100 if high == 0 else 100 * (high + low - scores[i]) // high
    return out
