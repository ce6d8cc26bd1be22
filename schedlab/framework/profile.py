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


DEFAULT_PLUGINS: tuple[tuple[str, int], ...] = (
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodeResourcesFit", 1),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("NodeResourcesBalancedAllocation", 1),
)
"""kube-scheduler v1.32's default profile for the plugins schedlab implements, as its
``multiPoint`` list: the names in kube's order, each with its score weight (0: not a score
plugin). ``schedlab.plugins`` registers the classes under these names."""


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
        """kube-scheduler v1.32's default profile (``DEFAULT_PLUGINS``): one instance of each
        plugin, at every extension point it has, in kube's order with its weights."""
        plugins = [(PLUGINS[name](), weight) for name, weight in DEFAULT_PLUGINS]
        return cls(tuple(p for p, _ in plugins if isinstance(p, FilterPlugin)),
                   tuple((p, w) for p, w in plugins if isinstance(p, ScorePlugin)),
                   percentage_of_nodes_to_score)

    @property
    def plugins(self) -> list[FilterPlugin | ScorePlugin]:
        """Every plugin of the profile: the filters, then the score plugins (a plugin at both
        points appears twice)."""
        return [*self.filters, *(plugin for plugin, _ in self.scores)]

    def with_score(self, plugin: ScorePlugin, weight: int = 1) -> Profile:
        """This profile with one more score plugin."""
        return replace(self, scores=(*self.scores, (plugin, weight)))

    def with_filter(self, plugin: FilterPlugin) -> Profile:
        """This profile with one more filter plugin, run last."""
        return replace(self, filters=(*self.filters, plugin))

    def with_percentage(self, percentage_of_nodes_to_score: int) -> Profile:
        return replace(self, percentage_of_nodes_to_score=percentage_of_nodes_to_score)
