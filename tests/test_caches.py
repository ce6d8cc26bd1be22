"""``schedlab.caches``: ``IdCache`` keeps its keys' objects alive, ``PerState`` gives each
state its own value and never another's; plugins keeping per-state data (RandomScore,
InterPodAffinity) answer for two states used side by side as each alone."""

from __future__ import annotations

import gc
import weakref

import numpy as np

from schedlab.caches import IdCache, PerState
from schedlab.cluster import ALL, ClusterState
from schedlab.objects import (
    Container,
    LabelSelector,
    Node,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodTemplate,
)
from schedlab.plugins import InterPodAffinity, RandomScore


class Thing:
    """A weakly referenceable object."""


def test_id_cache_keeps_the_objects_of_its_keys_alive() -> None:
    cache: IdCache[int, str] = IdCache()
    thing = Thing()
    key = id(thing)
    assert cache.put(key, "first", thing) == "first"
    alive = weakref.ref(thing)
    del thing
    gc.collect()
    assert alive() is not None  # so no new object can take its id while cached
    assert cache.get(key) == "first"
    assert cache.get(key + 1) is None
    other = Thing()
    cache.put((id(other), "owner"), "second", other)  # a key holding an id among others
    assert list(cache.values()) == ["first", "second"]
    assert len(cache) == 2


def test_id_cache_tells_a_stored_none_from_a_missing_key() -> None:
    cache: IdCache[int, str | None] = IdCache()
    kept = object()
    assert id(kept) not in cache and cache.get(id(kept)) is None
    assert cache.put(id(kept), None, kept) is None
    assert id(kept) in cache and cache[id(kept)] is None and len(cache) == 1


def test_per_state_gives_each_state_its_own_value() -> None:
    made: list[Thing] = []

    def make(state: Thing) -> int:
        made.append(state)
        return len(made)

    per_state: PerState[Thing, int] = PerState(make)
    a, b = Thing(), Thing()
    assert [per_state.of(a), per_state.of(b), per_state.of(a), per_state.of(b)] == [1, 2, 1, 2]
    assert made == [a, b]  # made once per state


def test_per_state_values_go_with_their_state() -> None:
    values: PerState[Thing, list[int]] = PerState(lambda state: [])
    for _ in range(50):  # new states (at the addresses of dead ones, often) start afresh
        state = Thing()
        assert values.of(state) == []
        values.of(state).append(1)
        gone = weakref.ref(state)
        del state
        gc.collect()
        assert gone() is None  # the value did not keep its state alive
    assert len(values._values) == 0


def _cluster() -> list[Node]:
    return [Node(f"n{i}", {"cpu": 8000, "pods": 110},
                 labels={"kubernetes.io/hostname": f"n{i}"}) for i in range(6)]


def test_random_score_draws_per_state_when_two_runs_interleave() -> None:
    pod = Pod("p", PodTemplate(containers=(Container(),)))
    plugin = RandomScore(seed=7)

    def draws(states: list[ClusterState]) -> list[list[int]]:
        found: list[list[int]] = [[] for _ in states]
        for _ in range(10):
            for i, state in enumerate(states):
                found[i].append(int(np.argmax(plugin.score(state, pod, ALL))))
        return found

    alone = draws([ClusterState(_cluster())])[0]
    assert draws([ClusterState(_cluster()), ClusterState(_cluster())]) == [alone, alone]


def test_inter_pod_affinity_keeps_each_states_bound_pods_apart() -> None:
    term = PodAffinityTerm("kubernetes.io/hostname", LabelSelector({"app": "db"}))
    db = PodTemplate(containers=(Container(),), labels={"app": "db"},
                     pod_anti_affinity=PodAffinity(required=(term,)))
    plugin = InterPodAffinity()
    first, second = ClusterState(_cluster()), ClusterState(_cluster())
    first.bind(Pod("a", db), 0)
    second.bind(Pod("b", db), 3)
    incoming = Pod("c", db)
    for _ in range(2):
        assert np.flatnonzero(~plugin.filter(first, incoming, ALL)).tolist() == [0]
        assert np.flatnonzero(~plugin.filter(second, incoming, ALL)).tolist() == [3]
