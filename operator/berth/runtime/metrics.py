"""The runtime's metrics, under the names client-go and controller-runtime give them, so that
existing dashboards and alerts read Berth as they read any controller."""

import time
import weakref
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# client-go's workqueue buckets: 10 ns to 10 s, by tens.
QUEUE_BUCKETS = tuple(10.0**exponent for exponent in range(-8, 2))

DEPTH = Gauge("workqueue_depth", "Current depth of the work queue.", ["name"])
ADDS = Counter("workqueue_adds", "Keys added to the work queue.", ["name"])
RETRIES = Counter("workqueue_retries", "Keys put back after a failure or a requeue.", ["name"])
QUEUE_SECONDS = Histogram(
    "workqueue_queue_duration_seconds",
    "How long a key waits in the queue before a worker takes it.",
    ["name"],
    buckets=QUEUE_BUCKETS,
)
WORK_SECONDS = Histogram(
    "workqueue_work_duration_seconds",
    "How long handling one key takes.",
    ["name"],
    buckets=QUEUE_BUCKETS,
)
ACTIVE_WORKERS = Gauge(
    "controller_runtime_active_workers", "Workers handling a key now.", ["controller"]
)
MAX_WORKERS = Gauge(
    "controller_runtime_max_concurrent_reconciles", "Workers of the controller.", ["controller"]
)
RECONCILES = Counter(
    "controller_runtime_reconcile",
    "Reconciles by result: success, error, or requeue (success, to be looked at again later).",
    ["controller", "result"],
)
RECONCILE_ERRORS = Counter(
    "controller_runtime_reconcile_errors", "Reconciles that failed.", ["controller"]
)
RECONCILE_SECONDS = Histogram(
    "controller_runtime_reconcile_time_seconds",
    "How long one reconcile takes.",
    ["controller"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
LISTS = Counter(
    "berth_informer_lists", "Full lists by an informer (start and relists).", ["resource"]
)
WATCH_RESTARTS = Counter(
    "berth_informer_watch_restarts", "Watches that ended and were started again.", ["resource"]
)


class Unfinished(Protocol):
    """A queue whose work in progress can be read: its name, and when each key started."""

    name: str

    def started_at(self) -> list[float]: ...


# The queues that run now: read at each scrape, forgotten with the queue.
_RUNNING: "weakref.WeakSet[Unfinished]" = weakref.WeakSet()


class UnfinishedWork(Collector):
    """workqueue_unfinished_work_seconds and workqueue_longest_running_processor_seconds,
    read from the keys being handled when Prometheus scrapes (a stuck worker shows here)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = time.monotonic()
        unfinished = GaugeMetricFamily(
            "workqueue_unfinished_work_seconds",
            "Seconds of work in progress that no metric has counted yet.",
            labels=["name"],
        )
        longest = GaugeMetricFamily(
            "workqueue_longest_running_processor_seconds",
            "Seconds the longest-running worker has been at its key.",
            labels=["name"],
        )
        for queue in list(_RUNNING):
            running = [now - start for start in queue.started_at()]
            unfinished.add_metric([queue.name], sum(running))
            longest.add_metric([queue.name], max(running, default=0.0))
        yield unfinished
        yield longest


REGISTRY.register(UnfinishedWork())


def report_unfinished(queue: Unfinished) -> None:
    _RUNNING.add(queue)


def zeroed(name: str) -> None:
    """Every series of queue `name` at zero, so that dashboards and rates see them from the start
    rather than from their first increment."""
    for family in (DEPTH, ADDS, RETRIES, QUEUE_SECONDS, WORK_SECONDS):
        family.labels(name)
    for family in (ACTIVE_WORKERS, RECONCILE_ERRORS, RECONCILE_SECONDS):
        family.labels(name)
    for result in ("success", "error", "requeue"):
        RECONCILES.labels(name, result)
