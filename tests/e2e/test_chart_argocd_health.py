"""End to end: Argo CD's health check reads what the real operator writes.

Each case drives a ContainerService into one situation, runs argocd/health-containerservice.lua
on the live object, and checks the stored sample in tests/unit/fixtures/status/ still looks like
what the operator writes (the fields the check reads). Re-capture the samples with
BERTH_CAPTURE_STATUS_FIXTURES=1 pytest tests/e2e/test_chart_argocd_health.py
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from tests.e2e.support import Berth, apply, service_manifest, wait_for, web_content
from tests.unit import argocd_health

from devcluster import KubeCluster

pytestmark = pytest.mark.e2e
CAPTURE = os.environ.get("BERTH_CAPTURE_STATUS_FIXTURES") == "1"
Status = dict[str, Any]


def name(berth: Berth) -> str:
    # Private names are unique cluster-wide: a service per test, named after its namespace.
    return "web-" + berth.namespace.rsplit("-", 1)[-1]


def condition(status: Status, kind: str) -> str | None:
    return next((c["status"] for c in status.get("conditions") or [] if c["type"] == kind), None)


def running(cluster: KubeCluster, berth: Berth) -> Status:
    apply(cluster, berth.namespace, service_manifest(name(berth), deployment=web_content()))
    return berth.wait_state(name(berth), "RUNNING")


def deploying(cluster: KubeCluster, berth: Berth) -> Status:
    # Pods that never become ready keep the first version ACTIVATING until the progress deadline.
    content = web_content(image="example.invalid/never-ready:1")
    apply(cluster, berth.namespace, service_manifest(name(berth), deployment=content))
    return wait_for(
        lambda: (
            (s := berth.status(name(berth))).get("state") == "DEPLOYING"
            and (s.get("stateDetail") or {}).get("code") == "EVALUATING_HEALTH_CHECK"
            and s
        ),
        what="DEPLOYING, evaluating the health check",
    )


def failed_newest_version(cluster: KubeCluster, berth: Berth) -> Status:
    running(cluster, berth)
    content = web_content(image="example.invalid/crashloop:1")
    apply(cluster, berth.namespace, service_manifest(name(berth), deployment=content))
    return wait_for(
        lambda: (
            (s := berth.status(name(berth))).get("state") == "RUNNING"
            and condition(s, "Stalled") == "True"
            and berth.version_states(name(berth)).get(2) == "FAILED"
            and s
        ),
        what="version 2 FAILED while version 1 keeps RUNNING",
    )


def disabled(cluster: KubeCluster, berth: Berth) -> Status:
    running(cluster, berth)
    apply(
        cluster,
        berth.namespace,
        service_manifest(name(berth), deployment=web_content(), isDisabled=True),
    )
    return berth.wait_state(name(berth), "DISABLED")


def unknown_power(cluster: KubeCluster, berth: Berth) -> Status:
    manifest = service_manifest(name(berth), power="no-such-power", deployment=web_content())
    apply(cluster, berth.namespace, manifest)
    return wait_for(
        lambda: condition(s := berth.status(name(berth)), "Stalled") == "True" and s,
        what="Stalled for the unknown power",
    )


CASES: dict[str, tuple[Callable[[KubeCluster, Berth], Status], str, str]] = {
    # case: (how to get there, Argo CD health, words its message has)
    "running": (running, "Healthy", "version 1 is active"),
    "deploying": (deploying, "Progressing", "DEPLOYING"),
    "failed-newest-version": (failed_newest_version, "Degraded", "version 2 failed"),
    "disabled": (disabled, "Suspended", "disabled"),
    "unknown-power": (unknown_power, "Degraded", "no-such-power"),
}


def what_the_check_reads(obj: dict[str, Any]) -> dict[str, Any]:
    status = obj.get("status") or {}
    return {
        "state": status.get("state"),
        "observed": status.get("observedGeneration") == obj["metadata"]["generation"],
        "conditions": {k: condition(status, k) for k in ("Ready", "Stalled", "Reconciling")},
        "errorCode": (status.get("stateDetail") or {}).get("code") == "UNKNOWN_ERROR",
    }


@pytest.mark.parametrize("case", list(CASES))
def test_argocd_health_check_reads_the_operators_status(
    case: str, cluster: KubeCluster, berth: Berth
) -> None:
    produce, expected, words = CASES[case]
    produce(cluster, berth)
    live = berth.service(name(berth))

    got = argocd_health.health(live)
    assert got.status == expected, got
    assert words in got.message, got

    if CAPTURE:
        argocd_health.write_fixture(case, live)
    stored = argocd_health.fixture(case)
    assert what_the_check_reads(stored) == what_the_check_reads(live), (
        f"tests/unit/fixtures/status/{case}.json no longer looks like the operator's status; "
        f"re-capture it (BERTH_CAPTURE_STATUS_FIXTURES=1). Live status: "
        f"{json.dumps(live.get('status'), indent=1)}"
    )
