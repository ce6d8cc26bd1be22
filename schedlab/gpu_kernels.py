"""Compiled loops of GPU fragmentation and the FGD score (numba; compiled at first use and
cached on disk), imported only where used so that ``import schedlab`` stays light.

They compute what ``schedlab.fragmentation`` and ``schedlab.plugins.fgd_score`` compute with
numpy, node by node, with the same integers: fragmentation amounts are exact (scaled by the
typical pods' total count), and the FGD score of an integer gain is read from thresholds
worked out with the numpy formula itself (``fgd_score.sigmoid_thresholds``), so that no
floating-point function of numba's stands in for numpy's.

The arrays they read (shapes as ``Fragmentation`` holds them):

gpu_free    int64 (n_nodes, max GPUs): milli-GPU free per device (``ClusterState.gpu_free``)
accessible  bool (n_nodes, T): shape t asks for GPUs and may use the node's model
below       int64 (n_nodes, T): milli-GPU free on devices with less than shape t's milli free
fitting     int64 (n_nodes, T): devices with at least shape t's milli free
idle        int64 (n_nodes,): milli-GPU free on the node
cpu_free    int64 (n_nodes,): millicores free
scaled      int64 (n_nodes,): the node's fragmentation (milli-GPU) × the typical pods' total
shapes      int64 (4, T): the typical shapes' cpu milli, GPU count, milli per GPU and count
            (rows ``CPU``, ``COUNT``, ``MILLI``, ``WEIGHT``)
thresholds  int64 (100,): the least integer scaled gain scoring at least s, at [s - 1]
ask         int64 (6,): the pod's cpu milli (non-zero), GPU count, milli per GPU, whether it
            shares a device (0/1), whether it asks for nothing at all (0/1) and whether
            GpuShare checks its devices (0/1); entries ``ASK_*``
"""

from __future__ import annotations

import numpy as np
from numba import njit

from schedlab.kernels import fits, per_node

CPU, COUNT, MILLI, WEIGHT = range(4)
"""Rows of ``shapes``."""
ASK_CPU, ASK_COUNT, ASK_MILLI, ASK_SHARES, ASK_NOTHING, ASK_FILTER = range(6)
"""Entries of ``ask``."""
MILLI_PER_GPU = 1000
MAX_NODE_SCORE = 100


@per_node
def recount(node: int, gpu_free: np.ndarray, shapes: np.ndarray, below: np.ndarray,
            fitting: np.ndarray) -> int:
    """Write the node's rows of ``below`` and ``fitting`` from its devices; returns its idle
    milli-GPU."""
    width = gpu_free.shape[1]
    idle = 0
    for g in range(width):
        idle += gpu_free[node, g]
    for t in range(shapes.shape[1]):
        milli = shapes[MILLI, t]
        short, fit = 0, width
        for g in range(width):
            free = gpu_free[node, g]
            if free < milli:
                short += free
                fit -= 1
        below[node, t] = short
        fitting[node, t] = fit
    return idle


@per_node
def amount(node: int, accessible: np.ndarray, below: np.ndarray, fitting: np.ndarray,
           idle: int, cpu_free: int, shapes: np.ndarray, taken: int, before: int,
           after: int) -> int:
    """The node's scaled fragmentation when it has ``idle`` milli-GPU and ``cpu_free``
    millicores free, ``taken`` of its fitting devices fewer (fully free devices a whole-GPU
    pod takes) and, if ``before`` >= 0, one device going from ``before`` to ``after`` milli
    free (a sharing pod's); ``below`` and ``fitting`` are its rows as they are."""
    total = 0
    for t in range(shapes.shape[1]):
        milli = shapes[MILLI, t]
        short = below[node, t]
        fit = fitting[node, t] - taken
        if before >= 0:
            if before < milli:
                short -= before
            else:
                fit -= 1
            if after < milli:
                short += after
            else:
                fit += 1
        if accessible[node, t] and fit >= shapes[COUNT, t] and cpu_free >= shapes[CPU, t]:
            total += short * shapes[WEIGHT, t]
        else:
            total += idle * shapes[WEIGHT, t]
    return total


@njit(cache=True)
def sync_nodes(nodes: np.ndarray, gpu_free: np.ndarray, allocatable: np.ndarray,
               requested: np.ndarray, cpu: int, accessible: np.ndarray, below: np.ndarray,
               fitting: np.ndarray, idle: np.ndarray, cpu_free: np.ndarray,
               scaled: np.ndarray, shapes: np.ndarray) -> int:
    """Recount the parts and scaled fragmentation of ``nodes`` (int64 (k,)) from the state
    (``allocatable``, ``requested``: int64 (n_nodes, n_resources), cpu in column ``cpu``);
    returns by how much the sum of ``scaled`` changed."""
    change = 0
    for i in range(nodes.shape[0]):
        node = nodes[i]
        idle[node] = recount(node, gpu_free, shapes, below, fitting)
        cpu_free[node] = allocatable[node, cpu] - requested[node, cpu]
        new = amount(node, accessible, below, fitting, idle[node], cpu_free[node], shapes,
                     0, -1, 0)
        change += new - scaled[node]
        scaled[node] = new
    return change


@per_node
def score_of(gain: int, thresholds: np.ndarray) -> int:
    """FGD's ``int(100 * sigmoid(gain / total / 1000))`` of a scaled gain: how many
    thresholds it reaches."""
    low, high = 0, thresholds.shape[0]
    while low < high:
        middle = (low + high) // 2
        if thresholds[middle] <= gain:
            low = middle + 1
        else:
            high = middle
    return low


@per_node
def device_score(node: int, free: int, milli: int, pod_cpu: int, accessible: np.ndarray,
                 below: np.ndarray, fitting: np.ndarray, idle: np.ndarray,
                 cpu_free: np.ndarray, scaled: np.ndarray, shapes: np.ndarray,
                 thresholds: np.ndarray) -> int:
    """FGD's score of a sharing pod (``milli``, ``pod_cpu``) on one device of the node with
    ``free`` milli free (>= milli)."""
    after = amount(node, accessible, below, fitting, idle[node] - milli,
                   cpu_free[node] - pod_cpu, shapes, 0, free, free - milli)
    return score_of(scaled[node] - after, thresholds)


@per_node
def fgd_score(node: int, ask: np.ndarray, gpu_free: np.ndarray, accessible: np.ndarray,
              below: np.ndarray, fitting: np.ndarray, idle: np.ndarray, cpu_free: np.ndarray,
              scaled: np.ndarray, shapes: np.ndarray, thresholds: np.ndarray) -> int:
    """FGDScore's raw score of the pod ``ask`` on one node: 100 for a pod asking nothing; for a
    sharing pod the best over its devices with room (each free amount tried once; 0 where
    none has room); else the score of taking ``ask[ASK_COUNT]`` whole devices (gain 0 where
    the node is short of the pod's cpu)."""
    if ask[ASK_NOTHING]:
        return MAX_NODE_SCORE
    pod_cpu, milli = ask[ASK_CPU], ask[ASK_MILLI]
    if ask[ASK_SHARES]:
        best = 0
        width = gpu_free.shape[1]
        for g in range(width):
            free = gpu_free[node, g]
            if free < milli:
                continue
            seen = False
            for h in range(g):
                if gpu_free[node, h] == free:
                    seen = True
                    break
            if not seen:
                score = device_score(node, free, milli, pod_cpu, accessible, below, fitting,
                                     idle, cpu_free, scaled, shapes, thresholds)
                if score > best:
                    best = score
        return best
    taken = ask[ASK_COUNT]
    cpu_after = cpu_free[node] - pod_cpu
    gain = 0
    if cpu_after >= 0:
        gain = scaled[node] - amount(node, accessible, below, fitting,
                                     idle[node] - taken * MILLI_PER_GPU, cpu_after, shapes,
                                     taken, -1, 0)
    return score_of(gain, thresholds)


@njit(cache=True)
def fgd_scores(nodes: np.ndarray, ask: np.ndarray, gpu_free: np.ndarray,
               accessible: np.ndarray, below: np.ndarray, fitting: np.ndarray,
               idle: np.ndarray, cpu_free: np.ndarray, scaled: np.ndarray, shapes: np.ndarray,
               thresholds: np.ndarray) -> np.ndarray:
    """int64 (k,): ``fgd_score`` on each of ``nodes`` (int64 (k,))."""
    out = np.empty(nodes.shape[0], dtype=np.int64)
    for i in range(nodes.shape[0]):
        out[i] = fgd_score(nodes[i], ask, gpu_free, accessible, below, fitting, idle,
                           cpu_free, scaled, shapes, thresholds)
    return out


@njit(cache=True)
def fgd_device(node: int, milli: int, pod_cpu: int, gpu_free: np.ndarray,
               accessible: np.ndarray, below: np.ndarray, fitting: np.ndarray,
               idle: np.ndarray, cpu_free: np.ndarray, scaled: np.ndarray, shapes: np.ndarray,
               thresholds: np.ndarray) -> int:
    """FGD's device for a sharing pod on the node: the first with the highest score among
    those with ``milli`` free (-1 if none has)."""
    chosen, best = -1, -1
    for g in range(gpu_free.shape[1]):
        free = gpu_free[node, g]
        if free < milli:
            continue
        score = device_score(node, free, milli, pod_cpu, accessible, below, fitting, idle,
                             cpu_free, scaled, shapes, thresholds)
        if score > best:
            chosen, best = g, score
    return chosen


@per_node
def gpu_fits(node: int, gpu_free: np.ndarray, count: int, milli: int) -> bool:
    """GpuShare's filter on a node of an allowed model: ``count`` devices with ``milli``
    free."""
    found = 0
    for g in range(gpu_free.shape[1]):
        if gpu_free[node, g] >= milli:
            found += 1
    return found >= count


@njit(cache=True)
def fgd_best(start: int, to_find: int, mask: np.ndarray, values: np.ndarray, synced: int,
             changed_at: np.ndarray, check_fit: bool, pod_count: np.ndarray,
             allowed_pods: np.ndarray, requested: np.ndarray, allocatable: np.ndarray,
             fit_columns: np.ndarray, fit_want: np.ndarray, plain: np.ndarray, weight: int,
             ask: np.ndarray, gpu_free: np.ndarray, accessible: np.ndarray,
             below: np.ndarray, fitting: np.ndarray, idle: np.ndarray, cpu_free: np.ndarray,
             scaled: np.ndarray, shapes: np.ndarray, thresholds: np.ndarray,
             best: np.ndarray) -> tuple[int, int]:
    """Greedy's cycle for one pod whose NODE-scope plugins are NodeResourcesFit's filter
    (with ``check_fit``: ``fit_columns``, ``fit_want``), GpuShare's (where ``ask`` says so)
    and FGDScore (``ask``, weighted ``weight``).

    ``values`` (int64 (n_nodes,)) keeps, per node, the pod class's total (``plain`` plus the
    weighted FGD score) where it is feasible (``mask``: its STATIC and CLUSTER filters and
    the GPU model, and the NODE filters), -1 elsewhere, as of ``synced``: the nodes whose
    ``changed_at`` (int64 (n_nodes,): when a bind last changed them) is later are worked out
    again, every node if ``synced`` < 0.

    The candidates are kube's: the first ``to_find`` feasible nodes from ``start`` in
    round-robin order (all of them if fewer). Writes into ``best`` the candidates of the
    highest total in node order and
    returns (how many, the next start: past the last candidate if ``to_find`` were found
    among fewer than all nodes, else ``start``). (Feasible totals are >= 0, so a single
    candidate is its own best.)"""
    n = mask.shape[0]
    count, milli, check_gpus = ask[ASK_COUNT], ask[ASK_MILLI], ask[ASK_FILTER]
    for node in range(n):
        if synced >= 0 and changed_at[node] <= synced:
            continue
        value = -1
        if mask[node] and (not check_fit or fits(
                node, pod_count, allowed_pods, requested, allocatable, fit_columns,
                fit_want)) and (not check_gpus or gpu_fits(node, gpu_free, count, milli)):
            value = plain[node] + weight * fgd_score(
                node, ask, gpu_free, accessible, below, fitting, idle, cpu_free, scaled,
                shapes, thresholds)
        values[node] = value
    # the candidates: the nodes [low1, high1) then [low2, high2), in node order
    low1, high1, low2, high2 = 0, n, 0, 0
    next_start = start
    found = 0
    if to_find < n:
        for step in range(n):
            node = start + step
            if node >= n:
                node -= n
            if values[node] >= 0:
                found += 1
                if found == to_find:
                    next_start = node + 1 if node + 1 < n else 0
                    if node >= start:
                        low1, high1 = start, node + 1
                    else:
                        high1, low2, high2 = node + 1, start, n
                    break
    top, ties = -1, 0
    for low, high in ((low1, high1), (low2, high2)):
        for node in range(low, high):
            value = values[node]
            if value > top:
                top, ties = value, 0
            if value >= 0 and value == top:
                best[ties] = node
                ties += 1
    return ties, next_start


FIT, GPUS = range(2)
"""The filters ``node_reasons`` runs: NodeResourcesFit's, GpuShare's."""


@per_node
def node_reasons(node: int, steps: np.ndarray, pod_count: np.ndarray,
                 allowed_pods: np.ndarray, requested: np.ndarray, allocatable: np.ndarray,
                 fit_columns: np.ndarray, fit_want: np.ndarray, fits_nowhere: bool,
                 gpu_allowed: np.ndarray, gpu_free: np.ndarray, count: int, milli: int) -> int:
    """The reasons kube's FitError counts a node under for the filters ``steps`` (``FIT``
    or ``GPUS``, in the profile's order): those of the first that rejects it, as bits.
    NodeResourcesFit's: no pod slot left (bit 0), short of ``fit_want`` in each of the c
    ``fit_columns`` (bits 1..c), asking for a resource no node has (``fits_nowhere``, bit
    c + 1); GpuShare's: no GPU of an allowed model (``gpu_allowed``, bit c + 2), fewer than
    ``count`` devices with ``milli`` free (bit c + 3)."""
    c = fit_columns.shape[0]
    for step in steps:
        bits = 0
        if step == FIT:
            if pod_count[node] >= allowed_pods[node]:
                bits |= 1
            for j in range(c):
                column = fit_columns[j]
                if requested[node, column] + fit_want[j] > allocatable[node, column]:
                    bits |= 1 << (1 + j)
            if fits_nowhere:
                bits |= 1 << (c + 1)
        elif not gpu_allowed[node]:
            bits = 1 << (c + 2)
        elif not gpu_fits(node, gpu_free, count, milli):
            bits = 1 << (c + 3)
        if bits:
            return bits
    return 0


@njit(cache=True)
def count_reasons(nodes: np.ndarray, synced: int, changed_at: np.ndarray, reasons: np.ndarray,
                  counts: np.ndarray, steps: np.ndarray, pod_count: np.ndarray,
                  allowed_pods: np.ndarray, requested: np.ndarray, allocatable: np.ndarray,
                  fit_columns: np.ndarray, fit_want: np.ndarray, fits_nowhere: bool,
                  gpu_allowed: np.ndarray, gpu_free: np.ndarray, count: int,
                  milli: int) -> None:
    """Bring ``counts`` (int64 (c + 4,)) in sync: how many of ``nodes`` (int64 (k,)) are
    counted under each reason bit of ``node_reasons``. ``reasons`` (int64 (n_nodes,)) holds
    each node's bits as of ``synced``; the nodes whose ``changed_at`` is later (all of them
    if ``synced`` < 0) are worked out again."""
    if synced < 0:
        counts[:] = 0
    for i in range(nodes.shape[0]):
        node = nodes[i]
        if synced >= 0 and changed_at[node] <= synced:
            continue
        old = reasons[node] if synced >= 0 else 0
        new = node_reasons(node, steps, pod_count, allowed_pods, requested, allocatable,
                           fit_columns, fit_want, fits_nowhere, gpu_allowed, gpu_free, count,
                           milli)
        if new != old:
            for bit in range(counts.shape[0]):
                counts[bit] += ((new >> bit) & 1) - ((old >> bit) & 1)
        reasons[node] = new
