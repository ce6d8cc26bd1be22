"""The built-in plugins against Kubernetes semantics (kube-scheduler.md §2–§6, §9).

Every case states its expected value worked out by hand from the reference formula, and is
checked four ways: the vectorised plugin (``filter``/``score``/``normalize_score`` over ALL
nodes and over a reordered index), the scalar reference (``schedlab.reference``), an
``Evaluator`` with a one-plugin profile, and ``Greedy`` placing the pod. Several vectors are
those of kube-scheduler's own unit tests (least_allocated_test.go, most_allocated_test.go,
requested_to_capacity_ratio_test.go, balanced_allocation_test.go, taint_toleration_test.go),
with their cpu quantities read as millicores (only the ratios matter).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest

from schedlab import reference
from schedlab.cluster import ALL, ClusterState
from schedlab.framework.cycle import Evaluator
from schedlab.framework.plugin import FilterPlugin, ScorePlugin
from schedlab.framework.profile import Profile
from schedlab.objects import (
    Container,
    Node,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PodTemplate,
    PreferredSchedulingTerm,
    Taint,
    Toleration,
    Workload,
)
from schedlab.objects import NodeAffinity as Affinity
from schedlab.plugins import (
    NodeAffinity,
    NodeName,
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
    NodeUnschedulable,
    RequestedToCapacityRatioParam,
    ScoringStrategy,
    TaintToleration,
)
from schedlab.policies import Greedy
from schedlab.reference import NodeInfo
from schedlab.sim.simulate import prepare

Mi, Gi = 2**20, 2**30
DEF_MEM = 200 * Mi  # non-zero default memory request
GPU, FPGA, CARD = "example.com/gpu", "example.com/fpga", "other.io/card"
Req = NodeSelectorRequirement


# ---------------------------------------------------------------- builders
def node(name: str, cpu: int | None = None, memory: int | None = None, *, pods: int | None = None,
         extra: dict[str, int] | None = None, **kwargs: Any) -> Node:
    alloc = {k: v for k, v in (("cpu", cpu), ("memory", memory), ("pods", pods)) if v is not None}
    return Node(name, allocatable={**alloc, **(extra or {})}, **kwargs)


def pod(*containers: dict[str, int], **kwargs: Any) -> PodTemplate:
    """A template with one container per requests dict (``pod()`` has no containers)."""
    return PodTemplate(containers=tuple(Container(f"c{i}", r) for i, r in enumerate(containers)),
                       **kwargs)


def r(cpu: int | None = None, memory: int | None = None, **extra: int) -> dict[str, int]:
    """A container's requests naming only what is given (cpu millicores, memory bytes)."""
    return {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None} | extra


def term(*exprs: Req, fields: Sequence[Req] = ()) -> NodeSelectorTerm:
    return NodeSelectorTerm(match_expressions=exprs, match_fields=tuple(fields))


def required(*terms: NodeSelectorTerm) -> Affinity:
    return Affinity(required=terms)


def preferred(*weighted: tuple[int, NodeSelectorTerm]) -> Affinity:
    return Affinity(preferred=tuple(PreferredSchedulingTerm(w, t) for w, t in weighted))


@dataclass
class Setup:
    state: ClusterState
    infos: list[NodeInfo]
    pod: Pod
    n: int


def setup(nodes: Sequence[Node], template: PodTemplate,
          existing: Sequence[tuple[str, PodTemplate]] = ()) -> Setup:
    """The vectorised state (``prepare``) and the scalar reference's NodeInfos, with the
    ``existing`` (node name, template) pods bound in both, and the incoming pod."""
    bound = tuple(Pod(f"bound-{i}", replace(t, node_name=n)) for i, (n, t) in enumerate(existing))
    incoming = Pod("incoming", template)
    axis_only = Pod("incoming", replace(template, node_name=None))  # NodeName pods stay pending
    state = prepare(Workload(tuple(nodes), (*bound, axis_only)))
    infos = [NodeInfo(n) for n in nodes]
    for p in bound:
        infos[state.index[p.template.node_name]].add(p)
    return Setup(state, infos, incoming, len(nodes))


# ---------------------------------------------------------------- checkers
def check_filter(plugin: FilterPlugin, s: Setup, reasons: list[list[str]]) -> None:
    """``reasons[i]`` lists why node i is rejected (empty: it passes)."""
    expected = [not rs for rs in reasons]
    # vectorised, over ALL and over a reversed index
    mask = np.asarray(plugin.filter(s.state, s.pod, ALL))
    assert mask.tolist() == expected
    backwards = np.arange(s.n)[::-1].copy()
    assert np.asarray(plugin.filter(s.state, s.pod, backwards)).tolist() == expected[::-1]
    failed = np.flatnonzero(~mask)
    got: list[list[str]] = [[] for _ in range(s.n)]
    if len(failed):
        for reason, which in plugin.failure_reasons(s.state, s.pod, failed):
            for i in failed[np.asarray(which, bool)]:
                got[i].append(reason)
    assert [sorted(g) for g in got] == [sorted(rs) for rs in reasons]
    # the one-pass verdict and reason counts of the unschedulable message
    passes, counted = plugin.rejections(s.state, s.pod, backwards)
    assert np.asarray(passes).tolist() == expected[::-1]
    assert +Counter(dict(counted)) == Counter(r for rs in reasons for r in rs)
    # scalar reference
    assert [sorted(reference.filter_node(plugin, s.pod, info)) for info in s.infos] == [
        sorted(rs) for rs in reasons
    ]
    # end to end
    profile = Profile(filters=(plugin,))
    evaluation = Evaluator(profile, s.state).evaluate(s.pod)
    assert evaluation.feasible.tolist() == expected
    greedy = Greedy(profile)
    greedy.reset(s.state, np.random.default_rng(0))
    decision = greedy.place(s.pod)
    if any(expected):
        assert decision.node == expected.index(True)  # no scores: the first feasible node
    else:
        counts = Counter(reason for rs in reasons for reason in rs)
        parts = ", ".join(sorted(f"{c} {reason}" for reason, c in counts.items()))
        assert (decision.node, decision.reason) == (None, f"0/{s.n} nodes are available: {parts}.")


def check_scores(plugin: ScorePlugin, s: Setup, raw: list[int],
                 normalized: list[int] | None = None) -> None:
    """Raw scores per node, and (for plugins that normalise) the normalised ones."""
    got = plugin.score(s.state, s.pod, ALL)
    assert got is not None and np.asarray(got).tolist() == raw
    backwards = np.arange(s.n)[::-1].copy()
    assert np.asarray(plugin.score(s.state, s.pod, backwards)).tolist() == raw[::-1]
    assert [reference.score_node(plugin, s.pod, info) for info in s.infos] == raw
    if plugin.normalize_score is None:
        assert normalized is None
        final = raw
    else:
        assert normalized is not None
        assert np.asarray(plugin.normalize_score(np.array(raw, np.int64))).tolist() == normalized
        assert reference.normalize(plugin, list(raw)) == normalized
        final = normalized
    # end to end: one score plugin, weight 1, no filters
    profile = Profile(scores=((plugin, 1),))
    evaluator = Evaluator(profile, s.state)
    assert evaluator.totals(evaluator.evaluate(s.pod), np.arange(s.n)).tolist() == final
    if final.count(max(final)) == 1:
        greedy = Greedy(profile)
        greedy.reset(s.state, np.random.default_rng(0))
        assert greedy.place(s.pod).node == final.index(max(final))


# ---------------------------------------------------------------- NodeResourcesFit filter
FIT_FILTER = [
    pytest.param(
        [node("n0", 4000, 8 * Gi), node("n1", 4000, 8 * Gi)],
        [("n0", pod(r(3000, 6 * Gi))), ("n1", pod(r(3001, 6 * Gi)))],
        pod(r(1000, 2 * Gi)), {},
        # n0: 1000 > 4000-3000? no (exactly at the limit) ; 2Gi > 8Gi-6Gi? no → fits
        # n1: 1000 > 4000-3001 = 999 → Insufficient cpu
        [[], ["Insufficient cpu"]],
        id="fits-exactly-at-the-limit",
    ),
    pytest.param(
        [node("n0", 4000, 2 * Gi - 1), node("n1", 4000, 2 * Gi)],
        [],
        pod(r(1000, 2 * Gi)), {},
        # n0: 2Gi > 2Gi-1 → Insufficient memory ; n1: 2Gi > 2Gi? no
        [["Insufficient memory"], []],
        id="insufficient-memory",
    ),
    pytest.param(
        [node("n0", 4000, Gi, extra={"ephemeral-storage": 10 * Gi}),
         node("n1", 4000, Gi, extra={"ephemeral-storage": 11 * Gi})],
        [("n0", pod({"ephemeral-storage": 5 * Gi})), ("n1", pod({"ephemeral-storage": 5 * Gi}))],
        pod({"ephemeral-storage": 6 * Gi}), {},
        # n0: 6Gi > 10Gi-5Gi → Insufficient ; n1: 6Gi > 11Gi-5Gi? no
        [["Insufficient ephemeral-storage"], []],
        id="insufficient-ephemeral-storage",
    ),
    pytest.param(
        [node("n0", 4000, Gi, extra={GPU: 1}), node("n1", 4000, Gi, extra={GPU: 2}),
         node("n2", 4000, Gi)],
        [],
        pod({GPU: 2}), {},
        # n0: 2 > 1 ; n1: 2 > 2? no ; n2: 2 > 0 (node lacks it)
        [[f"Insufficient {GPU}"], [], [f"Insufficient {GPU}"]],
        id="insufficient-extended-resource",
    ),
    pytest.param(
        [node("n0", 4000, Gi, pods=2), node("n1", 4000, Gi, pods=3)],
        [("n0", pod()), ("n0", pod()), ("n1", pod()), ("n1", pod())],
        pod(r(100)), {},
        # n0: 2 pods + 1 > 2 → Too many pods ; n1: 2 + 1 > 3? no
        [["Too many pods"], []],
        id="too-many-pods",
    ),
    pytest.param(
        [node("n0", 1000, Gi), node("n1", 1000, Gi, pods=1), node("n2", 1000, Gi)],
        [("n0", pod(r(1000, Gi))), ("n1", pod()), ("n2", pod(r(2000, 2 * Gi)))],
        pod(r()), {},
        # the pod requests nothing: only the pod count can block it, even on a full (n0) or
        # over-committed (n2, free < 0) node ; n1: 1 + 1 > 1 → Too many pods
        [[], ["Too many pods"], []],
        id="zero-request-pod-blocked-only-by-pod-count",
    ),
    pytest.param(
        [node("n0", 1000, 2 * Gi)],
        [("n0", pod(r(2000)))],
        pod(r(memory=Gi)), {},
        # cpu is over-committed (free = -1000) but the pod's cpu request is 0: not checked
        [[]],
        id="resource-not-requested-is-not-checked",
    ),
    pytest.param(
        [node("n0", 500, Gi, pods=1), node("n1", 500, 4 * Gi)],
        [("n0", pod())],
        pod(r(1000, 2 * Gi)), {},
        # n0: 1+1 > 1 ; 1000 > 500 ; 2Gi > 1Gi — every reason is listed ; n1: cpu only
        [["Too many pods", "Insufficient cpu", "Insufficient memory"], ["Insufficient cpu"]],
        id="several-reasons-on-one-node",
    ),
    pytest.param(
        [node("n0", 4000, Gi), node("n1", 4000, Gi, extra={GPU: 4})],
        [],
        pod(r(100), {FPGA: 1}), {},
        # no node has example.com/fpga: 1 > 0 everywhere
        [[f"Insufficient {FPGA}"], [f"Insufficient {FPGA}"]],
        id="resource-no-node-has",
    ),
    pytest.param(
        [node("n0", 4000, Gi), node("n1", 4000, Gi, extra={GPU: 4})],
        [],
        pod(r(100), {FPGA: 1}), {"ignored_resources": [FPGA]},
        # ignoredResources: example.com/fpga is skipped
        [[], []],
        id="ignored-resources",
    ),
    pytest.param(
        [node("n0", 4000, Gi), node("n1", 4000, Gi, extra={CARD: 1})],
        [],
        pod(r(100), {FPGA: 1, GPU: 1, CARD: 1}), {"ignored_resource_groups": ["example.com"]},
        # prefix "example.com" ignored: fpga and gpu skipped ; other.io/card still checked
        [[f"Insufficient {CARD}"], []],
        id="ignored-resource-groups",
    ),
    pytest.param(
        [node("n0", 4000, Gi)],
        [],
        pod(r(5000), {FPGA: 1}), {"ignored_resources": ["cpu", "example.com"]},
        # ignoring applies to scalar resources only (cpu stays checked); a group name is not
        # a resource name (example.com/fpga stays checked)
        [["Insufficient cpu", f"Insufficient {FPGA}"]],
        id="ignored-resources-only-scalars-by-full-name",
    ),
    pytest.param(
        [node("n0", 50, Mi), node("n1", 1000, Gi)],
        [("n1", pod(*[r()] * 20))],
        pod(r()), {},
        # non-zero defaults (100m/200Mi) are for scoring only: a pod naming no requests fits
        # a 50m/1Mi node, and 20 request-less containers on n1 take no capacity
        [[], []],
        id="non-zero-defaults-not-used-in-filter",
    ),
    pytest.param(
        [node("n1", 1000, Gi)],
        [("n1", pod(*[r()] * 20))],
        pod(r(1000, Gi)), {},
        # node side: Requested is the real 0, so 1000 > 1000 - 0? no
        [[]],
        id="non-zero-defaults-not-used-in-filter-node-side",
    ),
    pytest.param(
        [node("n0", 1000, Gi)],
        [],
        pod(r(100), {GPU: 0}), {},
        # an explicit 0 request of a resource the node lacks is skipped (req == 0)
        [[]],
        id="explicit-zero-extended-request",
    ),
]


@pytest.mark.parametrize(("nodes", "existing", "template", "args", "reasons"), FIT_FILTER)
def test_fit_filter(nodes: list[Node], existing: list, template: PodTemplate, args: dict,
                    reasons: list[list[str]]) -> None:
    check_filter(NodeResourcesFit(**args), setup(nodes, template, existing), reasons)


# ---------------------------------------------------------------- NodeResourcesFit scores
TWO = pod(r(1000, 2000), r(2000, 3000))  # upstream's two-container pod: 3000m, 5000 bytes
LEAST = {"scoring_strategy": "LeastAllocated"}
MOST = {"scoring_strategy": "MostAllocated"}
RTCR_LEAST = {"scoring_strategy": "RequestedToCapacityRatio", "shape": [(0, 10), (100, 0)]}
RTCR_MOST = {"scoring_strategy": "RequestedToCapacityRatio", "shape": [(0, 0), (100, 10)]}
EXT3 = {"cpu": 1, "memory": 1, GPU: 1}

FIT_SCORE = [
    # ---- LeastAllocated: (alloc - req)*100/alloc, then Σ s*w / Σ w (int64 division)
    pytest.param(
        LEAST, [node("n0", 4000, 10000), node("n1", 4000, 10000)], [], pod(),
        # a pod with no containers adds nothing: (4000-0)*100/4000 = 100 ; same for memory
        [100, 100],
        id="least-pod-without-containers-adds-nothing",
    ),
    pytest.param(
        LEAST, [node("n0", 4000, 10000), node("n1", 6000, 10000)], [], TWO,
        # n0: cpu (4000-3000)*100/4000 = 25 ; mem (10000-5000)*100/10000 = 50 ; (25+50)/2 = 37
        # n1: cpu (6000-3000)*100/6000 = 50 ; mem 50 ; 50
        [37, 50],
        id="least-differently-sized-nodes-truncates",
    ),
    pytest.param(
        LEAST, [node("n0", 10000, 20000), node("n1", 10000, 20000)],
        [("n0", pod(r(3000, 0))), ("n0", pod(r(3000, 0))),
         ("n1", pod(r(3000, 0))), ("n1", pod(r(3000, 5000)))],
        pod(),
        # explicit memory 0 stays 0 on the node side:
        # n0: cpu (10000-6000)*100/10000 = 40 ; mem 100 ; (40+100)/2 = 70
        # n1: cpu 40 ; mem (20000-5000)*100/20000 = 75 ; (40+75)/2 = 57
        [70, 57],
        id="least-existing-pods-explicit-zero-memory",
    ),
    pytest.param(
        LEAST, [node("n0", 4000, 10000), node("n1", 4000, 10000)],
        [("n0", pod(r(3000, 0))), ("n1", pod(r(3000, 5000)))],
        pod(r(3000, 0)),
        # n0: cpu 6000 > 4000 → 0 ; mem 100 ; (0+100)/2 = 50
        # n1: cpu 0 ; mem (10000-5000)*100/10000 = 50 ; 25
        [50, 25],
        id="least-request-over-allocatable-scores-zero",
    ),
    pytest.param(
        {**LEAST, "resources": {"memory": 2, "cpu": 1}},
        [node("n0", 4000, 10000), node("n1", 6000, 10000)], [], TWO,
        # n0: (25*1 + 50*2)/(1+2) = 125/3 = 41 ; n1: (50 + 100)/3 = 50
        [41, 50],
        id="least-weights",
    ),
    pytest.param(
        {**LEAST, "resources": EXT3},
        [node("n0", 6000, 10000), node("n1", 6000, 10000, extra={GPU: 4})], [], TWO,
        # the pod requests no gpu: the extended resource is skipped, (50+50)/2 = 50 on both
        [50, 50],
        id="least-extended-not-requested-skipped",
    ),
    pytest.param(
        {**LEAST, "resources": EXT3},
        [node("n0", 6000, 10000, extra={GPU: 4}), node("n1", 6000, 10000, extra={GPU: 10})],
        [], pod(r(3000, 5000, **{GPU: 2})),
        # gpu: n0 (4-2)*100/4 = 50 ; n1 (10-2)*100/10 = 80
        # n0: (50+50+50)/3 = 50 ; n1: (50+50+80)/3 = 60
        [50, 60],
        id="least-extended-requested-scored",
    ),
    pytest.param(
        {**LEAST, "resources": {GPU: 2, "cpu": 1, "memory": 1}},
        [node("n0", 6000, 10000), node("n1", 6000, 10000, extra={GPU: 4})],
        [], pod(r(3000, 4000, **{GPU: 1})),
        # cpu (6000-3000)*100/6000 = 50 ; mem (10000-4000)*100/10000 = 60
        # n0: gpu alloc 0 → skipped (not in Σw): (50+60)/2 = 55
        # n1: gpu (4-1)*100/4 = 75: (75*2 + 50 + 60)/4 = 260/4 = 65
        [55, 65],
        id="least-allocatable-zero-skipped",
    ),
    pytest.param(
        LEAST, [node("n0", 1000, 1000 * Mi), node("n1", 1000, 1000 * Mi)],
        [("n1", pod(r())), ("n1", pod(r()))],
        pod(r()),
        # non-zero defaults: each container naming nothing counts 100m / 200Mi
        # n0: cpu (1000-100)*100/1000 = 90 ; mem (1000-200)*100/1000 = 80 ; 85
        # n1: cpu (1000-300)*100/1000 = 70 ; mem (1000-600)*100/1000 = 40 ; 55
        [85, 55],
        id="least-non-zero-defaults",
    ),
    pytest.param(
        LEAST, [node("n0", 1000, 1000 * Mi), node("n1", 1000, 1000 * Mi)],
        [("n1", pod(r())), ("n1", pod(r()))],
        pod(r(0, 0)),
        # explicit zeros stay zero on the pod side: n0 100, 100 → 100
        # n1 (defaults on its pods): cpu (1000-200)*100/1000 = 80 ; mem (1000-400)/1000 → 60 ; 70
        [100, 70],
        id="least-explicit-zero-request-no-default",
    ),
    pytest.param(
        LEAST, [node("n0", 1000, 1000 * Mi)], [], pod(r(0)),
        # cpu explicit 0 → 100 ; memory missing → 200Mi → 80 ; (100+80)/2 = 90
        [90],
        id="least-default-only-for-the-missing-resource",
    ),
    # ---- MostAllocated: min(req, alloc)*100/alloc
    pytest.param(
        MOST, [node("n0", 4000, 10000), node("n1", 4000, 10000)], [], pod(),
        [0, 0],
        id="most-pod-without-containers",
    ),
    pytest.param(
        MOST, [node("n0", 4000, 10000), node("n1", 6000, 10000)], [], TWO,
        # n0: cpu 3000*100/4000 = 75 ; mem 50 ; (75+50)/2 = 62 ; n1: 50, 50 → 50
        [62, 50],
        id="most-differently-sized-nodes-truncates",
    ),
    pytest.param(
        MOST, [node("n0", 250, 1000 * Mi), node("n1", 250, 1000 * Mi)],
        [("n0", pod(r())), ("n0", pod(r()))],
        pod(r()),
        # non-zero defaults, and req > alloc capped:
        # n0: cpu min(300, 250)*100/250 = 100 ; mem 600*100/1000 = 60 ; 80
        # n1: cpu 100*100/250 = 40 ; mem 200*100/1000 = 20 ; 30
        [80, 30],
        id="most-non-zero-defaults-and-cap-at-allocatable",
    ),
    pytest.param(
        MOST, [node("n0", 5000, 10000), node("n1", 10000, 9000)], [],
        pod(r(2000, 4000), r(3000, 5000)),
        # n0: cpu 5000*100/5000 = 100 ; mem 9000*100/10000 = 90 ; 95
        # n1: cpu 50 ; mem 9000*100/9000 = 100 ; 75
        [95, 75],
        id="most-request-equals-allocatable",
    ),
    pytest.param(
        {**MOST, "resources": {"memory": 2, "cpu": 1}},
        [node("n0", 4000, 10000), node("n1", 6000, 10000)], [], TWO,
        # n0: (75*1 + 50*2)/3 = 175/3 = 58 ; n1: (50 + 100)/3 = 50
        [58, 50],
        id="most-weights",
    ),
    pytest.param(
        {**MOST, "resources": EXT3},
        [node("n0", 6000, 10000, extra={GPU: 4}), node("n1", 6000, 10000, extra={GPU: 10})],
        [], pod(r(3000, 5000, **{GPU: 2})),
        # gpu: n0 2*100/4 = 50 ; n1 2*100/10 = 20 ; n0 (50+50+50)/3 = 50 ; n1 (50+50+20)/3 = 40
        [50, 40],
        id="most-extended-requested-scored",
    ),
    pytest.param(
        {**MOST, "resources": {GPU: 2, "cpu": 1, "memory": 1}},
        [node("n0", 6000, 10000), node("n1", 6000, 10000, extra={GPU: 4})],
        [], pod(r(3000, 4000, **{GPU: 1})),
        # cpu 3000*100/6000 = 50 ; mem 4000*100/10000 = 40
        # n0: gpu alloc 0 skipped: (50+40)/2 = 45 ; n1: gpu 1*100/4 = 25: (50+50+40)/4 = 35
        [45, 35],
        id="most-allocatable-zero-skipped",
    ),
    # ---- RequestedToCapacityRatio: shape scores ×10, f(util) by Go integer interpolation;
    #      only s_r > 0 enter the sums; round(Σ s*w / Σ w) half away from zero
    pytest.param(
        RTCR_LEAST, [node("n0", 4000, 10000), node("n1", 4000, 10000)],
        [("n0", pod()), ("n0", pod())], pod(),
        # util 0 → f(0) = 100 for both resources → 100
        [100, 100],
        id="rtcr-nothing-requested",
    ),
    pytest.param(
        RTCR_LEAST, [node("n0", 4000, 10000), node("n1", 6000, 10000)], [], TWO,
        # n0: cpu util 3000*100/4000 = 75 → 100 + (0-100)*75/100 = 25 ; mem 50 → 50
        #     round((25+50)/2 = 37.5) = 38 (LeastAllocated truncates the same to 37)
        # n1: 50, 50 → 50
        [38, 50],
        id="rtcr-rounds-half-away-from-zero",
    ),
    pytest.param(
        RTCR_LEAST, [node("n0", 4000, 10000), node("n1", 5000, 10000)], [],
        pod(r(4000, 5000)),
        # n0: cpu util 100 → f = 0, left out of the sums ; mem util 50 → 50: round(50/1) = 50
        # n1: cpu util 80 → 20 ; mem 50 → 50 ; round(70/2) = 35
        [50, 35],
        id="rtcr-zero-scores-left-out-of-the-sums",
    ),
    pytest.param(
        RTCR_MOST, [node("n0", 4000, 10000)], [], pod(r(6000, 5000)),
        # cpu req > alloc → f(100) = 100 ; mem util 50 → 50 ; round(150/2) = 75
        [75],
        id="rtcr-request-over-allocatable-is-f-of-100",
    ),
    pytest.param(
        {"scoring_strategy": "RequestedToCapacityRatio", "shape": [(0, 10), (100, 3)],
         "resources": {"cpu": 1}},
        [node("n0", 1000, Gi)], [], pod(r(330, 100 * Mi)),
        # util 330*100/1000 = 33 ; f = 100 + (30-100)*(33-0)/(100-0) = 100 + (-2310/100)
        #   Go truncates -23.1 to -23 → 77 (floor division would give 76)
        [77],
        id="rtcr-decreasing-shape-truncates-toward-zero",
    ),
    pytest.param(
        {"scoring_strategy": "RequestedToCapacityRatio", "shape": [(0, 2), (40, 10), (100, 0)],
         "resources": {"cpu": 1, "memory": 1}},
        [node("n0", 1000, 1000)], [], pod(r(750, 200)),
        # cpu util 75 → 100 + (0-100)*(75-40)/(100-40) = 100 + trunc(-58.3) = 42
        # mem util 20 → 20 + (100-20)*(20-0)/(40-0) = 60 ; round((42+60)/2) = 51
        [51],
        id="rtcr-three-point-shape",
    ),
    pytest.param(
        {"scoring_strategy": "RequestedToCapacityRatio", "shape": [(0, 0), (100, 1)],
         "resources": {"intel.com/foo": 3, "intel.com/bar": 5}},
        [node("n0", 4000, 10000 * Mi, extra={"intel.com/foo": 8, "intel.com/bar": 4}),
         node("n1", 4000, 10000 * Mi, extra={"intel.com/foo": 4, "intel.com/bar": 8})],
        [], pod({"intel.com/foo": 2, "intel.com/bar": 2}),
        # shape 0..10: n0 foo util 25 → 10*25/100 = 2 ; bar util 50 → 5
        #   round((2*3 + 5*5)/8 = 3.875) = 4 ; n1 foo 50 → 5 ; bar 25 → 2 ; round(25/8 = 3.125) = 3
        [4, 3],
        id="rtcr-bin-packing-extended-weights",
    ),
    pytest.param(
        {"scoring_strategy": "RequestedToCapacityRatio", "shape": [(0, 0), (100, 1)],
         "resources": {"intel.com/foo": 1}},
        [node("n0", 4000, 10000 * Mi, extra={"intel.com/foo": 8})], [], pod(),
        # the pod requests no foo: skipped → Σw = 0 → 0
        [0],
        id="rtcr-nothing-scored-is-zero",
    ),
]


def scoring(scoring_strategy: str, resources: dict[str, int] | None = None,
            shape: list[tuple[int, int]] | None = None) -> NodeResourcesFit:
    """NodeResourcesFit with a scoringStrategy given flat, as the cases above write it."""
    ratio = None if shape is None else RequestedToCapacityRatioParam(tuple(shape))
    weights = resources if resources is not None else {"cpu": 1, "memory": 1}
    return NodeResourcesFit(scoring_strategy=ScoringStrategy(scoring_strategy, weights, ratio))


@pytest.mark.parametrize(("args", "nodes", "existing", "template", "raw"), FIT_SCORE)
def test_fit_score(args: dict, nodes: list[Node], existing: list, template: PodTemplate,
                   raw: list[int]) -> None:
    check_scores(scoring(**args), setup(nodes, template, existing), raw)


# ---------------------------------------------------------------- BalancedAllocation
CPU_ONLY = pod(r(1000, 0), r(2000, 0))  # upstream cpuOnly: 3000m, explicit memory 0
CPU_MEM = pod(r(1000, 2000), r(2000, 3000))  # upstream cpuAndMemory: 3000m, 5000
GPU3 = {"cpu": 1, "memory": 1, "nvidia.com/gpu": 1}

BALANCED = [
    pytest.param(
        {}, [node("n0", 4000, 10000), node("n1", 6000, 10000)], [], CPU_MEM,
        # n0: f = 3000/4000 = 0.75, 5000/10000 = 0.5 ; std |0.75-0.5|/2 = 0.125 ; int(87.5) = 87
        # n1: 0.5, 0.5 → std 0 → 100
        [87, 100],
        id="two-resources-truncates",
    ),
    pytest.param(
        {}, [node("n0", 10000, 20000), node("n1", 10000, 20000)],
        [("n0", CPU_ONLY), ("n1", CPU_MEM)], CPU_MEM,
        # n0: 6000/10000 = 0.6, 5000/20000 = 0.25 → std 0.175 → int(82.5) = 82
        # n1: 0.6, 10000/20000 = 0.5 → 0.05 → 95
        [82, 95],
        id="pods-scheduled-with-resources",
    ),
    pytest.param(
        {}, [node("n0", 6000, 10000), node("n1", 6000, 10000)],
        [("n0", CPU_ONLY), ("n1", CPU_MEM)], CPU_ONLY,
        # n0: 6000/6000 = 1, 0/10000 = 0 → 0.5 → 50 ; n1: 1, 0.5 → 0.25 → 75
        [50, 75],
        id="requested-at-capacity",
    ),
    pytest.param(
        {}, [node("n0", 6000, 10000)], [], pod(r(9000, 5000)),
        # cpu 9000/6000 = 1.5 capped at 1 ; mem 0.5 → |1-0.5|/2 = 0.25 → 75 (uncapped: 50)
        [75],
        id="fraction-capped-at-one",
    ),
    pytest.param(
        {}, [node("n0", 4000, Gi)], [("n0", pod(r(2000)))], pod(r()),
        # real requests, no defaults on either side: cpu 2000/4000 = 0.5, mem 0/1Gi = 0
        #   → 0.25 → 75 (with defaults it would be 2100/4000 vs 400Mi/1Gi → 93)
        [75],
        id="no-non-zero-defaults",
    ),
    pytest.param(
        {"resources": GPU3},
        [node("n0", 3500, 40000, extra={"nvidia.com/gpu": 8}),
         node("n1", 3500, 40000, extra={"nvidia.com/gpu": 8})],
        [("n1", CPU_MEM), ("n0", pod(r(1000, 2000), r(2000, 3000, **{"nvidia.com/gpu": 3})))],
        pod(r(memory=0, **{"nvidia.com/gpu": 1})),
        # three fractions → std = sqrt(Σ(f-mean)^2/3):
        # n0: 3000/3500 = .857142, 5000/40000 = .125, (3+1)/8 = .5 ; mean .494048
        #     Σsq = .131838 + .136196 + .000035 = .268070 ; std .298926 ; int(70.1) = 70
        # n1: .857142, .125, 1/8 = .125 ; mean .369048 ; Σsq = .238237 + 2*.059559 = .357355
        #     std .345135 ; int(65.49) = 65
        [70, 65],
        id="three-resources-std",
    ),
    pytest.param(
        {"resources": GPU3},
        [node("n0", 3500, 40000, extra={"nvidia.com/gpu": 8}), node("n1", 3500, 40000)],
        [], CPU_MEM,
        # the pod requests no gpu: skipped → two fractions .857142, .125 → std .366071 → 63
        [63, 63],
        id="extended-not-requested-skipped",
    ),
    pytest.param(
        {"resources": GPU3},
        [node("n0", 3500, 40000, extra={"nvidia.com/gpu": 8}), node("n1", 3500, 40000)],
        [], pod({"nvidia.com/gpu": 1}),
        # n0: 0, 0, 1/8 ; mean .041667 ; Σsq = 2*.001736 + .006944 = .010417 ; std .058926
        #     int(94.1) = 94 ; n1: gpu alloc 0 skipped → 0, 0 → std 0 → 100
        [94, 100],
        id="allocatable-zero-skipped",
    ),
    pytest.param(
        {"resources": {"cpu": 1}}, [node("n0", 4000, 10000)], [], pod(r(1000, 9000)),
        # a single fraction: std 0 → 100
        [100],
        id="one-resource",
    ),
]


@pytest.mark.parametrize(("args", "nodes", "existing", "template", "raw"), BALANCED)
def test_balanced_allocation(args: dict, nodes: list[Node], existing: list,
                             template: PodTemplate, raw: list[int]) -> None:
    check_scores(NodeResourcesBalancedAllocation(**args), setup(nodes, template, existing), raw)


# ---------------------------------------------------------------- NodeAffinity
POD_REASON = "node(s) didn't match Pod's node affinity/selector"
ENFORCED_REASON = "node(s) didn't match scheduler-enforced node affinity"
ZONES = [
    node("n0", labels={"zone": "a", "disk": "ssd", "gen": "5"}),
    node("n1", labels={"zone": "a", "gen": "x"}),
    node("n2", labels={"zone": "b", "disk": "hdd", "gen": "3"}),
    node("n3", labels={"zone": ""}),
    node("n4"),
]
P, F = [], [POD_REASON]

AFFINITY_FILTER = [
    pytest.param(pod(node_selector={"zone": "a"}), {}, [P, P, F, F, F],
                 id="node-selector-equal-value"),
    pytest.param(pod(node_selector={"zone": ""}), {}, [F, F, F, P, F],
                 id="node-selector-empty-value-needs-the-key"),
    pytest.param(pod(node_selector={"zone": "a", "disk": "ssd"}), {}, [P, F, F, F, F],
                 id="node-selector-all-pairs-anded"),
    pytest.param(pod(affinity=required(term(Req("zone", "In", ("b",))),
                                       term(Req("disk", "Exists")))), {},
                 [P, F, P, F, F], id="required-terms-ored"),
    pytest.param(pod(affinity=required(term(Req("zone", "In", ("a",)), Req("disk", "Exists")))),
                 {}, [P, F, F, F, F], id="expressions-in-a-term-anded"),
    pytest.param(pod(affinity=required(term(Req("zone", "In", ("a", "b"))))), {},
                 [P, P, P, F, F], id="op-in"),
    pytest.param(pod(affinity=required(term(Req("zone", "NotIn", ("a",))))), {},
                 [F, F, P, P, P], id="op-notin-absent-label-passes"),
    pytest.param(pod(affinity=required(term(Req("disk", "Exists")))), {},
                 [P, F, P, F, F], id="op-exists"),
    pytest.param(pod(affinity=required(term(Req("disk", "DoesNotExist")))), {},
                 [F, P, F, P, P], id="op-doesnotexist"),
    pytest.param(pod(affinity=required(term(Req("gen", "Gt", ("3",))))), {},
                 [P, F, F, F, F], id="op-gt-strict-non-integer-label-fails"),
    pytest.param(pod(affinity=required(term(Req("gen", "Lt", ("5",))))), {},
                 [F, F, P, F, F], id="op-lt-strict"),
    pytest.param(pod(affinity=required(term(fields=[Req("metadata.name", "In", ("n2",))]))), {},
                 [F, F, P, F, F], id="match-fields-metadata-name-in"),
    pytest.param(pod(affinity=required(term(fields=[Req("metadata.name", "NotIn", ("n2",))]))),
                 {}, [P, P, F, P, P], id="match-fields-metadata-name-notin"),
    pytest.param(pod(affinity=required(term(Req("zone", "In", ("a",)),
                                            fields=[Req("metadata.name", "In", ("n1",))]))),
                 {}, [F, P, F, F, F], id="match-fields-and-expressions-anded"),
    pytest.param(pod(node_selector={"zone": "a"},
                     affinity=required(term(Req("disk", "DoesNotExist")))), {},
                 [F, P, F, F, F], id="node-selector-and-required-affinity-both"),
    pytest.param(pod(affinity=required(term())), {}, [F, F, F, F, F],
                 id="only-empty-terms-match-nothing"),
    pytest.param(pod(affinity=required()), {}, [F, F, F, F, F],
                 id="no-terms-match-nothing"),
    pytest.param(pod(affinity=preferred((1, term(Req("zone", "In", ("z",)))))), {},
                 [P, P, P, P, P], id="preferred-only-filters-nothing"),
    pytest.param(pod(), {"added_affinity": required(term(Req("zone", "In", ("a",))))},
                 [P, P, [ENFORCED_REASON], [ENFORCED_REASON], [ENFORCED_REASON]],
                 id="added-affinity-required"),
    pytest.param(pod(node_selector={"disk": "ssd"}),
                 {"added_affinity": required(term(Req("zone", "In", ("a",))))},
                 [P, F, [ENFORCED_REASON], [ENFORCED_REASON], [ENFORCED_REASON]],
                 id="added-affinity-reason-before-pod-reason"),
]


@pytest.mark.parametrize(("template", "args", "reasons"), AFFINITY_FILTER)
def test_node_affinity_filter(template: PodTemplate, args: dict,
                              reasons: list[list[str]]) -> None:
    check_filter(NodeAffinity(**args), setup(ZONES, template), reasons)


AFFINITY_SCORE = [
    pytest.param(
        pod(affinity=preferred((2, term(Req("zone", "In", ("a",)))),
                               (5, term(Req("disk", "Exists"))))), {},
        # n0: 2+5 = 7 ; n1: 2 ; n2: 5 ; n3, n4: 0
        # normalise: 100*7/7 = 100 ; 100*2/7 = 28 ; 100*5/7 = 71 ; 0 ; 0
        [7, 2, 5, 0, 0], [100, 28, 71, 0, 0],
        id="preferred-weights-sum-and-normalize-truncates",
    ),
    pytest.param(
        pod(affinity=preferred((3, term(Req("zone", "In", ("z",)))))), {},
        [0, 0, 0, 0, 0], [0, 0, 0, 0, 0],
        id="all-zero-normalizes-to-zero",
    ),
    pytest.param(pod(), {}, [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], id="no-preferred-terms"),
    pytest.param(
        pod(affinity=preferred((10, term()), (4, term(Req("gen", "Gt", ("4",)))))), {},
        # the empty preference matches nothing ; gen > 4: n0 only → 4
        [4, 0, 0, 0, 0], [100, 0, 0, 0, 0],
        id="empty-preference-matches-nothing",
    ),
    pytest.param(
        pod(affinity=preferred((1, term(Req("zone", "In", ("a",)))))),
        {"added_affinity": preferred((3, term(Req("zone", "In", ("b",)))),
                                     (2, term(fields=[Req("metadata.name", "In", ("n0",))])))},
        # pod: zone a → n0, n1 +1 ; added: zone b → n2 +3 ; name n0 → +2
        # raw [3, 1, 3, 0, 0] ; 100*1/3 = 33
        [3, 1, 3, 0, 0], [100, 33, 100, 0, 0],
        id="added-affinity-preferred-adds-up",
    ),
]


@pytest.mark.parametrize(("template", "args", "raw", "normalized"), AFFINITY_SCORE)
def test_node_affinity_score(template: PodTemplate, args: dict, raw: list[int],
                             normalized: list[int]) -> None:
    check_scores(NodeAffinity(**args), setup(ZONES, template), raw, normalized)


# ---------------------------------------------------------------- TaintToleration
def tainted(name: str, *taints: tuple[str, str, str]) -> Node:
    return node(name, taints=tuple(Taint(k, v, e) for k, v, e in taints))


def untolerated(key: str, value: str) -> list[str]:
    return [f"node(s) had untolerated taint {{{key}: {value}}}"]


TAINT_NODES = [
    tainted("n0"),
    tainted("n1", ("dedicated", "user1", "NoSchedule")),
    tainted("n2", ("evict", "now", "NoExecute")),
    tainted("n3", ("soft", "x", "PreferNoSchedule")),
    tainted("n4", ("soft", "x", "PreferNoSchedule"), ("ok", "1", "NoSchedule"),
            ("a", "1", "NoExecute"), ("b", "2", "NoSchedule")),
    tainted("n5", ("dedicated", "", "NoSchedule")),
]
OK = []

TAINT_FILTER = [
    pytest.param(
        (), [OK, untolerated("dedicated", "user1"), untolerated("evict", "now"), OK,
             untolerated("ok", "1"), untolerated("dedicated", "")],
        id="no-tolerations-NoSchedule-NoExecute-block-PreferNoSchedule-does-not",
    ),
    pytest.param(
        (Toleration("ok", "Equal", "1", "NoSchedule"),),
        [OK, untolerated("dedicated", "user1"), untolerated("evict", "now"), OK,
         untolerated("a", "1"), untolerated("dedicated", "")],
        id="reason-names-the-first-untolerated-taint",
    ),
    pytest.param(
        (Toleration("dedicated", "Equal", "user1", "NoSchedule"),),
        [OK, OK, untolerated("evict", "now"), OK, untolerated("ok", "1"),
         untolerated("dedicated", "")],
        id="equal-needs-the-same-value",
    ),
    pytest.param(
        (Toleration("dedicated", "Exists", "", "NoSchedule"),),
        [OK, OK, untolerated("evict", "now"), OK, untolerated("ok", "1"), OK],
        id="exists-any-value",
    ),
    pytest.param(
        (Toleration("dedicated", "Equal", "user1", "PreferNoSchedule"),),
        [OK, untolerated("dedicated", "user1"), untolerated("evict", "now"), OK,
         untolerated("ok", "1"), untolerated("dedicated", "")],
        id="effect-must-match",
    ),
    pytest.param(
        (Toleration("evict", "Equal", "now", ""),),
        [OK, untolerated("dedicated", "user1"), OK, OK, untolerated("ok", "1"),
         untolerated("dedicated", "")],
        id="empty-effect-matches-every-effect",
    ),
    pytest.param(
        (Toleration("", "Exists"),), [OK] * 6,
        id="exists-with-empty-key-tolerates-everything",
    ),
    pytest.param(
        (Toleration("", "Exists", effect="NoSchedule"),),
        [OK, OK, untolerated("evict", "now"), OK, untolerated("a", "1"), OK],
        id="exists-empty-key-limited-to-an-effect",
    ),
]


@pytest.mark.parametrize(("tolerations", "reasons"), TAINT_FILTER)
def test_taint_toleration_filter(tolerations: tuple[Toleration, ...],
                                 reasons: list[list[str]]) -> None:
    check_filter(TaintToleration(), setup(TAINT_NODES, pod(tolerations=tolerations)), reasons)


TAINT_SCORE = [
    pytest.param(
        [tainted("a", ("foo", "bar", "PreferNoSchedule")),
         tainted("b", ("foo", "blah", "PreferNoSchedule"))],
        (Toleration("foo", "Equal", "bar", "PreferNoSchedule"),),
        # raw [0, 1] ; max 1 → 100 - 100*0/1 = 100 ; 100 - 100*1/1 = 0
        [0, 1], [100, 0],
        id="tolerated-taint-scores-higher",
    ),
    pytest.param(
        [tainted("a"), tainted("b", ("cpu", "arm64", "PreferNoSchedule")),
         tainted("c", ("cpu", "arm64", "PreferNoSchedule"), ("disk", "ssd", "PreferNoSchedule"))],
        (Toleration("cpu", "Equal", "arm64", "PreferNoSchedule"),
         Toleration("disk", "Equal", "ssd", "PreferNoSchedule")),
        # all tolerated: raw all 0 → all 100 (reverse)
        [0, 0, 0], [100, 100, 100],
        id="all-zero-reverse-normalizes-to-100",
    ),
    pytest.param(
        [tainted("a"), tainted("b", ("cpu", "arm64", "PreferNoSchedule")),
         tainted("c", ("cpu", "arm64", "PreferNoSchedule"), ("disk", "ssd", "PreferNoSchedule"))],
        (Toleration("foo", "Equal", "bar", "PreferNoSchedule"),),
        # raw [0, 1, 2] ; 100 - 100*1/2 = 50 ; 100 - 100 = 0
        [0, 1, 2], [100, 50, 0],
        id="more-untolerated-taints-lower-score",
    ),
    pytest.param(
        [tainted("a"), tainted("b", ("cpu", "arm64", "NoSchedule")),
         tainted("c", ("cpu", "arm64", "PreferNoSchedule"), ("disk", "ssd", "PreferNoSchedule"))],
        (Toleration("cpu", "Equal", "arm64", "NoSchedule"),
         Toleration("disk", "Equal", "ssd", "NoSchedule")),
        # only PreferNoSchedule taints count, and only tolerations with effect "" or
        # PreferNoSchedule tolerate them: c's two taints stay untolerated → raw [0, 0, 2]
        [0, 0, 2], [100, 100, 0],
        id="only-prefer-no-schedule-taints-and-tolerations",
    ),
    pytest.param(
        [tainted("a", ("cpu", "arm64", "PreferNoSchedule")),
         tainted("b", ("cpu", "x86", "PreferNoSchedule"))],
        (Toleration("cpu", "Exists"),),
        # an Exists toleration with effect "" tolerates both
        [0, 0], [100, 100],
        id="empty-effect-toleration-counts",
    ),
    pytest.param(
        [tainted("a", ("x", "1", "PreferNoSchedule")),
         tainted("b", ("x", "1", "PreferNoSchedule"), ("y", "1", "PreferNoSchedule"),
                 ("z", "1", "PreferNoSchedule")),
         tainted("c")],
        (),
        # raw [1, 3, 0] ; 100 - 100*1/3 = 100 - 33 = 67 ; 100 - 100 = 0 ; 100 - 0 = 100
        [1, 3, 0], [67, 0, 100],
        id="reverse-normalize-truncates",
    ),
]


@pytest.mark.parametrize(("nodes", "tolerations", "raw", "normalized"), TAINT_SCORE)
def test_taint_toleration_score(nodes: list[Node], tolerations: tuple[Toleration, ...],
                                raw: list[int], normalized: list[int]) -> None:
    check_scores(TaintToleration(), setup(nodes, pod(tolerations=tolerations)), raw, normalized)


# ---------------------------------------------------------------- NodeUnschedulable
UNSCHEDULABLE = ["node(s) were unschedulable"]
CORDONED = [node("n0"), node("n1", unschedulable=True)]


@pytest.mark.parametrize(
    ("tolerations", "reasons"),
    [
        pytest.param((), [OK, UNSCHEDULABLE], id="unschedulable-node-rejected"),
        pytest.param((Toleration("node.kubernetes.io/unschedulable", "Exists", "", "NoSchedule"),),
                     [OK, OK], id="tolerating-the-unschedulable-taint-passes"),
        pytest.param((Toleration("node.kubernetes.io/unschedulable", "Exists"),),
                     [OK, OK], id="empty-effect-toleration-passes"),
        pytest.param((Toleration("", "Exists"),), [OK, OK], id="tolerate-everything-passes"),
        pytest.param((Toleration("node.kubernetes.io/unschedulable", "Exists", "", "NoExecute"),),
                     [OK, UNSCHEDULABLE], id="wrong-effect-rejected"),
        pytest.param((Toleration("node.kubernetes.io/unschedulable", "Equal", "x", "NoSchedule"),),
                     [OK, UNSCHEDULABLE], id="wrong-value-rejected"),
    ],
)
def test_node_unschedulable(tolerations: tuple[Toleration, ...],
                            reasons: list[list[str]]) -> None:
    check_filter(NodeUnschedulable(), setup(CORDONED, pod(tolerations=tolerations)), reasons)


# ---------------------------------------------------------------- NodeName
NAME_REASON = ["node(s) didn't match the requested node name"]


@pytest.mark.parametrize(
    ("node_name", "reasons"),
    [
        pytest.param(None, [OK, OK, OK], id="no-node-name-any-node"),
        pytest.param("n1", [NAME_REASON, OK, NAME_REASON], id="only-the-named-node"),
        pytest.param("n9", [NAME_REASON] * 3, id="unknown-node-name-fits-nowhere"),
    ],
)
def test_node_name(node_name: str | None, reasons: list[list[str]]) -> None:
    nodes = [node("n0"), node("n1"), node("n2")]
    check_filter(NodeName(), setup(nodes, pod(node_name=node_name)), reasons)
