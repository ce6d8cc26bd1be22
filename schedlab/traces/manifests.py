"""Kubernetes manifests in and out: Nodes, Pods, the workload controllers, Services and
Namespaces, as YAML or JSON.

``load_manifests`` reads files and directories into a ``Workload``, expanding Deployments,
ReplicaSets, StatefulSets, DaemonSets and Jobs into the pods they would create;
``dump_manifests`` writes a ``Workload`` back as plain v1 Nodes and Pods (plus its
Namespaces, Services and controller selectors). Amounts are in schedlab's units (see
``schedlab.objects``): cpu in millicores, memory and storage in bytes, anything else a count.

Besides nodes and pods, a workload carries the API objects scheduling reads
(``Workload.objects``): the Namespaces declared (name and labels, for pod affinity
``namespaceSelector``), the Services (their ``spec.selector``; absent means the Service selects
no pod) and the ``spec.selector`` of each Deployment, ReplicaSet and StatefulSet (for
PodTopologySpread's default constraints). apps/v1 requires that selector, but many manifests
omit it: an absent selector defaults to ``matchLabels`` equal to the pod template's labels
(as the old extensions/v1beta1 API defaulted it). A given selector must be non-empty and
match the template's labels, as the API server requires. The selectors of Jobs and
DaemonSets are not read.

A Pod's ``status.phase`` says whether it holds resources: absent, Pending, Running or Unknown,
it is live (bound with ``spec.nodeName``, else pending); Succeeded or Failed, it is terminal
and left out of the workload, as kube-scheduler's pod informer leaves it out (it is still
checked, and its namespace/name still taken). A controller counts the live pods whose
``ownerReferences`` name it (the entry with ``controller: true``, else the first) and
creates only the missing ones (see ``schedlab.traces.controllers``); a Deployment whose
ReplicaSets are in the input creates none itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

import yaml

from schedlab import quantity, resources
from schedlab.errors import InputError
from schedlab.fields import (
    INT32_MAX,
    Field,
    label_selector,
    node_affinity,
    pod_affinity,
    topology_spread_constraints,
)
from schedlab.matching import label_selector_matches
from schedlab.objects import (
    GPU_COUNT_KEY,
    GPU_MILLI_KEY,
    GPU_MODEL_KEY,
    MILLI_PER_GPU,
    TAINT_EFFECTS,
    ApiObjects,
    Container,
    GpuRequest,
    LabelSelector,
    LabelSelectorRequirement,
    Node,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    OwnerRef,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodTemplate,
    Service,
    Taint,
    Toleration,
    TopologySpreadConstraint,
    Workload,
)
from schedlab.traces import controllers

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

MANIFEST_SUFFIXES: tuple[str, ...] = (".yaml", ".yml", ".json")
SUPPORTED_KINDS: Mapping[str, str] = {
    "Namespace": "v1",
    "Node": "v1",
    "Service": "v1",
    "Pod": "v1",
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "List": "v1",
}
"""The kinds ``load_manifests`` reads, each with the apiVersion it must carry."""
SELECTOR_KINDS: tuple[str, ...] = ("Deployment", "ReplicaSet", "StatefulSet")
"""The controllers whose ``spec.selector`` a workload keeps (``ApiObjects.controllers``)."""
POD_PHASES: tuple[str, ...] = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
"""The values of a Pod's ``status.phase``."""
TERMINAL_PHASES: tuple[str, ...] = ("Succeeded", "Failed")
"""Phases of pods that hold nothing: kube-scheduler and the controllers ignore them."""

_OBJECT = "a Kubernetes object (a mapping with apiVersion and kind)"


def load_manifests(*paths: str | os.PathLike[str]) -> Workload:
    """Read Nodes, Pods, workload controllers, Services and Namespaces from YAML/JSON files
    and directories.

    Each path is a ``.yaml``, ``.yml`` or ``.json`` file (YAML may hold several documents, any
    document may be a ``kind: List``) or a directory whose files with those suffixes are read
    in name order (not recursively). Objects keep input order; Succeeded and Failed pods are
    left out; controllers become the pods they lack (their live pods of the whole input
    count), DaemonSets one pod per eligible Node of the whole input. Equal pod templates are one
    shared object. Services, Namespaces and controller selectors go to ``Workload.objects``
    (see the module docstring). Raises ``InputError`` naming the file, object, field and value
    on bad input.
    """
    reader = _Reader()
    for path in paths:
        reader.read_path(os.fspath(path))
    return reader.workload()


def dump_manifests(workload: Workload) -> str:
    """The workload as multi-document YAML: its Namespaces (by name), Nodes, Services,
    controllers (by kind, namespace and name) and Pods, as plain Kubernetes objects.

    Amounts are written as Kubernetes quantities ("250m" cpu, "2Gi" memory) and owners as
    ``metadata.ownerReferences``; fields equal to their Kubernetes default are left out. Each
    ``objects.controllers`` entry becomes a controller of that kind with ``replicas: 0``, its
    selector and a template whose labels the selector matches (its matchLabels, plus a label
    for each expression that needs one), since its pods are written as Pods. So
    ``load_manifests`` of the text gives an equal workload, and the same workload always gives
    the same text. Raises ``InputError`` for a controller entry that cannot be written back
    (a kind other than ``SELECTOR_KINDS``, or a selector no labels satisfy).
    """
    objects = workload.objects
    documents = [_namespace_manifest(n, objects.namespaces[n]) for n in sorted(objects.namespaces)]
    documents += [_node_manifest(n) for n in workload.nodes]
    documents += [_service_manifest(s) for s in objects.services]
    documents += [
        _controller_manifest(key, objects.controllers[key]) for key in sorted(objects.controllers)
    ]
    documents += [_pod_manifest(p) for p in workload.pods]
    return yaml.dump_all(documents, Dumper=_YAML_DUMPER, sort_keys=False)


# --- reading ---------------------------------------------------------------------------------


class _Origin(NamedTuple):
    """The object pods came from: ``where`` for messages, the path of their pod spec."""

    where: str
    spec_path: str


class _Listed(NamedTuple):
    """A Pod of the input and its ``status.phase`` ("" when absent)."""

    pod: Pod
    phase: str

    @property
    def live(self) -> bool:
        return self.phase not in TERMINAL_PHASES


class _Controller(NamedTuple):
    """A controller waiting for the pods and nodes of the whole input. ``count`` is a
    Deployment's, ReplicaSet's or StatefulSet's replicas, a Job's parallelism (unused for a
    DaemonSet); ``owner`` a ReplicaSet's owner (its Deployment)."""

    kind: str
    name: str
    template: PodTemplate
    count: int = 0
    completions: int | None = None
    succeeded: int = 0
    owner: OwnerRef | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.kind, self.template.namespace, self.name


class _Reader:
    """Collects objects across files; pods are checked and controllers expanded at the end
    (when all their pods and all nodes are read)."""

    def __init__(self) -> None:
        self._nodes: list[Node] = []
        self._node_where: dict[str, str] = {}
        self._pod_groups: list[tuple[_Origin, _Listed | _Controller]] = []
        self._templates: dict[PodTemplate, PodTemplate] = {}
        self._namespaces: dict[str, dict[str, str]] = {}
        self._namespace_where: dict[str, str] = {}
        self._services: list[Service] = []
        self._service_where: dict[tuple[str, str], str] = {}
        self._controllers: dict[tuple[str, str, str], LabelSelector] = {}
        self._controller_where: dict[tuple[str, str, str], str] = {}

    def intern(self, template: PodTemplate) -> PodTemplate:
        return self._templates.setdefault(template, template)

    def read_path(self, path: str) -> None:
        if os.path.isdir(path):
            for entry in sorted(os.listdir(path)):
                file = os.path.join(path, entry)
                if entry.lower().endswith(MANIFEST_SUFFIXES) and os.path.isfile(file):
                    self.read_file(file)
        elif os.path.isfile(path) and path.lower().endswith(MANIFEST_SUFFIXES):
            self.read_file(path)
        else:
            raise InputError(
                path, "path", path, "an existing .yaml, .yml or .json file, or a directory"
            )

    def read_file(self, file: str) -> None:
        for number, document in enumerate(_documents(file), start=1):
            if document is None:
                continue
            if not isinstance(document, dict):
                raise Field(document, file, f"document {number}").error(_OBJECT)
            self.read_object(Field(document, f"{file}: document {number}"), file)

    def read_object(self, obj: Field, file: str) -> None:
        if not isinstance(obj.value, dict):
            raise obj.error(_OBJECT)
        kind = obj["kind"].choice(tuple(SUPPORTED_KINDS))
        if obj["apiVersion"].value != SUPPORTED_KINDS[kind]:
            raise obj["apiVersion"].error(f"{SUPPORTED_KINDS[kind]} (the apiVersion of {kind})")
        if kind == "List":
            for item in obj["items"].elements():
                self.read_object(item, file)
            return
        metadata = obj["metadata"]
        name = metadata["name"].name()
        if kind == "Node":
            self.add_node(Field(obj.value, f"{file}: Node {name}"), name, file)
            return
        if kind == "Namespace":
            self.add_namespace(Field(obj.value, f"{file}: Namespace {name}"), name, file)
            return
        namespace = metadata["namespace"].string("") or "default"
        obj = Field(obj.value, f"{file}: {kind} {namespace}/{name}")
        if kind == "Pod":
            self.add_pod(obj, name, namespace)
        elif kind == "Service":
            self.add_service(obj, name, namespace, file)
        else:
            self.add_controller(obj, kind, name, namespace, file)

    def add_pod(self, obj: Field, name: str, namespace: str) -> None:
        metadata = obj["metadata"]
        template = self.intern(_pod_template(obj["spec"], namespace, metadata))
        pod = Pod(name, template, _owner(metadata["ownerReferences"]))
        phase = obj["status"]["phase"].choice(POD_PHASES, default="")
        self._pod_groups.append((_Origin(obj.where, "spec"), _Listed(pod, phase)))

    def add_controller(self, obj: Field, kind: str, name: str, namespace: str, file: str) -> None:
        """A controller (its pods are made when all pods and nodes are read) and the selector
        of a Deployment, ReplicaSet or StatefulSet."""
        spec = obj["spec"]
        pod_template = spec["template"]
        template = self.intern(
            _pod_template(pod_template["spec"], namespace, pod_template["metadata"])
        )
        if kind in SELECTOR_KINDS:
            key = (kind, namespace, name)
            if key in self._controller_where:
                raise obj["metadata"]["name"].error(
                    f"a name no other {kind} in namespace {namespace} has "
                    f"(first seen in {self._controller_where[key]})"
                )
            self._controller_where[key] = file
            self._controllers[key] = _controller_selector(kind, spec, template)
        if kind == "DaemonSet":
            pending = _Controller(kind, name, template)
        elif kind == "Job":
            completions = spec["completions"]
            pending = _Controller(
                kind,
                name,
                template,
                count=spec["parallelism"].integer(default=1, minimum=0),
                completions=None if completions.value is None else completions.integer(minimum=0),
                succeeded=obj["status"]["succeeded"].integer(
                    default=0, minimum=0, maximum=INT32_MAX
                ),
            )
        else:
            owner = _owner(obj["metadata"]["ownerReferences"]) if kind == "ReplicaSet" else None
            replicas = spec["replicas"].integer(default=1, minimum=0)
            pending = _Controller(kind, name, template, count=replicas, owner=owner)
        self._pod_groups.append((_Origin(obj.where, "spec.template.spec"), pending))

    def add_namespace(self, obj: Field, name: str, file: str) -> None:
        if name in self._namespace_where:
            raise obj["metadata"]["name"].error(
                f"a name no other Namespace has (first seen in {self._namespace_where[name]})"
            )
        self._namespace_where[name] = file
        self._namespaces[name] = obj["metadata"]["labels"].strings()

    def add_service(self, obj: Field, name: str, namespace: str, file: str) -> None:
        key = (namespace, name)
        if key in self._service_where:
            raise obj["metadata"]["name"].error(
                f"a namespace/name no other Service has (first seen in {self._service_where[key]})",
                value=f"{namespace}/{name}",
            )
        self._service_where[key] = file
        selector = obj["spec"]["selector"]
        labels = None if selector.value is None else selector.label_map()
        self._services.append(Service(name, namespace, labels))

    def add_node(self, obj: Field, name: str, file: str) -> None:
        if name in self._node_where:
            raise obj["metadata"]["name"].error(
                f"a name no other Node has (first seen in {self._node_where[name]})"
            )
        self._node_where[name] = file
        status, spec = obj["status"], obj["spec"]
        allocatable = status["allocatable"]
        if allocatable.value is None:
            allocatable = status["capacity"]
        amounts = allocatable.quantities()
        amounts.setdefault(resources.PODS, resources.DEFAULT_ALLOWED_PODS)
        gpus = amounts.pop(GPU_COUNT_KEY, 0)
        if GPU_COUNT_KEY in (allocatable.value or {}) and not str(
                allocatable.value[GPU_COUNT_KEY]).isdigit():
            raise allocatable[GPU_COUNT_KEY].error("a whole number of GPUs")
        milli = amounts.pop(GPU_MILLI_KEY, gpus * MILLI_PER_GPU)
        if milli != gpus * MILLI_PER_GPU:
            raise allocatable[GPU_MILLI_KEY].error(f"{GPU_COUNT_KEY} × {MILLI_PER_GPU}")
        labels = obj["metadata"]["labels"].strings()
        self._nodes.append(
            Node(
                name=name,
                allocatable=amounts,
                labels=labels,
                taints=tuple(_taint(t) for t in spec["taints"].elements()),
                unschedulable=spec["unschedulable"].boolean(),
                gpus=gpus,
                gpu_model=labels.get(GPU_MODEL_KEY, "") if gpus else "",
            )
        )

    def workload(self) -> Workload:
        """The workload: the live pods of the input and the pods its controllers create, in
        input order (a controller's at its place)."""
        nodes = tuple(self._nodes)
        pod_where: dict[str, str] = {}
        terminal: set[str] = set()
        live: dict[tuple[str, str, str], list[Pod]] = {}
        succeeded: dict[tuple[str, str, str], int] = {}
        for origin, item in self._pod_groups:
            if not isinstance(item, _Listed):
                continue
            pod = item.pod
            self._check_new(pod, origin, pod_where)
            pod_where[pod.key] = origin.where
            owner = None if pod.owner is None else (pod.owner.kind, pod.namespace, pod.owner.name)
            if not item.live:
                terminal.add(pod.key)
                if owner is not None and item.phase == "Succeeded":
                    succeeded[owner] = succeeded.get(owner, 0) + 1
                continue
            self._check_node(pod, origin)
            if owner is not None:
                live.setdefault(owner, []).append(pod)
        names: dict[str, set[str]] = {}  # namespace: the names of its pods in the input
        live_names: dict[str, set[str]] = {}
        for key in pod_where:
            namespace, _, name = key.partition("/")
            names.setdefault(namespace, set()).add(name)
            if key not in terminal:
                live_names.setdefault(namespace, set()).add(name)
        split = {
            (c.owner.name, c.template.namespace)
            for _, c in self._pod_groups
            if isinstance(c, _Controller) and c.kind == "ReplicaSet" and c.owner is not None
            and c.owner.kind == "Deployment"
        }
        pods: list[Pod] = []
        for origin, item in self._pod_groups:
            if isinstance(item, _Listed):
                if item.live:
                    pods.append(item.pod)
                continue
            namespace = item.template.namespace
            owned = live.get(item.key, [])
            if item.kind == "DaemonSet":
                served = {controllers.target_node(p) for p in owned}
                created = controllers.daemon_set_pods(
                    item.name, item.template, nodes, self.intern, served
                )
            elif item.kind == "StatefulSet":
                created = controllers.stateful_set_pods(
                    item.name, item.template, item.count, live_names.get(namespace, set())
                )
            else:
                if item.kind == "Job":
                    done = max(succeeded.get(item.key, 0), item.succeeded)
                    wanted = controllers.job_pod_count(item.count, item.completions, done)
                elif item.kind == "Deployment" and (item.name, namespace) in split:
                    wanted = 0  # its ReplicaSets hold its pods
                else:
                    wanted = item.count
                created = controllers.replica_pods(
                    item.kind,
                    item.name,
                    item.template,
                    controllers.missing(wanted, len(owned)),
                    names.get(namespace, set()),
                )
            for pod in created:
                # a StatefulSet's pod replaces a terminal pod of its name, as kube's does
                if not (item.kind == "StatefulSet" and pod.key in terminal):
                    self._check_new(pod, origin, pod_where)
                terminal.discard(pod.key)
                self._check_node(pod, origin)
                pod_where[pod.key] = origin.where
                pods.append(pod)
        objects = ApiObjects(self._namespaces, tuple(self._services), self._controllers)
        return Workload(nodes, tuple(pods), objects)

    @staticmethod
    def _check_new(pod: Pod, origin: _Origin, pod_where: Mapping[str, str]) -> None:
        """An error when another pod has ``pod``'s namespace/name."""
        if pod.key in pod_where:
            raise InputError(
                origin.where,
                "metadata.name",
                pod.key,
                f"a namespace/name no other pod has (first seen in {pod_where[pod.key]})",
            )

    def _check_node(self, pod: Pod, origin: _Origin) -> None:
        """An error when a live pod's nodeName is not a Node of the input."""
        node_name = pod.template.node_name
        if node_name is not None and node_name not in self._node_where:
            raise InputError(
                origin.where,
                f"{origin.spec_path}.nodeName",
                node_name,
                "the name of a Node in the input",
            )


def _documents(file: str) -> list[Any]:
    """The parsed documents of one file (one for JSON)."""
    try:
        with open(file, encoding="utf-8") as stream:
            text = stream.read()
        if file.lower().endswith(".json"):
            return [json.loads(text)]
        return list(yaml.load_all(text, Loader=_YAML_LOADER))
    except json.JSONDecodeError as error:
        raise InputError(file, f"line {error.lineno}", error.msg, "valid JSON") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        field = "content" if mark is None else f"line {mark.line + 1}"
        raise InputError(file, field, " ".join(problem.split()), "valid YAML") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(file, "content", str(error), "a readable UTF-8 text file") from None


def _controller_selector(kind: str, spec: Field, template: PodTemplate) -> LabelSelector:
    """``spec.selector`` of a Deployment, ReplicaSet or StatefulSet: non-empty and matching the
    template's labels, as the API server requires; absent, ``matchLabels`` of those labels."""
    field = spec["selector"]
    selector = label_selector(field)
    if selector is None:
        return LabelSelector(template.labels)
    if selector.is_empty:
        raise field.error(f"a non-empty selector (an empty one is invalid for a {kind})")
    if not label_selector_matches(selector, template.labels):
        labels = spec["template"]["metadata"]["labels"]
        raise labels.error(
            "labels that spec.selector matches (the API server refuses a selector that does "
            "not match the template's labels)"
        )
    return selector


def _owner(references: Field) -> OwnerRef | None:
    """The owner of an object: the ownerReferences entry with ``controller: true``, else the
    first; None without entries."""
    elements = references.elements()
    if not elements:
        return None
    controller = [e for e in elements if e["controller"].boolean()]
    owner = (controller or elements)[0]
    return OwnerRef(owner["kind"].name(), owner["name"].name())


def _pod_template(spec: Field, namespace: str, metadata: Field) -> PodTemplate:
    return PodTemplate(
        namespace=namespace,
        labels=metadata["labels"].strings(),
        containers=tuple(_container(c, init=False) for c in spec["containers"].elements()),
        init_containers=tuple(_container(c, init=True) for c in spec["initContainers"].elements()),
        overhead=spec["overhead"].quantities(),
        node_selector=spec["nodeSelector"].strings(),
        affinity=node_affinity(spec["affinity"]["nodeAffinity"], min_preferred_weight=1),
        tolerations=tuple(_toleration(t) for t in spec["tolerations"].elements()),
        priority=spec["priority"].integer(default=0),
        node_name=spec["nodeName"].string("") or None,
        pod_affinity=pod_affinity(spec["affinity"]["podAffinity"], "PodAffinity"),
        pod_anti_affinity=pod_affinity(spec["affinity"]["podAntiAffinity"], "PodAntiAffinity"),
        topology_spread_constraints=topology_spread_constraints(
            spec["topologySpreadConstraints"]
        ),
        gpu=_gpu_request(metadata["annotations"]),
    )


def _gpu_request(annotations: Field) -> GpuRequest | None:
    """The GPU ask of the FGD simulator's pod annotations: ``alibabacloud.com/gpu-count``
    GPUs (default 1) of ``alibabacloud.com/gpu-milli`` milli each (default 1000), of a model
    in ``alibabacloud.com/gpu-card-model`` ("|"-separated; absent: any); None when neither
    the count nor the milli annotation is given."""
    count_field, milli_field = annotations[GPU_COUNT_KEY], annotations[GPU_MILLI_KEY]
    if count_field.value is None and milli_field.value is None:
        return None

    def number(field: Field, default: int, low: int, high: int) -> int:
        text = field.string(str(default))
        if not text.isdigit() or not low <= int(text) <= high:
            raise field.error(f"an integer {low}..{high} as a string")
        return int(text)

    count = number(count_field, 1, 1, 1024)
    milli = number(milli_field, MILLI_PER_GPU, 1, MILLI_PER_GPU)
    if count > 1 and milli != MILLI_PER_GPU:
        raise milli_field.error(f"{MILLI_PER_GPU} (whole GPUs) when {GPU_COUNT_KEY} > 1")
    model_field = annotations[GPU_MODEL_KEY]
    models = [m for m in model_field.string("").split("|") if m]
    return GpuRequest(count, milli, frozenset(models))


def _container(container: Field, init: bool) -> Container:
    """A container's requests; a resource with only a limit requests the limit, as the API
    server defaults it. An init container with restartPolicy Always is a sidecar."""
    amounts = container["resources"]
    limits = amounts["limits"].quantities()
    return Container(
        name=container["name"].string("main"),
        requests={**limits, **amounts["requests"].quantities()},
        sidecar=init and container["restartPolicy"].value == "Always",
    )


def _taint(taint: Field) -> Taint:
    return Taint(
        taint["key"].name(), taint["value"].string(""), taint["effect"].choice(TAINT_EFFECTS)
    )


def _toleration(toleration: Field) -> Toleration:
    key = toleration["key"].string("")
    operator = toleration["operator"].choice(("Equal", "Exists"), default="Equal")
    value = toleration["value"].string("")
    effect = toleration["effect"].choice(("", *TAINT_EFFECTS), default="")
    if operator == "Exists" and value:
        raise toleration["value"].error("no value with operator Exists")
    if operator == "Equal" and not key:
        raise toleration["key"].error("a non-empty key with operator Equal")
    return Toleration(key, operator, value, effect)


# --- writing ---------------------------------------------------------------------------------


def _pruned(**fields: Any) -> dict[str, Any]:
    """The fields whose values are not empty, false, zero or None, in the given order."""
    return {key: value for key, value in fields.items() if value}


def _sorted(mapping: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(mapping.items()))


def _quantities(amounts: Mapping[str, int]) -> dict[str, str]:
    return {name: quantity.format_quantity(name, amounts[name]) for name in sorted(amounts)}


def _node_manifest(node: Node) -> dict[str, Any]:
    taints = [_pruned(key=t.key, value=t.value, effect=t.effect) for t in node.taints]
    allocatable = _quantities(node.allocatable)
    labels = dict(node.labels)
    if node.gpus:
        allocatable[GPU_COUNT_KEY] = str(node.gpus)
        allocatable[GPU_MILLI_KEY] = str(node.gpus * MILLI_PER_GPU)
        if node.gpu_model:
            labels[GPU_MODEL_KEY] = node.gpu_model
    return _pruned(
        apiVersion="v1",
        kind="Node",
        metadata=_pruned(name=node.name, labels=_sorted(labels)),
        spec=_pruned(unschedulable=node.unschedulable, taints=taints),
        status={"allocatable": allocatable},
    )


def _namespace_manifest(name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": _pruned(name=name, labels=_sorted(labels)),
    }


def _service_manifest(service: Service) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service.name, "namespace": service.namespace},
    }
    if service.selector is not None:  # {} is kept: it differs from no selector
        manifest["spec"] = {"selector": _sorted(service.selector)}
    return manifest


def _controller_manifest(key: tuple[str, str, str], selector: LabelSelector) -> dict[str, Any]:
    """A controller with no replicas, standing for the selector of ``key``'s pods (which are
    written as Pods)."""
    kind, namespace, name = key
    where = f"workload: objects.controllers[{kind} {namespace}/{name}]"
    if kind not in SELECTOR_KINDS:
        raise InputError(where, "kind", kind, "one of " + ", ".join(SELECTOR_KINDS))
    labels = _labels_selected_by(selector)
    if not label_selector_matches(selector, labels):
        raise InputError(
            where, "selector", _selector_manifest(selector), "a selector some labels satisfy"
        )
    spec: dict[str, Any] = {"replicas": 0}
    if not selector.is_empty:  # absent, the selector defaults to the template's labels, {}
        spec["selector"] = _selector_manifest(selector)
    spec["template"] = {"metadata": _pruned(labels=_sorted(labels))}
    return {
        "apiVersion": SUPPORTED_KINDS[kind],
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def _labels_selected_by(selector: LabelSelector) -> dict[str, str]:
    """Labels ``selector`` matches when some do: its matchLabels, plus for each key its
    expressions need present the smallest allowed value (``""``, ``x``, ``x1``, .. for
    Exists). Keys only NotIn or DoesNotExist names stay absent."""
    labels = dict(selector.match_labels)
    by_key: dict[str, list[LabelSelectorRequirement]] = {}
    for requirement in selector.match_expressions:
        by_key.setdefault(requirement.key, []).append(requirement)
    for key, requirements in by_key.items():
        allowed = {labels[key]} if key in labels else None
        excluded: set[str] = set()
        present = key in labels
        for r in requirements:
            if r.operator == "In":
                allowed = set(r.values) if allowed is None else allowed & set(r.values)
            elif r.operator == "NotIn":
                excluded.update(r.values)
            present = present or r.operator in ("In", "Exists")
        if not present:
            continue
        if allowed is not None:
            candidates = sorted(allowed - excluded)
            if candidates:
                labels[key] = candidates[0]
            continue
        value, index = "", 0
        while value in excluded:
            value, index = f"x{index or ''}", index + 1
        labels[key] = value
    return labels


def _pod_manifest(pod: Pod) -> dict[str, Any]:
    template = pod.template
    owners = [] if pod.owner is None else [{"kind": pod.owner.kind, "name": pod.owner.name}]
    affinity: dict[str, Any] = {}
    if template.affinity is not None:
        affinity["nodeAffinity"] = _affinity_manifest(template.affinity)
    if template.pod_affinity is not None:
        affinity["podAffinity"] = _pod_affinity_manifest(template.pod_affinity)
    if template.pod_anti_affinity is not None:
        affinity["podAntiAffinity"] = _pod_affinity_manifest(template.pod_anti_affinity)
    spec = _pruned(
        nodeName=template.node_name,
        priority=template.priority,
        nodeSelector=_sorted(template.node_selector),
        affinity=affinity,
        tolerations=[
            _pruned(key=t.key, operator=t.operator, value=t.value, effect=t.effect)
            for t in template.tolerations
        ],
        topologySpreadConstraints=[
            _constraint_manifest(c) for c in template.topology_spread_constraints
        ],
        overhead=_quantities(template.overhead),
        initContainers=[_container_manifest(c) for c in template.init_containers],
        containers=[_container_manifest(c) for c in template.containers],
    )
    gpu = template.gpu
    annotations = {} if gpu is None else _pruned(**{
        GPU_COUNT_KEY: str(gpu.count), GPU_MILLI_KEY: str(gpu.milli),
        GPU_MODEL_KEY: "|".join(sorted(gpu.models))})
    metadata = _pruned(
        name=pod.name,
        namespace=template.namespace,
        labels=_sorted(template.labels),
        annotations=annotations,
        ownerReferences=owners,
    )
    return _pruned(apiVersion="v1", kind="Pod", metadata=metadata, spec=spec)


def _container_manifest(container: Container) -> dict[str, Any]:
    return _pruned(
        name=container.name,
        restartPolicy="Always" if container.sidecar else None,
        resources=_pruned(requests=_quantities(container.requests)),
    )


def _affinity_manifest(affinity: NodeAffinity) -> dict[str, Any]:
    required = None
    if affinity.required is not None:
        required = {"nodeSelectorTerms": [_term_manifest(t) for t in affinity.required]}
    return _pruned(
        requiredDuringSchedulingIgnoredDuringExecution=required,
        preferredDuringSchedulingIgnoredDuringExecution=[
            {"weight": p.weight, "preference": _term_manifest(p.preference)}
            for p in affinity.preferred
        ],
    )


def _term_manifest(term: NodeSelectorTerm) -> dict[str, Any]:
    return _pruned(
        matchExpressions=[_requirement_manifest(r) for r in term.match_expressions],
        matchFields=[_requirement_manifest(r) for r in term.match_fields],
    )


def _requirement_manifest(requirement: NodeSelectorRequirement) -> dict[str, Any]:
    return _pruned(
        key=requirement.key, operator=requirement.operator, values=list(requirement.values)
    )


def _selector_manifest(selector: LabelSelector) -> dict[str, Any]:
    """A label selector; an empty one is ``{}`` (matching everything), kept by the callers."""
    return _pruned(
        matchLabels=_sorted(selector.match_labels),
        matchExpressions=[
            _pruned(key=r.key, operator=r.operator, values=list(r.values))
            for r in selector.match_expressions
        ],
    )


def _pod_affinity_manifest(affinity: PodAffinity) -> dict[str, Any]:
    return _pruned(
        requiredDuringSchedulingIgnoredDuringExecution=[
            _pod_affinity_term_manifest(t) for t in affinity.required
        ],
        preferredDuringSchedulingIgnoredDuringExecution=[
            {"weight": p.weight, "podAffinityTerm": _pod_affinity_term_manifest(p.term)}
            for p in affinity.preferred
        ],
    )


def _pod_affinity_term_manifest(term: PodAffinityTerm) -> dict[str, Any]:
    manifest: dict[str, Any] = {}
    if term.label_selector is not None:
        manifest["labelSelector"] = _selector_manifest(term.label_selector)
    if term.namespaces:
        manifest["namespaces"] = list(term.namespaces)
    manifest["topologyKey"] = term.topology_key
    if term.namespace_selector is not None:
        manifest["namespaceSelector"] = _selector_manifest(term.namespace_selector)
    return manifest


def _constraint_manifest(constraint: TopologySpreadConstraint) -> dict[str, Any]:
    """A topology spread constraint; minDomains 1, nodeAffinityPolicy Honor and
    nodeTaintsPolicy Ignore are Kubernetes' defaults and left out."""
    manifest: dict[str, Any] = {
        "maxSkew": constraint.max_skew,
        "topologyKey": constraint.topology_key,
        "whenUnsatisfiable": constraint.when_unsatisfiable,
    }
    if constraint.label_selector is not None:
        manifest["labelSelector"] = _selector_manifest(constraint.label_selector)
    if constraint.min_domains != 1:
        manifest["minDomains"] = constraint.min_domains
    if constraint.match_label_keys:
        manifest["matchLabelKeys"] = list(constraint.match_label_keys)
    if constraint.node_affinity_policy != "Honor":
        manifest["nodeAffinityPolicy"] = constraint.node_affinity_policy
    if constraint.node_taints_policy != "Ignore":
        manifest["nodeTaintsPolicy"] = constraint.node_taints_policy
    return manifest
