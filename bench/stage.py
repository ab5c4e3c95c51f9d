"""A fresh embedded cluster with the Berth API installed: the stage every bench run starts from."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import kubernetes

from devcluster.cluster import Cluster, stop_at_exit
from devcluster.run import install_api

# The domains the workloads use. Granted by an administrator's allow-list, so the operator runs as
# it does by default (verifying) without asking DNS about names nobody owns.
BENCH_DOMAINS = ["*.example.com", "*.x.io"]


def allow_list(namespace: str) -> str:
    return json.dumps(
        {
            "apiVersion": "berth.dev/v1alpha1",
            "kind": "DomainAllowList",
            "metadata": {"name": f"bench-{namespace}"},
            "spec": {"namespace": namespace, "domains": BENCH_DOMAINS},
        }
    )


@contextmanager
def staged(
    *namespaces: str, audit: bool = False
) -> Iterator[tuple[Cluster, kubernetes.client.ApiClient]]:
    """The cluster and an admin API client, with `namespaces` created; all stopped afterwards.
    With `audit`, the API server logs service accounts' writes (Cluster.audit_log)."""
    cluster = Cluster(audit=audit)
    stop_at_exit(cluster)
    with cluster:
        install_api(cluster)
        for namespace in namespaces:
            cluster.kubectl("create", "namespace", namespace)
            cluster.kubectl("apply", "-f", "-", input=allow_list(namespace))
        yield cluster, kubernetes.config.new_client_from_config(config_file=str(cluster.kubeconfig))
