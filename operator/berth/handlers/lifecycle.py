"""Operator start-up and shut-down: settings, API client, a primed store, the work queue."""

import logging
from typing import Any

import kopf

from berth import metrics
from berth import settings as settings_module
from berth.handlers import networking, runtime
from berth.handlers.context import Context
from berth.handlers.queue import WorkQueue
from berth.handlers.reconcile import reconcile
from berth.handlers.store import Store, trimmed
from berth.handlers.watch import MANAGED, slim_pod
from berth.kube import resources
from berth.kube.client import LIST_PAGE, Kube, connect
from berth.settings import ResourcesMode, Settings

logger = logging.getLogger(__name__)
POD_LEVEL_RESOURCES_SINCE = (1, 34)


async def resolve_resources_mode(kube: Kube, settings: Settings) -> Settings:
    """Pod-level resources where the API server has them, else split across containers."""
    if settings.resources_mode != ResourcesMode.AUTO:
        return settings
    version = await kube._call("GET", "/version")
    minor = int("".join(ch for ch in str(version.get("minor", "0")) if ch.isdigit()) or 0)
    supported = (int(version.get("major", 1)), minor) >= POD_LEVEL_RESOURCES_SINCE
    mode = ResourcesMode.POD if supported else ResourcesMode.CONTAINER
    logger.info("Kubernetes %s.%s: %s-level resources", version.get("major"), minor, mode.value)
    return settings.model_copy(update={"resources_mode": mode})


async def prime(kube: Kube, store: Store, namespaces: list[str]) -> None:
    """List everything once, so that no reconcile decides on a half-filled store.

    Only the watched namespaces (all when `namespaces` is empty), as the RBAC of a
    namespaced install allows.
    """
    selector = ",".join(f"{k}={v}" for k, v in MANAGED.items())
    scopes: list[str | None] = list(namespaces) or [None]
    for body in await kube.list(resources.POWER, keep=trimmed):
        store.put(resources.POWER.kind, body)
    for scope in scopes:
        for resource in (resources.SERVICE, resources.VERSION):
            for body in await kube.list(resource, namespace=scope, keep=trimmed):
                store.put(resource.kind, body)
        for resource in (resources.DEPLOYMENT, resources.KUBE_SERVICE):
            for body in await kube.list(resource, namespace=scope, selector=selector, keep=trimmed):
                store.put(resource.kind, body)
        for body in await kube.list(
            resources.POD, namespace=scope, selector=selector, keep=slim_pod
        ):
            store.put("Pod", body)
    await networking.prime(kube, store, selector, settings_module.load().namespace, scopes)
    store.primed = True


class NoDiffBase(kopf.DiffBaseStorage):
    """Berth has only watch handlers, which never see a diff: kopf need not deep-copy every body
    of every event (twice) to compute one, nor keep a diff base anywhere."""

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return None


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, **_: Any) -> None:
    config = settings_module.load()
    # Events are posted by Berth itself, on transitions only; kopf's own would be a write per handler.
    settings.posting.enabled = False
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.persistence.diffbase_storage = NoDiffBase()
    # kopf's own initial listing, a page at a time like start-up's, rather than all in one.
    settings.watching.chunk_size = LIST_PAGE
    # kopf keeps a worker per object, holding that object's last body, until it has been idle
    # this long: after a listing that is every object at once (at 1,000 services, 5 s of them
    # were ~120 MB of the peak; 0.5 s makes it a short wave).
    settings.queueing.idle_timeout = 0.5
    api = connect(config.api_threads)
    kube = Kube(api, config.api_threads)
    config = await resolve_resources_mode(kube, config)
    store = Store()
    await prime(kube, store, config.watch_namespaces)
    ctx_holder: list[Context] = []

    async def handle(key: Any) -> float | None:
        return await reconcile(ctx_holder[0], key)

    queue = WorkQueue(handle, config.workers)
    ctx = Context(kube=kube, store=store, settings=config, queue=queue)
    ctx_holder.append(ctx)
    runtime.install(ctx)
    # Every service once, in the background lane: whatever changes meanwhile goes first.
    for body in store.all("ContainerService"):
        meta = body["metadata"]
        queue.add((meta["namespace"], meta["name"]), background=True)
    queue.start()
    metrics.count_services(lambda: store.all("ContainerService"))
    metrics.serve(config.metrics_host, config.metrics_port)
    logger.info("berth started: %d services known", len(store.all("ContainerService")))


@kopf.on.cleanup()
async def stop(**_: Any) -> None:
    ctx = runtime.context()
    await ctx.queue.stop()
    if ctx.zone_writer is not None:
        ctx.zone_writer.cancel()
