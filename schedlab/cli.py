"""The ``schedlab`` command: parses arguments and calls the public library, nothing more."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from schedlab import __version__
from schedlab.errors import InputError, SchedlabError, printable, shown
from schedlab.framework.profile import Profile
from schedlab.objects import Pod, Workload
from schedlab.progress import Progress

OUTPUT_FORMATS = (".json", ".csv", ".parquet")
INTERRUPTED = 130
"""The exit status after Ctrl-C, as shells report a SIGINT."""
MAX_TIME_LIMIT = 86_400.0
"""The longest solver time limit the command takes (a day), in seconds."""


def _profile(path: str | None) -> Profile:
    """The profile of ``--config``: PATH, or PATH#NAME for the profile of that
    schedulerName in a file of several; none: kube-scheduler's default profile."""
    if path is None:
        return Profile.default()
    from schedlab.framework.config import load_config

    file, hash_sign, name = path.rpartition("#")
    if hash_sign and not Path(path).exists():
        return load_config(file, profile_name=name)
    return load_config(path)


def _configs(given: Sequence[str] | None) -> dict[str, str | None]:
    """``--config`` values (``NAME=PATH`` or ``PATH``, named by the file's stem) by name;
    none given: kube-scheduler's default profile, named ``default``."""
    from schedlab.bench import DEFAULT_CONFIG

    if not given:
        return {DEFAULT_CONFIG: None}
    configs: dict[str, str | None] = {}
    for value in given:
        name, equals, path = value.partition("=")
        if not equals or "/" in name or not name:
            name, path = Path(value).stem, value
        if name in configs:
            raise InputError("--config", "name", name, "a name no other --config has (give "
                             "each as NAME=PATH)")
        configs[name] = path
    return configs


def _workload(args: argparse.Namespace) -> Workload:
    """The workload of ``--nodes`` and ``--pods`` (both or neither: the bundled default),
    read strictly with ``--strict``; one without a Node is refused."""
    from schedlab.traces import load_manifests

    nodes, pods = args.nodes, args.pods
    if (nodes is None) != (pods is None):
        raise InputError("arguments", "--nodes/--pods", nodes or pods, "both or neither")
    if nodes is None:
        from schedlab.bench import default_trace_dir

        root = default_trace_dir()
        nodes, pods = str(root / "nodes.yaml"), str(root / "pods.yaml")
    workload = load_manifests(*dict.fromkeys((nodes, pods)), strict=args.strict)
    if not workload.nodes:
        raise InputError(nodes, "kind", "no Node", "at least one Node (v1) in --nodes")
    return workload


def _find_pod(workload: Workload, wanted: str, strict: bool) -> Pod:
    """``--pod``: a file holding the pod (or a controller of one pod), or the name or
    namespace/name of a pod in --pods."""
    if Path(wanted).is_file():
        from schedlab.traces import load_manifests

        pods = load_manifests(wanted, strict=strict).pods
        if len(pods) != 1:
            raise InputError(wanted, "pods", len(pods), "a file holding one Pod (or a "
                             "controller of one replica)")
        return pods[0]
    found = [p for p in workload.pods if wanted in (p.key, p.name)]
    if len(found) != 1:
        expected = ("namespace/name: several namespaces hold that name" if found
                    else "a pod file, or the name or namespace/name of a pod in --pods")
        raise InputError("--pod", "value", wanted, expected)
    return found[0]


def cmd_explain(args: argparse.Namespace) -> None:
    from schedlab.explain import explain, explain_table

    workload = _workload(args)
    pod = _find_pod(workload, args.pod, args.strict)
    report = explain(workload, pod, _profile(args.config), args.seed, args.in_order)
    print(explain_table(report) if args.format == "table" else json.dumps(report, indent=2))


def cmd_place(args: argparse.Namespace) -> None:
    from schedlab.policies import make_policy
    from schedlab.report import write_atomic, write_json
    from schedlab.sim import simulate

    suffix = Path(args.out).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise InputError("--out", "extension", suffix or args.out, " or ".join(OUTPUT_FORMATS))
    workload = _workload(args)
    with Progress(args.quiet) as progress:
        task = progress.task(f"{args.policy}: placing {len(workload.pending_pods):,} pods")
        options = _optimal_options(args, task.status) if args.policy == "optimal" else {}
        policy = make_policy(args.policy, _profile(args.config), **options)
        result = simulate(workload, policy, args.seed)
    summary = {"policy": args.policy, "seed": args.seed, **result.summary}
    if "report" in summary:  # the same seed gives the same bytes: no timings in the file
        summary["report"] = {k: v for k, v in summary["report"].items() if k != "seconds"}
    bindings = result.bindings
    if suffix == ".json":
        write_json(args.out, {"bindings": bindings.to_dict(orient="records"), "summary": summary})
    elif suffix == ".csv":
        write_atomic(args.out, lambda tmp: bindings.to_csv(tmp, index=False))
    else:
        write_atomic(args.out, lambda tmp: bindings.to_parquet(tmp, index=False))
    print(f"placed {summary['placed']}/{summary['pods']} pods "
          f"({summary['unschedulable']} unschedulable) with {args.policy}, seed {args.seed}: "
          f"{args.out}")


def _optimal_options(args: argparse.Namespace, progress: Callable[[str], None]
                     ) -> dict[str, Any]:
    """The Optimal policy's options from ``--time-limit``, ``--objective``, ``--solver`` and
    ``--deterministic``, telling ``progress`` how the solve goes."""
    if not 0 < args.time_limit <= MAX_TIME_LIMIT:
        raise InputError("--time-limit", "value", args.time_limit,
                         f"seconds > 0 and at most {MAX_TIME_LIMIT:,}")
    if args.deterministic and args.solver == "highs":
        raise InputError("--deterministic", "solver", args.solver, "cp-sat or auto (HiGHS "
                         "runs on wall-clock time only)")
    return {"time_limit": args.time_limit, "objective": args.objective, "solver": args.solver,
            "deterministic": args.deterministic, "progress": progress}


def cmd_bench(args: argparse.Namespace) -> None:
    if args.suite == "fgd":
        cmd_bench_fgd(args)
        return
    fgd_only = [f"--{name.replace('_', '-')}" for name in ("trace_dir", "workload", "tune", "jobs")
                if getattr(args, name) is not None] + (["--offline"] if args.offline else [])
    if fgd_only:
        raise InputError("bench", fgd_only[0], "given", "--suite fgd with this option")
    from schedlab.bench import (
        DEFAULT_POLICIES,
        bench_table,
        optimal_note,
        parse_seeds,
        run_bench,
        write_bench,
    )

    policies = args.policy or list(DEFAULT_POLICIES)
    seeds = parse_seeds("0-2" if args.seeds is None else args.seeds)
    configs = _configs(args.config)
    profiles = {name: _profile(path) for name, path in configs.items()}
    workload = _workload(args)
    runs = len(profiles) * len(policies) * len(seeds)
    with Progress(args.quiet) as progress:
        task = progress.task("bench", runs)
        options = {"optimal": _optimal_options(args, task.status)} \
            if "optimal" in policies else {}
        results = run_bench(workload, policies, seeds, profiles, options, order=args.order,
                            on_run=lambda row: task.advance())
    source = "bundled default" if args.nodes is None else f"{args.nodes}, {args.pods}"
    print(f"{len(workload.nodes)} nodes, {len(workload.pending_pods)} pending pods "
          f"({source}); seeds {_seed_list(seeds)} ({args.order} order); means over seeds, "
          "pods/s median")
    print(bench_table(results))
    if optimal_note(results):
        print(optimal_note(results))
    parameters = {"nodes": args.nodes or "bundled default", "pods": args.pods or
                  "bundled default", "configs": configs, "policies": policies, "seeds": seeds,
                  "order": args.order, "n_nodes": len(workload.nodes),
                  "n_pods": len(workload.pending_pods), "plot_formats": args.plot_format}
    written = write_bench(results, args.out, parameters, f"{len(workload.nodes)} nodes, "
                          f"{len(workload.pending_pods)} pods ({source})", args.plot_format)
    print(f"saved {', '.join(written)} in {args.out}")


def _seed_list(seeds: Sequence[int]) -> str:
    """Seeds as typed: "0-2" for a run of consecutive seeds, else "1,5,9"."""
    if len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))


def cmd_bench_fgd(args: argparse.Namespace) -> None:
    from schedlab.bench import parse_seeds
    from schedlab.sim.fgd import (
        DEFAULT_TUNE,
        load_race,
        race_policies,
        run_offline,
        run_race,
        write_race,
    )

    if args.nodes or args.pods or args.config:
        raise InputError("bench --suite fgd", "--nodes/--pods/--config", "given",
                         "--trace-dir and --workload instead")
    if args.trace_dir is None:
        raise InputError("bench --suite fgd", "--trace-dir", None,
                         "the directory of the Alibaba GPU trace (schedlab download-trace)")
    policies = race_policies(args.policy)
    seeds = parse_seeds("42-51" if args.seeds is None else args.seeds)
    tune = DEFAULT_TUNE if args.tune is None else args.tune
    jobs = args.jobs or os.cpu_count() or 1
    workload = args.workload or "default"
    trace, _ = load_race(args.trace_dir, workload)  # a bad trace fails here, before any run
    if not any(p.template.gpu is not None for p in trace.pods):
        raise InputError(f"{args.trace_dir}: openb_pod_list_{workload}.csv", "num_gpu",
                         "0 in every row", "pods asking for GPUs (the FGD race measures "
                         "GPU allocation)")
    print(f"FGD race: workload {workload}, tune {tune}, {len(policies)} policies x "
          f"{len(seeds)} seeds, {jobs} processes", flush=True)
    with Progress(args.quiet) as progress:
        task = progress.task("FGD race", len(policies) * len(seeds))
        runs = run_race(args.trace_dir, workload, policies, seeds, tune, jobs,
                        on_run=lambda run: task.advance())
        if args.offline:
            task = progress.task("offline optimum", len(seeds))
            offline = run_offline(args.trace_dir, workload, seeds, tune, jobs,
                                  on_run=lambda _: task.advance())
        else:
            offline = []
    formats = args.plot_format or ["png"]
    parameters = {"suite": "fgd", "trace_dir": str(args.trace_dir), "workload": workload,
                  "policies": list(policies), "seeds": seeds, "tune": tune, "jobs": jobs,
                  "plot_formats": list(dict.fromkeys(formats))}
    print(write_race(runs, args.out, parameters, offline, formats))


def cmd_download_trace(args: argparse.Namespace) -> None:
    from schedlab.traces.alibaba import download_trace

    written = download_trace(args.out, args.file or None, quiet=args.quiet)
    print(f"downloaded {len(written)} files to {args.out}")


def cmd_generate(args: argparse.Namespace) -> None:
    from schedlab.report import write_atomic
    from schedlab.traces import dump_manifests
    from schedlab.traces.synthetic import generate

    workload = generate(args.n_nodes, args.n_pods, args.seed)
    out = Path(args.out)
    for name, part in (("nodes.yaml", Workload(workload.nodes, ())),
                       ("pods.yaml", Workload((), workload.pods, workload.objects))):
        text = dump_manifests(part)
        write_atomic(out / name, lambda tmp, text=text: Path(tmp).write_text(text))
    print(f"wrote {len(workload.nodes)} nodes and {len(workload.pods)} pods to {out}")


MAX_SEED = 2**32 - 1
MAX_TUNE = 10.0
"""The largest --tune: pods asking ten times the cluster's GPUs (the paper goes to 1.3)."""
MAX_JOBS = 256
MAX_GENERATED_NODES = 1_000_000
MAX_GENERATED_PODS = 10_000_000


def integer(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer of ASCII digits in low..high."""
    def parse(text: str) -> int:
        digits = text[1:] if text.startswith("-") else text
        if not (digits.isascii() and digits.isdigit()) or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(
                f"got {shown(text)}, expected an integer in {low:,}..{high:,}")
        return int(text)

    return parse


def number(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite decimal number in low..high."""
    def parse(text: str) -> float:
        try:
            value = float(text) if text.isascii() else math.nan
        except ValueError:
            value = math.nan
        if not low <= value <= high:  # also refuses nan and inf
            raise argparse.ArgumentTypeError(
                f"got {shown(text)}, expected a number in {low:g}..{high:g}")
        return value

    return parse


class _Parser(argparse.ArgumentParser):
    """argparse saying a bad argument in one line (and exit status 2), without the usage."""

    def error(self, message: str) -> NoReturn:
        _fail(f"error: {message} (see {self.prog} --help)")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="schedlab",
        description="Replay Kubernetes pod placement through scheduling policies.")
    parser.add_argument("--version", action="version", version=f"schedlab {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("--quiet", action="store_true",
                        help="no progress display on stderr (it shows only on a terminal)")
    common.add_argument("--strict", action="store_true",
                        help="fields unknown to the Kubernetes API types are errors (default: "
                             "one warning line each, as kubectl --validate=warn)")
    common.add_argument("--plugin", action="append", default=[], metavar="MODULE:CLASS",
                        help="import a plugin or policy class (MODULE:CLASS, or "
                             "FILE.py:CLASS) and register it by its name for --config and "
                             "--policy (repeatable); installed packages may publish theirs "
                             "in the entry-point group schedlab.plugins")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    original = commands.add_parser

    def add_parser(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return original(name, parents=[common], **kwargs)

    commands.add_parser = add_parser  # type: ignore[method-assign]

    def inputs(sub: argparse.ArgumentParser, required: bool, configs: bool = False) -> None:
        hint = "" if required else " (default: the bundled default trace, traces/default)"
        sub.add_argument("--nodes", required=required,
                         help=f"YAML/JSON file or directory holding Nodes{hint}")
        sub.add_argument("--pods", required=required,
                         help=f"YAML/JSON file or directory holding Pods and controllers{hint}")
        if configs:
            sub.add_argument("--config", action="append", metavar="[NAME=]PATH",
                             help="KubeSchedulerConfiguration YAML; repeat to compare "
                                  "configurations side by side, each named NAME (default: "
                                  "the file's stem) (default: kube-scheduler v1.32's default "
                                  "profile, named default)")
        else:
            sub.add_argument("--config", help="KubeSchedulerConfiguration YAML "
                             "(default: kube-scheduler v1.32's default profile)")

    def optimal_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--time-limit", type=float, default=10.0,
                         help="optimal: seconds for the solver (default 10)")
        sub.add_argument("--objective", choices=("nodes", "balance", "gpu", "score"),
                         default="nodes", help="optimal: secondary objective after pods "
                         "placed: fewest nodes, lowest peak utilisation, most GPU, highest "
                         "profile score (default nodes)")
        sub.add_argument("--solver", choices=("auto", "cp-sat", "highs"), default="auto",
                         help="optimal: auto (default: HiGHS first on small models, then "
                              "CP-SAT unless HiGHS proved its answer), CP-SAT or HiGHS")
        sub.add_argument("--deterministic", action="store_true",
                         help="optimal: CP-SAT counting the time limit in its deterministic "
                              "time (reproducible results whatever the load)")

    explain = commands.add_parser("explain", help="why each node passed or failed, and scores")
    inputs(explain, required=True)
    explain.add_argument("--pod", required=True,
                         help="file holding the pod to explain, or the name of a pod in --pods")
    explain.add_argument("--seed", type=integer(0, MAX_SEED), default=0,
                         help="seed for tie-breaking")
    explain.add_argument("--in-order", action="store_true",
                         help="first place the pending pods listed before it, as place would")
    explain.add_argument("--format", choices=("json", "table"), default="json")
    explain.set_defaults(run=cmd_explain)

    place = commands.add_parser("place", help="place every pending pod and write the bindings")
    inputs(place, required=True)
    place.add_argument("--policy", default="greedy",
                       help="greedy, round-robin, random or optimal")
    optimal_options(place)
    place.add_argument("--seed", type=integer(0, MAX_SEED), default=0)
    place.add_argument("--out", required=True, help="bindings file: .json, .csv or .parquet")
    place.set_defaults(run=cmd_place)

    bench = commands.add_parser(
        "bench", help="compare policies over seeds: quality and speed",
        description="Compare policies over seeds on a workload, or with --suite fgd replay the "
                    "FGD paper's GPU experiment on the Alibaba GPU trace.")
    inputs(bench, required=False, configs=True)
    bench.add_argument("--suite", choices=("fgd",),
                       help="fgd: the FGD paper's experiment (needs --trace-dir)")
    bench.add_argument("--policy", action="append",
                       help="policy to run (repeatable; default round-robin, greedy, optimal; "
                            "with --suite fgd the paper's six: Random, DotProd, GpuClustering, "
                            "GpuPacking, BestFit, FGD, or any registered score plugin)")
    bench.add_argument("--seeds", help="e.g. 7, 1,2,3 or 42-51 (default 0-2; fgd 42-51)")
    bench.add_argument("--order", choices=("shuffled", "input"), default="shuffled",
                       help="pending pods' arrival order: shuffled (default: drawn from each "
                            "seed, so seeds are replicates) or input (the seed only breaks "
                            "ties)")
    bench.add_argument("--out", default="bench-out",
                       help="output directory (default bench-out)")
    bench.add_argument("--plot-format", action="append", choices=("png", "pdf", "svg"),
                       help="format of the saved plots (repeatable; default png)")
    optimal_options(bench)
    bench.add_argument("--trace-dir", help="fgd: directory of the Alibaba GPU 2023 trace CSVs")
    bench.add_argument("--workload", help="fgd: pod list openb_pod_list_<WORKLOAD>.csv "
                       "(default, cpu050, gpushare40, multigpu20, ...; default: default)")
    bench.add_argument("--tune", type=number(0.0, MAX_TUNE),
                       help="fgd: pods' GPU ask as a ratio of GPU capacity, 0 (no tuning) to "
                            f"{MAX_TUNE:g} (default 1.3)")
    bench.add_argument("--offline", action="store_true",
                       help="fgd: also bound the offline optimum (the best allocation of each "
                            "run's pods known at once)")
    bench.add_argument("--jobs", type=integer(1, MAX_JOBS),
                       help="fgd: processes running seeds in parallel (default: all cores)")
    bench.set_defaults(run=cmd_bench)

    download = commands.add_parser(
        "download-trace", help="download the Alibaba GPU 2023 trace (cluster-trace-gpu-v2023)")
    download.add_argument("--out", required=True, help="directory to write the CSVs to")
    download.add_argument("--file", action="append",
                          help="one file to fetch (repeatable; default: all)")
    download.set_defaults(run=cmd_download_trace)

    gen = commands.add_parser("generate", help="write a synthetic cluster and workload")
    gen.add_argument("--n-nodes", type=integer(0, MAX_GENERATED_NODES), default=50)
    gen.add_argument("--n-pods", type=integer(0, MAX_GENERATED_PODS), default=500)
    gen.add_argument("--seed", type=integer(0, MAX_SEED), default=0)
    gen.add_argument("--out", required=True, help="directory for nodes.yaml and pods.yaml")
    gen.set_defaults(run=cmd_generate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    shown_before = warnings.showwarning
    try:
        warnings.showwarning = _warn
        args = build_parser().parse_args(argv)
        from schedlab.extensions import load_extension

        for spec in args.plugin:
            load_extension(spec)
        args.run(args)
    except SystemExit as done:  # --help, --version, a bad argument (status 2)
        return done.code if isinstance(done.code, int) else 1
    except KeyboardInterrupt:
        _fail("interrupted")
        return INTERRUPTED
    except SchedlabError as error:
        _fail(f"error: {error}")
        return 1
    except BrokenPipeError:
        return 1
    except OSError as error:
        _fail(f"error: {error.filename or '(no file)'}: {error.strerror or error}")
        return 1
    finally:
        warnings.showwarning = shown_before
    return 0


def run() -> None:
    """The ``schedlab`` command's entry point: ``main`` with its exit status. After Ctrl-C
    the process ends at once, without waiting for a solver that cannot be stopped (HiGHS runs
    to its time limit in a background thread)."""
    code = main()
    if code == INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _warn(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    """A warning as one line on stderr (the file and field it names, no source line)."""
    print(f"schedlab: warning: {printable(str(message))}", file=sys.stderr)


def _fail(message: str) -> None:
    """One line on stderr: the message with control characters escaped."""
    print(f"schedlab: {printable(message)}", file=sys.stderr)
