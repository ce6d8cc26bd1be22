"""A new user's first hour: the quick start, bench's defaults and outputs, comparing
configurations, a user's plugin on the command line, an installed (not editable) schedlab."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import schedlab
from schedlab.bench import default_trace_dir, parse_seeds, run_bench
from schedlab.cli import main
from schedlab.errors import InputError
from schedlab.framework.profile import PLUGINS
from schedlab.framework.registry import forget_published
from schedlab.policies import POLICIES, make_policy

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "traces" / "examples"
PLUGIN_FILE = EXAMPLES / "plugins" / "prefer_empty.py"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def strict_loads(text: str) -> object:
    """JSON as strict parsers read it: NaN and Infinity are errors."""
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def bench_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick start's ``schedlab bench`` (default policies and seeds), run once."""
    out = tmp_path_factory.mktemp("bench")
    assert main(["bench", "--out", str(out), "--quiet"]) == 0
    return out


def test_bench_writes_strict_json_with_null_gaps(bench_out: Path) -> None:
    summary = strict_loads((bench_out / "summary.json").read_text())
    records = summary["results"]
    assert {(r["config"], r["policy"]) for r in records} == {
        ("default", "round-robin"), ("default", "greedy"), ("default", "optimal")}
    # round-robin places fewer pods than optimal: its nodes gap does not apply -> null
    assert any(r["nodes_gap"] is None for r in records)


def test_bench_rows_carry_their_labels_and_one_name_per_figure(bench_out: Path) -> None:
    results = pd.read_parquet(bench_out / "results.parquet")
    assert list(results.columns[:3]) == ["config", "policy", "seed"]
    assert "peak_utilisation" in results.columns and "peak_util" not in results.columns
    assert {"allocation_cpu", "allocation_memory"} <= set(results.columns)
    assert len(results) == 9 and not results.duplicated(["config", "policy", "seed"]).any()


def test_default_seeds_are_replicates(bench_out: Path) -> None:
    """The three default seeds replay different arrival orders, so their rows differ."""
    results = pd.read_parquet(bench_out / "results.parquet")
    greedy = results[results["policy"] == "greedy"]
    assert greedy[["placed", "allocation_cpu", "allocation_memory"]].drop_duplicates().shape[0] > 1


def test_default_optimal_proves_every_seed(bench_out: Path) -> None:
    results = pd.read_parquet(bench_out / "results.parquet")
    optimal = results[results["policy"] == "optimal"]
    assert set(optimal["report_status"]) == {"optimal"}
    assert set(optimal["report_solved_by"]) == {"highs"}  # auto: HiGHS proves these at once
    assert (optimal["placed_gap"] == 0).all()


def test_bench_draws_a_labelled_plot(bench_out: Path) -> None:
    assert (bench_out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_input_order_keeps_seeds_to_tie_breaks() -> None:
    workload = schedlab.load_manifests(default_trace_dir() / "nodes.yaml",
                                       default_trace_dir() / "pods.yaml")
    results = run_bench(workload, ["round-robin"], [0, 1], order="input")
    assert results["placed"].nunique() == 1  # round-robin does not depend on the seed


def test_configs_side_by_side(capsys, tmp_path) -> None:
    code, out, err = run(capsys, "bench", "--nodes", str(EXAMPLES / "nodes.yaml"), "--pods",
                         str(EXAMPLES / "pods.yaml"), "--policy", "greedy", "--seeds", "0-1",
                         "--config", f"packing={EXAMPLES / 'scheduler-config.yaml'}",
                         "--config", str(EXAMPLES / "kube-default.yaml"), "--out", str(tmp_path))
    assert code == 0, err
    results = pd.read_parquet(tmp_path / "results.parquet")
    assert list(dict.fromkeys(results["config"])) == ["packing", "kube-default"]
    assert len(results) == 4
    lines = [line for line in out.splitlines() if line.split()[:2] in (
        ["packing", "greedy"], ["kube-default", "greedy"])]
    assert len(lines) == 2
    summary = strict_loads((tmp_path / "summary.json").read_text())
    assert summary["parameters"]["configs"]["packing"].endswith("scheduler-config.yaml")


def test_configs_with_one_name_are_refused(capsys, tmp_path) -> None:
    config = str(EXAMPLES / "scheduler-config.yaml")
    code, _, err = run(capsys, "bench", "--config", config, "--config", config,
                       "--out", str(tmp_path))
    assert code == 1 and "scheduler-config" in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_seeds_parse_strictly() -> None:
    assert parse_seeds("7") == [7] and parse_seeds("1,2, 5-6") == [1, 2, 5, 6]
    for bad in ("", "1,1", "٣", "3-1", "99999999999999999999", "-1", "a", "0-100000"):
        with pytest.raises(InputError):
            parse_seeds(bad)


def test_version(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"schedlab {schedlab.__version__}"


def test_record_is_flat_and_labelled() -> None:
    workload = schedlab.load_manifests(EXAMPLES / "nodes.yaml", EXAMPLES / "pods.yaml")
    result = schedlab.simulate(workload, make_policy("optimal", time_limit=5), seed=3)
    record = result.record()
    assert record["policy"] == "optimal" and record["seed"] == 3
    assert not any(isinstance(v, dict) for v in record.values())
    assert record["allocation_cpu"] == result.summary["allocation"]["cpu"]
    assert record["report_status"] == result.summary["report"]["status"]
    pd.DataFrame([record])  # loads as one row


# ------------------------------------------------------------------ progress
def test_progress_shows_on_a_terminal_and_not_with_quiet(tmp_path) -> None:
    def stderr_of(*extra: str) -> str:
        leader, follower = pty.openpty()
        done = subprocess.run(
            [sys.executable, "-m", "schedlab", "bench", "--policy", "optimal", "--seeds", "0",
             "--out", str(tmp_path), *extra],
            stdout=subprocess.DEVNULL, stderr=follower, cwd=tmp_path, timeout=300,
            env={**os.environ, "COLUMNS": "150"})
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        assert done.returncode == 0
        return b"".join(chunks).decode(errors="replace")

    shown = stderr_of()
    assert "bench" in shown and "1/1" in shown
    assert stderr_of("--quiet").strip() == ""


def test_optimal_tells_its_progress() -> None:
    workload = schedlab.load_manifests(EXAMPLES / "nodes.yaml", EXAMPLES / "pods.yaml")
    told: list[str] = []
    schedlab.simulate(workload, schedlab.Optimal(time_limit=5, solver="cp-sat",
                                                 progress=told.append), seed=0)
    assert told and all(line.count("best") == 1 and "bound" in line for line in told)
    assert any(line.startswith("pods placed") for line in told)
    assert any(line.startswith("nodes:") for line in told)


# ------------------------------------------------------------------ user plugins
@pytest.fixture
def clean_registries():
    """Forget the plugins and policies a test registers."""
    plugins, policies = dict(PLUGINS), dict(POLICIES)
    yield
    for registry, before in ((PLUGINS, plugins), (POLICIES, policies)):
        dict.clear(registry)
        dict.update(registry, before)
    forget_published()


def test_plugin_file_feeds_a_config(capsys, tmp_path, clean_registries) -> None:
    code, out, err = run(capsys, "place", "--plugin", f"{PLUGIN_FILE}:PreferEmptyNodes",
                         "--config", str(EXAMPLES / "plugins" / "prefer-empty.yaml"),
                         "--nodes", str(EXAMPLES / "nodes.yaml"), "--pods",
                         str(EXAMPLES / "pods.yaml"), "--out", str(tmp_path / "b.json"))
    assert code == 0, err
    assert "PreferEmptyNodes" in PLUGINS


def test_plugin_module_gives_a_policy(capsys, tmp_path, monkeypatch, clean_registries) -> None:
    (tmp_path / "my_policies.py").write_text(PLUGIN_FILE.read_text())
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "place", "--plugin", "my_policies:FirstFit", "--policy",
                         "first-fit", "--nodes", str(EXAMPLES / "nodes.yaml"), "--pods",
                         str(EXAMPLES / "pods.yaml"), "--out", "b.json")
    assert code == 0, err
    assert "with first-fit" in out


@pytest.mark.parametrize(("spec", "needle"), [
    ("nosuchmodule:X", "nosuchmodule"), ("no-colon", "no-colon"),
    (f"{PLUGIN_FILE}:Missing", "Missing"), (f"{PLUGIN_FILE}:np", "np"),
    ("missing_file.py:X", "missing_file.py")])
def test_bad_plugin_is_one_line(capsys, tmp_path, spec, needle, clean_registries) -> None:
    code, _, err = run(capsys, "place", "--plugin", spec, "--nodes", str(EXAMPLES / "nodes.yaml"),
                       "--pods", str(EXAMPLES / "pods.yaml"), "--out", str(tmp_path / "b.json"))
    assert code == 1 and needle in err and len(err.strip().splitlines()) == 1


def test_entry_points_publish_plugins_and_policies(tmp_path, monkeypatch,
                                                   clean_registries) -> None:
    """A package publishing its classes in the group schedlab.plugins is found by name."""
    (tmp_path / "published.py").write_text(PLUGIN_FILE.read_text())
    info = tmp_path / "published-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: published\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent("""\
        [schedlab.plugins]
        PreferEmptyNodes = published:PreferEmptyNodes
        first-fit = published:FirstFit
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    forget_published()
    profile = schedlab.load_config(EXAMPLES / "plugins" / "prefer-empty.yaml")
    assert "PreferEmptyNodes" in [p.name for p, _ in profile.scores]
    assert type(make_policy("first-fit")).__name__ == "FirstFit"
    assert "first-fit" not in PLUGINS  # a policy is not a plugin


# ------------------------------------------------------------------ installs
def test_testing_says_how_to_get_hypothesis(monkeypatch) -> None:
    for name in [m for m in sys.modules if m == "schedlab.testing" or
                 m.startswith(("schedlab.testing.", "hypothesis"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    with pytest.raises(ModuleNotFoundError, match=r'schedlab\[testing\]'):
        import schedlab.testing  # noqa: F401


@pytest.mark.slow
def test_an_installed_wheel_runs_the_main_job(tmp_path) -> None:
    """``pip install .`` (not editable) then ``schedlab bench`` outside the checkout."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(ROOT)], check=True, capture_output=True)
    wheel = next(wheels.glob("schedlab-*.whl"))
    assert "schedlab/data/default/pods.yaml" in zipfile.ZipFile(wheel).namelist()
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", "import schedlab, sys; "
                           "from schedlab.cli import main; print(schedlab.__file__); "
                           "sys.exit(main(['bench', '--policy', 'greedy', '--seeds', '0']))"],
                          cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(str(site))
    assert (elsewhere / "bench-out" / "summary.json").is_file()
