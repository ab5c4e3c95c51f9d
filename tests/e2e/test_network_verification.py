"""End to end: a custom domain is served only once its owner proved it in DNS (real CoreDNS,
the operator's real resolver), or an administrator granted it; or, with verification off, as
before: to the first service that asks."""

from __future__ import annotations

import os
import pathlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import kubernetes
import pytest
from tests.e2e.conftest import VERIFICATION_PENDING_SECONDS
from tests.e2e.network_support import claims, condition, ingress, ingress_hosts
from tests.e2e.support import Berth, apply, service_manifest, wait_for, web_content

from berth.render import verification as records
from devcluster import Cluster, KubeCluster, external_kubeconfig, stop_at_exit
from devcluster.addons import CertManager
from devcluster.operator_process import OperatorProcess
from devcluster.run import install_api
from devcluster.txt_zone import TEST_ZONE, TxtZone

pytestmark = pytest.mark.e2e


@pytest.fixture
def tenant_a(
    operator: OperatorProcess,
    owner_dns: TxtZone,
    kube_api: kubernetes.client.ApiClient,
    namespace: str,
) -> Berth:
    return Berth(kube_api, namespace)


def domain(label: str) -> str:
    """A name in the zone the tests own; domains are cluster-wide, so each test has its own."""
    return f"{label}.t{uuid.uuid4().hex[:6]}.{TEST_ZONE}"


def start(cluster: KubeCluster, tenant: Berth, name: str, domains: dict[str, list[str]]) -> None:
    manifest = service_manifest(name, scale=1, deployment=web_content(), publicDomainNames=domains)
    apply(cluster, tenant.namespace, manifest)


def verified(tenant: Berth, name: str) -> dict[str, Any]:
    return condition(tenant.status(name), "DomainsVerified")


def shown_record(tenant: Berth, name: str, wanted: str) -> dict[str, Any]:
    """The validation record the service's status shows for `wanted` ({} until it does)."""
    shown = tenant.status(name).get("domainValidationRecords") or []
    return next((r for r in shown if r["domainName"] == wanted), {})


def hosts(api: kubernetes.client.ApiClient, tenant: Berth, name: str) -> list[str]:
    return ingress_hosts(ingress(api, tenant.namespace, name))


def prove(
    api: kubernetes.client.ApiClient, dns: TxtZone, tenant: Berth, name: str, wanted: str
) -> dict[str, Any]:
    """Publish the record `name`'s status asks for and wait until `wanted` is routed to it."""
    record: dict[str, Any] = wait_for(
        lambda: shown_record(tenant, name, wanted), what=f"record for {name}"
    )
    dns.set(record["resourceRecord"]["name"], record["resourceRecord"]["value"])
    wait_for(lambda: wanted in hosts(api, tenant, name), what=f"{wanted} routed to {name}")
    return record


def certificate(tenant: Berth, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = tenant.custom.get_namespaced_custom_object(
            "cert-manager.io", "v1", tenant.namespace, "certificates", name
        )
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return None
        raise
    return found


def test_a_domain_is_served_only_while_its_owner_publishes_the_services_record(
    cluster: KubeCluster,
    tenant_a: Berth,
    owner_dns: TxtZone,
    cert_manager: CertManager,
    kube_api: kubernetes.client.ApiClient,
) -> None:
    shop = domain("shop")
    start(cluster, tenant_a, "web", {"shop": [shop]})
    tenant_a.wait_state("web", "RUNNING")

    # No record: the status says which one to create; no route, no claim, no certificate.
    awaited = wait_for(lambda: shown_record(tenant_a, "web", shop), what="record shown")
    record = awaited["resourceRecord"]
    assert record["name"] == f"_berth-challenge.{shop}"
    assert record["type"] == "TXT" and record["value"].startswith(records.VALUE_PREFIX)
    assert awaited["validationStatus"] == "PENDING_VALIDATION"
    refused = verified(tenant_a, "web")
    assert (refused["status"], refused["reason"]) == ("False", "RecordNotFound")
    assert f'{record["name"]} TXT "{record["value"]}"' in refused["message"]
    admitted = condition(tenant_a.status("web"), "DomainsAdmitted")
    assert (admitted["status"], admitted["reason"]) == ("False", "DomainNotVerified")
    # The Warning is posted after the status it explains is written.
    wait_for(
        lambda: (
            "DomainNotVerified" in {e.reason for e in tenant_a.events("web") if e.type == "Warning"}
        ),
        what="a DomainNotVerified Warning",
    )
    assert shop not in hosts(kube_api, tenant_a, "web")
    assert len(hosts(kube_api, tenant_a, "web")) == 1  # the default domain still serves
    assert claims(kube_api, shop) == []
    assert certificate(tenant_a, "web.shop.tls") is None
    assert tenant_a.status("web").get("publicDomainNames") is None

    # Another value at that name (another service's record) proves nothing, however often the
    # operator looks.
    owner_dns.set(record["name"], records.VALUE_PREFIX + "someoneelse")
    time.sleep(3 * VERIFICATION_PENDING_SECONDS)
    assert shop not in hosts(kube_api, tenant_a, "web")

    # The owner publishes it (beside other TXT values): served, claimed, certified.
    owner_dns.set(record["name"], "v=spf1 -all", record["value"])
    wait_for(lambda: shop in hosts(kube_api, tenant_a, "web"), what="domain routed")
    assert shown_record(tenant_a, "web", shop)["validationStatus"] == "SUCCESS"
    assert verified(tenant_a, "web")["status"] == "True"
    assert tenant_a.status("web")["publicDomainNames"] == {"shop": [shop]}
    [claim] = claims(kube_api, shop)
    assert claim["spec"]["owner"]["namespace"] == tenant_a.namespace
    issued = wait_for(lambda: certificate(tenant_a, "web.shop.tls"), what="Certificate")
    assert issued["spec"]["dnsNames"] == [shop]

    # The record goes: at the next look the domain goes too, and its name is free again.
    owner_dns.set(record["name"])
    wait_for(lambda: shop not in hosts(kube_api, tenant_a, "web"), what="route removed")
    wait_for(
        lambda: shown_record(tenant_a, "web", shop)["validationStatus"] == "PENDING_VALIDATION",
        what="waiting for the record again",
    )
    wait_for(lambda: claims(kube_api, shop) == [], what="claim released")


def test_another_tenant_cannot_use_the_record_that_proves_a_domain_for_its_owner(
    cluster: KubeCluster,
    tenant_a: Berth,
    tenant_b: Berth,
    owner_dns: TxtZone,
    kube_api: kubernetes.client.ApiClient,
) -> None:
    shop = domain("shop")
    start(cluster, tenant_a, "shop", {"c": [shop]})
    record = prove(kube_api, owner_dns, tenant_a, "shop", shop)

    # The same service name in another namespace: another record, which the owner never made.
    start(cluster, tenant_b, "shop", {"c": [shop.upper()]})
    theirs = wait_for(lambda: shown_record(tenant_b, "shop", shop), what="thief's record")
    assert theirs["resourceRecord"]["name"] == record["resourceRecord"]["name"]
    assert theirs["resourceRecord"]["value"] != record["resourceRecord"]["value"]
    assert theirs["validationStatus"] == "PENDING_VALIDATION"
    refused = condition(tenant_b.status("shop"), "DomainsAdmitted")
    assert (refused["status"], refused["reason"]) == ("False", "DomainNotVerified")
    assert tenant_a.namespace not in refused["message"]

    # Even once the owner's service is gone and the name is free, the owner's record does not
    # admit the other tenant: it names the owner's namespace.
    cluster.kubectl("delete", "-n", tenant_a.namespace, "csvc", "shop")
    wait_for(lambda: claims(kube_api, shop) == [], what="owner's claim released")
    wait_for(lambda: shown_record(tenant_b, "shop", shop).get("message") is not None, what="looked")
    assert shown_record(tenant_b, "shop", shop)["validationStatus"] == "PENDING_VALIDATION"
    assert shop not in hosts(kube_api, tenant_b, "shop")
    assert claims(kube_api, shop) == []


def test_an_older_service_without_proof_does_not_hold_the_domain_back_from_its_owner(
    cluster: KubeCluster,
    tenant_a: Berth,
    tenant_b: Berth,
    owner_dns: TxtZone,
    kube_api: kubernetes.client.ApiClient,
) -> None:
    shop = domain("shop")
    start(cluster, tenant_b, "squat", {"c": [shop]})
    wait_for(lambda: shown_record(tenant_b, "squat", shop), what="squatter's record")
    time.sleep(1.1)  # creation times are whole seconds: the squatter is strictly older

    start(cluster, tenant_a, "shop", {"c": [shop]})
    prove(kube_api, owner_dns, tenant_a, "shop", shop)
    [claim] = claims(kube_api, shop)
    assert claim["spec"]["owner"]["namespace"] == tenant_a.namespace
    assert shop not in hosts(kube_api, tenant_b, "squat")


def test_an_administrators_allow_list_admits_a_domain_without_a_record(
    cluster: KubeCluster,
    tenant_a: Berth,
    allow_domains: Callable[..., str],
    kube_api: kubernetes.client.ApiClient,
) -> None:
    zone = f"t{uuid.uuid4().hex[:6]}.{TEST_ZONE}"
    shop, wildcard = f"shop.{zone}", f"*.apps.{zone}"
    start(cluster, tenant_a, "web", {"c": [shop], "w": [wildcard]})
    wait_for(
        lambda: verified(tenant_a, "web").get("reason") == "RecordNotFound", what="refused first"
    )

    granted = allow_domains(tenant_a.namespace, f"*.{zone}")
    wait_for(lambda: {shop, wildcard} <= set(hosts(kube_api, tenant_a, "web")), what="both routed")
    status = tenant_a.status("web")
    assert status.get("domainValidationRecords") is None  # nothing to prove
    assert condition(status, "DomainsVerified")["status"] == "True"

    # Taken back: no record either, so the domains go.
    cluster.kubectl("delete", "domainallowlist", granted)
    wait_for(lambda: len(hosts(kube_api, tenant_a, "web")) == 1, what="domains removed")


def test_with_verification_off_the_first_service_that_asks_gets_the_domain(
    tmp_path: pathlib.Path,
) -> None:
    """A cluster of its own: the session's operator verifies, and two operators may not share
    the services of one cluster."""
    if external_kubeconfig() is not None:
        message = "BERTH_KUBECONFIG names a cluster; this test starts a second, embedded one"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    alone = Cluster()
    stop_at_exit(alone)
    with alone:
        install_api(alone)
        operator = OperatorProcess(
            alone.kubeconfig, tmp_path / "operator.log", env={"BERTH_DOMAIN_VERIFICATION": "false"}
        ).start()
        api = kubernetes.config.new_client_from_config(config_file=str(alone.kubeconfig))
        try:
            alone.kubectl("create", "namespace", "solo")
            tenant = Berth(api, "solo")
            shop = domain("shop")
            start(alone, tenant, "web", {"c": [shop]})
            wait_for(lambda: shop in hosts(api, tenant, "web"), what="routed without proof")
            status = tenant.status("web")
            assert condition(status, "DomainsVerified")["reason"] == "VerificationOff"
            assert status.get("domainValidationRecords") is None
            assert [c["spec"]["owner"]["name"] for c in claims(api, shop)] == ["web"]
            # No key is ever made where nothing is verified.
            secret = alone.kubectl(
                "get", "secret", "-n", "berth-system", records.KEY_SECRET, check=False
            )
            assert secret.returncode != 0
        finally:
            api.close()
            operator.stop()
            print(f"operator log: {tmp_path / 'operator.log'}")
