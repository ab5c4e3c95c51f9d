"""End to end: the public endpoint's Ingress and cluster-wide ownership of custom domains."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable

import kubernetes
import pytest
from tests.e2e.network_support import claims, condition, ingress, ingress_hosts
from tests.e2e.support import Berth, apply, service_manifest, wait_for, web_content
from tests.machine import skip_or_fail

from devcluster import KubeCluster
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e


# These tests are about the Ingress and about which of two services that may both use a domain
# gets it: their tenants are granted the test domains by an administrator's allow-list, so that
# proof of ownership (test_network_verification.py) does not stand in the way.
GRANTED = "*.example.com"


@pytest.fixture
def tenant_a(
    operator: OperatorProcess,
    kube_api: kubernetes.client.ApiClient,
    namespace: str,
    allow_domains: Callable[..., str],
) -> Berth:
    allow_domains(namespace, GRANTED)
    return Berth(kube_api, namespace)


def domain(label: str) -> str:
    """Domains are cluster-wide: each test gets its own."""
    return f"{label}.t{uuid.uuid4().hex[:6]}.example.com"


def start(cluster: KubeCluster, tenant: Berth, name: str, **spec: object) -> None:
    apply(cluster, tenant.namespace, service_manifest(name, scale=1, **spec))


def domains_admitted(tenant: Berth, name: str) -> dict[str, str]:
    return condition(tenant.status(name), "DomainsAdmitted")


def patch(cluster: KubeCluster, tenant: Berth, name: str, spec: dict[str, object]) -> None:
    body = json.dumps({"spec": spec})
    cluster.kubectl("patch", "-n", tenant.namespace, "csvc", name, "--type=merge", "-p", body)


def test_the_ingress_serves_the_default_and_custom_domains_over_tls_only(
    cluster: KubeCluster, tenant_a: Berth, kube_api: kubernetes.client.ApiClient
) -> None:
    shop, wildcard = domain("Shop"), "*." + domain("apps")
    start(
        cluster,
        tenant_a,
        "front",
        deployment=web_content(port=8080),
        publicDomainNames={"main": [shop], "wild": [wildcard]},
    )
    status = tenant_a.wait_state("front", "RUNNING")
    default = status["url"].removeprefix("https://").rstrip("/")
    assert default == f"front.{status['guid']}.local.cs.berth.internal"

    found = wait_for(lambda: ingress(kube_api, tenant_a.namespace, "front"), what="Ingress")
    assert ingress_hosts(found) == [default, shop.lower(), wildcard]
    backends = {r.http.paths[0].backend.service.port.number for r in found.spec.rules}
    assert backends == {8080}
    assert {r.http.paths[0].backend.service.name for r in found.spec.rules} == {"front"}
    assert {t.secret_name: t.hosts for t in found.spec.tls} == {
        "front.tls": [default],
        "front.main.tls": [shop.lower()],
        "front.wild.tls": [wildcard],
    }
    annotations = found.metadata.annotations
    assert annotations["cert-manager.io/cluster-issuer"] == "berth-ca"
    assert annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    assert found.metadata.owner_references[0].kind == "ContainerService"
    assert status["publicDomainNames"] == {"main": [shop.lower()], "wild": [wildcard]}
    assert domains_admitted(tenant_a, "front")["status"] == "True"


def test_no_ingress_without_a_public_endpoint_or_while_disabled(
    cluster: KubeCluster, tenant_a: Berth, kube_api: kubernetes.client.ApiClient
) -> None:
    internal = {"containers": {"worker": {"image": "busybox:1", "ports": {"9000": "TCP"}}}}
    start(cluster, tenant_a, "quiet", deployment=internal)
    start(cluster, tenant_a, "toggle", deployment=web_content())
    tenant_a.wait_state("quiet", "RUNNING")
    wait_for(lambda: ingress(kube_api, tenant_a.namespace, "toggle"), what="Ingress")
    assert ingress(kube_api, tenant_a.namespace, "quiet") is None

    patch(cluster, tenant_a, "toggle", {"isDisabled": True})
    wait_for(lambda: ingress(kube_api, tenant_a.namespace, "toggle") is None, what="removed")
    patch(cluster, tenant_a, "toggle", {"isDisabled": False})
    wait_for(lambda: ingress(kube_api, tenant_a.namespace, "toggle"), what="back")


def test_a_deleted_ingress_is_restored(
    cluster: KubeCluster, tenant_a: Berth, kube_api: kubernetes.client.ApiClient
) -> None:
    start(cluster, tenant_a, "heal", deployment=web_content())
    uid = wait_for(lambda: ingress(kube_api, tenant_a.namespace, "heal")).metadata.uid
    cluster.kubectl("delete", "-n", tenant_a.namespace, "ingress", "heal")
    wait_for(
        lambda: (i := ingress(kube_api, tenant_a.namespace, "heal")) and i.metadata.uid != uid,
        what="Ingress restored",
    )


def test_a_domain_of_another_tenant_is_refused_until_its_owner_releases_it(
    cluster: KubeCluster,
    tenant_a: Berth,
    tenant_b: Berth,
    kube_api: kubernetes.client.ApiClient,
    allow_domains: Callable[..., str],
) -> None:
    allow_domains(tenant_b.namespace, GRANTED)
    shop, wildcard = domain("shop"), "*." + domain("wild")
    start(cluster, tenant_a, "owner", deployment=web_content(), publicDomainNames={"c": [shop]})
    start(
        cluster,
        tenant_a,
        "wild-owner",
        deployment=web_content(),
        publicDomainNames={"w": [wildcard]},
    )
    tenant_a.wait_state("owner", "RUNNING")
    tenant_a.wait_state("wild-owner", "RUNNING")

    # Case does not matter, and a wildcard is a name like any other.
    start(
        cluster,
        tenant_b,
        "thief",
        deployment=web_content(),
        publicDomainNames={"c": [shop.upper()], "w": [wildcard.upper()], "ok": [domain("own")]},
    )
    refused = wait_for(
        lambda: (c := domains_admitted(tenant_b, "thief")).get("status") == "False" and c,
        what="DomainsAdmitted=False",
    )
    assert refused["reason"] == "DomainConflict"
    assert shop.lower() in refused["message"] and wildcard in refused["message"]
    assert tenant_a.namespace not in refused["message"]
    # The Warning is posted after the status it explains is written.
    wait_for(
        lambda: (
            "DomainConflict" in {e.reason for e in tenant_b.events("thief") if e.type == "Warning"}
        ),
        what="a DomainConflict Warning",
    )
    # kstatus and Argo CD: a name it cannot have stalls the service; it is not "in progress"
    health = {c["type"]: c for c in tenant_b.status("thief")["conditions"]}
    assert (health["Stalled"]["status"], health["Stalled"]["reason"]) == ("True", "DomainConflict")
    assert health["Reconciling"]["status"] == "False"
    thief_hosts = ingress_hosts(ingress(kube_api, tenant_b.namespace, "thief"))
    assert shop.lower() not in thief_hosts and wildcard not in thief_hosts
    assert len(thief_hosts) == 2  # the default domain and its own custom domain
    assert shop.lower() in ingress_hosts(ingress(kube_api, tenant_a.namespace, "owner"))
    [claim] = claims(kube_api, shop.lower())
    assert claim["spec"]["owner"]["namespace"] == tenant_a.namespace

    cluster.kubectl("delete", "-n", tenant_a.namespace, "csvc", "owner", "wild-owner")
    wait_for(
        lambda: domains_admitted(tenant_b, "thief").get("status") == "True",
        what="next claimant admitted",
    )
    wait_for(
        lambda: (
            {c["type"]: c["status"] for c in tenant_b.status("thief")["conditions"]}["Stalled"]
            == "False"
        ),
        what="no longer Stalled once admitted",
    )
    wait_for(
        lambda: (
            {shop.lower(), wildcard}
            <= set(ingress_hosts(ingress(kube_api, tenant_b.namespace, "thief")))
        ),
        what="domains moved to the claimant's Ingress",
    )


def test_two_services_created_at_once_get_a_domain_exactly_once(
    cluster: KubeCluster,
    tenant_a: Berth,
    tenant_b: Berth,
    kube_api: kubernetes.client.ApiClient,
    allow_domains: Callable[..., str],
) -> None:
    allow_domains(tenant_b.namespace, GRANTED)
    contested = domain("race")
    tenants = (tenant_a, tenant_b)
    for round_ in range(3):
        name = f"race-{round_}"
        manifest = service_manifest(
            name, scale=1, deployment=web_content(), publicDomainNames={"c": [contested]}
        )
        # Both in flight together; the operator's workers reconcile them concurrently.
        threads = [
            threading.Thread(target=apply, args=(cluster, tenant.namespace, manifest))
            for tenant in tenants
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        def verdicts(name: str = name) -> list[str]:
            return [domains_admitted(t, name).get("status", "") for t in tenants]

        wait_for(lambda: sorted(verdicts()) == ["False", "True"], what="one winner, one loser")
        winner = tenants[verdicts().index("True")]
        [claim] = claims(kube_api, contested)
        assert claim["spec"]["owner"]["namespace"] == winner.namespace
        serving = [
            contested in ingress_hosts(ingress(kube_api, t.namespace, name)) for t in tenants
        ]
        assert serving == [t is winner for t in tenants]
        for tenant in tenants:
            cluster.kubectl("delete", "-n", tenant.namespace, "csvc", name)
        wait_for(lambda: not claims(kube_api, contested), what="claim released")


@pytest.mark.before_cert_manager
def test_certificate_ready_is_unknown_without_cert_manager(
    cluster: KubeCluster, tenant_a: Berth
) -> None:
    installed = cluster.kubectl("get", "crd", "certificates.cert-manager.io", check=False)
    if installed.returncode == 0:
        # Only when this session's cluster had it before the tests began (BERTH_KUBECONFIG).
        skip_or_fail("cert-manager was installed earlier in this session")
    start(cluster, tenant_a, "plain", deployment=web_content())
    status = tenant_a.wait_state("plain", "RUNNING")
    ready = condition(status, "CertificateReady")
    assert ready["status"] == "Unknown"
    assert ready["reason"] == "CertManagerNotInstalled"
