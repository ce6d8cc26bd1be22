"""The README tells the truth: its Python examples run, and CI runs its test command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    commands = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    test_command = next(c for c in commands if "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == test_command


def test_python_examples_run(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 4
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    assert "default/" in capsys.readouterr().out


def test_typed_args_plugin_example_is_configured_from_its_file(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The README's plugin with typed args gets them from the KubeSchedulerConfiguration it
    names, prefers the configured zone, and a bad arg there is the one line it shows."""
    import numpy as np

    import schedlab
    from schedlab.framework.profile import PLUGINS

    monkeypatch.chdir(ROOT)
    block = next(b for b in re.findall(r"```python\n(.*?)```", README, re.S)
                 if "PluginArgs" in b)
    default = ROOT / "traces" / "default"
    workload = schedlab.load_manifests(default / "nodes.yaml", default / "pods.yaml")
    namespace: dict = {"np": np, "schedlab": schedlab, "workload": workload}
    try:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
        plugin, weight = namespace["profile"].scores[-1]
        assert type(plugin).__name__ == "PreferLabel" and weight == 3
        assert plugin.args == namespace["PreferLabelArgs"](value="zone-b", bonus=40)

        def in_zone_b(result: schedlab.RunResult) -> int:
            zone = {n.name: n.labels.get("topology.kubernetes.io/zone") for n in workload.nodes}
            return sum(zone.get(node) == "zone-b" for node in result.bindings["node"])

        plain = schedlab.simulate(workload, schedlab.Greedy(), seed=1)
        assert in_zone_b(namespace["result"]) > in_zone_b(plain)

        text = (ROOT / "traces/examples/plugins/prefer-label.yaml").read_text()
        bad = tmp_path / "prefer-label.yaml"
        bad.write_text(text.replace("bonus: 40", "bonus: 140"))
        with pytest.raises(schedlab.ConfigError) as error:
            schedlab.load_config(bad)
        shown = "profiles[0].pluginConfig[0].args.bonus: got 140, expected an integer in 0..100"
        assert str(error.value) == f"{bad}: {shown}"
        assert shown in README
    finally:
        PLUGINS.pop("PreferLabel", None)


# ------------------------------------------------------------------- shell examples
SHARED_TRACE = ROOT.parent / "shared" / "traces" / "alibaba-gpu-v2023"
INSTALL = re.compile(r"^python3 -m venv \.venv && \. \.venv/bin/activate && pip install (?:-e )?\S+"
                     r"(?: && (?P<then>.*))?$")
SHORTER = {"--seeds 42-51": "--seeds 42", "--seeds 42-43": "--seeds 42",
           "--time-limit 30": "--time-limit 1",
           "--speedup 1000": "--speedup 1000 --until 3600",
           "--nodes 5000 --pods 10000": "--nodes 500 --pods 300 --reference-seconds 2",
           "--nodes 5000 --zones 50 --pods 10000":
               "--nodes 500 --zones 5 --pods 300 --reference-seconds 2"}
"""Long runs shortened (the same commands on fewer seeds or a shorter solver limit)."""


def shell_examples() -> list[object]:
    """Every command of the README's ``sh`` blocks (continuation lines joined), as a pytest
    param, skipped with the reason where it cannot run here."""
    params = []
    for block in re.findall(r"```sh\n(.*?)\n```", README, re.S):
        for command in block.replace("\\\n", " ").splitlines():
            command = " ".join(command.split("#")[0].split())
            if not command:
                continue
            marks = []
            install = INSTALL.match(command)
            if install:  # the install itself is this environment's; run what follows it
                command = install["then"] or ""
            if command == "python -m pytest":
                marks.append(pytest.mark.skip(reason="the test suite itself (CI runs it)"))
            elif "download-trace" in command:
                marks.append(pytest.mark.skip(reason="needs the network"))
            elif "alibaba-gpu-v2023" in command and not SHARED_TRACE.is_dir():
                marks.append(pytest.mark.skip(reason=f"needs the trace at {SHARED_TRACE}"))
            for long, short in SHORTER.items():
                command = command.replace(long, short)
            params.append(pytest.param(command, marks=marks, id=command[:70]))
    return params


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory where the README's relative paths hold: the checkout's traces, and the
    Alibaba trace where ``download-trace`` would have put it."""
    root = tmp_path_factory.mktemp("readme")
    for shared in ("traces", "benchmarks"):
        (root / shared).symlink_to(ROOT / shared)
    if SHARED_TRACE.is_dir():
        (root / "alibaba-gpu-v2023").symlink_to(SHARED_TRACE)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("command", shell_examples())
def test_shell_examples_run(command: str, sandbox: Path) -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", command], cwd=sandbox, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr


def test_every_shell_example_is_collected() -> None:
    commands = [p.values[0] for p in shell_examples()]
    assert any(c.startswith("schedlab bench") for c in commands)
    assert "" not in commands and all(c.startswith(("schedlab ", "python")) for c in commands)
