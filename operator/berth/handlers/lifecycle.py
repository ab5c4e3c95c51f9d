"""kopf hosts the process: at start-up Berth's controller is built and synced; at clean-up, stopped."""

import asyncio
import logging
import threading
from typing import Any

import kopf

from berth import metrics
from berth import settings as settings_module
from berth.handlers.informers import informers
from berth.kube import resources
from berth.kube.client import LIST_PAGE, Kube, connect, endpoint_of, session_for
from berth.reconcile import lookups, network, orphans, zone
from berth.reconcile.context import Context
from berth.reconcile.health import HealthChecker
from berth.reconcile.service import reconcile
from berth.runtime import lease
from berth.runtime.controller import Controller
from berth.runtime.leader import Elector
from berth.runtime.queue import WorkQueue
from berth.runtime.store import Store
from berth.settings import HealthChecks, ResourcesMode, Settings

logger = logging.getLogger(__name__)
POD_LEVEL_RESOURCES_SINCE = (1, 34)


async def resolve_resources_mode(kube: Kube, settings: Settings) -> Settings:
    """Pod-level resources where the API server has them, else split across containers."""
    if settings.resources_mode != ResourcesMode.AUTO:
        return settings
    version = await kube._call("GET", "/version")
    mode = resources_mode_for(version)
    logger.info(
        "Kubernetes %s.%s: %s-level resources", version.get("major"), version.get("minor"), mode
    )
    return settings.model_copy(update={"resources_mode": mode})


def resources_mode_for(version: dict[str, Any]) -> ResourcesMode:
    """From the API server's /version; some providers append to the minor (EKS: `"34+"`)."""
    minor = int("".join(ch for ch in str(version.get("minor", "0")) if ch.isdigit()) or 0)
    supported = (int(version.get("major", 1)), minor) >= POD_LEVEL_RESOURCES_SINCE
    return ResourcesMode.POD if supported else ResourcesMode.CONTAINER


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
    if config.health_checks == HealthChecks.OPERATOR:
        ctx.health = HealthChecker(kube, store, config.health_check_concurrency)
    controller = Controller(store, queue, informers(ctx))
    memo["berth"], memo["controller"] = ctx, controller
    metrics.count_services(lambda: store.all(resources.SERVICE))
    # Ready (/readyz) once the store is primed, on a standby too: it is ready to take over.
    ready = threading.Event()
    metrics.serve(config.metrics_host, config.metrics_port, ready.is_set)
    await controller.sync()
    await network.prime_certificates(ctx)
    logger.info("berth started: %d services known", len(store.all(resources.SERVICE)))
    ready.set()
    if not config.leader_election:
        lead(controller, ctx)
        return
    elector = Elector(
        lease_client(kube),
        config.lease_namespace(),
        config.leader_election_lease_name,
        config.leader_election_identity or lease.default_identity(),
        config.leader_timing(),
    )
    kube.fence = elector.holds
    memo["elector"] = elector
    memo["election"] = asyncio.create_task(elect(elector, controller, ctx, memo), name="election")


def lease_client(kube: Kube) -> Kube:
    """The elector's own connections and slots: in a burst, the operator's requests fill its
    client's slots, and a renewal queued behind them missed its deadline under load (the leader
    then stops, as it must). controller-runtime gives leader election its own client too."""
    assert kube.endpoint is not None
    return Kube(kube.endpoint, session_for(kube.endpoint), concurrency=2)


def lead(controller: Controller, ctx: Context) -> None:
    """Every service once, in the background lane: whatever changes meanwhile goes first, and
    the key of every service deleted while no leader watched (orphans.py); and the health
    checks of every pod (a standby checks nothing: it could write nothing)."""
    store = controller.store
    orphaned = orphans.keys(store, ctx.settings.watch_namespaces)
    controller.run([*lookups.service_keys(store), *sorted(orphaned)])
    if ctx.health is not None:
        ctx.health.start()
    metrics.LEADER.set(1)
    logger.info(
        "berth leads: reconciling %d services", len(controller.store.all(resources.SERVICE))
    )


async def elect(elector: Elector, controller: Controller, ctx: Context, memo: kopf.Memo) -> None:
    """Standby until the lease is ours, then lead until it is lost. A lost lease ends the
    process (as controller-runtime's managers do): it comes back as a standby, with none of the
    leader's in-memory state (queued keys, the zone last written) gone stale meanwhile."""
    await elector.acquire()
    lead(controller, ctx)
    await elector.keep()
    metrics.LEADER.set(0)
    memo["leadership_lost"] = True
    stop_flag: asyncio.Event | None = memo.get("stop")
    if stop_flag is not None:
        stop_flag.set()


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    """Stop renewing, stop every writer (a leader first writes the private zone it still owes),
    then give the lease up: the standby takes over at its next try, and never while a reconcile
    of ours may still write."""
    election: asyncio.Task[None] | None = memo.get("election")
    elector: Elector | None = memo.get("elector")
    controller: Controller | None = memo.get("controller")
    ctx: Context | None = memo.get("berth")
    leading = metrics.leading()
    if election is not None:
        election.cancel()
        await asyncio.gather(election, return_exceptions=True)
    if controller is not None:
        await controller.stop()
    if ctx is not None and ctx.health is not None:
        await ctx.health.stop()
    if ctx is not None:
        await zone.stop_writer(ctx, flush=leading)
    metrics.LEADER.set(0)
    if elector is not None:
        await elector.release()
        if elector.kube.session is not None:
            await elector.kube.session.close()
    if ctx is not None and ctx.kube.session is not None:
        await ctx.kube.session.close()
