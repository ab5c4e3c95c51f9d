"""cert-manager's kinds, followed by kopf: their API may appear or vanish while Berth runs, and
kopf follows the CRDs to start and stop such watches. Each handler finds the operator's Context
in kopf's memo, where start-up put it."""

import logging
from typing import Any

import kopf

from berth.api import foreign
from berth.handlers import events
from berth.kube import resources
from berth.reconcile.context import Context
from berth.render import labels

logger = logging.getLogger(__name__)


def context_of(memo: kopf.Memo) -> Context:
    ctx: Context = memo["berth"]
    return ctx


@kopf.on.event(
    foreign.CERT_MANAGER_GROUP,
    foreign.CERT_MANAGER_VERSION,
    foreign.CERTIFICATES,
    labels=labels.MANAGED,
)
async def certificate_changed(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    """ingress-shim copies the Ingress's labels onto its Certificates, ours included."""
    ctx = context_of(memo)
    await events.owned_changed(ctx, resources.CERTIFICATE)(event)


@kopf.on.event(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    field="metadata.name",
    value=foreign.CERTIFICATE_CRD,
)
async def cert_manager_installed(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    """cert-manager installed or removed: every service's CertificateReady changes meaning."""
    ctx = context_of(memo)
    served = event.get("type") != "DELETED"
    if served == ctx.certificates_served:
        return
    logger.info("cert-manager Certificates %s", "served" if served else "gone")
    ctx.certificates_served = served
    for body in ctx.store.all(resources.SERVICE):
        ctx.queue.add(resources.key_of(body))
