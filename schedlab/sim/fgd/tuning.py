"""What the FGD race races and on which workload: the policies (the paper's six, or any
registered score plugin by name), the profile each scores in, and the workload of one run
(the trace's pods shuffled and tuned to a GPU ask, its nodes shuffled), all from the run's
seed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from schedlab.errors import InputError
from schedlab.fragmentation import TypicalPods
from schedlab.framework.plugin import ScorePlugin
from schedlab.framework.profile import Profile
from schedlab.gpu import gpu_ask_milli, gpu_capacity_milli
from schedlab.objects import Pod, Workload
from schedlab.plugins import (
    BestFitScore,
    DotProductScore,
    FGDScore,
    GpuClusteringScore,
    GpuPackingScore,
    GpuShare,
    RandomScore,
)

PolicySpec = ScorePlugin | Callable[[int, TypicalPods], ScorePlugin]
"""A policy of the race: a score plugin, or a function of (seed, typical pods) making one."""


def random_policy(seed: int, typical: TypicalPods) -> ScorePlugin:
    """The paper's Random, drawing from a stream of ``seed`` of its own."""
    return RandomScore(seed=seed * 1000 + RANDOM_SCORE_STREAM)


def fgd_policy(seed: int, typical: TypicalPods) -> ScorePlugin:
    """The paper's FGD, against the trace's ``typical`` pods."""
    return FGDScore(typical_pods=typical)


PAPER_POLICIES: dict[str, PolicySpec] = {
    "Random": random_policy,
    "DotProd": DotProductScore(),
    "GpuClustering": GpuClusteringScore(),
    "GpuPacking": GpuPackingScore(),
    "BestFit": BestFitScore(),
    "FGD": fgd_policy,
}
"""The paper's six policies, in its order."""
SCORE_WEIGHT = 1000
DEFAULT_TUNE = 1.3
REPLAY_STREAM, RANDOM_SCORE_STREAM = 1, 2
"""Seeds of a run's random streams besides the policy's: [seed, stream]."""


def policy_plugin(spec: PolicySpec, seed: int, typical: TypicalPods) -> ScorePlugin:
    """The score plugin of ``spec`` in the run of ``seed`` on a trace of ``typical`` pods."""
    return spec if isinstance(spec, ScorePlugin) else spec(seed, typical)


def race_policies(names: Sequence[str] | None) -> dict[str, PolicySpec]:
    """Policies by name: the paper's six (all of them for None or an empty list), or any
    registered score plugin (made with its defaults)."""
    from schedlab.framework.profile import PLUGINS

    if not names:
        return dict(PAPER_POLICIES)
    by_plugin = {"FGDScore": fgd_policy, "RandomScore": random_policy}
    found: dict[str, PolicySpec] = {}
    for name in names:
        if name in PAPER_POLICIES or name in by_plugin:
            found[name] = PAPER_POLICIES.get(name) or by_plugin[name]
        elif isinstance(plugin := PLUGINS.get(name), type) and issubclass(plugin, ScorePlugin):
            found[name] = plugin()
        else:
            raise InputError("--policy", "name", name,
                             f"one of {', '.join(PAPER_POLICIES)} or a registered score plugin")
    return found


def race_profile(plugin: ScorePlugin) -> Profile:
    """kube's default filters and ``GpuShare``; ``plugin`` the only score, weight 1000."""
    filters = Profile.default().filters + (GpuShare(),)
    return Profile(filters, ((plugin, SCORE_WEIGHT),), percentage_of_nodes_to_score=100)


def tune_pods(pods: Sequence[Pod], target_milli: float, rng: np.random.Generator
              ) -> list[Pod]:
    """``pods`` (in arrival order) brought to a GPU ask of about ``target_milli``, as the
    simulator's TunePodsByNodeTotalResource: below the target, clones of pods drawn
    uniformly (from ``pods`` sorted by name) are appended, named ``<pod>-tuned-<i>``, until
    the next draw's per-GPU milli would pass the target; above it, pods drawn uniformly are
    removed until the ask is at most the target."""
    tuned = list(pods)
    total = sum(gpu_ask_milli(p) for p in tuned)
    if not any(p.template.gpu is not None for p in pods):
        return tuned  # no GPU ask to tune: clones would never reach the target
    if total > target_milli:
        while total > target_milli and tuned:
            total -= gpu_ask_milli(tuned.pop(int(rng.integers(len(tuned)))))
        return tuned
    by_name = sorted(pods, key=lambda p: p.name)
    while by_name:
        drawn = by_name[int(rng.integers(len(by_name)))]
        per_gpu = 0 if drawn.template.gpu is None else drawn.template.gpu.milli
        if total + per_gpu > target_milli:
            break
        total += gpu_ask_milli(drawn)
        tuned.append(Pod(f"{drawn.name}-tuned-{len(tuned) - len(pods)}", drawn.template,
                         drawn.owner))
    return tuned


def replay_workload(trace: Workload, seed: int, tune: float = DEFAULT_TUNE) -> Workload:
    """The workload one run replays: pods sorted by name and shuffled, tuned to ``tune`` ×
    the GPU capacity, and the nodes in a shuffled order, all drawn from ``seed`` (a stream
    apart from the policy's, which ``simulate`` draws from ``seed`` itself)."""
    rng = np.random.default_rng([seed, REPLAY_STREAM])
    by_name = sorted(trace.pods, key=lambda p: p.name)
    shuffled = [by_name[i] for i in rng.permutation(len(by_name))]
    target = tune * gpu_capacity_milli(trace.nodes)
    pods = tune_pods(shuffled, target, rng) if tune > 0 else shuffled
    nodes = [trace.nodes[i] for i in rng.permutation(len(trace.nodes))]
    return Workload(tuple(nodes), tuple(pods), trace.objects)
