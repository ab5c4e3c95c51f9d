"""A work queue in the manner of client-go's: one reconcile per key at a time, bursts coalesced."""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

from berth.runtime.backoff import backoff

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0


class WorkQueue:
    """Keys wait here until a worker is free; a key added while it is being handled runs again.

    Three lanes:
    - `fresh`: keys `is_new` says were never handled (a service just created);
    - `ongoing`: every other key added for a change (a service whose pods became ready);
    - `background`: the resync of every service at start-up, run only when nothing else waits,
      so a service that changed is not queued behind a thousand that did not.
    While both fresh and ongoing keys wait, workers take from them in turn: a burst of new
    services neither holds back the ones already under way (their Deployment became available
    long ago, but RUNNING would wait for the whole burst) nor is held back by them.
    """

    def __init__(
        self,
        handle: Callable[[Hashable], Awaitable[float | None]],
        workers: int,
        is_new: Callable[[Hashable], bool] = lambda _: False,
    ) -> None:
        self.handle = handle
        self.workers = workers
        self.is_new = is_new
        # One token per queued key; a worker holding one takes a key from the lanes.
        self.tokens: asyncio.Queue[None] = asyncio.Queue()
        self.fresh: deque[Hashable] = deque()
        self.ongoing: deque[Hashable] = deque()
        self.background: deque[Hashable] = deque()
        self.fresh_turn = False
        self.queued: set[Hashable] = set()
        self.running: set[Hashable] = set()
        self.dirty: set[Hashable] = set()
        self.failures: dict[Hashable, int] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.timers: dict[Hashable, asyncio.TimerHandle] = {}

    def add(self, key: Hashable, delay: float = 0.0, background: bool = False) -> None:
        if delay > 0:
            if key in self.timers:
                return
            loop = asyncio.get_running_loop()
            self.timers[key] = loop.call_later(delay, self._fire, key)
            return
        if key in self.running:
            self.dirty.add(key)
        elif key not in self.queued:
            self.queued.add(key)
            (self.background if background else self._lane(key)).append(key)
            self.tokens.put_nowait(None)
        elif not background and key in self.background:
            self.background.remove(key)  # it changed meanwhile: it jumps the resync
            self._lane(key).append(key)

    def _lane(self, key: Hashable) -> deque[Hashable]:
        return self.fresh if self.is_new(key) else self.ongoing

    async def _next(self) -> Hashable:
        await self.tokens.get()
        if self.fresh and self.ongoing:
            self.fresh_turn = not self.fresh_turn
            return (self.fresh if self.fresh_turn else self.ongoing).popleft()
        return (self.fresh or self.ongoing or self.background).popleft()

    def _fire(self, key: Hashable) -> None:
        self.timers.pop(key, None)
        self.add(key)

    def idle(self) -> bool:
        return not (self.queued or self.running or self.dirty)

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]

    async def stop(self) -> None:
        for timer in self.timers.values():
            timer.cancel()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            key = await self._next()
            self.queued.discard(key)
            self.running.add(key)
            retry: float | None = None
            try:
                retry = await self.handle(key)
                self.failures.pop(key, None)
            except asyncio.CancelledError:
                raise
            except Exception:
                count = self.failures[key] = self.failures.get(key, 0) + 1
                retry = backoff(count, MAX_BACKOFF_SECONDS)
                logger.exception(
                    "reconcile of %s failed (attempt %d), retrying in %.1fs", key, count, retry
                )
            finally:
                self.running.discard(key)
            if key in self.dirty:
                self.dirty.discard(key)
                self.add(key)
            elif retry:
                self.add(key, retry)
