"""On the real node: metric history from the real Prometheus scraping the kubelet's cAdvisor, read
by the berth CLI (--prometheus-url) and the Lightsail endpoint (BERTH_PROMETHEUS_URL).

A pod that burns CPU and holds 48 MiB beside an idle one: the history must tell them apart, with
several data points a period apart, in botocore's shape."""

from __future__ import annotations

import datetime as dt
import itertools
import pathlib
import subprocess
import time
from typing import Any

import pytest
from tests.e2e.live import metrics_support
from tests.e2e.live.metrics_support import cli_data, lightsail
from tests.e2e.live.traffic import Live
from tests.e2e.support import wait_for

from berth.render import names
from devcluster.node_config import NODE_NAME
from devcluster.prometheus import JOB, Prometheus

SAMPLES = "container_cpu_usage_seconds_total"

pytestmark = pytest.mark.e2e

# Long enough for a full Lightsail period (60 s, its least) of burning and then some.
BURN_SECONDS = 240
# In the pod's /dev/shm (a tmpfs of 64 MiB, charged to the container that writes it).
HELD_MIB = 48
# cAdvisor measures every 10-15 s (its housekeeping) and stamps its samples with that time, so
# a 5 s scrape often finds no new sample; a rate needs two within the period.
CLI_PERIOD = 30
API_PERIOD = 60
# In percent of the nano power (0.25 vCPU, its limit). A spinning pod gets all of it on an idle
# machine, half of it on a loaded one (seen: 50-59); an idle one well under 1.
BUSY, IDLE = 25, 5


@pytest.fixture(scope="module")
def prometheus(live: Live) -> Prometheus:
    """The data plane's: the real Prometheus scraping the real node's kubelet."""
    assert live.plane.prometheus is not None
    return live.plane.prometheus


def pod_of(live: Live, namespace: str, service: str) -> str:
    found = live.cluster.kubectl(
        "get",
        "pods",
        "-n",
        namespace,
        "-l",
        f"{names.SERVICE_LABEL}={service}",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    )
    return found.stdout.strip()


def in_pod(live: Live, namespace: str, pod: str, script: str) -> subprocess.Popen[bytes]:
    """`script` in the pod's container (so in its cgroup), ending by itself after BURN_SECONDS."""
    command = [
        str(live.cluster.bin_dir / "kubectl"),
        f"--kubeconfig={live.cluster.kubeconfig}",
        "exec",
        "-n",
        namespace,
        pod,
        "-c",
        "web",
        "--",
        "timeout",
        str(BURN_SECONDS),
        "sh",
        "-c",
        script,
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def history(
    live: Live, namespace: str, service: str, metric: str, url: str, window: int
) -> list[dict[str, Any]]:
    end = now()
    points: list[dict[str, Any]] = cli_data(
        live,
        namespace,
        "--service-name",
        service,
        "--metric-name",
        metric,
        "--prometheus-url",
        url,
        "--period",
        str(CLI_PERIOD),
        "--start-time",
        (end - dt.timedelta(seconds=window)).isoformat(),
        "--end-time",
        end.isoformat(),
        "--statistics",
        "Average",
        "Maximum",
        "SampleCount",
    )["metricData"]
    return points


def test_prometheus_scrapes_the_kubelets_cadvisor_with_pod_labels(
    prometheus: Prometheus, live_namespace: str, live: Live
) -> None:
    live.apply(live_namespace, metrics_support.service("labelled"))
    live.wait_running(live_namespace, "labelled")

    series = wait_for(
        lambda: prometheus.query(
            f'container_cpu_usage_seconds_total{{job="{JOB}",namespace="{live_namespace}",'
            f'container="web"}}'
        ),
        60,
        "the pod's container in cAdvisor's series",
    )

    (found,) = series
    assert found["metric"]["pod"].startswith("labelled-")
    assert found["metric"]["node"] == NODE_NAME


def test_history_tells_a_busy_pod_from_an_idle_one_through_the_cli_and_lightsail(
    prometheus: Prometheus, live_namespace: str, live: Live, tmp_path: pathlib.Path
) -> None:
    live.apply(live_namespace, metrics_support.service("busy"), metrics_support.service("idle"))
    live.wait_running(live_namespace, "busy")
    live.wait_running(live_namespace, "idle")
    busy_pod = pod_of(live, live_namespace, "busy")
    burning = in_pod(live, live_namespace, busy_pod, "while :; do :; done")
    holding = in_pod(
        live,
        live_namespace,
        busy_pod,
        f"head -c {HELD_MIB * 1024 * 1024} /dev/zero > /dev/shm/held; sleep {BURN_SECONDS}",
    )
    began = now()
    try:
        url = prometheus.url

        window = 3 * CLI_PERIOD  # four points
        seen: list[Any] = []

        # Points 30 s apart, each the rate over its 30 s: the latest two while burning.
        def burnt() -> list[dict[str, Any]] | None:
            points = history(live, live_namespace, "busy", "CPUUtilization", url, window)
            seen[:] = [points, prometheus.query(f'{SAMPLES}{{namespace="{live_namespace}"}}[60s]')]
            hot = len(points) >= 3 and all(p["average"] > BUSY for p in points[-2:])
            return points if hot else None

        try:
            busy_cpu = wait_for(burnt, 180, f"{CLI_PERIOD} s points of the busy pod burning CPU")
        except AssertionError as error:
            raise AssertionError(f"{error}; last points and raw samples: {seen}") from None
        idle_cpu = history(live, live_namespace, "idle", "CPUUtilization", url, window)
        busy_memory = history(live, live_namespace, "busy", "MemoryUtilization", url, window)
        idle_memory = history(live, live_namespace, "idle", "MemoryUtilization", url, window)

        # Lightsail's least period: the latest point is a full minute of burning from here on.
        time.sleep(
            max(0.0, (began + dt.timedelta(seconds=API_PERIOD + 15) - now()).total_seconds())
        )
        with lightsail(
            live, live_namespace, tmp_path / "endpoint.log", env={"BERTH_PROMETHEUS_URL": url}
        ) as (client, proxy):

            def two_points() -> dict[tuple[str, str], list[dict[str, Any]]] | None:
                end = now()
                answers = {
                    (service, metric): client.get_container_service_metric_data(
                        serviceName=service,
                        metricName=metric,
                        startTime=end - dt.timedelta(seconds=2 * API_PERIOD),
                        endTime=end,
                        period=API_PERIOD,
                        statistics=["Average", "Maximum", "SampleCount"],
                    )["metricData"]
                    for service in ("busy", "idle")
                    for metric in ("CPUUtilization", "MemoryUtilization")
                }
                if all(len(points) >= 2 for points in answers.values()):
                    return answers
                time.sleep(5)
                return None

            api = wait_for(two_points, 120, "two 60 s points of each service")
            problems = metrics_support.shape_problems(proxy)
    finally:
        burning.terminate()
        holding.terminate()
        burning.wait(30)
        holding.wait(30)

    stamps = [dt.datetime.fromisoformat(p["timestamp"]) for p in busy_cpu]
    assert [b - a for a, b in itertools.pairwise(stamps)] == [dt.timedelta(seconds=CLI_PERIOD)] * (
        len(stamps) - 1
    )
    assert all(p["sampleCount"] == 1 for p in busy_cpu), busy_cpu
    assert idle_cpu and all(p["average"] < IDLE for p in idle_cpu), idle_cpu
    # 48 MiB of the nano power's 512 MiB is 9.4 points more than the idle pod's few MiB.
    assert busy_memory[-1]["maximum"] > max(p["maximum"] for p in idle_memory) + 5
    assert problems == []
    latest = {key: points[-1] for key, points in api.items()}
    assert latest["busy", "CPUUtilization"]["average"] > BUSY
    assert latest["idle", "CPUUtilization"]["average"] < IDLE
    assert (
        latest["busy", "MemoryUtilization"]["maximum"]
        > latest["idle", "MemoryUtilization"]["maximum"] + 5
    )
    for points in api.values():
        assert all(p["unit"] == "Percent" and p["sampleCount"] == 1 for p in points), points
        gaps = {b["timestamp"] - a["timestamp"] for a, b in itertools.pairwise(points)}
        assert gaps == {dt.timedelta(seconds=API_PERIOD)}, points
    print(f"prometheus, {CLI_PERIOD} s: busy cpu {busy_cpu}, idle cpu {idle_cpu}")
    print(f"prometheus, 60 s via Lightsail: {latest}")
