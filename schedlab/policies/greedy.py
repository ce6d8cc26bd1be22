"""Greedy: kube-scheduler's scheduling cycle with a profile."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from schedlab.cluster import ClusterState
from schedlab.errors import ConfigError
from schedlab.framework.cycle import num_feasible_nodes_to_find
from schedlab.framework.profile import Profile
from schedlab.objects import Pod
from schedlab.policies.base import Decision, Policy

if TYPE_CHECKING:
    from schedlab.policies.compiled import CompiledCycle, CompiledSearch
    from schedlab.policies.gpu_cycle import GpuCycle
    from schedlab.policies.runs import RunPlacer

TieBreak = Literal["random", "first"]


class Greedy(Policy):
    """Filter, score, pick the highest total; ties are broken uniformly at random with the
    run's generator, like kube's selectHost (``tie_break="random"``), or by taking the first
    node in node order (``tie_break="first"``, as the FGD paper's simulator, whose fork of
    kube-scheduler takes the smallest node name).

    Like kube-scheduler, with ``percentage_of_nodes_to_score`` below 100 it searches nodes in
    round-robin order from where the previous pod's search stopped and scores only the first
    ``num_feasible_nodes_to_find`` feasible ones; a single feasible node is taken unscored.
    """

    name = "greedy"

    def __init__(self, profile: Profile | None = None, *, tie_break: TieBreak = "random",
                 compiled: bool = True) -> None:
        super().__init__(profile)
        if tie_break not in ("random", "first"):
            raise ConfigError("greedy", "tie_break", tie_break, "random or first")
        self.tie_break = tie_break
        self.compiled = compiled

    def reset(self, state: ClusterState, rng: np.random.Generator) -> None:
        super().reset(state, rng)
        self.next_start_node_index = 0
        n = state.n_nodes
        self._to_find = num_feasible_nodes_to_find(self.profile.percentage_of_nodes_to_score, n)
        if not self.profile.scores:
            self._to_find = 1
        self._cycle: CompiledCycle | None = None
        self._gpu_cycle: GpuCycle | None = None
        self._search: CompiledCycle | GpuCycle | None = None
        """The compiled cycle placing pods one by one (``_cycle``, or ``_gpu_cycle`` for the
        FGD paper's profiles)."""
        self._runs: RunPlacer | None = None
        self._runs_checked = False
        if self.compiled and n:
            from schedlab.policies.compiled import CompiledCycle

            self._cycle = self._search = CompiledCycle.of(self.evaluator)
            if self._cycle is None:
                from schedlab.policies.gpu_cycle import GpuCycle

                self._search = self._gpu_cycle = GpuCycle.of(self.evaluator)
            if self._search is None:
                from schedlab.policies.runs import warn_uncompiled

                warn_uncompiled(self.profile)

    def compiled_search(self) -> CompiledSearch | None:
        """The compiled cycle's search, from ``next_start_node_index`` (None without it)."""
        if self._cycle is None:
            return None
        from schedlab.policies.compiled import CompiledSearch

        return CompiledSearch(self._cycle, self._to_find, self.tie_break == "random")

    def place_run(self, pods: Sequence[Pod], first: int) -> np.ndarray:
        """Runs of pods in one compiled loop (``policies.runs``), with the decisions and
        random draws ``place`` makes."""
        if not self._runs_checked:
            self._runs_checked = True
            if self._cycle is not None:
                from schedlab.policies.runs import RunPlacer

                self._runs = RunPlacer.of(self._cycle, self._to_find,
                                          self.tie_break == "random")
        if self._runs is None:
            return super().place_run(pods, first)
        nodes, self.next_start_node_index = self._runs.place(
            pods, first, self.next_start_node_index, self.rng)
        return nodes

    def candidates(self, feasible: np.ndarray) -> np.ndarray:
        """Sorted int64 indices of the feasible nodes this cycle scores; advances the
        round-robin start as kube's nextStartNodeIndex."""
        n = len(feasible)
        start = self.next_start_node_index
        if self._to_find < n:
            # Usually enough feasible nodes lie just after the start: find them there
            # without scanning every node (the same nodes as the rotation below).
            ahead = np.flatnonzero(feasible[start:start + 2 * self._to_find])
            if len(ahead) >= self._to_find:
                chosen = ahead[: self._to_find] + start
                self.next_start_node_index = (int(chosen[-1]) + 1) % n
                return chosen
        found = np.flatnonzero(feasible)
        if len(found) < self._to_find or self._to_find >= n:
            return found  # every node searched: the start index comes back where it was
        split = np.searchsorted(found, self.next_start_node_index)
        rotated = np.concatenate((found[split:], found[:split]))[: self._to_find]
        processed = (int(rotated[-1]) - self.next_start_node_index) % n + 1
        self.next_start_node_index = (self.next_start_node_index + processed) % n
        return np.sort(rotated)

    def place(self, pod: Pod) -> Decision:
        if self.state.n_nodes == 0:
            return self.unschedulable(pod)
        if self._search is not None:
            found = self._search.best_candidates(pod, self.next_start_node_index,
                                                 self._to_find)
            if found is not None:
                best, self.next_start_node_index = found
                return self._best(pod, best) if len(best) else self.unschedulable(pod)
        evaluation = self.evaluator.evaluate(pod)
        if self._to_find >= self.state.n_nodes and self.evaluator.ranks_by_plain_total(evaluation):
            # Every feasible node is a candidate and the normalised plugins add the same
            # amount to each: the best nodes are those with the best plain total.
            top = evaluation.ranked.max()
            if top < 0:
                return self.unschedulable(pod)
            best = np.flatnonzero(evaluation.ranked == top)
            if len(best) > 1 or np.count_nonzero(evaluation.feasible) > 1:
                self.evaluator.check_uniform(evaluation)
        else:
            nodes = self.candidates(evaluation.feasible)
            if len(nodes) == 0:
                return self.unschedulable(pod)
            if len(nodes) == 1:
                return self.decide(pod, int(nodes[0]))
            totals = self.evaluator.totals(evaluation, nodes, ranking=True)
            best = nodes[totals == totals.max()]
        return self._best(pod, best)

    def unschedulable(self, pod: Pod) -> Decision:
        """The decision for a pod no node can take, with kube's reason message (worded by
        the GPU cycle where it can)."""
        if self._gpu_cycle is not None:
            reason = self._gpu_cycle.unschedulable_message(pod)
            if reason is not None:
                return Decision(None, reason)
        return super().unschedulable(pod)

    def _best(self, pod: Pod, best: np.ndarray) -> Decision:
        """The decision among the best nodes (sorted int64 indices), by the tie-break."""
        if len(best) > 1 and self.tie_break == "random":
            return self.decide(pod, int(best[self.rng.integers(len(best))]))
        return self.decide(pod, int(best[0]))
