"""Hostile and careless manifests: each is refused with one InputError line (or, where kube
accepts it, read with an InputWarning), quickly and in little memory."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedlab.errors import InputError, InputWarning
from schedlab.traces import load_manifests
from schedlab.traces.manifests import MAX_PODS

NODE = {
    "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {"zone": "a"}},
    "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]},
    "status": {"allocatable": {"cpu": "4", "memory": "8Gi"}},
}
POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
    "spec": {
        "containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "1"}}}],
        "nodeSelector": {"zone": "a"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu"}],
        "priority": 5,
    },
}


def write(tmp_path: Path, *documents: Any, name: str = "in.yaml") -> Path:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(documents[0]))
    else:
        path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


def refused(path: Path | str, *parts: str, **kwargs: Any) -> str:
    """The one-line message of the InputError loading ``path`` raises, checked to contain
    ``parts``."""
    with pytest.raises(InputError) as caught:
        load_manifests(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, message
    return message


def pod(**changes: Any) -> dict[str, Any]:
    """POD with ``metadata`` / ``spec`` keys changed (None removes one)."""
    document = json.loads(json.dumps(POD))
    for path, value in changes.items():
        section, key = path.split("__")
        if value is None:
            document[section].pop(key, None)
        else:
            document[section][key] = value
    return document


def controller(kind: str, name: str, spec: dict[str, Any], api: str = "apps/v1") -> dict:
    template = {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c"}]}}
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "shop"},
            "spec": {"template": template, **spec}}


def test_a_valid_pod_and_node_load_without_warnings(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        workload = load_manifests(write(tmp_path, NODE, POD))
    assert [p.key for p in workload.pods] == ["shop/web"]


# --- bounded decoding ------------------------------------------------------------------------


def test_yaml_alias_bomb_in_node_labels_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = "\n".join(f"  {line}" for line in lines)
    text = f"apiVersion: v1\nkind: Node\nmetadata:\n name: n1\n labels:\n{bomb}\n"
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    refused(path, "bomb.yaml", "values")


def test_list_whose_items_alias_themselves_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("apiVersion: v1\nkind: List\nitems: &items [*items]\n")
    refused(path, "loop.yaml")


def test_json_nested_100k_deep_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"apiVersion": "v1", "kind": "Pod", "metadata": ' + "[" * 100_000
                    + "]" * 100_000 + "}")
    refused(path, "deep.json", "nest")


@pytest.mark.parametrize(("name", "text"), [
    ("dup.yaml", "apiVersion: v1\nkind: Pod\nkind: Node\nmetadata: {name: a}\n"),
    ("dup.json", '{"apiVersion": "v1", "kind": "Pod", "kind": "Node"}'),
])
def test_duplicate_keys_are_refused(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    refused(tmp_path / name, name, "duplicate key 'kind'")


# --- names -----------------------------------------------------------------------------------

SUBDOMAIN = "a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', alphanumeric"
LABEL = "a DNS-1123 label"


@pytest.mark.parametrize("name", [
    "../..", "web server", "Web", "web_1", "web\nx", "web\x1b[31m", "-web", "web.", "a" * 254, "",
])
def test_bad_pod_and_node_names_are_refused(tmp_path: Path, name: str) -> None:
    message = refused(write(tmp_path, pod(metadata__name=name)), "in.yaml", "metadata.name",
                      SUBDOMAIN)
    assert "\x1b" not in message
    node = {**NODE, "metadata": {"name": name}}
    refused(write(tmp_path, node), "metadata.name", SUBDOMAIN)


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"])
def test_bad_controller_names_are_refused(tmp_path: Path, kind: str) -> None:
    api = "batch/v1" if kind == "Job" else "apps/v1"
    refused(write(tmp_path, controller(kind, "Web_App", {}, api)), f"{kind}", "'Web_App'",
            SUBDOMAIN)


def test_names_with_dots_are_subdomains(tmp_path: Path) -> None:
    workload = load_manifests(write(tmp_path, {**NODE, "metadata": {"name": "n1.example.com"}},
                                    pod(metadata__name="web.v2")))
    assert workload.nodes[0].name == "n1.example.com"
    assert workload.pods[0].name == "web.v2"


@pytest.mark.parametrize("namespace", ["a" * 64, "a.b", "Shop", "../x", "shop\n"])
def test_bad_namespaces_are_refused(tmp_path: Path, namespace: str) -> None:
    document = pod()
    document["metadata"]["namespace"] = namespace
    refused(write(tmp_path, document), "metadata.namespace", LABEL)
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    refused(write(tmp_path, ns), "metadata.name", LABEL)


def test_namespace_of_63_characters_is_fine(tmp_path: Path) -> None:
    document = pod()
    document["metadata"]["namespace"] = "a" * 63
    assert load_manifests(write(tmp_path, document)).pods[0].namespace == "a" * 63


@pytest.mark.parametrize("name", ["1web", "web.svc", "Web", "a" * 64])
def test_service_names_are_dns1035_labels(tmp_path: Path, name: str) -> None:
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": name, "namespace": "shop"}}
    refused(write(tmp_path, service), "metadata.name", "a DNS-1035 label")


def test_pods_a_controller_creates_must_have_valid_names(tmp_path: Path) -> None:
    name = "a" * 253
    refused(write(tmp_path, controller("ReplicaSet", name, {"replicas": 1})),
            "metadata.name", f"'{'a' * 20}", "NAME-i")
    node = {**NODE, "metadata": {"name": "n" * 200}, "spec": {}}
    refused(write(tmp_path, node, controller("DaemonSet", "d" * 60, {})),
            "DaemonSet shop/ddd", "metadata.name", "NAME-NODE")


def test_node_name_of_a_pod_is_a_subdomain(tmp_path: Path) -> None:
    document = pod()
    document["spec"]["nodeName"] = "N1"
    refused(write(tmp_path, NODE, document), "spec.nodeName", SUBDOMAIN)


# --- labels, selectors, taints, tolerations --------------------------------------------------


@pytest.mark.parametrize(("labels", "path"), [
    ({"app": "a b"}, "metadata.labels.app"),
    ({"bad key": "x"}, "metadata.labels.bad key"),
    ({"app": "x" * 64}, "metadata.labels.app"),
    ({"app": 3}, "metadata.labels.app"),
    ({"UPPER.example.com/x": "y"}, "metadata.labels.UPPER.example.com/x"),
])
def test_labels_of_every_object_are_checked(
    tmp_path: Path, labels: dict[str, Any], path: str
) -> None:
    refused(write(tmp_path, pod(metadata__labels=labels)), path, "a valid label")
    refused(write(tmp_path, {**NODE, "metadata": {"name": "n1", "labels": labels}}), path)
    namespace = {"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": "shop", "labels": labels}}
    refused(write(tmp_path, namespace), path)
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "web", "namespace": "shop", "labels": labels}}
    refused(write(tmp_path, service), path)
    deployment = controller("Deployment", "web", {})
    deployment["metadata"]["labels"] = labels
    refused(write(tmp_path, deployment), path)


def test_empty_label_value_is_fine(tmp_path: Path) -> None:
    workload = load_manifests(write(tmp_path, pod(metadata__labels={"app": ""})))
    assert workload.pods[0].template.labels == {"app": ""}


@pytest.mark.parametrize(("selector", "path"), [
    ({"zone": "a b"}, "spec.nodeSelector.zone"),
    ({"-zone": "a"}, "spec.nodeSelector.-zone"),
])
def test_node_selector_is_checked_as_labels(
    tmp_path: Path, selector: dict[str, str], path: str
) -> None:
    refused(write(tmp_path, pod(spec__nodeSelector=selector)), path, "a valid label")


@pytest.mark.parametrize(("taint", "path", "expected"), [
    ({"key": "a b", "effect": "NoSchedule"}, "spec.taints[0].key", "a valid label key"),
    ({"key": "k", "value": "a/b", "effect": "NoSchedule"}, "spec.taints[0].value",
     "a valid label value"),
    ({"key": "k", "effect": "Never"}, "spec.taints[0].effect", "one of"),
])
def test_taints_are_checked(tmp_path: Path, taint: dict, path: str, expected: str) -> None:
    node = {**NODE, "spec": {"taints": [taint]}}
    refused(write(tmp_path, node), path, expected)


def test_taints_are_unique_by_key_and_effect(tmp_path: Path) -> None:
    taint = {"key": "k", "effect": "NoSchedule"}
    node = {**NODE, "spec": {"taints": [taint, {**taint, "value": "v"}]}}
    refused(write(tmp_path, node), "spec.taints[1]", "(spec.taints[0] has it)")


@pytest.mark.parametrize(("toleration", "path", "expected"), [
    ({"key": "a b", "operator": "Exists"}, "spec.tolerations[0].key", "a valid label key"),
    ({"key": "k", "value": "a b"}, "spec.tolerations[0].value", "a valid label value"),
    ({"operator": "Equal", "value": "v"}, "spec.tolerations[0].key", "a non-empty key"),
])
def test_tolerations_are_checked(tmp_path: Path, toleration: dict, path: str,
                                 expected: str) -> None:
    refused(write(tmp_path, pod(spec__tolerations=[toleration])), path, expected)


def test_toleration_with_empty_key_and_exists_is_fine(tmp_path: Path) -> None:
    workload = load_manifests(write(tmp_path, pod(spec__tolerations=[{"operator": "Exists"}])))
    assert workload.pods[0].template.tolerations[0].key == ""


# --- counts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "field", "value"), [
    ("Deployment", "replicas", 2147483648),
    ("ReplicaSet", "replicas", -1),
    ("StatefulSet", "replicas", 1.5),
    ("Job", "parallelism", 2**31),
    ("Job", "completions", 2**40),
    ("Deployment", "replicas", "3"),
])
def test_counts_are_int32(tmp_path: Path, kind: str, field: str, value: Any) -> None:
    api = "batch/v1" if kind == "Job" else "apps/v1"
    refused(write(tmp_path, controller(kind, "web", {field: value}, api)),
            f"spec.{field}", "an integer in 0..2147483647")


def test_job_succeeded_is_int32(tmp_path: Path) -> None:
    job = controller("Job", "web", {}, "batch/v1")
    job["status"] = {"succeeded": 2**31}
    refused(write(tmp_path, job), "status.succeeded", "an integer in 0..2147483647")


@pytest.mark.parametrize("priority", [2**31, -(2**31) - 1, "high"])
def test_priority_is_int32(tmp_path: Path, priority: Any) -> None:
    refused(write(tmp_path, pod(spec__priority=priority)), "spec.priority",
            "an integer in -2147483648..2147483647")


def test_negative_priority_is_fine(tmp_path: Path) -> None:
    workload = load_manifests(write(tmp_path, pod(spec__priority=-(2**31))))
    assert workload.pods[0].template.priority == -(2**31)


# --- the pod cap -----------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "spec", "field"), [
    ("Deployment", {"replicas": 1_000_000_000}, "spec.replicas"),
    ("StatefulSet", {"replicas": 2**31 - 1}, "spec.replicas"),
    ("Job", {"parallelism": 1_000_000_000}, "spec.parallelism"),
])
def test_a_workload_beyond_max_pods_is_refused_at_once(
    tmp_path: Path, kind: str, spec: dict, field: str
) -> None:
    api = "batch/v1" if kind == "Job" else "apps/v1"
    message = refused(write(tmp_path, controller(kind, "web", spec, api)),
                      f"{kind} shop/web", field, f"{MAX_PODS:,}", "MAX_PODS")
    assert str(next(iter(spec.values()))) in message


def test_max_pods_counts_the_whole_workload(tmp_path: Path) -> None:
    half = MAX_PODS // 2 + 1
    refused(write(tmp_path, controller("ReplicaSet", "a", {"replicas": half}),
                  controller("ReplicaSet", "b", {"replicas": half})),
            "ReplicaSet shop/b", "spec.replicas", "MAX_PODS")


def test_daemon_sets_count_nodes_times_daemon_sets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("schedlab.traces.manifests.MAX_PODS", 5)
    nodes = [{**NODE, "metadata": {"name": f"n{i}"}, "spec": {}} for i in range(3)]
    path = write(tmp_path, *nodes, controller("DaemonSet", "a", {}),
                 controller("DaemonSet", "b", {}))
    refused(path, "DaemonSet shop/b", "3 nodes")
    path = write(tmp_path, *nodes, controller("DaemonSet", "a", {}))
    assert len(load_manifests(path).pods) == 3


# --- containers ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [{}, {"containers": []}, {"containerz": [{"name": "c"}]}])
def test_a_pod_without_containers_is_refused(tmp_path: Path, spec: dict) -> None:
    document = {**pod(), "spec": spec}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        refused(write(tmp_path, document), "Pod shop/web", "spec.containers",
                "at least one container")
    deployment = controller("Deployment", "web", {})
    deployment["spec"]["template"]["spec"] = spec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        refused(write(tmp_path, deployment), "spec.template.spec.containers")


# --- warnings --------------------------------------------------------------------------------


def test_unknown_fields_warn_once_per_path(tmp_path: Path) -> None:
    document = pod()
    document["spec"]["containerz"] = []
    document["spec"]["containers"][0]["imagee"] = "nginx"
    document["metadata"]["lables"] = {}
    document["extra"] = 1
    with pytest.warns(InputWarning) as caught:
        load_manifests(write(tmp_path, document))
    messages = sorted(str(w.message) for w in caught)
    prefix = f"{tmp_path / 'in.yaml'}: Pod shop/web: "
    assert messages == sorted(prefix + f"{p}: unknown field" for p in (
        "spec.containerz", "spec.containers[0].imagee", "metadata.lables", "extra"))


def test_unknown_fields_are_errors_when_strict(tmp_path: Path) -> None:
    path = write(tmp_path, pod(spec__containerz=[]))
    refused(path, "Pod shop/web", "spec.containerz", "strict", strict=True)


def test_fields_kubectl_dumps_do_not_warn(tmp_path: Path) -> None:
    document = pod()
    document["metadata"].update({
        "uid": "0b1", "resourceVersion": "12", "creationTimestamp": "2024-01-01T00:00:00Z",
        "annotations": {"x": "y"}, "managedFields": [{"manager": "kubectl"}],
        "generateName": "web-", "finalizers": [],
    })
    document["spec"].update({
        "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "schedulerName": "x",
        "volumes": [], "serviceAccountName": "default", "securityContext": {},
        "terminationGracePeriodSeconds": 30,
    })
    document["spec"]["containers"][0].update({
        "ports": [{"containerPort": 80}], "env": [], "imagePullPolicy": "Always",
        "livenessProbe": {"httpGet": {"path": "/"}}, "volumeMounts": [],
    })
    document["status"] = {"phase": "Running", "conditions": [], "podIP": "10.0.0.1",
                          "qosClass": "Burstable", "containerStatuses": []}
    node = json.loads(json.dumps(NODE))
    node["status"].update({"capacity": {"cpu": "4"}, "nodeInfo": {"kubeletVersion": "v1"},
                           "conditions": [], "addresses": []})
    node["spec"]["podCIDR"] = "10.0.0.0/24"
    deployment = controller("Deployment", "web", {"strategy": {}, "revisionHistoryLimit": 3})
    deployment["status"] = {"replicas": 1, "anything": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_manifests(write(tmp_path, node, document, deployment))


def test_gt_with_a_non_integer_warns_once_per_value(tmp_path: Path) -> None:
    def gt(name: str, value: str) -> dict:
        term = {"matchExpressions": [{"key": "rank", "operator": "Gt", "values": [value]}]}
        affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [term]}}}
        return pod(metadata__name=name, spec__affinity=affinity)

    with pytest.warns(InputWarning) as caught:
        workload = load_manifests(write(tmp_path, NODE, gt("a", "many"), gt("b", "many"),
                                        gt("c", "lots"), gt("d", "3")))
    assert len(workload.pods) == 4
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert "Pod shop/a" in messages[0] and "'many'" in messages[0]
    assert "never matches" in messages[0]
    assert "'lots'" in messages[1]


# --- directories -----------------------------------------------------------------------------


def test_dangling_link_in_a_directory_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, POD, name="a.yaml")
    os.symlink(tmp_path / "missing.yaml", tmp_path / "b.yaml")
    refused(tmp_path, "b.yaml", "a readable")


def test_link_loop_in_a_directory_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, POD, name="a.yaml")
    os.symlink(tmp_path / "c.yaml", tmp_path / "b.yaml")
    os.symlink(tmp_path / "b.yaml", tmp_path / "c.yaml")
    refused(tmp_path, "b.yaml", "a readable")


def test_directory_without_manifests_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    refused(tmp_path, str(tmp_path), "at least one manifest file")


# --- fuzzing ---------------------------------------------------------------------------------

SCALARS = (st.none() | st.booleans() | st.integers(-(2**40), 2**40)
           | st.floats(allow_nan=True) | st.text(max_size=8)
           | st.sampled_from(["", "v1", "Pod", "Node", "List", "apps/v1", "1Gi", "100m",
                              "Exists", "Gt", "In", "NoSchedule", "-1", "1e3", "web", "a b"]))
KEYS = st.text(max_size=6) | st.sampled_from([
    "apiVersion", "kind", "metadata", "spec", "status", "name", "namespace", "labels",
    "containers", "resources", "requests", "cpu", "replicas", "items", "taints",
    "tolerations", "affinity", "nodeSelector", "priority", "allocatable", "template",
])
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (of keys and indices) inside ``value``."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A valid Pod or Node with a few fields dropped, retyped or inserted."""
    document = json.loads(json.dumps(draw(st.sampled_from([POD, NODE]))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths(document)))
        if not path:
            continue
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["drop", "retype", "insert"]))
        if action == "drop":
            del parent[path[-1]]
        elif action == "retype":
            parent[path[-1]] = draw(VALUES)
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(KEYS)] = draw(VALUES)
    return document


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(document=VALUES | mutated(), as_json=st.booleans())
def test_any_document_loads_or_raises_input_error(
    tmp_path: Path, document: Any, as_json: bool
) -> None:
    path = tmp_path / ("fuzz.json" if as_json else "fuzz.yaml")
    if as_json:
        path.write_text(json.dumps(document))
    else:
        path.write_text(yaml.safe_dump(document))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        try:
            load_manifests(path)
        except InputError as error:
            assert "\n" not in str(error)


CONFIG_KEYS = KEYS | st.sampled_from([
    "profiles", "schedulerName", "plugins", "score", "filter", "multiPoint", "enabled",
    "disabled", "weight", "pluginConfig", "args", "scoringStrategy", "type", "shape",
    "percentageOfNodesToScore", "NodeResourcesFit", "PodTopologySpread", "defaultConstraints"])
CONFIG_VALUES = st.recursive(
    SCALARS | st.sampled_from(["*", "MostAllocated", "List", "System", "NodeAffinity"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(CONFIG_KEYS, inner, max_size=4),
    max_leaves=12)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.dictionaries(CONFIG_KEYS, CONFIG_VALUES, max_size=4),
       profile=st.dictionaries(CONFIG_KEYS, CONFIG_VALUES, max_size=4))
def test_any_configuration_loads_or_raises_config_error(tmp_path: Path, body: dict,
                                                        profile: dict) -> None:
    """The configuration reader: a profile or one ConfigError line, never another error."""
    from schedlab.errors import ConfigError
    from schedlab.framework.config import load_config

    path = tmp_path / "sched.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "kubescheduler.config.k8s.io/v1",
                                    "kind": "KubeSchedulerConfiguration",
                                    "profiles": [profile], **body}))
    try:
        load_config(path)
    except ConfigError as error:
        assert "\n" not in str(error)


# --- long keys in messages -------------------------------------------------------------------


def test_a_megabyte_unknown_key_is_shortened_in_the_warning(tmp_path: Path) -> None:
    key = "k" * 1_000_000
    document = pod()
    document["spec"][key] = 1
    path = write(tmp_path, document, name="in.json")
    with pytest.warns(InputWarning) as caught:
        load_manifests(path)
    (message,) = [str(w.message) for w in caught]
    assert len(message) < 1000
    assert f"spec.{'k' * 80}...: unknown field" in message
    error = refused(path, "spec." + "k" * 80 + "...", strict=True)
    assert len(error) < 1000


def test_a_megabyte_label_key_is_shortened_in_the_error(tmp_path: Path) -> None:
    key = "k" * 1_000_000
    message = refused(write(tmp_path, pod(metadata__labels={key: "v"}), name="in.json"),
                      "metadata.labels." + "k" * 80 + "...")
    assert len(message) < 1000


# --- resource names --------------------------------------------------------------------------

_CONTAINER = "spec.containers[0].resources"


@pytest.mark.parametrize(("section", "name"), [
    ("requests", "cpus"), ("limits", "memroy"), ("requests", "pods"), ("requests", "GPU"),
    ("requests", "gpu"), ("requests", "hugepages-"), ("requests", "hugepages-huge"),
    ("requests", "requests.example.com/gpu"), ("limits", "a/b/c"), ("requests", "/gpu"),
    ("requests", "Example.com/gpu"), ("requests", "example.com/" + "g" * 64),
])
def test_container_resource_names_are_checked(tmp_path: Path, section: str, name: str) -> None:
    document = pod(spec__containers=[{"name": "c", "resources": {section: {name: "1"}}}])
    refused(write(tmp_path, document), "Pod shop/web", f"{_CONTAINER}.{section}.{name}",
            repr(name), "standard resource name", "fully qualified")


def test_overhead_resource_names_are_checked(tmp_path: Path) -> None:
    refused(write(tmp_path, pod(spec__overhead={"cpus": "1"})), "Pod shop/web",
            "spec.overhead.cpus", "'cpus'", "standard resource name")
    deployment = controller("Deployment", "web", {})
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"memroy": "1Gi"}}
    refused(write(tmp_path, deployment), "Deployment shop/web",
            "spec.template.spec.containers[0].resources.requests.memroy")


@pytest.mark.parametrize("section", ["allocatable", "capacity"])
@pytest.mark.parametrize("name", ["cpus", "memroy", "GPU", "nvidia.com/"])
def test_node_resource_names_are_checked(tmp_path: Path, section: str, name: str) -> None:
    node = {**NODE, "status": {section: {"cpu": "4", name: "1"}}}
    refused(write(tmp_path, node), "Node n1", f"status.{section}.{name}", repr(name),
            "pods", "fully qualified")
    if section == "capacity":  # checked even when allocatable is read instead
        node["status"]["allocatable"] = {"cpu": "4"}
        refused(write(tmp_path, node), f"status.capacity.{name}")


def test_a_megabyte_resource_name_is_refused_in_a_short_line(tmp_path: Path) -> None:
    name = "example.com/" + "g" * 1_000_000
    document = pod(spec__containers=[{"name": "c", "resources": {"requests": {name: "1"}}}])
    message = refused(write(tmp_path, document, name="in.json"), "Pod shop/web",
                      f"{_CONTAINER}.requests.example.com/ggg", "fully qualified")
    assert len(message) < 2000


def test_valid_resource_names_load(tmp_path: Path) -> None:
    from schedlab.testing.strategies import GPU
    requests = {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "1Gi", "hugepages-2Mi": "4Mi",
                "nvidia.com/gpu": "1", GPU: "1", "example.kubernetes.io/thing": "1"}
    node = {**NODE, "status": {"allocatable": {
        **requests, "pods": "110", "alibabacloud.com/gpu-count": "2",
        "alibabacloud.com/gpu-milli": "2000"}}}
    document = pod(spec__containers=[{"name": "c", "resources": {"limits": requests}}],
                   spec__overhead={"cpu": "100m", GPU: "1"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        workload = load_manifests(write(tmp_path, node, document))
    assert workload.pods[0].template.containers[0].requests["nvidia.com/gpu"] == 1
    assert workload.nodes[0].gpus == 2


def test_a_key_with_a_newline_is_escaped_in_the_field_path(tmp_path: Path) -> None:
    from schedlab.errors import ConfigError
    from schedlab.framework.config import load_config

    path = tmp_path / "sched.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "kubescheduler.config.k8s.io/v1",
                                    "kind": "KubeSchedulerConfiguration",
                                    "profiles": [{"\n": None}]}))
    with pytest.raises(ConfigError, match=r"profiles\[0\]\.\\n: got None") as caught:
        load_config(path)
    assert "\n" not in str(caught.value)
    refused(write(tmp_path, pod(metadata__labels={"a\nb": "v"})), r"metadata.labels.a\nb")


def test_unknown_fields_warn_once_per_kind_and_path_then_count(tmp_path: Path) -> None:
    pods = []
    for i in range(1000):
        document = pod(metadata__name=f"web-{i}")
        document["spec"]["containerz"] = []
        if i < 2:
            document["spec"]["extra"] = 1
        pods.append(document)
    deployment = controller("Deployment", "d", {"replicaz": 1})
    path = write(tmp_path, *pods, deployment, {**deployment, "metadata": {"name": "e"}})
    with pytest.warns(InputWarning) as caught:
        load_manifests(path)
    messages = [str(w.message) for w in caught]
    prefix = f"{path}: "
    assert messages == [
        prefix + "Pod shop/web-0: spec.containerz: unknown field",
        prefix + "Pod shop/web-0: spec.extra: unknown field",
        prefix + "Deployment shop/d: spec.replicaz: unknown field",
        prefix + "Pod shop/web-0: spec.containerz: unknown field, and in 999 more Pod objects",
        prefix + "Pod shop/web-0: spec.extra: unknown field, and in 1 more Pod object",
        prefix + "Deployment shop/d: spec.replicaz: unknown field, and in 1 more Deployment "
        "object",
    ]
    refused(path, "Pod shop/web-0", "spec.containerz", "strict", strict=True)


def test_unknown_field_counts_are_per_load(tmp_path: Path) -> None:
    path = write(tmp_path, pod(spec__containerz=[]))
    for _ in range(2):
        with pytest.warns(InputWarning) as caught:
            load_manifests(path)
        assert len(caught) == 1


# --- a Deployment's pods without their ReplicaSet (kubectl get deploy,pods) ----------------------


def replica_set_pod(name: str, replica_set: str, labels: dict | None = None,
                    namespace: str = "shop") -> dict[str, Any]:
    document = pod(metadata__name=name, metadata__namespace=namespace,
                   metadata__labels=labels or {"app": "web", "pod-template-hash": "7d9"},
                   spec__nodeSelector=None, spec__tolerations=None)
    document["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": replica_set,
         "controller": True, "uid": "u"}]
    return document


def test_deployment_counts_pods_of_its_absent_replica_set(tmp_path: Path) -> None:
    deployment = controller("Deployment", "web", {"replicas": 2})
    pods = [replica_set_pod(f"web-7d9-{s}", "web-7d9") for s in ("abcde", "fghij")]
    workload = load_manifests(write(tmp_path, deployment, *pods))
    assert [p.name for p in workload.pods] == ["web-7d9-abcde", "web-7d9-fghij"]
    deployment["spec"]["replicas"] = 3  # one missing: the Deployment makes it
    workload = load_manifests(write(tmp_path, deployment, *pods))
    assert [(p.name, p.owner.kind) for p in workload.pods if p.owner] == [
        ("web-0", "Deployment"), ("web-7d9-abcde", "ReplicaSet"),
        ("web-7d9-fghij", "ReplicaSet")]


def test_deployment_picks_its_replica_sets_by_name_prefix(tmp_path: Path) -> None:
    web = controller("Deployment", "web", {"replicas": 1})
    web_api = controller("Deployment", "web-api", {"replicas": 1})
    path = write(tmp_path, web, web_api, replica_set_pod("a", "web-api-5f6c8"))
    assert sorted(p.name for p in load_manifests(path).pods) == ["a", "web-0"]


@pytest.mark.parametrize("owned", [
    {"replica_set": "other-7d9"},  # another name
    {"replica_set": "web"},  # no hash
    {"replica_set": "web-7D9"},  # not a hash
    {"replica_set": "web-7d9", "labels": {"app": "db"}},  # the selector does not match
    {"replica_set": "web-7d9", "namespace": "other"},  # another namespace
])
def test_other_pods_of_absent_replica_sets_stay_bare(tmp_path: Path, owned: dict) -> None:
    deployment = controller("Deployment", "web", {"replicas": 1})
    path = write(tmp_path, deployment, replica_set_pod("a", **owned))
    assert sorted(p.name for p in load_manifests(path).pods) == ["a", "web-0"]


def test_a_replica_set_in_the_input_keeps_its_pods(tmp_path: Path) -> None:
    deployment = controller("Deployment", "web", {"replicas": 2})
    replica_set = controller("ReplicaSet", "web-7d9", {"replicas": 2})
    replica_set["metadata"]["ownerReferences"] = [{"kind": "Deployment", "name": "web"}]
    path = write(tmp_path, deployment, replica_set, replica_set_pod("a", "web-7d9"))
    assert sorted(p.name for p in load_manifests(path).pods) == ["a", "web-7d9-0"]


# --- memory of the pods controllers create ---------------------------------------------------


def daemon_sets_over_nodes(tmp_path: Path, n_nodes: int, n_daemon_sets: int) -> Path:
    nodes = [{**NODE, "metadata": {"name": f"n{i}"}, "spec": {}} for i in range(n_nodes)]
    daemon_sets = []
    for j in range(n_daemon_sets):
        daemon_set = controller("DaemonSet", f"d{j}", {})
        daemon_set["spec"]["template"]["metadata"]["labels"] = {"app": f"d{j}"}
        daemon_sets.append(daemon_set)
    return write(tmp_path, {"apiVersion": "v1", "kind": "List", "items": nodes + daemon_sets},
                 name="in.json")


def test_daemon_pods_share_their_template_fields_and_pins(tmp_path: Path) -> None:
    workload = load_manifests(daemon_sets_over_nodes(tmp_path, 3, 2))
    assert len(workload.pods) == 6
    by_name = {p.name: p.template for p in workload.pods}
    assert by_name["d0-n0"].labels is by_name["d0-n1"].labels  # not copied per pod
    assert by_name["d0-n0"].tolerations is by_name["d0-n2"].tolerations
    assert by_name["d0-n1"].affinity is by_name["d1-n1"].affinity  # one pin per node
    assert by_name["d0-n1"].affinity != by_name["d0-n2"].affinity


def test_daemon_pods_cost_little_memory_each(tmp_path: Path) -> None:
    import gc
    import tracemalloc

    def retained(n_nodes: int) -> tuple[int, int]:
        """Pods, and bytes the workload of 100 DaemonSets over ``n_nodes`` nodes holds."""
        path = daemon_sets_over_nodes(tmp_path, n_nodes, 100)
        gc.collect()
        tracemalloc.start()
        try:
            workload = load_manifests(path)
            gc.collect()
            held, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return len(workload.pods), held

    few, few_bytes = retained(10)
    many, many_bytes = retained(110)
    per_pod = (many_bytes - few_bytes) / (many - few)
    assert per_pod < 600, per_pod  # a template replaced for each pod took 1,470


def test_max_pods_replicas_of_a_deployment_load(tmp_path: Path) -> None:
    """The cap the README states (its memory was measured there) loads; one more does not."""
    assert MAX_PODS == 400_000
    path = write(tmp_path, controller("Deployment", "web", {"replicas": MAX_PODS}))
    assert len(load_manifests(path).pods) == MAX_PODS
    path = write(tmp_path, controller("Deployment", "web", {"replicas": MAX_PODS + 1}))
    refused(path, "Deployment shop/web", "spec.replicas", "400,000")
