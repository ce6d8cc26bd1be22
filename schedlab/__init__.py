"""schedlab: a vectorised research toolkit for Kubernetes-style pod scheduling.

The public API in one import::

    import schedlab
    workload = schedlab.load_manifests("nodes.yaml", "pods.yaml")
    result = schedlab.simulate(workload, schedlab.Greedy(schedlab.Profile.default()), seed=1)
    result.bindings          # pandas DataFrame: pod, node, reason
    run = schedlab.replay(trace, schedlab.Greedy(), seed=1)   # a Trace over time
"""

import schedlab.plugins  # noqa: F401  (registers the built-in plugins by name)
from schedlab.cluster import ClusterState
from schedlab.errors import ConfigError, InputError, SchedlabError, SlowPathWarning
from schedlab.framework.args import PluginArgs, arg
from schedlab.framework.config import load_config
from schedlab.framework.plugin import FilterPlugin, Scope, ScorePlugin
from schedlab.framework.profile import Profile, register_plugin
from schedlab.objects import (
    Container,
    Node,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Pod,
    PodTemplate,
    PreferredSchedulingTerm,
    Taint,
    Toleration,
    Workload,
)
from schedlab.policies import Decision, Greedy, Optimal, Policy, Random, RoundRobin, make_policy
from schedlab.sim import ReplayResult, RunResult, replay, simulate
from schedlab.traces import load_manifests
from schedlab.traces.trace import NodeEvent, Trace

__version__ = "0.1.0"

__all__ = [
    "PluginArgs",
    "arg",
    "ClusterState",
    "ConfigError",
    "Container",
    "Decision",
    "FilterPlugin",
    "Greedy",
    "InputError",
    "load_config",
    "load_manifests",
    "Node",
    "NodeAffinity",
    "NodeSelectorRequirement",
    "NodeSelectorTerm",
    "Optimal",
    "Pod",
    "PodTemplate",
    "Policy",
    "PreferredSchedulingTerm",
    "Profile",
    "SlowPathWarning",
    "NodeEvent",
    "Random",
    "ReplayResult",
    "RoundRobin",
    "RunResult",
    "SchedlabError",
    "Scope",
    "ScorePlugin",
    "Taint",
    "Toleration",
    "Trace",
    "Workload",
    "make_policy",
    "register_plugin",
    "replay",
    "simulate",
]
