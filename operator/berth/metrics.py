"""Prometheus metrics of the operator, served on /metrics."""

import contextlib
import importlib.metadata
import platform
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, Info, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector

from berth.api.service import ServiceState


def _version() -> str:
    try:
        return importlib.metadata.version("berth")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


RECONCILES = Counter("berth_reconcile_total", "Reconciles by kind and result.", ["kind", "result"])
RECONCILE_SECONDS = Histogram(
    "berth_reconcile_duration_seconds",
    "Duration of reconciles by kind and result.",
    ["kind", "result"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class Outcome:
    """The result of one reconcile; `error` until the reconcile says otherwise."""

    def __init__(self) -> None:
        self.result = "error"


@contextlib.contextmanager
def reconcile_outcome(kind: str) -> Iterator[Outcome]:
    """Counts one reconcile and its duration under the result the block set (an exception
    leaves `error`): a slow refusal and a slow success are different alerts."""
    outcome = Outcome()
    started = time.perf_counter()
    try:
        yield outcome
    finally:
        RECONCILES.labels(kind=kind, result=outcome.result).inc()
        RECONCILE_SECONDS.labels(kind=kind, result=outcome.result).observe(
            time.perf_counter() - started
        )


API_WRITES = Counter(
    "berth_api_writes_total", "Writes sent to the API server by kind and verb.", ["kind", "verb"]
)
API_REQUESTS = Counter(
    "rest_client_requests",
    "Requests to the API server by HTTP method, resource and status code.",
    ["method", "resource", "code"],
)
API_REQUEST_SECONDS = Histogram(
    "rest_client_request_duration_seconds",
    "Latency of requests to the API server by verb and resource.",
    ["verb", "resource"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
BUILD_INFO = Info("berth_build", "The running operator's version and Python.")
BUILD_INFO.info({"version": _version(), "python": platform.python_version()})
ACTIVATIONS = Counter("berth_version_activations_total", "Versions that became ACTIVE.")
FAILURES = Counter("berth_version_failures_total", "Versions that FAILED.")
DOMAIN_LOOKUPS = Counter(
    "berth_domain_verification_lookups_total",
    "DNS lookups of domain verification records, by result (found, absent, error).",
    ["result"],
)
# No identity label: Prometheus tells replicas apart by their target, and an identity (random per
# process) would start a new series at every restart. sum() over the job is the number of leaders.
HEALTH_CHECKS = Counter(
    "berth_health_checks_total",
    "Lightsail health checks of pods the operator made, by result (pass, fail).",
    ["result"],
)
HEALTH_CHECK_SECONDS = Histogram(
    "berth_health_check_duration_seconds",
    "Time from sending a health check to its answer (or its failure).",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
HEALTH_CHECKED_PODS = Gauge("berth_health_checked_pods", "Pods the operator health-checks now.")
LEADER = Gauge("berth_leader", "1 while this process holds the leader's Lease and works, else 0.")


class ServiceStates(Collector):
    """berth_services{state}, counted from the operator's store when Prometheus scrapes.

    Every state is always reported, at 0 when no service is in it, so a graph drops to zero.
    A service without a state yet is being created: PENDING, as its status will soon say.
    Only the leader reports them: a standby's store holds the same services, and sums over
    the replicas (dashboards, alerts) would count each service once per replica.
    """

    def __init__(self, services: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        self.services = services

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if not leading():
            return
        tally = Tally(
            ((body.get("status") or {}).get("state") or "PENDING") for body in self.services()
        )
        family = GaugeMetricFamily(
            "berth_services", "ContainerServices by state.", labels=["state"]
        )
        for state in ServiceState:
            family.add_metric([state.value], tally.get(state.value, 0))
        yield family
        stalled = GaugeMetricFamily(
            "berth_services_stalled",
            "ContainerServices that cannot progress without a change (Stalled=True), by reason.",
            labels=["reason"],
        )
        for reason, count in sorted(Tally(_stalled_reasons(self.services())).items()):
            stalled.add_metric([reason], count)
        yield stalled


def _stalled_reasons(services: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for body in services:
        for condition in (body.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "Stalled" and condition.get("status") == "True":
                yield str(condition.get("reason") or "Unknown")


def leading() -> bool:
    return bool(LEADER._value.get() == 1)


def count_services(services: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
    """Report berth_services from `services` (called at each scrape) from now on."""
    REGISTRY.register(ServiceStates(services))


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes and probes are not news."""


def serve(host: str, port: int, ready: Callable[[], bool]) -> None:
    """/metrics, and /readyz: 200 once `ready()` (the store is primed), 503 before."""
    if not port:
        return
    metrics_app = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/readyz":
            answer: Iterable[bytes] = metrics_app(environ, start_response)
            return answer
        ok = ready()
        start_response(
            "200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")]
        )
        return [b"ok\n" if ok else b"informers not synced\n"]

    server = make_server(host, port, app, ThreadingWSGIServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()


def observe_request(method: str, resource: str, code: int, seconds: float) -> None:
    API_REQUESTS.labels(method, resource or "other", str(code)).inc()
    API_REQUEST_SECONDS.labels(method, resource or "other").observe(seconds)
