"""The one error family schedlab raises for problems a user can fix."""

from __future__ import annotations

import reprlib

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 200
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = _SHOWN.maxset = 8
_SHOWN.maxlevel = 3
LONGEST_SHOWN = 300
"""The most characters of a value an error message shows."""


def shown(value: object) -> str:
    """``repr(value)`` bounded: long strings, lists and mappings are shortened with "...",
    whatever their size (a value from a file may be megabytes long, or an alias bomb), to at
    most ``LONGEST_SHOWN`` characters."""
    text = _SHOWN.repr(value)
    return text if len(text) <= LONGEST_SHOWN else f"{text[:LONGEST_SHOWN - 3]}..."


def printable(text: str) -> str:
    """``text`` with every control or other non-printable character escaped (``\\n``,
    ``\\x1b``), so a message from a file is one line and drives no terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class SchedlabError(Exception):
    """Root of every error schedlab raises on purpose. The CLI prints its message on one line."""


class InputError(SchedlabError):
    """Bad input: a file, object or row holds a field with a value schedlab cannot accept.

    The message names where (file, object or row), the field, the value and what was expected.
    """

    def __init__(self, where: str, field: str, value: object, expected: str) -> None:
        self.where, self.field, self.value, self.expected = where, field, value, expected
        super().__init__(f"{where}: {field}: got {shown(value)}, expected {expected}")


class ConfigError(InputError):
    """A bad KubeSchedulerConfiguration or plugin argument."""


class SchedulingError(SchedlabError):
    """A plugin broke the framework's contract (a score outside [0, 100], a wrong shape)."""


class InputWarning(UserWarning):
    """Input schedlab accepts as Kubernetes does but that is probably a mistake: a field
    unknown to the Kubernetes API types (as ``kubectl --validate=warn`` reports it), a Gt/Lt
    node affinity bound that is not an integer. Filter them with the ``warnings`` module."""


class SlowPathWarning(UserWarning):
    """A run takes a slower path than it could (e.g. a plugin keeps Greedy's fast path off),
    with the same results."""
