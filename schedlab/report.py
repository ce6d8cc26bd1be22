"""Tables for people and the machine description saved beside every result."""

from __future__ import annotations

import io
import json
import math
import os
import platform
import tempfile
from collections.abc import Collection, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from schedlab.errors import SchedlabError

VERSIONED = ("schedlab", "numpy", "pandas", "pyarrow", "PyYAML", "scipy", "ortools")


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


def table(rows: pd.DataFrame | Sequence[Sequence[Any]], header: Sequence[str],
          percent: Collection[str] = ()) -> str:
    """A text table (rich) with ``header``. Each column is formatted alike: text as is,
    numbers right-aligned with thousands separators and the same decimals throughout the
    column (none when every value is whole, else enough for three significant digits of
    the smallest, at most 3), the columns named in ``percent`` (by their ``rows`` column names,
    or header names for a plain list) as percentages with one decimal; NaN or None is "-"."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(
        list(rows), columns=list(header))
    out = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    columns = []
    for name, title in zip(frame.columns, header, strict=True):
        values = frame[name]
        if values.dtype == object and all(v is None or v == "-" or _is_number(v)
                                          for v in values):
            values = pd.to_numeric(values.replace("-", None))  # numbers with gaps
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(
            values)
        out.add_column(title, justify="right" if numeric else "left")
        columns.append(_format_column(values, numeric, name in percent))
    for cells in zip(*columns, strict=True):
        out.add_row(*cells)
    console = Console(file=io.StringIO(), width=400, color_system=None, highlight=False)
    console.print(out)
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines()
                     if line.strip())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def _format_column(values: pd.Series, numeric: bool, percent: bool) -> list[str]:
    """The cells of one column, formatted alike (see ``table``)."""
    if not numeric:
        return ["-" if v is None else str(v) for v in values]
    numbers = values.astype(float)
    finite = numbers[np.isfinite(numbers)]
    if percent:
        return ["-" if not np.isfinite(v) else f"{100 * v:.1f}%" for v in numbers]
    decimals = 0
    if (finite != np.round(finite)).any():
        smallest = np.abs(finite[finite != 0]).min()
        decimals = int(np.clip(2 - np.floor(np.log10(smallest)), 0, 3))
    return ["-" if not np.isfinite(v) else f"{v:,.{decimals}f}" for v in numbers]


def write_atomic(path: str | os.PathLike[str], write: Any) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``, so no half-written file is left."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise SchedlabError(f"{target}: cannot write: {error.strerror or error}") from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def strict_json(payload: Any) -> str:
    """``payload`` as indented, strict JSON: NaN and infinities become null (strict parsers
    such as JavaScript's ``JSON.parse`` and ``jq`` refuse them), numpy scalars plain numbers."""
    return json.dumps(_strict(payload), indent=2, allow_nan=False) + "\n"


def _strict(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str | os.PathLike[str], payload: Any) -> None:
    """Write ``payload`` as strict JSON (``strict_json``), atomically."""
    text = strict_json(payload)
    write_atomic(path, lambda tmp: Path(tmp).write_text(text))


def figure(ncols: int = 1, width: float = 6.0, height: float = 4.0) -> tuple[Any, Any]:
    """A matplotlib figure with ``ncols`` axes side by side, for ``save_figure`` (the Agg
    backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(ncols=ncols, figsize=(width, height), dpi=120)


FIGURE_FORMATS = ("png", "pdf", "svg")


def save_figure(fig: Any, path: str | os.PathLike[str], formats: Sequence[str] = ("png",)
                ) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix of ``formats`` (png, pdf, svg), atomically
    and without dates or random ids, so the same figure gives the same bytes; closes it."""
    import matplotlib
    import matplotlib.pyplot as plt

    written = []
    try:
        fig.tight_layout()
        for suffix in formats:
            target = Path(path).with_suffix(f".{suffix}")
            metadata = {"Software": None} if suffix == "png" else {
                "Creator": None, "Producer": None, "CreationDate": None} if suffix == "pdf" \
                else {"Date": None, "Creator": None}
            with matplotlib.rc_context({"svg.hashsalt": "schedlab"}):
                write_atomic(target, lambda tmp, s=suffix, m=metadata: fig.savefig(
                    tmp, format=s, metadata=m))
            written.append(target)
    finally:
        plt.close(fig)
    return written
