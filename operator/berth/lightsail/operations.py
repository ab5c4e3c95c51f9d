"""The container-service operations: Lightsail's request in, Berth's custom resources read and
written as the key's ServiceAccount, Lightsail's answer out. The berth CLI shares the code."""

import importlib.metadata
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from berth.api.objects import ContainerServiceObject
from berth.cli import compose
from berth.cli.commands_deployments import newest_first
from berth.cli.commands_services import update_patch, validated_spec
from berth.cli.shapes import AVAILABILITY_ZONE, RESOURCE_TYPE, power_shape, version_shape
from berth.lightsail import images
from berth.lightsail.calls import Call, Operation, as_aws_errors, service_out
from berth.lightsail.observe import get_container_log, get_container_service_metric_data
from berth.lightsail.protocol import invalid_input, not_found

# How long CreateContainerServiceDeployment waits for the operator to number the new version.
NUMBERING_SECONDS = 10.0


def check_power(call: Call, name: str) -> None:
    powers = {p.metadata.name: p for p in call.powers()}
    if name not in powers:
        raise invalid_input(f"unknown power {name!r}; choose one of: {', '.join(powers)}")
    if not powers[name].spec.is_active:
        raise invalid_input(f"power {name!r} is not active; new services may not choose it")


def refuse_ecr_role(params: dict[str, Any]) -> None:
    role = (params.get("privateRegistryAccess") or {}).get("ecrImagePullerRole") or {}
    if role.get("isActive"):
        raise invalid_input(
            "Berth has no ECR image puller role",
            tip="Name image pull secrets in the service's spec.privateRegistryAccess "
            "with kubectl instead.",
        )


def create_container_service(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    refuse_ecr_role(params)
    spec: dict[str, Any] = {"power": params["power"], "scale": params["scale"]}
    for key in ("publicDomainNames", "deployment", "tags"):
        if params.get(key) is not None:
            spec[key] = params[key]
    with as_aws_errors():
        spec = validated_spec(spec)
        check_power(call, params["power"])
        created = call.client.create_service(params["serviceName"], spec)
    return {"containerService": service_out(call, created)}


def update_container_service(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    refuse_ecr_role(params)
    wanted = {
        key: params[key]
        for key in ("power", "scale", "isDisabled", "publicDomainNames")
        if params.get(key) is not None
    }
    with as_aws_errors():
        current = call.client.service(params["serviceName"])
        validated_spec({**current.spec.to_wire(), **wanted})
        if "power" in wanted and wanted["power"] != current.spec.power:
            check_power(call, wanted["power"])
        operations = update_patch(current, wanted)
        updated = call.client.patch_service(current.name, operations) if operations else current
    return {"containerService": service_out(call, updated)}


def delete_container_service(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    images.delete_service_images(call, params["serviceName"])
    return {}


def get_container_services(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with as_aws_errors():
        name = params.get("serviceName")
        services = [call.client.service(name)] if name else call.client.services()
    return {"containerServices": [service_out(call, s) for s in services]}


def create_container_service_deployment(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Lightsail answers with the service and the new version as its nextDeployment; the
    operator numbers versions, so this waits a moment for the number."""
    name = params["serviceName"]
    with as_aws_errors():
        content = compose.from_parts(params.get("containers") or {}, params.get("publicEndpoint"))
        wire = compose.validated(content).to_wire()
        call.client.service(name)
        created = call.client.create_version(name, wire)
        deadline = time.monotonic() + NUMBERING_SECONDS
        version = created
        while version.number is None and time.monotonic() < deadline:
            time.sleep(0.2)
            version = call.client.version(created.name)
        service = call.client.service(name)
    shape = service_out(call, service)
    numbered = version_shape(version)
    if numbered is not None:
        shape["nextDeployment"] = numbered
    return {"containerService": shape}


def get_container_service_deployments(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with as_aws_errors():
        call.client.service(params["serviceName"])
        return {"deployments": newest_first(call.client.versions(params["serviceName"]))}


def get_container_service_powers(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with as_aws_errors():
        return {"powers": [power_shape(p) for p in call.powers()]}


def get_container_api_metadata(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    try:
        version = importlib.metadata.version("berth")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return {"metadata": [{"name": "berth", "version": version}]}


def _tagged_service(call: Call, params: dict[str, Any]) -> ContainerServiceObject:
    name = params["resourceName"]
    service = call.client.find_service(name)
    if service is None:
        raise not_found(
            f"container service {name!r} not found in namespace {call.client.namespace!r}"
        )
    wanted_arn = params.get("resourceArn")
    if wanted_arn and wanted_arn != service_out(call, service)["arn"]:
        raise not_found(f"{wanted_arn} is not the ARN of container service {name!r}")
    return service


def _retag(call: Call, params: dict[str, Any], tags: dict[str, str | None]) -> dict[str, Any]:
    with as_aws_errors():
        service = _tagged_service(call, params)
        wire = [{"key": k, **({"value": v} if v is not None else {})} for k, v in tags.items()]
        validated_spec({**service.spec.to_wire(), "tags": wire})
        call.client.patch_service(
            service.name, [{"op": "add", "path": "/spec/tags", "value": wire}]
        )
    now = datetime.now(UTC).isoformat()
    operation = {
        "id": str(uuid.uuid4()),
        "resourceName": service.name,
        "resourceType": RESOURCE_TYPE,
        "createdAt": now,
        "location": {"availabilityZone": AVAILABILITY_ZONE, "regionName": call.region},
        "isTerminal": True,
        "operationType": params["__operation"],
        "status": "Succeeded",
        "statusChangedAt": now,
    }
    return {"operations": [operation]}


def _current_tags(call: Call, params: dict[str, Any]) -> dict[str, str | None]:
    with as_aws_errors():
        service = _tagged_service(call, params)
    return {tag.key: tag.value for tag in service.spec.tags or []}


def tag_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    tags = _current_tags(call, params)
    tags.update({t["key"]: t.get("value") for t in params["tags"]})
    return _retag(call, {**params, "__operation": "TagResource"}, tags)


def untag_resource(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    tags = _current_tags(call, params)
    for key in params["tagKeys"]:
        tags.pop(key, None)
    return _retag(call, {**params, "__operation": "UntagResource"}, tags)


OPERATIONS: dict[str, Operation] = {
    "CreateContainerService": create_container_service,
    "UpdateContainerService": update_container_service,
    "DeleteContainerService": delete_container_service,
    "GetContainerServices": get_container_services,
    "CreateContainerServiceDeployment": create_container_service_deployment,
    "GetContainerServiceDeployments": get_container_service_deployments,
    "GetContainerServicePowers": get_container_service_powers,
    "GetContainerAPIMetadata": get_container_api_metadata,
    "GetContainerLog": get_container_log,
    "GetContainerServiceMetricData": get_container_service_metric_data,
    "RegisterContainerImage": images.register_container_image,
    "GetContainerImages": images.get_container_images,
    "DeleteContainerImage": images.delete_container_image,
    "CreateContainerServiceRegistryLogin": images.create_container_service_registry_login,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
}
# Operations that only read may be sent again; the others are refused when replayed.
READS = frozenset(name for name in OPERATIONS if name.startswith("Get"))
