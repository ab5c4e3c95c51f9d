"""End to end: the operator's own health checks set each pod's readiness gate, Lightsail's way.

kwok's pods answer nothing on their addresses, so these pods are bound to a node nobody plays
(no kwok annotation) and this test writes their status as a kubelet would, with the address
127.0.0.1, where a small HTTP server of the test answers what each test asks for. The API server,
the operator and its writes are the real ones; only the kubelet is the test.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
from tests.e2e.support import wait_for

from berth.api.content import HealthCheck
from berth.render import names
from devcluster import KubeCluster
from devcluster.checked_pods import Answers, pod_manifest, running_status, unplayed_node
from devcluster.operator_process import REAL_NODE_ENV, OperatorProcess

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def answers() -> Iterator[Answers]:
    server = Answers()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def node_nobody_plays(cluster: KubeCluster) -> Iterator[str]:
    name = f"health-e2e-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("create", "-f", "-", input=json.dumps(unplayed_node(name)))
    yield name
    cluster.kubectl("delete", "node", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def checking_operator(
    berth_api: KubeCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[OperatorProcess, str]]:
    """An operator of its own that checks pods, in a namespace of its own (the session's
    operator keeps the kubelet's probes, as kwok plays the kubelet for it)."""
    namespace = f"health-{uuid.uuid4().hex[:8]}"
    berth_api.kubectl("create", "namespace", namespace)
    log = tmp_path_factory.mktemp("health") / "operator.log"
    process = OperatorProcess(
        berth_api.kubeconfig,
        log,
        env={
            **REAL_NODE_ENV,
            "BERTH_NAMESPACE": namespace,
            "BERTH_WATCH_NAMESPACES": json.dumps([namespace]),
            "BERTH_LEADER_ELECTION_LEASE_NAME": f"health-{namespace}",
        },
    )
    process.start()
    yield process, namespace
    process.stop()
    berth_api.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    print(f"operator log: {log}")


class CheckedPod:
    def __init__(self, api: kubernetes.client.CoreV1Api, namespace: str, name: str) -> None:
        self.api, self.namespace, self.name = api, namespace, name

    def body(self) -> dict[str, Any]:
        found = self.api.read_namespaced_pod(self.name, self.namespace)
        return dict(self.api.api_client.sanitize_for_serialization(found))

    def gate(self) -> dict[str, Any] | None:
        for condition in self.body()["status"].get("conditions") or []:
            if condition["type"] == names.HEALTH_GATE:
                return dict(condition)
        return None

    def gate_is(self, status: str) -> dict[str, Any] | None:
        gate = self.gate()
        return gate if gate is not None and gate["status"] == status else None


@pytest.fixture
def start_pod(
    checking_operator: tuple[OperatorProcess, str],
    node_nobody_plays: str,
    answers: Answers,
    kube_api: kubernetes.client.ApiClient,
) -> Iterator[Any]:
    _, namespace = checking_operator
    core = kubernetes.client.CoreV1Api(kube_api)
    made: list[str] = []

    def start(path: str, **check: Any) -> CheckedPod:
        name = f"p-{uuid.uuid4().hex[:6]}"
        health = HealthCheck(path=path, **check)
        core.create_namespaced_pod(
            namespace, pod_manifest(name, node_nobody_plays, answers.port, health)
        )
        made.append(name)
        core.patch_namespaced_pod_status(name, namespace, running_status())
        return CheckedPod(core, namespace, name)

    yield start
    for name in made:
        core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)


def test_a_health_path_answering_404_passes_lightsails_default_success_codes(
    start_pod: Any, answers: Answers
) -> None:
    pod = start_pod("/not-there")  # the default successCodes, 200-499

    gate = wait_for(lambda: pod.gate_is("True"), timeout=30, what="the gate to turn True")
    assert gate["reason"] == "HealthCheckPassed"
    assert "answered 404" in gate["message"]
    # The kubelet's conditions are left as they were: the patch merged by condition type.
    kinds = {c["type"] for c in pod.body()["status"]["conditions"]}
    assert {"PodScheduled", "ContainersReady", names.HEALTH_GATE} <= kinds


def test_success_codes_200_299_mark_a_pod_answering_404_unhealthy(
    start_pod: Any, answers: Answers
) -> None:
    pod = start_pod("/strict", successCodes="200-299")

    gate = wait_for(lambda: pod.gate_is("False"), timeout=30, what="the gate to turn False")
    assert gate["reason"] == "HealthCheckFailed"
    expected = f"GET /strict on port {answers.port} answered 404; successCodes are 200-299"
    assert gate["message"] == expected


def test_thresholds_and_interval_decide_when_the_gate_turns_and_it_is_written_only_then(
    start_pod: Any, answers: Answers, checking_operator: tuple[OperatorProcess, str]
) -> None:
    operator, _ = checking_operator
    path = f"/flappy-{uuid.uuid4().hex[:4]}"
    answers.codes[path] = 200
    writes_before = operator.writes().get(("Pod", "patch-status"), 0.0)
    pod = start_pod(path, healthyThreshold=3, unhealthyThreshold=2, intervalSeconds=5)

    wait_for(lambda: pod.gate_is("True"), timeout=40, what="the gate to turn True")
    passes = answers.times(path)
    assert len(passes) == 3, "healthy after healthyThreshold (3) passes in a row, not before"
    gaps = [later - earlier for earlier, later in itertools.pairwise(passes)]
    assert all(gap >= 4.5 for gap in gaps), f"checks closer than intervalSeconds (5): {gaps}"
    print(f"healthy after {passes[-1] - passes[0]:.2f}s (3 passes, gaps {gaps})")

    time.sleep(12)  # two more passes: the gate already says healthy, nothing is written
    steady = operator.writes().get(("Pod", "patch-status"), 0.0)
    assert steady - writes_before == 1, "a pass while healthy was written"

    answers.codes[path] = 500
    turned = time.monotonic()
    wait_for(lambda: pod.gate_is("False"), timeout=40, what="the gate to turn False")
    failures = [t for t in answers.times(path) if t >= turned]
    assert len(failures) == 2, "unhealthy after unhealthyThreshold (2) failures in a row"
    print(f"unhealthy {failures[-1] - failures[0]:.2f}s after the first failure")
    assert operator.writes().get(("Pod", "patch-status"), 0.0) - writes_before == 2
