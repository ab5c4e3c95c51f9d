"""Watch handlers: keep the store current and queue the services an event concerns.

Each gets events as `{"type": ..., "object": ...}`, from Berth's informers (berth.kube.informer)
or, for cert-manager's kinds, whose API may come and go, from kopf.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from berth.handlers import runtime
from berth.handlers.store import Body, labelled_service
from berth.kube.resources import key_of

logger = logging.getLogger(__name__)
MANAGED = {"app.kubernetes.io/managed-by": "berth"}
MANAGED_SELECTOR = ",".join(f"{k}={v}" for k, v in MANAGED.items())
Event = Mapping[str, Any]
Handler = Callable[..., Awaitable[None]]


def record(kind: str, event: Event) -> Body | None:
    """Store the event's object; None when it brings nothing new, so nothing is queued.

    Nothing new: the store already holds this resourceVersion (or a newer one). That is the echo
    of every write of ours. A deletion is always news, and brings the last body the store had
    (one found missing on a relist carries only its name).

    Until the store is primed (the informers' first lists are in), events only fill it:
    start-up then queues every service once, in the background lane.
    """
    body: Body = dict(event["object"])
    ctx = runtime.context()
    if event.get("type") == "DELETED":
        return ctx.store.remove(kind, body) or body
    news = ctx.store.put(kind, body)
    return body if news and ctx.store.primed else None


async def queue_owner(kind: str, event: Event) -> None:
    """An object a service owns changed: that service is queued."""
    body = record(kind, event)
    key = None if body is None else labelled_service(body)
    if key:
        runtime.context().queue.add(key)


def owned_changed(kind: str) -> Handler:
    """The informer handler for `kind`, objects that services own (Deployments, Services,
    Pods, Ingresses). Pods come slimmed by their informer (`slim_pod`)."""

    async def changed(event: Event, **_: Any) -> None:
        await queue_owner(kind, event)

    return changed


async def service_changed(event: Event, **_: Any) -> None:
    body = record("ContainerService", event)
    if body is not None:
        runtime.context().queue.add(key_of(body))


async def version_changed(event: Event, **_: Any) -> None:
    body = record("ContainerServiceDeployment", event)
    if body is None:
        return
    namespace = body["metadata"].get("namespace", "")
    service = (body.get("spec") or {}).get("serviceName", "")
    runtime.context().queue.add((namespace, service))


async def power_changed(event: Event, **_: Any) -> None:
    body = record("ContainerServicePower", event)
    if body is None:
        return
    ctx = runtime.context()
    for key in ctx.store.services_using_power(body["metadata"]["name"]):
        ctx.queue.add(key)


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
