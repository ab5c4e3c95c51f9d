"""On the real node: metric data of a running pod, measured by metrics-server from the kubelet."""

from __future__ import annotations

import json
from typing import Any

import kubernetes
import pytest
from tests.e2e.live.manifests import hello_service
from tests.e2e.live.traffic import Live
from tests.e2e.support import wait_for

from devcluster.metrics_server import API_SERVICE

pytestmark = pytest.mark.e2e


def metric_data(live: Live, namespace: str, name: str, metric: str) -> dict[str, Any] | None:
    result = live.cli(
        namespace,
        "get-container-service-metric-data",
        "--service-name",
        name,
        "--metric-name",
        metric,
        "--statistics",
        "Average",
        "Maximum",
        "SampleCount",
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data if data["metricData"] else None


def test_metrics_k8s_io_is_served_by_metrics_server_not_by_a_stand_in(live: Live) -> None:
    registration = kubernetes.client.ApiregistrationV1Api(live.api).read_api_service(API_SERVICE)
    assert registration.spec.service.name == "metrics-server"  # aggregated, not Local (a CRD)
    available = [c for c in registration.status.conditions if c.type == "Available"]
    assert [c.status for c in available] == ["True"], available


def test_a_running_pods_cpu_and_memory_come_from_metrics_server(
    live: Live, live_namespace: str
) -> None:
    live.apply(live_namespace, hello_service("measured"))
    live.wait_running(live_namespace, "measured")

    # metrics-server scrapes every 15 s and needs two scrapes for a CPU rate.
    memory = wait_for(
        lambda: metric_data(live, live_namespace, "measured", "MemoryUtilization"),
        90,
        "a memory sample of the pod from metrics-server",
    )
    cpu = wait_for(
        lambda: metric_data(live, live_namespace, "measured", "CPUUtilization"),
        90,
        "a CPU sample of the pod from metrics-server",
    )

    (point,) = memory["metricData"]
    assert point["sampleCount"] == 1.0
    assert point["unit"] == "Percent"
    # A busybox shell and nc use a few hundred KiB to a few MiB of the nano power's 512 MiB.
    assert 0 < point["average"] < 10
    (cpu_point,) = cpu["metricData"]
    assert 0 <= cpu_point["maximum"] < 100
    print(f"metrics-server: memory {point}, cpu {cpu_point}")
