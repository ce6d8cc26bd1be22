"""Greedy's compiled cycle (``schedlab.policies.compiled``) against the numpy cycle it
replaces: the same bindings, start indices and random draws, in ``simulate`` and over time."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from schedlab.cluster import ClusterState, NodeIndex
from schedlab.errors import SlowPathWarning
from schedlab.framework.cycle import Evaluator
from schedlab.framework.plugin import Scope, ScorePlugin
from schedlab.framework.profile import Profile
from schedlab.objects import Pod, Workload
from schedlab.policies import Greedy, runs
from schedlab.policies.compiled import CompiledCycle
from schedlab.sim.replay import replay
from schedlab.sim.simulate import prepare, simulate
from schedlab.testing import profiles, workloads
from schedlab.traces import synthetic

EXAMPLES = settings.default.max_examples
ANY_PROFILE = profiles(require_all_filters=False)


def _greedy_pair(profile: Profile, tie_break: str) -> tuple[Greedy, Greedy]:
    return (Greedy(profile, tie_break=tie_break),  # type: ignore[arg-type]
            Greedy(profile, tie_break=tie_break, compiled=False))  # type: ignore[arg-type]


@given(workload=workloads(max_nodes=12), profile=ANY_PROFILE, seed=st.integers(0, 2**32 - 1),
       tie_break=st.sampled_from(["random", "first"]))
def test_compiled_cycle_binds_as_the_numpy_cycle(workload: Workload, profile: Profile,
                                                 seed: int, tie_break: str) -> None:
    compiled, plain = _greedy_pair(profile, tie_break)
    first, second = simulate(workload, compiled, seed), simulate(workload, plain, seed)
    pd.testing.assert_frame_equal(first.bindings, second.bindings)


@pytest.mark.slow
@settings(max_examples=max(4, EXAMPLES // 5))
@given(workload=workloads(min_nodes=101, max_nodes=180, kinds=3, max_pending=16, max_bound=8),
       profile=ANY_PROFILE, seed=st.integers(0, 2**32 - 1))
def test_compiled_cycle_rotates_as_the_numpy_cycle(workload: Workload, profile: Profile,
                                                   seed: int) -> None:
    """Over 100 nodes only the first numFeasibleNodesToFind feasible nodes are scored, from
    where the previous search stopped: the compiled search stops at the same node."""
    compiled, plain = _greedy_pair(profile, "random")
    first, second = simulate(workload, compiled, seed), simulate(workload, plain, seed)
    pd.testing.assert_frame_equal(first.bindings, second.bindings)
    assert compiled.next_start_node_index == plain.next_start_node_index


@pytest.mark.parametrize(("nodes", "seed", "queue"), [(110, 1, "retry"), (40, 2, "retry"),
                                                     (120, 3, "fail")])
def test_compiled_cycle_replays_as_the_numpy_cycle(nodes: int, seed: int, queue: str) -> None:
    """Departures, a queue and retries: the same timeline either way."""
    trace = synthetic.trace(nodes, nodes * 20, seed=seed, load=1.3, mean_duration=900)
    compiled = replay(trace, Greedy(), seed, queue=queue)  # type: ignore[arg-type]
    plain = replay(trace, Greedy(compiled=False), seed, queue=queue)  # type: ignore[arg-type]
    if queue == "retry":
        assert compiled.summary["attempts"] > len(trace.workload.pods)  # some were retried
    pd.testing.assert_frame_equal(compiled.pods, plain.pods)
    pd.testing.assert_frame_equal(compiled.decisions, plain.decisions)


class NodeLoad(ScorePlugin):
    """A NODE-scope score plugin the compiled cycle does not know."""

    name = "NodeLoad"
    scope = Scope.NODE

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        return np.minimum(state.pod_count[nodes], 100)


def test_a_profile_with_an_unknown_node_plugin_keeps_the_numpy_cycle(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """... and says so (once per plugin class)."""
    monkeypatch.setattr(runs, "_WARNED", set())
    workload = synthetic.generate(20, 60, seed=4)
    profile = Profile.default().with_score(NodeLoad(), 2)
    greedy = Greedy(profile)
    with pytest.warns(SlowPathWarning, match="NodeLoad .* NODE-scoped"):
        greedy.reset(prepare(workload), np.random.default_rng(0))
    assert greedy._cycle is None
    assert CompiledCycle.of(Evaluator(Profile.default(), prepare(workload))) is not None
    pd.testing.assert_frame_equal(simulate(workload, Greedy(profile), 7).bindings,
                                  simulate(workload, Greedy(profile, compiled=False), 7).bindings)


@njit(cache=True)
def _compiled_log(values: np.ndarray) -> np.ndarray:
    out = np.empty(values.shape[0])
    for i in range(values.shape[0]):
        out[i] = math.log(values[i])
    return out


def test_compiled_log_is_pythons() -> None:
    """PodTopologySpread weighs by ln(domains + 2): compiled, it must be Python's math.log to
    the last bit for every count of domains a cluster can have."""
    sizes = np.arange(2, 200_002, dtype=np.int64)
    assert _compiled_log(sizes).tolist() == [math.log(s) for s in sizes.tolist()]
