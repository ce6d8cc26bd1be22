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

Requires hypothesis, which the extra ``testing`` installs: ``pip install "schedlab[testing]"``.
"""

try:
    import hypothesis  # noqa: F401
except ModuleNotFoundError as missing:  # say how to get it, not only that it is missing
    raise ModuleNotFoundError(
        'schedlab.testing needs hypothesis: pip install "schedlab[testing]"',
        name=missing.name) from None

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
    NAMESPACES,
    NODE_NAMES,
    POD_LABEL_VALUES,
    RANK,
    ZONE,
    api_objects,
    cluster_labels,
    cluster_taints,
    clusters,
    label_selector_requirements,
    label_selectors,
    node_affinities,
    node_selector_requirements,
    node_selector_terms,
    nodes,
    owner_refs,
    percentages,
    pod_affinities,
    pod_affinity_terms,
    pod_templates,
    pods,
    profiles,
    quantities,
    taints,
    tightened,
    tolerations,
    topology_spread_constraints,
    workloads,
)

__all__ = [
    "ABSENT_RESOURCE",
    "GPU",
    "HOSTNAME",
    "LABEL_KEYS",
    "LABEL_VALUES",
    "NAMESPACES",
    "NODE_NAMES",
    "POD_LABEL_VALUES",
    "POLICY_RULES",
    "RANK",
    "RULES",
    "ZONE",
    "Scenario",
    "api_objects",
    "check_plugin",
    "check_policy",
    "cluster_labels",
    "cluster_taints",
    "clusters",
    "enforced_constraints",
    "label_selector_requirements",
    "label_selectors",
    "node_affinities",
    "node_selector_requirements",
    "node_selector_terms",
    "nodes",
    "owner_refs",
    "percentages",
    "pod_affinities",
    "pod_affinity_terms",
    "pod_templates",
    "pods",
    "profiles",
    "quantities",
    "scenarios",
    "taints",
    "tightened",
    "tolerations",
    "topology_spread_constraints",
    "workloads",
]
