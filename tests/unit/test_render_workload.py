"""render/workload.py: the Deployment that runs the served version of a service."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.unit import builders

from berth.api.content import DeploymentContent
from berth.api.objects import ContainerServiceObject
from berth.api.power import DEFAULT_POWERS, PowerSpec
from berth.render import names, workload
from berth.settings import HealthChecks, ResourcesMode, Settings

NANO = DEFAULT_POWERS["nano"]
KUBELET = builders.settings(health_checks=HealthChecks.KUBELET)
MEDIUM = DEFAULT_POWERS["medium"]


def render(
    service: ContainerServiceObject | None = None,
    version: int = 4,
    content: DeploymentContent | None = None,
    power: PowerSpec = NANO,
    settings: Settings | None = None,
    running: bool = True,
) -> dict[str, Any]:
    return workload.deployment(
        service or builders.service(),
        version,
        content or builders.content(endpoint=builders.WEB_ENDPOINT),
        power,
        settings or builders.settings(),
        running,
    )


def containers_of(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in manifest["spec"]["template"]["spec"]["containers"]}


def endpoint_on(port: int, protocol: str, **health: Any) -> DeploymentContent:
    containers = {"app": {"image": "app:1", "ports": {str(port): protocol}}}
    endpoint: dict[str, Any] = {"containerName": "app", "containerPort": port}
    if health:
        endpoint["healthCheck"] = health
    return builders.content(containers, endpoint)


# --- replicas -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "disabled", "running", "replicas"),
    [
        (3, False, True, 3),
        (20, False, True, 20),
        (3, True, True, 0),
        (3, False, False, 0),
        (3, True, False, 0),
    ],
)
def test_replicas_follow_scale_unless_disabled_or_not_running(
    scale: int, disabled: bool, running: bool, replicas: int
) -> None:
    service = builders.service(scale=scale, disabled=disabled)
    assert render(service, running=running)["spec"]["replicas"] == replicas


# --- selector, labels, owner ------------------------------------------------------------------


def test_selector_is_only_the_service_label_so_it_never_changes_between_versions() -> None:
    first = render(version=1)["spec"]["selector"]
    second = render(version=2)["spec"]["selector"]
    assert first == second == {"matchLabels": {"berth.dev/service": "web"}}


def test_template_labels_carry_the_version_and_match_the_selector() -> None:
    manifest = render(version=7)
    labels = manifest["spec"]["template"]["metadata"]["labels"]
    assert labels["berth.dev/version"] == "7"
    assert manifest["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_deployment_is_named_after_the_service_in_its_namespace() -> None:
    meta = render()["metadata"]
    assert (meta["name"], meta["namespace"]) == ("web", "shop")
    assert render()["apiVersion"] == "apps/v1"
    assert render()["kind"] == "Deployment"


def test_deployment_carries_the_standard_labels() -> None:
    labels = render()["metadata"]["labels"]
    assert labels == {
        "app.kubernetes.io/name": "web",
        "app.kubernetes.io/managed-by": "berth",
        "berth.dev/service": "web",
    }


def test_deployment_is_controlled_by_its_container_service() -> None:
    assert render()["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "berth.dev/v1alpha1",
            "kind": "ContainerService",
            "name": "web",
            "uid": builders.UID,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def test_all_tags_go_into_one_json_annotation_and_label_valid_ones_also_into_labels() -> None:
    tags = [
        {"key": "team", "value": "payments"},
        {"key": "cost center", "value": "42"},  # a space: no label key
        {"key": "owner", "value": "Jane Doe"},  # a space: no label value
        {"key": "example.com/tier", "value": "gold"},
    ]
    meta = render(builders.service(tags=tags))["metadata"]
    assert json.loads(meta["annotations"]["berth.dev/tags"]) == tags
    assert meta["labels"]["team"] == "payments"
    assert meta["labels"]["example.com/tier"] == "gold"
    assert "cost center" not in meta["labels"]
    assert "owner" not in meta["labels"]


def test_without_tags_there_is_no_tags_annotation() -> None:
    assert "annotations" not in render()["metadata"]


def test_a_tag_never_overrides_berths_own_labels() -> None:
    tags = [
        {"key": "berth.dev/service", "value": "other"},
        {"key": "app.kubernetes.io/name", "value": "other"},
        {"key": "app.kubernetes.io/managed-by", "value": "helm"},
    ]
    labels = render(builders.service(tags=tags))["metadata"]["labels"]
    assert labels["berth.dev/service"] == "web"
    assert labels["app.kubernetes.io/name"] == "web"
    assert labels["app.kubernetes.io/managed-by"] == "berth"


# --- rollout strategy ---------------------------------------------------------------------------


def test_rollout_never_reduces_serving_capacity() -> None:
    strategy = render()["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    rolling = strategy["rollingUpdate"]
    assert rolling["maxUnavailable"] == 0
    surge = rolling["maxSurge"]
    # An integer must be at least one pod; a percentage is rounded up, so any positive one is.
    if isinstance(surge, int):
        assert surge >= 1
    else:
        assert surge.endswith("%")
        assert int(surge[:-1]) > 0


@pytest.mark.parametrize("seconds", [5, 600, 1800])
def test_progress_deadline_comes_from_settings(seconds: int) -> None:
    settings = builders.settings(progress_deadline_seconds=seconds)
    assert render(settings=settings)["spec"]["progressDeadlineSeconds"] == seconds


# --- containers -------------------------------------------------------------------------------


def test_containers_keep_image_and_command_becomes_args() -> None:
    containers = containers_of(render())
    assert list(containers) == ["app", "dns"]
    assert containers["app"]["image"] == "nginx:1.27"
    assert containers["app"]["args"] == ["nginx", "-g", "daemon off;"]
    assert "command" not in containers["app"]
    assert "args" not in containers["dns"]


def test_environment_is_sorted_by_name() -> None:
    env = containers_of(render())["app"]["env"]
    assert env == [{"name": "ALPHA", "value": "a"}, {"name": "ZETA", "value": "z"}]


def test_a_container_without_environment_has_no_env() -> None:
    assert "env" not in containers_of(render())["dns"]


def test_ports_are_tcp_except_udp_and_sorted_numerically() -> None:
    containers = {"app": {"image": "a", "ports": {"9090": "TCP", "443": "HTTPS", "80": "HTTP"}}}
    rendered = containers_of(render(content=builders.content(containers)))["app"]
    assert rendered["ports"] == [
        {"containerPort": 80, "protocol": "TCP"},
        {"containerPort": 443, "protocol": "TCP"},
        {"containerPort": 9090, "protocol": "TCP"},
    ]
    dns = containers_of(render())["dns"]
    assert dns["ports"] == [{"containerPort": 53, "protocol": "UDP"}]


def test_service_links_are_off_so_env_stays_what_the_user_wrote() -> None:
    assert render()["spec"]["template"]["spec"]["enableServiceLinks"] is False


# --- draining ---------------------------------------------------------------------------------


def test_containers_with_ports_keep_serving_while_they_are_forgotten() -> None:
    containers = {
        "web": {"image": "w", "ports": {"80": "HTTP"}},
        "worker": {"image": "k", "command": ["run"]},
    }
    rendered = containers_of(render(content=builders.content(containers)))
    assert rendered["web"]["lifecycle"] == {"preStop": {"sleep": {"seconds": 10}}}
    assert "lifecycle" not in rendered["worker"]


@pytest.mark.parametrize(("seconds", "expected"), [(0, None), (12, 12)])
def test_drain_time_comes_from_settings(seconds: int, expected: int | None) -> None:
    rendered = containers_of(render(settings=builders.settings(drain_seconds=seconds)))["app"]
    found = rendered.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds")
    assert found == expected


# --- readiness probe ----------------------------------------------------------------------------


def test_readiness_probe_only_on_the_public_endpoint_container() -> None:
    containers = containers_of(render())
    assert "readinessProbe" in containers["app"]
    assert "readinessProbe" not in containers["dns"]


def test_no_public_endpoint_means_no_readiness_probe() -> None:
    containers = containers_of(render(content=builders.content()))
    assert all("readinessProbe" not in c for c in containers.values())


@pytest.mark.parametrize(("protocol", "scheme"), [("HTTP", "HTTP"), ("HTTPS", "HTTPS")])
def test_kubelet_probe_scheme_follows_the_endpoint_port_protocol(
    protocol: str, scheme: str
) -> None:
    rendered = render(content=endpoint_on(8443, protocol), settings=KUBELET)
    probe = containers_of(rendered)["app"]["readinessProbe"]
    assert probe["httpGet"]["scheme"] == scheme
    assert probe["httpGet"]["port"] == 8443


def test_kubelet_probe_is_the_health_check() -> None:
    content = endpoint_on(
        8080,
        "HTTP",
        path="/healthz",
        intervalSeconds=30,
        timeoutSeconds=7,
        healthyThreshold=3,
        unhealthyThreshold=9,
    )
    probe = containers_of(render(content=content, settings=KUBELET))["app"]["readinessProbe"]
    assert probe == {
        "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
        "periodSeconds": 30,
        "timeoutSeconds": 7,
        "successThreshold": 3,
        "failureThreshold": 9,
    }


def test_kubelet_probe_defaults_are_lightsails() -> None:
    rendered = render(content=endpoint_on(80, "HTTP"), settings=KUBELET)
    probe = containers_of(rendered)["app"]["readinessProbe"]
    assert probe == {
        "httpGet": {"path": "/", "port": 80, "scheme": "HTTP"},
        "periodSeconds": 5,
        "timeoutSeconds": 2,
        "successThreshold": 2,
        "failureThreshold": 2,
    }


def test_kubelet_probes_mean_no_readiness_gate() -> None:
    template = render(settings=KUBELET)["spec"]["template"]
    assert "readinessGates" not in template["spec"]
    assert "annotations" not in template["metadata"]


# --- Berth's own health checks: a readiness gate ----------------------------------------------


def test_pods_with_a_public_endpoint_wait_for_berths_health_check_gate() -> None:
    template = render()["spec"]["template"]
    assert template["spec"]["readinessGates"] == [{"conditionType": "berth.dev/health-check"}]


def test_no_public_endpoint_means_no_readiness_gate() -> None:
    template = render(content=builders.content())["spec"]["template"]
    assert "readinessGates" not in template["spec"]
    assert "annotations" not in template["metadata"]


def test_the_pod_says_what_its_health_check_checks() -> None:
    content = endpoint_on(8443, "HTTPS", path="/up", successCodes="200-299", intervalSeconds=9)
    template = render(content=content)["spec"]["template"]
    target = json.loads(template["metadata"]["annotations"][names.HEALTH_TARGET_ANNOTATION])
    assert target == {
        "port": 8443,
        "scheme": "HTTPS",
        "healthCheck": {
            "healthyThreshold": 2,
            "unhealthyThreshold": 2,
            "timeoutSeconds": 2,
            "intervalSeconds": 9,
            "path": "/up",
            "successCodes": "200-299",
        },
    }


def test_with_the_gate_the_kubelet_only_checks_that_the_port_is_open() -> None:
    content = endpoint_on(8080, "HTTP", intervalSeconds=30, timeoutSeconds=7, unhealthyThreshold=9)
    probe = containers_of(render(content=content))["app"]["readinessProbe"]
    assert probe == {
        "tcpSocket": {"port": 8080},
        "periodSeconds": 30,
        "timeoutSeconds": 7,
        "successThreshold": 1,
        "failureThreshold": 9,
    }


# --- resources ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("power", "cpu", "memory"),
    [
        ("nano", "250m", "512Mi"),
        ("micro", "250m", "1Gi"),
        ("small", "500m", "1Gi"),
        ("medium", "1", "2Gi"),
        ("large", "2", "4Gi"),
        ("xlarge", "4", "8Gi"),
    ],
)
def test_pod_mode_puts_the_power_on_the_pod_as_canonical_quantities(
    power: str, cpu: str, memory: str
) -> None:
    manifest = render(power=DEFAULT_POWERS[power], settings=builders.settings(ResourcesMode.POD))
    pod_spec = manifest["spec"]["template"]["spec"]
    amounts = {"cpu": cpu, "memory": memory}
    assert pod_spec["resources"] == {"requests": amounts, "limits": amounts}
    assert all("resources" not in c for c in pod_spec["containers"])


def test_container_mode_splits_the_power_evenly_across_containers() -> None:
    manifest = render(power=MEDIUM, settings=builders.settings(ResourcesMode.CONTAINER))
    pod_spec = manifest["spec"]["template"]["spec"]
    assert "resources" not in pod_spec
    for container in pod_spec["containers"]:
        amounts = {"cpu": "500m", "memory": "1Gi"}
        assert container["resources"] == {"requests": amounts, "limits": amounts}


def test_container_mode_never_gives_more_than_the_power_in_total() -> None:
    three = {name: {"image": "x"} for name in ("a", "b", "c")}
    manifest = render(
        content=builders.content(three),
        power=NANO,
        settings=builders.settings(ResourcesMode.CONTAINER),
    )
    limits = [c["resources"]["limits"] for c in manifest["spec"]["template"]["spec"]["containers"]]
    assert [lim["cpu"] for lim in limits] == ["83m"] * 3
    assert [lim["memory"] for lim in limits] == ["170Mi"] * 3


@pytest.mark.parametrize(
    ("ratio", "cpu", "memory"),
    [(1.0, "250m", "512Mi"), (0.25, "62m", "128Mi"), (0.1, "25m", "51Mi")],
)
def test_overcommit_asks_for_a_share_of_the_power_and_limits_to_all_of_it(
    ratio: float, cpu: str, memory: str
) -> None:
    manifest = render(power=NANO, settings=builders.settings(overcommit_ratio=ratio))
    resources = manifest["spec"]["template"]["spec"]["resources"]
    assert resources["requests"] == {"cpu": cpu, "memory": memory}
    assert resources["limits"] == {"cpu": "250m", "memory": "512Mi"}


def test_overcommit_splits_the_requests_across_containers_too() -> None:
    settings = builders.settings(ResourcesMode.CONTAINER, overcommit_ratio=0.5)
    manifest = render(power=MEDIUM, settings=settings)
    for container in manifest["spec"]["template"]["spec"]["containers"]:
        assert container["resources"]["requests"] == {"cpu": "250m", "memory": "512Mi"}
        assert container["resources"]["limits"] == {"cpu": "500m", "memory": "1Gi"}


def test_overcommit_never_asks_for_nothing() -> None:
    tiny = PowerSpec(cpu_count=0.001, ram_size_in_gb=0.001, price=1)
    manifest = render(power=tiny, settings=builders.settings(overcommit_ratio=0.01))
    assert manifest["spec"]["template"]["spec"]["resources"]["requests"] == {
        "cpu": "1m",
        "memory": "1Mi",
    }


@pytest.mark.parametrize(
    ("millicores", "quantity"),
    [(250, "250m"), (1000, "1"), (1500, "1500m"), (2000, "2"), (83, "83m")],
)
def test_cpu_quantity_is_canonical(millicores: int, quantity: str) -> None:
    assert workload.cpu_quantity(millicores) == quantity


@pytest.mark.parametrize(
    ("mebibytes", "quantity"),
    [(512, "512Mi"), (1024, "1Gi"), (1536, "1536Mi"), (8192, "8Gi"), (170, "170Mi")],
)
def test_memory_quantity_is_canonical(mebibytes: int, quantity: str) -> None:
    assert workload.memory_quantity(mebibytes) == quantity


def test_memory_quantity_of_a_tebibyte_is_canonical() -> None:
    assert workload.memory_quantity(1024 * 1024) == "1Ti"


def test_cpu_quantity_of_a_thousand_cpus_is_canonical() -> None:
    assert workload.cpu_quantity(1000 * 1000) == "1k"


# --- pull secrets -------------------------------------------------------------------------------


def test_image_pull_secrets_come_from_private_registry_access() -> None:
    service = builders.service(pull_secrets=["ecr", "ghcr"])
    pod_spec = render(service)["spec"]["template"]["spec"]
    assert pod_spec["imagePullSecrets"] == [{"name": "ecr"}, {"name": "ghcr"}]


def test_no_pull_secrets_means_no_image_pull_secrets_field() -> None:
    assert "imagePullSecrets" not in render()["spec"]["template"]["spec"]


# --- purity -------------------------------------------------------------------------------------


def test_rendering_twice_gives_the_same_manifest() -> None:
    assert render() == render()


def test_a_container_that_fails_without_a_message_leaves_its_last_log_lines_in_the_pod() -> None:
    containers = containers_of(render())
    assert {c["terminationMessagePolicy"] for c in containers.values()} == {"FallbackToLogsOnError"}
