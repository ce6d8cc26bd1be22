"""Reading a plugin's ``pluginConfig`` args (``<Name>Args`` of KubeSchedulerConfiguration):
the helpers a plugin's ``config_args`` uses, so that each plugin owns how its args are read
and the configuration reader knows no plugin."""

from __future__ import annotations

from collections.abc import Mapping

from schedlab.fields import Field

API_VERSION = "kubescheduler.config.k8s.io/v1"
_ARGS_META = ("apiVersion", "kind")


def args_fields(node: Field, name: str, allowed: tuple[str, ...] | None) -> dict[str, Field]:
    """The fields of plugin ``name``'s args (``allowed``, or any when None), without
    ``apiVersion`` and ``kind``, which are checked here."""
    fields = node.mapping(None if allowed is None else (*_ARGS_META, *allowed), f"{name}Args")
    if "apiVersion" in fields and fields["apiVersion"].value != API_VERSION:
        raise fields["apiVersion"].error(API_VERSION)
    if "kind" in fields and fields["kind"].value != f"{name}Args":
        raise fields["kind"].error(f"{name}Args")
    return {k: v for k, v in fields.items() if k not in _ARGS_META}


def strings(node: Field) -> list[str]:
    """A list of names."""
    return [item.name() for item in node.elements()]


def resource_weights(node: Field, default: Mapping[str, int]) -> dict[str, int]:
    """``[{name, weight}]`` as {name: weight}; weights 0..100 (0 means 1). An empty list is
    ``default`` (kube's: cpu and memory, weight 1)."""
    weights: dict[str, int] = {}
    for item in node.elements():
        item.check_fields(("name", "weight"), "ResourceSpec")
        name_node = item["name"]
        name = name_node.name()
        if name in weights:
            raise name_node.error("a resource not already listed")
        weights[name] = item["weight"].integer(default=0, minimum=0, maximum=100)
    return weights or dict(default)


def shape_points(node: Field) -> list[tuple[int, int]]:
    """``[{utilization, score}]`` as (utilization, score) pairs (the plugin checks ranges)."""
    points = []
    for item in node.elements():
        item.check_fields(("utilization", "score"), "UtilizationShapePoint")
        point = []
        for key in ("utilization", "score"):
            value = item[key]
            if isinstance(value.value, bool) or not isinstance(value.value, int):
                raise value.error("an integer")
            point.append(value.value)
        points.append((point[0], point[1]))
    return points
