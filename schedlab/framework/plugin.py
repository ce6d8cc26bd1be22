"""The plugin contract: small classes with the extension points they implement.

A filter returns a bool array over the nodes it is asked about; a score returns an int64 array
(or None to skip, contributing 0, like a PreScore that returns Skip); ``normalize_score``, if a
plugin defines it, maps the raw scores of the candidate nodes into [0, MAX_NODE_SCORE]. The
framework, not the plugin, applies weights and checks bounds.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Collection, Hashable
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from schedlab.cluster import ClusterState, NodeIndex, Tally
from schedlab.framework.args import PluginArgs, args_of
from schedlab.framework.domains import DomainRule
from schedlab.objects import Pod

MAX_NODE_SCORE = 100


class Scope(enum.Enum):
    """What a bind or unbind can change in a plugin's answers, which lets the framework cache
    them per pod template and recompute only what a bind touched."""

    STATIC = "static"
    """Answers depend only on the pod and fixed node attributes (labels, taints)."""
    NODE = "node"
    """A bind on node i changes answers for node i only (resources, pod counts)."""
    CLUSTER = "cluster"
    """A bind anywhere may change any node's answer; recomputed for every pod (the default)."""


class Plugin:
    """Base of all plugins. ``name`` is the Kubernetes-style plugin name; ``Args`` the
    plugin's typed args (a ``PluginArgs`` frozen dataclass, kube's ``<Name>Args``), which
    the plugin reads as ``self.args``.

    A plugin is made with its args whole or with their fields as keywords:
    ``InterPodAffinity(InterPodAffinityArgs(hard_pod_affinity_weight=2))`` or
    ``InterPodAffinity(hard_pod_affinity_weight=2)``; the configuration reader makes it
    with the args its ``pluginConfig`` gives (``Args.from_config``). A subclass that derives
    more in ``__init__`` calls ``super().__init__(args, **fields)`` first.
    """

    name: ClassVar[str] = ""
    scope: ClassVar[Scope] = Scope.CLUSTER
    Args: ClassVar[type[PluginArgs]] = PluginArgs
    args: PluginArgs

    def __init__(self, args: PluginArgs | None = None, /, **fields: Any) -> None:
        self.args = args_of(type(self).Args, args, fields)

    def cache_key(self, state: ClusterState, pod: Pod) -> Hashable:
        """What of ``pod`` this plugin's answers depend on: the framework asks once for all
        pods with equal keys (within one state). The default, ``pod.cache_key`` (template
        and owner), is always safe; a plugin reading only the pod's requests can return
        ``id(state.requests_of(pod))`` (equal requests share one object)."""
        return pod.cache_key

    tally_driven: ClassVar[bool] = False
    """For a CLUSTER plugin: its answers read the bound pods only through the state's tallies
    (``ClusterState.tally``, ``tally_by``), so binding a pod that no tally counts changes
    none of them. Greedy's fast path (``schedlab.policies.runs``) then places runs of such
    pods without asking the plugin again; a profile with a CLUSTER plugin that does not
    declare it is scheduled pod by pod."""

    def domain_rules(self, state: ClusterState, pod: Pod) -> list[DomainRule] | None:
        """For a ``tally_driven`` CLUSTER plugin: how binding more pods like ``pod`` (its
        ``cache_key``'s) changes this plugin's answers for such a pod, as rules over the pods
        counted per topology domain (``framework.domains``) whose conjunction is its filter
        (an empty list: the filter passes every node whatever they bind), with the promise
        that its scores for such a pod do not change with those binds. Greedy's fast path
        then places runs of pods that its tallies count (spread Deployments), following the
        rules in compiled code. None, the default: no such rules; each of those pods is
        placed in a run of its own."""
        return None

    def tallies_read(self, state: ClusterState, pod: Pod) -> Collection[Tally] | None:
        """For a ``tally_driven`` CLUSTER plugin: the tallies its answers for ``pod`` read
        now, so that binding and unbinding pods counted in none of them leaves those answers
        as they are. The replay's compiled runs (``sim.replay_runs``) then place such pods
        between other pods' arrivals and departures without asking the plugin again. None,
        the default: not known; the replay places those pods one by one."""
        return None

    def state_token(self, state: ClusterState, pod: Pod) -> Hashable | None:
        """For a CLUSTER plugin: a value that changes whenever its answers for ``pod`` may
        have changed (e.g. the versions of the counters it reads), so that the framework
        asks again only then. None, the default, means after every bind."""
        return None

    def __repr__(self) -> str:
        args = getattr(self, "args", None)
        shown = vars(args) if isinstance(args, PluginArgs) else {
            k: v for k, v in vars(self).items() if not k.startswith("_")}
        params = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"{type(self).__name__}({params})"


class FilterPlugin(Plugin, abc.ABC):
    """A plugin with a Filter extension point.

    ``reason`` is the message for a node the filter rejects, unless ``failure_reasons`` is
    overridden to give a finer one (e.g. one per insufficient resource).
    """

    reason: ClassVar[str] = ""
    has_pre_filter: ClassVar[bool] = False
    """The plugin has a PreFilter extension point (kube's, for a built-in): disabling it at
    ``preFilter`` in a configuration turns its filter off (``framework.config``)."""

    @abc.abstractmethod
    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        """Bool array of shape (len(nodes),): True where ``pod`` may run."""

    def failure_reasons(
        self, state: ClusterState, pod: Pod, nodes: np.ndarray
    ) -> list[tuple[str, np.ndarray]]:
        """For nodes this filter rejects (an int64 index array), pairs of (reason, bool array
        over ``nodes`` telling which of them fail for that reason)."""
        return [(self.reason or f"node(s) didn't pass {self.name}", np.ones(len(nodes), bool))]

    def skips_filter(self, state: ClusterState, pod: Pod) -> bool:
        """True when ``filter`` passes every node for ``pod`` whatever pods are bound (kube's
        PreFilter returning Skip, as PodTopologySpread's for a pod without hard constraints):
        the framework then never asks ``filter`` about it. Asked once per ``cache_key`` and
        state, so it may depend only on what the cache key covers; False by default."""
        return False

    def rejections(self, state: ClusterState, pod: Pod, nodes: np.ndarray
                   ) -> tuple[np.ndarray, list[tuple[str, int]]]:
        """For the FitError message, as kube's Filter status carries its reasons: which of
        ``nodes`` (int64 indices) pass (bool (len(nodes),)) and, over those that fail, how
        many fail for each reason. By default ``filter``, then ``failure_reasons`` on the
        failed nodes; a plugin may override it to work both out in one pass (the same
        answers)."""
        passes = np.asarray(self.filter(state, pod, nodes), dtype=bool)
        # (a mask of the wrong shape is reported by the framework)
        failed = nodes[~passes] if passes.shape == (len(nodes),) else nodes[:0]
        if not len(failed):
            return passes, []
        return passes, reason_counts(self.failure_reasons(state, pod, failed))


def reason_counts(reasons: list[tuple[str, np.ndarray]]) -> list[tuple[str, int]]:
    """``failure_reasons``' (reason, bool array over the nodes) pairs as (reason, how many of
    the nodes fail for it)."""
    return [(reason, int(np.count_nonzero(which))) for reason, which in reasons]


class ScorePlugin(Plugin, abc.ABC):
    """A plugin with a Score extension point (and, optionally, ``normalize_score``)."""

    has_pre_score: ClassVar[bool] = False
    """The plugin has a PreScore extension point: disabling it at ``preScore`` in a
    configuration turns its score off."""
    candidate_dependent: ClassVar[bool] = False
    """True when a node's raw score depends on which other nodes are scored with it, as with
    kube's PreScore over the filtered nodes (PodTopologySpread's topology weights). The
    framework then calls ``score`` once per scheduling cycle with exactly the candidate nodes
    (an int64 index array) and caches nothing; ``skips`` tells it early that a pod is not
    scored at all."""

    @abc.abstractmethod
    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray | None:
        """Raw int64 scores of shape (len(nodes),), or None to skip this pod (all 0)."""

    def skips(self, state: ClusterState, pod: Pod) -> bool:
        """For a candidate-dependent plugin: True when ``score`` would skip ``pod`` whatever
        the candidates (kube's PreScore Skip). Not asked of other plugins."""
        return False

    normalize_score: Callable[[np.ndarray], np.ndarray] | None = None
    """Optionally a method ``normalize_score(scores) -> scores`` over the candidate nodes'
    int64 raw scores, shape (k,). It must map equal raw scores to equal results."""


@runtime_checkable
class GpuSelector(Protocol):
    """A plugin that picks a GPU pod's devices on the chosen node (the FGD paper's GPU
    selection methods, ``GpuScorePlugin``): policies ask the first score plugin of their
    profile that has ``select_gpus``, else take the tightest devices that fit."""

    def select_gpus(self, state: ClusterState, pod: Pod, node: int,
                    rng: np.random.Generator) -> tuple[int, ...]:
        """The device indices ``pod`` takes on node index ``node``."""
        ...


def go_div(numerator: np.ndarray | int, denominator: np.ndarray | int) -> np.ndarray:
    """Integer division truncating toward zero, as Go's ``/`` on int64 (elementwise)."""
    quotient = np.abs(numerator) // np.abs(denominator)
    return np.where((np.sign(numerator) * np.sign(denominator)) < 0, -quotient, quotient)


def default_normalize(scores: np.ndarray, reverse: bool) -> np.ndarray:
    """kube-scheduler's DefaultNormalizeScore(MaxNodeScore, reverse) on int64 scores (k,)."""
    top = scores.max() if len(scores) else 0
    if top == 0:
        return np.full(len(scores), MAX_NODE_SCORE if reverse else 0, dtype=np.int64)
    if top > 0 and scores.min() >= 0:  # (the usual case: no sign to mind)
        normalized = MAX_NODE_SCORE * scores // top
    else:
        normalized = go_div(MAX_NODE_SCORE * scores, top)
    return MAX_NODE_SCORE - normalized if reverse else normalized
