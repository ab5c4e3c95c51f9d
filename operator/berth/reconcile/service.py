"""One reconcile of one service: take its numbers and names, then plan and send the rest."""

import dataclasses
import logging
import secrets
import string
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from berth import metrics
from berth.api.common import Condition
from berth.api.objects import (
    ContainerServiceObject,
    ImageObject,
    VersionObject,
    parse_image,
    parse_power,
    parse_service,
    parse_version,
)
from berth.api.service import ServiceStatus, VersionLedger
from berth.kube import resources
from berth.kube.client import Conflict
from berth.kube.resources import Key, key_of
from berth.reconcile import apply, failure_logs, image_manifests, lookups, network, orphans, plan
from berth.reconcile import versions as version_ops
from berth.reconcile.context import Context, now
from berth.reconcile.writes import Emit, Patch, SetFinalizer
from berth.render import events, ingress, names
from berth.status import progress, stall
from berth.status import service as service_status
from berth.status import versions as version_status
from berth.status.network import CertificateQuota, Network

logger = logging.getLogger(__name__)
Body = dict[str, Any]
GUID_ALPHABET = string.ascii_lowercase + string.digits
# A conditional write lost to another writer: the watch brings the news, this is a fallback.
AFTER_CONFLICT_SECONDS = 0.5
# The API server refused an owned object: try again later, not at once (it would refuse again).
AFTER_REFUSAL_SECONDS = 30.0


def new_guid() -> str:
    return "".join(secrets.choice(GUID_ALPHABET) for _ in range(12))


async def reconcile(ctx: Context, key: Key) -> float | None:
    """Bring one service's owned objects and statuses to what its spec and versions say.

    Returns when to look again (seconds), or None. Errors other than an expected conflict
    go to the work queue, which logs them and retries with backoff.
    """
    retry = await _reconcile_service(ctx, key)
    # After the service (a slow registry holds back no rollout), and whether or not the service
    # still exists: its deleted records wait for this.
    manifests_retry = await image_manifests.reconcile(ctx, key)
    if manifests_retry is None:
        return retry
    return manifests_retry if retry is None else min(retry, manifests_retry)


async def _reconcile_service(ctx: Context, key: Key) -> float | None:
    body = ctx.store.get(resources.SERVICE, key)
    if body is None:
        await orphans.release(ctx, key)
        await _wait_for_service(ctx, key)
        network.sync_zone_soon(ctx, key[1])  # a service gone: its private name leaves the zone
        return None
    with metrics.reconcile_outcome(resources.SERVICE.kind) as outcome:
        try:
            service = parse_service(body)
        except ValidationError as error:
            await _reject(ctx, body, error)
            outcome.result = "invalid"
            return None
        try:
            if service.metadata.deleting:
                await finalize(ctx, service, body)
                retry = None
            else:
                retry = await _converge(ctx, service)
        except Conflict as conflict:
            # Someone wrote first (another operator, kubectl): decide again on what they wrote.
            logger.debug("%s/%s: conflict on %s; again", key[0], key[1], conflict)
            outcome.result = "conflict"
            return AFTER_CONFLICT_SECONDS
        outcome.result = "ok"
    return retry


async def _wait_for_service(ctx: Context, key: Key) -> None:
    """Versions of a service that does not exist (yet) get no number, and a condition says why."""
    namespace, name = key
    for body in lookups.versions_of(ctx.store, key):
        status = body.get("status") or {}
        conditions = status.get("conditions") or []
        if (
            body["metadata"].get("deletionTimestamp")
            or status.get("version")
            or any(c.get("reason") == version_status.SERVICE_NOT_FOUND for c in conditions)
        ):
            continue
        generation = body["metadata"].get("generation", 1)
        waiting = version_status.service_not_found(namespace, name, generation, now())
        patch = {
            "status": {
                "observedGeneration": generation,
                "conditions": [condition.to_wire() for condition in waiting],
            }
        }
        version_key = (namespace, body["metadata"]["name"])
        await apply.send(ctx, [Patch(resources.VERSION, version_key, patch)])


async def _reject(ctx: Context, body: Body, error: ValidationError) -> None:
    """A spec the CRD let through but the operator cannot read: Stalled, with the reason."""
    message = f"invalid spec: {error.errors()[0]['msg']}"
    stored = body.get("status") or {}
    generation = body["metadata"].get("generation", 0)
    detail = stored.get("stateDetail") or {}
    if detail.get("message") == message and stored.get("observedGeneration") == generation:
        return
    previous = ServiceStatus.model_validate(
        {"conditions": stored.get("conditions") or []}
    ).conditions
    new = service_status.invalid_spec(previous, generation, message, now())
    key = key_of(body)
    await apply.send(
        ctx,
        [
            Patch(resources.SERVICE, key, {"status": new.to_wire()}),
            Emit(events.event(body, True, "InvalidSpec", message, now())),
        ],
    )


def _versions(ctx: Context, key: Key) -> list[VersionObject]:
    parsed = []
    for body in lookups.versions_of(ctx.store, key):
        try:
            parsed.append(parse_version(body))
        except ValidationError:
            logger.warning("skipping unparseable version %s", body["metadata"]["name"])
    return parsed


async def _numbered(
    ctx: Context, service: ContainerServiceObject
) -> tuple[ContainerServiceObject, list[VersionObject], VersionLedger]:
    """The service with its versions adopted and numbered, the inline one made. No finalizer:
    what a deleted service held is let go level-based (orphans.py)."""
    key = (service.namespace, service.name)
    await version_ops.adopt(ctx, service, _versions(ctx, key))
    service, versions, ledger = await version_ops.number(ctx, service, _versions(ctx, key))
    versions, ledger = await version_ops.materialize_inline(ctx, service, versions, ledger)
    return service, versions, ledger


def _images(ctx: Context, key: Key) -> list[ImageObject]:
    """The service's registered images; a deleted one waiting for its manifest to leave the
    registry (reconcile.image_manifests) resolves no more, as if it were gone already."""
    parsed = []
    for body in lookups.images_of(ctx.store, key):
        if body["metadata"].get("deletionTimestamp"):
            continue
        try:
            parsed.append(parse_image(body))
        except ValidationError:
            logger.warning("skipping unparseable image %s", body["metadata"]["name"])
    return parsed


def snapshot(
    ctx: Context,
    service: ContainerServiceObject,
    versions: list[VersionObject],
    ledger: VersionLedger,
    names_held: Network | None,
    refused: dict[str, str] | None = None,
    certificate_quota: CertificateQuota | None = None,
) -> plan.Snapshot:
    """What the store holds for `service` now, as a plan reads it."""
    key = (service.namespace, service.name)
    store = ctx.store
    power_body = store.get(resources.POWER, ("", service.spec.power))
    certificates = {
        name: found
        for name in ingress.possible_tls_secrets(service)
        if (found := store.get(resources.CERTIFICATE, (service.namespace, name))) is not None
    }
    return plan.Snapshot(
        service=service,
        body=store.get(resources.SERVICE, key) or {},
        versions=versions,
        power=parse_power(power_body).spec if power_body else None,
        settings=ctx.settings,
        guid=service.status.guid or new_guid(),
        now=now(),
        deployment=store.get(resources.DEPLOYMENT, key),
        pods=lookups.pods_of(store, key),
        live={kind: store.get(kind, key) for kind in plan.OWNED_KINDS},
        ledger=ledger,
        network=names_held,
        certificates=certificates,
        certificates_served=ctx.certificates_served,
        certificate_quota=certificate_quota,
        refused=refused or {},
        warned=frozenset(ctx.warned_deletions),
        images=_images(ctx, key),
        pull_secret=store.get(
            resources.SECRET, (service.namespace, names.registry_pull_secret(service.name))
        ),
    )


async def _converge(ctx: Context, service: ContainerServiceObject) -> float | None:
    service, versions, ledger = await _numbered(ctx, service)
    names_held = await network.hold_names(ctx, service)
    quota = await network.full_certificate_quota(ctx, service)
    before = snapshot(ctx, service, versions, ledger, names_held, certificate_quota=quota)
    versions_plan = before.versions_plan()
    # Before the objects: applying them rolls a failed version back and its pods go.
    await failure_logs.keep(ctx, before, versions_plan)
    sent = await apply.send(ctx, plan.objects(before, versions_plan))
    network.sync_zone_soon(ctx, service.name)
    # Same service, guid and clock; the objects just applied are in the store now.
    after = snapshot(ctx, service, versions, ledger, names_held, sent.refused, quota)
    after = dataclasses.replace(after, guid=before.guid, now=before.now)
    writes = plan.statuses(after, versions_plan)
    await apply.send(ctx, writes)
    ctx.warned_deletions |= plan.protected(after, versions_plan)
    for write in writes:
        if isinstance(write, Patch) and write.resource == resources.VERSION:
            _count_transition(write.patch)
    if sent.refused:
        return AFTER_REFUSAL_SECONDS
    # Only the conditions of what was just written: parsing the whole service again is not needed.
    stored = (ctx.store.get(resources.SERVICE, after.key) or after.body).get("status") or {}
    conditions = [Condition.model_validate(c) for c in stored.get("conditions") or []]
    deadline = timedelta(seconds=ctx.settings.certificate_deadline_seconds)
    waits = (
        stall.recheck_in(conditions, after.now, deadline),
        names_held.recheck_dns_in,
        # A rollout's progress held back (status/progress.py) is written once the hold is over.
        progress.recheck_in(conditions, after.now) if stored.get("state") == "DEPLOYING" else None,
    )
    return min((w for w in waits if w is not None), default=None)


def _count_transition(patch: Body) -> None:
    state = (patch.get("status") or {}).get("state")
    if state == "ACTIVE":
        metrics.ACTIVATIONS.inc()
    elif state == "FAILED":
        metrics.FAILURES.inc()


async def finalize(ctx: Context, service: ContainerServiceObject, body: Body) -> None:
    """DELETING (a deletion that waits: foreground, or a service an older Berth gave its
    finalizer): release versions' finalizers, names and claims, then that finalizer if it is
    there; owner references do the rest."""
    key = (service.namespace, service.name)
    versions = _versions(ctx, key)
    snap = snapshot(ctx, service, versions, service.status.versions or VersionLedger(), None)
    await apply.send(ctx, plan.deletion(snap))
    await network.release(ctx, service)
    await apply.set_finalizer(
        ctx, SetFinalizer(resources.SERVICE, key, names.SERVICE_FINALIZER, False)
    )
