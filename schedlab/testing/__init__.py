"""Testing helpers for schedlab users: hypothesis strategies and conformance checks.

Use the strategies in your own hypothesis tests::

    from hypothesis import given
    from schedlab.testing import workloads, profiles

    @given(workloads(), profiles())
    def test_my_policy(workload, profile): ...

and validate a research plugin or policy the way scikit-learn's ``check_estimator`` does::

    from schedlab.testing import check_plugin, check_policy
    check_plugin(MyPlugin(weight=2))
    check_policy(MyPolicy(profile))

Requires hypothesis (``pip install schedlab[test]``).
"""

from schedlab.testing.checks import (
    POLICY_RULES,
    RULES,
    Scenario,
    check_plugin,
    check_policy,
    enforced_constraints,
    scenarios,
)
from schedlab.testing.strategies import (
    ABSENT_RESOURCE,
    GPU,
    HOSTNAME,
    LABEL_KEYS,
    LABEL_VALUES,
    NODE_NAMES,
    RANK,
    ZONE,
    cluster_labels,
    cluster_taints,
    clusters,
    node_affinities,
    node_selector_requirements,
    node_selector_terms,
    nodes,
    percentages,
    pod_templates,
    pods,
    profiles,
    quantities,
    taints,
    tightened,
    tolerations,
    workloads,
)

__all__ = [
    "ABSENT_RESOURCE",
    "GPU",
    "HOSTNAME",
    "LABEL_KEYS",
    "LABEL_VALUES",
    "NODE_NAMES",
    "POLICY_RULES",
    "RANK",
    "RULES",
    "ZONE",
    "Scenario",
    "check_plugin",
    "check_policy",
    "cluster_labels",
    "cluster_taints",
    "clusters",
    "enforced_constraints",
    "node_affinities",
    "node_selector_requirements",
    "node_selector_terms",
    "nodes",
    "percentages",
    "pod_templates",
    "pods",
    "profiles",
    "quantities",
    "scenarios",
    "taints",
    "tightened",
    "tolerations",
    "workloads",
]
