"""Registered images through the Lightsail API: RegisterContainerImage, GetContainerImages,
DeleteContainerImage, CreateContainerServiceRegistryLogin. The records are the berth CLI's
(berth.cli.image_records); the registry login is read by the endpoint itself, not the key."""

import logging
from datetime import UTC, datetime
from typing import Any

from berth.api.objects import ImageObject
from berth.cli import image_manifests, image_records
from berth.cli.commands_images import check_label, image_shape, repository
from berth.cli.registry_login import RegistryLogin
from berth.lightsail.calls import Call, as_aws_errors
from berth.lightsail.protocol import AwsError, invalid_input, not_found
from berth.oci.distribution import RegistryError

log = logging.getLogger("berth.lightsail")


def _login(call: Call) -> RegistryLogin:
    if call.registry_login is None:
        raise AwsError("ServiceException", "this endpoint has no registry login", 500)
    with as_aws_errors():
        # The key's namespace: a tenant's login reaches its own repositories only.
        return call.registry_login(call.client.namespace)


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
    _delete_manifests(call, [record], others)
    return {}


def _delete_manifests(call: Call, gone: list[ImageObject], kept: list[ImageObject]) -> None:
    """The records are gone: a registry that keeps a manifest is logged, not an error."""
    if call.registry_login is None:
        return
    login = call.registry_login
    namespace = call.client.namespace
    for problem in image_manifests.delete_manifests(
        lambda: login(namespace), namespace, gone, kept
    ):
        log.warning("the registry kept a deleted image's manifest: %s", problem)


def delete_service_images(call: Call, service: str) -> None:
    """DeleteContainerService: the service's manifests leave the registry with it."""
    with as_aws_errors():
        gone = image_records.images(call.client, service)
        call.client.delete_service(service)
    _delete_manifests(call, gone, [])


def create_container_service_registry_login(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    login = _login(call)
    shape: dict[str, Any] = {
        "username": login.username,
        "password": login.password,
        "registry": login.server,
    }
    if login.expires is not None:
        shape["expiresAt"] = datetime.fromtimestamp(login.expires, UTC)
    return {"registryLogin": shape}
