"""Filters written as rules over the pods counted per topology domain (``DomainRule``): a
CLUSTER plugin's ``domain_rules`` gives them, so that Greedy's fast path can follow, bind by
bind and in compiled code, how a pod's own binds change what the filter answers for the next
pod like it (``kernels.place_run`` mirrors ``DomainRule.allowed``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(eq=False)
class DomainRule:
    """A node passes the rule when its topology domain is allowed (``allowed``), given how
    many pods are counted in each domain.

    codes        int64 (n_nodes,): each node's domain, -1 where the node lacks the topology
                 key (such nodes take the last entry of ``counts`` and of ``allowed``)
    counts       int64 (n_domains + 1,): the pods counted per domain now (last entry 0)
    adds         int64 (n_nodes,): what binding one more pod like the one asked about on the
                 node adds to its domain's count (0 on nodes lacking the key)
    max_skew     None for an *empty* rule: a domain is allowed when it counts no pod (kube's
                 required anti-affinity). Else a *skew* rule (kube's PodTopologySpread filter):
                 a domain is allowed when ``count + self_match - floor <= max_skew``, the floor
                 being the lowest count among the ``exists`` domains when at least
                 ``min_domains`` of them exist, else 0; every domain is allowed when none
                 exists; nodes lacking the key never pass.
    exists       bool (n_domains + 1,): for a skew rule, the domains some counted node has
    """

    codes: np.ndarray
    counts: np.ndarray
    adds: np.ndarray
    max_skew: int | None = None
    min_domains: int = 1
    self_match: int = 0
    exists: np.ndarray | None = None

    def allowed(self) -> np.ndarray:
        """bool (n_domains + 1,): the domains where the pod may go now."""
        counts = self.counts
        if self.max_skew is None:
            return counts == 0
        assert self.exists is not None  # (a skew rule has them)
        existing = counts[self.exists]
        if not len(existing):
            allowed = np.ones(len(counts), dtype=bool)  # no node counts: kube skips it
        else:
            floor = existing.min() if len(existing) >= self.min_domains else 0
            allowed = counts + self.self_match - floor <= self.max_skew
        allowed[-1] = False
        return allowed

    def passing(self) -> np.ndarray:
        """bool (n_nodes,): the nodes that pass now."""
        return self.allowed()[self.codes]
