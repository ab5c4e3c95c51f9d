"""Berth's embedded control plane: real Kubernetes binaries on loopback, kwok as the kubelet."""

from devcluster.binaries import ensure_binaries
from devcluster.cluster import Cluster, stop_at_exit
from devcluster.external import ExternalCluster, KubeCluster, external_kubeconfig

__all__ = [
    "Cluster",
    "ExternalCluster",
    "KubeCluster",
    "ensure_binaries",
    "external_kubeconfig",
    "stop_at_exit",
]
