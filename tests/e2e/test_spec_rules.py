"""End to end: SPEC rules that no other test would notice breaking, one test each."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from tests.e2e.network_support import claims, condition, ingress
from tests.e2e.support import (
    Berth,
    apply,
    service_manifest,
    service_reconciles,
    version_manifest,
    wait_for,
    web_content,
)

from devcluster import KubeCluster
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e


def unique(prefix: str) -> str:
    """Private names and domains are cluster-wide: each test needs its own."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def running(cluster: KubeCluster, berth: Berth, name: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("deployment", web_content())
    apply(cluster, berth.namespace, service_manifest(name, scale=1, **spec))
    return berth.wait_state(name, "RUNNING")


# --- owned objects ---------------------------------------------------------------------------


def test_a_service_without_a_public_endpoint_reports_its_url_and_has_no_ingress(
    cluster: KubeCluster, berth: Berth
) -> None:
    worker = {"containers": {"jobs": {"image": "busybox:1", "command": ["sleep", "1d"]}}}
    status = running(cluster, berth, "worker", deployment=worker)

    # The ingress controller answers 404 for a host without an Ingress (live test
    # test_a_host_nobody_serves_gets_no_page_of_any_service shows that answer).
    assert re.fullmatch(
        rf"https://worker\.{status['guid']}\.[a-z0-9-]+\.cs\.[a-z0-9.-]+/", status["url"]
    )
    assert ingress(berth.core.api_client, berth.namespace, "worker") is None
    assert berth.deployment("worker") is not None


def test_owned_objects_are_server_side_applied_by_the_field_manager_berth(
    cluster: KubeCluster, berth: Berth
) -> None:
    running(cluster, berth, "ssa")
    owned = {
        "Deployment": berth.deployment("ssa"),
        "Service": berth.kube_service("ssa"),
        "Ingress": ingress(berth.core.api_client, berth.namespace, "ssa"),
    }
    for kind, obj in owned.items():
        managers = {(m.manager, m.operation) for m in obj.metadata.managed_fields}
        assert ("berth", "Apply") in managers, f"{kind}: {managers}"
        assert not [m for m, op in managers if m == "berth" and op != "Apply"], (
            f"{kind}: {managers}"
        )


def test_a_hand_edited_service_and_ingress_are_restored(cluster: KubeCluster, berth: Berth) -> None:
    running(cluster, berth, "drift")
    service_uid = berth.kube_service("drift").metadata.uid
    ns = berth.namespace

    cluster.kubectl(
        "patch", "-n", ns, "service", "drift", "--type=json",
        "-p", json.dumps([{"op": "replace", "path": "/spec/ports/0/port", "value": 8081}]),
    )  # fmt: skip
    cluster.kubectl(
        "patch", "-n", ns, "ingress", "drift", "--type=json",
        "-p", json.dumps([{"op": "replace", "path": "/spec/rules/0/host", "value": "x.example"}]),
    )  # fmt: skip

    wait_for(
        lambda: [p.port for p in berth.kube_service("drift").spec.ports] == [80],
        what="the Service's port restored",
    )
    default_host = berth.status("drift")["url"].removeprefix("https://").rstrip("/")
    wait_for(
        lambda: (
            [r.host for r in ingress(berth.core.api_client, ns, "drift").spec.rules]
            == [default_host]
        ),
        what="the Ingress's host restored",
    )
    assert berth.kube_service("drift").metadata.uid == service_uid  # edited back, not replaced


def test_tags_are_on_every_owned_object_and_every_version(
    cluster: KubeCluster, berth: Berth
) -> None:
    tags = [{"key": "team", "value": "blue"}]
    running(cluster, berth, "tagged", tags=tags)
    apply(
        cluster, berth.namespace, version_manifest("tagged-by-hand", "tagged", web_content(V="2"))
    )
    wait_for(lambda: berth.version_states("tagged").get(2) == "ACTIVE", what="v2 active")

    objects: dict[str, dict[str, Any]] = {
        "Deployment": berth.deployment("tagged").metadata.to_dict(),
        "Service": berth.kube_service("tagged").metadata.to_dict(),
        "Ingress": ingress(berth.core.api_client, berth.namespace, "tagged").metadata.to_dict(),
    }
    for name, version in berth.versions("tagged").items():
        objects[name] = version["metadata"]
    assert sorted(objects) == ["Deployment", "Ingress", "Service", "tagged-by-hand", "tagged-v1"]
    for what, meta in objects.items():
        assert json.loads(meta["annotations"]["berth.dev/tags"]) == tags, what
        assert meta["labels"]["team"] == "blue", what


def test_the_guid_is_12_lowercase_alphanumerics_chosen_once(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess
) -> None:
    guid = running(cluster, berth, "ident")["guid"]
    assert re.fullmatch(r"[a-z0-9]{12}", guid)

    apply(
        cluster,
        berth.namespace,
        service_manifest("ident", scale=2, deployment=web_content(V="2")),
    )
    wait_for(lambda: berth.version_states("ident").get(2) == "ACTIVE", what="v2 active")
    operator.restart()
    apply(
        cluster,
        berth.namespace,
        service_manifest("ident", scale=2, deployment=web_content(V="3")),
    )
    wait_for(lambda: berth.version_states("ident").get(3) == "ACTIVE", what="v3 after restart")

    status = berth.status("ident")
    assert status["guid"] == guid
    assert f".{guid}." in status["url"]


# --- capacity ------------------------------------------------------------------------------------


def test_an_admins_own_power_runs_a_service_at_its_size_and_price(
    cluster: KubeCluster, berth: Berth
) -> None:
    power = unique("pico")
    cluster.kubectl(
        "apply", "-f", "-",
        input=json.dumps({
            "apiVersion": "berth.dev/v1alpha1",
            "kind": "ContainerServicePower",
            "metadata": {"name": power},
            "spec": {"cpuCount": 0.125, "ramSizeInGb": 0.25, "price": 3.5},
        }),
    )  # fmt: skip
    try:
        apply(
            cluster,
            berth.namespace,
            service_manifest("own", scale=2, power=power, deployment=web_content()),
        )
        status = berth.wait_state("own", "RUNNING")

        assert (status["power"], status["monthlyPrice"]) == (power, 7)
        resources = berth.deployment("own").spec.template.spec.resources
        assert resources.limits == {"cpu": "125m", "memory": "256Mi"}
    finally:
        cluster.kubectl("delete", "containerservicepower", power, "--wait=false", check=False)


def test_a_horizontal_pod_autoscaler_scales_a_service_through_the_scale_subresource(
    cluster: KubeCluster, berth: Berth
) -> None:
    running(cluster, berth, "auto")
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "auto"},
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "berth.dev/v1alpha1",
                "kind": "ContainerService",
                "name": "auto",
            },
            # Below its minimum the autoscaler scales up without reading any metric.
            "minReplicas": 3,
            "maxReplicas": 4,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 80},
                    },
                }
            ],
        },
    }
    apply(cluster, berth.namespace, hpa)

    wait_for(
        lambda: berth.service("auto")["spec"]["scale"] == 3, 90, "the HPA to set spec.scale to 3"
    )
    wait_for(
        lambda: (s := berth.status("auto")).get("state") == "RUNNING" and s["readyReplicas"] == 3,
        what="RUNNING with 3 ready",
    )
    assert berth.deployment("auto").spec.replicas == 3


# --- versions --------------------------------------------------------------------------------------


def test_a_failed_version_can_be_deleted_and_its_number_is_not_reused(
    cluster: KubeCluster, berth: Berth
) -> None:
    running(cluster, berth, "oops")
    apply(
        cluster,
        berth.namespace,
        version_manifest("oops-bad", "oops", web_content("example.invalid/crashloop:1")),
    )
    wait_for(lambda: berth.version_states("oops").get(2) == "FAILED", 90, "v2 FAILED")

    cluster.kubectl("delete", "-n", berth.namespace, "csd", "oops-bad", "--timeout=30s")

    assert "oops-bad" not in berth.versions("oops")
    apply(cluster, berth.namespace, version_manifest("oops-fix", "oops", web_content(V="3")))
    wait_for(lambda: berth.version_states("oops") == {1: "INACTIVE", 3: "ACTIVE"}, what="v3")
    assert berth.status("oops")["state"] == "RUNNING"


# --- events ----------------------------------------------------------------------------------


def event_list(berth: Berth, name: str) -> list[tuple[str, str, str]]:
    return sorted((e.type, e.reason, e.message) for e in berth.events(name))


def test_transitions_are_normal_events_errors_warnings_and_none_is_repeated(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess
) -> None:
    running(cluster, berth, "told")
    wait_for(
        lambda: any(reason == "VersionActive" for _, reason, _ in event_list(berth, "told")),
        what="the VersionActive event",
    )
    told = event_list(berth, "told")
    assert ("Normal", "VersionActive", "version 1 is ACTIVE") in told
    assert any(t == "Normal" and reason == "StateRunning" for t, reason, _ in told)
    assert [e for e in told if e[0] == "Warning"] == []
    assert len(told) == len(set(told)), f"an event was posted twice: {told}"

    # An error is a Warning.
    apply(
        cluster,
        berth.namespace,
        service_manifest("told", scale=1, power="no-such-power", deployment=web_content()),
    )
    wait_for(lambda: any(t == "Warning" for t, _, _ in event_list(berth, "told")), what="a Warning")
    apply(cluster, berth.namespace, service_manifest("told", scale=1, deployment=web_content()))
    berth.wait_state("told", "RUNNING")
    wait_for(lambda: condition(berth.status("told"), "Stalled").get("status") == "False")
    settled = event_list(berth, "told")

    # A restart lists everything again and reconciles it: nothing is news, nothing is told again.
    operator.restart()
    wait_for(lambda: service_reconciles(operator) > 0, what="a reconcile after the restart")
    started = service_reconciles(operator)
    # One more event to reconcile, after the start-up ones: once it is counted, all were done.
    cluster.kubectl("label", "-n", berth.namespace, "csvc", "told", "poke=1")
    wait_for(lambda: service_reconciles(operator) > started, what="the label reconciled")
    assert event_list(berth, "told") == settled


# --- claims ----------------------------------------------------------------------------------


def test_a_deleted_service_releases_its_claims_with_no_finalizer_of_berths(
    cluster: KubeCluster, berth: Berth, allow_domains: Callable[..., str]
) -> None:
    name = unique("quit")
    domain = f"{name}.example.com"
    allow_domains(berth.namespace, domain)
    running(cluster, berth, name, publicDomainNames={"c": [domain]})
    api = berth.core.api_client
    wait_for(lambda: claims(api, domain) and claims(api, f"{name}.service.local"), what="claims")
    # Claims are released level-based (SPEC allows it), which saves a write per service.
    assert berth.service(name)["metadata"].get("finalizers") is None

    cluster.kubectl("delete", "-n", berth.namespace, "csvc", name, "--wait=false")

    wait_for(lambda: not claims(api, domain), 60, "the domain's claim released")
    wait_for(lambda: not claims(api, f"{name}.service.local"), 60, "the private name released")


def test_claims_are_released_when_the_operator_was_down_during_the_deletion(
    cluster: KubeCluster,
    berth: Berth,
    operator: OperatorProcess,
    allow_domains: Callable[..., str],
) -> None:
    name = unique("gone")
    domain = f"{name}.example.com"
    allow_domains(berth.namespace, domain)  # granted by an administrator: no proof to wait for
    running(cluster, berth, name, publicDomainNames={"c": [domain]})
    api = berth.core.api_client
    wait_for(lambda: claims(api, domain) and claims(api, f"{name}.service.local"), what="claims")

    operator.kill()
    try:
        cluster.kubectl("delete", "-n", berth.namespace, "csvc", name, "--wait=false")
    finally:
        operator.restart()

    wait_for(lambda: not claims(api, domain), 60, "the domain's claim released")
    wait_for(lambda: not claims(api, f"{name}.service.local"), 60, "the private name released")
    # Its ACTIVE version, deleted by the garbage collector, was held by its finalizer only.
    wait_for(lambda: not berth.versions(name), 60, "the version gone")
    wait_for(
        lambda: (
            berth.custom.list_namespaced_custom_object(
                "berth.dev", "v1alpha1", berth.namespace, "containerservices"
            )["items"]
            == []
        ),
        what="the service gone",
    )


def test_two_services_of_one_name_in_two_namespaces_race_for_the_private_name(
    cluster: KubeCluster, berth: Berth, tenant_b: Berth
) -> None:
    tenants = (berth, tenant_b)
    for round_ in range(3):
        name = unique(f"twin{round_}")
        manifest = service_manifest(name, scale=1, deployment=web_content())
        threads = [
            threading.Thread(target=apply, args=(cluster, t.namespace, manifest)) for t in tenants
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        def verdicts(name: str = name) -> list[str]:
            return [
                condition(t.status(name), "PrivateDomainAdmitted").get("status", "")
                for t in tenants
            ]

        wait_for(lambda: sorted(verdicts()) == ["False", "True"], what="one admitted, one refused")
        winner = tenants[verdicts().index("True")]
        [claim] = claims(berth.core.api_client, f"{name}.service.local")
        assert claim["spec"]["owner"]["namespace"] == winner.namespace
        for tenant in tenants:
            cluster.kubectl("delete", "-n", tenant.namespace, "csvc", name, "--wait=false")


# --- bad input -------------------------------------------------------------------------------

SERVICES_CRD = "containerservices.berth.dev"


def loosened(crd: dict[str, Any]) -> dict[str, Any]:
    """The service CRD without its publicDomainNames rules: what an older or hand-edited CRD may
    have let into etcd, which the operator still has to read."""
    loose = json.loads(json.dumps(crd))
    for version in loose["spec"]["versions"]:
        spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
        spec["properties"]["publicDomainNames"].pop("x-kubernetes-validations")
    for key in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
        loose["metadata"].pop(key, None)
    return loose


def test_a_spec_the_crd_let_through_but_the_operator_cannot_read_is_a_warning_not_a_crash(
    cluster: KubeCluster, berth: Berth, operator: OperatorProcess
) -> None:
    running(cluster, berth, "lax")
    crd = json.loads(cluster.kubectl("get", "crd", SERVICES_CRD, "-o", "json").stdout)
    twice = {"a": ["dup.example.com"], "b": ["DUP.example.com"]}  # one domain listed twice
    try:
        cluster.kubectl("replace", "-f", "-", input=json.dumps(loosened(crd)))
        wait_for(
            lambda: cluster.kubectl(
                "apply", "-n", berth.namespace, "-f", "-", check=False,
                input=json.dumps(service_manifest(
                    "lax", scale=1, deployment=web_content(), publicDomainNames=twice
                )),
            ).returncode == 0,
            what="the loosened CRD in effect",
        )  # fmt: skip
    finally:
        current = json.loads(cluster.kubectl("get", "crd", SERVICES_CRD, "-o", "json").stdout)
        crd["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        cluster.kubectl("replace", "-f", "-", input=json.dumps(crd))

    stalled = wait_for(
        lambda: (
            (c := condition(berth.status("lax"), "Stalled")).get("reason") == "InvalidSpec" and c
        ),
        what="Stalled: InvalidSpec",
    )
    assert "only once" in stalled["message"]
    warnings = [e for e in berth.events("lax") if e.type == "Warning"]
    assert [e.reason for e in warnings] == ["InvalidSpec"]  # once, not at every retry
    # The working version keeps serving, and the operator keeps working for everyone else.
    deployment = berth.deployment("lax")
    assert deployment.status.available_replicas == 1
    assert berth.version_states("lax") == {1: "ACTIVE"}
    assert operator.process is not None and operator.process.poll() is None
    running(cluster, berth, "neighbour")

    apply(cluster, berth.namespace, service_manifest("lax", scale=1, deployment=web_content()))
    wait_for(
        lambda: condition(berth.status("lax"), "Stalled").get("status") == "False",
        what="no longer Stalled once the spec is readable",
    )
