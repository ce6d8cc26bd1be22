"""The ``schedlab`` command: parses arguments and calls the public library, nothing more."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from schedlab.errors import InputError, SchedlabError
from schedlab.framework.profile import Profile
from schedlab.objects import Pod, Workload

OUTPUT_FORMATS = (".json", ".csv", ".parquet")


def _profile(path: str | None) -> Profile:
    if path is None:
        return Profile.default()
    from schedlab.framework.config import load_config

    return load_config(path)


def _workload(nodes: str | None, pods: str | None) -> Workload:
    from schedlab.traces import load_manifests

    if (nodes is None) != (pods is None):
        raise InputError("arguments", "--nodes/--pods", nodes or pods, "both or neither")
    if nodes is None:
        from schedlab.bench import default_trace_dir

        root = default_trace_dir()
        nodes, pods = str(root / "nodes.yaml"), str(root / "pods.yaml")
    return load_manifests(*dict.fromkeys((nodes, pods)))


def _find_pod(workload: Workload, wanted: str) -> Pod:
    """``--pod``: a file holding the pod (or a controller: its first pod), or the name or
    namespace/name of a pod in --pods."""
    if Path(wanted).is_file():
        from schedlab.traces import load_manifests

        pods = load_manifests(wanted).pods
        if not pods:
            raise InputError(wanted, "kind", "no Pod", "a file holding a Pod")
        return pods[0]
    found = [p for p in workload.pods if wanted in (p.key, p.name)]
    if len(found) != 1:
        expected = ("namespace/name: several namespaces hold that name" if found
                    else "a pod file, or the name or namespace/name of a pod in --pods")
        raise InputError("--pod", "value", wanted, expected)
    return found[0]


def cmd_explain(args: argparse.Namespace) -> None:
    from schedlab.explain import explain, explain_table

    workload = _workload(args.nodes, args.pods)
    report = explain(workload, _find_pod(workload, args.pod), _profile(args.config), args.seed,
                     args.in_order)
    print(explain_table(report) if args.format == "table" else json.dumps(report, indent=2))


def cmd_place(args: argparse.Namespace) -> None:
    from schedlab.policies import make_policy
    from schedlab.report import write_atomic, write_json
    from schedlab.sim import simulate

    suffix = Path(args.out).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise InputError("--out", "extension", suffix or args.out, " or ".join(OUTPUT_FORMATS))
    workload = _workload(args.nodes, args.pods)
    policy = make_policy(args.policy, _profile(args.config), **_optimal_options(args)
                         if args.policy == "optimal" else {})
    result = simulate(workload, policy, args.seed)
    summary = {"policy": args.policy, "seed": args.seed, **result.summary}
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


def _optimal_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Optimal policy's options from ``--time-limit``, ``--objective``, ``--solver``."""
    if not args.time_limit > 0:
        raise InputError("--time-limit", "value", args.time_limit, "seconds > 0")
    if args.deterministic and args.solver != "cp-sat":
        raise InputError("--deterministic", "solver", args.solver, "cp-sat (HiGHS runs on "
                         "wall-clock time only)")
    return {"time_limit": args.time_limit, "objective": args.objective, "solver": args.solver,
            "deterministic": args.deterministic}


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
        bench_summary,
        bench_table,
        optimal_note,
        parse_seeds,
        run_bench,
    )
    from schedlab.report import write_atomic, write_json

    policies = args.policy or list(DEFAULT_POLICIES)
    seeds = parse_seeds(args.seeds or "0-2")
    workload = _workload(args.nodes, args.pods)
    options = {"optimal": _optimal_options(args)} if "optimal" in policies else {}
    results = run_bench(workload, policies, seeds, _profile(args.config), options)
    print(f"{len(workload.nodes)} nodes, {len(workload.pending_pods)} pending pods, "
          f"seeds {','.join(map(str, seeds))}; means over seeds, pods/s median")
    print(bench_table(results))
    if optimal_note(results):
        print(optimal_note(results))
    out = Path(args.out)
    parameters = {"nodes": args.nodes or "bundled default", "pods": args.pods or "bundled default",
                  "config": args.config, "policies": policies, "seeds": seeds,
                  "n_nodes": len(workload.nodes), "n_pods": len(workload.pending_pods)}
    write_atomic(out / "results.parquet", lambda tmp: results.to_parquet(tmp, index=False))
    write_json(out / "summary.json", bench_summary(results, parameters))
    print(f"saved {out / 'results.parquet'} and {out / 'summary.json'}")


def cmd_bench_fgd(args: argparse.Namespace) -> None:
    from schedlab.bench import parse_seeds
    from schedlab.sim.fgd import (
        DEFAULT_TUNE,
        FgdRun,
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
    seeds = parse_seeds(args.seeds or "42-51")
    tune = DEFAULT_TUNE if args.tune is None else args.tune
    if not tune >= 0:  # also refuses nan
        raise InputError("bench --suite fgd", "--tune", tune,
                         "a ratio >= 0 of the GPU capacity (0: no tuning)")
    if args.jobs is not None and args.jobs < 1:
        raise InputError("bench --suite fgd", "--jobs", args.jobs, "at least 1 process")
    jobs = args.jobs or os.cpu_count() or 1
    workload = args.workload or "default"
    load_race(args.trace_dir, workload)  # a bad trace fails here, before anything is printed
    print(f"FGD race: workload {workload}, tune {tune}, {len(policies)} policies x "
          f"{len(seeds)} seeds, {jobs} processes", flush=True)

    def progress(run: FgdRun) -> None:
        print(f"  {run.policy} seed {run.seed}: {len(run.timeline)} pods in "
              f"{run.seconds:.2f} s", flush=True)

    runs = run_race(args.trace_dir, workload, policies, seeds, tune, jobs, on_run=progress)
    offline = run_offline(args.trace_dir, workload, seeds, tune, jobs) if args.offline else []
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="schedlab",
        description="Replay Kubernetes pod placement through scheduling policies.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def inputs(sub: argparse.ArgumentParser, required: bool) -> None:
        hint = "" if required else " (default: the bundled traces/default)"
        sub.add_argument("--nodes", required=required,
                         help=f"YAML/JSON file or directory holding Nodes{hint}")
        sub.add_argument("--pods", required=required,
                         help=f"YAML/JSON file or directory holding Pods and controllers{hint}")
        sub.add_argument("--config", help="KubeSchedulerConfiguration YAML "
                         "(default: kube-scheduler v1.32's default profile)")

    def optimal_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--time-limit", type=float, default=10.0,
                         help="optimal: seconds for the solver (default 10)")
        sub.add_argument("--objective", choices=("nodes", "balance", "gpu", "score"),
                         default="nodes", help="optimal: secondary objective after pods "
                         "placed: fewest nodes, lowest peak utilisation, most GPU, highest "
                         "profile score (default nodes)")
        sub.add_argument("--solver", choices=("cp-sat", "highs"), default="cp-sat",
                         help="optimal: CP-SAT (default) or HiGHS")
        sub.add_argument("--deterministic", action="store_true",
                         help="optimal: count the time limit in CP-SAT's deterministic time "
                              "(reproducible results)")

    explain = commands.add_parser("explain", help="why each node passed or failed, and scores")
    inputs(explain, required=True)
    explain.add_argument("--pod", required=True,
                         help="file holding the pod to explain, or the name of a pod in --pods")
    explain.add_argument("--seed", type=int, default=0, help="seed for tie-breaking")
    explain.add_argument("--in-order", action="store_true",
                         help="first place the pending pods listed before it, as place would")
    explain.add_argument("--format", choices=("json", "table"), default="json")
    explain.set_defaults(run=cmd_explain)

    place = commands.add_parser("place", help="place every pending pod and write the bindings")
    inputs(place, required=True)
    place.add_argument("--policy", default="greedy",
                       help="greedy, round-robin, random or optimal")
    optimal_options(place)
    place.add_argument("--seed", type=int, default=0)
    place.add_argument("--out", required=True, help="bindings file: .json, .csv or .parquet")
    place.set_defaults(run=cmd_place)

    bench = commands.add_parser(
        "bench", help="compare policies over seeds: quality and speed",
        description="Compare policies over seeds on a workload, or with --suite fgd replay the "
                    "FGD paper's GPU experiment on the Alibaba GPU trace.")
    inputs(bench, required=False)
    bench.add_argument("--suite", choices=("fgd",),
                       help="fgd: the FGD paper's experiment (needs --trace-dir)")
    bench.add_argument("--policy", action="append",
                       help="policy to run (repeatable; default round-robin, greedy, optimal; "
                            "with --suite fgd the paper's six: Random, DotProd, GpuClustering, "
                            "GpuPacking, BestFit, FGD, or any registered score plugin)")
    bench.add_argument("--seeds", help="e.g. 7, 1,2,3 or 42-51 (default 0-2; fgd 42-51)")
    bench.add_argument("--out", default="bench-out",
                       help="output directory (default bench-out)")
    bench.add_argument("--plot-format", action="append", choices=("png", "pdf", "svg"),
                       help="format of the saved plots (repeatable; default png)")
    optimal_options(bench)
    bench.add_argument("--trace-dir", help="fgd: directory of the Alibaba GPU 2023 trace CSVs")
    bench.add_argument("--workload", help="fgd: pod list openb_pod_list_<WORKLOAD>.csv "
                       "(default, cpu050, gpushare40, multigpu20, ...; default: default)")
    bench.add_argument("--tune", type=float,
                       help="fgd: pods' GPU ask as a ratio of GPU capacity (default 1.3)")
    bench.add_argument("--offline", action="store_true",
                       help="fgd: also bound the offline optimum (the best allocation of each "
                            "run's pods known at once)")
    bench.add_argument("--jobs", type=int,
                       help="fgd: processes running seeds in parallel (default: all cores)")
    bench.set_defaults(run=cmd_bench)

    download = commands.add_parser(
        "download-trace", help="download the Alibaba GPU 2023 trace (cluster-trace-gpu-v2023)")
    download.add_argument("--out", required=True, help="directory to write the CSVs to")
    download.add_argument("--file", action="append",
                          help="one file to fetch (repeatable; default: all)")
    download.add_argument("--quiet", action="store_true",
                          help="no line per file on stderr")
    download.set_defaults(run=cmd_download_trace)

    gen = commands.add_parser("generate", help="write a synthetic cluster and workload")
    gen.add_argument("--n-nodes", type=int, default=50)
    gen.add_argument("--n-pods", type=int, default=500)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--out", required=True, help="directory for nodes.yaml and pods.yaml")
    gen.set_defaults(run=cmd_generate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except SchedlabError as error:
        print(f"schedlab: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
    except OSError as error:
        print(f"schedlab: error: {error.filename or ''}: {error.strerror or error}",
              file=sys.stderr)
        return 1
    return 0
