"""NodeResourcesFit: the resource filter and the LeastAllocated, MostAllocated and
RequestedToCapacityRatio scoring strategies."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np

from schedlab import resources
from schedlab.cluster import ClusterState, NodeIndex, take
from schedlab.framework.args import PluginArgs, arg, shape_points
from schedlab.framework.plugin import (
    MAX_NODE_SCORE,
    FilterPlugin,
    Scope,
    ScorePlugin,
    go_div,
    reason_counts,
)
from schedlab.objects import Pod
from schedlab.plugins.resource_allocation import (
    allocation,
    defaulted_weights,
    resource_weights_arg,
)

STRATEGIES = ("LeastAllocated", "MostAllocated", "RequestedToCapacityRatio")
MAX_CUSTOM_PRIORITY_SCORE = 10
MAX_UTILIZATION = 100
_NO_COLUMNS = np.empty(0, dtype=np.int64)


def go_round(x: np.ndarray) -> np.ndarray:
    """Go's math.Round (half away from zero) on float64, exactly, as int64."""
    truncated = np.trunc(x)
    away = np.abs(x - truncated) >= 0.5
    return (truncated + np.where(away, np.sign(x), 0)).astype(np.int64)


_SHAPE = "at least one point, utilization 0..100 strictly increasing, score 0..10"


@dataclass(frozen=True)
class RequestedToCapacityRatioParam(PluginArgs):
    """``shape``: the RequestedToCapacityRatio function as (utilization 0..100, score 0..10)
    points in increasing utilization (checked whatever the strategy, as kube does)."""

    shape: tuple[tuple[int, int], ...] = arg((), read=shape_points)

    def validate(self) -> None:
        utilizations = [u for u, _ in self.shape]
        ok = (
            bool(self.shape)
            and all(len(p) == 2 and 0 <= p[0] <= MAX_UTILIZATION
                    and 0 <= p[1] <= MAX_CUSTOM_PRIORITY_SCORE for p in self.shape)
            and all(a < b for a, b in zip(utilizations, utilizations[1:], strict=False))
        )
        if not ok:
            raise self.error(("shape",), list(self.shape), _SHAPE)


@dataclass(frozen=True)
class ScoringStrategy(PluginArgs):
    """kube's ScoringStrategy: ``type``, per-resource weights ``resources`` (kube's
    defaulting: none means cpu and memory, 0 means 1) and, for RequestedToCapacityRatio,
    its ``requested_to_capacity_ratio`` shape."""

    type: str = arg("LeastAllocated", choices=STRATEGIES, required=True)
    resources: Mapping[str, int] = resource_weights_arg()
    requested_to_capacity_ratio: RequestedToCapacityRatioParam | None = None

    def validate(self) -> None:
        self.default("resources", defaulted_weights(self.resources))
        if self.type == "RequestedToCapacityRatio" and self.requested_to_capacity_ratio is None:
            raise self.error(("requestedToCapacityRatio", "shape"), [], _SHAPE)


def _resource_name(name: str) -> str | None:
    return None if name else "a non-empty string"


def _group_name(group: str) -> str | None:
    return None if group and "/" not in group else "a resource group name without '/'"


@dataclass(frozen=True)
class NodeResourcesFitArgs(PluginArgs):
    """kube's NodeResourcesFitArgs: ``scoring_strategy``; ``ignored_resources`` and
    ``ignored_resource_groups`` exempt extended resources (by name, or by the prefix
    before "/") from the filter."""

    scoring_strategy: ScoringStrategy = ScoringStrategy()
    ignored_resources: tuple[str, ...] = arg((), check_each=_resource_name)
    ignored_resource_groups: tuple[str, ...] = arg((), check_each=_group_name)


class NodeResourcesFit(FilterPlugin, ScorePlugin):
    """Filter: every requested resource fits the node's free allocatable, and a pod slot is
    free. Score: ``args.scoring_strategy`` (NodeResourcesFitArgs)."""

    name = "NodeResourcesFit"
    has_pre_filter = True
    has_pre_score = True
    scope = Scope.NODE
    Args = NodeResourcesFitArgs
    args: NodeResourcesFitArgs

    def cache_key(self, state: ClusterState, pod: Pod) -> Hashable:
        return id(state.requests_of(pod))  # answers depend on the requests only

    @property
    def scoring_strategy(self) -> str:
        """The scoring strategy's type."""
        return self.args.scoring_strategy.type

    @property
    def resources(self) -> Mapping[str, int]:
        """The scored resources' weights."""
        return self.args.scoring_strategy.resources

    @property
    def shape(self) -> tuple[tuple[int, int], ...]:
        """RequestedToCapacityRatio's points, () for the other strategies."""
        ratio = self.args.scoring_strategy.requested_to_capacity_ratio
        return () if ratio is None else ratio.shape

    def _is_ignored(self, name: str) -> bool:
        return resources.is_extended(name) and (
            name in self.args.ignored_resources
            or name.split("/", 1)[0] in self.args.ignored_resource_groups
        )

    def checked_columns(self, state: ClusterState, pod: Pod) -> tuple[np.ndarray, list[str]]:
        """Columns the filter compares (requested > 0, not ignored), and the requested
        resources no node has (which fit nowhere)."""
        req = state.requests_of(pod)
        if not self.args.ignored_resources and not self.args.ignored_resource_groups:
            return req.columns, list(req.missing)
        columns = [c for c in req.columns if not self._is_ignored(state.resources.names[c])]
        missing = [n for n in req.missing if not self._is_ignored(n)]
        return np.array(columns, dtype=np.int64), missing

    def _shortages(self, state: ClusterState, pod: Pod, nodes: NodeIndex
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Over ``nodes`` (k of them): no pod slot left (bool (k,)), short of each checked
        column (bool (k, c)), the c checked columns, and the requested resources no node
        has (every node is short of those)."""
        full = state.pod_count[nodes] >= state.allowed_pods[nodes]
        if state.requests_of(pod).is_empty:
            return full, np.zeros((len(full), 0), dtype=bool), _NO_COLUMNS, []
        columns, missing = self.checked_columns(state, pod)
        want = state.requests_of(pod).requested[columns]
        short = take(state.requested, nodes, columns) + want > take(state.allocatable, nodes,
                                                                   columns)
        return full, short, columns, missing

    @staticmethod
    def _passing(full: np.ndarray, short: np.ndarray, missing: list[str]) -> np.ndarray:
        if missing:
            return np.zeros(len(full), dtype=bool)
        return ~(full | short.any(axis=1))

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        full, short, _, missing = self._shortages(state, pod, nodes)
        return self._passing(full, short, missing)

    def failure_reasons(
        self, state: ClusterState, pod: Pod, nodes: np.ndarray
    ) -> list[tuple[str, np.ndarray]]:
        """"Too many pods", then "Insufficient <resource>" per resource, as kube lists them."""
        return self._reasons(state, *self._shortages(state, pod, nodes))

    @staticmethod
    def _reasons(state: ClusterState, full: np.ndarray, short: np.ndarray, columns: np.ndarray,
                 missing: list[str]) -> list[tuple[str, np.ndarray]]:
        names = state.resources.names
        return [("Too many pods", full),
                *((f"Insufficient {names[c]}", short[:, j]) for j, c in enumerate(columns)),
                *((f"Insufficient {name}", np.ones(len(full), bool)) for name in missing)]

    def rejections(self, state: ClusterState, pod: Pod, nodes: np.ndarray
                   ) -> tuple[np.ndarray, list[tuple[str, int]]]:
        """``filter`` and the counts of ``failure_reasons`` from one comparison of the
        requests with every node's free resources (a node short of anything fails)."""
        full, short, columns, missing = self._shortages(state, pod, nodes)
        return (self._passing(full, short, missing),
                reason_counts(self._reasons(state, full, short, columns, missing)))

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        scored = allocation(state, pod, nodes, self.resources, nonzero=True)
        alloc, req = scored.allocatable, scored.requested
        if scored.everywhere and self.scoring_strategy != "RequestedToCapacityRatio":
            # Every node has every scored resource (the usual case): no node skips one.
            if self.scoring_strategy == "LeastAllocated":
                part = np.maximum(alloc - req, 0) * MAX_NODE_SCORE // alloc
            else:
                part = np.minimum(req, alloc) * MAX_NODE_SCORE // alloc
            return (part * scored.weights).sum(axis=1) // max(int(scored.weights.sum()), 1)
        has = alloc > 0
        safe = np.maximum(alloc, 1)
        if self.scoring_strategy == "LeastAllocated":
            part = np.maximum(alloc - req, 0) * MAX_NODE_SCORE // safe
        elif self.scoring_strategy == "MostAllocated":
            part = np.minimum(req, alloc) * MAX_NODE_SCORE // safe
        else:
            utilization = np.where(req > alloc, MAX_UTILIZATION, req * MAX_UTILIZATION // safe)
            part = self._shape_score(utilization)
            has &= part > 0
        weights = has * scored.weights
        total = (part * weights).sum(axis=1)
        weight_sum = weights.sum(axis=1)
        divisor = np.maximum(weight_sum, 1)
        if self.scoring_strategy == "RequestedToCapacityRatio":
            return np.where(weight_sum > 0, go_round(total / divisor), 0)
        return np.where(weight_sum > 0, total // divisor, 0)

    def _shape_score(self, utilization: np.ndarray) -> np.ndarray:
        """kube's broken linear function over ``shape`` (scores scaled to 0..100), int64."""
        scale = MAX_NODE_SCORE // MAX_CUSTOM_PRIORITY_SCORE
        points = [(u, s * scale) for u, s in self.shape]
        result = np.full(utilization.shape, points[-1][1], dtype=np.int64)
        done = np.zeros(utilization.shape, dtype=bool)
        for i, (u, s) in enumerate(points):
            here = ~done & (utilization <= u)
            if i == 0:
                result[here] = s
            else:
                u0, s0 = points[i - 1]
                result[here] = s0 + go_div((s - s0) * (utilization[here] - u0), u - u0)
            done |= here
        return result
