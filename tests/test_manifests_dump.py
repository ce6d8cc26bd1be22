"""schedlab.traces.manifests on ``kubectl get -o yaml`` dumps: pod phases, and controllers that
count the pods the dump already holds instead of creating their replicas again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import schedlab
from schedlab.errors import InputError
from schedlab.objects import OwnerRef, Workload
from schedlab.traces import dump_manifests, load_manifests

UID = "4f9d2c1e-8b7a-4c3d-9e2f-{:012d}"


def uid(name: str) -> str:
    """A stable, realistic uid for the object ``name``."""
    return UID.format(sum(ord(c) * 31**i for i, c in enumerate(name)) % 10**12)


def metadata(name: str, owner: tuple[str, str, str] | None = None, **extra: Any) -> dict:
    """``metadata`` as kubectl prints it: namespace, uid, resourceVersion, creationTimestamp
    and, for an owned object, one ownerReferences entry (apiVersion, kind, name, uid,
    controller, blockOwnerDeletion)."""
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "shop",
        "uid": uid(name),
        "resourceVersion": "48213",
        "creationTimestamp": "2024-05-02T09:14:07Z",
        **extra,
    }
    if owner is not None:
        api_version, kind, owner_name = owner
        meta["ownerReferences"] = [{
            "apiVersion": api_version, "kind": kind, "name": owner_name, "uid": uid(owner_name),
            "controller": True, "blockOwnerDeletion": True,
        }]
    return meta


def pod_spec(cpu: str, node_name: str | None = None) -> dict:
    spec: dict[str, Any] = {
        "containers": [{
            "name": "app",
            "image": "registry.example.com/app:1.4.2",
            "imagePullPolicy": "IfNotPresent",
            "resources": {"requests": {"cpu": cpu, "memory": "256Mi"}},
            "terminationMessagePath": "/dev/termination-log",
        }],
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "serviceAccountName": "default",
        "terminationGracePeriodSeconds": 30,
    }
    if node_name is not None:
        spec["nodeName"] = node_name
    return spec


def pod(
    name: str,
    phase: str | None,
    cpu: str = "1",
    node_name: str | None = None,
    owner: tuple[str, str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> dict:
    """A Pod as ``kubectl get pod -o yaml`` prints it (status with the given phase; None:
    no status, as in a hand-written manifest)."""
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata(name, owner, labels=labels or {"app": "web"}),
        "spec": pod_spec(cpu, node_name),
    }
    if phase is not None:
        status: dict[str, Any] = {"phase": phase, "qosClass": "Burstable"}
        if node_name is not None:
            status.update(hostIP="10.0.1.17", podIP="10.244.1.23",
                          startTime="2024-05-02T09:14:09Z")
        if phase == "Failed":
            status.update(reason="Evicted", message="The node was low on resource: memory.")
        manifest["status"] = status
    return manifest


def node(name: str, cpu: str = "4") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": uid(name),
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"},
        },
        "spec": {"podCIDR": "10.244.1.0/24"},
        "status": {
            "capacity": {"cpu": cpu, "memory": "16Gi", "pods": "110"},
            "allocatable": {"cpu": cpu, "memory": "15Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def template(cpu: str = "1", labels: dict[str, str] | None = None) -> dict:
    return {"metadata": {"labels": labels or {"app": "web"}}, "spec": pod_spec(cpu)}


def deployment(name: str, replicas: int) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name, generation=2),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": template(),
        },
        "status": {"replicas": replicas, "readyReplicas": replicas,
                   "availableReplicas": replicas, "observedGeneration": 2},
    }


def replica_set(name: str, replicas: int, deployment_name: str | None = None) -> dict:
    labels = {"app": "web", "pod-template-hash": name.rsplit("-", 1)[-1]}
    owner = None if deployment_name is None else ("apps/v1", "Deployment", deployment_name)
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": metadata(name, owner, labels=labels,
                             annotations={"deployment.kubernetes.io/revision": "1"}),
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": template(labels=labels)},
        "status": {"replicas": replicas, "readyReplicas": replicas, "fullyLabeledReplicas": 3},
    }


def listing(*items: dict) -> dict:
    return {"apiVersion": "v1", "kind": "List", "items": list(items),
            "metadata": {"resourceVersion": ""}}


def load(tmp_path: Path, *documents: dict) -> Workload:
    path = tmp_path / "dump.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return load_manifests(path)


def keys(workload: Workload) -> list[str]:
    return [p.key for p in workload.pods]


# --- pod phases ------------------------------------------------------------------------------

ISSUE_DUMP = """\
apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- apiVersion: v1
  kind: Node
  metadata:
    name: node-a
    labels: {kubernetes.io/hostname: node-a}
  status:
    allocatable: {cpu: "4", memory: 16Gi, pods: "110"}
- apiVersion: v1
  kind: Pod
  metadata:
    name: report-28573140-x7k2p
    namespace: default
    uid: 0b6e7d3a-1c2f-4e5d-8a9b-7c6d5e4f3a2b
    labels: {batch.kubernetes.io/job-name: report-28573140, job-name: report-28573140}
    ownerReferences:
    - apiVersion: batch/v1
      kind: Job
      name: report-28573140
      uid: 5e1a9c3b-7d2f-4b6e-9a8c-1d3e5f7a9b2c
      controller: true
      blockOwnerDeletion: true
  spec:
    nodeName: node-a
    restartPolicy: Never
    containers:
    - name: report
      image: busybox:1.36
      resources: {requests: {cpu: "3"}}
  status:
    phase: {phase}
    hostIP: 10.0.1.17
    containerStatuses:
    - name: report
      ready: false
      restartCount: 0
      state: {terminated: {exitCode: 0, reason: Completed}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web
    namespace: default
    uid: 9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4
  spec:
    schedulerName: default-scheduler
    containers:
    - name: web
      image: nginx:1.25
      resources: {requests: {cpu: "2"}}
  status:
    phase: Pending
    qosClass: Burstable
"""


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_terminal_pod_holds_nothing(tmp_path: Path, phase: str) -> None:
    """The issue: a finished Job pod of 3 cpu on a 4-cpu node does not keep a 2-cpu pod out."""
    path = tmp_path / "dump.yaml"
    path.write_text(ISSUE_DUMP.replace("{phase}", phase))
    workload = load_manifests(path)
    assert keys(workload) == ["default/web"]
    result = schedlab.simulate(workload, schedlab.Greedy(), seed=0)
    assert result.assignment() == {"default/web": "node-a"}
    assert result.summary["placed"] == 1


@pytest.mark.parametrize("phase", ["Running", "Pending", "Unknown", None])
def test_live_bound_pods_count_and_terminal_ones_do_not(tmp_path: Path, phase: str) -> None:
    workload = load(tmp_path, listing(
        node("node-a"),
        pod("live", phase, cpu="2", node_name="node-a"),
        pod("evicted", "Failed", cpu="2", node_name="node-a"),
        pod("fits", "Pending", cpu="2"),
        pod("no-room", "Pending", cpu="1"),
    ))
    assert keys(workload) == ["shop/live", "shop/fits", "shop/no-room"]
    assert [p.key for p in workload.bound_pods] == ["shop/live"]
    bindings = schedlab.simulate(workload, schedlab.Greedy(), seed=0).bindings
    placed = dict(zip(bindings["pod"], bindings["node"], strict=True))
    assert placed == {"shop/fits": "node-a", "shop/no-room": None}
    reason = bindings.set_index("pod").loc["shop/no-room", "reason"]
    assert "Insufficient cpu" in reason


def test_terminal_pod_on_a_node_not_in_the_input_is_accepted(tmp_path: Path) -> None:
    """A finished pod binds nothing, so its node (perhaps scaled away) need not be listed."""
    workload = load(tmp_path, listing(node("node-a"), pod("done", "Succeeded", node_name="gone")))
    assert workload.pods == ()


def assert_one_line(error: InputError, *parts: str) -> None:
    message = str(error)
    assert "\n" not in message
    for part in parts:
        assert part in message, message


@pytest.mark.parametrize("phase", ["Completed", "running", "", 3])
def test_unknown_phase_is_an_error(tmp_path: Path, phase: object) -> None:
    with pytest.raises(InputError) as caught:
        load(tmp_path, listing(node("node-a"), pod("web", phase, node_name="node-a")))
    assert_one_line(
        caught.value,
        "dump.yaml: Pod shop/web: status.phase: ",
        f"got {phase!r}, expected one of Pending, Running, Succeeded, Failed, Unknown",
    )


def test_terminal_pods_are_still_checked(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load(tmp_path, listing(pod("done", "Succeeded", cpu="12Q")))
    assert_one_line(caught.value, "Pod shop/done: spec.containers[0].resources.requests.cpu: "
                                  "got '12Q'")
    with pytest.raises(InputError) as caught:
        load(tmp_path, listing(pod("web", "Running"), pod("web", "Failed")))
    assert_one_line(caught.value, "metadata.name: got 'shop/web', expected a namespace/name no "
                                  "other pod has")


# --- controllers count their pods ------------------------------------------------------------

RS = "web-7c5ddbdf54"
RS_OWNER = ("apps/v1", "ReplicaSet", RS)


def rs_pods(*suffixes: str, phase: str = "Running") -> list[dict]:
    nodes = ["node-a", "node-b", "node-c"]
    return [
        pod(f"{RS}-{suffix}", phase, node_name=nodes[i % 3], owner=RS_OWNER,
            labels={"app": "web", "pod-template-hash": "7c5ddbdf54"})
        for i, suffix in enumerate(suffixes)
    ]


def cluster() -> list[dict]:
    return [node("node-a"), node("node-b"), node("node-c")]


def test_deployment_replicaset_and_their_pods_are_not_expanded_again(tmp_path: Path) -> None:
    """``kubectl get deploy,rs,pods -o yaml``: the three pods are all there is."""
    workload = load(tmp_path, listing(*cluster()), listing(
        deployment("web", 3), replica_set(RS, 3, "web"), *rs_pods("2xk9q", "8fjtw", "qz5lm")
    ))
    assert keys(workload) == [f"shop/{RS}-2xk9q", f"shop/{RS}-8fjtw", f"shop/{RS}-qz5lm"]
    assert workload.pending_pods == ()
    assert all(p.owner == OwnerRef("ReplicaSet", RS) for p in workload.pods)


def test_replicaset_creates_only_its_missing_pod(tmp_path: Path) -> None:
    workload = load(tmp_path, listing(
        *cluster(), deployment("web", 3), replica_set(RS, 3, "web"), *rs_pods("2xk9q", "8fjtw")
    ))
    (new,) = workload.pending_pods
    assert (new.key, new.owner) == (f"shop/{RS}-0", OwnerRef("ReplicaSet", RS))
    assert new.template.labels == {"app": "web", "pod-template-hash": "7c5ddbdf54"}
    # the new pod takes the ReplicaSet's place in input order
    assert keys(workload) == [f"shop/{RS}-0", f"shop/{RS}-2xk9q", f"shop/{RS}-8fjtw"]


def test_failed_pod_of_a_replicaset_is_replaced(tmp_path: Path) -> None:
    workload = load(tmp_path, listing(
        *cluster(), replica_set(RS, 3, "web"), *rs_pods("2xk9q", "8fjtw"),
        *rs_pods("qz5lm", phase="Failed"),
    ))
    assert keys(workload) == [f"shop/{RS}-0", f"shop/{RS}-2xk9q", f"shop/{RS}-8fjtw"]
    assert [p.key for p in workload.pending_pods] == [f"shop/{RS}-0"]


def test_pods_listed_before_their_controllers(tmp_path: Path) -> None:
    (tmp_path / "a-pods.yaml").write_text(yaml.safe_dump(listing(*rs_pods("2xk9q", "8fjtw"))))
    (tmp_path / "b-apps.yaml").write_text(yaml.safe_dump(listing(
        *cluster(), replica_set(RS, 3, "web"), deployment("web", 3)
    )))
    workload = load_manifests(tmp_path)
    assert keys(workload) == [f"shop/{RS}-2xk9q", f"shop/{RS}-8fjtw", f"shop/{RS}-0"]


def test_rollout_replicasets_each_reconcile_and_the_deployment_creates_none(
    tmp_path: Path,
) -> None:
    new_rs, old_rs = f"{RS}", "web-5f8b9c7d6"
    old_pod = pod(f"{old_rs}-h4k2j", "Running", node_name="node-a",
                  owner=("apps/v1", "ReplicaSet", old_rs))
    workload = load(tmp_path, listing(
        *cluster(), deployment("web", 3), replica_set(new_rs, 2, "web"),
        replica_set(old_rs, 1, "web"), *rs_pods("2xk9q"), old_pod,
    ))
    assert keys(workload) == [f"shop/{RS}-0", f"shop/{RS}-2xk9q", f"shop/{old_rs}-h4k2j"]


def test_deployment_without_replicasets_counts_the_pods_it_owns(tmp_path: Path) -> None:
    owner = ("apps/v1", "Deployment", "web")
    workload = load(tmp_path, listing(
        *cluster(), deployment("web", 3), pod("web-0", "Running", node_name="node-a", owner=owner),
        pod("web-2", "Pending", owner=owner), pod("web-1", "Failed", owner=owner),
    ))
    # web-1 is taken by the Failed pod, so the missing replica is web-3
    assert keys(workload) == ["shop/web-3", "shop/web-0", "shop/web-2"]
    assert all(p.owner == OwnerRef("Deployment", "web") for p in workload.pods)


def test_created_pods_skip_names_the_input_takes(tmp_path: Path) -> None:
    workload = load(tmp_path, listing(pod("web-0", "Running"), deployment("web", 2)))
    assert keys(workload) == ["shop/web-0", "shop/web-1", "shop/web-2"]
    assert workload.pods[0].owner is None


def test_controller_owner_reference_wins_over_the_first(tmp_path: Path) -> None:
    owned = pod(f"{RS}-2xk9q", "Running", node_name="node-a", owner=RS_OWNER)
    owned["metadata"]["ownerReferences"].insert(0, {
        "apiVersion": "example.com/v1", "kind": "Canary", "name": "web", "uid": uid("canary"),
    })
    workload = load(tmp_path, listing(*cluster(), owned, replica_set(RS, 1, "web")))
    (only,) = workload.pods
    assert only.owner == OwnerRef("ReplicaSet", RS)


def test_dumped_workload_with_a_deployment_round_trips(tmp_path: Path) -> None:
    """``dump_manifests`` writes the Deployment's pods as Pods owned by it: they are kept."""
    workload = load(tmp_path, listing(*cluster(), deployment("web", 3)))
    (tmp_path / "again.yaml").write_text(dump_manifests(workload))
    assert load_manifests(tmp_path / "again.yaml") == workload
    assert keys(workload) == ["shop/web-0", "shop/web-1", "shop/web-2"]


def stateful_set(name: str, replicas: int) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": metadata(name),
        "spec": {"replicas": replicas, "serviceName": name,
                 "selector": {"matchLabels": {"app": name}},
                 "template": template(labels={"app": name})},
        "status": {"replicas": replicas - 1, "currentRevision": f"{name}-6d4b8c9f7"},
    }


def test_statefulset_creates_only_missing_ordinals(tmp_path: Path) -> None:
    owner = ("apps/v1", "StatefulSet", "db")
    workload = load(tmp_path, listing(
        *cluster(), stateful_set("db", 3),
        pod("db-0", "Running", node_name="node-a", owner=owner, labels={"app": "db"}),
        pod("db-2", "Running", node_name="node-b", owner=owner, labels={"app": "db"}),
    ))
    assert keys(workload) == ["shop/db-1", "shop/db-0", "shop/db-2"]
    assert [p.key for p in workload.pending_pods] == ["shop/db-1"]
    assert workload.pods[0].owner == OwnerRef("StatefulSet", "db")


def test_statefulset_recreates_a_failed_ordinal_under_its_name(tmp_path: Path) -> None:
    owner = ("apps/v1", "StatefulSet", "db")
    workload = load(tmp_path, listing(
        *cluster(),
        pod("db-0", "Running", node_name="node-a", owner=owner, labels={"app": "db"}),
        pod("db-1", "Failed", node_name="node-b", owner=owner, labels={"app": "db"}),
        stateful_set("db", 2),
    ))
    assert keys(workload) == ["shop/db-0", "shop/db-1"]
    assert workload.pods[1].template.node_name is None


def daemon_set(name: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": metadata(name),
        "spec": {"selector": {"matchLabels": {"app": name}},
                 "template": template("100m", labels={"app": name})},
        "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 1},
    }


def test_daemonset_creates_pods_only_for_nodes_it_does_not_serve(tmp_path: Path) -> None:
    owner = ("apps/v1", "DaemonSet", "agent")
    workload = load(tmp_path, listing(
        node("node-a"), node("node-b"), daemon_set("agent"),
        pod("agent-x8d2k", "Running", "100m", node_name="node-a", owner=owner,
            labels={"app": "agent"}),
    ))
    assert keys(workload) == ["shop/agent-node-b", "shop/agent-x8d2k"]
    assert workload.pods[0].owner == OwnerRef("DaemonSet", "agent")


def test_daemonset_counts_its_pending_pod_pinned_to_a_node(tmp_path: Path) -> None:
    owner = ("apps/v1", "DaemonSet", "agent")
    pinned = pod("agent-p2m7c", "Pending", "100m", owner=owner, labels={"app": "agent"})
    pin = {"key": "metadata.name", "operator": "In", "values": ["node-b"]}
    required = {"nodeSelectorTerms": [{"matchFields": [pin]}]}
    pinned["spec"]["affinity"] = {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}
    }
    evicted = pod("agent-q9w3e", "Failed", "100m", node_name="node-a", owner=owner,
                  labels={"app": "agent"})
    workload = load(tmp_path, listing(
        node("node-a"), node("node-b"), pinned, evicted, daemon_set("agent")
    ))
    assert keys(workload) == ["shop/agent-p2m7c", "shop/agent-node-a"]


def job(name: str, parallelism: int, completions: int | None, succeeded: int | None) -> dict:
    spec: dict[str, Any] = {"parallelism": parallelism, "backoffLimit": 6,
                            "template": template(labels={"job-name": name})}
    spec["template"]["spec"]["restartPolicy"] = "Never"
    if completions is not None:
        spec["completions"] = completions
    status: dict[str, Any] = {"startTime": "2024-05-02T09:14:07Z", "active": 1}
    if succeeded is not None:
        status["succeeded"] = succeeded
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata(name),
            "spec": spec, "status": status}


def job_pods(name: str, *phases: str) -> list[dict]:
    owner = ("batch/v1", "Job", name)
    return [
        pod(f"{name}-{suffix}", phase, node_name="node-a" if phase != "Pending" else None,
            owner=owner, labels={"job-name": name})
        for suffix, phase in zip(["b7x2k", "c4m9p", "d8q3r", "f2n6t", "g5w1z"], phases,
                                 strict=False)
    ]


@pytest.mark.parametrize(
    ("parallelism", "completions", "status_succeeded", "phases", "created"),
    [
        # 3 of 5 completions done, 1 running: 2 wanted, 1 more
        (2, 5, None, ("Succeeded", "Succeeded", "Succeeded", "Running"), 1),
        # status.succeeded counts completions whose pods are gone: 4 of 5 done, 1 running
        (3, 5, 4, ("Running",), 0),
        (3, 5, 3, ("Running",), 1),
        # status.succeeded below the pods seen: the pods win
        (3, 4, 1, ("Succeeded", "Succeeded", "Succeeded"), 1),
        # all completions done: nothing
        (2, 2, 2, (), 0),
        # failed pods are replaced
        (2, 3, None, ("Failed", "Failed", "Running"), 1),
        # a work queue (no completions): parallelism until a pod succeeded, then none
        (3, None, None, ("Running",), 2),
        (3, None, None, ("Succeeded", "Running"), 0),
        (3, None, 1, ("Running",), 0),
    ],
)
def test_job_creates_the_pods_it_still_wants(
    tmp_path: Path,
    parallelism: int,
    completions: int | None,
    status_succeeded: int | None,
    phases: tuple[str, ...],
    created: int,
) -> None:
    workload = load(tmp_path, listing(
        node("node-a", cpu="64"), job("etl", parallelism, completions, status_succeeded),
        *job_pods("etl", *phases),
    ))
    new = [p for p in workload.pods if p.name.startswith("etl-") and p.name[4:].isdigit()]
    assert [p.name for p in new] == [f"etl-{i}" for i in range(created)]
    assert all(p.owner == OwnerRef("Job", "etl") for p in new)
    assert len(workload.pods) == created + phases.count("Running")


@pytest.mark.parametrize("succeeded", [-1, "3", 2**31, True])
def test_job_status_succeeded_must_be_an_int32_count(tmp_path: Path, succeeded: object) -> None:
    manifest = job("etl", 1, 1, None)
    manifest["status"]["succeeded"] = succeeded
    with pytest.raises(InputError) as caught:
        load(tmp_path, manifest)
    assert_one_line(caught.value, "Job shop/etl: status.succeeded: ",
                    f"got {succeeded!r}, expected an integer in 0..2147483647")
