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
            follow(
                resources.DEPLOYMENT,
                watch.deployment_changed,
                namespace=scope,
                label_selector=managed,
            ),
            follow(
                resources.KUBE_SERVICE,
                watch.kube_service_changed,
                namespace=scope,
                label_selector=managed,
            ),
            follow(
                resources.POD,
                watch.pod_changed,
                namespace=scope,
                label_selector=managed,
                keep=watch.slim_pod,
            ),
            follow(
                resources.INGRESS,
                network_watch.ingress_changed,
                namespace=scope,
                label_selector=managed,
            ),
        ]
    return made


async def first_lists(followed: list[Informer]) -> None:
    """Returns once every informer has listed its kind once."""
    await asyncio.gather(*(informer.synced.wait() for informer in followed))
