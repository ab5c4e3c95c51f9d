"""Deployment content from the user's input: AWS CLI JSON, a file, or `--image`/`--port`."""

from typing import Any

from pydantic import ValidationError

from berth.api.content import DeploymentContent, Protocol
from berth.cli.errors import CliError, describe_validation

DEFAULT_CONTAINER = "app"


def validated(content: dict[str, Any], what: str = "deployment") -> DeploymentContent:
    """The content as the API will judge it, checked here first for a clear message."""
    try:
        return DeploymentContent.model_validate(content)
    except ValidationError as error:
        raise CliError(f"invalid {what}: {describe_validation(error)}") from error


def from_parts(
    containers: dict[str, Any], public_endpoint: dict[str, Any] | None
) -> dict[str, Any]:
    """`--containers` and `--public-endpoint` of create-container-service-deployment."""
    content: dict[str, Any] = {"containers": containers}
    if public_endpoint is not None:
        content["publicEndpoint"] = public_endpoint
    return content


def from_file(loaded: dict[str, Any]) -> dict[str, Any]:
    """A file holding either the containers map or a whole deployment with `containers`.

    A whole deployment's `containers` is a map of containers; a container (one named
    `containers`, say) has an `image` instead.
    """
    inner = loaded.get("containers")
    if isinstance(inner, dict) and "image" not in inner:
        return dict(loaded)
    return {"containers": loaded}


def from_image(
    image: str,
    port: int | None,
    protocol: Protocol,
    name: str | None,
    environment: dict[str, str],
    command: list[str] | None,
    current: DeploymentContent | None,
) -> dict[str, Any]:
    """`berth deploy --image`: a new image for a one-container service, or a new container.

    Without `--port` and with one container deployed now, that container keeps its ports,
    environment, command and the public endpoint, and gets the new image. Otherwise the
    result is one container, public on `--port` if given.
    """
    if port is None and current is not None and len(current.containers) == 1:
        (current_name,) = current.containers
        if name in (None, current_name):
            wire = current.to_wire()
            kept = wire["containers"][current_name]
            kept["image"] = image
            if environment:
                kept["environment"] = {**kept.get("environment", {}), **environment}
            if command is not None:
                kept["command"] = command
            return dict(wire)
    name = name or DEFAULT_CONTAINER
    container: dict[str, Any] = {"image": image}
    if environment:
        container["environment"] = environment
    if command is not None:
        container["command"] = command
    content: dict[str, Any] = {"containers": {name: container}}
    if port is not None:
        container["ports"] = {str(port): protocol.value}
        content["publicEndpoint"] = {"containerName": name, "containerPort": port}
    return content


def with_endpoint(
    content: dict[str, Any], public_endpoint: dict[str, Any] | None
) -> dict[str, Any]:
    """`--public-endpoint` replaces whatever endpoint the content had."""
    if public_endpoint is None:
        return content
    return {**content, "publicEndpoint": public_endpoint}
