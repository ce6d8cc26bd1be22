"""Placement policies, by name."""

from __future__ import annotations

from schedlab.errors import ConfigError
from schedlab.framework.profile import Profile
from schedlab.policies.base import Decision, Policy
from schedlab.policies.greedy import Greedy
from schedlab.policies.optimal import Optimal, OptimalReport
from schedlab.policies.random import Random
from schedlab.policies.round_robin import RoundRobin

POLICIES: dict[str, type[Policy]] = {
    cls.name: cls for cls in (Greedy, RoundRobin, Random, Optimal)
}


def register_policy(cls: type[Policy]) -> type[Policy]:
    """Make a policy class known by its ``name`` to ``make_policy`` and the CLI."""
    POLICIES[cls.name] = cls
    return cls


def make_policy(name: str, profile: Profile | None = None) -> Policy:
    """A policy by name (greedy, round-robin, random, or a registered one)."""
    if name not in POLICIES:
        raise ConfigError("policy", "name", name, f"one of {', '.join(sorted(POLICIES))}")
    return POLICIES[name](profile)


__all__ = ["POLICIES", "Decision", "Greedy", "Optimal", "OptimalReport", "Policy", "Random",
           "RoundRobin", "make_policy", "register_policy"]
