"""cli/history.py: Lightsail's metric time series from Prometheus's query_range answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from berth.api.power import DEFAULT_POWERS
from berth.cli import history

NANO = DEFAULT_POWERS["nano"]


def matrix(*values: tuple[float, str]) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {"resultType": "matrix", "result": [{"metric": {}, "values": list(values)}]},
    }


def test_cpu_is_each_pods_rate_over_the_period_in_percent_of_the_powers_cpus() -> None:
    promql = history.query("CPUUtilization", "Maximum", "shop", "web", NANO, 300)
    assert promql == (
        "max(100 * sum by (pod) (rate(container_cpu_usage_seconds_total{"
        'namespace="shop",pod=~"web-[a-z0-9]{1,10}-[a-z0-9]{5}",container!="",container!="POD"'
        "}[300s])) / 0.25)"
    )


def test_memory_is_each_pods_peak_working_set_in_percent_of_the_powers_memory() -> None:
    promql = history.query("MemoryUtilization", "SampleCount", "shop", "web", NANO, 60)
    assert promql.startswith("count(100 * sum by (pod) (max_over_time(")
    assert promql.endswith("[60s])) / 536870912)")


@pytest.mark.parametrize(
    ("pod", "matches"),
    [("web-6d4f8b7c9-x2k4q", True), ("web-api-6d4f8b7c9-x2k4q", False), ("web-x2k4q", False)],
)
def test_the_pod_pattern_takes_the_services_pods_and_not_those_of_a_longer_name(
    pod: str, matches: bool
) -> None:
    import re

    assert bool(re.fullmatch(history.POD_NAME.format(service="web"), pod)) == matches


def test_answers_of_each_statistic_become_one_data_point_per_time_in_order() -> None:
    answers = {
        "Average": matrix((1735787100, "12.5"), (1735786800, "10.004")),
        "Maximum": matrix((1735786800, "20"), (1735787100, "NaN")),
    }

    points = history.data_points(answers, ["Average", "Maximum"])

    assert points == [
        {
            "average": 10.0,
            "maximum": 20.0,
            "timestamp": "2025-01-02T03:00:00+00:00",
            "unit": "Percent",
        },
        {"average": 12.5, "timestamp": "2025-01-02T03:05:00+00:00", "unit": "Percent"},
    ]


def test_no_series_means_no_data_points() -> None:
    empty = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    assert history.data_points({"Sum": empty}, ["Sum"]) == []


def test_more_points_than_prometheus_answers_are_refused_before_asking() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(history.HistoryUnavailable, match="at most 11000"):
        history.metric_data(
            "http://127.0.0.1:1",
            "shop",
            "web",
            "CPUUtilization",
            NANO,
            ["Average"],
            start,
            start + timedelta(days=14),
            60,
        )


def test_an_unreachable_prometheus_is_named_in_the_error() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(history.HistoryUnavailable, match=r"Prometheus at http://127.0.0.1:1"):
        history.query_range("http://127.0.0.1:1", "up", start, start + timedelta(hours=1), 300)
