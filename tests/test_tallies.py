"""The cluster state's incremental pod counts (``Tally``): after any sequence of binds and
unbinds, with selectors and views registered at any point, every count equals a recount
from scratch over the bound pods."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from schedlab.cluster import ClusterState, carried_terms
from schedlab.matching import PodSelector
from schedlab.objects import ApiObjects, LabelSelector, Node, Pod
from schedlab.testing import strategies

KEYS = (strategies.HOSTNAME, strategies.ZONE, strategies.DISK, "example.com/absent")


def _recount(state: ClusterState, bound: dict[str, tuple[Pod, int]], counts_pod) -> np.ndarray:
    per_node = np.zeros(state.n_nodes, dtype=np.int64)
    for pod, node in bound.values():
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


def _check(state: ClusterState, bound: dict[str, tuple[Pod, int]], views: list,
           asked: list[Pod]) -> None:
    objects = state.objects
    for pod in asked:  # the carried terms a pod sees: all those ever carried that match it
        seen = {term for term, _ in state.carried_terms_matching(pod)}
        assert seen == {t for t in state._carried if t.selector.matches(pod.template, objects)}
    for selectors, key, where in views:
        tally = state.tally(selectors)
        per_node = _recount(state, bound, lambda p, s=selectors: all(
            x.matches(p.template, objects) for x in s))
        np.testing.assert_array_equal(tally.per_node, per_node)
        np.testing.assert_array_equal(tally.domains(key, where),
                                      _domains(state, per_node, key, where))
    for term, tally in state._carried.items():
        per_node = _recount(state, bound, lambda p, t=term: carried_terms(p).count(t))
        np.testing.assert_array_equal(tally.per_node, per_node)
        np.testing.assert_array_equal(tally.domains(term.topology_key),
                                      _domains(state, per_node, term.topology_key, None))


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
    return selectors, draw(st.sampled_from(KEYS)), where


OPS = st.lists(st.tuples(st.sampled_from(("bind", "bind", "bind", "unbind", "view", "check")),
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
        state.carried_terms_matching(pod)  # some lists start before any term is carried
    bound: dict[str, tuple[Pod, int]] = {}
    views: list = []
    for step, (op, a, b) in enumerate([*ops, ("check", 0, 0)]):
        if op == "bind":
            pod = Pod(f"p-{step}", templates[a % len(templates)])
            node = b % state.n_nodes
            state.bind(pod, node)
            bound[pod.key] = (pod, node)
        elif op == "unbind" and bound:
            key = sorted(bound)[a % len(bound)]
            state.unbind(bound.pop(key)[0])
        elif op == "view":
            views.append(data.draw(_selector_views(state.n_nodes)))
            state.tally(views[-1][0]).domains(views[-1][1], views[-1][2])
        elif op == "check":
            _check(state, bound, views, asked)
