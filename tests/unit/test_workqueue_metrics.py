"""runtime/queue.py's metrics, under client-go's and controller-runtime's names: depth, adds,
retries, results, and the work in progress a scrape sees."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Hashable

from prometheus_client import REGISTRY
from tests.unit.test_workqueue import FastQueue, settle, until


def sample(metric: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


def test_depth_rises_with_queued_keys_and_falls_to_zero_once_handled() -> None:
    name = f"q-{uuid.uuid4().hex[:6]}"

    async def handle(_: Hashable) -> None:
        return None

    async def scenario() -> float:
        wq = FastQueue(handle, workers=1, name=name)
        for key in ["a", "b", "c", "a"]:
            wq.add(key)
        queued = sample("workqueue_depth", name=name)
        wq.start()
        await settle(wq)
        await wq.stop()
        return queued

    assert asyncio.run(scenario()) == 3
    assert sample("workqueue_depth", name=name) == 0
    assert sample("workqueue_adds_total", name=name) == 3
    assert sample("workqueue_queue_duration_seconds_count", name=name) == 3
    assert sample("workqueue_work_duration_seconds_count", name=name) == 3


def test_results_are_counted_as_success_error_or_requeue_and_retries_with_them() -> None:
    name = f"q-{uuid.uuid4().hex[:6]}"
    outcomes = {"fails": 0}

    async def handle(key: Hashable) -> float | None:
        if key == "fails" and outcomes["fails"] == 0:
            outcomes["fails"] += 1
            raise RuntimeError("the API server is away")
        if key == "later":
            outcomes["later"] = outcomes.get("later", 0) + 1
            return 5.0 if outcomes["later"] == 1 else None
        return None

    async def scenario() -> None:
        wq = FastQueue(handle, workers=2, name=name)
        for key in ["ok", "fails", "later"]:
            wq.add(key)
        wq.start()
        await settle(wq)
        await wq.stop()

    asyncio.run(scenario())

    def reconciles(result: str) -> float:
        return sample("controller_runtime_reconcile_total", controller=name, result=result)

    assert (reconciles("success"), reconciles("error"), reconciles("requeue")) == (3, 1, 1)
    assert sample("controller_runtime_reconcile_errors_total", controller=name) == 1
    assert sample("workqueue_retries_total", name=name) == 2
    assert sample("controller_runtime_max_concurrent_reconciles", controller=name) == 2
    assert sample("controller_runtime_active_workers", controller=name) == 0


def test_a_scrape_sees_the_work_in_progress_of_a_stuck_worker() -> None:
    name = f"q-{uuid.uuid4().hex[:6]}"
    release = asyncio.Event()

    async def handle(_: Hashable) -> None:
        await release.wait()

    async def scenario() -> tuple[float, float]:
        wq = FastQueue(handle, workers=1, name=name)
        wq.add("stuck")
        wq.start()
        await until(lambda: bool(wq.running))
        await asyncio.sleep(0.05)
        seen = (
            sample("workqueue_longest_running_processor_seconds", name=name),
            sample("controller_runtime_active_workers", controller=name),
        )
        release.set()
        await settle(wq)
        await wq.stop()
        return seen

    longest, active = asyncio.run(scenario())

    assert longest >= 0.05
    assert active == 1
