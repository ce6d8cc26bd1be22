"""RandomScore: the FGD paper's random baseline.

Each scheduling cycle one candidate node, drawn uniformly, scores 100 and the others 0; a GPU
pod's device is drawn uniformly too. The draws come from a generator seeded with ``seed``,
one per cluster state, so a run is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from schedlab.caches import IdCache, PerState
from schedlab.cluster import ClusterState, NodeIndex
from schedlab.framework.args import arg
from schedlab.framework.plugin import MAX_NODE_SCORE
from schedlab.gpu import GPU_SELECTIONS
from schedlab.objects import Pod
from schedlab.plugins.gpu_share import GpuScoreArgs, GpuScorePlugin


@dataclass(frozen=True)
class RandomScoreArgs(GpuScoreArgs):
    """``seed`` of the draws (one generator per cluster state); GPU devices drawn too by
    default."""

    seed: int = arg(0, minimum=0)
    gpu_selection: str = arg("random", choices=GPU_SELECTIONS)


class RandomScore(GpuScorePlugin):
    """Score: 100 for one uniformly drawn candidate, 0 for the rest (RandomScoreArgs)."""

    name = "RandomScore"
    candidate_dependent = True
    Args = RandomScoreArgs
    args: RandomScoreArgs

    def score(self, state: ClusterState, pod: Pod, nodes: NodeIndex) -> np.ndarray:
        rngs = _RNGS.of(state)
        rng = rngs.get(id(self))
        if rng is None:
            rng = rngs.put(id(self), np.random.default_rng(self.args.seed), self)
        scores = np.zeros(state.count(nodes), dtype=np.int64)
        if len(scores):
            scores[rng.integers(len(scores))] = MAX_NODE_SCORE
        return scores


_RNGS: PerState[ClusterState, IdCache[int, np.random.Generator]] = PerState(lambda _: IdCache())
"""Per state: id(plugin) → its generator, seeded when the plugin first scores on the state."""
