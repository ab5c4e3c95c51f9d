"""End to end: private names `<svc>.service.local`, served by real CoreDNS from the operator's zone."""

from __future__ import annotations

import json
import uuid

import kubernetes
import pytest
from tests.e2e.network_support import (
    OPERATOR_NAMESPACE,
    SUFFIX,
    PrivateDns,
    condition,
    empty_zone,
)
from tests.e2e.support import Berth, apply, service_manifest, wait_for, web_content

from berth.render import names
from devcluster import KubeCluster
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
def tenant_a(
    operator: OperatorProcess,
    private_dns: PrivateDns,
    kube_api: kubernetes.client.ApiClient,
    namespace: str,
) -> Berth:
    return Berth(kube_api, namespace)


def unique(prefix: str) -> str:
    """Private names are cluster-wide: each test needs its own."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def create(cluster: KubeCluster, tenant: Berth, name: str) -> str:
    """A running service; returns its Service's ClusterIP."""
    apply(cluster, tenant.namespace, service_manifest(name, scale=1, deployment=web_content()))
    tenant.wait_state(name, "RUNNING")
    return str(wait_for(lambda: tenant.kube_service(name), what="Service").spec.cluster_ip)


def admitted(tenant: Berth, name: str) -> str:
    return str(condition(tenant.status(name), "PrivateDomainAdmitted").get("status"))


def test_private_name_resolves_to_the_service_cluster_ip(
    cluster: KubeCluster, tenant_a: Berth, private_dns: PrivateDns
) -> None:
    name = unique("web")
    cluster_ip = create(cluster, tenant_a, name)

    fqdn = f"{name}.service.local"
    assert wait_for(lambda: private_dns.lookup(fqdn), what=f"{fqdn} resolves") == [cluster_ip]
    status = tenant_a.status(name)
    assert status["privateDomainName"] == fqdn
    assert admitted(tenant_a, name) == "True"
    assert private_dns.lookup(f"missing-{name}.service.local") is None


def test_private_name_follows_a_new_cluster_ip_and_goes_with_the_service(
    cluster: KubeCluster, tenant_a: Berth, private_dns: PrivateDns
) -> None:
    name = unique("move")
    first_ip = create(cluster, tenant_a, name)
    fqdn = f"{name}.service.local"
    wait_for(lambda: private_dns.lookup(fqdn) == [first_ip], what="first address")

    # An update that gives the Service a new ClusterIP: it is deleted and the operator restores it.
    cluster.kubectl("delete", "-n", tenant_a.namespace, "service", name)
    new_ip = wait_for(
        lambda: (s := tenant_a.kube_service(name)) and s.spec.cluster_ip != first_ip and s,
        what="Service restored with a new ClusterIP",
    ).spec.cluster_ip
    wait_for(lambda: private_dns.lookup(fqdn) == [new_ip], what="the new address")

    # A new version (another port) keeps the name.
    apply(
        cluster,
        tenant_a.namespace,
        service_manifest(name, scale=1, deployment=web_content(port=8080)),
    )
    wait_for(lambda: tenant_a.version_states(name).get(2) == "ACTIVE", what="version 2")
    assert private_dns.lookup(fqdn) == [new_ip]

    cluster.kubectl("delete", "-n", tenant_a.namespace, "csvc", name, "--wait=false")
    wait_for(lambda: private_dns.lookup(fqdn) is None, what=f"{fqdn} gone")


def test_a_name_taken_in_another_namespace_is_not_admitted_until_the_owner_goes(
    cluster: KubeCluster, tenant_a: Berth, tenant_b: Berth, private_dns: PrivateDns
) -> None:
    name = unique("shop")
    fqdn = f"{name}.service.local"
    owner_ip = create(cluster, tenant_a, name)
    wait_for(lambda: private_dns.lookup(fqdn) == [owner_ip], what="owner's address")

    later_ip = create(cluster, tenant_b, name)
    wait_for(lambda: admitted(tenant_b, name) == "False", what="later service refused")
    refused = condition(tenant_b.status(name), "PrivateDomainAdmitted")
    assert refused["reason"] == "DomainConflict"
    assert tenant_a.namespace not in refused["message"]  # no tenant learns of another
    warnings = [e for e in tenant_b.events(name) if e.type == "Warning"]
    assert any(e.reason == "DomainConflict" for e in warnings)
    assert private_dns.lookup(fqdn) == [owner_ip]
    assert admitted(tenant_a, name) == "True"

    cluster.kubectl("delete", "-n", tenant_a.namespace, "csvc", name, "--wait=false")
    wait_for(lambda: admitted(tenant_b, name) == "True", what="next claimant admitted")
    wait_for(lambda: private_dns.lookup(fqdn) == [later_ip], what="name moved to the claimant")


def zone_text(tenant: Berth) -> str:
    try:
        found = tenant.core.read_namespaced_config_map(
            names.PRIVATE_ZONE_CONFIGMAP, OPERATOR_NAMESPACE
        )
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return ""
        raise
    return str((found.data or {}).get(names.private_zone_key(SUFFIX), ""))


def test_the_zone_configmap_is_restored_after_a_deletion_and_a_hand_edit(
    cluster: KubeCluster, tenant_a: Berth, private_dns: PrivateDns
) -> None:
    name = unique("keep")
    cluster_ip = create(cluster, tenant_a, name)
    fqdn = f"{name}.service.local"
    record = f"{name} IN A {cluster_ip}"
    wait_for(lambda: private_dns.lookup(fqdn) == [cluster_ip], what="resolves")

    # Deleted: CoreDNS (the mirror here, the kubelet's volume in a cluster) keeps serving the last
    # zone, so only the restored content shows the operator's work.
    zone_map = names.PRIVATE_ZONE_CONFIGMAP
    cluster.kubectl("delete", "configmap", "-n", OPERATOR_NAMESPACE, zone_map)
    wait_for(lambda: record in zone_text(tenant_a), what="zone ConfigMap restored with the record")

    # Edited to an empty zone: CoreDNS serves the edit until the operator puts the record back.
    patch = json.dumps({"data": {names.private_zone_key(SUFFIX): empty_zone()}})
    cluster.kubectl("patch", "configmap", "-n", OPERATOR_NAMESPACE, zone_map, "-p", patch)
    wait_for(lambda: record in zone_text(tenant_a), what="the record back in the ConfigMap")
    assert wait_for(lambda: private_dns.lookup(fqdn), what="resolves again") == [cluster_ip]


def test_services_created_together_all_get_their_name_in_the_one_zone(
    cluster: KubeCluster, tenant_a: Berth, private_dns: PrivateDns
) -> None:
    """Concurrent reconciles share one ConfigMap: none may write a zone that misses another."""
    batch = [unique("many") for _ in range(8)]
    apply(
        cluster,
        tenant_a.namespace,
        *(service_manifest(name, scale=1, deployment=web_content()) for name in batch),
    )
    addresses = {
        name: wait_for(lambda name=name: tenant_a.kube_service(name), what=name).spec.cluster_ip
        for name in batch
    }
    for name, address in addresses.items():
        wait_for(
            lambda name=name, address=address: (
                private_dns.lookup(f"{name}.service.local") == [address]
            ),
            what=f"{name} resolves",
        )
