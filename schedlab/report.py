"""Tables for people, the machine description saved beside every result, and the way results
are saved: all files of a result or none (``write_atomic_all``), a record of what a run wrote
so the next removes only its own stale files, figures with one colour and style per policy in
PNG, PDF or SVG with the same bytes for the same figure."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import math
import os
import platform
import tempfile
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from schedlab.errors import InputError, SchedlabError, printable

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


def seed_list(seeds: Sequence[int]) -> str:
    """Seeds for people: ``[42, 43, 44, 50]`` as ``42–44, 50``."""
    spans: list[list[int]] = []
    for seed in sorted(set(seeds)):
        if spans and seed == spans[-1][1] + 1:
            spans[-1][1] = seed
        else:
            spans.append([seed, seed])
    return ", ".join(f"{a}" if a == b else f"{a}–{b}" if b > a + 1 else f"{a}, {b}"
                     for a, b in spans)


def table(rows: pd.DataFrame | Sequence[Sequence[Any]], header: Sequence[str],
          percent: Collection[str] = ()) -> str:
    """A text table (rich) with ``header``. Each column is formatted alike: text as is,
    numbers right-aligned with thousands separators and the same decimals throughout the
    column (none when every value is whole or every value is 1,000 or more, else enough for
    three significant digits of the smallest, 1 to 3), the columns named in ``percent`` (by
    their ``rows`` column names, or header names for a plain list) as percentages with one
    decimal; NaN or None is "-"."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

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
        out.add_column(Text(title), justify="right" if numeric else "left")
        columns.append(_format_column(values, numeric, name in percent))
    for cells in zip(*columns, strict=True):
        out.add_row(*(Text(printable(c)) for c in cells))  # as typed: no rich markup
    buffer = io.StringIO()
    console = Console(file=buffer, width=400, color_system=None, highlight=False)
    console.print(out)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()
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
    if (finite != np.round(finite)).any():  # fractions shown, unless all are in thousands
        smallest = np.abs(finite[finite != 0]).min()
        decimals = 0 if smallest >= 1000 else int(np.clip(2 - np.floor(np.log10(smallest)),
                                                           1, 3))
    return ["-" if not np.isfinite(v) else f"{v:,.{decimals}f}" for v in numbers]


def write_atomic(path: str | os.PathLike[str], write: Any) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``, so no half-written file is left."""
    write_atomic_all({path: write})


PathT = TypeVar("PathT", bound=str | os.PathLike[str])
"""A path type (``str``, ``Path``, ...) keying ``write_atomic_all``'s writers."""


def write_atomic_all(writers: Mapping[PathT, Callable[[str], object]]) -> None:
    """Write several outputs as one: ``write(tmp_path)`` for every ``path: write`` in
    ``writers``, each to a temporary file beside its ``path`` (parent directories are made);
    only when every one was written are they renamed into place, in the order given. On any
    failure (an exception, KeyboardInterrupt) the temporary files are removed and no ``path``
    is touched. (A rename can still fail after others were done, but only for reasons a rename
    has, as a full disk does not: a target that is a directory is refused before any.) An
    error names the target; targets in the system's device and process trees (``/dev``,
    ``/proc``, ``/sys``) are refused."""
    staged: list[tuple[str, Path]] = []
    created: list[Path] = []  # directories this call made, deepest last
    done = False
    try:
        for path, write in writers.items():
            target = Path(path)
            if Path(os.path.realpath(target)).parts[1:2] in (("dev",), ("proc",), ("sys",)):
                raise SchedlabError(f"{target}: cannot write: expected a path outside /dev, "
                                    "/proc and /sys")
            try:
                missing = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
                target.parent.mkdir(parents=True, exist_ok=True)
                created += reversed(missing)
                fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                           suffix=".tmp")
                os.close(fd)
                staged.append((tmp, target))
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
                write(tmp)
            except OSError as error:
                raise SchedlabError(f"{target}: cannot write: {error.strerror or error}"
                                    ) from None
        for _, target in staged:
            if target.is_dir():
                raise SchedlabError(f"{target}: cannot write: is a directory")
        while staged:
            try:
                os.replace(*staged[0])
            except OSError as error:
                raise SchedlabError(f"{staged[0][1]}: cannot write: "
                                    f"{error.strerror or error}") from None
            staged.pop(0)
        done = True
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        if not done:  # the directories made for nothing go too (if still empty)
            for directory in reversed(created):
                with contextlib.suppress(OSError):
                    directory.rmdir()


def write_json(path: str | os.PathLike[str], payload: Any) -> None:
    """Write ``payload`` as strict JSON (``strict_json``), atomically."""
    text = strict_json(payload)
    write_atomic(path, lambda tmp: Path(tmp).write_text(text))


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


@contextlib.contextmanager
def plain_figures() -> Iterator[Any]:
    """pyplot on the Agg backend (no display needed), for building a figure whose texts are
    drawn as typed: a ``$`` in a name the user chose is not mathtext."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"text.parse_math": False}):
        yield plt


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
    """Writers (for ``write_atomic_all``) of matplotlib ``figure`` as ``stem.<format>`` for
    each of ``formats``, rendered now (the figure is closed): no dates and no software
    versions in the files and a fixed SVG hash salt, so the same figure gives the same
    bytes."""
    import matplotlib
    import matplotlib.pyplot as plt

    stem = Path(stem)
    rendered = {}
    try:
        for fmt in plot_formats(formats):
            buffer = io.BytesIO()
            with matplotlib.rc_context({"svg.hashsalt": SVG_HASHSALT}):
                figure.savefig(buffer, format=fmt, metadata=_NO_DATES[fmt])
            rendered[stem.with_name(f"{stem.name}.{fmt}")] = buffer.getvalue()
    finally:
        plt.close(figure)
    return {path: functools.partial(_write_bytes, data=data) for path, data in rendered.items()}


def _write_bytes(tmp: str, data: bytes) -> None:
    Path(tmp).write_bytes(data)


def write_outputs(out: str | os.PathLike[str], writers: Mapping[Path, Callable[[str], object]],
                  summary: Mapping[str, Any]) -> list[str]:
    """Save a run's files in ``out``: every writer's file and ``summary.json`` (``summary``
    plus the record of what this run wrote: ``generator`` "schedlab" and ``outputs``, each
    file relative to ``out`` with its sha256), all or none (``write_atomic_all``); then
    delete the files the previous run recorded that this run did not write again
    (``remove_stale_outputs``). Returns the files written, relative to ``out``."""
    out = Path(out)
    previous = recorded_outputs(out)
    digests: dict[str, str] = {}

    def recorded(path: Path, write: Callable[[str], object]) -> Callable[[str], None]:
        def write_and_hash(tmp: str) -> None:
            write(tmp)
            digests[Path(path).relative_to(out).as_posix()] = _sha256(tmp)
        return write_and_hash

    def write_summary(tmp: str) -> None:  # last: every other file is written and hashed
        outputs = [{"path": p, "sha256": d} for p, d in digests.items()]
        record = {**summary, GENERATOR_KEY: GENERATOR, OUTPUTS_KEY: outputs}
        Path(tmp).write_text(strict_json(record))

    staged: dict[str | os.PathLike[str], Callable[[str], object]] = {
        Path(p): recorded(Path(p), w) for p, w in writers.items()}
    staged[out / "summary.json"] = write_summary
    write_atomic_all(staged)
    remove_stale_outputs(out, previous, digests)
    return [*digests, "summary.json"]


def _sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the record of what a run wrote -----------------------------------------------------------

OUTPUTS_KEY = "outputs"
"""The key of ``summary.json`` listing the files the run wrote: ``{"path", "sha256"}``."""
GENERATOR_KEY, GENERATOR = "generator", "schedlab"
"""Marks a ``summary.json`` as schedlab's own record (another tool's is never trusted)."""


def recorded_outputs(out: str | os.PathLike[str], record: str = "summary.json"
                     ) -> dict[str, str]:
    """The files an earlier schedlab run recorded writing in ``out`` (``write_outputs``), by
    path relative to ``out``, with their sha256; empty when ``out/record`` is missing,
    malformed or not schedlab's (then nothing is stale)."""
    try:
        content = json.loads((Path(out) / record).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    if not isinstance(content, dict) or content.get(GENERATOR_KEY) != GENERATOR:
        return {}
    listed = content.get(OUTPUTS_KEY)
    if not isinstance(listed, list):
        return {}
    return {entry["path"]: entry["sha256"] for entry in listed
            if isinstance(entry, dict) and isinstance(entry.get("path"), str)
            and isinstance(entry.get("sha256"), str)}


def remove_stale_outputs(out: str | os.PathLike[str], previous: Mapping[str, str],
                         current: Collection[str]) -> list[Path]:
    """Delete the files an earlier run recorded (``previous``: path relative to ``out`` →
    sha256) that this run did not write (``current``), and return them. A file is deleted
    only when it is a regular file (not a link) inside ``out`` whose content is still what
    that run wrote; anything else listed is left alone."""
    root = Path(out).resolve()
    keep = {PurePosixPath(p) for p in current}
    removed = []
    for listed, digest in previous.items():
        relative = PurePosixPath(listed)
        if (relative in keep or relative.is_absolute() or ".." in relative.parts
                or not relative.parts or "\\" in listed):
            continue
        path = root.joinpath(*relative.parts)
        if (path.is_file() and not path.is_symlink() and path.resolve().is_relative_to(root)
                and _sha256(path) == digest):
            path.unlink()
            removed.append(path)
    return removed
