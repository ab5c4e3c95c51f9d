"""handlers/events.py: which watch events queue a reconcile, and which are echoes to skip."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any, cast

from berth.handlers import events
from berth.kube import resources
from berth.kube.client import Kube
from berth.reconcile import lookups
from berth.reconcile.context import Context
from berth.runtime.queue import WorkQueue
from berth.runtime.store import Store
from berth.settings import Settings


async def never(_: Hashable) -> float | None:
    return None


def installed(primed: bool = True) -> Context:
    ctx = Context(
        kube=cast(Kube, None),
        store=Store(lookups.INDEXES),
        settings=Settings(),
        queue=WorkQueue(never, 1),
    )
    ctx.store.primed = primed
    return ctx


def event(kind: str, rv: str, type_: str = "MODIFIED", **labels: str) -> dict[str, Any]:
    meta = {"name": "web", "namespace": "ns", "resourceVersion": rv, "labels": labels}
    return {"type": type_, "object": {"kind": kind, "metadata": meta}}


def deployment_event(rv: str, type_: str = "MODIFIED") -> dict[str, Any]:
    return event("Deployment", rv, type_, **{"berth.dev/service": "web"})


def test_a_change_of_an_owned_object_queues_its_service() -> None:
    ctx = installed()

    asyncio.run(events.owned_changed(ctx, resources.DEPLOYMENT)(deployment_event("7")))

    assert ctx.queue.queued == {("ns", "web")}


def test_the_echo_of_a_stored_write_queues_nothing() -> None:
    ctx = installed()
    ctx.store.put(resources.DEPLOYMENT, deployment_event("7")["object"])

    asyncio.run(events.owned_changed(ctx, resources.DEPLOYMENT)(deployment_event("7")))

    assert ctx.queue.queued == set()


def test_a_deletion_queues_its_service_even_at_a_known_resource_version() -> None:
    ctx = installed()
    ctx.store.put(resources.DEPLOYMENT, deployment_event("7")["object"])

    asyncio.run(events.owned_changed(ctx, resources.DEPLOYMENT)(deployment_event("7", "DELETED")))

    assert ctx.queue.queued == {("ns", "web")}
    assert ctx.store.get(resources.DEPLOYMENT, ("ns", "web")) is None


def test_a_service_listed_again_after_a_restart_is_queued_only_once_it_changed() -> None:
    ctx = installed()
    ctx.store.put(resources.SERVICE, event("ContainerService", "3")["object"])

    asyncio.run(events.service_changed(ctx)(event("ContainerService", "3")))
    asyncio.run(events.service_changed(ctx)(event("ContainerService", "4")))

    assert ctx.queue.queued == {("ns", "web")}
    assert ctx.queue.tokens.qsize() == 1


def test_events_before_the_first_lists_are_in_fill_the_store_and_queue_nothing() -> None:
    ctx = installed(primed=False)

    asyncio.run(events.owned_changed(ctx, resources.DEPLOYMENT)(deployment_event("7")))

    assert ctx.queue.queued == set()
    assert ctx.store.get(resources.DEPLOYMENT, ("ns", "web")) is not None


def test_a_deletion_found_on_a_relist_queues_the_service_the_store_knew_it_by() -> None:
    ctx = installed()
    ctx.store.put(resources.DEPLOYMENT, deployment_event("7")["object"])
    # An informer that finds an object gone on a relist knows only its name.
    gone = {"type": "DELETED", "object": {"metadata": {"namespace": "ns", "name": "web"}}}

    asyncio.run(events.owned_changed(ctx, resources.DEPLOYMENT)(gone))

    assert ctx.queue.queued == {("ns", "web")}
    assert ctx.store.get(resources.DEPLOYMENT, ("ns", "web")) is None
