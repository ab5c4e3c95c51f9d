"""A fresh embedded cluster with the Berth API installed: the stage every bench run starts from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import kubernetes

from devcluster.cluster import Cluster, stop_at_exit
from devcluster.run import install_api


@contextmanager
def staged(*namespaces: str) -> Iterator[tuple[Cluster, kubernetes.client.ApiClient]]:
    """The cluster and an admin API client, with `namespaces` created; all stopped afterwards."""
    cluster = Cluster()
    stop_at_exit(cluster)
    with cluster:
        install_api(cluster)
        for namespace in namespaces:
            cluster.kubectl("create", "namespace", namespace)
        yield cluster, kubernetes.config.new_client_from_config(config_file=str(cluster.kubeconfig))
