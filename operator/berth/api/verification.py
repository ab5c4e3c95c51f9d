"""Proof of domain ownership: the records a service shows, and the admins' allow-list."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from berth.api import limits
from berth.api.base import ApiModel, cel, validations
from berth.api.common import ObjectName

MAX_ALLOWED_DOMAINS = 256

DomainPattern = Annotated[
    str, StringConstraints(max_length=limits.MAX_DOMAIN_LENGTH, pattern=limits.DOMAIN_PATTERN)
]


class ValidationStatus(StrEnum):
    """Lightsail's words for a validation record. (Lightsail's FAILED, a record not found within
    72 hours, has no counterpart: Berth keeps looking.)"""

    PENDING_VALIDATION = "PENDING_VALIDATION"
    SUCCESS = "SUCCESS"


class ResourceRecord(ApiModel):
    """One DNS record, as Lightsail shows a certificate's validation record."""

    name: str = Field(description="Fully qualified name of the record.")
    type: str = Field(description="Record type (TXT).")
    value: str = Field(description="The record's value.")


class DomainValidationRecord(ApiModel):
    """The record the owner of a custom domain creates to prove it, and what was found."""

    domain_name: str = Field(description="The custom domain.")
    resource_record: ResourceRecord = Field(description="The record to create in its DNS zone.")
    validation_status: ValidationStatus = Field(description="Whether the record was found.")
    message: str | None = Field(default=None, description="What the last look found.")


class DomainAllowListSpec(ApiModel):
    """Custom domains one namespace may use without a DNS record: an administrator's word.

    Cluster-scoped, so that only whoever may write cluster-wide objects can grant a domain.
    """

    # The operator looks again at the services of the namespace a list names when it changes:
    # moved to another namespace, the first one's services would not hear of it.
    namespace: ObjectName = Field(
        description="The namespace whose services may use the domains; it cannot change.",
        json_schema_extra=validations(cel("self == oldSelf", "namespace cannot be changed")),
    )
    domains: list[DomainPattern] = Field(
        min_length=1,
        max_length=MAX_ALLOWED_DOMAINS,
        description="Domains, lowercase or not: `shop.example.com` exactly, or `*.example.com` "
        "for every name under example.com (wildcards included).",
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
