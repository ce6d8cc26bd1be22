"""The reader of Alibaba's cluster-trace-gpu-v2023 ("openb") CSV files and its downloader.

The real-trace tests read ../shared/traces/alibaba-gpu-v2023 beside the checkout and are
skipped without it; the rest write small files in tmp_path.
"""

from __future__ import annotations

import hashlib
import urllib.error
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from schedlab.errors import InputError, SchedlabError
from schedlab.objects import GpuRequest
from schedlab.traces import alibaba
from schedlab.traces.alibaba import (
    GPU_MODEL_LABEL,
    NODE_POD_LIMIT,
    TRACE_FILES,
    available_workloads,
    download_trace,
    load_trace,
    read_nodes,
    read_pods,
)

TRACE_DIR = Path(__file__).resolve().parents[2] / "shared" / "traces" / "alibaba-gpu-v2023"
MIB = 2**20


@pytest.fixture(scope="module")
def trace() -> Path:
    if not (TRACE_DIR / "openb_pod_list_default.csv").is_file():
        pytest.skip(f"the Alibaba GPU trace is not at {TRACE_DIR}")
    return TRACE_DIR


def frame(path: Path) -> pd.DataFrame:
    """The file as pandas reads it, independently of the reader under test."""
    return pd.read_csv(path, dtype={"gpu_spec": str, "model": str}, keep_default_na=False)


# --- the real trace --------------------------------------------------------------------------


def test_gpu_node_list(trace: Path) -> None:
    nodes = read_nodes(trace / "openb_node_list_gpu_node.csv")
    assert len(nodes) == 1213
    assert sum(n.gpus for n in nodes) == 6212
    g2 = [n for n in nodes if n.gpu_model == "G2"]
    assert (len(g2), sum(n.gpus for n in g2)) == (549, 4392)
    df = frame(trace / "openb_node_list_gpu_node.csv")
    assert [n.name for n in nodes] == df["sn"].tolist()
    assert [n.allocatable["cpu"] for n in nodes] == df["cpu_milli"].tolist()
    assert [n.allocatable["memory"] for n in nodes] == (df["memory_mib"] * MIB).tolist()
    assert all(n.allocatable["pods"] == NODE_POD_LIMIT == 1001 for n in nodes)
    assert [n.labels[GPU_MODEL_LABEL] for n in nodes] == df["model"].tolist()


def test_all_node_list_has_cpu_only_nodes(trace: Path) -> None:
    nodes = read_nodes(trace / "openb_node_list_all_node.csv")
    assert len(nodes) == 1523
    cpu_only = [n for n in nodes if n.gpus == 0]
    assert len(cpu_only) == 310
    assert all(n.gpu_model == "" and GPU_MODEL_LABEL not in n.labels for n in cpu_only)


def test_default_pods_match_pandas(trace: Path) -> None:
    pods = read_pods(trace / "openb_pod_list_default.csv")
    assert len(pods) == 8152
    counts = Counter(p.template.gpu.count if p.template.gpu else 0 for p in pods)
    assert counts == {0: 1088, 1: 6989, 2: 16, 4: 15, 8: 44}
    assert sum(1 for p in pods if p.template.gpu and p.template.gpu.shares) == 3078
    df = frame(trace / "openb_pod_list_default.csv")
    total = sum(p.template.gpu.total_milli for p in pods if p.template.gpu)
    assert total == int((df["num_gpu"] * df["gpu_milli"]).sum()) == 6_086_800
    assert [p.name for p in pods] == df["name"].tolist()
    assert all(p.namespace == "default" and p.owner is None for p in pods)
    requests = [dict(p.template.containers[0].requests) for p in pods]
    expected = [
        {"cpu": cpu, "memory": mem * MIB}
        for cpu, mem in zip(df["cpu_milli"], df["memory_mib"], strict=True)
    ]
    assert requests == expected  # memory 0 stays an explicit 0
    assert sum(1 for r in requests if r["memory"] == 0) == 1
    gpus = [p.template.gpu for p in pods]
    assert gpus == [
        GpuRequest(int(n), int(m)) if n else None
        for n, m in zip(df["num_gpu"], df["gpu_milli"], strict=True)
    ]


def template_keys(df: pd.DataFrame) -> set[tuple[object, ...]]:
    """Distinct pod shapes, with gpu_spec as the set of models it names."""
    specs = df["gpu_spec"] if "gpu_spec" in df else pd.Series([""] * len(df))
    models = [frozenset(s.split("|")) if s else frozenset() for s in specs]
    cols = ["cpu_milli", "memory_mib", "num_gpu", "gpu_milli"]
    return set(zip(*(df[c] for c in cols), models, strict=True))


@pytest.mark.parametrize("workload", ["default", "gpuspec33", "multigpu50"])
def test_templates_are_interned(trace: Path, workload: str) -> None:
    pods = read_pods(trace / f"openb_pod_list_{workload}.csv")
    df = frame(trace / f"openb_pod_list_{workload}.csv")
    assert len({id(p.template) for p in pods}) == len(template_keys(df))
    if workload == "default":
        assert len(template_keys(df)) == len(df.drop_duplicates(df.columns[1:6].tolist())) == 151


def test_multigpu_file_extends_default(trace: Path) -> None:
    multi = read_pods(trace / "openb_pod_list_multigpu20.csv")
    default = read_pods(trace / "openb_pod_list_default.csv")
    assert len(frame(trace / "openb_pod_list_multigpu20.csv").columns) == 5
    assert len(multi) == 8324
    shape = [(p.name, p.template.containers, p.template.gpu) for p in multi[:8152]]
    assert shape == [(p.name, p.template.containers, p.template.gpu) for p in default]


def test_gpuspec_models(trace: Path) -> None:
    pods = read_pods(trace / "openb_pod_list_gpuspec33.csv")
    df = frame(trace / "openb_pod_list_gpuspec33.csv")
    name = df.loc[df["gpu_spec"] == "V100M16|V100M32|V100M32", "name"].iloc[0]
    pod = next(p for p in pods if p.name == name)
    assert pod.template.gpu is not None
    assert pod.template.gpu.models == frozenset({"V100M16", "V100M32"})
    constrained = sum(1 for p in pods if p.template.gpu and p.template.gpu.models)
    assert constrained == int((df["gpu_spec"] != "").sum()) > 0


def test_load_trace_and_files(trace: Path) -> None:
    workload = load_trace(trace)
    assert (len(workload.nodes), len(workload.pods)) == (1213, 8152)
    assert len(load_trace(trace, "cpu0", "all_node").nodes) == 1523
    workloads = available_workloads(trace)
    assert len(workloads) == 24 and workloads == sorted(workloads)
    assert {"default", "cpu037", "gpushare100", "gpuspec05", "multigpu50"} <= set(workloads)
    on_disk = {p.name for p in trace.iterdir()} - {"LICENSE", "SOURCE.md"}
    assert set(TRACE_FILES) == on_disk and len(TRACE_FILES) == 27


# --- malformed files -------------------------------------------------------------------------

POD_HEADER = ",".join(alibaba.POD_HEADER)
NODE_HEADER = "sn,cpu_milli,memory_mib,gpu,model"
GOOD_POD = "p0,1000,1024,1,500,,LS,Running,0,10,0"


def pod_file(*rows: str, header: str = POD_HEADER) -> str:
    return "\n".join([header, GOOD_POD, *rows]) + "\n"


def assert_input_error(path: Path, error: InputError, line: int, field: str, value: str) -> None:
    message = str(error)
    assert "\n" not in message
    assert str(path) in message and f":{line}" in message
    assert f": {field}: got {value!r}" in message, message


@pytest.mark.parametrize(
    ("text", "line", "field", "value"),
    [
        ("", 1, "header", ""),
        ("name,cpu,memory\np0,1,2\n", 1, "header", "name,cpu,memory"),
        ("\n" + GOOD_POD + "\n", 1, "header", ""),
        (pod_file("p1,1000,1024,1,500,,LS,Running,0,10,0,extra"), 3, "cells", 12),
        (pod_file("p1,1000,1024,1,500"), 3, "cells", 5),
        (pod_file("p1,1000,1024,1,500", header=",".join(alibaba.POD_HEADER[:5])), 2, "cells", 11),
        (pod_file("p1,abc,1024,1,500,,LS,Running,0,10,0"), 3, "cpu_milli", "abc"),
        (pod_file("p1,1000,-5,1,500,,LS,Running,0,10,0"), 3, "memory_mib", "-5"),
        (pod_file("p1,1000,1024,1.5,500,,LS,Running,0,10,0"), 3, "num_gpu", "1.5"),
        (pod_file("p1,1000,1024,1, 500,,LS,Running,0,10,0"), 3, "gpu_milli", " 500"),
        (pod_file("p1,1000,1024,1,,,LS,Running,0,10,0"), 3, "gpu_milli", ""),
        (pod_file("p1,1000,1024,1,0,,LS,Running,0,10,0"), 3, "gpu_milli", "0"),
        (pod_file("p1,1000,1024,2,1001,,LS,Running,0,10,0"), 3, "gpu_milli", "1001"),
        (pod_file("p1,1000,1024,0,500,,LS,Running,0,10,0"), 3, "gpu_milli", "500"),
        (pod_file("p1,1000,1024,0,0,T4,LS,Running,0,10,0"), 3, "gpu_spec", "T4"),
        (pod_file("p1,1000,1024,1,500,T4||A10,LS,Running,0,10,0"), 3, "gpu_spec", "T4||A10"),
        (pod_file("p1,1000,1024,1,500,T4|,LS,Running,0,10,0"), 3, "gpu_spec", "T4|"),
        (pod_file("p1,1000,1024,1,500,|T4,LS,Running,0,10,0"), 3, "gpu_spec", "|T4"),
        (pod_file("p0,1000,1024,1,500,,LS,Running,0,10,0"), 3, "name", "p0"),
        (pod_file(",1000,1024,1,500,,LS,Running,0,10,0"), 3, "name", ""),
        # blank lines are skipped but still counted; the first problem in file order wins
        (pod_file("", "", "p1,1000,1024,0,7,,LS,Running,0,10,0", "p2,x,1,1,1,,,,,,"), 5,
         "gpu_milli", "7"),
        (pod_file("p1,1,1,1,1,,,,,,", "p2,1,1,0,7,,,,,,", "p1,1,1,1,x,,,,,,"), 4, "gpu_milli", "7"),
        (pod_file("p1,1,1,0,7,x,,,,,", "p2,1,1,0,0,,,,,,"), 3, "gpu_milli", "7"),
        (pod_file("p1,1,1,x,7,,,,,,"), 3, "num_gpu", "x"),
    ],
)  # fmt: skip
def test_malformed_pod_files(
    tmp_path: Path, text: str, line: int, field: str, value: object
) -> None:
    path = tmp_path / "pods.csv"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_pods(path)
    assert_input_error(path, info.value, line, field, value)


def test_pod_errors_name_the_pod(tmp_path: Path) -> None:
    path = tmp_path / "pods.csv"
    path.write_text(pod_file("openb-pod-0001,1000,1024,1,5000,,LS,Running,0,10,0"))
    with pytest.raises(InputError, match="openb-pod-0001") as info:
        read_pods(path)
    assert "1..1000" in str(info.value)


def test_duplicate_names_point_at_the_first(tmp_path: Path) -> None:
    path = tmp_path / "pods.csv"
    path.write_text(pod_file("p1,1,1,0,0,,,,,,", "p0,1,1,0,0,,,,,,"))
    with pytest.raises(InputError, match="line 2 has it"):
        read_pods(path)


@pytest.mark.parametrize(
    ("rows", "line", "field", "value"),
    [
        (["n1,8000,1024,8,"], 3, "model", ""),
        (["n1,8000,1024,0,T4"], 3, "model", "T4"),
        (["n0,8000,1024,0,"], 3, "sn", "n0"),
        (["n1,8000,1024,two,T4"], 3, "gpu", "two"),
        (["n1,8000,1024,2"], 3, "cells", 4),
    ],
)
def test_malformed_node_files(
    tmp_path: Path, rows: list[str], line: int, field: str, value: object
) -> None:
    path = tmp_path / "nodes.csv"
    path.write_text("\n".join([NODE_HEADER, "n0,8000,1024,2,T4", *rows]) + "\n")
    with pytest.raises(InputError) as info:
        read_nodes(path)
    assert_input_error(path, info.value, line, field, value)


def test_node_header_and_cpu_only_nodes(tmp_path: Path) -> None:
    path = tmp_path / "nodes.csv"
    path.write_text(NODE_HEADER + "\nc0,4000,2048,0,\ng0,8000,1024,2,T4\n")
    cpu, gpu = read_nodes(path)
    assert (cpu.gpus, cpu.gpu_model, dict(cpu.labels)) == (0, "", {})
    assert dict(cpu.allocatable) == {"cpu": 4000, "memory": 2048 * MIB, "pods": 1001}
    assert (gpu.gpus, gpu.gpu_model, dict(gpu.labels)) == (2, "T4", {GPU_MODEL_LABEL: "T4"})
    path.write_text("sn,cpu_milli,memory_mib,gpu\n")
    with pytest.raises(InputError, match="header.*expected 'sn,cpu_milli,memory_mib,gpu,model'"):
        read_nodes(path)


def test_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    with pytest.raises(InputError, match=f"^{missing}: file: got 'No such file"):
        read_pods(missing)
    with pytest.raises(InputError, match=f"^{tmp_path}: file: "):
        read_nodes(tmp_path)
    binary = tmp_path / "binary.csv"
    binary.write_bytes((POD_HEADER + "\n" + GOOD_POD + "\np1,\xff").encode("latin-1"))
    with pytest.raises(InputError, match=f"^{binary}:3: file: got b'\\\\xff', expected UTF-8"):
        read_pods(binary)


def test_small_files_read(tmp_path: Path) -> None:
    path = tmp_path / "pods.csv"
    path.write_text(
        pod_file(
            "",
            "p1,1000,1024,1,500,,BE,Pending,5,9,",
            "p2,2000,0,0,0,,LS,Running,0,10,0",
            "p3,1000,1024,1,500,T4|A10|T4,LS,Running,0,10,0",
            "p4,1000,1024,1,500,A10|T4,LS,Running,0,10,0",
        )
    )
    p0, p1, p2, p3, p4 = read_pods(path)
    assert p0.template is p1.template and p3.template is p4.template
    assert p0.template is not p3.template
    assert dict(p2.template.containers[0].requests) == {"cpu": 2000, "memory": 0}
    assert p2.template.gpu is None
    assert p3.template.gpu == GpuRequest(1, 500, frozenset({"T4", "A10"}))
    short = tmp_path / "short.csv"
    short.write_text("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,1024,8,1000\n")
    (pod,) = read_pods(short)
    assert pod.template.gpu == GpuRequest(8, 1000)
    short.write_text("name,cpu_milli,memory_mib,num_gpu,gpu_milli\n")
    assert read_pods(short) == ()


def test_load_trace_names_what_is_there(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=f"^{tmp_path / 'nope'}: directory"):
        load_trace(tmp_path / "nope")
    (tmp_path / "openb_node_list_gpu_node.csv").write_text(NODE_HEADER + "\nn0,8000,1024,2,T4\n")
    (tmp_path / "openb_pod_list_small.csv").write_text(pod_file())
    (tmp_path / "openb_pod_list_big.csv").write_text(pod_file())
    assert available_workloads(tmp_path) == ["big", "small"]
    assert available_workloads(tmp_path / "nope") == []
    with pytest.raises(InputError, match="openb_pod_list_default.csv: workload: .*big, small"):
        load_trace(tmp_path)
    with pytest.raises(InputError, match="openb_node_list_all_node.csv: node_list: .*gpu_node"):
        load_trace(tmp_path, "small", "all_node")
    workload = load_trace(tmp_path, "small")
    assert (len(workload.nodes), len(workload.pods)) == (1, 1)


# --- download --------------------------------------------------------------------------------


def fake_files(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Small stand-ins for the trace's files, with their sha256 pinned in place of the real."""
    files = {name: f"content of {name}\n".encode() for name in TRACE_FILES}
    monkeypatch.setattr(alibaba, "TRACE_SHA256",
                        {n: hashlib.sha256(data).hexdigest() for n, data in files.items()})
    return files


class FakeDownloader:
    """A pooch downloader serving ``files`` by URL name, recording the URLs asked for;
    ``fail`` maps a name to the exception raised after writing half the file."""

    def __init__(self, files: dict[str, bytes], fail: dict[str, BaseException] | None = None
                 ) -> None:
        self.files, self.fail, self.urls = files, fail or {}, []

    def __call__(self, url: str, output_file: str, pooch: object) -> None:
        self.urls.append(url)
        name = url.rsplit("/", 1)[1]
        data = self.files[name]
        Path(output_file).write_bytes(data[: len(data) // 2] if name in self.fail else data)
        if name in self.fail:
            raise self.fail[name]


def test_pinned_hashes_are_the_real_trace_files(trace: Path) -> None:
    assert list(alibaba.TRACE_SHA256) == list(TRACE_FILES)
    for name in TRACE_FILES:
        got = hashlib.sha256((trace / name).read_bytes()).hexdigest()
        assert alibaba.TRACE_SHA256[name] == got, name


def test_download_writes_every_file_and_tells_progress(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = fake_files(monkeypatch)
    fake = FakeDownloader(files)
    out = tmp_path / "trace"
    paths = download_trace(out, downloader=fake)
    assert [p.name for p in paths] == list(TRACE_FILES)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == files
    commit = "alibaba/clusterdata/7a6c496e4f4b6ce6150be8f881cb051bf2abff42/"
    assert all(commit in url for url in fake.urls)
    assert f"{commit}cluster-trace-gpu-v2023/README.md" in fake.urls[0]
    assert fake.urls[1].endswith(
        f"{commit}cluster-trace-gpu-v2023/csv/openb_node_list_all_node.csv")
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == "" and len(lines) == len(TRACE_FILES)
    assert "openb_pod_list_default.csv" in lines[3] and "sha256 ok" in lines[3]
    # a second run keeps the files whose hash is right, fetching only the others
    (out / "openb_pod_list_default.csv").write_bytes(b"edited")
    again = FakeDownloader(files)
    download_trace(out, downloader=again, quiet=True)
    assert [u.rsplit("/", 1)[1] for u in again.urls] == ["openb_pod_list_default.csv"]
    assert (out / "openb_pod_list_default.csv").read_bytes() == files[
        "openb_pod_list_default.csv"]
    assert capsys.readouterr().err == ""


def test_a_wrong_checksum_is_one_line_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = fake_files(monkeypatch)
    expected = alibaba.TRACE_SHA256["openb_pod_list_default.csv"]
    files["openb_pod_list_default.csv"] = b"tampered"
    out = tmp_path / "new" / "trace"
    names = ["openb_node_list_gpu_node.csv", "openb_pod_list_default.csv"]
    with pytest.raises(SchedlabError) as info:
        download_trace(out, names, downloader=FakeDownloader(files), quiet=True)
    message = str(info.value)
    assert "\n" not in message and "openb_pod_list_default.csv" in message
    assert expected in message and hashlib.sha256(b"tampered").hexdigest() in message
    assert list(tmp_path.iterdir()) == []  # the directories this run made are gone too


@pytest.mark.parametrize("error", [urllib.error.URLError("connection refused"),
                                   ConnectionResetError("reset by peer"), KeyboardInterrupt()])
def test_a_failed_download_leaves_no_partial_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    files = fake_files(monkeypatch)
    failing = "openb_pod_list_default.csv"
    names = ["openb_node_list_gpu_node.csv", failing]
    (tmp_path / "mine.csv").write_text("a user's file")
    fake = FakeDownloader(files, {failing: error})
    raised = KeyboardInterrupt if isinstance(error, KeyboardInterrupt) else SchedlabError
    with pytest.raises(raised) as info:
        download_trace(tmp_path, names, downloader=fake, quiet=True)
    if raised is SchedlabError:
        message = str(info.value)
        assert alibaba.trace_url(failing) in message and str(error.args[0]) in message
    # a directory it did not make keeps what was there and the whole, checked files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.csv", names[0]]
    # a directory it made is removed, with what it wrote there
    with pytest.raises(raised):
        download_trace(tmp_path / "made" / "here", names, downloader=fake, quiet=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.csv", names[0]]


def test_download_refuses_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--file: name: got 'nope.csv'"):
        download_trace(tmp_path / "out", ["nope.csv"])
    assert not (tmp_path / "out").exists()


def test_cli_download_checksum_error_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pooch

    from schedlab.cli import main

    files = fake_files(monkeypatch)
    monkeypatch.setattr(pooch, "HTTPDownloader", lambda **kwargs: FakeDownloader(files))
    out = tmp_path / "trace"
    assert main(["download-trace", "--out", str(out), "--file", "README.md", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "downloaded 1 files" in captured.out
    files["openb_pod_list_default.csv"] = b"tampered"
    assert main(["download-trace", "--out", str(out), "--file",
                 "openb_pod_list_default.csv"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("openb_pod_list_default.csv ... failed")
    assert len(err) == 2 and "sha256 mismatch: expected" in err[1]
    assert sorted(p.name for p in out.iterdir()) == ["README.md"]
