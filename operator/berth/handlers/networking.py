"""A service's networking: private name, custom domains, Ingress, and what cert-manager says."""

import logging

from berth.api.claim import ClaimPurpose
from berth.api.objects import ContainerServiceObject, VersionObject
from berth.handlers import claims, zone
from berth.handlers.context import Context
from berth.handlers.owned import apply_owned
from berth.handlers.store import Store, trimmed
from berth.kube import resources
from berth.kube.client import Kube, NotFound
from berth.render import ingress, names
from berth.status.network import Network, certificate_readiness

logger = logging.getLogger(__name__)
CERTIFICATE_CRD = "certificates.cert-manager.io"


async def reconcile_network(
    ctx: Context, service: ContainerServiceObject, serving: VersionObject | None, guid: str
) -> Network:
    """Claim names, apply the Ingress for the admitted ones, update the zone, read certificates."""
    settings = ctx.settings
    key = (service.namespace, service.name)
    private = names.private_domain(service.name, settings.private_domain_suffix)
    keep = {names.domain_claim(ClaimPurpose.PRIVATE, private)}
    private_admitted, private_why = await claims.hold(ctx, service, ClaimPurpose.PRIVATE, private)
    admitted: dict[str, list[str]] = {}
    conflicts: dict[str, str] = {}
    for certificate, domains in (service.spec.public_domain_names or {}).items():
        for domain in (d.lower() for d in domains):
            keep.add(names.domain_claim(ClaimPurpose.PUBLIC, domain))
            ok, why = await claims.hold(ctx, service, ClaimPurpose.PUBLIC, domain)
            if ok:
                admitted.setdefault(certificate, []).append(domain)
            else:
                conflicts[domain] = why
    await claims.release(ctx, service, keep)
    default = names.default_domain(service.name, guid, settings.region, settings.base_domain)
    content = serving.spec.content() if serving is not None else None
    desired = ingress.ingress(service, content, default, admitted, settings)
    await apply_owned(ctx, "Ingress", key, desired)
    if not zone.up_to_date_for(ctx, service.name):
        zone.request(ctx)
    secrets = ingress.tls_secret_names(desired)
    found = {
        name: body
        for name in secrets
        if (body := ctx.store.get("Certificate", (service.namespace, name))) is not None
    }
    return Network(
        private_domain=private,
        private_admitted=private_admitted,
        private_message=private_why,
        admitted_domains=admitted,
        conflicts=conflicts,
        certificate=certificate_readiness(secrets, found, ctx.store.certificates_served),
    )


async def release(ctx: Context, service: ContainerServiceObject) -> None:
    """On deletion: give up every name, and take the private one out of the zone."""
    await claims.release(ctx, service, keep=set())
    await zone.sync(ctx)


async def prime_certificates(
    kube: Kube, store: Store, selector: str, scopes: list[str | None]
) -> None:
    """Whether cert-manager is there, and its Certificates of ours, before the first reconciles.

    Namespaced kinds only in `scopes` (the watched namespaces, or [None] for all of them).
    """
    store.certificates_served = await kube.get(resources.CRD, None, CERTIFICATE_CRD) is not None
    if store.certificates_served:
        try:
            for scope in scopes:
                for body in await kube.list(
                    resources.CERTIFICATE, namespace=scope, selector=selector, keep=trimmed
                ):
                    store.put("Certificate", body)
        except NotFound:
            # The CRD exists but its API is not served yet (being established).
            logger.info("cert-manager Certificates are not served yet")
