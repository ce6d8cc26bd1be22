"""Throughput of Greedy with the default profile, against the scalar reference and RoundRobin.

    python benchmarks/throughput.py --nodes 5000 --pods 10000 --json results/5000.json
    python benchmarks/throughput.py --workload spread --nodes 5000 --zones 50 --pods 10000 \
        --json results/spread.json

Builds kube-scheduler's SchedulingBasic-like input (schedlab.traces.synthetic.basic), or with
``--workload spread`` Deployments whose pods spread over zones (maxSkew 1, DoNotSchedule) and
keep off each other's nodes (required hostname anti-affinity; synthetic.spread, in
Deployment order or, with --shuffle, in random order), and runs in one process: Greedy with
the default profile at percentageOfNodesToScore 100 (every feasible node scored), the scalar
reference scheduler (schedlab.reference) on as long a prefix of the pods as it places within
--reference-seconds, and RoundRobin. Greedy's bindings are compared
with the reference's on that prefix. The process is pinned to one core (--cores to change).
Prints a table and writes JSON with the machine, versions and parameters.
"""

from __future__ import annotations

import argparse
import os
import time

from schedlab.framework.profile import Profile
from schedlab.policies import Greedy, RoundRobin
from schedlab.reference import ReferenceScheduler
from schedlab.report import machine, table, versions, write_json
from schedlab.sim import simulate
from schedlab.traces.synthetic import basic, spread


def reference_prefix(workload, profile, seed: int, budget_s: float) -> tuple[list, float]:
    """Node names the reference picks for the first pods, until ``budget_s`` has passed."""
    scheduler = ReferenceScheduler(workload, profile, "greedy", seed)
    chosen = []
    start = time.perf_counter()
    for pod in workload.pending_pods:
        index = scheduler.place(pod)
        chosen.append(None if index is None else workload.nodes[index].name)
        if time.perf_counter() - start > budget_s:
            break
    return chosen, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, required=True)
    parser.add_argument("--pods", type=int, required=True)
    parser.add_argument("--json", required=True, help="where to write the results")
    parser.add_argument("--workload", choices=("basic", "spread"), default="basic")
    parser.add_argument("--zones", type=int, default=50, help="zones of the spread workload")
    parser.add_argument("--shuffle", action="store_true",
                        help="spread workload: pods of all Deployments in random order")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reference-seconds", type=float, default=60.0)
    parser.add_argument("--cores", type=int, default=1, help="CPUs to pin to (0: no pinning)")
    args = parser.parse_args()
    if args.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])

    if args.workload == "spread":
        workload = spread(args.nodes, args.pods, args.zones, seed=args.seed,
                          shuffle=args.shuffle)
    else:
        workload = basic(args.nodes, args.pods, args.seed)
    profile = Profile.default(percentage_of_nodes_to_score=100)
    greedy = simulate(workload, Greedy(profile), args.seed)
    round_robin = simulate(workload, RoundRobin(profile), args.seed)
    reference, ref_seconds = reference_prefix(workload, profile, args.seed,
                                              args.reference_seconds)
    greedy_prefix = list(greedy.bindings["node"][: len(reference)])
    matches = greedy_prefix == reference

    def row(policy, pods, seconds, match):
        return {"policy": policy, "nodes": args.nodes, "pods": pods,
                "pods_per_s": pods / seconds, "seconds": seconds, "matches_reference": match}

    results = [
        row("greedy", args.pods, greedy.seconds, matches),
        row("reference", len(reference), ref_seconds, None),
        row("round-robin", args.pods, round_robin.seconds, None),
    ]
    speedup = results[0]["pods_per_s"] / results[1]["pods_per_s"]
    print(table([[r["policy"], r["nodes"], r["pods"], r["pods_per_s"], r["seconds"],
                  "-" if r["matches_reference"] is None else str(r["matches_reference"])]
                 for r in results],
                ["policy", "nodes", "pods", "pods/s", "seconds", "matches reference"]))
    print(f"greedy is {speedup:,.0f}x the scalar reference; placed "
          f"{greedy.summary['placed']}/{args.pods}; reference compared on the first "
          f"{len(reference)} pods")
    write_json(args.json, {
        "results": results,
        "speedup_vs_reference": speedup,
        "parameters": {"workload": args.workload, "zones": args.zones,
                       "shuffle": args.shuffle,
                       "nodes": args.nodes, "pods": args.pods, "seed": args.seed,
                       "profile": "default, percentageOfNodesToScore 100",
                       "reference_seconds": args.reference_seconds, "cores": args.cores},
        "machine": machine(),
        "versions": versions(),
    })


if __name__ == "__main__":
    main()
