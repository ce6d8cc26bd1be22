"""Bounded decoding of YAML and JSON files from strangers.

``read_documents`` reads a file's documents (several for YAML, one for JSON) as the API server
would accept them, within limits on what it decodes, and raises ``InputError`` naming the
file, where and why otherwise:

* the file holds at most ``MAX_FILE_BYTES`` bytes of UTF-8;
* values nest at most ``MAX_DEPTH`` levels deep;
* a document holds at most ``MAX_VALUES`` values counted after YAML aliases are expanded (a
  "billion laughs" file is refused at once instead of exhausting memory), and aliases never
  form a cycle;
* no mapping repeats a key (YAML and JSON parsers keep the last silently; kubectl refuses).

Only plain data is built (YAML's safe loader, no tags that make objects).
"""

from __future__ import annotations

import json
import os
from typing import Any

import yaml

from schedlab.errors import InputError

MAX_FILE_BYTES = 64 * 2**20
"""The largest input file decoded, in bytes (64 MiB)."""
MAX_DEPTH = 100
"""The deepest nesting of mappings and lists accepted."""
MAX_VALUES = 10_000_000
"""The most values (scalars, mappings and lists, aliases expanded) one document may hold."""

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE_LOADER):
    """The safe loader, refusing a mapping that repeats a key."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<" merges keys that explicit ones may override, as YAML says
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
            except TypeError:  # unhashable: the base loader says so
                break
            if repeated:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {_short(key)}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)



def _short(value: Any, limit: int = 80) -> str:
    text = repr(value) if isinstance(value, str) else type(value).__name__
    return text if len(text) <= limit else f"{text[:limit]}..."


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"duplicate key {_short(key)}")
        found[key] = value
    return found


def read_documents(path: str | os.PathLike[str], *, error: type[InputError] = InputError,
                   json_suffix: bool | None = None) -> list[Any]:
    """The documents of the YAML or JSON file ``path`` (JSON when its name ends in
    ``.json``, or as ``json_suffix`` says), within the module's limits; errors are
    ``error`` (``InputError`` or a subclass) naming the file."""
    file = os.fspath(path)
    is_json = file.lower().endswith(".json") if json_suffix is None else json_suffix
    try:
        with open(file, "rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise error(file, "size", f"more than {MAX_FILE_BYTES:,} bytes",
                        f"a file of at most {MAX_FILE_BYTES // 2**20} MiB")
    except OSError as failure:
        raise error(file, "file", failure.strerror or str(failure), "a readable file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as failure:
        raise error(file, "content", str(failure), "UTF-8 text") from None
    try:
        if is_json:
            documents = [json.loads(text, object_pairs_hook=_no_repeats)]
        else:
            documents = list(yaml.load_all(text, Loader=_Loader))
    except json.JSONDecodeError as failure:
        raise error(file, f"line {failure.lineno}", failure.msg, "valid JSON") from None
    except ValueError as failure:  # a repeated JSON key
        raise error(file, "content", str(failure), "valid JSON with unique keys") from None
    except yaml.YAMLError as failure:
        mark = getattr(failure, "problem_mark", None)
        problem = getattr(failure, "problem", None) or str(failure)
        where = "content" if mark is None else f"line {mark.line + 1}"
        raise error(file, where, " ".join(problem.split()), "valid YAML") from None
    except RecursionError:
        raise error(file, "content", "nesting too deep",
                    f"values nested at most {MAX_DEPTH} levels deep") from None
    for number, document in enumerate(documents, start=1):
        _check_size(document, file, number, error)
    return documents


def _check_size(document: Any, file: str, number: int, error: type[InputError]) -> None:
    """Refuse a document nesting deeper than ``MAX_DEPTH`` (aliases in a cycle nest without
    end) or holding more than ``MAX_VALUES`` values with its aliases expanded. Each shared
    mapping or list is measured once, so a billion laughs costs its size in the file."""
    measured: dict[int, tuple[int, int]] = {}  # id → (values, height)
    where = f"document {number}"

    def measure(value: Any, depth: int) -> tuple[int, int]:
        if not isinstance(value, dict | list):
            return 1, 0
        known = measured.get(id(value))
        if known is None:
            if depth > MAX_DEPTH:
                raise error(file, where, f"nesting deeper than {MAX_DEPTH} levels",
                            f"values nested at most {MAX_DEPTH} levels deep (and no YAML "
                            "alias inside itself)")
            children = value.values() if isinstance(value, dict) else value
            size, height = 1, 0
            for child in children:
                child_size, child_height = measure(child, depth + 1)
                size, height = size + child_size, max(height, child_height + 1)
                if size > MAX_VALUES:
                    raise error(file, where, f"more than {MAX_VALUES:,} values",
                                f"at most {MAX_VALUES:,} values with YAML aliases expanded")
            known = measured[id(value)] = (size, height)
        if depth + known[1] > MAX_DEPTH:
            raise error(file, where, f"nesting deeper than {MAX_DEPTH} levels",
                        f"values nested at most {MAX_DEPTH} levels deep")
        return known

    measure(document, 0)
