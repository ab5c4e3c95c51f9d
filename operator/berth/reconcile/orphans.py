"""What a deleted service held, let go level-based: services carry no finalizer of Berth's.

SPEC lets claims (cluster-scoped, so no namespaced owner) go "by a finalizer, or a level-based
clean-up that provably cannot miss a deletion". Berth does the latter, which saves a write per
service. It cannot miss one because the key of a gone service is queued from two sides:

- while it runs, by the service's DELETED event: the watch's, or a relist's hand-over of what
  was deleted while no watch ran (runtime/informer.py);
- whenever it starts leading, by a walk over the store (`keys`): every claim whose holder it does
  not hold, and every version being deleted whose service it does not hold.

A reconcile of a key with no service then releases what that (namespace, name) held, once the
API server confirms the service is gone (the store may lag a service created a moment ago).
Claims of an older service of the same name are released by the new one's reconcile
(`claims.release`). An ACTIVE version's finalizer is let go too: SPEC keeps it only while its
service exists.
"""

import logging
from collections.abc import Collection

from berth.kube import resources
from berth.kube.resources import Key
from berth.reconcile import apply, claims, lookups
from berth.reconcile.context import Context
from berth.reconcile.writes import SetFinalizer
from berth.render import names
from berth.runtime.store import Body, Store

logger = logging.getLogger(__name__)


def _held_back(version: Body) -> bool:
    """A version being deleted that only Berth's finalizer keeps."""
    meta = version.get("metadata") or {}
    return bool(meta.get("deletionTimestamp")) and names.ACTIVE_VERSION_FINALIZER in (
        meta.get("finalizers") or []
    )


def watched(key: Key, namespaces: Collection[str]) -> bool:
    """Whether `key`'s namespace is one this operator watches (all of them when none is named):
    claims are cluster-wide, and a service elsewhere is not in its store, gone or not."""
    return not namespaces or key[0] in namespaces


def keys(store: Store, namespaces: Collection[str] = ()) -> set[Key]:
    """The keys of services the store does not hold that still hold a claim or a version, in the
    `namespaces` this operator watches."""
    found = {
        lookups.claim_holder_key(claim)
        for claim in store.all(resources.DOMAIN_CLAIM)
        if not claims.holder_alive_in(store, claims.holder_of(claim))
    }
    for version in store.all(resources.VERSION):
        key = lookups.version_service(version)
        if _held_back(version) and store.get(resources.SERVICE, key) is None:
            found.add(key)
    return {key for key in found if watched(key, namespaces)}


async def release(ctx: Context, key: Key) -> None:
    """`key` has no service in the store: let go of what a service of that key held."""
    if not watched(key, ctx.settings.watch_namespaces):
        return  # another operator's namespace: its services are not in this store
    held = [
        claim
        for claim in ctx.store.find(resources.DOMAIN_CLAIM, "holder-key", key)
        if not claims.holder_alive(ctx, claims.holder_of(claim))
    ]
    versions = [v for v in lookups.versions_of(ctx.store, key) if _held_back(v)]
    if not held and not versions:
        return
    live = await ctx.kube.get(resources.SERVICE, key[0] or None, key[1])
    live_uid = ((live or {}).get("metadata") or {}).get("uid")
    for claim in held:
        holder = claims.holder_of(claim)
        if holder is not None and holder.uid == live_uid:
            continue  # the store has not seen this service yet; it holds its names
        await claims.delete(ctx, claim)
    if live is not None:
        return  # a service of this name exists: its own reconcile decides its versions
    for version in versions:
        logger.info("%s/%s: releasing %s, its service is gone", *key, version["metadata"]["name"])
        write = SetFinalizer(
            resources.VERSION,
            (key[0], version["metadata"]["name"]),
            names.ACTIVE_VERSION_FINALIZER,
            False,
        )
        await apply.set_finalizer(ctx, write)
