"""End to end: the `berth` CLI as a subprocess against the embedded cluster and real operator."""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import kubernetes
import pytest
from tests import lightsail_model
from tests.e2e.support import wait_for

from berth.render import names
from devcluster import KubeCluster
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e

# As in the AWS CLI documentation's examples: the containers map and the endpoint, one file each.
CONTAINERS = {
    "blog": {
        "image": "wordpress:6",
        "environment": {"WORDPRESS_DB_HOST": "db.example.internal", "WORDPRESS_DB_USER": "admin"},
        "ports": {"80": "HTTP"},
    }
}
PUBLIC_ENDPOINT = {
    "containerName": "blog",
    "containerPort": 80,
    "healthCheck": {
        "healthyThreshold": 2,
        "unhealthyThreshold": 2,
        "timeoutSeconds": 5,
        "intervalSeconds": 10,
        "path": "/",
        "successCodes": "200-499",
    },
}
WAIT = "--wait --timeout 120"


class Cli:
    """`berth -n <namespace> ...` run as a user would, with KUBECONFIG pointing at the cluster."""

    def __init__(self, kubeconfig: pathlib.Path, namespace: str, workdir: pathlib.Path) -> None:
        self.kubeconfig, self.namespace, self.workdir = kubeconfig, namespace, workdir

    def __call__(self, command: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        """Runs `berth <command>`, the command split like a shell would."""
        result = subprocess.run(
            [sys.executable, "-m", "berth.cli.main", "-n", self.namespace, *shlex.split(command)],
            capture_output=True,
            text=True,
            cwd=self.workdir,
            env={**os.environ, "KUBECONFIG": str(self.kubeconfig)},
            timeout=180,
        )
        if ok and result.returncode != 0:
            raise AssertionError(f"berth {command} exited {result.returncode}:\n{result.stderr}")
        return result

    def json(self, command: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self(f"{command} -o json").stdout)
        verb = shlex.split(command)[0]
        if lightsail_model.is_operation(verb):
            # What `aws lightsail <verb>` prints, by botocore's model: names, types, enums.
            assert lightsail_model.problems(loaded, lightsail_model.output_shape(verb)) == []
        return loaded

    def service(self, name: str) -> dict[str, Any]:
        listed = self.json(f"get-container-services --service-name {name}")
        services: list[dict[str, Any]] = listed["containerServices"]
        (found,) = services
        return found

    def wait_service(
        self, name: str, test: Callable[[dict[str, Any]], bool], what: str
    ) -> dict[str, Any]:
        found: dict[str, Any] = wait_for(
            lambda: s if test(s := self.service(name)) else None, 90, what
        )
        return found

    def versions(self, name: str) -> list[dict[str, Any]]:
        found = self.json(f"get-container-service-deployments --service-name {name}")
        deployments: list[dict[str, Any]] = found["deployments"]
        return deployments


@pytest.fixture
def cli(
    cluster: KubeCluster, operator: OperatorProcess, namespace: str, tmp_path: pathlib.Path
) -> Cli:
    (tmp_path / "containers.json").write_text(json.dumps(CONTAINERS, indent=4))
    (tmp_path / "public-endpoint.json").write_text(json.dumps(PUBLIC_ENDPOINT, indent=4))
    (tmp_path / "deployment.json").write_text(
        json.dumps({"containers": CONTAINERS, "publicEndpoint": PUBLIC_ENDPOINT})
    )
    return Cli(cluster.kubeconfig, namespace, tmp_path)


def running(cli: Cli, name: str, scale: int = 2, power: str = "nano") -> None:
    cli(
        f"create-container-service --service-name {name} --power {power} --scale {scale} "
        f"--deployment file://deployment.json {WAIT}"
    )


def test_aws_cli_json_files_create_a_service_and_a_deployment_in_lightsails_shapes(
    cli: Cli,
) -> None:
    created = cli.json(
        "create-container-service --service-name blog --power nano --scale 2 "
        f"""--tags '[{{"key": "team", "value": "web"}}]' {WAIT}"""
    )["containerService"]
    assert created["state"] == "READY"

    deployed = cli(
        "create-container-service-deployment --service-name blog "
        f"--containers file://containers.json --public-endpoint file://public-endpoint.json {WAIT}"
    )
    assert "version 1 ACTIVE" in deployed.stderr

    listed = cli.json("get-container-services")["containerServices"]
    assert [s["containerServiceName"] for s in listed] == ["blog"]
    service = listed[0]
    assert list(service) == [
        "containerServiceName", "arn", "createdAt", "location", "resourceType", "tags",
        "power", "powerId", "state", "scale", "currentDeployment", "isDisabled",
        "privateDomainName", "publicDomainNames", "url", "privateRegistryAccess",
    ]  # fmt: skip
    assert service["arn"].startswith(f"arn:berth:lightsail:local:{cli.namespace}:ContainerService/")
    assert service["location"] == {"availabilityZone": "all", "regionName": "local"}
    assert service["resourceType"] == "ContainerService"
    assert service["tags"] == [{"key": "team", "value": "web"}]
    assert (service["power"], service["scale"], service["state"]) == ("nano", 2, "RUNNING")
    assert service["privateDomainName"] == "blog.service.local"
    assert service["url"].startswith("https://blog.") and ".local.cs." in service["url"]
    current = service["currentDeployment"]
    assert (current["version"], current["state"]) == (1, "ACTIVE")
    assert current["containers"] == {"blog": {**CONTAINERS["blog"], "command": []}}
    assert current["publicEndpoint"] == PUBLIC_ENDPOINT

    (version,) = cli.versions("blog")
    assert {k: version[k] for k in ("version", "state", "containers", "publicEndpoint")} == {
        "version": 1,
        "state": "ACTIVE",
        "containers": current["containers"],
        "publicEndpoint": PUBLIC_ENDPOINT,
    }
    print("\n$ berth ls\n" + cli("ls").stdout)
    print("$ berth get-container-services -o json\n" + cli("get-container-services").stdout)


def test_create_with_public_domain_names_serves_them(
    cli: Cli, kube_api: kubernetes.client.ApiClient, allow_domains: Callable[..., str]
) -> None:
    domains = {"site": [f"www.{cli.namespace}.example.com", f"{cli.namespace}.example.com"]}
    allow_domains(cli.namespace, *domains["site"])  # granted: no proof of ownership to wait for
    created = cli.json(
        "create-container-service --service-name site --power nano --scale 1 "
        f"--public-domain-names '{json.dumps(domains)}' --deployment file://deployment.json {WAIT}"
    )["containerService"]
    assert created["publicDomainNames"] == domains

    shown = cli.service("site")
    assert shown["publicDomainNames"] == domains
    networking = kubernetes.client.NetworkingV1Api(kube_api)
    wait_for(
        lambda: (
            {r.host for r in networking.read_namespaced_ingress("site", cli.namespace).spec.rules}
            >= set(domains["site"])
        ),
        what="the domains in the Ingress",
    )


def test_an_inline_deployment_runs_and_ls_and_yaml_show_it(cli: Cli) -> None:
    result = cli(
        "create-container-service --service-name shop --power micro --scale 2 "
        f"--deployment file://deployment.json {WAIT}"
    )
    assert "shop: RUNNING, version 1 ACTIVE, 2/2 ready" in result.stderr

    header, row = cli("ls").stdout.splitlines()
    assert header.split() == ["NAME", "STATE", "POWER", "SCALE", "READY", "VERSION", "URL"]
    assert row.split()[:6] == ["shop", "RUNNING", "micro", "2", "2/2", "1"]
    assert "state: RUNNING" in cli("get-container-services -o yaml").stdout


def test_update_changes_scale_and_power_disables_and_sets_domains(cli: Cli) -> None:
    running(cli, "api", scale=1)

    updated = cli.json("update-container-service --service-name api --scale 3 --power small")
    assert (updated["containerService"]["scale"], updated["containerService"]["power"]) == (
        3,
        "small",
    )
    cli.wait_service(
        "api",
        lambda s: s["state"] == "RUNNING" and "3/3" in cli("ls").stdout,
        "RUNNING on small with 3 ready",
    )

    cli("update-container-service --service-name api --is-disabled")
    disabled = cli.wait_service("api", lambda s: s["state"] == "DISABLED", "DISABLED")
    assert disabled["isDisabled"] is True
    assert disabled["currentDeployment"]["version"] == 1

    cli("update-container-service --service-name api --no-is-disabled")
    cli.wait_service("api", lambda s: s["state"] == "RUNNING", "RUNNING again")

    domains = {"api-cert": ["api.example.com", "www.api.example.com"]}
    with_domains = cli.json(
        f"update-container-service --service-name api --public-domain-names '{json.dumps(domains)}'"
    )
    assert with_domains["containerService"]["publicDomainNames"] == domains
    cleared = cli.json("update-container-service --service-name api --public-domain-names '{}'")
    assert cleared["containerService"]["publicDomainNames"] == {}

    refused = cli("update-container-service --service-name api --power huge", ok=False)
    assert refused.returncode == 1
    assert "unknown power 'huge'" in refused.stderr


def test_deploy_and_rollback_each_make_a_new_version(cli: Cli) -> None:
    running(cli, "web")

    deployed = cli(f"deploy web --image wordpress:6.5 --env DEBUG=1 {WAIT}")
    assert "version 2 of web" in deployed.stdout and "is ACTIVE" in deployed.stdout

    rolled = cli(f"rollback web --version 1 {WAIT}")
    assert "version 3 of web" in rolled.stdout and "from version 1" in rolled.stdout

    versions = cli.versions("web")
    assert [(v["version"], v["state"]) for v in versions] == [
        (3, "ACTIVE"),
        (2, "INACTIVE"),
        (1, "INACTIVE"),
    ]
    v3, v2, v1 = versions
    assert v3["containers"] == v1["containers"]
    assert v3["publicEndpoint"] == v1["publicEndpoint"]
    assert v2["containers"]["blog"]["image"] == "wordpress:6.5"
    assert v2["containers"]["blog"]["environment"]["DEBUG"] == "1"
    assert v2["publicEndpoint"] == v1["publicEndpoint"]

    missing = cli("rollback web --version 7", ok=False)
    assert missing.returncode == 1
    assert "web has no version 7 (versions kept: 1, 2, 3)" in missing.stderr


def test_a_failing_deployment_makes_wait_exit_1_with_the_reason_and_keeps_serving(
    cli: Cli,
) -> None:
    running(cli, "pay", scale=1)

    failed = cli(f"deploy pay --image example/no-such-image:1 {WAIT}", ok=False)

    assert failed.returncode == 1
    assert "version 2 failed" in failed.stderr and "ImagePullBackOff" in failed.stderr
    service = cli.wait_service("pay", lambda s: s["state"] == "RUNNING", "RUNNING on v1")
    assert service["currentDeployment"]["version"] == 1
    assert [v["state"] for v in cli.versions("pay")] == ["FAILED", "ACTIVE"]


def test_powers_are_the_six_lightsail_defaults(cli: Cli) -> None:
    powers = cli.json("get-container-service-powers")["powers"]
    assert [(p["name"], p["cpuCount"], p["ramSizeInGb"], p["price"]) for p in powers] == [
        ("nano", 0.25, 0.5, 7.0),
        ("micro", 0.25, 1.0, 10.0),
        ("small", 0.5, 1.0, 15.0),
        ("medium", 1.0, 2.0, 40.0),
        ("large", 2.0, 4.0, 80.0),
        ("xlarge", 4.0, 8.0, 160.0),
    ]
    assert all(p["isActive"] and p["powerId"] == f"{p['name']}-1" for p in powers)
    table = cli("powers").stdout.splitlines()
    assert table[0].split()[:2] == ["NAME", "VCPU"] and len(table) == 7


def test_logs_of_kwok_pods_say_per_pod_that_the_log_cannot_be_read(cli: Cli) -> None:
    running(cli, "logs")

    result = cli(
        "get-container-log --service-name logs --container-name blog --filter-pattern -DEBUG",
        ok=False,
    )

    # kwok's nodes run no kubelet, so the API server cannot fetch any log: say so, per pod.
    assert result.returncode == 1
    assert result.stdout == ""
    assert "could not read the log of blog in any pod of logs" in result.stderr
    assert result.stderr.count("\n  logs-") == 2
    short = cli("logs logs --since 5m", ok=False)
    assert short.returncode == 1 and "could not read the log" in short.stderr
    wrong = cli("logs logs nope", ok=False)
    assert "logs has no container 'nope'; its pods run: blog" in wrong.stderr


def test_a_failed_versions_kept_lines_are_read_a_page_at_a_time_without_live_pods(
    cli: Cli, cluster: KubeCluster
) -> None:
    cli("create-container-service --service-name gone --power nano --scale 1")
    cli("update-container-service --service-name gone --is-disabled")
    kept = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": names.failure_logs("gone-v2"),
            "labels": {names.SERVICE_LABEL: "gone", names.FAILURE_LOGS_LABEL: "gone-v2"},
        },
        "data": {
            "blog_gone-5f7c9-x2k4q": "2025-01-02T03:04:05Z starting\n"
            "2025-01-02T03:04:06Z FATAL no database\n2025-01-02T03:04:07Z exiting\n",
        },
    }
    cluster.kubectl("apply", "-n", cli.namespace, "-f", "-", input=json.dumps(kept))
    base = "get-container-log --service-name gone --container-name blog"

    first = cli.json(f"{base} --page-size 2")
    second = cli.json(f"{base} --page-size 2 --page-token {first['nextPageToken']}")
    fatal = cli.json(f"{base} --filter-pattern FATAL")
    bad = cli(f"{base} --page-token nonsense", ok=False)

    assert [e["message"] for e in first["logEvents"]] == ["starting", "FATAL no database"]
    assert second == {
        "logEvents": [{"createdAt": "2025-01-02T03:04:07+00:00", "message": "exiting"}]
    }
    assert [e["message"] for e in fatal["logEvents"]] == ["FATAL no database"]
    assert bad.returncode == 1 and "is not one that get-container-log gave" in bad.stderr


def metrics_served(api: kubernetes.client.ApiClient) -> bool:
    groups = kubernetes.client.ApisApi(api).get_api_versions().groups or []
    return any(group.name == "metrics.k8s.io" for group in groups)


def test_metric_data_says_that_metrics_k8s_io_is_not_served(
    cli: Cli, kube_api: kubernetes.client.ApiClient
) -> None:
    if metrics_served(kube_api):
        pytest.skip("this cluster serves metrics.k8s.io")
    cli("create-container-service --service-name cpu --power nano --scale 1")

    result = cli(
        "get-container-service-metric-data --service-name cpu --metric-name CPUUtilization "
        "--statistics Average",
        ok=False,
    )

    assert result.returncode == 1
    assert "metrics.k8s.io is not served by this cluster" in result.stderr
    # Where it is served (metrics-server on the real node): tests/e2e/live/test_metric_data.py.


def test_delete_removes_the_service_and_mistakes_are_clear_errors(cli: Cli) -> None:
    create = "create-container-service --service-name gone --power nano --scale 1"
    cli(create)
    again = cli(create, ok=False)
    assert "container service 'gone' already exists" in again.stderr

    deleted = cli(f"delete-container-service --service-name gone {WAIT}")
    assert deleted.stdout == ""

    assert cli.json("get-container-services") == {"containerServices": []}
    missing = cli("get-container-services --service-name gone", ok=False)
    assert missing.returncode == 1
    assert f"container service 'gone' not found in namespace '{cli.namespace}'" in missing.stderr
