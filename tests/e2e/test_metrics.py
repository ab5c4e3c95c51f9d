"""End to end: the operator's /metrics, scraped as Prometheus would, move with what it does."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from tests.e2e.support import Berth, apply, service_manifest, wait_for, web_content

from berth.api.service import ServiceState
from devcluster import KubeCluster
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e
Sample = tuple[str, tuple[tuple[str, str], ...]]
SERVICE_STATES = [state.value for state in ServiceState]


def families(operator: OperatorProcess) -> dict[str, Metric]:
    return {f.name: f for f in text_string_to_metric_families(operator.metrics())}


def samples(operator: OperatorProcess) -> dict[Sample, float]:
    """(sample name, sorted labels) → value, for every berth_* sample."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families(operator).values()
        if family.name.startswith("berth_")
        for s in family.samples
    }


def value(found: dict[Sample, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def label_names(family: Metric, sample_name: str) -> set[frozenset[str]]:
    return {frozenset(s.labels) for s in family.samples if s.name == sample_name}


@pytest.fixture
def running_service(cluster: KubeCluster, berth: Berth, operator: OperatorProcess) -> Iterator[str]:
    """A fresh service driven to RUNNING, so every berth_* metric has samples to look at."""
    name = "m-" + berth.namespace.rsplit("-", 1)[-1]
    apply(cluster, berth.namespace, service_manifest(name, deployment=web_content()))
    berth.wait_state(name, "RUNNING")
    yield name


def test_metrics_have_the_documented_names_types_and_labels(
    operator: OperatorProcess, running_service: str
) -> None:
    found = families(operator)

    expected = {
        "berth_reconcile": ("counter", {"berth_reconcile_total": {"kind", "result"}}),
        "berth_reconcile_duration_seconds": (
            "histogram",
            {
                "berth_reconcile_duration_seconds_bucket": {"kind", "result", "le"},
                "berth_reconcile_duration_seconds_sum": {"kind", "result"},
                "berth_reconcile_duration_seconds_count": {"kind", "result"},
            },
        ),
        "berth_api_writes": ("counter", {"berth_api_writes_total": {"kind", "verb"}}),
        "berth_services": ("gauge", {"berth_services": {"state"}}),
        "berth_version_activations": ("counter", {"berth_version_activations_total": set()}),
        "berth_version_failures": ("counter", {"berth_version_failures_total": set()}),
    }
    for family_name, (kind, sample_labels) in expected.items():
        assert family_name in found, f"{family_name} missing from /metrics"
        family = found[family_name]
        assert family.type == kind, family_name
        assert family.documentation, f"{family_name} has no HELP text"
        for sample_name, labels in sample_labels.items():
            assert label_names(family, sample_name) == {frozenset(labels)}, sample_name


def test_counters_move_when_a_service_is_created_and_its_version_activates(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess
) -> None:
    before = samples(operator)
    name = "c-" + berth.namespace.rsplit("-", 1)[-1]

    apply(cluster, berth.namespace, service_manifest(name, deployment=web_content()))
    berth.wait_state(name, "RUNNING")

    def lagging() -> list[str]:
        """What has not moved (yet): a reconcile counts itself only when it is done."""
        after = samples(operator)
        expected = [
            ("berth_reconcile_total", {"kind": "ContainerService", "result": "ok"}, 2),
            (
                "berth_reconcile_duration_seconds_count",
                {"kind": "ContainerService", "result": "ok"},
                2,
            ),
            ("berth_api_writes_total", {"kind": "ContainerServiceDeployment", "verb": "create"}, 1),
            ("berth_api_writes_total", {"kind": "Deployment", "verb": "apply"}, 1),
            ("berth_api_writes_total", {"kind": "ContainerService", "verb": "patch-status"}, 1),
            ("berth_api_writes_total", {"kind": "Event", "verb": "create"}, 1),
            ("berth_version_activations_total", {}, 1),
        ]
        late = [
            f"{sample}{labels} grew by {value(after, sample, **labels) - value(before, sample, **labels)}"
            for sample, labels, least in expected
            if value(after, sample, **labels) - value(before, sample, **labels) < least
        ]
        if value(after, "berth_services", state="RUNNING") < 1:
            late.append("berth_services{state=RUNNING} < 1")
        return late

    deadline = time.monotonic() + 10
    while (late := lagging()) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert late == []


def test_a_failed_version_is_counted(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess
) -> None:
    name = "f-" + berth.namespace.rsplit("-", 1)[-1]
    apply(cluster, berth.namespace, service_manifest(name, deployment=web_content()))
    berth.wait_state(name, "RUNNING")
    before = value(samples(operator), "berth_version_failures_total")

    crashing = web_content(image="example.invalid/crashloop:1")
    apply(cluster, berth.namespace, service_manifest(name, deployment=crashing))

    wait_for(
        lambda: value(samples(operator), "berth_version_failures_total") > before,
        what="berth_version_failures_total to grow",
    )
    assert berth.version_states(name) == {1: "ACTIVE", 2: "FAILED"}


def states_in_the_cluster(berth: Berth) -> dict[str, float]:
    """What berth_services must say: every service in the cluster by its status' state."""
    items = berth.custom.list_cluster_custom_object("berth.dev", "v1alpha1", "containerservices")
    tally = Counter(((i.get("status") or {}).get("state") or "PENDING") for i in items["items"])
    return {state: float(tally.get(state, 0)) for state in SERVICE_STATES}


def gauge(operator: OperatorProcess) -> dict[str, float]:
    found = samples(operator)
    return {state: value(found, "berth_services", state=state) for state in SERVICE_STATES}


def gauge_matches_the_cluster(berth: Berth, operator: OperatorProcess, what: str) -> None:
    """Other tests' services count too, and may be moving: wait for one scrape that agrees."""
    seen: list[tuple[dict[str, float], dict[str, float]]] = []

    def agree() -> bool:
        seen[:] = [(gauge(operator), states_in_the_cluster(berth))]
        return seen[0][0] == seen[0][1]

    try:
        wait_for(agree, what=f"berth_services to match the cluster's services ({what})")
    except AssertionError as error:
        raise AssertionError(f"{error}; gauge {seen[0][0]} != cluster {seen[0][1]}") from None


def test_services_gauge_counts_services_by_state(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess
) -> None:
    name = "g-" + berth.namespace.rsplit("-", 1)[-1]
    apply(cluster, berth.namespace, service_manifest(name, deployment=web_content()))
    berth.wait_state(name, "RUNNING")
    gauge_matches_the_cluster(berth, operator, "one more RUNNING")

    apply(
        cluster,
        berth.namespace,
        service_manifest(name, deployment=web_content(), isDisabled=True),
    )
    berth.wait_state(name, "DISABLED")

    gauge_matches_the_cluster(berth, operator, "it moved from RUNNING to DISABLED")


def sample_values(operator: OperatorProcess, name: str, **labels: str) -> list[float]:
    """Every value of sample `name` whose labels include `labels`."""
    return [
        s.value
        for family in families(operator).values()
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    ]


def test_the_runtime_metrics_carry_client_go_and_controller_runtime_names(
    operator: OperatorProcess, running_service: str
) -> None:
    found = families(operator)

    expected = {
        "workqueue_depth": ("gauge", {"workqueue_depth": {"name"}}),
        "workqueue_adds": ("counter", {"workqueue_adds_total": {"name"}}),
        "workqueue_retries": ("counter", {"workqueue_retries_total": {"name"}}),
        "workqueue_unfinished_work_seconds": (
            "gauge",
            {"workqueue_unfinished_work_seconds": {"name"}},
        ),
        "workqueue_longest_running_processor_seconds": (
            "gauge",
            {"workqueue_longest_running_processor_seconds": {"name"}},
        ),
        "controller_runtime_active_workers": (
            "gauge",
            {"controller_runtime_active_workers": {"controller"}},
        ),
        "controller_runtime_reconcile": (
            "counter",
            {"controller_runtime_reconcile_total": {"controller", "result"}},
        ),
        "rest_client_requests": (
            "counter",
            {"rest_client_requests_total": {"method", "resource", "code"}},
        ),
        "berth_informer_lists": ("counter", {"berth_informer_lists_total": {"resource"}}),
        "berth_build_info": ("gauge", {"berth_build_info": {"version", "python"}}),
    }
    for family_name, (kind, sample_labels) in expected.items():
        assert family_name in found, f"{family_name} missing from /metrics"
        assert found[family_name].type == kind, family_name
        for sample_name, labels in sample_labels.items():
            assert frozenset(labels) in label_names(found[family_name], sample_name), sample_name
    applied = sample_values(
        operator, "rest_client_requests_total", method="PATCH", resource="deployments"
    )
    assert sum(applied) >= 1  # the Deployment of running_service, server-side applied


BURST = 60


class DepthSampler:
    """Reads workqueue_depth from /metrics as fast as it can, in the background."""

    def __init__(self, operator: OperatorProcess) -> None:
        self.operator = operator
        self.depths: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.depths.extend(sample_values(self.operator, "workqueue_depth"))

    def __enter__(self) -> DepthSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)


def test_a_burst_of_services_raises_the_queue_depth_which_falls_back_to_zero(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess
) -> None:
    """Services wait for a power that does not exist yet; when it appears, one event queues
    them all at once, more than there are workers."""
    power = "burst-" + berth.namespace.rsplit("-", 1)[-1]
    manifests = [
        service_manifest(f"b{i}", scale=1, power=power, deployment=web_content())
        for i in range(BURST)
    ]
    apply(cluster, berth.namespace, *manifests)

    def states() -> list[str | None]:
        items = berth.custom.list_namespaced_custom_object(
            "berth.dev", "v1alpha1", berth.namespace, "containerservices"
        )["items"]
        return [(i.get("status") or {}).get("state") for i in items]

    wait_for(lambda: states() == ["PENDING"] * BURST, timeout=120, what="all PENDING")
    adds_before = sum(sample_values(operator, "workqueue_adds_total"))
    the_power = {
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "ContainerServicePower",
        "metadata": {"name": power},
        "spec": {"cpuCount": 0.125, "ramSizeInGb": 0.25, "price": 3.5},
    }
    try:
        with DepthSampler(operator) as sampler:
            apply(cluster, berth.namespace, the_power)
            wait_for(lambda: states() == ["RUNNING"] * BURST, timeout=240, what="all RUNNING")
    finally:
        cluster.kubectl("delete", "containerservicepower", power, "--wait=false", check=False)

    assert max(sampler.depths) > 0, "the queue never held a key waiting for a worker"
    wait_for(
        lambda: sample_values(operator, "workqueue_depth") == [0.0],
        timeout=60,
        what="the queue to drain",
    )
    assert sum(sample_values(operator, "workqueue_adds_total")) - adds_before >= BURST
