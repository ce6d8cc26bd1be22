"""Replay: the only writer of ``ClusterState``."""

from schedlab.sim.simulate import RunResult, simulate

__all__ = ["RunResult", "simulate"]
