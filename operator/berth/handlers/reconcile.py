"""One reconcile of one service: versions, Deployment, Service, then status and events."""

import logging
import secrets
import string
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from berth import metrics
from berth.api.objects import (
    ContainerServiceObject,
    VersionObject,
    parse_power,
    parse_service,
    parse_version,
)
from berth.api.service import ServiceStatus, VersionLedger
from berth.api.version import VersionState
from berth.handlers import networking, zone
from berth.handlers import versions as version_ops
from berth.handlers.context import Context
from berth.handlers.owned import apply_owned
from berth.kube import resources
from berth.kube.compare import merge_patch
from berth.kube.resources import Key
from berth.render import labels, names, network, workload
from berth.status import rollout as rollout_status
from berth.status import service as service_status
from berth.status import versions as version_status
from berth.status.network import Network

logger = logging.getLogger(__name__)
Body = dict[str, Any]
GUID_ALPHABET = string.ascii_lowercase + string.digits


def new_guid() -> str:
    return "".join(secrets.choice(GUID_ALPHABET) for _ in range(12))


async def reconcile(ctx: Context, key: Key) -> float | None:
    """Bring one service's owned objects and statuses to what its spec and versions say."""
    body = ctx.store.get("ContainerService", key)
    if body is None:
        await _wait_for_service(ctx, key)
        if not zone.up_to_date_for(ctx, key[1]):
            zone.request(ctx)  # a service gone without its finalizer leaves its name behind
        return None
    with metrics.RECONCILE_SECONDS.labels(kind="ContainerService").time():
        try:
            service = parse_service(body)
        except ValidationError as error:
            await _reject(ctx, body, error)
            metrics.RECONCILES.labels(kind="ContainerService", result="invalid").inc()
            return None
        try:
            if service.metadata.deleting:
                await finalize(ctx, service)
            else:
                await _reconcile(ctx, service)
        except Exception:
            # The work queue logs it and retries with backoff.
            metrics.RECONCILES.labels(kind="ContainerService", result="error").inc()
            raise
        metrics.RECONCILES.labels(kind="ContainerService", result="ok").inc()
    return None


async def _wait_for_service(ctx: Context, key: Key) -> None:
    """Versions of a service that does not exist (yet) get no number, and a condition says why."""
    namespace, name = key
    message = f"ContainerService {name!r} does not exist in {namespace!r}; numbered when it does"
    for body in ctx.store.versions_of(key):
        status = body.get("status") or {}
        conditions = status.get("conditions") or []
        if status.get("version") or any(c.get("reason") == "ServiceNotFound" for c in conditions):
            continue
        condition = {
            "type": "ServiceFound",
            "status": "False",
            "reason": "ServiceNotFound",
            "message": message,
            "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "observedGeneration": body["metadata"].get("generation", 1),
        }
        live = await ctx.kube.patch(
            resources.VERSION,
            namespace,
            body["metadata"]["name"],
            {"status": {"conditions": [condition]}},
            "status",
        )
        ctx.store.put("ContainerServiceDeployment", live)


async def _reject(ctx: Context, body: Body, error: ValidationError) -> None:
    message = f"invalid spec: {error.errors()[0]['msg']}"
    status = (body.get("status") or {}).get("stateDetail") or {}
    if status.get("message") != message:
        meta = body["metadata"]
        patch = {"status": {"stateDetail": {"code": "UNKNOWN_ERROR", "message": message}}}
        await ctx.kube.patch(resources.SERVICE, meta["namespace"], meta["name"], patch, "status")
        await ctx.kube.event(body, True, "InvalidSpec", message)


async def _reconcile(ctx: Context, service: ContainerServiceObject) -> None:
    key = (service.namespace, service.name)
    if names.SERVICE_FINALIZER not in service.metadata.finalizers:
        service = await _add_finalizer(ctx, service)
    await version_ops.adopt(ctx, service, _versions(ctx, key))
    service, versions, ledger = await version_ops.number(ctx, service, _versions(ctx, key))
    versions, ledger = await version_ops.materialize_inline(ctx, service, versions, ledger)
    power_body = ctx.store.get("ContainerServicePower", ("", service.spec.power))
    power = parse_power(power_body).spec if power_body else None
    pods = ctx.store.pods_of(key)
    deployment = ctx.store.get("Deployment", key)
    rollout = rollout_status.observe(deployment, pods, names.VERSION_LABEL)
    plan = version_status.plan(versions, rollout)
    guid = service.status.guid or new_guid()
    if power is not None and plan.serve is not None:
        content = plan.serve.spec.content()
        number = plan.serve.number or 0
        desired = workload.deployment(service, number, content, power, ctx.settings, plan.running)
        deployment = await apply_owned(ctx, "Deployment", key, desired)
        await apply_owned(ctx, "Service", key, network.kube_service(service, content))
        # The plan stands as decided; the fresh Deployment only updates what status reports.
        rollout = rollout_status.observe(deployment, pods, names.VERSION_LABEL)
    reach = await networking.reconcile_network(ctx, service, plan.serve, guid)
    await _write_versions(ctx, service, versions, plan)
    await version_ops.prune(ctx, versions, plan)
    await _write_status(ctx, service, plan, rollout, power, guid, reach, ledger)


def _versions(ctx: Context, key: Key) -> list[VersionObject]:
    parsed = []
    for body in ctx.store.versions_of(key):
        try:
            parsed.append(parse_version(body))
        except ValidationError:
            logger.warning("skipping unparseable version %s", body["metadata"]["name"])
    return parsed


async def _add_finalizer(ctx: Context, service: ContainerServiceObject) -> ContainerServiceObject:
    finalizers = [*service.metadata.finalizers, names.SERVICE_FINALIZER]
    patch = {
        "metadata": {"finalizers": finalizers, "resourceVersion": service.metadata.resource_version}
    }
    live = await ctx.kube.patch(resources.SERVICE, service.namespace, service.name, patch)
    ctx.store.put("ContainerService", live)
    return parse_service(live)


async def _write_versions(
    ctx: Context,
    service: ContainerServiceObject,
    versions: list[VersionObject],
    plan: version_status.VersionPlan,
) -> None:
    body = ctx.store.get("ContainerService", (service.namespace, service.name)) or {}
    # Retire the old ACTIVE before naming the new one: never two ACTIVE versions at once.
    ordered = sorted(
        versions, key=lambda v: plan.states.get(v.name, (None,))[0] == VersionState.ACTIVE
    )
    for version in ordered:
        if version.name not in plan.states:
            continue
        state, message = plan.states[version.name]
        if plan.changed(version):
            status: Body = {"state": state.value, "message": message or None}
            if state == VersionState.ACTIVE:
                status["activatedAt"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            live = await ctx.kube.patch(
                resources.VERSION, service.namespace, version.name, {"status": status}, "status"
            )
            ctx.store.put("ContainerServiceDeployment", live)
            version = parse_version(live)
            await _announce(ctx, body, version.number or 0, state, message)
        keep = version_ops.keeps_finalizer(state, version.number, service.status.versions)
        await version_ops.set_finalizer(ctx, version, keep)
        protected = version.metadata.deleting and state == VersionState.ACTIVE
        if protected and version.metadata.uid not in ctx.warned_deletions:
            ctx.warned_deletions.add(version.metadata.uid)
            await ctx.kube.event(
                body,
                True,
                "ActiveVersionProtected",
                f"version {version.number} ({version.name}) is ACTIVE and is kept until "
                "another version replaces it or the service is deleted",
            )


async def _announce(
    ctx: Context, body: Body, number: int, state: VersionState, message: str
) -> None:
    if state == VersionState.ACTIVE:
        metrics.ACTIVATIONS.inc()
    if state == VersionState.FAILED:
        metrics.FAILURES.inc()
    text = f"version {number} is {state.value}" + (f": {message}" if message else "")
    await ctx.kube.event(body, state == VersionState.FAILED, f"Version{state.value.title()}", text)


async def _write_status(
    ctx: Context,
    service: ContainerServiceObject,
    plan: version_status.VersionPlan,
    rollout: rollout_status.Rollout,
    power: Any,
    guid: str,
    network: Network,
    ledger: VersionLedger,
) -> None:
    settings = ctx.settings
    domain = names.default_domain(service.name, guid, settings.region, settings.base_domain)
    seen = service_status.Observed(
        plan=plan,
        rollout=rollout,
        power=power,
        ledger=ledger,
        guid=guid,
        url=f"https://{domain}/",
        private_domain=names.private_domain(service.name, settings.private_domain_suffix),
        selector=",".join(f"{k}={v}" for k, v in labels.selector(service.name).items()),
        now=datetime.now(UTC).replace(microsecond=0),
        network=network,
    )
    new = service_status.status(service, seen)
    await _patch_status(ctx, service, new)


async def _patch_status(ctx: Context, service: ContainerServiceObject, new: ServiceStatus) -> None:
    old_wire, new_wire = service.status.to_wire(), new.to_wire()
    if old_wire == new_wire:
        return
    patch = merge_patch(old_wire, new_wire)
    live = await ctx.kube.patch(
        resources.SERVICE, service.namespace, service.name, {"status": patch}, "status"
    )
    ctx.store.put("ContainerService", live)
    await _announce_conditions(ctx, live, service.status, new)
    if service.status.state != new.state:
        detail = new.state_detail.message if new.state_detail and new.state_detail.message else ""
        warning = bool(new.state_detail and new.state_detail.code == "UNKNOWN_ERROR")
        await ctx.kube.event(
            live,
            warning,
            f"State{(new.state or 'unknown').title()}",
            f"{service.status.state or 'new'} → {new.state}" + (f": {detail}" if detail else ""),
        )


# Conditions whose turn to this status is a problem the user must hear about.
WARN_WHEN = {"PowerResolved": "False", "DomainsAdmitted": "False", "PrivateDomainAdmitted": "False"}


async def _announce_conditions(
    ctx: Context, body: Body, old: ServiceStatus, new: ServiceStatus
) -> None:
    before = {c.type: c.status for c in old.conditions or []}
    for condition in new.conditions or []:
        bad = WARN_WHEN.get(condition.type)
        if condition.status == bad and before.get(condition.type) != bad:
            await ctx.kube.event(body, True, condition.reason, condition.message)


async def finalize(ctx: Context, service: ContainerServiceObject) -> None:
    """DELETING: release versions' finalizers, then our own; owner references do the rest."""
    if service.status.state != "DELETING":
        status = {
            "state": "DELETING",
            "stateDetail": {"message": "deleting the service and its objects"},
        }
        live = await ctx.kube.patch(
            resources.SERVICE, service.namespace, service.name, {"status": status}, "status"
        )
        ctx.store.put("ContainerService", live)
        await ctx.kube.event(live, False, "StateDeleting", "deleting the service and its objects")
    for version in _versions(ctx, (service.namespace, service.name)):
        await version_ops.set_finalizer(ctx, version, False)
    await networking.release(ctx, service)
    if names.SERVICE_FINALIZER in service.metadata.finalizers:
        live_body = ctx.store.get("ContainerService", (service.namespace, service.name)) or {}
        current = parse_service(live_body) if live_body else service
        finalizers = [f for f in current.metadata.finalizers if f != names.SERVICE_FINALIZER]
        patch = {
            "metadata": {
                "finalizers": finalizers,
                "resourceVersion": current.metadata.resource_version,
            }
        }
        await ctx.kube.patch(resources.SERVICE, service.namespace, service.name, patch)
