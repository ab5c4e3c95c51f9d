"""On the real node, under continuous HTTPS requests: failed versions, scaling and power changes
drop no request."""

from __future__ import annotations

import json

import pytest
from tests.e2e.live.manifests import HELLO, hello_service
from tests.e2e.live.traffic import Live, TrafficSampler, first_success
from tests.e2e.support import wait_for

pytestmark = pytest.mark.e2e


def change(live: Live, namespace: str, name: str, **spec: object) -> None:
    """What `kubectl patch` does for a user who edits one field of the service."""
    patch = json.dumps({"spec": spec})
    live.cluster.kubectl("patch", "csvc", name, "-n", namespace, "--type=merge", "-p", patch)


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
    live.wait_running(live_namespace, "steady")
    host = live.default_host(live_namespace, "steady")
    first_success(live.endpoints, host)

    with TrafficSampler(live.endpoints, host) as traffic:
        live.apply(live_namespace, hello_service("steady", image=f"{HELLO}:unhealthy", scale=2))
        wait_for(
            lambda: live.berth(live_namespace).version_states("steady").get(2) == "FAILED",
            120,
            "version 2 to fail its rollout",
        )

    assert traffic.failures == [], (traffic.failures[:5], live.ingress_failures()[-5:])
    assert traffic.count > 50
    assert all("hello from berth v1" in body for body in traffic.bodies)
    assert live.berth(live_namespace).version_states("steady") == {1: "ACTIVE", 2: "FAILED"}
    # The version's status and the service's are two writes: the service follows shortly.
    live.wait_running(live_namespace, "steady")


def test_scaling_and_a_power_change_drop_no_request(live: Live, live_namespace: str) -> None:
    live.apply(live_namespace, hello_service("elastic", scale=2))
    live.wait_running(live_namespace, "elastic")
    host = live.default_host(live_namespace, "elastic")
    first_success(live.endpoints, host)

    with TrafficSampler(live.endpoints, host) as traffic:
        change(live, live_namespace, "elastic", scale=3)
        wait_for(lambda: ready_pods(live, live_namespace) == 3, 90, "3 ready pods")
        change(live, live_namespace, "elastic", scale=1)
        wait_for(lambda: ready_pods(live, live_namespace) == 1, 90, "1 ready pod")
        change(live, live_namespace, "elastic", power="micro")
        wait_for(
            lambda: (
                live.berth(live_namespace).status("elastic").get("power") == "micro"
                and live.berth(live_namespace).status("elastic").get("state") == "RUNNING"
            ),
            120,
            "the power change to finish",
        )
        # The old pod drains for a few seconds after the new one is ready; sample past that.
        wait_for(lambda: ready_pods(live, live_namespace) == 1, 90, "the old pod gone")

    assert traffic.failures == [], (traffic.failures[:5], live.ingress_failures()[-5:])
    assert traffic.count > 50
