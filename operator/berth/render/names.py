"""Names of everything Berth creates, in one place."""

import hashlib

from berth.api import domains, limits

# Put on services by earlier builds, removed when they are deleted; no service gets it now.
SERVICE_FINALIZER = f"{limits.GROUP}/cleanup"
ACTIVE_VERSION_FINALIZER = f"{limits.GROUP}/active-version"
# On ContainerImage records: the record goes once its manifest has left the registry.
IMAGE_FINALIZER = f"{limits.GROUP}/registry-manifest"
VERSION_LABEL = f"{limits.GROUP}/version"
SERVICE_LABEL = f"{limits.GROUP}/service"
INLINE_ANNOTATION = f"{limits.GROUP}/inline-hash"
TAGS_ANNOTATION = f"{limits.GROUP}/tags"
# The readiness gate of a pod with a public endpoint, whose condition Berth's checks set, and the
# annotation telling the checker what to check (api.content.HealthTarget as JSON).
HEALTH_GATE = f"{limits.GROUP}/health-check"
HEALTH_TARGET_ANNOTATION = f"{limits.GROUP}/health-check"


def deployment(service: str) -> str:
    return service


def kube_service(service: str) -> str:
    return service


def version(service: str, number: int) -> str:
    return f"{service}-v{number}"


# A failed version's last log lines: one ConfigMap per version, beside it (render/failure_logs.py).
FAILURE_LOGS_LABEL = f"{limits.GROUP}/failure-logs-of"


def failure_logs(version: str) -> str:
    """Version names end in `-v<N>` or a generated suffix, never in `.logs`: no collision."""
    return f"{version}.logs"


def service_port(container: str, port: str) -> str:
    """`<container>-<port>`, cut to a DNS label's 63 characters."""
    suffix = f"-{port}"
    return container[: limits.MAX_NAME_LENGTH - len(suffix)].rstrip("-") + suffix


def private_domain(service: str, suffix: str) -> str:
    return f"{service}.{suffix}"


def default_domain(service: str, guid: str, region: str, base_domain: str) -> str:
    return f"{service}.{guid}.{region}.cs.{base_domain}"


# --- networking -----------------------------------------------------------------------------

PRIVATE_ZONE_CONFIGMAP = "berth-private-zone"


def ingress(service: str) -> str:
    return service


def private_zone_key(suffix: str) -> str:
    """The ConfigMap key holding the zone file, named as CoreDNS's `file` plugin examples do."""
    return f"db.{suffix}"


# Dots keep the names apart: service and certificate names are DNS labels without dots, so
# `<svc>.tls` and `<svc>.<cert>.tls` never collide (with dashes, `a-b` + `c` = `a` + `b-c`).
def default_tls_secret(service: str) -> str:
    return f"{service}.tls"


def tls_secret(service: str, certificate: str) -> str:
    return f"{service}.{certificate}.tls"


def domain_claim(purpose: str, domain: str) -> str:
    """`<purpose>-<hash>`: a domain (wildcards, 253 characters) is no valid object name itself."""
    digest = hashlib.sha256(domains.normalized(domain).encode()).hexdigest()[:40]
    return f"{purpose.lower()}-{digest}"


SERVICE_NAMESPACE_LABEL = f"{limits.GROUP}/service-namespace"


# --- registered images ----------------------------------------------------------------------


def image_repository(namespace: str, service: str, label: str) -> str:
    """Where a registered image lives in the registry: one repository per namespace, service and
    label, so that a registry's access rules can follow the namespace (the first component)."""
    return f"{namespace}/{service}/{label}"


def registry_pull_secret(service: str) -> str:
    """The service's pull secret for the registry of registered images (dots: see tls_secret)."""
    return f"{service}.registry"


# The last number given per label, on the service: numbers outlive the images they named.
IMAGE_NUMBERS_ANNOTATION = f"{limits.GROUP}/image-numbers"
REGISTRY_LOGIN_SECRET = "berth-registry"
