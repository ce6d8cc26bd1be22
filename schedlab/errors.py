"""The one error family schedlab raises for problems a user can fix."""

from __future__ import annotations


class SchedlabError(Exception):
    """Root of every error schedlab raises on purpose. The CLI prints its message on one line."""


class InputError(SchedlabError):
    """Bad input: a file, object or row holds a field with a value schedlab cannot accept.

    The message names where (file, object or row), the field, the value and what was expected.
    """

    def __init__(self, where: str, field: str, value: object, expected: str) -> None:
        self.where, self.field, self.value, self.expected = where, field, value, expected
        super().__init__(f"{where}: {field}: got {value!r}, expected {expected}")


class ConfigError(InputError):
    """A bad KubeSchedulerConfiguration or plugin argument."""


class SchedulingError(SchedlabError):
    """A plugin broke the framework's contract (a score outside [0, 100], a wrong shape)."""
