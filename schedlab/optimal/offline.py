"""An upper bound on the GPU any placement of a workload can allocate (the offline optimum of
the FGD experiment, which no online policy can beat).

Nodes with the same resources and GPU model form a type; the pods of one shape (cpu,
memory, GPU ask) a class. The bound maximises the milli-GPU placed when each type only has to
hold its pods in total (cpu, memory, pod slots, milli-GPU, whole GPUs, and only the classes
one of its nodes could take alone): a relaxation of the real packing, so its optimum (or the
solver's bound on it) is an upper bound on any placement's allocation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from schedlab.gpu import gpu_capacity_milli
from schedlab.objects import MILLI_PER_GPU, Node, Pod, Workload
from schedlab.optimal.model import LinearModel
from schedlab.optimal.solve import Solver, solve
from schedlab.resources import CPU, MEMORY, PODS


@dataclass(frozen=True)
class GpuBound:
    """``bound_milli`` no placement allocates more milli-GPU than; ``status`` of the
    relaxation's solve ("optimal": the relaxation's optimum; "feasible": the solver's
    bound on it); ``capacity_milli`` the cluster's; ``seconds``."""

    bound_milli: int
    capacity_milli: int
    status: str
    seconds: float

    @property
    def allocation_pct(self) -> float:
        """The bound as % of the GPU capacity."""
        return 100 * self.bound_milli / self.capacity_milli if self.capacity_milli else 0.0


def _node_type(node: Node) -> tuple:
    return (node.allocatable.get(CPU, 0), node.allocatable.get(MEMORY, 0),
            node.allocatable.get(PODS, 0), node.gpus, node.gpu_model)


def _pod_class(pod: Pod) -> tuple:
    requests = pod.template.requests
    return requests.get(CPU, 0), requests.get(MEMORY, 0), pod.template.gpu


def gpu_allocation_bound(workload: Workload, *, solver: Solver = "highs",
                         time_limit: float = 60.0) -> GpuBound:
    """The upper bound on the milli-GPU a placement of ``workload``'s pods (none bound) on
    its empty nodes can allocate (see the module docstring)."""
    types = Counter(_node_type(n) for n in workload.nodes)
    classes = Counter(_pod_class(p) for p in workload.pods)
    model = LinearModel()
    x: dict[tuple[tuple, tuple], int] = {}
    by_kind: dict[tuple, dict[tuple, int]] = {kind: {} for kind in types}
    by_shape: dict[tuple, list[int]] = {shape: [] for shape in classes}
    for kind in types:
        cpu, memory, _, gpus, gpu_model = kind
        for shape, count in classes.items():
            pod_cpu, pod_memory, gpu = shape
            fits = pod_cpu <= cpu and pod_memory <= memory and (gpu is None or (
                gpu.count <= gpus and (not gpu.models or gpu_model in gpu.models)))
            if fits:
                v = x[kind, shape] = by_kind[kind][shape] = model.var(0, count)
                by_shape[shape].append(v)
    for shape, count in classes.items():
        model.add(dict.fromkeys(by_shape[shape], 1), hi=count)
    for kind, n in types.items():
        cpu, memory, slots, gpus, _ = kind
        mine = by_kind[kind]
        model.add({v: shape[0] for shape, v in mine.items()}, hi=n * cpu)
        model.add({v: shape[1] for shape, v in mine.items()}, hi=n * memory)
        model.add({v: 1 for v in mine.values()}, hi=n * slots)
        model.add({v: shape[2].total_milli for shape, v in mine.items() if shape[2]},
                  hi=n * gpus * MILLI_PER_GPU)
        model.add({v: shape[2].count for shape, v in mine.items()
                   if shape[2] and not shape[2].shares}, hi=n * gpus)
    objective = {v: shape[2].total_milli for (_, shape), v in x.items() if shape[2]}
    stage = solve(model, objective, solver=solver, time_limit=time_limit, num_workers=2,
                  seed=0, deterministic=False)
    capacity = gpu_capacity_milli(workload.nodes)
    if stage.values is None or stage.bound is None:  # no bound in time: capacity still is
        return GpuBound(capacity, capacity, "none", stage.seconds)
    bound = min(int(stage.bound + 1e-6), capacity)
    return GpuBound(bound, capacity, stage.status, stage.seconds)
