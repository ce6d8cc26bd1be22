"""The FGD paper's experiment: replay, tuning, the summary, the files and the command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from schedlab.cli import main
from schedlab.gpu import gpu_ask_milli, gpu_capacity_milli
from schedlab.objects import Container, GpuRequest, Pod, PodTemplate
from schedlab.plugins import GpuPackingScore
from schedlab.sim.fgd import (
    ARRIVAL_POINTS,
    PAPER_POLICIES,
    allocation_at,
    load_race,
    plot_race,
    race_policies,
    replay_workload,
    run_race,
    summarize_runs,
    tune_pods,
    write_race,
)

REAL_TRACE = Path(__file__).resolve().parents[2] / "shared" / "traces" / "alibaba-gpu-v2023"
POD_HEADER = ("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,"
              "creation_time,deletion_time,scheduled_time")


def write_trace(directory: Path, n_nodes: int = 12, n_pods: int = 60, seed: int = 0) -> Path:
    """A small trace in the Alibaba format: nodes of 2–8 GPUs and a mix of pods."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    nodes = ["sn,cpu_milli,memory_mib,gpu,model"]
    for i in range(n_nodes):
        gpus = int(rng.choice([2, 4, 8]))
        nodes.append(f"node-{i:03d},{gpus * 8000},{gpus * 32768},{gpus},"
                     f"{rng.choice(['T4', 'G2'])}")
    pods = [POD_HEADER]
    for i in range(n_pods):
        kind = rng.choice(["cpu", "share", "whole"], p=[0.15, 0.45, 0.4])
        num, milli = {"cpu": (0, 0), "share": (1, int(rng.choice([100, 250, 500, 700]))),
                      "whole": (int(rng.choice([1, 1, 2, 4])), 1000)}[kind]
        spec = "T4" if kind != "cpu" and rng.random() < 0.1 else ""
        pods.append(f"pod-{i:04d},{int(rng.choice([1000, 4000]))},4096,{num},{milli},{spec},"
                    f"LS,Running,0,10,0")
    (directory / "openb_node_list_gpu_node.csv").write_text("\n".join(nodes) + "\n")
    (directory / "openb_pod_list_default.csv").write_text("\n".join(pods) + "\n")
    return directory


@pytest.fixture
def trace_dir(tmp_path: Path) -> Path:
    return write_trace(tmp_path / "trace")


def test_replay_shuffles_by_seed_and_tunes_to_the_target(trace_dir):
    trace, _ = load_race(trace_dir, "default")
    capacity = gpu_capacity_milli(trace.nodes)
    one, same, other = (replay_workload(trace, s, 1.3) for s in (5, 5, 6))
    assert [p.name for p in one.pods] == [p.name for p in same.pods]
    assert [n.name for n in one.nodes] == [n.name for n in same.nodes]
    assert [p.name for p in one.pods] != [p.name for p in other.pods]
    assert sorted(n.name for n in one.nodes) == sorted(n.name for n in trace.nodes)
    originals = len(trace.pods)
    assert sorted(p.name for p in one.pods[:originals]) == sorted(p.name for p in trace.pods)
    clones = one.pods[originals:]
    assert all(p.name.startswith("pod-") and "-tuned-" in p.name for p in clones)
    total = sum(gpu_ask_milli(p) for p in one.pods)
    # it stops when the next draw's per-GPU milli (at most 1000) would pass the target, so a
    # multi-GPU clone can pass it by up to (its count - 1) × 1000 (4-GPU pods here)
    assert 1.3 * capacity - 1000 < total <= 1.3 * capacity + 3000


def test_tuning_down_removes_pods_until_the_ask_fits():
    template = PodTemplate(containers=(Container(requests={"cpu": 1000}),), gpu=GpuRequest(2))
    pods = [Pod(f"p{i}", template) for i in range(10)]
    tuned = tune_pods(pods, 9000, np.random.default_rng(0))
    assert sum(gpu_ask_milli(p) for p in tuned) == 8000
    assert {p.name for p in tuned} < {p.name for p in pods}


def test_tuning_up_stops_when_the_next_per_gpu_ask_would_pass_the_target():
    """The simulator's stopping rule compares the drawn pod's per-GPU milli (a quirk kept)."""
    template = PodTemplate(gpu=GpuRequest(2))
    pods = [Pod("p", template)]
    tuned = tune_pods(pods, 4500, np.random.default_rng(0))
    # 2000 + 2000 (next: 4000 + 1000 > 4500, stop)
    assert [p.name for p in tuned] == ["p", "p-tuned-0"]


def test_allocation_at_bins_like_the_papers_analysis():
    timeline = pd.DataFrame({"arrived_gpu_milli": [100, 940, 950, 1000, 1040, 1300],
                             "used_gpu_milli": [100, 900, 900, 910, 930, 950]})
    found = allocation_at(timeline, 1000, (10, 94, 95, 100, 130, 120))
    assert found[10] == 10.0
    assert found[94] == 90.0
    assert found[95] == 90.0
    assert found[100] == 91.0  # 1040 rounds to 104, not to 100
    assert found[130] == 95.0
    assert np.isnan(found[120])


def test_race_files_are_the_same_bytes_for_the_same_seeds(trace_dir, tmp_path):
    policies = race_policies(["FGD", "GpuPacking", "Random"])
    first = run_race(trace_dir, "default", policies, [1, 2], 1.3, jobs=1)
    second = run_race(trace_dir, "default", policies, [1, 2], 1.3, jobs=2)
    params = {"trace_dir": str(trace_dir), "workload": "default"}
    write_race(first, tmp_path / "a", params)
    write_race(second, tmp_path / "b", params)
    names = sorted(p.name for p in (tmp_path / "a" / "timelines").iterdir())
    assert names == sorted(f"{p}-seed{s}.parquet" for p in policies for s in (1, 2))
    for name in [*(f"timelines/{n}" for n in names), "allocation.png"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    summaries = [json.loads((tmp_path / d / "summary.json").read_text()) for d in "ab"]
    for summary in summaries:
        for figures in summary["policies"].values():
            figures.pop("seconds_per_run")
    assert summaries[0]["policies"] == summaries[1]["policies"]
    fgd = summaries[0]["policies"]["FGD"]
    assert set(fgd["unallocated_gpu_pct"]) == {str(p) for p in ARRIVAL_POINTS}
    assert set(fgd["unallocated_gpu_pct"]["100"]) == {"median", "min", "max"}


def test_timeline_counts_every_pod_and_failed_pods_as_arrived(trace_dir):
    (run,) = run_race(trace_dir, "default", race_policies(["BestFit"]), [3], 1.3)
    timeline = run.timeline
    trace, _ = load_race(trace_dir, "default")
    workload = replay_workload(trace, 3, 1.3)
    assert timeline["pod"].tolist() == [p.name for p in workload.pods]
    asks = np.array([gpu_ask_milli(p) for p in workload.pods])
    assert (timeline["arrived_gpu_milli"].to_numpy() == np.cumsum(asks)).all()
    assert (timeline["used_gpu_milli"].to_numpy()
            == np.cumsum(asks * timeline["placed"].to_numpy())).all()
    assert not timeline["placed"].all()  # tuned to 130 %: some pods must fail
    assert (timeline["frag_gpu_milli"] >= 0).all()


def test_a_users_plugin_races_beside_the_papers(trace_dir):
    runs = run_race(trace_dir, "default", {"Mine": GpuPackingScore(), **race_policies(["FGD"])},
                    [4], 1.3)
    summary = summarize_runs(runs, gpu_capacity_milli(load_race(trace_dir, "default")[0].nodes))
    assert list(summary) == ["Mine", "FGD"]


def test_tuning_without_gpu_asks_leaves_the_pods_alone():
    pods = [Pod(f"c{i}", PodTemplate(containers=(Container(requests={"cpu": 1}),)))
            for i in range(3)]
    assert tune_pods(pods, 5000, np.random.default_rng(0)) == pods


def test_policy_names_are_checked():
    assert list(race_policies(None)) == list(PAPER_POLICIES)
    assert isinstance(race_policies(["GpuPackingScore"])["GpuPackingScore"], GpuPackingScore)
    with pytest.raises(Exception, match="--policy: name: got 'Best'"):
        race_policies(["Best"])


def test_cli_runs_the_suite(trace_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["bench", "--suite", "fgd", "--trace-dir", str(trace_dir), "--policy", "FGD",
                 "--policy", "DotProd", "--seeds", "1-2", "--out", str(out), "--jobs", "1"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "FGD" in printed and "DotProd" in printed and "unalloc GPU" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["policies"]) == ["FGD", "DotProd"]
    assert summary["parameters"]["seeds"] == [1, 2]
    assert (out / "allocation.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("problem, expected", [
    ("missing", "openb_pod_list_default.csv"),
    ("malformed", ":3 (pod 'pod-0001'): num_gpu: got 'two'"),
])
def test_cli_bad_trace_is_one_line(trace_dir, tmp_path, capsys, problem, expected):
    pods = trace_dir / "openb_pod_list_default.csv"
    if problem == "missing":
        pods.unlink()
    else:
        lines = pods.read_text().splitlines()
        cells = lines[2].split(",")
        cells[3] = "two"
        lines[2] = ",".join(cells)
        pods.write_text("\n".join(lines) + "\n")
    code = main(["bench", "--suite", "fgd", "--trace-dir", str(trace_dir),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and expected in err
    assert not (tmp_path / "out").exists()


def test_cli_options_of_the_suite_need_the_suite(capsys):
    assert main(["bench", "--tune", "1.3"]) == 1
    assert "--tune" in capsys.readouterr().err


@pytest.mark.parametrize("option, value", [
    ("--tune", "-1"), ("--tune", "nan"), ("--tune", "inf"), ("--tune", "1e6"), ("--jobs", "0"),
    ("--jobs", "100000")])
def test_cli_refuses_bad_race_options(trace_dir, tmp_path, capsys, option, value):
    code = main(["bench", "--suite", "fgd", "--trace-dir", str(trace_dir), option, value,
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and option in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not REAL_TRACE.is_dir(),
                    reason=f"the Alibaba GPU trace is not at {REAL_TRACE} (../shared absent)")
def test_real_trace_fgd_leaves_fewer_gpus_unallocated_than_random():
    """On the paper's default trace FGD allocates more GPUs than Random at every point."""
    runs = run_race(REAL_TRACE, "default", race_policies(["Random", "FGD"]), [42], 1.0)
    capacity = gpu_capacity_milli(load_race(REAL_TRACE, "default")[0].nodes)
    random, fgd = (allocation_at(r.timeline, capacity, (90, 95)) for r in runs)
    assert fgd[95] > random[95] and fgd[90] > random[90]


def test_timelines_are_labelled_and_read_as_one_table(trace_dir, tmp_path):
    runs = run_race(trace_dir, "default", race_policies(["FGD", "BestFit"]), [1, 2], 1.3)
    assert list(runs[0].timeline.columns[:2]) == ["policy", "seed"]
    write_race(runs, tmp_path / "out", {"trace_dir": str(trace_dir), "workload": "default"})
    everything = pd.read_parquet(tmp_path / "out" / "timelines")
    assert list(everything.columns[:2]) == ["policy", "seed"]
    sizes = everything.groupby(["policy", "seed"]).size()
    assert sizes.to_dict() == {(r.policy, r.seed): len(r.timeline) for r in runs}
    for run in runs:
        one = pd.read_parquet(tmp_path / "out" / "timelines" / f"{run.policy}-seed{run.seed}"
                              ".parquet")
        assert set(one["policy"]) == {run.policy} and set(one["seed"]) == {run.seed}


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_a_new_race_removes_only_what_an_earlier_race_wrote(trace_dir, tmp_path):
    out = tmp_path / "out"
    params = {"trace_dir": str(trace_dir), "workload": "default"}
    earlier = run_race(trace_dir, "default", race_policies(["FGD", "BestFit"]), [1, 2], 1.3)
    write_race(earlier, out, params, formats=["png", "svg"])
    recorded = json.loads((out / "summary.json").read_text())["outputs"]
    assert sorted(o["path"] for o in recorded) == sorted(
        [f"timelines/{p}-seed{s}.parquet" for p in ("FGD", "BestFit") for s in (1, 2)]
        + ["allocation.png", "allocation.svg"])
    mine = out / "timelines" / "mine.parquet"
    mine.write_bytes(b"a user's own file")
    (out / "notes.txt").write_text("mine too")
    later = [r for r in earlier if r.policy == "FGD" and r.seed == 1]
    write_race(later, out, params)
    assert sorted(_tree(out)) == ["allocation.png", "notes.txt", "summary.json",
                                  "timelines/FGD-seed1.parquet", "timelines/mine.parquet"]
    assert mine.read_bytes() == b"a user's own file"
    assert [o["path"] for o in json.loads((out / "summary.json").read_text())["outputs"]] == [
        "timelines/FGD-seed1.parquet", "allocation.png"]


@pytest.mark.parametrize("record", [
    "", "{not json", '{"outputs": "allocation.png"}', "[1]",
    '{"outputs": ["../outside.txt", "/abs", "timelines"]}',
    '{"generator": "schedlab", "outputs": [{"path": "../outside.txt", "sha256": "x"}]}',
    '{"outputs": [{"path": "allocation.pdf", "sha256": "x"}]}'])
def test_without_a_good_record_nothing_is_removed(trace_dir, tmp_path, record):
    out = tmp_path / "out"
    runs = run_race(trace_dir, "default", race_policies(["FGD", "BestFit"]), [1], 1.3)
    params = {"trace_dir": str(trace_dir), "workload": "default"}
    write_race(runs, out, params, formats=["png", "pdf"])
    (tmp_path / "outside.txt").write_text("keep")
    if record:
        (out / "summary.json").write_text(record)
    else:
        (out / "summary.json").unlink()
    write_race(runs[:1], out, params)
    assert sorted(_tree(out)) == ["allocation.pdf", "allocation.png", "summary.json",
                                  "timelines/BestFit-seed1.parquet",
                                  "timelines/FGD-seed1.parquet"]
    assert (tmp_path / "outside.txt").read_text() == "keep"


def test_a_failed_save_leaves_the_earlier_race_untouched(trace_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    params = {"trace_dir": str(trace_dir), "workload": "default"}
    write_race(run_race(trace_dir, "default", race_policies(["BestFit"]), [1, 2], 1.3), out,
               params)
    before = _tree(out)
    runs = run_race(trace_dir, "default", race_policies(["FGD"]), [1], 1.3)

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("matplotlib.figure.Figure.savefig", broken)
    with pytest.raises(KeyboardInterrupt):
        write_race(runs, out, params, formats=["png", "pdf"])
    assert _tree(out) == before  # nothing written, nothing removed, no temporary file


def test_plots_in_every_format_are_the_same_bytes_and_say_what_they_show(trace_dir, tmp_path):
    runs = run_race(trace_dir, "default", race_policies(["GpuClustering", "GpuPacking"]),
                    [1, 2, 3], 1.3)
    capacity = gpu_capacity_milli(load_race(trace_dir, "default")[0].nodes)
    written = {}
    for name in "ab":
        paths = plot_race(runs, capacity, tmp_path / name / "allocation.png",
                          formats=["png", "pdf", "svg"], workload="default", tune=1.3)
        assert [p.name for p in paths] == ["allocation.png", "allocation.pdf",
                                           "allocation.svg"]
        written[name] = _tree(tmp_path / name)
    assert written["a"] == written["b"]
    assert written["a"]["allocation.png"][:4] == b"\x89PNG"
    assert written["a"]["allocation.pdf"][:5] == b"%PDF-"
    pdf = written["a"]["allocation.pdf"]
    assert b"CreationDate" not in pdf and b"Matplotlib" not in pdf
    svg = written["a"]["allocation.svg"].decode()
    assert "<dc:date>" not in svg
    for told in ("workload default, tune 1.3", "median over 3 seeds (1–3)", "band: min–max"):
        assert told in svg
    from schedlab.report import policy_colour
    for name in ("GpuClustering", "GpuPacking"):
        assert policy_colour(name).lower() in svg.lower()


def test_plot_colours_follow_the_policy_not_its_place(trace_dir, tmp_path):
    from schedlab.sim.fgd import race_figure

    capacity = gpu_capacity_milli(load_race(trace_dir, "default")[0].nodes)
    colours = []
    for names in (["FGD", "BestFit"], ["BestFit", "FGD"], ["Random", "FGD"]):
        runs = run_race(trace_dir, "default", race_policies(names), [1], 1.3)
        figure = race_figure(runs, capacity)
        colours.append({line.get_label(): line.get_color()
                        for line in figure.axes[0].get_lines()})
    assert colours[0]["FGD"] == colours[1]["FGD"] == colours[2]["FGD"]
    assert colours[0]["BestFit"] == colours[1]["BestFit"] != colours[0]["FGD"]


def test_cli_writes_the_plot_formats_asked_for(trace_dir, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["bench", "--suite", "fgd", "--trace-dir", str(trace_dir), "--policy", "FGD",
                 "--seeds", "1", "--out", str(out), "--jobs", "1",
                 "--plot-format", "pdf", "--plot-format", "svg"])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["allocation.pdf", "allocation.svg",
                                                    "summary.json", "timelines"]
    assert "allocation.pdf" in capsys.readouterr().out
    assert main(["bench", "--plot-format", "jpg"]) == 2


def test_the_package_names_every_public_name_of_its_modules():
    """``from schedlab.sim.fgd import X`` works for whatever its modules define."""
    import ast
    import inspect

    import schedlab.sim.fgd as fgd

    for module in (fgd.tuning, fgd.runner, fgd.statistics, fgd.outputs):
        defined = set()
        for node in ast.parse(inspect.getsource(module)).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                defined |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        for name in sorted(n for n in defined if not n.startswith("_")):
            assert name in fgd.__all__ and getattr(fgd, name) is getattr(module, name), name
