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
