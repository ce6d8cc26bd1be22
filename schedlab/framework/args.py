"""Typed plugin args: kube's ``<Name>Args`` as frozen dataclasses that plugins own.

A plugin declares ``Args = MyArgs``, a frozen dataclass derived from ``PluginArgs``: its
fields are the args' fields in snake_case (kube's camelCase names in YAML: ``hardPodAffinity
Weight`` is ``hard_pod_affinity_weight``), each with its default. The same checks run
whether the args come from Python (``MyPlugin(weight=3)``, ``MyPlugin(MyArgs(weight=3))``) or
from a KubeSchedulerConfiguration's ``pluginConfig`` (``PluginArgs.from_config``), so a user's
plugin is configured exactly as a built-in one:

* every field is checked against its annotation: ``int`` (not a bool), ``bool``, ``str``,
  ``float``, ``X | None``, ``tuple[X, ...]`` (a list is accepted and kept as a tuple),
  ``Mapping[str, X]`` (kept as a ``FrozenMap``), a nested ``PluginArgs`` (kube's nested
  structs, ``scoringStrategy``), or any other class (an instance of it);
* ``arg(default, minimum=, maximum=, choices=)`` bounds a number or lists a string's values;
  ``check=`` adds a test of its own (a function returning what was expected, or None);
  ``read=`` reads the field from its YAML node when it is not one of the types above (node
  affinity terms, topology spread constraints);
* ``validate`` (override it) checks fields against each other, raising ``ArgsError``.

A refused value raises ``ArgsError`` (a ``ConfigError``) naming the args type, the field path
in kube's names, the value and what was expected; read from a configuration, the error names
the file and the field's full path there instead.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from schedlab.errors import ConfigError, InputError
from schedlab.fields import Field
from schedlab.objects import FrozenMap

API_VERSION = "kubescheduler.config.k8s.io/v1"
_ARGS_META = ("apiVersion", "kind")

Path = tuple[str | int, ...]
"""Keys (kube's camelCase names) and list indices from the args down to a field."""

A = TypeVar("A", bound="PluginArgs")


class ArgsError(ConfigError):
    """A plugin args value refused: ``path`` leads to the field from the args' top."""

    def __init__(self, type_name: str, path: Path, value: object, expected: str) -> None:
        self.path = path
        super().__init__(type_name, _dotted(path) or "args", value, expected)


def arg(default: Any = dataclasses.MISSING, *, minimum: int | None = None,
        maximum: int | None = None, choices: tuple[str, ...] = (),
        check: Callable[[Any], str | None] | None = None,
        check_each: Callable[[Any], str | None] | None = None,
        read: Callable[[Field], Any] | None = None, required: bool = False,
        expected: str = "") -> Any:
    """A field of a ``PluginArgs`` with its default and checks (see the module docstring):
    ``check_each`` tests each item of a tuple as ``check`` tests the value; ``required``
    fields must be given in a configuration (kube's required fields of a nested struct);
    ``expected`` replaces the default wording of a type error."""
    metadata = {"minimum": minimum, "maximum": maximum, "choices": choices, "check": check,
                "check_each": check_each, "read": read, "required": required,
                "expected": expected}
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class PluginArgs:
    """Base of typed plugin args (frozen dataclasses); with no fields, the args of a plugin
    that takes none."""

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            checked = _checked(value, hints[spec.name], spec.metadata, (_camel(spec.name),),
                               self.type_name())
            if checked is not value:
                object.__setattr__(self, spec.name, checked)
        self.validate()

    def validate(self) -> None:
        """Checks of fields against each other (override; raise ``self.error(...)``)."""

    def default(self, name: str, value: Any) -> None:
        """For ``validate``: set field ``name`` to its kube-defaulted ``value``."""
        object.__setattr__(self, name, value)

    @classmethod
    def type_name(cls) -> str:
        """The name errors give the args (the class name)."""
        return cls.__name__

    def error(self, path: Path, value: object, expected: str) -> ArgsError:
        """The error for the field at ``path`` (kube's names) holding ``value``."""
        return ArgsError(self.type_name(), path, value, expected)

    @classmethod
    def keys(cls) -> dict[str, str]:
        """kube's (camelCase) name of each field → the field's name."""
        return {_camel(f.name): f.name for f in dataclasses.fields(cls)}

    @classmethod
    def from_config(cls: type[A], node: Field, kind: str | None = None) -> A:
        """The args read from a configuration's ``args`` mapping ``node`` (kube decodes them
        strictly: unknown fields are errors). At the top of a plugin's args, ``kind`` is
        their kube type name (``<plugin name>Args``), which a ``kind`` field there must
        give, next to an optional ``apiVersion``; a nested struct has none. Errors name the
        file and the field's path there."""
        keys = tuple(cls.keys())
        for key, child in node.entries():
            if key not in keys and (kind is None or key not in _ARGS_META):
                raise child.error(f"a known field of {kind or cls.type_name()} (one of: "
                                  f"{', '.join(keys) or 'none'})")
        if kind is not None:
            _check_meta(node, kind)
        hints = _hints(cls)
        values = {}
        for spec in dataclasses.fields(cls):
            child = node[_camel(spec.name)]
            if child.value is not None:
                values[spec.name] = _read(child, hints[spec.name], spec.metadata)
            elif spec.metadata.get("required"):
                values[spec.name] = None  # (refused below, at its place)
        try:
            return cls(**values)
        except ArgsError as error:
            raise _located(node, error) from None


def args_of(args_type: type[A], args: A | None, fields: Mapping[str, Any]) -> A:
    """A plugin's args: ``args`` as given, or ``args_type`` made of the keyword ``fields``
    (not both)."""
    if args is None:
        try:
            return args_type(**fields)
        except TypeError as error:  # an unknown keyword
            raise ArgsError(args_type.type_name(), (), dict(fields),
                            f"fields of {args_type.__name__} "
                            f"({', '.join(f.name for f in dataclasses.fields(args_type))}): "
                            f"{error}") from None
    if fields or not isinstance(args, args_type):
        raise ArgsError(args_type.type_name(), (), args,
                        f"one {args_type.__name__} or its fields as keywords")
    return args


# --- readers for fields of kube's shapes -----------------------------------------------------


def resource_weights(node: Field) -> FrozenMap[str, int]:
    """``[{name, weight}]`` as {name: weight}, each name once (the field's ``check``
    bounds the weights)."""
    weights: dict[str, int] = {}
    for item in node.elements():
        item.check_fields(("name", "weight"), "ResourceSpec")
        name_node = item["name"]
        name = name_node.name()
        if name in weights:
            raise name_node.error("a resource not already listed")
        weights[name] = item["weight"].integer(default=0, minimum=0, maximum=100)
    return FrozenMap(weights)


def shape_points(node: Field) -> tuple[tuple[int, int], ...]:
    """``[{utilization, score}]`` as (utilization, score) pairs (the args check ranges)."""
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
    return tuple(points)


# --- checking and reading by annotation ------------------------------------------------------


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The evaluated annotations of a dataclass (once per class)."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _checked(value: Any, hint: Any, meta: Mapping[str, Any], path: Path, owner: str) -> Any:
    """``value`` checked against ``hint`` and the field's ``meta`` (and normalised: lists to
    tuples, mappings to FrozenMaps); raises ArgsError."""
    def refuse(expected: str) -> ArgsError:
        return ArgsError(owner, path, value, meta.get("expected") or expected)

    origin, params = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in params:
            return value
        inner = [p for p in params if p is not type(None)]
        return _checked(value, inner[0] if len(inner) == 1 else Any, meta, path, owner)
    if hint is bool:
        if not isinstance(value, bool):
            raise refuse("true or false")
    elif hint is int or hint is float:
        lo, hi = meta.get("minimum"), meta.get("maximum")
        number = int if hint is int else (int, float)
        if (isinstance(value, bool) or not isinstance(value, number)
                or (lo is not None and value < lo) or (hi is not None and value > hi)):
            raise refuse(_range("an integer" if hint is int else "a number", lo, hi))
    elif hint is str:
        choices = meta.get("choices") or ()
        if not isinstance(value, str) or (choices and value not in choices):
            raise refuse("one of " + ", ".join(choices) if choices else "a string")
    elif origin is tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
            raise refuse("a list")
        item_hint = params[0] if params else Any
        each = {"check": meta.get("check_each")}
        items = tuple(_checked(v, item_hint, each, (*path, i), owner)
                      for i, v in enumerate(value))
        value = value if isinstance(value, tuple) and all(
            a is b for a, b in zip(items, value, strict=True)) else items
    elif origin is Mapping or origin is dict:
        if not isinstance(value, Mapping):
            raise refuse("a mapping")
        key_hint, item_hint = params if params else (Any, Any)
        for key, item in value.items():
            _checked(key, key_hint, {}, path, owner)
            _checked(item, item_hint, {}, (*path, str(key)), owner)
        value = value if isinstance(value, FrozenMap) else FrozenMap(value)
    elif isinstance(hint, type) and hint is not object and not isinstance(value, hint):
        raise refuse(f"a {hint.__module__}.{hint.__qualname__}")
    check = meta.get("check")
    problem = check(value) if check is not None else None
    if problem:
        raise refuse(problem)
    return value


def _read(node: Field, hint: Any, meta: Mapping[str, Any]) -> Any:
    """The Python value of YAML ``node`` for a field of type ``hint`` (before checks)."""
    read = meta.get("read")
    if read is not None:
        return read(node)
    origin, params = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [p for p in params if p is not type(None)]
        return _read(node, inner[0], meta) if len(inner) == 1 else node.value
    if isinstance(hint, type) and issubclass(hint, PluginArgs):
        return hint.from_config(node)
    if origin is tuple and params and isinstance(node.value, list):
        return tuple(_read(item, params[0], {}) for item in node.elements())
    return node.value


def _located(node: Field, error: ArgsError) -> InputError:
    """``error`` at its field below ``node`` in the configuration, showing the value as
    written there (the refused Python value where the field is absent)."""
    for step in error.path:
        items = node.elements() if isinstance(step, int) else None
        node = node[step] if items is None else items[step]  # type: ignore[index]
    return node.error(error.expected, error.value if node.value is None else node.value)


def _check_meta(node: Field, kind: str) -> None:
    """An args mapping's optional ``apiVersion`` and ``kind``."""
    for key, expected in (("apiVersion", API_VERSION), ("kind", kind)):
        if node[key].value not in (None, expected):
            raise node[key].error(expected)


def _range(number: str, lo: int | None, hi: int | None) -> str:
    """``number`` ("an integer"), with its bounds."""
    if lo is not None and hi is not None:
        return f"{number} in {lo}..{hi}"
    if lo is not None or hi is not None:
        return f"{number} >= {lo}" if lo is not None else f"{number} <= {hi}"
    return number


def _dotted(path: Path) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def _camel(name: str) -> str:
    """snake_case to kube's camelCase."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
