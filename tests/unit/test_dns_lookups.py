"""reconcile/dns_lookups.py: which resolvers are asked, and that rivals share one lookup."""

from __future__ import annotations

import asyncio
from typing import Any

import dns.resolver

from berth.reconcile.dns_lookups import TxtLookups, resolver_for
from berth.settings import Settings


def test_nameservers_are_addresses_with_an_optional_port() -> None:
    settings = Settings(domain_verification_nameservers=["10.0.0.1", "10.0.0.2:5353", "fd00::53"])
    servers = resolver_for(settings).nameservers
    assert [(s.address, s.port) for s in servers] == [  # type: ignore[union-attr]
        ("10.0.0.1", 53),
        ("10.0.0.2", 5353),
        ("fd00::53", 53),
    ]


class CountingResolver:
    """Stands in for the network: answers NXDOMAIN after a pause, and counts the questions."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def resolve(self, name: str, *_: Any, **__: Any) -> Any:
        self.asked.append(name)
        await asyncio.sleep(0.01)
        raise dns.resolver.NXDOMAIN()


def test_concurrent_askers_share_one_lookup_and_answers_are_reused_while_young() -> None:
    async def scenario() -> tuple[list[str], int]:
        lookups = TxtLookups(Settings())
        counting = CountingResolver()
        lookups.resolver = counting  # type: ignore[assignment]
        found = await asyncio.gather(
            *(lookups.txt("_berth-challenge.a.test", 60) for _ in range(5))
        )
        assert all(f.values == frozenset() for f in found)
        await lookups.txt("_berth-challenge.a.test", 60)  # young enough: no new question
        await lookups.txt("_berth-challenge.a.test", 0)  # the caller wants a fresh one
        return counting.asked, len(lookups.inflight)

    asked, inflight = asyncio.run(scenario())
    assert asked == ["_berth-challenge.a.test"] * 2
    assert inflight == 0


class ChangingResolver:
    """Answers NXDOMAIN first, then the record, after a pause each time."""

    def __init__(self) -> None:
        self.asked = 0

    async def resolve(self, name: str, *_: Any, **__: Any) -> Any:
        self.asked += 1
        await asyncio.sleep(0.01)
        if self.asked == 1:
            raise dns.resolver.NXDOMAIN()
        return [type("Txt", (), {"strings": [b"berth-verify=", b"abc"]})()]


def test_an_old_answer_is_served_at_once_and_the_asker_is_woken_when_dns_changed() -> None:
    async def scenario() -> tuple[list[frozenset[str] | None], int]:
        lookups = TxtLookups(Settings())
        lookups.resolver = ChangingResolver()  # type: ignore[assignment]
        woken = asyncio.Event()
        first = await lookups.txt("_berth-challenge.a.test", 0, woken.set)  # nothing cached: waits
        stale = await lookups.txt("_berth-challenge.a.test", 0, woken.set)  # served, refreshed
        await asyncio.wait_for(woken.wait(), 1)
        fresh = await lookups.txt("_berth-challenge.a.test", 60, woken.set)
        return [first.values, stale.values, fresh.values], lookups.resolver.asked  # type: ignore[attr-defined]

    values, asked = asyncio.run(scenario())
    assert values == [frozenset(), frozenset(), frozenset({"berth-verify=abc"})]
    assert asked == 2
