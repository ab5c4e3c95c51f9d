"""On the real node: Lightsail's health checks made by Berth (a readiness gate on each pod), and
capacity told truthfully (pods no node fits, the overcommit ratio).

The hello app answers / and /healthz, and 404 for any other path: a path that is not there is
what an app without a health endpoint gives Lightsail's checker.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from tests.e2e.live.manifests import HELLO, hello_service
from tests.e2e.live.traffic import Live, TrafficSampler, first_success, https_get
from tests.e2e.support import wait_for

from berth.api.power import DEFAULT_POWERS
from berth.render import names
from devcluster.operator_process import REAL_NODE_ENV, OperatorProcess

pytestmark = pytest.mark.e2e

MISSING = "/not-here"


def checked_service(
    name: str, image: str = f"{HELLO}:v1", scale: int = 1, **health: Any
) -> dict[str, Any]:
    return hello_service(name, image, health_check=health, scale=scale)


def pods_of(live: Live, namespace: str, service: str) -> list[dict[str, Any]]:
    found = live.cluster.kubectl(
        "get", "pods", "-n", namespace, "-l", f"{names.SERVICE_LABEL}={service}", "-o", "json"
    ).stdout
    return list(json.loads(found)["items"])


def gate_of(pod: dict[str, Any]) -> dict[str, Any] | None:
    for condition in pod["status"].get("conditions") or []:
        if condition["type"] == names.HEALTH_GATE:
            return dict(condition)
    return None


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def seconds_to_gate(live: Live, namespace: str, service: str, status: str) -> float:
    """From the container's start to the gate's turn to `status`, as the pod records them
    (both to the second)."""
    pod = wait_for(
        lambda: next(
            (
                p
                for p in pods_of(live, namespace, service)
                if (gate_of(p) or {}).get("status") == status
            ),
            None,
        ),
        90,
        f"a pod of {service} whose gate is {status}",
    )
    gate = gate_of(pod)
    assert gate is not None
    started = pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    return (stamp(gate["lastTransitionTime"]) - stamp(started)).total_seconds()


def test_an_app_whose_health_path_answers_404_runs_with_lightsails_default_success_codes(
    live: Live, live_namespace: str
) -> None:
    began = time.monotonic()
    live.apply(live_namespace, checked_service("lenient", path=MISSING))
    live.wait_running(live_namespace, "lenient")
    running_after = time.monotonic() - began
    host = live.default_host(live_namespace, "lenient")

    answer = first_success(live.endpoints, host)
    assert "hello from berth v1" in answer.body
    gate = gate_of(pods_of(live, live_namespace, "lenient")[0])
    assert gate is not None and gate["status"] == "True"
    assert f"GET {MISSING} on port 80 answered 404; successCodes are 200-499" in gate["message"]
    status = live.berth(live_namespace).status("lenient")
    assert "HealthCheckExact" not in {c["type"] for c in status["conditions"]}
    print(f"404 health path: apply -> RUNNING in {running_after:.1f}s")


def test_success_codes_200_299_fail_the_new_version_while_the_previous_keeps_serving(
    live: Live, live_namespace: str
) -> None:
    live.apply(live_namespace, checked_service("strict", path="/healthz"))
    live.wait_running(live_namespace, "strict")
    host = live.default_host(live_namespace, "strict")
    first_success(live.endpoints, host)

    strict = checked_service("strict", image=f"{HELLO}:v2", path=MISSING, successCodes="200-299")
    with TrafficSampler(live.endpoints, host) as traffic:
        live.apply(live_namespace, strict)
        wait_for(
            lambda: live.berth(live_namespace).version_states("strict").get(2) == "FAILED",
            120,
            "version 2 to fail its health check",
        )

    assert traffic.failures == [], (traffic.failures[:5], live.ingress_failures()[-5:])
    assert all("hello from berth v1" in body for body in traffic.bodies)
    berth = live.berth(live_namespace)
    assert berth.version_states("strict") == {1: "ACTIVE", 2: "FAILED"}
    failed = berth.versions("strict")["strict-v2"]["status"]["message"]
    assert f"health check failing: GET {MISSING} on port 80 answered 404" in failed, failed
    assert "successCodes are 200-299" in failed
    assert "hello from berth v1" in https_get(live.endpoints, host).body


def test_thresholds_and_interval_decide_when_a_pod_turns_healthy_or_unhealthy(
    live: Live, live_namespace: str
) -> None:
    live.apply(
        live_namespace,
        checked_service("slow-healthy", path="/healthz", healthyThreshold=4, intervalSeconds=5),
        checked_service(
            "slow-unhealthy",
            path=MISSING,
            successCodes="200-299",
            unhealthyThreshold=3,
            intervalSeconds=7,
        ),
    )
    healthy = seconds_to_gate(live, live_namespace, "slow-healthy", "True")
    unhealthy = seconds_to_gate(live, live_namespace, "slow-unhealthy", "False")
    print(
        f"healthyThreshold 4 x interval 5 s: healthy {healthy:.0f}s after the container started;"
        f" unhealthyThreshold 3 x interval 7 s: unhealthy after {unhealthy:.0f}s"
    )
    # The first check comes once the port is open; the threshold-th one (threshold - 1)
    # intervals later. Times are whole seconds, hence the one second of slack.
    assert healthy >= 3 * 5 - 1
    assert unhealthy >= 2 * 7 - 1


# --- capacity -----------------------------------------------------------------------------------

NANO = DEFAULT_POWERS["nano"]


def free_capacity(live: Live) -> tuple[int, int]:
    """Millicores and MiB of the node's allocatable not yet requested by any pod."""
    node = json.loads(live.cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"][0]
    allocatable = node["status"]["allocatable"]
    cpu, memory = millicores(allocatable["cpu"]), mebibytes(allocatable["memory"])
    pods = json.loads(live.cluster.kubectl("get", "pods", "-A", "-o", "json").stdout)["items"]
    for pod in pods:
        if pod["status"].get("phase") in ("Succeeded", "Failed") or not pod["spec"].get("nodeName"):
            continue
        for asked in requests_of(pod):
            cpu -= millicores(asked.get("cpu", "0"))
            memory -= mebibytes(asked.get("memory", "0"))
    return cpu, memory


def requests_of(pod: dict[str, Any]) -> list[dict[str, str]]:
    """The pod-level requests where the pod has them, else each container's."""
    pod_level = (pod["spec"].get("resources") or {}).get("requests")
    if pod_level:
        return [pod_level]
    return [(c.get("resources") or {}).get("requests") or {} for c in pod["spec"]["containers"]]


def terminating(live: Live) -> list[str]:
    pods = json.loads(live.cluster.kubectl("get", "pods", "-A", "-o", "json").stdout)["items"]
    return [p["metadata"]["name"] for p in pods if p["metadata"].get("deletionTimestamp")]


def millicores(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


def mebibytes(quantity: str) -> int:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(int(quantity) / (1024 * 1024))


ROOM = 100


def filler_pod(millicores: int) -> dict[str, Any]:
    amounts = {"cpu": f"{millicores}m", "memory": "16Mi"}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "filler"},
        "spec": {
            "containers": [
                {
                    "name": "filler",
                    "image": f"{HELLO}:v1",
                    "resources": {"requests": amounts, "limits": amounts},
                }
            ]
        },
    }


def pod_phase(live: Live, namespace: str, name: str) -> str:
    found = live.cluster.kubectl(
        "get", "pod", name, "-n", namespace, "-o", "jsonpath={.status.phase}", check=False
    )
    return found.stdout.strip()


@pytest.fixture
def own_operator(live: Live, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The session's operator stopped, and one started with the settings a test asks for; the
    session's back afterwards."""
    started: list[OperatorProcess] = []
    log = tmp_path_factory.mktemp("capacity") / "operator.log"

    def start(**env: str) -> OperatorProcess:
        for old in started:
            old.stop()
        live.operator.stop()
        process = OperatorProcess(live.cluster.kubeconfig, log, env={**REAL_NODE_ENV, **env})
        started.append(process.start())
        return process

    yield start
    for process in started:
        process.stop()
    live.operator.start()
    print(f"operator log: {log}")


def test_more_services_than_the_node_fits_say_why_and_with_overcommit_they_all_run(
    live: Live, live_namespace: str, own_operator: Any
) -> None:
    # A long deadline: the services that do not fit must say so, not fail meanwhile.
    own_operator(BERTH_PROGRESS_DEADLINE_SECONDS="900", BERTH_OVERCOMMIT_RATIO="1")
    wait_for(lambda: not terminating(live), 120, "pods of earlier tests to be gone")
    cpu, memory = free_capacity(live)
    # A filler pod leaves exactly ROOM millicores over once the nanos that fit run: too little
    # for another nano, enough for the running ones to roll to their overcommitted pods.
    nano = NANO.cpu_millicores()
    filler = (cpu - ROOM) % nano
    if filler:
        live.apply(live_namespace, filler_pod(filler))
        wait_for(lambda: pod_phase(live, live_namespace, "filler") == "Running", 90, "the filler")
    fits = min((cpu - filler) // nano, (memory - 100) // NANO.memory_mebibytes())
    count = max(fits, 0) + 2
    names_ = [f"cap-{index}" for index in range(count)]
    live.apply(live_namespace, *(checked_service(name, path="/healthz") for name in names_))

    berth = live.berth(live_namespace)

    def unschedulable() -> list[str]:
        return [
            name
            for name in names_
            if any(
                c["type"] == "PodsScheduled" and c["status"] == "False"
                for c in berth.status(name).get("conditions") or []
            )
        ]

    def settled() -> list[str] | None:
        waiting = unschedulable()
        states = {name: berth.status(name).get("state") for name in names_}
        done = all(states[n] == "RUNNING" or n in waiting for n in names_)
        return waiting if done and waiting else None

    try:
        stuck = wait_for(settled, 180, "each service RUNNING or unschedulable")
    except AssertionError:
        print({n: berth.status(n).get("stateDetail") for n in names_})
        raise
    assert len(stuck) == 2, (stuck, cpu, memory)
    for name in stuck:
        status = berth.status(name)
        detail = status["stateDetail"]
        assert status["state"] == "DEPLOYING"
        assert detail["code"] == "CREATING_DEPLOYMENT", detail
        assert "cannot be scheduled" in detail["message"] and "Insufficient" in detail["message"]
        version = berth.versions(name)[f"{name}-v1"]["status"]
        assert version["state"] == "ACTIVATING"
        assert "Insufficient" in version["message"], version
        assert status["monthlyPrice"] == NANO.price  # the power is what is billed, whatever fits
    running = [n for n in names_ if berth.status(n).get("state") == "RUNNING"]
    print(f"{len(running)} of {count} nano services fit ({cpu}m, {memory}Mi free); {stuck} wait")

    began = time.monotonic()
    own_operator(BERTH_PROGRESS_DEADLINE_SECONDS="900", BERTH_OVERCOMMIT_RATIO="0.1")
    for name in names_:
        live.wait_running(live_namespace, name)
    print(f"with overcommitRatio 0.1 all {count} RUNNING after {time.monotonic() - began:.1f}s")
    deployment = json.loads(
        live.cluster.kubectl(
            "get", "deployment", names_[0], "-n", live_namespace, "-o", "json"
        ).stdout
    )
    template = deployment["spec"]["template"]["spec"]
    resources = template.get("resources") or template["containers"][0]["resources"]
    assert resources["limits"]["cpu"] == "250m"
    assert millicores(resources["requests"]["cpu"]) == math.floor(250 * 0.1)
