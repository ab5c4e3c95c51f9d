"""The private zone ConfigMap: rebuilt from the store on every change, written by one task at a time.

One ConfigMap holds every service's name, so it is never patched per service: each sync renders
the whole zone from what the store knows now, under a lock, and writes only when it differs.
"""

import logging

from berth.api.claim import ClaimPurpose
from berth.handlers.context import Context
from berth.kube.client import NotFound
from berth.kube.compare import APPLIED_HASH_ANNOTATION, stamped, up_to_date
from berth.render import names, zone

logger = logging.getLogger(__name__)
# Namespaces already reported missing: one warning, not one per reconcile.
_reported_missing: set[str] = set()
# The zone that could not be written for want of its namespace: not retried until it changes,
# so a cluster without the namespace costs one attempt per change, not one per reconcile.
_unwritable: set[str] = set()


def records(ctx: Context) -> dict[str, str]:
    """Service name → ClusterIP, for every private name held by a live service with a Service."""
    suffix = ctx.settings.private_domain_suffix
    found: dict[str, str] = {}
    for claim in ctx.store.all("DomainClaim"):
        spec = claim.get("spec") or {}
        owner = spec.get("owner") or {}
        name = owner.get("name", "")
        if spec.get("purpose") != ClaimPurpose.PRIVATE or spec.get("domain") != (
            names.private_domain(name, suffix)
        ):
            continue
        key = (owner.get("namespace", ""), name)
        service = ctx.store.get("ContainerService", key)
        meta = (service or {}).get("metadata") or {}
        if meta.get("uid") != owner.get("uid") or meta.get("deletionTimestamp"):
            continue
        cluster_ip = ((ctx.store.get("Service", key) or {}).get("spec") or {}).get("clusterIP")
        if zone.is_cluster_ip(cluster_ip):
            found[name] = str(cluster_ip)
    return found


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
    desired = stamped(zone.zone_configmap(ctx.settings, records(ctx)))
    key = (ctx.settings.namespace, names.PRIVATE_ZONE_CONFIGMAP)
    if up_to_date(ctx.store.get("ConfigMap", key), desired):
        return
    fingerprint = desired["metadata"]["annotations"][APPLIED_HASH_ANNOTATION]
    if fingerprint in _unwritable:
        return
    try:
        applied = await ctx.kube.apply(desired)
    except NotFound:
        _unwritable.add(fingerprint)
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
    ctx.store.put("ConfigMap", applied)
