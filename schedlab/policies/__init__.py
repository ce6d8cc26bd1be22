"""Placement policies, by name."""

from __future__ import annotations

from typing import Any

from schedlab.errors import ConfigError
from schedlab.framework.profile import Profile
from schedlab.framework.registry import Registry
from schedlab.policies.base import Decision, Policy
from schedlab.policies.greedy import Greedy
from schedlab.policies.optimal import Optimal, OptimalReport
from schedlab.policies.random import Random
from schedlab.policies.round_robin import RoundRobin

# (Policy is abstract: mypy refuses it as a type[Policy], though the registry only checks
# classes against it and never makes one)
POLICIES: Registry[Policy] = Registry(Policy)  # type: ignore[type-abstract]
"""Policy classes by name; ``register_policy`` adds research policies, and installed packages
publish theirs as entry points (``schedlab.framework.registry``)."""
POLICIES.update((cls.name, cls) for cls in (Greedy, RoundRobin, Random, Optimal))


def register_policy(cls: type[Policy]) -> type[Policy]:
    """Make a policy class known by its ``name`` to ``make_policy`` and the CLI."""
    return POLICIES.register(cls.name, cls)


def make_policy(name: str, profile: Profile | None = None, **options: Any) -> Policy:
    """A policy by name (greedy, round-robin, random, optimal, or a registered one), with
    ``options`` for its constructor (e.g. ``time_limit`` for optimal)."""
    if name not in POLICIES:
        raise ConfigError("policy", "name", name, f"one of {', '.join(sorted(POLICIES))}")
    return POLICIES[name](profile, **options)


__all__ = ["POLICIES", "Decision", "Greedy", "Optimal", "OptimalReport", "Policy", "Random",
           "RoundRobin", "make_policy", "register_policy"]
