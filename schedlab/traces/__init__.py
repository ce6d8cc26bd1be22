"""Readers and writers of workloads: Kubernetes manifests (more formats to come)."""

from schedlab.traces.manifests import dump_manifests, load_manifests

__all__ = ["dump_manifests", "load_manifests"]
