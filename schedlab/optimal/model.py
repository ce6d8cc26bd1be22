"""The placement of a batch of pods as an integer program over counts.

Pods with identical requirements form a class (``Pod.cache_key``: template and owner); a
variable ``x[c, n]`` counts the pods of class c put on node n, for the nodes a single pod of c
passes the profile's per-node filters on (resources, nodeSelector, node affinity, taints,
unschedulable, GPU model and room). Rows keep every node within its free resources and pod
slots, GPU pods on devices (``s[c, n, d]`` sharing pods of c on device d, ``w[n, d]`` device d
taken whole), required pod anti-affinity and affinity per topology domain, and DoNotSchedule
topology spreading, with ``y[c, D]`` telling whether class c has a pod in domain D.

The model is kept solver-neutral (``LinearModel``: integer bounds, integer coefficients) so
that CP-SAT and HiGHS solve exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from schedlab import matching
from schedlab.cluster import ClusterState
from schedlab.framework.cycle import Evaluator
from schedlab.framework.plugin import Scope
from schedlab.framework.profile import Profile
from schedlab.objects import MILLI_PER_GPU, Pod, PodAffinity, PodAffinityTerm
from schedlab.plugins.inter_pod_affinity import InterPodAffinity
from schedlab.plugins.pod_topology_spread import PodTopologySpread
from schedlab.resources import CPU, MEMORY

Objective = Literal["nodes", "balance", "gpu", "score"]
OBJECTIVES: tuple[str, ...] = ("nodes", "balance", "gpu", "score")
"""Secondary objectives, after the priority-weighted number of placed pods: fewest nodes
used, lowest peak utilisation (per mille of cpu or memory on any node), most milli-GPU
allocated, highest total profile score."""
PER_MILLE = 1000
BALANCED_RESOURCES = (CPU, MEMORY)
_INTER_POD_AFFINITY = InterPodAffinity()
_TOPOLOGY_SPREAD = PodTopologySpread()
"""The plugins whose filters give the nodes bound pods rule out by required anti-affinity,
and the nodes counted by a DoNotSchedule spreading constraint (their args play no part)."""


@dataclass
class LinearModel:
    """An integer program: variables with integer bounds, rows ``lo <= Σ coef·var <= hi``
    with integer coefficients, and a linear objective to maximise."""

    lower: list[int] = field(default_factory=list)
    upper: list[int] = field(default_factory=list)
    rows: list[tuple[dict[int, int], float, float]] = field(default_factory=list)
    objective: dict[int, int] = field(default_factory=dict)

    def var(self, lower: int, upper: int) -> int:
        """A new integer variable in [lower, upper]; returns its index."""
        self.lower.append(lower)
        self.upper.append(upper)
        return len(self.lower) - 1

    def add(self, coefs: Mapping[int, int], lo: float = -np.inf, hi: float = np.inf) -> None:
        """The row ``lo <= Σ coefs[v]·v <= hi`` (skipped when empty and satisfied)."""
        coefs = {v: c for v, c in coefs.items() if c}
        if coefs:
            self.rows.append((coefs, lo, hi))
        elif not lo <= 0 <= hi:
            raise ValueError("an empty row that cannot hold")

    @property
    def n_vars(self) -> int:
        return len(self.lower)


@dataclass
class PodClass:
    """Pods with identical requirements, in input order, and what the model reads of them."""

    pods: list[Pod]
    requests: np.ndarray
    """int64 (n_resources,): one pod's real requests."""
    weight: int
    """What placing one pod is worth in the primary objective."""
    gpu_milli: int
    mask: np.ndarray
    """bool (n_nodes,): one pod passes the per-node filters there now."""

    @property
    def pod(self) -> Pod:
        return self.pods[0]


@dataclass
class PlacementModel:
    """The model of one batch, with the variables' meaning (indices into ``model``)."""

    model: LinearModel
    classes: list[PodClass]
    x: dict[tuple[int, int], int]
    """(class, node) → count variable."""
    sharing: dict[tuple[int, int, int], int]
    """(class, node, device) → sharing pods of the class on the device."""
    whole: dict[tuple[int, int], int]
    """(node, device) → 1 when the device is taken whole."""
    domains: dict[tuple[int, str, int], int]
    """(class, topology key, value code) → 1 when the class has a pod in that domain."""
    primary: dict[int, int]
    """The primary objective: priority-weighted pods placed."""
    secondary: dict[int, int]
    """The secondary objective (to maximise; minimising objectives are negated)."""
    secondary_offset: int = 0
    """Added to the secondary objective's value to give the figure reported (e.g. nodes
    already in use, negated)."""
    x_by_class: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    """class → its (node, count variable) pairs."""
    grouped: dict[tuple[int, str], dict[int, list[int]]] = field(default_factory=dict)


def priority_weights(pods: Sequence[Pod]) -> dict[int, int]:
    """Each distinct priority of ``pods`` → what one placed pod of it is worth: 1 plus the
    number of distinct lower priorities in the batch."""
    levels = sorted({p.template.priority for p in pods})
    return {level: rank + 1 for rank, level in enumerate(levels)}


def pod_classes(state: ClusterState, pods: Sequence[Pod], profile: Profile) -> list[PodClass]:
    """The batch's classes in order of first appearance, with their per-node masks."""
    per_node = Profile(tuple(f for f in profile.filters if f.scope is not Scope.CLUSTER))
    evaluator = Evaluator(per_node, state)
    weights = priority_weights(pods)
    grouped: dict[object, list[Pod]] = {}
    for pod in pods:
        grouped.setdefault(pod.cache_key, []).append(pod)
    classes = []
    for members in grouped.values():
        pod = members[0]
        gpu = pod.template.gpu
        classes.append(PodClass(
            members, state.requests_of(pod).requested, weights[pod.template.priority],
            0 if gpu is None else gpu.total_milli,
            evaluator.evaluate(pod).feasible.copy(),
        ))
    return classes


def _fits_alone(state: ClusterState, cls: PodClass, node: int) -> int:
    """How many pods of ``cls`` node ``node`` could take by resources and pod slots alone."""
    free = state.allocatable[node] - state.requested[node]
    asked = cls.requests > 0
    most = len(cls.pods)
    if asked.any():
        most = min(most, int((free[asked] // cls.requests[asked]).min()))
    return max(0, min(most, int(state.allowed_pods[node] - state.pod_count[node])))


def build(state: ClusterState, classes: list[PodClass], objective: Objective,
          scores: Mapping[int, np.ndarray] | None = None) -> PlacementModel:
    """The integer program placing the pods of ``classes`` (``pod_classes``) on ``state``.

    ``scores`` (class index → int64 (n_nodes,) profile score of one pod of the class) is
    needed for the "score" objective only."""
    _mask_affinity(state, classes)
    model = LinearModel()
    x: dict[tuple[int, int], int] = {}
    for c, cls in enumerate(classes):
        for n in np.flatnonzero(cls.mask).tolist():
            most = _fits_alone(state, cls, int(n))
            if most > 0:
                x[c, int(n)] = model.var(0, most)
    placement = PlacementModel(model, classes, x, {}, {}, {}, {}, {})
    for (c, n), v in x.items():
        placement.x_by_class.setdefault(c, []).append((n, v))
    for c, cls in enumerate(classes):
        model.add({v: 1 for _, v in placement.x_by_class.get(c, ())}, hi=len(cls.pods))
    by_node: dict[int, list[tuple[int, int]]] = {}
    for (c, n), v in x.items():
        by_node.setdefault(n, []).append((c, v))
    for n, members in by_node.items():
        _node_rows(state, placement, n, members)
    _gpu_rows(state, placement, by_node)
    _anti_affinity_rows(state, placement)
    _affinity_rows(state, placement)
    _spread_rows(state, placement)
    placement.primary = {v: classes[c].weight for (c, _), v in x.items()}
    _secondary(state, placement, by_node, objective, scores)
    return placement


# ----------------------------------------------------------------------------- node rows
def _node_rows(state: ClusterState, placement: PlacementModel, n: int,
               members: list[tuple[int, int]]) -> None:
    model, classes = placement.model, placement.classes
    free = state.allocatable[n] - state.requested[n]
    for r in range(len(state.resources)):
        coefs = {v: int(classes[c].requests[r]) for c, v in members}
        worst = sum(k * model.upper[v] for v, k in coefs.items())
        if worst > free[r]:
            model.add(coefs, hi=int(free[r]))
    slots = int(state.allowed_pods[n] - state.pod_count[n])
    if sum(model.upper[v] for _, v in members) > slots:
        model.add({v: 1 for _, v in members}, hi=slots)


def _gpu_rows(state: ClusterState, placement: PlacementModel,
              by_node: Mapping[int, list[tuple[int, int]]]) -> None:
    """Sharing pods on one device's remainder each, whole-GPU pods on fully free devices."""
    model, classes = placement.model, placement.classes
    for n, members in by_node.items():
        asking = [(c, v) for c, v in members if classes[c].pod.template.gpu is not None]
        if not asking:
            continue
        free = state.gpu_free[n, : state.gpu_count[n]]
        device_load: dict[int, dict[int, int]] = {d: {} for d in range(len(free))}
        whole_count: dict[int, int] = {}
        for c, v in asking:
            gpu = classes[c].pod.template.gpu
            assert gpu is not None  # asking holds the pods asking for GPUs only
            if gpu.shares:
                split = {v: 1}
                for d, f in enumerate(free):
                    if f >= gpu.milli:
                        s = placement.sharing[c, n, d] = model.var(0, int(f // gpu.milli))
                        device_load[d][s] = gpu.milli
                        split[s] = -1
                model.add(split, 0, 0)
            else:
                whole_count[v] = gpu.count
        if whole_count:
            for d, f in enumerate(free):
                if f == MILLI_PER_GPU:
                    w = placement.whole[n, d] = model.var(0, 1)
                    device_load[d][w] = MILLI_PER_GPU
                    whole_count[w] = -1
            model.add(whole_count, 0, 0)
        for d, load in device_load.items():
            if load:
                model.add(load, hi=int(free[d]))


# ----------------------------------------------------------------------------- domains
def _by_domain(state: ClusterState, placement: PlacementModel, c: int, key: str
               ) -> dict[int, list[int]]:
    """Class c's count variables grouped by the value code of node label ``key`` (nodes
    without the key left out)."""
    cache = placement.grouped
    if (c, key) not in cache:
        codes = state.labels.codes(key)
        grouped: dict[int, list[int]] = {}
        for n, v in placement.x_by_class.get(c, ()):
            if codes[n] >= 0:
                grouped.setdefault(int(codes[n]), []).append(v)
        cache[c, key] = grouped
    return cache[c, key]


def _domain_var(state: ClusterState, placement: PlacementModel, c: int, key: str, code: int
                ) -> int:
    """y[c, (key, value code)]: 1 exactly when class c has a pod on a node of that domain."""
    index = (c, key, code)
    if index not in placement.domains:
        model = placement.model
        y = placement.domains[index] = model.var(0, 1)
        variables = _by_domain(state, placement, c, key).get(code, ())
        for v in variables:
            model.add({v: 1, y: -model.upper[v]}, hi=0)
        model.add({y: 1, **dict.fromkeys(variables, -1)}, hi=0)  # and 0 without a pod there
    return placement.domains[index]


def _matching_classes(placement: PlacementModel, selector: matching.PodSelector,
                      state: ClusterState) -> list[int]:
    return [c for c, cls in enumerate(placement.classes)
            if selector.matches(cls.pod.template, state.objects)]


def _bound_domains(state: ClusterState, selector: matching.PodSelector, key: str
                   ) -> set[str]:
    """Values of ``key`` whose nodes hold a bound pod ``selector`` matches."""
    counts = state.tally((selector,)).domains(key)
    return {v for i, v in enumerate(state.labels.values(key)) if counts[i] > 0}


def _required(rules: PodAffinity | None) -> tuple[PodAffinityTerm, ...]:
    """The required terms of a pod's podAffinity or podAntiAffinity (none if absent)."""
    return () if rules is None else rules.required


def _mask_affinity(state: ClusterState, classes: list[PodClass]) -> None:
    """Take out the nodes bound pods rule out (InterPodAffinity's filter): domains holding
    pods a class's required anti-affinity matches, or whose pods' required anti-affinity
    matches the class."""
    for cls in classes:
        passing = _INTER_POD_AFFINITY.anti_affinity_passing(state, cls.pod)
        if passing is not None:
            cls.mask &= passing


def _anti_affinity_rows(state: ClusterState, placement: PlacementModel) -> None:
    """Pending pods of classes a required anti-affinity term separates never share a domain;
    a class whose term matches itself has at most one pod per domain."""
    model = placement.model
    for c, cls in enumerate(placement.classes):
        for term in _required(cls.pod.template.pod_anti_affinity):
            selector = matching.PodSelector.of_term(term, cls.pod.namespace)
            key = term.topology_key
            mine = _by_domain(state, placement, c, key)
            for other in _matching_classes(placement, selector, state):
                if other == c:
                    for variables in mine.values():
                        if sum(model.upper[v] for v in variables) > 1:
                            model.add({v: 1 for v in variables}, hi=1)
                    continue
                theirs = _by_domain(state, placement, other, key)
                for code in mine.keys() & theirs.keys():
                    model.add({_domain_var(state, placement, c, key, code): 1,
                               _domain_var(state, placement, other, key, code): 1}, hi=1)


def _affinity_rows(state: ClusterState, placement: PlacementModel) -> None:
    """Required pod affinity, per term: a class's pod goes to a domain holding a bound pod
    the term matches, or one where a pending class the term matches has a pod (a
    relaxation: which comes first depends on the bind order, which the binding checks).
    When neither can exist and the class matches its own term, all its pods share one domain
    (kube's first-pod rule); when it does not, it goes nowhere. Nodes without the key never
    satisfy a term."""
    model = placement.model
    for c, cls in enumerate(placement.classes):
        for term in _required(cls.pod.template.pod_affinity):
            selector = matching.PodSelector.of_term(term, cls.pod.namespace)
            key = term.topology_key
            codes = state.labels.codes(key)
            for n, v in placement.x_by_class.get(c, ()):
                if codes[n] < 0:
                    model.upper[v] = 0
            values = state.labels.values(key)
            held = {values.index(v) for v in _bound_domains(state, selector, key)}
            others = [k for k in _matching_classes(placement, selector, state) if k != c]
            mine = _by_domain(state, placement, c, key)
            if selector.matches(cls.pod.template, state.objects):
                if not held and not others:
                    model.add({_domain_var(state, placement, c, key, code): 1
                               for code in mine}, hi=1)
                if not held:
                    continue  # its own pods, or other classes', may come first: relaxed
            for code, variables in mine.items():
                if code in held:
                    continue
                partners = [_domain_var(state, placement, k, key, code) for k in others
                            if code in _by_domain(state, placement, k, key)]
                most = sum(model.upper[v] for v in variables)
                if not partners:
                    for v in variables:
                        model.upper[v] = 0
                elif most:
                    model.add({**dict.fromkeys(variables, 1),
                               **dict.fromkeys(partners, -most)}, hi=0)


def _spread_rows(state: ClusterState, placement: PlacementModel) -> None:
    """DoNotSchedule spreading of a class's own constraints, on the final counts: in every
    domain where the class has a pod, matching pods there minus the fewest in any eligible
    domain (0 below minDomains) stay within maxSkew. The policy binds the pods in an order
    that keeps each step within it, and checks every step. A constraint whose selector also
    matches pods of another pending class is left out (a relaxation: which pods count at each
    bind depends on the bind order), so bounds stay valid and the binding check enforces it."""
    model = placement.model
    for c, cls in enumerate(placement.classes):
        pod = cls.pod
        # (the system defaults schedule anyway: the hard constraints are the pod's own)
        for constraint, eligible in _TOPOLOGY_SPREAD.hard_constraints(state, pod):
            key = constraint.topology_key
            label_selector = matching.spread_selector(constraint, pod.template.labels)
            selector = matching.PodSelector(label_selector, frozenset({pod.namespace}))
            for n, v in placement.x_by_class.get(c, ()):
                if not eligible[n]:
                    model.upper[v] = 0
            codes = np.where(eligible, state.labels.codes(key), -1)
            domain_codes = sorted(set(codes[codes >= 0].tolist()))
            if not domain_codes:
                continue
            bound = state.tally((selector,), terminating=False).per_node
            counted = _matching_classes(placement, selector, state)
            if any(k != c for k in counted):
                continue  # their bind order would decide: relaxed (the binding checks it)
            count: dict[int, dict[int, int]] = {code: {} for code in domain_codes}
            for k in counted:
                for n, v in placement.x_by_class.get(k, ()):
                    if codes[n] >= 0:
                        count[int(codes[n])][v] = 1
            existing = {code: int(bound[codes == code].sum()) for code in domain_codes}
            total = sum(len(placement.classes[k].pods) for k in counted) + int(bound.sum())
            least = None
            if len(domain_codes) >= constraint.min_domains:  # else the minimum counts as 0
                least = model.var(0, total)
                for code in domain_codes:  # least <= count in every domain
                    model.add({**{v: -1 for v in count[code]}, least: 1}, hi=existing[code])
            mine = _by_domain(state, placement, c, key)
            slack = total + constraint.max_skew
            for code in domain_codes:
                if code not in mine:
                    continue
                # count - least <= maxSkew when the class is in the domain (else loose)
                row = {**count[code], _domain_var(state, placement, c, key, code): slack}
                if least is not None:
                    row[least] = -1
                model.add(row, hi=constraint.max_skew - existing[code] + slack)


# ----------------------------------------------------------------------------- objectives
def _secondary(state: ClusterState, placement: PlacementModel,
               by_node: Mapping[int, list[tuple[int, int]]], objective: Objective,
               scores: Mapping[int, np.ndarray] | None) -> None:
    model, classes = placement.model, placement.classes
    if objective == "nodes":
        used = int((state.pod_count > 0).sum())
        secondary = {}
        for n, members in by_node.items():
            if state.pod_count[n] > 0:
                continue
            u = model.var(0, 1)
            secondary[u] = -1
            for _, v in members:
                model.add({v: 1, u: -model.upper[v]}, hi=0)
        placement.secondary, placement.secondary_offset = secondary, -used
    elif objective == "balance":
        peak = model.var(0, PER_MILLE * 1000)
        floor = 0
        for r, name in enumerate(state.resources.names):
            if name not in BALANCED_RESOURCES:
                continue
            for n in range(state.n_nodes):
                alloc = int(state.allocatable[n, r])
                if alloc <= 0:
                    continue
                already = PER_MILLE * int(state.requested[n, r])
                floor = max(floor, -(-already // alloc))
                coefs = {v: PER_MILLE * int(classes[c].requests[r])
                         for c, v in by_node.get(n, ())}
                if any(coefs.values()):
                    model.add({**coefs, peak: -alloc}, hi=-already)
        model.lower[peak] = floor
        placement.secondary = {peak: -1}
    elif objective == "gpu":
        placement.secondary = {v: classes[c].gpu_milli for (c, _), v in placement.x.items()}
    elif objective == "score":
        if scores is None:
            raise ValueError("the score objective needs the profile's scores")
        placement.secondary = {v: int(scores[c][n]) for (c, n), v in placement.x.items()}
    else:
        raise ValueError(f"unknown objective {objective!r}")


def objective_value(coefs: Mapping[int, int], values: Sequence[int] | np.ndarray) -> int:
    """Σ coefs[v] · values[v]."""
    return int(sum(k * int(values[v]) for v, k in coefs.items()))


def counts_of(placement: PlacementModel, values: Sequence[int] | np.ndarray
              ) -> dict[tuple[int, int], int]:
    """(class, node) → pods placed, for the non-zero counts of a solution."""
    return {key: int(values[v]) for key, v in placement.x.items() if values[v]}

