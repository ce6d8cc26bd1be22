"""Built-in plugins, named as in Kubernetes, and the default profile."""

from __future__ import annotations

from schedlab.framework.plugin import FilterPlugin, ScorePlugin
from schedlab.framework.profile import Profile, register_plugin
from schedlab.plugins.best_fit_score import BestFitScore
from schedlab.plugins.dot_product_score import DotProductScore
from schedlab.plugins.fgd_score import FGDScore
from schedlab.plugins.gpu_clustering_score import GpuClusteringScore
from schedlab.plugins.gpu_packing_score import GpuPackingScore
from schedlab.plugins.gpu_share import GpuShare
from schedlab.plugins.inter_pod_affinity import InterPodAffinity
from schedlab.plugins.node_affinity import NodeAffinity
from schedlab.plugins.node_name import NodeName
from schedlab.plugins.node_resources_balanced_allocation import NodeResourcesBalancedAllocation
from schedlab.plugins.node_resources_fit import NodeResourcesFit
from schedlab.plugins.node_unschedulable import NodeUnschedulable
from schedlab.plugins.pod_topology_spread import PodTopologySpread
from schedlab.plugins.random_score import RandomScore
from schedlab.plugins.taint_toleration import TaintToleration

BUILTIN = (
    NodeUnschedulable,
    NodeName,
    TaintToleration,
    NodeAffinity,
    NodeResourcesFit,
    PodTopologySpread,
    InterPodAffinity,
    NodeResourcesBalancedAllocation,
)
GPU_PLUGINS = (
    GpuShare,
    FGDScore,
    BestFitScore,
    GpuPackingScore,
    GpuClusteringScore,
    DotProductScore,
    RandomScore,
)
"""The FGD paper's GPU filter and score plugins (not in the default profile)."""
for _cls in BUILTIN + GPU_PLUGINS:
    register_plugin(_cls)

DEFAULT_SCORE_WEIGHTS = {
    "TaintToleration": 3,
    "NodeAffinity": 2,
    "NodeResourcesFit": 1,
    "PodTopologySpread": 2,
    "InterPodAffinity": 2,
    "NodeResourcesBalancedAllocation": 1,
}
"""kube-scheduler v1.32's default score weights for the plugins schedlab implements."""


def default_profile(percentage_of_nodes_to_score: int = 0) -> Profile:
    """The v1.32 default profile: filters and scores in kube's order with its weights."""
    plugins = {cls.name: cls() for cls in BUILTIN}
    filters = tuple(p for p in plugins.values() if isinstance(p, FilterPlugin))
    scorers = {name: p for name, p in plugins.items() if isinstance(p, ScorePlugin)}
    scores = tuple((scorers[name], weight) for name, weight in DEFAULT_SCORE_WEIGHTS.items())
    return Profile(filters, scores, percentage_of_nodes_to_score)


__all__ = [
    "BUILTIN",
    "BestFitScore",
    "DEFAULT_SCORE_WEIGHTS",
    "DotProductScore",
    "FGDScore",
    "GPU_PLUGINS",
    "GpuClusteringScore",
    "GpuPackingScore",
    "GpuShare",
    "RandomScore",
    "InterPodAffinity",
    "PodTopologySpread",
    "NodeAffinity",
    "NodeName",
    "NodeResourcesBalancedAllocation",
    "NodeResourcesFit",
    "NodeUnschedulable",
    "TaintToleration",
    "default_profile",
]
