"""Registered images through the Lightsail API: RegisterContainerImage, GetContainerImages,
DeleteContainerImage, CreateContainerServiceRegistryLogin. The records are the berth CLI's
(berth.cli.image_records); the registry login is read by the endpoint itself, not the key."""

from typing import Any

from berth.cli import image_records
from berth.cli.commands_images import check_label, image_shape, repository
from berth.cli.errors import CliError
from berth.cli.registry_login import RegistryLogin
from berth.lightsail.calls import Call, as_aws_errors
from berth.lightsail.protocol import AwsError, invalid_input, not_found
from berth.oci.distribution import RegistryError


def _login(call: Call) -> RegistryLogin:
    if call.registry_login is None:
        raise AwsError("ServiceException", "this endpoint has no registry login", 500)
    with as_aws_errors():
        return call.registry_login()


def register_container_image(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    service, label, digest = params["serviceName"], params["label"], params["digest"]
    with as_aws_errors():
        check_label(label)
        call.client.service(service)
    login = _login(call)
    try:
        with login.registry() as registry:
            present = registry.has_manifest(repository(call.client, service, label), digest)
    except RegistryError as error:
        raise AwsError("ServiceException", str(error), 500) from error
    if not present:
        raise not_found(f"the registry has no image {digest} for {service}/{label}; push it first")
    with as_aws_errors():
        record = image_records.register(call.client, service, label, digest)
    return {"containerImage": image_shape(record)}


def get_container_images(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with as_aws_errors():
        call.client.service(params["serviceName"])
        found = image_records.images(call.client, params["serviceName"])
    return {"containerImages": [image_shape(i) for i in found]}


def delete_container_image(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    with as_aws_errors():
        record = image_records.find(call.client, params["image"])
        if record.spec.service_name != params["serviceName"]:
            raise invalid_input(
                f"image {params['image']} does not belong to {params['serviceName']!r}"
            )
        image_records.delete(call.client, params["image"])
        others = image_records.images(call.client, record.spec.service_name)
    spec = record.spec
    if any(o.spec.label == spec.label and o.spec.digest == spec.digest for o in others):
        return {}
    try:
        with _login(call).registry() as registry:
            registry.delete_manifest(
                repository(call.client, spec.service_name, spec.label), spec.digest
            )
    except (RegistryError, CliError, AwsError):
        pass  # the record is gone; the manifest stays until an administrator collects it
    return {}


def create_container_service_registry_login(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    login = _login(call)
    return {
        "registryLogin": {
            "username": login.username,
            "password": login.password,
            "registry": login.server,
        }
    }
