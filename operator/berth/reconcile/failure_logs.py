"""Keep a failing version's last log lines before the rollback deletes its pods.

Run in the reconcile that marks a version FAILED, before the objects that roll it back are
sent: its pods still exist then. Reading logs never fails the reconcile (the rollback matters
more than the logs); the one write, a ConfigMap create, goes through the leader's fence.
"""

import asyncio
import logging

import aiohttp

from berth.api.version import VersionState
from berth.kube.client import ApiError, Conflict, NotFound
from berth.reconcile.context import Context
from berth.reconcile.plan import Snapshot
from berth.render import failure_logs, names
from berth.render.failure_logs import Source
from berth.status.versions import VersionPlan

logger = logging.getLogger(__name__)
# The rollback waits for the reads: a kubelet that does not answer (a node gone, a fake one)
# may hold it back this long at most. The reads run side by side.
READ_SECONDS = 5.0


async def keep(ctx: Context, snap: Snapshot, plan: VersionPlan) -> None:
    """For each version this plan newly marks FAILED: read its pods' logs, store them."""
    for version in snap.versions:
        state = plan.states.get(version.name)
        if state is None or state[0] != VersionState.FAILED or not plan.changed(version):
            continue
        found = failure_logs.sources(snap.pods, version.number or 0, names.VERSION_LABEL)
        if not found:
            continue
        budget = failure_logs.stream_budget(len(found))
        texts = await asyncio.gather(*(_read(ctx, snap, source, budget) for source in found))
        logs = {source: text for source, text in zip(found, texts, strict=True) if text}
        if not logs:
            continue
        manifest = failure_logs.config_map(snap.service, version, logs, snap.now)
        try:
            await ctx.kube.create(manifest)
        except Conflict:
            pass  # kept by an earlier reconcile whose status write did not land
        except ApiError as error:
            logger.warning(
                "%s/%s: could not keep the logs of failed version %s: %s",
                snap.service.namespace,
                snap.service.name,
                version.name,
                error,
            )


async def _read(ctx: Context, snap: Snapshot, source: Source, budget: int) -> str:
    query = [
        ("container", source.container),
        ("timestamps", "true"),
        ("tailLines", str(failure_logs.TAIL_LINES)),
        ("limitBytes", str(budget)),
    ]
    if source.previous:
        query.append(("previous", "true"))
    try:
        return await asyncio.wait_for(
            ctx.kube.log(snap.service.namespace, source.pod, query), READ_SECONDS
        )
    except (ApiError, NotFound, aiohttp.ClientError, TimeoutError) as error:
        # A container that never started has no log (400); a pod already gone has none (404).
        logger.info("no log of %s in %s: %s", source.container, source.pod, error)
        return ""
