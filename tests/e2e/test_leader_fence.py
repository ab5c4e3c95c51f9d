"""The fence, against the real API server: a process that does not hold the Lease sends no write,
not even the rest of a reconcile's plan that started while it led."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import kubernetes
import pytest

from berth import metrics
from berth.handlers.lifecycle import lease_client
from berth.kube import resources
from berth.kube.client import Kube, NotLeader, endpoint_of, session_for
from berth.lease_timing import Timing
from berth.reconcile import apply
from berth.reconcile.context import Context
from berth.reconcile.writes import Apply
from berth.runtime.leader import Elector
from berth.runtime.queue import WorkQueue
from berth.runtime.store import Body, Store
from berth.settings import Settings

pytestmark = pytest.mark.e2e
TIMING = Timing(lease_seconds=4, renew_deadline_seconds=3, retry_period_seconds=0.5)


class Clock:
    """A monotonic clock the test moves: losing the lease is a matter of time passing."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class LosingStore(Store):
    """A store in which storing the answer to the first write makes the renew deadline pass,
    as if the leader's renewals had failed while that write was in flight."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def put(self, kind: resources.Resource, body: Body) -> bool:
        self.clock.now += TIMING.renew_deadline_seconds + 1
        return super().put(kind, body)


def configmap(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"written": "yes"},
    }


def with_kube(
    api: kubernetes.client.ApiClient, scenario: Callable[[Kube], Awaitable[None]]
) -> None:
    async def main() -> None:
        endpoint = endpoint_of(api.configuration)
        async with session_for(endpoint) as session:
            await scenario(Kube(endpoint, session))

    asyncio.run(main())


def configmaps(api: kubernetes.client.ApiClient, namespace: str) -> set[str]:
    found = kubernetes.client.CoreV1Api(api).list_namespaced_config_map(namespace)
    return {item.metadata.name for item in found.items} - {"kube-root-ca.crt"}


def applied_configmaps() -> float:
    return metrics.API_WRITES.labels(kind="ConfigMap", verb="apply")._value.get()


def test_a_plan_started_as_leader_sends_nothing_once_the_lease_is_lost(
    kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    clock = Clock()

    async def scenario(kube: Kube) -> None:
        elector = Elector(kube, namespace, "fence", "me", TIMING, clock=clock)
        kube.fence = elector.holds
        await elector.acquire()
        store = LosingStore(clock)
        settings = Settings(namespace=namespace)
        ctx = Context(kube=kube, store=store, settings=settings, queue=WorkQueue(_nothing, 1))
        plan = [Apply(configmap(namespace, "first")), Apply(configmap(namespace, "second"))]

        with pytest.raises(NotLeader):
            await apply.send(ctx, plan)
        assert not elector.holds()

    before = applied_configmaps()
    with_kube(kube_api, scenario)

    assert configmaps(kube_api, namespace) == {"first"}
    assert applied_configmaps() - before == 1, "the refused write was counted as sent"


def test_a_standby_sends_no_write_and_takes_a_released_lease_at_once(
    kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    clock = Clock()

    async def scenario(kube: Kube) -> None:
        leader = Elector(kube, namespace, "fence", "leader", TIMING, clock=clock)
        standby = Elector(kube, namespace, "fence", "standby", TIMING, clock=clock)
        kube.fence = standby.holds
        await leader.acquire()

        assert not await standby._attempt(TIMING.renew_deadline_seconds)
        with pytest.raises(NotLeader):
            await kube.apply(configmap(namespace, "standby"))

        await leader.release()
        # The fake clock stands still: only a released lease can be taken at once.
        await asyncio.wait_for(standby.acquire(), timeout=10)
        await kube.apply(configmap(namespace, "led"))

    with_kube(kube_api, scenario)

    assert configmaps(kube_api, namespace) == {"led"}


def test_renewals_do_not_queue_behind_the_operators_own_requests(
    kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    """In a burst the operator's client has every slot taken by reconciles; the elector's own
    client still renews (under load, renewals queued behind the burst missed their deadline)."""

    async def scenario(kube: Kube) -> None:
        busy = Kube(kube.endpoint, kube.session, concurrency=1)
        await busy.in_flight.acquire()  # a burst holds every slot, for longer than the test
        elector = Elector(lease_client(busy), namespace, "renewing", "me", TIMING)
        try:
            await asyncio.wait_for(elector.acquire(), timeout=10)
            await asyncio.sleep(TIMING.retry_period_seconds)
            assert await elector._attempt(TIMING.renew_deadline_seconds)
        finally:
            await elector.release()
            if elector.kube.session is not None:
                await elector.kube.session.close()

    with_kube(kube_api, scenario)


async def _nothing(_: Any) -> None:
    return None
