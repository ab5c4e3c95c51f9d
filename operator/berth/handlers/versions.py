"""Versions of one service: adopt, number, create from the inline deployment, prune, finalize."""

import logging
from typing import Any

from berth.api import limits
from berth.api.objects import (
    ContainerServiceObject,
    VersionObject,
    content_hash,
    parse_version,
)
from berth.api.service import VersionLedger
from berth.api.version import VersionState
from berth.handlers.context import Context
from berth.kube import resources
from berth.kube.client import NotFound
from berth.render import names
from berth.render.owner import owner_reference
from berth.status.versions import VersionPlan

logger = logging.getLogger(__name__)
Body = dict[str, Any]


async def adopt(
    ctx: Context, service: ContainerServiceObject, versions: list[VersionObject]
) -> None:
    """CSDs applied by hand become owned by their service, so they go when it goes."""
    for version in versions:
        owners = ctx.store.get("ContainerServiceDeployment", (service.namespace, version.name))
        refs = ((owners or {}).get("metadata") or {}).get("ownerReferences") or []
        if any(ref.get("uid") == service.metadata.uid for ref in refs):
            continue
        live = await ctx.kube.apply(
            {
                "apiVersion": limits.API_VERSION,
                "kind": "ContainerServiceDeployment",
                "metadata": {
                    "name": version.name,
                    "namespace": service.namespace,
                    "labels": {names.SERVICE_LABEL: service.name},
                    "ownerReferences": [owner_reference(service)],
                },
            }
        )
        ctx.store.put("ContainerServiceDeployment", live)


def ledger_patch(resource_version: str, ledger: VersionLedger) -> Body:
    """A conditional merge patch that sets every field of the ledger, unset ones to null.

    A merge patch keeps what it does not mention: a stale lastUid left behind would make the
    next inline version look numbered already, and after a crash it would be skipped.
    """
    return {
        "metadata": {"resourceVersion": resource_version},
        "status": {"versions": ledger.model_dump(by_alias=True, mode="json")},
    }


async def save_ledger(
    ctx: Context, service: ContainerServiceObject, ledger: VersionLedger
) -> ContainerServiceObject:
    """Write the ledger conditionally: if anyone wrote the service meanwhile, start over."""
    patch = ledger_patch(service.metadata.resource_version, ledger)
    live = await ctx.kube.patch(resources.SERVICE, service.namespace, service.name, patch, "status")
    ctx.store.put("ContainerService", live)
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


def keeps_finalizer(state: VersionState, number: int | None, stored: VersionLedger | None) -> bool:
    """The ACTIVE and the ACTIVATING version keep their finalizer (SPEC: only INACTIVE and FAILED
    versions may be deleted), and so does one whose number the stored ledger does not cover yet."""
    if state in (VersionState.ACTIVE, VersionState.ACTIVATING):
        return True
    return (number or 0) > (stored or VersionLedger()).last_version


async def _tell_number(ctx: Context, namespace: str, name: str, number: int) -> VersionObject:
    status = {"version": number, "state": VersionState.ACTIVATING.value, "conditions": []}
    live = await ctx.kube.patch(resources.VERSION, namespace, name, {"status": status}, "status")
    ctx.store.put("ContainerServiceDeployment", live)
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


def inline_version(service: ContainerServiceObject, name: str, digest: str) -> Body:
    """The version a service's `spec.deployment` becomes, named `name`."""
    content = service.spec.deployment
    assert content is not None
    return {
        "apiVersion": limits.API_VERSION,
        "kind": "ContainerServiceDeployment",
        "metadata": {
            "name": name,
            "namespace": service.namespace,
            "labels": {names.SERVICE_LABEL: service.name},
            "annotations": {names.INLINE_ANNOTATION: digest},
            "ownerReferences": [owner_reference(service)],
            # The newest version is the next to activate; the finalizer also guards its number
            # until the ledger records it.
            "finalizers": [names.ACTIVE_VERSION_FINALIZER],
        },
        "spec": {"serviceName": service.name, **content.to_wire()},
    }


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
    live = await ctx.kube.create(inline_version(service, name, digest))
    ctx.store.put("ContainerServiceDeployment", live)
    version = await _tell_number(ctx, service.namespace, name, given)
    return [*versions, version], recorded(ledger, version, given, inline=True)


async def prune(ctx: Context, versions: list[VersionObject], plan: VersionPlan) -> None:
    """Keep at most 50 versions: the oldest INACTIVE or FAILED ones go first."""
    numbered = sorted((v for v in versions if v.number is not None), key=lambda v: v.number or 0)
    excess = len(numbered) - limits.MAX_VERSIONS
    for version in numbered:
        if excess <= 0:
            break
        state = plan.states.get(version.name, (None, ""))[0]
        if state in (VersionState.INACTIVE, VersionState.FAILED) and not version.metadata.deleting:
            await ctx.kube.delete(
                resources.VERSION, version.metadata.namespace, version.name, version.metadata.uid
            )
            excess -= 1


async def set_finalizer(ctx: Context, version: VersionObject, wanted: bool) -> None:
    """Adds or removes the finalizer that keeps a version from being deleted."""
    finalizers = list(version.metadata.finalizers)
    has = names.ACTIVE_VERSION_FINALIZER in finalizers
    if has == wanted:
        return
    if wanted:
        finalizers.append(names.ACTIVE_VERSION_FINALIZER)
    else:
        finalizers.remove(names.ACTIVE_VERSION_FINALIZER)
    patch = {
        "metadata": {"finalizers": finalizers, "resourceVersion": version.metadata.resource_version}
    }
    try:
        live = await ctx.kube.patch(
            resources.VERSION, version.metadata.namespace, version.name, patch
        )
    except NotFound:
        return
    ctx.store.put("ContainerServiceDeployment", live)
