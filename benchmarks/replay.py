"""Speed and memory of a replay over time: Greedy on a synthetic trace, against simulate.

    python benchmarks/replay.py --nodes 10000 --pods 1000000 --json results/replay.json
    python benchmarks/replay.py --nodes 1000 --pods 20000 --json results/replay-small.json

Builds ``schedlab.traces.synthetic.trace(nodes, pods, seed, load, swing=swing)``:
``generate``'s mixed cluster (standard-4, highmem-8 and tainted gpu-16 nodes, 50/35/15 %,
three zones) and pods of its six shapes (web, api, batch, cache, tools, trainer, each also
labelled with a team; the trainers run on the GPU nodes only, the others elsewhere), each
pool's pods arriving as a Poisson process of mean rate

    load × the pool's cpu / (mean cpu request in the pool × mean duration)   pods per second

so that at ``--load`` 0.8 the running pods ask about 80 % of the cpu of each pool, hence of
the cluster, in steady state (reached after a few mean durations). The rate follows a day,
× (1 + ``--swing`` × sin(2π t / 24 h)), default 0.1: the cluster is asked about 88 % of its
cpu six hours in, where some pods queue (a pod that fits nowhere is retried, after kube's
backoff of at most 10 s, whenever a pod leaves), and less later; 1,000,000 pods on 10,000
nodes arrive over about 17 hours. (At 0.2 the cluster is asked 96 % of its cpu at the
peak, more than it packs: the full-size run was stopped unfinished after 11 minutes.)

Durations are lognormal with mean ``--mean-duration`` seconds (default 3600) and ``--sigma``
(the standard deviation of their log, default 1.0: mu = ln(mean) - sigma²/2, median ≈ 2,180
s, 99th percentile ≈ 22,400 s), drawn from the seed; times are rounded to milliseconds.

Replays it with ``schedlab.replay``'s engine (Greedy, the default profile, ``--queue``
retry: kube's queue with backoff) and a timeline row per ``--bucket`` seconds, pinned to one
core (--cores to change). The baseline, in the same process so the ratio holds on a noisy
machine: ``simulate`` (no time, nothing leaves, a pod that fits nowhere fails) of the first
``--baseline-pods`` pods of the same trace on the same cluster. "events" are the replay's
(arrivals, departures, deletions, evictions, node events; ``ReplayResult.summary``), and
events/s counts the replay loop alone (not building the trace or the result tables). Peak
RSS is the process's (``getrusage``), trace included. Prints a table and writes JSON with
the machine, versions and parameters (strict JSON; the same seed replays the same way).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

from schedlab.framework.profile import Profile
from schedlab.objects import Workload
from schedlab.policies import Greedy
from schedlab.progress import Progress
from schedlab.report import machine, table, versions, write_json
from schedlab.sim import simulate
from schedlab.sim.replay import Replay
from schedlab.traces.synthetic import DURATION_SIGMA, MEAN_DURATION, trace


def peak_rss_bytes() -> int:
    """The process's peak resident set so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, required=True)
    parser.add_argument("--pods", type=int, required=True)
    parser.add_argument("--json", required=True, help="where to write the results")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--load", type=float, default=0.8,
                        help="share of the cluster's cpu the running pods ask in steady state")
    parser.add_argument("--swing", type=float, default=0.1,
                        help="daily swing of the arrival rate: × (1 + swing × sin(2πt/day))")
    parser.add_argument("--mean-duration", type=float, default=MEAN_DURATION,
                        help="mean pod duration, seconds (lognormal)")
    parser.add_argument("--sigma", type=float, default=DURATION_SIGMA,
                        help="standard deviation of the log of durations")
    parser.add_argument("--queue", choices=("retry", "fail"), default="retry")
    parser.add_argument("--bucket", type=float, default=3600.0,
                        help="seconds between timeline rows")
    parser.add_argument("--baseline-pods", type=int, default=20000,
                        help="pods simulate places for the baseline (a prefix of the trace)")
    parser.add_argument("--cores", type=int, default=1, help="CPUs to pin to (0: no pinning)")
    parser.add_argument("--quiet", action="store_true", help="no progress display on stderr")
    args = parser.parse_args()
    if args.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    profile = Profile.default()

    with Progress(args.quiet) as progress:
        progress.task(f"building a trace of {args.nodes:,} nodes × {args.pods:,} pods")
        started = time.perf_counter()
        synthetic = trace(args.nodes, args.pods, args.seed, load=args.load,
                          mean_duration=args.mean_duration, sigma=args.sigma, swing=args.swing)
        build_seconds = time.perf_counter() - started

        n_base = min(args.baseline_pods, args.pods)
        progress.task(f"baseline: simulate {n_base:,} pods")
        prefix = Workload(synthetic.workload.nodes, synthetic.workload.pods[:n_base],
                          synthetic.workload.objects)
        baseline = simulate(prefix, Greedy(profile), args.seed)

        progress.task("setting the replay up")
        started = time.perf_counter()
        span = float(synthetic.arrival[-1]) if args.pods else 0.0
        task = progress.task(f"replaying to {span / 3600:,.0f} h (and the departures after)",
                             total=int(span) or None)

        shown = [0.0]

        def watch(now: float) -> None:
            """After event times (each, or a compiled run's last): the display, five times a
            second at most."""
            if time.perf_counter() - shown[0] > 0.2:
                shown[0] = time.perf_counter()
                task.set(min(now, span), f"{replay_run.events:,} events, "
                                         f"{replay_run.pending:,} pending")

        replay_run = Replay(synthetic, Greedy(profile), args.seed, queue=args.queue,
                            bucket=args.bucket, progress=watch)
        setup_seconds = time.perf_counter() - started
        result = replay_run.run()
    rss = peak_rss_bytes()
    peaks = replay_run.peaks

    summary = result.summary
    pods = result.pods
    attempts = result.decisions.groupby(["pod", "incarnation"], sort=False).size().to_numpy()
    queued = int((pods["wait"] > 0).sum())
    during = result.timeline.loc[result.timeline["time"] <= span, "allocation_cpu"]
    figures = {
        "nodes": args.nodes, "pods": args.pods, "events": summary["events"],
        "seconds": result.seconds, "events_per_s": result.events_per_second,
        "peak_rss_bytes": rss, "attempts": summary["attempts"],
        "attempts_per_pod": summary["attempts"] / max(len(pods), 1),
        "max_attempts_of_a_pod": int(attempts.max()) if len(attempts) else 0,
        "pending_peak": peaks["pending"], "active_peak": peaks["active"],
        "backing_off_peak": peaks["backing_off"], "queued": queued,
        "states": {s: summary[s] for s in ("succeeded", "running", "pending", "failed",
                                            "evicted")},
        "mean_wait": summary["mean_wait"], "p99_wait": summary["p99_wait"],
        "mean_allocation": summary["mean_allocation"], "end": summary["end"],
        "cpu_allocation_while_pods_arrive": {  # (hourly timeline rows up to the last arrival)
            "mean": float(during.mean()) if len(during) else None,
            "max": float(during.max()) if len(during) else None},
        "timeline_rows": len(result.timeline),
        "build_seconds": build_seconds, "setup_seconds": setup_seconds,
        "attempts_per_s": summary["attempts"] / result.seconds if result.seconds else None,
    }
    base = {"pods": n_base, "placed": baseline.summary["placed"],
            "seconds": baseline.seconds, "pods_per_s": baseline.pods_per_second}
    ratio = figures["attempts_per_s"] / base["pods_per_s"] if figures["attempts_per_s"] else None
    print(f"{args.nodes:,} nodes, {args.pods:,} pods (load {args.load:g}, swing {args.swing:g}, "
          f"lognormal durations "
          f"mean {args.mean_duration:g} s, sigma {args.sigma:g}), seed {args.seed}, queue "
          f"{args.queue}, {args.cores or 'all'} core(s); trace built in {build_seconds:.1f} s, "
          f"replay set up in {setup_seconds:.1f} s")
    print(table([
        ["replay", float(args.pods), float(summary["events"]), float(summary["attempts"]),
         result.seconds, figures["events_per_s"], figures["attempts_per_s"], rss / 2**30],
        ["simulate (baseline)", float(n_base), None, float(n_base), baseline.seconds, None,
         base["pods_per_s"], None],
    ], ["run", "pods", "events", "attempts", "seconds", "events/s", "attempts/s",
        "peak RSS GiB"]))
    print(f"replay attempts/s are {ratio:.2f}× simulate's pods/s; pending peak "
          f"{peaks['pending']:,}, {queued:,} pods waited, at most "
          f"{figures['max_attempts_of_a_pod']} attempts for one pod; cpu allocated while "
          f"pods arrive: mean {figures['cpu_allocation_while_pods_arrive']['mean'] or 0:.1%}, "
          f"max {figures['cpu_allocation_while_pods_arrive']['max'] or 0:.1%}; final states "
          + ", ".join(f"{k} {v:,}" for k, v in figures["states"].items()))
    write_json(args.json, {
        **figures, "baseline_simulate": base, "attempts_per_s_vs_simulate": ratio,
        "parameters": {**vars(args), "profile": "default", "policy": "greedy",
                       "trace": synthetic.source},
        "machine": machine(), "versions": versions(),
    })


if __name__ == "__main__":
    main()
