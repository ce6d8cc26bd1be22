"""The replay's speed mechanisms decide as the code without them: per-node versions of the
cluster state, the compiled cycle's memory of nodes per pod shape (``search_kernels``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schedlab.cluster import ClusterState
from schedlab.objects import Taint, Workload
from schedlab.policies import Greedy, compiled
from schedlab.sim.replay import replay
from schedlab.sim.simulate import simulate
from schedlab.testing import profiles, workloads
from schedlab.traces import synthetic


def test_node_versions_count_binds_and_unbinds() -> None:
    workload = synthetic.generate(6, 8, seed=1)
    state = ClusterState.from_workload(workload)
    pods = workload.pods
    state.bind(pods[0], 2)
    state.bind(pods[1], 2)
    state.bind_many(pods[2:5], np.array([0, 3, 3]))
    assert state.node_version.tolist() == [1, 0, 2, 2, 0, 0]
    state.terminate(pods[0])  # (resources kept: the version stays)
    assert state.node_version.tolist() == [1, 0, 2, 2, 0, 0]
    state.unbind(pods[0])
    state.unbind(pods[3])
    assert state.node_version.tolist() == [1, 0, 3, 3, 0, 0]


@given(workload=workloads(max_nodes=12), profile=profiles(require_all_filters=False),
       seed=st.integers(0, 2**32 - 1), remembered=st.sampled_from([0, 1 << 30]))
def test_remembering_nodes_binds_as_the_numpy_cycle(
        workload: Workload, profile: object, seed: int, remembered: int) -> None:
    """With the memory of every shape, or of one shape at a time (each new shape takes the
    room of the last), the bindings are the numpy cycle's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compiled, "CACHE_BYTES", remembered)
        first = simulate(workload, Greedy(profile), seed)  # type: ignore[arg-type]
    second = simulate(workload, Greedy(profile, compiled=False), seed)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(first.bindings, second.bindings)


@pytest.mark.parametrize("remembered", [0, 1 << 30])
def test_remembering_nodes_replays_as_the_numpy_cycle(remembered: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Over 100 nodes (a search that stops early), pods leaving and coming back: the nodes
    remembered are worked out again after each change, and the timeline is the numpy
    cycle's."""
    monkeypatch.setattr(compiled, "CACHE_BYTES", remembered)
    trace = synthetic.trace(150, 3000, seed=5, load=1.2, mean_duration=600)
    greedy = Greedy()
    fast = replay(trace, greedy, 5)
    assert greedy._cycle is not None
    shapes = len(greedy._cycle._caches)
    assert shapes == 1 if not remembered else shapes > 1
    plain = replay(trace, Greedy(compiled=False), 5)
    assert fast.summary["attempts"] > len(trace.workload.pods)  # some were retried
    pd.testing.assert_frame_equal(fast.pods, plain.pods)
    pd.testing.assert_frame_equal(fast.decisions, plain.decisions)


@pytest.mark.parametrize(("tainted", "in_search"), [(False, "NodeAffinity"),
                                                    (True, "TaintToleration")])
def test_default_normalisation_in_the_search_binds_as_the_numpy_cycle(
        tainted: bool, in_search: str) -> None:
    """NodeAffinity's preferred terms (the trace's zone preferences) or TaintToleration's
    PreferNoSchedule taints (the first in the profile, NodeAffinity then normalised after
    the search) normalised over the candidates inside ``cached_search``: the numpy cycle's
    bindings."""
    base = synthetic.generate(160, 900, seed=6)
    soft = Taint("dedicated", "batch", "PreferNoSchedule")
    nodes = tuple(replace(n, taints=(*n.taints, soft)) if tainted and i % 3 == 0 else n
                  for i, n in enumerate(base.nodes))
    workload = Workload(nodes, base.pods, base.objects)
    greedy = Greedy()
    fast = simulate(workload, greedy, 6)
    plain = simulate(workload, Greedy(compiled=False), 6)
    pd.testing.assert_frame_equal(fast.bindings, plain.bindings)
    assert greedy._cycle is not None
    plans = [plan for plan in greedy._cycle._plans.values() if plan is not None]
    in_kernel = {type(p).__name__ for plan in plans for p, _, a in plan.per_cycle
                 if a.values is plan.normalized[1] and plan.normalized[0]}
    assert in_kernel == {in_search}
    if tainted:  # (NodeAffinity's preferences are normalised after the search)
        assert any(type(p).__name__ == "NodeAffinity" for plan in plans for p, _, _ in plan.rest)
