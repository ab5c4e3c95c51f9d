"""On the real node: metric data of running pods, measured by metrics-server from the kubelet,
through the berth CLI and the Lightsail endpoint (no Prometheus named: the current value)."""

from __future__ import annotations

import datetime as dt
import math
import pathlib
import uuid
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
from tests.e2e.live import metrics_support
from tests.e2e.live.metrics_support import ALL_STATISTICS, cli, cli_data, lightsail
from tests.e2e.live.traffic import Live
from tests.e2e.support import wait_for

from devcluster.metrics_server import API_SERVICE

pytestmark = pytest.mark.e2e

NAME = "measured"
PODS = 2


@pytest.fixture(scope="module")
def measured(live: Live) -> Iterator[str]:
    """A namespace whose service NAME runs PODS pods that metrics-server has measured."""
    namespace = f"live-{uuid.uuid4().hex[:8]}"
    live.cluster.kubectl("create", "namespace", namespace)
    live.apply(namespace, metrics_support.service(NAME, scale=PODS))
    live.wait_running(namespace, NAME)
    # metrics-server scrapes every 15 s and needs two scrapes for a CPU rate.
    wait_for(
        lambda: counted(live, namespace, "CPUUtilization") == PODS,
        90,
        f"CPU samples of the {PODS} pods from metrics-server",
    )
    yield namespace
    live.cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def counted(live: Live, namespace: str, metric: str) -> float:
    args = ("--service-name", NAME, "--metric-name", metric, "--statistics", "SampleCount")
    points = cli_data(live, namespace, *args)["metricData"]
    return float(points[0]["sampleCount"]) if points else 0.0


def consistent(point: dict[str, Any]) -> None:
    """Statistics of the same PODS samples, which a nano power's share holds."""
    assert point["unit"] == "Percent"
    assert point["sampleCount"] == PODS
    assert 0 <= point["minimum"] <= point["average"] <= point["maximum"] < 100
    assert math.isclose(point["sum"], point["average"] * PODS, abs_tol=0.02)


def test_metrics_k8s_io_is_served_by_metrics_server_not_by_a_stand_in(live: Live) -> None:
    registration = kubernetes.client.ApiregistrationV1Api(live.api).read_api_service(API_SERVICE)
    assert registration.spec.service.name == "metrics-server"  # aggregated, not Local (a CRD)
    available = [c for c in registration.status.conditions if c.type == "Available"]
    assert [c.status for c in available] == ["True"], available


def test_the_cli_gives_the_latest_sample_of_each_pod_in_percent_of_the_power(
    live: Live, measured: str
) -> None:
    everything = ("--statistics", *ALL_STATISTICS)
    cpu, said = cli(
        live, measured, "--service-name", NAME, "--metric-name", "CPUUtilization", *everything
    )
    memory = cli_data(
        live, measured, "--service-name", NAME, "--metric-name", "MemoryUtilization", *everything
    )

    assert cpu["metricName"] == "CPUUtilization"
    (cpu_point,) = cpu["metricData"]
    consistent(cpu_point)
    assert "at most one data point" in said  # metrics-server keeps no history
    (memory_point,) = memory["metricData"]
    consistent(memory_point)
    # A busybox shell and nc use a few hundred KiB to a few MiB of the nano power's 512 MiB.
    assert memory_point["minimum"] > 0 and memory_point["maximum"] < 10
    print(f"metrics-server: memory {memory_point}, cpu {cpu_point}")


def test_the_lightsail_endpoint_answers_the_same_in_botocores_shape(
    live: Live, measured: str, tmp_path: pathlib.Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    with lightsail(live, measured, tmp_path / "endpoint.log") as (client, proxy):
        answers = {
            metric: client.get_container_service_metric_data(
                serviceName=NAME,
                metricName=metric,
                startTime=now - dt.timedelta(hours=1),
                endTime=now + dt.timedelta(minutes=1),
                period=300,
                statistics=ALL_STATISTICS,
            )
            for metric in ("CPUUtilization", "MemoryUtilization")
        }
        problems = metrics_support.shape_problems(proxy)

    assert problems == []
    for metric, answer in answers.items():
        assert answer["metricName"] == metric
        (point,) = answer["metricData"]
        assert isinstance(point["timestamp"], dt.datetime)
        consistent(point)
    assert answers["MemoryUtilization"]["metricData"][0]["minimum"] > 0
