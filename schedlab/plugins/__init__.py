"""Built-in plugins, named as in Kubernetes, registered by name (the default profile is
``Profile.default``, from ``framework.profile.DEFAULT_PLUGINS``)."""

from __future__ import annotations

from schedlab.framework.profile import register_plugin
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
from schedlab.plugins.node_resources_fit import (
    NodeResourcesFit,
    RequestedToCapacityRatioParam,
    ScoringStrategy,
)
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

__all__ = [
    "BUILTIN",
    "BestFitScore",
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
    "RequestedToCapacityRatioParam",
    "ScoringStrategy",
    "TaintToleration",
]
