"""The networking.k8s.io/v1 Ingress of a service's public endpoint, with cert-manager TLS."""

from typing import Any

from berth.api import foreign
from berth.api.content import DeploymentContent, Protocol
from berth.api.domains import by_certificate, normalized
from berth.api.objects import ContainerServiceObject
from berth.render import names
from berth.render.owner import owned_metadata
from berth.settings import Settings

Manifest = dict[str, Any]

# The public endpoint is HTTPS-only. Ingress has no field for "redirect HTTP", so each controller
# reads its own annotation; these are the common ones, set together (each ignores the others):
#   ingress-nginx            nginx.ingress.kubernetes.io/ssl-redirect, .../force-ssl-redirect
#   Contour                  ingress.kubernetes.io/force-ssl-redirect
#   HAProxy Ingress (haproxytech)  haproxy.org/ssl-redirect
#   Traefik                  none per Ingress: redirect on the `web` entrypoint in its static config
# Chart values (`ingressAnnotations`) come after these, so a cluster can turn one off or add its own.
HTTPS_REDIRECT_ANNOTATIONS = {
    "nginx.ingress.kubernetes.io/ssl-redirect": "true",
    "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
    "ingress.kubernetes.io/force-ssl-redirect": "true",
    "haproxy.org/ssl-redirect": "true",
}

# An HTTPS public port: the controllers that read the backend's protocol from the Ingress (the
# others read the Service, render/network.py). Neither verifies the backend's certificate by
# default, as Lightsail's load balancer does not.
HTTPS_BACKEND_ANNOTATIONS = {
    "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",
    "haproxy.org/server-ssl": "true",
}


def ingress(
    service: ContainerServiceObject,
    content: DeploymentContent | None,
    default_domain: str,
    domains: dict[str, list[str]],
    settings: Settings,
) -> Manifest | None:
    """The Ingress for the default domain and the admitted custom `domains` (certificate → hosts).

    None without a public endpoint or while the service is disabled: then no Ingress should exist.
    """
    endpoint = content.public_endpoint if content is not None else None
    if endpoint is None or service.spec.is_disabled:
        return None
    backend = {
        "service": {
            "name": names.kube_service(service.name),
            "port": {"number": endpoint.container_port},
        }
    }
    hosts = [normalized(default_domain)]
    tls = [{"hosts": list(hosts), "secretName": names.default_tls_secret(service.name)}]
    for certificate, lowered in by_certificate(domains).items():
        if not lowered:
            continue  # every domain of this certificate belongs to someone else
        hosts.extend(lowered)
        tls.append({"hosts": lowered, "secretName": names.tls_secret(service.name, certificate)})
    rules = [
        {"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}
        for host in hosts
    ]
    metadata = owned_metadata(service, names.ingress(service.name))
    metadata["annotations"] = {
        **metadata.get("annotations", {}),
        **HTTPS_REDIRECT_ANNOTATIONS,
        **(HTTPS_BACKEND_ANNOTATIONS if _https_backend(content) else {}),
        **settings.ingress_annotations,
        foreign.CLUSTER_ISSUER_ANNOTATION: settings.cluster_issuer,
    }
    spec: Manifest = {"rules": rules, "tls": tls}
    if settings.ingress_class_name:
        spec["ingressClassName"] = settings.ingress_class_name
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": spec,
    }


def _https_backend(content: DeploymentContent | None) -> bool:
    return content is not None and content.endpoint_protocol() == Protocol.HTTPS


def possible_tls_secrets(service: ContainerServiceObject) -> list[str]:
    """Every secret (and so cert-manager Certificate) the service's Ingress may ask for: the
    default domain's, and one per certificate of `publicDomainNames`."""
    certificates = service.spec.public_domain_names or {}
    return [names.default_tls_secret(service.name)] + [
        names.tls_secret(service.name, certificate) for certificate in certificates
    ]


def tls_secret_names(manifest: Manifest | None) -> list[str]:
    """The secrets (and so the cert-manager Certificates) an Ingress asks for."""
    if manifest is None:
        return []
    return [entry["secretName"] for entry in manifest["spec"]["tls"]]
