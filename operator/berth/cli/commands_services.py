"""create-, update-, delete- and get-container-service(s), and `berth ls`."""

import argparse
import re
import sys
from typing import Any

from pydantic import ValidationError

from berth.api import limits
from berth.api.objects import ContainerServiceObject
from berth.api.service import ServiceSpec
from berth.cli import image_manifests, image_records, waiting
from berth.cli.arguments import Subcommands, add_wait, command
from berth.cli.client import BerthClient
from berth.cli.errors import CliError, describe_validation
from berth.cli.inputs import json_list, json_object
from berth.cli.output import Output
from berth.cli.registry_login import registry_login
from berth.cli.shapes import service_shape
from berth.cli.tables import services_table


def register(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    create = command(
        commands, common, "create-container-service", "Create a container service.", create_service
    )
    create.add_argument("--service-name", required=True)
    create.add_argument(
        "--power", required=True, help="a power name, see get-container-service-powers"
    )
    create.add_argument("--scale", required=True, type=int, help="number of nodes, 1-20")
    create.add_argument("--public-domain-names", help="JSON: certificate name -> domains")
    create.add_argument("--deployment", help="JSON {containers, publicEndpoint} or file://")
    create.add_argument("--tags", help='JSON [{"key": ..., "value": ...}] or file://')
    add_wait(create, "the service is RUNNING (READY without a deployment)")

    update = command(
        commands,
        common,
        "update-container-service",
        "Change power, scale, domains or disable.",
        update_service,
    )
    update.add_argument("--service-name", required=True)
    update.add_argument("--power")
    update.add_argument("--scale", type=int)
    update.add_argument("--is-disabled", action=argparse.BooleanOptionalAction, default=None)
    update.add_argument(
        "--public-domain-names", help="JSON: certificate name -> domains; {} clears"
    )

    delete = command(
        commands, common, "delete-container-service", "Delete a container service.", delete_service
    )
    delete.add_argument("--service-name", required=True)
    add_wait(delete, "the service is gone")

    get = command(
        commands, common, "get-container-services", "Describe container services.", get_services
    )
    get.add_argument("--service-name")

    command(commands, common, "ls", "List container services (a table).", list_services)


def service_output(service: ContainerServiceObject) -> Output:
    return Output({"containerService": service_shape(service)}, services_table([service]))


def validated_spec(spec: dict[str, Any]) -> dict[str, Any]:
    try:
        return ServiceSpec.model_validate(spec).to_wire()
    except ValidationError as error:
        raise CliError(f"invalid container service: {describe_validation(error)}") from error


def check_power(client: BerthClient, name: str) -> None:
    """Lightsail refuses an unknown or inactive power; so does the CLI, before writing."""
    powers = {p.metadata.name: p for p in client.powers()}
    if name not in powers:
        raise CliError(
            f"unknown power {name!r}; choose one of: {', '.join(powers) or 'none installed'}"
        )
    if not powers[name].spec.is_active:
        raise CliError(f"power {name!r} is not active; new services may not choose it")


def create_service(args: argparse.Namespace, client: BerthClient) -> Output:
    name = args.service_name
    if len(name) > limits.MAX_NAME_LENGTH or not re.fullmatch(limits.DNS_LABEL_PATTERN, name):
        raise CliError(
            f"--service-name {name!r}: lowercase letters, digits and '-', at most 63 characters"
        )
    spec: dict[str, Any] = {"power": args.power, "scale": args.scale}
    if args.public_domain_names is not None:
        spec["publicDomainNames"] = json_object(args.public_domain_names, "--public-domain-names")
    if args.deployment is not None:
        spec["deployment"] = json_object(args.deployment, "--deployment")
    if args.tags is not None:
        spec["tags"] = json_list(args.tags, "--tags")
    spec = validated_spec(spec)
    check_power(client, args.power)
    created = client.create_service(name, spec)
    if args.wait:
        waiting.wait_service(client, name, args.timeout, waiting.Progress())
        created = client.service(name)
    return service_output(created)


def update_service(args: argparse.Namespace, client: BerthClient) -> Output:
    current = client.service(args.service_name)
    wanted: dict[str, Any] = {}
    if args.power is not None:
        wanted["power"] = args.power
    if args.scale is not None:
        wanted["scale"] = args.scale
    if args.is_disabled is not None:
        wanted["isDisabled"] = args.is_disabled
    if args.public_domain_names is not None:
        wanted["publicDomainNames"] = json_object(args.public_domain_names, "--public-domain-names")
    if not wanted:
        raise CliError(
            "nothing to update: give --power, --scale, --is-disabled/--no-is-disabled "
            "or --public-domain-names"
        )
    validated_spec({**current.spec.to_wire(), **wanted})
    if "power" in wanted and wanted["power"] != current.spec.power:
        check_power(client, wanted["power"])
    operations = update_patch(current, wanted)
    updated = client.patch_service(args.service_name, operations) if operations else current
    return service_output(updated)


def update_patch(current: ContainerServiceObject, wanted: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON patch setting `wanted` spec fields; empty publicDomainNames removes them."""
    operations: list[dict[str, Any]] = []
    for key, value in wanted.items():
        if key == "publicDomainNames" and not value:
            if current.spec.public_domain_names is not None:
                operations.append({"op": "remove", "path": f"/spec/{key}"})
            continue
        operations.append({"op": "add", "path": f"/spec/{key}", "value": value})
    return operations


def delete_service(args: argparse.Namespace, client: BerthClient) -> Output:
    registered = image_records.images(client, args.service_name)
    client.delete_service(args.service_name)
    # Its records go with it (owner references); its manifests leave the registry here.
    for problem in image_manifests.delete_manifests(
        lambda: registry_login(client), client.namespace, registered, []
    ):
        print(
            f"berth: warning: the registry kept an image of the service: {problem}", file=sys.stderr
        )
    if not args.wait:
        return Output(None, f"container service {args.service_name} is being deleted")
    waiting.wait_gone(client, args.service_name, args.timeout, waiting.Progress())
    return Output(None, f"container service {args.service_name} deleted")


def get_services(args: argparse.Namespace, client: BerthClient) -> Output:
    services = [client.service(args.service_name)] if args.service_name else client.services()
    shapes = [service_shape(s) for s in services]
    return Output({"containerServices": shapes}, services_table(services))


def list_services(args: argparse.Namespace, client: BerthClient) -> Output:
    services = client.services()
    shapes = [service_shape(s) for s in services]
    text = (
        services_table(services)
        if services
        else f"no container services in namespace {client.namespace}"
    )
    return Output({"containerServices": shapes}, text, default="table")
