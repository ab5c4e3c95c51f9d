"""Deleted ContainerImage records take their manifests out of the registry, however they were
deleted: `kubectl delete containerimage`, or `kubectl delete csvc` (the garbage collector then
deletes the records). The real API server, a real operator (watching this module's namespace
only, beside the session's, which deletes no manifests), and a real Distribution with token auth
and Berth's token service on loopback. With the registry down, a deleted record waits (its
finalizer stays, a Warning Event says why) and goes once the registry is back."""

from __future__ import annotations

import json
import os
import pathlib
import uuid
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
from tests.e2e.support import apply, service_manifest, wait_for

from berth.api import limits
from berth.cli import image_records
from berth.cli.client import BerthClient
from berth.cli.kube_rest import KubeRest
from berth.oci.distribution import Registry
from berth.oci.layout import oci_archive
from berth.reconcile.image_manifests import UNREACHABLE
from berth.render import names
from devcluster import KubeCluster
from devcluster.oci import ImageConfig, Regular, build_image
from devcluster.operator_process import OperatorProcess
from devcluster.registry import RegistryServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def gc_namespace(berth_api: KubeCluster) -> Iterator[str]:
    name = f"regc-{uuid.uuid4().hex[:8]}"
    berth_api.kubectl("create", "namespace", name)
    yield name
    berth_api.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def gc_operator(
    berth_api: KubeCluster,
    registry: RegistryServer,
    gc_namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    log = tmp_path_factory.mktemp("regc") / "operator.log"
    process = OperatorProcess(
        berth_api.kubeconfig,
        log,
        env={
            **registry.operator_env(),
            "BERTH_NAMESPACE": gc_namespace,
            "BERTH_WATCH_NAMESPACES": json.dumps([gc_namespace]),
            "BERTH_LEADER_ELECTION_LEASE_NAME": f"regc-{gc_namespace}",
        },
    )
    process.start()
    yield process
    process.stop()
    print(f"operator log: {log}")


def push(registry: RegistryServer, repository: str, tmp: pathlib.Path) -> str:
    """A one-file image of its own, pushed with the namespace's login; its digest."""
    built = build_image(
        "berth.local/gc:1", {"/hello": Regular(os.urandom(64))}, ImageConfig(entrypoint=("/x",))
    )
    archive = tmp / f"{uuid.uuid4().hex[:8]}.tar"
    archive.write_bytes(built.archive)
    with oci_archive(archive, None) as image:
        return admin(registry, repository.split("/")[0]).push(repository, image)


def admin(registry: RegistryServer, namespace: str) -> Registry:
    return Registry(registry.host, registry.login(namespace), str(registry.ca_cert))


def record(kube_api: Any, namespace: str, name: str) -> dict[str, Any] | None:
    api = kubernetes.client.CustomObjectsApi(kube_api)
    try:
        found: dict[str, Any] = api.get_namespaced_custom_object(
            limits.GROUP, limits.VERSION, namespace, "containerimages", name
        )
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return None
        raise
    return found


def guarded(kube_api: Any, namespace: str, *names_: str) -> bool:
    """Every record carries the operator's finalizer."""
    for name in names_:
        body = record(kube_api, namespace, name) or {}
        if names.IMAGE_FINALIZER not in (body.get("metadata", {}).get("finalizers") or []):
            return False
    return True


def registered(kube_api: Any, namespace: str, service: str, label: str, digest: str) -> str:
    made = image_records.register(
        BerthClient(KubeRest(kube_api), namespace), service, label, digest
    )
    return made.metadata.name


def test_kubectl_delete_containerimage_deletes_its_manifest_unless_another_names_it(
    cluster: KubeCluster,
    kube_api: Any,
    registry: RegistryServer,
    gc_operator: OperatorProcess,
    gc_namespace: str,
    tmp_path: pathlib.Path,
) -> None:
    ns = gc_namespace
    apply(cluster, ns, service_manifest("web", scale=1))
    repository = f"{ns}/web/site"
    shared, own = push(registry, repository, tmp_path), push(registry, repository, tmp_path)
    one = registered(kube_api, ns, "web", "site", shared)
    two = registered(kube_api, ns, "web", "site", shared)
    three = registered(kube_api, ns, "web", "site", own)
    wait_for(lambda: guarded(kube_api, ns, one, two, three), 60, "the finalizers")

    cluster.kubectl("delete", "containerimage", "-n", ns, three, "--timeout=60s")
    assert not admin(registry, ns).has_manifest(repository, own)

    # `two` still names the same manifest: the record goes, the manifest stays.
    cluster.kubectl("delete", "containerimage", "-n", ns, one, "--timeout=60s")
    assert admin(registry, ns).has_manifest(repository, shared)
    cluster.kubectl("delete", "containerimage", "-n", ns, two, "--timeout=60s")
    assert not admin(registry, ns).has_manifest(repository, shared)


def test_kubectl_delete_csvc_deletes_its_images_manifests(
    cluster: KubeCluster,
    kube_api: Any,
    registry: RegistryServer,
    gc_operator: OperatorProcess,
    gc_namespace: str,
    tmp_path: pathlib.Path,
) -> None:
    ns = gc_namespace
    apply(cluster, ns, service_manifest("gone", scale=1))
    site, api = (
        push(registry, f"{ns}/gone/site", tmp_path),
        push(registry, f"{ns}/gone/api", tmp_path),
    )
    records = [
        registered(kube_api, ns, "gone", "site", site),
        registered(kube_api, ns, "gone", "api", api),
    ]
    wait_for(lambda: guarded(kube_api, ns, *records), 60, "the finalizers")

    cluster.kubectl("delete", "csvc", "-n", ns, "gone", "--timeout=60s")
    wait_for(
        lambda: all(record(kube_api, ns, name) is None for name in records),
        60,
        "the garbage collector and the operator to delete the records",
    )
    assert not admin(registry, ns).has_manifest(f"{ns}/gone/site", site)
    assert not admin(registry, ns).has_manifest(f"{ns}/gone/api", api)


def test_with_the_registry_down_a_deleted_record_waits_then_goes(
    cluster: KubeCluster,
    kube_api: Any,
    registry: RegistryServer,
    gc_operator: OperatorProcess,
    gc_namespace: str,
    tmp_path: pathlib.Path,
) -> None:
    ns = gc_namespace
    apply(cluster, ns, service_manifest("down", scale=1))
    repository = f"{ns}/down/site"
    digest = push(registry, repository, tmp_path)
    name = registered(kube_api, ns, "down", "site", digest)
    wait_for(lambda: guarded(kube_api, ns, name), 60, "the finalizer")

    registry.stop()
    try:
        cluster.kubectl("delete", "containerimage", "-n", ns, name, "--wait=false")
        core = kubernetes.client.CoreV1Api(kube_api)

        def warned() -> list[Any]:
            found = core.list_namespaced_event(
                ns, field_selector=f"involvedObject.name={name}"
            ).items
            return [e for e in found if e.reason == UNREACHABLE and e.type == "Warning"]

        wait_for(warned, 60, "a Warning Event on the record")
        waiting = record(kube_api, ns, name)
        assert waiting is not None and waiting["metadata"].get("deletionTimestamp")
        assert names.IMAGE_FINALIZER in waiting["metadata"]["finalizers"]
    finally:
        registry.start()

    wait_for(lambda: record(kube_api, ns, name) is None, 120, "the record to go")
    assert not admin(registry, ns).has_manifest(repository, digest)
