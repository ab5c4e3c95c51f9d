"""ContainerServiceDeployment: one immutable, numbered deployment version of a service."""

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from berth.api.base import ApiModel, cel, validations
from berth.api.common import Conditions, ObjectName
from berth.api.content import CONTENT_RULES, Containers, DeploymentContent, PublicEndpoint


class VersionState(StrEnum):
    ACTIVATING = "ACTIVATING"
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    FAILED = "FAILED"


class VersionSpec(DeploymentContent):
    """A version's content and the service it belongs to. Immutable after creation."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            *CONTENT_RULES,
            cel(
                "self == oldSelf",
                "spec is immutable: a version never changes; create a new "
                "ContainerServiceDeployment instead",
            ),
        )
    )

    service_name: ObjectName = Field(
        description="The ContainerService this version belongs to.",
        json_schema_extra=validations(cel("self == oldSelf", "serviceName is immutable")),
    )
    containers: Containers
    public_endpoint: PublicEndpoint | None = Field(
        default=None, description="The container and port behind the HTTPS public endpoint."
    )

    def content(self) -> DeploymentContent:
        return DeploymentContent(containers=self.containers, public_endpoint=self.public_endpoint)


class VersionStatus(ApiModel):
    """What the operator says of a version."""

    version: int | None = Field(
        default=None, ge=1, description="Number of this version within its service (1, 2, 3…)."
    )
    state: VersionState | None = Field(default=None, description="Lightsail's deployment state.")
    message: str | None = Field(default=None, description="Why the version is in its state.")
    activated_at: datetime | None = Field(default=None, description="When it became ACTIVE.")
    observed_generation: int | None = Field(default=None, description="Generation last handled.")
    conditions: Conditions


class VersionSummary(ApiModel):
    """A version as a service's status shows it (Lightsail's ContainerServiceDeployment)."""

    version: int = Field(description="Version number.")
    state: VersionState = Field(description="Deployment state.")
    name: str = Field(description="Name of the ContainerServiceDeployment object.")
    containers: Containers
    public_endpoint: PublicEndpoint | None = Field(default=None, description="Public endpoint.")
    created_at: datetime | None = Field(default=None, description="When the version was created.")
