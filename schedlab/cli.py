"""The ``schedlab`` command: parses arguments and calls the public library, nothing more."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from schedlab import __version__
from schedlab.errors import InputError, SchedlabError, printable, shown
from schedlab.framework.profile import Profile
from schedlab.objects import Pod, Workload
from schedlab.progress import Progress

OUTPUT_FORMATS = (".json", ".csv", ".parquet")
INTERRUPTED = 130
"""The exit status after Ctrl-C, as shells report a SIGINT."""
MIN_TIME_LIMIT, MAX_TIME_LIMIT = 0.01, 86_400.0
"""The shortest and longest solver time limit the command takes (a day), in seconds."""
OPTIMAL_OPTIONS = ("time_limit", "objective", "solver")
"""Optimal's options the command passes when given (else the policy's defaults)."""


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
    options: dict[str, Any] = {"deterministic": args.deterministic, "progress": progress}
    for name in OPTIMAL_OPTIONS:
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.deterministic and args.solver == "highs":
        raise InputError("--deterministic", "solver", args.solver, "cp-sat or auto (HiGHS "
                         "runs on wall-clock time only)")
    return options


FGD_ONLY = ("trace_dir", "workload", "tune", "jobs", "offline")
"""``bench`` options that only ``--suite fgd`` reads."""
PLAIN_ONLY = ("nodes", "pods", "config", "order", "deterministic", *OPTIMAL_OPTIONS)
"""``bench`` options that ``--suite fgd`` does not read."""


def _refuse_options(args: argparse.Namespace, names: Sequence[str], expected: str) -> None:
    """An error for the first of ``names`` given on the command line."""
    given = [n for n in names if getattr(args, n) not in (None, False)]
    if given:
        option = f"--{given[0].replace('_', '-')}"
        raise InputError("bench", option, getattr(args, given[0]), expected)


def _policies(given: Sequence[str] | None, default: Iterable[str]) -> list[str]:
    """``--policy`` values, each once (default: ``default``)."""
    chosen = list(given or default)
    repeated = [name for name in dict.fromkeys(chosen) if chosen.count(name) > 1]
    if repeated:
        raise InputError("--policy", "value", repeated[0], "each policy once")
    return chosen


def cmd_bench(args: argparse.Namespace) -> None:
    if args.suite == "fgd":
        cmd_bench_fgd(args)
        return
    _refuse_options(args, FGD_ONLY, "--suite fgd with this option")
    from schedlab.bench import (
        DEFAULT_POLICIES,
        Order,
        bench_table,
        optimal_note,
        run_bench,
        write_bench,
    )
    from schedlab.report import plot_formats, seed_list

    policies = _policies(args.policy, DEFAULT_POLICIES)
    seeds = [0, 1, 2] if args.seeds is None else args.seeds
    order: Order = args.order or "shuffled"
    formats = plot_formats(args.plot_format)
    configs = _configs(args.config)
    profiles = {name: _profile(path) for name, path in configs.items()}
    workload = _workload(args)
    with Progress(args.quiet) as progress:
        task = progress.task("bench", len(profiles) * len(policies) * len(seeds))
        options = {"optimal": _optimal_options(args, task.status)} \
            if "optimal" in policies else {}
        results = run_bench(workload, policies, seeds, profiles, options, order=order,
                            on_run=lambda row: task.advance())
    source = "bundled default" if args.nodes is None else f"{args.nodes}, {args.pods}"
    print(f"{len(workload.nodes)} nodes, {len(workload.pending_pods)} pending pods "
          f"({source}); seeds {seed_list(seeds)} ({order} order); means over seeds, "
          "pods/s median")
    print(bench_table(results))
    if optimal_note(results):
        print(optimal_note(results))
    parameters = {"nodes": args.nodes or "bundled default", "pods": args.pods or
                  "bundled default", "configs": configs, "policies": policies, "seeds": seeds,
                  "order": order, "n_nodes": len(workload.nodes),
                  "n_pods": len(workload.pending_pods), "plot_formats": formats}
    written = write_bench(results, args.out, parameters, f"{len(workload.nodes)} nodes, "
                          f"{len(workload.pending_pods)} pods ({source})", formats)
    print(f"saved {', '.join(written)} in {args.out}")


def cmd_bench_fgd(args: argparse.Namespace) -> None:
    from schedlab.report import plot_formats
    from schedlab.sim.fgd import (
        DEFAULT_TUNE,
        PAPER_POLICIES,
        load_race,
        race_policies,
        run_offline,
        run_race,
        write_race,
    )

    _refuse_options(args, PLAIN_ONLY, "no such option with --suite fgd (it takes "
                                      "--trace-dir, --workload, --tune, --jobs, --offline)")
    if args.trace_dir is None:
        raise InputError("bench --suite fgd", "--trace-dir", None,
                         "the directory of the Alibaba GPU trace (schedlab download-trace)")
    policies = race_policies(_policies(args.policy, PAPER_POLICIES))
    seeds = list(range(42, 52)) if args.seeds is None else args.seeds
    tune = DEFAULT_TUNE if args.tune is None else args.tune
    jobs = args.jobs or os.cpu_count() or 1
    workload = args.workload or "default"
    formats = plot_formats(args.plot_format)
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
    parameters = {"suite": "fgd", "trace_dir": str(args.trace_dir), "workload": workload,
                  "policies": list(policies), "seeds": seeds, "tune": tune, "jobs": jobs,
                  "plot_formats": formats}
    print(write_race(runs, args.out, parameters, offline, formats))


def cmd_download_trace(args: argparse.Namespace) -> None:
    from schedlab.traces.alibaba import download_trace

    written = download_trace(args.out, args.file or None, quiet=args.quiet)
    print(f"downloaded {len(written)} files to {args.out}")


def cmd_generate(args: argparse.Namespace) -> None:
    from schedlab.report import write_atomic_all
    from schedlab.traces import dump_manifests
    from schedlab.traces.synthetic import generate

    workload = generate(args.n_nodes, args.n_pods, args.seed)
    out = Path(args.out)
    texts = {out / "nodes.yaml": dump_manifests(Workload(workload.nodes, ())),
             out / "pods.yaml": dump_manifests(Workload((), workload.pods, workload.objects))}

    def writer(text: str) -> Callable[[str], object]:
        return lambda tmp: Path(tmp).write_text(text)

    write_atomic_all({path: writer(text) for path, text in texts.items()})
    print(f"wrote {len(workload.nodes)} nodes and {len(workload.pods)} pods to {out}")


def cmd_trace_convert(args: argparse.Namespace) -> None:
    from schedlab.traces.native import write_trace

    manifests = args.nodes is not None or args.pods is not None
    if manifests == (args.alibaba is not None):
        raise InputError("trace convert", "source", "both" if manifests else "none",
                         "either --nodes and --pods (manifests) or --alibaba DIR")
    if args.workload is not None and args.alibaba is None:
        raise InputError("trace convert", "--workload", args.workload, "--alibaba with it")
    with Progress(args.quiet) as progress:
        task = progress.task("reading")
        if manifests:
            if args.nodes is None or args.pods is None:
                raise InputError("arguments", "--nodes/--pods", args.nodes or args.pods,
                                 "both")
            from schedlab.traces.manifests import load_manifest_trace

            trace = load_manifest_trace(*dict.fromkeys((args.nodes, args.pods)),
                                        strict=args.strict)
        else:
            from schedlab.traces.alibaba import load_alibaba_trace

            trace = load_alibaba_trace(args.alibaba, args.workload or "default")
        task.status(f"writing {len(trace.workload.pods):,} pods")
        write_trace(trace, args.out)
    objects = trace.workload.objects
    dropped = [f"{len(v)} {what}" for v, what in (
        (objects.services, "Services"), (objects.namespaces, "Namespaces"),
        (objects.controllers, "controller selectors")) if len(v)]
    if dropped:
        print(f"note: {', '.join(dropped)} not kept (the native format version 1 holds "
              "nodes, pods, node events and controllers only)")
    print(f"wrote {len(trace.workload.nodes):,} nodes, {len(trace.workload.pods):,} pods, "
          f"{len(trace.events):,} node events and {len(trace.controllers):,} controllers to "
          f"{args.out}")


def cmd_trace_info(args: argparse.Namespace) -> None:
    from schedlab.report import table
    from schedlab.traces.native import read_trace, summary, summary_rows

    with Progress(args.quiet) as progress:
        progress.task(f"reading {args.path}")
        trace = read_trace(args.path)
        task = progress.task("summing up")
        info = summary(trace)
        task.advance()
    print(table(list(summary_rows(info)), ["", args.path]))


def cmd_trace_generate(args: argparse.Namespace) -> None:
    from schedlab.traces.native import write_trace
    from schedlab.traces.synthetic import trace as synthetic_trace

    with Progress(args.quiet) as progress:
        task = progress.task(f"generating {args.n_pods:,} pods")
        trace = synthetic_trace(args.n_nodes, args.n_pods, args.seed, load=args.load,
                                swing=args.swing)
        task.status("writing")
        write_trace(trace, args.out)
    span = float(trace.arrival[-1]) if len(trace.arrival) else 0.0
    print(f"wrote {len(trace.workload.nodes):,} nodes and {len(trace.workload.pods):,} pods "
          f"arriving over {span / 3600:,.1f} h to {args.out}")


def _trace(args: argparse.Namespace) -> Any:
    """The trace of ``run``: ``--trace`` (native), ``--nodes``/``--pods`` (manifests with
    the schedlab.io annotations) or ``--alibaba``/``--workload``, exactly one."""
    given = [name for name, value in (("--trace", args.trace), ("--nodes/--pods", args.nodes
             or args.pods), ("--alibaba", args.alibaba)) if value is not None]
    if len(given) != 1:
        raise InputError("run", "source", " and ".join(given) or "none",
                         "one of --trace PATH, --nodes F --pods F, --alibaba DIR")
    if args.workload is not None and args.alibaba is None:
        raise InputError("run", "--workload", args.workload, "--alibaba with it")
    if args.trace is not None:
        from schedlab.traces.native import read_trace

        return read_trace(args.trace)
    if args.alibaba is not None:
        from schedlab.traces.alibaba import load_alibaba_trace

        return load_alibaba_trace(args.alibaba, args.workload or "default")
    if args.nodes is None or args.pods is None:
        raise InputError("arguments", "--nodes/--pods", args.nodes or args.pods, "both")
    from schedlab.traces.manifests import load_manifest_trace

    return load_manifest_trace(*dict.fromkeys((args.nodes, args.pods)), strict=args.strict)


def cmd_run(args: argparse.Namespace) -> None:
    import time

    from schedlab.policies import make_policy
    from schedlab.report import plot_formats, table
    from schedlab.sim import replay

    formats = plot_formats(args.plot_format)
    with Progress(args.quiet) as progress:
        task = progress.task("reading the trace")
        trace = _trace(args)
        if args.speedup is not None:
            trace = trace.sped_up(args.speedup)
        end = trace.end if args.until is None else min(trace.end, args.until)
        task = progress.task(f"{args.policy}: replaying (simulated seconds)",
                             max(int(math.ceil(end)), 1))
        options = _optimal_options(args, task.status) if args.policy == "optimal" else {}
        profile = _profile(args.config)
        if args.config is None and any(p.template.gpu is not None for p in trace.workload.pods):
            from schedlab.plugins import GpuShare  # GPU sharing needs its filter (FGD's too)

            profile = profile.with_filter(GpuShare())
        policy = make_policy(args.policy, profile, **options)
        shown_at = 0.0

        def show(now: float) -> None:
            nonlocal shown_at
            if time.monotonic() - shown_at > 0.1:
                shown_at = time.monotonic()
                task.set(min(now, end), f"t = {now / 3600:,.2f} h")

        result = replay(trace, policy, args.seed, queue=args.queue, until=args.until,
                        window=args.window, batch=args.batch, bucket=args.bucket,
                        progress=show)
    summary = result.summary
    row = [summary["policy"], summary["seed"], summary["pods"], summary["succeeded"],
           summary["running"], summary["pending"], summary["failed"], summary["evicted"],
           summary["mean_wait"], summary["p99_wait"],
           summary["mean_allocation"].get("cpu"), summary["attempts"],
           result.events_per_second]
    header = ["policy", "seed", "pods", "succeeded", "running", "pending", "failed", "evicted",
              "mean wait (s)", "p99 wait (s)", "mean cpu", "attempts", "events/s"]
    print(f"{len(trace.workload.nodes):,} nodes, {summary['pods']:,} pods, "
          f"{len(trace.events):,} node events; queue {args.queue}"
          + (f", speedup {args.speedup:g}" if args.speedup is not None else "")
          + f"; replayed to {summary['end'] / 3600:,.2f} h in {result.seconds:.1f} s")
    print(table([row], header, percent={"mean cpu"}))
    written = result.save(args.out, tuple(formats))
    print(f"saved {', '.join(written)} in {args.out}")


MAX_SEED = 2**32 - 1
MAX_TUNE = 10.0
"""The largest --tune: pods asking ten times the cluster's GPUs (the paper goes to 1.3)."""
MAX_JOBS = 256
MAX_GENERATED_NODES = 20_000
MAX_GENERATED_PODS = 200_000
"""generate's caps: 200,000 pods take about 45 s and 1 GiB as YAML."""
MAX_TRACE_NODES = 100_000
MAX_TRACE_PODS = 2_000_000
"""trace generate's caps: 2,000,000 pods take about 10 s and 1.3 GiB to generate and write."""
MIN_TRACE_LOAD, MAX_TRACE_LOAD = 0.01, 10.0
MAX_TRACE_SWING = 0.95
MAX_SECONDS = 10.0 * 365 * 86_400
"""The longest time the command takes for --until, --window and --bucket (ten years)."""
MIN_SPEEDUP, MAX_SPEEDUP = 1e-6, 1e6


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


def seeds(text: str) -> list[int]:
    """An argparse type: seeds as ``bench.parse_seeds`` reads them."""
    from schedlab.bench import parse_seeds

    try:
        return parse_seeds(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(f"got {shown(text)}, expected {error.expected}"
                                         ) from None


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

    # every subcommand gets the common options; mypy rejects replacing a method (and its type)
    commands.add_parser = add_parser  # type: ignore[method-assign, assignment]

    def inputs(sub: argparse.ArgumentParser, required: bool, configs: bool = False,
               timed: bool = False) -> None:
        hint = "" if required else " (default: the bundled default trace, traces/default)"
        if timed:
            hint = (" (pods may carry the annotations schedlab.io/arrival and "
                    "schedlab.io/duration, seconds)")
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
        sub.add_argument("--time-limit", type=number(MIN_TIME_LIMIT, MAX_TIME_LIMIT),
                         help=f"optimal: seconds for the solver, {MIN_TIME_LIMIT:g} to "
                              f"{MAX_TIME_LIMIT:,.0f} (default 10)")
        sub.add_argument("--objective", choices=("nodes", "balance", "gpu", "score"),
                         help="optimal: secondary objective after pods placed: fewest nodes, "
                              "lowest peak utilisation, most GPU, highest profile score "
                              "(default nodes)")
        sub.add_argument("--solver", choices=("auto", "cp-sat", "highs"),
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
    bench.add_argument("--seeds", type=seeds,
                       help="e.g. 7, 1,2,3 or 42-51: distinct integers 0..4294967295, at most "
                            "10,000 (default 0-2; fgd 42-51)")
    bench.add_argument("--order", choices=("shuffled", "input"),
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
    gen.add_argument("--n-nodes", type=integer(1, MAX_GENERATED_NODES), default=50)
    gen.add_argument("--n-pods", type=integer(0, MAX_GENERATED_PODS), default=500)
    gen.add_argument("--seed", type=integer(0, MAX_SEED), default=0)
    gen.add_argument("--out", required=True, help="directory for nodes.yaml and pods.yaml")
    gen.set_defaults(run=cmd_generate)

    trace = commands.add_parser(
        "trace", help="traces over time in the native format: convert, info, generate",
        description="Traces over time (pods with arrival times and durations, node events) "
                    "in schedlab's native Parquet format.")
    trace_commands = trace.add_subparsers(dest="trace_command", required=True,
                                          metavar="COMMAND")
    convert = trace_commands.add_parser(
        "convert", parents=[common], help="write manifests or an Alibaba pod list as a native "
                                          "trace")
    convert.add_argument("--nodes", help="YAML/JSON file or directory holding Nodes")
    convert.add_argument("--pods", help="YAML/JSON file or directory holding Pods and "
                         "controllers (times from the annotations schedlab.io/arrival and "
                         "schedlab.io/duration)")
    convert.add_argument("--alibaba", metavar="DIR",
                         help="directory of the Alibaba GPU 2023 trace CSVs (times from "
                              "creation_time, scheduled_time, deletion_time)")
    convert.add_argument("--workload", help="with --alibaba: pod list "
                         "openb_pod_list_<WORKLOAD>.csv (default: default)")
    convert.add_argument("--out", required=True, help="directory to write the trace to")
    convert.set_defaults(run=cmd_trace_convert)
    info = trace_commands.add_parser("info", parents=[common],
                                     help="summarise a native trace")
    info.add_argument("path", metavar="PATH", help="directory of a native trace")
    info.set_defaults(run=cmd_trace_info)
    trace_gen = trace_commands.add_parser(
        "generate", parents=[common], help="write a seeded synthetic trace",
        description="A synthetic trace: generate's cluster, pods of its six shapes with a "
                    "team label mix, Poisson arrivals at a rate giving about --load of the "
                    "cpu of each pool (the GPU nodes, the others), optionally swinging over "
                    "a day, lognormal durations (mean 3,600 s, sigma 1).")
    trace_gen.add_argument("--n-nodes", type=integer(1, MAX_TRACE_NODES), required=True,
                           help=f"nodes, 1 to {MAX_TRACE_NODES:,}")
    trace_gen.add_argument("--n-pods", type=integer(0, MAX_TRACE_PODS), required=True,
                           help=f"pods, 0 to {MAX_TRACE_PODS:,}")
    trace_gen.add_argument("--seed", type=integer(0, MAX_SEED), required=True)
    trace_gen.add_argument("--load", type=number(MIN_TRACE_LOAD, MAX_TRACE_LOAD), default=0.8,
                           help="mean share of the cluster's cpu the running pods ask, "
                                f"{MIN_TRACE_LOAD:g} to {MAX_TRACE_LOAD:g} (default 0.8)")
    trace_gen.add_argument("--swing", type=number(0.0, MAX_TRACE_SWING), default=0.0,
                           help="the arrival rate follows a day, × (1 + swing × sin(2π t / "
                                f"24 h)), 0 to {MAX_TRACE_SWING:g} (default 0: steady)")
    trace_gen.add_argument("--out", required=True, help="directory to write the trace to")
    trace_gen.set_defaults(run=cmd_trace_generate)

    run = commands.add_parser(
        "run", help="replay a trace over time: arrivals, departures, a queue, node events")
    run.add_argument("--trace", metavar="PATH", help="directory of a native trace")
    inputs(run, required=False, timed=True)
    run.add_argument("--alibaba", metavar="DIR",
                     help="directory of the Alibaba GPU 2023 trace, replayed with its times")
    run.add_argument("--workload", help="with --alibaba: pod list openb_pod_list_<WORKLOAD>"
                                        ".csv (default: default)")
    run.add_argument("--policy", default="greedy",
                     help="greedy (default), round-robin, random, optimal, or a policy "
                          "registered with --plugin")
    run.add_argument("--seed", type=integer(0, MAX_SEED), default=0)
    run.add_argument("--queue", choices=("retry", "fail"), default="retry",
                     help="retry (default): a pod that fits nowhere waits and is retried "
                          "when the cluster changes (kube's queue); fail: it fails at once")
    run.add_argument("--until", type=number(0.0, MAX_SECONDS), metavar="SECONDS",
                     help="stop at this time (default: when nothing can change any more)")
    run.add_argument("--speedup", type=number(MIN_SPEEDUP, MAX_SPEEDUP), metavar="F",
                     help="divide arrival, deletion and node event times by F (durations "
                          "unchanged) to load the cluster F times as fast")
    run.add_argument("--window", type=number(0.0, MAX_SECONDS), metavar="SECONDS",
                     help="run the scheduler every SECONDS only (batches; default 0, every "
                          "event time; optimal: 60)")
    run.add_argument("--batch", type=integer(1, MAX_TRACE_PODS), metavar="N",
                     help="with a window, also run once N pods are ready")
    run.add_argument("--bucket", type=number(0.0, MAX_SECONDS), metavar="SECONDS",
                     help="a timeline row every SECONDS (default: after every event time)")
    run.add_argument("--out", default="run-out", help="directory for pods.parquet, "
                     "decisions.parquet, timeline.parquet, timeline.png and summary.json "
                     "(default run-out)")
    run.add_argument("--plot-format", action="append", choices=("png", "pdf", "svg"),
                     help="timeline figure format (repeatable; default png)")
    optimal_options(run)
    run.set_defaults(run=cmd_run)
    return parser


_UNINTERRUPTIBLE = ("numba", "llvmlite", "importlib", "_frozen_importlib")
"""Modules that Ctrl-C must not interrupt: numba's compiler and cache loader, and imports
(a C extension's initialisation)."""
INTERRUPT_RETRY_S = 0.05
"""How long Ctrl-C waits, while one of those runs, before it is tried again."""


def _compiling(frame: FrameType | None) -> bool:
    """One of the ``_UNINTERRUPTIBLE`` modules is on the stack of ``frame``."""
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith(_UNINTERRUPTIBLE):
            return True
        frame = frame.f_back
    return False


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C: KeyboardInterrupt, but not while numba compiles a kernel or loads one from
    its cache, or a module imports (interrupted there, numba crashes the process or leaves
    an unrelated error, and an extension fails to initialise): the signal is sent again a
    moment later, until that is over."""
    if _compiling(frame):
        retry = threading.Timer(INTERRUPT_RETRY_S, os.kill, (os.getpid(), signal.SIGINT))
        retry.daemon = True
        retry.start()
        return
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    shown_before = warnings.showwarning
    interrupt_before = None
    if threading.current_thread() is threading.main_thread():
        interrupt_before = signal.signal(signal.SIGINT, _on_interrupt)
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
        if interrupt_before is not None:
            signal.signal(signal.SIGINT, interrupt_before)
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
