"""Utilization from PodMetrics, as a percentage of one node of the service's power."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from berth.api.power import DEFAULT_POWERS
from berth.cli.usage import STATISTICS, data_point, metric_data, pod_percent

NANO = DEFAULT_POWERS["nano"]  # 0.25 vCPU, 0.5 GiB
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def pod_metrics(*usages: tuple[str, str], at: datetime = NOW) -> dict[str, Any]:
    return {
        "metadata": {"name": "web-abc"},
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "window": "30s",
        "containers": [
            {"name": f"c{i}", "usage": {"cpu": cpu, "memory": memory}}
            for i, (cpu, memory) in enumerate(usages)
        ],
    }


@pytest.mark.parametrize(
    ("cpu", "percent"), [("125m", 50.0), ("250000000n", 100.0), ("0", 0.0), ("12345n", 0.0)]
)
def test_cpu_is_a_percentage_of_the_powers_vcpus(cpu: str, percent: float) -> None:
    assert pod_percent(pod_metrics((cpu, "0")), "CPUUtilization", NANO) == percent


@pytest.mark.parametrize(("memory", "percent"), [("128Mi", 25.0), ("524288Ki", 100.0)])
def test_memory_is_a_percentage_of_the_powers_memory(memory: str, percent: float) -> None:
    assert pod_percent(pod_metrics(("0", memory)), "MemoryUtilization", NANO) == percent


def test_all_containers_of_a_pod_add_up() -> None:
    both = pod_metrics(("50m", "64Mi"), ("75m", "64Mi"))
    assert pod_percent(both, "CPUUtilization", NANO) == 50.0
    assert pod_percent(both, "MemoryUtilization", NANO) == 25.0


def test_a_data_point_has_the_asked_statistics_in_lightsails_keys() -> None:
    point = data_point([10.0, 30.0, 20.0], NOW, STATISTICS)
    expected = {
        "average": 20.0,
        "maximum": 30.0,
        "minimum": 10.0,
        "sampleCount": 3.0,
        "sum": 60.0,
        "timestamp": "2025-01-02T03:04:05+00:00",
        "unit": "Percent",
    }
    assert point == expected
    assert list(point) == list(expected)
    assert data_point([10.0], NOW, ["Average"]) == {
        "average": 10.0,
        "timestamp": "2025-01-02T03:04:05+00:00",
        "unit": "Percent",
    }


def test_metric_data_is_one_point_across_the_pods_at_the_latest_sample() -> None:
    pods = [
        pod_metrics(("25m", "0")),
        pod_metrics(("75m", "0"), at=NOW - timedelta(seconds=10)),
    ]
    points = metric_data(
        pods, "CPUUtilization", NANO, ["Average", "Maximum"], NOW - timedelta(hours=1), NOW
    )
    assert points == [
        {"average": 20.0, "maximum": 30.0, "timestamp": NOW.isoformat(), "unit": "Percent"}
    ]


def test_no_pods_or_a_sample_outside_the_window_give_no_points() -> None:
    hour = timedelta(hours=1)
    assert metric_data([], "CPUUtilization", NANO, ["Average"], NOW - hour, NOW) == []
    late = [pod_metrics(("25m", "0"), at=NOW + hour)]
    assert metric_data(late, "CPUUtilization", NANO, ["Average"], NOW - hour, NOW) == []
