"""Informers, a store and a work queue, started and stopped as one."""

import asyncio
import logging
from collections.abc import Hashable, Iterable

from berth.runtime.informer import Informer
from berth.runtime.queue import WorkQueue
from berth.runtime.store import Store

logger = logging.getLogger(__name__)


class Controller:
    """Start: every informer lists once (so no reconcile decides on half the store), then the
    store is primed, every known key is queued once in the background lane, and workers start.
    Stop: informers and workers are cancelled and awaited."""

    def __init__(self, store: Store, queue: WorkQueue, informers: list[Informer]) -> None:
        self.store = store
        self.queue = queue
        self.informers = informers
        self.tasks: list[asyncio.Task[None]] = []

    async def sync(self) -> None:
        """Start every informer; return once each has listed its kind once."""
        self.tasks = [asyncio.create_task(i.run(), name=repr(i)) for i in self.informers]
        await asyncio.gather(*(informer.synced.wait() for informer in self.informers))

    def run(self, resync: Iterable[Hashable]) -> None:
        """Events queue keys from now on; `resync` is handled once, after anything that changes."""
        self.store.primed = True
        for key in resync:
            self.queue.add(key, background=True)
        self.queue.start()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.queue.stop()
