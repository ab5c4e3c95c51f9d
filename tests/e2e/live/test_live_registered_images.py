"""On the real node: an image built here as an OCI archive (no Docker) is pushed to the dev
cluster's registry, registered as `:<service>.<label>.<N>`, pulled by the node's containerd with
the service's pull secret, and served over HTTPS through the Ingress."""

from __future__ import annotations

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

from berth.oci.distribution import Credentials, Registry
from devcluster.images import BUSYBOX, hello_image
from devcluster.oci import Regular, build_image
from devcluster.registry import PUSH_USER

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
    client = Registry(
        registry.host, Credentials(PUSH_USER, registry.push_password), str(registry.ca_cert)
    )
    assert not client.has_manifest(f"{namespace}/{name}/{LABEL}", digest_2)
    before = storage_bytes(registry.storage)
    began = time.monotonic()
    registry.garbage_collect()
    took = time.monotonic() - began
    reclaimed = before - storage_bytes(registry.storage)
    print(f"registry garbage-collect: {reclaimed} bytes reclaimed in {took:.2f}s")
    assert reclaimed >= PAD

    live.cluster.kubectl("delete", "containerservice", name, "-n", namespace)
    wait_for(lambda: records(live, namespace) == [], 60, "the service's images to go with it")


def storage_bytes(folder: pathlib.Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def records(live: Live, namespace: str) -> list[str]:
    """The ContainerImage objects left in `namespace`, by name."""
    listed = live.cluster.kubectl("get", "containerimages", "-n", namespace, "-o", "json")
    return [i["metadata"]["name"] for i in json.loads(listed.stdout)["items"]]
