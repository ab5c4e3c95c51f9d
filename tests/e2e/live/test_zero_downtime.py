"""On the real node, under continuous HTTPS requests: failed versions, scaling and power changes
drop no request."""

from __future__ import annotations

import pytest
from tests.e2e.live.test_public_endpoint import HELLO, hello_service, wait_running
from tests.e2e.live.traffic import Live, TrafficSampler, first_success
from tests.e2e.support import wait_for

pytestmark = pytest.mark.e2e


def ready_pods(live: Live, namespace: str) -> int:
    found = live.cluster.kubectl(
        "get",
        "pods",
        "-n",
        namespace,
        "-o",
        "jsonpath={range .items[*]}{.status.containerStatuses[0].ready}{' '}{end}",
    ).stdout
    return found.split().count("true")


def test_a_version_that_fails_its_health_check_never_serves_and_the_old_one_keeps_answering(
    live: Live, live_namespace: str
) -> None:
    live.apply(live_namespace, hello_service("steady", scale=2))
    wait_running(live, live_namespace, "steady")
    host = live.default_host(live_namespace, "steady")
    first_success(live.endpoints, host)

    with TrafficSampler(live.endpoints, host) as traffic:
        live.apply(live_namespace, hello_service("steady", image=f"{HELLO}:unhealthy", scale=2))
        wait_for(
            lambda: live.version_states(live_namespace, "steady").get(2) == "FAILED",
            120,
            "version 2 to fail its rollout",
        )

    assert traffic.failures == [], traffic.failures[:5]
    assert traffic.count > 50
    assert all("hello from berth v1" in body for body in traffic.bodies)
    assert live.version_states(live_namespace, "steady") == {1: "ACTIVE", 2: "FAILED"}
    assert live.status(live_namespace, "steady")["state"] == "RUNNING"


def test_scaling_and_a_power_change_drop_no_request(live: Live, live_namespace: str) -> None:
    live.apply(live_namespace, hello_service("elastic", scale=2))
    wait_running(live, live_namespace, "elastic")
    host = live.default_host(live_namespace, "elastic")
    first_success(live.endpoints, host)

    with TrafficSampler(live.endpoints, host) as traffic:
        live.cluster.kubectl(
            "patch",
            "csvc",
            "elastic",
            "-n",
            live_namespace,
            "--type=merge",
            "-p",
            '{"spec":{"scale":3}}',
        )
        wait_for(lambda: ready_pods(live, live_namespace) == 3, 90, "3 ready pods")
        live.cluster.kubectl(
            "patch",
            "csvc",
            "elastic",
            "-n",
            live_namespace,
            "--type=merge",
            "-p",
            '{"spec":{"scale":1}}',
        )
        wait_for(lambda: ready_pods(live, live_namespace) == 1, 90, "1 ready pod")
        live.cluster.kubectl(
            "patch",
            "csvc",
            "elastic",
            "-n",
            live_namespace,
            "--type=merge",
            "-p",
            '{"spec":{"power":"micro"}}',
        )
        wait_for(
            lambda: (
                live.status(live_namespace, "elastic").get("power") == "micro"
                and live.status(live_namespace, "elastic").get("state") == "RUNNING"
            ),
            120,
            "the power change to finish",
        )
        # The old pod drains for a few seconds after the new one is ready; sample past that.
        wait_for(lambda: ready_pods(live, live_namespace) == 1, 90, "the old pod gone")

    assert traffic.failures == [], traffic.failures[:5]
    assert traffic.count > 50
