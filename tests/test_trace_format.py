"""The native trace format (schedlab.traces.native), the timed sources (manifest annotations,
the Alibaba times, the synthetic generator) and the ``schedlab trace`` commands."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedlab.cli import main
from schedlab.errors import InputError, SchedlabError
from schedlab.objects import Container, Node, OwnerRef, Pod, PodTemplate, Workload
from schedlab.testing import workloads
from schedlab.traces.manifests import load_manifest_trace
from schedlab.traces.native import read_trace, summary, write_trace
from schedlab.traces.synthetic import trace as synthetic_trace
from schedlab.traces.trace import EVENT_KINDS, NodeEvent, Trace

ROOT = Path(__file__).resolve().parents[1]
TRACE_DIR = ROOT.parent / "shared" / "traces" / "alibaba-gpu-v2023"


def small_trace() -> Trace:
    web = PodTemplate(labels={"app": "web"},
                      containers=(Container("c", {"cpu": 500, "memory": 2**30}),))
    batch = PodTemplate(namespace="jobs", containers=(Container("c", {"cpu": 2000}),),
                        priority=10)
    bound = PodTemplate(containers=(Container("c", {"cpu": 100}),), node_name="node-a")
    nodes = (Node("node-a", {"cpu": 4000, "memory": 8 * 2**30, "pods": 110},
                  {"zone": "a"}),
             Node("node-b", {"cpu": 8000, "memory": 16 * 2**30, "pods": 110, "example.com/x": 2},
                  {"zone": "b"}, unschedulable=True, gpus=2, gpu_model="A100"))
    pods = (Pod("bound", bound), Pod("web-0", web, OwnerRef("Deployment", "web")),
            Pod("web-1", web, OwnerRef("Deployment", "web")), Pod("b-0", batch))
    events = (NodeEvent(10.0, "cordon", "node-a"), NodeEvent(20.0, "node-fail", "node-b"))
    return Trace(Workload(nodes, pods), [0.0, 1.5, 1.5, 7.0], [math.nan, 30.0, 0.0, 3600.0],
                 events, "a test")


@pytest.fixture
def written(tmp_path: Path) -> Path:
    out = tmp_path / "trace"
    write_trace(small_trace(), out)
    return out


def test_round_trip_and_files(written: Path) -> None:
    assert sorted(p.name for p in written.iterdir()) == [
        "controllers.parquet", "events.parquet", "meta.json", "nodes.parquet", "pods.parquet"]
    assert read_trace(written) == small_trace()
    meta = json.loads((written / "meta.json").read_text())
    assert meta == {"format": "schedlab-trace", "version": 1, "time_unit": "s",
                    "source": "a test", "nodes": 2, "pods": 4, "events": 2,
                    "controllers": 0}
    pods = pq.read_table(written / "pods.parquet")
    assert pa.types.is_dictionary(pods.schema.field("template").type)
    assert len(pods.column("template").chunk(0).dictionary) == 3  # web's stored once
    assert pods.column("duration").to_pylist() == [None, 30.0, 0.0, 3600.0]
    template = json.loads(pods.column("template").to_pylist()[1])
    assert "name" not in template["metadata"] and template["kind"] == "Pod"
    nodes = pq.read_table(written / "nodes.parquet")
    assert nodes.column("allocatable_cpu").to_pylist() == [4000, 8000]
    assert nodes.column("allocatable_example.com/x").to_pylist() == [None, 2]


def test_same_trace_same_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        write_trace(small_trace(), tmp_path / name)
    for file in ("meta.json", "nodes.parquet", "pods.parquet", "events.parquet"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


@st.composite
def traces(draw: st.DrawFn) -> Trace:
    workload = draw(workloads(max_pending=8, max_bound=2))
    workload = Workload(workload.nodes, workload.pods)  # objects are not in the format
    n = len(workload.pods)
    times = st.floats(0, 1e7, allow_nan=False)
    arrival = draw(st.lists(times, min_size=n, max_size=n))
    duration = draw(st.lists(st.one_of(st.just(math.nan), times), min_size=n, max_size=n))
    arrival = [0.0 if p.template.node_name else a for p, a in zip(workload.pods, arrival,
                                                                  strict=True)]
    names = [node.name for node in workload.nodes]
    events = draw(st.lists(st.builds(NodeEvent, times, st.sampled_from(EVENT_KINDS),
                                     st.sampled_from(names)), max_size=4))
    return Trace.sorted(workload, arrival, duration, events, draw(st.text(max_size=10)))


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                  HealthCheck.too_slow])
@given(traces())
def test_round_trip_property(tmp_path_factory: pytest.TempPathFactory, trace: Trace) -> None:
    out = tmp_path_factory.mktemp("trace")
    write_trace(trace, out)
    again = read_trace(out)
    assert again == trace
    write_trace(again, out / "again")
    assert (out / "pods.parquet").read_bytes() == (out / "again" / "pods.parquet").read_bytes()


def test_trace_checks_its_arrays() -> None:
    trace = small_trace()
    with pytest.raises(SchedlabError, match="arrival order"):
        Trace(trace.workload, [5.0, 1.0, 2.0, 3.0], trace.duration)
    with pytest.raises(SchedlabError, match="duration"):
        Trace(trace.workload, trace.arrival, [1.0, -1.0, 1.0, 1.0])
    with pytest.raises(SchedlabError, match="shape"):
        Trace(trace.workload, [0.0], trace.duration)
    with pytest.raises(SchedlabError, match="node"):
        Trace(trace.workload, trace.arrival, trace.duration, (NodeEvent(1.0, "drain", "x"),))


# --- malformed files: one line naming file, row, column, value, expected ----------------------


def rewrite(directory: Path, name: str, change: Callable[[pa.Table], pa.Table]) -> None:
    path = directory / name
    pq.write_table(change(pq.read_table(path)), path)


def set_cell(column: str, row: int, value: object, kind: pa.DataType | None = None
             ) -> Callable[[pa.Table], pa.Table]:
    def change(table: pa.Table) -> pa.Table:
        values = table.column(column).to_pylist()
        values[row] = value
        index = table.column_names.index(column)
        kind_ = kind or table.schema.field(column).type
        if pa.types.is_dictionary(kind_):
            kind_ = kind_.value_type
        return table.set_column(index, column, pa.array(values, kind_))
    return change


def error_of(directory: Path) -> str:
    with pytest.raises(InputError) as caught:
        read_trace(directory)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_missing_column(written: Path) -> None:
    rewrite(written, "pods.parquet", lambda t: t.drop_columns(["duration"]))
    assert re.fullmatch(r".*pods\.parquet: columns: got \[.*\], expected a column 'duration'",
                        error_of(written))


def test_wrong_type(written: Path) -> None:
    rewrite(written, "pods.parquet", lambda t: t.set_column(
        t.column_names.index("arrival"), "arrival", pa.array(["0", "1", "1", "7"])))
    assert error_of(written).endswith("pods.parquet: arrival: got 'a column of type string', "
                                      "expected a float64 column (seconds)")


def test_negative_request(written: Path) -> None:
    def negative(table: pa.Table) -> pa.Table:
        texts = table.column("template").to_pylist()
        texts[3] = texts[3].replace('"cpu":"2"', '"cpu":"-2"')
        return table.set_column(2, "template", pa.array(texts).dictionary_encode())
    rewrite(written, "pods.parquet", negative)
    message = error_of(written)
    assert "pods.parquet: row 3: template.spec.containers[0].resources.requests.cpu: got '-2'" \
        in message


def test_negative_allocatable(written: Path) -> None:
    rewrite(written, "nodes.parquet", set_cell("allocatable_cpu", 1, -8000))
    assert error_of(written).endswith(
        "nodes.parquet: row 1: allocatable_cpu: got -8000, expected an amount >= 0 of cpu in "
        "schedlab units, or null")


def test_negative_duration(written: Path) -> None:
    rewrite(written, "pods.parquet", set_cell("duration", 2, -1.0))
    assert error_of(written).endswith("pods.parquet: row 2: duration: got -1.0, expected "
                                      "seconds >= 0, or null (runs until the end)")


def test_nan_arrival(written: Path) -> None:
    rewrite(written, "pods.parquet", set_cell("arrival", 1, math.nan))
    assert error_of(written).endswith("pods.parquet: row 1: arrival: got nan, expected finite "
                                      "seconds >= 0 (not NaN, not null)")


def test_duplicate_pod(written: Path) -> None:
    rewrite(written, "pods.parquet", set_cell("name", 2, "web-0"))
    assert error_of(written).endswith("pods.parquet: row 2: name: got 'default/web-0', "
                                      "expected a namespace/name no other pod has (row 1 has "
                                      "it)")


def test_duplicate_node(written: Path) -> None:
    rewrite(written, "nodes.parquet", set_cell("name", 1, "node-a"))
    assert error_of(written).endswith("nodes.parquet: row 1: name: got 'node-a', expected a "
                                      "name no other node has (row 0 has it)")


def test_event_on_unknown_node(written: Path) -> None:
    rewrite(written, "events.parquet", set_cell("node", 1, "node-z"))
    assert error_of(written).endswith("events.parquet: row 1: node: got 'node-z', expected "
                                      "the name of a node of nodes.parquet")


def test_unknown_event_kind(written: Path) -> None:
    rewrite(written, "events.parquet", set_cell("kind", 0, "reboot"))
    assert "events.parquet: row 0: kind: got 'reboot', expected one of node-add" \
        in error_of(written)


def test_unsupported_version(written: Path) -> None:
    meta = json.loads((written / "meta.json").read_text())
    (written / "meta.json").write_text(json.dumps({**meta, "version": 2}))
    assert error_of(written).endswith("meta.json: version: got 2, expected 1 (the format "
                                      "version this schedlab reads)")


def test_counts_must_match(written: Path) -> None:
    meta = json.loads((written / "meta.json").read_text())
    (written / "meta.json").write_text(json.dumps({**meta, "pods": 5}))
    assert "meta.json: pods: got 5, expected the number of rows of pods.parquet (4)" \
        in error_of(written)


def test_bad_template_and_missing_files(written: Path) -> None:
    rewrite(written, "pods.parquet", set_cell("template", 0, '{"kind":"Pod"}'))
    assert "pods.parquet: row 0: template: got {'kind': 'Pod'}, expected a JSON object with " \
        "apiVersion v1 and kind Pod" in error_of(written)
    (written / "events.parquet").unlink()
    assert "events.parquet: file: got 'missing'" in error_of(written)
    assert "meta.json: file: got 'missing'" in error_of(written.parent)


def test_unknown_owner_and_null_name(written: Path) -> None:
    rewrite(written, "pods.parquet", set_cell("owner_name", 3, "orphan"))
    assert error_of(written).endswith("pods.parquet: row 3: owner_name: got 'orphan', expected "
                                      "null exactly where owner_kind is null (an owner has a "
                                      "kind and a name)")


def test_unsorted_file_is_sorted_on_read(written: Path) -> None:
    rewrite(written, "pods.parquet", lambda t: t.take([3, 1, 2, 0]))
    assert read_trace(written) == small_trace()


# --- sources -------------------------------------------------------------------------------


POD = """apiVersion: v1
kind: Pod
metadata: {{name: {name}, annotations: {{{annotations}}}}}
spec: {{containers: [{{name: c, resources: {{requests: {{cpu: 100m}}}}}}]{extra}}}
"""


def manifests(tmp_path: Path, *pods: str) -> tuple[Path, Path]:
    nodes = tmp_path / "nodes.yaml"
    nodes.write_text("apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\n"
                     "status: {allocatable: {cpu: '4', memory: 8Gi}}\n")
    path = tmp_path / "pods.yaml"
    path.write_text("---\n".join(pods))
    return nodes, path


def pod(name: str, annotations: str = "", extra: str = "") -> str:
    return POD.format(name=name, annotations=annotations, extra=extra)


def test_manifest_annotations(tmp_path: Path) -> None:
    deployment = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: web}, annotations: {schedlab.io/arrival: "5"}}
    spec: {containers: [{name: c}]}
"""
    trace = load_manifest_trace(*manifests(
        tmp_path, pod("late", 'schedlab.io/arrival: "30.5", schedlab.io/duration: "2"'),
        pod("bound", "", ", nodeName: node-a"), pod("plain"), deployment))
    assert [p.name for p in trace.workload.pods] == ["bound", "plain", "web-0", "web-1", "late"]
    assert trace.arrival.tolist() == [0.0, 0.0, 5.0, 5.0, 30.5]
    assert np.array_equal(trace.duration, [math.nan, math.nan, math.nan, math.nan, 2.0],
                          equal_nan=True)


@pytest.mark.parametrize(("annotations", "extra", "expected"), [
    ('schedlab.io/duration: "-1"', "", "metadata.annotations.schedlab.io/duration: got '-1', "
     'expected seconds >= 0 as a decimal string, such as "90" or "2.5"'),
    ('schedlab.io/arrival: "nan"', "", "schedlab.io/arrival: got 'nan', expected seconds"),
    ('schedlab.io/arrival: "1e400"', "", "schedlab.io/arrival: got '1e400', expected seconds"),
    ('schedlab.io/arrival: "3"', ", nodeName: node-a", "schedlab.io/arrival: got '3', expected "
     "no arrival, or 0, for a pod already bound"),
])
def test_bad_annotations(tmp_path: Path, annotations: str, extra: str, expected: str) -> None:
    with pytest.raises(InputError, match=re.escape(expected)):
        load_manifest_trace(*manifests(tmp_path, pod("p", annotations, extra)))


def test_synthetic_trace_is_seeded_and_loaded() -> None:
    one, again = synthetic_trace(40, 3000, seed=3), synthetic_trace(40, 3000, seed=3)
    assert one == again and one != synthetic_trace(40, 3000, seed=4)
    assert len({id(p.template) for p in one.workload.pods}) <= 48
    assert np.all(np.diff(one.arrival) >= 0) and not np.isnan(one.duration).any()
    assert 0.6 < summary(one)["cpu_requested_mean"] < 1.0
    assert 3000 * 0.9 < one.duration.mean() < 3600 * 1.2


def test_synthetic_trace_loads_each_pool_alike() -> None:
    """The trainers (GPU nodes only) and the other pods (the other nodes only) each ask about
    --load of their pool's cpu: summed over the pods, requests × duration over the span."""
    trace = synthetic_trace(300, 20000, seed=2)
    span = float(trace.arrival[-1])
    gpu_cpu = sum(n.allocatable["cpu"] for n in trace.workload.nodes if n.taints)
    other_cpu = sum(n.allocatable["cpu"] for n in trace.workload.nodes if not n.taints)
    asked = {True: 0.0, False: 0.0}
    for pod, duration in zip(trace.workload.pods, trace.duration, strict=True):
        asked[pod.template.labels["app"] == "trainer"] += (
            pod.template.requests.get("cpu", 0) * duration)
    assert asked[True] / (gpu_cpu * span) == pytest.approx(0.8, rel=0.15)
    assert asked[False] / (other_cpu * span) == pytest.approx(0.8, rel=0.1)


def test_synthetic_trace_swings_over_a_day() -> None:
    steady = synthetic_trace(100, 30000, seed=5)
    swinging = synthetic_trace(100, 30000, seed=5, swing=0.5)
    assert swinging == synthetic_trace(100, 30000, seed=5, swing=0.5)
    assert steady == synthetic_trace(100, 30000, seed=5, swing=0.0)
    per_hour = np.bincount((swinging.arrival // 3600).astype(int))
    assert per_hour[4:8].mean() > 2 * per_hour[16:20].mean()  # busiest near 6 h, quiet at 18
    assert np.all(np.diff(swinging.arrival) >= 0)
    with pytest.raises(ValueError, match="swing"):
        synthetic_trace(10, 10, swing=1.0)


@pytest.fixture(scope="module")
def alibaba() -> Path:
    if not (TRACE_DIR / "openb_pod_list_default.csv").is_file():
        pytest.skip(f"the Alibaba GPU trace is not at {TRACE_DIR}")
    return TRACE_DIR


def test_alibaba_times(alibaba: Path) -> None:
    import pandas as pd

    from schedlab.traces.alibaba import load_alibaba_trace

    frame = pd.read_csv(alibaba / "openb_pod_list_default.csv", keep_default_na=False)
    assert len(frame) == 8152
    pending = frame[frame.pod_phase == "Pending"]
    assert len(pending) == 897 and (pending.scheduled_time == "").all()
    end = frame.deletion_time.max()
    assert (frame.deletion_time == end).sum() == 34
    assert frame.creation_time.duplicated().sum() == 199
    running = frame[frame.pod_phase == "Running"]
    waits = running.scheduled_time.astype(int) - running.creation_time
    assert (waits.median(), waits.max()) == (3, 14330)  # production waits of Running pods
    trace = load_alibaba_trace(alibaba, "default")
    assert len(trace.workload.pods) == 8152 and len(trace.workload.nodes) == 1213
    assert np.isnan(trace.duration).sum() == 897 + 34
    by_name = dict(zip(frame.name, frame.itertuples(), strict=True))
    for pod, arrival, duration in zip(trace.workload.pods, trace.arrival, trace.duration,
                                      strict=True):
        row = by_name[pod.name]
        assert arrival == row.creation_time
        if row.scheduled_time != "" and row.deletion_time != end:
            assert duration == row.deletion_time - int(row.scheduled_time)
    # a pod production never scheduled leaves the queue at its deletion_time (unless that
    # is the trace's end); the others are never deleted
    never = {r.name: r.deletion_time for r in frame.itertuples()
             if r.scheduled_time == "" and r.deletion_time != end}
    assert 0 < len(never) <= 897
    deletion = dict(zip((p.name for p in trace.workload.pods), trace.deletion, strict=True))
    assert {k: v for k, v in deletion.items() if not np.isnan(v)} == never
    # gpushare40 is not in creation order: sorted by arrival, ties in file order
    shuffled = load_alibaba_trace(alibaba, "gpushare40")
    share = pd.read_csv(alibaba / "openb_pod_list_gpushare40.csv", keep_default_na=False)
    expected = share.sort_values("creation_time", kind="stable").name.tolist()
    assert [p.name for p in shuffled.workload.pods] == expected
    assert (np.diff(share.creation_time.to_numpy()) < 0).sum() == 3518
    with pytest.raises(InputError, match="openb_pod_list_multigpu20.csv: header: .*expected "
                                         "the time columns"):
        load_alibaba_trace(alibaba, "multigpu20")


def test_alibaba_convert_round_trip(alibaba: Path, tmp_path: Path) -> None:
    from schedlab.traces.alibaba import load_alibaba_trace

    trace = load_alibaba_trace(alibaba, "default")
    write_trace(trace, tmp_path)
    assert read_trace(tmp_path) == trace


# --- the command ----------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_generate_info_convert(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a", "b"):
        code, out, err = run(capsys, "trace", "generate", "--n-nodes", "20", "--n-pods", "500",
                             "--seed", "7", "--out", str(tmp_path / name))
        assert code == 0, err
        assert out.startswith("wrote 20 nodes and 500 pods arriving over")
    for file in ("meta.json", "nodes.parquet", "pods.parquet", "events.parquet"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    code, out, err = run(capsys, "trace", "info", str(tmp_path / "a"))
    assert code == 0, err
    assert re.search(r"pods\s+500\n", out) and "cpu requested / capacity" in out
    assert re.search(r"events drain\s+0", out)
    nodes, pods = ROOT / "traces" / "default" / "nodes.yaml", ROOT / "traces" / "default" / \
        "pods.yaml"
    code, out, err = run(capsys, "trace", "convert", "--nodes", str(nodes), "--pods", str(pods),
                         "--out", str(tmp_path / "m"))
    assert code == 0, err
    assert "wrote 50 nodes, 500 pods, 0 node events and 6 controllers" in out
    assert len(read_trace(tmp_path / "m").workload.pods) == 500


@pytest.mark.parametrize(("argv", "message"), [
    (["trace", "convert", "--out", "x"], "either --nodes and --pods (manifests) or --alibaba"),
    (["trace", "convert", "--nodes", "a.yaml", "--out", "x"], "--nodes/--pods: got 'a.yaml', "
     "expected both"),
    (["trace", "convert", "--nodes", "a", "--pods", "b", "--workload", "w", "--out", "x"],
     "--workload: got 'w', expected --alibaba with it"),
    (["trace", "info", "nowhere"], "nowhere: directory: got 'missing'"),
    (["trace", "generate", "--n-nodes", "0", "--n-pods", "5", "--seed", "1", "--out", "x"],
     "argument --n-nodes: got '0', expected an integer in 1..100,000"),
    (["trace", "generate", "--n-nodes", "5", "--n-pods", "2000001", "--seed", "1", "--out",
      "x"], "expected an integer in 0..2,000,000"),
    (["trace", "generate", "--n-nodes", "5", "--n-pods", "5", "--seed", "1", "--load", "nan",
      "--out", "x"], "argument --load: got 'nan', expected a number in 0.01..10"),
])
def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch:
                    pytest.MonkeyPatch, argv: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code != 0 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_cli_malformed_trace_writes_nothing(written: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    rewrite(written, "pods.parquet", set_cell("duration", 0, -5.0))
    code, out, err = run(capsys, "trace", "info", str(written))
    assert code == 1 and out == "" and "row 0: duration: got -5.0" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(("labels", "expected"), [
    ('{"zone":["a"]}', "nodes.parquet: row 0: labels.zone: got ['a'], expected"),
    ('{"bad key!":"a"}', "nodes.parquet: row 0: labels.bad key!: got 'bad key!', expected"),
    ('["zone"]', "nodes.parquet: row 0: labels: got '[\"zone\"]', expected a JSON object"),
])
def test_bad_node_labels(written: Path, labels: str, expected: str) -> None:
    rewrite(written, "nodes.parquet", set_cell("labels", 0, labels))
    assert expected in error_of(written)
