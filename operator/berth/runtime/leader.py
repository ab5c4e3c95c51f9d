"""Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics.

One process holds the Lease and works; the others keep their stores warm and try again every
retry period. Updates are conditional on the resourceVersion read, and a create that answers 409
means someone else was first: the API server decides every race.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from berth.kube import resources
from berth.kube.client import Conflict, Kube, NotFound
from berth.lease_timing import Timing
from berth.runtime import lease
from berth.runtime.lease import Decision, Record

logger = logging.getLogger(__name__)
Clock = Callable[[], float]


class Elector:
    """Takes the lease, then renews it until a renewal has not succeeded for the renew deadline.

    `holds()` is the fence: true only while the last successful renewal started less than the
    renew deadline ago, by the monotonic clock. Since a standby waits out the whole lease after it
    last saw the record change, and that lease is longer than the deadline, the fence shuts before
    anyone else may take over, even when this process was too busy to notice it lost.
    """

    def __init__(
        self,
        kube: Kube,
        namespace: str,
        name: str,
        identity: str,
        timing: Timing,
        clock: Clock = time.monotonic,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing
        self.clock = clock
        self.observed: Record | None = None
        self.observed_at = 0.0
        self.resource_version: str | None = None
        self.leading = False
        # When the last successful take or renewal was started: the fence counts from there.
        self.renewed_at = float("-inf")
        self.lost = asyncio.Event()

    def holds(self) -> bool:
        return self.leading and self.clock() < self.renewed_at + self.timing.renew_deadline_seconds

    async def acquire(self) -> None:
        """Return once this process holds the lease."""
        logger.info("waiting for the lease %s/%s as %s", self.namespace, self.name, self.identity)
        while not await self._attempt(self.timing.renew_deadline_seconds):
            await asyncio.sleep(self.timing.retry_period_seconds)
        self.leading = True
        logger.info("took the lease %s/%s as %s", self.namespace, self.name, self.identity)

    async def keep(self) -> None:
        """Renew every retry period; return (and set `lost`) once the renew deadline passed
        without a successful renewal."""
        while True:
            await asyncio.sleep(self.timing.retry_period_seconds)
            left = self.renewed_at + self.timing.renew_deadline_seconds - self.clock()
            if left > 0 and await self._attempt(left):
                continue
            if not self.holds():
                break
        self.leading = False
        self.lost.set()
        logger.error("lost the lease %s/%s: stopped writing", self.namespace, self.name)

    async def _attempt(self, timeout: float) -> bool:
        """One try to take or renew; whether this process holds the lease now."""
        started = self.clock()
        try:
            return await asyncio.wait_for(self._take_or_renew(started), timeout)
        except Conflict:
            logger.debug("lease %s/%s: someone else wrote first", self.namespace, self.name)
        except TimeoutError:
            logger.warning(
                "lease %s/%s: no answer within %.1fs", self.namespace, self.name, timeout
            )
        except Exception as error:
            logger.warning("lease %s/%s: %s", self.namespace, self.name, error)
        return False

    async def _take_or_renew(self, started: float) -> bool:
        found = await self.kube.get(resources.LEASE, self.namespace, self.name)
        # Seen now, after the answer: the record may have been written just before it was read.
        self.resource_version = None if found is None else found["metadata"].get("resourceVersion")
        self._observe(None if found is None else lease.record_of(found), self.clock())
        decision = lease.decide(self.observed, self.observed_at, self.clock(), self.identity)
        if decision is Decision.WAIT:
            return False
        record = lease.claimed(
            self.observed, self.identity, self.timing.lease_seconds, datetime.now(UTC)
        )
        manifest = lease.lease_manifest(self.namespace, self.name, record, self.resource_version)
        written = await (
            self.kube.create(manifest) if found is None else self.kube.replace(manifest)
        )
        self.resource_version = written["metadata"].get("resourceVersion")
        self.observed, self.observed_at = record, started
        self.renewed_at = started
        return True

    def _observe(self, record: Record | None, at: float) -> None:
        if record != self.observed:
            self.observed, self.observed_at = record, at

    async def release(self) -> None:
        """Give the lease up, if this process still holds it, so a standby takes it at once."""
        if not self.holds() or self.observed is None:
            return
        self.leading = False
        record = lease.released(self.observed, datetime.now(UTC))
        manifest = lease.lease_manifest(self.namespace, self.name, record, self.resource_version)
        try:
            await self.kube.replace(manifest)
        except (Conflict, NotFound):
            return  # changed or gone since our renewal: nothing of ours to give up
        logger.info("released the lease %s/%s", self.namespace, self.name)
