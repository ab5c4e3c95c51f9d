"""Builders of real API models and Kubernetes bodies for the pure unit tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from berth.api.content import DeploymentContent
from berth.api.objects import ContainerServiceObject, VersionObject, parse_service, parse_version
from berth.api.service import VersionLedger
from berth.render import names
from berth.settings import ResourcesMode, Settings
from berth.status.rollout import Rollout

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
EARLIER = datetime(2024, 12, 31, 0, 0, 0, tzinfo=UTC)
SERVICE = "web"
NAMESPACE = "shop"
UID = "0b6c1d2e-0000-4000-8000-000000000001"

WEB_CONTAINERS: dict[str, Any] = {
    "app": {
        "image": "nginx:1.27",
        "command": ["nginx", "-g", "daemon off;"],
        "environment": {"ZETA": "z", "ALPHA": "a"},
        "ports": {"8080": "HTTP", "9090": "TCP"},
    },
    "dns": {"image": "coredns:1.11", "ports": {"53": "UDP"}},
}
WEB_ENDPOINT: dict[str, Any] = {"containerName": "app", "containerPort": 8080}


def settings(mode: ResourcesMode = ResourcesMode.POD, **overrides: Any) -> Settings:
    """Settings with explicit values, so that BERTH_* variables of the shell do not leak in."""
    values: dict[str, Any] = {"resources_mode": mode, "progress_deadline_seconds": 600}
    values.update(overrides)
    return Settings(**values)


def content_wire(
    containers: dict[str, Any] | None = None, endpoint: dict[str, Any] | None = None
) -> dict[str, Any]:
    wire: dict[str, Any] = {"containers": containers if containers is not None else WEB_CONTAINERS}
    if endpoint is not None:
        wire["publicEndpoint"] = endpoint
    return wire


def content(
    containers: dict[str, Any] | None = None, endpoint: dict[str, Any] | None = None
) -> DeploymentContent:
    return DeploymentContent.model_validate(content_wire(containers, endpoint))


def service(
    name: str = SERVICE,
    *,
    power: str = "nano",
    scale: int = 2,
    disabled: bool = False,
    tags: list[dict[str, str]] | None = None,
    pull_secrets: list[str] | None = None,
    domains: dict[str, list[str]] | None = None,
    generation: int = 3,
    deleting: bool = False,
    conditions: list[dict[str, Any]] | None = None,
    state: str | None = None,
) -> ContainerServiceObject:
    spec: dict[str, Any] = {"power": power, "scale": scale, "isDisabled": disabled}
    if tags is not None:
        spec["tags"] = tags
    if pull_secrets is not None:
        spec["privateRegistryAccess"] = {"imagePullSecrets": pull_secrets}
    if domains is not None:
        spec["publicDomainNames"] = domains
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": NAMESPACE,
        "uid": UID,
        "generation": generation,
        "creationTimestamp": EARLIER.isoformat(),
    }
    if deleting:
        metadata["deletionTimestamp"] = NOW.isoformat()
    body: dict[str, Any] = {"metadata": metadata, "spec": spec}
    if conditions is not None:
        body["status"] = {"conditions": conditions}
    if state is not None:
        body.setdefault("status", {})["state"] = state
    return parse_service(body)


def version(
    number: int | None,
    state: str | None = None,
    *,
    message: str | None = None,
    service_name: str = SERVICE,
    name: str | None = None,
    containers: dict[str, Any] | None = None,
    endpoint: dict[str, Any] | None = None,
) -> VersionObject:
    status: dict[str, Any] = {}
    if number is not None:
        status["version"] = number
    if state is not None:
        status["state"] = state
    if message is not None:
        status["message"] = message
    spec = {"serviceName": service_name, **content_wire(containers, endpoint)}
    default_name = names.version(service_name, number) if number else f"{service_name}-manual"
    return parse_version(
        {
            "metadata": {
                "name": name or default_name,
                "namespace": NAMESPACE,
                "uid": f"uid-{name or default_name}",
                "creationTimestamp": EARLIER.isoformat(),
            },
            "spec": spec,
            "status": status,
        }
    )


def rollout(
    template: int | None,
    *,
    desired: int = 2,
    replicas: int | None = None,
    updated: int | None = None,
    ready: int | None = None,
    available: int | None = None,
    observed: bool = True,
    deadline: bool = False,
    failures: dict[int, str] | None = None,
    healthy: int | None = None,
) -> Rollout:
    """A Rollout; counts default to a finished rollout of `desired` replicas.

    `healthy` is how many pods of the template's version are ready (default: `ready`).
    """
    return Rollout(
        exists=True,
        template_version=template,
        desired=desired,
        generation_observed=observed,
        replicas=desired if replicas is None else replicas,
        updated=desired if updated is None else updated,
        ready=desired if ready is None else ready,
        available=desired if available is None else available,
        deadline_exceeded=deadline,
        pod_failures=failures or {},
        ready_by_version=(
            {template: (desired if ready is None else ready) if healthy is None else healthy}
            if template is not None
            else {}
        ),
    )


def kube_deployment(
    template: int | str | None,
    *,
    replicas: int | None = 2,
    generation: int = 5,
    observed_generation: int | None = 5,
    status: dict[str, Any] | None = None,
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An apps/v1 Deployment body as the API server returns it."""
    labels = {names.SERVICE_LABEL: SERVICE}
    if template is not None:
        labels[names.VERSION_LABEL] = str(template)
    spec: dict[str, Any] = {"template": {"metadata": {"labels": labels}}}
    if replicas is not None:
        spec["replicas"] = replicas
    body_status: dict[str, Any] = dict(status or {})
    if observed_generation is not None:
        body_status["observedGeneration"] = observed_generation
    if conditions is not None:
        body_status["conditions"] = conditions
    return {
        "metadata": {"name": SERVICE, "namespace": NAMESPACE, "generation": generation},
        "spec": spec,
        "status": body_status,
    }


def pod(
    version_label: str | None,
    *waiting: tuple[str, str, str | None],
    name: str = "web-abc",
) -> dict[str, Any]:
    """A pod of a version; each `waiting` is (container, reason, message or None)."""
    labels = {names.SERVICE_LABEL: SERVICE}
    if version_label is not None:
        labels[names.VERSION_LABEL] = version_label
    statuses = []
    for container, reason, message in waiting:
        state: dict[str, Any] = {"reason": reason}
        if message is not None:
            state["message"] = message
        statuses.append({"name": container, "state": {"waiting": state}})
    return {
        "metadata": {"name": name, "labels": labels},
        "status": {"containerStatuses": statuses},
    }


def ledger(last: int = 0) -> VersionLedger:
    return VersionLedger(last_version=last)
