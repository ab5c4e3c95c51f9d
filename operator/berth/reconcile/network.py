"""A service's names: the private one and its custom domains, held through DomainClaims."""

import logging

from berth.api.claim import ClaimPurpose
from berth.api.foreign import CERTIFICATE_CRD
from berth.api.objects import ContainerServiceObject
from berth.kube import resources
from berth.kube.client import ApiError, NotFound
from berth.reconcile import claims, verification, zone
from berth.reconcile.context import Context
from berth.render import labels, names
from berth.runtime.store import trimmed
from berth.status import network as network_status
from berth.status import verification as verification_status
from berth.status.network import Network

logger = logging.getLogger(__name__)


async def hold_names(ctx: Context, service: ContainerServiceObject) -> Network:
    """Claim every name the service asks for (a custom domain only once its owner proved it)
    and release the others; what it was admitted to."""
    private = names.private_domain(service.name, ctx.settings.private_domain_suffix)
    keep = {names.domain_claim(ClaimPurpose.PRIVATE, private)}
    private_admitted, private_why = await claims.hold(ctx, service, ClaimPurpose.PRIVATE, private)
    admitted: dict[str, list[str]] = {}
    conflicts: dict[str, str] = {}
    unverified: dict[str, str] = {}
    checked = []
    for certificate, domains in service.spec.domains_by_certificate().items():
        for domain in domains:
            proof = await verification.check(ctx, service, domain)
            checked.append(proof)
            if not proof.admit:
                unverified[domain] = proof.why
                continue
            keep.add(names.domain_claim(ClaimPurpose.PUBLIC, domain))
            ok, why = await claims.hold(ctx, service, ClaimPurpose.PUBLIC, domain)
            if ok:
                admitted.setdefault(certificate, []).append(domain)
            else:
                conflicts[domain] = why
    await claims.release(ctx, service, keep)
    return Network(
        private_domain=private,
        private_admitted=private_admitted,
        private_message=private_why,
        admitted_domains=admitted,
        conflicts=conflicts,
        unverified=unverified,
        validation_records=[p.record for p in checked if p.record is not None],
        verification_on=ctx.settings.domain_verification,
        recheck_dns_in=verification_status.recheck_in(
            checked,
            ctx.settings.domain_verification_pending_seconds,
            ctx.settings.domain_verification_interval_seconds,
        ),
    )


def sync_zone_soon(ctx: Context, service: str) -> None:
    """Have the private zone written soon, unless it already has this service's record."""
    if not zone.up_to_date_for(ctx, service):
        zone.request(ctx)


async def release(ctx: Context, service: ContainerServiceObject) -> None:
    """On deletion: give up every name, and take the private one out of the zone."""
    await claims.release(ctx, service, keep=set())
    await zone.sync(ctx)


async def prime_certificates(ctx: Context) -> None:
    """Whether cert-manager is there, and its Certificates of ours, before the first reconciles."""
    kube, store = ctx.kube, ctx.store
    ctx.certificates_served = await kube.get(resources.CRD, None, CERTIFICATE_CRD) is not None
    if not ctx.certificates_served:
        return
    try:
        for scope in ctx.settings.scopes():
            for body in await kube.list(
                resources.CERTIFICATE,
                namespace=scope,
                selector=labels.MANAGED_SELECTOR,
                keep=trimmed,
            ):
                store.put(resources.CERTIFICATE, body)
    except NotFound:
        # The CRD exists but its API is not served yet (being established).
        logger.info("cert-manager Certificates are not served yet")


async def full_certificate_quota(
    ctx: Context, service: ContainerServiceObject
) -> network_status.CertificateQuota | None:
    """A ResourceQuota of the namespace that lets no more Certificates be made, looked up only
    while the service's Ingress asks for a Certificate cert-manager has not made: ingress-shim
    retries a create the API server refused in silence, so the quota is the only trace of it."""
    if not ctx.certificates_served:
        return None
    namespace = service.namespace
    live = ctx.store.get(resources.INGRESS, (namespace, names.ingress(service.name)))
    tls = ((live or {}).get("spec") or {}).get("tls") or []
    missing = [
        entry.get("secretName")
        for entry in tls
        if ctx.store.get(resources.CERTIFICATE, (namespace, entry.get("secretName") or "")) is None
    ]
    if not missing:
        return None
    try:
        quotas = await ctx.kube.list(resources.RESOURCE_QUOTA, namespace=namespace)
    except ApiError as error:
        # A chart from before the rule that lets the operator read quotas: no limit is told.
        logger.info("%s: ResourceQuotas not read: %s", namespace, error)
        return None
    return network_status.full_certificate_quota(quotas)
