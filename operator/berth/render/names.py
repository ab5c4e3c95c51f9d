"""Names of everything Berth creates, in one place."""

import hashlib

from berth.api import domains, limits

SERVICE_FINALIZER = f"{limits.GROUP}/cleanup"
ACTIVE_VERSION_FINALIZER = f"{limits.GROUP}/active-version"
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
