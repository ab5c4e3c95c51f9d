"""ContainerImage: one image registered to a service, deployed as `:<service>.<label>.<number>`.

The digest is the identity (what the pods pull); the number is the name people use, given once
per label and never again. The record is named `<service>.<label>.<number>`, so the API server's
name uniqueness settles two pushes racing for the same number.
"""

import re
from dataclasses import dataclass

from pydantic import ConfigDict, Field

from berth.api import limits
from berth.api.base import ApiModel, cel, validations
from berth.api.common import ObjectName

IMAGE_LABEL_PATTERN = limits.DNS_LABEL_PATTERN
# `:web.site.3`: service and label hold no dots, so the dots split it unambiguously.
_REGISTERED = re.compile(r"^:([a-z0-9-]+)\.([a-z0-9-]+)\.([1-9][0-9]*)$")


class ContainerImageSpec(ApiModel):
    """Which image, under which name. Never changed: push again for a new number."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel("self == oldSelf", "a ContainerImage never changes; register a new one")
        )
    )

    service_name: ObjectName = Field(description="The ContainerService the image belongs to.")
    label: str = Field(
        min_length=1,
        max_length=limits.MAX_IMAGE_LABEL_LENGTH,
        pattern=IMAGE_LABEL_PATTERN,
        description="Lightsail's label: lowercase letters, digits and '-'.",
    )
    number: int = Field(
        ge=1, le=999_999_999, description="Number within the label: 1, 2, 3… never reused."
    )
    digest: str = Field(
        pattern=limits.DIGEST_PATTERN, description="Digest of the image's manifest (sha256:…)."
    )


@dataclass(frozen=True)
class RegisteredName:
    """`:<service>.<label>.<number>`, the name a deployment gives a registered image."""

    service: str
    label: str
    number: int

    def __str__(self) -> str:
        return f":{self.service}.{self.label}.{self.number}"

    @property
    def object_name(self) -> str:
        return f"{self.service}.{self.label}.{self.number}"


def registered_name(image: str) -> RegisteredName | None:
    """The parts of `:web.site.3`; None for any other image reference."""
    found = _REGISTERED.match(image)
    if found is None:
        return None
    service, label, number = found.groups()
    return RegisteredName(service, label, int(number))


def is_registered(image: str) -> bool:
    """Whether `image` names a registered image (starts with ':'), well formed or not."""
    return image.startswith(":")
