"""``Profile``: which filter and score plugins run, with what weights (a scheduler profile of
KubeSchedulerConfiguration), and the plugin registry."""

from __future__ import annotations

from dataclasses import dataclass, replace

from schedlab.errors import ConfigError
from schedlab.framework.plugin import FilterPlugin, Plugin, ScorePlugin
from schedlab.framework.registry import Registry

PLUGINS: Registry[Plugin] = Registry(Plugin)
"""Plugin classes by name; ``register_plugin`` adds research plugins for configs and the CLI,
and installed packages publish theirs as entry points (``schedlab.framework.registry``)."""


def register_plugin(cls: type[Plugin]) -> type[Plugin]:
    """Make a plugin class known by its ``name`` (usable as a decorator)."""
    return PLUGINS.register(cls.name, cls)


@dataclass(frozen=True)
class Profile:
    """Filters run in order; scores are (plugin, weight) pairs. ``percentage_of_nodes_to_score``
    is 0 for kube-scheduler's adaptive default, or 1..100 (100 scores every feasible node)."""

    filters: tuple[FilterPlugin, ...] = ()
    scores: tuple[tuple[ScorePlugin, int], ...] = ()
    percentage_of_nodes_to_score: int = 0
    name: str = "default-scheduler"

    def __post_init__(self) -> None:
        if not 0 <= self.percentage_of_nodes_to_score <= 100:
            raise ConfigError(self.name, "percentageOfNodesToScore",
                              self.percentage_of_nodes_to_score, "an integer in 0..100")
        for plugin, weight in self.scores:
            if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
                raise ConfigError(self.name, f"score weight of {plugin.name}", weight,
                                  "a non-negative integer")

    @classmethod
    def default(cls, percentage_of_nodes_to_score: int = 0) -> Profile:
        """kube-scheduler v1.32's default profile, for the plugins schedlab implements."""
        from schedlab.plugins import default_profile

        return default_profile(percentage_of_nodes_to_score)

    def with_score(self, plugin: ScorePlugin, weight: int = 1) -> Profile:
        """This profile with one more score plugin."""
        return replace(self, scores=(*self.scores, (plugin, weight)))

    def with_filter(self, plugin: FilterPlugin) -> Profile:
        """This profile with one more filter plugin, run last."""
        return replace(self, filters=(*self.filters, plugin))

    def with_percentage(self, percentage_of_nodes_to_score: int) -> Profile:
        return replace(self, percentage_of_nodes_to_score=percentage_of_nodes_to_score)
