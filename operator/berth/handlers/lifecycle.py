"""Operator start-up and shut-down: settings, API client, a primed store, the work queue."""

import asyncio
import logging
from typing import Any

import kopf

from berth import metrics
from berth import settings as settings_module
from berth.handlers import networking, runtime
from berth.handlers.context import Context
from berth.handlers.informers import first_lists, informers
from berth.handlers.queue import WorkQueue
from berth.handlers.reconcile import reconcile
from berth.handlers.store import Store
from berth.handlers.watch import MANAGED_SELECTOR
from berth.kube.client import LIST_PAGE, Kube, connect, endpoint_of, session_for
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
    # kopf follows only cert-manager's kinds (one Certificate per custom domain at most), but
    # it keeps a worker per object holding its last body: a page at a time, and let go soon.
    settings.watching.chunk_size = LIST_PAGE
    settings.queueing.idle_timeout = 0.5
    endpoint = endpoint_of(connect().configuration)
    kube = Kube(endpoint, session_for(endpoint), config.api_threads)
    config = await resolve_resources_mode(kube, config)
    store = Store()
    ctx_holder: list[Context] = []

    async def handle(key: Any) -> float | None:
        return await reconcile(ctx_holder[0], key)

    def is_new(key: Any) -> bool:
        """A service with no state yet, never reconciled: it waits in the fresh lane."""
        body = store.get("ContainerService", key) or {}
        return not (body.get("status") or {}).get("state")

    queue = WorkQueue(handle, config.workers, is_new)
    ctx = Context(kube=kube, store=store, settings=config, queue=queue)
    ctx_holder.append(ctx)
    runtime.install(ctx)
    # The informers' first lists fill the store, so that no reconcile decides on half of it.
    followed = informers(kube, config)
    ctx.followers = [asyncio.create_task(i.run(), name=repr(i)) for i in followed]
    await first_lists(followed)
    await networking.prime_certificates(kube, store, MANAGED_SELECTOR, config.scopes())
    store.primed = True
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
    for task in ctx.followers:
        task.cancel()
    await asyncio.gather(*ctx.followers, return_exceptions=True)
    await ctx.queue.stop()
    if ctx.kube.session is not None:
        await ctx.kube.session.close()
    if ctx.zone_writer is not None:
        ctx.zone_writer.cancel()
