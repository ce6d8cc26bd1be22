"""Kubernetes manifests in and out: Nodes, Pods and the workload controllers, as YAML or JSON.

``load_manifests`` reads files and directories into a ``Workload``, expanding Deployments,
ReplicaSets, StatefulSets, DaemonSets and Jobs into their pods; ``dump_manifests`` writes a
``Workload`` back as plain v1 Nodes and Pods. Amounts are in schedlab's units (see
``schedlab.objects``): cpu in millicores, memory and storage in bytes, anything else a count.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

import yaml

from schedlab import quantity, resources
from schedlab.errors import InputError
from schedlab.fields import Field, node_affinity
from schedlab.objects import (
    TAINT_EFFECTS,
    Container,
    Node,
    NodeAffinity,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    OwnerRef,
    Pod,
    PodTemplate,
    Taint,
    Toleration,
    Workload,
)
from schedlab.traces import controllers

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

MANIFEST_SUFFIXES: tuple[str, ...] = (".yaml", ".yml", ".json")
SUPPORTED_KINDS: Mapping[str, str] = {
    "Node": "v1",
    "Pod": "v1",
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "List": "v1",
}
"""The kinds ``load_manifests`` reads, each with the apiVersion it must carry."""

_OBJECT = "a Kubernetes object (a mapping with apiVersion and kind)"


def load_manifests(*paths: str | os.PathLike[str]) -> Workload:
    """Read Nodes, Pods and workload controllers from YAML/JSON files and directories.

    Each path is a ``.yaml``, ``.yml`` or ``.json`` file (YAML may hold several documents, any
    document may be a ``kind: List``) or a directory whose files with those suffixes are read
    in name order (not recursively). Objects keep input order; controllers become their pods,
    DaemonSets one pod per eligible Node of the whole input. Equal pod templates are one
    shared object. Raises ``InputError`` naming the file, object, field and value on bad input.
    """
    reader = _Reader()
    for path in paths:
        reader.read_path(os.fspath(path))
    return reader.workload()


def dump_manifests(workload: Workload) -> str:
    """The workload as multi-document YAML: its Nodes, then its Pods, as plain v1 objects.

    Amounts are written as Kubernetes quantities ("250m" cpu, "2Gi" memory) and owners as
    ``metadata.ownerReferences``, so that ``load_manifests`` of the text gives an equal
    workload. The same workload always gives the same text.
    """
    documents = [_node_manifest(n) for n in workload.nodes]
    documents += [_pod_manifest(p) for p in workload.pods]
    return yaml.dump_all(documents, Dumper=_YAML_DUMPER, sort_keys=False)


# --- reading ---------------------------------------------------------------------------------


class _Origin(NamedTuple):
    """The object pods came from: ``where`` for messages, the path of their pod spec."""

    where: str
    spec_path: str


class _DaemonSet(NamedTuple):
    """A DaemonSet waiting for the nodes of the whole input."""

    name: str
    template: PodTemplate


class _Reader:
    """Collects objects across files; pods are checked and DaemonSets expanded at the end."""

    def __init__(self) -> None:
        self._nodes: list[Node] = []
        self._node_where: dict[str, str] = {}
        self._pod_groups: list[tuple[_Origin, tuple[Pod, ...] | _DaemonSet]] = []
        self._templates: dict[PodTemplate, PodTemplate] = {}

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
        namespace = metadata["namespace"].string("") or "default"
        obj = Field(obj.value, f"{file}: {kind} {namespace}/{name}")
        if kind == "Pod":
            self.add_pod(obj, name, namespace)
        else:
            self.add_controller(obj, kind, name, namespace)

    def add_pod(self, obj: Field, name: str, namespace: str) -> None:
        metadata = obj["metadata"]
        template = self.intern(_pod_template(obj["spec"], namespace, metadata))
        pod = Pod(name, template, _owner(metadata["ownerReferences"]))
        self._pod_groups.append((_Origin(obj.where, "spec"), (pod,)))

    def add_controller(self, obj: Field, kind: str, name: str, namespace: str) -> None:
        """The pods of a controller; a DaemonSet's wait until all nodes are read."""
        spec = obj["spec"]
        pod_template = spec["template"]
        template = self.intern(
            _pod_template(pod_template["spec"], namespace, pod_template["metadata"])
        )
        if kind == "DaemonSet":
            group: tuple[Pod, ...] | _DaemonSet = _DaemonSet(name, template)
        else:
            group = controllers.replica_pods(kind, name, template, _replica_count(kind, spec))
        self._pod_groups.append((_Origin(obj.where, "spec.template.spec"), group))

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
        self._nodes.append(
            Node(
                name=name,
                allocatable=amounts,
                labels=obj["metadata"]["labels"].strings(),
                taints=tuple(_taint(t) for t in spec["taints"].elements()),
                unschedulable=spec["unschedulable"].boolean(),
            )
        )

    def workload(self) -> Workload:
        nodes = tuple(self._nodes)
        pod_where: dict[str, str] = {}
        pods: list[Pod] = []
        for origin, group in self._pod_groups:
            if isinstance(group, _DaemonSet):
                group = controllers.daemon_set_pods(group.name, group.template, nodes, self.intern)
            for pod in group:
                if pod.key in pod_where:
                    raise InputError(
                        origin.where,
                        "metadata.name",
                        pod.key,
                        f"a namespace/name no other pod has (first seen in {pod_where[pod.key]})",
                    )
                node_name = pod.template.node_name
                if node_name is not None and node_name not in self._node_where:
                    raise InputError(
                        origin.where,
                        f"{origin.spec_path}.nodeName",
                        node_name,
                        "the name of a Node in the input",
                    )
                pod_where[pod.key] = origin.where
                pods.append(pod)
        return Workload(nodes, tuple(pods))


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


def _replica_count(kind: str, spec: Field) -> int:
    """How many pods a Deployment, ReplicaSet, StatefulSet or Job creates."""
    if kind != "Job":
        return spec["replicas"].integer(default=1, minimum=0)
    completions = spec["completions"]
    return controllers.job_pod_count(
        spec["parallelism"].integer(default=1, minimum=0),
        None if completions.value is None else completions.integer(minimum=0),
    )


def _owner(references: Field) -> OwnerRef | None:
    elements = references.elements()
    if not elements:
        return None
    return OwnerRef(elements[0]["kind"].name(), elements[0]["name"].name())


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
    )


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
    return _pruned(
        apiVersion="v1",
        kind="Node",
        metadata=_pruned(name=node.name, labels=_sorted(node.labels)),
        spec=_pruned(unschedulable=node.unschedulable, taints=taints),
        status={"allocatable": _quantities(node.allocatable)},
    )


def _pod_manifest(pod: Pod) -> dict[str, Any]:
    template = pod.template
    owners = [] if pod.owner is None else [{"kind": pod.owner.kind, "name": pod.owner.name}]
    affinity = template.affinity
    spec = _pruned(
        nodeName=template.node_name,
        priority=template.priority,
        nodeSelector=_sorted(template.node_selector),
        affinity=None if affinity is None else {"nodeAffinity": _affinity_manifest(affinity)},
        tolerations=[
            _pruned(key=t.key, operator=t.operator, value=t.value, effect=t.effect)
            for t in template.tolerations
        ],
        overhead=_quantities(template.overhead),
        initContainers=[_container_manifest(c) for c in template.init_containers],
        containers=[_container_manifest(c) for c in template.containers],
    )
    metadata = _pruned(
        name=pod.name,
        namespace=template.namespace,
        labels=_sorted(template.labels),
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
