"""End to end: real cert-manager issues the Ingress's certificates; status follows its Ready."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable

import kubernetes
import pytest
from cryptography import x509
from tests.e2e.conftest import CERTIFICATE_DEADLINE_SECONDS, CLUSTER_ISSUER
from tests.e2e.network_support import condition, ingress
from tests.e2e.support import Berth, apply, service_manifest, wait_for, web_content

from devcluster import KubeCluster
from devcluster.addons import SELF_SIGNED_ISSUER, CertManager
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
def berth(
    operator: OperatorProcess,
    cert_manager: CertManager,
    kube_api: kubernetes.client.ApiClient,
    namespace: str,
    allow_domains: Callable[..., str],
) -> Berth:
    # Certificates are the subject here; an allow-list stands in for proof of ownership.
    allow_domains(namespace, "*.example.org")
    return Berth(kube_api, namespace)


def domain(label: str) -> str:
    return f"{label}.t{uuid.uuid4().hex[:6]}.example.org"


def certificate(berth: Berth, name: str) -> dict[str, object] | None:
    try:
        found: dict[str, object] = berth.custom.get_namespaced_custom_object(
            "cert-manager.io", "v1", berth.namespace, "certificates", name
        )
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return None
        raise
    return found


def certificate_hosts(berth: Berth, secret: str) -> list[str]:
    """The DNS names in the certificate that the secret holds, read as a TLS client would."""
    found = berth.core.read_namespaced_secret(secret, berth.namespace)
    pem = base64.b64decode(found.data["tls.crt"])
    parsed = x509.load_pem_x509_certificate(pem)
    names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return sorted(names.get_values_for_type(x509.DNSName))


def test_ingress_shim_issues_a_certificate_per_name_for_exactly_its_hosts(
    cluster: KubeCluster, berth: Berth, kube_api: kubernetes.client.ApiClient
) -> None:
    shop, www, wildcard = domain("shop"), domain("www"), "*." + domain("apps")
    domains = {"main": [shop.upper(), www], "wild": [wildcard]}
    apply(
        cluster,
        berth.namespace,
        service_manifest("tls", scale=1, deployment=web_content(), publicDomainNames=domains),
    )

    status = wait_for(
        lambda: (
            (s := berth.status("tls")).get("state") == "RUNNING"
            and condition(s, "CertificateReady").get("status") == "True"
            and s
        ),
        timeout=90,
        what="RUNNING with certificates issued",
    )
    default = status["url"].removeprefix("https://").rstrip("/")
    expected = {
        "tls.tls": [default],
        "tls.main.tls": sorted([shop.lower(), www]),
        "tls.wild.tls": [wildcard],
    }
    for secret, hosts in expected.items():
        cert = certificate(berth, secret)
        assert cert is not None, f"ingress-shim made no Certificate {secret}"
        assert sorted(cert["spec"]["dnsNames"]) == hosts  # type: ignore[index]
        assert certificate_hosts(berth, secret) == hosts
    assert condition(status, "CertificateReady")["reason"] == "Issued"
    assert ingress(kube_api, berth.namespace, "tls") is not None


def test_state_is_provisioning_certificate_until_cert_manager_issues_it(
    cluster: KubeCluster, berth: Berth
) -> None:
    # Without its issuer cert-manager cannot issue: the window stays open as long as the test needs.
    cluster.kubectl("delete", "clusterissuer", CLUSTER_ISSUER, "--ignore-not-found")
    try:
        apply(
            cluster,
            berth.namespace,
            service_manifest("slow", scale=1, deployment=web_content()),
        )
        waiting = wait_for(
            lambda: (
                (s := berth.status("slow")).get("stateDetail", {}).get("code")
                == "PROVISIONING_CERTIFICATE"
                and s
            ),
            timeout=90,
            what="PROVISIONING_CERTIFICATE",
        )
        assert waiting["state"] == "UPDATING"
        ready = condition(waiting, "CertificateReady")
        assert ready["status"] == "False"
        assert ready["reason"] == "Provisioning"
        assert "slow.tls" in ready["message"]
        assert condition(waiting, "Ready")["status"] == "False"
        assert condition(waiting, "Reconciling")["status"] == "True"
        # Nothing changes while the issuer is missing: the operator looks again at the deadline.
        stalled = wait_for(
            lambda: condition(s := berth.status("slow"), "Stalled")["status"] == "True" and s,
            timeout=CERTIFICATE_DEADLINE_SECONDS + 45,
            what="Stalled once the certificate deadline passed",
        )
        assert condition(stalled, "Stalled")["reason"] == "CertificateNotIssued"
        assert condition(stalled, "Reconciling")["status"] == "False"
    finally:
        cluster.kubectl("apply", "-f", "-", input=SELF_SIGNED_ISSUER.format(name=CLUSTER_ISSUER))

    running = berth.wait_state("slow", "RUNNING", timeout=90)
    assert condition(running, "CertificateReady")["status"] == "True"
    assert condition(running, "Stalled")["status"] == "False"
    assert certificate_hosts(berth, "slow.tls") == [
        running["url"].removeprefix("https://").rstrip("/")
    ]
