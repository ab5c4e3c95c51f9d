"""The ClusterIP Service that exposes every open port of a service's containers."""

from typing import Any

from berth.api.content import DeploymentContent, Protocol
from berth.api.objects import ContainerServiceObject
from berth.render import labels, names
from berth.render.owner import owned_metadata

Manifest = dict[str, Any]

# An HTTPS container port serves TLS itself, so the ingress controller must speak TLS to it (and,
# as Lightsail's load balancer, take the container's certificate unverified: see
# docs/install.md, "HTTPS container ports"). Each controller learns it its own way:
#   appProtocol https on the port   the Kubernetes field (Gateway API implementations, Istio...)
#   Contour                         projectcontour.io/upstream-protocol.tls: the HTTPS ports
#   Traefik                         traefik.ingress.kubernetes.io/service.serversscheme, which is
#                                   for the whole Service: set when the public port is HTTPS
#   ingress-nginx, HAProxy          on the Ingress (render/ingress.py)
TRAEFIK_SCHEME_ANNOTATION = "traefik.ingress.kubernetes.io/service.serversscheme"
CONTOUR_TLS_ANNOTATION = "projectcontour.io/upstream-protocol.tls"


def kube_service(service: ContainerServiceObject, content: DeploymentContent) -> Manifest | None:
    """Every open port as `<container>-<port>`; None when no container opens a port."""
    ports = []
    for container_name, container in content.containers.items():
        for port, protocol in (container.ports or {}).items():
            rendered = {
                "name": names.service_port(container_name, port),
                "port": int(port),
                "targetPort": int(port),
                "protocol": "UDP" if protocol == Protocol.UDP else "TCP",
            }
            if protocol == Protocol.HTTPS:
                rendered["appProtocol"] = "https"
            ports.append(rendered)
    ports.sort(key=lambda p: (p["port"], p["protocol"]))
    if not ports:
        return None
    metadata = owned_metadata(service, names.kube_service(service.name))
    tls_annotations = backend_tls_annotations(content)
    if tls_annotations:
        metadata["annotations"] = {**metadata.get("annotations", {}), **tls_annotations}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {"type": "ClusterIP", "selector": labels.selector(service.name), "ports": ports},
    }


def backend_tls_annotations(content: DeploymentContent) -> dict[str, str]:
    """The Service's annotations telling ingress controllers which ports speak TLS."""
    https_ports = sorted(
        int(port)
        for container in content.containers.values()
        for port, protocol in (container.ports or {}).items()
        if protocol == Protocol.HTTPS
    )
    annotations = {}
    if https_ports:
        annotations[CONTOUR_TLS_ANNOTATION] = ",".join(str(port) for port in https_ports)
    if content.endpoint_protocol() == Protocol.HTTPS:
        annotations[TRAEFIK_SCHEME_ANNOTATION] = "https"
    return annotations
