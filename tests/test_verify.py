"""schedlab.verify: each hard constraint, once held and once broken."""

from __future__ import annotations

from typing import Any

import pytest

from schedlab.errors import SchedlabError
from schedlab.objects import (
    Container,
    Node,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PodTemplate,
    Taint,
    Toleration,
    Workload,
)
from schedlab.verify import PlacementError, Violation, assert_valid, check_placement

GiB = 1024**3


def template(cpu: int = 0, memory: int = 0, **kwargs: Any) -> PodTemplate:
    """A one-container template requesting ``cpu`` millicores and ``memory`` bytes (0: none)."""
    requests = {name: amount for name, amount in (("cpu", cpu), ("memory", memory)) if amount}
    return PodTemplate(containers=(Container(requests=requests),), **kwargs)


def node(name: str, cpu: int = 4000, memory: int = 8 * GiB, **kwargs: Any) -> Node:
    """A node with ``cpu`` millicores and ``memory`` bytes allocatable."""
    return Node(name, allocatable={"cpu": cpu, "memory": memory}, **kwargs)


def constraints(workload: Workload, bindings: dict[str, str | None]) -> list[tuple[str, str]]:
    """(constraint, pod or node) of each violation."""
    return [(v.constraint, v.pod or v.node) for v in check_placement(workload, bindings)]


def test_valid_placement_has_no_violations() -> None:
    workload = Workload(
        (node("n1"), node("n2")),
        (Pod("a", template(1000, GiB)), Pod("b", template(3000, 7 * GiB)), Pod("c", template())),
    )
    bindings = {"default/a": "n1", "default/b": "n1", "default/c": None}
    assert check_placement(workload, bindings) == []
    assert_valid(workload, bindings)


def test_capacity() -> None:
    workload = Workload(
        (node("n1", cpu=2000),), (Pod("a", template(1500)), Pod("b", template(500)))
    )
    assert constraints(workload, {"default/a": "n1", "default/b": "n1"}) == []
    big = Workload((node("n1", cpu=2000),), (Pod("a", template(1500)), Pod("b", template(501))))
    (violation,) = check_placement(big, {"default/a": "n1", "default/b": "n1"})
    assert violation == Violation(
        None, "n1", "capacity", "cpu: pods request 2001 > allocatable 2000"
    )


def test_capacity_counts_resources_the_node_lacks_as_zero() -> None:
    gpu = PodTemplate(containers=(Container(requests={"nvidia.com/gpu": 1}),))
    workload = Workload((node("n1"),), (Pod("a", gpu),))
    assert constraints(workload, {"default/a": "n1"}) == [("capacity", "n1")]
    with_gpu = Workload((Node("n1", allocatable={"nvidia.com/gpu": 1}),), (Pod("a", gpu),))
    assert constraints(with_gpu, {"default/a": "n1"}) == []


def test_capacity_counts_pre_bound_pods_and_real_requests_only() -> None:
    workload = Workload(
        (node("n1", cpu=2000),),
        (
            Pod("old", template(1000, node_name="n1")),
            Pod("a", template(1000)),
            Pod("b", template(1)),
            Pod("none", template()),  # names no cpu: adds none (100m is a scoring default only)
        ),
    )
    assert constraints(workload, {"default/a": "n1", "default/none": "n1"}) == []
    assert constraints(workload, {"default/a": "n1", "default/b": "n1"}) == [("capacity", "n1")]


def test_pod_requesting_zero_of_a_resource_never_violates_on_it() -> None:
    # pre-bound pods already overcommit cpu; a pod asking for no cpu still fits (req > 0 guard)
    workload = Workload(
        (node("n1", cpu=1000),),
        (Pod("old", template(1500, node_name="n1")), Pod("a", template(0, GiB))),
    )
    assert constraints(workload, {"default/a": "n1"}) == []
    one_cpu = Workload(workload.nodes, (*workload.pods[:1], Pod("a", template(1, GiB))))
    assert constraints(one_cpu, {"default/a": "n1"}) == [("capacity", "n1")]


def test_nodes_without_placed_pods_are_not_checked() -> None:
    workload = Workload(
        (node("n1", cpu=1000), node("n2")),
        (Pod("old", template(1500, node_name="n1")), Pod("a", template(1000))),
    )
    assert constraints(workload, {"default/a": "n2"}) == []


def test_pod_count() -> None:
    pods = tuple(Pod(f"p{i}", template()) for i in range(3))
    bindings: dict[str, str | None] = {p.key: "n1" for p in pods}
    two = Node("n1", allocatable={"pods": 2})
    three = Node("n1", allocatable={"pods": 3})
    assert constraints(Workload((three,), pods), bindings) == []
    assert check_placement(Workload((two,), pods), bindings) == [
        Violation(None, "n1", "pod-count", "3 pods > allowed 2")
    ]


def test_pod_count_defaults_to_110_and_counts_pre_bound_pods() -> None:
    bound = tuple(Pod(f"old{i}", template(node_name="n1")) for i in range(110))
    workload = Workload((Node("n1"),), (*bound, Pod("a", template())))
    assert constraints(workload, {"default/a": None}) == []
    assert constraints(workload, {"default/a": "n1"}) == [("pod-count", "n1")]


def test_node_affinity_node_selector() -> None:
    tpl = template(node_selector={"zone": "a"})
    workload = Workload(
        (node("na", labels={"zone": "a"}), node("nb", labels={"zone": "b"}), node("nx")),
        (Pod("p", tpl),),
    )
    assert constraints(workload, {"default/p": "na"}) == []
    for name in ("nb", "nx"):
        (violation,) = check_placement(workload, {"default/p": name})
        assert violation.constraint == "node-affinity"
        assert "nodeSelector {zone=a}" in violation.detail


def test_node_affinity_required_terms() -> None:
    gpu = NodeSelectorRequirement("gpu", "Exists")
    tpl = template(affinity=NodeAffinity(required=(NodeSelectorTerm(match_expressions=(gpu,)),)))
    workload = Workload((node("gpu", labels={"gpu": "a100"}), node("cpu")), (Pod("p", tpl),))
    assert constraints(workload, {"default/p": "gpu"}) == []
    assert constraints(workload, {"default/p": "cpu"}) == [("node-affinity", "default/p")]


def test_taints() -> None:
    taints = (Taint("soft", "", "PreferNoSchedule"), Taint("gpu", "a100", "NoSchedule"))
    tolerant = template(tolerations=(Toleration("gpu", "Equal", "a100"),))
    workload = Workload((node("n1", taints=taints),), (Pod("ok", tolerant), Pod("bad", template())))
    assert constraints(workload, {"default/ok": "n1"}) == []  # PreferNoSchedule is soft
    assert check_placement(workload, {"default/bad": "n1"}) == [
        Violation("default/bad", "n1", "taints", "untolerated taint gpu=a100:NoSchedule")
    ]


def test_taints_no_execute() -> None:
    workload = Workload(
        (node("n1", taints=(Taint("evict", "", "NoExecute"),)),), (Pod("p", template()),)
    )
    (violation,) = check_placement(workload, {"default/p": "n1"})
    assert (violation.constraint, violation.detail) == (
        "taints",
        "untolerated taint evict:NoExecute",
    )


def test_unschedulable() -> None:
    tolerant = template(tolerations=(Toleration("node.kubernetes.io/unschedulable", "Exists"),))
    workload = Workload(
        (node("n1", unschedulable=True),), (Pod("ok", tolerant), Pod("bad", template()))
    )
    assert constraints(workload, {"default/ok": "n1"}) == []
    assert constraints(workload, {"default/bad": "n1"}) == [("unschedulable", "default/bad")]


def test_node_name() -> None:
    workload = Workload((node("n1"), node("n2")), (Pod("p", template(node_name="n1")),))
    assert constraints(workload, {"default/p": "n1"}) == []
    assert check_placement(workload, {"default/p": "n2"}) == [
        Violation("default/p", "n2", "node-name", "pod names node n1")
    ]


def test_unknown_node() -> None:
    workload = Workload((node("n1"),), (Pod("p", template()),))
    assert constraints(workload, {"default/p": "n1"}) == []
    assert check_placement(workload, {"default/p": "n9"}) == [
        Violation("default/p", "n9", "unknown-node", "no such node")
    ]


def test_unknown_pod() -> None:
    workload = Workload((node("n1"),), (Pod("p", template(namespace="prod")),))
    assert constraints(workload, {"prod/p": "n1"}) == []
    assert check_placement(workload, {"default/p": "n1", "prod/q": None}) == [
        Violation("prod/q", "", "unknown-pod", "pod is not in the workload"),
        Violation("default/p", "n1", "unknown-pod", "pod is not in the workload"),
    ]


def test_pre_bound_pods_are_not_checked_for_affinity_or_taints() -> None:
    tpl = template(node_selector={"zone": "b"}, node_name="n1")
    workload = Workload(
        (node("n1", labels={"zone": "a"}, taints=(Taint("t"),), unschedulable=True),),
        (Pod("old", tpl), Pod("a", template(tolerations=(Toleration("", "Exists"),)))),
    )
    assert constraints(workload, {"default/a": "n1"}) == []


def test_violations_are_sorted_by_node_then_pod() -> None:
    tainted = (Taint("t"),)
    workload = Workload(
        (node("n2", cpu=1, taints=tainted), node("n1", cpu=1, taints=tainted)),
        tuple(Pod(name, template(1000)) for name in ("b", "a")),
    )
    bindings = {"default/b": "n1", "default/a": "n2"}
    assert constraints(workload, bindings) == [
        ("capacity", "n1"),
        ("taints", "default/b"),
        ("capacity", "n2"),
        ("taints", "default/a"),
    ]


@pytest.mark.parametrize(
    ("violation", "text"),
    [
        (Violation("ns/p", "n1", "taints", "untolerated taint t:NoSchedule"),
         "pod ns/p on node n1: taints: untolerated taint t:NoSchedule"),
        (Violation(None, "n1", "pod-count", "3 pods > allowed 2"),
         "node n1: pod-count: 3 pods > allowed 2"),
        (Violation("ns/q", "", "unknown-pod", "pod is not in the workload"),
         "pod ns/q: unknown-pod: pod is not in the workload"),
    ],
)  # fmt: skip
def test_violation_str(violation: Violation, text: str) -> None:
    assert str(violation) == text


def test_assert_valid_raises_placement_error_with_count_and_first_violations() -> None:
    pods = tuple(Pod(f"p{i}", template()) for i in range(7))
    workload = Workload((node("n1", taints=(Taint("t"),)),), pods)
    with pytest.raises(PlacementError) as raised:
        assert_valid(workload, {p.key: "n1" for p in pods})
    assert isinstance(raised.value, SchedlabError)
    assert len(raised.value.violations) == 7
    message = str(raised.value)
    assert message.startswith("7 hard-constraint violation(s): pod default/p0 on node n1: taints")
    assert message.endswith("; and 2 more")
    assert "\n" not in message
