"""Registered images (`:<service>.<label>.<number>`) as the pods pull them, and the pull secret."""

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from berth.api.content import DeploymentContent
from berth.api.image import is_registered, registered_name
from berth.api.objects import ContainerServiceObject, ImageObject
from berth.registry_auth import logins
from berth.render import names
from berth.render.owner import owned_metadata
from berth.settings import Settings

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Registry:
    """Where registered images are kept and the credentials pods pull them with."""

    host: str  # host[:port], as image references start
    pull_username: str
    pull_password: str
    # With the token service's key: each service pulls with a login of its own repositories.
    login_key: bytes | None = None

    def pull_login(self, namespace: str, service: str) -> tuple[str, str]:
        if self.login_key is None:
            return self.pull_username, self.pull_password
        login = logins.Login(namespace, service, (logins.PULL,))
        return namespace, logins.mint(self.login_key, login)


def registry_of(settings: Settings) -> Registry | None:
    if settings.registry is None:
        return None
    pem = settings.registry_token_key.get_secret_value()
    return Registry(
        settings.registry,
        settings.registry_pull_username,
        settings.registry_pull_password.get_secret_value(),
        logins.login_key(pem) if pem else None,
    )


def pullable(registry: str, namespace: str, image: ImageObject) -> str:
    """`<registry>/<namespace>/<service>/<label>@sha256:…`: by digest, so a pod pulls exactly
    the image that was registered, whatever was pushed since."""
    spec = image.spec
    repository = names.image_repository(namespace, spec.service_name, spec.label)
    return f"{registry}/{repository}@{spec.digest}"


def resolved_images(
    service: ContainerServiceObject, images: Iterable[ImageObject], registry: str | None
) -> dict[str, str]:
    """`:<service>.<label>.<number>` → what the pods pull, for the service's own images.

    Without a registry nothing resolves: each such name then says so in its version's state."""
    if registry is None:
        return {}
    return {
        str(image.registered): pullable(registry, service.namespace, image)
        for image in images
        if image.spec.service_name == service.name
    }


def missing(content: DeploymentContent, resolved: Mapping[str, str]) -> list[str]:
    """The registered names in `content` that do not resolve, in container order."""
    return [
        container.image
        for container in content.containers.values()
        if is_registered(container.image) and container.image not in resolved
    ]


def uses_registered(content: DeploymentContent) -> bool:
    return any(is_registered(c.image) for c in content.containers.values())


def missing_message(service: str, absent: list[str]) -> str:
    """Why a version cannot run: which names, and why each does not resolve."""
    reasons = []
    for image in absent:
        parsed = registered_name(image)
        if parsed is None:
            reasons.append(f"{image!r} is not of the form :<service>.<label>.<number>")
        elif parsed.service != service:
            reasons.append(f"{image!r} belongs to service {parsed.service!r}, not {service!r}")
        else:
            reasons.append(f"{image!r} is not a registered image of service {service!r}")
    return "; ".join(reasons)


def pull_secret(service: ContainerServiceObject, registry: Registry) -> Manifest:
    """A kubernetes.io/dockerconfigjson Secret with the registry's pull credentials."""
    username, password = registry.pull_login(service.namespace, service.name)
    token = base64.b64encode(f"{username}:{password}".encode())
    config = {"auths": {registry.host: {"auth": token.decode()}}}
    data = base64.b64encode(json.dumps(config, sort_keys=True).encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": owned_metadata(service, names.registry_pull_secret(service.name)),
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": data},
    }
