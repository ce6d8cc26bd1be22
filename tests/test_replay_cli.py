"""``schedlab run`` and the replay on the real Alibaba trace: outputs, same bytes, bad input in
one line with nothing written, Ctrl-C, and every bind of a slice of the trace checked against
the cluster just before it."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from schedlab.cli import main
from schedlab.framework.profile import Profile
from schedlab.objects import Pod, Workload
from schedlab.plugins import GpuShare
from schedlab.policies import Greedy
from schedlab.sim import replay
from schedlab.sim.results import FINAL_STATES
from schedlab.traces.trace import TERMINATION_GRACE_SECONDS, Trace
from schedlab.verify import check_placement

ROOT = Path(__file__).resolve().parents[1]
TIMELINE = ROOT / "traces" / "examples" / "timeline"
NODES, PODS = str(TIMELINE / "nodes.yaml"), str(TIMELINE / "pods.yaml")
ALIBABA = ROOT.parent / "shared" / "traces" / "alibaba-gpu-v2023"
needs_alibaba = pytest.mark.skipif(not (ALIBABA / "openb_pod_list_default.csv").is_file(),
                                   reason=f"needs the Alibaba GPU trace at {ALIBABA}")
OUTPUTS = {"pods.parquet", "decisions.parquet", "timeline.parquet", "timeline.png",
           "summary.json"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_writes_every_output_and_the_same_seed_gives_the_same_bytes(capsys, tmp_path):
    outputs = []
    for name in ("a", "b"):
        code, out, err = run(capsys, "run", "--nodes", NODES, "--pods", PODS, "--seed", "3",
                             "--out", str(tmp_path / name))
        assert code == 0, err
        assert "greedy" in out and "saved" in out
        outputs.append({p.name: p.read_bytes() for p in (tmp_path / name).iterdir()})
    assert set(outputs[0]) == OUTPUTS
    assert outputs[0] == outputs[1]
    summary = json.loads(outputs[0]["summary.json"],
                         parse_constant=lambda c: pytest.fail(f"{c} in summary.json"))
    assert summary["policy"] == "greedy" and summary["seed"] == 3
    assert sum(summary[s.lower()] for s in FINAL_STATES) == summary["pods"]


@pytest.mark.parametrize(("argv", "needle"), [
    ([], "one of --trace"),
    (["--nodes", NODES, "--pods", PODS, "--trace", "x"], "--trace and --nodes/--pods"),
    (["--nodes", NODES], "--nodes/--pods"),
    (["--trace", "no-such-dir"], "no-such-dir"),
    (["--nodes", NODES, "--pods", PODS, "--workload", "default"], "--alibaba with it"),
], ids=["no-source", "two-sources", "nodes-only", "missing-trace", "workload-alone"])
def test_bad_sources_are_one_line_and_write_nothing(capsys, tmp_path, argv, needle):
    code, _, err = run(capsys, "run", *argv, "--out", str(tmp_path / "out"))
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and needle in err
    assert not (tmp_path / "out").exists()


def test_a_malformed_native_trace_is_one_line(capsys, tmp_path):
    assert run(capsys, "trace", "convert", "--nodes", NODES, "--pods", PODS, "--out",
               str(tmp_path / "trace"))[0] == 0
    (tmp_path / "trace" / "events.parquet").write_bytes(b"not parquet")
    code, _, err = run(capsys, "run", "--trace", str(tmp_path / "trace"), "--out",
                       str(tmp_path / "out"))
    assert code == 1 and "events.parquet" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@needs_alibaba
def test_a_pod_list_without_times_is_refused_for_run(capsys, tmp_path):
    code, _, err = run(capsys, "run", "--alibaba", str(ALIBABA), "--workload", "multigpu50",
                       "--out", str(tmp_path / "out"))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "multigpu50" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_ctrl_c_leaves_no_output(tmp_path):
    argv = [sys.executable, "-m", "schedlab", "trace", "generate", "--n-nodes", "300",
            "--n-pods", "20000", "--seed", "1", "--load", "3", "--out", "trace"]
    subprocess.run(argv, cwd=tmp_path, check=True, capture_output=True)
    process = subprocess.Popen([sys.executable, "-m", "schedlab", "run", "--trace", "trace",
                                "--out", "out"], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(4.0)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.strip().splitlines() == ["schedlab: interrupted"]
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------- the real trace
def _slice(trace: Trace, n_nodes: int, n_pods: int) -> Trace:
    """The first ``n_pods`` pods of ``trace`` (by arrival) on its first ``n_nodes`` nodes."""
    workload = trace.workload
    pods = Workload(workload.nodes[:n_nodes], workload.pods[:n_pods], workload.objects)
    return Trace(pods, trace.arrival[:n_pods], trace.duration[:n_pods], trace.events,
                 trace.source, trace.deletion[:n_pods], trace.controllers)


class BindChecker:
    """An ``observe`` hook: checks every bind against the cluster just before it with the
    independent checker (``schedlab.verify``), the bound pods pinned to their nodes."""

    def __init__(self) -> None:
        self.binds = 0
        self.violations: list[object] = []

    def __call__(self, now, state, bound, pod, decision) -> None:
        where = {key: state.names[node] for key, node in state.bound.items()}
        pinned = [Pod(p.name, dataclasses.replace(p.template, node_name=where[k]), p.owner)
                  for k, p in bound.items()]
        workload = Workload(state.nodes, (*pinned, pod), state.objects)
        self.violations += check_placement(workload, {pod.key: state.names[decision.node]})
        over = (state.requested > state.allocatable) & (state.allocatable > 0)
        assert not over.any(), f"a node is over its allocatable at {now}"
        self.binds += 1


@needs_alibaba
@pytest.mark.parametrize(("n_nodes", "n_pods", "speedup"),
                         [(1213, 600, 1.0), (40, 300, 1000.0)],
                         ids=["all-nodes-real-times", "40-nodes-speedup-1000"])
def test_every_bind_of_a_slice_of_the_alibaba_trace_holds(n_nodes, n_pods, speedup):
    from schedlab.traces.alibaba import load_alibaba_trace

    trace = _slice(load_alibaba_trace(ALIBABA, "default"), n_nodes, n_pods).sped_up(speedup)
    checker = BindChecker()
    profile = Profile.default().with_filter(GpuShare())
    result = replay(trace, Greedy(profile), seed=7, observe=checker)
    assert checker.violations == []
    pods = result.pods
    assert len(pods) == n_pods and set(pods["state"]) <= set(FINAL_STATES)
    assert not pods.duplicated(["pod", "incarnation"]).any()
    assert checker.binds == pods["start"].notna().sum()
    started = pods.dropna(subset=["start"])
    assert (started["start"] >= started["arrival"]).all()
    ended = pods.dropna(subset=["end"])
    keys = [p.key for p in trace.workload.pods]
    duration = dict(zip(keys, trace.duration, strict=True))
    deletion = dict(zip(keys, trace.deletion, strict=True))
    # a pod production never scheduled is deleted at its deletion_time (its duration is
    # null): placed here, it leaves 30 s later (the grace period); still pending, it fails
    assert not np.isnan(trace.deletion).all()
    runs = ended["start"].to_numpy() + np.array([duration[k] for k in ended["pod"]])
    gone = np.array([deletion[k] for k in ended["pod"]]) + TERMINATION_GRACE_SECONDS
    assert np.allclose(ended["end"], np.fmin(runs, gone))  # no evictions here
    failed = pods[pods["state"] == "Failed"]
    assert (failed["reason"] == "deleted while pending").all()
    assert not any(np.isnan(deletion[k]) for k in failed["pod"])
    if speedup > 1:
        assert (pods["wait"] > 0).any(), "at this speedup some pods should queue"
