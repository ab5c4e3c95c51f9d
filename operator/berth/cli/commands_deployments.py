"""Deployment versions: create (AWS CLI and `berth deploy`), list, and `berth rollback`."""

import argparse
import shlex
from typing import Any

from berth.api.content import DeploymentContent, Protocol
from berth.api.objects import ContainerServiceObject, VersionObject
from berth.cli import compose, waiting
from berth.cli.arguments import Subcommands, add_wait, command
from berth.cli.client import BerthClient
from berth.cli.errors import CliError
from berth.cli.inputs import json_object, key_values
from berth.cli.output import Output
from berth.cli.shapes import service_shape, version_shape
from berth.cli.tables import deployments_table, services_table

WAIT_UNTIL = "the new version is ACTIVE (exit 1 if it FAILED)"


def register(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    create = command(
        commands,
        common,
        "create-container-service-deployment",
        "Create a deployment version from AWS CLI JSON.",
        create_deployment,
    )
    create.add_argument("--service-name", required=True)
    create.add_argument("--containers", required=True, help="JSON name -> container, or file://")
    create.add_argument("--public-endpoint", help="JSON {containerName, containerPort, ...}")
    add_wait(create, WAIT_UNTIL)

    get = command(
        commands,
        common,
        "get-container-service-deployments",
        "List a service's deployment versions, newest first.",
        get_deployments,
    )
    get.add_argument("--service-name", required=True)

    deploy = command(
        commands, common, "deploy", "Deploy a new version (file or --image).", deploy_version
    )
    deploy.add_argument("service")
    source = deploy.add_mutually_exclusive_group(required=True)
    source.add_argument("-f", "--file", help="containers map or whole deployment, JSON")
    source.add_argument("--image", help="image of a one-container deployment")
    deploy.add_argument("--port", type=int, help="with --image: open it and make it public")
    deploy.add_argument(
        "--protocol", choices=["HTTP", "HTTPS"], default="HTTP", help="of --port (default HTTP)"
    )
    deploy.add_argument(
        "--container-name",
        help=f"with --image (default: the deployed one, else {compose.DEFAULT_CONTAINER})",
    )
    deploy.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="with --image, repeatable"
    )
    deploy.add_argument(
        "--command", metavar="'ARG ...'", help="with --image: launch command, split like a shell"
    )
    deploy.add_argument("--public-endpoint", help="JSON {containerName, containerPort, ...}")
    add_wait(deploy, WAIT_UNTIL)

    rollback = command(
        commands,
        common,
        "rollback",
        "Deploy an earlier version's content again, as a new version.",
        rollback_version,
    )
    rollback.add_argument("service")
    rollback.add_argument("--version", required=True, type=int, help="the version to bring back")
    add_wait(rollback, WAIT_UNTIL)


def create_deployment(args: argparse.Namespace, client: BerthClient) -> Output:
    containers = json_object(args.containers, "--containers")
    endpoint = (
        json_object(args.public_endpoint, "--public-endpoint") if args.public_endpoint else None
    )
    return _create(args, client, args.service_name, compose.from_parts(containers, endpoint))


def deploy_version(args: argparse.Namespace, client: BerthClient) -> Output:
    service = client.service(args.service)
    if args.file is not None:
        extras = {"--port": args.port, "--container-name": args.container_name}
        extras |= {"--env": args.env or None, "--command": args.command}
        given = [flag for flag, value in extras.items() if value is not None]
        if given:
            raise CliError(f"{', '.join(given)} go with --image; put them in the file instead")
        content = compose.from_file(json_object(f"file://{args.file}", "--file"))
    else:
        current = service.status.current_deployment
        deployed = (
            DeploymentContent(
                containers=current.containers, public_endpoint=current.public_endpoint
            )
            if current is not None
            else None
        )
        content = compose.from_image(
            args.image,
            args.port,
            Protocol(args.protocol),
            args.container_name,
            key_values(args.env, "--env"),
            shlex.split(args.command) if args.command is not None else None,
            deployed,
        )
    if args.public_endpoint:
        content = compose.with_endpoint(
            content, json_object(args.public_endpoint, "--public-endpoint")
        )
    output = _create(args, client, args.service, content)
    return Output(output.data, output.text, default="table")


def rollback_version(args: argparse.Namespace, client: BerthClient) -> Output:
    client.service(args.service)
    versions = {n: v for v in client.versions(args.service) if (n := v.number) is not None}
    if args.version not in versions:
        known = ", ".join(str(n) for n in sorted(versions)) or "none"
        raise CliError(f"{args.service} has no version {args.version} (versions kept: {known})")
    content = versions[args.version].spec.content().to_wire()
    output = _create(args, client, args.service, content, f" from version {args.version}")
    return Output(output.data, output.text, default="table")


def _create(
    args: argparse.Namespace,
    client: BerthClient,
    service_name: str,
    content: dict[str, Any],
    origin: str = "",
) -> Output:
    """Validate, create the version, optionally wait; Lightsail answers with the service."""
    wire = compose.validated(content).to_wire()
    client.service(service_name)
    created = client.create_version(service_name, wire)
    note = f"created {created.name}{origin}; the operator gives it the next version number"
    if args.wait:
        active = waiting.wait_version(
            client, service_name, created.name, args.timeout, waiting.Progress()
        )
        note = f"version {active.number} of {service_name} ({created.name}{origin}) is ACTIVE"
    service = client.service(service_name)
    return _service_output(service, note)


def _service_output(service: ContainerServiceObject, note: str) -> Output:
    return Output(
        {"containerService": service_shape(service)}, f"{note}\n\n{services_table([service])}"
    )


def get_deployments(args: argparse.Namespace, client: BerthClient) -> Output:
    client.service(args.service_name)
    shapes = newest_first(client.versions(args.service_name))
    return Output({"deployments": shapes}, deployments_table(shapes))


def newest_first(versions: list[VersionObject]) -> list[dict[str, Any]]:
    shapes = [s for s in (version_shape(v) for v in versions) if s is not None]
    return sorted(shapes, key=lambda s: -int(s["version"]))
