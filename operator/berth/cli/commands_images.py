"""Registered images: push (no Docker needed), register, list, delete, and the registry login."""

import argparse
import re
import sys
from datetime import UTC, datetime
from typing import Any

from berth.api import limits
from berth.api.image import IMAGE_LABEL_PATTERN
from berth.api.objects import ImageObject
from berth.cli import image_records
from berth.cli.arguments import Subcommands, command
from berth.cli.client import BerthClient
from berth.cli.errors import CliError
from berth.cli.output import Output, table
from berth.cli.registry_login import registry_login
from berth.render import names
from berth.render.timestamps import rfc3339

# berth.oci's own list (transports.TRANSPORTS), written out so that building the parser does
# not load the image code; a unit test keeps the two the same.
IMAGE_HELP = "one of oci-archive:PATH, oci:DIR, docker-archive:PATH, docker://REF, or NAME"


def register(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    push = command(
        commands,
        common,
        "push-container-image",
        "Copy an image into the service's registry and register it as :<service>.<label>.<N>.",
        push_image,
    )
    push.add_argument("--service-name", required=True)
    push.add_argument("--label", required=True, help="lowercase letters, digits and '-'")
    push.add_argument("--image", required=True, help=IMAGE_HELP)
    _registry_secret(push)

    registration = command(
        commands,
        common,
        "register-container-image",
        "Register an image already in the service's registry, by digest.",
        register_image,
    )
    registration.add_argument("--service-name", required=True)
    registration.add_argument("--label", required=True)
    registration.add_argument("--digest", required=True, help="sha256:…")
    _registry_secret(registration)

    listing = command(
        commands,
        common,
        "get-container-images",
        "The service's registered images, newest first.",
        get_images,
    )
    listing.add_argument("--service-name", required=True)

    delete = command(
        commands,
        common,
        "delete-container-image",
        "Delete a registered image (refused while a current or next deployment uses it).",
        delete_image,
    )
    delete.add_argument("--service-name", required=True)
    delete.add_argument("--image", required=True, help=":<service>.<label>.<number>")
    _registry_secret(delete)

    login = command(
        commands,
        common,
        "create-container-service-registry-login",
        "Credentials to push to the registry of registered images.",
        create_login,
    )
    _registry_secret(login)


def _registry_secret(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--registry-secret",
        default=None,
        metavar="NAMESPACE/NAME",
        help="the Secret with the registry's server and credentials "
        f"(default berth-system/{names.REGISTRY_LOGIN_SECRET})",
    )


def image_shape(image: ImageObject) -> dict[str, Any]:
    """Lightsail's ContainerImage."""
    shape: dict[str, Any] = {"image": str(image.registered), "digest": image.spec.digest}
    if image.metadata.creation_timestamp is not None:
        shape["createdAt"] = rfc3339(image.metadata.creation_timestamp)
    return shape


def check_label(label: str) -> None:
    if len(label) > limits.MAX_IMAGE_LABEL_LENGTH or not re.match(IMAGE_LABEL_PATTERN, label):
        raise CliError(
            f"label {label!r} must be 1-53 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit",
            400,
        )


def repository(client: BerthClient, service: str, label: str) -> str:
    return names.image_repository(client.namespace, service, label)


def push_image(args: argparse.Namespace, client: BerthClient) -> Output:
    from berth.oci.distribution import RegistryError  # the image code, only where it is used
    from berth.oci.image import ImageError
    from berth.oci.transports import open_source, parse_source

    check_label(args.label)
    client.service(args.service_name)  # before any upload: the service must exist
    login = registry_login(client, args.registry_secret)
    try:
        source = parse_source(args.image)
        with login.registry() as registry:
            # A copy within this registry (docker://<its server>/…) reads with its login.
            same = source.transport == "docker" and source.location.startswith(f"{login.server}/")
            credentials = registry.credentials if same else None
            ca_file = registry.ca_file if same else None
            with open_source(source, credentials, ca_file) as image:
                digest = registry.push(repository(client, args.service_name, args.label), image)
    except (ImageError, RegistryError) as error:
        raise CliError(str(error)) from error
    record = image_records.register(client, args.service_name, args.label, digest)
    return _registered(record)


def _registered(record: ImageObject) -> Output:
    name = str(record.registered)
    text = "\n".join(
        [
            f"Digest: {record.spec.digest}",
            f'Image "{name}" registered.',
            f'Refer to this image as "{name}" in deployments.',
        ]
    )
    return Output({"containerImage": image_shape(record)}, text, default="table")


def register_image(args: argparse.Namespace, client: BerthClient) -> Output:
    from berth.oci.distribution import RegistryError

    check_label(args.label)
    client.service(args.service_name)
    login = registry_login(client, args.registry_secret)
    where = repository(client, args.service_name, args.label)
    try:
        with login.registry() as registry:
            present = registry.has_manifest(where, args.digest)
    except RegistryError as error:
        raise CliError(str(error)) from error
    if not present:
        raise CliError(f"the registry has no image {args.digest} in {where}; push it first", 404)
    record = image_records.register(client, args.service_name, args.label, args.digest)
    return Output({"containerImage": image_shape(record)})


def get_images(args: argparse.Namespace, client: BerthClient) -> Output:
    client.service(args.service_name)
    found = image_records.images(client, args.service_name)
    rows = [(str(i.registered), i.spec.digest, image_shape(i).get("createdAt")) for i in found]
    return Output(
        {"containerImages": [image_shape(i) for i in found]},
        table(["IMAGE", "DIGEST", "CREATED"], rows),
    )


def delete_image(args: argparse.Namespace, client: BerthClient) -> Output:
    record = image_records.find(client, args.image)
    if record.spec.service_name != args.service_name:
        raise CliError(f"image {args.image} does not belong to {args.service_name!r}", 400)
    image_records.delete(client, args.image)
    _forget_manifest(client, record, args.registry_secret)
    return Output({})


def _forget_manifest(client: BerthClient, record: ImageObject, where: str | None) -> None:
    """The manifest leaves the registry unless another number of the label names it too; its
    blobs are reclaimed by the registry's garbage collection."""
    from berth.cli import image_manifests  # the registry code, only where it is used

    others = image_records.images(client, record.spec.service_name)
    problems = image_manifests.delete_manifests(
        lambda: registry_login(client, where), client.namespace, [record], others
    )
    for problem in problems:
        print(
            f"berth: warning: the record is gone, the registry kept it: {problem}", file=sys.stderr
        )


def create_login(args: argparse.Namespace, client: BerthClient) -> Output:
    login = registry_login(client, args.registry_secret)
    shape: dict[str, Any] = {
        "username": login.username,
        "password": login.password,
        "registry": login.server,
    }
    if login.expires is not None:
        shape["expiresAt"] = rfc3339(datetime.fromtimestamp(login.expires, UTC))
    return Output({"registryLogin": shape})
