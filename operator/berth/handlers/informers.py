"""What the operator follows with its own informers, and which handler hears each kind.

Everything but cert-manager's kinds, whose API may appear or vanish while the operator runs:
kopf follows those (network_watch).
"""

import asyncio
from collections.abc import Callable

from berth.handlers import network_watch, watch
from berth.handlers.store import Body, trimmed
from berth.kube import resources
from berth.kube.client import Kube
from berth.kube.informer import Informer
from berth.render import names
from berth.settings import Settings

# The kinds services own, and what of each the store keeps.
OWNED: tuple[tuple[resources.Resource, Callable[[Body], Body]], ...] = (
    (resources.DEPLOYMENT, trimmed),
    (resources.KUBE_SERVICE, trimmed),
    (resources.POD, watch.slim_pod),
    (resources.INGRESS, trimmed),
)


def informers(kube: Kube, settings: Settings) -> list[Informer]:
    one_list_at_a_time = asyncio.Semaphore(1)

    def follow(
        resource: resources.Resource,
        handler: watch.Handler,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        keep: Callable[[Body], Body] = trimmed,
    ) -> Informer:
        return Informer(
            kube,
            resource,
            handler,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            keep=keep,
            list_gate=one_list_at_a_time,
        )

    made = [
        follow(resources.POWER, watch.power_changed),
        follow(resources.DOMAIN_CLAIM, network_watch.claim_changed),
        follow(
            resources.CONFIG_MAP,
            network_watch.zone_changed,
            namespace=settings.namespace,
            field_selector=f"metadata.name={names.PRIVATE_ZONE_CONFIGMAP}",
        ),
    ]
    managed = watch.MANAGED_SELECTOR
    for scope in settings.scopes():
        made += [
            follow(resources.SERVICE, watch.service_changed, namespace=scope),
            follow(resources.VERSION, watch.version_changed, namespace=scope),
        ]
        made += [
            follow(
                resource,
                watch.owned_changed(resource.kind),
                namespace=scope,
                label_selector=managed,
                keep=keep,
            )
            for resource, keep in OWNED
        ]
    return made


async def first_lists(followed: list[Informer]) -> None:
    """Returns once every informer has listed its kind once."""
    await asyncio.gather(*(informer.synced.wait() for informer in followed))
