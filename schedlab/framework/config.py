"""Reading a ``KubeSchedulerConfiguration`` (``kubescheduler.config.k8s.io/v1``) into a ``Profile``.

``load_config(path)`` reads a YAML (or JSON) file; ``profile_from_config(doc, source)`` takes the
parsed document. Both follow kube-scheduler v1.32 for the plugins schedlab models, and raise
``ConfigError`` with one line naming the file, the field path (``profiles[0].plugins.score
.enabled[1].name``), the value and what was expected.

Profiles
    schedlab runs one profile: ``profile_name`` picks one by ``schedulerName``; otherwise the one
    named ``default-scheduler``, which a file of several profiles must then have (schedlab
    does not guess which one was meant). No ``profiles`` means kube's single
    default profile. A lone profile without ``schedulerName`` is ``default-scheduler``; with
    several, each needs a distinct name. Every profile is validated, not only the chosen one.
    ``percentageOfNodesToScore`` (0..100, 0 = adaptive) of a profile, when set (even to 0),
    overrides the top-level one.

Plugins (kube's ``mergePlugins`` and the framework's MultiPoint expansion, exactly)
    The defaults are schedlab's default profile as a ``multiPoint`` list (``framework.profile
    .DEFAULT_PLUGINS``: kube's order, kube's weights). ``multiPoint.disabled``
    drops defaults (``"*"`` all of them); ``multiPoint.enabled`` re-configures a default in place
    (its weight too) or appends a new plugin. Each plugin then joins every extension point it
    implements (filter for a ``FilterPlugin``, score for a ``ScorePlugin``) unless that point
    disables it (or disables ``"*"``, which skips the expansion there). A point's own
    ``enabled`` adds a plugin there only, so a plugin enabled at ``score`` alone scores nodes
    its filter would reject, and one enabled at ``filter`` alone is not scored. Order at a
    point: plugins both in ``multiPoint`` and in the point's ``enabled`` (in the point's
    order), then the other ``multiPoint`` plugins, then the rest of the point's ``enabled``.
    The same plugin instance serves its filter and its score; its ``pluginConfig`` args apply
    to both. A plugin named twice in one ``enabled`` list is an error, as in kube.

Score weights (the framework's ``getScoreWeights``)
    The first of the point's ``score.enabled`` entries, then the merged ``multiPoint`` entries,
    that names the plugin gives its weight, and a weight of 0 (or unset) there becomes 1.
    So a default plugin nobody mentions keeps its default weight (NodeAffinity 2), while
    ``score: {enabled: [{name: NodeAffinity}]}`` gives it weight 1, as kube-scheduler does.
    Weights are integers in 0..2**31-1.

preFilter and preScore (a schedlab choice)
    schedlab plugins have no separate PreFilter/PreScore step. A plugin that has one in kube
    (NodeAffinity, NodeResourcesFit, InterPodAffinity and PodTopologySpread have PreFilter; the
    built-in score plugins have PreScore; a plugin says so with ``has_pre_filter`` /
    ``has_pre_score``) and is disabled at ``preFilter`` (by name or ``"*"``, and not
    re-enabled there) does not filter; disabled at ``preScore`` it is not scored. Entries for
    plugins without that extension point have no effect, and enabling a plugin at
    ``preFilter``/``preScore`` alone runs nothing. kube-scheduler itself differs per plugin
    here: NodeAffinity's Filter and Score and NodeResourcesFit's and BalancedAllocation's Score
    recompute what their Pre step would have stored and run as usual, while NodeResourcesFit's
    Filter and TaintToleration's Score return an error status for every pod.

Plugins schedlab does not model
    The names in ``KNOWN_UNMODELLED`` (kube-scheduler plugins for queueing, binding,
    preemption, volumes, ports, images and dynamic resources) are accepted anywhere, enabled
    or disabled, and have no effect; their ``pluginConfig`` args are not read. A name
    registered with ``register_plugin`` is modelled even if kube has a plugin of that name.
    Extension points schedlab does not run (``preEnqueue``, ``queueSort``, ``postFilter``,
    ``reserve``, ``permit``, ``preBind``, ``bind``, ``postBind``) may name unmodelled
    plugins; enabling a modelled plugin there is an error (it has no such extension point).
    Top-level settings that do not change placements (``parallelism``, ``leaderElection``,
    ``clientConnection``, back-off times, profiling, ``delayCacheUntilActive``) and
    ``extenders`` are accepted and ignored.

pluginConfig args
    Each plugin owns its args: a typed ``PluginArgs`` dataclass (``Plugin.Args``) read field
    by field with kube's names and checks (``schedlab.framework.args``); unknown fields are
    errors, as kube decodes args strictly, and ``apiVersion`` and ``kind`` (``<Name>Args``)
    may appear. The built-ins: NodeResourcesFit (``scoringStrategy``, ``ignoredResources``,
    ``ignoredResourceGroups``), NodeResourcesBalancedAllocation (``resources``), NodeAffinity
    (``addedAffinity``, validated as the API server validates a pod's node affinity, plus
    kube's own args checks: Gt/Lt bounds must be integers, label keys and values must be
    valid), InterPodAffinity (``hardPodAffinityWeight`` 0..100, default 1;
    ``ignorePreferredTermsOfExistingPods``, default false) and PodTopologySpread
    (``defaultingType`` System or List, default System as in kube's v1 defaulting even when
    ``defaultConstraints`` are given, so using them takes ``defaultingType: List``;
    ``defaultConstraints`` read as a pod's topologySpreadConstraints but without a
    ``labelSelector``, and empty with System). A research plugin reads its own ``Args`` the
    same way; one that declares none takes no args fields.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from schedlab.decode import read_documents
from schedlab.errors import ConfigError
from schedlab.fields import Field
from schedlab.framework.args import API_VERSION, PluginArgs
from schedlab.framework.plugin import FilterPlugin, Plugin, ScorePlugin
from schedlab.framework.profile import DEFAULT_PLUGINS, PLUGINS, Profile

KIND = "KubeSchedulerConfiguration"
DEFAULT_SCHEDULER_NAME = "default-scheduler"
MAX_WEIGHT = 2**31 - 1
"""Score weights are int32 in the API."""

KNOWN_UNMODELLED: frozenset[str] = frozenset({
    "PrioritySort",
    "DefaultBinder",
    "DefaultPreemption",
    "SchedulingGates",
    "NodePorts",
    "VolumeRestrictions",
    "VolumeBinding",
    "VolumeZone",
    "NodeVolumeLimits",
    "EBSLimits",
    "GCEPDLimits",
    "AzureDiskLimits",
    "ImageLocality",
    "DynamicResources",
})
"""kube-scheduler plugins schedlab accepts in a configuration and ignores."""

MODELLED_POINTS = ("multiPoint", "preFilter", "filter", "preScore", "score")
IGNORED_POINTS = (
    "preEnqueue", "queueSort", "postFilter", "reserve", "permit", "preBind", "bind", "postBind",
)
_POINT_TITLES = {
    "preFilter": "PreFilter", "filter": "Filter", "preScore": "PreScore", "score": "Score",
}

_TOP_LEVEL_FIELDS = (
    "apiVersion", "kind", "percentageOfNodesToScore", "profiles", "parallelism",
    "leaderElection", "clientConnection", "enableProfiling", "enableContentionProfiling",
    "podInitialBackoffSeconds", "podMaxBackoffSeconds", "extenders", "delayCacheUntilActive",
)
_PROFILE_FIELDS = ("schedulerName", "percentageOfNodesToScore", "plugins", "pluginConfig")


# --- public API ------------------------------------------------------------------------------


def load_config(
    path: str | os.PathLike[str] | None, *, profile_name: str | None = None
) -> Profile:
    """The profile a KubeSchedulerConfiguration file sets (see the module docstring).

    ``path`` None gives the default profile. ``profile_name`` chooses a profile by its
    ``schedulerName``. Raises ``ConfigError`` naming the file for a missing or unreadable file,
    malformed YAML or any bad field.
    """
    if path is None:
        return profile_from_config({"apiVersion": API_VERSION, "kind": KIND}, "<default>",
                                   profile_name=profile_name)
    source = os.fspath(path)
    documents = read_documents(source, error=ConfigError, json_suffix=False)
    if len(documents) > 1:
        raise ConfigError(source, "documents", len(documents), f"one {KIND} document")
    return profile_from_config(documents[0] if documents else None, source,
                               profile_name=profile_name)


def profile_from_config(
    doc: Any, source: str, *, profile_name: str | None = None
) -> Profile:
    """The profile of a parsed KubeSchedulerConfiguration document; ``source`` names it in
    errors. See ``load_config``."""
    root = _document(doc, source)
    if not isinstance(doc, dict):
        raise root.error(f"a {KIND} mapping")
    root.check_fields(_TOP_LEVEL_FIELDS, KIND)
    api_version = root["apiVersion"]
    if api_version.value != API_VERSION:
        raise api_version.error(API_VERSION)
    kind = root["kind"]
    if kind.value != KIND:
        raise kind.error(KIND)
    percentage = root["percentageOfNodesToScore"].integer(default=0, minimum=0, maximum=100)

    profile_nodes = root["profiles"].elements()
    if not profile_nodes:
        profile_nodes = [_document({}, source, "profiles[0]")]
    profiles: dict[str, Profile] = {}
    for node in profile_nodes:
        profile = _profile(node, percentage, single=len(profile_nodes) == 1)
        if profile.name in profiles:
            raise node["schedulerName"].error("a scheduler name no other profile has")
        profiles[profile.name] = profile

    if profile_name is not None:
        if profile_name not in profiles:
            raise ConfigError(source, "profiles[].schedulerName", profile_name,
                              "one of " + ", ".join(profiles))
        return profiles[profile_name]
    if len(profiles) > 1 and DEFAULT_SCHEDULER_NAME not in profiles:
        raise ConfigError(source, "profiles[].schedulerName", list(profiles),
                          f"a profile named {DEFAULT_SCHEDULER_NAME}, or one chosen by name "
                          "(schedlab runs one profile: PATH#NAME on the command line, "
                          "profile_name= in Python)")
    return profiles.get(DEFAULT_SCHEDULER_NAME, next(iter(profiles.values())))


def _document(value: Any, source: str, path: str = "") -> Field:
    """A value of the configuration ``source`` at ``path``, read strictly (unknown fields are
    errors) and raising ``ConfigError``."""
    return Field(value, source, path, error_class=ConfigError, strict=True)


# --- profiles and plugin sets ----------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """One ``{name, weight}`` of an ``enabled`` list (or of the defaults)."""

    name: str
    weight: int
    name_node: Field | None = None


@dataclass(frozen=True)
class _PluginSet:
    enabled: tuple[_Entry, ...] = ()
    disabled: frozenset[str] = frozenset()

    def disables(self, name: str) -> bool:
        return "*" in self.disabled or name in self.disabled

    def enables(self, name: str) -> bool:
        return any(e.name == name for e in self.enabled)


def _profile(node: Field, top_percentage: int, single: bool) -> Profile:
    fields = node.mapping(_PROFILE_FIELDS, "KubeSchedulerProfile")
    if "schedulerName" in fields:
        name = fields["schedulerName"].name()
    elif single:
        name = DEFAULT_SCHEDULER_NAME
    else:
        raise node["schedulerName"].error("a scheduler name (required with several profiles)")
    percentage = node["percentageOfNodesToScore"].integer(
        default=top_percentage, minimum=0, maximum=100)
    sets = _plugin_sets(node["plugins"])
    args = _plugin_args(node["pluginConfig"])

    multi_point = _merge_defaults(sets["multiPoint"])
    filters = _expand("filter", sets["filter"], multi_point)
    scores = _expand("score", sets["score"], multi_point)
    filters = [n for n in filters if not _skipped_by_pre_point(n, "preFilter", sets["preFilter"])]
    scores = [n for n in scores if not _skipped_by_pre_point(n, "preScore", sets["preScore"])]
    weights = _score_weights(sets["score"], multi_point)

    instances = {
        plugin: _instantiate(plugin, args.get(plugin), node)
        for plugin in dict.fromkeys([*filters, *scores, *_validated_only(args)])
    }
    # (``_expand`` keeps the plugins that have the point, ``_check_point`` refuses the others)
    return Profile(
        filters=tuple(cast(FilterPlugin, instances[n]) for n in filters),
        scores=tuple((cast(ScorePlugin, instances[n]), weights[n]) for n in scores),
        percentage_of_nodes_to_score=percentage,
        name=name,
    )


def _known_names() -> str:
    return "one of " + ", ".join(sorted(set(PLUGINS) | KNOWN_UNMODELLED))


def _plugin_sets(node: Field) -> dict[str, _PluginSet]:
    """Every extension point's set (empty when absent), names and weights validated."""
    node.check_fields((*MODELLED_POINTS, *IGNORED_POINTS), "Plugins")
    sets = {}
    for point in (*MODELLED_POINTS, *IGNORED_POINTS):
        sets[point] = _plugin_set(node[point], point)
    return sets


def _plugin_set(node: Field, point: str) -> _PluginSet:
    node.check_fields(("enabled", "disabled"), "PluginSet")
    enabled: list[_Entry] = []
    for item in node["enabled"].elements():
        entry = _plugin_entry(item, wildcard=False)
        if any(e.name == entry.name for e in enabled):
            assert entry.name_node is not None
            raise entry.name_node.error("a plugin not already enabled at this extension point")
        _check_point(entry, point)
        enabled.append(entry)
    disabled = frozenset(
        _plugin_entry(item, wildcard=True).name
        for item in node["disabled"].elements()
    )
    return _PluginSet(tuple(enabled), disabled)


def _plugin_entry(node: Field, wildcard: bool) -> _Entry:
    node.check_fields(("name", "weight"), "Plugin")
    name_node = node["name"]
    name = name_node.name()
    if not (name in PLUGINS or name in KNOWN_UNMODELLED or (wildcard and name == "*")):
        raise name_node.error(_known_names())
    weight = node["weight"].integer(default=0, minimum=0, maximum=MAX_WEIGHT)
    return _Entry(name, weight, name_node)


def _implements(name: str, point: str) -> bool:
    """Whether the modelled plugin ``name`` has the extension point ``point`` (as its class
    declares: ``FilterPlugin``, ``ScorePlugin``, ``has_pre_filter``, ``has_pre_score``)."""
    cls = PLUGINS[name]
    if point in ("filter", "preFilter"):
        return issubclass(cls, FilterPlugin) and (point == "filter" or cls.has_pre_filter)
    if point in ("score", "preScore"):
        return issubclass(cls, ScorePlugin) and (point == "score" or cls.has_pre_score)
    return False  # the extension points schedlab does not run


def _check_point(entry: _Entry, point: str) -> None:
    """A modelled plugin enabled at an extension point it does not have is an error, as kube's
    "plugin does not extend" (multiPoint takes any plugin)."""
    if point == "multiPoint" or entry.name not in PLUGINS or _implements(entry.name, point):
        return
    assert entry.name_node is not None
    if point in _POINT_TITLES:
        have = sorted(n for n in PLUGINS if _implements(n, point))
        expected = f"a plugin with a {_POINT_TITLES[point]} extension point ({', '.join(have)})"
    else:
        expected = (f"a plugin schedlab does not model (it runs no {point} plugins): "
                    + ", ".join(sorted(KNOWN_UNMODELLED)))
    raise entry.name_node.error(expected)


def _merge_defaults(custom: _PluginSet) -> list[_Entry]:
    """kube's mergePluginSet over the default multiPoint list: defaults not disabled, in
    order (replaced in place by a custom entry of the same name), then new custom entries."""
    defaults = [_Entry(name, weight) for name, weight in DEFAULT_PLUGINS]
    custom_by_name = {e.name: e for e in custom.enabled}
    merged, replaced = [], set()
    for entry in defaults:
        if custom.disables(entry.name):
            continue
        if entry.name in custom_by_name:
            entry = custom_by_name[entry.name]
            replaced.add(entry.name)
        merged.append(entry)
    merged += [e for e in custom.enabled if e.name not in replaced]
    return merged


def _expand(point: str, specific: _PluginSet, multi_point: list[_Entry]) -> list[str]:
    """The modelled plugins run at ``point``, in kube's order (expandMultiPointPlugins)."""
    enabled = [e.name for e in specific.enabled if e.name in PLUGINS]
    if "*" in specific.disabled:
        return enabled
    overrides, expanded = set(), []
    for entry in multi_point:
        if entry.name not in PLUGINS or not _implements(entry.name, point):
            continue
        if entry.name in specific.disabled:
            continue
        if entry.name in enabled:
            overrides.add(entry.name)
            continue
        expanded.append(entry.name)
    first = [n for n in enabled if n in overrides]
    rest = [n for n in enabled if n not in overrides]
    return first + expanded + rest


def _skipped_by_pre_point(name: str, pre_point: str, pre_set: _PluginSet) -> bool:
    """schedlab's rule: a plugin with a PreFilter (PreScore) point disabled there does not
    filter (score)."""
    return (
        _implements(name, pre_point) and pre_set.disables(name) and not pre_set.enables(name)
    )


def _score_weights(score: _PluginSet, multi_point: list[_Entry]) -> dict[str, int]:
    """kube's getScoreWeights: the first entry naming a plugin, score's own before
    multiPoint's, gives its weight; 0 (unset) becomes 1."""
    weights: dict[str, int] = {}
    for entry in (*score.enabled, *multi_point):
        weights.setdefault(entry.name, entry.weight or 1)
    return weights


# --- pluginConfig ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Args:
    """A plugin's typed args, and where they came from."""

    args: PluginArgs
    node: Field


def _plugin_args(node: Field) -> dict[str, _Args]:
    """The typed args (the plugin's ``Args``) of each modelled plugin in ``pluginConfig``."""
    configured: dict[str, _Args] = {}
    seen: set[str] = set()
    for item in node.elements():
        item.check_fields(("name", "args"), "PluginConfig")
        name_node = item["name"]
        name = name_node.name()
        if name not in PLUGINS and name not in KNOWN_UNMODELLED:
            raise name_node.error(_known_names())
        if name in seen:
            raise name_node.error("a plugin not configured earlier in pluginConfig")
        seen.add(name)
        if name not in PLUGINS:
            continue  # not modelled: args ignored
        args = item["args"]
        configured[name] = _Args(PLUGINS[name].Args.from_config(args, f"{name}Args"), args)
    return configured


def _validated_only(args: Mapping[str, _Args]) -> list[str]:
    """Configured built-in plugins, built even when not enabled so that their args are
    checked as kube validates them."""
    return [name for name in args if name in dict(DEFAULT_PLUGINS)]


def _instantiate(name: str, args: _Args | None, profile: Field) -> Plugin:
    """Plugin ``name`` made with its args (a plugin declaring no ``Args`` is made with no
    arguments); a constructor's own refusal is reported at the args."""
    cls = PLUGINS[name]
    node = args.node if args is not None else _document(None, profile.where,
                                                          f"{profile.path}.pluginConfig")
    try:
        if args is not None and cls.Args is not PluginArgs:
            return cls(args.args)
        return cls()
    except ConfigError as error:
        path = f"{node.path}.{error.field}" if args is not None else node.path
        raise ConfigError(node.where, path, error.value, error.expected) from None
    except (TypeError, ValueError) as error:
        message = " ".join(str(error).split())
        raise node.error(f"args {cls.__name__} accepts ({message})") from None
