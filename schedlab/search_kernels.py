"""Compiled loops of Greedy's pod-by-pod cycle (``policies.compiled``) that remember what
they computed per node (numba; compiled at first use and cached on disk).

NodeResourcesFit's filter and the NODE-scope scores of every node a search visits depend
only on the node's bound requests (``ClusterState.requested``, ``nonzero_requested``,
``pod_count``) and on the pod's requests, so ``cached_search`` keeps them per pod shape
(``CompiledCycle``'s caches) and works them out again only on the nodes bound or unbound
since (``ClusterState.node_version``), with the same helpers (``kernels.fits``,
``kernels.node_score``): the same booleans and integers. It also adds PodTopologySpread's
scores of the candidates (``kernels.spread_scores_into``, ``add_spread_normalized``) and
keeps the best candidates (as ``kernels.best_nodes``), in the same call: one call per pod
instead of three.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from schedlab.kernels import (
    MAX_NODE_SCORE,
    add_spread_normalized,
    fits,
    found_in_order,
    node_score,
    spread_scores_into,
    weight_total,
)

UNFIT = -(2**63)
"""The score remembered of a node the pod does not fit (no score is that low)."""


def pack_shape(check_fit: bool, fit_weight: int, least: bool, balanced_weight: int,
               fit_columns: np.ndarray, fit_want: np.ndarray, score_columns: np.ndarray,
               score_weights: np.ndarray, score_pod: np.ndarray, balanced_columns: np.ndarray,
               balanced_pod: np.ndarray) -> np.ndarray:
    """``cached_search``'s ``shape``: the pod's arguments of ``kernels.fits`` and
    ``kernels.node_score`` (and whether to check the fit) in one int64 array (the flags
    and weights, the lengths of the three column lists, then the arrays in this order)."""
    head = [int(check_fit), fit_weight, int(least), balanced_weight, len(fit_columns),
            len(score_columns), len(balanced_columns)]
    return np.concatenate([np.array(head, dtype=np.int64)] + [
        np.asarray(a, dtype=np.int64) for a in (fit_columns, fit_want, score_columns,
                                                score_weights, score_pod, balanced_columns,
                                                balanced_pod)])


@njit(cache=True)
def fits_any(nodes: np.ndarray, mask: np.ndarray, check_fit: bool, pod_count: np.ndarray,
             allowed_pods: np.ndarray, requested: np.ndarray, allocatable: np.ndarray,
             fit_columns: np.ndarray, fit_want: np.ndarray) -> bool:
    """Whether one of ``nodes`` (int64 (k,)) passes ``mask`` (bool (n_nodes,)) and, with
    ``check_fit``, NodeResourcesFit's filter (``kernels.fits``) for the pod asking
    ``fit_want`` in ``fit_columns``: the search would find it."""
    for i in range(nodes.shape[0]):
        node = nodes[i]
        if mask[node] and (not check_fit or fits(node, pod_count, allowed_pods, requested,
                                                 allocatable, fit_columns, fit_want)):
            return True
    return False


@njit(cache=True)
def cached_search(mask: np.ndarray, start: int, to_find: int, node_version: np.ndarray,
                  cache: np.ndarray, pod_count: np.ndarray, allowed_pods: np.ndarray,
                  requested: np.ndarray, allocatable: np.ndarray,
                  nonzero_requested: np.ndarray, plain: np.ndarray, shape: np.ndarray,
                  buffers: np.ndarray, spread_weight: int, spread_arguments: tuple,
                  normalized_weight: int, normalized_values: np.ndarray, reverse: bool
                  ) -> tuple[int, int, int]:
    """Search the nodes from ``start`` in round-robin order for ``to_find`` that pass
    ``mask`` (bool (n_nodes,)) and NodeResourcesFit's filter, and write them in node order
    to ``buffers[0]`` and their totals, ``plain`` (int64 (n_nodes,)) plus the NODE-scope
    scores, to ``buffers[1]`` (``buffers``: int64 (3, n_nodes), whose ``buffers[2]``,
    ``best``, holds the spreading's raw scores until the best are written there). The
    pod's side of the filter and scores is ``shape`` (``pack_shape``); the filter and
    scores of each node are taken from
    ``cache[1]`` (int64 (2, n_nodes): the score, ``UNFIT`` where the pod does not fit) where
    ``cache[0]`` equals ``node_version``, else worked out and stored there with the node's
    version. Then, with two candidates or more: a non-zero ``spread_weight`` × the
    normalised PodTopologySpread scores of the candidates (``spread_arguments``:
    ``kernels.spread_scores``'s arguments after the nodes) added to their totals, as is a
    non-zero ``normalized_weight`` × kube's DefaultNormalizeScore (``reverse`` or not) of
    the raw scores ``normalized_values`` (int64 (n_nodes,), none negative) over the
    candidates, and the candidates of the highest total written in order to ``best``.
    Returns (how many candidates, the next start, how many best ones: 0 with fewer than two
    candidates)."""
    check_fit, fit_weight, least, balanced_weight = (
        shape[0] != 0, shape[1], shape[2] != 0, shape[3])
    m_fit, m_score, m_balanced = shape[4], shape[5], shape[6]
    at = 7
    fit_columns = shape[at:at + m_fit]
    fit_want = shape[at + m_fit:at + 2 * m_fit]
    at += 2 * m_fit
    score_columns = shape[at:at + m_score]
    score_weights = shape[at + m_score:at + 2 * m_score]
    score_pod = shape[at + 2 * m_score:at + 3 * m_score]
    at += 3 * m_score
    balanced_columns = shape[at:at + m_balanced]
    balanced_pod = shape[at + m_balanced:at + 2 * m_balanced]
    nodes, totals, best = buffers[0], buffers[1], buffers[2]
    versions, scores = cache[0], cache[1]
    weight_sum = weight_total(score_weights)
    fraction = np.empty(m_balanced)
    n = mask.shape[0]
    found = 0
    last = -1
    for step in range(n):
        node = start + step
        if node >= n:
            node -= n
        if not mask[node]:
            continue
        version = node_version[node]
        if versions[node] != version:
            if check_fit and not fits(node, pod_count, allowed_pods, requested, allocatable,
                                      fit_columns, fit_want):
                scores[node] = UNFIT
            else:
                scores[node] = node_score(
                    node, requested, allocatable, nonzero_requested, fit_weight, least,
                    score_columns, score_weights, weight_sum, score_pod, balanced_weight,
                    balanced_columns, balanced_pod, fraction)
            versions[node] = version
        if scores[node] == UNFIT:
            continue
        nodes[found] = node
        found += 1
        if found == to_find:
            last = step
            break
    next_start = found_in_order(nodes, found, to_find, start, last, n)
    for i in range(found):
        node = nodes[i]
        totals[i] = plain[node] + scores[node]
    if found < 2:
        return found, next_start, 0
    if spread_weight != 0:  # (the raw scores in ``best``, written only later)
        spread_scores_into(best, nodes[:found], *spread_arguments)
        add_spread_normalized(totals, spread_weight, best, found)
    if normalized_weight != 0:
        high = normalized_values[nodes[0]]
        for i in range(1, found):
            if normalized_values[nodes[i]] > high:
                high = normalized_values[nodes[i]]
        for i in range(found):
            part = 0 if high == 0 else MAX_NODE_SCORE * normalized_values[nodes[i]] // high
            totals[i] += normalized_weight * (MAX_NODE_SCORE - part if reverse else part)
    top = totals[0]
    for i in range(1, found):
        if totals[i] > top:
            top = totals[i]
    n_best = 0
    for i in range(found):
        if totals[i] == top:
            best[n_best] = nodes[i]
            n_best += 1
    return found, next_start, n_best
