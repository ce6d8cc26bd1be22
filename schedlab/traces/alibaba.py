"""Alibaba's cluster-trace-gpu-v2023 ("openb"), the trace of the FGD paper (USENIX ATC '23).

``read_nodes`` and ``read_pods`` turn one CSV file into Nodes or Pods; ``load_trace`` reads a
node list and a pod list from a trace directory into a ``Workload``; ``download_trace`` fetches
the files from alibaba/clusterdata at a pinned commit (with pooch) and checks their sha256.

Units. The files give cpu in milli-cores, memory in MiB and GPU shares in milli-GPU per GPU;
schedlab holds cpu in millicores (``"cpu"``), memory in bytes (``"memory"``, MiB * 2**20) and a
pod's GPU ask as ``GpuRequest(num_gpu, gpu_milli, models)``. Every node can hold
``NODE_POD_LIMIT`` pods, as in the FGD simulator, and carries its GPU model in the label
``GPU_MODEL_LABEL``.

As in the FGD paper's replay, pods only arrive: the ``qos``, ``pod_phase``, ``creation_time``,
``deletion_time`` and ``scheduled_time`` columns are checked to be in the header and are
otherwise ignored (the multigpu files do not have them). Pods with equal requests share one
``PodTemplate`` object.

Every problem in a file raises ``InputError`` naming the file, the 1-based line (the header is
line 1), the pod or node when known, the column, the value and what was expected. Blank lines
are skipped. The first problem in file order is reported (within a row, a cell that is not an
integer before a disagreement between cells).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from schedlab.errors import InputError, SchedlabError
from schedlab.objects import (
    GPU_MODEL_KEY,
    MILLI_PER_GPU,
    Container,
    GpuRequest,
    Node,
    Pod,
    PodTemplate,
    Workload,
)
from schedlab.traces.trace import Trace

GPU_MODEL_LABEL = GPU_MODEL_KEY
NODE_POD_LIMIT = 1001
"""The pod-count limit (allocatable ``pods``) of every node, as the FGD simulator sets it."""
MIB = 2**20
"""Bytes per MiB."""

NODE_HEADER: tuple[str, ...] = ("sn", "cpu_milli", "memory_mib", "gpu", "model")
POD_HEADER: tuple[str, ...] = (
    "name",
    "cpu_milli",
    "memory_mib",
    "num_gpu",
    "gpu_milli",
    "gpu_spec",
    "qos",
    "pod_phase",
    "creation_time",
    "deletion_time",
    "scheduled_time",
)
POD_HEADER_SHORT: tuple[str, ...] = POD_HEADER[:5]
"""The header of the multigpu pod lists, which have no gpu_spec, qos, phase or time columns."""

TRACE_FILES: tuple[str, ...] = (
    "README.md",
    "openb_node_list_all_node.csv",
    "openb_node_list_gpu_node.csv",
    "openb_pod_list_default.csv",
    *(
        f"openb_pod_list_cpu{n}.csv"
        for n in ("0", "037", "050", "072", "100", "200", "235", "250", "300")
    ),
    *(f"openb_pod_list_gpushare{n}.csv" for n in (20, 40, 60, 80, 100)),
    *(f"openb_pod_list_gpuspec{n}.csv" for n in ("05", "10", "20", "25", "33")),
    *(f"openb_pod_list_multigpu{n}.csv" for n in (20, 30, 40, 50)),
)
"""The trace's files in alibaba/clusterdata: its README and 26 CSV files."""
_COMMIT = "7a6c496e4f4b6ce6150be8f881cb051bf2abff42"
TRACE_URL = (
    f"https://raw.githubusercontent.com/alibaba/clusterdata/{_COMMIT}"
    "/cluster-trace-gpu-v2023/csv/{name}"
)
"""Where each CSV file is, at a pinned commit; ``README_URL`` is where the README is."""
README_URL = (
    f"https://raw.githubusercontent.com/alibaba/clusterdata/{_COMMIT}"
    "/cluster-trace-gpu-v2023/README.md"
)
DOWNLOAD_TIMEOUT = 60.0
"""Seconds ``download_trace`` waits on the network for each file."""
_SHA256: dict[str, str] = {
    "README.md": "4445ce29c045d3281f857f25c392b78880658978ea4fc420ec3f5b4bf621bc80",
    "openb_node_list_all_node.csv":
        "5a85c2af79c66a1efff8bbcbda430400aae56d8431370d738480967e1a9c6b15",
    "openb_node_list_gpu_node.csv":
        "2beca64b4d3dfa342036a34b56a495c6cef9225db836c81f541282cb1df320b5",
    "openb_pod_list_cpu0.csv": "1bc3fd9ee5c1468ccd018f624d9222746e08d59f963f66b925804734271c0eaa",
    "openb_pod_list_cpu037.csv": "8ed554026d041b15ff21ddc104d9a21dbd9a93c496262fa23ef7b5be27e220dc",
    "openb_pod_list_cpu050.csv": "747f43247bffc2b0bb081d7f61f0705ca8d390dafc0b647e642c92f3baf3ba1e",
    "openb_pod_list_cpu072.csv": "f8a2b031461b54d7b9f06d55473c2371eb3357b78a255c646bdca5e0833a8a2f",
    "openb_pod_list_cpu100.csv": "bec1c33fbdde61fd463877534ec79b393aec73e1cbb22d55fab9f166ac480982",
    "openb_pod_list_cpu200.csv": "b7e9d8a1a601da84d6e0b4110b19ef5001be5e4796d33e7b82f166ba95161f87",
    "openb_pod_list_cpu235.csv": "87bebd4d012faa8305ce1fd82737f51cf03361aac28b75d42e34aa656d7f4ee0",
    "openb_pod_list_cpu250.csv": "134c21ff96d57533df8a37b67632972884fec9396e77cd0898ddc370cc8e607d",
    "openb_pod_list_cpu300.csv": "76528825f40ee662cb098b3b6e683c1efd9f87a0c8af7e628df1f32c639636d1",
    "openb_pod_list_default.csv":
        "1ee7ed79c27a3b0861cda8ddba86a004c6aba904caafa329a76ae93ca63834a8",
    "openb_pod_list_gpushare100.csv":
        "12dbc07d6a49bf8641e2275a2ff5bf7be74b5df7d148d531e135b140b95f9a3d",
    "openb_pod_list_gpushare20.csv":
        "9be2d0efb52e242c32e23dd184cc5fcc1983478c6c9c02cbb6b4b62925c0ffcd",
    "openb_pod_list_gpushare40.csv":
        "d83ce79a4eb6987524bedbb0c65e41aed3a36bf6c1b78b86234c3687a07e1d40",
    "openb_pod_list_gpushare60.csv":
        "d31809628128a1f24491086eda4af3e23882b9213d3ef57a56ee2d1af69492fe",
    "openb_pod_list_gpushare80.csv":
        "88b6649369ced40d0fde287d2498ea61ff4b05fccba8bdc95daf6042f2f8431e",
    "openb_pod_list_gpuspec05.csv":
        "8f1c0ef7e4e511e982bd2818898ba22ee6d273bf5fce124b7ace285b5928cf4e",
    "openb_pod_list_gpuspec10.csv":
        "2dc7e4cb9480484f08539720b433a9ec9ab5d76b396f3f7557c53a2ff78a7611",
    "openb_pod_list_gpuspec20.csv":
        "6b9b89ab8913c1c074e994e98f548cf1a872fc5f76f2442ca8cd514a478b00a9",
    "openb_pod_list_gpuspec25.csv":
        "9d030679a2ccd7e27a7ec9ff15baff34480d22a0012515691fc187e3f35ee68c",
    "openb_pod_list_gpuspec33.csv":
        "eca4f746db1e5b25864ad021b55ece3943e101a3ebd4574d09dcb95c46117652",
    "openb_pod_list_multigpu20.csv":
        "d9ec6f6c74fb980cc0b81239470c6353fceea077ea9abd610003b604c7cc2b01",
    "openb_pod_list_multigpu30.csv":
        "a5e479c6444b1d83eef848159cf00c3cfa13441b2d1e2c113c391b91f1cc5b11",
    "openb_pod_list_multigpu40.csv":
        "32c9e8731ca07ef96108aa65f2a289bb9aacb47f642ed9e3789f99b242df60eb",
    "openb_pod_list_multigpu50.csv":
        "206f2f5959db30ecb7c44e7f13197c8ec50b7a35558ad3777cc3662ef0fe5373",
}
TRACE_SHA256: dict[str, str] = {name: _SHA256[name] for name in TRACE_FILES}
"""The sha256 of each of ``TRACE_FILES`` at the pinned commit, which ``download_trace``
checks. (Computed from ``../shared/traces/alibaba-gpu-v2023``, whose files have the git blob
hashes of the commit's.)"""

_INTEGER = r"[0-9]{1,18}"  # at most 18 digits, so it fits int64 (MiB to bytes is in Python ints)


@dataclass
class _Table:
    """The rows of one CSV file as strings, with the file line where each row starts."""

    path: Path
    kind: str  # "pod" or "node", for messages
    header: tuple[str, ...]
    cells: pd.DataFrame
    lines: list[int]

    def where(self, row: int) -> str:
        """``path:line (kind 'name')`` for row index ``row``."""
        name = self.cells.iat[row, 0] if self.cells.shape[1] else ""
        return f"{self.path}:{self.lines[row]} ({self.kind} {name!r})"

    def error(self, row: int, column: str, expected: str) -> InputError:
        """The InputError for the cell of ``row`` in ``column``."""
        return InputError(self.where(row), column, self.cells.at[row, column], expected)


def _read_table(
    path: str | os.PathLike[str], kind: str, headers: Sequence[tuple[str, ...]]
) -> _Table:
    """Read a CSV file whose header is one of ``headers``; check every row has its cells."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(
            str(path), "file", error.strerror or str(error), "a readable CSV file"
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(
            f"{path}:{line}", "file", data[error.start : error.end], "UTF-8 text"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    lines: list[int] = []
    header: tuple[str, ...] | None = None
    end = 0
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if header is None:
                header = tuple(row)
                if header not in headers:
                    raise InputError(
                        f"{path}:1",
                        "header",
                        ",".join(header),
                        " or ".join(repr(",".join(h)) for h in headers),
                    )
            elif not row:
                continue
            elif len(row) != len(header):
                raise InputError(
                    f"{path}:{start} ({kind} {row[0]!r})",
                    "cells",
                    len(row),
                    f"{len(header)} comma-separated cells, as in the header",
                )
            else:
                rows.append(row)
                lines.append(start)
    except csv.Error as error:
        raise InputError(f"{path}:{reader.line_num}", "csv", str(error), "valid CSV") from None
    if header is None:
        raise InputError(f"{path}:1", "header", "", " or ".join(repr(",".join(h)) for h in headers))
    cells = pd.DataFrame(rows, columns=list(header), dtype=str)
    if not rows:
        cells = pd.DataFrame({c: pd.Series([], dtype=str) for c in header})
    return _Table(path, kind, header, cells, lines)


Check = tuple[np.ndarray, str, str | Callable[[int], str]]
"""A row mask of problems, the column it is about and what was expected (or a function of the
row giving that)."""


def _integers(table: _Table, columns: Sequence[str]) -> tuple[dict[str, np.ndarray], list[Check]]:
    """The ``columns`` as int64 arrays (0 in a bad cell), and the checks that every cell is a
    non-negative integer."""
    ints: dict[str, np.ndarray] = {}
    checks: list[Check] = []
    for column in columns:
        ok = table.cells[column].str.fullmatch(_INTEGER).to_numpy(dtype=bool)
        ints[column] = table.cells[column].where(ok, "0").to_numpy().astype(np.int64)
        checks.append((~ok, column, "a non-negative integer (at most 18 digits)"))
    return ints, checks


def _raise_first(table: _Table, checks: Iterable[Check]) -> None:
    """Raise for the first bad row over all ``checks``; on a tie, for the check listed first."""
    first: tuple[int, str, str | Callable[[int], str]] | None = None
    for mask, column, expected in checks:
        bad = np.flatnonzero(mask)
        if len(bad) and (first is None or bad[0] < first[0]):
            first = (int(bad[0]), column, expected)
    if first is not None:
        row, column, expected = first
        raise table.error(row, column, expected(row) if callable(expected) else expected)


def _name_checks(table: _Table, column: str) -> list[Check]:
    """Names must be non-empty and unique within the file."""
    names = table.cells[column]

    def duplicate(row: int) -> str:
        first = int(np.flatnonzero((names == names.iat[row]).to_numpy())[0])
        return f"a name not used before (line {table.lines[first]} has it)"

    return [
        ((names == "").to_numpy(), column, f"a non-empty {table.kind} name"),
        (names.duplicated().to_numpy(), column, duplicate),
    ]


def read_nodes(path: str | os.PathLike[str]) -> tuple[Node, ...]:
    """The nodes of an ``openb_node_list_*.csv`` file, in file order.

    Each node gets allocatable cpu (millicores), memory (bytes) and ``pods``
    (``NODE_POD_LIMIT``), ``gpus`` GPUs of model ``gpu_model`` and, when it has GPUs, the label
    ``GPU_MODEL_LABEL``. CPU-only nodes have gpu 0 and an empty model.
    """
    table = _read_table(path, "node", (NODE_HEADER,))
    ints, int_checks = _integers(table, ("cpu_milli", "memory_mib", "gpu"))
    model = table.cells["model"]
    gpu = ints["gpu"]
    _raise_first(
        table,
        [
            *_name_checks(table, "sn"),
            *int_checks,
            ((gpu > 0) & (model == "").to_numpy(), "model", "a GPU model when gpu > 0"),
            ((gpu == 0) & (model != "").to_numpy(), "model", "'' when gpu is 0"),
        ],
    )
    return tuple(
        Node(
            name=name,
            allocatable={"cpu": cpu, "memory": memory * MIB, "pods": NODE_POD_LIMIT},
            labels={GPU_MODEL_LABEL: gpu_model} if gpu_model else {},
            gpus=gpus,
            gpu_model=gpu_model,
        )
        for name, cpu, memory, gpus, gpu_model in zip(
            table.cells["sn"],
            ints["cpu_milli"].tolist(),
            ints["memory_mib"].tolist(),
            gpu.tolist(),
            model,
            strict=True,
        )
    )


def read_pods(path: str | os.PathLike[str]) -> tuple[Pod, ...]:
    """The pods of an ``openb_pod_list_*.csv`` file, in file order, all in namespace default.

    Each pod has one container "main" requesting cpu (millicores) and memory (bytes, kept
    even when 0) and, when num_gpu > 0, ``GpuRequest(num_gpu, gpu_milli, models)`` with the
    models of ``gpu_spec`` (``|``-separated, repeats dropped; empty: any model). Pods with
    equal requests share one ``PodTemplate``.
    """
    table = _read_table(path, "pod", (POD_HEADER, POD_HEADER_SHORT))
    ints, int_checks = _integers(table, ("cpu_milli", "memory_mib", "num_gpu", "gpu_milli"))
    count, milli = ints["num_gpu"], ints["gpu_milli"]
    gpu = count > 0
    checks = [
        *_name_checks(table, "name"),
        *int_checks,
        (
            gpu & ((milli < 1) | (milli > MILLI_PER_GPU)),
            "gpu_milli",
            "1..1000 (milli-GPU per GPU) when num_gpu > 0",
        ),
        (~gpu & (milli != 0), "gpu_milli", "0 when num_gpu is 0"),
        ((count > 1) & (milli != MILLI_PER_GPU), "gpu_milli",
         "1000 (whole GPUs) when num_gpu > 1"),
    ]
    if "gpu_spec" in table.header:
        spec = table.cells["gpu_spec"]
        malformed = (spec != "") & spec.str.contains(r"^\||\|\||\|$|\s")
        checks += [
            (~gpu & (spec != "").to_numpy(), "gpu_spec", "'' when num_gpu is 0"),
            (
                malformed.to_numpy(),
                "gpu_spec",
                "GPU models separated by '|', none empty or holding spaces",
            ),
        ]
        specs = spec.tolist()
    else:
        specs = [""] * len(table.cells)
    _raise_first(table, checks)

    models: dict[str, frozenset[str]] = {"": frozenset()}
    templates: dict[tuple[Any, ...], PodTemplate] = {}
    pods = []
    for name, cpu, memory, n, m, s in zip(
        table.cells["name"],
        ints["cpu_milli"].tolist(),
        ints["memory_mib"].tolist(),
        count.tolist(),
        milli.tolist(),
        specs,
        strict=True,
    ):
        allowed = models.get(s)
        if allowed is None:
            allowed = models[s] = frozenset(s.split("|"))
        key = (cpu, memory, n, m, allowed)
        template = templates.get(key)
        if template is None:
            requests = {"cpu": cpu, "memory": memory * MIB}
            template = templates[key] = PodTemplate(
                containers=(Container("main", requests),),
                gpu=GpuRequest(n, m, allowed) if n else None,
            )
        pods.append(Pod(name, template))
    return tuple(pods)


def _available(trace_dir: Path, prefix: str) -> list[str]:
    """The sorted ``*`` of the files ``{prefix}*.csv`` in ``trace_dir`` (empty if none)."""
    if not trace_dir.is_dir():
        return []
    return sorted(p.name[len(prefix) : -len(".csv")] for p in trace_dir.glob(f"{prefix}*.csv"))


def available_workloads(trace_dir: str | os.PathLike[str]) -> list[str]:
    """The workloads in ``trace_dir``, sorted: ``X`` for each ``openb_pod_list_X.csv``."""
    return _available(Path(trace_dir), "openb_pod_list_")


def load_trace(
    trace_dir: str | os.PathLike[str], workload: str = "default", node_list: str = "gpu_node"
) -> Workload:
    """Nodes of ``openb_node_list_{node_list}.csv`` and pods of
    ``openb_pod_list_{workload}.csv`` in ``trace_dir`` as a Workload (see ``read_nodes`` and
    ``read_pods``). The FGD paper's cluster is node list "gpu_node"."""
    trace_dir = Path(trace_dir)
    if not trace_dir.is_dir():
        raise InputError(
            str(trace_dir),
            "directory",
            "missing",
            "a directory holding the trace's CSV files (schedlab download-trace fetches them)",
        )
    node_path = trace_dir / f"openb_node_list_{node_list}.csv"
    pod_path = trace_dir / f"openb_pod_list_{workload}.csv"
    if not node_path.is_file():
        lists = _available(trace_dir, "openb_node_list_")
        raise InputError(
            str(node_path),
            "node_list",
            node_list,
            f"one of the node lists there: {', '.join(lists) or 'none'}",
        )
    if not pod_path.is_file():
        workloads = available_workloads(trace_dir)
        raise InputError(
            str(pod_path),
            "workload",
            workload,
            f"one of the workloads there: {', '.join(workloads) or 'none'}",
        )
    return Workload(read_nodes(node_path), read_pods(pod_path))


def trace_url(name: str) -> str:
    """The URL of the trace file ``name`` (one of ``TRACE_FILES``)."""
    return README_URL if name == "README.md" else TRACE_URL.format(name=name)


def download_trace(
    out_dir: str | os.PathLike[str],
    names: Iterable[str] | None = None,
    *,
    downloader: Callable[[str, str, Any], object] | None = None,
    quiet: bool = False,
) -> list[Path]:
    """Download the trace files ``names`` (default: all of ``TRACE_FILES``) into ``out_dir``
    with pooch, check each against ``TRACE_SHA256`` and return their paths. A file already
    there with the right sha256 is kept, not fetched again; one with another is replaced.

    ``downloader`` is a pooch downloader, called as ``downloader(url, tmp_path, None)``
    (default: ``pooch.HTTPDownloader`` with a timeout of ``DOWNLOAD_TIMEOUT`` seconds). Each
    file goes to a temporary file in ``out_dir``, moved into place once its sha256 is checked.
    Unless ``quiet``, one line per file goes to stderr. A failure (network, file, checksum or
    KeyboardInterrupt) leaves no partial file, and when this call made ``out_dir`` (or its
    parents) it removes them with the files it put there; in a directory that was there
    before, the files it already fetched and checked stay (the next run keeps them). A
    network or file error raises ``SchedlabError`` naming the URL or path; a wrong checksum,
    one naming the file, the expected and the got sha256.
    """
    import pooch

    wanted = list(TRACE_FILES if names is None else names)
    for name in wanted:
        if name not in TRACE_FILES:
            raise InputError("--file", "name", name,
                             "one of the trace's files: " + ", ".join(TRACE_FILES))
    out = Path(out_dir)
    made = _make_directories(out)
    if downloader is None:
        downloader = pooch.HTTPDownloader(timeout=DOWNLOAD_TIMEOUT, progressbar=False)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # our line per file instead of pooch's log
    fresh: list[Path] = []
    paths = []
    line_open = False
    try:
        for number, name in enumerate(wanted, 1):
            url, target = trace_url(name), out / name
            existed = target.exists()
            fetch = _CheckedDownload(downloader, target, TRACE_SHA256[name])
            if not quiet:
                print(f"[{number}/{len(wanted)}] {name} ...", end=" ", file=sys.stderr,
                      flush=True)
                line_open = True
            try:
                pooch.retrieve(url, known_hash=f"sha256:{TRACE_SHA256[name]}", fname=name,
                               path=out, downloader=fetch, progressbar=False)
            except SchedlabError:
                raise
            except (OSError, ValueError) as error:
                detail = " ".join(str(error).split()) or type(error).__name__
                raise SchedlabError(f"cannot download {url}: {detail}") from None
            if not existed:
                fresh.append(target)
            paths.append(target)
            if not quiet:
                done = "downloaded" if fetch.called else "already there"
                print(f"{done}, {target.stat().st_size:,} bytes, sha256 ok", file=sys.stderr)
                line_open = False
    except BaseException:
        if line_open:
            print("failed", file=sys.stderr)
        if made:  # remove what this call made, and nothing else
            for path in fresh:
                path.unlink(missing_ok=True)
            for directory in reversed(made):
                with contextlib.suppress(OSError):
                    directory.rmdir()
        raise
    finally:
        logger.setLevel(level)
    return paths


def _make_directories(path: Path) -> list[Path]:
    """Make directory ``path`` and its missing parents; return those made, outermost first."""
    missing = []
    probe = path.absolute()
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SchedlabError(f"cannot create {path}: {error.strerror or error}") from None
    return missing[::-1]


class _CheckedDownload:
    """A pooch downloader around ``inner`` that checks the sha256 of what it wrote, so a
    mismatch is one ``SchedlabError`` line (pooch then deletes the temporary file)."""

    def __init__(self, inner: Callable[[str, str, Any], object], target: Path,
                 expected: str) -> None:
        self.inner, self.target, self.expected = inner, target, expected
        self.called = False

    def __call__(self, url: str, output_file: str, pooch: Any) -> None:
        from pooch import file_hash

        self.called = True
        self.inner(url, output_file, pooch)
        got = file_hash(output_file, alg="sha256")
        if got != self.expected:
            raise SchedlabError(f"{self.target}: sha256 mismatch: expected {self.expected}, "
                                f"got {got} (downloaded from {url}; not kept)")


TIME_COLUMNS: tuple[str, ...] = ("creation_time", "deletion_time", "scheduled_time")
"""The pod lists' time columns (seconds from the trace's start), which ``read_pod_times``
reads; the multigpu lists do not have them."""


def read_pod_times(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The time columns of an ``openb_pod_list_*.csv`` file, in file order, as float64 arrays
    of seconds: ``creation_time`` and ``deletion_time`` (integers, required) and
    ``scheduled_time`` (NaN where empty: a pod production never scheduled). Checked:
    scheduled_time >= creation_time and deletion_time >= scheduled_time (or >= creation_time
    when never scheduled). A list without time columns (the multigpu lists) is an
    ``InputError``."""
    table = _read_table(path, "pod", (POD_HEADER, POD_HEADER_SHORT))
    if "creation_time" not in table.header:
        raise InputError(
            str(table.path), "header", ",".join(table.header),
            f"the time columns {', '.join(TIME_COLUMNS)} (this pod list has none: replay it "
            "without times, as the FGD race does)",
        )
    scheduled = table.cells["scheduled_time"]
    never = (scheduled == "").to_numpy()
    ints, checks = _integers(table, ("creation_time", "deletion_time"))
    ok = scheduled.str.fullmatch(_INTEGER).to_numpy(dtype=bool)
    checks.append((~ok & ~never, "scheduled_time",
                   "a non-negative integer (at most 18 digits), or empty (never scheduled)"))
    at = table.cells["scheduled_time"].where(ok, "0").to_numpy().astype(np.int64)
    created, deleted = ints["creation_time"], ints["deletion_time"]
    checks += [
        (~never & (at < created), "scheduled_time", "a time >= creation_time"),
        (~never & (deleted < at), "deletion_time", "a time >= scheduled_time"),
        (never & (deleted < created), "deletion_time", "a time >= creation_time"),
    ]
    _raise_first(table, checks)
    return {
        "creation_time": created.astype(np.float64),
        "deletion_time": deleted.astype(np.float64),
        "scheduled_time": np.where(never, np.nan, at.astype(np.float64)),
    }


def load_alibaba_trace(
    trace_dir: str | os.PathLike[str], workload: str = "default", node_list: str = "gpu_node"
) -> Any:
    """The pod list ``workload`` of the trace in ``trace_dir`` with its real times, as a
    ``schedlab.traces.trace.Trace`` (nodes and pods as ``load_trace`` reads them).

    arrival   ``creation_time``
    duration  ``deletion_time - scheduled_time``, counted from the pod's start in the
              replay; NaN (runs until the end) where the deletion is the trace's end (the
              largest ``deletion_time`` of the list: the pod was still running when the
              trace was cut) and where production never scheduled the pod (empty
              ``scheduled_time``: it has no run time to replay)
    deletion  ``deletion_time`` for a pod production never scheduled (empty
              ``scheduled_time``): it leaves the queue then if still pending (and, if the
              replay placed it, terminates then); NaN (never deleted) for the others and
              where that deletion is the trace's end (still pending when the trace was cut)

    Pods are sorted by arrival, ties in file order. A pod list without time columns (the
    multigpu lists) is an ``InputError``.
    """

    whole = load_trace(trace_dir, workload, node_list)
    path = Path(trace_dir) / f"openb_pod_list_{workload}.csv"
    times = read_pod_times(path)
    deleted, scheduled = times["deletion_time"], times["scheduled_time"]
    end = deleted.max() if len(deleted) else 0.0
    duration = np.where((deleted == end) | np.isnan(scheduled), np.nan, deleted - scheduled)
    deletion = np.where(np.isnan(scheduled) & (deleted < end), deleted, np.nan)
    source = f"alibaba-gpu-v2023: openb_node_list_{node_list}.csv, openb_pod_list_{workload}.csv"
    return Trace.sorted(whole, times["creation_time"], duration, (), source, deletion)
