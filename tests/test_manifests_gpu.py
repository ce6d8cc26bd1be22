"""GPU asks and GPU nodes in Kubernetes manifests (the FGD simulator's annotations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from schedlab import InputError, load_config, load_manifests
from schedlab.errors import ConfigError
from schedlab.objects import GpuRequest
from schedlab.plugins import FGDScore
from schedlab.policies import Greedy
from schedlab.sim import simulate
from schedlab.traces import dump_manifests
from schedlab.verify import check_placement

EXAMPLE = Path(__file__).resolve().parents[1] / "traces" / "examples" / "gpu"


def test_example_reads_gpu_nodes_and_asks():
    workload = load_manifests(EXAMPLE / "nodes.yaml", EXAMPLE / "pods.yaml")
    assert [(n.name, n.gpus, n.gpu_model) for n in workload.nodes] == [
        ("t4-node", 2, "T4"), ("a10-node", 8, "A10"), ("cpu-node", 0, "")]
    assert all("alibabacloud.com/gpu-count" not in n.allocatable for n in workload.nodes)
    asks = {p.name: p.template.gpu for p in workload.pods}
    assert asks == {"notebook": GpuRequest(1, 300), "etl": None,
                    "trainer": GpuRequest(4, 1000, frozenset({"A10", "V100"})),
                    "inference": GpuRequest(1, 500, frozenset({"T4"}))}


def test_round_trip_keeps_gpus(tmp_path):
    workload = load_manifests(EXAMPLE / "nodes.yaml", EXAMPLE / "pods.yaml")
    path = tmp_path / "all.yaml"
    path.write_text(dump_manifests(workload))
    again = load_manifests(path)
    assert again.nodes == workload.nodes
    assert [(p.name, p.template.gpu) for p in again.pods] == [
        (p.name, p.template.gpu) for p in workload.pods]


def test_config_races_fgd_on_the_example():
    workload = load_manifests(EXAMPLE / "nodes.yaml", EXAMPLE / "pods.yaml")
    profile = load_config(EXAMPLE / "scheduler-config.yaml")
    result = simulate(workload, Greedy(profile), 0)
    assert check_placement(workload, result.assignment(), result.state.gpus_of) == []
    placed = dict(zip(result.bindings["pod"], result.bindings["node"], strict=True))
    assert placed["default/trainer"] == "a10-node" and placed["default/inference"] == "t4-node"
    assert result.bindings["gpus"].tolist()[1] == [0, 1, 2, 3]


POD = """apiVersion: v1
kind: Pod
metadata: {{name: p, annotations: {annotations}}}
spec: {{containers: [{{name: c}}]}}
"""
NODE = """apiVersion: v1
kind: Node
metadata: {{name: n}}
status: {{allocatable: {allocatable}}}
"""


@pytest.mark.parametrize("annotations, field, value", [
    ('{alibabacloud.com/gpu-milli: "abc"}', "gpu-milli", "abc"),
    ('{alibabacloud.com/gpu-milli: "1200"}', "gpu-milli", "1200"),
    ('{alibabacloud.com/gpu-count: "0"}', "gpu-count", "0"),
    ('{alibabacloud.com/gpu-count: "2", alibabacloud.com/gpu-milli: "500"}', "gpu-milli", "500"),
])
def test_bad_gpu_annotation_is_one_line(tmp_path, annotations, field, value):
    path = tmp_path / "pod.yaml"
    path.write_text(POD.format(annotations=annotations))
    with pytest.raises(InputError) as error:
        load_manifests(path)
    message = str(error.value)
    assert f"metadata.annotations.alibabacloud.com/{field}: got {value!r}" in message
    assert str(path) in message and "\n" not in message


def test_node_gpu_milli_must_match_its_gpus(tmp_path):
    path = tmp_path / "node.yaml"
    path.write_text(NODE.format(allocatable='{alibabacloud.com/gpu-count: "2", '
                                            'alibabacloud.com/gpu-milli: "1500"}'))
    with pytest.raises(InputError, match="gpu-milli: got '1500', expected .*gpu-count × 1000"):
        load_manifests(path)


def test_node_gpu_count_must_be_whole(tmp_path):
    path = tmp_path / "node.yaml"
    path.write_text(NODE.format(allocatable='{alibabacloud.com/gpu-count: "1500m"}'))
    with pytest.raises(InputError, match="gpu-count: got '1500m', expected a whole number"):
        load_manifests(path)


def test_fgd_typical_pods_must_be_typical_pods():
    with pytest.raises(ConfigError, match="typicalPods"):
        FGDScore(typical_pods=[{"cpu": 1}])
