"""Speed of one FGD-race run on the Alibaba GPU trace, against baselines in the same process.

    python benchmarks/fgd_speed.py --trace-dir ../shared/traces/alibaba-gpu-v2023 \
        --json results/fgd-speed.json

Replays the FGD paper's default trace (1,213 GPU nodes, pods shuffled and tuned to 1.3 × the GPU
capacity, fragmentation recorded after every pod) with FGD, with GpuPacking (the simplest of
the paper's scores) and with RoundRobin over the same filters (no score at all), pinned to one
core (--cores to change), each for every seed given. Prints a table (seconds per run, pods/s,
the ratio to RoundRobin) and writes JSON with the machine, versions and parameters.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from schedlab.fragmentation import TypicalPods
from schedlab.metrics import GpuTimeline
from schedlab.objects import Workload
from schedlab.policies import RoundRobin
from schedlab.report import machine, table, versions, write_json
from schedlab.sim import simulate
from schedlab.sim.fgd import PAPER_POLICIES, load_race, race_profile, replay_workload, run_once


def round_robin_run(trace: Workload, typical: TypicalPods, seed: int, tune: float
                    ) -> tuple[int, float]:
    """Pods and seconds of a filter-only replay with the same timeline recording."""
    workload = replay_workload(trace, seed, tune)
    timeline = GpuTimeline(typical)
    policy = RoundRobin(race_profile(PAPER_POLICIES["GpuPacking"]))
    start = time.perf_counter()
    simulate(workload, policy, seed, observe=timeline)
    return len(workload.pods), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trace-dir", required=True)
    parser.add_argument("--workload", default="default")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--tune", type=float, default=1.3)
    parser.add_argument("--json", required=True, help="where to write the results")
    parser.add_argument("--cores", type=int, default=1, help="CPUs to pin to (0: no pinning)")
    args = parser.parse_args()
    if args.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    trace, typical = load_race(args.trace_dir, args.workload)
    measured: dict[str, list[tuple[int, float]]] = {"FGD": [], "GpuPacking": [],
                                                    "RoundRobin": []}
    for seed in args.seeds:
        for name in ("FGD", "GpuPacking"):
            run = run_once(trace, typical, name, PAPER_POLICIES[name], seed, args.tune)
            measured[name].append((len(run.timeline), run.seconds))
        measured["RoundRobin"].append(round_robin_run(trace, typical, seed, args.tune))
    baseline = statistics.median(s for _, s in measured["RoundRobin"])
    rows = []
    for name, runs in measured.items():
        seconds = statistics.median(s for _, s in runs)
        pods = statistics.median(n for n, _ in runs)
        rows.append([name, float(pods), seconds, max(s for _, s in runs), pods / seconds,
                     seconds / baseline])
    print(f"{len(trace.nodes)} nodes, workload {args.workload}, tune {args.tune}, seeds "
          f"{args.seeds}, {args.cores or 'all'} core(s); medians over seeds")
    print(table(rows, ["policy", "pods", "s/run", "max s", "pods/s", "× RoundRobin"]))
    write_json(args.json, {
        "parameters": vars(args), "machine": machine(), "versions": versions(),
        "results": {name: [{"pods": n, "seconds": s} for n, s in runs]
                    for name, runs in measured.items()},
    })


if __name__ == "__main__":
    main()
