"""Two caches for what is derived from objects owned elsewhere (pod templates, cluster states).

``IdCache``: a dict whose keys hold ``id()``s of objects, every entry keeping those objects
alive. An id names an object only while it lives: once it is freed, a new object may get the
same id and be taken for it. Keeping the object in the entry rules that out for as long as the
cache lives. Pod templates are keyed so because hashing one (a tree of frozen dataclasses) costs
far more than ``id``, and two equal templates may be told apart (owners differ).

``PerState``: a value per cluster state, made the first time a state asks for it, which is the
reset of everything a plugin derives for a run. A plugin object may serve several runs, one
after the other or side by side; each state gets its own value, never another state's.

This module imports nothing of schedlab's: ``cluster`` uses it, and so do the framework and the
plugins.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
S = TypeVar("S")
T = TypeVar("T")


class IdCache(Generic[K, V]):
    """A dict from keys holding ``id()``s of objects (an id, or a tuple with ids in it) to
    values, each entry keeping alive the object(s) ``keep`` whose ids its key holds.

    ``get(key)`` is the value or None (for values that may be None themselves, ask
    ``key in cache`` and ``cache[key]``); ``put(key, value, keep)`` stores one and returns
    it::

        requests = cache.get(id(template))
        if requests is None:
            requests = cache.put(id(template), compile(template), template)
    """

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[K, tuple[object, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        return None if entry is None else entry[1]

    def __contains__(self, key: K) -> bool:
        return key in self._entries

    def __getitem__(self, key: K) -> V:
        return self._entries[key][1]

    def put(self, key: K, value: V, keep: object) -> V:
        """Store ``value`` under ``key``, keeping ``keep`` (the object whose id ``key`` holds,
        or a tuple of them) alive with it; returns ``value``."""
        self._entries[key] = (keep, value)
        return value

    def values(self) -> Iterator[V]:
        """The values, in the order their keys were first stored."""
        return (value for _, value in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


class PerState(Generic[S, T]):
    """A value per state, made by ``make(state)`` the first time ``of(state)`` is asked.

    Each state is held by a weak reference: its value goes when the state goes (or when this
    object does). A value must therefore not hold its state, which would then live as long as
    this object. ``of`` answers the state it answered last with one identity check."""

    __slots__ = ("_make", "_values", "_last")

    def __init__(self, make: Callable[[S], T]) -> None:
        self._make = make
        self._values: weakref.WeakKeyDictionary[S, T] = weakref.WeakKeyDictionary()
        self._last: tuple[weakref.ReferenceType[S], T] | None = None
        """(weak reference to the state last asked about, its value)."""

    def of(self, state: S) -> T:
        """The value of ``state``, made now if it has none."""
        last = self._last
        if last is not None and last[0]() is state:
            return last[1]
        value = self._values.get(state)
        if value is None:
            value = self._values[state] = self._make(state)
        self._last = (weakref.ref(state, self._forget), value)
        return value

    def _forget(self, dead: weakref.ReferenceType[S]) -> None:
        """Drop the value of the state last asked about once that state is gone."""
        if self._last is not None and self._last[0] is dead:
            self._last = None
