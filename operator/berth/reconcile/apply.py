"""The applier: sends a plan's writes in order and keeps the store current with each answer."""

import logging
from dataclasses import dataclass, field
from typing import Any

from berth.kube import resources
from berth.kube.client import ApiError, NotFound
from berth.reconcile.context import Context
from berth.reconcile.writes import Apply, Delete, Emit, Patch, SetFinalizer, Write
from berth.render.metadata import finalizer_patch

logger = logging.getLogger(__name__)
# Answers that mean "not this object, as it is": an admission webhook or policy, a quota, a
# field the cluster rejects. Trying again at once would be refused again.
REFUSALS = {400, 403, 422}


@dataclass
class Outcome:
    """What sending a plan found: the owned objects the API server refused, kind/name → why."""

    refused: dict[str, str] = field(default_factory=dict)


async def send(ctx: Context, writes: list[Write]) -> Outcome:
    outcome = Outcome()
    for write in writes:
        if isinstance(write, Apply):
            await _apply(ctx, write, outcome)
        elif isinstance(write, Delete):
            await ctx.kube.delete(write.resource, write.key[0] or None, write.key[1], write.uid)
            ctx.store.remove(write.resource, {"metadata": _meta(write.key)})
        elif isinstance(write, Patch):
            live = await ctx.kube.patch(
                write.resource,
                write.key[0] or None,
                write.key[1],
                write.patch,
                "status" if write.status else None,
            )
            ctx.store.put(write.resource, live)
        elif isinstance(write, SetFinalizer):
            await set_finalizer(ctx, write)
        elif isinstance(write, Emit):
            await _emit(ctx, write)
    return outcome


async def _emit(ctx: Context, write: Emit) -> None:
    """Events are told, not kept: one the API server refuses (its namespace is being deleted,
    a quota) is a log line, and the reconcile goes on."""
    try:
        await ctx.kube.create(write.event)
    except (ApiError, NotFound) as error:
        reason = error.message if isinstance(error, ApiError) else "not found"
        logger.info("event %s not posted: %s", write.event["reason"], reason)


def _meta(key: tuple[str, str]) -> dict[str, str | None]:
    return {"namespace": key[0] or None, "name": key[1]}


async def _apply(ctx: Context, write: Apply, outcome: Outcome) -> None:
    manifest = write.manifest
    what = f"{manifest['kind']} {manifest['metadata']['name']}"
    resource = resources.BY_KIND[manifest["kind"]]
    try:
        applied = await ctx.kube.apply(manifest)
    except ApiError as error:
        if error.status not in REFUSALS:
            raise
        taken_back = await _take_back(ctx, manifest) if error.status == 422 else None
        if taken_back is None:
            logger.warning("the API server refused %s: %s", what, error.message)
            outcome.refused[what] = error.message
            return
        applied = taken_back
    ctx.store.put(resource, applied)


async def _take_back(ctx: Context, manifest: dict[str, Any]) -> dict[str, Any] | None:
    """An apply made invalid by a hand edit, once more after a merge patch of the spec.

    Someone who edits the key of a list entry (a Service port's number) owns the entry it
    became; server-side apply cannot remove it and adds ours beside it, which is invalid (two
    ports named web-80). A merge patch replaces lists whole, so it takes them back; the apply
    after it owns them again. None when the object is refused all the same.
    """
    meta = manifest["metadata"]
    resource = resources.BY_KIND[manifest["kind"]]
    key = (meta.get("namespace") or "", meta["name"])
    if "spec" not in manifest or ctx.store.get(resource, key) is None:
        return None
    try:
        await ctx.kube.patch(resource, key[0] or None, key[1], {"spec": manifest["spec"]})
        return await ctx.kube.apply(manifest)
    except ApiError as again:
        if again.status not in REFUSALS:
            raise
        return None


async def set_finalizer(ctx: Context, write: SetFinalizer) -> None:
    """Add or remove a finalizer, conditional on the freshest body the store has."""
    body = ctx.store.get(write.resource, write.key)
    if body is None:
        return
    meta = body["metadata"]
    patch = finalizer_patch(
        list(meta.get("finalizers") or []),
        meta.get("resourceVersion", ""),
        write.finalizer,
        write.wanted,
    )
    if patch is None:
        return
    try:
        live = await ctx.kube.patch(write.resource, write.key[0] or None, write.key[1], patch)
    except NotFound:
        return
    meta = live.get("metadata") or {}
    if meta.get("deletionTimestamp") and not meta.get("finalizers"):
        # The last finalizer of an object being deleted: the API server deletes it now, and its
        # DELETED event may have come already; keeping this answer would leave a ghost in the
        # store (berth_services counted a service DELETING for good).
        ctx.store.deleted(write.resource, live)
        return
    ctx.store.put(write.resource, live)
