"""End to end: the chart installs, and its RBAC is exactly enough for the operator.

The proof runs the real operator out of cluster with a token of the chart's ServiceAccount, on a
control plane of its own: the session's operator (cluster admin) would otherwise reconcile the
same services and hide a missing permission.
"""

from __future__ import annotations

import copy
import json
import pathlib
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import kubernetes
import pytest
import yaml
from tests.e2e.chart_support import CHART, Manifest, helm, run_helm
from tests.e2e.support import (
    Berth,
    apply,
    service_manifest,
    version_manifest,
    wait_for,
    web_content,
)

from devcluster import Cluster, external_kubeconfig, stop_at_exit
from devcluster.lightsail_process import EndpointProcess, create_access_key
from devcluster.operator_process import OperatorProcess

__all__ = ["helm"]  # the fixture
pytestmark = pytest.mark.e2e

RELEASE = "berth"
DEADLINE_SECONDS = 15


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[Cluster]:
    if external_kubeconfig() is not None:
        pytest.skip(
            "needs a control plane of its own: another operator may reconcile BERTH_KUBECONFIG's"
        )
    started = Cluster()
    stop_at_exit(started)
    with started:
        yield started


@pytest.fixture(scope="module")
def release(own_cluster: Cluster, helm: pathlib.Path) -> str:
    """The chart installed as a user would, into a namespace that enforces PSS `restricted`."""
    namespace = "berth-system"
    own_cluster.kubectl("create", "namespace", namespace)
    own_cluster.kubectl(
        "label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted"
    )
    run_helm(
        helm,
        "install",
        RELEASE,
        str(CHART),
        "-n",
        namespace,
        f"--kubeconfig={own_cluster.kubeconfig}",
        "--set",
        f"progressDeadlineSeconds={DEADLINE_SECONDS}",
        # kwok plays the kubelet here (it sets every readiness gate); nothing answers on its pods'
        # addresses, so the operator's own health checks would fail every pod.
        "--set",
        "healthChecks.by=kubelet",
        "--wait",
        "--timeout=120s",
    )
    return namespace


def test_chart_installs_and_its_operator_pod_runs_under_pod_security_restricted(
    own_cluster: Cluster, release: str, helm: pathlib.Path
) -> None:
    deployment = json.loads(
        own_cluster.kubectl("get", "-n", release, "deployment", RELEASE, "-o", "json").stdout
    )
    assert deployment["status"]["availableReplicas"] == 2
    # The namespace really refuses what `restricted` forbids, so the pod above passed the check.
    loose = own_cluster.kubectl(
        "run", "loose", "-n", release, "--image=example.invalid/loose:1", check=False
    )
    assert 'violates PodSecurity "restricted' in loose.stderr, loose.stderr
    crds = own_cluster.kubectl("get", "crd", "-o", "name").stdout.split()
    assert {
        f"customresourcedefinition.apiextensions.k8s.io/{n}.berth.dev"
        for n in ("containerservices", "containerservicedeployments", "containerservicepowers")
    } <= set(crds)
    powers = own_cluster.kubectl("get", "cspower", "-o", "name").stdout.split()
    assert len(powers) == 6

    run_helm(
        helm,
        "upgrade",
        RELEASE,
        str(CHART),
        "-n",
        release,
        f"--kubeconfig={own_cluster.kubeconfig}",
        "--reuse-values",
        "--set",
        "region=eu-north-1",
        "--wait",
        "--timeout=120s",
    )
    upgraded = json.loads(
        own_cluster.kubectl("get", "-n", release, "deployment", RELEASE, "-o", "json").stdout
    )
    env = {
        e["name"]: e.get("value")
        for e in upgraded["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["BERTH_REGION"] == "eu-north-1"
    assert env["BERTH_PROGRESS_DEADLINE_SECONDS"] == str(DEADLINE_SECONDS)


def service_account_kubeconfig(
    cluster: Cluster, release: str, namespace: str, path: pathlib.Path
) -> pathlib.Path:
    """A kubeconfig that authenticates as a release's ServiceAccount, with a TokenRequest token."""
    token = cluster.kubectl(
        "create", "token", release, "-n", namespace, "--duration=1h"
    ).stdout.strip()
    config = copy.deepcopy(yaml.safe_load(cluster.kubeconfig.read_text()))
    config["users"] = [{"name": "berth-operator", "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = "berth-operator"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


def operator_as(
    cluster: Cluster, release: str, namespace: str, work: pathlib.Path
) -> OperatorProcess:
    """The operator, out of cluster, with the env the chart gives its pod, as the chart's SA."""
    deployment = json.loads(
        cluster.kubectl("get", "-n", namespace, "deployment", release, "-o", "json").stdout
    )
    chart_env = {
        e["name"]: e["value"]
        for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        # No downward API out of cluster: the process names itself in the Lease.
        if e["name"] not in ("BERTH_METRICS_PORT", "BERTH_HEALTH_PORT") and "value" in e
    }
    kubeconfig = service_account_kubeconfig(cluster, release, namespace, work / "sa.kubeconfig")
    return OperatorProcess(kubeconfig, work / "operator.log", env=chart_env)


@pytest.fixture
def as_service_account(
    own_cluster: Cluster, release: str, tmp_path: pathlib.Path
) -> Iterator[OperatorProcess]:
    process = operator_as(own_cluster, RELEASE, release, tmp_path)
    yield process
    process.stop()
    print(f"operator log: {process.log}")


@pytest.fixture
def own_namespace(own_cluster: Cluster) -> Iterator[str]:
    name = f"chart-{uuid.uuid4().hex[:8]}"
    own_cluster.kubectl("create", "namespace", name)
    yield name
    own_cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def berth_on(cluster: Cluster, namespace: str) -> Berth:
    return Berth(
        kubernetes.config.new_client_from_config(config_file=str(cluster.kubeconfig)), namespace
    )


def test_chart_service_account_may_do_everything_a_service_lifecycle_needs(
    own_cluster: Cluster, own_namespace: str, as_service_account: OperatorProcess
) -> None:
    berth = berth_on(own_cluster, own_namespace)
    operator = as_service_account.start()
    name = "life"

    # A custom domain: the operator reads or makes its verification key (a Secret in the
    # release namespace) to show the record that proves it.
    domains = {"c": [f"life-{own_namespace}.example.test"]}
    apply(
        own_cluster,
        own_namespace,
        service_manifest(name, deployment=web_content(), publicDomainNames=domains),
    )
    berth.wait_state(name, "RUNNING")
    wait_for(lambda: berth.status(name).get("domainValidationRecords"), what="its record")

    apply(
        own_cluster,
        own_namespace,
        version_manifest("life-blue", name, web_content(GREETING="blue")),
    )
    wait_for(
        lambda: berth.version_states(name) == {1: "INACTIVE", 2: "ACTIVE"}, what="version 2 ACTIVE"
    )
    berth.wait_state(name, "RUNNING")

    own_cluster.kubectl("scale", "-n", own_namespace, f"csvc/{name}", "--replicas=3")
    wait_for(
        lambda: (s := berth.status(name))["state"] == "RUNNING" and s["readyReplicas"] == 3,
        what="RUNNING with 3 ready",
    )

    own_cluster.kubectl("delete", "-n", own_namespace, f"csvc/{name}", "--timeout=60s")
    wait_for(lambda: berth.deployment(name) is None, what="the Deployment to go with its service")

    log = operator.log.read_text()
    assert operator.process is not None and operator.process.poll() is None
    assert "forbidden" not in log.lower(), "the chart's ClusterRole is missing a permission"
    assert "Not enough permissions" not in log


def without(rules: list[Manifest], group: str, plural: str, verb: str) -> list[Manifest]:
    cut = copy.deepcopy(rules)
    for rule in cut:
        if group in rule["apiGroups"] and plural in rule["resources"]:
            rule["verbs"] = [v for v in rule["verbs"] if v != verb]
    return cut


def test_without_patch_on_deployments_the_service_never_runs_and_the_operator_keeps_retrying(
    own_cluster: Cluster, own_namespace: str, as_service_account: OperatorProcess
) -> None:
    berth = berth_on(own_cluster, own_namespace)
    role = json.loads(own_cluster.kubectl("get", "clusterrole", RELEASE, "-o", "json").stdout)
    complete = role["rules"]
    role["rules"] = without(complete, "apps", "deployments", "patch")
    own_cluster.kubectl("replace", "-f", "-", input=json.dumps(role))
    try:
        operator = as_service_account.start()
        name = "denied"
        apply(own_cluster, own_namespace, service_manifest(name, deployment=web_content()))

        wait_for(
            lambda: "forbidden" in operator.log.read_text().lower(),
            timeout=30,
            what="the operator to log the 403",
        )
        # A later refused retry (counted, not slept for; refusals are retried every 30 s): it
        # got nowhere either.
        first = operator.log.read_text().lower().count("forbidden")
        wait_for(
            lambda: operator.log.read_text().lower().count("forbidden") > first,
            timeout=90,
            what="the operator to retry and be refused again",
        )
        assert berth.status(name).get("state") != "RUNNING"
        assert berth.deployment(name) is None
        assert operator.process is not None and operator.process.poll() is None, "operator died"
        log = operator.log.read_text()
        assert "deployments" in log and "cannot patch" in log
    finally:
        current = json.loads(
            own_cluster.kubectl("get", "clusterrole", RELEASE, "-o", "json").stdout
        )
        current["rules"] = complete
        own_cluster.kubectl("replace", "-f", "-", input=json.dumps(current))

    # With the permission back, the retries succeed: the 403 was an error it retried, not a crash.
    berth.wait_state(name, "RUNNING", timeout=90)


def can_i(cluster: Cluster, service_account: str, *args: str) -> bool:
    answer = cluster.kubectl("auth", "can-i", *args, f"--as={service_account}", check=False)
    return answer.stdout.strip() == "yes"


# The first release installed the powers; this one leaves them out.
@pytest.mark.usefixtures("release")
def test_watching_some_namespaces_binds_the_operator_there_only_and_it_still_works(
    own_cluster: Cluster, helm: pathlib.Path, own_namespace: str, tmp_path: pathlib.Path
) -> None:
    home, other, release = (
        f"ops-{uuid.uuid4().hex[:6]}",
        f"other-{uuid.uuid4().hex[:6]}",
        "berth-ns",
    )
    for name in (home, other):
        own_cluster.kubectl("create", "namespace", name)
    run_helm(
        helm,
        "install",
        release,
        str(CHART),
        "-n",
        home,
        f"--kubeconfig={own_cluster.kubeconfig}",
        "--set",
        f"watchNamespaces={{{own_namespace}}}",
        "--set",
        "defaultPowers=false",  # the first release owns them
        "--set",
        "healthChecks.by=kubelet",
        "--wait",
        "--timeout=120s",
    )
    account = f"system:serviceaccount:{home}:{release}"
    assert can_i(own_cluster, account, "patch", "deployments", "-n", own_namespace)
    # Berth's health checks set each pod's readiness gate through the status subresource.
    assert can_i(own_cluster, account, "patch", "pods", "--subresource=status", "-n", own_namespace)
    assert not can_i(own_cluster, account, "patch", "pods", "-n", own_namespace)
    assert not can_i(own_cluster, account, "list", "pods", "--all-namespaces")
    assert not can_i(own_cluster, account, "patch", "deployments", "-n", other)
    assert can_i(own_cluster, account, "list", "containerservicepowers.berth.dev")

    operator = operator_as(own_cluster, release, home, tmp_path)
    try:
        operator.start(timeout=15)
        watched, unwatched = berth_on(own_cluster, own_namespace), berth_on(own_cluster, other)
        apply(own_cluster, own_namespace, service_manifest("here", deployment=web_content()))
        apply(own_cluster, other, service_manifest("there", deployment=web_content()))

        watched.wait_state("here", "RUNNING")
        assert unwatched.status("there") == {}, "a namespace not watched was reconciled"
        assert "forbidden" not in operator.log.read_text().lower()
    finally:
        operator.stop()
        print(f"operator log: {operator.log}")


@pytest.fixture
def lightsail_as_service_account(
    own_cluster: Cluster, release: str, tmp_path: pathlib.Path
) -> Iterator[EndpointProcess]:
    """The Lightsail endpoint, out of cluster, as the chart's `<release>-lightsail` account."""
    account = f"{RELEASE}-lightsail"
    kubeconfig = service_account_kubeconfig(own_cluster, account, release, tmp_path / "ls.yaml")
    endpoint = EndpointProcess(kubeconfig, release, tmp_path / "lightsail.log", "local").start()
    yield endpoint
    endpoint.stop()
    print(f"endpoint log: {endpoint.log}")


def lightsail_client(endpoint: EndpointProcess, key: dict[str, str]) -> Any:
    return boto3.session.Session().client(
        "lightsail",
        region_name="local",
        endpoint_url=endpoint.url,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )


def test_the_chart_lightsail_endpoint_may_act_only_as_the_tenant_accounts_it_names(
    own_cluster: Cluster,
    release: str,
    own_namespace: str,
    lightsail_as_service_account: EndpointProcess,
) -> None:
    endpoint = lightsail_as_service_account
    allowed = create_access_key(own_cluster.kubeconfig, own_namespace, release)
    client = lightsail_client(endpoint, allowed)
    client.create_container_service(serviceName="fromaws", power="nano", scale=1)
    names = [
        s["containerServiceName"] for s in client.get_container_services()["containerServices"]
    ]
    assert names == ["fromaws"]
    assert {p["name"] for p in client.get_container_service_powers()["powers"]} >= {"nano"}

    # A key bound to an account the chart does not list: the API server refuses to let the
    # endpoint act as it, and the caller is told so in AWS's words.
    other = create_access_key(own_cluster.kubeconfig, own_namespace, release, "not-listed")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        lightsail_client(endpoint, other).get_container_services()
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
