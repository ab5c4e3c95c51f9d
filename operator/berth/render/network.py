"""The ClusterIP Service that exposes every open port of a service's containers."""

from typing import Any

from berth.api.content import DeploymentContent, Protocol
from berth.api.objects import ContainerServiceObject
from berth.render import labels, names
from berth.render.owner import owned_metadata

Manifest = dict[str, Any]


def kube_service(service: ContainerServiceObject, content: DeploymentContent) -> Manifest | None:
    """Every open port as `<container>-<port>`; None when no container opens a port."""
    ports = []
    for container_name, container in content.containers.items():
        for port, protocol in (container.ports or {}).items():
            ports.append(
                {
                    "name": names.service_port(container_name, port),
                    "port": int(port),
                    "targetPort": int(port),
                    "protocol": "UDP" if protocol == Protocol.UDP else "TCP",
                }
            )
    ports.sort(key=lambda p: (p["port"], p["protocol"]))
    if not ports:
        return None
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": owned_metadata(service, names.kube_service(service.name)),
        "spec": {"type": "ClusterIP", "selector": labels.selector(service.name), "ports": ports},
    }
