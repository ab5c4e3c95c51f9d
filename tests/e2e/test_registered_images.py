"""Registered images against the real API server and operator: numbering per label that never
reuses a number (also when pushes race), records owned by their service, and resolution of
`:<service>.<label>.<number>` into what the pods pull, or a FAILED version saying why.

No registry here (kwok's pods pull nothing): tests/e2e/live/test_live_registered_images.py pushes
to a real one and runs the image on the real node.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from tests.e2e.conftest import E2E_REGISTRY
from tests.e2e.support import Berth, apply, service_manifest, wait_for

from berth.api.objects import ImageObject
from berth.cli import image_records
from berth.cli.client import BerthClient
from berth.cli.connection import connect
from berth.cli.errors import CliError
from devcluster import KubeCluster

pytestmark = pytest.mark.e2e

DIGESTS = ["sha256:" + f"{n:02x}" * 32 for n in range(1, 12)]


def client(cluster: KubeCluster, namespace: str) -> BerthClient:
    """The CLI's own connection, as `berth` makes it from the kubeconfig."""
    return BerthClient(connect(str(cluster.kubeconfig), None, namespace).rest, namespace)


def images_of(cli: BerthClient, service: str) -> list[str]:
    return [str(i.registered) for i in image_records.images(cli, service)]


def served_content(image: str) -> dict[str, Any]:
    return {
        "containers": {"site": {"image": image, "ports": {"80": "HTTP"}}},
        "publicEndpoint": {"containerName": "site", "containerPort": 80},
    }


def test_images_are_numbered_per_label_and_a_number_never_comes_back(
    cluster: KubeCluster, berth_api: KubeCluster, namespace: str
) -> None:
    apply(cluster, namespace, service_manifest("shop", scale=1))
    cli = client(cluster, namespace)

    first = image_records.register(cli, "shop", "site", DIGESTS[0])
    second = image_records.register(cli, "shop", "site", DIGESTS[1])
    other = image_records.register(cli, "shop", "api", DIGESTS[2])
    image_records.delete(cli, str(second.registered))
    third = image_records.register(cli, "shop", "site", DIGESTS[3])

    assert [str(i.registered) for i in (first, second, other, third)] == [
        ":shop.site.1",
        ":shop.site.2",
        ":shop.api.1",
        ":shop.site.3",
    ]
    assert sorted(images_of(cli, "shop")) == [":shop.api.1", ":shop.site.1", ":shop.site.3"]


def test_pushes_racing_for_one_label_each_get_their_own_number(
    cluster: KubeCluster, berth_api: KubeCluster, namespace: str
) -> None:
    apply(cluster, namespace, service_manifest("race", scale=1))

    # One connection per push, as five `berth push-container-image` processes would have.
    def push(digest: str) -> ImageObject:
        return image_records.register(client(cluster, namespace), "race", "app", digest)

    with ThreadPoolExecutor(max_workers=5) as pool:
        made = list(pool.map(push, DIGESTS[:5]))

    assert sorted(i.spec.number for i in made) == [1, 2, 3, 4, 5]
    assert {i.spec.digest for i in made} == set(DIGESTS[:5])


def test_a_record_whose_name_does_not_say_its_number_is_refused(
    cluster: KubeCluster, berth_api: KubeCluster, namespace: str
) -> None:
    record = {
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "ContainerImage",
        "metadata": {"name": "shop.site.2", "namespace": namespace},
        "spec": {"serviceName": "shop", "label": "site", "number": 3, "digest": DIGESTS[0]},
    }

    answer = cluster.kubectl("apply", "-f", "-", input=json.dumps(record), check=False)

    assert answer.returncode != 0
    assert "metadata.name must be <serviceName>.<label>.<number>" in answer.stderr


def test_a_registered_image_is_pulled_by_digest_with_the_pull_secret_and_kept_while_used(
    cluster: KubeCluster, berth: Berth, namespace: str
) -> None:
    apply(cluster, namespace, service_manifest("blog", scale=1))
    cli = client(cluster, namespace)
    image = image_records.register(cli, "blog", "site", DIGESTS[4])
    apply(
        cluster,
        namespace,
        service_manifest("blog", scale=1, deployment=served_content(":blog.site.1")),
    )

    berth.wait_state("blog", "RUNNING")

    pod = berth.deployment("blog").spec.template.spec
    assert pod.containers[0].image == f"{E2E_REGISTRY}/{namespace}/blog/site@{DIGESTS[4]}"
    assert [s.name for s in pod.image_pull_secrets] == ["blog.registry"]
    secret = berth.core.read_namespaced_secret("blog.registry", namespace)
    config = json.loads(base64.b64decode(secret.data[".dockerconfigjson"]))
    assert list(config["auths"]) == [E2E_REGISTRY]
    with pytest.raises(CliError, match="in use by the current deployment"):
        image_records.delete(cli, str(image.registered))


def test_a_missing_registered_image_fails_the_version_saying_so(
    cluster: KubeCluster, berth: Berth, namespace: str
) -> None:
    apply(
        cluster,
        namespace,
        service_manifest("gone", scale=1, deployment=served_content(":gone.site.9")),
    )

    failed = wait_for(
        lambda: next(
            (
                v["status"]
                for v in berth.versions("gone").values()
                if (v.get("status") or {}).get("state") == "FAILED"
            ),
            None,
        ),
        60,
        "the version to fail",
    )

    assert "':gone.site.9' is not a registered image of service 'gone'" in failed["message"]
    assert berth.deployment("gone") is None


def test_deleting_a_service_deletes_its_images(
    cluster: KubeCluster, berth: Berth, namespace: str
) -> None:
    apply(cluster, namespace, service_manifest("brief", scale=1))
    cli = client(cluster, namespace)
    image_records.register(cli, "brief", "site", DIGESTS[5])

    cluster.kubectl("delete", "containerservice", "brief", "-n", namespace)

    wait_for(lambda: images_of(cli, "brief") == [], 60, "the garbage collector")


def test_get_container_images_lists_newest_first_in_lightsails_shape(
    cluster: KubeCluster, berth_api: KubeCluster, namespace: str
) -> None:
    apply(cluster, namespace, service_manifest("list", scale=1))
    cli = client(cluster, namespace)
    image_records.register(cli, "list", "site", DIGESTS[6])
    image_records.register(cli, "list", "site", DIGESTS[7])

    answer = subprocess.run(
        [
            sys.executable,
            "-m",
            "berth.cli.main",
            "-n",
            namespace,
            "get-container-images",
            "--service-name",
            "list",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)},
        check=False,
    )

    assert answer.returncode == 0, answer.stderr
    shown = json.loads(answer.stdout)["containerImages"]
    assert [i["image"] for i in shown] == [":list.site.2", ":list.site.1"]
    assert shown[0]["digest"] == DIGESTS[7]
