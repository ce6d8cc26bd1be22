"""schedlab.framework.config: KubeSchedulerConfiguration files into a Profile, with
kube-scheduler v1.32's merge, MultiPoint expansion, weights and plugin args."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from schedlab.errors import ConfigError
from schedlab.framework import (
    PLUGINS,
    FilterPlugin,
    Profile,
    ScorePlugin,
    load_config,
    profile_from_config,
    register_plugin,
)
from schedlab.framework.args import PluginArgs, arg
from schedlab.framework.config import KNOWN_UNMODELLED
from schedlab.objects import (
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    PreferredSchedulingTerm,
    TopologySpreadConstraint,
)
from schedlab.plugins import (
    InterPodAffinity,
    NodeName,
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
    NodeUnschedulable,
    PodTopologySpread,
    TaintToleration,
)
from schedlab.plugins import (
    NodeAffinity as NodeAffinityPlugin,
)

HEADER = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
DEFAULT_FILTERS = [NodeUnschedulable, NodeName, TaintToleration, NodeAffinityPlugin,
                   NodeResourcesFit, PodTopologySpread, InterPodAffinity]
DEFAULT_SCORES = [(TaintToleration, 3), (NodeAffinityPlugin, 2), (NodeResourcesFit, 1),
                  (PodTopologySpread, 2), (InterPodAffinity, 2),
                  (NodeResourcesBalancedAllocation, 1)]


def load(tmp_path: Path, body: str, name: str = "sched.yaml", **kwargs: Any) -> Profile:
    path = tmp_path / name
    path.write_text(HEADER + body)
    return load_config(path, **kwargs)


def profile_yaml(plugins: str = "", plugin_config: str = "", extra: str = "") -> str:
    """One profile; ``plugins`` and ``plugin_config`` are flow-style YAML."""
    text = "profiles:\n- schedulerName: default-scheduler\n"
    if plugins:
        text += f"  plugins: {plugins}\n"
    if plugin_config:
        text += f"  pluginConfig: {plugin_config}\n"
    return text + extra


def shape(profile: Profile) -> tuple[Any, ...]:
    """Everything that makes two profiles behave alike: plugin types, order, parameters,
    weights, percentage and name."""
    return (
        [(type(p), vars(p)) for p in profile.filters],
        [(type(p), vars(p), w) for p, w in profile.scores],
        profile.percentage_of_nodes_to_score,
        profile.name,
    )


def filter_types(profile: Profile) -> list[type]:
    return [type(p) for p in profile.filters]


def score_types(profile: Profile) -> list[tuple[type, int]]:
    return [(type(p), w) for p, w in profile.scores]


def config_error(tmp_path: Path, body: str, name: str = "sched.yaml") -> str:
    """The message of the ConfigError loading ``body`` raises, checked to be one line naming
    the file."""
    with pytest.raises(ConfigError) as info:
        load(tmp_path, body, name)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / name) + ": ")
    return message


@dataclass(frozen=True)
class PreferTestArgs(PluginArgs):
    bonus_points: int = arg(1, minimum=0)


class Prefer(ScorePlugin):
    """A research score plugin with typed args."""

    name = "PreferTest"
    Args = PreferTestArgs
    args: PreferTestArgs

    def score(self, state: Any, pod: Any, nodes: Any) -> np.ndarray:
        return np.zeros(state.n_nodes, dtype=np.int64)


class Gate(FilterPlugin, ScorePlugin):
    """A research plugin with both points and a PreScore."""

    name = "GateTest"
    has_pre_score = True  # so that preScore entries apply to it

    def filter(self, state: Any, pod: Any, nodes: Any) -> np.ndarray:
        return np.ones(state.n_nodes, dtype=bool)

    def score(self, state: Any, pod: Any, nodes: Any) -> np.ndarray:
        return np.zeros(state.n_nodes, dtype=np.int64)


@pytest.fixture
def research() -> Iterator[None]:
    register_plugin(Prefer)
    register_plugin(Gate)
    yield
    del PLUGINS[Prefer.name], PLUGINS[Gate.name]


# --- defaults --------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "profiles: []\n", "profiles:\n- {}\n",
                                  "profiles:\n- schedulerName: default-scheduler\n  plugins: {}\n",
                                  "profiles:\n- plugins: {score: {}, multiPoint: {enabled: []}}\n"])
def test_no_profile_or_empty_profile_is_the_default_profile(tmp_path: Path, body: str) -> None:
    assert shape(load(tmp_path, body)) == shape(Profile.default())


def test_no_file_is_the_default_profile() -> None:
    assert shape(load_config(None)) == shape(Profile.default())
    assert filter_types(load_config(None)) == DEFAULT_FILTERS
    assert score_types(load_config(None)) == DEFAULT_SCORES


def test_unmodelled_plugins_are_accepted_and_ignored(tmp_path: Path) -> None:
    plugins = (
        "{multiPoint: {enabled: [{name: VolumeZone, weight: 5}, {name: DynamicResources}],"
        " disabled: [{name: ImageLocality}, {name: NodeVolumeLimits}]},"
        " queueSort: {enabled: [{name: PrioritySort}], disabled: [{name: '*'}]},"
        " bind: {enabled: [{name: DefaultBinder}]}, postFilter: {disabled: [{name: '*'}]},"
        " filter: {enabled: [{name: VolumeBinding}], disabled: [{name: NodePorts}]},"
        " score: {enabled: [{name: ImageLocality, weight: 4}]}}"
    )
    config = "[{name: VolumeBinding, args: {bindTimeoutSeconds: 5, whatever: [1]}}]"
    profile = load(tmp_path, profile_yaml(plugins, config))
    assert shape(profile) == shape(Profile.default())
    assert "VolumeZone" in KNOWN_UNMODELLED and "ImageLocality" in KNOWN_UNMODELLED


def test_inter_pod_affinity_and_topology_spread_are_modelled() -> None:
    assert "InterPodAffinity" not in KNOWN_UNMODELLED
    assert "PodTopologySpread" not in KNOWN_UNMODELLED


def test_filter_and_score_share_one_instance(tmp_path: Path) -> None:
    profile = load(tmp_path, "")
    filters = {type(p): p for p in profile.filters}
    for plugin, _ in profile.scores:
        if type(plugin) in filters:
            assert filters[type(plugin)] is plugin


# --- enabling and disabling ------------------------------------------------------------------


def test_disable_all_scores_then_enable_one(tmp_path: Path) -> None:
    plugins = "{score: {disabled: [{name: '*'}], enabled: [{name: NodeResourcesFit, weight: 5}]}}"
    profile = load(tmp_path, profile_yaml(plugins))
    assert score_types(profile) == [(NodeResourcesFit, 5)]
    assert filter_types(profile) == DEFAULT_FILTERS
    fit = next(p for p in profile.filters if isinstance(p, NodeResourcesFit))
    assert profile.scores[0][0] is fit


def test_disable_all_filters_keeps_scores(tmp_path: Path) -> None:
    profile = load(tmp_path, profile_yaml("{filter: {disabled: [{name: '*'}]}}"))
    assert profile.filters == ()
    assert score_types(profile) == DEFAULT_SCORES


def test_multipoint_disable_all_then_enable(tmp_path: Path) -> None:
    plugins = ("{multiPoint: {disabled: [{name: '*'}],"
               " enabled: [{name: NodeAffinity, weight: 4}, {name: NodeName}]}}")
    profile = load(tmp_path, profile_yaml(plugins))
    assert filter_types(profile) == [NodeAffinityPlugin, NodeName]
    assert score_types(profile) == [(NodeAffinityPlugin, 4)]


def test_multipoint_disable_one_removes_it_everywhere(tmp_path: Path) -> None:
    profile = load(tmp_path, profile_yaml("{multiPoint: {disabled: [{name: TaintToleration}]}}"))
    assert TaintToleration not in filter_types(profile)
    assert TaintToleration not in [t for t, _ in score_types(profile)]


def test_multipoint_enable_research_plugin(tmp_path: Path, research: None) -> None:
    assert shape(load(tmp_path, "")) == shape(Profile.default())  # registered, not enabled
    plugins = "{multiPoint: {enabled: [{name: PreferTest, weight: 4}, {name: GateTest}]}}"
    profile = load(tmp_path, profile_yaml(plugins))
    assert filter_types(profile) == [*DEFAULT_FILTERS, Gate]
    assert score_types(profile) == [*DEFAULT_SCORES, (Prefer, 4), (Gate, 1)]
    gate = profile.filters[-1]
    assert profile.scores[-1][0] is gate


def test_research_plugin_gets_its_typed_args(tmp_path: Path, research: None) -> None:
    plugins = "{score: {enabled: [{name: PreferTest, weight: 2}]}}"
    config = "[{name: PreferTest, args: {kind: PreferTestArgs, bonusPoints: 7}}]"
    profile = load(tmp_path, profile_yaml(plugins, config))
    plugin, weight = profile.scores[-1]
    assert isinstance(plugin, Prefer) and weight == 2
    assert plugin.args == PreferTestArgs(bonus_points=7) == Prefer(bonus_points=7).args
    assert load(tmp_path, profile_yaml(plugins)).scores[-1][0].args.bonus_points == 1


def test_score_only_enablement(tmp_path: Path) -> None:
    plugins = ("{filter: {disabled: [{name: NodeAffinity}]},"
               " score: {enabled: [{name: NodeAffinity, weight: 2}]}}")
    profile = load(tmp_path, profile_yaml(plugins))
    assert NodeAffinityPlugin not in filter_types(profile)
    assert (NodeAffinityPlugin, 2) in score_types(profile)


def test_score_only_when_not_in_multipoint(tmp_path: Path) -> None:
    plugins = ("{multiPoint: {disabled: [{name: NodeAffinity}]},"
               " score: {enabled: [{name: NodeAffinity, weight: 3}]}}")
    profile = load(tmp_path, profile_yaml(plugins))
    assert NodeAffinityPlugin not in filter_types(profile)
    assert score_types(profile) == [(TaintToleration, 3), (NodeResourcesFit, 1),
                                    (PodTopologySpread, 2), (InterPodAffinity, 2),
                                    (NodeResourcesBalancedAllocation, 1), (NodeAffinityPlugin, 3)]


def test_filter_only_enablement(tmp_path: Path) -> None:
    plugins = ("{multiPoint: {disabled: [{name: NodeAffinity}]},"
               " filter: {enabled: [{name: NodeAffinity}]}}")
    profile = load(tmp_path, profile_yaml(plugins))
    assert filter_types(profile) == [NodeUnschedulable, NodeName, TaintToleration,
                                     NodeResourcesFit, PodTopologySpread, InterPodAffinity,
                                     NodeAffinityPlugin]
    assert NodeAffinityPlugin not in [t for t, _ in score_types(profile)]


def test_point_override_comes_first_as_in_kube(tmp_path: Path) -> None:
    """expandMultiPointPlugins: plugins named both in multiPoint and at the point come
    first (in the point's order), then the other multiPoint ones, then the point's own."""
    plugins = "{score: {enabled: [{name: NodeResourcesFit, weight: 5}]}}"
    profile = load(tmp_path, profile_yaml(plugins))
    assert score_types(profile) == [(NodeResourcesFit, 5), (TaintToleration, 3),
                                    (NodeAffinityPlugin, 2), (PodTopologySpread, 2),
                                    (InterPodAffinity, 2), (NodeResourcesBalancedAllocation, 1)]
    assert filter_types(profile) == DEFAULT_FILTERS


def test_multipoint_reconfigured_default_keeps_its_place(tmp_path: Path) -> None:
    plugins = "{multiPoint: {enabled: [{name: NodeAffinity, weight: 7}]}}"
    profile = load(tmp_path, profile_yaml(plugins))
    assert score_types(profile) == [(TaintToleration, 3), (NodeAffinityPlugin, 7),
                                    (NodeResourcesFit, 1), (PodTopologySpread, 2),
                                    (InterPodAffinity, 2), (NodeResourcesBalancedAllocation, 1)]
    assert filter_types(profile) == DEFAULT_FILTERS


def test_enabled_and_disabled_at_a_point_stays_enabled(tmp_path: Path) -> None:
    plugins = ("{filter: {enabled: [{name: NodeName}], disabled: [{name: NodeName}]}}")
    profile = load(tmp_path, profile_yaml(plugins))
    assert filter_types(profile) == [NodeUnschedulable, TaintToleration, NodeAffinityPlugin,
                                     NodeResourcesFit, PodTopologySpread, InterPodAffinity,
                                     NodeName]


# --- weights ---------------------------------------------------------------------------------


def test_unmentioned_defaults_keep_default_weights(tmp_path: Path) -> None:
    plugins = "{score: {enabled: [{name: TaintToleration, weight: 9}]}}"
    weights = dict(score_types(load(tmp_path, profile_yaml(plugins))))
    assert weights == {TaintToleration: 9, NodeAffinityPlugin: 2, NodeResourcesFit: 1,
                       PodTopologySpread: 2, InterPodAffinity: 2,
                       NodeResourcesBalancedAllocation: 1}


@pytest.mark.parametrize("entry", ["{name: NodeAffinity}", "{name: NodeAffinity, weight: 0}"])
@pytest.mark.parametrize("point", ["score", "multiPoint"])
def test_weight_zero_or_unset_is_one_as_in_kube(tmp_path: Path, entry: str, point: str) -> None:
    """getScoreWeights: an entry that names the plugin with weight 0 gives it weight 1 (its
    default multiPoint weight 2 only applies when no entry names it)."""
    profile = load(tmp_path, profile_yaml(f"{{{point}: {{enabled: [{entry}]}}}}"))
    assert dict(score_types(profile))[NodeAffinityPlugin] == 1


def test_research_plugin_weight_zero_is_one(tmp_path: Path, research: None) -> None:
    profile = load(tmp_path, profile_yaml("{multiPoint: {enabled: [{name: PreferTest}]}}"))
    assert score_types(profile)[-1] == (Prefer, 1)


def test_score_weight_takes_precedence_over_multipoint(tmp_path: Path, research: None) -> None:
    plugins = ("{multiPoint: {enabled: [{name: PreferTest, weight: 5}]},"
               " score: {enabled: [{name: PreferTest, weight: 3}]}}")
    assert dict(score_types(load(tmp_path, profile_yaml(plugins))))[Prefer] == 3


# --- preFilter and preScore ------------------------------------------------------------------


def test_prescore_disabled_skips_the_score(tmp_path: Path) -> None:
    profile = load(tmp_path, profile_yaml("{preScore: {disabled: [{name: NodeAffinity}]}}"))
    assert NodeAffinityPlugin not in [t for t, _ in score_types(profile)]
    assert NodeAffinityPlugin in filter_types(profile)


def test_prefilter_disabled_skips_the_filter(tmp_path: Path) -> None:
    profile = load(tmp_path, profile_yaml("{preFilter: {disabled: [{name: '*'}]}}"))
    # NodeAffinity, NodeResourcesFit, PodTopologySpread and InterPodAffinity have a PreFilter
    # in kube; the others do not.
    assert filter_types(profile) == [NodeUnschedulable, NodeName, TaintToleration]
    assert score_types(profile) == DEFAULT_SCORES


def test_prefilter_reenabled_keeps_the_filter(tmp_path: Path) -> None:
    plugins = "{preFilter: {disabled: [{name: '*'}], enabled: [{name: NodeResourcesFit}]}}"
    profile = load(tmp_path, profile_yaml(plugins))
    assert filter_types(profile) == [NodeUnschedulable, NodeName, TaintToleration,
                                     NodeResourcesFit]


def test_pre_points_apply_to_research_plugins_that_have_them(
    tmp_path: Path, research: None
) -> None:
    plugins = ("{multiPoint: {enabled: [{name: GateTest}, {name: PreferTest}]},"
               " preScore: {disabled: [{name: GateTest}, {name: PreferTest}]}}")
    profile = load(tmp_path, profile_yaml(plugins))
    assert Gate in filter_types(profile)
    assert [t for t, _ in score_types(profile)][-1] is Prefer  # Prefer has no PreScore
    assert Gate not in [t for t, _ in score_types(profile)]


# --- percentageOfNodesToScore ----------------------------------------------------------------


def test_percentage_top_level(tmp_path: Path) -> None:
    assert load(tmp_path, "percentageOfNodesToScore: 30\n").percentage_of_nodes_to_score == 30
    body = "percentageOfNodesToScore: 30\n" + profile_yaml()
    assert load(tmp_path, body).percentage_of_nodes_to_score == 30


def test_percentage_per_profile_overrides(tmp_path: Path) -> None:
    body = ("percentageOfNodesToScore: 30\nprofiles:\n"
            "- {schedulerName: default-scheduler, percentageOfNodesToScore: 70}\n")
    assert load(tmp_path, body).percentage_of_nodes_to_score == 70
    body = body.replace("70", "0")  # set, even to 0 (adaptive), wins as in v1.32
    assert load(tmp_path, body).percentage_of_nodes_to_score == 0


# --- profiles --------------------------------------------------------------------------------

PROFILES = (
    "profiles:\n"
    "- {schedulerName: first, plugins: {score: {disabled: [{name: '*'}]}}}\n"
    "- {schedulerName: default-scheduler}\n"
    "- {schedulerName: third, percentageOfNodesToScore: 5}\n"
)


def test_several_profiles_default_scheduler_first(tmp_path: Path) -> None:
    profile = load(tmp_path, PROFILES)
    assert profile.name == "default-scheduler" and score_types(profile) == DEFAULT_SCORES
    third = load(tmp_path, PROFILES, profile_name="third")
    assert third.name == "third" and third.percentage_of_nodes_to_score == 5
    assert load(tmp_path, PROFILES, profile_name="first").scores == ()
    without_default = PROFILES.replace("default-scheduler", "second")
    assert load(tmp_path, without_default, profile_name="first").name == "first"
    message = config_error(tmp_path, without_default)  # no guessing which one was meant
    assert "profiles[].schedulerName: got ['first', 'second', 'third']" in message
    assert "PATH#NAME" in message


def test_cli_chooses_a_profile_by_name(tmp_path: Path, capsys) -> None:
    from schedlab.cli import main

    path = tmp_path / "sched.yaml"
    path.write_text(HEADER + PROFILES.replace("default-scheduler", "second"))
    examples = Path(__file__).resolve().parents[1] / "traces" / "examples"
    argv = ["place", "--nodes", str(examples / "nodes.yaml"), "--pods",
            str(examples / "pods.yaml"), "--out", str(tmp_path / "b.json")]
    assert main([*argv, "--config", f"{path}#third"]) == 0
    assert main([*argv, "--config", str(path)]) == 1
    assert "default-scheduler" in capsys.readouterr().err


def test_profile_name_not_found(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="got 'fourth', expected one of first, "):
        load(tmp_path, PROFILES, profile_name="fourth")


def test_profile_names(tmp_path: Path) -> None:
    assert load(tmp_path, "profiles: [{plugins: {}}]\n").name == "default-scheduler"
    message = config_error(tmp_path, "profiles: [{schedulerName: a}, {}]\n")
    assert "profiles[1].schedulerName: got None" in message
    message = config_error(tmp_path, "profiles: [{schedulerName: a}, {schedulerName: a}]\n")
    assert "profiles[1].schedulerName" in message


def test_every_profile_is_validated(tmp_path: Path) -> None:
    body = PROFILES + "- {schedulerName: bad, plugins: {score: {enabled: [{name: Nope}]}}}\n"
    assert "profiles[3].plugins.score.enabled[0].name: got 'Nope'" in config_error(tmp_path, body)


# --- pluginConfig ----------------------------------------------------------------------------


def fit_of(profile: Profile) -> NodeResourcesFit:
    return next(p for p, _ in profile.scores if isinstance(p, NodeResourcesFit))


def test_fit_strategy_and_resources(tmp_path: Path) -> None:
    config = ("[{name: NodeResourcesFit, args: {scoringStrategy: {type: MostAllocated,"
              " resources: [{name: cpu, weight: 3}, {name: memory}, {name: nvidia.com/gpu,"
              " weight: 5}]}}}]")
    profile = load(tmp_path, profile_yaml(plugin_config=config))
    fit = fit_of(profile)
    assert fit.scoring_strategy == "MostAllocated"
    assert fit.resources == {"cpu": 3, "memory": 1, "nvidia.com/gpu": 5}
    assert next(p for p in profile.filters if isinstance(p, NodeResourcesFit)) is fit


def test_fit_requested_to_capacity_ratio_shape(tmp_path: Path) -> None:
    config = ("[{name: NodeResourcesFit, args: {apiVersion: kubescheduler.config.k8s.io/v1,"
              " kind: NodeResourcesFitArgs, scoringStrategy: {type: RequestedToCapacityRatio,"
              " requestedToCapacityRatio: {shape: [{utilization: 0, score: 10},"
              " {utilization: 100, score: 0}]}}}}]")
    fit = fit_of(load(tmp_path, profile_yaml(plugin_config=config)))
    assert fit.scoring_strategy == "RequestedToCapacityRatio"
    assert fit.shape == ((0, 10), (100, 0))
    assert fit.resources == {"cpu": 1, "memory": 1}


def test_fit_ignored_resources(tmp_path: Path) -> None:
    config = ("[{name: NodeResourcesFit, args: {ignoredResources: [example.com/foo],"
              " ignoredResourceGroups: [example.org, vendor]}}]")
    fit = fit_of(load(tmp_path, profile_yaml(plugin_config=config)))
    assert set(fit.args.ignored_resources) == {"example.com/foo"}
    assert set(fit.args.ignored_resource_groups) == {"example.org", "vendor"}
    assert fit.scoring_strategy == "LeastAllocated"


def test_balanced_allocation_resources(tmp_path: Path) -> None:
    config = ("[{name: NodeResourcesBalancedAllocation, args: {resources: [{name: cpu},"
              " {name: memory}, {name: nvidia.com/gpu, weight: 2}]}}]")
    profile = load(tmp_path, profile_yaml(plugin_config=config))
    balanced = next(p for p, _ in profile.scores if isinstance(p, NodeResourcesBalancedAllocation))
    assert balanced.resources == {"cpu": 1, "memory": 1, "nvidia.com/gpu": 2}


ADDED_AFFINITY = """\
  pluginConfig:
  - name: NodeAffinity
    args:
      addedAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
          - matchExpressions:
            - {key: pool, operator: In, values: [a, b]}
            - {key: cores, operator: Gt, values: ["8"]}
          - matchFields:
            - {key: metadata.name, operator: NotIn, values: [node-3]}
        preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 20
          preference:
            matchExpressions:
            - {key: ssd, operator: Exists}
"""


def test_node_affinity_added_affinity(tmp_path: Path) -> None:
    profile = load(tmp_path, profile_yaml() + ADDED_AFFINITY)
    expected = NodeAffinity(
        required=(
            NodeSelectorTerm(match_expressions=(
                NodeSelectorRequirement("pool", "In", ("a", "b")),
                NodeSelectorRequirement("cores", "Gt", ("8",)),
            )),
            NodeSelectorTerm(match_fields=(
                NodeSelectorRequirement("metadata.name", "NotIn", ("node-3",)),
            )),
        ),
        preferred=(PreferredSchedulingTerm(20, NodeSelectorTerm(match_expressions=(
            NodeSelectorRequirement("ssd", "Exists"),
        ))),),
    )
    plugin = next(p for p in profile.filters if isinstance(p, NodeAffinityPlugin))
    assert plugin.added_affinity == expected
    assert any(p is plugin for p, _ in profile.scores)


def test_args_of_a_disabled_builtin_are_still_validated(tmp_path: Path) -> None:
    plugins = "{multiPoint: {disabled: [{name: NodeResourcesFit}]}}"
    config = "[{name: NodeResourcesFit, args: {scoringStrategy: {type: Foo}}}]"
    message = config_error(tmp_path, profile_yaml(plugins, config))
    assert "profiles[0].pluginConfig[0].args.scoringStrategy.type: got 'Foo'" in message


def test_from_a_parsed_document() -> None:
    doc = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration",
           "profiles": [{"plugins": {"score": {"disabled": [{"name": "*"}]}}}]}
    assert profile_from_config(doc, "inline").scores == ()
    with pytest.raises(ConfigError, match=r"^inline: kind: got 'Pod'"):
        profile_from_config({**doc, "kind": "Pod"}, "inline")


# --- errors ----------------------------------------------------------------------------------

ERRORS = {
    "unknown plugin": (
        profile_yaml("{score: {enabled: [{name: NodeAffinity}, {name: NodeAfinity}]}}"),
        "profiles[0].plugins.score.enabled[1].name: got 'NodeAfinity', expected one of ",
    ),
    "unknown disabled plugin": (
        profile_yaml("{multiPoint: {disabled: [{name: Foo}]}}"),
        "profiles[0].plugins.multiPoint.disabled[0].name: got 'Foo'",
    ),
    "wildcard enabled": (
        profile_yaml("{filter: {enabled: [{name: '*'}]}}"),
        "profiles[0].plugins.filter.enabled[0].name: got '*'",
    ),
    "unknown extension point": (
        profile_yaml("{scores: {enabled: []}}"),
        "profiles[0].plugins.scores: got {'enabled': []}, expected a known field of Plugins",
    ),
    "no score point": (
        profile_yaml("{score: {enabled: [{name: NodeName}]}}"),
        "profiles[0].plugins.score.enabled[0].name: got 'NodeName', expected a plugin with a "
        "Score extension point",
    ),
    "no prefilter point": (
        profile_yaml("{preFilter: {enabled: [{name: TaintToleration}]}}"),
        "profiles[0].plugins.preFilter.enabled[0].name: got 'TaintToleration'",
    ),
    "modelled plugin at bind": (
        profile_yaml("{bind: {enabled: [{name: NodeAffinity}]}}"),
        "profiles[0].plugins.bind.enabled[0].name: got 'NodeAffinity', expected a plugin "
        "schedlab does not model",
    ),
    "enabled twice": (
        profile_yaml("{filter: {enabled: [{name: NodeName}, {name: NodeName}]}}"),
        "profiles[0].plugins.filter.enabled[1].name: got 'NodeName'",
    ),
    "weight -1": (
        profile_yaml("{score: {enabled: [{name: NodeAffinity, weight: -1}]}}"),
        "profiles[0].plugins.score.enabled[0].weight: got -1, expected an integer in 0..",
    ),
    "weight not an integer": (
        profile_yaml("{multiPoint: {enabled: [{name: NodeAffinity, weight: 1.5}]}}"),
        "profiles[0].plugins.multiPoint.enabled[0].weight: got 1.5",
    ),
    "percentage 101": (
        "percentageOfNodesToScore: 101\n",
        "percentageOfNodesToScore: got 101, expected an integer in 0..100",
    ),
    "profile percentage -1": (
        "profiles: [{percentageOfNodesToScore: -1}]\n",
        "profiles[0].percentageOfNodesToScore: got -1",
    ),
    "unknown plugin config": (
        profile_yaml(plugin_config="[{name: NodeResourceFit, args: {}}]"),
        "profiles[0].pluginConfig[0].name: got 'NodeResourceFit', expected one of ",
    ),
    "repeated plugin config": (
        profile_yaml(plugin_config="[{name: NodeAffinity}, {name: NodeAffinity}]"),
        "profiles[0].pluginConfig[1].name: got 'NodeAffinity'",
    ),
    "unknown arg": (
        profile_yaml(plugin_config="[{name: NodeResourcesFit, args: {scoringStrategyy: {}}}]"),
        "profiles[0].pluginConfig[0].args.scoringStrategyy: got {}, expected a known field of "
        "NodeResourcesFitArgs (one of: scoringStrategy, ",
    ),
    "unknown arg of a plugin without args": (
        profile_yaml(plugin_config="[{name: TaintToleration, args: {foo: 1}}]"),
        "profiles[0].pluginConfig[0].args.foo: got 1, expected a known field of "
        "TaintTolerationArgs (one of: none)",
    ),
    "wrong args kind": (
        profile_yaml(plugin_config="[{name: NodeAffinity, args: {kind: NodeResourcesFitArgs}}]"),
        "profiles[0].pluginConfig[0].args.kind: got 'NodeResourcesFitArgs', expected "
        "NodeAffinityArgs",
    ),
    "args of the wrong type": (
        profile_yaml(plugin_config="[{name: NodeResourcesFit, args: {scoringStrategy: Most}}]"),
        "profiles[0].pluginConfig[0].args.scoringStrategy: got 'Most', expected a mapping",
    ),
    "ignored resources of the wrong type": (
        profile_yaml(plugin_config="[{name: NodeResourcesFit, args: {ignoredResources: x}}]"),
        "profiles[0].pluginConfig[0].args.ignoredResources: got 'x', expected a list",
    ),
    "ignored group with a slash": (
        profile_yaml(plugin_config="[{name: NodeResourcesFit,"
                                   " args: {ignoredResourceGroups: [a/b]}}]"),
        "profiles[0].pluginConfig[0].args.ignoredResourceGroups[0]: got 'a/b'",
    ),
    "bad strategy": (
        profile_yaml(plugin_config="[{name: NodeResourcesFit,"
                                   " args: {scoringStrategy: {type: Foo}}}]"),
        "sched.yaml: profiles[0].pluginConfig[0].args.scoringStrategy.type: got 'Foo', expected "
        "one of LeastAllocated, MostAllocated, RequestedToCapacityRatio",
    ),
    "missing strategy type": (
        profile_yaml(plugin_config="[{name: NodeResourcesFit,"
                                   " args: {scoringStrategy: {resources: []}}}]"),
        "profiles[0].pluginConfig[0].args.scoringStrategy.type: got None, expected one of ",
    ),
    "shape not increasing": (
        profile_yaml(plugin_config="[{name: NodeResourcesFit, args: {scoringStrategy: {type: "
                                   "RequestedToCapacityRatio, requestedToCapacityRatio: {shape:"
                                   " [{utilization: 50, score: 1}, {utilization: 50, score: 2}]"
                                   "}}}}]"),
        "profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio.shape: "
        "got [{'score': 1, 'utilization': 50}, {'score': 2, 'utilization': 50}], expected at "
        "least one point, utilization 0..100 strictly",
    ),
    "shape score above 10": (
        profile_yaml(plugin_config="[{name: NodeResourcesFit, args: {scoringStrategy: {type: "
                                   "RequestedToCapacityRatio, requestedToCapacityRatio: {shape:"
                                   " [{utilization: 0, score: 0}, {utilization: 100, score: 11}]"
                                   "}}}}]"),
        "profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio.shape: "
        "got [{'score': 0, 'utilization': 0}, {'score': 11, 'utilization': 100}]",
    ),
    "shape checked whatever the strategy": (
        profile_yaml(plugin_config="[{name: NodeResourcesFit, args: {scoringStrategy: {type: "
                                   "LeastAllocated, requestedToCapacityRatio: {shape: []}}}}]"),
        "profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio.shape: got []",
    ),
    "shape point not an integer": (
        profile_yaml(plugin_config="[{name: NodeResourcesFit, args: {scoringStrategy: {type: "
                                   "RequestedToCapacityRatio, requestedToCapacityRatio: {shape:"
                                   " [{utilization: '50', score: 1}]}}}}]"),
        "args.scoringStrategy.requestedToCapacityRatio.shape[0].utilization: got '50', expected "
        "an integer",
    ),
    "resource weight 101": (
        profile_yaml(plugin_config="[{name: NodeResourcesBalancedAllocation,"
                                   " args: {resources: [{name: cpu, weight: 101}]}}]"),
        "profiles[0].pluginConfig[0].args.resources[0].weight: got 101, expected an integer in "
        "0..100",
    ),
    "resource listed twice": (
        profile_yaml(plugin_config="[{name: NodeResourcesFit, args: {scoringStrategy: {type: "
                                   "MostAllocated, resources: [{name: cpu}, {name: cpu}]}}}]"),
        "profiles[0].pluginConfig[0].args.scoringStrategy.resources[1].name: got 'cpu'",
    ),
    "research plugin constructor error": (
        profile_yaml("{score: {enabled: [{name: PreferTest}]}}",
                     "[{name: PreferTest, args: {bonusPoints: -2}}]"),
        "profiles[0].pluginConfig[0].args.bonusPoints: got -2, expected an integer >= 0",
    ),
    "research plugin unknown arg": (
        profile_yaml(plugin_config="[{name: PreferTest, args: {bonus: 2}}]"),
        "profiles[0].pluginConfig[0].args.bonus: got 2, expected a known field of PreferTestArgs"
        " (one of: bonusPoints)",
    ),
    "research plugin wrong arg type": (
        profile_yaml("{multiPoint: {enabled: [{name: PreferTest}]}}",
                     "[{name: PreferTest, args: {bonusPoints: many}}]"),
        "profiles[0].pluginConfig[0].args.bonusPoints: got 'many', expected an integer",
    ),
    "wrong apiVersion": (
        "", "apiVersion: got 'kubescheduler.config.k8s.io/v1beta3', expected "
            "kubescheduler.config.k8s.io/v1",
    ),
    "unknown top-level field": (
        "profile: []\n", "profile: got [], expected a known field of KubeSchedulerConfiguration",
    ),
    "profiles not a list": ("profiles: {a: 1}\n", "profiles: got {'a': 1}, expected a list"),
    "profile field typo": (
        "profiles: [{plugin: {}}]\n",
        "profiles[0].plugin: got {}, expected a known field of KubeSchedulerProfile",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_name_file_and_field(tmp_path: Path, case: str, research: None) -> None:
    body, expected = ERRORS[case]
    if case == "wrong apiVersion":
        path = tmp_path / "sched.yaml"
        path.write_text(HEADER.replace("/v1", "/v1beta3"))
        with pytest.raises(ConfigError) as info:
            load_config(path)
        message = str(info.value)
        assert "\n" not in message and message.startswith(f"{path}: ")
    else:
        message = config_error(tmp_path, body)
    assert expected in message, message


AFFINITY_ERRORS = {
    "operator": ("{key: a, operator: Equals, values: [x]}",
                 "matchExpressions[0].operator: got 'Equals', expected one of In, NotIn, "
                 "Exists, DoesNotExist, Gt, Lt"),
    "In without values": ("{key: a, operator: In}",
                          "matchExpressions[0].values: got None, expected at least one value"),
    "Exists with values": ("{key: a, operator: Exists, values: [x]}",
                           "matchExpressions[0].values: got ['x'], expected no values"),
    "Gt not an integer": ("{key: a, operator: Gt, values: [big]}",
                          "matchExpressions[0].values: got ['big'], expected exactly one "
                          "integer value for operator Gt"),
    "Lt two values": ("{key: a, operator: Lt, values: ['1', '2']}",
                      "matchExpressions[0].values: got ['1', '2']"),
    "bad key": ("{key: 'a b', operator: Exists}",
                "matchExpressions[0].key: got 'a b', expected a valid label key"),
    "bad value": ("{key: a, operator: In, values: ['-x-']}",
                  "matchExpressions[0].values[0]: got '-x-', expected a valid label value"),
}


@pytest.mark.parametrize("case", list(AFFINITY_ERRORS))
def test_added_affinity_errors(tmp_path: Path, case: str) -> None:
    requirement, expected = AFFINITY_ERRORS[case]
    config = ("[{name: NodeAffinity, args: {addedAffinity: {requiredDuringScheduling"
              f"IgnoredDuringExecution: {{nodeSelectorTerms: [{{matchExpressions: [{requirement}"
              "]}]}}}}]")
    message = config_error(tmp_path, profile_yaml(plugin_config=config))
    prefix = ("profiles[0].pluginConfig[0].args.addedAffinity."
              "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].")
    assert prefix + expected in message, message


@pytest.mark.parametrize(("fields", "expected"), [
    ("{key: metadata.labels, operator: In, values: [n]}",
     "matchFields[0].key: got 'metadata.labels', expected metadata.name"),
    ("{key: metadata.name, operator: Exists}",
     "matchFields[0].operator: got 'Exists', expected one of In, NotIn"),
    ("{key: metadata.name, operator: In, values: [a, b]}",
     "matchFields[0].values: got ['a', 'b'], expected exactly one node name"),
])
def test_added_affinity_match_fields_errors(tmp_path: Path, fields: str, expected: str) -> None:
    config = ("[{name: NodeAffinity, args: {addedAffinity: {preferredDuringScheduling"
              f"IgnoredDuringExecution: [{{weight: 1, preference: {{matchFields: [{fields}]}}}}]"
              "}}}]")
    message = config_error(tmp_path, profile_yaml(plugin_config=config))
    prefix = ("profiles[0].pluginConfig[0].args.addedAffinity."
              "preferredDuringSchedulingIgnoredDuringExecution[0].preference.")
    assert prefix + expected in message, message


def test_added_affinity_needs_a_term(tmp_path: Path) -> None:
    config = ("[{name: NodeAffinity, args: {addedAffinity: {requiredDuringScheduling"
              "IgnoredDuringExecution: {nodeSelectorTerms: []}}}}]")
    message = config_error(tmp_path, profile_yaml(plugin_config=config))
    assert "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: got []" in message


def test_bad_yaml(tmp_path: Path) -> None:
    message = config_error(tmp_path, "profiles: [\n  - {schedulerName: a\n")
    assert ": line " in message and "expected valid YAML" in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: file: ") and "\n" not in message


@pytest.mark.parametrize(("text", "expected"), [
    ("", "document: got None, expected a KubeSchedulerConfiguration mapping"),
    ("- a\n- b\n", "document: got ['a', 'b'], expected a KubeSchedulerConfiguration mapping"),
    ("apiVersion: kubescheduler.config.k8s.io/v1\nkind: Pod\n",
     "kind: got 'Pod', expected KubeSchedulerConfiguration"),
    ("kind: KubeSchedulerConfiguration\n",
     "apiVersion: got None, expected kubescheduler.config.k8s.io/v1"),
    ("a: 1\n---\nb: 2\n", "documents: got 2, expected one KubeSchedulerConfiguration document"),
])
def test_not_a_configuration(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "sched.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert expected in message, message


# --- packaging -------------------------------------------------------------------------------


@pytest.mark.parametrize("imports", [
    "import schedlab.framework; import schedlab.plugins",
    "import schedlab.plugins; import schedlab.framework",
    "from schedlab.framework import load_config; load_config(None)",
])
def test_imports_are_acyclic(imports: str) -> None:
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", imports], check=True, cwd=root)


# --- InterPodAffinityArgs and PodTopologySpreadArgs ------------------------------------------


def configured(tmp_path: Path, name: str, args: str) -> Any:
    """The ``name`` plugin instance of a profile enabling it with ``args`` (flow YAML)."""
    plugins = f"{{multiPoint: {{enabled: [{{name: {name}}}]}}}}"
    config = f"[{{name: {name}, args: {args}}}]"
    profile = load(tmp_path, profile_yaml(plugins, config))
    instances = [*profile.filters, *(p for p, _ in profile.scores)]
    return next(p for p in instances if p.name == name)


@pytest.mark.parametrize(("args", "weight", "ignore"), [
    ("{}", 1, False),
    ("{hardPodAffinityWeight: 0}", 0, False),
    ("{hardPodAffinityWeight: 100, ignorePreferredTermsOfExistingPods: true}", 100, True),
    ("{kind: InterPodAffinityArgs, ignorePreferredTermsOfExistingPods: false}", 1, False),
])
def test_inter_pod_affinity_args(tmp_path: Path, args: str, weight: int, ignore: bool) -> None:
    plugin = configured(tmp_path, "InterPodAffinity", args)
    assert isinstance(plugin, InterPodAffinity)
    assert plugin.args.hard_pod_affinity_weight == weight
    assert plugin.args.ignore_preferred_terms_of_existing_pods is ignore


@pytest.mark.parametrize("args", ["{}", "{defaultingType: System}",
                                  "{defaultingType: System, defaultConstraints: []}"])
def test_topology_spread_system_defaulting(tmp_path: Path, args: str) -> None:
    plugin = configured(tmp_path, "PodTopologySpread", args)
    assert plugin.args.defaulting_type == "System" and plugin.args.default_constraints == ()


def test_topology_spread_listed_default_constraints(tmp_path: Path) -> None:
    args = ("{defaultingType: List, defaultConstraints: ["
            "{maxSkew: 1, topologyKey: topology.kubernetes.io/zone,"
            " whenUnsatisfiable: DoNotSchedule, minDomains: 3, nodeTaintsPolicy: Honor},"
            " {maxSkew: 2, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway,"
            " matchLabelKeys: [pod-template-hash], nodeAffinityPolicy: Ignore}]}")
    plugin = configured(tmp_path, "PodTopologySpread", args)
    assert plugin.args.defaulting_type == "List"
    assert plugin.args.default_constraints == (
        TopologySpreadConstraint(1, "topology.kubernetes.io/zone", "DoNotSchedule",
                                 min_domains=3, node_taints_policy="Honor"),
        TopologySpreadConstraint(2, "kubernetes.io/hostname", "ScheduleAnyway",
                                 match_label_keys=("pod-template-hash",),
                                 node_affinity_policy="Ignore"),
    )


def test_topology_spread_list_without_constraints_is_no_defaults(tmp_path: Path) -> None:
    plugin = configured(tmp_path, "PodTopologySpread", "{defaultingType: List}")
    assert plugin.args.defaulting_type == "List" and plugin.args.default_constraints == ()


ARGS = "profiles[0].pluginConfig[0].args"
ONE_CONSTRAINT = "{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}"
POD_AFFINITY_ARGS_ERRORS = {
    "hard weight 101": (
        "InterPodAffinity", "{hardPodAffinityWeight: 101}",
        f"{ARGS}.hardPodAffinityWeight: got 101, expected an integer in 0..100",
    ),
    "hard weight negative": (
        "InterPodAffinity", "{hardPodAffinityWeight: -1}",
        f"{ARGS}.hardPodAffinityWeight: got -1, expected an integer in 0..100",
    ),
    "hard weight a string": (
        "InterPodAffinity", "{hardPodAffinityWeight: '5'}",
        f"{ARGS}.hardPodAffinityWeight: got '5', expected an integer in 0..100",
    ),
    "ignore preferred not a bool": (
        "InterPodAffinity", "{ignorePreferredTermsOfExistingPods: yes please}",
        f"{ARGS}.ignorePreferredTermsOfExistingPods: got 'yes please', expected true or false",
    ),
    "unknown affinity arg": (
        "InterPodAffinity", "{hardPodAffinityWeigth: 2}",
        f"{ARGS}.hardPodAffinityWeigth: got 2, expected a known field of InterPodAffinityArgs "
        "(one of: hardPodAffinityWeight, ignorePreferredTermsOfExistingPods)",
    ),
    "wrong args kind": (
        "InterPodAffinity", "{kind: PodTopologySpreadArgs}",
        f"{ARGS}.kind: got 'PodTopologySpreadArgs', expected InterPodAffinityArgs",
    ),
    "defaulting type": (
        "PodTopologySpread", "{defaultingType: Custom}",
        f"{ARGS}.defaultingType: got 'Custom', expected one of System, List",
    ),
    "constraints with System": (
        "PodTopologySpread", f"{{defaultingType: System, defaultConstraints: [{ONE_CONSTRAINT}]}}",
        f"{ARGS}.defaultConstraints: got [{{'maxSkew': 1, 'topologyKey': 'zone', "
        "'whenUnsatisfiable': 'DoNotSchedule'}], expected no default constraints with "
        "defaultingType System (the default: set defaultingType: List to use them)",
    ),
    "constraints with defaultingType unset (System, as kube's v1 defaulting)": (
        "PodTopologySpread", f"{{defaultConstraints: [{ONE_CONSTRAINT}]}}",
        f"{ARGS}.defaultConstraints: got [",
    ),
    "constraint with a selector": (
        "PodTopologySpread",
        "{defaultingType: List, defaultConstraints: [{maxSkew: 1, topologyKey: zone,"
        " whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: a}}}]}",
        f"{ARGS}.defaultConstraints[0].labelSelector: got {{'matchLabels': {{'app': 'a'}}}}, "
        "expected no labelSelector in a default constraint",
    ),
    "constraint with an empty selector": (
        "PodTopologySpread",
        "{defaultingType: List, defaultConstraints: [{maxSkew: 1, topologyKey: zone,"
        " whenUnsatisfiable: DoNotSchedule, labelSelector: {}}]}",
        f"{ARGS}.defaultConstraints[0].labelSelector: got {{}}, expected no labelSelector",
    ),
    "repeated pair": (
        "PodTopologySpread",
        f"{{defaultingType: List, defaultConstraints: [{ONE_CONSTRAINT},"
        " {maxSkew: 3, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]}",
        f"{ARGS}.defaultConstraints[1]: got {{'topologyKey': 'zone', 'whenUnsatisfiable': "
        "'DoNotSchedule'}, expected a {topologyKey, whenUnsatisfiable} pair no other "
        f"constraint has ({ARGS}.defaultConstraints[0] has it)",
    ),
    "no whenUnsatisfiable": (
        "PodTopologySpread",
        "{defaultingType: List, defaultConstraints: [{maxSkew: 1, topologyKey: zone}]}",
        f"{ARGS}.defaultConstraints[0].whenUnsatisfiable: got None, expected one of "
        "DoNotSchedule, ScheduleAnyway",
    ),
    "maxSkew 0": (
        "PodTopologySpread",
        "{defaultingType: List, defaultConstraints: [{maxSkew: 0, topologyKey: zone,"
        " whenUnsatisfiable: ScheduleAnyway}]}",
        f"{ARGS}.defaultConstraints[0].maxSkew: got 0, expected an integer in 1..2147483647",
    ),
    "bad topology key": (
        "PodTopologySpread",
        "{defaultingType: List, defaultConstraints: [{maxSkew: 1, topologyKey: 'a b',"
        " whenUnsatisfiable: ScheduleAnyway}]}",
        f"{ARGS}.defaultConstraints[0].topologyKey: got 'a b', expected a valid label key",
    ),
    "minDomains with ScheduleAnyway": (
        "PodTopologySpread",
        "{defaultingType: List, defaultConstraints: [{maxSkew: 1, topologyKey: zone,"
        " whenUnsatisfiable: ScheduleAnyway, minDomains: 2}]}",
        f"{ARGS}.defaultConstraints[0].minDomains: got 2, expected no minDomains with "
        "whenUnsatisfiable ScheduleAnyway",
    ),
    "node taints policy": (
        "PodTopologySpread",
        "{defaultingType: List, defaultConstraints: [{maxSkew: 1, topologyKey: zone,"
        " whenUnsatisfiable: ScheduleAnyway, nodeTaintsPolicy: Respect}]}",
        f"{ARGS}.defaultConstraints[0].nodeTaintsPolicy: got 'Respect', expected one of "
        "Honor, Ignore",
    ),
    "unknown constraint field": (
        "PodTopologySpread",
        "{defaultingType: List, defaultConstraints: [{maxSkew: 1, topologyKey: zone,"
        " whenUnsatisfiable: ScheduleAnyway, maxskew: 2}]}",
        f"{ARGS}.defaultConstraints[0].maxskew: got 2, expected a known field of "
        "TopologySpreadConstraint (one of: maxSkew, ",
    ),
    "constraints not a list": (
        "PodTopologySpread", "{defaultingType: List, defaultConstraints: {maxSkew: 1}}",
        f"{ARGS}.defaultConstraints: got {{'maxSkew': 1}}, expected a list",
    ),
    "unknown spread arg": (
        "PodTopologySpread", "{defaultingtype: List}",
        f"{ARGS}.defaultingtype: got 'List', expected a known field of PodTopologySpreadArgs "
        "(one of: defaultingType, defaultConstraints)",
    ),
}


@pytest.mark.parametrize("case", list(POD_AFFINITY_ARGS_ERRORS))
def test_pod_affinity_and_spread_args_errors(tmp_path: Path, case: str) -> None:
    name, args, expected = POD_AFFINITY_ARGS_ERRORS[case]
    # args are checked whether or not the plugin is enabled
    for plugins in ("", f"{{multiPoint: {{disabled: [{{name: {name}}}]}}}}"):
        message = config_error(tmp_path, profile_yaml(plugins, f"[{{name: {name}, args: {args}}}]"))
        assert expected in message, message


def test_pre_points_of_the_spreading_and_affinity_plugins(tmp_path: Path) -> None:
    """Both have PreFilter and PreScore in kube: disabled at preScore they do not score,
    at preFilter they do not filter."""
    plugins = ("{preScore: {disabled: [{name: PodTopologySpread}]},"
               " preFilter: {disabled: [{name: InterPodAffinity}]}}")
    profile = load(tmp_path, profile_yaml(plugins))
    assert PodTopologySpread in filter_types(profile)
    assert PodTopologySpread not in [t for t, _ in score_types(profile)]
    assert InterPodAffinity not in filter_types(profile)
    assert (InterPodAffinity, 2) in score_types(profile)
