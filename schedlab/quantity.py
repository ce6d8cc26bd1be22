"""Kubernetes resource quantities ("100m", "0.5", "1e3", "512Mi", "1G"), parsed exactly.

The grammar is Kubernetes' own (k8s.io/apimachinery resource.Quantity): a signed decimal number
followed by a binary-SI suffix (Ki Mi Gi Ti Pi Ei), a decimal-SI suffix (n u m "" k M G T P E) or a
decimal exponent (e3, E-2). Values are held as exact fractions; converting to an integer unit
rounds up, as ``Quantity.Value()`` and ``Quantity.MilliValue()`` do.
"""

from __future__ import annotations

import re
from fractions import Fraction

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?:(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE](?P<exponent>[+-]?\d+))?$"
)
INT64_MAX = 2**63 - 1
MAX_QUANTITY_LENGTH = 64
"""The longest quantity text read (kube's int64-bounded quantities need far fewer)."""
MAX_AMOUNT = 2**53
"""The largest amount schedlab takes in its units (8 PiB of memory, 9e12 cpus): sums over
containers, pods and nodes then stay exact in int64 and float64."""
EXPECTED = ("a non-negative Kubernetes quantity such as 100m, 0.5, 1e3, 512Mi or 1G, at most "
            "2^53 in schedlab's units (8Pi bytes, 9e12 cpus)")


class QuantityError(ValueError):
    """The text is not a Kubernetes quantity, or is negative, or overflows int64."""


def parse_quantity(value: str | int | float) -> Fraction:
    """Parse a quantity into an exact non-negative fraction of its base unit.

    Raises ``QuantityError`` for text outside the grammar, negative values and values whose
    integer form would not fit in int64.
    """
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a quantity")
    text = repr(value) if isinstance(value, float) else str(value).strip()
    if len(text) > MAX_QUANTITY_LENGTH:
        raise QuantityError(f"{text[:20]!r}... is longer than {MAX_QUANTITY_LENGTH} characters")
    match = _QUANTITY.match(text)
    if match is None:
        raise QuantityError(f"{value!r} is not a quantity")
    number = Fraction(match["number"])
    if match["exponent"] is not None:
        exponent = int(match["exponent"])
        if abs(exponent) > 30:
            raise QuantityError(f"{value!r} is out of range")
        amount = number * Fraction(10) ** exponent
    elif match["suffix"] in _BINARY:
        amount = number * _BINARY[match["suffix"]]
    else:
        amount = number * _DECIMAL[match["suffix"] or ""]
    if amount < 0:
        raise QuantityError(f"{value!r} is negative")
    if amount > INT64_MAX:
        raise QuantityError(f"{value!r} is out of range")
    return amount


def _ceil(amount: Fraction) -> int:
    return -((-amount.numerator) // amount.denominator)


def to_int(resource: str, value: str | int | float) -> int:
    """The integer amount of ``resource`` that ``value`` means in schedlab's units.

    cpu is held in millicores (``MilliValue``), every other resource in its base unit
    (``Value``: bytes for memory and storage, a count for extended resources); both round up.
    Amounts above ``MAX_AMOUNT`` are refused.
    """
    amount = parse_quantity(value)
    result = _ceil(amount * 1000) if resource == "cpu" else _ceil(amount)
    if result > MAX_AMOUNT:
        raise QuantityError(f"{value!r} is out of range for {resource}")
    return result


def format_quantity(resource: str, amount: int) -> str:
    """A short human form of an integer amount in schedlab's units ("250m", "2Gi", "3")."""
    if resource == "cpu":
        return f"{amount // 1000}" if amount % 1000 == 0 else f"{amount}m"
    for suffix, size in reversed(_BINARY.items()):
        if amount >= size and amount % size == 0:
            return f"{amount // size}{suffix}"
    return str(amount)
