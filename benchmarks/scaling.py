"""How the cost of placing a pod grows with the cluster: pods/s from 500 to 100,000 nodes.

    python benchmarks/scaling.py --json scaling.json          # also writes scaling.png
    python benchmarks/scaling.py --nodes 500 5000 20000 --pods 5000 \
        --trace-dir ../shared/traces/alibaba-gpu-v2023 --json scaling.json

For every cluster size in --nodes (default 500, 1,000, 5,000, 20,000 and 100,000 nodes) and
the same --pods pending pods (default 5,000: the smallest basic cluster takes them all, at
70 % of its cpu), in one process pinned to one core (--cores to change), it times four
series:

* ``greedy-basic``: Greedy with the default profile at percentageOfNodesToScore 100 on
  kube-scheduler's SchedulingBasic-like input (schedlab.traces.synthetic.basic);
* ``greedy-spread``: the same on Deployments of --replicas pods spreading over --zones zones
  with required hostname anti-affinity (synthetic.spread, Deployment order);
* ``round-robin-basic``: RoundRobin over the default profile's filters on the basic input;
* ``fgd-race``: one FGD-race run (race_profile with the paper's FGD, ties to the first node,
  GPU fragmentation recorded after every pod) with --trace-dir: the Alibaba trace's 1,213 GPU
  nodes, shuffled by the seed as the race does, cycled to the size (copies renamed
  ``<node>-r<k>``; below 1,213 the first nodes of the shuffled order), and the race's first
  --pods pods (the trace shuffled and tuned to --tune × the trace's own GPU capacity; renamed
  copies once it runs out). Without --trace-dir this series is skipped (said on stderr).

Pods/s is the pods (placed or not) over simulate's placing loop (``RunResult.seconds``: the
policy's plan and every pod's filter, score and bind; building the ClusterState is
``setup_seconds``), and ``× smallest`` each series' pods/s over its own at the smallest size,
which shows the growth even when the machine's absolute speed drifts. Every series first runs
once untimed on a tiny cluster, so compiling is not timed. Memory per node is tracemalloc's
peak over a separate, untimed simulate of the same cluster with the first --memory-pods pods
(default 1,000; 0 skips it), over the nodes: the ClusterState, the policy's caches and plans
and the run's transient arrays and results, not the Workload given to it (built before).
Prints a table and writes JSON (rows with their labels; machine, versions, parameters) and a
log-log figure of pods/s against nodes (--plot, PNG; default the JSON's path with .png).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from schedlab.framework.profile import Profile
from schedlab.metrics import GpuTimeline
from schedlab.objects import Node, Pod, Workload
from schedlab.policies import Greedy, RoundRobin
from schedlab.progress import Progress
from schedlab.report import (
    OTHER_COLOURS,
    figure_writers,
    machine,
    plain_figures,
    policy_colour,
    policy_style,
    table,
    versions,
    write_atomic_all,
    write_json,
)
from schedlab.sim import simulate
from schedlab.sim.fgd import PAPER_POLICIES, load_race, race_profile, replay_workload
from schedlab.sim.fgd.tuning import policy_plugin
from schedlab.traces.synthetic import HOSTNAME, basic, spread

SERIES = ("greedy-basic", "greedy-spread", "round-robin-basic", "fgd-race")
DEFAULT_NODES = (500, 1000, 5000, 20_000, 100_000)
WARM_UP_NODES = WARM_UP_PODS = 50
LOOKS = {  # (colour, line style, marker) of each series in the figure
    "greedy-basic": (policy_colour("greedy"), policy_style("greedy")),
    "greedy-spread": (OTHER_COLOURS[0], {"linestyle": "-.", "marker": "D"}),
    "round-robin-basic": (policy_colour("round-robin"), policy_style("round-robin")),
    "fgd-race": (policy_colour("FGD"), policy_style("FGD")),
}


@dataclass
class Case:
    """One series at one size: its workload and how to run it (a fresh policy each time)."""

    workload: Workload
    run: Callable[[Workload], Any]  # simulate with a fresh policy; returns the RunResult


def scaled_nodes(nodes: Sequence[Node], count: int) -> tuple[Node, ...]:
    """``count`` nodes: ``nodes`` cycled, the copies after the first round renamed
    ``<name>-r<k>`` (their hostname label too, if they have one)."""
    out = []
    for i in range(count):
        node = nodes[i % len(nodes)]
        k = i // len(nodes)
        if k:
            name = f"{node.name}-r{k}"
            labels = dict(node.labels)
            if HOSTNAME in labels:
                labels[HOSTNAME] = name
            node = replace(node, name=name, labels=labels)
        out.append(node)
    return tuple(out)


def first_pods(pods: Sequence[Pod], count: int) -> tuple[Pod, ...]:
    """The first ``count`` of ``pods``, cycled when there are fewer (copies renamed)."""
    return tuple(pods[i] if i < len(pods) else
                 replace(pods[i % len(pods)], name=f"{pods[i % len(pods)].name}-x{i // len(pods)}")
                 for i in range(count))


def make_case(series: str, nodes: int, pods: int, args: argparse.Namespace,
              race: tuple[Workload, Any] | None) -> Case:
    """The workload of ``series`` at ``nodes`` × ``pods`` and its run; ``race`` is the FGD
    race's workload of the seed (``replay_workload``) and the trace's typical pods."""
    seed = args.seed
    if series == "fgd-race":
        assert race is not None
        replayed, typical = race
        workload = Workload(scaled_nodes(replayed.nodes, nodes),
                            first_pods(replayed.pods, pods), replayed.objects)

        def run_fgd(w: Workload) -> Any:
            plugin = policy_plugin(PAPER_POLICIES["FGD"], seed, typical)
            return simulate(w, Greedy(race_profile(plugin), tie_break="first"), seed,
                            observe=GpuTimeline(typical))
        return Case(workload, run_fgd)
    if series == "greedy-spread":
        workload = spread(nodes, pods, zones=min(args.zones, nodes), replicas=args.replicas,
                          seed=seed)
    else:
        workload = basic(nodes, pods, seed=seed)
    policy = RoundRobin if series == "round-robin-basic" else Greedy
    return Case(workload, lambda w: simulate(
        w, policy(Profile.default(percentage_of_nodes_to_score=100)), seed))


def traced_peak(case: Case, pods: int) -> int:
    """tracemalloc's peak (bytes) over simulating ``case`` with its first ``pods`` pods."""
    w = case.workload
    prefix = Workload(w.nodes, w.pods[:pods], w.objects)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        case.run(prefix)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Pods/s against nodes, log-log, a line per series, written atomically to ``path``."""
    with plain_figures() as plt:
        figure, axes = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
        for series in dict.fromkeys(r["series"] for r in rows):
            points = [(r["nodes"], r["pods_per_s"]) for r in rows
                      if r["series"] == series and r["pods_per_s"] and r["pods_per_s"] > 0]
            if not points:
                continue
            colour, style = LOOKS[series]
            axes.plot(*zip(*points, strict=True), label=series, color=colour, **style)
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        plain = FuncFormatter(lambda value, _: f"{value:,.0f}")  # no mathtext: 1,000 not 10^3
        axes.set_xscale("log")
        axes.set_yscale("log")
        for axis in (axes.xaxis, axes.yaxis):
            axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(plain)
            axis.set_minor_formatter(NullFormatter())
        axes.set_xlabel("nodes")
        axes.set_ylabel("pods/s (one core)")
        axes.set_title("Placing speed against cluster size")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
        write_atomic_all(figure_writers(figure, path.with_suffix(""), ("png",)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=list(DEFAULT_NODES),
                        help="cluster sizes (default: %(default)s)")
    parser.add_argument("--pods", type=int, default=5_000, help="pending pods at every size")
    parser.add_argument("--json", required=True, help="where to write the results")
    parser.add_argument("--plot", help="the PNG figure (default: the JSON's path, .png)")
    parser.add_argument("--series", nargs="+", choices=SERIES, default=list(SERIES))
    parser.add_argument("--zones", type=int, default=50, help="zones of the spread workload")
    parser.add_argument("--replicas", type=int, default=100,
                        help="pods per Deployment of the spread workload")
    parser.add_argument("--trace-dir", help="the Alibaba GPU trace, for the fgd-race series")
    parser.add_argument("--workload", default="default", help="the trace's pod list")
    parser.add_argument("--tune", type=float, default=1.3)
    parser.add_argument("--memory-pods", type=int, default=1000,
                        help="pods of the untimed tracemalloc run (0: no memory figure)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cores", type=int, default=1, help="CPUs to pin to (0: no pinning)")
    parser.add_argument("--quiet", action="store_true", help="no progress display on stderr")
    args = parser.parse_args()
    if (min(args.nodes) < 1 or min(args.pods, args.zones, args.replicas) < 1
            or args.memory_pods < 0):
        parser.error("--nodes, --pods, --zones and --replicas must be at least 1, "
                     "--memory-pods at least 0")
    if args.plot and not args.plot.endswith(".png"):
        parser.error("--plot: expected a path ending in .png")
    plot_path = Path(args.plot) if args.plot else Path(args.json).with_suffix(".png")
    if args.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    sizes = sorted(set(args.nodes))
    series = list(dict.fromkeys(args.series))
    race = None
    if "fgd-race" in series:
        if args.trace_dir and Path(args.trace_dir).is_dir():
            trace, typical = load_race(args.trace_dir, args.workload)
            race = (replay_workload(trace, args.seed, args.tune), typical)
        else:
            print(f"scaling: skipping fgd-race: no trace directory "
                  f"({args.trace_dir or 'give --trace-dir'})", file=sys.stderr)
            series.remove("fgd-race")

    rows: list[dict[str, Any]] = []
    with Progress(args.quiet) as progress:
        warm = progress.task("warming up (compiling)", total=len(series))
        for name in series:
            case = make_case(name, WARM_UP_NODES, WARM_UP_PODS, args, race)
            case.run(case.workload)
            warm.advance()
        task = progress.task("measuring", total=len(sizes) * len(series))
        for nodes in sizes:
            for name in series:
                task.status(f"{name}, {nodes:,} nodes")
                case = make_case(name, nodes, args.pods, args, race)
                started = time.perf_counter()
                result = case.run(case.workload)
                wall = time.perf_counter() - started
                memory_pods = min(args.memory_pods, args.pods)
                per_node = (traced_peak(case, memory_pods) / nodes if memory_pods else None)
                rows.append({
                    "series": name, "nodes": nodes, "pods": args.pods, "seed": args.seed,
                    "placed": int(result.summary["placed"]),
                    "seconds": result.seconds, "setup_seconds": wall - result.seconds,
                    "pods_per_s": args.pods / result.seconds if result.seconds > 0 else None,
                    "memory_pods": memory_pods, "traced_bytes_per_node": per_node,
                })
                task.advance()
    for name in series:
        own = [r for r in rows if r["series"] == name]
        base = own[0]["pods_per_s"]
        for r in own:
            r["vs_smallest"] = (r["pods_per_s"] / base if base and r["pods_per_s"] is not None
                                else None)

    print(f"{args.pods:,} pods per size, seed {args.seed}, {args.cores or 'all'} core(s); "
          f"memory: tracemalloc peak over {min(args.memory_pods, args.pods):,} pods")
    print(table([[r["series"], r["nodes"], r["pods"], r["placed"], r["pods_per_s"],
                  r["vs_smallest"], r["setup_seconds"], r["traced_bytes_per_node"]]
                 for r in rows],
                ["series", "nodes", "pods", "placed", "pods/s", "× smallest", "setup s",
                 "bytes/node"]))
    write_json(args.json, {
        "results": rows,
        "parameters": {**vars(args), "nodes": sizes, "series": series,
                       "plot": str(plot_path),
                       "profile": "default, percentageOfNodesToScore 100 (fgd-race: "
                                  "race_profile with FGD)",
                       "memory": "tracemalloc peak of an untimed simulate of the first "
                                 "memory_pods pods, over the nodes"},
        "machine": machine(),
        "versions": versions(),
    })
    plot(rows, plot_path)


if __name__ == "__main__":
    main()
