"""Prometheus metrics of the operator, served on /metrics."""

from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from berth.api.service import ServiceState

RECONCILES = Counter("berth_reconcile_total", "Reconciles by kind and result.", ["kind", "result"])
RECONCILE_SECONDS = Histogram(
    "berth_reconcile_duration_seconds",
    "Duration of reconciles by kind.",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
API_WRITES = Counter(
    "berth_api_writes_total", "Writes sent to the API server by kind and verb.", ["kind", "verb"]
)
ACTIVATIONS = Counter("berth_version_activations_total", "Versions that became ACTIVE.")
FAILURES = Counter("berth_version_failures_total", "Versions that FAILED.")


class ServiceStates(Collector):
    """berth_services{state}, counted from the operator's store when Prometheus scrapes.

    Every state is always reported, at 0 when no service is in it, so a graph drops to zero.
    A service without a state yet is being created: PENDING, as its status will soon say.
    """

    def __init__(self, services: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        self.services = services

    def collect(self) -> Iterator[GaugeMetricFamily]:
        tally = Tally(
            ((body.get("status") or {}).get("state") or "PENDING") for body in self.services()
        )
        family = GaugeMetricFamily(
            "berth_services", "ContainerServices by state.", labels=["state"]
        )
        for state in ServiceState:
            family.add_metric([state.value], tally.get(state.value, 0))
        yield family


def count_services(services: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
    """Report berth_services from `services` (called at each scrape) from now on."""
    REGISTRY.register(ServiceStates(services))


def serve(host: str, port: int) -> None:
    if port:
        start_http_server(port, addr=host)
