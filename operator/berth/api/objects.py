"""Whole objects as the operator reads them: metadata plus the typed spec and status."""

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from berth.api.content import DeploymentContent
from berth.api.image import ContainerImageSpec, RegisteredName
from berth.api.power import PowerSpec
from berth.api.service import ServiceSpec, ServiceStatus
from berth.api.version import VersionSpec, VersionStatus


class Meta(BaseModel):
    """The parts of ObjectMeta the operator uses."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    name: str
    namespace: str | None = None
    uid: str = ""
    generation: int = 0
    resource_version: str = Field(default="", alias="resourceVersion")
    creation_timestamp: datetime | None = Field(default=None, alias="creationTimestamp")
    deletion_timestamp: datetime | None = Field(default=None, alias="deletionTimestamp")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    finalizers: list[str] = Field(default_factory=list)

    @property
    def deleting(self) -> bool:
        return self.deletion_timestamp is not None


class ContainerServiceObject(BaseModel):
    model_config = ConfigDict(frozen=True)

    metadata: Meta
    spec: ServiceSpec
    status: ServiceStatus = Field(default_factory=ServiceStatus)

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def namespace(self) -> str:
        return self.metadata.namespace or "default"


class VersionObject(BaseModel):
    model_config = ConfigDict(frozen=True)

    metadata: Meta
    spec: VersionSpec
    status: VersionStatus = Field(default_factory=VersionStatus)

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def number(self) -> int | None:
        return self.status.version


class PowerObject(BaseModel):
    model_config = ConfigDict(frozen=True)

    metadata: Meta
    spec: PowerSpec


class ImageObject(BaseModel):
    """A registered image: `:<service>.<label>.<number>` and the digest it stands for."""

    model_config = ConfigDict(frozen=True)

    metadata: Meta
    spec: ContainerImageSpec

    @property
    def registered(self) -> RegisteredName:
        return RegisteredName(self.spec.service_name, self.spec.label, self.spec.number)


def parse_image(body: dict[str, Any]) -> ImageObject:
    return ImageObject.model_validate(body)


def parse_service(body: dict[str, Any]) -> ContainerServiceObject:
    return ContainerServiceObject.model_validate(_plain(body))


def parse_version(body: dict[str, Any]) -> VersionObject:
    return VersionObject.model_validate(_plain(body))


def parse_power(body: dict[str, Any]) -> PowerObject:
    return PowerObject.model_validate(_plain(body))


def _plain(body: Any) -> dict[str, Any]:
    data = dict(body)
    data.setdefault("status", {})
    if data["status"] is None:
        data["status"] = {}
    return data


def content_hash(content: DeploymentContent) -> str:
    """Stable fingerprint of a deployment's content, to tell an unchanged inline deployment."""
    canonical = json.dumps(content.to_wire(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
