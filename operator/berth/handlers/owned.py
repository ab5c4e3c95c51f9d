"""Apply or delete one owned, namespaced object, comparing with the store before any write."""

import logging
from typing import Any

from berth.handlers.context import Context
from berth.kube import resources
from berth.kube.compare import stamped, up_to_date
from berth.kube.resources import Key

logger = logging.getLogger(__name__)
Body = dict[str, Any]


async def apply_owned(ctx: Context, kind: str, key: Key, desired: Body | None) -> Body | None:
    """Server-side apply unless the live object already is what we want; None deletes it."""
    live = ctx.store.get(kind, key)
    if desired is None:
        if live is not None:
            await ctx.kube.delete(resources.BY_KIND[kind], key[0], key[1], live["metadata"]["uid"])
            ctx.store.remove(kind, live)
        return None
    manifest = stamped(desired)
    if up_to_date(live, manifest):
        return live
    logger.debug("applying %s %s/%s", kind, key[0], key[1])
    applied = await ctx.kube.apply(manifest)
    ctx.store.put(kind, applied)
    return applied
