"""Compiled loops (numba; compiled at first use and cached on disk), imported only where
used so that ``import schedlab`` stays light. Integer and float operations are those of
kube-scheduler's formulas as the numpy plugins write them, element by element and in the
same order, so the results are the same bit for bit.

The helpers called per node take arrays and allocate nothing, so they are compiled without
reference counting (``_nrt=False``): numba would otherwise count references to every array
argument on every call, which costs several times the arithmetic."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

MAX_NODE_SCORE = 100
per_node = njit(cache=True, _nrt=False)  # type: ignore[call-overload]
"""The decorator of the helpers called per node: no reference counting (see above)."""


@per_node
def fits(node: int, pod_count: np.ndarray, allowed_pods: np.ndarray, requested: np.ndarray,
         allocatable: np.ndarray, fit_columns: np.ndarray, fit_want: np.ndarray) -> bool:
    """NodeResourcesFit's filter on one node: room for one more pod, and ``fit_want`` (the
    pod's requests in ``fit_columns``) within what is left of the allocatable."""
    if pod_count[node] >= allowed_pods[node]:
        return False
    for j in range(fit_columns.shape[0]):
        column = fit_columns[j]
        if requested[node, column] + fit_want[j] > allocatable[node, column]:
            return False
    return True


@per_node
def node_score(node: int, requested: np.ndarray, allocatable: np.ndarray,
               nonzero_requested: np.ndarray, fit_weight: int, least: bool,
               score_columns: np.ndarray, score_weights: np.ndarray, weight_sum: int,
               score_pod: np.ndarray, balanced_weight: int, balanced_columns: np.ndarray,
               balanced_pod: np.ndarray, fraction: np.ndarray) -> int:
    """NodeResourcesFit's score (LeastAllocated, or MostAllocated when not ``least``; the
    resources ``score_columns`` weighted ``score_weights``, which sum to ``weight_sum``, the
    pod asking ``score_pod`` of each) × ``fit_weight`` plus NodeResourcesBalancedAllocation's
    (``balanced_columns``, the pod asking ``balanced_pod``) × ``balanced_weight``, on one
    node; ``fraction`` is a float buffer of len(balanced_columns)."""
    total = 0
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
        m = balanced_columns.shape[0]
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
    return total


@per_node
def weight_total(weights: np.ndarray) -> int:
    """The sum of NodeResourcesFit's resource weights, at least 1 (kube divides by it)."""
    total = 0
    for j in range(weights.shape[0]):
        total += weights[j]
    return total if total > 1 else 1


@njit(cache=True)
def found_in_order(nodes: np.ndarray, found: int, to_find: int, start: int, last: int,
                   n: int) -> int:
    """After a round-robin search from ``start`` that found ``found`` of ``to_find`` nodes
    (written in visiting order to ``nodes``; the last at step ``last``) among ``n``: sorts
    them in node order in place and returns where the next search starts (past the last
    one if ``to_find`` were found among fewer than all nodes, else ``start``)."""
    next_start = start
    if found == to_find and to_find < n:
        next_start = (start + last + 1) % n
    # in ascending order: the nodes found past the end of the array come first
    wrapped = 0
    while wrapped < found and nodes[wrapped] >= start:
        wrapped += 1
    if 0 < wrapped < found:
        nodes[:found] = np.concatenate((nodes[wrapped:found], nodes[:wrapped]))
    return next_start


@njit(cache=True)
def spread_scores(nodes: np.ndarray, check_keys: bool, has_all_keys: np.ndarray,
                  codes: tuple[np.ndarray, ...], domain_codes: tuple[np.ndarray, ...],
                  counts: tuple[np.ndarray, ...], hostname: np.ndarray, max_skew: np.ndarray,
                  n_domains: np.ndarray) -> np.ndarray:
    """PodTopologySpread's raw scores (int64 (k,)) of the candidate ``nodes`` (int64 (k,)):
    per constraint c (tuples ``codes``, ``domain_codes``, ``counts``: matching pods per node
    for a ``hostname`` constraint, else per domain), over the nodes with c's key, matching
    pods × ln(domains among the kept candidates + 2) + maxSkew - 1; rounded half up; -1 for
    a node lacking some key when ``check_keys`` (``spread_scores_into`` a new array)."""
    raw = np.empty(nodes.shape[0], dtype=np.int64)
    spread_scores_into(raw, nodes, check_keys, has_all_keys, codes, domain_codes, counts,
                       hostname, max_skew, n_domains)
    return raw


@njit(cache=True)
def spread_scores_into(raw: np.ndarray, nodes: np.ndarray, check_keys: bool,
                       has_all_keys: np.ndarray, codes: tuple[np.ndarray, ...],
                       domain_codes: tuple[np.ndarray, ...], counts: tuple[np.ndarray, ...],
                       hostname: np.ndarray, max_skew: np.ndarray, n_domains: np.ndarray
                       ) -> None:
    """``spread_scores`` written into ``raw[:k]`` (int64, at least k long): per constraint
    its weight ln(domains + 2), then its part added to each node's sum, the constraints in
    their order (the same floats as summing node by node; one constraint at a time, its
    arrays are reached once)."""
    k = nodes.shape[0]
    n_kept = k
    if check_keys:
        n_kept = 0
        for i in range(k):
            n_kept += has_all_keys[nodes[i]]
    totals = np.zeros(k)
    for c in range(len(codes)):
        node_codes, node_counts, by_node = codes[c], counts[c], hostname[c]
        size = n_kept
        if not by_node:
            seen = np.zeros(n_domains[c], dtype=np.bool_)
            domains = domain_codes[c]
            size = 0
            for i in range(k):
                node = nodes[i]
                if not check_keys or has_all_keys[node]:
                    domain = domains[node]
                    if not seen[domain]:
                        seen[domain] = True
                        size += 1
        weight, skew = math.log(size + 2), max_skew[c] - 1
        for i in range(k):
            node = nodes[i]
            code = node_codes[node]
            if code < 0 or (check_keys and not has_all_keys[node]):
                continue
            count = node_counts[node] if by_node else node_counts[code]
            totals[i] += count * weight + skew
    for i in range(k):
        if check_keys and not has_all_keys[nodes[i]]:
            raw[i] = -1
            continue
        total = totals[i]
        whole = math.trunc(total)
        raw[i] = int(whole) + (1 if total - whole >= 0.5 else 0)


@njit(cache=True)
def add_spread(totals: np.ndarray, weight: int, nodes: np.ndarray, scratch: np.ndarray,
               check_keys: bool, has_all_keys: np.ndarray, codes: tuple[np.ndarray, ...],
               domain_codes: tuple[np.ndarray, ...], counts: tuple[np.ndarray, ...],
               hostname: np.ndarray, max_skew: np.ndarray, n_domains: np.ndarray) -> None:
    """``totals`` (int64 (k,)) += ``weight`` × PodTopologySpread's normalised scores of the
    candidate ``nodes`` (``spread_scores`` then ``spread_normalize``), in place; the raw
    scores go through ``scratch`` (int64, at least k long)."""
    k = nodes.shape[0]
    spread_scores_into(scratch, nodes, check_keys, has_all_keys, codes, domain_codes, counts,
                       hostname, max_skew, n_domains)
    add_spread_normalized(totals, weight, scratch, k)


@per_node
def _spread_range(scores: np.ndarray, k: int) -> tuple[int, int]:
    """(lowest, highest) of ``scores[:k]`` over those not negative ((0, 0) if none)."""
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
    return low, high


@per_node
def _spread_normalized(score: int, low: int, high: int) -> int:
    """PodTopologySpread's NormalizeScore of one raw score, given the range of them all."""
    if score < 0:
        return 0
    return 100 if high == 0 else 100 * (high + low - score) // high


@njit(cache=True)
def add_spread_normalized(totals: np.ndarray, weight: int, scores: np.ndarray, k: int) -> None:
    """``totals[:k]`` += ``weight`` × ``spread_normalize(scores[:k])``, in place: each
    distinct score normalised once when they span fewer values than there are scores (an
    integer division each costs more than a lookup)."""
    low, high = _spread_range(scores, k)
    span = high - low + 1
    if span >= k:
        for i in range(k):
            totals[i] += weight * _spread_normalized(scores[i], low, high)
        return
    normalized = np.empty(span, dtype=np.int64)
    for value in range(span):
        normalized[value] = _spread_normalized(low + value, low, high)
    for i in range(k):
        score = scores[i]
        totals[i] += weight * (normalized[score - low] if score >= 0 else 0)


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
    low, high = _spread_range(scores, k)
    out = np.empty(k, dtype=np.int64)
    for i in range(k):
        out[i] = _spread_normalized(scores[i], low, high)
    return out


# ---------------------------------------------------------------------- runs of pods
# A max-and-count tree over the nodes per pod class: for each node its total score for the
# class (-1 where the class cannot run), and for each subtree the highest total, how many
# nodes have it and how many nodes are feasible. Leaves start at ``size`` (a power of two at
# least n_nodes); the padding leaves hold -2 and count nothing.

@per_node
def _pull(top: np.ndarray, count: np.ndarray, feasible: np.ndarray, v: int) -> None:
    left, right = 2 * v, 2 * v + 1
    high = top[left] if top[left] > top[right] else top[right]
    top[v] = high
    count[v] = (count[left] if top[left] == high else 0) + (
        count[right] if top[right] == high else 0)
    feasible[v] = feasible[left] + feasible[right]


@per_node
def _set_leaf(top: np.ndarray, count: np.ndarray, feasible: np.ndarray, size: int,
              node: int, value: int) -> None:
    v = size + node
    top[v] = value
    count[v] = 1
    feasible[v] = 1 if value >= 0 else 0
    v >>= 1
    while v >= 1:
        _pull(top, count, feasible, v)
        v >>= 1


@per_node
def _range(top: np.ndarray, count: np.ndarray, feasible: np.ndarray, size: int, lo: int,
           hi: int) -> tuple[int, int, int]:
    """(highest total, how many nodes have it, feasible nodes) over the leaves [lo, hi)."""
    high, ties, found = -2, 0, 0
    left, right = lo + size, hi + size
    while left < right:
        if left & 1:
            if top[left] > high:
                high, ties = top[left], count[left]
            elif top[left] == high:
                ties += count[left]
            found += feasible[left]
            left += 1
        if right & 1:
            right -= 1
            if top[right] > high:
                high, ties = top[right], count[right]
            elif top[right] == high:
                ties += count[right]
            found += feasible[right]
        left >>= 1
        right >>= 1
    return high, ties, found


@per_node
def _kth_feasible(feasible: np.ndarray, size: int, k: int) -> int:
    """The node of the k-th (from 1) feasible leaf (there are at least k)."""
    v = 1
    while v < size:
        v *= 2
        if feasible[v] < k:
            k -= feasible[v]
            v += 1
    return v - size


@per_node
def _jth_tied(top: np.ndarray, count: np.ndarray, size: int, lo: int, hi: int, high: int,
              j: int, lefts: np.ndarray, rights: np.ndarray) -> int:
    """The node of the j-th (from 0) leaf in [lo, hi) whose total is ``high``, the highest
    there (there are more than j); ``lefts`` and ``rights`` are int64 buffers of 64."""
    n_left = n_right = 0
    left, right = lo + size, hi + size
    while left < right:
        if left & 1:
            lefts[n_left] = left
            n_left += 1
            left += 1
        if right & 1:
            right -= 1
            rights[n_right] = right
            n_right += 1
        left >>= 1
        right >>= 1
    for i in range(n_left + n_right):
        v = lefts[i] if i < n_left else rights[n_right - 1 - (i - n_left)]
        if top[v] != high:
            continue
        if count[v] <= j:
            j -= count[v]
            continue
        while v < size:
            v *= 2
            if top[v] == high:
                if count[v] > j:
                    continue
                j -= count[v]
            v += 1
        return v - size
    return -1


@per_node
def _skew_floor(counts: np.ndarray, exists: np.ndarray, size: int, min_domains: int
                ) -> tuple[int, bool]:
    """A skew rule's floor (``DomainRule``) and whether some domain exists."""
    low, existing = 0, 0
    for e in range(size):
        if exists[e]:
            if existing == 0 or counts[e] < low:
                low = counts[e]
            existing += 1
    return (low if existing >= min_domains else 0), existing > 0


@per_node
def _domain_allowed(f: int, e: int, params: np.ndarray, counts: np.ndarray, floor: int,
                    any_exists: bool) -> bool:
    """``DomainRule.allowed()[e]`` for rule ``f`` (``params[f]``: skew?, maxSkew,
    minDomains, self_match, n_domains + 1)."""
    if params[f, 0] == 0:
        return counts[f, e] == 0
    if e == params[f, 4] - 1:
        return False
    return not any_exists or counts[f, e] + params[f, 3] - floor <= params[f, 1]


@per_node
def _passes_rules(node: int, base: np.ndarray, codes: np.ndarray, params: np.ndarray,
                  allowed: np.ndarray) -> bool:
    if not base[node]:
        return False
    for g in range(codes.shape[0]):
        code = codes[g, node]
        if not allowed[g, code if code >= 0 else params[g, 4] - 1]:
            return False
    return True


def draw(rng: np.random.Generator | int, ties: int) -> int:
    """``rng.integers(ties)``; 0 when ``rng`` is an int (first of the ties, and no Generator
    to pass: handing one to a compiled function costs microseconds per call)."""
    return 0 if isinstance(rng, int) else int(rng.integers(ties))


@overload(draw)
def _draw(rng, ties):  # type: ignore[no-untyped-def]
    if isinstance(rng, types.Integer):
        return lambda rng, ties: 0
    return lambda rng, ties: rng.integers(0, ties)


@per_node
def _leaf_value(node: int, s: int, mask: np.ndarray, check_fit: np.ndarray, plain: np.ndarray,
                pod_count: np.ndarray, allowed_pods: np.ndarray, requested: np.ndarray,
                allocatable: np.ndarray, nonzero_requested: np.ndarray, fit_weight: int,
                least: bool, balanced_weight: int, fit_columns: np.ndarray,
                fit_want: np.ndarray, score_columns: np.ndarray, score_weights: np.ndarray,
                weight_sum: int, score_pod: np.ndarray, balanced_columns: np.ndarray,
                balanced_pod: np.ndarray, fraction: np.ndarray) -> int:
    """Slot ``s``'s total score on the node, -1 where its pods cannot run (``place_run``)."""
    if not mask[s, node] or (check_fit[s] and not fits(
            node, pod_count, allowed_pods, requested, allocatable, fit_columns, fit_want)):
        return -1
    return plain[s, node] + node_score(
        node, requested, allocatable, nonzero_requested, fit_weight, least, score_columns,
        score_weights, weight_sum, score_pod, balanced_weight, balanced_columns, balanced_pod,
        fraction)


@per_node
def _refresh_leaves(nodes: np.ndarray, begin: int, end: int, rebuild: bool, top: np.ndarray,
                    count: np.ndarray, feasible: np.ndarray, size: int, s: int,
                    mask: np.ndarray, check_fit: np.ndarray, plain: np.ndarray,
                    pod_count: np.ndarray, allowed_pods: np.ndarray, requested: np.ndarray,
                    allocatable: np.ndarray, nonzero_requested: np.ndarray, fit_weight: int,
                    least: bool, balanced_weight: int, fit_columns: np.ndarray,
                    fit_want: np.ndarray, score_columns: np.ndarray,
                    score_weights: np.ndarray, weight_sum: int, score_pod: np.ndarray,
                    balanced_columns: np.ndarray, balanced_pod: np.ndarray,
                    fraction: np.ndarray) -> None:
    """Work out again slot ``s``'s leaves (``_leaf_value``) of ``nodes[begin:end]`` in its
    tree: each leaf and its path up, or, with ``rebuild``, the leaves and then every inner
    node once (cheaper when many change)."""
    for i in range(begin, end):
        node = nodes[i]
        value = _leaf_value(
            node, s, mask, check_fit, plain, pod_count, allowed_pods, requested, allocatable,
            nonzero_requested, fit_weight, least, balanced_weight, fit_columns, fit_want,
            score_columns, score_weights, weight_sum, score_pod, balanced_columns,
            balanced_pod, fraction)
        if rebuild:
            top[size + node] = value
            count[size + node] = 1
            feasible[size + node] = 1 if value >= 0 else 0
        else:
            _set_leaf(top, count, feasible, size, node, value)
    if rebuild:
        for v in range(size - 1, 0, -1):
            _pull(top, count, feasible, v)


PLACED_ALL, NOT_PREPARED, FITS_NOWHERE, ANSWERS_CHANGED = 0, 1, 2, 3
"""Why ``place_run`` stopped: every pod placed; a pod whose class is not prepared; a pod
that fits nowhere; a pod after one whose bind changed answers the run does not follow."""


@njit(cache=True)
def place_run(classes: np.ndarray, slot_of: np.ndarray, start: int, to_find: int,
              rng: np.random.Generator | int, pod_count: np.ndarray,
              allowed_pods: np.ndarray, requested: np.ndarray, allocatable: np.ndarray,
              nonzero_requested: np.ndarray, fit_weight: int, least: bool,
              balanced_weight: int, mask: np.ndarray, plain: np.ndarray,
              check_fit: np.ndarray, fit_columns: np.ndarray, fit_want: np.ndarray,
              score_columns: np.ndarray, score_weights: np.ndarray, weight_sum: np.ndarray,
              score_pod: np.ndarray, balanced_columns: np.ndarray, balanced_pod: np.ndarray,
              pod_requested: np.ndarray, pod_nonzero: np.ndarray, ends_run: np.ndarray,
              top: np.ndarray, count: np.ndarray, feasible: np.ndarray, synced: np.ndarray,
              log: np.ndarray, log_length: int, following: int, rules_slot: int,
              rule_base: np.ndarray, rule_codes: np.ndarray, rule_adds: np.ndarray,
              rule_params: np.ndarray, rule_counts: np.ndarray, rule_exists: np.ndarray,
              rule_allowed: np.ndarray, rule_order: np.ndarray, rule_starts: np.ndarray,
              out: np.ndarray) -> tuple[int, int, int, int]:
    """Greedy's cycle for each pod of a run, each bound (in ``pod_count``, ``requested``,
    ``nonzero_requested``) before the next is placed: the pods' classes are ``classes``
    (int64 (k,)), a class's arrays are in row ``slot_of[class]`` of the per-slot arrays
    (-1: not prepared, which ends the run). Per slot: ``mask`` (bool (n_nodes,)), ``plain``
    (int64 (n_nodes,): the scores that do not change with binds), NodeResourcesFit's
    filter (``check_fit``, ``fit_columns``/``fit_want``) and scores (``node_score``'s
    arguments; column lists are padded with -1), the pod's requests (``pod_requested``,
    ``pod_nonzero``), whether its binds change what CLUSTER plugins answer (``ends_run``),
    its max-and-count tree (``top``, ``count``, ``feasible``) and ``synced``, the position
    in ``log`` (the nodes whose binds changed, in order; the first ``log_length`` are in
    use) up to which the tree is up to date (-1: rebuild it).

    After the bind of a pod whose class ``ends_run``, only pods of that class may follow,
    and only if it is ``rules_slot``: its filters are then the ``DomainRule``s given as
    arrays (F rules, W = the most domains + 1): ``rule_base`` (bool (n_nodes,): the other
    filters), ``rule_codes`` and ``rule_adds`` (int64 (F, n_nodes)), ``rule_params``
    (int64 (F, 5): skew rule?, maxSkew, minDomains, self_match, n_domains + 1),
    ``rule_counts`` (int64 (F, W)), ``rule_exists`` and ``rule_allowed`` (bool (F, W): the
    rule's allowed domains now, kept up to date here), ``rule_order`` (int64 (F, n_nodes):
    the nodes by domain, those lacking the key last) and ``rule_starts`` (int64 (F, W + 1):
    where each domain's nodes start there). A bind adds to the counts, and the nodes of the
    domains whose answer flipped get their mask entry and tree leaf again. ``following`` is
    that class's slot when the pod before ``classes[0]`` was such a pod, else -1.

    The candidates are kube's: the first ``to_find`` feasible nodes from ``start`` in
    round-robin order (all of them if fewer). The best are those of the highest total, the
    pod goes to the j-th of them in node order, j drawn as ``rng.integers(ties)`` (the
    first if ``rng`` is an int); a single candidate is taken unscored.

    Writes the nodes into ``out`` and returns (pods placed, the next start, the new log
    length, why it stopped: ``PLACED_ALL``, ``NOT_PREPARED``, ``FITS_NOWHERE`` or
    ``ANSWERS_CHANGED``)."""
    n = mask.shape[1]
    size = top.shape[1] // 2
    fraction = np.empty(balanced_columns.shape[1])
    lefts = np.empty(64, dtype=np.int64)
    rights = np.empty(64, dtype=np.int64)
    flipped = np.empty(n * max(rule_codes.shape[0], 1), dtype=np.int64)
    everyone = np.arange(n)
    depth = 1
    while (1 << depth) < size:
        depth += 1
    placed = 0
    for i in range(classes.shape[0]):
        c = classes[i]
        s = slot_of[c]
        if s < 0:
            return placed, start, log_length, NOT_PREPARED
        if following >= 0 and s != following:
            return placed, start, log_length, ANSWERS_CHANGED
        fits_at = fit_columns[s]
        fits_n = 0
        while fits_n < fits_at.shape[0] and fits_at[fits_n] >= 0:
            fits_n += 1
        scored_n = 0
        while scored_n < score_columns.shape[1] and score_columns[s, scored_n] >= 0:
            scored_n += 1
        balanced_n = 0
        while balanced_n < balanced_columns.shape[1] and balanced_columns[s, balanced_n] >= 0:
            balanced_n += 1
        s_fit_columns, s_fit_want = fits_at[:fits_n], fit_want[s, :fits_n]
        s_score_columns = score_columns[s, :scored_n]
        s_score_weights, s_score_pod = score_weights[s, :scored_n], score_pod[s, :scored_n]
        s_balanced_columns = balanced_columns[s, :balanced_n]
        s_balanced_pod = balanced_pod[s, :balanced_n]
        s_top, s_count, s_feasible = top[s], count[s], feasible[s]
        if synced[s] < 0 or (log_length - synced[s]) * 4 > n:
            changed, first, last_changed, rebuild = everyone, 0, n, True
        else:
            changed, first, last_changed, rebuild = log, synced[s], log_length, False
        _refresh_leaves(
            changed, first, last_changed, rebuild, s_top, s_count, s_feasible, size, s, mask,
            check_fit, plain, pod_count, allowed_pods, requested, allocatable,
            nonzero_requested, fit_weight, least, balanced_weight, s_fit_columns, s_fit_want,
            s_score_columns, s_score_weights, weight_sum[s], s_score_pod, s_balanced_columns,
            s_balanced_pod, fraction)
        synced[s] = log_length
        total_feasible = s_feasible[1]
        if total_feasible == 0:
            return placed, start, log_length, FITS_NOWHERE
        # the candidates: [lo1, hi1) then [lo2, hi2), in node order
        lo1, hi1, lo2, hi2 = 0, n, 0, 0
        next_start = start
        if to_find < n and total_feasible >= to_find:
            ahead = _range(s_top, s_count, s_feasible, size, start, n)[2]
            if ahead >= to_find:
                before = _range(s_top, s_count, s_feasible, size, 0, start)[2]
                last = _kth_feasible(s_feasible, size, before + to_find)
                lo1, hi1 = start, last + 1
            else:
                last = _kth_feasible(s_feasible, size, to_find - ahead)
                lo1, hi1, lo2, hi2 = 0, last + 1, start, n
            next_start = (last + 1) % n
            candidates = to_find
        else:
            candidates = total_feasible
        if candidates == 1:
            if hi2 > lo2:  # (the one candidate is the to_find-th, the last)
                node = hi1 - 1
            else:
                before = _range(s_top, s_count, s_feasible, size, 0, lo1)[2]
                node = _kth_feasible(s_feasible, size, before + 1)
        else:
            high, ties, _ = _range(s_top, s_count, s_feasible, size, lo1, hi1)
            ties1 = ties
            if hi2 > lo2:
                high2, ties2, _ = _range(s_top, s_count, s_feasible, size, lo2, hi2)
                if high2 > high:
                    high, ties, ties1 = high2, ties2, 0
                elif high2 == high:
                    ties += ties2
            j = draw(rng, ties) if ties > 1 else 0
            if j < ties1:
                node = _jth_tied(s_top, s_count, size, lo1, hi1, high, j, lefts, rights)
            else:
                node = _jth_tied(s_top, s_count, size, lo2, hi2, high, j - ties1, lefts,
                                 rights)
        start = next_start
        pod_count[node] += 1
        for r in range(requested.shape[1]):
            requested[node, r] += pod_requested[s, r]
            nonzero_requested[node, r] += pod_nonzero[s, r]
        log[log_length] = node
        log_length += 1
        out[i] = node
        placed += 1
        if not ends_run[s]:
            continue
        if s != rules_slot:
            return placed, start, log_length, ANSWERS_CHANGED
        following = s
        n_flipped = 0
        for f in range(rule_codes.shape[0]):
            domain = rule_codes[f, node]
            if domain < 0 or rule_adds[f, node] == 0:
                continue
            rule_counts[f, domain] += rule_adds[f, node]
            skew = rule_params[f, 0] != 0
            floor, any_exists = 0, False
            if skew:
                floor, any_exists = _skew_floor(rule_counts[f], rule_exists[f],
                                                rule_params[f, 4], rule_params[f, 2])
            for e in range(0 if skew else domain, rule_params[f, 4] if skew else domain + 1):
                now = _domain_allowed(f, e, rule_params, rule_counts, floor, any_exists)
                if now == rule_allowed[f, e]:
                    continue
                rule_allowed[f, e] = now
                for k in range(rule_starts[f, e], rule_starts[f, e + 1]):
                    v = rule_order[f, k]
                    passes = _passes_rules(v, rule_base, rule_codes, rule_params, rule_allowed)
                    if passes != mask[s, v]:
                        mask[s, v] = passes
                        flipped[n_flipped] = v  # (a node may be listed once per rule)
                        n_flipped += 1
        # the flipped nodes' leaves: one by one, or all then the tree above them
        _refresh_leaves(
            flipped, 0, n_flipped, n_flipped * depth > size, s_top, s_count, s_feasible, size,
            s, mask, check_fit, plain, pod_count, allowed_pods, requested, allocatable,
            nonzero_requested, fit_weight, least, balanced_weight, s_fit_columns, s_fit_want,
            s_score_columns, s_score_weights, weight_sum[s], s_score_pod, s_balanced_columns,
            s_balanced_pod, fraction)
    return placed, start, log_length, PLACED_ALL
