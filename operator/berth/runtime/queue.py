"""A work queue in the manner of client-go's: one reconcile per key at a time, bursts coalesced."""

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass

from berth.kube.client import NotLeader
from berth.runtime import metrics
from berth.runtime.backoff import backoff

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handling:
    """The key a worker is handling, and an id that tells this pass from the others."""

    key: Hashable
    id: str


# Set while a worker handles a key: every log line written meanwhile can say which pass it is.
CURRENT: ContextVar[Handling | None] = ContextVar("handling", default=None)

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
        name: str = "containerservice",
    ) -> None:
        self.name = name
        metrics.zeroed(name)
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
        # When each queued key was added, and each running key taken: for the metrics.
        self.added_at: dict[Hashable, float] = {}
        self.taken_at: dict[Hashable, float] = {}

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
            self.added_at[key] = time.monotonic()
            metrics.ADDS.labels(self.name).inc()
            metrics.DEPTH.labels(self.name).set(len(self.queued))
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

    def started_at(self) -> list[float]:
        return list(self.taken_at.values())

    def start(self) -> None:
        metrics.MAX_WORKERS.labels(self.name).set(self.workers)
        metrics.report_unfinished(self)
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
            self._taken(key)
            retry: float | None = None
            result = "success"
            handling = CURRENT.set(Handling(key, uuid.uuid4().hex[:8]))
            try:
                retry = await self.handle(key)
                self.failures.pop(key, None)
                result = "requeue" if retry else "success"
            except asyncio.CancelledError:
                raise
            except NotLeader as refused:
                # Leadership was lost mid-reconcile: the new leader does it again, not us.
                result = "error"
                logger.warning("reconcile of %s stopped: %s", key, refused)
            except Exception:
                count = self.failures[key] = self.failures.get(key, 0) + 1
                retry = backoff(count, MAX_BACKOFF_SECONDS)
                result = "error"
                logger.exception(
                    "reconcile of %s failed (attempt %d), retrying in %.1fs", key, count, retry
                )
            finally:
                CURRENT.reset(handling)
                self._done(key, result)
            if key in self.dirty:
                self.dirty.discard(key)
                self.add(key)
            elif retry:
                metrics.RETRIES.labels(self.name).inc()
                self.add(key, retry)

    def _taken(self, key: Hashable) -> None:
        now = time.monotonic()
        self.queued.discard(key)
        self.running.add(key)
        self.taken_at[key] = now
        metrics.QUEUE_SECONDS.labels(self.name).observe(now - self.added_at.pop(key, now))
        metrics.DEPTH.labels(self.name).set(len(self.queued))
        metrics.ACTIVE_WORKERS.labels(self.name).inc()

    def _done(self, key: Hashable, result: str) -> None:
        self.running.discard(key)
        took = time.monotonic() - self.taken_at.pop(key, time.monotonic())
        metrics.WORK_SECONDS.labels(self.name).observe(took)
        metrics.RECONCILE_SECONDS.labels(self.name).observe(took)
        metrics.RECONCILES.labels(self.name, result).inc()
        if result == "error":
            metrics.RECONCILE_ERRORS.labels(self.name).inc()
        metrics.ACTIVE_WORKERS.labels(self.name).dec()
