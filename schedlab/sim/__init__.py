"""Replay: the only writer of ``ClusterState``."""

from schedlab.sim.replay import replay
from schedlab.sim.results import ReplayResult
from schedlab.sim.simulate import RunResult, simulate

__all__ = ["ReplayResult", "RunResult", "replay", "simulate"]
