"""schedlab.framework.args: typed plugin args, checked the same way from Python and from a
KubeSchedulerConfiguration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import pytest

from schedlab.errors import ConfigError
from schedlab.fields import Field
from schedlab.framework.args import ArgsError, PluginArgs, arg
from schedlab.objects import FrozenMap
from schedlab.plugins import (
    InterPodAffinity,
    NodeResourcesFit,
    RequestedToCapacityRatioParam,
    ScoringStrategy,
)
from schedlab.plugins.inter_pod_affinity import InterPodAffinityArgs


def _even(n: int) -> str | None:
    return None if n % 2 == 0 else "an even number"


@dataclass(frozen=True)
class InnerArgs(PluginArgs):
    mode: str = arg("a", choices=("a", "b"), required=True)
    level: int = arg(0, minimum=0, maximum=3)


@dataclass(frozen=True)
class DemoArgs(PluginArgs):
    count: int = arg(2, minimum=0, check=_even)
    ratio: float = 0.5
    enabled: bool = False
    names: tuple[str, ...] = arg((), check_each=lambda n: None if n else "a non-empty name")
    weights: Mapping[str, int] = FrozenMap({"cpu": 1})
    inner: InnerArgs = InnerArgs()
    maybe: InnerArgs | None = None


def config(args: object) -> Field:
    return Field(args, "sched.yaml", "args", error_class=ConfigError, strict=True)


def test_defaults_and_python_values_are_checked_and_normalised() -> None:
    args = DemoArgs(names=["x", "y"], weights={"gpu": 2})
    assert args.names == ("x", "y") and isinstance(args.weights, FrozenMap)
    assert hash(args) == hash(DemoArgs(names=("x", "y"), weights=FrozenMap({"gpu": 2})))
    assert DemoArgs().inner == InnerArgs()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"count": 3}, "DemoArgs: count: got 3, expected an even number"),
    ({"count": -2}, "DemoArgs: count: got -2, expected an integer >= 0"),
    ({"count": True}, "DemoArgs: count: got True, expected an integer >= 0"),
    ({"ratio": "1"}, "DemoArgs: ratio: got '1', expected a number"),
    ({"enabled": 1}, "DemoArgs: enabled: got 1, expected true or false"),
    ({"names": "ab"}, "DemoArgs: names: got 'ab', expected a list"),
    ({"names": ["a", ""]}, "DemoArgs: names[1]: got '', expected a non-empty name"),
    ({"weights": {"cpu": "1"}}, "DemoArgs: weights.cpu: got '1', expected an integer"),
    ({"inner": {"mode": "a"}}, "DemoArgs: inner: got {'mode': 'a'}, expected a "),
])
def test_python_errors_name_the_args_field_value_and_expectation(kwargs: dict,
                                                                 message: str) -> None:
    with pytest.raises(ArgsError) as error:
        DemoArgs(**kwargs)
    assert str(error.value).startswith(message)
    assert isinstance(error.value, ConfigError)


def test_configuration_reads_kube_names_nested_structs_and_lists() -> None:
    args = DemoArgs.from_config(config({
        "apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "DemoArgs", "count": 4,
        "names": ["p"], "weights": {"gpu": 3}, "inner": {"mode": "b", "level": 2},
        "maybe": {"mode": "a"}}), "DemoArgs")
    assert args == DemoArgs(count=4, names=("p",), weights={"gpu": 3},
                            inner=InnerArgs("b", 2), maybe=InnerArgs("a"))
    assert {f.name for f in fields(DemoArgs)} == set(DemoArgs.keys().values())


@pytest.mark.parametrize(("body", "message"), [
    ({"count": 5}, "args.count: got 5, expected an even number"),
    ({"Count": 2}, "args.Count: got 2, expected a known field of DemoArgs (one of: count, "
                   "ratio, enabled, names, weights, inner, maybe)"),
    ({"kind": "OtherArgs"}, "args.kind: got 'OtherArgs', expected DemoArgs"),
    ({"apiVersion": "v2"}, "args.apiVersion: got 'v2', expected kubescheduler.config.k8s.io/v1"),
    ({"names": ["a", ""]}, "args.names[1]: got '', expected a non-empty name"),
    ({"inner": {"level": 1}}, "args.inner.mode: got None, expected one of a, b"),
    ({"inner": {"mode": "a", "level": 9}}, "args.inner.level: got 9, expected an integer in "
                                           "0..3"),
    ({"inner": {"mode": "a", "kind": "x"}}, "args.inner.kind: got 'x', expected a known field "
                                            "of InnerArgs (one of: mode, level)"),
    ({"maybe": [1]}, "args.maybe: got [1], expected a mapping"),
])
def test_configuration_errors_name_the_file_and_the_field(body: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        DemoArgs.from_config(config(body), "DemoArgs")
    assert str(error.value) == f"sched.yaml: {message}"


def test_a_plugin_takes_its_args_whole_or_as_keywords_not_both() -> None:
    assert InterPodAffinity(hard_pod_affinity_weight=5).args == InterPodAffinityArgs(5)
    whole = InterPodAffinityArgs(ignore_preferred_terms_of_existing_pods=True)
    assert InterPodAffinity(whole).args is whole
    with pytest.raises(ConfigError, match="one InterPodAffinityArgs or its fields"):
        InterPodAffinity(whole, hard_pod_affinity_weight=2)
    with pytest.raises(ConfigError, match="hard_pod_affinity_weigth"):
        InterPodAffinity(hard_pod_affinity_weigth=2)


def test_node_resources_fit_args_default_as_kube() -> None:
    strategy = ScoringStrategy("MostAllocated", {"cpu": 0, "nvidia.com/gpu": 4})
    assert dict(strategy.resources) == {"cpu": 1, "nvidia.com/gpu": 4}  # 0 means 1
    assert dict(ScoringStrategy(resources={}).resources) == {"cpu": 1, "memory": 1}
    fit = NodeResourcesFit(scoring_strategy=strategy)
    assert fit.scoring_strategy == "MostAllocated" and fit.shape == ()
    with pytest.raises(ConfigError, match="requestedToCapacityRatio.shape: got \\[\\]"):
        ScoringStrategy("RequestedToCapacityRatio")
    with pytest.raises(ConfigError, match="shape: got \\[\\(50, 1\\), \\(50, 2\\)\\]"):
        RequestedToCapacityRatioParam(((50, 1), (50, 2)))
    with pytest.raises(ConfigError, match="ignoredResourceGroups\\[0\\]: got 'a/b'"):
        NodeResourcesFit(ignored_resource_groups=["a/b"])
