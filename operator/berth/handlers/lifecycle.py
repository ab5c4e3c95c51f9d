"""kopf hosts the process: at start-up Berth's controller is built and synced; at clean-up, stopped."""

import logging
from typing import Any

import kopf

from berth import metrics
from berth import settings as settings_module
from berth.handlers.informers import informers
from berth.kube import resources
from berth.kube.client import LIST_PAGE, Kube, connect, endpoint_of, session_for
from berth.reconcile import lookups, network
from berth.reconcile.context import Context
from berth.reconcile.service import reconcile
from berth.runtime.controller import Controller
from berth.runtime.queue import WorkQueue
from berth.runtime.store import Store
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
async def start(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
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
    store = Store(lookups.INDEXES)

    async def handle(key: Any) -> float | None:
        return await reconcile(ctx, key)

    def is_new(key: Any) -> bool:
        """A service with no state yet, never reconciled: it waits in the fresh lane."""
        body = store.get(resources.SERVICE, key) or {}
        return not (body.get("status") or {}).get("state")

    queue = WorkQueue(handle, config.workers, is_new)
    ctx = Context(kube=kube, store=store, settings=config, queue=queue)
    controller = Controller(store, queue, informers(ctx))
    memo["berth"], memo["controller"] = ctx, controller
    await controller.sync()
    await network.prime_certificates(ctx)
    # Every service once, in the background lane: whatever changes meanwhile goes first.
    controller.run(lookups.service_keys(store))
    metrics.count_services(lambda: store.all(resources.SERVICE))
    metrics.serve(config.metrics_host, config.metrics_port)
    logger.info("berth started: %d services known", len(store.all(resources.SERVICE)))


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    controller: Controller | None = memo.get("controller")
    ctx: Context | None = memo.get("berth")
    if controller is not None:
        await controller.stop()
    if ctx is not None:
        if ctx.zone_writer is not None:
            ctx.zone_writer.cancel()
        if ctx.kube.session is not None:
            await ctx.kube.session.close()
