"""On the real node: an image built here as an OCI archive (no Docker) is pushed to the dev
cluster's registry, registered as `:<service>.<label>.<N>`, pulled by the node's containerd with
the service's pull secret (a pull login of that service, turned into a token by Berth's token
service), and served over HTTPS through the Ingress. Another namespace's login can neither pull
nor push it; deleting an image or the service deletes the manifests, and garbage collection
reclaims the bytes."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import pathlib
import time
import uuid
from typing import Any

import pytest
from tests.e2e.live.traffic import Live, first_success, https_get
from tests.e2e.support import wait_for

from berth.oci.distribution import Credentials, Registry, RegistryError
from berth.oci.layout import oci_archive
from devcluster.images import BUSYBOX, hello_image
from devcluster.oci import Regular, build_image
from devcluster.registry import RegistryServer

pytestmark = pytest.mark.e2e

LABEL = "site"
PAD = 4 << 20  # the second image's own layer: what garbage collection must reclaim
MANIFEST_HEAD = {"apiVersion": "berth.dev/v1alpha1", "kind": "ContainerService"}


def pushed_archive(tmp_path: pathlib.Path, version: str, pad: int = 0) -> pathlib.Path:
    """The hello app saying `version`, as an OCI archive written by devcluster.oci; `pad`
    random bytes make its layer its own (nothing shared with the other pushes)."""
    spec = hello_image(BUSYBOX.read_bytes(), "v1")
    files = {**spec.files, "/var/pad": Regular(os.urandom(pad))} if pad else spec.files
    config = dataclasses.replace(spec.config, env={**spec.config.env, "HELLO_VERSION": version})
    built = build_image(f"berth.local/pushed:{version}", files, config)
    path = tmp_path / f"{version}.tar"
    path.write_bytes(built.archive)
    return path


def service(name: str, image: str | None) -> dict[str, Any]:
    """A nano service; with `image`, deployed inline (each change is a new version)."""
    spec: dict[str, Any] = {"power": "nano", "scale": 1}
    if image is None:
        return {**MANIFEST_HEAD, "metadata": {"name": name}, "spec": spec}
    return {
        **MANIFEST_HEAD,
        "metadata": {"name": name},
        "spec": {
            **spec,
            "deployment": {
                "containers": {"web": {"image": image, "ports": {"80": "HTTP"}}},
                "publicEndpoint": {
                    "containerName": "web",
                    "containerPort": 80,
                    "healthCheck": {"path": "/healthz", "intervalSeconds": 5},
                },
            },
        },
    }


def test_a_pushed_image_runs_as_service_label_number_and_a_missing_one_fails_clearly(
    live: Live, live_namespace: str, tmp_path: pathlib.Path
) -> None:
    namespace, name = live_namespace, f"img-{uuid.uuid4().hex[:5]}"
    live.apply(namespace, service(name, None))

    first = live.cli(namespace, "push-container-image", "--service-name", name, "--label", LABEL,
        "--image", f"oci-archive:{pushed_archive(tmp_path, 'pushed-1')}",
    )  # fmt: skip

    assert first.returncode == 0, first.stderr
    assert f'Image ":{name}.{LABEL}.1" registered.' in first.stdout
    assert f'Refer to this image as ":{name}.{LABEL}.1" in deployments.' in first.stdout

    live.apply(namespace, service(name, f":{name}.{LABEL}.1"))
    berth = live.berth(namespace)
    wait_for(lambda: berth.version_states(name).get(1) == "ACTIVE", 120, "version 1 ACTIVE")
    host = live.default_host(namespace, name)
    first_success(live.endpoints, host)
    assert "hello from berth pushed-1" in https_get(live.endpoints, host).body

    second = live.cli(namespace, "push-container-image", "--service-name", name, "--label", LABEL,
        "--image", f"oci-archive:{pushed_archive(tmp_path, 'pushed-2', pad=PAD)}",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert f'Image ":{name}.{LABEL}.2" registered.' in second.stdout

    listed = live.cli(namespace, "get-container-images", "--service-name", name)
    digest_1 = next(
        i["digest"]
        for i in json.loads(listed.stdout)["containerImages"]
        if i["image"].endswith(".1")
    )
    assert live.plane.registry is not None
    source = f"docker://{live.plane.registry.host}/{namespace}/{name}/{LABEL}@{digest_1}"
    copied = live.cli(namespace, "push-container-image", "--service-name", name, "--label", "copy",
        "--image", source,
    )  # fmt: skip
    assert copied.returncode == 0, copied.stderr
    assert f"Digest: {digest_1}" in copied.stdout
    assert f'Image ":{name}.copy.1" registered.' in copied.stdout

    live.apply(namespace, service(name, f":{name}.{LABEL}.9"))
    failed = wait_for(
        lambda: berth.version_states(name).get(2) == "FAILED" and berth.versions(name),
        60,
        "version 2 FAILED",
    )
    message = next(
        v["status"]["message"] for v in failed.values() if v["status"].get("version") == 2
    )
    assert f"':{name}.{LABEL}.9' is not a registered image of service '{name}'" in message
    assert "hello from berth pushed-1" in https_get(live.endpoints, host).body

    refused = live.cli(namespace, "delete-container-image", "--service-name", name,
        "--image", f":{name}.{LABEL}.1",
    )  # fmt: skip
    assert refused.returncode != 0
    assert "in use by the current deployment" in refused.stderr

    listed = json.loads(live.cli(namespace, "get-container-images", "--service-name", name).stdout)
    digest_2 = next(i["digest"] for i in listed["containerImages"] if i["image"].endswith(".2"))
    deleted = live.cli(namespace, "delete-container-image", "--service-name", name,
        "--image", f":{name}.{LABEL}.2",
    )  # fmt: skip
    assert deleted.returncode == 0, deleted.stderr
    after = json.loads(live.cli(namespace, "get-container-images", "--service-name", name).stdout)
    assert [i["image"] for i in after["containerImages"]] == [
        f":{name}.copy.1",
        f":{name}.{LABEL}.1",
    ]
    registry = live.plane.registry
    assert registry is not None
    client = Registry(registry.host, registry.login(namespace), str(registry.ca_cert))
    assert not client.has_manifest(f"{namespace}/{name}/{LABEL}", digest_2)
    with pytest.raises(RegistryError, match=": 404 "):
        client.manifest(f"{namespace}/{name}/{LABEL}", digest_2)
    before = storage_bytes(registry.storage)
    began = time.monotonic()
    registry.garbage_collect()
    took = time.monotonic() - began
    reclaimed = before - storage_bytes(registry.storage)
    print(f"registry garbage-collect: {reclaimed} bytes reclaimed in {took:.2f}s")
    assert reclaimed >= PAD

    pulls = pull_secret_login(live, namespace, name, registry.host)
    own = Registry(registry.host, pulls, str(registry.ca_cert))
    assert own.manifest(f"{namespace}/{name}/{LABEL}", digest_1)[0]
    with pytest.raises(RegistryError, match=": 401 "):
        push_archive(registry, pulls, f"{namespace}/{name}/{LABEL}", tmp_path)
    with pytest.raises(RegistryError, match=": 401 "):
        own.delete_manifest(f"{namespace}/{name}/{LABEL}", digest_1)

    deleted = live.cli(namespace, "delete-container-service", "--service-name", name)
    assert deleted.returncode == 0, deleted.stderr
    wait_for(lambda: records(live, namespace) == [], 60, "the service's images to go with it")
    for label in (LABEL, "copy"):
        assert not client.has_manifest(f"{namespace}/{name}/{label}", digest_1)


def test_another_namespace_can_neither_pull_nor_push_a_namespace_s_images(
    live: Live, live_namespace: str, tmp_path: pathlib.Path
) -> None:
    """Real HTTP against the real registry and token service: the logins the CLI hands out
    (create-container-service-registry-login) reach their own namespace only."""
    namespace, name = live_namespace, f"ten-{uuid.uuid4().hex[:5]}"
    other = f"live-other-{uuid.uuid4().hex[:6]}"
    live.cluster.kubectl("create", "namespace", other)
    try:
        live.apply(namespace, service(name, None))
        live.apply(other, service(name, None))
        pushed = live.cli(
            namespace, "push-container-image", "--service-name", name, "--label", LABEL,
            "--image", f"oci-archive:{pushed_archive(tmp_path, 'tenant-a')}",
        )  # fmt: skip
        assert pushed.returncode == 0, pushed.stderr
        [record] = json.loads(
            live.cli(namespace, "get-container-images", "--service-name", name).stdout
        )["containerImages"]
        registry = live.plane.registry
        assert registry is not None
        mine = cli_login(live, namespace)
        theirs = cli_login(live, other)
        repository = f"{namespace}/{name}/{LABEL}"

        assert Registry(registry.host, mine, str(registry.ca_cert)).has_manifest(
            repository, record["digest"]
        )
        stranger = Registry(registry.host, theirs, str(registry.ca_cert))
        with pytest.raises(RegistryError, match=": 401 ") as pulled:
            stranger.manifest(repository, record["digest"])
        with pytest.raises(RegistryError, match=": 401 ") as overwritten:
            push_archive(registry, theirs, repository, tmp_path)
        with pytest.raises(RegistryError, match=": 401 "):
            stranger.delete_manifest(repository, record["digest"])
        print(f"another namespace's pull: {pulled.value}")
        print(f"another namespace's push: {overwritten.value}")
        # The other namespace pushes to its own repositories with the same kind of login.
        assert push_archive(registry, theirs, f"{other}/{name}/{LABEL}", tmp_path)
    finally:
        live.cluster.kubectl("delete", "namespace", other, "--wait=false", check=False)


def cli_login(live: Live, namespace: str) -> Credentials:
    """`berth -n NAMESPACE create-container-service-registry-login`, as Lightsail's shape."""
    made = live.cli(namespace, "create-container-service-registry-login")
    assert made.returncode == 0, made.stderr
    login = json.loads(made.stdout)["registryLogin"]
    assert login["expiresAt"]
    return Credentials(login["username"], login["password"])


def pull_secret_login(live: Live, namespace: str, service: str, host: str) -> Credentials:
    """The credentials of the pull secret the operator wrote for `service`."""
    listed = live.cluster.kubectl(
        "get", "secret", f"{service}.registry", "-n", namespace, "-o", "json"
    )
    config = json.loads(base64.b64decode(json.loads(listed.stdout)["data"][".dockerconfigjson"]))
    user, _, password = base64.b64decode(config["auths"][host]["auth"]).decode().partition(":")
    return Credentials(user, password)


def push_archive(
    registry: RegistryServer, credentials: Credentials, repository: str, tmp: pathlib.Path
) -> str:
    archive = pushed_archive(tmp, f"probe-{uuid.uuid4().hex[:6]}")
    with oci_archive(archive, None) as image:
        return Registry(registry.host, credentials, str(registry.ca_cert)).push(repository, image)


def storage_bytes(folder: pathlib.Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def records(live: Live, namespace: str) -> list[str]:
    """The ContainerImage objects left in `namespace`, by name."""
    listed = live.cluster.kubectl("get", "containerimages", "-n", namespace, "-o", "json")
    return [i["metadata"]["name"] for i in json.loads(listed.stdout)["items"]]
