"""The FGD paper's GPU plugins against the scalar reference (``schedlab.reference``, written
from the Go code of hkust-adsl/kubernetes-scheduler-simulator), and the reference itself on
cases computed by hand from the Go formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import Phase, given, settings

from schedlab import reference
from schedlab.cluster import ALL, ClusterState
from schedlab.errors import SchedlabError
from schedlab.fragmentation import TypicalPods
from schedlab.gpu import default_gpus
from schedlab.objects import Container, GpuRequest, Node, Pod, PodTemplate
from schedlab.plugins import (
    BestFitScore,
    DotProductScore,
    FGDScore,
    GpuClusteringScore,
    GpuPackingScore,
    GpuShare,
    RandomScore,
)
from schedlab.testing.checks import Scenario, check_plugin, scenarios

EXAMPLES = min(25, settings.default.max_examples)
FIND_ONLY = settings(phases=[Phase.generate], database=None, print_blob=False)


def _pod(name: str, cpu: int | None = 1000, gpu: GpuRequest | None = None) -> Pod:
    requests = {} if cpu is None else {"cpu": cpu}
    return Pod(name, PodTemplate(containers=(Container(requests=requests),), gpu=gpu))


def _shape(name: str, copies: int, cpu: int, gpu: GpuRequest | None = None) -> list[Pod]:
    return [_pod(f"{name}-{i}", cpu, gpu) for i in range(copies)]


TYPICAL = TypicalPods.of(
    _shape("cpu", 4, 1000)
    + _shape("share", 3, 2000, GpuRequest(1, 500))
    + _shape("share-t4", 2, 500, GpuRequest(1, 250, frozenset({"T4"})))
    + _shape("one", 3, 4000, GpuRequest(1))
    + _shape("two", 2, 8000, GpuRequest(2, 1000, frozenset({"A10", "V100"})))
    + _shape("eight", 1, 16_000, GpuRequest(8)),
    coverage_pct=100,
)
"""Typical pods of a few shapes: CPU-only, sharing, model-constrained, whole GPUs."""


def _node(gpus: int = 8, cpu: int = 16_000, model: str = "A10", name: str = "n") -> Node:
    return Node(name, {"cpu": cpu, "memory": 64 * 2**30}, gpus=gpus, gpu_model=model)


def _info(node: Node, *bound: Pod) -> reference.NodeInfo:
    info = reference.NodeInfo(node)
    for pod in bound:
        info.add(pod)
    return info


def _state(nodes: list[Node], *bound: tuple[Pod, int]) -> ClusterState:
    state = ClusterState(nodes)
    for pod, node in bound:
        state.bind(pod, node, default_gpus(state, pod, node))
    return state


SHARE = GpuRequest(1, 500)
ONE, TWO = GpuRequest(1), GpuRequest(2)


# ---------------------------------------------------------------------------- conformance
@pytest.mark.parametrize("plugin", [
    GpuShare(),
    BestFitScore(),
    GpuPackingScore(),
    GpuClusteringScore(),
    DotProductScore(),
], ids=repr)
def test_gpu_plugin_conforms(plugin: GpuShare | BestFitScore) -> None:
    assert reference.has_reference(plugin)
    check_plugin(plugin, max_examples=EXAMPLES)


def test_fgd_conforms() -> None:
    check_plugin(FGDScore(typical_pods=TYPICAL), max_examples=EXAMPLES)


def test_random_score_runs_the_checks_without_a_reference() -> None:
    plugin = RandomScore(seed=3)
    assert not reference.has_reference(plugin)
    check_plugin(plugin, max_examples=EXAMPLES, skip_rules=("deterministic", "scope"))
    with pytest.raises(AssertionError, match="breaks rule 'deterministic'"):
        check_plugin(plugin, max_examples=EXAMPLES, hypothesis_settings=FIND_ONLY)
    with pytest.raises(ValueError, match="unknown rules"):
        check_plugin(plugin, skip_rules=("determinism",))


@settings(max_examples=EXAMPLES, deadline=None)
@given(scenarios(gpus=True))
def test_scenario_state_and_infos_hold_the_same_devices(scenario: Scenario) -> None:
    state, infos = scenario.state(), scenario.infos()
    assert len(scenario.bound) == len(state.bound)
    for i, info in enumerate(infos):
        assert state.gpu_free[i, : len(info.gpu_free)].tolist() == info.gpu_free
        assert not state.gpu_free[i, len(info.gpu_free):].any()
    for pod, node in scenario.bound:
        if pod.template.gpu is not None:
            assert list(state.gpus_of[pod.key]) == infos[node].gpus_of[pod.key]


# ---------------------------------------------------------------------------- NodeInfo
def test_node_info_takes_devices_as_bind_does() -> None:
    node = _node(gpus=4)
    pods = [_pod("a", gpu=GpuRequest(1, 300)), _pod("b", gpu=GpuRequest(1, 600)),
            _pod("c", gpu=TWO), _pod("d", gpu=GpuRequest(1, 50))]
    info, state = _info(node), _state([node])
    for pod in pods:
        info.add(pod)
        state.bind(pod, 0, default_gpus(state, pod, 0))
        assert info.gpu_free == state.gpu_free[0].tolist()
    # a: dev 0 (ties: lowest index); b: dev 0 (700 is the tightest); c: devs 1, 2; d: dev 0
    assert info.gpu_free == [50, 0, 0, 1000]
    assert info.gpus_of == {"default/a": [0], "default/b": [0], "default/c": [1, 2],
                            "default/d": [0]}
    info.add(pods[2], -1)
    info.add(pods[0], -1)
    assert info.gpu_free == [350, 1000, 1000, 1000]
    with pytest.raises(SchedlabError):
        info.add(_pod("e", gpu=GpuRequest(4)))
    with pytest.raises(SchedlabError):
        _info(node).add(_pod("f", gpu=GpuRequest(1, 100, frozenset({"T4"}))))


# ---------------------------------------------------------------------------- GpuShare
def test_gpu_share_reasons() -> None:
    plugin = GpuShare()
    a10, bare = _node(gpus=2), _node(gpus=0, model="")
    busy = _info(a10, _pod("x", gpu=TWO))
    assert reference.filter_node(plugin, _pod("cpu"), _info(bare)) == []
    assert reference.filter_node(plugin, _pod("p", gpu=SHARE), _info(bare)) == [
        reference.REASON_GPU_MODEL]
    assert reference.filter_node(plugin, _pod("p", gpu=GpuRequest(1, 5, frozenset({"T4"}))),
                                 _info(a10)) == [reference.REASON_GPU_MODEL]
    assert reference.filter_node(plugin, _pod("p", gpu=SHARE), busy) == [
        reference.REASON_GPU_INSUFFICIENT]
    assert reference.filter_node(plugin, _pod("p", gpu=GpuRequest(4)), _info(a10)) == [
        reference.REASON_GPU_INSUFFICIENT]
    assert reference.filter_node(plugin, _pod("p", gpu=TWO), _info(a10)) == []


# ---------------------------------------------------------------------------- GpuPacking
@pytest.mark.parametrize(("bound", "gpu", "expected"), [
    ((), SHARE, 25),  # idle 8-GPU node: max(33 - 8, 8)
    ((), TWO, 25),
    (((8, GpuRequest(1, 500)),), TWO, 48),  # 2 fully free GPUs of a used node: max(50 - 2, 33)
    (((8, GpuRequest(1, 500)),), GpuRequest(8), None),  # 7 fully free: Go errors
    (((2, GpuRequest(1, 700)),), GpuRequest(1, 250), 97),  # onto 300 free: 100 - 30 // 10
    (((2, GpuRequest(1, 700)),), GpuRequest(1, 300), 97),
    (((2, GpuRequest(1, 50)),), GpuRequest(1, 500), 91),  # onto 950 free: 100 - 95 // 10
    (((2, GpuRequest(1, 700)),), GpuRequest(1, 500), 49),  # needs a fully free one
    (((2, GpuRequest(1, 700)), (2, GpuRequest(1, 700))), GpuRequest(1, 500), None),
    ((), None, 0),  # CPU pods score 0
])
def test_gpu_packing_tiers(bound: tuple[tuple[int, GpuRequest], ...], gpu: GpuRequest | None,
                           expected: int | None) -> None:
    gpus = bound[0][0] if bound else 8
    node = _node(gpus=gpus)
    pods = [_pod(f"b{k}", gpu=request) for k, (_, request) in enumerate(bound)]
    pod = _pod("p", gpu=gpu)
    assert reference.score_node(GpuPackingScore(), pod, _info(node, *pods)) == expected
    if expected is not None:
        state = _state([node], *((p, 0) for p in pods))
        assert GpuPackingScore().score(state, pod, ALL).tolist() == [expected]


def test_gpu_packing_idle_small_node_and_wrong_model() -> None:
    pod = _pod("p", gpu=GpuRequest(1, 500, frozenset({"T4"})))
    assert reference.score_node(GpuPackingScore(), pod, _info(_node(gpus=2, model="T4"))) == 31
    assert reference.score_node(GpuPackingScore(), pod, _info(_node(gpus=2))) is None


# ---------------------------------------------------------------------------- GpuClustering
def test_gpu_clustering_bands() -> None:
    plugin = GpuClusteringScore()
    node = _node(gpus=8)
    share, one, two = _pod("s", gpu=SHARE), _pod("o", gpu=ONE), _pod("t", gpu=TWO)
    cases = [
        ((), SHARE, 25),  # idle: 25 * 0 // 8000 + 25
        ((share,), SHARE, 76),  # 500 used: 25 * 500 // 8000 = 1, only its kind: + 75
        ((share, one), SHARE, 54),  # 1500 used: 4, its kind among others: + 50
        ((share, one), TWO, 4),  # other kinds only: + 0
        ((two,), TWO, 81),  # 2000 used: 6, + 75
        ((share,), None, 0),
    ]
    for bound, gpu, expected in cases:
        pod = _pod("p", gpu=gpu)
        assert reference.score_node(plugin, pod, _info(node, *bound)) == expected
        state = _state([node], *((p, 0) for p in bound))
        assert plugin.score(state, pod, ALL).tolist() == [expected]


# ---------------------------------------------------------------------------- BestFit
def test_best_fit_raw_scores_and_min_max_normalisation() -> None:
    plugin = BestFitScore()
    nodes = [_node(8, 16_000, name="a"), _node(2, 4000, name="b"), _node(1, 2000, name="c")]
    pod = _pod("p", cpu=1000, gpu=SHARE)
    infos = [_info(n) for n in nodes]
    # a: 1 - (15000/128000 + 7500/8000) / 2 = 0.47265625 -> 47; b: 89.45... -> 89; c: 96
    raw, normalized = reference.score_candidates(plugin, pod, infos, [0, 1, 2])
    assert raw == [47, 89, 96]
    assert normalized == [0, 85, 100]  # (s - 47) * 100 // 49
    assert reference.normalize(plugin, [7, 7]) == [0, 0]
    assert reference.normalize(plugin, [7, None]) == [None, None]
    state = _state(nodes)
    scores = plugin.score(state, pod, ALL)
    assert scores.tolist() == raw
    assert plugin.normalize_score(scores).tolist() == normalized
    # Go's "free resource not enough" error: no score
    assert reference.score_node(plugin, _pod("q", cpu=3000, gpu=SHARE), infos[2]) is None
    assert reference.score_node(plugin, _pod("q", gpu=TWO), infos[2]) is None


# ---------------------------------------------------------------------------- DotProduct
def test_dot_product() -> None:
    info = _info(_node(8, 16_000))
    # [16000/128000, 8000/8000] . [1000/128000, 500/8000] = 0.0634765625; 1 - it / 2
    assert reference.score_node(DotProductScore(), _pod("p", 1000, SHARE), info) == 96
    assert reference.score_node(DotProductScore(), _pod("p", 17_000, SHARE), info) == 0


# ---------------------------------------------------------------------------- FGD
SMALL_TYPICAL = TypicalPods.of(_shape("cpu", 1, 1000) + _shape("share", 1, 1000, SHARE),
                               coverage_pct=100)
"""Two typical pods of frequency 1/2: a CPU-only one and a 500-milli sharing one."""


def _sigmoid_score(gain_milli: float) -> int:
    return int(100 / (1 + math.exp(-gain_milli / 1000)))


@pytest.mark.parametrize(("gpu", "expected"), [
    # before: the CPU pod counts all 2000 idle milli, the sharing one nothing: 1000
    (SHARE, _sigmoid_score(250)),  # after [500, 1000]: (1500 + 0) / 2 = 750
    (GpuRequest(1, 600), _sigmoid_score(100)),  # after [400, 1000]: (1400 + 400) / 2 = 900
    (ONE, _sigmoid_score(500)),  # after [0, 1000]: (1000 + 0) / 2 = 500
    (TWO, _sigmoid_score(1000)),  # after [0, 0]: 0
    (None, 50),  # a CPU pod leaves the fragmentation as it is
])
def test_fgd_on_one_node_by_hand(gpu: GpuRequest | None, expected: int) -> None:
    assert [_sigmoid_score(g) for g in (250, 100, 500, 1000)] == [56, 52, 62, 73]
    plugin = FGDScore(typical_pods=SMALL_TYPICAL)
    node, pod = _node(gpus=2), _pod("p", 1000, gpu)
    assert reference.score_node(plugin, pod, _info(node)) == expected
    assert plugin.score(_state([node]), pod, ALL).tolist() == [expected]


def test_fgd_sharing_pod_keeps_its_best_device() -> None:
    # free [700, 1000]: 250 onto device 0 leaves [450, 1000]: the sharing typical pod no
    # longer fits device 0 (450 counts); onto device 1, [700, 750]: both still fit.
    plugin = FGDScore(typical_pods=SMALL_TYPICAL)
    node = _node(gpus=2)
    bound = _pod("b", 0, GpuRequest(1, 300))
    pod = _pod("p", 1000, GpuRequest(1, 250))
    # before: (1700 + 0) / 2; device 0: (1450 + 450) / 2 -> gain -100; device 1: gain 125
    expected = _sigmoid_score(125)
    assert reference.score_node(plugin, pod, _info(node, bound)) == expected
    assert plugin.score(_state([node], (bound, 0)), pod, ALL).tolist() == [expected]


def test_fgd_reference_follows_go_quirks() -> None:
    plugin = FGDScore(typical_pods=SMALL_TYPICAL)
    node = _node(gpus=2, cpu=500)
    # no request at all: 100; whole-GPU or CPU pod whose cpu the node lacks: Sub leaves the
    # node as it is: 50; a whole-GPU pod without room: AllocateExclusiveGpuId panics
    assert reference.score_node(plugin, _pod("p", None, SHARE), _info(node)) == 100
    assert reference.score_node(plugin, _pod("p", 1000, ONE), _info(node)) == 50
    assert reference.score_node(plugin, _pod("p", 1000, None), _info(node)) == 50
    assert reference.score_node(plugin, _pod("p", 100, GpuRequest(4)), _info(node)) is None
    wrong_model = GpuRequest(1, 500, frozenset({"T4"}))
    assert reference.score_node(plugin, _pod("p", 100, wrong_model), _info(node)) is None


def test_fgd_plugin_pod_without_requests_scores_100() -> None:
    plugin = FGDScore(typical_pods=SMALL_TYPICAL)
    pod = _pod("p", None, SHARE)
    assert plugin.score(_state([_node(gpus=2)]), pod, ALL).tolist() == [100]


def test_fgd_plugin_cpu_short_whole_gpu_pod_scores_50() -> None:
    plugin = FGDScore(typical_pods=SMALL_TYPICAL)
    state = _state([_node(gpus=2, cpu=500)])
    assert plugin.score(state, _pod("p", 1000, ONE), ALL).tolist() == [50]


def test_typical_shapes_are_read_as_ints() -> None:
    shapes = reference._typical_shapes(FGDScore(typical_pods=TYPICAL))
    assert all(type(v) is int for shape in shapes for v in (shape[0], shape[1], shape[2],
                                                            shape[4]))
    assert sum(s[4] for s in shapes) == int(np.sum(TYPICAL.counts)) == 15
    with pytest.raises(ValueError, match="typical_pods"):
        reference.score_node(FGDScore(), _pod("p"), _info(_node()))
