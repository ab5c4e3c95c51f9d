"""reconcile/zone.py: when a reconcile may skip syncing the zone, which renders every name."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any, cast

from berth.api.claim import ClaimPurpose
from berth.handlers import events
from berth.kube import resources
from berth.kube.client import Kube
from berth.reconcile import lookups, zone
from berth.reconcile.context import Context
from berth.render import names
from berth.runtime.queue import WorkQueue
from berth.runtime.store import Store
from berth.settings import Settings


async def never(_: Hashable) -> float | None:
    return None


def meta(name: str, namespace: str, rv: str = "1", **more: Any) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "resourceVersion": rv, **more}


def cluster(ip: str = "10.96.0.10") -> Context:
    """A store where service ns/web holds its private name and has a Service at `ip`."""
    ctx = Context(
        kube=cast(Kube, None),
        store=Store(lookups.INDEXES),
        settings=Settings(),
        queue=WorkQueue(never, 1),
    )
    domain = names.private_domain("web", ctx.settings.private_domain_suffix)
    owner = {"namespace": "ns", "name": "web", "uid": "u1"}
    claim_name = names.domain_claim(ClaimPurpose.PRIVATE, domain)
    ctx.store.put(
        resources.DOMAIN_CLAIM,
        {
            "metadata": meta(claim_name, ""),
            "spec": {"domain": domain, "purpose": "Private", "owner": owner},
        },
    )
    ctx.store.put(resources.SERVICE, {"metadata": meta("web", "ns", uid="u1"), "spec": {}})
    ctx.store.put(
        resources.KUBE_SERVICE, {"metadata": meta("web", "ns"), "spec": {"clusterIP": ip}}
    )
    zone_key = (ctx.settings.namespace, names.PRIVATE_ZONE_CONFIGMAP)
    ctx.store.put(resources.CONFIG_MAP, {"metadata": meta(zone_key[1], zone_key[0], rv="7")})
    return ctx


def test_a_zone_never_synced_must_be_synced() -> None:
    assert not zone.up_to_date_for(cluster(), "web")


def test_an_unchanged_record_in_an_unchanged_zone_needs_no_sync() -> None:
    ctx = cluster()
    ctx.zone_synced = ({"web": "10.96.0.10"}, "7")

    assert zone.up_to_date_for(ctx, "web")


def test_a_new_cluster_ip_needs_a_sync() -> None:
    ctx = cluster(ip="10.96.0.99")
    ctx.zone_synced = ({"web": "10.96.0.10"}, "7")

    assert not zone.up_to_date_for(ctx, "web")


def test_a_zone_changed_by_someone_else_needs_a_sync() -> None:
    ctx = cluster()
    ctx.zone_synced = ({"web": "10.96.0.10"}, "6")

    assert not zone.up_to_date_for(ctx, "web")


def test_a_gone_service_whose_name_is_still_in_the_zone_needs_a_sync() -> None:
    ctx = cluster()
    ctx.zone_synced = ({"web": "10.96.0.10"}, "7")
    ctx.store.remove(resources.SERVICE, {"metadata": meta("web", "ns")})

    assert not zone.up_to_date_for(ctx, "web")


def test_a_service_without_a_name_in_the_zone_needs_no_sync_while_it_has_no_record() -> None:
    ctx = cluster()
    ctx.zone_synced = ({}, "7")

    assert zone.up_to_date_for(ctx, "other")


class CountingKube:
    """Answers every apply with the manifest itself, at a new resourceVersion."""

    def __init__(self) -> None:
        self.applied: list[dict[str, Any]] = []

    async def apply(self, manifest: dict[str, Any]) -> dict[str, Any]:
        self.applied.append(manifest)
        meta = {**manifest["metadata"], "resourceVersion": str(100 + len(self.applied))}
        return {**manifest, "metadata": meta}


def counted(ctx: Context) -> CountingKube:
    """`ctx` writing to a CountingKube, which it returns."""
    kube = CountingKube()
    ctx.kube = cast(Kube, kube)
    return kube


def move(ctx: Context, ip: str) -> None:
    """Service ns/web gets a new ClusterIP (its resourceVersion is the address)."""
    ctx.store.put(
        resources.KUBE_SERVICE, {"metadata": meta("web", "ns", rv=ip), "spec": {"clusterIP": ip}}
    )


def test_a_burst_of_requests_is_one_write_made_without_the_requesters_waiting(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(zone, "BURST_SECONDS", 0.05)
    ctx = cluster()
    kube = counted(ctx)

    async def burst() -> None:
        for _ in range(20):
            zone.request(ctx)
        assert kube.applied == []  # nobody waited for the write
        assert ctx.zone_writer is not None
        await ctx.zone_writer

    asyncio.run(burst())

    assert len(kube.applied) == 1
    assert "10.96.0.10" in next(iter(kube.applied[0]["data"].values()))
    assert zone.up_to_date_for(ctx, "web")


def test_requests_after_a_write_wait_for_the_burst_window_instead_of_writing_at_once(
    monkeypatch: Any,
) -> None:
    """A burst spread over time (reconciles finishing one after another) is one write per
    window, not one write per gap between requests."""
    monkeypatch.setattr(zone, "BATCH_SECONDS", 0.01)
    monkeypatch.setattr(zone, "BURST_SECONDS", 0.3)
    ctx = cluster()
    kube = counted(ctx)

    async def spread_burst() -> float:
        loop = asyncio.get_running_loop()
        began = loop.time()
        zone.request(ctx)
        for ip in ("10.96.0.11", "10.96.0.12", "10.96.0.13"):
            await asyncio.sleep(0.05)  # the write before has been made
            move(ctx, ip)
            zone.request(ctx)
        assert ctx.zone_writer is not None
        await ctx.zone_writer
        return loop.time() - began

    took = asyncio.run(spread_burst())

    assert len(kube.applied) == 2
    assert "10.96.0.13" in next(iter(kube.applied[1]["data"].values()))
    # The task stays for a window after its last write, so the requesters never wait on it.
    assert took >= 0.3


def test_a_zone_event_during_a_burst_waits_for_the_window_like_any_request(
    monkeypatch: Any,
) -> None:
    """Under load the echo of our own write can arrive before the write's answer and look new;
    with a record changed meanwhile, it must not write mid-window."""
    monkeypatch.setattr(zone, "BATCH_SECONDS", 0.01)
    monkeypatch.setattr(zone, "BURST_SECONDS", 0.3)
    ctx = cluster()
    ctx.store.primed = True
    kube = counted(ctx)
    zone_key = (ctx.settings.namespace, names.PRIVATE_ZONE_CONFIGMAP)
    echo = {"type": "MODIFIED", "object": {"metadata": meta(zone_key[1], zone_key[0], rv="999")}}

    async def echo_mid_window() -> int:
        zone.request(ctx)
        await asyncio.sleep(0.05)  # written; the writer waits out its window
        move(ctx, "10.96.0.20")
        await events.zone_changed(ctx)(echo)
        await asyncio.sleep(0.05)
        during_window = len(kube.applied)
        assert ctx.zone_writer is not None
        await ctx.zone_writer
        return during_window

    assert asyncio.run(echo_mid_window()) == 1
    assert len(kube.applied) == 2
    assert "10.96.0.20" in next(iter(kube.applied[1]["data"].values()))


def stopped_mid_window(monkeypatch: Any, *, flush: bool) -> CountingKube:
    """The writer wrote, a record changed during its window, and the operator stops."""
    monkeypatch.setattr(zone, "BATCH_SECONDS", 0.01)
    monkeypatch.setattr(zone, "BURST_SECONDS", 30.0)
    ctx = cluster()
    kube = counted(ctx)

    async def stop_mid_window() -> None:
        zone.request(ctx)
        await asyncio.sleep(0.05)  # written; the writer waits out its window
        move(ctx, "10.96.0.30")
        zone.request(ctx)
        await zone.stop_writer(ctx, flush=flush)
        assert ctx.zone_writer is None

    asyncio.run(stop_mid_window())
    return kube


def test_a_leader_stopping_writes_what_the_window_still_owed(monkeypatch: Any) -> None:
    """Else the change waits for the next leader, which writes it as its first act."""
    kube = stopped_mid_window(monkeypatch, flush=True)

    assert len(kube.applied) == 2
    assert "10.96.0.30" in next(iter(kube.applied[1]["data"].values()))


def test_a_process_that_lost_the_lease_writes_nothing_more_when_it_stops(
    monkeypatch: Any,
) -> None:
    assert len(stopped_mid_window(monkeypatch, flush=False).applied) == 1
