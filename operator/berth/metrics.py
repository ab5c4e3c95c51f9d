"""Prometheus metrics of the operator, served on /metrics."""

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


def serve(host: str, port: int) -> None:
    if port:
        start_http_server(port, addr=host)
