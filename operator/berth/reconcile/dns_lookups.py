"""TXT lookups for domain verification: a real resolver, a cache, bounded concurrency.

Network I/O, so it stays out of the pure rooms: a reconcile asks here, and what is found goes
into the plan through the snapshot's Network. Each record name is looked up at most once at a
time (concurrent reconciles of rivals share the answer), and an answer is reused while it is
younger than the age its caller accepts.
"""

import asyncio
import logging
import time
from collections.abc import Callable

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from berth import metrics
from berth.settings import Settings
from berth.status.verification import Lookup

logger = logging.getLogger(__name__)


def resolver_for(settings: Settings) -> dns.asyncresolver.Resolver:
    """The system's resolver, or the nameservers the settings name (`address[:port]`)."""
    configured = settings.domain_verification_nameservers
    resolver = dns.asyncresolver.Resolver(configure=not configured)
    if configured:
        servers: list[str | dns.nameserver.Nameserver] = []
        for entry in configured:
            address, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
            servers.append(dns.nameserver.Do53Nameserver(address, int(port) if port else 53))
        resolver.nameservers = servers
    resolver.lifetime = settings.domain_verification_timeout_seconds
    resolver.cache = None  # answers are cached here, for as long as each caller accepts
    return resolver


class TxtLookups:
    def __init__(self, settings: Settings) -> None:
        self.resolver = resolver_for(settings)
        self.gate = asyncio.Semaphore(settings.domain_verification_concurrency)
        self.cache: dict[str, tuple[float, Lookup]] = {}
        self.inflight: dict[str, asyncio.Task[Lookup]] = {}
        # No caller accepts an answer older than the recheck interval, though one may be served
        # while it is looked up again: older ones than twice that are dropped.
        self.keep_for = 2 * settings.domain_verification_interval_seconds
        # A failed lookup is worth trying again sooner than an answer is.
        self.error_age = settings.domain_verification_pending_seconds
        self.asked = 0

    async def txt(
        self, name: str, max_age: float, changed: Callable[[], None] | None = None
    ) -> Lookup:
        """The TXT values at `name`, from the cache if younger than `max_age` seconds.

        With `changed`, an older answer is returned at once too, and looked up again in the
        background; `changed` is called if DNS then says something else. So a reconcile waits
        for DNS only the first time it asks: a slow or failing resolver does not hold the
        workers of every service with a custom domain.
        """
        cached = self.cache.get(name)
        if cached is not None:
            at, found = cached
            young = max_age if found.answered else min(max_age, self.error_age)
            if time.monotonic() - at < young:
                return found
            if changed is not None:
                self._refresh(name, found, changed)
                return found
        return await asyncio.shield(self._lookup(name))

    def _lookup(self, name: str) -> asyncio.Task[Lookup]:
        """The lookup of `name` in flight, started if there is none: rivals share it."""
        task = self.inflight.get(name)
        if task is None:
            task = asyncio.create_task(self._ask(name), name=f"txt {name}")
            self.inflight[name] = task
            task.add_done_callback(lambda _: self.inflight.pop(name, None))
        return task

    def _refresh(self, name: str, old: Lookup, changed: Callable[[], None]) -> None:
        def done(task: asyncio.Task[Lookup]) -> None:
            if not task.cancelled() and task.exception() is None and task.result() != old:
                changed()

        self._lookup(name).add_done_callback(done)

    async def _ask(self, name: str) -> Lookup:
        async with self.gate:
            found = await self._resolve(name)
        self.cache[name] = (time.monotonic(), found)
        self.asked += 1
        if self.asked % 1024 == 0:
            self.forget(self.keep_for)
        return found

    async def _resolve(self, name: str) -> Lookup:
        try:
            answer = await self.resolver.resolve(name, dns.rdatatype.TXT, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            metrics.DOMAIN_LOOKUPS.labels("absent").inc()
            return Lookup(frozenset())
        except dns.exception.DNSException as error:
            metrics.DOMAIN_LOOKUPS.labels("error").inc()
            logger.info("TXT lookup of %s failed: %s", name, error)
            return Lookup(None, str(error) or type(error).__name__)
        metrics.DOMAIN_LOOKUPS.labels("found").inc()
        # A TXT record is one or more strings; its value is their concatenation (RFC 7208 3.3).
        values = frozenset(b"".join(r.strings).decode(errors="replace") for r in answer)
        return Lookup(values)

    def forget(self, older_than: float) -> None:
        """Drop answers older than `older_than` seconds, so the cache does not grow forever."""
        limit = time.monotonic() - older_than
        for name in [n for n, (at, _) in self.cache.items() if at < limit]:
            del self.cache[name]
