"""Hostile and careless use of the command: one clear line and the documented exit status,
no traceback, no hang, nothing half-written, no file the run did not write touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from schedlab import cli
from schedlab.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "traces" / "examples"
NODES, PODS = str(EXAMPLES / "nodes.yaml"), str(EXAMPLES / "pods.yaml")
REAL_TRACE = ROOT.parent / "shared" / "traces" / "alibaba-gpu-v2023"


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "\x1b" not in err
    return lines[0]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["place", "--seed", "-1"], ["explain", "--seed", "-1", "--pod", "web"],
    ["generate", "--seed", "-1", "--out", "x"], ["generate", "--n-nodes", "-5", "--out", "x"],
    ["generate", "--n-pods", "-1", "--out", "x"],
    ["generate", "--n-nodes", str(10**12), "--out", "x"],
    ["generate", "--n-pods", "٣", "--out", "x"],
    ["bench", "--plot-format", "gif"], ["place", "--seed", "99999999999999999999"],
])
def test_bad_numbers_are_one_line_with_status_2(capsys, tmp_path, monkeypatch, argv) -> None:
    monkeypatch.chdir(tmp_path)
    if argv[0] in ("place", "explain"):
        argv = [*argv, "--nodes", NODES, "--pods", PODS, "--out", "b.json"][
            : len(argv) + (4 if argv[0] == "explain" else 6)]
    code, err = run(capsys, *argv)
    assert code == 2
    assert one_line(err).startswith("schedlab: error: argument ")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("seeds", ["", "1,1", "99999999999999999999", "٣", "1-100000", "x-1"])
def test_bad_seeds_write_nothing(capsys, tmp_path, seeds) -> None:
    code, err = run(capsys, "bench", "--seeds", seeds, "--out", str(tmp_path / "out"))
    assert code == 2 and "--seeds" in one_line(err)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("limit", ["0", "-3", "nan", "1e9"])
def test_bad_time_limit(capsys, tmp_path, limit) -> None:
    code, err = run(capsys, "place", "--nodes", NODES, "--pods", PODS, "--policy", "optimal",
                    "--time-limit", limit, "--out", str(tmp_path / "b.json"))
    assert code == 2 and "--time-limit" in one_line(err)


@pytest.mark.parametrize(("argv", "option"), [
    (["--policy", "greedy", "--policy", "greedy"], "--policy"),
    (["--suite", "fgd", "--trace-dir", ".", "--time-limit", "3"], "--time-limit"),
    (["--suite", "fgd", "--trace-dir", ".", "--order", "input"], "--order"),
    (["--tune", "1.0"], "--tune"), (["--offline"], "--offline")])
def test_options_bench_would_ignore_are_refused(capsys, tmp_path, argv, option) -> None:
    code, err = run(capsys, "bench", *argv, "--out", str(tmp_path / "out"))
    assert code == 1 and option in one_line(err)
    assert not (tmp_path / "out").exists()


def test_markup_and_mathtext_in_names_are_plain_text(capsys, tmp_path) -> None:
    config = str(EXAMPLES / "kube-default.yaml")
    code = main(["bench", "--policy", "greedy", "--seeds", "0", "--config", f"$\\foo$={config}",
                 "--config", f"[b]={config}", "--out", str(tmp_path)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    rows = [line.split()[0] for line in printed.out.splitlines() if "greedy" in line]
    assert rows == ["$\\foo$", "[b]"]  # rich markup is not applied to names
    assert (tmp_path / "bench.png").is_file()  # nor mathtext in the figure


def test_a_failed_write_leaves_no_directory_it_made(tmp_path) -> None:
    out = tmp_path / "new" / "deeper"
    done = subprocess.run(
        ["bash", "-c", f"ulimit -f 4; exec {sys.executable} -m schedlab bench --policy greedy "
                       f"--seeds 0 --out {out} --quiet"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert not (tmp_path / "new").exists()


def test_outputs_in_device_trees_are_refused(capsys) -> None:
    code, err = run(capsys, "place", "--nodes", NODES, "--pods", PODS,
                    "--out", "/dev/schedlab-test.json")
    assert code == 1 and "/dev/schedlab-test.json" in one_line(err)
    assert not Path("/dev/schedlab-test.json").exists()


def test_out_naming_a_directory_names_it(capsys, tmp_path) -> None:
    target = tmp_path / "b.json"
    target.mkdir()
    code, err = run(capsys, "place", "--nodes", NODES, "--pods", PODS, "--out", str(target))
    assert code == 1 and f"{target}: cannot write: is a directory" in one_line(err)
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]


def test_a_write_failure_names_the_file_and_writes_nothing(tmp_path) -> None:
    """A file-size limit makes the Parquet or PNG write fail: the error names the target and
    bench leaves no pair of files from different runs."""
    out = tmp_path / "out"
    done = subprocess.run(
        ["bash", "-c", f"ulimit -f 4; exec {sys.executable} -m schedlab bench --policy greedy "
                       f"--seeds 0 --out {out} --quiet"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert str(out) in line and "File too large" in line
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")]
    assert not out.exists() or not list(out.glob(".*.tmp"))


def test_bench_keeps_files_it_did_not_write(capsys, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.parquet").write_text("mine")
    (out / "bench.svg").write_text("mine too")
    assert run(capsys, "bench", "--policy", "greedy", "--seeds", "0", "--out", str(out))[0] == 0
    assert (out / "notes.parquet").read_text() == "mine"
    assert (out / "bench.svg").read_text() == "mine too"  # not written by a schedlab run
    record = json.loads((out / "summary.json").read_text())
    assert record["generator"] == "schedlab"
    assert sorted(o["path"] for o in record["outputs"]) == ["bench.png", "results.parquet"]
    assert run(capsys, "bench", "--policy", "greedy", "--seeds", "0", "--out", str(out),
               "--plot-format", "pdf")[0] == 0
    assert not (out / "bench.png").exists()  # this run's stale output, recorded, is removed
    assert (out / "bench.pdf").is_file() and (out / "bench.svg").read_text() == "mine too"


def test_place_optimal_deterministic_gives_the_same_bytes(capsys, tmp_path) -> None:
    written = []
    for i in range(2):
        out = tmp_path / f"o{i}.json"
        assert run(capsys, "place", "--nodes", NODES, "--pods", PODS, "--policy", "optimal",
                   "--deterministic", "--time-limit", "5", "--seed", "3",
                   "--out", str(out))[0] == 0
        written.append(out.read_bytes())
    assert written[0] == written[1]
    assert "seconds" not in json.loads(written[0])["summary"]["report"]


def test_pod_file_with_two_pods_is_refused(capsys, tmp_path) -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {{name: {}}}\nspec: {{containers: [{{name: a}}]}}\n"
    two = tmp_path / "two.yaml"
    two.write_text(pod.format("a") + "---\n" + pod.format("b"))
    code, err = run(capsys, "explain", "--nodes", NODES, "--pods", PODS, "--pod", str(two))
    assert code == 1 and "a file holding one Pod" in one_line(err)


def test_messages_escape_control_characters(capsys, tmp_path) -> None:
    pods = tmp_path / "pods.yaml"
    pods.write_text('apiVersion: v1\nkind: Pod\nmetadata: {name: "evil\\nschedlab: forged'
                    '\\u001b[2J"}\nspec: {containers: [{name: a, resources: {requests: '
                    '{cpu: lots}}}]}\n')
    code, err = run(capsys, "place", "--nodes", NODES, "--pods", str(pods), "--out",
                    str(tmp_path / "b.json"))
    assert code == 1 and "\\n" in one_line(err) or "\\x1b" in one_line(err)


def test_huge_values_are_shortened(capsys, tmp_path) -> None:
    pods = tmp_path / "pods.yaml"
    pods.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                    f"  - {{name: a, resources: {{requests: {{cpu: '{'9' * 2_000_000}x'}}}}}}\n")
    code, err = run(capsys, "place", "--nodes", NODES, "--pods", str(pods), "--out",
                    str(tmp_path / "b.json"))
    assert code == 1 and len(one_line(err)) < 1000


def _interrupted(argv: list[str], cwd: Path, after: float) -> subprocess.CompletedProcess[str]:
    """Run the command, send it SIGINT (as Ctrl-C does) after ``after`` seconds."""
    process = subprocess.Popen([sys.executable, "-m", "schedlab", *argv], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    time.sleep(after)
    os.killpg(process.pid, signal.SIGINT)  # the terminal signals the whole process group
    started = time.monotonic()
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - started < 15  # stops at once: no queued run is finished first
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def test_ctrl_c_is_one_line_and_status_130(tmp_path) -> None:
    done = _interrupted(["bench", "--policy", "optimal", "--seeds", "0-30", "--out", "out"],
                        tmp_path, after=4.0)
    assert done.returncode == 130
    assert one_line(done.stderr) == "schedlab: interrupted"
    assert not (tmp_path / "out").exists()


def test_ctrl_c_waits_while_numba_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Interrupted inside numba's compiler (or an import), which would crash or leave a
    mangled error, Ctrl-C is sent again a moment later instead of raised there."""
    sent: list[int] = []
    monkeypatch.setattr(cli.os, "kill", lambda pid, signum: sent.append(signum))
    monkeypatch.setattr(cli, "INTERRUPT_RETRY_S", 0.0)
    compiler: dict[str, object] = {"__name__": "numba.core.dispatcher", "sys": sys}
    exec("def compile_kernel():\n    return sys._getframe()", compiler)
    cli._on_interrupt(signal.SIGINT, compiler["compile_kernel"]())  # type: ignore[operator]
    deadline = time.monotonic() + 5
    while not sent and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sent == [signal.SIGINT]
    with pytest.raises(KeyboardInterrupt):
        cli._on_interrupt(signal.SIGINT, sys._getframe())


@pytest.mark.slow
@pytest.mark.skipif(not REAL_TRACE.is_dir(), reason=f"needs the trace at {REAL_TRACE}")
def test_ctrl_c_stops_the_race_workers_at_once(tmp_path) -> None:
    done = _interrupted(["bench", "--suite", "fgd", "--trace-dir", str(REAL_TRACE),
                         "--seeds", "42-51", "--jobs", "2", "--out", "out"], tmp_path, after=4.0)
    assert done.returncode == 130
    assert one_line(done.stderr) == "schedlab: interrupted"
    assert not (tmp_path / "out").exists()


def test_only_files_a_schedlab_run_wrote_are_ever_deleted(capsys, tmp_path) -> None:
    """A record naming files outside --out (through a link), a record another tool wrote,
    and a file changed since schedlab wrote it: nothing of these is deleted."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(outside)
    (out / "theirs.txt").write_text("theirs")
    (out / "summary.json").write_text(json.dumps({"outputs": ["link/victim.txt", "theirs.txt"]}))
    argv = ["bench", "--policy", "greedy", "--seeds", "0", "--out", str(out)]
    assert run(capsys, *argv)[0] == 0
    assert (outside / "victim.txt").read_text() == "precious"
    assert (out / "theirs.txt").read_text() == "theirs"
    record = json.loads((out / "summary.json").read_text())
    record["outputs"].append({"path": "link/victim.txt",
                              "sha256": record["outputs"][0]["sha256"]})
    (out / "summary.json").write_text(json.dumps(record))
    (out / "bench.png").write_bytes(b"edited by hand")  # no longer what schedlab wrote
    assert run(capsys, *argv, "--plot-format", "svg")[0] == 0
    assert (outside / "victim.txt").read_text() == "precious"
    assert (out / "bench.png").read_bytes() == b"edited by hand"
