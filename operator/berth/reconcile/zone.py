"""The private zone ConfigMap: rebuilt from the store on every change, written by one task at a time.

One ConfigMap holds every service's name, so it is never patched per service: each sync renders
the whole zone from what the store knows now, under a lock, and writes only when it differs.
Reconciles do not wait for it: they ask for a sync soon, and the requests of a burst of new
services become one write.
"""

import asyncio
import logging

from berth.api.claim import ClaimPurpose
from berth.kube import resources
from berth.kube.client import NotFound
from berth.kube.compare import APPLIED_HASH_ANNOTATION, stamped, up_to_date
from berth.reconcile.context import Context
from berth.render import names, zone
from berth.runtime.backoff import backoff
from berth.runtime.store import Body

logger = logging.getLogger(__name__)
# Requests closer together than this are written together.
BATCH_SECONDS = 0.25
# While requests keep coming (a burst of new services), one write at most this often: each
# write is the whole zone, and kubelet takes longer than this to bring a ConfigMap to CoreDNS.
BURST_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 60.0
# On a graceful stop, how long the last owed write may take before the next leader is left it.
FLUSH_SECONDS = 3.0
# Namespaces already reported missing: one warning, not one per reconcile.
_reported_missing: set[str] = set()
# The zone that could not be written for want of its namespace: not retried until it changes,
# so a cluster without the namespace costs one attempt per change, not one per reconcile.
_unwritable: set[str] = set()


def records(ctx: Context) -> dict[str, str]:
    """Service name → ClusterIP, for every private name held by a live service with a Service."""
    found: dict[str, str] = {}
    for claim in ctx.store.find(resources.DOMAIN_CLAIM, "purpose", ClaimPurpose.PRIVATE.value):
        record = _record(ctx, claim)
        if record is not None:
            found[record[0]] = record[1]
    return found


def _record(ctx: Context, claim: Body) -> tuple[str, str] | None:
    """The zone's record for one private claim: its holder's name and ClusterIP, if it has one."""
    spec = claim.get("spec") or {}
    owner = spec.get("owner") or {}
    name = owner.get("name", "")
    if spec.get("purpose") != ClaimPurpose.PRIVATE or spec.get("domain") != (
        names.private_domain(name, ctx.settings.private_domain_suffix)
    ):
        return None
    key = (owner.get("namespace", ""), name)
    service = ctx.store.get(resources.SERVICE, key)
    meta = (service or {}).get("metadata") or {}
    if meta.get("uid") != owner.get("uid") or meta.get("deletionTimestamp"):
        return None
    cluster_ip = ((ctx.store.get(resources.KUBE_SERVICE, key) or {}).get("spec") or {}).get(
        "clusterIP"
    )
    return (name, str(cluster_ip)) if zone.is_cluster_ip(cluster_ip) else None


def up_to_date_for(ctx: Context, service: str) -> bool:
    """Whether the zone as last synced has the record the store now gives `service`'s name, and
    nobody changed the ConfigMap since: then this service needs no sync, which renders every name.
    """
    if ctx.zone_synced is None:
        return False
    synced, resource_version = ctx.zone_synced
    live = ctx.store.get(
        resources.CONFIG_MAP, (ctx.settings.namespace, names.PRIVATE_ZONE_CONFIGMAP)
    )
    if ((live or {}).get("metadata") or {}).get("resourceVersion") != resource_version:
        return False
    domain = names.private_domain(service, ctx.settings.private_domain_suffix)
    claim = ctx.store.get(
        resources.DOMAIN_CLAIM, ("", names.domain_claim(ClaimPurpose.PRIVATE, domain))
    )
    record = _record(ctx, claim) if claim is not None else None
    expected = record[1] if record is not None and record[0] == service else None
    return synced.get(service) == expected


def request(ctx: Context) -> None:
    """Have the zone synced soon, without waiting for it."""
    ctx.zone_dirty = True
    if ctx.zone_writer is None or ctx.zone_writer.done():
        ctx.zone_writer = asyncio.create_task(_sync_soon(ctx))


async def _sync_soon(ctx: Context) -> None:
    """Write what was asked, then stay for BURST_SECONDS: what is asked meanwhile waits for the
    end of that window, so a burst is one write per window, and a request after a quiet spell is
    written within BATCH_SECONDS."""
    failures = 0
    await asyncio.sleep(BATCH_SECONDS)
    while ctx.zone_dirty:
        try:
            await sync(ctx)
            failures = 0
        except Exception:
            failures += 1
            delay = backoff(failures, MAX_BACKOFF_SECONDS)
            logger.exception("writing the private zone failed; again in %.1fs", delay)
            await asyncio.sleep(delay)
            continue
        await asyncio.sleep(BURST_SECONDS)


async def stop_writer(ctx: Context, *, flush: bool) -> None:
    """Stop the writer. With `flush` (a leader stopping gracefully), first write what it still
    owes: a change asked for during its last window would otherwise wait for the next leader."""
    writer, ctx.zone_writer = ctx.zone_writer, None
    if writer is not None:
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)
    if not (flush and ctx.zone_dirty):
        return
    try:
        await asyncio.wait_for(sync(ctx), FLUSH_SECONDS)
    except Exception as error:  # the fence shut, or the API server is away: the next leader
        logger.warning("the private zone was not written before stopping: %r", error)


async def sync(ctx: Context) -> None:
    """Make the zone ConfigMap match the store; no write when it already does."""
    ctx.zone_dirty = True
    async with ctx.zone_lock:
        if not ctx.zone_dirty:
            return  # a sync that started after our change has rendered it already
        ctx.zone_dirty = False
        try:
            await _write(ctx)
        except BaseException:
            ctx.zone_dirty = True  # not written: the next caller in line must try again
            raise


async def _write(ctx: Context) -> None:
    found = records(ctx)
    desired = stamped(zone.zone_configmap(ctx.settings, found))
    key = (ctx.settings.namespace, names.PRIVATE_ZONE_CONFIGMAP)
    live = ctx.store.get(resources.CONFIG_MAP, key)
    if up_to_date(live, desired):
        ctx.zone_synced = (found, (live or {}).get("metadata", {}).get("resourceVersion"))
        return
    fingerprint = desired["metadata"]["annotations"][APPLIED_HASH_ANNOTATION]
    live_version = (live or {}).get("metadata", {}).get("resourceVersion")
    if fingerprint in _unwritable:
        ctx.zone_synced = (found, live_version)  # tried already: not again until a record changes
        return
    try:
        applied = await ctx.kube.apply(desired)
    except NotFound:
        _unwritable.add(fingerprint)
        ctx.zone_synced = (found, live_version)
        # Services keep working without private names; say so instead of failing them all.
        if ctx.settings.namespace not in _reported_missing:
            _reported_missing.add(ctx.settings.namespace)
            logger.warning(
                "namespace %s does not exist: the private zone cannot be written",
                ctx.settings.namespace,
            )
        return
    _reported_missing.discard(ctx.settings.namespace)
    _unwritable.clear()
    ctx.store.put(resources.CONFIG_MAP, applied)
    ctx.zone_synced = (found, applied["metadata"].get("resourceVersion"))
