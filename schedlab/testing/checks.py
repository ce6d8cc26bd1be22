"""Conformance checks any plugin or policy author can run, like scikit-learn's check_estimator.

``check_plugin(plugin)`` and ``check_policy(policy)`` run hypothesis over random clusters and
pods and raise ``AssertionError`` naming the plugin (or policy) and the rule it broke, after
hypothesis has shrunk the input to a small failing example (printed above the error).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky

from schedlab import gpu, reference, resources
from schedlab.cluster import ALL, ClusterState, NodeIndex
from schedlab.framework.plugin import MAX_NODE_SCORE, FilterPlugin, Plugin, Scope, ScorePlugin
from schedlab.framework.profile import Profile
from schedlab.objects import ApiObjects, Node, Pod, Workload
from schedlab.plugins import (
    GpuShare,
    InterPodAffinity,
    NodeAffinity,
    NodeName,
    NodeResourcesFit,
    NodeUnschedulable,
    PodTopologySpread,
    TaintToleration,
)
from schedlab.plugins.gpu_share import GpuScorePlugin
from schedlab.policies.base import Policy
from schedlab.sim.simulate import prepare, simulate
from schedlab.testing import strategies
from schedlab.verify import Violation, check_placement

RULES: dict[str, str] = {
    "declaration": "a plugin is a FilterPlugin and/or ScorePlugin with a name and a Scope",
    "no-exceptions": "filter, score, normalize_score and failure_reasons do not raise",
    "filter-shape": "filter returns a bool ndarray of shape (len(nodes),)",
    "score-shape": "score returns None or an integer ndarray of shape (len(nodes),)",
    "subset": "answers for an index array equal the ALL answers at those indices",
    "deterministic": "the same inputs give the same answers",
    "score-bounds": "scores lie in [0, 100] (raw ones, for a plugin without normalize_score)",
    "normalize": "normalize_score returns integers in [0, 100], one per node, equal for "
                 "equal raw scores",
    "scope": "the declared scope is honest (STATIC: binds change nothing; NODE: a bind on "
             "node i changes answers of node i only)",
    "state-token": "a CLUSTER plugin's state_token changes whenever a bind changes its "
                   "answers for the pod",
    "cache-key": "pods with equal cache_key get equal answers (the framework asks once for "
                 "all of them)",
    "read-only": "the plugin does not modify the cluster state",
    "fresh-arrays": "filter and score return new arrays, not views of the state or arrays "
                    "returned before (the framework writes into the answers it caches)",
    "failure-reasons": "failure_reasons gives (str, bool array over the failed nodes) pairs "
                       "covering every rejected node",
    "skips-filter": "a filter that skips a pod (skips_filter) passes every node for it",
    "rejections": "rejections gives filter's mask over the nodes asked and, per reason, the "
                  "count of failure_reasons over the rejected ones",
    "reference": "answers equal the scalar reference (schedlab.reference) exactly, where it "
                 "defines them",
}
"""The rules ``check_plugin`` enforces, by the name its errors use."""

POLICY_RULES: dict[str, str] = {
    "no-exceptions": "simulate does not raise",
    "reproducible": "simulate twice with the same seed gives identical bindings",
    "bindings": "one row per pending pod, in order, naming a node of the workload or None",
    "hard-constraints": "schedlab.verify.check_placement finds no violation of the "
                        "constraints the profile's filters enforce",
    "placed-feasible": "a placed pod passes every filter of the profile when it is placed",
    "unschedulable": "a pod left unschedulable has no node passing all the profile's "
                     "filters, and a reason",
}
"""The rules ``check_policy`` enforces."""

_MAX_SHOWN = 8


def _settings(max_examples: int, parent: settings | None) -> settings:
    """``parent`` (default: the loaded hypothesis profile) with ``max_examples``, no deadline
    and no health checks."""
    return settings(parent, max_examples=max_examples, deadline=None,
                    suppress_health_check=list(HealthCheck))


def _run(run: Callable[[], None]) -> None:
    """Run a hypothesis test, turning a flaky failure (an input that failed once and then
    passed: the code under check is not deterministic) into the ``AssertionError`` seen."""
    try:
        run()
    except Flaky as flaky:
        seen = [e for e in getattr(flaky, "exceptions", ()) if isinstance(e, AssertionError)]
        if not seen:
            raise
        raise AssertionError(f"{seen[0]} (flaky: the same input did not fail again, so the "
                             "answers are not deterministic)") from flaky


def _show(values: Any) -> str:
    values = list(np.asarray(values).tolist())
    more = f", ... ({len(values)} in all)" if len(values) > _MAX_SHOWN else ""
    return "[" + ", ".join(map(str, values[:_MAX_SHOWN])) + more + "]"


# ---------------------------------------------------------------------------- scenarios
@dataclass
class Scenario:
    """One random input of ``check_plugin``: a cluster, pods bound to it (possibly over its
    capacity: a state the checker must cope with), the pods asked about, and the index arrays
    and moves the checks use."""

    nodes: list[Node]
    bound: list[tuple[Pod, int]]
    asked: list[Pod]
    moved: Pod
    move_to: int
    extended: tuple[str, ...]
    subset: np.ndarray
    candidates: np.ndarray
    objects: ApiObjects = field(default_factory=ApiObjects)

    def state(self) -> ClusterState:
        """A fresh state over ``nodes`` with the ``bound`` pods bound (GPU pods on the
        devices ``gpu.default_gpus`` picks, as ``infos`` does)."""
        state = ClusterState(self.nodes, self.extended, self.objects)
        for pod, node in self.bound:
            state.bind(pod, node, gpu.default_gpus(state, pod, node))
        return state

    def infos(self) -> list[reference.NodeInfo]:
        """The same state as the scalar reference holds it."""
        infos = [reference.NodeInfo(node) for node in self.nodes]
        for pod, node in self.bound:
            infos[node].add(pod)
        return infos


def _agree(got: list[int], expected: list[int | None]) -> bool:
    """``got`` equals ``expected`` wherever ``expected`` is not None."""
    return len(got) == len(expected) and all(
        e is None or g == e for g, e in zip(got, expected, strict=True))


def _extended(pods: Sequence[Pod]) -> set[str]:
    return {r for p in pods for r in p.template.requests if resources.is_extended(r)}


@st.composite
def scenarios(draw: st.DrawFn, max_nodes: int = 8, gpus: bool | None = None) -> Scenario:
    """Random ``Scenario`` objects: up to ``max_nodes`` nodes, 1–3 pods asked about (some
    naming a node, for NodeName; some with unparseable affinity requirements; some owned by
    a controller, for default spreading), 0–6 pods bound anywhere (over capacity sometimes),
    the namespaces, Services and controllers of ``strategies.api_objects``, a column for every
    extended resource the bound pods request and, only sometimes, for those the asked pods
    request (else they request a resource the state lacks). Up to two nodes are
    ``tightened`` so that an asked pod fits exactly (or misses by one unit).

    With ``gpus`` (None: a quarter of the time) nodes have GPU devices and pods GPU asks as
    ``strategies.clusters(gpus=True)`` and ``strategies.pod_templates(gpus=True)`` draw them;
    a bound GPU pod whose ask does not fit its node's devices (or model) when its turn comes
    is left out, so that ``ClusterState.bind`` accepts every bound pod."""
    if gpus is None:
        gpus = draw(st.integers(0, 3)) == 0
    cluster = draw(strategies.clusters(max_nodes=max_nodes, gpus=gpus))
    n = len(cluster)
    names = [node.name for node in cluster]
    templates = draw(st.lists(
        strategies.pod_templates(taints=strategies.cluster_taints(cluster),
                                 label_values=strategies.cluster_labels(cluster),
                                 node_names=names, with_node_name=True, allow_invalid=True,
                                 gpus=gpus),
        min_size=1, max_size=3))
    template = st.sampled_from(templates)
    owner = st.none() | strategies.owner_refs()
    asked = [Pod(f"asked-{i}", draw(template), draw(owner))
             for i in range(draw(st.integers(1, 3)))]
    places = draw(st.lists(st.tuples(template, st.integers(0, n - 1)), max_size=6))
    bound = [(Pod(f"bound-{k}", t), node) for k, (t, node) in enumerate(places)]
    if any(t.gpu is not None for t, _ in places):
        devices = [reference.NodeInfo(node) for node in cluster]
        kept = []
        for pod, node in bound:
            request = pod.template.gpu
            if request is not None:
                if devices[node].best_gpus(request) is None:
                    continue
                devices[node].add(pod)
            kept.append((pod, node))
        bound = kept
    for i in draw(st.sets(st.integers(0, n - 1), max_size=2)):
        used: dict[str, int] = {}
        for pod, node in bound:
            if node == i:
                for name, amount in pod.template.requests.items():
                    used[name] = used.get(name, 0) + amount
                used[resources.PODS] = used.get(resources.PODS, 0) + 1
        asks = draw(st.sampled_from(asked)).template.requests
        cluster[i] = draw(strategies.tightened(cluster[i], used, asks))
    extended = _extended([p for p, _ in bound])
    if draw(st.booleans()):
        extended |= _extended(asked)
    index_sets = st.sets(st.integers(0, n - 1))
    return Scenario(
        nodes=cluster,
        bound=bound,
        asked=asked,
        moved=Pod("moved", draw(template)),
        move_to=draw(st.integers(0, n - 1)),
        extended=tuple(sorted(extended)),
        subset=np.array(sorted(draw(index_sets)), dtype=np.int64),
        candidates=np.array(sorted(draw(st.sets(st.integers(0, n - 1), min_size=1))),
                            dtype=np.int64),
        objects=draw(strategies.api_objects()),
    )


# ---------------------------------------------------------------------------- plugins
def _snapshot(state: ClusterState) -> dict[str, Any]:
    arrays: dict[str, Any] = {
        name: getattr(state, name).copy()
        for name in ("allocatable", "requested", "nonzero_requested", "allowed_pods",
                     "pod_count", "unschedulable", "gpu_count", "gpu_free", "gpu_model")
    }
    arrays["gpus_of"] = dict(state.gpus_of)
    arrays["taints.ids"] = state.taints.ids.copy()
    for key in state.labels.keys:
        arrays[f"labels[{key}]"] = state.labels.codes(key).copy()
    arrays["bound"] = dict(state.bound)
    arrays["epoch"] = state.epoch
    return arrays


def _state_arrays(state: ClusterState) -> dict[str, np.ndarray]:
    arrays = {name: getattr(state, name)
              for name in ("allocatable", "requested", "nonzero_requested", "allowed_pods",
                           "pod_count", "unschedulable", "gpu_count", "gpu_free",
                           "gpu_model")}
    arrays["taints.ids"] = state.taints.ids
    for key in state.labels.keys:
        arrays[f"labels.codes({key!r})"] = state.labels.codes(key)
    return arrays


Answers = tuple[np.ndarray | None, np.ndarray | None]


class _PluginChecker:
    def __init__(self, plugin: Plugin, skip_rules: frozenset[str] = frozenset()) -> None:
        unknown = sorted(skip_rules - set(RULES))
        if unknown:
            raise ValueError(f"check_plugin: unknown rules {unknown}; the rules are "
                             f"{sorted(RULES)}")
        self.skip_rules = skip_rules
        self.plugin = plugin
        self.is_filter = isinstance(plugin, FilterPlugin)
        self.is_score = isinstance(plugin, ScorePlugin)
        self.has_reference = reference.has_reference(plugin)

    @property
    def filter_plugin(self) -> FilterPlugin:
        """The plugin as the FilterPlugin it is (asked only when ``is_filter``)."""
        assert isinstance(self.plugin, FilterPlugin)
        return self.plugin

    @property
    def score_plugin(self) -> ScorePlugin:
        """The plugin as the ScorePlugin it is (asked only when ``is_score``)."""
        assert isinstance(self.plugin, ScorePlugin)
        return self.plugin

    def error(self, rule: str, detail: str) -> AssertionError:
        return AssertionError(
            f"check_plugin: plugin {self.plugin.name or type(self.plugin).__name__} "
            f"({self.plugin!r}) breaks rule '{rule}' ({RULES[rule]}): {detail}")

    def call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except AssertionError:
            raise
        except Exception as exc:
            raise self.error("no-exceptions", f"{what} raised {type(exc).__name__}: {exc}"
                             ) from exc

    # ------------------------------------------------------------------ declaration
    def check_declaration(self) -> None:
        if not (self.is_filter or self.is_score):
            raise self.error("declaration", "it is neither a FilterPlugin nor a ScorePlugin")
        if not isinstance(self.plugin.name, str) or not self.plugin.name:
            raise self.error("declaration", f"name is {self.plugin.name!r}")
        if not isinstance(self.plugin.scope, Scope):
            raise self.error("declaration", f"scope is {self.plugin.scope!r}, not a Scope")
        normalize = getattr(self.plugin, "normalize_score", None)
        if normalize is not None and not callable(normalize):
            raise self.error("declaration", "normalize_score is neither None nor callable")

    # ------------------------------------------------------------------ raw calls
    @staticmethod
    def _where(nodes: NodeIndex) -> str:
        return "ALL nodes" if nodes is ALL else f"nodes {_show(nodes)}"

    def check_fresh(self, state: ClusterState, what: str, out: np.ndarray) -> None:
        for name, array in _state_arrays(state).items():
            if np.may_share_memory(out, array):
                raise self.error("fresh-arrays", f"{what} returned a view of state.{name}")

    def filter(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        """The plugin's answer, checked for shape, dtype and aliasing (not copied)."""
        what = f"filter({pod.key}, {self._where(nodes)})"
        mask = self.call(what, self.filter_plugin.filter, state, pod, nodes)
        expected = (state.count(nodes),)
        if not isinstance(mask, np.ndarray) or mask.dtype != bool or mask.shape != expected:
            got = (f"{mask.dtype} array of shape {mask.shape}" if isinstance(mask, np.ndarray)
                   else type(mask).__name__)
            raise self.error("filter-shape", f"{what} returned {got}, expected bool of shape "
                             f"{expected}")
        self.check_fresh(state, what, mask)
        return mask

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray | None:
        """The plugin's answer, checked for shape, dtype and aliasing (not copied)."""
        what = f"score({pod.key}, {self._where(nodes)})"
        raw = self.call(what, self.score_plugin.score, state, pod, nodes)
        if raw is None:
            return None
        expected = (state.count(nodes),)
        if not isinstance(raw, np.ndarray) or raw.dtype.kind not in "iu" or raw.shape != expected:
            got = (f"{raw.dtype} array of shape {raw.shape}" if isinstance(raw, np.ndarray)
                   else type(raw).__name__)
            raise self.error("score-shape", f"{what} returned {got}, expected an integer "
                             f"array of shape {expected}")
        self.check_fresh(state, what, raw)
        return raw

    def normalize(self, raw: np.ndarray) -> np.ndarray:
        normalize_score = self.score_plugin.normalize_score
        assert normalize_score is not None  # asked only of a plugin that has one
        out = self.call(f"normalize_score({_show(raw)})", normalize_score, raw.copy())
        if (not isinstance(out, np.ndarray) or out.dtype.kind not in "iu"
                or out.shape != raw.shape):
            got = (f"{out.dtype} array of shape {out.shape}" if isinstance(out, np.ndarray)
                   else type(out).__name__)
            raise self.error("normalize", f"normalize_score({_show(raw)}) returned {got}, "
                             f"expected an integer array of shape {raw.shape}")
        if len(out) and not 0 <= out.min() <= out.max() <= MAX_NODE_SCORE:
            raise self.error("normalize", f"normalize_score({_show(raw)}) = {_show(out)} "
                             f"leaves [0, {MAX_NODE_SCORE}]")
        for value in np.unique(raw):
            if len(np.unique(out[raw == value])) > 1:
                raise self.error("normalize", f"normalize_score({_show(raw)}) = {_show(out)} "
                                 f"maps the equal raw scores {value} to different results")
        return out.astype(np.int64)

    def answers(self, state: ClusterState, pod: Pod) -> Answers:
        """Copies of the filter and score answers over ALL nodes (None where not a filter or
        a score plugin, or the score skips the pod)."""
        mask = self.filter(state, pod, ALL).copy() if self.is_filter else None
        raw = self.score(state, pod, ALL) if self.is_score else None
        return mask, None if raw is None else raw.copy()

    # ------------------------------------------------------------------ one pod
    def check_pod(self, scenario: Scenario, state: ClusterState, pod: Pod) -> None:
        before = _snapshot(state)
        subset = scenario.subset
        if self.is_filter:
            mask = self.filter(state, pod, ALL)
            mask_again = self.filter(state, pod, ALL)
            if "deterministic" not in self.skip_rules and not np.array_equal(mask_again, mask):
                raise self.error("deterministic", f"filter({pod.key}, ALL) answered "
                                 "differently on a second call with the same state")
            if np.may_share_memory(mask, mask_again):
                raise self.error("fresh-arrays", f"filter({pod.key}, ALL) returned the same "
                                 "array on two calls")
            mask_sub = self.filter(state, pod, subset)
            if not np.array_equal(mask_sub, mask[subset]):
                raise self.error("subset", f"filter({pod.key}, {_show(subset)}) = "
                                 f"{_show(mask_sub)} "
                                 f"but filter({pod.key}, ALL) gives {_show(mask[subset])} there")
            self.check_rejections(state, pod, mask, self.check_reasons(state, pod, mask))
            skips = self.call(f"skips_filter({pod.key})", self.filter_plugin.skips_filter, state,
                              pod)
            if skips and not mask.all():
                raise self.error("skips-filter", f"skips_filter({pod.key}) is True but "
                                 f"filter({pod.key}, ALL) = {_show(mask)}")
        if self.is_score:
            raw = self.score(state, pod, ALL)
            again = self.score(state, pod, ALL)
            if "deterministic" in self.skip_rules:
                pass
            elif (raw is None) != (again is None) or (
                    raw is not None and again is not None and not np.array_equal(raw, again)):
                raise self.error("deterministic", f"score({pod.key}, ALL) answered "
                                 "differently on a second call with the same state")
            if raw is not None and np.may_share_memory(raw, again):
                raise self.error("fresh-arrays", f"score({pod.key}, ALL) returned the same "
                                 "array on two calls")
            sub = self.score(state, pod, subset)
            if self.score_plugin.candidate_dependent:
                pass  # its raw scores depend on the nodes asked together: no subset rule
            elif (sub is None) != (raw is None) or (
                    raw is not None and sub is not None and not np.array_equal(sub, raw[subset])):
                shown = "None" if raw is None else _show(raw[subset])
                got = "None" if sub is None else _show(sub)
                raise self.error("subset", f"score({pod.key}, {_show(subset)}) = {got} but "
                                 f"score({pod.key}, ALL) gives {shown} there")
            if raw is not None and self.score_plugin.candidate_dependent:
                raw = self.score(state, pod, scenario.candidates)
                if raw is not None:
                    self.check_scores(pod, raw, np.arange(len(raw)))
            elif raw is not None:
                self.check_scores(pod, raw, scenario.candidates)
        if self.has_reference:
            self.check_reference(scenario, state, pod)
        after = _snapshot(state)
        for name, value in before.items():
            same = (np.array_equal(value, after[name]) if isinstance(value, np.ndarray)
                    else value == after[name])
            if not same:
                raise self.error("read-only", f"state.{name} changed while the plugin "
                                 f"answered for pod {pod.key}")

    def check_scores(self, pod: Pod, raw: np.ndarray, candidates: np.ndarray) -> None:
        if self.score_plugin.normalize_score is None:
            if len(raw) and not 0 <= raw.min() <= raw.max() <= MAX_NODE_SCORE:
                raise self.error("score-bounds", f"score({pod.key}, ALL) = {_show(raw)}")
            return
        out = self.normalize(raw[candidates])
        if ("deterministic" not in self.skip_rules
                and not np.array_equal(out, self.normalize(raw[candidates]))):
            raise self.error("deterministic", f"normalize_score({_show(raw[candidates])}) "
                             "answered differently on a second call")

    def check_reasons(self, state: ClusterState, pod: Pod, mask: np.ndarray
                      ) -> list[tuple[str, np.ndarray]]:
        failed = np.flatnonzero(~mask)
        if len(failed) == 0:
            return []
        reasons = self.call(f"failure_reasons({pod.key}, {_show(failed)})",
                            self.filter_plugin.failure_reasons, state, pod, failed)
        covered = np.zeros(len(failed), dtype=bool)
        if not isinstance(reasons, list):
            raise self.error("failure-reasons", f"returned a {type(reasons).__name__}, "
                             "expected a list")
        for item in reasons:
            ok = (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                  and item[0] and isinstance(item[1], np.ndarray) and item[1].dtype == bool
                  and item[1].shape == (len(failed),))
            if not ok:
                raise self.error("failure-reasons", f"item {item!r} is not a (non-empty str, "
                                 f"bool array of shape ({len(failed)},)) pair")
            covered |= item[1]
        if not covered.all():
            raise self.error("failure-reasons", f"pod {pod.key}: rejected nodes "
                             f"{_show(failed[~covered])} have no reason")
        return reasons

    def check_rejections(self, state: ClusterState, pod: Pod, mask: np.ndarray,
                         reasons: list[tuple[str, np.ndarray]]) -> None:
        nodes = np.arange(state.n_nodes)
        found = self.call(f"rejections({pod.key}, every node)", self.filter_plugin.rejections,
                          state, pod, nodes)
        ok = (isinstance(found, tuple) and len(found) == 2
              and isinstance(found[0], np.ndarray) and isinstance(found[1], list))
        if not ok:
            raise self.error("rejections", f"returned {found!r}, expected (bool array, list)")
        passes, counted = found
        if not np.array_equal(np.asarray(passes, dtype=bool), mask):
            raise self.error("rejections", f"rejections({pod.key}) passes {_show(passes)} "
                             f"but filter gives {_show(mask)}")
        expected: Counter[str] = Counter()
        for reason, which in reasons:
            expected[reason] += int(np.count_nonzero(which))
        got: Counter[str] = Counter()
        for reason, count in counted:
            got[reason] += count
        if +got != +expected:
            raise self.error("rejections", f"rejections({pod.key}) counts {dict(+got)} but "
                             f"failure_reasons gives {dict(+expected)}")

    # ------------------------------------------------------------------ reference
    def check_reference(self, scenario: Scenario, state: ClusterState, pod: Pod) -> None:
        infos = scenario.infos()
        names = state.names
        mask = None
        if self.is_filter:
            mask = self.filter(state, pod, ALL)
            expected = reference.filter_all(self.filter_plugin, pod, infos, scenario.objects)
            for i, ref_reasons in enumerate(expected):
                if mask[i] != (not ref_reasons):
                    vec_says = "passes" if mask[i] else "rejects"
                    raise self.error("reference", f"filter of pod {pod.key} on node {names[i]}: "
                                     f"vectorised {vec_says}, reference "
                                     f"{ref_reasons or 'passes'}")
            failed = np.flatnonzero(~mask)
            reasons = self.check_reasons(state, pod, mask)
            for j, k in enumerate(failed):
                got = sorted({text for text, which in reasons if which[j]})
                if got != sorted(set(expected[k])):
                    raise self.error("reference", f"reasons of pod {pod.key} on node "
                                     f"{names[k]}: vectorised {got}, reference "
                                     f"{sorted(set(expected[k]))}")
        if not self.is_score:
            return
        sets = [scenario.candidates]
        if mask is not None and mask.any():
            sets.append(np.flatnonzero(mask))
        if not self.score_plugin.candidate_dependent:
            sets.append(np.arange(state.n_nodes))
        for nodes in sets:
            ref = reference.score_candidates(self.score_plugin, pod, infos, nodes.tolist(),
                                             scenario.objects)
            raw = self.score(state, pod, nodes if self.score_plugin.candidate_dependent else ALL)
            if raw is not None and not self.score_plugin.candidate_dependent:
                raw = raw[nodes]
            if raw is None or ref is None:
                if raw is None and (ref is None or not any(ref[1])):
                    continue  # skipped, or the reference normalises to all 0 (no topology)
                vec_says, ref_says = ("skips" if x is None else "scores" for x in (raw, ref))
                raise self.error("reference", f"score of pod {pod.key} over nodes "
                                 f"{_show(nodes)}: vectorised {vec_says}, reference {ref_says}")
            ref_raw, ref_normalized = ref
            # None: the reference defines no score there (Go's Score fails): not compared
            if not self.score_plugin.candidate_dependent and not _agree(raw.tolist(), ref_raw):
                raise self.error("reference", f"raw scores of pod {pod.key} over nodes "
                                 f"{_show(nodes)}: vectorised {_show(raw)}, reference "
                                 f"{_show(ref_raw)}")
            vec = raw if self.score_plugin.normalize_score is None else self.normalize(raw)
            if not _agree(vec.tolist(), list(ref_normalized)):
                raise self.error("reference", f"normalised scores of pod {pod.key} over "
                                 f"nodes {_show(nodes)} (raw {_show(raw)}): "
                                 f"vectorised {_show(vec)}, reference {_show(ref_normalized)}")

    # ------------------------------------------------------------------ scope
    def _diff(self, before: Answers, after: Answers, allowed: int | None) -> str | None:
        """Describe answers that changed at nodes other than ``allowed`` (None: any)."""
        for what, old, new in zip(("filter", "score"), before, after, strict=True):
            if (old is None) != (new is None):
                return f"its {what} switched between skipping and answering"
            if old is None:
                continue
            assert new is not None  # as old is not
            changed = np.flatnonzero(old != new)
            if allowed is not None:
                changed = changed[changed != allowed]
            if len(changed):
                return (f"its {what} answers at nodes {_show(changed)} went from "
                        f"{_show(old[changed])} to {_show(new[changed])}")
        return None

    def check_scope(self, scenario: Scenario, state: ClusterState) -> None:
        """Binds and unbinds change the answers only as the declared ``scope`` allows, and a
        CLUSTER plugin's ``state_token`` changes with them: else the framework, which
        caches answers on these promises, would keep stale ones."""
        plugin, scope = self.plugin, self.plugin.scope
        by_scope = scope is not Scope.CLUSTER and "scope" not in self.skip_rules
        by_token = scope is Scope.CLUSTER and "state-token" not in self.skip_rules
        if not (by_scope or by_token):
            return
        pods = scenario.asked
        before = [self.answers(state, pod) for pod in pods]
        tokens = [plugin.state_token(state, pod) if by_token else None for pod in pods]
        for text, do, undo, node in self._moves(scenario, state):
            do()
            for pod, old, token in zip(pods, before, tokens, strict=True):
                if by_scope:
                    problem = self._diff(old, self.answers(state, pod),
                                         None if scope is Scope.STATIC else node)
                    if problem:
                        raise self.error("scope", f"declares {scope.name}, but after {text}, "
                                         f"for pod {pod.key}, {problem}: the framework would "
                                         "keep stale answers (declare a wider scope)")
                elif token is not None and plugin.state_token(state, pod) == token:
                    problem = self._diff(self._cached(old), self._cached(
                        self.answers(state, pod)), None)
                    if problem:
                        raise self.error("state-token", f"for pod {pod.key}, state_token "
                                         f"stayed {token!r} after {text}, but {problem}: "
                                         "the framework would keep stale answers")
            undo()
            if by_scope:
                for pod, old in zip(pods, before, strict=True):
                    problem = self._diff(old, self.answers(state, pod), None)
                    if problem:
                        raise self.error("scope", f"declares {scope.name}, but after {text} "
                                         f"and undoing it, for pod {pod.key}, {problem}")

    @staticmethod
    def _moves(scenario: Scenario, state: ClusterState
               ) -> list[tuple[str, Callable[[], object], Callable[[], object], int]]:
        """(what, do, undo, the node it changes): binding the scenario's moved pod on its
        target node (if it fits there), unbinding its first bound pod."""
        moves: list[tuple[str, Callable[[], object], Callable[[], object], int]] = []
        moved, target = scenario.moved, scenario.move_to
        request = moved.template.gpu
        if request is None or gpu.fits(state, request, np.array([target]))[0]:
            moves.append((f"binding pod {moved.key} on node {state.names[target]}",
                          lambda: state.bind(moved, target,
                                             gpu.default_gpus(state, moved, target)),
                          lambda: state.unbind(moved),
                          target))
        if scenario.bound:
            gone, source = scenario.bound[0]
            held = state.gpus_of.get(gone.key)  # rebound on the same devices
            moves.append((f"unbinding pod {gone.key} from node {state.names[source]}",
                          lambda: state.unbind(gone), lambda: state.bind(gone, source, held),
                          source))
        return moves

    def _cached(self, answers: Answers) -> Answers:
        """The answers the framework caches (a candidate-dependent plugin's scores are
        asked for per cycle, never cached)."""
        dependent = isinstance(self.plugin, ScorePlugin) and self.plugin.candidate_dependent
        return (answers[0], None) if dependent else answers

    def check_cache_key(self, scenario: Scenario, state: ClusterState) -> None:
        """Pods the plugin gives equal ``cache_key`` get equal answers."""
        if "cache-key" in self.skip_rules or "deterministic" in self.skip_rules:
            return
        first: dict[Hashable, tuple[Pod, Answers]] = {}
        for pod in scenario.asked:
            answers = self._cached(self.answers(state, pod))
            key = self.plugin.cache_key(state, pod)
            seen = first.setdefault(key, (pod, answers))
            problem = self._diff(seen[1], answers, None)
            if problem:
                raise self.error("cache-key", f"pods {seen[0].key} and {pod.key} have the "
                                 f"same cache_key {key!r}, but {problem} from one to the "
                                 "other: the framework would give the second the first's "
                                 "answers")

    def check(self, scenario: Scenario) -> None:
        state = scenario.state()
        for pod in scenario.asked:
            self.check_pod(scenario, state, pod)
        self.check_cache_key(scenario, state)
        self.check_scope(scenario, state)


def check_plugin(plugin: Plugin, *, max_examples: int = 50,
                 hypothesis_settings: settings | None = None,
                 skip_rules: Iterable[str] = ()) -> None:
    """Check that ``plugin`` keeps the plugin contract, on ``max_examples`` random states.

    Over random clusters with pods bound (``Scenario``) and random pods, it checks (the
    names are ``RULES``): filter and score return the right shape and dtype for ALL and for
    an index array, and the index-array answers equal the ALL answers there; answers are
    deterministic; raw scores lie in [0, 100] unless the plugin has ``normalize_score``,
    whose output must lie in [0, 100] and map equal raw scores to equal results; the
    declared ``scope`` is honest; the state is not modified; ``failure_reasons`` covers
    every rejected node. A plugin with a scalar reference (``schedlab.reference``) must
    also equal it exactly: pass/fail and reasons per node, raw scores, and normalised
    scores over the feasible nodes and over random candidate sets (except where the
    reference defines no score, see ``schedlab.reference``). The FGD paper's GPU plugins
    (GpuShare and the ``GpuScorePlugin`` subclasses) always get clusters with GPU devices
    and pods with GPU asks; other plugins a quarter of the time.

    Raises ``AssertionError`` naming the plugin and the rule it breaks; hypothesis prints
    the (shrunk) failing example. Other hypothesis settings come from
    ``hypothesis_settings``, by default the loaded profile (e.g. pass
    ``settings(phases=[Phase.generate])`` to skip shrinking).

    ``skip_rules`` names rules (of ``RULES``) not to check: "deterministic" and "scope" for
    a plugin that draws random numbers on each call, such as RandomScore (whose answers
    change from call to call by design). A plugin without a scalar reference
    (``reference.has_reference``) skips the "reference" rule anyway.
    """
    checker = _PluginChecker(plugin, frozenset(skip_rules))
    checker.check_declaration()
    gpus = True if isinstance(plugin, (GpuShare, GpuScorePlugin)) else None

    @_settings(max_examples, hypothesis_settings)
    @given(scenarios(gpus=gpus))
    def run(scenario: Scenario) -> None:
        checker.check(scenario)

    _run(run)


# ---------------------------------------------------------------------------- policies
def enforced_constraints(profile: Profile) -> Callable[[Violation], bool]:
    """A predicate telling whether a ``verify`` violation concerns a constraint one of the
    profile's filters enforces (a profile without NodeResourcesFit does not promise capacity;
    resources a NodeResourcesFit ignores are not promised either)."""
    enforced = {"unknown-pod", "unknown-node"}
    fits = []
    for plugin in profile.filters:
        if isinstance(plugin, NodeName):
            enforced.add("node-name")
        elif isinstance(plugin, NodeAffinity):
            enforced.add("node-affinity")
        elif isinstance(plugin, TaintToleration):
            enforced.add("taints")
        elif isinstance(plugin, NodeUnschedulable):
            enforced.add("unschedulable")
        elif isinstance(plugin, NodeResourcesFit):
            enforced |= {"capacity", "pod-count"}
            fits.append(plugin)
        elif isinstance(plugin, InterPodAffinity):
            enforced |= {"pod-affinity", "pod-anti-affinity"}
        elif isinstance(plugin, PodTopologySpread):
            enforced.add("topology-spread")

    def ignored(plugin: NodeResourcesFit, name: str) -> bool:
        return resources.is_extended(name) and (
            name in plugin.args.ignored_resources
            or name.split("/", 1)[0] in plugin.args.ignored_resource_groups)

    def concerns(violation: Violation) -> bool:
        if violation.constraint not in enforced:
            return False
        if violation.constraint == "capacity":
            name = violation.detail.split(":", 1)[0]
            return any(not ignored(fit, name) for fit in fits)
        return True

    return concerns


class _PolicyChecker:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        profile = getattr(policy, "profile", None)
        self.profile = profile if isinstance(profile, Profile) else Profile.default()
        self.concerns = enforced_constraints(self.profile)

    def error(self, rule: str, detail: str) -> AssertionError:
        return AssertionError(f"check_policy: policy {self.policy.name or type(self.policy)} "
                              f"({self.policy!r}) breaks rule '{rule}' ({POLICY_RULES[rule]}): "
                              f"{detail}")

    def simulate(self, workload: Workload, seed: int) -> Any:
        try:
            return simulate(workload, self.policy, seed)
        except AssertionError:
            raise
        except Exception as exc:
            raise self.error("no-exceptions", f"simulate(seed={seed}) raised "
                             f"{type(exc).__name__}: {exc}") from exc

    def check(self, workload: Workload, seed: int) -> None:
        first = self.simulate(workload, seed)
        second = self.simulate(workload, seed)
        if not first.bindings.equals(second.bindings):
            differ = first.bindings.ne(second.bindings).any(axis=1)
            row = int(np.flatnonzero(differ.to_numpy())[0]) if differ.any() else 0
            raise self.error("reproducible", f"seed {seed}: row {row} is "
                             f"{first.bindings.iloc[row].to_dict()} then "
                             f"{second.bindings.iloc[row].to_dict()}")
        pending = workload.pending_pods
        keys = [p.key for p in pending]
        names = {node.name for node in workload.nodes}
        if list(first.bindings["pod"]) != keys:
            raise self.error("bindings", f"pods are {list(first.bindings['pod'])}, "
                             f"expected {keys}")
        chosen = list(first.bindings["node"])
        unknown = [n for n in chosen if n is not None and n not in names]
        if unknown:
            raise self.error("bindings", f"unknown nodes {unknown}")
        violations = [v for v in check_placement(workload, first.assignment())
                      if self.concerns(v)]
        if violations:
            raise self.error("hard-constraints", "; ".join(map(str, violations[:5])))
        self.replay(workload, pending, chosen, list(first.bindings["reason"]))

    def replay(self, workload: Workload, pending: Sequence[Pod], chosen: list[str | None],
               reasons: list[str | None]) -> None:
        state = prepare(workload)
        for pod, node, reason in zip(pending, chosen, reasons, strict=True):
            feasible = np.ones(state.n_nodes, dtype=bool)
            for plugin in self.profile.filters:
                feasible &= np.asarray(plugin.filter(state, pod, ALL), dtype=bool)
            if node is None:
                if feasible.any():
                    nodes = [state.names[i] for i in np.flatnonzero(feasible)]
                    raise self.error("unschedulable", f"pod {pod.key} was left unschedulable "
                                     f"({reason!r}) but nodes {nodes} pass every filter")
                if not isinstance(reason, str) or not reason:
                    raise self.error("unschedulable", f"pod {pod.key} was left unschedulable "
                                     f"with reason {reason!r}")
                continue
            index = state.index[node]
            if not feasible[index]:
                failing = [p.name for p in self.profile.filters
                           if not np.asarray(p.filter(state, pod, np.array([index])))[0]]
                raise self.error("placed-feasible", f"pod {pod.key} was placed on {node}, "
                                 f"which fails filters {failing}")
            state.bind(pod, index, gpu.default_gpus(state, pod, index))


def check_policy(policy: Policy, *, max_examples: int = 25,
                 workloads: st.SearchStrategy[Workload] | None = None,
                 hypothesis_settings: settings | None = None) -> None:
    """Check that ``policy`` keeps the policy contract on random workloads (``workloads``,
    default ``schedlab.testing.workloads()``) and seeds (rules in ``POLICY_RULES``):
    ``simulate`` twice with the same seed gives identical bindings; the bindings list every
    pending pod in order; ``verify.check_placement`` finds no violation of the constraints
    the policy's profile filters enforce; every placed pod passes the profile's filters when
    placed; and a pod left unschedulable really has no node passing them (with a reason).

    Raises ``AssertionError`` naming the policy and the rule it breaks. Other hypothesis
    settings come from ``hypothesis_settings``, by default the loaded profile.
    """
    checker = _PolicyChecker(policy)
    strategy = strategies.workloads() if workloads is None else workloads

    @_settings(max_examples, hypothesis_settings)
    @given(strategy, st.integers(0, 2**32 - 1))
    def run(workload: Workload, seed: int) -> None:
        checker.check(workload, seed)

    _run(run)
