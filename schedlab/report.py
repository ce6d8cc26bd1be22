"""Tables for people and the machine description saved beside every result."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from schedlab.errors import SchedlabError

VERSIONED = ("schedlab", "numpy", "pandas", "pyarrow", "PyYAML")


def machine() -> dict[str, Any]:
    """The machine a figure was measured on."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    """Versions of schedlab and the libraries whose speed or results matter."""
    found = {}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain-text table; numbers right-aligned, floats with 3 significant decimals."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            if value.is_integer() or abs(value) >= 1000:
                return f"{value:,.0f}"
            return f"{value:,.3f}"
        return str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(header)]
    numeric = [all(isinstance(r[i], int | float) or str(r[i]).endswith("%") for r in rows)
               for i in range(len(header))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in cells)])


def write_atomic(path: str | os.PathLike[str], write: Any) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``, so no half-written file is left."""
    write_atomic_all({path: write})


def write_atomic_all(writers: Mapping[str | os.PathLike[str], Callable[[str], object]]) -> None:
    """Write several outputs as one: ``write(tmp_path)`` for every ``path: write`` in
    ``writers``, each to a temporary file beside its ``path`` (parent directories are made);
    only when every one was written are they renamed into place, in the order given. On any
    failure (an exception, KeyboardInterrupt) the temporary files are removed and no ``path``
    is touched. (A rename can still fail after others were done, but only for reasons a rename
    has, as a full disk does not: a target that is a directory is refused before any.)"""
    staged: list[tuple[str, Path]] = []
    try:
        for path, write in writers.items():
            target = Path(path)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                           suffix=".tmp")
            except OSError as error:
                raise SchedlabError(f"{target}: cannot write: {error.strerror or error}"
                                    ) from None
            os.close(fd)
            staged.append((tmp, target))
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            write(tmp)
        for _, target in staged:
            if target.is_dir():
                raise SchedlabError(f"{target}: cannot write: is a directory")
        while staged:
            os.replace(*staged[0])
            staged.pop(0)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)


def write_json(path: str | os.PathLike[str], payload: Any) -> None:
    """Write ``payload`` as indented JSON, atomically."""
    write_atomic(path, lambda tmp: Path(tmp).write_text(json.dumps(payload, indent=2) + "\n"))
