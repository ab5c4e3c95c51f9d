"""ContainerService: one service with a capacity (power x scale), domains and versions."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from berth.api import limits
from berth.api.base import ApiModel, cel, is_dns_label, validations
from berth.api.common import Conditions, ObjectName, Tag
from berth.api.content import DeploymentContent
from berth.api.domains import by_certificate, every
from berth.api.verification import DomainValidationRecord
from berth.api.version import VersionSummary

Domain = Annotated[
    str, StringConstraints(max_length=limits.MAX_DOMAIN_LENGTH, pattern=limits.DOMAIN_PATTERN)
]

DOMAIN_RULES = [
    cel(
        f"self.map(c, size(self[c])).sum() <= {limits.MAX_PUBLIC_DOMAINS}",
        f"publicDomainNames: at most {limits.MAX_PUBLIC_DOMAINS} custom domains in total",
    ),
    # Counted, not compared pairwise: a pair test cannot tell a repeat within one list from itself.
    cel(
        "self.all(a, self[a].all(d, "
        "self.map(b, size(self[b].filter(e, e.lowerAscii() == d.lowerAscii()))).sum() == 1))",
        "publicDomainNames: a domain may be listed only once (case-insensitively)",
    ),
    cel(
        f"self.all(c, {is_dns_label('c')})",
        "publicDomainNames: certificate names must be DNS labels (lowercase letters, digits, '-')",
    ),
]


class PrivateRegistryAccess(ApiModel):
    """Kubernetes' form of Lightsail's ECR image puller role."""

    image_pull_secrets: list[ObjectName] | None = Field(
        default=None,
        max_length=limits.MAX_IMAGE_PULL_SECRETS,
        description="Names of image pull secrets in the service's namespace.",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )


class ServiceSpec(ApiModel):
    """What the user asks for."""

    power: ObjectName = Field(description="Name of a ContainerServicePower, e.g. nano or small.")
    scale: int = Field(
        ge=limits.MIN_SCALE, le=limits.MAX_SCALE, description="Number of nodes (replicas), 1-20."
    )
    is_disabled: bool = Field(
        default=False, description="Scale to zero and drop the public endpoint, keeping all else."
    )
    public_domain_names: (
        dict[
            ObjectName,
            Annotated[list[Domain], Field(min_length=1, max_length=limits.MAX_PUBLIC_DOMAINS)],
        ]
        | None
    ) = Field(
        default=None,
        max_length=limits.MAX_PUBLIC_DOMAINS,
        description="Certificate name to the custom domains it covers (4 domains in total).",
        json_schema_extra=validations(*DOMAIN_RULES),
    )
    deployment: DeploymentContent | None = Field(
        default=None,
        description="Inline deployment; each change of it creates a new version <service>-v<N>.",
    )
    private_registry_access: PrivateRegistryAccess | None = Field(
        default=None, description="Pull secrets for private registries."
    )
    tags: list[Tag] | None = Field(
        default=None,
        max_length=limits.MAX_TAGS,
        description="Tags copied to every owned object.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["key"]},
    )

    @field_validator("public_domain_names")
    @classmethod
    def _domains(cls, names: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        domains = every(names)
        if len(domains) > limits.MAX_PUBLIC_DOMAINS:
            raise ValueError(f"at most {limits.MAX_PUBLIC_DOMAINS} custom domains in total")
        if len(set(domains)) != len(domains):
            raise ValueError("a domain may be listed only once")
        return names

    def domains_by_certificate(self) -> dict[str, list[str]]:
        """Certificate → its custom domains, lowercased."""
        return by_certificate(self.public_domain_names)

    def custom_domains(self) -> list[str]:
        """Every custom domain, lowercased, in declaration order."""
        return every(self.public_domain_names)


class ServiceState(StrEnum):
    PENDING = "PENDING"
    READY = "READY"
    DEPLOYING = "DEPLOYING"
    RUNNING = "RUNNING"
    UPDATING = "UPDATING"
    DELETING = "DELETING"
    DISABLED = "DISABLED"


class StateDetailCode(StrEnum):
    CREATING_SYSTEM_RESOURCES = "CREATING_SYSTEM_RESOURCES"
    CREATING_NETWORK_INFRASTRUCTURE = "CREATING_NETWORK_INFRASTRUCTURE"
    PROVISIONING_CERTIFICATE = "PROVISIONING_CERTIFICATE"
    PROVISIONING_SERVICE = "PROVISIONING_SERVICE"
    CREATING_DEPLOYMENT = "CREATING_DEPLOYMENT"
    EVALUATING_HEALTH_CHECK = "EVALUATING_HEALTH_CHECK"
    ACTIVATING_DEPLOYMENT = "ACTIVATING_DEPLOYMENT"
    CERTIFICATE_LIMIT_EXCEEDED = "CERTIFICATE_LIMIT_EXCEEDED"
    UNKNOWN_ERROR = "UNKNOWN_ERROR"


class StateDetail(ApiModel):
    code: StateDetailCode | None = Field(default=None, description="Lightsail's detail code.")
    message: str | None = Field(default=None, description="What is happening, for people.")


class VersionLedger(ApiModel):
    """The last version number handed out, so that numbers are never reused or skipped."""

    last_version: int = Field(default=0, ge=0, description="Highest version number assigned.")
    last_uid: str | None = Field(default=None, description="UID of the version that got it.")
    last_name: str | None = Field(default=None, description="Name of the version that got it.")
    inline_hash: str | None = Field(
        default=None, description="Hash of the inline deployment last turned into a version."
    )


class ServiceStatus(ApiModel):
    """What the operator observes of a service, in Lightsail's words."""

    state: ServiceState | None = Field(default=None, description="Lightsail's service state.")
    state_detail: StateDetail | None = Field(default=None, description="Why, in detail.")
    current_deployment: VersionSummary | None = Field(
        default=None, description="The ACTIVE version."
    )
    next_deployment: VersionSummary | None = Field(
        default=None, description="The version being activated."
    )
    power: str | None = Field(default=None, description="Power in effect.")
    scale: int | None = Field(default=None, description="Scale in effect.")
    monthly_price: float | None = Field(default=None, description="Power price x scale, in USD.")
    private_domain_name: str | None = Field(default=None, description="<name>.service.local.")
    url: str | None = Field(default=None, description="HTTPS URL of the default domain.")
    public_domain_names: dict[str, list[str]] | None = Field(
        default=None, description="Custom domains in effect."
    )
    domain_validation_records: list[DomainValidationRecord] | None = Field(
        default=None,
        description="The DNS record each custom domain needs before it is served, and whether "
        "it was found.",
    )
    guid: str | None = Field(default=None, description="Random part of the default domain.")
    created_at: datetime | None = Field(default=None, description="When the service was created.")
    replicas: int | None = Field(default=None, description="Pods of the service.")
    ready_replicas: int | None = Field(default=None, description="Pods that are ready.")
    selector: str | None = Field(default=None, description="Label selector of the pods.")
    observed_generation: int | None = Field(default=None, description="Generation last handled.")
    versions: VersionLedger | None = Field(default=None, description="Version numbering ledger.")
    conditions: Conditions
