"""Tables for people, the machine description saved beside every result, and the way results
are saved: all files of a result or none (``write_atomic_all``), a record of what a run wrote
so the next removes only its own stale files, figures with one colour and style per policy in
PNG, PDF or SVG with the same bytes for the same figure."""

from __future__ import annotations

import functools
import json
import os
import platform
import tempfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from schedlab.errors import InputError, SchedlabError

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
    write_atomic(path, json_writer(payload))


# --- colours and styles of policies, the same in every figure ---------------------------------

POLICY_COLOURS: dict[str, str] = {
    # the FGD paper's six (Okabe–Ito colours, grey for Random)
    "Random": "#999999",
    "DotProd": "#CC79A7",
    "GpuClustering": "#E69F00",
    "GpuPacking": "#009E73",
    "BestFit": "#0072B2",
    "FGD": "#D55E00",
    # the built-in policies of ``schedlab bench``
    "round-robin": "#56B4E9",
    "greedy": "#882255",
    "random": "#999999",
    "optimal": "#000000",
}
"""The fixed colour of each known policy (``random`` and ``Random`` are the same policy)."""
OTHER_COLOURS: tuple[str, ...] = (
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#AA4499")
"""Paul Tol's colour-blind-safe "muted" palette, for policies not in ``POLICY_COLOURS``."""
POLICY_STYLES: dict[str, tuple[str, str]] = {
    "Random": (":", "x"),
    "DotProd": ("-.", "D"),
    "GpuClustering": ("--", "^"),
    "GpuPacking": ("-", "s"),
    "BestFit": ("-", "v"),
    "FGD": ("-", "o"),
    "round-robin": (":", "^"),
    "greedy": ("--", "s"),
    "random": (":", "x"),
    "optimal": ("-", "*"),
}
"""(line style, marker) of each known policy: policies whose lines often overlap (GpuPacking
and GpuClustering) differ in both."""
OTHER_LINESTYLES = ("-", "--", "-.", ":")
OTHER_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*")


def _stable_hash(name: str) -> int:
    """The same number for ``name`` in every process (Python's ``hash`` of a str is salted)."""
    return zlib.crc32(name.encode("utf-8"))


def policy_colour(name: str) -> str:
    """The colour (``#rrggbb``) of policy ``name`` in every figure: fixed for the FGD paper's
    six and the built-in policies, for any other name one of ``OTHER_COLOURS`` picked by a
    stable hash of the name."""
    if name in POLICY_COLOURS:
        return POLICY_COLOURS[name]
    return OTHER_COLOURS[_stable_hash(name) % len(OTHER_COLOURS)]


def policy_style(name: str) -> dict[str, str]:
    """Matplotlib ``linestyle`` and ``marker`` of policy ``name`` in every figure (use with
    ``color=policy_colour(name)``), so that overlapping lines stay apart: fixed for the known
    policies, for others picked by a stable hash of the name."""
    if name in POLICY_STYLES:
        linestyle, marker = POLICY_STYLES[name]
    else:
        number = _stable_hash(name)
        linestyle = OTHER_LINESTYLES[number % len(OTHER_LINESTYLES)]
        marker = OTHER_MARKERS[(number // len(OTHER_LINESTYLES)) % len(OTHER_MARKERS)]
    return {"linestyle": linestyle, "marker": marker}


# --- figures in several formats, the same bytes for the same figure ---------------------------

PLOT_FORMATS = ("png", "pdf", "svg")
"""Formats ``figure_writers`` saves; PNG is the default."""
_NO_DATES = {"png": {"Software": None},
             "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
             "svg": {"Creator": None, "Date": None}}
SVG_HASHSALT = "schedlab"
"""``svg.hashsalt`` while saving SVG, so its element ids are the same in every run."""


def plot_formats(formats: Sequence[str] | None) -> list[str]:
    """``formats`` checked against ``PLOT_FORMATS``, repeats dropped; None or empty: png."""
    wanted = list(dict.fromkeys(formats or ("png",)))
    for fmt in wanted:
        if fmt not in PLOT_FORMATS:
            raise InputError("plot", "format", fmt, " or ".join(PLOT_FORMATS))
    return wanted


def figure_writers(figure: Any, stem: str | os.PathLike[str],
                   formats: Sequence[str] | None = ("png",)
                   ) -> dict[Path, Callable[[str], None]]:
    """Writers (for ``write_atomic_all``) saving matplotlib ``figure`` as ``stem.<format>``
    for each of ``formats``: no dates and no software versions in the files and a fixed SVG
    hash salt, so the same figure gives the same bytes."""

    def save(tmp: str, fmt: str) -> None:
        import matplotlib

        with matplotlib.rc_context({"svg.hashsalt": SVG_HASHSALT}):
            figure.savefig(tmp, format=fmt, metadata=_NO_DATES[fmt])

    stem = Path(stem)
    return {stem.with_name(f"{stem.name}.{fmt}"): functools.partial(save, fmt=fmt)
            for fmt in plot_formats(formats)}


# --- the record of what a run wrote -----------------------------------------------------------

OUTPUTS_KEY = "outputs"
"""The key of ``summary.json`` listing the files the run wrote, relative to its directory."""


def json_writer(payload: Any) -> Callable[[str], None]:
    """A writer (for ``write_atomic_all``) of ``payload`` as indented JSON."""
    return lambda tmp: Path(tmp).write_text(json.dumps(payload, indent=2) + "\n")


def recorded_outputs(out: str | os.PathLike[str], record: str = "summary.json") -> list[str]:
    """The files an earlier run recorded writing in ``out``: the list ``outputs`` of
    ``out/record``; empty when the record is missing or malformed (then nothing is stale)."""
    try:
        content = json.loads((Path(out) / record).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    listed = content.get(OUTPUTS_KEY) if isinstance(content, dict) else None
    if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
        return []
    return listed


def remove_stale_outputs(out: str | os.PathLike[str], previous: Sequence[str],
                         current: Sequence[str]) -> list[Path]:
    """Delete the files an earlier run recorded (``previous``, paths relative to ``out``)
    that this run did not write (``current``), and return them. Only plain relative paths
    inside ``out`` naming files are deleted; anything else listed is left alone."""
    out = Path(out)
    keep = {PurePosixPath(p) for p in current}
    removed = []
    for listed in dict.fromkeys(previous):
        relative = PurePosixPath(listed)
        if (relative in keep or relative.is_absolute() or ".." in relative.parts
                or not relative.parts or "\\" in listed):
            continue
        path = out.joinpath(*relative.parts)
        if path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(path)
    return removed
