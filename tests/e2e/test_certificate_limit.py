"""End to end: Lightsail's certificate limit is a ResourceQuota of cert-manager Certificates in
the service's namespace. The real API server refuses ingress-shim's create, the real cert-manager
retries it in silence, and Berth tells the user: CERTIFICATE_LIMIT_EXCEEDED, until the quota
is raised."""

from __future__ import annotations

import time
from typing import Any

import pytest
from tests.e2e.network_support import condition
from tests.e2e.support import Berth, apply, service_manifest, wait_for, web_content

from devcluster import KubeCluster
from devcluster.addons import CertManager

pytestmark = pytest.mark.e2e

QUOTA = "certificates"
COUNT = "count/certificates.cert-manager.io"


def certificate_quota(hard: int, configmaps: int = 1000) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": QUOTA},
        "spec": {"hard": {COUNT: str(hard), "count/configmaps": str(configmaps)}},
    }


def counted(cluster: KubeCluster, berth: Berth) -> None:
    """Until the quota controller counts Certificates, the API server refuses each one for
    another reason ("status unknown for quota"), a passing one that Berth does not call the
    limit. The controller finds cert-manager's kind by discovery (every 30 s) but counts a quota
    again only when its spec.hard changes (or every 5 minutes): this cluster's cert-manager is
    as new as the quota, so the quota is nudged by a limit nobody here comes near."""
    nudges = iter(range(1001, 2000))

    def probe() -> bool:
        quota = berth.core.read_namespaced_resource_quota(QUOTA, berth.namespace)
        if COUNT in (quota.status.used or {}):
            return True
        hard = int(quota.spec.hard[COUNT])
        apply(cluster, berth.namespace, certificate_quota(hard, next(nudges)))
        time.sleep(2)
        return False

    wait_for(probe, 120, "the quota controller to count Certificates")


def test_a_full_certificate_quota_is_certificate_limit_exceeded_until_it_is_raised(
    cluster: KubeCluster, cert_manager: CertManager, berth: Berth
) -> None:
    apply(cluster, berth.namespace, certificate_quota(0))
    counted(cluster, berth)
    began = time.monotonic()
    apply(cluster, berth.namespace, service_manifest("capped", scale=1, deployment=web_content()))

    seen: list[dict[str, Any]] = []

    def limit_exceeded() -> dict[str, Any] | None:
        seen[:] = [status := berth.status("capped")]
        code = (status.get("stateDetail") or {}).get("code")
        return status if code == "CERTIFICATE_LIMIT_EXCEEDED" else None

    try:
        limited = wait_for(limit_exceeded, timeout=90, what="CERTIFICATE_LIMIT_EXCEEDED")
    except AssertionError as error:
        raise AssertionError(f"{error}; the service's status: {seen}") from None
    print(f"apply -> CERTIFICATE_LIMIT_EXCEEDED in {time.monotonic() - began:.1f}s")
    assert limited["state"] == "PENDING"  # its own (default domain's) certificate
    message = limited["stateDetail"]["message"]
    assert "capped.tls" in message and f"ResourceQuota {QUOTA} allows 0" in message
    assert condition(limited, "CertificateReady")["reason"] == "CertificateLimitExceeded"
    assert condition(limited, "Stalled")["status"] == "True"
    assert condition(limited, "Ready")["status"] == "False"

    apply(cluster, berth.namespace, certificate_quota(1))
    raised = time.monotonic()
    # cert-manager retries the refused create with its backoff (5 s doubling); then the
    # Certificate's watch event brings Berth back.
    running = berth.wait_state("capped", "RUNNING", timeout=180)
    print(f"quota raised -> RUNNING in {time.monotonic() - raised:.1f}s")
    assert condition(running, "CertificateReady")["status"] == "True"
    assert condition(running, "Stalled")["status"] == "False"
    assert not running.get("stateDetail", {}).get("code")
