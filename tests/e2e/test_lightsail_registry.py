"""Registered images with a real registry (Distribution with token auth and Berth's token service,
on loopback), the real API server, operator and Lightsail endpoint; no node. The endpoint's
CreateContainerServiceRegistryLogin reaches the access key's namespace only; deleting an image
(CLI) or the service (DeleteContainerService) deletes the manifests from the registry."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import kubernetes
import pytest
from tests.e2e.lightsail_support import REGION, EndpointProcess
from tests.e2e.network_support import OPERATOR_NAMESPACE
from tests.e2e.support import apply, service_manifest, wait_for

from berth.cli import image_records
from berth.cli.client import BerthClient
from berth.cli.kube_rest import KubeRest
from berth.oci.distribution import Credentials, Registry, RegistryError
from berth.registry_auth import logins
from devcluster import KubeCluster
from devcluster.lightsail_process import create_access_key
from devcluster.oci import ImageConfig, Regular, build_image
from devcluster.operator_process import OperatorProcess
from devcluster.registry import LOGIN_SECRET, RegistryServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def registry(
    cluster: KubeCluster, kube_api: Any, registry: RegistryServer
) -> Iterator[RegistryServer]:
    """conftest's registry, and its Secret where the CLI and the endpoint read it (removed
    after: other modules test the endpoint without a registry)."""
    server = registry
    core = kubernetes.client.CoreV1Api(kube_api)
    cluster.kubectl("create", "namespace", OPERATOR_NAMESPACE, check=False)
    core.create_namespaced_secret(OPERATOR_NAMESPACE, server.login_secret(OPERATOR_NAMESPACE))
    try:
        yield server
    finally:
        core.delete_namespaced_secret(LOGIN_SECRET, OPERATOR_NAMESPACE)


@pytest.fixture(scope="module")
def endpoint(
    cluster: KubeCluster, operator: OperatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EndpointProcess]:
    log = tmp_path_factory.mktemp("lightsail") / "endpoint.log"
    process = EndpointProcess(cluster.kubeconfig, OPERATOR_NAMESPACE, log, REGION).start()
    yield process
    process.stop()


def lightsail(cluster: KubeCluster, endpoint: EndpointProcess, namespace: str) -> Any:
    key = create_access_key(cluster.kubeconfig, namespace, OPERATOR_NAMESPACE)
    return boto3.session.Session().client(
        "lightsail",
        region_name=REGION,
        endpoint_url=endpoint.url,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )


def berth_cli(cluster: KubeCluster, namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "berth.cli.main", "-n", namespace, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)},
        timeout=120,
        check=False,
    )


def archive(tmp: pathlib.Path) -> pathlib.Path:
    built = build_image(
        "berth.local/pushed:1",
        {"/hello": Regular(os.urandom(256))},
        ImageConfig(entrypoint=("/hello",)),
    )
    path = tmp / f"{uuid.uuid4().hex[:6]}.tar"
    path.write_bytes(built.archive)
    return path


def push(cluster: KubeCluster, namespace: str, service: str, label: str, tmp: pathlib.Path) -> str:
    pushed = berth_cli(
        cluster, namespace, "push-container-image", "--service-name", service, "--label", label,
        "--image", f"oci-archive:{archive(tmp)}",
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    return pushed.stdout.split("Digest: ", 1)[1].split()[0]


def as_registry(registry: RegistryServer, login: dict[str, Any]) -> Registry:
    credentials = Credentials(login["username"], login["password"])
    return Registry(registry.host, credentials, str(registry.ca_cert))


def test_the_endpoint_s_registry_login_reaches_the_key_s_namespace_only(
    cluster: KubeCluster,
    berth_api: KubeCluster,
    registry: RegistryServer,
    endpoint: EndpointProcess,
    namespace: str,
    tmp_path: pathlib.Path,
) -> None:
    other = f"e2e-other-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("create", "namespace", other)
    apply(cluster, namespace, service_manifest("shop", scale=1))
    digest = push(cluster, namespace, "shop", "site", tmp_path)

    mine = lightsail(cluster, endpoint, namespace).create_container_service_registry_login()
    theirs = lightsail(cluster, endpoint, other).create_container_service_registry_login()

    login = mine["registryLogin"]
    assert login["registry"] == registry.host
    assert login["username"] == namespace
    left = login["expiresAt"] - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=11, minutes=59) < left <= dt.timedelta(hours=12)
    key = logins.login_key(registry.key_pem)
    found = logins.verify(key, login["password"], int(dt.datetime.now(dt.UTC).timestamp()))
    assert found is not None and (found.namespace, found.service) == (namespace, None)
    assert as_registry(registry, login).has_manifest(f"{namespace}/shop/site", digest)
    with pytest.raises(RegistryError, match=": 401 "):
        as_registry(registry, theirs["registryLogin"]).manifest(f"{namespace}/shop/site", digest)
    cluster.kubectl("delete", "namespace", other, "--wait=false", check=False)


def test_deleting_an_image_or_the_service_deletes_the_manifests_from_the_registry(
    cluster: KubeCluster,
    berth_api: KubeCluster,
    registry: RegistryServer,
    endpoint: EndpointProcess,
    kube_api: Any,
    namespace: str,
    tmp_path: pathlib.Path,
) -> None:
    apply(cluster, namespace, service_manifest("gone", scale=1))
    first = push(cluster, namespace, "gone", "site", tmp_path)
    second = push(cluster, namespace, "gone", "site", tmp_path)
    api = push(cluster, namespace, "gone", "api", tmp_path)
    admin = Registry(registry.host, registry.login(namespace), str(registry.ca_cert))

    deleted = berth_cli(
        cluster, namespace, "delete-container-image", "--service-name", "gone",
        "--image", ":gone.site.2",
    )  # fmt: skip
    assert deleted.returncode == 0, deleted.stderr
    assert not admin.has_manifest(f"{namespace}/gone/site", second)
    assert admin.has_manifest(f"{namespace}/gone/site", first)

    lightsail(cluster, endpoint, namespace).delete_container_service(serviceName="gone")

    records = BerthClient(KubeRest(kube_api), namespace)
    wait_for(lambda: image_records.images(records, "gone") == [], 60, "the records to go")
    assert not admin.has_manifest(f"{namespace}/gone/site", first)
    assert not admin.has_manifest(f"{namespace}/gone/api", api)
