"""CPU and memory utilization as a time series, from a Prometheus that scrapes the kubelets.

metrics.k8s.io (metrics-server) holds one sample per pod; Lightsail answers with data points
every `period` seconds for two weeks. Where a cluster runs Prometheus with the kubelet's cAdvisor
metrics (kube-prometheus-stack and most managed offerings do), this asks it with query_range, one
query per statistic. The PromQL (docs/metrics.md shows it):

  per pod, in percent of one node of the power
    CPUUtilization     100 * sum by (pod) (rate(container_cpu_usage_seconds_total{S}[P])) / cpus
    MemoryUtilization  100 * sum by (pod) (max_over_time(container_memory_working_set_bytes{S}[P]))
                       / bytes
  then avg / max / min / sum / count of those across the service's pods, for Average, Maximum,
  Minimum, Sum and SampleCount; S selects the service's containers by namespace and pod name
  (cAdvisor's series carry no pod labels), P is the period.
"""

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from berth.api.power import PowerSpec

AGGREGATIONS = {
    "Average": "avg",
    "Maximum": "max",
    "Minimum": "min",
    "Sum": "sum",
    "SampleCount": "count",
}
# A Deployment's pods are `<deployment>-<pod-template-hash>-<5 random>`; the hash holds no dash,
# so the pods of service `web` never match those of `web-api`.
POD_NAME = "{service}-[a-z0-9]{{1,10}}-[a-z0-9]{{5}}"
# Prometheus refuses a query_range of more than 11,000 points.
MAX_POINTS = 11_000
_GIB = 1024**3


class HistoryUnavailable(Exception):
    """Prometheus could not answer."""


def selector(namespace: str, service: str) -> str:
    pods = POD_NAME.format(service=service)
    return f'namespace="{namespace}",pod=~"{pods}",container!="",container!="POD"'


def per_pod(metric: str, namespace: str, service: str, power: PowerSpec, period: int) -> str:
    """Each pod's usage in percent of one node of the power, over each period."""
    chosen = selector(namespace, service)
    if metric == "CPUUtilization":
        used = f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{chosen}}}[{period}s]))"
        return f"100 * {used} / {power.cpu_count:g}"
    used = (
        f"sum by (pod) (max_over_time(container_memory_working_set_bytes{{{chosen}}}[{period}s]))"
    )
    return f"100 * {used} / {round(power.ram_size_in_gb * _GIB)}"


def query(
    metric: str, statistic: str, namespace: str, service: str, power: PowerSpec, period: int
) -> str:
    return f"{AGGREGATIONS[statistic]}({per_pod(metric, namespace, service, power, period)})"


def steps(start: datetime, end: datetime, period: int) -> int:
    return math.floor((end - start).total_seconds() / period) + 1


def data_points(
    answers: dict[str, dict[str, Any]], statistics: Sequence[str]
) -> list[dict[str, Any]]:
    """Lightsail's MetricDatapoints from one query_range answer per statistic, by time."""
    by_time: dict[float, dict[str, float]] = {}
    for statistic in statistics:
        for series in answers[statistic].get("data", {}).get("result", []):
            for stamp, value in series.get("values", []):
                number = float(value)
                if math.isfinite(number):
                    by_time.setdefault(float(stamp), {})[statistic] = number
    points = []
    for stamp in sorted(by_time):
        values = by_time[stamp]
        point: dict[str, Any] = {}
        for statistic in sorted(values):
            point[statistic[0].lower() + statistic[1:]] = round(values[statistic], 2)
        point["timestamp"] = datetime.fromtimestamp(stamp, UTC).isoformat()
        point["unit"] = "Percent"
        points.append(point)
    return points


def query_range(base_url: str, promql: str, start: datetime, end: datetime, period: int) -> Any:
    """One /api/v1/query_range answer (a JSON object), or HistoryUnavailable."""
    params = urllib.parse.urlencode(
        {
            "query": promql,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": f"{period}s",
        }
    )
    url = f"{base_url.rstrip('/')}/api/v1/query_range?{params}"
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            found = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        detail = error.read()[:300].decode(errors="replace")
        raise HistoryUnavailable(f"Prometheus at {base_url}: {error.code} {detail}") from error
    except (OSError, ValueError) as error:
        raise HistoryUnavailable(f"Prometheus at {base_url}: {error}") from error
    if found.get("status") != "success":
        raise HistoryUnavailable(f"Prometheus at {base_url}: {found.get('error')}")
    return found


def metric_data(
    base_url: str,
    namespace: str,
    service: str,
    metric: str,
    power: PowerSpec,
    statistics: Sequence[str],
    start: datetime,
    end: datetime,
    period: int,
) -> list[dict[str, Any]]:
    """The service's data points within [start, end], one every `period` seconds."""
    if steps(start, end, period) > MAX_POINTS:
        raise HistoryUnavailable(
            f"{steps(start, end, period)} data points asked for; at most {MAX_POINTS}: "
            "choose a longer period or a shorter window"
        )
    answers = {
        statistic: query_range(
            base_url,
            query(metric, statistic, namespace, service, power, period),
            start,
            end,
            period,
        )
        for statistic in statistics
    }
    return data_points(answers, statistics)
