"""Proof of domain ownership for one service: its records, looked up, or an admin's allow-list.

Each custom domain is checked before it may be claimed: no claim, no Ingress rule, no
Certificate until its owner published the service's record (render/verification.py).
"""

import logging

from berth.api.claim import ClaimPurpose
from berth.api.objects import ContainerServiceObject
from berth.kube import resources
from berth.kube.client import ApiError, Conflict
from berth.reconcile.context import Context
from berth.reconcile.dns_lookups import TxtLookups
from berth.render import names
from berth.render import verification as records
from berth.runtime.store import Body
from berth.status.verification import ALLOWED, Eligibility, allowed, eligibility

logger = logging.getLogger(__name__)


class KeyUnusable(Exception):
    """The key's Secret exists but holds no key of ours."""


def allow_list(ctx: Context, namespace: str) -> list[str]:
    """Every domain pattern the administrators' DomainAllowLists grant `namespace`."""
    return [
        pattern
        for body in ctx.store.find(resources.DOMAIN_ALLOW_LIST, "namespace", namespace)
        for pattern in (body.get("spec") or {}).get("domains") or []
    ]


async def key(ctx: Context) -> bytes:
    """The cluster's key, from its Secret; the first operator to need it makes it."""
    if ctx.verification_key is not None:
        return ctx.verification_key
    async with ctx.verification_key_lock:
        if ctx.verification_key is None:
            ctx.verification_key = await _read_or_make_key(ctx)
    return ctx.verification_key


async def _read_or_make_key(ctx: Context) -> bytes:
    namespace = ctx.settings.namespace
    found = await ctx.kube.get(resources.SECRET, namespace, records.KEY_SECRET)
    if found is None:
        try:
            found = await ctx.kube.create(records.key_secret(namespace, records.new_key()))
            logger.info("made the domain verification key (Secret %s)", records.KEY_SECRET)
        except Conflict:
            found = await ctx.kube.get(resources.SECRET, namespace, records.KEY_SECRET)
    made = records.key_of(found or {})
    if made is None:
        # Someone else's Secret of that name: never guess a key, every record would change.
        raise KeyUnusable(f"Secret {namespace}/{records.KEY_SECRET} holds no usable `key`")
    return made


def holds(ctx: Context, service: ContainerServiceObject, domain: str) -> bool:
    claim: Body | None = ctx.store.get(
        resources.DOMAIN_CLAIM, ("", names.domain_claim(ClaimPurpose.PUBLIC, domain))
    )
    owner = ((claim or {}).get("spec") or {}).get("owner") or {}
    return bool(owner) and owner.get("uid") == service.metadata.uid


async def check(ctx: Context, service: ContainerServiceObject, domain: str) -> Eligibility:
    """Whether `service` may go on to claim `domain`, and the record it shows for it."""
    settings = ctx.settings
    if not settings.domain_verification or allowed(allow_list(ctx, service.namespace), domain):
        return ALLOWED
    held = holds(ctx, service, domain)
    try:
        secret_key = await key(ctx)
    except (ApiError, KeyUnusable) as error:
        # Refused (RBAC, a hand-made Secret): a state to report, not a reconcile to crash; what
        # is held stays held, as when DNS cannot answer.
        logger.warning("domain verification key: %s", error)
        why = f"{domain} cannot be checked: the verification key is unavailable ({error})"
        return Eligibility(admit=held, why="" if held else why, settled=False)
    record = records.record(secret_key, service.namespace, service.name, domain)
    # A proved domain is looked at again every interval; one awaited, every pending period.
    max_age = (
        settings.domain_verification_interval_seconds
        if held
        else settings.domain_verification_pending_seconds
    )
    if ctx.txt is None:
        ctx.txt = TxtLookups(settings)
    key_of_service = (service.namespace, service.name)
    lookup = await ctx.txt.txt(record.name, max_age, lambda: ctx.queue.add(key_of_service))
    return eligibility(domain, record, lookup, held)


def proved_already(ctx: Context, namespace: str, service: str, domain: str) -> bool:
    """Whether a rival for `domain` may have it, from what is known without a lookup: an
    unproved service must not hold back one that proved the domain (claims.contenders). The
    rivals' record name is the caller's own, looked up just before."""
    settings = ctx.settings
    if not settings.domain_verification or allowed(allow_list(ctx, namespace), domain):
        return True
    if ctx.verification_key is None or ctx.txt is None:
        return False
    record = records.record(ctx.verification_key, namespace, service, domain)
    cached = ctx.txt.cache.get(record.name)
    values = cached[1].values if cached is not None else None
    return values is not None and record.value in values
