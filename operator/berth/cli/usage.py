"""CPU and memory utilization from metrics.k8s.io PodMetrics, as Lightsail's metric data points.

Lightsail reports utilization per node as a percentage of the power; a Berth node is a pod, so
each pod's usage is divided by the power's CPU or memory and the statistics run across pods.
metrics.k8s.io holds only the latest sample, so there is one data point, not a time series.
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from berth.api.power import PowerSpec
from berth.cli.quantity import parse_quantity

METRICS = {"CPUUtilization": "cpu", "MemoryUtilization": "memory"}
STATISTICS = ("Minimum", "Maximum", "Sum", "Average", "SampleCount")
# A MetricDatapoint's keys in the order of Lightsail's API reference.
_POINT_ORDER = ("Average", "Maximum", "Minimum", "SampleCount", "Sum")
_GIB = Decimal(1024**3)


def pod_percent(pod_metrics: dict[str, Any], metric: str, power: PowerSpec) -> float:
    """One pod's usage of `cpu` or `memory` as a percentage of one node of the power."""
    resource = METRICS[metric]
    used = sum(
        (
            Decimal(parse_quantity(c.get("usage", {}).get(resource, "0")))
            for c in _containers(pod_metrics)
        ),
        Decimal(0),
    )
    capacity = (
        Decimal(str(power.cpu_count))
        if resource == "cpu"
        else Decimal(str(power.ram_size_in_gb)) * _GIB
    )
    return round(float(used / capacity * 100), 2)


def _containers(pod_metrics: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = pod_metrics.get("containers") or []
    return containers


def data_point(
    percents: Sequence[float], at: datetime, statistics: Sequence[str]
) -> dict[str, Any]:
    """Lightsail's MetricDatapoint over the pods' percentages, with the statistics asked for."""
    values = {
        "Minimum": min(percents),
        "Maximum": max(percents),
        "Sum": round(sum(percents), 2),
        "Average": round(sum(percents) / len(percents), 2),
        "SampleCount": float(len(percents)),
    }
    point: dict[str, Any] = {}
    for statistic in _POINT_ORDER:
        if statistic in statistics:
            point[statistic[0].lower() + statistic[1:]] = values[statistic]
    point["timestamp"] = at.isoformat()
    point["unit"] = "Percent"
    return point


def metric_data(
    pods: Sequence[dict[str, Any]],
    metric: str,
    power: PowerSpec,
    statistics: Sequence[str],
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """At most one data point: the latest sample of every pod, if it falls within [start, end]."""
    if not pods:
        return []
    stamps = [datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00")) for p in pods]
    at = max(stamps)
    if not start <= at <= end:
        return []
    return [data_point([pod_percent(p, metric, power) for p in pods], at, statistics)]
