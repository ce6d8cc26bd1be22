"""Lower bounds on node counts: hand-computed cases, and never above a brute-force optimum."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from schedlab.optimal.bounds import capacity_bound, martello_toth_l2, nodes_lower_bound


def arr(rows: list) -> np.ndarray:
    return np.array(rows, dtype=np.int64)


def optimal_bins(sizes: list[int], capacity: int) -> int:
    """Exact one-dimensional bin packing by depth-first search (largest item first)."""
    items = sorted((s for s in sizes if s > 0), reverse=True)
    best = len(items)

    def place(i: int, loads: list[int]) -> None:
        nonlocal best
        if len(loads) >= best:
            return
        if i == len(items):
            best = len(loads)
            return
        for b in range(len(loads)):
            if loads[b] + items[i] <= capacity:
                loads[b] += items[i]
                place(i + 1, loads)
                loads[b] -= items[i]
        place(i + 1, [*loads, items[i]])

    place(0, [])
    return best


def optimal_nodes(demand: np.ndarray, free: np.ndarray) -> int | None:
    """Fewest distinct nodes holding every pod (each pod whole on one node); None if none do."""
    pods = [tuple(int(x) for x in row) for row in demand]
    left = [[int(x) for x in row] for row in free]
    best: int | None = None

    def place(i: int, used: frozenset[int]) -> None:
        nonlocal best
        if best is not None and len(used) >= best:
            return
        if i == len(pods):
            best = len(used)
            return
        for node, room in enumerate(left):
            if all(d <= f for d, f in zip(pods[i], room, strict=True)):
                for r, d in enumerate(pods[i]):
                    room[r] -= d
                place(i + 1, used | {node})
                for r, d in enumerate(pods[i]):
                    room[r] += d

    place(0, frozenset())
    return best


def l2_by_definition(sizes: list[int], capacity: int) -> int:
    """L2 straight from its definition, one threshold K at a time (the vectorised one's oracle)."""
    c = capacity
    sizes = [s for s in sizes if s > 0]
    best = 0
    for k in {0} | {s for s in sizes if 2 * s <= c}:
        j1 = [s for s in sizes if s > c - k]
        j2 = [s for s in sizes if c - k >= s and 2 * s > c]
        j3 = [s for s in sizes if 2 * s <= c and s >= k]
        spill = sum(j3) - (len(j2) * c - sum(j2))
        best = max(best, len(j1) + len(j2) + max(0, -(-spill // c)))
    return best


# --- Martello–Toth L2, by hand -------------------------------------------------------------


def test_l2_textbook_pairs() -> None:
    # C = 10, [6,6,6,4,4,4]: Σ = 30, ⌈30/10⌉ = 3. K = 0: J2 = {6,6,6} (> 5) leaves 3·10 − 18 =
    # 12 room, J3 = {4,4,4} sums 12, so 3 + ⌈0/10⌉ = 3. K = 4: J1 = {s > 6} = ∅, the same 3.
    # L2 = 3 = the optimum (three 6+4 bins).
    assert martello_toth_l2(arr([6, 6, 6, 4, 4, 4]), 10) == 3


def test_l2_beats_the_sum_bound() -> None:
    # C = 10, [7,7,7,4,4]: Σ = 29, ⌈29/10⌉ = 3. K = 0: J2 = {7,7,7} leaves 9 room for
    # J3 = {4,4} (8): 3. K = 4: J1 = {s > 6} = {7,7,7}, J2 = ∅, J3 = {4,4}: 3 + ⌈8/10⌉ = 4.
    # L2 = 4 = the optimum: no 7 shares a bin with a 4, the two 4s share one.
    sizes = [7, 7, 7, 4, 4]
    assert math.ceil(sum(sizes) / 10) == 3
    assert martello_toth_l2(arr(sizes), 10) == 4 == optimal_bins(sizes, 10)


def test_l2_items_over_half_need_a_bin_each() -> None:
    # Every item > C/2 is in J2 (or J1): L2 = n, though ⌈(6+7+8+10)/10⌉ = 4 = n here too; with
    # [6,6,6] it is 3 against ⌈18/10⌉ = 2.
    assert martello_toth_l2(arr([6, 7, 8, 10]), 10) == 4
    assert martello_toth_l2(arr([6, 6, 6]), 10) == 3


def test_l2_exact_half_is_not_over_half() -> None:
    # C = 10, [5,5,5]: 5 ≤ C/2, so J2 = ∅ for every K and L2 = ⌈15/10⌉ = 2 (5+5, 5). Counting 5
    # as "over half" would claim 3, above the optimum.
    assert martello_toth_l2(arr([5, 5, 5]), 10) == 2
    # Odd C = 9, [5,5,4]: 5 > 4.5 (J2), 4 ≤ 4.5; K = 0: 2 + ⌈(4 − 8)/9⌉⁺ = 2; K = 4: J1 =
    # {s > 5} = ∅, the same 2. The optimum is 2 (5+4, 5).
    assert martello_toth_l2(arr([5, 5, 4]), 9) == 2


def test_l2_zero_sizes_count_nowhere() -> None:
    assert martello_toth_l2(arr([0, 0]), 10) == 0
    assert martello_toth_l2(arr([]), 10) == 0
    assert martello_toth_l2(arr([0, 0, 6, 7]), 10) == 2


def test_l2_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        martello_toth_l2(arr([11]), 10)
    with pytest.raises(ValueError):
        martello_toth_l2(arr([-1]), 10)
    with pytest.raises(ValueError):
        martello_toth_l2(arr([1]), 0)


def test_l2_ten_thousand_items_matches_definition_on_a_sample() -> None:
    rng = np.random.default_rng(7)
    sizes = rng.integers(0, 1001, size=10_000)
    bound = martello_toth_l2(sizes, 1000)
    assert bound >= math.ceil(int(sizes.sum()) / 1000)
    small = sizes[:300]
    assert martello_toth_l2(small, 1000) == l2_by_definition(small.tolist(), 1000)


# --- capacity bound and the combined bound, by hand ------------------------------------------


def test_capacity_bound_heterogeneous_nodes_binding() -> None:
    # Twelve 1-cpu pods; nodes with 10, 1, 1, 1 cpu free. The largest nodes reach 10, 11, 12:
    # 3 nodes. L2 with every bin as large as the largest (10) only gives ⌈12/10⌉ = 2, so the
    # capacity bound binds, and 3 is the optimum.
    demand = arr([[1]] * 12)
    free = arr([[10], [1], [1], [1]])
    assert capacity_bound(demand, free) == 3
    assert martello_toth_l2(demand[:, 0], 10) == 2
    assert nodes_lower_bound(demand, free) == 3 == optimal_nodes(demand, free)


def test_capacity_bound_takes_the_worst_resource() -> None:
    # cpu: 6 asked, largest nodes 8 → 1 node; memory: 12 asked, largest 8, 5 → 2 nodes.
    demand = arr([[2, 4], [2, 4], [2, 4]])
    free = arr([[8, 5], [2, 8], [8, 2]])
    assert capacity_bound(demand, free) == 2


def test_capacity_bound_edges() -> None:
    free = arr([[4, 4], [4, 4]])
    assert capacity_bound(np.zeros((0, 2), dtype=np.int64), free) == 0
    # 9 cpu asked, 8 free in all: every node (the pods cannot all be placed).
    assert capacity_bound(arr([[3, 0]] * 3), free) == 2


def test_nodes_lower_bound_l2_binding() -> None:
    # Three pods of 6 cpu on 10-cpu nodes: capacity ⌈18/10⌉ = 2, L2 = 3 (each is over half).
    demand = arr([[6, 1]] * 3)
    free = arr([[10, 10]] * 4)
    assert capacity_bound(demand, free) == 2
    assert nodes_lower_bound(demand, free) == 3 == optimal_nodes(demand, free)


def test_nodes_lower_bound_edges() -> None:
    free = arr([[4, 0], [4, 0]])
    assert nodes_lower_bound(np.zeros((0, 2), dtype=np.int64), free) == 0
    assert nodes_lower_bound(arr([[1, 0]]), np.zeros((0, 2), dtype=np.int64)) == 0
    # Memory no node has and no pod asks is skipped; a pod larger than every node: all nodes.
    assert nodes_lower_bound(arr([[3, 0], [3, 0]]), free) == 2
    assert nodes_lower_bound(arr([[5, 0]]), free) == 2
    with pytest.raises(ValueError):
        nodes_lower_bound(arr([[1, 1]]), arr([[1, 1, 1]]))


# --- properties against brute force --------------------------------------------------------


@st.composite
def bin_instances(draw: st.DrawFn, max_items: int = 8) -> tuple[list[int], int]:
    capacity = draw(st.integers(1, 20))
    sizes = draw(st.lists(st.integers(0, capacity), max_size=max_items))
    return sizes, capacity


@given(bin_instances())
def test_l2_between_sum_bound_and_optimum(instance: tuple[list[int], int]) -> None:
    sizes, capacity = instance
    bound = martello_toth_l2(arr(sizes), capacity)
    assert math.ceil(sum(sizes) / capacity) <= bound <= optimal_bins(sizes, capacity)


@given(bin_instances(max_items=60))
def test_l2_vectorised_matches_definition(instance: tuple[list[int], int]) -> None:
    sizes, capacity = instance
    assert martello_toth_l2(arr(sizes), capacity) == l2_by_definition(sizes, capacity)


@given(bin_instances())
def test_capacity_bound_one_size_bins_below_optimum(instance: tuple[list[int], int]) -> None:
    sizes, capacity = instance
    demand = arr([[s] for s in sizes]).reshape(-1, 1)
    free = arr([[capacity]] * max(1, len(sizes)))
    assert capacity_bound(demand, free) <= optimal_bins(sizes, capacity)


@st.composite
def node_instances(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n_nodes = draw(st.integers(1, 4))
    free = arr(draw(st.lists(st.lists(st.integers(0, 12), min_size=2, max_size=2),
                             min_size=n_nodes, max_size=n_nodes)))
    n_pods = draw(st.integers(0, 6))
    demand = arr(draw(st.lists(st.lists(st.integers(0, 8), min_size=2, max_size=2),
                               min_size=n_pods, max_size=n_pods))).reshape(n_pods, 2)
    return demand, free


@given(node_instances())
def test_nodes_lower_bound_below_optimum(instance: tuple[np.ndarray, np.ndarray]) -> None:
    demand, free = instance
    bound = nodes_lower_bound(demand, free)
    assert bound <= free.shape[0]
    best = optimal_nodes(demand, free)
    assume(best is not None)
    assert capacity_bound(demand, free) <= bound <= best
