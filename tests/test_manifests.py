"""schedlab.traces.manifests: reading Kubernetes manifests, expanding controllers, writing back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedlab.errors import InputError
from schedlab.fields import is_dns1123_label, is_label_value
from schedlab.objects import (
    TAINT_EFFECTS,
    Container,
    LabelSelector,
    Node,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    OwnerRef,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodTemplate,
    PreferredSchedulingTerm,
    Taint,
    Toleration,
    TopologySpreadConstraint,
    Workload,
)
from schedlab.traces import dump_manifests, load_manifests
from schedlab.traces.controllers import DAEMON_SET_TOLERATIONS

GI = 2**30
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
TEMPLATE = (
    "template: {metadata: {labels: {app: x}}, "
    "spec: {containers: [{name: c, resources: {requests: {cpu: 100m}}}]}}"
)


def load(tmp_path: Path, text: str, name: str = "pods.yaml") -> Workload:
    path = tmp_path / name
    path.write_text(text)
    return load_manifests(path)


def node(
    name: str, spec: str = "{}", labels: str = "{}", allocatable: str = "{cpu: '4', memory: 8Gi}"
) -> str:
    """A Node document (flow-style YAML for ``spec``, ``labels`` and ``allocatable``)."""
    return (
        f"apiVersion: v1\nkind: Node\nmetadata: {{name: {name}, labels: {labels}}}\n"
        f"spec: {spec}\nstatus: {{allocatable: {allocatable}}}\n---\n"
    )


def pod(name: str, spec: str = "{containers: [{name: c}]}", metadata: str = "") -> str:
    """A Pod document; a flow-style ``spec`` without containers gets one (the API server
    refuses a pod without containers)."""
    spec = with_container(spec)
    return f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}{metadata}}}\nspec: {spec}\n---\n"


def with_container(spec: str) -> str:
    """A flow-style pod spec, with a container when it names none."""
    if spec.startswith("{") and "containers" not in spec:
        return "{containers: [{name: c}]" + (", " if spec.strip() != "{}" else "") + spec[1:]
    return spec


def controller(kind: str, name: str, spec: str, api: str = "apps/v1") -> str:
    return (
        f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}, namespace: team}}\n"
        f"spec: {spec}\n---\n"
    )


def node_affinity(required_terms: str = "", preferred_terms: str = "") -> str:
    """A pod spec field ``affinity`` with the given (flow-style) node selector terms."""
    parts = []
    if required_terms:
        parts.append(f"{REQUIRED}: {{nodeSelectorTerms: [{required_terms}]}}")
    if preferred_terms:
        parts.append(f"{PREFERRED}: [{preferred_terms}]")
    return f"affinity: {{nodeAffinity: {{{', '.join(parts)}}}}}"


# --- reading ---------------------------------------------------------------------------------


def test_multi_document_yaml_nodes_and_pods(tmp_path: Path) -> None:
    text = """
apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {zone: a}
spec:
  unschedulable: true
  taints: [{key: gpu, value: "yes", effect: NoSchedule}, {key: spot, effect: PreferNoSchedule}]
status:
  allocatable: {cpu: 3500m, memory: 16Gi, nvidia.com/gpu: 2, pods: 64}
  capacity: {cpu: 4}
---
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  priority: 1000
  nodeSelector: {zone: a}
  tolerations:
  - {key: gpu, operator: Equal, value: "yes", effect: NoSchedule}
  - {operator: Exists}
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {labelSelector: {matchLabels: {app: web}}, topologyKey: kubernetes.io/hostname}
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: zone, operator: In, values: [a, b]}]
          matchFields: [{key: metadata.name, operator: NotIn, values: [n9]}]
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 7
        preference: {matchExpressions: [{key: disk, operator: Exists}]}
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway}
  containers:
  - name: app
    image: nginx
    resources: {requests: {cpu: 0.25, memory: 1Gi}}
"""
    workload = load(tmp_path, text)
    assert workload.nodes == (
        Node(
            "n1",
            {"cpu": 3500, "memory": 16 * GI, "nvidia.com/gpu": 2, "pods": 64},
            {"zone": "a"},
            (Taint("gpu", "yes", "NoSchedule"), Taint("spot", "", "PreferNoSchedule")),
            unschedulable=True,
        ),
    )
    (web,) = workload.pods
    assert web.key == "default/web" and web.owner is None
    template = web.template
    assert template.labels == {"app": "web"}
    assert template.priority == 1000
    assert template.node_selector == {"zone": "a"}
    assert template.tolerations == (
        Toleration("gpu", "Equal", "yes", "NoSchedule"),
        Toleration(operator="Exists"),
    )
    assert template.affinity == NodeAffinity(
        required=(
            NodeSelectorTerm(
                (NodeSelectorRequirement("zone", "In", ("a", "b")),),
                (NodeSelectorRequirement("metadata.name", "NotIn", ("n9",)),),
            ),
        ),
        preferred=(
            PreferredSchedulingTerm(
                7, NodeSelectorTerm((NodeSelectorRequirement("disk", "Exists"),))
            ),
        ),
    )
    assert template.containers == (Container("app", {"cpu": 250, "memory": GI}),)
    assert template.node_name is None
    assert template.pod_affinity is None
    assert template.pod_anti_affinity == PodAffinity(
        required=(
            PodAffinityTerm("kubernetes.io/hostname", LabelSelector({"app": "web"})),
        )
    )
    assert template.topology_spread_constraints == (
        TopologySpreadConstraint(1, "zone", "ScheduleAnyway"),
    )


def test_node_falls_back_to_capacity_and_default_pod_limit(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {capacity: {cpu: 2}}\n"
    (n1,) = load(tmp_path, text).nodes
    assert n1.allocatable == {"cpu": 2000, "pods": 110}


def test_kind_list_in_yaml_and_json(tmp_path: Path) -> None:
    items = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
         "spec": {"containers": [{"name": "c"}]}},
    ]
    listing = {"apiVersion": "v1", "kind": "List", "items": items}
    (tmp_path / "list.json").write_text(json.dumps(listing))
    (tmp_path / "list.yaml").write_text(pod("first") + json.dumps(listing))
    from_json = load_manifests(tmp_path / "list.json")
    assert [n.name for n in from_json.nodes] == ["n1"]
    assert [p.key for p in from_json.pods] == ["ns/p"]
    from_yaml = load_manifests(tmp_path / "list.yaml")
    assert [p.key for p in from_yaml.pods] == ["default/first", "ns/p"]


def test_directory_reads_manifest_files_in_name_order_not_recursively(tmp_path: Path) -> None:
    (tmp_path / "b.yml").write_text(pod("from-b"))
    (tmp_path / "a.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "from-a"},
                    "spec": {"containers": [{"name": "c"}]}})
    )
    (tmp_path / "c.yaml").write_text(pod("from-c"))
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.yaml").write_text(pod("from-sub"))
    workload = load_manifests(tmp_path, tmp_path / "sub" / "d.yaml")
    assert [p.name for p in workload.pods] == ["from-a", "from-b", "from-c", "from-sub"]


def test_limits_default_missing_requests(tmp_path: Path) -> None:
    spec = """
  containers:
  - name: c
    resources:
      requests: {cpu: 100m}
      limits: {cpu: '1', memory: 1Gi}
"""
    (web,) = load(tmp_path, pod("web", spec)).pods
    assert web.template.containers[0].requests == {"cpu": 100, "memory": GI}


def test_sidecars_and_init_containers_follow_pod_requests(tmp_path: Path) -> None:
    spec = """
  initContainers:
  - {name: sidecar, restartPolicy: Always, resources: {requests: {cpu: 50m, memory: 1Mi}}}
  - {name: setup, resources: {requests: {cpu: 500m}}}
  containers:
  - {name: app, resources: {requests: {cpu: 100m, memory: 2Mi}}}
  overhead: {cpu: 10m, memory: 1Mi}
"""
    (web,) = load(tmp_path, pod("web", spec)).pods
    template = web.template
    assert [c.sidecar for c in template.init_containers] == [True, False]
    assert template.overhead == {"cpu": 10, "memory": 2**20}
    # containers 100m + sidecar 50m = 150m; the setup init container needs 500m + the sidecar's
    # 50m = 550m, which wins; overhead adds 10m. Memory: 2Mi + 1Mi sidecar + 1Mi overhead.
    assert template.requests == {"cpu": 560, "memory": 4 * 2**20}


def test_owner_references_and_node_name(tmp_path: Path) -> None:
    owner = ", ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: x}]"
    text = node("n1") + pod("p", "{nodeName: n1}", metadata=owner)
    workload = load(tmp_path, text)
    (p,) = workload.pods
    assert p.owner == OwnerRef("ReplicaSet", "rs")
    assert p.template.node_name == "n1"
    assert workload.bound_pods == (p,) and workload.pending_pods == ()


def test_gt_lt_with_non_integer_value_is_accepted(tmp_path: Path) -> None:
    term = "{matchExpressions: [{key: n, operator: Gt, values: [many]}]}"
    (p,) = load(tmp_path, pod("p", f"{{{node_affinity(term)}}}")).pods
    assert p.template.affinity.required[0].match_expressions[0].values == ("many",)


def test_identical_templates_are_one_object(tmp_path: Path) -> None:
    same = "{containers: [{name: c, resources: {requests: {cpu: 1}}}]}"
    other = "{containers: [{name: c, resources: {requests: {cpu: 2}}}]}"
    (tmp_path / "a.yaml").write_text(pod("a", same) + pod("b", other))
    (tmp_path / "b.yaml").write_text(pod("c", same))
    a, b, c = load_manifests(tmp_path).pods
    assert a.template is c.template
    assert a.template is not b.template


# --- controllers -----------------------------------------------------------------------------


def test_deployment_replicaset_statefulset_pods(tmp_path: Path) -> None:
    text = (
        controller("Deployment", "web", f"{{replicas: 3, {TEMPLATE}}}")
        + controller("ReplicaSet", "rs", f"{{{TEMPLATE}}}")
        + controller("StatefulSet", "db", f"{{replicas: 2, {TEMPLATE}}}")
        + controller("Deployment", "idle", f"{{replicas: 0, {TEMPLATE}}}")
    )
    pods = load(tmp_path, text).pods
    assert [(p.key, p.owner) for p in pods] == [
        ("team/web-0", OwnerRef("Deployment", "web")),
        ("team/web-1", OwnerRef("Deployment", "web")),
        ("team/web-2", OwnerRef("Deployment", "web")),
        ("team/rs-0", OwnerRef("ReplicaSet", "rs")),
        ("team/db-0", OwnerRef("StatefulSet", "db")),
        ("team/db-1", OwnerRef("StatefulSet", "db")),
    ]
    assert len({id(p.template) for p in pods}) == 1
    template = pods[0].template
    assert template.namespace == "team" and template.labels == {"app": "x"}
    assert template.containers == (Container("c", {"cpu": 100}),)


@pytest.mark.parametrize(
    ("counts", "pods"),
    [
        ("", 1),
        ("parallelism: 4,", 4),
        ("parallelism: 4, completions: 2,", 2),
        ("completions: 3,", 1),
        ("parallelism: 0,", 0),
    ],
)
def test_job_runs_parallelism_capped_by_completions(tmp_path: Path, counts: str, pods: int) -> None:
    job = controller("Job", "batch", f"{{{counts} {TEMPLATE}}}", api="batch/v1")
    loaded = load(tmp_path, job).pods
    assert [p.name for p in loaded] == [f"batch-{i}" for i in range(pods)]
    assert all(p.owner == OwnerRef("Job", "batch") for p in loaded)


def test_daemonset_runs_on_eligible_nodes_with_added_tolerations(tmp_path: Path) -> None:
    daemon_set = controller(
        "DaemonSet",
        "agent",
        "{template: {spec: {nodeSelector: {role: worker}, containers: [{name: c}], "
        "tolerations: [{key: dedicated, operator: Equal, value: infra, effect: NoSchedule}]}}}",
    )
    worker = "{role: worker}"
    nodes = [
        node("plain", labels=worker),
        node("unlabelled"),
        node("tainted", "{taints: [{key: gpu, effect: NoSchedule}]}", worker),
        node("evicting", "{taints: [{key: gpu, effect: NoExecute}]}", worker),
        node("soft", "{taints: [{key: gpu, effect: PreferNoSchedule}]}", worker),
        node("infra", "{taints: [{key: dedicated, value: infra, effect: NoSchedule}]}", worker),
        node(
            "cordoned",
            "{unschedulable: true, "
            "taints: [{key: node.kubernetes.io/unschedulable, effect: NoSchedule}]}",
            worker,
        ),
        node(
            "troubled",
            "{taints: [{key: node.kubernetes.io/memory-pressure, effect: NoSchedule}, "
            "{key: node.kubernetes.io/not-ready, effect: NoExecute}]}",
            worker,
        ),
    ]
    # the DaemonSet comes first; it runs on nodes read after it, in another file
    (tmp_path / "a-daemons.yaml").write_text(daemon_set)
    (tmp_path / "b-nodes.yaml").write_text("".join(nodes))
    pods = load_manifests(tmp_path).pods
    assert [p.name for p in pods] == [
        "agent-plain",
        "agent-soft",
        "agent-infra",
        "agent-cordoned",
        "agent-troubled",
    ]
    assert all(p.owner == OwnerRef("DaemonSet", "agent") and p.namespace == "team" for p in pods)
    template = pods[0].template
    assert template.tolerations == (
        Toleration("dedicated", "Equal", "infra", "NoSchedule"),
        *DAEMON_SET_TOLERATIONS,
    )
    assert template.node_selector == {"role": "worker"}
    pinned = NodeSelectorRequirement("metadata.name", "In", ("plain",))
    assert template.affinity == NodeAffinity(required=(NodeSelectorTerm(match_fields=(pinned,)),))


def test_daemonset_pin_replaces_required_terms_and_keeps_preferred(tmp_path: Path) -> None:
    affinity = node_affinity(
        "{matchExpressions: [{key: zone, operator: In, values: [a]}]}, "
        "{matchFields: [{key: metadata.name, operator: In, values: [n2]}]}",
        "{weight: 5, preference: {matchExpressions: [{key: ssd, operator: Exists}]}}",
    )
    not_ready = "{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}"
    daemon_set = controller(
        "DaemonSet", "agent",
        f"{{template: {{spec: {{{affinity}, tolerations: [{not_ready}], "
        "containers: [{name: c}]}}}",
    )
    text = node("n1", labels="{zone: a}") + node("n2") + node("n3") + daemon_set
    pods = load(tmp_path, text).pods
    assert [p.name for p in pods] == ["agent-n1", "agent-n2"]
    ssd = NodeSelectorTerm((NodeSelectorRequirement("ssd", "Exists"),))
    for p, node_name in zip(pods, ["n1", "n2"], strict=True):
        pin = NodeSelectorRequirement("metadata.name", "In", (node_name,))
        assert p.template.affinity == NodeAffinity(
            required=(NodeSelectorTerm(match_fields=(pin,)),),
            preferred=(PreferredSchedulingTerm(5, ssd),),
        )
        # the template's own not-ready toleration is not added twice
        assert p.template.tolerations == DAEMON_SET_TOLERATIONS


def test_daemon_pods_share_templates_per_node(tmp_path: Path) -> None:
    daemon_sets = "".join(
        controller("DaemonSet", name, "{template: {spec: {containers: [{name: c}]}}}")
        for name in ("a", "b")
    )
    a1, a2, b1, b2 = load(tmp_path, node("n1") + node("n2") + daemon_sets).pods
    assert a1.template is b1.template and a2.template is b2.template
    assert a1.template is not a2.template


# --- bad input -------------------------------------------------------------------------------


def required(term: str) -> str:
    """A pod whose required node affinity has the single term ``term``."""
    return pod("p", f"{{{node_affinity(term)}}}")


def tolerating(toleration: str) -> str:
    return pod("p", f"{{tolerations: [{toleration}]}}")


def weighted(weight: int) -> str:
    return pod("p", f"{{{node_affinity(preferred_terms=f'{{weight: {weight}}}')}}}")


def requesting(requests: str, containers: str = "containers") -> str:
    return pod("p", f"{{{containers}: [{{name: c, resources: {requests}}}]}}")


NODE_AFFINITY = "spec.affinity.nodeAffinity"
TERM = f"{NODE_AFFINITY}.{REQUIRED}.nodeSelectorTerms[0]"
EXPRESSION = f"{TERM}.matchExpressions[0]"
FIELD = f"{TERM}.matchFields[0]"

BAD_INPUTS = [
    # (manifests in bad.yaml, the field named in the message, the value as the message shows it)
    pytest.param("kind: Pod\nmetadata: a: b\n", "line 2", "'mapping values", id="malformed-yaml"),
    pytest.param("- a\n- b\n", "document 1", "['a', 'b']", id="document-not-mapping"),
    pytest.param(pod("a") + "hello\n", "document 2", "'hello'", id="second-document-scalar"),
    pytest.param("apiVersion: v1\nkind: List\nitems: [3]\n", "items[0]", "3", id="list-item"),
    pytest.param("kind: Pod\nmetadata: {name: a}\n", "apiVersion", "None", id="no-api-version"),
    pytest.param("apiVersion: v1\nmetadata: {name: a}\n", "kind", "None", id="no-kind"),
    pytest.param("apiVersion: v1\nkind: ConfigMap\n", "kind", "'ConfigMap'", id="unknown-kind"),
    pytest.param(
        controller("Deployment", "d", f"{{{TEMPLATE}}}", api="v1"),
        "apiVersion",
        "'v1'",
        id="api-version-of-other-kind",
    ),
    pytest.param("apiVersion: v1\nkind: Pod\n", "metadata.name", "None", id="no-name"),
    pytest.param(
        requesting("{requests: {cpu: 12Q}}"),
        "spec.containers[0].resources.requests.cpu",
        "'12Q'",
        id="quantity-suffix",
    ),
    pytest.param(
        requesting("{limits: {memory: -1}}", "initContainers"),
        "spec.initContainers[0].resources.limits.memory",
        "-1",
        id="quantity-negative",
    ),
    pytest.param(
        node("n1", allocatable="{memory: 1.5Q}"),
        "status.allocatable.memory",
        "'1.5Q'",
        id="node-quantity",
    ),
    pytest.param(pod("p", "{overhead: {cpu: lots}}"), "spec.overhead.cpu", "'lots'", id="overhead"),
    pytest.param(
        controller(
            "DaemonSet", "d", "{template: {spec: {containers: [{resources: {limits: 1}}]}}}"
        ),
        "spec.template.spec.containers[0].resources.limits",
        "1",
        id="template-resources-not-mapping",
    ),
    pytest.param(
        controller("Deployment", "d", f"{{replicas: -1, {TEMPLATE}}}"),
        "spec.replicas",
        "-1",
        id="replicas-negative",
    ),
    pytest.param(
        controller("StatefulSet", "d", f"{{replicas: '3', {TEMPLATE}}}"),
        "spec.replicas",
        "'3'",
        id="replicas-string",
    ),
    pytest.param(
        controller("ReplicaSet", "d", f"{{replicas: 1.5, {TEMPLATE}}}"),
        "spec.replicas",
        "1.5",
        id="replicas-float",
    ),
    pytest.param(
        controller("Job", "j", f"{{parallelism: -2, {TEMPLATE}}}", api="batch/v1"),
        "spec.parallelism",
        "-2",
        id="parallelism-negative",
    ),
    pytest.param(
        controller("Job", "j", f"{{completions: two, {TEMPLATE}}}", api="batch/v1"),
        "spec.completions",
        "'two'",
        id="completions-string",
    ),
    pytest.param(
        node("n1", "{taints: [{key: k, effect: NoRun}]}"),
        "spec.taints[0].effect",
        "'NoRun'",
        id="taint-effect",
    ),
    pytest.param(
        tolerating("{key: k, operator: Equals, value: v}"),
        "spec.tolerations[0].operator",
        "'Equals'",
        id="toleration-operator",
    ),
    pytest.param(
        tolerating("{key: k, operator: Exists, value: v}"),
        "spec.tolerations[0].value",
        "'v'",
        id="toleration-exists-with-value",
    ),
    pytest.param(
        tolerating("{operator: Equal, value: v}"),
        "spec.tolerations[0].key",
        "None",
        id="toleration-equal-without-key",
    ),
    pytest.param(
        tolerating("{key: k, effect: Never}"),
        "spec.tolerations[0].effect",
        "'Never'",
        id="toleration-effect",
    ),
    pytest.param(
        required("{matchExpressions: [{key: k, operator: Matches, values: [a]}]}"),
        f"{EXPRESSION}.operator",
        "'Matches'",
        id="selector-operator",
    ),
    pytest.param(
        required("{matchExpressions: [{key: k, operator: In}]}"),
        f"{EXPRESSION}.values",
        "None",
        id="in-without-values",
    ),
    pytest.param(
        required("{matchExpressions: [{key: k, operator: NotIn, values: []}]}"),
        f"{EXPRESSION}.values",
        "[]",
        id="notin-with-empty-values",
    ),
    pytest.param(
        required("{matchExpressions: [{key: k, operator: Exists, values: [a]}]}"),
        f"{EXPRESSION}.values",
        "['a']",
        id="exists-with-values",
    ),
    pytest.param(
        required("{matchExpressions: [{key: k, operator: DoesNotExist, values: [a]}]}"),
        f"{EXPRESSION}.values",
        "['a']",
        id="doesnotexist-with-values",
    ),
    pytest.param(
        required("{matchExpressions: [{key: k, operator: Gt, values: ['1', '2']}]}"),
        f"{EXPRESSION}.values",
        "['1', '2']",
        id="gt-with-two-values",
    ),
    pytest.param(
        required("{matchExpressions: [{key: k, operator: Lt}]}"),
        f"{EXPRESSION}.values",
        "None",
        id="lt-without-value",
    ),
    pytest.param(
        required("{matchFields: [{key: metadata.labels, operator: In, values: [a]}]}"),
        f"{FIELD}.key",
        "'metadata.labels'",
        id="match-fields-key",
    ),
    pytest.param(
        required("{matchFields: [{key: metadata.name, operator: Exists}]}"),
        f"{FIELD}.operator",
        "'Exists'",
        id="match-fields-operator",
    ),
    pytest.param(
        required("{matchFields: [{key: metadata.name, operator: In, values: [a, b]}]}"),
        f"{FIELD}.values",
        "['a', 'b']",
        id="match-fields-two-values",
    ),
    pytest.param(
        pod("p", f"{{affinity: {{nodeAffinity: {{{REQUIRED}: {{nodeSelectorTerms: []}}}}}}}}"),
        f"{NODE_AFFINITY}.{REQUIRED}.nodeSelectorTerms",
        "[]",
        id="required-terms-empty",
    ),
    pytest.param(weighted(0), f"{NODE_AFFINITY}.{PREFERRED}[0].weight", "0", id="weight-zero"),
    pytest.param(weighted(101), f"{NODE_AFFINITY}.{PREFERRED}[0].weight", "101", id="weight-101"),
    pytest.param(node("n1") + node("n2") + node("n1"), "metadata.name", "'n1'", id="same-node"),
    pytest.param(pod("a") + pod("b") + pod("a"), "metadata.name", "'default/a'", id="same-pod"),
    pytest.param(
        controller("ReplicaSet", "web", f"{{replicas: 2, {TEMPLATE}}}")
        + controller("StatefulSet", "web", f"{{replicas: 2, {TEMPLATE}}}"),
        "metadata.name",
        "'team/web-0'",
        id="same-pod-from-two-controllers",
    ),
    pytest.param(
        node("n1")
        + pod("agent-n1", metadata=", namespace: team")
        + controller("DaemonSet", "agent", "{template: {spec: {containers: [{name: c}]}}}"),
        "metadata.name",
        "'team/agent-n1'",
        id="same-pod-from-daemonset",
    ),
    pytest.param(
        pod("p", metadata=", ownerReferences: [{kind: Job, name: j}, {kind: Job, name: k, "
            "controller: 'yes'}]"),
        "metadata.ownerReferences[1].controller",
        "'yes'",
        id="owner-controller-not-bool",
    ),
    pytest.param(node("n1") + pod("p", "{nodeName: n2}"), "spec.nodeName", "'n2'", id="no-node"),
    pytest.param(
        controller(
            "Deployment", "d", "{template: {spec: {nodeName: n2, containers: [{name: c}]}}}"
        ),
        "spec.template.spec.nodeName",
        "'n2'",
        id="no-node-for-template",
    ),
    pytest.param(
        pod("p", metadata=", labels: {app: true}"),
        "metadata.labels.app",
        "True",
        id="label-not-string",
    ),
    pytest.param(
        pod("p", "{containers: {name: c}}"), "spec.containers", "{'name': 'c'}", id="not-a-list"
    ),
]


def assert_one_line_naming(error: InputError, file: str, field: str, value: str) -> None:
    message = str(error)
    assert "\n" not in message
    assert file in message, message
    assert f": {field}: got {value}" in message, message


@pytest.mark.parametrize(("text", "field", "value"), BAD_INPUTS)
def test_bad_input_names_file_field_and_value(
    tmp_path: Path, text: str, field: str, value: str
) -> None:
    with pytest.raises(InputError) as caught:
        load(tmp_path, text, "bad.yaml")
    assert_one_line_naming(caught.value, "bad.yaml", field, value)


def test_bad_input_message_names_the_object(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load(tmp_path, requesting("{requests: {cpu: 12Q}}"))
    assert str(caught.value).startswith(
        f"{tmp_path / 'pods.yaml'}: Pod default/p: "
        "spec.containers[0].resources.requests.cpu: got '12Q', "
        "expected a non-negative Kubernetes quantity"
    )


def test_unnamed_object_is_named_by_document_number(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load(tmp_path, pod("a") + "apiVersion: v1\nkind: Pod\nmetadata: {}\n")
    assert str(caught.value).endswith(
        "pods.yaml: document 2: Pod: metadata.name: got None, expected a DNS-1123 subdomain "
        "(lowercase letters, digits, '-' and '.', alphanumeric at both ends, at most 253 "
        "characters)"
    )


def test_malformed_json(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load(tmp_path, '{"apiVersion": "v1",\n "kind": }', "bad.json")
    assert_one_line_naming(caught.value, "bad.json", "line 2", "'Expecting value'")


def test_same_node_in_two_files_names_both(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(node("n1"))
    (tmp_path / "b.yaml").write_text(node("n1"))
    with pytest.raises(InputError) as caught:
        load_manifests(tmp_path)
    assert_one_line_naming(caught.value, "b.yaml", "metadata.name", "'n1'")
    assert "a.yaml" in str(caught.value)


@pytest.mark.parametrize("name", ["missing.yaml", "notes.txt"])
def test_path_that_is_not_a_manifest_file_or_directory(tmp_path: Path, name: str) -> None:
    (tmp_path / "notes.txt").write_text(pod("p"))
    with pytest.raises(InputError) as caught:
        load_manifests(tmp_path / name)
    assert_one_line_naming(caught.value, name, "path", repr(str(tmp_path / name)))


# --- round trip ------------------------------------------------------------------------------

NAMES = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=6).filter(
    is_dns1123_label  # names, namespaces and label keys the API server accepts
)
VALUES = st.text("abcz019.-_", max_size=5).filter(is_label_value) | st.sampled_from(
    ["true", "null", "1e3", "010", "0x1f"]  # "~" (YAML's null) is no label value
)
KEYS = NAMES | st.sampled_from(["app.kubernetes.io/name", "on", "node-role.kubernetes.io/x"])
LABELS = st.dictionaries(KEYS, VALUES, max_size=3)
RESOURCES = st.sampled_from(["cpu", "memory", "ephemeral-storage", "nvidia.com/gpu", "x.io/foo"])
AMOUNTS = st.dictionaries(
    RESOURCES, st.integers(0, 2**50) | st.sampled_from([1, 250, 1000, 2**30]), max_size=3
)
EFFECTS = st.sampled_from(TAINT_EFFECTS)


def tuples(elements: st.SearchStrategy, max_size: int = 2, min_size: int = 0) -> st.SearchStrategy:
    return st.lists(elements, min_size=min_size, max_size=max_size).map(tuple)


def requirements(
    key: st.SearchStrategy, operators: list[str], values: st.SearchStrategy
) -> st.SearchStrategy:
    return st.builds(NodeSelectorRequirement, key, st.sampled_from(operators), values)


EXPRESSIONS = st.one_of(
    requirements(KEYS, ["In", "NotIn"], tuples(VALUES, 3, min_size=1)),
    requirements(KEYS, ["Exists", "DoesNotExist"], st.just(())),
    requirements(KEYS, ["Gt", "Lt"], tuples(VALUES, 1, min_size=1)),
)
FIELDS = requirements(st.just("metadata.name"), ["In", "NotIn"], tuples(NAMES, 1, min_size=1))
TERMS = st.builds(NodeSelectorTerm, tuples(EXPRESSIONS), tuples(FIELDS, 1))
AFFINITIES = st.none() | st.builds(
    NodeAffinity,
    st.none() | tuples(TERMS, min_size=1),
    tuples(st.builds(PreferredSchedulingTerm, st.integers(1, 100), TERMS)),
)
TOLERATIONS = st.one_of(
    st.builds(Toleration, KEYS, st.just("Equal"), VALUES, st.just("") | EFFECTS),
    st.builds(
        Toleration, st.just("") | KEYS, st.just("Exists"), st.just(""), st.just("") | EFFECTS
    ),
)
NODES = st.builds(
    Node,
    NAMES,
    st.builds(lambda amounts, pods: {**amounts, "pods": pods}, AMOUNTS, st.integers(0, 2000)),
    LABELS,
    st.lists(  # the API server refuses two taints with one {key, effect}
        st.builds(Taint, KEYS, VALUES, EFFECTS), max_size=2, unique_by=lambda t: (t.key, t.effect)
    ).map(tuple),
    st.booleans(),
)
OWNERS = st.none() | st.builds(OwnerRef, st.sampled_from(["Deployment", "Custom"]), NAMES)


@st.composite
def workloads(draw: st.DrawFn) -> Workload:
    """Workloads as ``load_manifests`` builds them: unique names, every Node with a pod limit,
    bound pods on Nodes of the workload, sidecars only among init containers."""
    nodes = draw(
        tuples(NODES, 4, min_size=0).filter(lambda ns: len({n.name for n in ns}) == len(ns))
    )
    bound_to = st.none() | st.sampled_from([n.name for n in nodes]) if nodes else st.none()
    templates = st.builds(
        PodTemplate,
        namespace=NAMES,
        labels=LABELS,
        containers=tuples(st.builds(Container, NAMES, AMOUNTS), min_size=1),
        init_containers=tuples(st.builds(Container, NAMES, AMOUNTS, st.booleans())),
        overhead=AMOUNTS,
        node_selector=LABELS,
        affinity=AFFINITIES,
        tolerations=tuples(TOLERATIONS),
        priority=st.integers(-(2**31), 2**31 - 1),
        node_name=bound_to,
    )
    pods = draw(tuples(st.builds(Pod, NAMES, templates, OWNERS), 5))
    unique = {p.key: p for p in pods}
    return Workload(nodes, tuple(unique.values()))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(workload=workloads())
def test_dump_then_load_gives_an_equal_workload(tmp_path: Path, workload: Workload) -> None:
    text = dump_manifests(workload)
    assert dump_manifests(workload) == text
    loaded = load(tmp_path, text, "dumped.yaml")
    assert loaded == workload
    assert dump_manifests(loaded) == text
    assert len({id(p.template) for p in loaded.pods}) == len({p.template for p in loaded.pods})
