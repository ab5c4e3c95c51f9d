"""Parts shared by several kinds: tags, metav1 conditions, object metadata."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from berth.api import limits
from berth.api.base import ApiModel


class Tag(ApiModel):
    """A Lightsail tag, copied to every owned object."""

    key: str = Field(
        min_length=1,
        max_length=limits.MAX_TAG_KEY_LENGTH,
        pattern=limits.TAG_PATTERN,
        description="Tag key (letters, spaces, digits and _ . : / = + - @).",
    )
    value: str = Field(
        default="",
        max_length=limits.MAX_TAG_VALUE_LENGTH,
        pattern=limits.TAG_PATTERN,
        description="Tag value.",
    )


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(ApiModel):
    """A metav1.Condition."""

    type: str = Field(max_length=316, description="Type of the condition, in CamelCase.")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    observed_generation: int | None = Field(
        default=None, ge=0, description="The .metadata.generation the condition was set for."
    )
    last_transition_time: datetime = Field(description="When the status last changed.")
    reason: str = Field(max_length=1024, description="Machine-readable CamelCase reason.")
    message: str = Field(default="", max_length=32768, description="Human-readable details.")


Conditions = Annotated[
    list[Condition] | None,
    Field(
        default=None,
        description="Current conditions of the object.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    ),
]

ObjectName = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=limits.MAX_NAME_LENGTH, pattern=limits.DNS_LABEL_PATTERN
    ),
]

Scope = Literal["Namespaced", "Cluster"]
