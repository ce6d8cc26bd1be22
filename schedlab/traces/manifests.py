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
ReplicaSets are in the input creates none itself. A pod of a ReplicaSet absent from the input
(``kubectl get deploy,pods``) counts for the Deployment whose name and a hash make the
ReplicaSet's name and whose selector matches it (``_Reader._adopt_by_deployments``).
"""

from __future__ import annotations

import datetime
import math
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from typing import Any, Literal, NamedTuple, cast

import yaml

from schedlab import quantity, resources
from schedlab.decode import read_documents
from schedlab.errors import InputError, InputWarning, printable
from schedlab.fields import (
    DNS1123_SUBDOMAIN,
    INT32_MAX,
    INT32_MIN,
    Field,
    is_dns1123_subdomain,
    key_shown,
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
    TaintEffect,
    Toleration,
    TopologySpreadConstraint,
    Workload,
)
from schedlab.traces import controllers
from schedlab.traces.trace import POD_MANAGEMENT_POLICIES, Controller, Trace

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

MAX_PODS = 400_000
"""The most pods a workload may hold: the live pods of the input plus those its controllers
create (a DaemonSet counted as one pod per Node). A larger workload is refused before any pod
is created. Sized so that loading any input under 1 MiB stays under 500 MiB: the costliest
pods, those of DaemonSets with long names and preferred node affinity (a template each), take
about 0.9 KB each (429 MiB for the whole process at the cap; see the README)."""

_OBJECT = "a Kubernetes object (a mapping with apiVersion and kind)"
_TEMPLATE_HASH = re.compile(r"[a-z0-9]+", re.ASCII)
"""A pod-template-hash as it ends a Deployment's ReplicaSet names (``web-7d9c8b5f4``)."""
_NAMES = {
    "Namespace": "dns_label",
    "Service": "dns1035_label",
}
"""The ``Field`` method checking the name of a kind (others are DNS-1123 subdomains)."""


def load_manifests(*paths: str | os.PathLike[str], strict: bool = False) -> Workload:
    """Read Nodes, Pods, workload controllers, Services and Namespaces from YAML/JSON files
    and directories.

    Each path is a ``.yaml``, ``.yml`` or ``.json`` file (YAML may hold several documents, any
    document may be a ``kind: List``) or a directory whose files with those suffixes are read
    in name order (not recursively). Objects keep input order; Succeeded and Failed pods are
    left out; controllers become the pods they lack (their live pods of the whole input
    count), DaemonSets one pod per eligible Node of the whole input. Equal pod templates are one
    shared object. Services, Namespaces and controller selectors go to ``Workload.objects``
    (see the module docstring).

    Input is checked as the API server checks it: names (DNS-1123 subdomains; Namespaces
    DNS-1123 labels, Services DNS-1035 labels), labels, selectors, taints and tolerations,
    int32 counts, at least one container per pod; files are decoded within the limits of
    ``schedlab.decode``, and the workload holds at most ``MAX_PODS`` pods. Raises
    ``InputError`` naming the file, object, field and value on bad input.

    A field unknown to the object's Kubernetes type (``KNOWN_FIELDS``) is an ``InputWarning``
    (``file: Kind namespace/name: spec.containerz: unknown field``), as ``kubectl
    --validate=warn`` reports it, or with ``strict`` an ``InputError``. It warns once per
    kind and field path: at the first object having it, then, when more had it, once after
    reading (``...: unknown field, and in N more Pod objects``). A node affinity Gt/Lt
    bound that is not an integer (accepted by the API server; it never matches) is an
    ``InputWarning`` once per distinct value.
    """
    reader = _Reader(strict=strict)
    for path in paths:
        reader.read_path(os.fspath(path))
    reader.warn_repeated()
    return reader.workload()


def dump_manifests(workload: Workload) -> str:
    """The workload as multi-document YAML: its Namespaces (by name), Nodes, Services,
    controllers (by kind, namespace and name) and Pods, as plain Kubernetes objects.

    Amounts are written as Kubernetes quantities ("250m" cpu, "2Gi" memory) and owners as
    ``metadata.ownerReferences``; fields equal to their Kubernetes default are left out. Each
    ``objects.controllers`` entry becomes a controller of that kind with ``replicas: 0``, its
    selector and a template whose labels the selector matches (its matchLabels, plus a label
    for each expression that needs one), since its pods are written as Pods. A pod (or
    controller template) without containers is written with one requesting nothing
    (``Container()``), as the API server requires a container. So ``load_manifests`` of the
    text gives an equal workload (but for those added containers), and the same workload
    always gives the same text. Raises ``InputError`` for a controller entry that cannot be
    written back (a kind other than ``SELECTOR_KINDS``, or a selector no labels satisfy).
    """
    objects = workload.objects
    documents = [_namespace_manifest(n, objects.namespaces[n]) for n in sorted(objects.namespaces)]
    documents += [_node_manifest(n) for n in workload.nodes]
    documents += [_service_manifest(s) for s in objects.services]
    documents += [
        _controller_manifest(key, objects.controllers[key]) for key in sorted(objects.controllers)
    ]
    documents += [pod_manifest(p) for p in workload.pods]
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
    # the field shadows tuple.count (unused here), which mypy rejects for a NamedTuple
    count: int = 0  # type: ignore[assignment]
    completions: int | None = None
    succeeded: int = 0
    owner: OwnerRef | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.kind, self.template.namespace, self.name


class _Reader:
    """Collects objects across files; pods are checked and controllers expanded at the end
    (when all their pods and all nodes are read)."""

    def __init__(self, strict: bool = False) -> None:
        self._strict = strict
        self._warned_bounds: set[str] = set()
        self._unknown: dict[tuple[str, str], list[Any]] = {}  # (kind, path): [where, more]
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
        self.succeeded_pods: dict[tuple[str, str, str], int] = {}
        """Owner (kind, namespace, name) → its Succeeded pods in the input (set by
        ``workload``)."""

    def intern(self, template: PodTemplate) -> PodTemplate:
        return self._templates.setdefault(template, template)

    def read_path(self, path: str) -> None:
        if os.path.isdir(path):
            try:
                entries = sorted(os.listdir(path))
            except OSError as error:
                raise InputError(
                    path, "directory", error.strerror or str(error), "a readable directory"
                ) from None
            files = [
                os.path.join(path, e) for e in entries if e.lower().endswith(MANIFEST_SUFFIXES)
            ]
            if not files:
                raise InputError(
                    path, "directory", "no .yaml, .yml or .json file",
                    "a directory holding at least one manifest file",
                )
            for file in files:
                if not os.path.isfile(file):  # a dangling link, a link loop, a directory
                    raise InputError(
                        file, "path", _unreadable(file), "a readable .yaml, .yml or .json file"
                    )
                self.read_file(file)
        elif os.path.isfile(path) and path.lower().endswith(MANIFEST_SUFFIXES):
            self.read_file(path)
        else:
            raise InputError(
                path, "path", path, "an existing .yaml, .yml or .json file, or a directory"
            )

    def read_file(self, file: str) -> None:
        for number, document in enumerate(read_documents(file), start=1):
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
            self.check_known(obj, kind)
            for item in obj["items"].elements():
                self.read_object(item, file)
            return
        metadata = obj["metadata"]
        name_field = metadata["name"]
        try:
            name = getattr(name_field, _NAMES.get(kind, "dns_subdomain"))()
        except InputError as error:  # the object has no name yet: name its kind
            raise InputError(
                f"{obj.where}: {kind}", name_field.path, name_field.value, error.expected
            ) from None
        if kind in ("Node", "Namespace"):
            obj = Field(obj.value, f"{file}: {kind} {name}")
            self.check_known(obj, kind)
            if kind == "Node":
                self.add_node(obj, name, file)
            else:
                self.add_namespace(obj, name, file)
            return
        namespace_field = metadata["namespace"]
        namespace = "default"
        if namespace_field.value is not None and namespace_field.value != "":
            namespace = namespace_field.dns_label()
        obj = Field(obj.value, f"{file}: {kind} {namespace}/{name}")
        self.check_known(obj, kind)
        obj["metadata"]["labels"].label_map()
        if kind == "Pod":
            self.add_pod(obj, name, namespace)
        elif kind == "Service":
            self.add_service(obj, name, namespace, file)
        else:
            self.add_controller(obj, kind, name, namespace, file)

    def check_known(self, obj: Field, kind: str) -> None:
        """Each field of ``obj`` unknown to its Kubernetes type (``KNOWN_FIELDS[kind]``): an
        ``InputWarning`` the first time this load meets its (kind, field path), counted
        after that (``warn_repeated``); an ``InputError`` when strict."""
        for path, value in unknown_fields(obj.value, KNOWN_FIELDS[kind]):
            if self._strict:
                raise InputError(
                    obj.where, printable(path), value,
                    "a field of the object's Kubernetes type (strict refuses unknown fields)",
                )
            seen = self._unknown.get((kind, path))
            if seen is not None:
                seen[1] += 1
                continue
            self._unknown[kind, path] = [obj.where, 0]
            warnings.warn(f"{obj.where}: {printable(path)}: unknown field", InputWarning,
                          stacklevel=4)

    def warn_repeated(self) -> None:
        """One ``InputWarning`` per (kind, field path) that more than one object had: the
        first object's and how many more."""
        for (kind, path), (where, more) in self._unknown.items():
            if more:
                objects = "object" if more == 1 else "objects"
                warnings.warn(
                    f"{where}: {printable(path)}: unknown field, and in {more:,} more "
                    f"{kind} {objects}", InputWarning, stacklevel=3,
                )

    def warn_bound(self, field: Field, message: str) -> None:
        """A Gt/Lt bound that is not an integer: one warning per distinct value."""
        value = str(field.value)
        if value not in self._warned_bounds:
            self._warned_bounds.add(value)
            warnings.warn(f"{printable(field.where)}: {field.path}: {printable(repr(value))} "
                          f"is {message}", InputWarning, stacklevel=4)

    def pod_template(self, spec: Field, namespace: str, metadata: Field) -> PodTemplate:
        return self.intern(read_pod_template(spec, namespace, metadata, self.warn_bound))

    def add_pod(self, obj: Field, name: str, namespace: str) -> None:
        metadata = obj["metadata"]
        template = self.pod_template(obj["spec"], namespace, metadata)
        pod = Pod(name, template, _owner(metadata["ownerReferences"]))
        phase = obj["status"]["phase"].choice(POD_PHASES, default="")
        self._pod_groups.append((_Origin(obj.where, "spec"), _Listed(pod, phase)))

    def add_controller(self, obj: Field, kind: str, name: str, namespace: str, file: str) -> None:
        """A controller (its pods are made when all pods and nodes are read) and the selector
        of a Deployment, ReplicaSet or StatefulSet."""
        spec = obj["spec"]
        pod_template = spec["template"]
        template = self.pod_template(pod_template["spec"], namespace, pod_template["metadata"])
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
            parallelism = _count(spec["parallelism"], default=1)
            # kube's defaults: neither set, both 1; only parallelism set, a work queue
            queue = completions.value is None and spec["parallelism"].value is not None
            pending = _Controller(
                kind,
                name,
                template,
                count=parallelism,
                completions=None if queue else _count(completions, default=1),
                succeeded=_count(obj["status"]["succeeded"], default=0),
            )
            _check_cap(spec["parallelism"], controllers.job_pod_count(
                parallelism, pending.completions, pending.succeeded))
        else:
            owner = _owner(obj["metadata"]["ownerReferences"]) if kind == "ReplicaSet" else None
            replicas = _count(spec["replicas"], default=1)
            _check_cap(spec["replicas"], replicas)
            pending = _Controller(kind, name, template, count=replicas, owner=owner)
        self._pod_groups.append((_Origin(obj.where, "spec.template.spec"), pending))

    def add_namespace(self, obj: Field, name: str, file: str) -> None:
        if name in self._namespace_where:
            raise obj["metadata"]["name"].error(
                f"a name no other Namespace has (first seen in {self._namespace_where[name]})"
            )
        self._namespace_where[name] = file
        self._namespaces[name] = obj["metadata"]["labels"].label_map()

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
        allocatable, capacity = status["allocatable"], status["capacity"]
        capacity.check_names(resources.is_node_resource_name, resources.NODE_RESOURCE_NAME)
        if allocatable.value is None:
            allocatable = capacity
        amounts = allocatable.quantities(
            resources.is_node_resource_name, resources.NODE_RESOURCE_NAME
        )
        amounts.setdefault(resources.PODS, resources.DEFAULT_ALLOWED_PODS)
        gpus = amounts.pop(GPU_COUNT_KEY, 0)
        count_text = str(allocatable[GPU_COUNT_KEY].value or "0")
        if not (count_text.isascii() and count_text.isdigit()):
            raise allocatable[GPU_COUNT_KEY].error("a whole number of GPUs")
        milli = amounts.pop(GPU_MILLI_KEY, gpus * MILLI_PER_GPU)
        if milli != gpus * MILLI_PER_GPU:
            raise allocatable[GPU_MILLI_KEY].error(f"{GPU_COUNT_KEY} × {MILLI_PER_GPU}")
        labels = obj["metadata"]["labels"].label_map()
        taints = tuple(read_taint(t) for t in spec["taints"].elements())
        seen: dict[tuple[str, str], int] = {}
        for index, taint in enumerate(taints):
            pair = (taint.key, taint.effect)
            if pair in seen:
                raise spec["taints"].elements()[index].error(
                    f"a {{key, effect}} pair no other taint of the node has "
                    f"(spec.taints[{seen[pair]}] has it)",
                    value={"key": taint.key, "effect": taint.effect},
                )
            seen[pair] = index
        self._nodes.append(
            Node(
                name=name,
                allocatable=amounts,
                labels=labels,
                taints=taints,
                unschedulable=spec["unschedulable"].boolean(),
                gpus=gpus,
                gpu_model=labels.get(GPU_MODEL_KEY, "") if gpus else "",
            )
        )

    def workload(self) -> Workload:
        """The workload: the live pods of the input and the pods its controllers create, in
        input order (a controller's at its place)."""
        nodes = tuple(self._nodes)
        # namespace: name: where the pod came from (no key string per pod: 1M pods save 60 MB)
        pod_where: dict[str, dict[str, str]] = {}
        terminal: set[str] = set()
        live: dict[tuple[str, str, str], list[Pod]] = {}
        succeeded: dict[tuple[str, str, str], int] = {}
        for origin, item in self._pod_groups:
            if not isinstance(item, _Listed):
                continue
            pod = item.pod
            self._check_new(pod, origin, pod_where)
            pod_where.setdefault(pod.namespace, {})[pod.name] = origin.where
            owner = None if pod.owner is None else (pod.owner.kind, pod.namespace, pod.owner.name)
            if not item.live:
                terminal.add(pod.key)
                if owner is not None and item.phase == "Succeeded":
                    succeeded[owner] = succeeded.get(owner, 0) + 1
                continue
            self._check_node(pod, origin)
            if owner is not None:
                live.setdefault(owner, []).append(pod)
        self.succeeded_pods = succeeded
        self._adopt_by_deployments(live)
        names: dict[str, set[str]] = {}  # namespace: the names of its pods in the input
        live_names: dict[str, set[str]] = {}
        for namespace, where_by_name in pod_where.items():
            for name in where_by_name:
                names.setdefault(namespace, set()).add(name)
                if f"{namespace}/{name}" not in terminal:
                    live_names.setdefault(namespace, set()).add(name)
        split = {
            (c.owner.name, c.template.namespace)
            for _, c in self._pod_groups
            if isinstance(c, _Controller) and c.kind == "ReplicaSet" and c.owner is not None
            and c.owner.kind == "Deployment"
        }
        wanted_by = self._check_total(nodes, live, succeeded, split)
        pods: list[Pod] = []
        pins: dict[str, NodeAffinity] = {}  # by node name, shared by DaemonSets
        for origin, item in self._pod_groups:
            if isinstance(item, _Listed):
                if item.live:
                    pods.append(item.pod)
                continue
            namespace = item.template.namespace
            owned = live.get(item.key, [])
            if item.kind == "DaemonSet":
                served = {target for p in owned
                          if (target := controllers.target_node(p)) is not None}
                created = controllers.daemon_set_pods(
                    item.name, item.template, nodes, self.intern, served, pins
                )
            elif item.kind == "StatefulSet":
                created = controllers.stateful_set_pods(
                    item.name, item.template, item.count, live_names.get(namespace, set())
                )
            else:
                created = controllers.replica_pods(
                    item.kind,
                    item.name,
                    item.template,
                    controllers.missing(wanted_by[item.key], len(owned)),
                    names.get(namespace, set()),
                )
            for pod in created:
                if not is_dns1123_subdomain(pod.name):
                    pattern = "NAME-NODE" if item.kind == "DaemonSet" else "NAME-i"
                    raise InputError(
                        origin.where, "metadata.name", pod.name,
                        f"{DNS1123_SUBDOMAIN} as the name of a pod it creates ({pattern})",
                    )
                # a StatefulSet's pod replaces a terminal pod of its name, as kube's does
                if not (item.kind == "StatefulSet" and pod.key in terminal):
                    self._check_new(pod, origin, pod_where)
                if terminal:
                    terminal.discard(pod.key)
                self._check_node(pod, origin)
                pod_where.setdefault(namespace, {})[pod.name] = origin.where
                pods.append(pod)
        objects = ApiObjects(self._namespaces, tuple(self._services), self._controllers)
        return Workload(nodes, tuple(pods), objects)

    def _adopt_by_deployments(self, live: dict[tuple[str, str, str], list[Pod]]) -> None:
        """Count toward a Deployment the live pods of its ReplicaSets absent from the input
        (``kubectl get deploy,pods``): a pod owned by ReplicaSet ``NAME-HASH`` (kube names a
        Deployment's ReplicaSets ``<deployment>-<pod-template-hash>``) that is not in the
        input counts for the Deployment ``NAME`` of its namespace if that Deployment's
        selector matches the pod's labels. Other pods of absent owners stay bare pods."""
        present = {
            item.key for _, item in self._pod_groups
            if isinstance(item, _Controller) and item.kind == "ReplicaSet"
        }
        for (kind, namespace, name), pods in list(live.items()):
            if kind != "ReplicaSet" or (kind, namespace, name) in present:
                continue
            deployment, dash, pod_hash = name.rpartition("-")
            key = ("Deployment", namespace, deployment)
            if not (dash and _TEMPLATE_HASH.fullmatch(pod_hash) and key in self._controllers):
                continue
            selector = self._controllers[key]
            adopted = [p for p in pods if label_selector_matches(selector, p.template.labels)]
            if adopted:
                live.setdefault(key, []).extend(adopted)

    def _check_total(
        self,
        nodes: tuple[Node, ...],
        live: Mapping[tuple[str, str, str], list[Pod]],
        succeeded: Mapping[tuple[str, str, str], int],
        split: set[tuple[str, str]],
    ) -> dict[tuple[str, str, str], int]:
        """The pods each controller (but a DaemonSet) wants; an error naming the first
        controller that would bring the workload beyond ``MAX_PODS`` pods (its live pods and
        those controllers create, a DaemonSet counted as one per Node), before any is made."""
        wanted_by: dict[tuple[str, str, str], int] = {}
        total = sum(1 for _, item in self._pod_groups if isinstance(item, _Listed) and item.live)
        for origin, item in self._pod_groups:
            if isinstance(item, _Listed):
                continue
            field = "spec.replicas"
            if item.kind == "DaemonSet":
                adds, field = len(nodes), "spec.template"
            else:
                if item.kind == "Job":
                    done = max(succeeded.get(item.key, 0), item.succeeded)
                    wanted = controllers.job_pod_count(item.count, item.completions, done)
                    field = "spec.parallelism"
                elif item.kind == "Deployment" and (item.name, item.template.namespace) in split:
                    wanted = 0  # its ReplicaSets hold its pods
                else:
                    wanted = item.count
                wanted_by[item.key] = wanted
                adds = controllers.missing(wanted, len(live.get(item.key, [])))
            total += adds
            if total > MAX_PODS:
                value = f"{len(nodes):,} nodes" if item.kind == "DaemonSet" else item.count
                raise InputError(
                    origin.where, field, value,
                    f"a workload of at most {MAX_PODS:,} pods "
                    f"(schedlab.traces.manifests.MAX_PODS; with this {item.kind}'s it would "
                    f"hold {total:,})",
                )
        return wanted_by

    @staticmethod
    def _check_new(
        pod: Pod, origin: _Origin, pod_where: Mapping[str, Mapping[str, str]]
    ) -> None:
        """An error when another pod has ``pod``'s namespace/name."""
        first = pod_where.get(pod.namespace, {}).get(pod.name)
        if first is not None:
            raise InputError(
                origin.where,
                "metadata.name",
                pod.key,
                f"a namespace/name no other pod has (first seen in {first})",
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


def _count(field: Field, default: int | None = None) -> int:
    """A count of a controller (replicas, parallelism, completions, succeeded): an int32
    that is not negative, as the API server requires."""
    return field.integer(default=default, minimum=0, maximum=INT32_MAX)


def _check_cap(field: Field, pods: int) -> None:
    """An error when ``pods`` (from ``field``) alone exceed ``MAX_PODS``, before the object
    is kept (the whole workload's count is checked in ``_Reader._check_total``)."""
    if pods > MAX_PODS:
        raise field.error(
            f"a value making at most {MAX_PODS:,} pods in the workload "
            "(schedlab.traces.manifests.MAX_PODS)"
        )


def _unreadable(file: str) -> str:
    """Why ``file``, which is not a regular file, cannot be read."""
    if os.path.isdir(file):
        return "a directory"
    try:
        os.stat(file)
    except OSError as error:
        return error.strerror or str(error)
    return "not a regular file"


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


def read_pod_template(
    spec: Field, namespace: str, metadata: Field, warn: Any = None
) -> PodTemplate:
    """A pod's (or a pod template's) ``spec`` and ``metadata``; ``warn`` is called for a Gt/Lt
    bound that is not an integer (``fields.node_affinity``)."""
    containers = spec["containers"]
    if not containers.elements():
        raise containers.error(
            "at least one container (the API server refuses a pod without containers)"
        )
    node_name = spec["nodeName"]
    return PodTemplate(
        namespace=namespace,
        labels=metadata["labels"].label_map(),
        containers=tuple(_container(c, init=False) for c in containers.elements()),
        init_containers=tuple(_container(c, init=True) for c in spec["initContainers"].elements()),
        overhead=spec["overhead"].quantities(*_CONTAINER_NAMES),
        node_selector=spec["nodeSelector"].label_map(),
        affinity=node_affinity(
            spec["affinity"]["nodeAffinity"], min_preferred_weight=1, warn=warn
        ),
        tolerations=tuple(_toleration(t) for t in spec["tolerations"].elements()),
        priority=spec["priority"].integer(default=0, minimum=INT32_MIN, maximum=INT32_MAX),
        node_name=None if node_name.value in (None, "") else node_name.dns_subdomain(),
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
        if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
            raise field.error(f"an integer {low}..{high} as a string")
        return int(text)

    count = number(count_field, 1, 1, 1024)
    milli = number(milli_field, MILLI_PER_GPU, 1, MILLI_PER_GPU)
    if count > 1 and milli != MILLI_PER_GPU:
        raise milli_field.error(f"{MILLI_PER_GPU} (whole GPUs) when {GPU_COUNT_KEY} > 1")
    model_field = annotations[GPU_MODEL_KEY]
    models = [m for m in model_field.string("").split("|") if m]
    return GpuRequest(count, milli, frozenset(models))


_CONTAINER_NAMES = (resources.is_container_resource_name, resources.CONTAINER_RESOURCE_NAME)
"""How container requests and limits and a pod's overhead check resource names."""


def _container(container: Field, init: bool) -> Container:
    """A container's requests; a resource with only a limit requests the limit, as the API
    server defaults it. An init container with restartPolicy Always is a sidecar."""
    amounts = container["resources"]
    limits = amounts["limits"].quantities(*_CONTAINER_NAMES)
    return Container(
        name=container["name"].string("main"),
        requests={**limits, **amounts["requests"].quantities(*_CONTAINER_NAMES)},
        sidecar=init and container["restartPolicy"].value == "Always",
    )


def read_taint(taint: Field) -> Taint:
    """A node's taint: a label key (qualified name), a label value, an effect."""
    value = taint["value"]
    return Taint(
        taint["key"].label_key(),
        "" if value.value is None else value.label_value(),
        # choice returns one of the options, here a TaintEffect
        cast(TaintEffect, taint["effect"].choice(TAINT_EFFECTS)),
    )


def _toleration(toleration: Field) -> Toleration:
    """A pod's toleration, checked as the API server's validateTolerations: a label key
    (empty only with Exists), a label value (empty with Exists), an effect."""
    key_field, value_field = toleration["key"], toleration["value"]
    key = "" if key_field.value in (None, "") else key_field.label_key()
    # choice returns one of the options
    operator = cast(Literal["Equal", "Exists"],
                    toleration["operator"].choice(("Equal", "Exists"), default="Equal"))
    value = "" if value_field.value is None else value_field.label_value()
    effect = toleration["effect"].choice(("", *TAINT_EFFECTS), default="")
    if operator == "Exists" and value:
        raise toleration["value"].error("no value with operator Exists")
    if operator == "Equal" and not key:
        raise toleration["key"].error("a non-empty key with operator Equal")
    seconds_field = toleration["tolerationSeconds"]
    seconds = None
    if seconds_field.value is not None:
        if effect != "NoExecute":
            raise seconds_field.error("no tolerationSeconds unless the effect is NoExecute")
        seconds = seconds_field.integer(minimum=-(2**63), maximum=2**63 - 1)
    return Toleration(key, operator, value, effect, seconds)


# --- known fields (kubectl --validate=warn) ---------------------------------------------------

_Schema = Mapping[str, Any]
"""Field name → what it holds: a schema (a mapping, walked), ``(schema,)`` (a list of such
mappings), or None (a value schedlab does not walk for unknown fields)."""


def _fields(*names: str, **walked: Any) -> dict[str, Any]:
    """A schema: ``names`` not walked further, ``walked`` with their own schema."""
    return {**dict.fromkeys(names), **walked}


_OBJECT_META = _fields(
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "finalizers", "managedFields",
    ownerReferences=(
        _fields("apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"),
    ),
)
_LIST_META = _fields("selfLink", "resourceVersion", "continue", "remainingItemCount")
_LABEL_SELECTOR = _fields(
    "matchLabels", matchExpressions=(_fields("key", "operator", "values"),)
)
_NODE_SELECTOR_TERM = _fields(
    matchExpressions=(_fields("key", "operator", "values"),),
    matchFields=(_fields("key", "operator", "values"),),
)
_NODE_AFFINITY = _fields(**{
    "requiredDuringSchedulingIgnoredDuringExecution": _fields(
        nodeSelectorTerms=(_NODE_SELECTOR_TERM,)
    ),
    "preferredDuringSchedulingIgnoredDuringExecution": (
        _fields("weight", preference=_NODE_SELECTOR_TERM),
    ),
})
_POD_AFFINITY_TERM = _fields(
    "namespaces", "topologyKey", "matchLabelKeys", "mismatchLabelKeys",
    labelSelector=_LABEL_SELECTOR, namespaceSelector=_LABEL_SELECTOR,
)
_POD_AFFINITY = _fields(**{
    "requiredDuringSchedulingIgnoredDuringExecution": (_POD_AFFINITY_TERM,),
    "preferredDuringSchedulingIgnoredDuringExecution": (
        _fields("weight", podAffinityTerm=_POD_AFFINITY_TERM),
    ),
})
_RESOURCES = _fields("limits", "requests", "claims")
_CONTAINER = _fields(
    "name", "image", "command", "args", "workingDir", "ports", "envFrom", "env",
    "resizePolicy", "restartPolicy", "restartPolicyRules", "volumeMounts", "volumeDevices",
    "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "terminationMessagePath",
    "terminationMessagePolicy", "imagePullPolicy", "securityContext", "stdin", "stdinOnce",
    "tty", resources=_RESOURCES,
)
_POD_SPEC = _fields(
    "volumes", "ephemeralContainers", "restartPolicy", "terminationGracePeriodSeconds",
    "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName",
    "serviceAccount", "automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID",
    "hostIPC", "shareProcessNamespace", "securityContext", "imagePullSecrets", "hostname",
    "subdomain", "schedulerName", "hostAliases", "priorityClassName", "priority", "dnsConfig",
    "readinessGates", "runtimeClassName", "enableServiceLinks", "preemptionPolicy",
    "overhead", "setHostnameAsFQDN", "os", "hostUsers", "schedulingGates", "resourceClaims",
    "hostnameOverride", "schedulingGroup", "evictionResponders",
    resources=_RESOURCES,
    containers=(_CONTAINER,),
    initContainers=(_CONTAINER,),
    affinity=_fields(
        nodeAffinity=_NODE_AFFINITY, podAffinity=_POD_AFFINITY, podAntiAffinity=_POD_AFFINITY
    ),
    tolerations=(_fields("key", "operator", "value", "effect", "tolerationSeconds"),),
    topologySpreadConstraints=(
        _fields(
            "maxSkew", "topologyKey", "whenUnsatisfiable", "minDomains", "nodeAffinityPolicy",
            "nodeTaintsPolicy", "matchLabelKeys", labelSelector=_LABEL_SELECTOR,
        ),
    ),
)
_POD_TEMPLATE = _fields(metadata=_OBJECT_META, spec=_POD_SPEC)


def _kind(spec: Any, status: Any = None) -> dict[str, Any]:
    return _fields("apiVersion", "kind", metadata=_OBJECT_META, spec=spec, status=status)


KNOWN_FIELDS: Mapping[str, _Schema] = {
    "Pod": _kind(
        _POD_SPEC,
        _fields(
            "observedGeneration", "phase", "conditions", "message", "reason",
            "nominatedNodeName", "hostIP", "hostIPs", "podIP", "podIPs", "startTime",
            "initContainerStatuses", "containerStatuses", "qosClass",
            "ephemeralContainerStatuses", "resize", "resourceClaimStatuses",
            "extendedResourceClaimStatus", "allocatedResources", "resources",
            "nodeAllocatableResourceClaimStatuses", "volumeHealth",
        ),
    ),
    "Node": _kind(
        _fields(
            "podCIDR", "podCIDRs", "providerID", "unschedulable", "configSource", "externalID",
            "podPreemptionPolicy",
            taints=(_fields("key", "value", "effect", "timeAdded"),),
        ),
        _fields(
            "capacity", "allocatable", "phase", "conditions", "addresses", "daemonEndpoints",
            "nodeInfo", "images", "volumesInUse", "volumesAttached", "config",
            "runtimeHandlers", "features", "declaredFeatures",
        ),
    ),
    "Service": _kind(
        _fields(
            "ports", "selector", "clusterIP", "clusterIPs", "type", "externalIPs",
            "sessionAffinity", "loadBalancerIP", "loadBalancerSourceRanges", "externalName",
            "externalTrafficPolicy", "healthCheckNodePort", "publishNotReadyAddresses",
            "sessionAffinityConfig", "ipFamilies", "ipFamilyPolicy",
            "allocateLoadBalancerNodePorts", "loadBalancerClass", "internalTrafficPolicy",
            "trafficDistribution",
        ),
    ),
    "Namespace": _kind(_fields("finalizers"), _fields("phase", "conditions")),
    "Deployment": _kind(
        _fields(
            "replicas", "strategy", "minReadySeconds", "revisionHistoryLimit", "paused",
            "progressDeadlineSeconds", selector=_LABEL_SELECTOR, template=_POD_TEMPLATE,
        ),
    ),
    "ReplicaSet": _kind(
        _fields("replicas", "minReadySeconds", selector=_LABEL_SELECTOR, template=_POD_TEMPLATE),
    ),
    "StatefulSet": _kind(
        _fields(
            "replicas", "volumeClaimTemplates", "serviceName", "podManagementPolicy",
            "updateStrategy", "revisionHistoryLimit", "minReadySeconds",
            "persistentVolumeClaimRetentionPolicy", "ordinals",
            selector=_LABEL_SELECTOR, template=_POD_TEMPLATE,
        ),
    ),
    "DaemonSet": _kind(
        _fields(
            "updateStrategy", "minReadySeconds", "revisionHistoryLimit",
            selector=_LABEL_SELECTOR, template=_POD_TEMPLATE,
        ),
    ),
    "Job": _kind(
        _fields(
            "parallelism", "completions", "activeDeadlineSeconds", "podFailurePolicy",
            "successPolicy", "backoffLimit", "backoffLimitPerIndex", "maxFailedIndexes",
            "failedPodsLimit", "manualSelector", "ttlSecondsAfterFinished", "completionMode",
            "suspend", "podReplacementPolicy", "managedBy", "scheduling",
            selector=_LABEL_SELECTOR, template=_POD_TEMPLATE,
        ),
        _fields(
            "conditions", "startTime", "completionTime", "active", "succeeded", "failed",
            "terminating", "completedIndexes", "failedIndexes", "uncountedTerminatedPods",
            "ready",
        ),
    ),
    "List": _fields("apiVersion", "kind", "items", metadata=_LIST_META),
}
"""Per kind, the fields of its Kubernetes API type (core/v1, apps/v1, batch/v1 types.go) at
the levels schedlab walks: the object, ObjectMeta, the spec (a PodSpec to its containers,
affinity, tolerations and spreading constraints; a controller's selector and template), the
status of a Pod, Node, Namespace or Job. A key not listed is unknown to Kubernetes, reported
as ``kubectl --validate=warn`` reports it; maps (labels, requests, nodeSelector) and the
fields schedlab does not read are not walked."""


def unknown_fields(value: Any, schema: _Schema, path: str = "") -> Iterator[tuple[str, Any]]:
    """The (path, value) of each key of ``value`` (a document) unknown to ``schema``, in
    document order; values of another type than the schema's are left to the reader."""
    if not isinstance(value, dict):
        return
    for key, child in value.items():
        shown = key_shown(str(key))
        here = f"{path}.{shown}" if path else shown
        if key not in schema:  # a non-string key is unknown too
            yield here, child
            continue
        inner = schema[key]
        if isinstance(inner, tuple):
            if isinstance(child, list):
                for index, item in enumerate(child):
                    yield from unknown_fields(item, inner[0], f"{here}[{index}]")
        elif inner is not None:
            yield from unknown_fields(child, inner, here)


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
    spec["template"] = {
        "metadata": _pruned(labels=_sorted(labels)),
        "spec": {"containers": _containers_manifest(())},  # a pod needs a container
    }
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


def pod_manifest(pod: Pod) -> dict[str, Any]:
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
            {**_pruned(key=t.key, operator=t.operator, value=t.value, effect=t.effect),
             **({} if t.seconds is None else {"tolerationSeconds": t.seconds})}
            for t in template.tolerations
        ],
        topologySpreadConstraints=[
            _constraint_manifest(c) for c in template.topology_spread_constraints
        ],
        overhead=_quantities(template.overhead),
        initContainers=[_container_manifest(c) for c in template.init_containers],
        containers=_containers_manifest(template.containers),
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


def _containers_manifest(containers: tuple[Container, ...]) -> list[dict[str, Any]]:
    """The containers of a pod; one requesting nothing (``Container()``) when it has none, as
    the API server requires one."""
    return [_container_manifest(c) for c in containers or (Container(),)]


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


# --- pods over time (schedlab.io/arrival, schedlab.io/duration) ------------------------------

ARRIVAL_ANNOTATION = "schedlab.io/arrival"
"""A pod's arrival, in seconds from the trace's start (a decimal string; absent: 0)."""
DURATION_ANNOTATION = "schedlab.io/duration"
"""How long a pod runs once started, in seconds (a decimal string; absent: until the end)."""
_SECONDS = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", re.ASCII)


def _seconds(field: Field, default: float) -> float:
    """An annotation holding seconds: a decimal string (``12``, ``0.5``), finite, >= 0."""
    if field.value is None:
        return default
    if not isinstance(field.value, str) or not _SECONDS.fullmatch(field.value):
        raise field.error("seconds >= 0 as a decimal string, such as \"90\" or \"2.5\"")
    value = float(field.value)
    if not math.isfinite(value):
        raise field.error("a finite number of seconds")
    return value


def pod_times(metadata: Field) -> tuple[float, float]:
    """The (arrival, duration) of a pod's (or pod template's) ``metadata``: its
    ``ARRIVAL_ANNOTATION`` (absent: 0) and ``DURATION_ANNOTATION`` (absent: NaN, runs until
    the end), in seconds."""
    annotations = metadata["annotations"]
    return (_seconds(annotations[ARRIVAL_ANNOTATION], 0.0),
            _seconds(annotations[DURATION_ANNOTATION], math.nan))


DELETION_TIMESTAMP = "deletionTimestamp"
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})", re.ASCII)


def is_deleting(metadata: Field) -> bool:
    """Whether a Pod's ``metadata.deletionTimestamp`` is set (the pod is terminating). The
    value must be an RFC 3339 time (``2024-01-01T00:00:00Z``; YAML may read it unquoted as a
    timestamp, which must then carry its offset); what time it names is not used."""
    field = metadata[DELETION_TIMESTAMP]
    value = field.value
    if value is None:
        return False
    expected = 'an RFC 3339 time with its offset, such as "2024-01-01T00:00:00Z"'
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise field.error(expected)
        return True
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise field.error(expected)
    try:
        datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise field.error(expected) from None
    return True


class _Times(NamedTuple):
    """A pod's times in a trace: seconds from the trace's start (``arrival``), from its start
    (``duration``, NaN: until the end); ``deleting``: it carries a deletionTimestamp."""

    arrival: float
    duration: float
    deleting: bool = False


class _TimedReader(_Reader):
    """The manifest reader, also keeping each pod's and each controller template's times,
    and what the replay needs of each controller (``controllers``)."""

    def __init__(self, strict: bool = False) -> None:
        super().__init__(strict)
        self.pod_times: dict[int, _Times] = {}  # by id(Pod)
        self.controller_times: dict[tuple[str, str, str], _Times] = {}
        self.policies: dict[tuple[str, str, str], str] = {}  # a StatefulSet's

    def add_pod(self, obj: Field, name: str, namespace: str) -> None:
        metadata = obj["metadata"]
        times = _Times(*pod_times(metadata), deleting=is_deleting(metadata))
        super().add_pod(obj, name, namespace)
        listed = self._pod_groups[-1][1]
        assert isinstance(listed, _Listed)
        if listed.pod.template.node_name is not None and times.arrival != 0:
            raise metadata["annotations"][ARRIVAL_ANNOTATION].error(
                "no arrival, or 0, for a pod already bound (spec.nodeName): it is running "
                "when the trace starts")
        self.pod_times[id(listed.pod)] = times

    def add_controller(self, obj: Field, kind: str, name: str, namespace: str, file: str) -> None:
        times = _Times(*pod_times(obj["spec"]["template"]["metadata"]))
        policy = "OrderedReady"
        if kind == "StatefulSet":
            policy = obj["spec"]["podManagementPolicy"].choice(
                POD_MANAGEMENT_POLICIES, default="OrderedReady")
        super().add_controller(obj, kind, name, namespace, file)
        self.controller_times[(kind, namespace, name)] = times
        self.policies[(kind, namespace, name)] = policy

    def controllers(self) -> tuple[Controller, ...]:
        """One ``Controller`` per workload controller of the input, in input order, keyed as
        the pods it creates are owned (a Deployment's own pods by the Deployment, those of
        its ReplicaSets in the input by each ReplicaSet), with the template its pods are made
        from and its template's duration. A Job's ``succeeded`` is the larger of its
        ``status.succeeded`` and its Succeeded pods in the input, as its pods were counted
        (``_Reader._check_total``); call after ``workload``."""
        made = []
        for _, item in self._pod_groups:
            if not isinstance(item, _Controller):
                continue
            key = item.key
            job = item.kind == "Job"
            made.append(Controller(
                item.kind, key[1], item.name, item.template,
                duration=self.controller_times[key].duration,
                pod_management_policy=self.policies[key],
                parallelism=item.count if job else 1,
                completions=item.completions if job else None,
                succeeded=max(item.succeeded, self.succeeded_pods.get(key, 0)) if job else 0,
            ))
        return tuple(made)


def load_manifest_trace(*paths: str | os.PathLike[str], strict: bool = False) -> Trace:
    """The manifests of ``paths`` (read as ``load_manifests`` reads them) as a
    ``schedlab.traces.trace.Trace``: each Pod's arrival and duration come from its
    annotations ``schedlab.io/arrival`` (seconds from the trace's start; absent: 0) and
    ``schedlab.io/duration`` (seconds counted from the pod's start; absent: runs until the
    end), decimal strings; a controller's pods take those of its template's metadata. A pod
    already bound (``spec.nodeName``) arrives at 0. A Pod with ``metadata.deletionTimestamp``
    (an RFC 3339 time, ``is_deleting``) is terminating: its ``deletion`` is its arrival (a
    bound one holds its resources until its duration or the grace period ends, a pending one
    is never scheduled); other pods are never deleted (NaN). ``trace.controllers`` holds one
    ``Controller`` per Deployment, ReplicaSet, StatefulSet, DaemonSet and Job
    (``_TimedReader.controllers``). Pods are sorted by arrival, ties in input order. The
    workload's Services, Namespaces and controller selectors are kept in
    ``trace.workload.objects``."""

    reader = _TimedReader(strict=strict)
    for path in paths:
        reader.read_path(os.fspath(path))
    workload = reader.workload()
    arrival, duration, deletion = [], [], []
    for pod in workload.pods:
        times = reader.pod_times.get(id(pod))
        if times is None and pod.owner is not None:
            times = reader.controller_times.get((pod.owner.kind, pod.namespace, pod.owner.name))
        if times is None:
            times = _Times(0.0, math.nan)
        start = 0.0 if pod.template.node_name is not None else times.arrival
        arrival.append(start)
        duration.append(times.duration)
        deletion.append(start if times.deleting else math.nan)
    source = "manifests: " + ", ".join(os.fspath(p) for p in paths)
    return Trace.sorted(workload, arrival, duration, (), source, deletion, reader.controllers())
