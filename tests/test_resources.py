"""kube's PodRequests (kube-scheduler.md §3.1) and the non-zero scoring variant (§3.3).

    req = Σ containers ; side = 0 ; initMax = 0
    for each init container i: sidecar → req += i ; side += i ; eff = side
                               else    → eff = i + side
                               initMax = max(initMax, eff)
    req = max(req, initMax) + overhead
The non-zero variant fills each container's MISSING cpu/memory request with 100m / 200MiB first.
"""

from __future__ import annotations

import numpy as np
import pytest

from schedlab.objects import Container, PodTemplate
from schedlab.pods import compile_requests
from schedlab.resources import (
    DEFAULT_MEMORY_REQUEST,
    DEFAULT_MILLI_CPU_REQUEST,
    NON_ZERO_DEFAULTS,
    ResourceAxis,
    pod_requests,
)

Mi, Gi = 2**20, 2**30
DEF_MEM = 200 * Mi  # kube's DefaultMemoryRequest, 209 715 200 bytes


def c(name: str = "c", sidecar: bool = False, **requests: int) -> Container:
    """A container; keyword ``gpu`` stands for nvidia.com/gpu, ``eph`` for ephemeral-storage."""
    names = {"gpu": "nvidia.com/gpu", "eph": "ephemeral-storage"}
    return Container(name, {names.get(k, k): v for k, v in requests.items()}, sidecar=sidecar)


def test_defaults_are_kubes() -> None:
    assert DEFAULT_MILLI_CPU_REQUEST == 100
    assert DEFAULT_MEMORY_REQUEST == 209_715_200 == DEF_MEM
    assert dict(NON_ZERO_DEFAULTS) == {"cpu": 100, "memory": DEF_MEM}


CASES = [
    pytest.param(
        [c(cpu=100, memory=Gi), c(cpu=200), c(gpu=1)], [], {},
        # cpu 100+200 = 300 ; memory 1Gi ; gpu 1
        {"cpu": 300, "memory": Gi, "nvidia.com/gpu": 1},
        id="sum-of-containers",
    ),
    pytest.param(
        [c(cpu=500, memory=Gi)], [c(cpu=1000), c(cpu=200, memory=2 * Gi)], {},
        # cpu max(500, max(1000, 200)) = 1000 ; memory max(1Gi, max(0, 2Gi)) = 2Gi
        {"cpu": 1000, "memory": 2 * Gi},
        id="init-container-max-per-resource",
    ),
    pytest.param(
        [c(cpu=2000)], [c(cpu=1000), c(cpu=1500)], {},
        # init containers run one at a time: max(2000, 1000, 1500) = 2000, not 2000+1000+1500
        {"cpu": 2000},
        id="init-containers-do-not-add-up",
    ),
    pytest.param(
        [c(cpu=1000)], [c("log", sidecar=True, cpu=500)], {},
        # sidecar keeps running: req = 1000 + 500 = 1500 ; its own init use = 500
        {"cpu": 1500},
        id="sidecar-adds-to-containers",
    ),
    pytest.param(
        [c(cpu=1000)],
        [c("i1", cpu=2000), c("s1", sidecar=True, cpu=1000), c("i2", cpu=1500),
         c("s2", sidecar=True, cpu=500), c("i3", cpu=1200)],
        {},
        # KEP-753: InitContainerUse(i) = Σ(sidecars with index < i) + InitContainer(i)
        # i1: 2000 (no sidecar yet) ; s1: side=1000 ; i2: 1500+1000 = 2500 ; s2: side=1500 ;
        # i3: 1200+1500 = 2700 ; req = 1000 + 1000 + 500 = 2500 ; max(2500, 2700) = 2700
        # (i3 alone, 1200, is below i1's 2000: only the sidecars before it raise its need)
        {"cpu": 2700},
        id="sidecars-raise-later-init-containers-kep-753",
    ),
    pytest.param(
        [c(cpu=100)],
        [c("s1", sidecar=True, cpu=300), c("i1", cpu=100)],
        {},
        # req = 100 + 300 = 400 ; i1 use = 100 + 300 = 400 ; max(400, 400) = 400 (not 500)
        {"cpu": 400},
        id="sidecar-counted-once",
    ),
    pytest.param(
        [c(cpu=500)], [c(cpu=1000)], {"cpu": 250, "memory": 64 * Mi},
        # cpu max(500, 1000) + 250 = 1250 ; memory 0 + 64Mi
        {"cpu": 1250, "memory": 64 * Mi},
        id="overhead-added-after-the-max",
    ),
    pytest.param([], [], {}, {}, id="no-containers-requests-nothing"),
    pytest.param(
        [c(cpu=0, memory=0)], [], {},
        {"cpu": 0, "memory": 0},
        id="explicit-zero-stays-zero",
    ),
]


@pytest.mark.parametrize(("containers", "inits", "overhead", "expected"), CASES)
def test_pod_requests(
    containers: list[Container], inits: list[Container], overhead: dict, expected: dict
) -> None:
    assert pod_requests(containers, inits, overhead) == expected
    template = PodTemplate(containers=containers, init_containers=inits, overhead=overhead)
    assert template.requests == expected


NONZERO_CASES = [
    pytest.param(
        [c()], [], {},
        # one container naming nothing: 100m, 200MiB
        {"cpu": 100, "memory": DEF_MEM},
        id="missing-requests-default",
    ),
    pytest.param(
        [c(), c(), c(cpu=300)], [], {},
        # per container: 100 + 100 + 300 = 500 ; 200Mi + 200Mi + 200Mi = 600Mi
        {"cpu": 500, "memory": 3 * DEF_MEM},
        id="defaults-applied-per-container",
    ),
    pytest.param(
        [c(cpu=0, memory=0)], [], {},
        {"cpu": 0, "memory": 0},
        id="explicit-zero-stays-zero",
    ),
    pytest.param(
        [c(cpu=0)], [], {},
        # cpu explicit 0 stays 0 ; memory missing → 200Mi
        {"cpu": 0, "memory": DEF_MEM},
        id="explicit-zero-cpu-missing-memory",
    ),
    pytest.param(
        [c(cpu=50, memory=10 * Mi)], [c("init")], {},
        # the init container names nothing → 100m/200Mi: cpu max(50, 100) = 100,
        # memory max(10Mi, 200Mi) = 200Mi
        {"cpu": 100, "memory": DEF_MEM},
        id="defaults-applied-to-init-containers",
    ),
    pytest.param(
        [c(cpu=1000, memory=Gi)], [c("s", sidecar=True)], {},
        # the sidecar names nothing → adds 100m/200Mi: 1100, 1Gi + 200Mi
        {"cpu": 1100, "memory": Gi + DEF_MEM},
        id="defaults-applied-to-sidecars",
    ),
    pytest.param(
        [c(gpu=2)], [], {"cpu": 250},
        # defaults only for cpu/memory; overhead added after: cpu 100 + 250
        {"cpu": 350, "memory": DEF_MEM, "nvidia.com/gpu": 2},
        id="extended-untouched-overhead-added",
    ),
    pytest.param([], [], {}, {}, id="no-containers-requests-nothing"),
    pytest.param(
        [], [], {"cpu": 250},
        {"cpu": 250},
        id="no-containers-overhead-only",
    ),
]


@pytest.mark.parametrize(("containers", "inits", "overhead", "expected"), NONZERO_CASES)
def test_nonzero_requests(
    containers: list[Container], inits: list[Container], overhead: dict, expected: dict
) -> None:
    assert pod_requests(containers, inits, overhead, NON_ZERO_DEFAULTS) == expected
    template = PodTemplate(containers=containers, init_containers=inits, overhead=overhead)
    assert template.nonzero_requests == expected


def test_real_requests_have_no_defaults() -> None:
    template = PodTemplate(containers=(c(), c(cpu=0)))
    assert template.requests == {"cpu": 0}
    # 100 + 0 = 100 ; 200Mi + 200Mi = 400Mi
    assert template.nonzero_requests == {"cpu": 100, "memory": 2 * DEF_MEM}


def test_compiled_vectors_over_an_axis() -> None:
    axis = ResourceAxis(["nvidia.com/gpu"])
    assert axis.names == ("cpu", "memory", "ephemeral-storage", "nvidia.com/gpu")
    template = PodTemplate(containers=(c(eph=Gi), c(gpu=1, cpu=200), c(gpu=0)),
                           overhead={"example.com/fpga": 1})
    compiled = compile_requests(template, axis)
    assert compiled.requested.tolist() == [200, 0, Gi, 1]
    # non-zero: cpu 100 (1st, missing) + 200 + 100 (3rd, missing) = 400 ; memory 3*200Mi
    assert compiled.nonzero.tolist() == [400, 3 * DEF_MEM, Gi, 1]
    assert compiled.missing == ("example.com/fpga",)  # requested > 0, not on the axis
    assert compiled.columns.tolist() == [0, 2, 3]
    assert not compiled.is_empty


@pytest.mark.parametrize(
    ("containers", "empty"),
    [
        pytest.param((), True, id="no-containers"),
        pytest.param((c(),), True, id="container-without-requests"),
        pytest.param((c(cpu=0, gpu=0),), True, id="explicit-zeros"),
        pytest.param((c(gpu=1),), False, id="extended-only"),
    ],
)
def test_compiled_is_empty(containers: tuple[Container, ...], empty: bool) -> None:
    axis = ResourceAxis(["nvidia.com/gpu"])
    compiled = compile_requests(PodTemplate(containers=containers), axis)
    assert compiled.is_empty is empty
    assert np.array_equal(compiled.requested == 0, np.ones(4, bool)) is empty
