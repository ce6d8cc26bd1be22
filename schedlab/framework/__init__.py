"""The scheduling framework: the plugin contract, ``Profile`` and its registry, the scheduling
cycle (``Evaluator``) and KubeSchedulerConfiguration loading (``load_config``)."""

from schedlab.framework.args import ArgsError, PluginArgs, arg
from schedlab.framework.config import load_config, profile_from_config
from schedlab.framework.cycle import Evaluator
from schedlab.framework.plugin import (
    MAX_NODE_SCORE,
    FilterPlugin,
    GpuSelector,
    Plugin,
    Scope,
    ScorePlugin,
    default_normalize,
)
from schedlab.framework.profile import PLUGINS, Profile, register_plugin

__all__ = [
    "MAX_NODE_SCORE",
    "PLUGINS",
    "ArgsError",
    "PluginArgs",
    "arg",
    "Evaluator",
    "FilterPlugin",
    "GpuSelector",
    "Plugin",
    "Profile",
    "Scope",
    "ScorePlugin",
    "default_normalize",
    "load_config",
    "profile_from_config",
    "register_plugin",
]
