"""What the operator follows with its own informers, and which handler hears each kind.

Everything but cert-manager's kinds, whose API may appear or vanish while the operator runs:
kopf follows those (certificates.py).
"""

import asyncio
from collections.abc import Callable

from berth.handlers import events
from berth.kube import resources
from berth.reconcile.context import Context
from berth.render import labels, names
from berth.runtime.informer import Informer
from berth.runtime.store import Body, trimmed

# The kinds services own, and what of each the store keeps.
OWNED: tuple[tuple[resources.Resource, Callable[[Body], Body]], ...] = (
    (resources.DEPLOYMENT, trimmed),
    (resources.KUBE_SERVICE, trimmed),
    (resources.POD, events.slim_pod),
    (resources.INGRESS, trimmed),
)
# With a registry, the services' pull secrets too (Berth labels no other Secret).
REGISTRY_OWNED = ((resources.SECRET, trimmed),)


def informers(ctx: Context) -> list[Informer]:
    one_list_at_a_time = asyncio.Semaphore(1)

    def follow(
        resource: resources.Resource,
        handler: events.Handler,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        keep: Callable[[Body], Body] = trimmed,
    ) -> Informer:
        return Informer(
            ctx.kube,
            resource,
            handler,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            keep=keep,
            list_gate=one_list_at_a_time,
        )

    made = [
        follow(resources.POWER, events.power_changed(ctx)),
        follow(resources.DOMAIN_CLAIM, events.claim_changed(ctx)),
        follow(resources.DOMAIN_ALLOW_LIST, events.allow_list_changed(ctx)),
        follow(
            resources.CONFIG_MAP,
            events.zone_changed(ctx),
            namespace=ctx.settings.namespace,
            field_selector=f"metadata.name={names.PRIVATE_ZONE_CONFIGMAP}",
        ),
    ]
    for scope in ctx.settings.scopes():
        made += [
            follow(resources.SERVICE, events.service_changed(ctx), namespace=scope),
            follow(resources.VERSION, events.version_changed(ctx), namespace=scope),
            follow(resources.IMAGE, events.image_changed(ctx), namespace=scope),
        ]
        made += [
            follow(
                resource,
                events.pod_changed(ctx)
                if resource == resources.POD
                else events.owned_changed(ctx, resource),
                namespace=scope,
                label_selector=labels.MANAGED_SELECTOR,
                keep=keep,
            )
            for resource, keep in (
                *OWNED,
                *(REGISTRY_OWNED if ctx.settings.registry else ()),
            )
        ]
    return made
