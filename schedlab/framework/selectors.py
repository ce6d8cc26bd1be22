"""Node selectors matched against interned label codes, vectorised over all nodes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from schedlab.cluster import ClusterState
from schedlab.matching import METADATA_NAME, parse_int64, requirement_is_valid
from schedlab.objects import NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm


def _int_label_values(state: ClusterState, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Per node: (label parses as int64, its value); both shape (n_nodes,)."""
    parsed = [parse_int64(v) for v in state.labels.values(key)]
    valid = np.array([p is not None for p in parsed] + [False], dtype=bool)
    value = np.array([p or 0 for p in parsed] + [0], dtype=np.int64)
    codes = state.labels.codes(key)
    return valid[codes], value[codes]


def requirement_mask(state: ClusterState, req: NodeSelectorRequirement) -> np.ndarray:
    """Bool (n_nodes,): nodes whose labels satisfy one matchExpressions entry."""
    if not requirement_is_valid(req):
        return np.zeros(state.n_nodes, dtype=bool)
    codes = state.labels.codes(req.key)
    if req.operator in ("In", "NotIn"):
        inside = np.isin(codes, state.labels.value_codes(req.key, req.values))
        return inside if req.operator == "In" else ~inside
    if req.operator in ("Exists", "DoesNotExist"):
        return codes >= 0 if req.operator == "Exists" else codes < 0
    bound = parse_int64(req.values[0])
    valid, value = _int_label_values(state, req.key)
    return valid & (value > bound if req.operator == "Gt" else value < bound)


def field_mask(state: ClusterState, req: NodeSelectorRequirement) -> np.ndarray:
    """Bool (n_nodes,): nodes whose metadata.name satisfies one matchFields entry (In or
    NotIn with exactly one value; any other key reads as "")."""
    if req.operator not in ("In", "NotIn") or len(req.values) != 1:
        return np.zeros(state.n_nodes, dtype=bool)
    named = np.zeros(state.n_nodes, dtype=bool)
    if req.key == METADATA_NAME:
        named[[state.index[v] for v in req.values if v in state.index]] = True
    elif req.values[0] == "":
        named[:] = True
    return named if req.operator == "In" else ~named


def term_mask(state: ClusterState, term: NodeSelectorTerm) -> np.ndarray:
    """Bool (n_nodes,): an ANDed term; an empty term matches nothing."""
    mask = np.full(state.n_nodes, not term.is_empty)
    for req in term.match_expressions:
        mask &= requirement_mask(state, req)
    for req in term.match_fields:
        mask &= field_mask(state, req)
    return mask


def required_mask(
    state: ClusterState, node_selector: Mapping[str, str], affinity: NodeAffinity | None
) -> np.ndarray:
    """Bool (n_nodes,): nodeSelector (ANDed) and required affinity terms (ORed)."""
    mask = np.ones(state.n_nodes, dtype=bool)
    for key, value in node_selector.items():
        mask &= np.isin(state.labels.codes(key), state.labels.value_codes(key, [value]))
    if affinity is not None and affinity.required is not None:
        matched = np.zeros(state.n_nodes, dtype=bool)
        for term in affinity.required:
            matched |= term_mask(state, term)
        mask &= matched
    return mask


def preferred_sum(state: ClusterState, affinity: NodeAffinity | None) -> np.ndarray:
    """int64 (n_nodes,): the summed weights of the preferred terms each node matches."""
    total = np.zeros(state.n_nodes, dtype=np.int64)
    for term in affinity.preferred if affinity is not None else ():
        total += term.weight * term_mask(state, term.preference)
    return total
