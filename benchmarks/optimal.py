"""Optimal against Greedy and RoundRobin on packing problems: placed pods and nodes used, with
the bounds no placement can beat and the solve time.

    python benchmarks/optimal.py --nodes 200 --pods 1000 --time-limit 10 --json opt-1k.json
    python benchmarks/optimal.py --nodes 2000 --pods 10000 --time-limit 60 --json opt-10k.json

Builds ``schedlab.traces.synthetic.shapes`` (pods of twelve t-shirt sizes on identical nodes
sized so the pods ask ``--load`` × the cpu), runs RoundRobin, Greedy (the default profile,
every feasible node scored) and Optimal (objective ``--objective``, CP-SAT or HiGHS with
``--workers``, ``--time-limit`` seconds) in one process, checks every placement with
``verify``, prints a table and writes JSON with the machine, versions and parameters.
"""

from __future__ import annotations

import argparse

from schedlab.framework.profile import Profile
from schedlab.policies import Greedy, Optimal, RoundRobin
from schedlab.report import machine, table, versions, write_json
from schedlab.sim import simulate
from schedlab.traces.synthetic import shapes
from schedlab.verify import check_placement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, required=True)
    parser.add_argument("--pods", type=int, required=True)
    parser.add_argument("--load", type=float, default=1.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--objective", default="nodes")
    parser.add_argument("--solver", default="cp-sat")
    parser.add_argument("--json", required=True, help="where to write the results")
    args = parser.parse_args()
    workload = shapes(args.nodes, args.pods, args.load, args.seed)
    profile = Profile.default(100)
    optimal = Optimal(profile, objective=args.objective, solver=args.solver,
                      time_limit=args.time_limit, num_workers=args.workers)
    runs = {}
    for policy in (RoundRobin(profile), Greedy(profile), optimal):
        result = simulate(workload, policy, args.seed)
        violations = check_placement(workload, result.assignment(), result.state.gpus_of)
        runs[policy.name] = {**result.summary, "seconds": result.seconds,
                             "violations": len(violations)}
    report = runs["optimal"]["report"]
    rows = [[name, float(run["placed"]), float(report["placed_upper_bound"] - run["placed"]),
             float(run["nodes_used"]), float(run["nodes_used"] - report["nodes_lower_bound"]),
             f"{100 * run['peak_utilisation']:.1f}%", run["seconds"], float(run["violations"])]
            for name, run in runs.items()]
    print(f"{args.nodes} nodes ({workload.nodes[0].allocatable['cpu'] // 1000} cpu each), "
          f"{len(workload.pods)} pods of 12 shapes, load {args.load}; optimal: "
          f"{report['status']} ({args.solver}, {args.workers} workers, limit "
          f"{args.time_limit:g} s), placed <= {report['placed_upper_bound']}, nodes >= "
          f"{report['nodes_lower_bound']}")
    print(table(rows, ["policy", "placed", "placed gap", "nodes used", "nodes gap", "peak util",
                       "seconds", "violations"]))
    write_json(args.json, {"parameters": vars(args), "machine": machine(),
                           "versions": versions(), "runs": runs})


if __name__ == "__main__":
    main()
