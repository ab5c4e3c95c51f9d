"""Fixtures for end-to-end tests: one real control plane per test session."""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import Callable, Iterator

import kubernetes
import pytest
from tests.e2e.network_support import (
    OPERATOR_NAMESPACE,
    SUFFIX,
    PrivateDns,
    allow_list,
    empty_zone,
)
from tests.e2e.support import Berth

from berth.settings import Settings
from devcluster import (
    Cluster,
    ExternalCluster,
    KubeCluster,
    external_kubeconfig,
    stop_at_exit,
)
from devcluster.addons import CertManager, CoreDNS, ensure_addons, free_port
from devcluster.certs import write_ca
from devcluster.components import LOOPBACK, free_tcp_ports
from devcluster.operator_process import OperatorProcess
from devcluster.registry import RegistryServer, ensure_registry
from devcluster.txt_zone import TEST_ZONE, TxtZone, zone_text
from devcluster.zone_mirror import ZoneMirror


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests of a cluster without cert-manager run before any test installs it into the shared
    session cluster (a stable sort: every other test keeps its place)."""
    items.sort(key=lambda item: item.get_closest_marker("before_cert_manager") is None)


@pytest.fixture(scope="session")
def cluster() -> Iterator[KubeCluster]:
    """The embedded cluster, started once; or the one BERTH_KUBECONFIG names, left untouched.

    The binaries must be built beforehand (devcluster/build.sh): a first build takes far
    longer than the timeout of the test that happens to set this fixture up.
    """
    kubeconfig = external_kubeconfig()
    if kubeconfig is not None:
        yield ExternalCluster(kubeconfig)
        return
    started = Cluster()
    # Test failures end in fixture teardown anyway; this adds SIGTERM/SIGHUP (and SIGINT when
    # inherited as ignored) and an interpreter exit that skips teardown.
    stop_at_exit(started)
    with started:
        yield started


@pytest.fixture(scope="session")
def kube_api(cluster: KubeCluster) -> Iterator[kubernetes.client.ApiClient]:
    """A kubernetes.client.ApiClient, cluster admin on `cluster`."""
    client = kubernetes.config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield client
    client.close()


@pytest.fixture
def namespace(cluster: KubeCluster) -> Iterator[str]:
    """A fresh namespace for one test, deleted (without waiting) afterwards."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


REPO = pathlib.Path(__file__).resolve().parents[2]
CLUSTER_ISSUER = Settings.model_fields["cluster_issuer"].default
# The shortest the operator takes: a test sees a service stall for want of its certificates.
CERTIFICATE_DEADLINE_SECONDS = 30
PROGRESS_DEADLINE_SECONDS = 15
# Domain verification: records awaited are looked for every second, proved ones every few.
VERIFICATION_PENDING_SECONDS = 1
VERIFICATION_INTERVAL_SECONDS = 3
E2E_REGISTRY = "registry.e2e.invalid:5000"


@pytest.fixture(scope="session")
def berth_api(cluster: KubeCluster) -> KubeCluster:
    """The Berth CRDs and the default powers, installed once."""
    cluster.kubectl("apply", "-f", str(REPO / "crds"))
    cluster.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", "-f", str(REPO / "crds")
    )
    cluster.kubectl("apply", "-f", str(REPO / "manifests" / "powers.yaml"))
    return cluster


@pytest.fixture(scope="session")
def owner_dns_port() -> int:
    """The loopback port of the DNS server of domain owners (owner_dns), chosen before the
    operator starts so that its resolver can be pointed there."""
    return free_port()


@pytest.fixture(scope="session")
def operator(
    berth_api: KubeCluster, owner_dns_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """The real operator, out of cluster, with a short progress deadline. Domain verification is
    on (the default), and its resolver is the owners' CoreDNS (owner_dns): tests that use custom
    domains for something else grant them with a DomainAllowList (allow_domains)."""
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    process = OperatorProcess(
        berth_api.kubeconfig,
        log,
        env={
            "BERTH_PROGRESS_DEADLINE_SECONDS": str(PROGRESS_DEADLINE_SECONDS),
            "BERTH_CERTIFICATE_DEADLINE_SECONDS": str(CERTIFICATE_DEADLINE_SECONDS),
            "BERTH_DOMAIN_VERIFICATION_NAMESERVERS": f'["127.0.0.1:{owner_dns_port}"]',
            "BERTH_DOMAIN_VERIFICATION_PENDING_SECONDS": str(VERIFICATION_PENDING_SECONDS),
            "BERTH_DOMAIN_VERIFICATION_INTERVAL_SECONDS": str(VERIFICATION_INTERVAL_SECONDS),
            "BERTH_DOMAIN_VERIFICATION_TIMEOUT_SECONDS": "2",
            # Resolution of registered images needs no registry to answer: kwok's pods pull
            # nothing (test_registered_images.py; the live test pulls from a real one).
            "BERTH_REGISTRY": E2E_REGISTRY,
            "BERTH_REGISTRY_PULL_USERNAME": "e2e-pull",
            "BERTH_REGISTRY_PULL_PASSWORD": "e2e-pull-password",
            # No registry answers there: deleted records would wait for it forever
            # (test_registry_gc.py runs an operator that deletes manifests).
            "BERTH_REGISTRY_DELETE_MANIFESTS": "false",
        },
    )
    process.start()
    yield process
    process.stop()
    print(f"operator log: {log}")


# --- networking add-ons: started only by the tests that ask for them ----------------------------


@pytest.fixture(scope="session")
def addons_bin() -> pathlib.Path:
    """CoreDNS and the cert-manager controller (devcluster/addons/build.sh; `make binaries`)."""
    return ensure_addons()


@pytest.fixture(scope="session")
def operator_namespace(cluster: KubeCluster) -> str:
    """The operator's namespace (Settings.namespace), where it keeps the private zone."""
    cluster.kubectl("create", "namespace", OPERATOR_NAMESPACE, check=False)
    return OPERATOR_NAMESPACE


@pytest.fixture(scope="session")
def private_dns(
    kube_api: kubernetes.client.ApiClient,
    operator_namespace: str,
    addons_bin: pathlib.Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PrivateDns]:
    """Real CoreDNS on a loopback port, serving the zone ConfigMap the operator writes."""
    server = CoreDNS(addons_bin, tmp_path_factory.mktemp("coredns"), SUFFIX)
    server.start(empty_zone())
    mirror = ZoneMirror(kube_api, server, OPERATOR_NAMESPACE, SUFFIX).start()
    yield PrivateDns(server)
    mirror.stop()
    server.stop()
    print(f"coredns log: {server.work_dir / 'coredns.log'}")


@pytest.fixture(scope="session")
def owner_dns(
    owner_dns_port: int, addons_bin: pathlib.Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TxtZone]:
    """Real CoreDNS serving `example.test`, where tests publish TXT records as domain owners."""
    server = CoreDNS(
        addons_bin, tmp_path_factory.mktemp("owner-dns"), TEST_ZONE, port=owner_dns_port
    )
    server.start(zone_text(TEST_ZONE, {}))
    yield TxtZone(server.zone_file, TEST_ZONE)
    server.stop()
    print(f"owners' coredns log: {server.work_dir / 'coredns.log'}")


@pytest.fixture
def allow_domains(cluster: KubeCluster) -> Iterator[Callable[..., str]]:
    """Grants a namespace custom domains, as an administrator does (a DomainAllowList); the
    lists made are deleted afterwards (they are cluster-scoped: a namespace's deletion leaves
    them)."""
    made: list[str] = []

    def allow(namespace: str, *patterns: str) -> str:
        name = f"e2e-{uuid.uuid4().hex[:8]}"
        cluster.kubectl("apply", "-f", "-", input=allow_list(name, namespace, list(patterns)))
        made.append(name)
        return name

    yield allow
    for name in made:
        cluster.kubectl("delete", "domainallowlist", name, "--ignore-not-found", check=False)


@pytest.fixture(scope="session")
def cert_manager(
    berth_api: KubeCluster, addons_bin: pathlib.Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CertManager]:
    """The real cert-manager controller with a self-signed ClusterIssuer named as Berth expects."""
    log_dir = tmp_path_factory.mktemp("cert-manager")
    started = CertManager(berth_api, addons_bin, log_dir).start(CLUSTER_ISSUER)
    yield started
    started.stop()
    print(f"cert-manager log: {log_dir / 'cert-manager.log'}")


@pytest.fixture
def berth(
    operator: OperatorProcess, kube_api: kubernetes.client.ApiClient, namespace: str
) -> Berth:
    """Reads of Berth's objects in this test's namespace, with the operator running."""
    return Berth(kube_api, namespace)


@pytest.fixture
def tenant_b(
    operator: OperatorProcess, kube_api: kubernetes.client.ApiClient, cluster: KubeCluster
) -> Iterator[Berth]:
    """A second namespace acting as another tenant, deleted (without waiting) afterwards."""
    name = f"e2e-b-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    yield Berth(kube_api, name)
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A Distribution registry of its own on loopback, with token auth and a test CA."""
    work = tmp_path_factory.mktemp("registry")
    ca = (work / "ca.crt", work / "ca.key")
    write_ca(*ca, "test CA")
    server = RegistryServer(ensure_registry(), work / "registry", ca, LOOPBACK, *free_tcp_ports(2))
    server.start()
    yield server
    server.stop()
