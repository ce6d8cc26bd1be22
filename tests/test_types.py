"""mypy is clean on ``schedlab/`` at the strictness ``pyproject.toml`` sets ([tool.mypy]):
every function typed, untyped code checked, no unused ``type: ignore``."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_reports_no_errors() -> None:
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                "--cache-dir", str(ROOT / ".mypy_cache"),
                                str(ROOT / "schedlab")])
    assert status == 0, out + err
