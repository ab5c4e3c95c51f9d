"""End to end: what the owned Deployment and Service carry (labels, tags, owners, resources)."""

from __future__ import annotations

import json

import pytest
from tests.e2e.support import Berth, apply, service_manifest

from devcluster import KubeCluster

pytestmark = pytest.mark.e2e


def test_tags_labels_owner_and_pull_secrets_reach_the_owned_objects(
    cluster: KubeCluster, berth: Berth
) -> None:
    tags = [{"key": "team", "value": "web"}, {"key": "cost center", "value": "R+D 42"}]
    content = {
        "containers": {
            "web": {
                "image": "nginx:1.27",
                "command": ["nginx", "-g", "daemon off;"],
                "ports": {"80": "HTTP"},
            },
            "dns": {"image": "coredns:1", "ports": {"53": "UDP"}},
        },
        "publicEndpoint": {
            "containerName": "web",
            "containerPort": 80,
            "healthCheck": {"path": "/health", "intervalSeconds": 10, "healthyThreshold": 3},
        },
    }
    manifest = service_manifest(
        "tagged",
        power="small",
        deployment=content,
        tags=tags,
        privateRegistryAccess={"imagePullSecrets": ["registry-creds"]},
    )

    apply(cluster, berth.namespace, manifest)
    berth.wait_state("tagged", "RUNNING")

    deployment = berth.deployment("tagged")
    service = berth.kube_service("tagged")
    uid = berth.service("tagged")["metadata"]["uid"]
    for obj in (deployment, service):
        labels = obj.metadata.labels
        assert labels["app.kubernetes.io/name"] == "tagged"
        assert labels["app.kubernetes.io/managed-by"] == "berth"
        assert labels["berth.dev/service"] == "tagged"
        assert labels["team"] == "web"
        assert "cost center" not in labels  # not label syntax: annotation only
        assert json.loads(obj.metadata.annotations["berth.dev/tags"]) == tags
        (owner,) = obj.metadata.owner_references
        assert (owner.kind, owner.name, owner.uid, owner.controller) == (
            "ContainerService",
            "tagged",
            uid,
            True,
        )
    pod = deployment.spec.template.spec
    assert [s.name for s in pod.image_pull_secrets] == ["registry-creds"]
    web = next(c for c in pod.containers if c.name == "web")
    assert web.args == ["nginx", "-g", "daemon off;"]
    probe = web.readiness_probe
    assert (probe.http_get.path, probe.http_get.port, probe.http_get.scheme) == (
        "/health",
        80,
        "HTTP",
    )
    assert (probe.period_seconds, probe.success_threshold) == (10, 3)
    assert next(c for c in pod.containers if c.name == "dns").readiness_probe is None
    assert pod.resources.limits == {"cpu": "500m", "memory": "1Gi"}
    ports = {(p.name, p.port, p.protocol) for p in service.spec.ports}
    assert ports == {("web-80", 80, "TCP"), ("dns-53", 53, "UDP")}
