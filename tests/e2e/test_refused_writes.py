"""A write of an owned object that the API server refuses is a state, not a crash loop: the
service says why in a condition and one Warning event, and recovers once the refusal is lifted.

The refusal comes from the API server itself: a ValidatingAdmissionPolicy, as a platform team
would write one (no webhook needed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.e2e.support import Berth, apply, service_manifest, wait_for, web_content

from devcluster import KubeCluster
from devcluster.kubectl import KubectlError

pytestmark = pytest.mark.e2e
REFUSAL = "deployments are not allowed in this namespace"


def policy(name: str, namespace: str) -> list[dict[str, object]]:
    return [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": ["apps"],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": ["deployments"],
                        }
                    ]
                },
                "validations": [{"expression": "false", "message": REFUSAL}],
            },
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name},
            "spec": {
                "policyName": name,
                "validationActions": ["Deny"],
                "matchResources": {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
                },
            },
        },
    ]


@pytest.fixture
def deployments_refused(cluster: KubeCluster, namespace: str) -> Iterator[str]:
    """A policy that refuses every Deployment in `namespace`; its name, to lift it."""
    name = f"refuse-{namespace}"
    apply(cluster, namespace, *policy(name, namespace))
    yield name
    cluster.kubectl("delete", "validatingadmissionpolicybinding", name, "--ignore-not-found")
    cluster.kubectl("delete", "validatingadmissionpolicy", name, "--ignore-not-found")


def objects_applied(berth: Berth, name: str) -> dict[str, str] | None:
    conditions = {c["type"]: c for c in berth.status(name).get("conditions") or []}
    return conditions.get("ObjectsApplied")


def test_a_refused_deployment_is_a_condition_and_a_warning_then_recovers(
    berth: Berth, cluster: KubeCluster, namespace: str, deployments_refused: str
) -> None:
    # The policy takes a moment to be enforced: wait until the API server refuses a Deployment.
    def refused() -> bool:
        probe = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "probe"},
            "spec": {
                "selector": {"matchLabels": {"app": "probe"}},
                "template": {
                    "metadata": {"labels": {"app": "probe"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
                },
            },
        }
        try:
            apply(cluster, namespace, probe)
        except KubectlError as error:  # kubectl exits non-zero with the policy's message
            return REFUSAL in str(error)
        cluster.kubectl("delete", "deployment", "probe", "-n", namespace, "--ignore-not-found")
        return False

    wait_for(refused, 30, "the policy to be enforced")
    apply(cluster, namespace, service_manifest("walled", scale=1, deployment=web_content()))

    condition = wait_for(
        lambda: (c := objects_applied(berth, "walled")) and c["status"] == "False" and c,
        60,
        "ObjectsApplied=False",
    )
    assert condition["reason"] == "WriteRefused"
    assert condition["message"].startswith("Deployment walled: ")
    assert REFUSAL in condition["message"]
    warnings = [e for e in berth.events("walled") if e.reason == "WriteRefused"]
    assert len(warnings) == 1 and warnings[0].type == "Warning"
    assert berth.deployment("walled") is None
    # Being created and refused: Lightsail's PENDING with UNKNOWN_ERROR, saying why.
    status = berth.status("walled")
    assert status["state"] == "PENDING"
    assert status["stateDetail"]["code"] == "UNKNOWN_ERROR"
    assert REFUSAL in status["stateDetail"]["message"]

    cluster.kubectl("delete", "validatingadmissionpolicybinding", deployments_refused)
    wait_for(
        lambda: (c := objects_applied(berth, "walled")) and c["status"] == "True",
        90,
        "ObjectsApplied=True once the policy is lifted",
    )
    assert berth.deployment("walled") is not None
    assert len([e for e in berth.events("walled") if e.reason == "WriteRefused"]) == 1
