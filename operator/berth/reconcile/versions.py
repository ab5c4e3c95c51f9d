"""Versions of one service: adopted, numbered, created from the inline deployment.

The API server arbitrates each of these (a conditional ledger write, a create), so they are taken
before the plan, one write at a time; states, finalizers and pruning are planned (plan.py).
"""

import logging
from typing import Any

from berth.api.objects import ContainerServiceObject, VersionObject, content_hash, parse_version
from berth.api.service import VersionLedger
from berth.api.version import VersionState
from berth.kube import resources
from berth.reconcile.context import Context, now
from berth.render import names
from berth.render import versions as version_manifests
from berth.status import versions as version_status

logger = logging.getLogger(__name__)
Body = dict[str, Any]


async def adopt(
    ctx: Context, service: ContainerServiceObject, versions: list[VersionObject]
) -> None:
    """CSDs applied by hand become owned by their service, so they go when it goes; every
    version carries the service's tags."""
    for version in versions:
        stored = ctx.store.get(resources.VERSION, (service.namespace, version.name)) or {}
        refs = (stored.get("metadata") or {}).get("ownerReferences") or []
        owned = any(ref.get("uid") == service.metadata.uid for ref in refs)
        if owned and version_manifests.tags_current(service, stored):
            continue
        live = await ctx.kube.apply(version_manifests.adoption(service, version.name))
        ctx.store.put(resources.VERSION, live)


async def save_ledger(
    ctx: Context, service: ContainerServiceObject, ledger: VersionLedger
) -> ContainerServiceObject:
    """Write the ledger conditionally: if anyone wrote the service meanwhile, start over."""
    patch = version_manifests.ledger_patch(service.metadata.resource_version, ledger)
    live = await ctx.kube.patch(resources.SERVICE, service.namespace, service.name, patch, "status")
    ctx.store.put(resources.SERVICE, live)
    return service.model_copy(
        update={
            "metadata": service.metadata.model_copy(
                update={"resource_version": live["metadata"]["resourceVersion"]}
            ),
            "status": service.status.model_copy(update={"versions": ledger}),
        }
    )


def recorded(
    ledger: VersionLedger, version: VersionObject, number: int, inline: bool
) -> VersionLedger:
    """`ledger` once `version` has `number`; an inline version's content hash goes with it."""
    update: dict[str, Any] = {
        "last_version": number,
        "last_uid": version.metadata.uid,
        "last_name": version.name,
    }
    if inline:
        update["inline_hash"] = version.metadata.annotations[names.INLINE_ANNOTATION]
    return ledger.model_copy(update=update)


def caught_up(stored: VersionLedger | None, versions: list[VersionObject]) -> VersionLedger:
    """The ledger as stored, caught up with the inline versions numbered after its last write.

    An inline version is created and numbered first, and the ledger follows in the status write
    that ends the reconcile. A crash in between leaves the version ahead of the stored ledger.
    It cannot be lost meanwhile: it is born with a finalizer, kept until the stored ledger covers
    its number (`keeps_finalizer`), so its number is never handed out twice.
    """
    ledger = stored or VersionLedger()
    ahead = sorted(
        (v for v in versions if (v.number or 0) > ledger.last_version), key=lambda v: v.number or 0
    )
    for version in ahead:
        inline = names.INLINE_ANNOTATION in version.metadata.annotations
        ledger = recorded(ledger, version, version.number or 0, inline)
    return ledger


async def _tell_number(ctx: Context, namespace: str, name: str, number: int) -> VersionObject:
    stored = ctx.store.get(resources.VERSION, (namespace, name)) or {}
    generation = int((stored.get("metadata") or {}).get("generation") or 1)
    health = version_status.health_conditions(VersionState.ACTIVATING, "", generation, now())
    patch = version_manifests.number_patch(number, generation, health)
    live = await ctx.kube.patch(resources.VERSION, namespace, name, patch, "status")
    ctx.store.put(resources.VERSION, live)
    return parse_version(live)


async def number(
    ctx: Context, service: ContainerServiceObject, versions: list[VersionObject]
) -> tuple[ContainerServiceObject, list[VersionObject], VersionLedger]:
    """Give every unnumbered version the next number, oldest first, never reusing one.

    A version applied by hand is recorded in the ledger (the last number and who got it) before
    it is told, so a crash between the two writes resumes instead of skipping a number. An inline
    version left unnumbered by a crash is recognised by its name, `<svc>-v<next>`, and needs no
    record first (see `caught_up`). Returns the service as stored, the versions, and the ledger
    the next status write carries.
    """
    ledger = caught_up(service.status.versions, versions)
    next_inline = names.version(service.name, ledger.last_version + 1)

    def holds_reservation(version: VersionObject) -> bool:
        """The version the ledger already gave its last number to (an inline one by name)."""
        if ledger.last_uid is not None:
            return ledger.last_uid == version.metadata.uid
        return ledger.last_name == version.name

    def is_next_inline(version: VersionObject) -> bool:
        """An inline version created for the next number, with the finalizer it is born with."""
        meta = version.metadata
        return (
            version.name == next_inline
            and names.INLINE_ANNOTATION in meta.annotations
            and names.ACTIVE_VERSION_FINALIZER in meta.finalizers
        )

    # The reserved version first, then the inline one: <svc>-v<N> must get exactly N.
    waiting = sorted(
        (v for v in versions if v.number is None),
        key=lambda v: (
            not holds_reservation(v),
            not is_next_inline(v),
            v.metadata.creation_timestamp or 0,
            v.name,
        ),
    )
    numbered = {v.name: v for v in versions}
    for version in waiting:
        uid = version.metadata.uid
        if holds_reservation(version):
            if ledger.last_uid is None:
                # Reserved by name; the UID can wait for the status write ending this reconcile.
                ledger = ledger.model_copy(update={"last_uid": uid})
        else:
            inline = is_next_inline(version)
            ledger = recorded(ledger, version, ledger.last_version + 1, inline)
            if not inline:
                service = await save_ledger(ctx, service, ledger)
        numbered[version.name] = await _tell_number(
            ctx, service.namespace, version.name, ledger.last_version
        )
    return service, list(numbered.values()), ledger


async def materialize_inline(
    ctx: Context,
    service: ContainerServiceObject,
    versions: list[VersionObject],
    ledger: VersionLedger,
) -> tuple[list[VersionObject], VersionLedger]:
    """Each change of `spec.deployment` becomes a new CSD `<service>-v<N>`, numbered N at once;
    no change, no version. The ledger records it in the status write ending the reconcile."""
    content = service.spec.deployment
    if content is None:
        return versions, ledger
    digest = content_hash(content)
    if ledger.inline_hash == digest:
        # Only a number reserved by an earlier operator, which recorded it before creating the
        # version, can still lack its version.
        reserved = ledger.last_name if ledger.last_uid is None else None
        if reserved is None or reserved in {v.name for v in versions}:
            return versions, ledger
        given, name = ledger.last_version, reserved
    else:
        given = ledger.last_version + 1
        name = names.version(service.name, given)
    live = await ctx.kube.create(version_manifests.inline_version(service, name, digest))
    ctx.store.put(resources.VERSION, live)
    version = await _tell_number(ctx, service.namespace, name, given)
    return [*versions, version], recorded(ledger, version, given, inline=True)
