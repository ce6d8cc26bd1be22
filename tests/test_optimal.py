"""The Optimal policy against a brute-force optimum on tiny instances, on perfect packings,
against Greedy, and its fallbacks, determinism and configuration.

The brute force (``brute_force``) is written from the Kubernetes rules, not from the model: it
binds the pending pods in input order, each on a node it passes at that moment (resources and
pod slots, nodeSelector and node affinity, NoSchedule taints, GPU model and an exact packing
of the node's GPU asks onto its devices, required pod anti-affinity both ways, required pod
affinity with the first-pod rule, DoNotSchedule topology spreading) or on none, and keeps
every reachable end state. Pods of a class (same template) are interchangeable, so a state is
the count of each class's pods on each node, which keeps the search small.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from functools import cache

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from schedlab.errors import ConfigError
from schedlab.framework.cycle import Evaluator
from schedlab.framework.profile import Profile
from schedlab.objects import (
    MILLI_PER_GPU,
    Container,
    GpuRequest,
    LabelSelector,
    Node,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodTemplate,
    Taint,
    Toleration,
    TopologySpreadConstraint,
    Workload,
)
from schedlab.optimal.model import OBJECTIVES
from schedlab.optimal.solve import Stage, solve
from schedlab.plugins import GpuShare
from schedlab.policies import Greedy, Optimal, make_policy
from schedlab.policies import optimal as optimal_module
from schedlab.sim.simulate import RunResult, prepare, simulate
from schedlab.testing import enforced_constraints
from schedlab.traces import synthetic
from schedlab.verify import check_placement

GI = 1024**3
MI = 1024**2
HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
DISK = "example.com/disk"
APPS = ("a", "b", "c")
TAINT = Taint("dedicated", "gpu", "NoSchedule")
GPU_MODELS = ("T4", "A10")
PROFILE = Profile.default(100).with_filter(GpuShare())
EXAMPLES = settings.default.max_examples
GPU_CONSTRAINTS = ("gpu-model", "gpu-devices")


def violations(workload: Workload, result: RunResult, profile: Profile = PROFILE) -> list:
    """The violations of the run's placement that the profile (with GpuShare) enforces."""
    concerns = enforced_constraints(profile)
    return [v for v in check_placement(workload, result.assignment(), result.state.gpus_of)
            if concerns(v) or v.constraint in GPU_CONSTRAINTS]


def per_mille_peak(state) -> int:
    """max over nodes and cpu, memory of ceil(1000 · requested / allocatable)."""
    peak = 0
    for r in ("cpu", "memory"):
        column = state.resources.index[r]
        for alloc, used in zip(state.allocatable[:, column], state.requested[:, column],
                               strict=True):
            if alloc > 0:
                peak = max(peak, -(-1000 * int(used) // int(alloc)))
    return peak


# ============================================================================ tiny instances
@st.composite
def tiny_nodes(draw: st.DrawFn) -> list[Node]:
    nodes = []
    for i in range(draw(st.sampled_from([1, 2, 3, 4, 2, 3, 4]))):
        labels = {HOST: f"n{i}"}
        zone = draw(st.sampled_from(["z1", "z2", "z3", "z1", "z2", "z1", "z2", None]))
        if zone is not None:
            labels[ZONE] = zone
        disk = draw(st.sampled_from([None, "ssd", "hdd"]))
        if disk is not None:
            labels[DISK] = disk
        gpus = draw(st.sampled_from([0, 1, 2, 4]))
        allocatable = {"cpu": draw(st.sampled_from([2000, 4000, 8000])),
                       "memory": draw(st.sampled_from([4, 8, 16])) * GI,
                       "pods": draw(st.sampled_from([2, 3, 110, 110]))}
        nodes.append(Node(f"n{i}", allocatable, labels,
                          (TAINT,) if draw(st.integers(0, 4)) == 4 else (), gpus=gpus,
                          gpu_model=draw(st.sampled_from(GPU_MODELS)) if gpus else ""))
    return nodes


def _requests(draw: st.DrawFn, cpus: list[int | None], memories: list[int | None]
              ) -> Container:
    cpu, memory = draw(st.sampled_from(cpus)), draw(st.sampled_from(memories))
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    return Container(requests=requests)


@st.composite
def tiny_template(draw: st.DrawFn, index: int) -> PodTemplate:
    """A pending pod template: labels app (shared by chance with other templates, so that
    selectors cross classes) and group g<index> (its own, for affinity to itself)."""
    app = draw(st.sampled_from(APPS))
    container = _requests(draw, [None, 0, 500, 1000, 1500, 3000],
                          [None, 512 * MI, 1 * GI, 2 * GI, 6 * GI])
    node_selector = {DISK: "ssd"} if draw(st.integers(0, 4)) == 4 else {}
    affinity = None
    if draw(st.integers(0, 3)) == 3:
        operator = draw(st.sampled_from(["In", "NotIn"]))
        values = tuple(draw(st.lists(st.sampled_from(["z1", "z2", "z3"]), min_size=1,
                                     max_size=2, unique=True)))
        affinity = NodeAffinity(required=(NodeSelectorTerm(
            (NodeSelectorRequirement(ZONE, operator, values),)),))
    tolerations = ()
    if draw(st.booleans()):
        tolerations = (draw(st.sampled_from([Toleration("dedicated", "Equal", "gpu",
                                                         "NoSchedule"),
                                             Toleration("dedicated", "Exists")])),)
    anti = None
    if draw(st.integers(0, 2)) == 2:
        target = draw(st.sampled_from([app, app, *APPS]))
        anti = PodAffinity(required=(PodAffinityTerm(
            draw(st.sampled_from([HOST, ZONE])), LabelSelector({"app": target})),))
    pod_affinity = None
    if draw(st.integers(0, 4)) == 4:
        pod_affinity = PodAffinity(required=(PodAffinityTerm(
            draw(st.sampled_from([HOST, ZONE])), LabelSelector({"group": f"g{index}"})),))
    spread = ()
    if draw(st.integers(0, 2)) == 2:
        target = draw(st.sampled_from([app, app, app, *APPS]))
        spread = (TopologySpreadConstraint(1, ZONE, "DoNotSchedule",
                                           LabelSelector({"app": target})),)
    gpu = None
    kind = draw(st.sampled_from(["none", "none", "none", "share", "share", "whole"]))
    models = draw(st.sampled_from([frozenset(), frozenset(), frozenset({"T4"})]))
    if kind == "share":
        gpu = GpuRequest(1, draw(st.sampled_from([200, 300, 500, 600, 700])), models)
    elif kind == "whole":
        gpu = GpuRequest(draw(st.sampled_from([1, 1, 2])), MILLI_PER_GPU, models)
    return PodTemplate(labels={"app": app, "group": f"g{index}"}, containers=(container,),
                       node_selector=node_selector, affinity=affinity, tolerations=tolerations,
                       priority=draw(st.sampled_from([0, 0, 5, 10])), pod_anti_affinity=anti,
                       pod_affinity=pod_affinity, topology_spread_constraints=spread, gpu=gpu)


@st.composite
def tiny_workloads(draw: st.DrawFn) -> Workload:
    """≤ 4 nodes, 0–3 already-bound pods (that fit), ≤ 7 pending pods of ≤ 3 templates."""
    nodes = draw(tiny_nodes())
    bound = []
    used = {n.name: [0, 0, 0] for n in nodes}
    for i in range(draw(st.integers(0, 3))):
        node = draw(st.sampled_from(nodes))
        cpu = draw(st.sampled_from([0, 500, 1000]))
        memory = draw(st.sampled_from([0, 1 * GI, 2 * GI]))
        if (used[node.name][0] + cpu > node.allocatable["cpu"]
                or used[node.name][1] + memory > node.allocatable["memory"]
                or used[node.name][2] + 1 > node.allocatable["pods"]):
            continue
        used[node.name][0] += cpu
        used[node.name][1] += memory
        used[node.name][2] += 1
        labels = {"app": draw(st.sampled_from(APPS))}
        if draw(st.booleans()):
            labels["group"] = f"g{draw(st.integers(0, 2))}"
        anti = None
        if draw(st.integers(0, 3)) == 3:
            anti = PodAffinity(required=(PodAffinityTerm(
                draw(st.sampled_from([HOST, ZONE])),
                LabelSelector({"app": draw(st.sampled_from(APPS))})),))
        bound.append(Pod(f"b{i}", PodTemplate(
            labels=labels, containers=(Container(requests={"cpu": cpu, "memory": memory}),),
            node_name=node.name, pod_anti_affinity=anti)))
    templates = [draw(tiny_template(k)) for k in range(draw(st.integers(1, 3)))]
    picks = draw(st.lists(st.sampled_from(templates), min_size=1, max_size=7))
    pending = [Pod(f"p{i}", t) for i, t in enumerate(picks)]
    return Workload(tuple(nodes), (*bound, *pending))


# ============================================================================ brute force
def _matches(selector: LabelSelector, labels) -> bool:
    return all(labels.get(k) == v for k, v in selector.match_labels.items())


def _node_matches(template: PodTemplate, node: Node) -> bool:
    """nodeSelector and required node affinity (one term, one In / NotIn requirement)."""
    if any(node.labels.get(k) != v for k, v in template.node_selector.items()):
        return False
    if template.affinity is not None and template.affinity.required is not None:
        ok = False
        for term in template.affinity.required:
            held = True
            for req in term.match_expressions:
                value = node.labels.get(req.key)
                if req.operator == "In":
                    held &= value is not None and value in req.values
                elif req.operator == "NotIn":
                    held &= value is None or value not in req.values
                else:
                    raise AssertionError(req.operator)
            ok |= held
        if not ok:
            return False
    return True


def _tolerated(template: PodTemplate, node: Node) -> bool:
    for taint in node.taints:
        if taint.effect not in ("NoSchedule", "NoExecute"):
            continue
        if not any(t.key == taint.key and (t.operator == "Exists" or t.value == taint.value)
                   and t.effect in ("", taint.effect) for t in template.tolerations):
            return False
    return True


def _real(template: PodTemplate, resource: str) -> int:
    return sum(c.requests.get(resource, 0) for c in template.containers)


def _packs(shares: list[int], whole: int, devices: int) -> bool:
    """Whether ``whole`` fully free devices and a slot for each sharing ask (milli) exist
    among ``devices`` idle GPUs: an exact search."""
    if whole > devices:
        return False
    room = [MILLI_PER_GPU] * (devices - whole)
    items = sorted(shares, reverse=True)

    def place(i: int) -> bool:
        if i == len(items):
            return True
        tried = set()
        for d, free in enumerate(room):
            if free >= items[i] and free not in tried:
                tried.add(free)
                room[d] -= items[i]
                if place(i + 1):
                    return True
                room[d] += items[i]
        return False

    return place(0)


@dataclass
class Brute:
    weights: list[int]
    """per class"""
    finals: set[tuple[int, ...]]
    """reachable end states: counts[n * K + c]"""
    classes: list[PodTemplate]
    pending: list[Pod]


def brute_force(workload: Workload) -> Brute:
    nodes = list(workload.nodes)
    N = len(nodes)
    pending = [p for p in workload.pods if p.template.node_name is None]
    bound = [p for p in workload.pods if p.template.node_name is not None]
    classes: list[PodTemplate] = []
    for pod in pending:
        if not any(pod.template is t for t in classes):
            classes.append(pod.template)
    K = len(classes)
    cls_of = [next(k for k, t in enumerate(classes) if t is p.template) for p in pending]
    levels = sorted({t.priority for t in classes})
    weights = [levels.index(t.priority) + 1 for t in classes]
    index = {n.name: i for i, n in enumerate(nodes)}
    bound_on = [[p.template for p in bound if index[p.template.node_name] == n]
                for n in range(N)]
    cpu = [_real(t, "cpu") for t in classes]
    mem = [_real(t, "memory") for t in classes]
    bound_cpu = [sum(_real(t, "cpu") for t in b) for b in bound_on]
    bound_mem = [sum(_real(t, "memory") for t in b) for b in bound_on]

    def static(t: PodTemplate, node: Node) -> bool:
        if not (_node_matches(t, node) and _tolerated(t, node)):
            return False
        return t.gpu is None or (node.gpus > 0 and (not t.gpu.models
                                                     or node.gpu_model in t.gpu.models))

    mask = [[static(t, node) for node in nodes] for t in classes]

    def matching_on(selector: LabelSelector, state: tuple[int, ...], m: int) -> int:
        return (sum(_matches(selector, t.labels) for t in bound_on[m])
                + sum(state[m * K + k] for k in range(K) if _matches(selector, classes[k].labels)))

    def same_domain(key: str, n: int, m: int) -> bool:
        a, b = nodes[n].labels.get(key), nodes[m].labels.get(key)
        return a is not None and a == b

    @cache
    def gpu_ok(n: int, counts: tuple[int, ...]) -> bool:
        shares, whole = [], 0
        for k, count in enumerate(counts):
            gpu = classes[k].gpu
            if gpu is None or not count:
                continue
            if gpu.shares:
                shares += [gpu.milli] * count
            else:
                whole += gpu.count * count
        return _packs(shares, whole, nodes[n].gpus)

    def feasible(state: tuple[int, ...], c: int, n: int) -> bool:
        t, node = classes[c], nodes[n]
        if not mask[c][n]:
            return False
        here = state[n * K:(n + 1) * K]
        if len(bound_on[n]) + sum(here) + 1 > node.allocatable.get("pods", 110):
            return False
        used_cpu = bound_cpu[n] + sum(h * x for h, x in zip(here, cpu, strict=True))
        used_mem = bound_mem[n] + sum(h * x for h, x in zip(here, mem, strict=True))
        if cpu[c] > 0 and used_cpu + cpu[c] > node.allocatable.get("cpu", 0):
            return False
        if mem[c] > 0 and used_mem + mem[c] > node.allocatable.get("memory", 0):
            return False
        if t.gpu is not None:
            after = list(here)
            after[c] += 1
            if not gpu_ok(n, tuple(after)):
                return False
        # required anti-affinity: the pod's terms, then the placed pods' terms
        anti = () if t.pod_anti_affinity is None else t.pod_anti_affinity.required
        for term in anti:
            for m in range(N):
                if same_domain(term.topology_key, n, m) and matching_on(
                        term.label_selector, state, m):
                    return False
        for m in range(N):
            holders = [(b, 1) for b in bound_on[m]] + [
                (classes[k], state[m * K + k]) for k in range(K) if state[m * K + k]]
            for other, _ in holders:
                terms = () if other.pod_anti_affinity is None else other.pod_anti_affinity.required
                for term in terms:
                    if same_domain(term.topology_key, n, m) and _matches(term.label_selector,
                                                                          t.labels):
                        return False
        # required affinity (one term): a matching pod in the domain, or the first pod
        terms = () if t.pod_affinity is None else t.pod_affinity.required
        for term in terms:
            key = term.topology_key
            if key not in node.labels:
                return False
            here_count = sum(matching_on(term.label_selector, state, m) for m in range(N)
                             if same_domain(key, n, m))
            anywhere = sum(matching_on(term.label_selector, state, m) for m in range(N)
                           if key in nodes[m].labels)
            if here_count == 0 and not (anywhere == 0 and _matches(term.label_selector,
                                                                    t.labels)):
                return False
        # DoNotSchedule spreading
        own = [s for s in t.topology_spread_constraints if s.when_unsatisfiable == "DoNotSchedule"]
        keys = [s.topology_key for s in own]
        for s in own:
            if any(k not in node.labels for k in keys):
                return False
            counts: dict[str, int] = {}
            for m, other in enumerate(nodes):
                if any(k not in other.labels for k in keys) or not _node_matches(t, other):
                    continue
                value = other.labels[s.topology_key]
                counts[value] = counts.get(value, 0) + matching_on(s.label_selector, state, m)
            least = min(counts.values()) if len(counts) >= s.min_domains else 0
            skew = (counts.get(node.labels[s.topology_key], 0)
                    + _matches(s.label_selector, t.labels) - least)
            if skew > s.max_skew:
                return False
        return True

    states = {tuple([0] * (N * K))}
    for c in cls_of:
        grown = set(states)
        for state in states:
            for n in range(N):
                if feasible(state, c, n):
                    after = list(state)
                    after[n * K + c] += 1
                    grown.add(tuple(after))
        states = grown
    return Brute(weights, states, classes, pending)


def score_table(workload: Workload, classes: list[PodTemplate]) -> list[list[int]]:
    """Per class, per node: the profile's total score of one pod on the initial state where
    it passes the filters (0 elsewhere)."""
    state = prepare(workload)
    evaluator = Evaluator(PROFILE, state)
    table = []
    for t in classes:
        pod = next(p for p in workload.pods if p.template is t)
        evaluation = evaluator.evaluate(pod)
        feasible = np.flatnonzero(evaluation.feasible)
        row = np.zeros(state.n_nodes, dtype=np.int64)
        if len(feasible):
            row[feasible] = evaluator.totals(evaluation, feasible)
        table.append([int(v) for v in row])
    return table


def secondary_of(workload: Workload, brute: Brute, state: tuple[int, ...], objective: str,
                 scores: list[list[int]] | None) -> int:
    """The secondary objective of an end state, to maximise (nodes and balance negated);
    balance in per mille."""
    nodes = workload.nodes
    K = len(brute.classes)
    bound = [p for p in workload.pods if p.template.node_name is not None]
    if objective == "nodes":
        used = {p.template.node_name for p in bound}
        used |= {nodes[n].name for n in range(len(nodes)) if sum(state[n * K:(n + 1) * K])}
        return -len(used)
    if objective == "balance":
        peak = 0
        for n, node in enumerate(nodes):
            for r in ("cpu", "memory"):
                alloc = node.allocatable.get(r, 0)
                if alloc <= 0:
                    continue
                used = sum(_real(p.template, r) for p in bound if p.template.node_name == node.name)
                used += sum(state[n * K + k] * _real(t, r) for k, t in enumerate(brute.classes))
                peak = max(peak, -(-1000 * used // alloc))
        return -peak
    if objective == "gpu":
        return sum(state[n * K + k] * (0 if t.gpu is None else t.gpu.total_milli)
                   for n in range(len(nodes)) for k, t in enumerate(brute.classes))
    if objective == "score":
        assert scores is not None
        return sum(state[n * K + k] * scores[k][n]
                   for n in range(len(nodes)) for k in range(K))
    raise AssertionError(objective)


def best_of(workload: Workload, brute: Brute, objective: str,
            scores: list[list[int]] | None) -> tuple[int, int]:
    K = len(brute.classes)
    return max(
        (sum(s[i] * brute.weights[i % K] for i in range(len(s))),
         secondary_of(workload, brute, s, objective, scores))
        for s in brute.finals)


def end_state(workload: Workload, brute: Brute, result: RunResult) -> tuple[int, ...]:
    """The counts of a run's placement, as a brute-force state."""
    K = len(brute.classes)
    index = {n.name: i for i, n in enumerate(workload.nodes)}
    counts = [0] * (len(workload.nodes) * K)
    for pod, node in zip(brute.pending, result.bindings["node"], strict=True):
        if node is not None:
            k = next(k for k, t in enumerate(brute.classes) if t is pod.template)
            counts[index[node] * K + k] += 1
    return tuple(counts)


def reported_secondary(report, objective: str) -> int:
    """The report's secondary objective in the brute force's unit and sign."""
    if objective == "nodes":
        return -int(report.secondary)
    if objective == "balance":
        return -int(report.secondary)  # per mille
    return int(report.secondary)


# ============================================================================ regressions
# Bugs this file found (each fixed, each kept as a regression test below) and the one
# documented limitation, pinned by a strict xfail.
def spread_overlaps(workload: Workload) -> tuple[bool, bool]:
    """Whether the selector of a pending pod's DoNotSchedule spreading constraint matches a
    bound pod, and a pending pod of another class (the model relaxes such a constraint)."""
    pending, bound = workload.pending_pods, workload.bound_pods
    on_bound = on_pending = False
    for pod in pending:
        for c in pod.template.topology_spread_constraints:
            if c.when_unsatisfiable != "DoNotSchedule":
                continue
            on_bound |= any(_matches(c.label_selector, b.template.labels) for b in bound)
            on_pending |= any(_matches(c.label_selector, o.template.labels) for o in pending
                              if o.template is not pod.template)
    return on_bound, on_pending


def node(name: str, cpu: int, zone: str | None = None, **options) -> Node:
    labels = {HOST: name} | ({ZONE: zone} if zone else {})
    return Node(name, {"cpu": cpu, "memory": 8 * GI, "pods": 110}, labels, **options)


def cpu_template(cpu: int | None, **options) -> PodTemplate:
    return PodTemplate(containers=(Container(requests={} if cpu is None else {"cpu": cpu}),),
                       **options)


def test_the_nodes_lower_bound_counts_pods_on_used_nodes():
    workload = Workload((node("a", 2000), node("b", 2000)),
                        (Pod("b0", cpu_template(100, node_name="a")), Pod("p", cpu_template(100))))
    policy = Optimal(PROFILE, objective="nodes", time_limit=5)
    result = simulate(workload, policy, 0)
    assert result.assignment() == {"default/p": "a"}
    assert policy.report.nodes_used == 1
    assert policy.report.nodes_lower_bound <= 1


SPREAD_A = (TopologySpreadConstraint(1, ZONE, "DoNotSchedule", LabelSelector({"app": "a"})),)


def test_the_binding_order_counts_pods_already_in_the_domains():
    template = PodTemplate(labels={"app": "a"}, containers=(Container(requests={"cpu": 1500}),),
                           topology_spread_constraints=SPREAD_A)
    bound = Pod("b0", PodTemplate(labels={"app": "a"}, node_name="n0",
                                  containers=(Container(requests={"cpu": 200}),)))
    workload = Workload((node("n0", 4000, "z1"), node("n1", 2000, "z2"), node("n2", 4000, "z1")),
                        (bound, Pod("p0", template), Pod("p1", template)))
    policy = Optimal(PROFILE, objective="nodes", time_limit=5)
    result = simulate(workload, policy, 0)
    assert policy.report.status == "optimal" and policy.report.secondary == 2
    assert violations(workload, result) == []
    assert policy.report.repaired == 0
    assert result.summary["nodes_used"] == 2


def test_the_score_objective_scores_each_class_with_its_own_scores():
    """Regression (bug 4, fixed while this file was written): the classes' snapshot scores
    were numbered in order of last appearance, build numbers them in order of first
    appearance: for pods A, B, A class A got B's scores (0, B fits nowhere)."""
    small, big = cpu_template(100), cpu_template(100_000)
    workload = Workload((node("n0", 4000),), (Pod("p0", small), Pod("p1", big), Pod("p2", small)))
    table = score_table(workload, [small, big])
    assert table[0][0] > 0 and table[1][0] == 0
    policy = Optimal(PROFILE, objective="score", time_limit=5)
    simulate(workload, policy, 0)
    assert policy.report.status == "optimal"
    assert policy.report.secondary == 2 * table[0][0]


SPREAD_TEMPLATE = PodTemplate(labels={"app": "a"}, topology_spread_constraints=SPREAD_A,
                              containers=(Container(requests={"cpu": 1000}),))


def test_spreading_counts_only_the_pods_bound_before():
    other = PodTemplate(labels={"app": "a"}, containers=(Container(requests={"cpu": 1000}),))
    workload = Workload((node("n0", 2000, "z1"), node("n1", 2000, "z2")),
                        (Pod("a0", SPREAD_TEMPLATE), Pod("b0", other)))
    assert best_of(workload, brute_force(workload), "nodes", None) == (2, -1)
    policy = Optimal(PROFILE, objective="nodes", time_limit=5)
    simulate(workload, policy, 0)
    assert policy.report.status == "optimal" and policy.report.secondary == 1


@pytest.mark.xfail(strict=True, reason=(
    "documented limitation: a spreading constraint whose selector matches pods of another "
    "pending class is relaxed in the model (which pods count at each bind depends on the bind "
    "order), so the plan a0, a1 on n0 and b0, b1 on n1 places 4; binding a1 on n0 breaks "
    "the skew, so it is repaired and the run places 3 (the true optimum)"))
def test_spreading_rows_hold_at_every_bind():
    pinned = PodTemplate(labels={"app": "a"}, node_selector={HOST: "n1"},
                         containers=(Container(requests={"cpu": 1000}),))
    workload = Workload((node("n0", 2000, "z1"), node("n1", 2000, "z2")),
                        (Pod("a0", SPREAD_TEMPLATE), Pod("a1", SPREAD_TEMPLATE),
                         Pod("b0", pinned), Pod("b1", pinned)))
    assert best_of(workload, brute_force(workload), "nodes", None)[0] == 3
    policy = Optimal(PROFILE, objective="nodes", time_limit=5)
    result = simulate(workload, policy, 0)
    assert result.summary["placed"] == 3
    assert policy.report.placed == 3 and policy.report.weighted_upper_bound == 3
    assert policy.report.repaired == 0


# ============================================================================ 1. brute force
@settings(max_examples=2 * EXAMPLES)
@given(workload=tiny_workloads(), score=st.integers(0, 2),
       solver=st.sampled_from(["cp-sat", "cp-sat", "cp-sat", "highs"]))
def test_optimal_equals_the_brute_force_optimum(workload, score, solver):
    brute = brute_force(workload)
    objectives = [o for o in OBJECTIVES if o != "score" or score == 0]
    scores = score_table(workload, brute.classes) if "score" in objectives else None
    K = len(brute.classes)
    on_bound, on_pending = spread_overlaps(workload)
    best = best_of(workload, brute, "gpu", None)[0]
    event(f"spreading selector matches: bound pods {on_bound}, other classes {on_pending}")
    event("all pods placeable" if best == sum(brute.weights[next(
        k for k, t in enumerate(brute.classes) if t is p.template)] for p in brute.pending)
        else "some pods left out" if best else "nothing placeable")
    event(f"{len(brute.finals)} end states" if len(brute.finals) < 10 else ">= 10 end states")
    greedy = simulate(workload, Greedy(PROFILE), 0)  # the oracle knows kube's placements
    assert end_state(workload, brute, greedy) in brute.finals
    for objective in objectives:
        policy = Optimal(PROFILE, objective=objective, solver=solver, time_limit=5)
        result = simulate(workload, policy, 0)
        report = policy.report
        note(f"{objective}: {report}")
        note(f"bindings: {result.assignment()}")
        expected = best_of(workload, brute, objective, scores)
        assert violations(workload, result) == []
        got = end_state(workload, brute, result)
        assert got in brute.finals  # the run is a placement kube could make, in input order
        assert report.weighted <= report.weighted_upper_bound
        if on_pending:  # relaxed spreading: the plan may need repairs (then not "optimal")
            assert report.status == "optimal" or report.repaired > 0
            continue
        assert report.status == "optimal"
        assert report.weighted == expected[0]
        assert reported_secondary(report, objective) == expected[1]
        assert report.placed <= report.placed_upper_bound
        assert report.nodes_lower_bound <= report.nodes_used
        # the binding realises the plan: nothing repaired, the run's own figures agree
        assert report.repaired == 0
        assert sum(got[i] * brute.weights[i % K] for i in range(len(got))) == report.weighted
        assert secondary_of(workload, brute, got, objective, scores) == reported_secondary(
            report, objective)
        assert report.placed == result.summary["placed"]
        assert report.nodes_used == result.summary["nodes_used"]


# ============================================================================ 2. perfect packing
def _cuts(draw: st.DrawFn, total: int, unit: int, pieces: int) -> list[int]:
    """``total`` cut into ``pieces`` positive multiples of ``unit`` (total / unit >= pieces)."""
    steps = total // unit
    points = sorted(draw(st.lists(st.integers(1, steps - 1), min_size=pieces - 1,
                                  max_size=pieces - 1, unique=True)))
    bounds = [0, *points, steps]
    return [(b - a) * unit for a, b in itertools.pairwise(bounds)]


@st.composite
def perfect_packings(draw: st.DrawFn) -> Workload:
    """Nodes of several sizes whose cpu and memory (and GPUs: shares summing to 1000 per
    device, or whole GPUs) are cut into pods that fill them exactly; pods shuffled."""
    nodes, pods = [], []
    for i in range(draw(st.integers(2, 4))):
        cpu = draw(st.sampled_from([2000, 4000, 8000]))
        memory = draw(st.sampled_from([4, 8, 16])) * GI
        gpus = draw(st.sampled_from([0, 0, 1, 2]))
        nodes.append(Node(f"n{i}", {"cpu": cpu, "memory": memory, "pods": 110},
                          {HOST: f"n{i}", ZONE: f"z{i % 2}"}, gpus=gpus,
                          gpu_model="T4" if gpus else ""))
        pieces = draw(st.integers(2, 4))
        asks: list[GpuRequest | None] = []
        for _ in range(gpus):
            split = draw(st.integers(1, 3))
            if split == 1:
                asks.append(GpuRequest(1))
            else:
                asks += [GpuRequest(1, m) for m in _cuts(draw, MILLI_PER_GPU, 50, split)]
        pieces = max(pieces, len(asks))  # at most 6 GPU asks (2 devices cut in 3)
        asks += [None] * (pieces - len(asks))
        cpus = _cuts(draw, cpu, 250, min(pieces, cpu // 250))
        memories = _cuts(draw, memory, 256 * MI, pieces)
        cpus += [0] * (pieces - len(cpus))
        for k in range(pieces):
            pods.append(PodTemplate(containers=(Container(requests={
                "cpu": cpus[k], "memory": memories[k]}),), gpu=asks[k]))
    order = draw(st.permutations(range(len(pods))))
    return Workload(tuple(nodes), tuple(Pod(f"p{j}", pods[k]) for j, k in enumerate(order)))


@pytest.mark.parametrize("objective", ["nodes", "balance"])
@settings(max_examples=EXAMPLES)
@given(workload=perfect_packings())
def test_a_perfect_packing_is_found(objective, workload):
    event(f"{len(workload.pods)} pods, GPU asks: "
          f"{any(p.template.gpu is not None for p in workload.pods)}")
    policy = Optimal(PROFILE, objective=objective, time_limit=5)
    result = simulate(workload, policy, 0)
    report = policy.report
    note(str(report))
    event(report.status)
    assert report.status in ("optimal", "feasible")
    assert result.summary["placed"] == len(workload.pods) == report.placed
    assert report.repaired == 0
    assert violations(workload, result) == []
    if report.status == "optimal":
        assert report.placed_upper_bound == len(workload.pods)
        if objective == "nodes":
            assert report.secondary == len(workload.nodes) == report.nodes_lower_bound
        else:
            assert report.secondary == 1000  # per mille
    assert per_mille_peak(result.state) == 1000


# ============================================================================ 3. vs Greedy
@st.composite
def medium_workloads(draw: st.DrawFn) -> Workload:
    n_nodes = draw(st.integers(10, 16))
    n_pods = draw(st.integers(2 * n_nodes, 12 * n_nodes))
    seed = draw(st.integers(0, 2**16))
    if draw(st.booleans()):
        return synthetic.basic(n_nodes, n_pods, seed)
    return synthetic.generate(n_nodes, n_pods // 3, seed)


def weighted_placed(workload: Workload, result: RunResult) -> int:
    pending = workload.pending_pods
    levels = sorted({p.template.priority for p in pending})
    return sum(levels.index(p.template.priority) + 1
               for p, node in zip(pending, result.bindings["node"], strict=True)
               if node is not None)


@pytest.mark.parametrize("objective", ["nodes", "balance"])
@settings(max_examples=max(EXAMPLES // 5, 5))
@given(workload=medium_workloads(), seed=st.integers(0, 3))
def test_never_worse_than_greedy(objective, workload, seed):
    greedy = simulate(workload, Greedy(PROFILE), seed)
    policy = Optimal(PROFILE, objective=objective, time_limit=1)
    result = simulate(workload, policy, seed)
    report = policy.report
    note(str(report))
    assert report.status != "fallback"
    assert violations(workload, result) == []
    mine, theirs = weighted_placed(workload, result), weighted_placed(workload, greedy)
    assert mine >= theirs
    if mine == theirs:
        if objective == "nodes":
            assert result.summary["nodes_used"] <= greedy.summary["nodes_used"]
        else:
            assert per_mille_peak(result.state) <= per_mille_peak(greedy.state)
    assert report.weighted == mine
    assert report.nodes_lower_bound <= result.summary["nodes_used"]


# ============================================================================ 4. fallbacks
@pytest.mark.parametrize("solver", ["cp-sat", "highs"])
@pytest.mark.parametrize("objective", [
    "nodes", "balance", "gpu", "score"])
def test_a_batch_nothing_can_take_is_reported_not_raised(objective, solver):
    nodes = (Node("a", {"cpu": 1000, "memory": GI, "pods": 10}, {HOST: "a"}),
             Node("b", {"cpu": 2000, "memory": GI, "pods": 10}, {HOST: "b"}, gpus=1,
                  gpu_model="T4"))
    big = PodTemplate(containers=(Container(requests={"cpu": 64_000}),))
    gpu = PodTemplate(containers=(Container(requests={"cpu": 100}),),
                      gpu=GpuRequest(2))
    workload = Workload(nodes, tuple(Pod(f"p{i}", t) for i, t in enumerate([big, gpu, big])))
    policy = Optimal(PROFILE, objective=objective, solver=solver, time_limit=5)
    result = simulate(workload, policy, 0)
    assert result.bindings["node"].isna().all()
    assert result.bindings["reason"].notna().all()
    report = policy.report
    assert report.status == "optimal"
    assert (report.placed, report.weighted, report.placed_upper_bound) == (0, 0, 0)
    assert report.nodes_used == 0 and report.repaired == 0


@pytest.mark.parametrize("objective", [
    "nodes", "balance", "gpu", "score"])
def test_an_empty_batch_is_reported(objective):
    node_a = node("a", 1000)
    for workload in (Workload((node_a,), (Pod("b", cpu_template(500, node_name="a")),)),
                     Workload((node_a,), ())):
        policy = Optimal(PROFILE, objective=objective, time_limit=5)
        result = simulate(workload, policy, 0)
        assert result.summary["placed"] == 0
        assert policy.report.status == "optimal" and policy.report.placed == 0


def test_a_cluster_without_nodes_leaves_every_pod_unschedulable():
    workload = Workload((), (Pod("p", cpu_template(100)),))
    policy = Optimal(PROFILE, time_limit=5)
    result = simulate(workload, policy, 0)
    assert result.summary["placed"] == 0


def test_a_tiny_time_limit_is_reported_not_raised():
    workload = synthetic.generate(60, 600, 1)
    policy = Optimal(PROFILE, objective="nodes", time_limit=1e-4)
    result = simulate(workload, policy, 0)
    assert policy.report.status in ("fallback", "feasible", "optimal")
    assert violations(workload, result) == []
    if policy.report.status == "fallback":
        assert policy.report.placed == 0 and policy.report.secondary is None


def _no_solution(*args, **kwargs) -> Stage:
    return Stage("none", None, None, None, 0.0)


def _no_solution_in_plan(*args, **kwargs) -> Stage:
    """The plan's two solves (given a hint) find nothing; completing greedy's hint works."""
    if "hint" in kwargs:
        return _no_solution()
    return solve(*args, **kwargs)


def test_no_solution_in_time_is_reported_not_raised(monkeypatch):
    """Regression (bug 8, in uncommitted code, fixed while this file was written): greedy's
    hint kept when the solver found nothing made _report add 1e-6 to a None bound."""
    monkeypatch.setattr(optimal_module, "solve", _no_solution_in_plan)
    workload = synthetic.basic(6, 40, 0)
    policy = Optimal(PROFILE, objective="nodes", time_limit=5)
    result = simulate(workload, policy, 0)
    assert policy.report.status in ("fallback", "feasible")
    assert violations(workload, result) == []
    assert result.summary["placed"] == 40


def test_the_fallback_is_greedys_placement(monkeypatch):
    monkeypatch.setattr(optimal_module, "solve", _no_solution)
    monkeypatch.setattr(optimal_module, "_greedy_values", lambda *args: None)
    workload = synthetic.basic(10, 60, 0)
    policy = Optimal(PROFILE, objective="nodes", time_limit=5)
    result = simulate(workload, policy, 3)
    assert policy.report.status == "fallback" and policy.report.placed == 0
    greedy = simulate(workload, Greedy(PROFILE), 3)
    assert result.bindings["node"].tolist() == greedy.bindings["node"].tolist()


def test_highs_finds_the_cp_sat_optimum():
    workload = synthetic.generate(8, 40, 3)
    for objective in ("nodes", "balance", "gpu"):
        found = []
        for solver in ("cp-sat", "highs"):
            policy = Optimal(PROFILE, objective=objective, solver=solver, time_limit=5)
            result = simulate(workload, policy, 0)
            assert violations(workload, result) == []
            report = policy.report
            assert report.status == "optimal" and report.solver == solver
            found.append((report.weighted, report.secondary))
        assert found[0][0] == found[1][0]
        assert found[0][1] == pytest.approx(found[1][1])


# ============================================================================ 5. determinism
def test_same_seed_same_bindings():
    """Deterministic time: the same plan even when the limit stops the search."""
    for workload in (synthetic.generate(12, 80, 5), synthetic.generate(30, 200, 5)):
        runs = []
        for _ in range(2):
            policy = Optimal(PROFILE, objective="balance", time_limit=0.2, deterministic=True)
            result = simulate(workload, policy, 7)
            runs.append((result.bindings, result.state.gpus_of, policy.report.secondary,
                         policy.report.status))
        assert runs[0][0].equals(runs[1][0])
        assert runs[0][1:] == runs[1][1:]


# ============================================================================ 6. configuration
def test_make_policy_and_configuration_errors():
    policy = make_policy("optimal", PROFILE)
    assert isinstance(policy, Optimal) and policy.objective == "nodes"
    assert policy.profile is PROFILE
    assert "optimal" in repr(policy).lower()
    assert isinstance(make_policy("optimal"), Optimal)
    for options in ({"objective": "x"}, {"solver": "gurobi"}, {"time_limit": 0},
                    {"time_limit": -1.0}, {"time_limit": math.nan}, {"num_workers": 0}):
        with pytest.raises(ConfigError):
            Optimal(PROFILE, **options)
    for objective in OBJECTIVES:
        assert Optimal(objective=objective).objective == objective


def test_a_second_run_forgets_the_first():
    """The plan and report of a run do not leak into the next (same pod names)."""
    policy = Optimal(PROFILE, time_limit=5)
    simulate(synthetic.basic(4, 30, 2), policy, 0)
    first = policy.report
    small = synthetic.basic(2, 10, 2)
    again = simulate(small, policy, 0)
    fresh = Optimal(PROFILE, time_limit=5)
    expected = simulate(small, fresh, 0)
    assert policy.report is not first
    assert again.bindings.equals(expected.bindings)
    assert ({**asdict(policy.report), "seconds": 0} == {**asdict(fresh.report), "seconds": 0})
    assert again.summary["report"] == policy.details() == asdict(policy.report)


def test_affinity_to_a_pending_class_follows_it():
    """Regression (review): required zone affinity to a pending class (no bound pod matches)
    used to forbid every node; the model now lets the pods follow that class's domains."""
    db = PodTemplate(labels={"app": "db"}, containers=(Container(requests={"cpu": 1000}),))
    term = PodAffinityTerm(ZONE, LabelSelector({"app": "db"}))
    web = PodTemplate(labels={"app": "web"}, containers=(Container(requests={"cpu": 1000}),),
                      pod_affinity=PodAffinity(required=(term,)))
    workload = Workload((node("n0", 2000, "z1"), node("n1", 2000, "z1"), node("n2", 2000, "z2")),
                        (Pod("d0", db), Pod("w0", web), Pod("w1", web), Pod("w2", web)))
    for objective in ("nodes", "gpu"):
        policy = Optimal(PROFILE, objective=objective, time_limit=5, deterministic=True)
        result = simulate(workload, policy, 0)
        assert result.summary["placed"] == 4 and policy.report.repaired == 0
        assert policy.report.status == "optimal" and violations(workload, result) == []
