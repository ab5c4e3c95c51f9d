"""Berth objects in Lightsail's JSON shapes, key for key as `aws lightsail` prints them."""

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from berth.api.content import Container, DeploymentContent, PublicEndpoint
from berth.api.objects import ContainerServiceObject, PowerObject, VersionObject
from berth.api.service import ServiceState
from berth.api.version import VersionState, VersionSummary

RESOURCE_TYPE = "ContainerService"
# Lightsail runs a container service in every zone of its region.
AVAILABILITY_ZONE = "all"


def timestamp(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def region_of(url: str | None) -> str | None:
    """The region in a default domain `<svc>.<guid>.<region>.cs.<baseDomain>`."""
    labels = (urlsplit(url).hostname or "").split(".") if url else []
    return labels[2] if len(labels) > 4 and labels[3] == "cs" else None


def arn(namespace: str, uid: str, region: str | None) -> str:
    """Lightsail's ARN layout with the namespace where the account would be."""
    return f"arn:berth:lightsail:{region or ''}:{namespace}:{RESOURCE_TYPE}/{uid}"


def power_id(name: str) -> str:
    """Lightsail's id of a power: its name and the generation of its size (`nano-1`)."""
    return f"{name}-1"


def container_shape(container: Container) -> dict[str, Any]:
    return {
        "image": container.image,
        "command": list(container.command or []),
        "environment": dict(container.environment or {}),
        "ports": {port: protocol.value for port, protocol in (container.ports or {}).items()},
    }


def endpoint_shape(endpoint: PublicEndpoint) -> dict[str, Any]:
    return endpoint.to_wire()


def deployment_shape(
    version: int,
    state: VersionState,
    content: DeploymentContent,
    created_at: datetime | None,
) -> dict[str, Any]:
    """Lightsail's ContainerServiceDeployment."""
    shape: dict[str, Any] = {
        "version": version,
        "state": state.value,
        "containers": {name: container_shape(c) for name, c in content.containers.items()},
    }
    if content.public_endpoint is not None:
        shape["publicEndpoint"] = endpoint_shape(content.public_endpoint)
    if created_at is not None:
        shape["createdAt"] = timestamp(created_at)
    return shape


def summary_shape(summary: VersionSummary) -> dict[str, Any]:
    content = DeploymentContent(
        containers=summary.containers, public_endpoint=summary.public_endpoint
    )
    return deployment_shape(summary.version, summary.state, content, summary.created_at)


def version_shape(version: VersionObject) -> dict[str, Any] | None:
    """A numbered CSD as a deployment; None while the operator has not numbered it yet."""
    if version.number is None:
        return None
    state = version.status.state or VersionState.ACTIVATING
    return deployment_shape(
        version.number, state, version.spec.content(), version.metadata.creation_timestamp
    )


def service_state(service: ContainerServiceObject) -> ServiceState:
    if service.metadata.deleting:
        return ServiceState.DELETING
    return service.status.state or ServiceState.PENDING


def service_shape(service: ContainerServiceObject, region: str | None = None) -> dict[str, Any]:
    """Lightsail's ContainerService; what the user asked for, and the state the operator saw.

    The region is the one given (the Lightsail endpoint knows its own), else the one in the
    service's default domain."""
    spec, status, meta = service.spec, service.status, service.metadata
    region = region or region_of(status.url)
    shape: dict[str, Any] = {
        "containerServiceName": service.name,
        "arn": arn(service.namespace, meta.uid, region),
        "createdAt": timestamp(status.created_at or meta.creation_timestamp),
        "location": {"availabilityZone": AVAILABILITY_ZONE, "regionName": region}
        if region
        else None,
        "resourceType": RESOURCE_TYPE,
        "tags": [tag.to_wire() for tag in spec.tags or []],
        "power": spec.power,
        "powerId": power_id(spec.power),
        "state": service_state(service).value,
        "stateDetail": (status.state_detail.to_wire() or None) if status.state_detail else None,
        "scale": spec.scale,
        "currentDeployment": summary_shape(status.current_deployment)
        if status.current_deployment
        else None,
        "nextDeployment": summary_shape(status.next_deployment) if status.next_deployment else None,
        "isDisabled": spec.is_disabled,
        "privateDomainName": status.private_domain_name,
        "publicDomainNames": {
            cert: list(ds) for cert, ds in (spec.public_domain_names or {}).items()
        },
        "url": status.url,
        "privateRegistryAccess": registry_access_shape(service),
    }
    return {key: value for key, value in shape.items() if value is not None}


def registry_access_shape(service: ContainerServiceObject) -> dict[str, Any]:
    """Lightsail's shape, so that scripts reading `ecrImagePullerRole.isActive` work: Berth's
    stand-in for the ECR image puller role is the service's image pull secrets."""
    pulls = service.spec.private_registry_access
    active = bool(pulls and pulls.image_pull_secrets)
    return {"ecrImagePullerRole": {"isActive": active, "principalArn": ""}}


def power_shape(power: PowerObject) -> dict[str, Any]:
    """Lightsail's ContainerServicePower; the object's name is also its id."""
    spec = power.spec
    return {
        "powerId": power_id(power.metadata.name),
        "price": spec.price,
        "cpuCount": spec.cpu_count,
        "ramSizeInGb": spec.ram_size_in_gb,
        "name": power.metadata.name,
        "isActive": spec.is_active,
    }
