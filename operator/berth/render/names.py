"""Names of everything Berth creates, in one place."""

from berth.api import limits

FIELD_MANAGER = "berth"
SERVICE_FINALIZER = f"{limits.GROUP}/cleanup"
ACTIVE_VERSION_FINALIZER = f"{limits.GROUP}/active-version"
VERSION_LABEL = f"{limits.GROUP}/version"
SERVICE_LABEL = f"{limits.GROUP}/service"
INLINE_ANNOTATION = f"{limits.GROUP}/inline-hash"
TAGS_ANNOTATION = f"{limits.GROUP}/tags"


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
