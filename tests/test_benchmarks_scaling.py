"""benchmarks/scaling.py runs end to end on tiny clusters: a labelled row per series and size,
strict JSON, ratios to the smallest size, memory per node, and the log-log PNG."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_TRACE = ROOT.parent / "shared" / "traces" / "alibaba-gpu-v2023"


def run_scaling(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "scaling.py"), "--nodes", "100", "50",
         "--pods", "40", "--memory-pods", "20", "--json", str(tmp_path / "out" / "s.json"),
         "--quiet", *extra],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_scaling_writes_rows_json_and_figure(tmp_path: Path) -> None:
    done = run_scaling(tmp_path)  # no --trace-dir: the FGD series is skipped, and says so
    assert done.returncode == 0, done.stderr
    assert "skipping fgd-race" in done.stderr and "Traceback" not in done.stderr
    text = (tmp_path / "out" / "s.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    saved = json.loads(text)
    rows = saved["results"]
    series = ["greedy-basic", "greedy-spread", "round-robin-basic"]
    assert [(r["series"], r["nodes"]) for r in rows] == [(s, n) for n in (50, 100)
                                                         for s in series]
    for row in rows:
        assert row["pods"] == 40 and row["seed"] == 0 and row["placed"] == 40
        assert row["pods_per_s"] > 0 and row["memory_pods"] == 20
        assert row["traced_bytes_per_node"] > 0
    for name in series:
        own = [r for r in rows if r["series"] == name]
        assert own[0]["vs_smallest"] == 1.0
        assert own[1]["vs_smallest"] == pytest.approx(own[1]["pods_per_s"]
                                                      / own[0]["pods_per_s"])
    assert saved["parameters"]["nodes"] == [50, 100] and saved["parameters"]["pods"] == 40
    assert saved["parameters"]["series"] == series
    assert {"machine", "versions"} <= saved.keys()
    assert (tmp_path / "out" / "s.png").read_bytes().startswith(b"\x89PNG")
    assert "greedy-spread" in done.stdout and "× smallest" in done.stdout
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_TRACE.is_dir(), reason=f"needs the trace at {SHARED_TRACE}")
def test_scaling_fgd_race_on_the_replicated_trace(tmp_path: Path) -> None:
    done = run_scaling(tmp_path, "--series", "fgd-race", "--memory-pods", "0",
                       "--nodes", "2000", "--trace-dir", str(SHARED_TRACE),
                       "--plot", str(tmp_path / "fgd.png"))
    assert done.returncode == 0, done.stderr
    rows = json.loads((tmp_path / "out" / "s.json").read_text())["results"]
    assert [(r["series"], r["nodes"]) for r in rows] == [("fgd-race", 2000)]
    assert rows[0]["placed"] == 40 and rows[0]["traced_bytes_per_node"] is None
    assert (tmp_path / "fgd.png").is_file() and not (tmp_path / "out" / "s.png").exists()
