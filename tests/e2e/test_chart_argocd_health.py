"""End to end: Argo CD's health checks read what the real operator writes.

Each case drives a Berth object into one situation and runs its kind's health.lua
(argocd/resource_customizations/berth.dev/<Kind>/) on the live object. The stored testdata of
that case must still look like the live object in the fields the check reads, and
health_test.yaml must expect the same health. The testdata is re-captured by a command of its
own, `python -m tests.e2e.capture_status`, whose diff a person reads before committing: a test
run compares with the reviewed files and never writes them.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from tests.e2e.support import (
    Berth,
    apply,
    service_manifest,
    version_manifest,
    wait_for,
    web_content,
)
from tests.unit import argocd_health
from tests.unit.argocd_health import Health

from devcluster import KubeCluster

pytestmark = pytest.mark.e2e
# Set only by tests/e2e/capture_status.py: where to stage what this run saw.
STAGING = os.environ.get("BERTH_STATUS_STAGING_DIR")
Object = dict[str, Any]
SERVICE, VERSION = "ContainerService", "ContainerServiceDeployment"


def name(berth: Berth) -> str:
    # Private names are unique cluster-wide: a service per test, named after its namespace.
    return "web-" + berth.namespace.rsplit("-", 1)[-1]


def condition(status: Object, kind: str) -> str | None:
    return next((c["status"] for c in status.get("conditions") or [] if c["type"] == kind), None)


# --- ContainerService situations ------------------------------------------------------------------


def service_when(berth: Berth, there: Callable[[Object], bool], what: str) -> Object:
    """The live service, read in one go once its status shows the situation."""

    def probe() -> Object | None:
        obj = berth.service(name(berth))
        return obj if there(obj.get("status") or {}) else None

    return wait_for(probe, what=what)


def running(cluster: KubeCluster, berth: Berth) -> Object:
    apply(cluster, berth.namespace, service_manifest(name(berth), deployment=web_content()))
    return service_when(berth, lambda s: s.get("state") == "RUNNING", "RUNNING")


def deploying(cluster: KubeCluster, berth: Berth) -> Object:
    # Pods that never become ready keep the first version ACTIVATING until the progress deadline.
    content = web_content(image="example.invalid/never-ready:1")
    apply(cluster, berth.namespace, service_manifest(name(berth), deployment=content))
    return service_when(
        berth,
        lambda s: (
            s.get("state") == "DEPLOYING"
            and (s.get("stateDetail") or {}).get("code") == "EVALUATING_HEALTH_CHECK"
        ),
        "DEPLOYING, evaluating the health check",
    )


def failed_newest_version(cluster: KubeCluster, berth: Berth) -> Object:
    running(cluster, berth)
    content = web_content(image="example.invalid/crashloop:1")
    apply(cluster, berth.namespace, service_manifest(name(berth), deployment=content))
    return service_when(
        berth,
        lambda s: (
            s.get("state") == "RUNNING"
            and condition(s, "Stalled") == "True"
            and berth.version_states(name(berth)).get(2) == "FAILED"
        ),
        "version 2 FAILED while version 1 keeps RUNNING",
    )


def disabled(cluster: KubeCluster, berth: Berth) -> Object:
    running(cluster, berth)
    apply(
        cluster,
        berth.namespace,
        service_manifest(name(berth), deployment=web_content(), isDisabled=True),
    )
    return service_when(berth, lambda s: s.get("state") == "DISABLED", "DISABLED")


def unknown_power(cluster: KubeCluster, berth: Berth) -> Object:
    manifest = service_manifest(name(berth), power="no-such-power", deployment=web_content())
    apply(cluster, berth.namespace, manifest)
    return service_when(
        berth, lambda s: condition(s, "Stalled") == "True", "Stalled for the unknown power"
    )


def what_the_service_check_reads(obj: Object) -> Object:
    status = obj.get("status") or {}
    return {
        "state": status.get("state"),
        "observed": status.get("observedGeneration") == obj["metadata"]["generation"],
        "conditions": {k: condition(status, k) for k in ("Ready", "Stalled", "Reconciling")},
        "errorCode": (status.get("stateDetail") or {}).get("code") == "UNKNOWN_ERROR",
    }


# --- ContainerServiceDeployment situations: a version of the service in one of the above ---------


def version_when(berth: Berth, number: int, state: str) -> Object:
    """The live version numbered `number`, read once the operator wrote `state` and conditions."""

    def probe() -> Object | None:
        for obj in berth.versions(name(berth)).values():
            status = obj.get("status") or {}
            observed = status.get("observedGeneration") == obj["metadata"]["generation"]
            if observed and (status.get("version"), status.get("state")) == (number, state):
                return obj
        return None

    return wait_for(probe, what=f"version {number} {state}")


def active_version(cluster: KubeCluster, berth: Berth) -> Object:
    running(cluster, berth)
    return version_when(berth, 1, "ACTIVE")


def inactive_version(cluster: KubeCluster, berth: Berth) -> Object:
    running(cluster, berth)
    newer = version_manifest(f"{name(berth)}-next", name(berth), web_content(COLOR="blue"))
    apply(cluster, berth.namespace, newer)
    return version_when(berth, 1, "INACTIVE")


def activating_version(cluster: KubeCluster, berth: Berth) -> Object:
    deploying(cluster, berth)
    return version_when(berth, 1, "ACTIVATING")


def failed_version(cluster: KubeCluster, berth: Berth) -> Object:
    failed_newest_version(cluster, berth)
    return version_when(berth, 2, "FAILED")


def version_waiting_for_its_service(cluster: KubeCluster, berth: Berth) -> Object:
    early = f"{name(berth)}-early"
    apply(cluster, berth.namespace, version_manifest(early, name(berth), web_content()))

    def probe() -> Object | None:
        obj = berth.versions(name(berth))[early]
        return obj if condition(obj.get("status") or {}, "Reconciling") == "True" else None

    return wait_for(probe, what="Reconciling while its service does not exist")


def reason(status: Object, kind: str) -> str | None:
    return next((c["reason"] for c in status.get("conditions") or [] if c["type"] == kind), None)


def what_the_version_check_reads(obj: Object) -> Object:
    status = obj.get("status") or {}
    return {
        "state": status.get("state"),
        "numbered": status.get("version") is not None,
        "observed": status.get("observedGeneration") == obj["metadata"]["generation"],
        "conditions": {k: condition(status, k) for k in ("Ready", "Stalled", "Reconciling")},
        "waitingForService": reason(status, "Reconciling") == "ServiceNotFound",
        "message": bool(status.get("message")),
    }


@dataclass(frozen=True)
class Case:
    produce: Callable[[KubeCluster, Berth], Object]  # the live object, in its situation
    health: str  # what Argo CD must show
    words: str  # what its message must say, whatever the object's names
    kstatus: str  # what kstatus (Flux, kpt, cli-utils) must say


CASES: dict[tuple[str, str], Case] = {
    (SERVICE, "running"): Case(running, "Healthy", "version 1 is active", "Current"),
    (SERVICE, "deploying"): Case(deploying, "Progressing", "DEPLOYING", "InProgress"),
    (SERVICE, "failed-newest-version"): Case(
        failed_newest_version, "Degraded", "version 2 failed", "Failed"
    ),
    (SERVICE, "disabled"): Case(disabled, "Suspended", "disabled", "Current"),
    (SERVICE, "unknown-power"): Case(unknown_power, "Degraded", "no-such-power", "Failed"),
    (VERSION, "active"): Case(active_version, "Healthy", "version 1 is active", "Current"),
    (VERSION, "inactive"): Case(
        inactive_version, "Healthy", "version 1 is inactive: replaced by version 2", "Current"
    ),
    (VERSION, "activating"): Case(
        activating_version, "Progressing", "version 1 is activating", "InProgress"
    ),
    (VERSION, "failed"): Case(
        failed_version, "Degraded", "version 2 failed: container web", "Failed"
    ),
    (VERSION, "service-not-found"): Case(
        version_waiting_for_its_service, "Progressing", "does not exist", "InProgress"
    ),
}
WHAT_THE_CHECK_READS = {
    SERVICE: what_the_service_check_reads,
    VERSION: what_the_version_check_reads,
}


@pytest.fixture(scope="session")
def kstatus_judge() -> pathlib.Path:
    """sigs.k8s.io/cli-utils' kstatus as a command (devcluster/kstatus; `make binaries`)."""
    out = subprocess.run(
        [str(argocd_health.REPO / "devcluster" / "kstatus" / "build.sh")],
        check=True,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return pathlib.Path(out.stdout.strip()) / "kstatus"


def kstatus(judge: pathlib.Path, obj: Object) -> dict[str, str]:
    """kstatus' verdict on `obj`: Current, InProgress, Failed… and its message."""
    out = subprocess.run(
        [str(judge)], input=json.dumps(obj), capture_output=True, text=True, check=True
    )
    verdict: dict[str, str] = json.loads(out.stdout)
    return verdict


def expected_health(kind: str, case: str) -> Health:
    path = argocd_health.input_path(case)
    found = [t.expected for t in argocd_health.health_tests(kind) if t.input_path == path]
    assert found, f"health_test.yaml of {kind} has no test for {path}"
    return found[0]


@pytest.mark.parametrize(
    ("kind", "case"), [pytest.param(kind, case, id=f"{kind}/{case}") for kind, case in CASES]
)
def test_argocd_and_kstatus_read_the_operators_status_as_a_user_would(
    kind: str, case: str, cluster: KubeCluster, berth: Berth, kstatus_judge: pathlib.Path
) -> None:
    situation = CASES[kind, case]
    live = situation.produce(cluster, berth)
    assert live["kind"] == kind

    got = argocd_health.health(live)
    assert got.status == situation.health, got
    assert situation.words in got.message, got
    judged = kstatus(kstatus_judge, live)
    assert judged["status"] == situation.kstatus, judged

    if STAGING:
        argocd_health.stage(pathlib.Path(STAGING), case, live, got)
    # Messages name the object and quote the cluster (pods, back-off delays): the status must
    # match exactly, the message in what it says of every such object.
    expected = expected_health(kind, case)
    assert got.status == expected.status
    assert situation.words in expected.message
    stored = argocd_health.load(kind, argocd_health.input_path(case))
    reads = WHAT_THE_CHECK_READS[kind]
    assert reads(stored) == reads(live), (
        f"{kind}/{argocd_health.input_path(case)} no longer looks like what the operator writes; "
        f"re-capture it (python -m tests.e2e.capture_status) and read the diff. Live status: "
        f"{json.dumps(live.get('status'), indent=1)}"
    )


@pytest.mark.parametrize("kind", argocd_health.KINDS)
def test_every_testdata_object_has_a_case_that_recaptures_it(kind: str) -> None:
    cases = {argocd_health.input_path(case) for k, case in CASES if k == kind}

    assert argocd_health.stored_inputs(kind) == cases
