"""What a fresh control plane needs before it is handed out: kwok nodes, and proof it works."""

from __future__ import annotations

import functools
from collections.abc import Callable

from devcluster.admin import AdminClient, JsonObject, wait_until
from devcluster.components import KWOK_NODE_ANNOTATION, KWOK_NODE_VALUE

NODE_CAPACITY = {"cpu": "1000", "memory": "4Ti", "pods": "10000"}


def node_name(index: int) -> str:
    return f"kwok-node-{index}"


def kwok_node(name: str) -> JsonObject:
    """A Node that kwok plays the kubelet for; untainted, so every pod may land on it."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_NODE_ANNOTATION: KWOK_NODE_VALUE},
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        },
        "spec": {},
        "status": {"capacity": NODE_CAPACITY, "allocatable": NODE_CAPACITY},
    }


def create_nodes(client: AdminClient, count: int) -> list[str]:
    names = [node_name(index) for index in range(count)]
    for name in names:
        client.create("/api/v1/nodes", kwok_node(name))
    return names


def node_ready(client: AdminClient, name: str) -> bool:
    node = client.get(f"/api/v1/nodes/{name}")
    if node is None:
        return False
    conditions = node.get("status", {}).get("conditions", [])
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    # The node-lifecycle controller lifts this taint once it has seen the node Ready; until
    # then the scheduler would refuse the node.
    taints = node.get("spec", {}).get("taints", [])
    not_ready_taint = any(t.get("key", "").startswith("node.kubernetes.io/") for t in taints)
    return ready and not not_ready_taint


def default_service_account_exists(client: AdminClient) -> bool:
    return client.get("/api/v1/namespaces/default/serviceaccounts/default") is not None


def wait_usable(
    client: AdminClient, nodes: list[str], timeout: float, check: Callable[[], None]
) -> None:
    """Waits until every node is Ready and pods can be created in `default`."""
    for name in nodes:
        probe = functools.partial(node_ready, client, name)
        wait_until(f"node {name} Ready", probe, timeout, check=check)
    wait_until(
        "ServiceAccount default/default",
        lambda: default_service_account_exists(client),
        timeout,
        check=check,
    )
