"""runtime/queue.py: one reconcile per key at a time, bursts coalesced, failures retried."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Any

from berth.runtime import queue as queue_module
from berth.runtime.queue import WorkQueue

# Backoff delays are recorded as the queue asks for them, and waited for this much shorter.
SCALE = 0.001


class FastQueue(WorkQueue):
    """A WorkQueue that records every delayed add and waits SCALE times as long."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delays: list[float] = []

    def add(self, key: Hashable, delay: float = 0.0, background: bool = False) -> None:
        if delay > 0:
            self.delays.append(delay)
        super().add(key, delay * SCALE, background)


async def settle(wq: WorkQueue, timeout: float = 2.0) -> None:
    """Wait until nothing is queued, running or waiting for a timer."""

    async def idle() -> None:
        while not (wq.idle() and not wq.timers):
            await asyncio.sleep(0.001)

    await asyncio.wait_for(idle(), timeout)


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.001)

    await asyncio.wait_for(poll(), timeout)


def test_keys_added_before_a_worker_is_free_are_coalesced() -> None:
    calls: list[Hashable] = []

    async def handle(key: Hashable) -> None:
        calls.append(key)

    async def scenario() -> None:
        wq = FastQueue(handle, workers=1)
        for key in ["a", "b", "a", "a", ("ns", "web"), ("ns", "web")]:
            wq.add(key)
        wq.start()
        await settle(wq)
        await wq.stop()

    asyncio.run(scenario())
    assert calls == ["a", "b", ("ns", "web")]


def test_one_key_never_runs_twice_at_once_and_runs_again_after_an_add_while_running() -> None:
    log: list[str] = []
    running = 0
    most = 0
    release = asyncio.Event()

    async def handle(key: Hashable) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        log.append("start")
        if len(log) == 1:
            await release.wait()
        running -= 1
        log.append("end")

    async def scenario() -> None:
        wq = FastQueue(handle, workers=4)
        wq.start()
        wq.add("a")
        await until(lambda: log == ["start"])
        for _ in range(3):  # a burst while the key runs: one more run, afterwards
            wq.add("a")
        await asyncio.sleep(0.01)
        assert log == ["start"]  # four workers, yet the key waits for itself
        release.set()
        await settle(wq)
        await wq.stop()

    asyncio.run(scenario())
    assert most == 1
    assert log == ["start", "end", "start", "end"]


def test_different_keys_run_at_the_same_time() -> None:
    running: set[Hashable] = set()
    together: list[set[Hashable]] = []
    both = asyncio.Event()

    async def handle(key: Hashable) -> None:
        running.add(key)
        together.append(set(running))
        if len(running) == 2:
            both.set()
        await both.wait()
        running.discard(key)

    async def scenario() -> None:
        wq = FastQueue(handle, workers=2)
        wq.start()
        wq.add("a")
        wq.add("b")
        await asyncio.wait_for(both.wait(), 1.0)
        await settle(wq)
        await wq.stop()

    asyncio.run(scenario())
    assert {"a", "b"} in together


def test_a_failing_handler_is_retried_with_exponential_backoff_until_it_succeeds() -> None:
    attempts: list[Hashable] = []

    async def handle(key: Hashable) -> None:
        attempts.append(key)
        if len(attempts) <= 3:
            raise RuntimeError("API hiccup")

    async def scenario() -> FastQueue:
        wq = FastQueue(handle, workers=1)
        wq.start()
        wq.add("a")
        await until(lambda: len(attempts) == 4)
        await settle(wq)
        await wq.stop()
        return wq

    wq = asyncio.run(scenario())
    assert attempts == ["a"] * 4
    assert wq.delays == [1.0, 2.0, 4.0]
    assert wq.failures == {}  # a success forgets the failures


def test_backoff_is_capped() -> None:
    attempts = 0

    async def handle(key: Hashable) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("still down")

    async def scenario() -> FastQueue:
        wq = FastQueue(handle, workers=1)
        wq.failures["a"] = 20  # it has been failing for a long time
        wq.start()
        wq.add("a")
        await until(lambda: attempts == 2)
        await settle(wq)
        await wq.stop()
        return wq

    wq = asyncio.run(scenario())
    assert wq.delays == [queue_module.MAX_BACKOFF_SECONDS]


def test_failures_of_one_key_do_not_delay_another() -> None:
    calls: list[Hashable] = []

    async def handle(key: Hashable) -> None:
        calls.append(key)
        if key == "bad":
            raise RuntimeError("broken")

    async def scenario() -> FastQueue:
        wq = FastQueue(handle, workers=1)
        wq.start()
        wq.add("bad")
        wq.add("good")
        await until(lambda: "good" in calls)
        failures = dict(wq.failures)
        await wq.stop()
        assert failures == {"bad": 1}
        return wq

    asyncio.run(scenario())
    assert calls[:2] == ["bad", "good"]


def test_a_key_added_during_a_failing_run_runs_again_at_once() -> None:
    attempts = 0
    release = asyncio.Event()

    async def handle(key: Hashable) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            await release.wait()
            raise RuntimeError("failed, but newer news arrived meanwhile")

    async def scenario() -> FastQueue:
        wq = FastQueue(handle, workers=1)
        wq.start()
        wq.add("a")
        await until(lambda: attempts == 1)
        wq.add("a")
        release.set()
        await until(lambda: attempts == 2)
        await settle(wq)
        await wq.stop()
        return wq

    wq = asyncio.run(scenario())
    assert attempts == 2
    assert wq.delays == []  # the new event ran it right away, no backoff wait


def test_a_handler_asks_to_run_again_later_by_returning_a_delay() -> None:
    answers: list[float | None] = [30.0, None]
    calls = 0

    async def handle(key: Hashable) -> float | None:
        nonlocal calls
        calls += 1
        return answers[calls - 1]

    async def scenario() -> FastQueue:
        wq = FastQueue(handle, workers=1)
        wq.start()
        wq.add("a")
        await until(lambda: calls == 2)
        await settle(wq)
        await wq.stop()
        return wq

    wq = asyncio.run(scenario())
    assert calls == 2
    assert wq.delays == [30.0]


def test_delayed_adds_of_one_key_share_one_timer() -> None:
    calls = 0

    async def handle(key: Hashable) -> None:
        nonlocal calls
        calls += 1

    async def scenario() -> None:
        wq = FastQueue(handle, workers=1)
        wq.start()
        wq.add("a", 5.0)
        wq.add("a", 5.0)
        assert len(wq.timers) == 1
        await until(lambda: calls == 1)
        await settle(wq)
        await asyncio.sleep(0.02)
        await wq.stop()

    asyncio.run(scenario())
    assert calls == 1


def test_idle_is_false_while_a_key_waits_or_runs() -> None:
    release = asyncio.Event()

    async def handle(key: Hashable) -> None:
        await release.wait()

    async def scenario() -> None:
        wq = FastQueue(handle, workers=1)
        assert wq.idle()
        wq.add("a")
        assert not wq.idle()
        wq.start()
        await until(lambda: "a" in wq.running)
        assert not wq.idle()
        release.set()
        await settle(wq)
        assert wq.idle()
        await wq.stop()

    asyncio.run(scenario())


def test_stop_cancels_workers_and_pending_retries() -> None:
    calls = 0

    async def handle(key: Hashable) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("fails")

    async def scenario() -> None:
        wq = WorkQueue(handle, workers=2)  # real delays: the first retry would come after 1 s
        wq.start()
        wq.add("a")
        await until(lambda: "a" in wq.timers)
        retry = wq.timers["a"]
        await wq.stop()
        assert retry.cancelled()
        assert all(task.done() for task in wq.tasks)

    asyncio.run(scenario())
    assert calls == 1


def handled_in_order(
    adds: list[tuple[str, bool]], is_new: Callable[[Hashable], bool] = lambda _: False
) -> list[str]:
    """The order in which one worker handles keys added (key, background) before it starts."""
    ran: list[str] = []

    async def handle(key: Hashable) -> float | None:
        ran.append(str(key))
        return None

    async def scenario() -> None:
        wq = FastQueue(handle, workers=1, is_new=is_new)
        for key, background in adds:
            wq.add(key, background=background)
        wq.start()
        await settle(wq)
        await wq.stop()

    asyncio.run(scenario())
    return ran


def test_a_changed_key_runs_before_the_background_resync_and_jumps_it_when_added_again() -> None:
    resync = [("r1", True), ("r2", True), ("r3", True)]
    # r3 changed while waiting for the resync.
    ran = handled_in_order([*resync, ("new", False), ("r3", False)])

    assert ran == ["new", "r3", "r1", "r2"]


def test_new_keys_and_keys_under_way_take_turns_and_the_resync_waits_for_both() -> None:
    # A burst of new services (n*) must not hold back those already under way (u*), whose
    # Deployments became available meanwhile, nor be held back by them.
    changed = [(key, False) for key in ("n1", "n2", "n3", "n4", "u1", "u2")]

    ran = handled_in_order([("r1", True), *changed], is_new=lambda key: str(key).startswith("n"))

    assert ran == ["n1", "u1", "n2", "u2", "n3", "n4", "r1"]


def test_a_key_is_sorted_into_its_lane_when_added_and_when_it_jumps_the_resync() -> None:
    adds = [("r1", True), ("r2", True), ("n1", False), ("u1", False), ("u2", False)]
    # r2 changed while waiting for the resync: into the fresh lane.
    ran = handled_in_order([*adds, ("r2", False)], is_new=lambda key: key in {"n1", "r2"})

    assert ran == ["n1", "u1", "r2", "u2", "r1"]
