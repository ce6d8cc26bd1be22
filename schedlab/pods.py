"""Pod requests compiled to vectors over a cluster's resource axis."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from schedlab.objects import PodTemplate
from schedlab.resources import ResourceAxis


@dataclass(frozen=True)
class PodRequests:
    """A pod's requests over a ``ResourceAxis``.

    requested  int64 (n_resources,): real requests (kube's PodRequests)
    nonzero    int64 (n_resources,): with the non-zero cpu/memory defaults, for scoring
    missing    names of requested (> 0) resources that no node of the cluster has
    columns    int64 (n requested,): the columns where ``requested`` > 0
    derived    a scratch cache for plugins: values derived from these requests and the
               cluster's fixed allocatable
    """

    requested: np.ndarray
    nonzero: np.ndarray
    missing: tuple[str, ...]
    columns: np.ndarray
    derived: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_empty(self) -> bool:
        """True when the pod requests nothing at all (kube's fast path in the fit filter)."""
        return not len(self.columns) and not self.missing


def _vector(amounts: dict[str, int], axis: ResourceAxis) -> np.ndarray:
    vector = np.zeros(len(axis), dtype=np.int64)
    for name, amount in amounts.items():
        if name in axis.index:
            vector[axis.index[name]] = amount
    vector.flags.writeable = False
    return vector


def compile_requests(template: PodTemplate, axis: ResourceAxis) -> PodRequests:
    """Vectors of ``template``'s real and non-zero requests over ``axis``."""
    requests = template.requests
    missing = tuple(sorted(n for n, a in requests.items() if a > 0 and n not in axis.index))
    requested = _vector(template.requests, axis)
    return PodRequests(
        requested, _vector(template.nonzero_requests, axis), missing, np.flatnonzero(requested)
    )
