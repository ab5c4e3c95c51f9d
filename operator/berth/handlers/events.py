"""Which events queue which service: the handlers Berth's informers (and kopf) hand events to.

Each gets events as `{"type": ..., "object": ...}`.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from berth.kube import resources
from berth.kube.resources import Resource, key_of
from berth.reconcile import claims, lookups, zone
from berth.reconcile.context import Context
from berth.render import names
from berth.runtime.store import Body

Event = Mapping[str, Any]
Handler = Callable[[Event], Awaitable[None]]


def record(ctx: Context, kind: Resource, event: Event) -> Body | None:
    """Store the event's object; None when it brings nothing new, so nothing is queued.

    Nothing new: the store already holds this resourceVersion (or a newer one). That is the echo
    of every write of ours. A deletion is always news, and brings the last body the store had
    (one found missing on a relist carries only its name).

    Until the store is primed (the informers' first lists are in), events only fill it:
    start-up then queues every service once, in the background lane.
    """
    body: Body = dict(event["object"])
    if event.get("type") == "DELETED":
        return ctx.store.deleted(kind, body) or body
    news = ctx.store.put(kind, body)
    return body if news and ctx.store.primed else None


def owned_changed(ctx: Context, kind: Resource) -> Handler:
    """Objects a service owns (Deployments, Services, Pods, Ingresses, Certificates): their
    service is queued, found by its label."""

    async def changed(event: Event) -> None:
        body = record(ctx, kind, event)
        key = None if body is None else lookups.labelled_service(body)
        if key:
            ctx.queue.add(key)

    return changed


def pod_changed(ctx: Context) -> Handler:
    """A pod: its service is queued (rollouts read pods), and the health checker hears of it."""
    queue_service = owned_changed(ctx, resources.POD)

    async def changed(event: Event) -> None:
        await queue_service(event)
        checker = ctx.health
        if checker is None:
            return
        key = key_of(event["object"])
        if event.get("type") == "DELETED":
            checker.forget(key)
        elif (body := ctx.store.get(resources.POD, key)) is not None:
            checker.saw(body)

    return changed


def service_changed(ctx: Context) -> Handler:
    async def changed(event: Event) -> None:
        body = record(ctx, resources.SERVICE, event)
        if body is not None:
            ctx.queue.add(key_of(body))

    return changed


def version_changed(ctx: Context) -> Handler:
    async def changed(event: Event) -> None:
        body = record(ctx, resources.VERSION, event)
        if body is not None:
            namespace = body["metadata"].get("namespace", "")
            ctx.queue.add((namespace, (body.get("spec") or {}).get("serviceName", "")))

    return changed


def image_changed(ctx: Context) -> Handler:
    """An image registered or deleted: its service may now run (or not run) a version."""

    async def changed(event: Event) -> None:
        body = record(ctx, resources.IMAGE, event)
        if body is not None:
            namespace = body["metadata"].get("namespace", "")
            ctx.queue.add((namespace, (body.get("spec") or {}).get("serviceName", "")))

    return changed


def power_changed(ctx: Context) -> Handler:
    async def changed(event: Event) -> None:
        body = record(ctx, resources.POWER, event)
        if body is not None:
            for key in lookups.services_using_power(ctx.store, body["metadata"]["name"]):
                ctx.queue.add(key)

    return changed


def claim_changed(ctx: Context) -> Handler:
    """A claim taken or released: every service asking for that name may have a new answer."""

    async def changed(event: Event) -> None:
        body = record(ctx, resources.DOMAIN_CLAIM, event)
        if body is not None:
            for key in claims.services_wanting(ctx, body):
                ctx.queue.add(key)

    return changed


def allow_list_changed(ctx: Context) -> Handler:
    """An administrator granted or took back domains: that namespace's services look again."""

    async def changed(event: Event) -> None:
        body = record(ctx, resources.DOMAIN_ALLOW_LIST, event)
        if body is not None:
            for key in lookups.services_in(
                ctx.store, (body.get("spec") or {}).get("namespace", "")
            ):
                ctx.queue.add(key)

    return changed


def zone_changed(ctx: Context) -> Handler:
    """The zone edited or deleted by hand is written again (no write when it is ours).

    Through the batching writer, not at once: under load the echo of our own write can come
    before the write's answer, look like news, and would otherwise write again mid-burst."""

    async def changed(event: Event) -> None:
        body = record(ctx, resources.CONFIG_MAP, event)
        if body is not None and key_of(body) == (
            ctx.settings.namespace,
            names.PRIVATE_ZONE_CONFIGMAP,
        ):
            zone.request(ctx)

    return changed


# Pod conditions rollouts and the health checker read; the others change often and mean nothing here.
KEPT_POD_CONDITIONS = ("Ready", "PodScheduled", names.HEALTH_GATE)


def slim_pod(pod: Body) -> Body:
    """Only what rollouts and health checks look at: thousands of full pod bodies would be most
    of our memory."""
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    annotations = meta.get("annotations") or {}
    slim_meta: Body = {
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "labels": meta.get("labels") or {},
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if meta.get("deletionTimestamp"):
        slim_meta["deletionTimestamp"] = meta["deletionTimestamp"]
    if names.HEALTH_TARGET_ANNOTATION in annotations:
        slim_meta["annotations"] = {
            names.HEALTH_TARGET_ANNOTATION: annotations[names.HEALTH_TARGET_ANNOTATION]
        }
    slim_status: Body = {
        "phase": status.get("phase"),
        "containerStatuses": [
            {
                "name": c.get("name"),
                "ready": c.get("ready"),
                "state": c.get("state") or {},
                "restartCount": c.get("restartCount") or 0,
                **_last_end(c),
            }
            for c in status.get("containerStatuses") or []
        ],
    }
    conditions = [
        {key: c[key] for key in ("type", "status", "reason", "message") if c.get(key)}
        for c in status.get("conditions") or []
        if c.get("type") in KEPT_POD_CONDITIONS
    ]
    if conditions:
        slim_status["conditions"] = conditions
    if status.get("podIP"):
        slim_status["podIP"] = status["podIP"]
    return {"metadata": slim_meta, "status": slim_status}


# A failed version's message quotes the last line a crashed container wrote (status.rollout).
_LAST_MESSAGE = 512


def _last_end(container: Body) -> Body:
    """How the container's previous run ended, its termination message cut to the end."""
    ended = (container.get("lastState") or {}).get("terminated")
    if not ended:
        return {}
    message = str(ended.get("message") or "")[-_LAST_MESSAGE:]
    return {"lastState": {"terminated": {"exitCode": ended.get("exitCode"), "message": message}}}
