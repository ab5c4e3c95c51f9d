"""DomainClaim: a cluster-wide lock on one DNS name, held by at most one ContainerService."""

from enum import StrEnum

from pydantic import ConfigDict, Field

from berth.api import limits
from berth.api.base import ApiModel, cel, validations
from berth.api.common import ObjectName


class ClaimPurpose(StrEnum):
    PUBLIC = "Public"  # a custom domain of the public endpoint
    PRIVATE = "Private"  # the private `<service>.<suffix>` name


class ClaimOwner(ApiModel):
    """The service that holds the name."""

    namespace: ObjectName = Field(description="Namespace of the ContainerService.")
    name: ObjectName = Field(description="Name of the ContainerService.")
    uid: str = Field(min_length=1, max_length=64, description="UID of the ContainerService.")


class DomainClaimSpec(ApiModel):
    """Who holds which name. Never changed: a claim is created by its winner and deleted on release."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel("self == oldSelf", "a DomainClaim never changes; delete it to release the name")
        )
    )

    domain: str = Field(
        max_length=limits.MAX_DOMAIN_LENGTH,
        pattern=limits.DOMAIN_PATTERN,
        description="The claimed name, lowercase; a leading '*.' claims a wildcard.",
    )
    purpose: ClaimPurpose = Field(description="Public (custom domain) or Private (service name).")
    owner: ClaimOwner = Field(description="The ContainerService that holds the name.")
