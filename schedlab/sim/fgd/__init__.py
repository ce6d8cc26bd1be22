"""The FGD paper's experiment (Weng et al., USENIX ATC '23, Fig. 9): GPU allocation as pods of
an Alibaba GPU trace arrive, under each placement policy.

The replay follows the paper's simulator (``../shared/reference/fgd-simulator.md``):

* the cluster is the trace's GPU nodes, in an order shuffled by the seed; ties between
  equally scored nodes go to the first node in that order (the simulator's fork of
  kube-scheduler picks the smallest node name, and its names carry a seeded random prefix);
* the pods arrive one at a time in an order shuffled by the seed, then clones drawn uniformly
  with replacement are appended until the GPU ask reaches ``tune`` times the cluster's GPU
  capacity (stopping, as the simulator does, when the next clone's per-GPU milli would pass
  the target); nothing departs; a pod that fits nowhere fails at once;
* the profile is kube's filters plus ``GpuShare``, with the policy's plugin as the only score
  (weight 1000), every feasible node scored;
* typical pods are drawn from the original trace, before shuffling and tuning;
* after every pod the timeline records arrived and allocated milli-GPU and fragmentation.

The random draws come from numpy generators seeded with the run's seed, not Go's; so runs
match the paper's statistically, not pod for pod.

The modules, each importing only those before it:

* ``tuning``: what is raced and on which workload (the policies, their profile, each run's
  shuffled and tuned workload);
* ``runner``: running it (one run and its timeline, the runs in processes, the offline
  reference);
* ``statistics``: the figures of the runs (allocation at each arrival point, per policy);
* ``outputs``: what a person reads (the saved files, the printed table, the figure).

This package re-exports their public names.
"""

from schedlab.sim.fgd.outputs import plot_race, race_figure, race_table, write_race
from schedlab.sim.fgd.runner import (
    FgdRun,
    OfflineReference,
    label_timeline,
    load_race,
    offline_reference,
    run_offline,
    run_once,
    run_race,
)
from schedlab.sim.fgd.statistics import (
    ARRIVAL_POINTS,
    allocation_at,
    summarize_offline,
    summarize_runs,
)
from schedlab.sim.fgd.tuning import (
    DEFAULT_TUNE,
    PAPER_POLICIES,
    RANDOM_SCORE_STREAM,
    REPLAY_STREAM,
    SCORE_WEIGHT,
    PolicySpec,
    fgd_policy,
    policy_plugin,
    race_policies,
    race_profile,
    random_policy,
    replay_workload,
    tune_pods,
)

__all__ = [
    "ARRIVAL_POINTS",
    "DEFAULT_TUNE",
    "PAPER_POLICIES",
    "RANDOM_SCORE_STREAM",
    "REPLAY_STREAM",
    "SCORE_WEIGHT",
    "FgdRun",
    "OfflineReference",
    "PolicySpec",
    "allocation_at",
    "fgd_policy",
    "label_timeline",
    "load_race",
    "offline_reference",
    "plot_race",
    "policy_plugin",
    "race_figure",
    "race_policies",
    "race_profile",
    "race_table",
    "random_policy",
    "replay_workload",
    "run_offline",
    "run_once",
    "run_race",
    "summarize_offline",
    "summarize_runs",
    "tune_pods",
    "write_race",
]
