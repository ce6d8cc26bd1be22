"""Kubernetes quantities (k8s.io/apimachinery resource.Quantity), case by case.

Grammar: <signed number><suffix>, suffix one of the binary-SI (Ki Mi Gi ...), decimal-SI
(n u m "" k M G T P E) suffixes or a decimal exponent (e3, E-3). cpu is held in millicores
(MilliValue), everything else in its base unit (Value); both round UP to an integer.
"""

from __future__ import annotations

import pytest

from schedlab.quantity import QuantityError, format_quantity, parse_quantity, to_int

Ki, Mi, Gi = 2**10, 2**20, 2**30


@pytest.mark.parametrize(
    ("text", "cpu", "memory"),
    [
        pytest.param("100m", 100, 1, id="milli-suffix: 0.1 core = 100m; 0.1 byte rounds up to 1"),
        pytest.param("0.5", 500, 1, id="decimal-fraction: 0.5 core = 500m"),
        pytest.param("1e3", 1_000_000, 1000, id="exponent-e: 1e3 = 1000 = 1000*1000m"),
        pytest.param("1E-3", 1, 1, id="exponent-E-negative: 1E-3 = 0.001 = 1m, not exa"),
        pytest.param("512Mi", 512 * Mi * 1000, 512 * Mi, id="binary-Mi: 512*2^20"),
        pytest.param("1G", 10**12, 10**9, id="decimal-G: 10^9"),
        pytest.param("2Ki", 2 * Ki * 1000, 2 * Ki, id="binary-Ki: 2*1024=2048"),
        pytest.param("1.5Gi", 3 * Gi // 2 * 1000, 3 * Gi // 2, id="binary-fraction: 1.5*2^30"),
        pytest.param("0.1m", 1, 1, id="round-up: 0.1m = 0.1 millicore rounds up to 1m"),
        pytest.param("1k", 1_000_000, 1000, id="decimal-k: 1000"),
        pytest.param("250m", 250, 1, id="milli-250"),
        pytest.param("0", 0, 0, id="zero"),
        pytest.param("+2", 2000, 2, id="leading-plus-sign"),
        pytest.param("1.", 1000, 1, id="trailing-dot: '<digits>.' is a number"),
        pytest.param(".5", 500, 1, id="leading-dot: '.<digits>' is a number"),
    ],
)
def test_to_int_strings(text: str, cpu: int, memory: int) -> None:
    assert to_int("cpu", text) == cpu
    assert to_int("memory", text) == memory
    assert to_int("nvidia.com/gpu", text) == memory  # extended resources: Value(), like memory


@pytest.mark.parametrize(
    ("value", "cpu", "memory"),
    [
        pytest.param(2, 2000, 2, id="yaml-int: 2 cores = 2000m"),
        pytest.param(0, 0, 0, id="yaml-int-zero"),
        pytest.param(0.5, 500, 1, id="yaml-float: 0.5 core = 500m"),
        pytest.param(0.1, 100, 1, id="yaml-float-exact: 0.1 read as decimal 1/10, not binary"),
        pytest.param(1e3, 1_000_000, 1000, id="yaml-float-1e3"),
        pytest.param(1e-05, 1, 1, id="yaml-float-tiny: 1e-05 core = 0.01m rounds up to 1m"),
        pytest.param(1073741824, 1073741824000, Gi, id="yaml-int-bytes: 1Gi as a plain int"),
    ],
)
def test_to_int_yaml_scalars(value: int | float, cpu: int, memory: int) -> None:
    assert to_int("cpu", value) == cpu
    assert to_int("memory", value) == memory


def test_parse_quantity_is_exact() -> None:
    # 1.5Gi = 3/2 * 2^30 exactly; 100m = 1/10 exactly (no float error)
    assert parse_quantity("1.5Gi") == 3 * Gi // 2
    assert parse_quantity("100m") * 10 == 1
    assert parse_quantity("1E-3") * 1000 == 1


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("12Q", id="unknown-suffix"),
        pytest.param("-1", id="negative"),
        pytest.param("-100m", id="negative-milli"),
        pytest.param("", id="empty"),
        pytest.param("1e", id="exponent-without-digits"),
        pytest.param("Mi", id="suffix-without-number"),
        pytest.param("1.2.3", id="two-dots"),
        pytest.param("1K", id="upper-K-is-not-a-suffix"),
        pytest.param("1mi", id="lower-mi-is-not-a-suffix"),
        pytest.param("one", id="word"),
        pytest.param(True, id="yaml-bool-true"),
        pytest.param(False, id="yaml-bool-false"),
        pytest.param(-0.5, id="negative-float"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="inf"),
    ],
)
def test_rejects(value: object) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(value)  # type: ignore[arg-type]
    with pytest.raises(ValueError):  # QuantityError is a ValueError
        to_int("memory", value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("resource", "amount", "text"),
    [
        pytest.param("cpu", 250, "250m", id="cpu-millicores"),
        pytest.param("cpu", 1500, "1500m", id="cpu-not-whole-cores"),
        pytest.param("cpu", 2000, "2", id="cpu-whole-cores"),
        pytest.param("cpu", 0, "0", id="cpu-zero"),
        pytest.param("memory", 2 * Gi, "2Gi", id="memory-Gi"),
        pytest.param("memory", 512 * Mi, "512Mi", id="memory-Mi"),
        pytest.param("memory", 1536 * Mi, "1536Mi", id="memory-largest-exact-binary-suffix"),
        pytest.param("memory", Ki, "1Ki", id="memory-Ki"),
        pytest.param("memory", 1000, "1000", id="memory-not-a-binary-multiple"),
        pytest.param("memory", Gi + 1, str(Gi + 1), id="memory-odd-bytes"),
        pytest.param("memory", 0, "0", id="memory-zero"),
        pytest.param("nvidia.com/gpu", 3, "3", id="extended-count"),
    ],
)
def test_format_quantity(resource: str, amount: int, text: str) -> None:
    assert format_quantity(resource, amount) == text
    assert to_int(resource, text) == amount  # the short form reads back to the same amount
