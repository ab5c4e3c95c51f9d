"""What every operation is handed: the key's client, the endpoint's own reads, the region."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from berth.api.objects import ContainerServiceObject, PowerObject
from berth.cli.client import BerthClient
from berth.cli.errors import CliError
from berth.cli.registry_login import RegistryLogin
from berth.cli.shapes import arn, service_shape
from berth.lightsail.protocol import AwsError, invalid_input, not_found

Operation = Callable[["Call", dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    client: BerthClient  # acting as the key's ServiceAccount: RBAC decides
    powers: Callable[[], list[PowerObject]]  # the catalogue, read by the endpoint itself
    region: str
    prometheus_url: str | None = None  # where the pods' CPU and memory history is kept
    # Where registered images are pushed, read by the endpoint itself (None: no registry): a
    # login for the given namespace's repositories (or the shared one, without a token service).
    registry_login: Callable[[str], RegistryLogin] | None = None


@contextmanager
def as_aws_errors() -> Iterator[None]:
    """The CLI's errors (with the API server's status, when it refused) as Lightsail's."""
    try:
        yield
    except CliError as error:
        raise aws_error(error) from error


def aws_error(error: CliError) -> AwsError:
    message = str(error)
    if error.status == 404:
        return not_found(message)
    if error.status == 403:
        return AwsError(
            "AccessDeniedException",
            message,
            tip="The key's ServiceAccount lacks the Kubernetes RBAC permission for this.",
        )
    if error.status == 401:
        return AwsError("UnauthenticatedException", message)
    if error.status is not None and error.status >= 500:
        return AwsError("ServiceException", message, 500)
    return invalid_input(message)


def service_out(call: Call, service: ContainerServiceObject) -> dict[str, Any]:
    """Lightsail's ContainerService: Berth's shape, with the parts only Lightsail has."""
    shape = service_shape(service, call.region)
    pulls = service.spec.private_registry_access
    # Berth's stand-in for the ECR image puller role is the service's image pull secrets.
    shape["privateRegistryAccess"] = {
        "ecrImagePullerRole": {
            "isActive": bool(pulls and pulls.image_pull_secrets),
            "principalArn": "",
        }
    }
    shape["principalArn"] = principal_arn(call, service)
    return shape


def principal_arn(call: Call, service: ContainerServiceObject) -> str:
    """Lightsail names the service's own IAM role; Berth names the service in its namespace."""
    return (
        arn(service.namespace, service.metadata.uid, call.region)
        .replace(":lightsail:", ":iam:", 1)
        .replace(":ContainerService/", f":role/lightsail/containers/{service.name}/", 1)
    )
