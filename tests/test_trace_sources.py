"""What the sources put in a ``Trace`` beyond arrivals and durations: deletions
(``metadata.deletionTimestamp`` in manifests) and workload controllers, and how the native
format keeps them (``pods.parquet``'s ``deletion``, ``controllers.parquet``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schedlab.errors import InputError
from schedlab.framework.profile import Profile
from schedlab.objects import Workload
from schedlab.policies import Greedy
from schedlab.sim import replay
from schedlab.traces.manifests import load_manifest_trace
from schedlab.traces.native import read_trace, write_trace
from schedlab.traces.trace import TERMINATION_GRACE_SECONDS, Controller, Trace

NODE = """apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}
"""


def pod(name: str, cpu: str, extra: str = "", spec: str = "") -> str:
    """A Pod manifest asking for ``cpu``; ``extra`` lines go into its metadata, ``spec``
    lines into its spec."""
    return (f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n{extra}"
            f"spec:\n{spec}  containers: [{{name: c, resources: {{requests: {{cpu: "
            f"\"{cpu}\"}}}}}}]\n")


def controller(kind: str, name: str, spec: str, status: str = "") -> str:
    """A workload controller asking 1 cpu per pod; ``spec`` lines go into its spec."""
    api = "batch/v1" if kind == "Job" else "apps/v1"
    return (f"---\napiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}}}\nspec:\n{spec}"
            f"  template:\n    metadata:\n      labels: {{app: {name}}}\n"
            f"      annotations: {{schedlab.io/duration: \"60\"}}\n"
            f"    spec: {{containers: [{{name: c, resources: {{requests: {{cpu: \"1\"}}}}}}]}}\n"
            f"{status}")


def trace_of(tmp_path: Path, text: str) -> Trace:
    path = tmp_path / "input.yaml"
    path.write_text(NODE + text)
    return load_manifest_trace(path)


def outcome(trace: Trace) -> dict[str, tuple]:
    """pod name → (state, reason, start, end) of a replay with the default profile."""
    pods = replay(trace, Greedy(Profile.default()), 0).pods
    return {p.split("/")[1]: (s, r, st, e) for p, s, r, st, e in zip(
        pods["pod"], pods["state"], pods["reason"], pods["start"], pods["end"], strict=True)}


# --- deletionTimestamp ------------------------------------------------------------------------
def test_a_deleted_bound_pod_holds_its_resources_for_the_grace_period(tmp_path: Path) -> None:
    deleted = "  deletionTimestamp: \"2024-01-01T00:00:00Z\"\n"
    trace = trace_of(tmp_path, pod("old", "3", deleted, "  nodeName: n1\n")
                     + pod("gone", "1", deleted + "  annotations: {schedlab.io/arrival: \"5\"}\n")
                     + pod("new", "2", "  annotations: {schedlab.io/arrival: \"1\"}\n"))
    names = [p.name for p in trace.workload.pods]
    assert dict(zip(names, trace.deletion.tolist(), strict=True))["gone"] == 5.0
    assert trace.deletion[names.index("old")] == 0.0 and np.isnan(trace.deletion[names.index(
        "new")])
    result = outcome(trace)
    # old (3 cpu of 4) terminates at 0 but holds its cpu until the grace period ends
    assert result["old"][0] == "Succeeded" and result["old"][3] == TERMINATION_GRACE_SECONDS
    assert (result["new"][0], result["new"][2]) == ("Running", TERMINATION_GRACE_SECONDS)
    state, reason, start, _ = result["gone"]  # pending when deleted: never scheduled
    assert (state, reason) == ("Failed", "deleted while pending") and math.isnan(start)


@pytest.mark.parametrize("value", ['"yesterday"', '"2024-13-01T00:00:00Z"',
                                   '"2024-01-01T00:00:00"', "2024-01-01 00:00:00", "12"])
def test_a_bad_deletion_timestamp_is_one_line(tmp_path: Path, value: str) -> None:
    with pytest.raises(InputError) as error:
        trace_of(tmp_path, pod("p", "1", f"  deletionTimestamp: {value}\n"))
    message = str(error.value)
    assert "\n" not in message and "input.yaml: Pod default/p: metadata.deletionTimestamp" \
        in message and "expected an RFC 3339 time" in message


def test_simulate_reader_still_ignores_deletion_timestamp(tmp_path: Path) -> None:
    from schedlab.traces.manifests import load_manifests

    path = tmp_path / "input.yaml"
    path.write_text(NODE + pod("p", "1", "  deletionTimestamp: \"2024-01-01T00:00:00Z\"\n"))
    assert [p.name for p in load_manifests(path).pods] == ["p"]


# --- controllers ----------------------------------------------------------------------------
CONTROLLERS = (
    controller("DaemonSet", "agent", "")
    + controller("Deployment", "web", "  replicas: 2\n")
    + controller("StatefulSet", "db", "  replicas: 2\n")
    + controller("StatefulSet", "cache", "  replicas: 1\n  podManagementPolicy: Parallel\n")
    + controller("Job", "batch", "  parallelism: 2\n  completions: 5\n",
                 "status: {succeeded: 1}\n")
    + controller("Job", "queue", "  parallelism: 3\n")
    + controller("Job", "once", "")
)


def test_controllers_are_read_from_manifests(tmp_path: Path) -> None:
    trace = trace_of(tmp_path, CONTROLLERS)
    got = {c.name: c for c in trace.controllers}
    assert [c.kind for c in trace.controllers] == ["DaemonSet", "Deployment", "StatefulSet",
                                                   "StatefulSet", "Job", "Job", "Job"]
    assert all(c.namespace == "default" and c.duration == 60.0 for c in got.values())
    assert got["db"].pod_management_policy == "OrderedReady"
    assert got["cache"].pod_management_policy == "Parallel"
    assert (got["batch"].parallelism, got["batch"].completions, got["batch"].succeeded) == \
        (2, 5, 1)
    assert (got["queue"].parallelism, got["queue"].completions) == (3, None)
    assert (got["once"].parallelism, got["once"].completions) == (1, 1)
    # each controller's key is the owner of the pods it made, its template theirs
    keys = {c.key: c for c in trace.controllers}
    for made in trace.workload.pods:
        assert made.owner is not None
        spec = keys[(made.owner.kind, made.namespace, made.owner.name)]
        if spec.kind != "DaemonSet":  # a daemon pod adds tolerations and a node pin
            assert made.template == spec.template


def test_a_bad_pod_management_policy_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"StatefulSet default/db: spec.podManagementPolicy: "
                                         r"got 'Sometimes', expected one of OrderedReady, "
                                         r"Parallel$"):
        trace_of(tmp_path, controller("StatefulSet", "db",
                                      "  podManagementPolicy: Sometimes\n"))


@pytest.mark.parametrize(("policy", "db_1_starts"), [("OrderedReady", 100.0), ("Parallel", 0.0)])
def test_a_stateful_set_waits_for_lower_ordinals_unless_parallel(
        tmp_path: Path, policy: str, db_1_starts: float) -> None:
    # db-0 (3 cpu) fits only once the blocker (2 of 4 cpu) leaves at 100 s; db-1 (1 cpu)
    # fits at once, but an OrderedReady set starts it only once db-0 runs
    owned = "  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: u}]\n"
    trace = trace_of(tmp_path, pod("blocker", "2", "  annotations: {schedlab.io/duration: "
                                   "\"100\"}\n", "  nodeName: n1\n")
                     + pod("db-0", "3", owned)
                     + controller("StatefulSet", "db", f"  replicas: 2\n  podManagementPolicy: "
                                  f"{policy}\n"))
    result = outcome(trace)
    assert result["db-0"][2] == 100.0 and result["db-1"][2] == db_1_starts


# --- the native format ----------------------------------------------------------------------
def bare(trace: Trace) -> Trace:
    """``trace`` without the API objects the native format does not keep."""
    workload = Workload(trace.workload.nodes, trace.workload.pods)
    return Trace(workload, trace.arrival, trace.duration, trace.events, trace.source,
                 trace.deletion, trace.controllers)


@pytest.fixture
def native(tmp_path: Path) -> tuple[Trace, Path]:
    deleted = "  deletionTimestamp: \"2024-01-01T00:00:00Z\"\n"
    trace = bare(trace_of(tmp_path, CONTROLLERS + pod("gone", "1", deleted
                                                       + "  annotations: {schedlab.io/arrival: "
                                                       "\"5\"}\n")))
    write_trace(trace, tmp_path / "t")
    return trace, tmp_path / "t"


def test_native_round_trip_keeps_deletion_and_controllers(native: tuple[Trace, Path]) -> None:
    trace, out = native
    assert not np.isnan(trace.deletion).all() and len(trace.controllers) == 7
    assert read_trace(out) == trace
    assert json.loads((out / "meta.json").read_text())["controllers"] == 7
    # a trace without controllers overwrites the file with one of no rows
    plain = Trace(trace.workload, trace.arrival, trace.duration, source="plain")
    write_trace(plain, out)
    assert read_trace(out) == plain
    assert pq.read_table(out / "controllers.parquet").num_rows == 0


def test_optional_columns_and_files_may_be_absent(native: tuple[Trace, Path]) -> None:
    trace, out = native
    pods = pq.read_table(out / "pods.parquet")
    pq.write_table(pods.drop_columns(["deletion"]), out / "pods.parquet")
    meta = json.loads((out / "meta.json").read_text())
    del meta["controllers"]
    (out / "meta.json").write_text(json.dumps(meta))  # as written before controllers
    again = read_trace(out)  # its controllers.parquet, present, is not read
    assert np.isnan(again.deletion).all() and again.controllers == ()
    assert again.workload == trace.workload


def _set(path: Path, column: str, row: int, value: object, kind: pa.DataType) -> None:
    table = pq.read_table(path)
    values = table.column(column).to_pylist()
    values[row] = value
    index = table.column_names.index(column)
    pq.write_table(table.set_column(index, column, pa.array(values, kind)), path)


@pytest.mark.parametrize(("column", "row", "value", "kind", "expected"), [
    ("kind", 1, "CronJob", pa.string(), "one of ReplicaSet, Deployment"),
    ("name", 2, "Bad_Name", pa.string(), "a controller name"),
    ("name", 3, "db", pa.string(), "a kind/namespace/name no other controller has (row 2"),
    ("template", 0, "{not json", pa.string(), "a JSON v1 Pod"),
    ("duration", 4, -1.0, pa.float64(), "finite seconds >= 0, or null"),
    ("pod_management_policy", 2, "Sometimes", pa.string(), "one of OrderedReady, Parallel"),
    ("parallelism", 4, -2, pa.int64(), "a count of pods >= 0"),
    ("parallelism", 4, None, pa.int64(), "a count of pods >= 0"),
    ("completions", 5, -1, pa.int64(), "or null (a work queue)"),
    ("succeeded", 6, None, pa.int64(), "a count of pods >= 0"),
])
def test_a_bad_controllers_row_is_one_line(native: tuple[Trace, Path], column: str, row: int,
                                           value: object, kind: pa.DataType,
                                           expected: str) -> None:
    _, out = native
    _set(out / "controllers.parquet", column, row, value, kind)
    with pytest.raises(InputError) as error:
        read_trace(out)
    message = str(error.value)
    assert "\n" not in message and message.startswith(
        f"{out / 'controllers.parquet'}: row {row}: {column}") and expected in message


@pytest.mark.parametrize(("value", "expected"), [
    (1.0, "got 1.0, expected finite seconds >= the pod's arrival"),
    (math.nan, "got nan, expected finite seconds >= the pod's arrival"),
    (math.inf, "got inf, expected finite seconds >= the pod's arrival"),
])
def test_a_bad_deletion_is_one_line(native: tuple[Trace, Path], value: float,
                                    expected: str) -> None:
    trace, out = native
    row = [p.name for p in trace.workload.pods].index("gone")  # arrives at 5
    _set(out / "pods.parquet", "deletion", row, value, pa.float64())
    with pytest.raises(InputError, match=rf"pods.parquet: row {row}: deletion: {expected}"):
        read_trace(out)


def test_a_counted_controllers_file_must_be_there(native: tuple[Trace, Path]) -> None:
    _, out = native
    (out / "controllers.parquet").unlink()
    with pytest.raises(InputError, match="controllers.parquet: file: got 'missing'"):
        read_trace(out)
    write_trace(Trace(Workload((), ()), [], [], controllers=(Controller("Job", "a", "b"),)),
                out)
    meta = json.loads((out / "meta.json").read_text())
    (out / "meta.json").write_text(json.dumps({**meta, "controllers": 2}))
    with pytest.raises(InputError, match=r"meta.json: controllers: got 2, expected the number "
                                         r"of rows of controllers.parquet \(1\)"):
        read_trace(out)
