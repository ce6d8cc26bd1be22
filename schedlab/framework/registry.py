"""``Registry``: classes by name, for plugins and policies, found among the registered ones
or, on first use of a name, among the installed packages' entry points (group
``schedlab.plugins``), so a configuration or the command line can name a user's class."""

from __future__ import annotations

from functools import cache
from importlib import metadata
from typing import Any, Generic, TypeVar

from schedlab.errors import ConfigError, SchedlabError

ENTRY_POINT_GROUP = "schedlab.plugins"
"""The entry-point group where packages publish plugin and policy classes, by name."""

T = TypeVar("T")


@cache
def _published() -> dict[str, metadata.EntryPoint]:
    """The entry points of ``ENTRY_POINT_GROUP`` by name (read once per process)."""
    return {e.name: e for e in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def forget_published() -> None:
    """Read the installed entry points again on the next miss (after installing a package
    in a running process)."""
    _published.cache_clear()


class Registry(dict[str, type[T]], Generic[T]):
    """Classes derived from ``base`` by name. A name not registered is looked up once in
    the entry points of ``ENTRY_POINT_GROUP``; one naming a class of another kind (a policy
    where a plugin is wanted) is not this registry's."""

    def __init__(self, base: type[T]) -> None:
        super().__init__()
        self.base = base

    def _published(self, name: object) -> bool:
        """Load and register the entry point ``name`` if it publishes a ``base`` class."""
        entry = _published().get(name) if isinstance(name, str) else None
        if entry is None:
            return False
        try:
            found: Any = entry.load()
        except Exception as error:  # a broken third-party package: say which and why
            raise SchedlabError(
                f"entry point {entry.name} = {entry.value} (group {ENTRY_POINT_GROUP}): "
                f"cannot load: {type(error).__name__}: {error}") from None
        if not (isinstance(found, type) and issubclass(found, self.base)):
            return False
        self[entry.name] = found
        return True

    def register(self, name: str, cls: type[T]) -> type[T]:
        """Register ``cls`` as ``name``; a name of one of schedlab's own classes is not
        taken over by another class (a research plugin named ``NodeResourcesFit`` would
        silently replace kube's)."""
        if not name:
            raise ConfigError(cls.__name__, "name", name, "a non-empty name")
        taken = dict.get(self, name)
        if taken is not None and taken is not cls and taken.__module__.startswith("schedlab."):
            raise ConfigError(f"{cls.__module__}.{cls.__qualname__}", "name", name,
                              f"a name none of schedlab's own classes has ({name} is "
                              f"{taken.__module__}.{taken.__qualname__})")
        self[name] = cls
        return cls

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) or self._published(name)

    def __getitem__(self, name: str) -> type[T]:
        if not super().__contains__(name):
            self._published(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name, default) if name in self else default
