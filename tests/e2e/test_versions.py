"""End to end: deployment versions, their numbers and states, on the real control plane."""

from __future__ import annotations

import json
from typing import Any

import kubernetes
import pytest
from tests.e2e.support import (
    AvailabilitySampler,
    Berth,
    apply,
    labelled_and_reconciled,
    service_manifest,
    service_reconciles,
    version_manifest,
    wait_for,
    wait_until_quiet,
    web_content,
)

from berth.api.objects import content_hash, parse_service
from berth.render.versions import inline_version
from devcluster import KubeCluster
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e


def template_version(berth: Berth, name: str) -> str | None:
    deployment = berth.deployment(name)
    return deployment.spec.template.metadata.labels.get("berth.dev/version") if deployment else None


def running_service(
    cluster: KubeCluster, berth: Berth, name: str, scale: int = 2
) -> dict[str, Any]:
    apply(cluster, berth.namespace, service_manifest(name, scale=scale, deployment=web_content()))
    return berth.wait_state(name, "RUNNING")


def test_inline_deployment_becomes_version_1_and_the_service_runs(
    cluster: KubeCluster, berth: Berth
) -> None:
    status = running_service(cluster, berth, "web", scale=2)

    assert status["currentDeployment"]["version"] == 1
    assert status["currentDeployment"]["name"] == "web-v1"
    assert status["monthlyPrice"] == 14
    assert status["privateDomainName"] == "web.service.local"
    assert status["url"].startswith(f"https://web.{status['guid']}.")
    assert len(status["guid"]) == 12
    assert status["readyReplicas"] == 2
    assert status["selector"] == "berth.dev/service=web"
    deployment = berth.deployment("web")
    assert deployment.spec.replicas == 2
    assert deployment.spec.strategy.rolling_update.max_unavailable == 0
    assert [p.name for p in berth.kube_service("web").spec.ports] == ["web-80"]
    assert berth.version_states("web") == {1: "ACTIVE"}
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions["Ready"] == "True"
    assert conditions["DeploymentAvailable"] == "True"
    assert conditions["Reconciling"] == "False"


def resource_versions(berth: Berth, name: str) -> dict[str, str]:
    """The resourceVersion of the service's owned objects and versions: any write moves one."""
    found = {
        "Deployment": berth.deployment(name).metadata.resource_version,
        "Service": berth.kube_service(name).metadata.resource_version,
        "Ingress": kubernetes.client.NetworkingV1Api(berth.core.api_client)
        .read_namespaced_ingress(name, berth.namespace)
        .metadata.resource_version,
    }
    for version_name, version in berth.versions(name).items():
        found[f"csd/{version_name}"] = version["metadata"]["resourceVersion"]
    return found


def test_reconcile_with_nothing_to_change_makes_no_writes(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess
) -> None:
    running_service(cluster, berth, "quiet")
    # Earlier tests' namespaces are still being deleted; their versions' finalizers are real work.
    wait_for(
        lambda: "Terminating" not in berth.core.list_namespace().to_str(), 120, "namespaces gone"
    )
    before = wait_until_quiet(operator)
    owned = resource_versions(berth, "quiet")

    # Re-applying the same spec is a no-op for the API server (no event at all); a label the
    # operator does not read is an event it must reconcile, and find nothing to do.
    apply(cluster, berth.namespace, service_manifest("quiet", deployment=web_content()))
    labelled = labelled_and_reconciled(berth, operator, "quiet")

    assert operator.writes() == before
    assert (
        berth.service("quiet")["metadata"]["resourceVersion"]
        == (labelled["metadata"]["resourceVersion"])
    )
    assert resource_versions(berth, "quiet") == owned


def test_an_operator_restart_with_everything_converged_makes_no_writes(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess, operator_namespace: str
) -> None:
    # With its namespace there, the private zone converges too (without, it is retried once).
    running_service(cluster, berth, "steady")
    wait_for(
        lambda: "Terminating" not in berth.core.list_namespace().to_str(), 120, "namespaces gone"
    )
    wait_until_quiet(operator)
    service_rv = berth.service("steady")["metadata"]["resourceVersion"]
    owned = resource_versions(berth, "steady")

    # Start-up lists everything, then kopf lists it all again: neither may cause a write.
    operator.restart()
    wait_for(
        lambda: "berth_reconcile_total{" in operator.metrics(), what="a reconcile after restart"
    )

    assert wait_until_quiet(operator) == {}
    assert berth.service("steady")["metadata"]["resourceVersion"] == service_rv
    assert resource_versions(berth, "steady") == owned


def test_new_version_activates_and_the_previous_becomes_inactive(
    cluster: KubeCluster, berth: Berth
) -> None:
    running_service(cluster, berth, "shop")

    apply(
        cluster, berth.namespace, version_manifest("shop-next", "shop", web_content(COLOR="blue"))
    )

    wait_for(lambda: berth.version_states("shop") == {1: "INACTIVE", 2: "ACTIVE"}, what="v2 active")
    status = berth.wait_state("shop", "RUNNING")
    assert status["currentDeployment"]["version"] == 2
    assert template_version(berth, "shop") == "2"
    env = berth.deployment("shop").spec.template.spec.containers[0].env
    assert [(e.name, e.value) for e in env] == [("COLOR", "blue")]


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        pytest.param("example/crashloop:1", "CrashLoopBackOff", id="crash-loop"),
        pytest.param("example/no-such-image:1", "ImagePullBackOff", id="image-pull"),
        pytest.param("example/never-ready:1", "progress deadline", id="never-ready"),
    ],
)
def test_failed_rollout_keeps_the_current_version_serving(
    cluster: KubeCluster, berth: Berth, image: str, reason: str
) -> None:
    running_service(cluster, berth, "api", scale=3)

    with AvailabilitySampler(berth, "api") as sampler:
        apply(cluster, berth.namespace, version_manifest("api-bad", "api", web_content(image)))
        wait_for(
            lambda: berth.version_states("api").get(2) == "FAILED", timeout=90, what="v2 failed"
        )
        wait_for(lambda: template_version(berth, "api") == "1", what="rollback to v1")
        berth.wait_state("api", "RUNNING")

    message = berth.versions("api")["api-bad"]["status"]["message"]
    assert reason in message
    assert berth.version_states("api") == {1: "ACTIVE", 2: "FAILED"}
    assert sampler.samples and min(sampler.samples) >= 3
    status = berth.status("api")
    assert {c["type"]: c["status"] for c in status["conditions"]}["Stalled"] == "True"
    assert any(e.reason == "VersionFailed" and e.type == "Warning" for e in berth.events("api"))
    # What `kubectl wait` and kstatus read: the ACTIVE version is Ready, the FAILED one Stalled.
    csd = "containerservicedeployments"
    wait = ("wait", "-n", berth.namespace)
    cluster.kubectl(*wait, "--for=condition=Ready", f"{csd}/api-v1", "--timeout=20s")
    cluster.kubectl(*wait, "--for=condition=Stalled", f"{csd}/api-bad", "--timeout=20s")
    never = cluster.kubectl(
        *wait, "--for=condition=Ready", f"{csd}/api-bad", "--timeout=3s", check=False
    )
    assert never.returncode != 0 and "timed out" in (never.stderr + never.stdout)


def stuck_rolling_out(cluster: KubeCluster, berth: Berth, service: str) -> None:
    """`service` RUNNING on v1, and v2 (`<service>-slow`) ACTIVATING for good: never ready."""
    running_service(cluster, berth, service)
    slow = version_manifest(f"{service}-slow", service, web_content("x/never-ready:1"))
    apply(cluster, berth.namespace, slow)
    wait_for(lambda: berth.version_states(service).get(2) == "ACTIVATING", what="v2 activating")


def test_version_superseded_while_activating_becomes_inactive(
    cluster: KubeCluster, berth: Berth
) -> None:
    stuck_rolling_out(cluster, berth, "blog")
    assert berth.status("blog")["state"] == "DEPLOYING"

    apply(cluster, berth.namespace, version_manifest("blog-fix", "blog", web_content(HOTFIX="1")))

    wait_for(
        lambda: berth.version_states("blog") == {1: "INACTIVE", 2: "INACTIVE", 3: "ACTIVE"},
        what="v3 active, v2 superseded",
    )


def test_an_activating_version_is_deleted_only_once_it_is_no_longer_rolling_out(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess
) -> None:
    stuck_rolling_out(cluster, berth, "roll")

    reconciled = service_reconciles(operator)
    cluster.kubectl("delete", "-n", berth.namespace, "csd", "roll-slow", "--wait=false")

    # The operator has seen the deletion (a reconcile since) and still holds the version.
    wait_for(lambda: service_reconciles(operator) > reconciled, what="a reconcile of the deletion")
    held = berth.versions("roll")["roll-slow"]
    assert held["metadata"]["deletionTimestamp"]
    assert held["status"]["state"] == "ACTIVATING"
    apply(cluster, berth.namespace, version_manifest("roll-fix", "roll", web_content(FIX="1")))
    wait_for(lambda: "roll-slow" not in berth.versions("roll"), what="v2 gone once superseded")
    wait_for(lambda: berth.version_states("roll") == {1: "INACTIVE", 3: "ACTIVE"}, what="v3")


@pytest.mark.parametrize("told", [False, True], ids=["created", "created-and-told"])
def test_a_crash_before_the_ledger_records_an_inline_version_neither_skips_nor_repeats_it(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess, told: bool
) -> None:
    # The operator creates an inline version, tells it its number, and only then records the
    # number in the service's status. Here it dies in between, and the next one takes over.
    name = f"ahead-{int(told)}"
    running_service(cluster, berth, name)
    operator.kill()
    apply(cluster, berth.namespace, service_manifest(name, deployment=web_content(V="2")))
    service = parse_service(berth.service(name))
    assert service.spec.deployment is not None
    digest = content_hash(service.spec.deployment)
    apply(cluster, berth.namespace, inline_version(service, f"{name}-v2", digest))
    if told:
        cluster.kubectl(
            "patch", "-n", berth.namespace, "csd", f"{name}-v2", "--subresource=status",
            "--type=merge", "-p", json.dumps({"status": {"version": 2, "state": "ACTIVATING"}}),
        )  # fmt: skip
    assert berth.status(name)["versions"]["lastVersion"] == 1

    operator.restart()

    wait_for(lambda: berth.version_states(name) == {1: "INACTIVE", 2: "ACTIVE"}, what="v2")
    assert sorted(berth.versions(name)) == [f"{name}-v1", f"{name}-v2"]
    ledger = berth.status(name)["versions"]
    assert ledger["lastVersion"] == 2
    assert ledger["lastUid"] == berth.versions(name)[f"{name}-v2"]["metadata"]["uid"]
    # The ledger took the inline version's hash as its own: had it not, the restart's reconcile
    # would have made another inline version of the same spec, and the next version made by
    # hand would not be number 3.
    apply(cluster, berth.namespace, version_manifest(f"{name}-by-hand", name, web_content(V="3")))
    wait_for(
        lambda: berth.version_states(name) == {1: "INACTIVE", 2: "INACTIVE", 3: "ACTIVE"},
        what="v3 after the catch-up",
    )
    assert berth.versions(name)[f"{name}-by-hand"]["status"]["version"] == 3


def test_unchanged_inline_deployment_reapplied_creates_no_version(
    cluster: KubeCluster, berth: Berth
) -> None:
    running_service(cluster, berth, "gitops")

    apply(cluster, berth.namespace, service_manifest("gitops", deployment=web_content()))
    apply(cluster, berth.namespace, service_manifest("gitops", deployment=web_content(V="2")))

    wait_for(lambda: berth.version_states("gitops") == {1: "INACTIVE", 2: "ACTIVE"}, what="v2")
    assert sorted(berth.versions("gitops")) == ["gitops-v1", "gitops-v2"]


def test_redeploying_an_old_version_creates_a_new_version_with_its_content(
    cluster: KubeCluster, berth: Berth
) -> None:
    running_service(cluster, berth, "rb")
    apply(cluster, berth.namespace, version_manifest("rb-two", "rb", web_content(V="2")))
    wait_for(lambda: berth.version_states("rb").get(2) == "ACTIVE", what="v2")
    old = berth.versions("rb")["rb-v1"]["spec"]
    content = {"containers": old["containers"], "publicEndpoint": old["publicEndpoint"]}

    apply(cluster, berth.namespace, version_manifest("rb-again", "rb", content))

    wait_for(
        lambda: berth.version_states("rb") == {1: "INACTIVE", 2: "INACTIVE", 3: "ACTIVE"}, what="v3"
    )
    assert berth.deployment("rb").spec.template.spec.containers[0].env is None


def test_version_numbers_are_never_reused_after_a_deletion(
    cluster: KubeCluster, berth: Berth
) -> None:
    running_service(cluster, berth, "nums")
    apply(cluster, berth.namespace, version_manifest("nums-b", "nums", web_content(V="b")))
    wait_for(lambda: berth.version_states("nums").get(2) == "ACTIVE", what="v2")
    cluster.kubectl("delete", "-n", berth.namespace, "csd", "nums-v1")

    apply(cluster, berth.namespace, version_manifest("nums-c", "nums", web_content(V="c")))

    wait_for(lambda: berth.version_states("nums") == {2: "INACTIVE", 3: "ACTIVE"}, what="v3")


def test_the_active_version_cannot_be_deleted_while_its_service_exists(
    cluster: KubeCluster, berth: Berth
) -> None:
    running_service(cluster, berth, "keep")

    cluster.kubectl("delete", "-n", berth.namespace, "csd", "keep-v1", "--wait=false")

    wait_for(
        lambda: any(e.reason == "ActiveVersionProtected" for e in berth.events("keep")),
        what="warning event",
    )
    assert berth.versions("keep")["keep-v1"]["metadata"]["deletionTimestamp"]
    assert berth.status("keep")["state"] == "RUNNING"
    apply(cluster, berth.namespace, version_manifest("keep-next", "keep", web_content(V="2")))
    wait_for(lambda: "keep-v1" not in berth.versions("keep"), what="v1 gone once replaced")
    assert berth.version_states("keep") == {2: "ACTIVE"}


def test_a_version_for_a_missing_service_waits_for_it_unnumbered(
    cluster: KubeCluster, berth: Berth
) -> None:
    apply(cluster, berth.namespace, version_manifest("later-v", "later", web_content()))
    waiting = wait_for(
        lambda: (berth.versions("later")["later-v"].get("status") or {}).get("conditions"),
        what="ServiceNotFound condition",
    )
    assert waiting[0]["reason"] == "ServiceNotFound"
    # kstatus reads a waiting version as InProgress, not Current
    health = {c["type"]: c["status"] for c in waiting}
    assert (health["Reconciling"], health["Stalled"], health["Ready"]) == ("True", "False", "False")
    assert "version" not in berth.versions("later")["later-v"]["status"]

    apply(cluster, berth.namespace, service_manifest("later"))

    wait_for(lambda: berth.version_states("later") == {1: "ACTIVE"}, what="numbered and active")


def test_at_most_50_versions_are_kept_and_the_oldest_inactive_go_first(
    cluster: KubeCluster, berth: Berth
) -> None:
    running_service(cluster, berth, "many", scale=1)
    manifests = [
        version_manifest(f"many-{i:02d}", "many", web_content(N=str(i))) for i in range(2, 54)
    ]
    apply(cluster, berth.namespace, *manifests)

    wait_for(lambda: berth.version_states("many").get(53) == "ACTIVE", timeout=120, what="v53")
    wait_for(lambda: len(berth.versions("many")) == 50, timeout=60, what="pruned to 50")
    # v1 was ACTIVE while v53 activated, so the three oldest INACTIVE ones went instead.
    assert sorted(berth.version_states("many")) == [1, *range(5, 54)]
