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


async def number(
    ctx: Context, service: ContainerServiceObject, versions: list[VersionObject]
) -> tuple[ContainerServiceObject, list[VersionObject], VersionLedger]:
    """Give every unnumbered version the next number, oldest first, never reusing one.

    The ledger in the service's status records the last number and who got it before the
    version is told, so a crash between the two writes resumes instead of skipping a number.
    Returns the service as stored, the versions, and the ledger the next status write carries.
    """
    ledger = service.status.versions or VersionLedger()

    def holds_reservation(version: VersionObject) -> bool:
        """The version the ledger already gave its last number to (an inline one by name)."""
        if ledger.last_uid is not None:
            return ledger.last_uid == version.metadata.uid
        return ledger.last_name == version.name

    # The reserved version first: an inline <svc>-v<N> must get exactly N.
    waiting = sorted(
        (v for v in versions if v.number is None),
        key=lambda v: (not holds_reservation(v), v.metadata.creation_timestamp or 0, v.name),
    )
    numbered = {v.name: v for v in versions}
    for version in waiting:
        uid = version.metadata.uid
        resumed = holds_reservation(version)
        if not resumed:
            ledger = ledger.model_copy(
                update={
                    "last_version": ledger.last_version + 1,
                    "last_uid": uid,
                    "last_name": version.name,
                }
            )
        elif ledger.last_uid is None:
            # An inline version already has its number by name; its UID can wait for the
            # status write that ends this reconcile.
            ledger = ledger.model_copy(update={"last_uid": uid})
        if not resumed:
            service = await save_ledger(ctx, service, ledger)
        status = {
            "version": ledger.last_version,
            "state": VersionState.ACTIVATING.value,
            "conditions": [],
        }
        live = await ctx.kube.patch(
            resources.VERSION, service.namespace, version.name, {"status": status}, "status"
        )
        ctx.store.put("ContainerServiceDeployment", live)
        numbered[version.name] = parse_version(live)
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
            # The newest version is the next to activate: born protected, one write fewer.
            "finalizers": [names.ACTIVE_VERSION_FINALIZER],
        },
        "spec": {"serviceName": service.name, **content.to_wire()},
    }


async def materialize_inline(
    ctx: Context, service: ContainerServiceObject, versions: list[VersionObject]
) -> ContainerServiceObject:
    """Each change of `spec.deployment` becomes a new CSD `<service>-v<N>`; no change, no version."""
    content = service.spec.deployment
    if content is None:
        return service
    digest = content_hash(content)
    ledger = service.status.versions or VersionLedger()
    existing = {v.name for v in versions}
    if ledger.inline_hash == digest:
        pending = ledger.last_uid is None and ledger.last_name and ledger.last_name not in existing
        if not pending:
            return service
    else:
        number = ledger.last_version + 1
        ledger = ledger.model_copy(
            update={
                "last_version": number,
                "last_uid": None,
                "last_name": names.version(service.name, number),
                "inline_hash": digest,
            }
        )
        service = await save_ledger(ctx, service, ledger)
    name = ledger.last_name or names.version(service.name, ledger.last_version)
    live = await ctx.kube.create(inline_version(service, name, digest))
    ctx.store.put("ContainerServiceDeployment", live)
    return service


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
    """The ACTIVE and the ACTIVATING version carry a finalizer, so that neither is deleted
    while it serves or rolls out (SPEC: only INACTIVE and FAILED versions may be deleted)."""
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
