"""Admission: the real API server accepts good Berth objects and names the field of a bad one."""

from __future__ import annotations

import copy
import json
import pathlib
import subprocess
from typing import Any

import pytest

from berth.api import limits
from devcluster import KubeCluster

pytestmark = pytest.mark.e2e

CRDS = pathlib.Path(__file__).resolve().parents[2] / "crds"
Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def crds(cluster: KubeCluster) -> KubeCluster:
    """The generated CRDs, applied (again, harmlessly, if another module did) and Established."""
    cluster.kubectl("apply", "-f", str(CRDS))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(CRDS))
    return cluster


def apply(
    cluster: KubeCluster, namespace: str, manifest: Manifest, *, dry_run: bool = False
) -> subprocess.CompletedProcess[str]:
    args = ["apply", "-n", namespace, "-f", "-"]
    if dry_run:
        args.append("--dry-run=server")
    return cluster.kubectl(*args, input=json.dumps(manifest), check=False)


# -- manifests ---------------------------------------------------------------------------------


def service(name: str = "shop", **spec: Any) -> Manifest:
    return {
        "apiVersion": limits.API_VERSION,
        "kind": "ContainerService",
        "metadata": {"name": name},
        "spec": {"power": "nano", "scale": 1, **spec},
    }


def version(name: str = "shop-v1", service_name: str = "shop", **content: Any) -> Manifest:
    return {
        "apiVersion": limits.API_VERSION,
        "kind": "ContainerServiceDeployment",
        "metadata": {"name": name},
        "spec": {"serviceName": service_name, **(content or web())},
    }


def power(name: str = "tiny", **spec: Any) -> Manifest:
    return {
        "apiVersion": limits.API_VERSION,
        "kind": "ContainerServicePower",
        "metadata": {"name": name},
        "spec": {"cpuCount": 0.125, "ramSizeInGb": 0.25, "price": 3.5, **spec},
    }


def container(image: str = "nginx:1.27", **fields: Any) -> Manifest:
    return {"image": image, **fields}


def web(port: int = 80, protocol: str = "HTTP", **health: Any) -> Manifest:
    """One container behind the public endpoint; `health` goes into its health check."""
    endpoint: Manifest = {"containerName": "web", "containerPort": port}
    if health:
        endpoint["healthCheck"] = health
    return {
        "containers": {"web": container(ports={str(port): protocol})},
        "publicEndpoint": endpoint,
    }


def inline(**content: Any) -> Manifest:
    """A service whose spec.deployment is `content`."""
    return service(deployment=content)


def edited(manifest: Manifest, **spec: Any) -> Manifest:
    changed = copy.deepcopy(manifest)
    changed["spec"].update(spec)
    return changed


def containers(count: int) -> Manifest:
    return {f"c{i}": container() for i in range(count)}


def tag(key: str, value: str = "") -> Manifest:
    return {"key": key, "value": value}


# -- accepted ----------------------------------------------------------------------------------

ACCEPTED = [
    pytest.param(service(), id="service-without-deployment"),
    pytest.param(inline(**web()), id="service-with-inline-deployment"),
    pytest.param(
        service(
            tags=[
                tag("team", "payments"),
                tag("équipe", "Zürich café"),
                tag("コスト", "東京 1"),
                tag("owner@corp.example/cost=+:_-", ""),
            ]
        ),
        id="tags-with-unicode-letters-and-lightsail-punctuation",
    ),
    pytest.param(
        service(
            publicDomainNames={
                "shop-cert": ["shop.example.com", "www.shop.example.com"],
                "api-cert": ["api.example.com", "API.example.org"],
            }
        ),
        id="four-custom-domains-across-two-certificates",
    ),
    pytest.param(service(publicDomainNames={"wild": ["*.example.com"]}), id="wildcard-domain"),
    pytest.param(
        service(
            isDisabled=True,
            privateRegistryAccess={"imagePullSecrets": ["registry-a", "registry-b"]},
        ),
        id="disabled-service-with-pull-secrets",
    ),
    pytest.param(service(name="a" * limits.MAX_NAME_LENGTH), id="name-of-63-chars"),
    pytest.param(service(scale=limits.MAX_SCALE), id="scale-at-maximum"),
    pytest.param(
        inline(containers=containers(limits.MAX_CONTAINERS)), id="ten-containers-no-endpoint"
    ),
    pytest.param(
        inline(
            containers={
                "web": container(
                    ports={"443": "HTTPS", "8080": "HTTP"},
                    command=["serve", "--port", "443"],
                    environment={"LOG_LEVEL": "debug", "my.setting-1": "x"},
                ),
                "dns": container("coredns:1.11", ports={"53": "UDP", "5353": "TCP"}),
            },
            publicEndpoint={"containerName": "web", "containerPort": 443},
        ),
        id="endpoint-on-https-port-with-udp-sidecar",
    ),
    pytest.param(
        inline(
            **web(
                healthyThreshold=10,
                unhealthyThreshold=2,
                timeoutSeconds=60,
                intervalSeconds=300,
                path="/healthz",
                successCodes="200,202-204,499",
            )
        ),
        id="health-check-at-its-bounds",
    ),
    pytest.param(version(), id="version-with-service-name"),
    pytest.param(
        version(containers={"worker": container(command=["run"])}),
        id="version-without-public-endpoint",
    ),
    pytest.param(power(), id="power"),
]


@pytest.mark.parametrize("manifest", ACCEPTED)
def test_valid_objects_are_accepted(crds: KubeCluster, namespace: str, manifest: Manifest) -> None:
    # A ContainerServicePower is cluster-scoped: a dry run keeps it out of other tests' way.
    cluster_scoped = manifest["kind"] == "ContainerServicePower"
    result = apply(crds, namespace, manifest, dry_run=cluster_scoped)
    assert result.returncode == 0, result.stderr


EDITS_ACCEPTED = [
    pytest.param(service(), edited(service(), scale=3, power="small"), id="service-spec-changes"),
    pytest.param(
        version(),
        {**version(), "metadata": {"name": "shop-v1", "labels": {"team": "payments"}}},
        id="version-metadata-changes",
    ),
]


@pytest.mark.parametrize(("original", "changed"), EDITS_ACCEPTED)
def test_allowed_edits_are_accepted(
    crds: KubeCluster, namespace: str, original: Manifest, changed: Manifest
) -> None:
    assert apply(crds, namespace, original).returncode == 0
    result = apply(crds, namespace, changed)
    assert result.returncode == 0, result.stderr


def test_server_fills_in_lightsail_defaults(crds: KubeCluster, namespace: str) -> None:
    manifest = inline(containers={"web": container(ports={"80": "HTTP"})})
    manifest["spec"]["deployment"]["publicEndpoint"] = {"containerName": "web", "containerPort": 80}
    assert apply(crds, namespace, manifest).returncode == 0

    stored = json.loads(crds.kubectl("get", "-n", namespace, "csvc/shop", "-o", "json").stdout)

    assert stored["spec"]["isDisabled"] is False
    assert stored["spec"]["deployment"]["publicEndpoint"]["healthCheck"] == {
        "healthyThreshold": 2,
        "unhealthyThreshold": 2,
        "timeoutSeconds": 2,
        "intervalSeconds": 5,
        "path": "/",
        "successCodes": "200-499",
    }


# -- rejected ----------------------------------------------------------------------------------

NAME_RULE = "metadata.name must be 1-63 lowercase letters, digits or '-'"
HEALTH = "spec.deployment.publicEndpoint.healthCheck"
TWO_CONTAINERS_ON_PORT_80 = {
    "web": container(ports={"80": "HTTP"}),
    "proxy": container("envoy:1.31", ports={"80": "HTTP", "9901": "HTTP"}),
}

REJECTED = [
    # names
    pytest.param(service(name="a" * 64), NAME_RULE, id="name-of-64-chars"),
    pytest.param(service(name="Shop"), NAME_RULE, id="name-uppercase"),
    pytest.param(service(name="-shop"), NAME_RULE, id="name-leading-hyphen"),
    pytest.param(service(name="shop-"), NAME_RULE, id="name-trailing-hyphen"),
    pytest.param(service(name="shop.eu"), NAME_RULE, id="name-with-dot"),
    pytest.param(version(name="v" * 64), NAME_RULE, id="version-name-of-64-chars"),
    # capacity
    pytest.param(service(scale=0), "spec.scale", id="scale-zero"),
    pytest.param(service(scale=21), "spec.scale", id="scale-21"),
    pytest.param(service(power="Nano"), "spec.power", id="power-name-uppercase"),
    pytest.param(
        {**service(), "spec": {"scale": 1}}, "spec.power: Required value", id="power-missing"
    ),
    # containers
    pytest.param(
        inline(containers={"web": container(ports={"80": "SCTP"})}),
        'Unsupported value: "SCTP"',
        id="port-protocol-unknown",
    ),
    pytest.param(
        inline(containers={"web": container(ports={"http": "HTTP"})}),
        "ports keys must be port numbers between 1 and 65535",
        id="port-not-a-number",
    ),
    pytest.param(
        inline(containers={"web": container(ports={"0": "HTTP"})}),
        "ports keys must be port numbers between 1 and 65535",
        id="port-zero",
    ),
    pytest.param(
        inline(containers={"web": container(ports={"65536": "TCP"})}),
        "ports keys must be port numbers between 1 and 65535",
        id="port-above-65535",
    ),
    pytest.param(
        inline(containers=containers(11)),
        "spec.deployment.containers: Too many",
        id="eleven-containers",
    ),
    pytest.param(
        inline(containers={}), "spec.deployment.containers: Invalid value", id="no-containers"
    ),
    pytest.param(
        inline(containers={"Web": container()}),
        "containers names must be DNS labels",
        id="container-name-uppercase",
    ),
    pytest.param(
        inline(containers={"web": {"command": ["run"]}}),
        "spec.deployment.containers.web.image: Required value",
        id="container-without-image",
    ),
    pytest.param(
        inline(containers={"web": container(environment={"1PASSWORD": "x"})}),
        "environment variable names",
        id="environment-name-starting-with-digit",
    ),
    pytest.param(
        inline(containers=TWO_CONTAINERS_ON_PORT_80),
        "a port number may be opened by one container only",
        id="port-opened-by-two-containers",
    ),
    pytest.param(
        version(containers=TWO_CONTAINERS_ON_PORT_80),
        "spec.containers: Invalid value",
        id="version-port-opened-by-two-containers",
    ),
    # public endpoint
    pytest.param(
        inline(**{**web(), "publicEndpoint": {"containerName": "api", "containerPort": 80}}),
        "spec.deployment.publicEndpoint.containerName: Invalid value",
        id="endpoint-container-missing",
    ),
    pytest.param(
        version(**{**web(), "publicEndpoint": {"containerName": "api", "containerPort": 80}}),
        "publicEndpoint.containerName must name one of the containers",
        id="version-endpoint-container-missing",
    ),
    pytest.param(
        inline(**web(protocol="UDP")),
        "spec.deployment.publicEndpoint.containerPort: Invalid value",
        id="endpoint-on-udp-port",
    ),
    pytest.param(
        inline(**web(protocol="TCP")),
        "publicEndpoint.containerPort must be a port that the container opens as HTTP or HTTPS",
        id="endpoint-on-tcp-port",
    ),
    pytest.param(
        inline(**{**web(), "publicEndpoint": {"containerName": "web", "containerPort": 8080}}),
        "spec.deployment.publicEndpoint.containerPort",
        id="endpoint-on-port-not-opened",
    ),
    pytest.param(
        inline(containers={"web": container()}, publicEndpoint={"containerName": "web"}),
        "containerPort: Required value",
        id="endpoint-without-port",
    ),
    # health check
    pytest.param(
        inline(**web(timeoutSeconds=1)),
        f"{HEALTH}.timeoutSeconds: Invalid value: 1",
        id="timeout-1",
    ),
    pytest.param(
        inline(**web(timeoutSeconds=61)),
        f"{HEALTH}.timeoutSeconds: Invalid value: 61",
        id="timeout-61",
    ),
    pytest.param(
        inline(**web(intervalSeconds=4)),
        f"{HEALTH}.intervalSeconds: Invalid value: 4",
        id="interval-4",
    ),
    pytest.param(
        inline(**web(intervalSeconds=301)),
        f"{HEALTH}.intervalSeconds: Invalid value: 301",
        id="interval-301",
    ),
    pytest.param(
        inline(**web(healthyThreshold=1)),
        f"{HEALTH}.healthyThreshold: Invalid value: 1",
        id="healthy-1",
    ),
    pytest.param(
        inline(**web(healthyThreshold=11)),
        f"{HEALTH}.healthyThreshold: Invalid value: 11",
        id="healthy-11",
    ),
    pytest.param(
        inline(**web(unhealthyThreshold=1)),
        f"{HEALTH}.unhealthyThreshold: Invalid value: 1",
        id="unhealthy-1",
    ),
    pytest.param(
        inline(**web(unhealthyThreshold=11)),
        f"{HEALTH}.unhealthyThreshold: Invalid value: 11",
        id="unhealthy-11",
    ),
    pytest.param(
        inline(**web(path="healthz")), f"{HEALTH}.path in body should match", id="path-not-absolute"
    ),
    pytest.param(
        inline(**web(successCodes="199")),
        "successCodes must be HTTP codes between 200 and 499",
        id="success-code-199",
    ),
    pytest.param(
        inline(**web(successCodes="200,500")),
        "successCodes must be HTTP codes between 200 and 499",
        id="success-code-500",
    ),
    pytest.param(
        inline(**web(successCodes="abc")),
        f"{HEALTH}.successCodes in body should match",
        id="success-code-abc",
    ),
    pytest.param(
        inline(**web(successCodes="300-200")),
        "successCodes ranges must be written low-high",
        id="success-code-range-reversed",
    ),
    pytest.param(
        inline(**web(successCodes="")),
        f"{HEALTH}.successCodes in body should match",
        id="success-code-empty",
    ),
    # domains
    pytest.param(
        service(
            publicDomainNames={
                "a": ["a.example.com", "b.example.com", "c.example.com"],
                "b": ["d.example.com", "e.example.com"],
            }
        ),
        "at most 4 custom domains in total",
        id="five-custom-domains",
    ),
    pytest.param(
        service(publicDomainNames={"a": ["shop.example.com", "shop.example.com"]}),
        "a domain may be listed only once",
        id="domain-twice-in-one-certificate",
    ),
    pytest.param(
        service(publicDomainNames={"a": ["shop.example.com"], "b": ["shop.example.com"]}),
        "a domain may be listed only once",
        id="domain-twice-across-certificates",
    ),
    pytest.param(
        service(publicDomainNames={"a": ["shop.example.com"], "b": ["Shop.Example.COM"]}),
        "a domain may be listed only once",
        id="domain-twice-differing-in-case",
    ),
    pytest.param(
        service(publicDomainNames={"a": ["shop example.com"]}),
        "spec.publicDomainNames.a[0]",
        id="domain-with-space",
    ),
    pytest.param(
        service(publicDomainNames={"a": ["localhost"]}),
        "spec.publicDomainNames.a[0]",
        id="domain-without-dot",
    ),
    pytest.param(
        service(publicDomainNames={"a": []}),
        "spec.publicDomainNames.a",
        id="certificate-without-domains",
    ),
    pytest.param(
        service(publicDomainNames={"Shop_Cert": ["shop.example.com"]}),
        "certificate names must be DNS labels",
        id="certificate-name-not-a-dns-label",
    ),
    # tags and registry access
    pytest.param(
        service(tags=[tag("k" * 129)]), "spec.tags[0].key: Too long", id="tag-key-129-chars"
    ),
    pytest.param(
        service(tags=[tag("")]),
        "spec.tags[0].key in body should be at least 1 chars long",
        id="tag-key-empty",
    ),
    pytest.param(
        service(tags=[tag("team", "v" * 257)]),
        "spec.tags[0].value: Too long",
        id="tag-value-257-chars",
    ),
    pytest.param(
        service(tags=[tag("team", "<b>")]),
        "spec.tags[0].value in body should match",
        id="tag-value-markup",
    ),
    pytest.param(
        service(tags=[tag("team", "a"), tag("team", "b")]),
        "Duplicate value",
        id="tag-key-twice",
    ),
    pytest.param(
        service(privateRegistryAccess={"imagePullSecrets": ["Registry"]}),
        "imagePullSecrets[0]",
        id="pull-secret-name-uppercase",
    ),
    # versions and powers
    pytest.param(
        {**version(), "spec": web()}, "spec.serviceName: Required value", id="version-no-service"
    ),
    pytest.param(
        power(cpuCount=0), "spec.cpuCount in body should be greater than 0", id="power-without-cpu"
    ),
    pytest.param(
        power(price=-1),
        "spec.price in body should be greater than or equal to 0",
        id="power-price-negative",
    ),
]


@pytest.mark.parametrize(("manifest", "message"), REJECTED)
def test_invalid_objects_are_rejected_naming_the_field(
    crds: KubeCluster, namespace: str, manifest: Manifest, message: str
) -> None:
    result = apply(crds, namespace, manifest)

    assert result.returncode != 0, f"accepted: {result.stdout}"
    assert message in result.stderr
    # A rule that errors instead of answering would show the user CEL internals.
    assert "evaluating rule" not in result.stderr


CHANGED_CONTAINERS = edited(version(), containers={"web": container("nginx:1.28")})

EDITS_REJECTED = [
    pytest.param(version(), CHANGED_CONTAINERS, "spec is immutable", id="version-containers"),
    pytest.param(
        version(),
        edited(version(), publicEndpoint=web(path="/ready")["publicEndpoint"]),
        "spec is immutable",
        id="version-health-check",
    ),
    pytest.param(
        version(),
        edited(version(), serviceName="other"),
        'spec.serviceName: Invalid value: "other": serviceName is immutable',
        id="version-service-name",
    ),
]


@pytest.mark.parametrize(("original", "changed", "message"), EDITS_REJECTED)
def test_edits_of_a_version_are_rejected_as_immutable(
    crds: KubeCluster, namespace: str, original: Manifest, changed: Manifest, message: str
) -> None:
    assert apply(crds, namespace, original).returncode == 0

    result = apply(crds, namespace, changed)

    assert result.returncode != 0, f"accepted: {result.stdout}"
    assert message in result.stderr
    stored = json.loads(crds.kubectl("get", "-n", namespace, "csd/shop-v1", "-o", "json").stdout)
    assert stored["spec"]["containers"] == original["spec"]["containers"]
