"""DomainClaims: take a name through the API server, keep it, and release it again.

Creating an object whose name is taken fails with 409 AlreadyExists, so two services asking for
one name at the same moment cannot both get it, whichever operator worker runs first.
"""

import logging

from berth.api.claim import ClaimOwner, ClaimPurpose
from berth.api.objects import ContainerServiceObject, Meta
from berth.kube import resources
from berth.kube.client import Conflict
from berth.kube.resources import Key, key_of
from berth.reconcile import lookups, verification
from berth.reconcile.context import Context
from berth.render import claims as claim_manifests
from berth.render import names
from berth.runtime.store import Body, Store
from berth.status.claims import Claimant, Decision, decide, why_not

logger = logging.getLogger(__name__)
CLAIMS = resources.DOMAIN_CLAIM
ATTEMPTS = 3


def claimant(service: ContainerServiceObject) -> Claimant:
    meta = service.metadata
    return Claimant(service.namespace, service.name, meta.uid, meta.creation_timestamp)


def holder_of(claim: Body | None) -> ClaimOwner | None:
    if claim is None:
        return None
    return ClaimOwner.model_validate((claim.get("spec") or {}).get("owner") or {})


def holder_alive(ctx: Context, holder: ClaimOwner | None) -> bool:
    return holder_alive_in(ctx.store, holder)


def holder_alive_in(store: Store, holder: ClaimOwner | None) -> bool:
    if holder is None:
        return False
    body = store.get(resources.SERVICE, (holder.namespace, holder.name))
    return body is not None and body["metadata"].get("uid") == holder.uid


async def hold(
    ctx: Context, service: ContainerServiceObject, purpose: ClaimPurpose, domain: str
) -> tuple[bool, str]:
    """Whether `service` holds `domain` (claiming it if it is free), and if not, why."""
    name = names.domain_claim(purpose, domain)
    me = claimant(service)
    for _ in range(ATTEMPTS):
        claim = ctx.store.get(CLAIMS, ("", name))
        holder = holder_of(claim)
        rivals = contenders(ctx, purpose, domain) if claim is None else []
        decision = decide(me, holder, holder_alive(ctx, holder), rivals)
        if decision == Decision.HELD:
            return True, ""
        if decision in (Decision.TAKEN, Decision.WAIT):
            return False, why_not(decision, domain, name)
        if decision == Decision.STALE and claim is not None:
            await delete(ctx, claim)
            continue
        try:
            created = await ctx.kube.create(claim_manifests.domain_claim(domain, purpose, service))
        except Conflict:
            # Someone was faster: read who, and decide again on what the API server says.
            live = await ctx.kube.get(resources.DOMAIN_CLAIM, None, name)
            if live is not None:
                ctx.store.put(CLAIMS, live)
            continue
        ctx.store.put(CLAIMS, created)
        # The watch will not report our own write (its echo is skipped): tell the rivals here.
        for rival in rivals:
            if rival.uid != me.uid:
                ctx.queue.add((rival.namespace, rival.name))
        return True, ""
    return False, why_not(Decision.CREATE, domain, name)


def contenders(ctx: Context, purpose: ClaimPurpose, domain: str) -> list[Claimant]:
    """Every live service that asks for `domain` (a custom domain: and may have it)."""
    found = []
    for body in askers(ctx, purpose, domain):
        meta = body.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            continue
        parsed = Meta.model_validate(meta)
        if purpose == ClaimPurpose.PUBLIC and not verification.proved_already(
            ctx, parsed.namespace or "", parsed.name, domain
        ):
            continue  # an older squatter must not hold the name back from its owner
        found.append(
            Claimant(parsed.namespace or "", parsed.name, parsed.uid, parsed.creation_timestamp)
        )
    return found


def askers(ctx: Context, purpose: ClaimPurpose, domain: str) -> list[Body]:
    """The (raw) services that ask for `domain` for `purpose`, found through the store's indexes."""
    if purpose == ClaimPurpose.PRIVATE:
        suffix = f".{ctx.settings.private_domain_suffix}"
        if not domain.endswith(suffix):
            return []
        candidates = ctx.store.find(resources.SERVICE, "name", domain[: -len(suffix)])
    else:
        candidates = ctx.store.find(resources.SERVICE, "public-domain", domain)
    return [body for body in candidates if domain in wanted(ctx, body, purpose)]


def wanted(ctx: Context, body: Body, purpose: ClaimPurpose) -> set[str]:
    """The names of one purpose that a (raw) service body asks for, lowercased."""
    if purpose == ClaimPurpose.PRIVATE:
        name = (body.get("metadata") or {}).get("name", "")
        return {names.private_domain(name, ctx.settings.private_domain_suffix)}
    return lookups.public_domains(body)


def services_wanting(ctx: Context, claim: Body) -> list[Key]:
    """Services to reconcile when a claim changes hands: all that ask for its domain."""
    spec = claim.get("spec") or {}
    purpose, domain = ClaimPurpose(spec.get("purpose", "Public")), spec.get("domain", "")
    return [key_of(body) for body in askers(ctx, purpose, domain)]


async def release(ctx: Context, service: ContainerServiceObject, keep: set[str]) -> None:
    """Delete every claim `service` holds except those named in `keep`, and every claim an
    older service of the same namespace and name left behind (services carry no finalizer)."""
    uid = service.metadata.uid
    for claim in ctx.store.find(CLAIMS, "holder", uid):
        holder = holder_of(claim)
        name = claim["metadata"]["name"]
        if holder is None or holder.uid != uid or name in keep:
            continue
        logger.info("%s/%s releases %s", service.namespace, service.name, claim["spec"]["domain"])
        await delete(ctx, claim)
    for claim in ctx.store.find(CLAIMS, "holder-key", (service.namespace, service.name)):
        holder = holder_of(claim)
        if holder is not None and holder.uid != uid:
            await delete(ctx, claim)


async def delete(ctx: Context, claim: Body) -> None:
    """Release `claim` (only this one: the uid makes the delete conditional)."""
    meta = claim["metadata"]
    logger.info("releasing %s of %s", meta["name"], (claim.get("spec") or {}).get("domain"))
    await ctx.kube.delete(resources.DOMAIN_CLAIM, None, meta["name"], meta["uid"])
    ctx.store.remove(CLAIMS, claim)
