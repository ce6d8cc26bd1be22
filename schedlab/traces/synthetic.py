"""Synthetic clusters and workloads, generated from a seed (same seed, same objects).

``generate`` makes a small mixed cluster (three zones, three node types, a tainted GPU pool)
and a workload of a few pod shapes drawn from several Deployments; it is what
``traces/default`` holds. ``basic`` makes kube-scheduler's SchedulingBasic-like benchmark
input: identical nodes and a few pod shapes. ``spread`` makes many zones of identical nodes
and Deployments whose pods spread across zones and keep off each other's nodes. ``trace``
makes ``generate``'s cluster with pods arriving over time (a ``Trace``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from schedlab.objects import (
    ApiObjects,
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
from schedlab.traces.trace import Trace

GI = 1024**3
MI = 1024**2
ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"
INSTANCE_TYPE = "node.kubernetes.io/instance-type"
GPU = "nvidia.com/gpu"


@dataclass(frozen=True)
class NodeType:
    name: str
    cpu_milli: int
    memory_bytes: int
    gpus: int = 0
    share: float = 1.0


NODE_TYPES = (
    NodeType("standard-4", 4000, 16 * GI, share=0.5),
    NodeType("highmem-8", 8000, 64 * GI, share=0.35),
    NodeType("gpu-16", 16000, 64 * GI, gpus=4, share=0.15),
)
GPU_TAINT = Taint(GPU, "present", "NoSchedule")


def _container(cpu_milli: int | None, memory_bytes: int | None, gpus: int = 0,
               name: str = "main") -> Container:
    requests = {k: v for k, v in (("cpu", cpu_milli), ("memory", memory_bytes)) if v is not None}
    return Container(name, requests={**requests, **({GPU: gpus} if gpus else {})})


def _prefer_zone(zone: str, weight: int) -> NodeAffinity:
    term = NodeSelectorTerm((NodeSelectorRequirement(ZONE, "In", (zone,)),))
    return NodeAffinity(preferred=(PreferredSchedulingTerm(weight, term),))


def _templates() -> dict[str, tuple[PodTemplate, float]]:
    """The workload's pod shapes with their share of pods."""
    gpu_only = NodeAffinity(required=(NodeSelectorTerm(
        (NodeSelectorRequirement(INSTANCE_TYPE, "In", ("gpu-16",)),)),))
    return {
        "web": (PodTemplate(labels={"app": "web"}, containers=(
            _container(250, 512 * MI), _container(50, 64 * MI, name="proxy"))), 0.35),
        "api": (PodTemplate(labels={"app": "api"}, containers=(_container(500, 1 * GI),),
                            affinity=_prefer_zone("zone-a", 50)), 0.2),
        "batch": (PodTemplate(labels={"app": "batch"}, containers=(_container(2000, 4 * GI),)),
                  0.2),
        "cache": (PodTemplate(labels={"app": "cache"}, containers=(_container(1000, 12 * GI),)),
                  0.1),
        "tools": (PodTemplate(labels={"app": "tools"}, containers=(
            _container(None, None),)), 0.1),
        "trainer": (PodTemplate(labels={"app": "trainer"}, containers=(
            _container(4000, 16 * GI, gpus=1),), tolerations=(Toleration(GPU, "Exists"),),
            affinity=gpu_only), 0.05),
    }


def generate(n_nodes: int = 50, n_pods: int = 500, seed: int = 0, zones: int = 3) -> Workload:
    """A mixed cluster of ``n_nodes`` nodes in ``zones`` zones and ``n_pods`` pending pods.

    Node types follow ``NODE_TYPES`` shares (GPU nodes are tainted); pods come from the
    shapes of ``_templates`` in random order, named ``<shape>-<i>`` and owned by a
    Deployment per shape.
    """
    rng = np.random.default_rng(seed)
    shares = np.array([t.share for t in NODE_TYPES])
    kinds = rng.choice(len(NODE_TYPES), size=n_nodes, p=shares / shares.sum())
    nodes = []
    for i, kind in enumerate(kinds):
        node_type = NODE_TYPES[kind]
        name = f"node-{i:04d}"
        allocatable = {"cpu": node_type.cpu_milli, "memory": node_type.memory_bytes,
                       "ephemeral-storage": 100 * GI, "pods": 110}
        if node_type.gpus:
            allocatable[GPU] = node_type.gpus
        labels = {HOSTNAME: name, ZONE: f"zone-{'abcdefghij'[i % zones]}",
                  INSTANCE_TYPE: node_type.name}
        taints = (GPU_TAINT,) if node_type.gpus else ()
        nodes.append(Node(name, allocatable, labels, taints))
    templates = _templates()
    names = list(templates)
    weights = np.array([share for _, share in templates.values()])
    shapes = rng.choice(len(names), size=n_pods, p=weights / weights.sum())
    counters = dict.fromkeys(names, 0)
    pods = []
    for shape in shapes:
        name = names[shape]
        owner = OwnerRef("Deployment", name)
        pods.append(Pod(f"{name}-{counters[name]}", templates[name][0], owner))
        counters[name] += 1
    return Workload(tuple(nodes), tuple(pods), _deployments(templates[n][0] for n in names))


def _deployments(templates: Iterable[PodTemplate]) -> ApiObjects:
    """The Deployments owning pods of ``templates``, named by their ``app`` label and
    selecting it."""
    return ApiObjects(controllers={
        ("Deployment", t.namespace, t.labels["app"]): LabelSelector({"app": t.labels["app"]})
        for t in templates
    })


def basic(n_nodes: int, n_pods: int, seed: int = 0) -> Workload:
    """kube-scheduler's SchedulingBasic, with a few pod shapes: nodes of 4 cpu, 32Gi and 110
    pods; pods of 100m/500Mi, 250m/1Gi or 500m/2Gi in random order."""
    rng = np.random.default_rng(seed)
    nodes = [
        Node(f"node-{i}", {"cpu": 4000, "memory": 32 * GI, "pods": 110},
             {HOSTNAME: f"node-{i}", ZONE: f"zone-{i % 3}"})
        for i in range(n_nodes)
    ]
    shapes = [PodTemplate(containers=(_container(c, m),))
              for c, m in ((100, 500 * MI), (250, 1 * GI), (500, 2 * GI))]
    picks = rng.integers(len(shapes), size=n_pods)
    return Workload(tuple(nodes), tuple(Pod(f"pod-{i}", shapes[k]) for i, k in enumerate(picks)))


def spread(n_nodes: int, n_pods: int, zones: int = 50, replicas: int = 100, seed: int = 0,
           shuffle: bool = False) -> Workload:
    """Nodes as in ``basic`` spread round-robin over ``zones`` zones; ``n_pods`` pods from
    Deployments of ``replicas`` pods (the last may have fewer), one Deployment after the
    other as the manifest reader expands them, or in random order with ``shuffle``. Each
    Deployment's pods spread over zones (maxSkew 1, DoNotSchedule) and keep off nodes that
    already run one of them (required anti-affinity on the hostname)."""
    rng = np.random.default_rng(seed)
    nodes = [
        Node(f"node-{i}", {"cpu": 4000, "memory": 32 * GI, "pods": 110},
             {HOSTNAME: f"node-{i}", ZONE: f"zone-{i % zones}"})
        for i in range(n_nodes)
    ]
    shapes = ((100, 500 * MI), (250, 1 * GI), (500, 2 * GI))
    templates = []
    for d in range(-(-n_pods // replicas)):
        app = LabelSelector({"app": f"app-{d}"})
        cpu, memory = shapes[d % len(shapes)]
        templates.append(PodTemplate(
            labels={"app": f"app-{d}"},
            containers=(_container(cpu, memory),),
            topology_spread_constraints=(TopologySpreadConstraint(1, ZONE, label_selector=app),),
            pod_anti_affinity=PodAffinity(required=(PodAffinityTerm(HOSTNAME, app),)),
        ))
    owners = np.repeat(np.arange(len(templates)), replicas)[:n_pods]
    pods = [Pod(f"app-{d}-{i % replicas}", templates[d], OwnerRef("Deployment", f"app-{d}"))
            for i, d in enumerate(owners)]
    order = rng.permutation(n_pods) if shuffle else range(n_pods)
    return Workload(tuple(nodes), tuple(pods[i] for i in order), _deployments(templates))


POD_SHAPES: tuple[tuple[int, int], ...] = (
    (250, 1), (250, 2), (500, 1), (500, 2), (500, 4), (1000, 2),
    (1000, 4), (1000, 8), (2000, 4), (2000, 8), (4000, 8), (4000, 16),
)
"""Twelve request sizes as (cpu millicores, memory GiB), the t-shirt sizes clusters use."""


def shapes(n_nodes: int, n_pods: int, load: float = 1.1, seed: int = 0) -> Workload:
    """A packing problem: ``n_pods`` pods of the twelve ``POD_SHAPES`` drawn from ``seed``,
    in random order, on ``n_nodes`` identical nodes (whole cpus, 4Gi of memory per cpu, 110
    pods) sized so that the pods ask about ``load`` × the cluster's cpu (above 1, not all of
    them fit)."""
    rng = np.random.default_rng(seed)
    templates = [PodTemplate(containers=(_container(cpu, memory * GI),))
                 for cpu, memory in POD_SHAPES]
    picks = rng.integers(len(POD_SHAPES), size=n_pods)
    asked = sum(POD_SHAPES[k][0] for k in picks)
    node_cpu = max(4000, int(asked / load / max(n_nodes, 1)) // 1000 * 1000)
    nodes = [
        Node(f"node-{i}", {"cpu": node_cpu, "memory": node_cpu // 1000 * 4 * GI, "pods": 110},
             {HOSTNAME: f"node-{i}", ZONE: f"zone-{i % 3}"})
        for i in range(n_nodes)
    ]
    return Workload(tuple(nodes),
                    tuple(Pod(f"pod-{i}", templates[k]) for i, k in enumerate(picks)))


TEAMS: tuple[tuple[str, float], ...] = (
    ("search", 0.3), ("ads", 0.2), ("maps", 0.15), ("mail", 0.1), ("video", 0.1),
    ("photos", 0.07), ("docs", 0.05), ("labs", 0.03),
)
"""The label mix of ``trace``: each pod's ``team`` label, with its share of pods."""
MEAN_DURATION = 3600.0
"""``trace``'s default mean pod duration, in seconds."""
DURATION_SIGMA = 1.0
"""``trace``'s default sigma of the log of durations (lognormal)."""


DAY_SECONDS = 86_400.0


def _arrivals(rng: np.random.Generator, n_pods: int, rate: float, swing: float) -> np.ndarray:
    """float64 (n_pods,): the arrival times (s) of a Poisson process of mean rate ``rate``
    per second, modulated by ``1 + swing × sin(2π t / day)`` (time rescaling: unit-rate
    arrivals in the integrated rate, mapped back through it)."""
    if not swing or not n_pods:
        return np.cumsum(rng.exponential(1.0 / rate, size=n_pods))
    units = np.cumsum(rng.exponential(1.0, size=n_pods))
    span = units[-1] / rate / (1 - swing) + DAY_SECONDS  # beyond the last arrival
    grid = np.linspace(0.0, span, int(span // 60) + 2)  # a point a minute
    integrated = rate * (grid + swing * DAY_SECONDS / (2 * np.pi)
                         * (1 - np.cos(2 * np.pi * grid / DAY_SECONDS)))
    return np.interp(units, integrated, grid)


def trace(n_nodes: int, n_pods: int, seed: int = 0, load: float = 0.8,
          mean_duration: float = MEAN_DURATION, sigma: float = DURATION_SIGMA,
          zones: int = 3, swing: float = 0.0) -> Trace:
    """A synthetic ``Trace``: the cluster of ``generate`` (``n_nodes`` nodes of
    ``NODE_TYPES`` in ``zones`` zones) and ``n_pods`` pods arriving over time.

    Pod shapes are ``generate``'s six (web, api, batch, cache, tools, trainer), each pod
    also labelled ``team`` from ``TEAMS`` (by its shares): a pod of shape S and team T is named
    ``S-T-i`` and owned by the Deployment ``S-T`` (48 templates). The trainers run only on the
    tainted GPU nodes and the other shapes only elsewhere, so each pool gets its own Poisson
    stream of arrivals (merged in time order), of rate

        rate = load × the pool's cpu / (mean cpu request in the pool × mean_duration)

    pods per second, the mean over the pool's shapes in ``generate``'s shares: the running
    pods ask ``load`` of each pool's cpu, hence of the cluster's, on average once the cluster
    is in steady state (Little's law, every pod starting at arrival). With ``swing`` (0 to
    below 1) the rate follows a day, × (1 + swing × sin(2π t / 86,400 s)): busiest 6 h in,
    quietest 18 h in, the same mean. Durations are lognormal
    with mean ``mean_duration`` seconds and
    ``sigma`` (the log's standard deviation; mu = ln(mean_duration) - sigma²/2). Times are
    rounded to milliseconds. The same arguments give the same trace.
    """

    if not (n_nodes >= 1 and n_pods >= 0 and load > 0 and mean_duration > 0 and sigma >= 0
            and 0 <= swing < 1):
        raise ValueError("trace: expected n_nodes >= 1, n_pods >= 0, load > 0, "
                         "mean_duration > 0, sigma >= 0, 0 <= swing < 1")
    cluster = generate(n_nodes, 0, seed, zones)
    rng = np.random.default_rng([seed, 1])
    shapes = _templates()
    shape_names = list(shapes)
    shares = np.array([share for _, share in shapes.values()])
    shares = shares / shares.sum()
    team_shares = np.array([share for _, share in TEAMS])
    team_shares = team_shares / team_shares.sum()
    templates = {}
    for shape in shape_names:
        base = shapes[shape][0]
        for team, _ in TEAMS:
            labels = {**base.labels, "team": team}
            templates[(shape, team)] = replace(base, labels=labels)
    gpu_pool = np.array([name == "trainer" for name in shape_names])
    cpu = np.array([shapes[name][0].requests.get("cpu", 0) for name in shape_names], float)
    node_cpu = np.array([node.allocatable.get("cpu", 0) for node in cluster.nodes], float)
    on_gpu_nodes = np.array([bool(node.taints) for node in cluster.nodes])
    rates = np.zeros(len(shape_names))
    for pool, pool_cpu in ((gpu_pool, node_cpu[on_gpu_nodes].sum()),
                           (~gpu_pool, node_cpu[~on_gpu_nodes].sum())):
        pool_shares = np.where(pool, shares, 0.0) / shares[pool].sum()
        rates += pool_shares * load * pool_cpu / (float(pool_shares @ cpu) * mean_duration)
    rate = float(rates.sum())  # (the two streams merged: one of the summed rate)
    shares = rates / rate
    arrival = np.round(_arrivals(rng, n_pods, rate, swing), 3)
    mu = np.log(mean_duration) - sigma**2 / 2
    duration = np.round(rng.lognormal(mu, sigma, size=n_pods), 3)
    picks = rng.choice(len(shape_names), size=n_pods, p=shares)
    teams = rng.choice(len(TEAMS), size=n_pods, p=team_shares)
    counters: dict[tuple[str, str], int] = {}
    owners = {key: OwnerRef("Deployment", f"{key[0]}-{key[1]}") for key in templates}
    pods = []
    for shape, team in zip(picks.tolist(), teams.tolist(), strict=True):
        key = (shape_names[shape], TEAMS[team][0])
        index = counters.get(key, 0)
        counters[key] = index + 1
        pods.append(Pod(f"{key[0]}-{key[1]}-{index}", templates[key], owners[key]))
    objects = ApiObjects(controllers={
        ("Deployment", t.namespace, f"{shape}-{team}"): LabelSelector(dict(t.labels))
        for (shape, team), t in templates.items()})
    workload = Workload(cluster.nodes, tuple(pods), objects)
    source = (f"synthetic: schedlab.traces.synthetic.trace(n_nodes={n_nodes}, n_pods={n_pods}, "
              f"seed={seed}, load={load:g}, mean_duration={mean_duration:g}, "
              f"sigma={sigma:g}" + (f", swing={swing:g})" if swing else ")"))
    return Trace(workload, arrival, duration, (), source)
