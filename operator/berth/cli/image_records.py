"""Registered images as ContainerImage objects: number, create, list, delete. The CLI and the
Lightsail endpoint share this code; both reach the registry through registry_login.py.

Numbers: the service's annotation `berth.dev/image-numbers` holds the last number given per
label, written with a conditional merge patch (the resourceVersion read), so of two pushes
racing the API server lets one win and the other reads again. A number is never given twice,
even after its image is deleted; a crash between the two writes only skips one.
"""

import json
from datetime import UTC, datetime
from typing import Any

from berth.api import limits
from berth.api.image import RegisteredName, registered_name
from berth.api.objects import ContainerServiceObject, ImageObject, parse_image
from berth.cli.client import BerthClient, api_message, parsed
from berth.cli.errors import CliError
from berth.cli.rest import JSON, MERGE_PATCH, ApiError
from berth.render import names

IMAGES = "containerimages"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SERVICES = "containerservices"
ATTEMPTS = 10


def images(client: BerthClient, service: str) -> list[ImageObject]:
    """The service's registered images, newest first (Lightsail's order)."""
    try:
        listed = client.rest.request(
            "GET",
            client.berth_path(IMAGES),
            [("labelSelector", f"{names.SERVICE_LABEL}={service}")],
        )
    except ApiError as error:
        raise CliError(f"container images: {api_message(error)}", error.status) from error
    found = [parsed(parse_image, item) for item in listed["items"]]
    found = [image for image in found if image.spec.service_name == service]
    # Timestamps are to the second: within one, the higher number is the newer.
    return sorted(
        found,
        key=lambda i: (i.metadata.creation_timestamp or _EPOCH, i.spec.number),
        reverse=True,
    )


def register(client: BerthClient, service_name: str, label: str, digest: str) -> ImageObject:
    """A new ContainerImage for `digest` under the label's next number."""
    service = client.service(service_name)
    existing = images(client, service_name)
    if len(existing) >= limits.MAX_IMAGES:
        raise CliError(
            f"container service {service_name!r} has {len(existing)} images, the most it may "
            f"have ({limits.MAX_IMAGES}); delete some with delete-container-image",
            400,
        )
    for _ in range(ATTEMPTS):
        number = _reserve(client, service_name, label, existing)
        created = _create(client, service, label, number, digest)
        if created is not None:
            return created
    raise CliError(f"could not number an image of {service_name!r}: too many writers at once", 409)


def _reserve(client: BerthClient, service: str, label: str, existing: list[ImageObject]) -> int:
    """The label's next number, recorded on the service before anyone uses it."""
    for _ in range(ATTEMPTS):
        body = _custom(client, "get", SERVICES, service)
        meta = body["metadata"]
        ledger = _ledger(meta.get("annotations") or {})
        seen = [i.spec.number for i in existing if i.spec.label == label]
        number = max([ledger.get(label, 0), *seen]) + 1
        ledger[label] = number
        patch = {
            "metadata": {
                "resourceVersion": meta["resourceVersion"],
                "annotations": {names.IMAGE_NUMBERS_ANNOTATION: json.dumps(ledger, sort_keys=True)},
            }
        }
        try:
            _custom(client, "patch", SERVICES, service, patch)
        except CliError as error:
            if error.status == 409:
                continue  # someone wrote the service meanwhile: read again
            raise
        return number
    raise CliError(f"could not number an image of {service!r}: too many writers at once", 409)


def _ledger(annotations: dict[str, str]) -> dict[str, int]:
    try:
        found = json.loads(annotations.get(names.IMAGE_NUMBERS_ANNOTATION) or "{}")
    except ValueError:
        return {}
    return {k: v for k, v in found.items() if isinstance(v, int)} if isinstance(found, dict) else {}


def _create(
    client: BerthClient, service: ContainerServiceObject, label: str, number: int, digest: str
) -> ImageObject | None:
    """None when the name is taken (made by hand, or a ledger lost): take the next number."""
    name = RegisteredName(service.name, label, number)
    body = {
        "apiVersion": limits.API_VERSION,
        "kind": "ContainerImage",
        "metadata": {
            "name": name.object_name,
            "namespace": client.namespace,
            "labels": {names.SERVICE_LABEL: service.name},
            # Deleted with its service by the garbage collector.
            "ownerReferences": [
                {
                    "apiVersion": limits.API_VERSION,
                    "kind": "ContainerService",
                    "name": service.name,
                    "uid": service.metadata.uid,
                }
            ],
        },
        "spec": {"serviceName": service.name, "label": label, "number": number, "digest": digest},
    }
    try:
        return parsed(parse_image, _custom(client, "create", IMAGES, None, body))
    except CliError as error:
        if error.status == 409:
            return None
        raise


def find(client: BerthClient, image: str) -> ImageObject:
    """The record of `:<service>.<label>.<number>`."""
    name = registered_name(image)
    if name is None:
        raise CliError(f"{image!r} is not of the form :<service>.<label>.<number>", 400)
    try:
        return parsed(parse_image, _custom(client, "get", IMAGES, name.object_name))
    except CliError as error:
        if error.status == 404:
            message = f"image {image} not found in namespace {client.namespace!r}"
            raise CliError(message, 404) from error
        raise


def users(service: ContainerServiceObject, image: str) -> list[str]:
    """Which of the service's current and next deployments name `image`."""
    found = []
    for which, summary in (
        ("current", service.status.current_deployment),
        ("next", service.status.next_deployment),
    ):
        if summary is not None and any(c.image == image for c in summary.containers.values()):
            found.append(f"the {which} deployment (version {summary.version})")
    return found


def delete(client: BerthClient, image: str) -> ImageObject:
    """Delete a record, refused while the current or next deployment uses it."""
    record = find(client, image)
    service = client.find_service(record.spec.service_name)
    using = users(service, image) if service is not None else []
    if using:
        raise CliError(f"image {image} is in use by {' and '.join(using)}", 400)
    _custom(client, "delete", IMAGES, record.metadata.name)
    return record


_CALLS = {"get": "GET", "create": "POST", "patch": "PATCH", "delete": "DELETE"}


def _custom(
    client: BerthClient, verb: str, plural: str, name: str | None, body: Any = None
) -> dict[str, Any]:
    path = client.berth_path(plural, None if verb == "create" else name)
    try:
        answer: dict[str, Any] = client.rest.request(
            _CALLS[verb], path, body=body, content_type=MERGE_PATCH if verb == "patch" else JSON
        )
    except ApiError as error:
        raise CliError(f"{plural} {name or ''}: {api_message(error)}", error.status) from error
    return answer
