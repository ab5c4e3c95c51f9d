"""What one deployment version runs: containers and the public endpoint with its health check."""

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from berth.api import limits
from berth.api.base import ApiModel, cel, is_dns_label, validations


class Protocol(StrEnum):
    HTTP = "HTTP"
    HTTPS = "HTTPS"
    TCP = "TCP"
    UDP = "UDP"


PUBLIC_PROTOCOLS = (Protocol.HTTP, Protocol.HTTPS)

ContainerName = Annotated[
    str,
    StringConstraints(max_length=limits.MAX_NAME_LENGTH, pattern=limits.DNS_LABEL_PATTERN),
]


class Container(ApiModel):
    """One container of a version, in Lightsail's shape."""

    image: str = Field(min_length=1, max_length=1024, description="Container image reference.")
    command: list[Annotated[str, StringConstraints(max_length=4096)]] | None = Field(
        default=None,
        max_length=limits.MAX_COMMAND_ARGS,
        description="Launch command with Docker CMD semantics (becomes the container's args).",
    )
    environment: dict[str, Annotated[str, StringConstraints(max_length=32768)]] | None = Field(
        default=None,
        max_length=limits.MAX_ENVIRONMENT,
        description="Environment variables, name to value.",
        json_schema_extra=validations(
            cel(
                "self.all(k, k.matches('^[-._a-zA-Z][-._a-zA-Z0-9]*$'))",
                "environment variable names must consist of letters, digits, '_', '-' or "
                "'.', and must not start with a digit",
            )
        ),
    )
    ports: dict[str, Protocol] | None = Field(
        default=None,
        max_length=limits.MAX_PORTS_PER_CONTAINER,
        description='Open ports, port number (as a string, e.g. "80") to protocol.',
        json_schema_extra=validations(
            cel(
                "self.all(p, p.matches('^[0-9]{1,5}$') && int(p) >= 1 && int(p) <= 65535)",
                "ports keys must be port numbers between 1 and 65535",
            )
        ),
    )

    @field_validator("ports")
    @classmethod
    def _port_numbers(cls, ports: dict[str, Protocol] | None) -> dict[str, Protocol] | None:
        for port in ports or {}:
            if not port.isdigit() or not 1 <= int(port) <= 65535:
                raise ValueError(f"port {port!r} is not a number between 1 and 65535")
        return ports


class HealthCheck(ApiModel):
    """Lightsail's health check of the public endpoint container."""

    healthy_threshold: int = Field(
        default=limits.HEALTHY_THRESHOLD[2],
        ge=limits.HEALTHY_THRESHOLD[0],
        le=limits.HEALTHY_THRESHOLD[1],
        description="Consecutive successes before the container counts as healthy.",
    )
    unhealthy_threshold: int = Field(
        default=limits.UNHEALTHY_THRESHOLD[2],
        ge=limits.UNHEALTHY_THRESHOLD[0],
        le=limits.UNHEALTHY_THRESHOLD[1],
        description="Consecutive failures before the container counts as unhealthy.",
    )
    timeout_seconds: int = Field(
        default=limits.TIMEOUT_SECONDS[2],
        ge=limits.TIMEOUT_SECONDS[0],
        le=limits.TIMEOUT_SECONDS[1],
        description="Seconds without a response that count as a failure.",
    )
    interval_seconds: int = Field(
        default=limits.INTERVAL_SECONDS[2],
        ge=limits.INTERVAL_SECONDS[0],
        le=limits.INTERVAL_SECONDS[1],
        description="Seconds between two checks.",
    )
    path: str = Field(
        default=limits.DEFAULT_HEALTH_PATH,
        min_length=1,
        max_length=1024,
        pattern=r"^/",
        description="HTTP path that is checked.",
    )
    success_codes: str = Field(
        default=limits.DEFAULT_SUCCESS_CODES,
        max_length=64,
        pattern=limits.SUCCESS_CODES_PATTERN,
        description='HTTP codes that count as healthy, e.g. "200,202" or "200-299" (200-499).',
        # The pattern reports a malformed value; the rules skip it rather than fail on int().
        json_schema_extra=validations(
            cel(
                f"!self.matches('{limits.SUCCESS_CODES_PATTERN}') || "
                "self.split(',').all(r, r.split('-').all(c, "
                f"int(c) >= {limits.MIN_SUCCESS_CODE} && int(c) <= {limits.MAX_SUCCESS_CODE}))",
                f"successCodes must be HTTP codes between {limits.MIN_SUCCESS_CODE} and "
                f"{limits.MAX_SUCCESS_CODE}",
            ),
            cel(
                f"!self.matches('{limits.SUCCESS_CODES_PATTERN}') || "
                "self.split(',').all(r, size(r.split('-')) == 1 || "
                "int(r.split('-')[0]) <= int(r.split('-')[1]))",
                "successCodes ranges must be written low-high, e.g. 200-299",
            ),
        ),
    )

    @field_validator("success_codes")
    @classmethod
    def _codes_in_range(cls, codes: str) -> str:
        for low, high in parse_success_codes(codes):
            if not limits.MIN_SUCCESS_CODE <= low <= high <= limits.MAX_SUCCESS_CODE:
                raise ValueError(f"successCodes {codes!r} must be ranges within 200-499")
        return codes


def parse_success_codes(codes: str) -> list[tuple[int, int]]:
    """`"200,202-204"` → `[(200, 200), (202, 204)]`."""
    ranges = []
    for part in codes.split(","):
        low, _, high = part.partition("-")
        ranges.append((int(low), int(high or low)))
    return ranges


class PublicEndpoint(ApiModel):
    """The container and port that the HTTPS public endpoint forwards to."""

    container_name: ContainerName = Field(description="Container that serves the endpoint.")
    container_port: int = Field(ge=1, le=65535, description="Port of that container.")
    health_check: HealthCheck = Field(
        default_factory=HealthCheck,
        description="Health check of the endpoint container.",
        # An empty default lets the API server fill in (and `kubectl get` show) Lightsail's values.
        json_schema_extra={"default": {}},
    )


class HealthTarget(ApiModel):
    """What a pod's health check needs besides the pod's address: written on the pod template
    (an annotation), so that whoever checks a pod reads everything from the pod itself."""

    port: int = Field(ge=1, le=65535)
    scheme: Protocol
    health_check: HealthCheck


_ENDPOINT = "self.publicEndpoint"
_ENDPOINT_CONTAINER = "self.containers[self.publicEndpoint.containerName]"
_ENDPOINT_PORT = "string(self.publicEndpoint.containerPort)"
CONTENT_RULES = [
    cel(
        f"!has(self.publicEndpoint) || {_ENDPOINT}.containerName in self.containers",
        "publicEndpoint.containerName must name one of the containers",
        ".publicEndpoint.containerName",
    ),
    cel(
        f"!has(self.publicEndpoint) || !({_ENDPOINT}.containerName in self.containers) || "
        f"(has({_ENDPOINT_CONTAINER}.ports) && {_ENDPOINT_PORT} in {_ENDPOINT_CONTAINER}.ports "
        f"&& {_ENDPOINT_CONTAINER}.ports[{_ENDPOINT_PORT}] in ['HTTP', 'HTTPS'])",
        "publicEndpoint.containerPort must be a port that the container opens as HTTP or HTTPS",
        ".publicEndpoint.containerPort",
    ),
    cel(
        "self.containers.all(a, !has(self.containers[a].ports) || self.containers.all(b, "
        "a == b || !has(self.containers[b].ports) || "
        "self.containers[a].ports.all(p, !(p in self.containers[b].ports))))",
        "containers: a port number may be opened by one container only",
        ".containers",
    ),
]

Containers = Annotated[
    dict[ContainerName, Container],
    Field(
        min_length=1,
        max_length=limits.MAX_CONTAINERS,
        description="Containers of this version, name to container (1 to 10).",
        json_schema_extra=validations(
            cel(
                f"self.all(n, {is_dns_label('n')})",
                "containers names must be DNS labels: lowercase letters, digits and '-', "
                "at most 63 characters",
            )
        ),
    ),
]


class DeploymentContent(ApiModel):
    """The content of one version: what `create-container-service-deployment` takes."""

    model_config = ConfigDict(json_schema_extra=validations(*CONTENT_RULES))

    containers: Containers
    public_endpoint: PublicEndpoint | None = Field(
        default=None, description="The container and port behind the HTTPS public endpoint."
    )

    @model_validator(mode="after")
    def _cross_field_rules(self) -> "DeploymentContent":
        owners: dict[str, str] = {}
        for name, container in self.containers.items():
            for port in container.ports or {}:
                if port in owners:
                    raise ValueError(f"port {port} is opened by {owners[port]} and {name}")
                owners[port] = name
        endpoint = self.public_endpoint
        if endpoint is not None:
            target = self.containers.get(endpoint.container_name)
            if target is None:
                raise ValueError(
                    f"publicEndpoint.containerName {endpoint.container_name!r} missing"
                )
            protocol = (target.ports or {}).get(str(endpoint.container_port))
            if protocol not in PUBLIC_PROTOCOLS:
                raise ValueError("publicEndpoint.containerPort must be opened as HTTP or HTTPS")
        return self

    def endpoint_protocol(self) -> Protocol | None:
        """HTTP or HTTPS of the public endpoint port, None without an endpoint."""
        if self.public_endpoint is None:
            return None
        ports = self.containers[self.public_endpoint.container_name].ports or {}
        return ports[str(self.public_endpoint.container_port)]
