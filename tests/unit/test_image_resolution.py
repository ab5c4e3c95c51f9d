"""Registered images (`:<service>.<label>.<number>`): names, resolution into what pods pull,
and a version naming one that does not exist FAILING with the reason. Pure."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit import builders
from tests.unit.builders import NAMESPACE, SERVICE, version
from tests.unit.test_reconcile_plans import snapshot

from berth.api.crd import container_image_crd
from berth.api.image import RegisteredName, registered_name
from berth.api.objects import ImageObject, parse_image
from berth.api.power import DEFAULT_POWERS
from berth.api.version import VersionState
from berth.reconcile import plan
from berth.reconcile.writes import Apply
from berth.render import images, names, workload
from berth.status import versions as version_status

REGISTRY = "10.89.0.1:5443"
DIGEST = "sha256:" + "ab" * 32


def image(label: str = "site", number: int = 1, service: str = SERVICE) -> ImageObject:
    return parse_image(
        {
            "metadata": {"name": f"{service}.{label}.{number}", "namespace": NAMESPACE},
            "spec": {"serviceName": service, "label": label, "number": number, "digest": DIGEST},
        }
    )


def registered_containers(name: str = ":web.site.1") -> dict[str, Any]:
    return {"app": {"image": name, "ports": {"80": "HTTP"}}}


def with_registry(**fields: Any) -> plan.Snapshot:
    snap = snapshot(**fields)
    settings = builders.settings(
        registry=REGISTRY, registry_pull_username="puller", registry_pull_password="s3cret"
    )
    return plan.Snapshot(**{**snap.__dict__, "settings": settings})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (":web.site.1", RegisteredName("web", "site", 1)),
        (":my-svc.my-label.150", RegisteredName("my-svc", "my-label", 150)),
        (":web.site.0", None),
        ("web.site.1", None),
        (":web.site", None),
        (":Web.site.1", None),
        ("nginx:1.27", None),
    ],
)
def test_registered_names_are_colon_service_label_number(
    text: str, expected: RegisteredName | None
) -> None:
    assert registered_name(text) == expected


def test_a_registered_name_resolves_to_the_registry_by_digest_for_its_own_service_only() -> None:
    resolved = images.resolved_images(
        builders.service(), [image(), image("api", 2, service="other")], REGISTRY
    )

    assert resolved == {":web.site.1": f"{REGISTRY}/{NAMESPACE}/web/site@{DIGEST}"}


def test_without_a_registry_no_registered_name_resolves() -> None:
    assert images.resolved_images(builders.service(), [image()], None) == {}


def test_the_missing_message_says_why_each_name_does_not_resolve() -> None:
    message = images.missing_message("web", [":web.site.9", ":other.site.1", ":bad"])

    assert "':web.site.9' is not a registered image of service 'web'" in message
    assert "belongs to service 'other'" in message
    assert "':bad' is not of the form" in message


def test_the_deployment_pulls_by_digest_with_the_registry_pull_secret() -> None:
    content = builders.content(registered_containers())
    resolved = {":web.site.1": f"{REGISTRY}/shop/web/site@{DIGEST}"}

    manifest = workload.deployment(
        builders.service(pull_secrets=["mine"]),
        1,
        content,
        DEFAULT_POWERS["nano"],
        builders.settings(),
        images=resolved,
        registry_secret="web.registry",
    )

    pod = manifest["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == f"{REGISTRY}/shop/web/site@{DIGEST}"
    assert pod["imagePullSecrets"] == [{"name": "mine"}, {"name": "web.registry"}]


def test_a_public_image_gets_no_registry_pull_secret() -> None:
    manifest = workload.deployment(
        builders.service(),
        1,
        builders.content(),
        DEFAULT_POWERS["nano"],
        builders.settings(),
        images={},
        registry_secret="web.registry",
    )

    assert "imagePullSecrets" not in manifest["spec"]["template"]["spec"]


def test_a_candidate_naming_a_missing_image_fails_with_the_reason_before_any_pod() -> None:
    v1 = version(1, "ACTIVATING", containers=registered_containers(":web.site.9"))

    decided = version_status.plan([v1], builders.rollout(None), {"web-v1": "not registered"})

    assert decided.states["web-v1"] == (VersionState.FAILED, "not registered")
    assert decided.candidate is None


def test_an_unresolvable_version_is_never_rendered_into_the_deployment() -> None:
    v1 = version(1, "ACTIVATING", containers=registered_containers(":web.site.9"))
    snap = with_registry(versions=[v1], images=[image()])

    plan_ = snap.versions_plan()
    writes = plan.objects(snap, plan_)

    assert plan_.states["web-v1"][0] == VersionState.FAILED
    assert "':web.site.9' is not a registered image of service 'web'" in plan_.states["web-v1"][1]
    assert [w for w in writes if isinstance(w, Apply) and w.manifest["kind"] == "Deployment"] == []


def test_a_resolvable_version_gets_its_image_and_the_pull_secret_applied() -> None:
    v1 = version(1, "ACTIVATING", containers=registered_containers())
    snap = with_registry(versions=[v1], images=[image()])

    applied = {w.manifest["kind"]: w.manifest for w in plan.objects(snap) if isinstance(w, Apply)}

    pod = applied["Deployment"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == f"{REGISTRY}/{NAMESPACE}/web/site@{DIGEST}"
    assert pod["imagePullSecrets"] == [{"name": names.registry_pull_secret(SERVICE)}]
    secret = applied["Secret"]
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert secret["metadata"]["ownerReferences"][0]["kind"] == "ContainerService"


def test_a_pull_secret_already_stored_is_not_written_again() -> None:
    v1 = version(1, "ACTIVATING", containers=registered_containers())
    snap = with_registry(versions=[v1], images=[image()])
    [secret] = [
        w.manifest
        for w in plan.objects(snap)
        if isinstance(w, Apply) and w.manifest["kind"] == "Secret"
    ]
    stored = plan.Snapshot(**{**snap.__dict__, "pull_secret": secret})

    kinds = [w.manifest["kind"] for w in plan.objects(stored) if isinstance(w, Apply)]

    assert "Secret" not in kinds


def test_the_crd_requires_the_name_to_say_service_label_and_number() -> None:
    [rule] = container_image_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"][
        "x-kubernetes-validations"
    ]

    assert "self.spec.serviceName + '.' + self.spec.label" in rule["rule"]
