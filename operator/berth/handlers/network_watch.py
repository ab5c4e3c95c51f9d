"""Watch handlers for networking: Ingresses, DomainClaims, the zone ConfigMap (from informers),
and cert-manager's Certificates and CRD (from kopf, which follows an API that comes and goes)."""

import logging
from typing import Any

import kopf

from berth.handlers import claims, runtime, zone
from berth.handlers.networking import CERTIFICATE_CRD
from berth.handlers.watch import MANAGED, Event, queue_owner, record
from berth.render import names

logger = logging.getLogger(__name__)


async def claim_changed(event: Event, **_: Any) -> None:
    """A claim taken or released: every service asking for that name may have a new answer."""
    body = record("DomainClaim", event)
    if body is None:
        return
    ctx = runtime.context()
    for key in claims.services_wanting(ctx, body):
        ctx.queue.add(key)


async def zone_changed(event: Event, **_: Any) -> None:
    """The zone edited or deleted by hand is written again (no write when it is ours)."""
    body = record("ConfigMap", event)
    if body is None:
        return
    ctx = runtime.context()
    meta = body.get("metadata") or {}
    if (meta.get("namespace"), meta.get("name")) == (
        ctx.settings.namespace,
        names.PRIVATE_ZONE_CONFIGMAP,
    ):
        await zone.sync(ctx)


@kopf.on.event("cert-manager.io", "v1", "certificates", labels=MANAGED)
async def certificate_changed(event: kopf.RawEvent, **_: Any) -> None:
    """ingress-shim copies the Ingress's labels onto its Certificates, ours included."""
    await queue_owner("Certificate", event)


@kopf.on.event(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    field="metadata.name",
    value=CERTIFICATE_CRD,
)
async def cert_manager_installed(event: kopf.RawEvent, **_: Any) -> None:
    """cert-manager installed or removed: every service's CertificateReady changes meaning."""
    ctx = runtime.context()
    served = event.get("type") != "DELETED"
    if served == ctx.store.certificates_served:
        return
    logger.info("cert-manager Certificates %s", "served" if served else "gone")
    ctx.store.certificates_served = served
    for body in ctx.store.all("ContainerService"):
        meta = body["metadata"]
        ctx.queue.add((meta["namespace"], meta["name"]))
