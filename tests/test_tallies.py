"""The cluster state's incremental pod counts (``Tally``: ``tally(selectors)`` and
``tally_by(keys)``): after any sequence of binds, unbinds and terminations, with counters
registered at any point, every count equals a recount from scratch over the bound pods; and
InterPodAffinity sees, for each pod, every term bound pods carried that matches it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from schedlab.cluster import ClusterState
from schedlab.matching import PodSelector
from schedlab.objects import ApiObjects, Container, LabelSelector, Node, Pod, PodTemplate
from schedlab.plugins.inter_pod_affinity import InterPodAffinity, carried_terms
from schedlab.testing import strategies

KEYS = (strategies.HOSTNAME, strategies.ZONE, strategies.DISK, "example.com/absent")


def namespace_twice_and_labels(template: PodTemplate) -> list[str]:
    """Keys for ``tally_by``: the namespace twice (a pod counts twice under it) and the
    label values."""
    return [template.namespace, template.namespace, *template.labels.values()]


KEY_FUNCTIONS: tuple[Callable[[PodTemplate], list], ...] = (carried_terms,
                                                           namespace_twice_and_labels)

Bound = dict[str, tuple[Pod, int, bool]]
"""pod key → (pod, node, terminating)."""


def _recount(state: ClusterState, bound: Bound, counts_pod, terminating: bool = True
             ) -> np.ndarray:
    per_node = np.zeros(state.n_nodes, dtype=np.int64)
    for pod, node, deleted in bound.values():
        if terminating or not deleted:
            per_node[node] += counts_pod(pod)
    return per_node


def _domains(state: ClusterState, per_node: np.ndarray, key: str,
             where: np.ndarray | None) -> np.ndarray:
    codes = state.labels.codes(key)
    expected = np.zeros(len(state.labels.values(key)) + 1, dtype=np.int64)
    for node, code in enumerate(codes):
        if code >= 0 and (where is None or where[node]):
            expected[code] += per_node[node]
    return expected


def _check_token(state: ClusterState, asked: list[Pod], last: dict[str, tuple]) -> None:
    """InterPodAffinity's state token for each asked pod changes exactly when the versions
    of the tallies its answers read, or the terms carried that match it, do (since the
    last check: ``last`` holds, per pod key, both as they were)."""
    plugin = InterPodAffinity()
    for pod in asked:
        terms = InterPodAffinity._terms(state, pod)
        read = (tuple(t.version for t in terms.tallies),
                tuple((term, t.version) for term, t in terms.carried))
        token = plugin.state_token(state, pod)
        if pod.key in last:
            was_read, was_token = last[pod.key]
            assert (read != was_read) == (token != was_token)
        last[pod.key] = (read, token)


def _check(state: ClusterState, bound: Bound, ever_bound: list[PodTemplate], views: list,
           keyed: list, asked: list[Pod]) -> None:
    objects = state.objects
    for selectors, key, where, terminating in views:
        tally = state.tally(selectors, terminating)
        per_node = _recount(state, bound, lambda p, s=selectors: all(
            x.matches(p.template, objects) for x in s), terminating)
        np.testing.assert_array_equal(tally.per_node, per_node)
        np.testing.assert_array_equal(tally.domains(key, where),
                                      _domains(state, per_node, key, where))
    for keys in keyed:
        counters = state.tally_by(keys)
        assert set(counters) == {k for t in ever_bound for k in keys(t)}  # new keys are live
        assert [k for k, _ in counters.added_since(0)] == list(counters)
        for key, tally in counters.items():
            per_node = _recount(state, bound, lambda p, k=key, f=keys: list(f(p.template)).count(k))
            np.testing.assert_array_equal(tally.per_node, per_node)
            topology_key = key.topology_key if keys is carried_terms else strategies.ZONE
            np.testing.assert_array_equal(tally.domains(topology_key),
                                          _domains(state, per_node, topology_key, None))
    carried = state.tally_by(carried_terms)
    for pod in asked:  # the carried terms a pod sees: all those ever carried that match it
        seen = [term for term, _ in InterPodAffinity._terms(state, pod).carried]
        assert len(seen) == len(set(seen))
        assert set(seen) == {t for t in carried if t.selector.matches(pod.template, objects)}


@st.composite
def _selector_views(draw: st.DrawFn, n_nodes: int) -> tuple:
    every_pod = PodSelector(LabelSelector(), frozenset(strategies.NAMESPACES))
    selectors = tuple(
        draw(st.sampled_from((every_pod, every_pod)) | st.builds(
            PodSelector, st.none() | strategies.label_selectors(),
            st.frozensets(st.sampled_from(strategies.NAMESPACES)),
            st.none() | strategies.label_selectors()))
        for _ in range(draw(st.integers(1, 2))))
    where = None
    if draw(st.booleans()):
        where = np.array(draw(st.lists(st.booleans(), min_size=n_nodes, max_size=n_nodes)))
    return selectors, draw(st.sampled_from(KEYS)), where, draw(st.booleans())


OPS = st.lists(st.tuples(st.sampled_from(("bind", "bind", "bind", "unbind", "terminate",
                                          "view", "keyed", "check")),
                         st.integers(0, 2**16), st.integers(0, 2**16)),
               min_size=20, max_size=60)


@given(cluster=strategies.clusters(max_nodes=8), objects=strategies.api_objects(),
       templates=st.lists(strategies.pod_templates(), min_size=1, max_size=4),
       ops=OPS, data=st.data())
def test_incremental_counts_equal_a_recount(cluster: list[Node], objects: ApiObjects,
                                            templates: list, ops: list, data: st.DataObject
                                            ) -> None:
    state = ClusterState(cluster, objects=objects)
    asked = [Pod(f"asked-{i}", t) for i, t in enumerate(templates)]
    for pod in asked[::2]:
        InterPodAffinity._terms(state, pod)  # some lists start before any term is carried
    bound: Bound = {}
    ever_bound: list[PodTemplate] = []
    views: list = []
    keyed: list = []
    tokens: dict[str, tuple] = {}
    for step, (op, a, b) in enumerate([*ops, ("check", 0, 0)]):
        if op == "bind":
            pod = Pod(f"p-{step}", templates[a % len(templates)])
            node = b % state.n_nodes
            state.bind(pod, node)
            bound[pod.key] = (pod, node, False)
            ever_bound.append(pod.template)
        elif op in ("unbind", "terminate") and bound:
            key = sorted(bound)[a % len(bound)]
            pod, node, _ = bound[key]
            if op == "unbind":
                state.unbind(pod)
                del bound[key]
            else:
                state.terminate(pod)
                bound[key] = (pod, node, True)
        elif op == "view":
            views.append(data.draw(_selector_views(state.n_nodes)))
            selectors, key, where, terminating = views[-1]
            state.tally(selectors, terminating).domains(key, where)
        elif op == "keyed":
            keyed.append(KEY_FUNCTIONS[a % len(KEY_FUNCTIONS)])
            state.tally_by(keyed[-1])
        elif op == "check":
            _check(state, bound, ever_bound, views, keyed, asked)
            _check_token(state, asked, tokens)


def test_tally_by_counts_binds_unbinds_and_terminations_and_keys_appear_live() -> None:
    state = ClusterState([Node(f"n{i}", {"cpu": 4000}, labels={"zone": "a"}) for i in range(3)])
    web, db = (PodTemplate(containers=(Container(),), labels={"app": app}, namespace=namespace)
               for app, namespace in (("web", "shop"), ("db", "store")))
    early = Pod("early", web)
    state.bind(early, 0)
    counters = state.tally_by(namespace_twice_and_labels)
    assert state.tally_by(namespace_twice_and_labels) is counters
    assert list(counters) == ["shop", "web"]  # the pods bound before it was asked for count
    assert counters["shop"].per_node.tolist() == [2, 0, 0]  # a key given twice counts twice
    assert counters["web"].domains("zone").tolist() == [1, 0]
    seen = len(counters)
    late = Pod("late", db)
    state.bind(late, 2)
    assert [k for k, _ in counters.added_since(seen)] == ["store", "db"]
    assert counters["db"].per_node.tolist() == [0, 0, 1]
    version = counters["web"].version
    state.terminate(early)  # a pod being deleted still counts, until it is unbound
    assert counters["web"].per_node.tolist() == [1, 0, 0]
    state.unbind(early)
    assert counters["web"].per_node.tolist() == [0, 0, 0]
    assert counters["web"].version > version
    assert list(counters) == ["shop", "web", "store", "db"]  # keys stay once seen
