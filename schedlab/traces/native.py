"""schedlab's native trace format: a directory of Parquet files and a ``meta.json``.

``write_trace(trace, directory)`` writes a ``Trace``; ``read_trace(directory)`` reads and
checks one. The files (the README's "Traces over time: the native format" documents every
column and its unit):

meta.json       {"format": "schedlab-trace", "version": 1, "time_unit": "s", "source": ...,
                "nodes": n, "pods": n, "events": n, "controllers": n (absent: none, no file)}
nodes.parquet   name, allocatable_<resource> (int64 in schedlab units, null: the node does
                not list it), labels (JSON object), taints (JSON list of {key, value,
                effect}), unschedulable, gpus, gpu_model
pods.parquet    namespace, name, template (the pod as a compact JSON Kubernetes Pod without
                name, namespace and owner; dictionary-encoded: equal templates are stored
                once), owner_kind, owner_name (null: no owner), arrival (float64 s),
                duration (float64 s, null: runs until the end), deletion (float64 s, >= the
                pod's arrival, null: never deleted; optional on read: absent, never)
events.parquet  time (float64 s), kind, node
controllers.parquet  (no rows when the trace has none) kind, namespace,
                name, template (as pods.parquet's, null: none), duration (float64 s, null:
                until the end), pod_management_policy, parallelism (int64), completions
                (int64, null: a work queue), succeeded (int64)

Reading checks every row and raises one ``InputError`` for the first problem, naming the
file, the row (0-based, as Parquet and pandas count), the column, the value and what was
expected. Each distinct template is parsed once, through the manifest reader's pod-spec code
(the same checks as a Pod in a manifest). Writing is all or none
(``schedlab.report.write_atomic_all``); the same trace gives the same bytes.
"""

from __future__ import annotations

import gc
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from schedlab.errors import InputError, printable
from schedlab.fields import (
    DNS1123_LABEL,
    DNS1123_SUBDOMAIN,
    Field,
    is_label_key,
    is_label_value,
)
from schedlab.objects import Node, OwnerRef, Pod, PodTemplate, Taint, Workload
from schedlab.traces.manifests import (
    KNOWN_FIELDS,
    pod_manifest,
    read_pod_template,
    read_taint,
    unknown_fields,
)
from schedlab.traces.trace import (
    CONTROLLER_KINDS,
    EVENT_KINDS,
    POD_MANAGEMENT_POLICIES,
    Controller,
    NodeEvent,
    Trace,
)

FORMAT = "schedlab-trace"
VERSION = 1
"""The format version ``write_trace`` writes and the only one ``read_trace`` reads."""
META, NODES, PODS, EVENTS = "meta.json", "nodes.parquet", "pods.parquet", "events.parquet"
CONTROLLERS = "controllers.parquet"
ALLOCATABLE_PREFIX = "allocatable_"

_DNS1123_SUBDOMAIN_RE = (r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL_RE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- writing ---------------------------------------------------------------------------------


def template_json(pod: Pod) -> str:
    """The pod's template as the compact JSON Pod manifest ``pods.parquet`` stores: the
    manifest writer's Pod without name, namespace and owner."""
    manifest = pod_manifest(Pod("x", pod.template))
    metadata = {k: v for k, v in manifest.get("metadata", {}).items()
                if k not in ("name", "namespace", "ownerReferences")}
    manifest = {k: v for k, v in manifest.items() if k != "metadata"}
    if metadata:
        manifest = {"apiVersion": manifest["apiVersion"], "kind": manifest["kind"],
                    "metadata": metadata, **{k: v for k, v in manifest.items()
                                             if k not in ("apiVersion", "kind")}}
    return _compact(manifest)


def _tables(trace: Trace) -> dict[str, Any]:
    import pyarrow as pa

    nodes = trace.workload.nodes
    names = sorted({name for node in nodes for name in node.allocatable})
    node_columns: dict[str, Any] = {"name": pa.array([n.name for n in nodes], pa.string())}
    for resource in names:
        node_columns[ALLOCATABLE_PREFIX + resource] = pa.array(
            [n.allocatable.get(resource) for n in nodes], pa.int64())
    node_columns["labels"] = pa.array(
        [_compact(dict(sorted(n.labels.items()))) for n in nodes], pa.string())
    node_columns["taints"] = pa.array(
        [_compact([{"key": t.key, "value": t.value, "effect": t.effect} for t in n.taints])
         for n in nodes], pa.string())
    node_columns["unschedulable"] = pa.array([n.unschedulable for n in nodes], pa.bool_())
    node_columns["gpus"] = pa.array([n.gpus for n in nodes], pa.int64())
    node_columns["gpu_model"] = pa.array([n.gpu_model for n in nodes], pa.string())

    pods = trace.workload.pods
    codes: dict[int, int] = {}  # id(template) -> index in texts
    texts: dict[str, int] = {}
    indices = np.empty(len(pods), dtype=np.int32)
    for i, pod in enumerate(pods):
        code = codes.get(id(pod.template))
        if code is None:
            text = template_json(pod)
            code = codes[id(pod.template)] = texts.setdefault(text, len(texts))
        indices[i] = code
    template = pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()),
                                              pa.array(list(texts), pa.string()))
    duration = trace.duration
    pod_columns = {
        "namespace": pa.array([p.namespace for p in pods], pa.string()),
        "name": pa.array([p.name for p in pods], pa.string()),
        "template": template,
        "owner_kind": pa.array([None if p.owner is None else p.owner.kind for p in pods],
                               pa.string()),
        "owner_name": pa.array([None if p.owner is None else p.owner.name for p in pods],
                               pa.string()),
        "arrival": pa.array(trace.arrival, pa.float64()),
        "duration": pa.array(duration, pa.float64(), mask=np.isnan(duration)),
        "deletion": _seconds_or_null(np.asarray(trace.deletion)),
    }
    events = trace.events
    event_columns = {
        "time": pa.array([float(e.time) for e in events], pa.float64()),
        "kind": pa.array([e.kind for e in events], pa.string()),
        "node": pa.array([e.node for e in events], pa.string()),
    }
    tables = {NODES: pa.table(node_columns), PODS: pa.table(pod_columns),
              EVENTS: pa.table(event_columns), CONTROLLERS: _controllers_table(trace.controllers)}
    return tables


def _seconds_or_null(values: np.ndarray) -> Any:
    """A float64 array of seconds as a pyarrow float64 array, NaN written as null."""
    import pyarrow as pa

    return pa.array(values, pa.float64(), mask=np.isnan(values))


def _controllers_table(controllers: Sequence[Controller]) -> Any:
    """The ``controllers.parquet`` table: one row per controller, in the trace's order."""
    import pyarrow as pa

    def text(c: Controller) -> str | None:
        return None if c.template is None else template_json(Pod("x", c.template))

    def strings(values: list[str | None]) -> Any:
        return pa.array(values, pa.string())

    return pa.table({
        "kind": strings([c.kind for c in controllers]),
        "namespace": strings([c.namespace for c in controllers]),
        "name": strings([c.name for c in controllers]),
        "template": strings([text(c) for c in controllers]),
        "duration": _seconds_or_null(np.array([c.duration for c in controllers], np.float64)),
        "pod_management_policy": strings([c.pod_management_policy for c in controllers]),
        "parallelism": pa.array([c.parallelism for c in controllers], pa.int64()),
        "completions": pa.array([c.completions for c in controllers], pa.int64()),
        "succeeded": pa.array([c.succeeded for c in controllers], pa.int64()),
    })


def meta(trace: Trace) -> dict[str, Any]:
    """The ``meta.json`` of ``trace``."""
    return {"format": FORMAT, "version": VERSION, "time_unit": "s", "source": trace.source,
            "nodes": len(trace.workload.nodes), "pods": len(trace.workload.pods),
            "events": len(trace.events), "controllers": len(trace.controllers)}


def write_trace(trace: Trace, directory: str | os.PathLike[str]) -> list[Path]:
    """Write ``trace`` to ``directory`` (made if missing) as ``meta.json``, ``nodes.parquet``,
    ``pods.parquet``, ``events.parquet`` and ``controllers.parquet`` (no rows when the
    trace has none), all or none; returns the paths written. The
    workload's Services, Namespace labels and controller selectors (``Workload.objects``) are
    not part of format version 1 and are not written."""
    import pyarrow.parquet as pq

    from schedlab.report import write_atomic_all

    out = Path(directory)
    tables = _tables(trace)
    text = json.dumps(meta(trace), indent=2) + "\n"

    def parquet(table: Any) -> Callable[[str], None]:
        return lambda tmp: pq.write_table(table, tmp, compression="zstd")

    writers: dict[Path, Callable[[str], object]] = {
        out / name: parquet(table) for name, table in tables.items()}
    writers[out / META] = lambda tmp: Path(tmp).write_text(text)
    write_atomic_all(writers)
    return list(writers)


# --- reading ---------------------------------------------------------------------------------


class _File:
    """One Parquet file of a trace, read whole, with the checks of its columns."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.path = path
        if not path.is_file():
            raise InputError(str(path), "file", "missing", f"a Parquet file ({FORMAT} "
                             f"version {VERSION})")
        try:
            self.table = pq.read_table(path)
        except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
            raise InputError(str(path), "file", printable(str(error))[:200],
                             "a readable Parquet file") from None
        self.rows = self.table.num_rows

    def error(self, row: int, column: str, value: Any, expected: str) -> InputError:
        return InputError(f"{self.path}: row {row}", column, value, expected)

    def column(self, name: str, kind: str) -> Any:
        """Column ``name`` as one pyarrow array, of ``kind``: "string", "float" (any integer
        or floating type, as float64), "int" (int64 or a narrower integer), "bool"."""
        import pyarrow as pa
        import pyarrow.types as t

        if name not in self.table.column_names:
            raise InputError(str(self.path), "columns", self.table.column_names,
                             f"a column {name!r}")
        column = self.table.column(name)
        kind_ok = {
            "string": lambda ty: t.is_string(ty) or t.is_large_string(ty) or (
                t.is_dictionary(ty) and (t.is_string(ty.value_type)
                                         or t.is_large_string(ty.value_type))),
            "float": lambda ty: t.is_floating(ty) or t.is_integer(ty),
            "int": t.is_integer,
            "bool": t.is_boolean,
        }[kind]
        if not kind_ok(column.type):
            expected = {"string": "a string column", "float": "a float64 column (seconds)",
                        "int": "an int64 column", "bool": "a bool column"}[kind]
            raise InputError(str(self.path), name, f"a column of type {column.type}",
                             expected)
        if kind == "float":
            return column.cast(pa.float64()).combine_chunks()
        if kind == "int":
            return column.cast(pa.int64()).combine_chunks()
        if kind == "string" and t.is_dictionary(column.type):
            return column
        return column.combine_chunks()

    def no_nulls(self, name: str, array: Any, expected: str) -> None:
        if array.null_count:
            import pyarrow.compute as pc

            row = _first(pc.is_null(array))
            raise self.error(row, name, None, expected)

    def first_bad(self, name: str, array: Any, ok: Any, expected: str) -> None:
        """An error for the first row where the bool array ``ok`` is false."""
        import pyarrow.compute as pc

        ok = pc.fill_null(ok, False)
        if not pc.all(ok).as_py() and len(ok):
            row = _first(pc.invert(ok))
            raise self.error(row, name, array[row].as_py(), expected)


def _first(mask: Any) -> int:
    """The index of the first true value of a pyarrow bool array."""
    return int(np.flatnonzero(np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool))[0])


def _strings(file: _File, name: str, pattern: str | None, expected: str) -> Any:
    """A string column without nulls whose values match ``pattern`` (a regex)."""
    import pyarrow.compute as pc

    array = file.column(name, "string")
    if hasattr(array, "chunks"):
        array = array.cast(array.type.value_type).combine_chunks()
    file.no_nulls(name, array, expected)
    if pattern is not None:
        ok = pc.and_(pc.match_substring_regex(array, pattern),
                     pc.less_equal(pc.utf8_length(array), 253))
        file.first_bad(name, array, ok, expected)
    return array


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), "file", "missing", f"the {META} of a {FORMAT} "
                         "directory (schedlab trace convert writes one)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(str(path), "file", str(error), "a readable UTF-8 JSON file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(str(path), "json", error.msg, "a JSON object") from None
    if not isinstance(data, dict):
        raise InputError(str(path), "json", data, "a JSON object")
    if data.get("format") != FORMAT:
        raise InputError(str(path), "format", data.get("format"), repr(FORMAT))
    if data.get("version") != VERSION:
        raise InputError(str(path), "version", data.get("version"),
                         f"{VERSION} (the format version this schedlab reads)")
    if data.get("time_unit") != "s":
        raise InputError(str(path), "time_unit", data.get("time_unit"), "'s' (seconds)")
    if not isinstance(data.get("source", ""), str):
        raise InputError(str(path), "source", data.get("source"), "a string")
    for key in ("nodes", "pods", "events", "controllers"):
        value = data.get(key)
        if key == "controllers" and value is None:
            continue  # optional: a trace written before controllers.parquet
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(str(path), key, value, "a count >= 0")
    return data


def _count(meta_path: Path, meta_data: Mapping[str, Any], key: str, file: _File) -> None:
    if meta_data[key] != file.rows:
        raise InputError(str(meta_path), key, meta_data[key],
                         f"the number of rows of {file.path.name} ({file.rows:,})")


def _read_nodes(file: _File) -> list[Node]:
    import pyarrow.compute as pc

    names = _strings(file, "name", _DNS1123_SUBDOMAIN_RE, f"a node name: {DNS1123_SUBDOMAIN}")
    name_list = names.to_pylist()
    seen: dict[str, int] = {}
    for row, name in enumerate(name_list):
        if name in seen:
            raise file.error(row, "name", name, f"a name no other node has (row {seen[name]} "
                             "has it)")
        seen[name] = row
    amounts: dict[str, list[int | None]] = {}
    for column in file.table.column_names:
        if not column.startswith(ALLOCATABLE_PREFIX):
            continue
        resource = column[len(ALLOCATABLE_PREFIX):]
        values = file.column(column, "int")
        file.first_bad(column, values, pc.or_kleene(pc.is_null(values),
                                                    pc.greater_equal(values, 0)),
                       f"an amount >= 0 of {resource} in schedlab units, or null")
        amounts[resource] = values.to_pylist()
    labels = _strings(file, "labels", None, "a JSON object of labels").to_pylist()
    taints = _strings(file, "taints", None, "a JSON list of taints").to_pylist()
    unschedulable = file.column("unschedulable", "bool")
    file.no_nulls("unschedulable", unschedulable, "true or false")
    gpus = file.column("gpus", "int")
    file.no_nulls("gpus", gpus, "a number of GPUs >= 0")
    file.first_bad("gpus", gpus, pc.greater_equal(gpus, 0), "a number of GPUs >= 0")
    models = _strings(file, "gpu_model", None, "a GPU model ('' without GPUs)").to_pylist()
    gpu_list, unschedulable_list = gpus.to_pylist(), unschedulable.to_pylist()
    good_keys: set[str] = set()
    good_values: set[str] = set()
    taints_of: dict[str, tuple[Taint, ...]] = {}
    nodes = []
    for row, name in enumerate(name_list):
        where = f"{file.path}: row {row}"
        label_map = _json(file, row, "labels", labels[row], dict)
        if not _good_labels(label_map, good_keys, good_values):
            label_map = Field(label_map, where, "labels").label_map()  # raises
        node_taints = taints_of.get(taints[row])
        if node_taints is None:
            taint_list = Field(_json(file, row, "taints", taints[row], list), where, "taints")
            node_taints = taints_of[taints[row]] = tuple(
                read_taint(t) for t in taint_list.elements())
        if gpu_list[row] == 0 and models[row]:
            raise file.error(row, "gpu_model", models[row], "'' when gpus is 0")
        nodes.append(Node(
            name=name,
            allocatable={r: amount for r, v in amounts.items()
                         if (amount := v[row]) is not None},
            labels=label_map,
            taints=node_taints,
            unschedulable=unschedulable_list[row],
            gpus=gpu_list[row],
            gpu_model=models[row],
        ))
    return nodes


def _good_labels(labels: dict[Any, Any], good_keys: set[str], good_values: set[str]) -> bool:
    """True when every key and value of ``labels`` is a valid label key and value (those
    seen valid before are not checked again: many nodes share them)."""
    for key, value in labels.items():
        if not isinstance(value, str):  # JSON keys are strings
            return False
        if key not in good_keys:
            if not is_label_key(key):
                return False
            good_keys.add(key)
        if value not in good_values:
            if not is_label_value(value):
                return False
            good_values.add(value)
    return True


def _json(file: _File, row: int, column: str, text: str, kind: type) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise file.error(row, column, text, f"compact JSON ({error.msg})") from None
    if not isinstance(value, kind):
        raise file.error(row, column, text, f"a JSON {'object' if kind is dict else 'list'}")
    return value


def parse_template(text: str, namespace: str, where: str) -> PodTemplate:
    """The ``PodTemplate`` of a ``template`` cell (a JSON v1 Pod without name and namespace)
    in ``namespace``, checked by the manifest reader's pod code: every field it reads, and
    no field unknown to the Pod type."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(where, "template", text, f"a JSON v1 Pod ({error.msg})") from None
    pod = Field(value, where, "template")
    if not isinstance(value, dict) or value.get("kind") != "Pod" or \
            value.get("apiVersion") != "v1":
        raise pod.error("a JSON object with apiVersion v1 and kind Pod")
    metadata = pod["metadata"]
    for key in ("name", "namespace", "ownerReferences"):
        if metadata[key].value is not None:
            raise metadata[key].error("no such field (the name, namespace and owner are the "
                                      "row's columns)")
    for path, field_value in unknown_fields(value, KNOWN_FIELDS["Pod"]):
        raise InputError(where, f"template.{printable(path)}", field_value,
                         "a field of the Kubernetes Pod type")
    if value.get("status") is not None:
        raise pod["status"].error("no status (a trace's pod arrives pending or bound)")
    metadata["labels"].label_map()
    return read_pod_template(pod["spec"], namespace, metadata)


def _read_pods(file: _File, node_names: set[str]
               ) -> tuple[list[Pod], np.ndarray, np.ndarray, np.ndarray]:
    """The pods of ``pods.parquet`` in file order and their arrival, duration and deletion
    (float64 seconds, NaN for null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    namespaces = _strings(file, "namespace", _DNS1123_LABEL_RE,
                          f"a namespace: {DNS1123_LABEL}")
    file.first_bad("namespace", namespaces, pc.less_equal(pc.utf8_length(namespaces), 63),
                   f"a namespace: {DNS1123_LABEL}")
    names = _strings(file, "name", _DNS1123_SUBDOMAIN_RE, f"a pod name: {DNS1123_SUBDOMAIN}")
    template_column = file.column("template", "string")
    owner_kind = file.column("owner_kind", "string")
    owner_name = file.column("owner_name", "string")
    for name, column in (("owner_kind", owner_kind), ("owner_name", owner_name)):
        if hasattr(column, "chunks"):
            column = column.cast(column.type.value_type).combine_chunks()
        ok = pc.or_kleene(pc.is_null(column), pc.greater(pc.utf8_length(column), 0))
        file.first_bad(name, column, ok, "a non-empty string, or null (no owner)")
    if hasattr(owner_kind, "chunks"):
        owner_kind = owner_kind.cast(owner_kind.type.value_type).combine_chunks()
    if hasattr(owner_name, "chunks"):
        owner_name = owner_name.cast(owner_name.type.value_type).combine_chunks()
    both = pc.equal(pc.is_null(owner_kind), pc.is_null(owner_name))
    file.first_bad("owner_name", owner_name, both,
                   "null exactly where owner_kind is null (an owner has a kind and a name)")
    arrival = file.column("arrival", "float")
    arrival_np = arrival.to_numpy(zero_copy_only=False).astype(np.float64)
    ok = pa.array(np.isfinite(arrival_np) & (arrival_np >= 0)) if file.rows else pa.array(
        [], pa.bool_())
    file.first_bad("arrival", arrival, pc.and_(ok, pc.is_valid(arrival)),
                   "finite seconds >= 0 (not NaN, not null)")
    duration = file.column("duration", "float")
    duration_np = duration.to_numpy(zero_copy_only=False).astype(np.float64)  # null: NaN
    ok_d = np.isnan(duration_np) | (np.isfinite(duration_np) & (duration_np >= 0))
    file.first_bad("duration", duration, pa.array(ok_d, pa.bool_()),
                   "seconds >= 0, or null (runs until the end)")
    deletion_np = np.full(file.rows, np.nan)
    if "deletion" in file.table.column_names:  # optional: absent, no pod is deleted
        deletion = file.column("deletion", "float")
        deletion_np = deletion.to_numpy(zero_copy_only=False).astype(np.float64)  # null: NaN
        null = np.asarray(deletion.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        ok_x = null | (np.isfinite(deletion_np) & (deletion_np >= arrival_np))
        file.first_bad("deletion", deletion, pa.array(ok_x, pa.bool_()),
                       "finite seconds >= the pod's arrival, or null (never deleted)")

    keys = pc.binary_join_element_wise(namespaces, names, "/")
    import pandas as pd

    duplicated = pd.Series(keys.to_numpy(zero_copy_only=False)).duplicated().to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        key = keys[row].as_py()
        first = int(np.flatnonzero(keys.to_numpy(zero_copy_only=False) == key)[0])
        raise file.error(row, "name", key, f"a namespace/name no other pod has (row {first} "
                         "has it)")

    # templates: each distinct (namespace, text) parsed once
    chunks = template_column.chunks if hasattr(template_column, "chunks") else [template_column]
    if not any(pa.types.is_dictionary(c.type) for c in chunks):
        chunks = [pa.chunked_array(chunks).combine_chunks().dictionary_encode()]
    else:
        chunks = [c if pa.types.is_dictionary(c.type) else c.dictionary_encode()
                  for c in chunks]
    namespace_codes = pc.dictionary_encode(namespaces)
    namespace_names = namespace_codes.dictionary.to_pylist()
    namespace_index = namespace_codes.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    texts: list[str] = []
    text_index = np.empty(file.rows, dtype=np.int64)
    row = 0
    for chunk in chunks:
        if chunk.indices.null_count:
            raise file.error(row + _first(pc.is_null(chunk.indices)), "template", None,
                             "a JSON v1 Pod (not null)")
        size = len(chunk)
        text_index[row:row + size] = chunk.indices.to_numpy(zero_copy_only=False) + len(texts)
        texts += chunk.dictionary.to_pylist()
        row += size
    # each distinct (namespace, template text) is parsed once, at its first row
    codes = namespace_index * max(len(texts), 1) + text_index
    unique, first_rows, inverse = np.unique(codes, return_index=True, return_inverse=True)
    by_text: dict[tuple[int, str], PodTemplate] = {}
    interned: dict[PodTemplate, PodTemplate] = {}
    order = np.argsort(first_rows, kind="stable")  # parse in row order: first error first
    parsed_at: dict[int, PodTemplate] = {}
    for k in order.tolist():
        first = int(first_rows[k])
        namespace = int(namespace_index[first])
        text = texts[int(text_index[first])]
        template = by_text.get((namespace, text))
        if template is None:
            parsed = parse_template(text, namespace_names[namespace], f"{file.path}: row {first}")
            template = by_text[(namespace, text)] = interned.setdefault(parsed, parsed)
            if template.node_name is not None and template.node_name not in node_names:
                raise file.error(first, "template", text, "a bound pod's spec.nodeName "
                                 "naming a node of nodes.parquet")
        parsed_at[k] = template
    distinct = [parsed_at[k] for k in range(len(unique))]
    template_of = [distinct[k] for k in inverse.tolist()]

    owners: dict[tuple[str, str], OwnerRef] = {}
    refs: list[OwnerRef | None] = []
    for kind, owner in zip(owner_kind.to_pylist(), owner_name.to_pylist(), strict=True):
        ref = None
        if kind is not None:
            ref = owners.get((kind, owner))
            if ref is None:
                ref = owners[(kind, owner)] = OwnerRef(kind, owner)
        refs.append(ref)
    pods = list(map(Pod, names.to_pylist(), template_of, refs))
    return pods, arrival_np, duration_np, deletion_np


def _read_events(file: _File, node_names: set[str]) -> list[NodeEvent]:
    import pyarrow as pa
    import pyarrow.compute as pc

    time = file.column("time", "float")
    time_np = time.to_numpy(zero_copy_only=False).astype(np.float64)
    ok = np.isfinite(time_np) & (time_np >= 0)
    file.first_bad("time", time, pc.and_(pa.array(ok, pa.bool_()), pc.is_valid(time)),
                   "finite seconds >= 0")
    kinds = _strings(file, "kind", None, f"one of {', '.join(EVENT_KINDS)}")
    file.first_bad("kind", kinds, pc.is_in(kinds, pa.array(EVENT_KINDS)),
                   f"one of {', '.join(EVENT_KINDS)}")
    nodes = _strings(file, "node", None, "the name of a node of nodes.parquet")
    file.first_bad("node", nodes, pc.is_in(nodes, pa.array(sorted(node_names), pa.string())),
                   "the name of a node of nodes.parquet")
    events = [NodeEvent(t, k, n) for t, k, n in zip(time_np.tolist(), kinds.to_pylist(),
                                                    nodes.to_pylist(), strict=True)]
    return sorted(events, key=lambda e: e.time)


def _read_controllers(file: _File) -> list[Controller]:
    """The controllers of ``controllers.parquet``, in file order, each row checked."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kinds = _strings(file, "kind", None, f"one of {', '.join(CONTROLLER_KINDS)}")
    file.first_bad("kind", kinds, pc.is_in(kinds, pa.array(CONTROLLER_KINDS)),
                   f"one of {', '.join(CONTROLLER_KINDS)}")
    namespaces = _strings(file, "namespace", _DNS1123_LABEL_RE,
                          f"a namespace: {DNS1123_LABEL}")
    file.first_bad("namespace", namespaces, pc.less_equal(pc.utf8_length(namespaces), 63),
                   f"a namespace: {DNS1123_LABEL}")
    names = _strings(file, "name", _DNS1123_SUBDOMAIN_RE,
                     f"a controller name: {DNS1123_SUBDOMAIN}")
    templates = file.column("template", "string")
    if hasattr(templates, "chunks"):
        templates = templates.cast(pa.string()).combine_chunks()
    duration = file.column("duration", "float")
    duration_np = duration.to_numpy(zero_copy_only=False).astype(np.float64)  # null: NaN
    null = np.asarray(duration.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    file.first_bad("duration", duration,
                   pa.array(null | (np.isfinite(duration_np) & (duration_np >= 0)), pa.bool_()),
                   "finite seconds >= 0, or null (runs until the end)")
    policies = _strings(file, "pod_management_policy", None,
                        f"one of {', '.join(POD_MANAGEMENT_POLICIES)}")
    file.first_bad("pod_management_policy", policies,
                   pc.is_in(policies, pa.array(POD_MANAGEMENT_POLICIES)),
                   f"one of {', '.join(POD_MANAGEMENT_POLICIES)}")
    counts: dict[str, list[int | None]] = {}
    for column, nullable, expected in (
        ("parallelism", False, "a count of pods >= 0"),
        ("completions", True, "a count of pods >= 0, or null (a work queue)"),
        ("succeeded", False, "a count of pods >= 0"),
    ):
        values = file.column(column, "int")
        if not nullable:
            file.no_nulls(column, values, expected)
        file.first_bad(column, values, pc.or_kleene(pc.is_null(values),
                                                    pc.greater_equal(values, 0)), expected)
        counts[column] = values.to_pylist()
    made: list[Controller] = []
    seen: dict[tuple[str, str, str], int] = {}
    parsed: dict[tuple[str, str], PodTemplate] = {}
    rows = zip(kinds.to_pylist(), namespaces.to_pylist(), names.to_pylist(),
               templates.to_pylist(), policies.to_pylist(), strict=True)
    for row, (kind, namespace, name, text, policy) in enumerate(rows):
        key = (kind, namespace, name)
        if key in seen:
            raise file.error(row, "name", "/".join(key), "a kind/namespace/name no other "
                             f"controller has (row {seen[key]} has it)")
        seen[key] = row
        template = None
        if text is not None:
            template = parsed.get((namespace, text))
            if template is None:
                template = parsed[namespace, text] = parse_template(
                    text, namespace, f"{file.path}: row {row}")
        completions = counts["completions"][row]
        made.append(Controller(
            kind, namespace, name, template, float(duration_np[row]), policy,
            parallelism=int(counts["parallelism"][row] or 0), completions=completions,
            succeeded=int(counts["succeeded"][row] or 0)))
    return made


def read_trace(directory: str | os.PathLike[str]) -> Trace:
    """The trace in ``directory`` (see the module docstring), checked: ``InputError`` for the
    first problem (a missing file or column, a column of the wrong type, a bad value in a row,
    a duplicate node name or pod namespace/name, an event on an unknown node or of an unknown
    kind, an unsupported format version, a deletion before its pod's arrival, a bad or
    repeated controller). Pods are returned in arrival order and events in time order, both
    stably (a file need not be sorted). ``controllers.parquet`` is read when present (and
    must be when ``meta.json`` counts ``controllers``); without a ``deletion`` column no pod
    is deleted."""
    enabled = gc.isenabled()
    gc.disable()  # millions of new objects, none of them garbage: the collector only costs
    try:
        return _read_trace(Path(directory))
    finally:
        if enabled:
            gc.enable()


def _read_trace(root: Path) -> Trace:
    if not root.is_dir():
        raise InputError(str(root), "directory", "missing" if not root.exists() else
                         "not a directory", f"a {FORMAT} directory (meta.json, "
                         "nodes.parquet, pods.parquet, events.parquet)")
    meta_path = root / META
    meta_data = _read_meta(meta_path)
    names = [NODES, PODS, EVENTS]
    counted = [("nodes", NODES), ("pods", PODS), ("events", EVENTS)]
    if "controllers" in meta_data:  # absent: a trace written before controllers.parquet
        counted.append(("controllers", CONTROLLERS))
        names.append(CONTROLLERS)
    files = {name: _File(root / name) for name in names}
    for key, name in counted:
        _count(meta_path, meta_data, key, files[name])
    nodes = _read_nodes(files[NODES])
    node_names = {n.name for n in nodes}
    pods, arrival, duration, deletion = _read_pods(files[PODS], node_names)
    events = _read_events(files[EVENTS], node_names)
    controllers = _read_controllers(files[CONTROLLERS]) if CONTROLLERS in files else []
    workload = Workload(tuple(nodes), tuple(pods))
    return Trace.sorted(workload, arrival, duration, events, meta_data.get("source", ""),
                        deletion, tuple(controllers))


def summary(trace: Trace) -> dict[str, Any]:
    """What ``schedlab trace info`` prints: counts, the span (the latest arrival, pod end or
    event), the last arrival, arrivals per hour (mean from 0 to the last arrival; peak: the
    most in one clock hour [k h, (k+1) h)), the running pods' cpu and memory requests over
    the cluster's capacity (see ``load``), the node events per kind, the pods with a
    deletion time and the controllers."""
    arrival, duration = trace.arrival, trace.duration
    ends = arrival + np.nan_to_num(duration, nan=0.0)
    times = [0.0, *([float(arrival.max()), float(ends.max())] if len(arrival) else []),
             *(e.time for e in trace.events)]
    span = max(times)
    hours = np.floor(arrival / 3600.0).astype(np.int64)
    peak = int(np.bincount(hours).max()) if len(hours) else 0
    last = float(arrival.max()) if len(arrival) else 0.0
    mean_rate = len(arrival) / (last / 3600.0) if last > 0 else math.nan
    kinds = {kind: 0 for kind in EVENT_KINDS}
    for event in trace.events:
        kinds[event.kind] += 1
    return {"nodes": len(trace.workload.nodes), "pods": len(trace.workload.pods),
            "span_s": span, "arrivals_per_hour_mean": mean_rate,
            "arrivals_per_hour_peak": peak,
            "arrivals_end_s": float(arrival.max()) if len(arrival) else 0.0,
            **{f"{resource}_{k}": v for resource in ("cpu", "memory")
               for k, v in load(trace, resource, span).items()},
            "events": kinds,
            "deleted": int(np.count_nonzero(~np.isnan(np.asarray(trace.deletion)))),
            "controllers": len(trace.controllers), "source": trace.source}


def load(trace: Trace, resource: str, span: float | None = None) -> dict[str, float]:
    """The requests of ``resource`` of the running pods over the capacity of all nodes, as if
    each pod ran from its arrival (no waiting) for its duration (NaN: to ``span``, default
    the latest arrival or end) on a cluster of every node of the workload (node events
    ignored): ``requested_mean``, the mean over time from 0 to the last arrival (while pods
    keep arriving; the whole span when all arrive at 0), ``requested_peak``, the largest
    value at any time, and ``capacity``; the ratios are NaN when the capacity is 0. When the
    span is 0 (all pods arrive at 0, none with a duration), both are the requests of the
    pods running until the end."""
    arrival, duration = trace.arrival, trace.duration
    capacity = float(sum(n.allocatable.get(resource, 0) for n in trace.workload.nodes))
    if span is None:
        ends = arrival + np.nan_to_num(duration, nan=0.0)
        span = float(max(0.0, ends.max())) if len(ends) else 0.0
    per_template: dict[int, float] = {}
    asks = np.empty(len(arrival))
    for i, pod in enumerate(trace.workload.pods):
        ask = per_template.get(id(pod.template))
        if ask is None:
            ask = per_template[id(pod.template)] = float(pod.template.requests.get(resource, 0))
        asks[i] = ask
    end = np.where(np.isnan(duration), span,
                   np.minimum(arrival + np.nan_to_num(duration), span))
    window = float(arrival.max()) if len(arrival) and arrival.max() > 0 else span
    if capacity <= 0:
        return {"requested_mean": math.nan, "requested_peak": math.nan, "capacity": capacity}
    if span <= 0:  # every pod arrives at 0: those running until the end run throughout
        share = float(asks[np.isnan(duration)].sum()) / capacity
        return {"requested_mean": share, "requested_peak": share, "capacity": capacity}
    running = np.maximum(np.minimum(end, window) - arrival, 0.0)
    mean = float(np.sum(asks * running)) / (capacity * window)
    times = np.concatenate([arrival, end])
    deltas = np.concatenate([asks, -asks])
    order = np.lexsort((deltas, times))  # at one time, departures before arrivals
    total = np.cumsum(deltas[order])
    peak = float(total.max()) / capacity if len(total) else 0.0
    return {"requested_mean": mean, "requested_peak": peak, "capacity": capacity}


def summary_rows(info: Mapping[str, Any]) -> Sequence[tuple[str, str]]:
    """``summary`` as (what, value) rows for a text table."""
    span = info["span_s"]
    rows = [("nodes", f"{info['nodes']:,}"), ("pods", f"{info['pods']:,}"),
            ("span", f"{span:,.0f} s ({span / 3600:,.2f} h)"),
            ("last arrival", f"{info['arrivals_end_s']:,.0f} s "
                             f"({info['arrivals_end_s'] / 3600:,.2f} h)"),
            ("arrivals per hour, mean", _number(info["arrivals_per_hour_mean"])),
            ("arrivals per hour, peak", f"{info['arrivals_per_hour_peak']:,}")]
    for resource in ("cpu", "memory"):
        rows.append((f"{resource} requested / capacity, mean until the last arrival",
                     _percent(info[f"{resource}_requested_mean"])))
        rows.append((f"{resource} requested / capacity, peak",
                     _percent(info[f"{resource}_requested_peak"])))
    rows += [(f"events {kind}", f"{count:,}") for kind, count in info["events"].items()]
    rows += [("pods deleted (deletion time)", f"{info['deleted']:,}"),
             ("controllers", f"{info['controllers']:,}")]
    rows.append(("source", info["source"] or "-"))
    return rows


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.1f}"


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.1f} %"
