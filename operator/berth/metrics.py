"""Prometheus metrics of the operator, served on /metrics."""

from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, start_http_server

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
SERVICES = Gauge("berth_services", "ContainerServices by state.", ["state"])
ACTIVATIONS = Counter("berth_version_activations_total", "Versions that became ACTIVE.")
FAILURES = Counter("berth_version_failures_total", "Versions that FAILED.")
_states_seen: set[str] = set()


def count_services(services: Iterable[Mapping[str, Any]]) -> None:
    """Set berth_services{state} from every service the operator knows (one status read each).

    A state no service is in any more goes to 0 rather than vanishing, so a graph drops to zero.
    A service without a state yet is being created: PENDING, as its status will soon say.
    """
    tally = Tally(((body.get("status") or {}).get("state") or "PENDING") for body in services)
    _states_seen.update(tally)
    for state in _states_seen:
        SERVICES.labels(state=state).set(tally.get(state, 0))


def serve(host: str, port: int) -> None:
    if port:
        start_http_server(port, addr=host)
