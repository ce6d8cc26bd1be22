"""Every decision pinned: a digest of the bindings of the benchmark workloads, of replays and
of an FGD race run, for several policies and seeds.

Speed work (the replay's, issue 14's fast path) and refactoring (issue 13's extension
contract) must change no decision. The digests were recorded from the code before such work
(``python tests/test_pinned_decisions.py`` prints them); a deliberate change of behaviour
records them again and says why in its commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

import schedlab
from schedlab.framework.profile import Profile
from schedlab.objects import Workload
from schedlab.policies import make_policy
from schedlab.traces import synthetic

REAL_TRACE = Path(__file__).resolve().parents[2] / "shared" / "traces" / "alibaba-gpu-v2023"
WORKLOADS: dict[str, Callable[[], Workload]] = {
    "basic": lambda: synthetic.basic(200, 1500, seed=3),
    "spread": lambda: synthetic.spread(200, 1500, zones=8, replicas=40, seed=3),
    "shapes": lambda: synthetic.shapes(60, 1500, seed=3),
}
RUNS = [(w, p, s) for w in WORKLOADS for p in ("greedy", "random") for s in (0, 1)] + [
    (w, "round-robin", 0) for w in WORKLOADS]
REPLAYS = [("greedy", "retry", 0), ("greedy", "fail", 1), ("round-robin", "retry", 0)]

PINS = {
    ("basic", "greedy", 0): "9c4cccaa0d6ed5dc",
    ("basic", "greedy", 1): "92ec4cad8bb6f031",
    ("basic", "random", 0): "f531c2317063ccc9",
    ("basic", "random", 1): "34adc99fc9a93a7a",
    ("spread", "greedy", 0): "6e5cf161d8d3b6e3",
    ("spread", "greedy", 1): "4af463b90d85357a",
    ("spread", "random", 0): "39b55f677fcd6b74",
    ("spread", "random", 1): "6352959ab7fabf34",
    ("shapes", "greedy", 0): "33bc71ac2852f76d",
    ("shapes", "greedy", 1): "e256db4018dff312",
    ("shapes", "random", 0): "7a85e6b7c95d7071",
    ("shapes", "random", 1): "d45157b3def6f21d",
    ("basic", "round-robin", 0): "aca8edadfaa2e3b7",
    ("spread", "round-robin", 0): "f839b936c7df14b3",
    ("shapes", "round-robin", 0): "1d811cd759ba298e",
}
REPLAY_PINS = {  # recorded again when synthetic.trace gave each pool its own rate
    ("greedy", "retry", 0): "b3d7de9dba467a69",
    ("greedy", "fail", 1): "f925c6c09c19bd6a",
    ("round-robin", "retry", 0): "2d1dc7af629862a2",
}
RACE_PIN = "020aaf92af8a1a09"


def digest(lines: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def simulate_digest(workload: str, policy: str, seed: int) -> str:
    result = schedlab.simulate(WORKLOADS[workload](), make_policy(policy, Profile.default()),
                               seed)
    return digest(f"{p},{n},{g}" for p, n, g in zip(result.bindings["pod"],
                  result.bindings["node"], result.bindings["gpus"], strict=True))


def replay_digest(policy: str, queue: str, seed: int) -> str:
    """Every incarnation's node, start and end (float repr) and every attempt."""
    trace = synthetic.trace(60, 1000, seed=5, load=1.2, mean_duration=600)
    result = schedlab.replay(trace, make_policy(policy, Profile.default()), seed,
                             queue=queue)  # type: ignore[arg-type]
    pods = result.pods
    decisions = result.decisions
    return digest([*(f"{p},{i},{n},{s!r},{e!r},{st}" for p, i, n, s, e, st in zip(
        pods["pod"], pods["incarnation"], pods["node"], pods["start"], pods["end"],
        pods["state"], strict=True)), *(f"{t!r},{p},{n}" for t, p, n in zip(
            decisions["time"], decisions["pod"], decisions["node"], strict=True))])


def race_digest() -> str:
    """One FGD race run (FGD, seed 42) on the Alibaba default list: the timeline's rows."""
    from schedlab.sim.fgd import PAPER_POLICIES, load_race, run_once

    trace, typical = load_race(REAL_TRACE, "default")
    run = run_once(trace, typical, "FGD", PAPER_POLICIES["FGD"], 42)
    return digest(run.timeline.to_csv(index=False).splitlines())


@pytest.mark.parametrize(("workload", "policy", "seed"), RUNS)
def test_simulate_decisions_are_pinned(workload: str, policy: str, seed: int) -> None:
    assert simulate_digest(workload, policy, seed) == PINS[workload, policy, seed]


@pytest.mark.parametrize(("policy", "queue", "seed"), REPLAYS)
def test_replay_decisions_are_pinned(policy: str, queue: str, seed: int) -> None:
    assert replay_digest(policy, queue, seed) == REPLAY_PINS[policy, queue, seed]


@pytest.mark.skipif(not REAL_TRACE.is_dir(), reason=f"the Alibaba trace is not at {REAL_TRACE}")
def test_fgd_race_run_is_pinned() -> None:
    assert race_digest() == RACE_PIN


if __name__ == "__main__":
    for key in RUNS:
        print(f"    {key}: {simulate_digest(*key)!r},")
    for key in REPLAYS:
        print(f"    {key}: {replay_digest(*key)!r},")
    print(f"RACE_PIN = {race_digest()!r}")
