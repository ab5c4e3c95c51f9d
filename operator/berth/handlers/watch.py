"""kopf watch handlers: keep the store current and queue the services an event concerns."""

import logging
from typing import Any

import kopf

from berth.api import limits
from berth.handlers import runtime
from berth.handlers.store import Body, key_of, labelled_service

logger = logging.getLogger(__name__)
MANAGED = {"app.kubernetes.io/managed-by": "berth"}


def record(kind: str, event: kopf.RawEvent | dict[str, Any]) -> Body | None:
    """Store the event's object; None when it brings nothing new, so nothing is queued.

    Nothing new: the store already holds this resourceVersion (or a newer one). That is the echo
    of every write of ours, and all of kopf's initial listing after a restart, which start-up
    listed already. A deletion is always news.
    """
    body: Body = dict(event["object"])
    ctx = runtime.context()
    if event.get("type") == "DELETED":
        ctx.store.remove(kind, body)
        return body
    return body if ctx.store.put(kind, body) else None


def owner_key(body: Body | None) -> tuple[str, str] | None:
    return None if body is None else labelled_service(body)


@kopf.on.event(limits.GROUP, limits.VERSION, "containerservices")
async def service_changed(event: kopf.RawEvent, **_: Any) -> None:
    body = record("ContainerService", event)
    if body is not None:
        runtime.context().queue.add(key_of(body))


@kopf.on.event(limits.GROUP, limits.VERSION, "containerservicedeployments")
async def version_changed(event: kopf.RawEvent, **_: Any) -> None:
    body = record("ContainerServiceDeployment", event)
    if body is None:
        return
    namespace = body["metadata"].get("namespace", "")
    service = (body.get("spec") or {}).get("serviceName", "")
    runtime.context().queue.add((namespace, service))


@kopf.on.event(limits.GROUP, limits.VERSION, "containerservicepowers")
async def power_changed(event: kopf.RawEvent, **_: Any) -> None:
    body = record("ContainerServicePower", event)
    if body is None:
        return
    ctx = runtime.context()
    for key in ctx.store.services_using_power(body["metadata"]["name"]):
        ctx.queue.add(key)


@kopf.on.event("apps", "v1", "deployments", labels=MANAGED)
async def deployment_changed(event: kopf.RawEvent, **_: Any) -> None:
    key = owner_key(record("Deployment", event))
    if key:
        runtime.context().queue.add(key)


@kopf.on.event("", "v1", "services", labels=MANAGED)
async def kube_service_changed(event: kopf.RawEvent, **_: Any) -> None:
    key = owner_key(record("Service", event))
    if key:
        runtime.context().queue.add(key)


@kopf.on.event("", "v1", "pods", labels=MANAGED)
async def pod_changed(event: kopf.RawEvent, **_: Any) -> None:
    slim = {"type": event["type"], "object": slim_pod(dict(event["object"]))}
    key = owner_key(record("Pod", slim))
    if key:
        runtime.context().queue.add(key)


def slim_pod(pod: Body) -> Body:
    """Only what rollouts look at: thousands of full pod bodies would be most of our memory."""
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    return {
        "metadata": {
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "labels": meta.get("labels") or {},
            "resourceVersion": meta.get("resourceVersion", ""),
        },
        "status": {
            "phase": status.get("phase"),
            "containerStatuses": [
                {"name": c.get("name"), "ready": c.get("ready"), "state": c.get("state") or {}}
                for c in status.get("containerStatuses") or []
            ],
        },
    }
