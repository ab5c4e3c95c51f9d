"""render/network.py and render/names.py: the ClusterIP Service and the names of owned objects."""

from __future__ import annotations

import json

import pytest
from tests.unit import builders

from berth.render import names, network


def test_every_open_port_of_every_container_is_a_named_service_port() -> None:
    manifest = network.kube_service(builders.service(), builders.content())
    assert manifest is not None
    assert manifest["spec"]["ports"] == [
        {"name": "dns-53", "port": 53, "targetPort": 53, "protocol": "UDP"},
        {"name": "app-8080", "port": 8080, "targetPort": 8080, "protocol": "TCP"},
        {"name": "app-9090", "port": 9090, "targetPort": 9090, "protocol": "TCP"},
    ]


@pytest.mark.parametrize(
    ("protocol", "kube_protocol"),
    [("HTTP", "TCP"), ("HTTPS", "TCP"), ("TCP", "TCP"), ("UDP", "UDP")],
)
def test_service_port_protocol_is_tcp_except_for_udp(protocol: str, kube_protocol: str) -> None:
    content = builders.content({"app": {"image": "a", "ports": {"5000": protocol}}})
    manifest = network.kube_service(builders.service(), content)
    assert manifest is not None
    assert manifest["spec"]["ports"][0]["protocol"] == kube_protocol


HTTPS_CONTAINERS = {
    "app": {"image": "a", "ports": {"8443": "HTTPS", "8080": "HTTP"}},
    "admin": {"image": "b", "ports": {"9443": "HTTPS"}},
}


def test_https_ports_carry_app_protocol_https_and_others_none() -> None:
    content = builders.content(HTTPS_CONTAINERS)
    manifest = network.kube_service(builders.service(), content)
    assert manifest is not None
    by_port = {p["port"]: p.get("appProtocol") for p in manifest["spec"]["ports"]}
    assert by_port == {8080: None, 8443: "https", 9443: "https"}


def test_an_https_public_port_tells_traefik_and_contour_to_speak_tls_to_the_pods() -> None:
    endpoint = {"containerName": "app", "containerPort": 8443}
    manifest = network.kube_service(
        builders.service(), builders.content(HTTPS_CONTAINERS, endpoint)
    )
    assert manifest is not None
    annotations = manifest["metadata"]["annotations"]
    assert annotations["traefik.ingress.kubernetes.io/service.serversscheme"] == "https"
    assert annotations["projectcontour.io/upstream-protocol.tls"] == "8443,9443"


def test_an_http_public_port_leaves_traefik_on_http_whatever_other_ports_speak() -> None:
    # Traefik's scheme is for the whole Service; only the public port's protocol may decide it.
    endpoint = {"containerName": "app", "containerPort": 8080}
    manifest = network.kube_service(
        builders.service(), builders.content(HTTPS_CONTAINERS, endpoint)
    )
    assert manifest is not None
    annotations = manifest["metadata"].get("annotations", {})
    assert "traefik.ingress.kubernetes.io/service.serversscheme" not in annotations
    assert annotations["projectcontour.io/upstream-protocol.tls"] == "8443,9443"


def test_no_https_port_no_backend_tls_annotation() -> None:
    manifest = network.kube_service(
        builders.service(), builders.content(endpoint=builders.WEB_ENDPOINT)
    )
    assert manifest is not None
    assert "annotations" not in manifest["metadata"]


def test_no_open_port_means_no_service() -> None:
    content = builders.content({"worker": {"image": "w"}, "cron": {"image": "c", "ports": {}}})
    assert network.kube_service(builders.service(), content) is None


def test_service_is_a_cluster_ip_selecting_the_pods_of_the_service() -> None:
    manifest = network.kube_service(builders.service(), builders.content())
    assert manifest is not None
    assert (manifest["apiVersion"], manifest["kind"]) == ("v1", "Service")
    assert manifest["spec"]["type"] == "ClusterIP"
    assert manifest["spec"]["selector"] == {"berth.dev/service": "web"}
    assert manifest["metadata"]["name"] == "web"
    assert manifest["metadata"]["namespace"] == "shop"


def test_service_carries_owner_standard_labels_and_tags() -> None:
    service = builders.service(tags=[{"key": "team", "value": "a"}])
    manifest = network.kube_service(service, builders.content())
    assert manifest is not None
    meta = manifest["metadata"]
    assert meta["ownerReferences"][0]["uid"] == builders.UID
    assert meta["ownerReferences"][0]["controller"] is True
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "berth"
    assert meta["labels"]["team"] == "a"
    assert json.loads(meta["annotations"]["berth.dev/tags"]) == [{"key": "team", "value": "a"}]


def test_service_port_names_are_unique_dns_labels_even_for_long_container_names() -> None:
    long_a = "a" * 63
    long_b = "a" * 62 + "b"
    content = builders.content(
        {
            long_a: {"image": "x", "ports": {"80": "HTTP"}},
            long_b: {"image": "y", "ports": {"81": "TCP"}},
        }
    )
    manifest = network.kube_service(builders.service(), content)
    assert manifest is not None
    port_names = [p["name"] for p in manifest["spec"]["ports"]]
    assert len(set(port_names)) == 2
    assert all(len(n) <= 63 and not n.startswith("-") for n in port_names)


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("container", "port", "expected"),
    [
        ("app", "80", "app-80"),
        ("a" * 63, "8080", "a" * 58 + "-8080"),
        ("a" * 60 + "-bc", "65535", "a" * 57 + "-65535"),  # cut at a hyphen: no "--"
        ("a" * 57 + "-" + "b" * 5, "65535", "a" * 57 + "-65535"),
    ],
)
def test_service_port_name_is_container_dash_port_cut_to_63(
    container: str, port: str, expected: str
) -> None:
    name = names.service_port(container, port)
    assert name == expected
    assert len(name) <= 63
    assert "--" not in name


def test_default_domain_is_service_guid_region_cs_base_domain() -> None:
    domain = names.default_domain("web", "abc123def456", "eu-1", "example.com")
    assert domain == "web.abc123def456.eu-1.cs.example.com"


@pytest.mark.parametrize("suffix", ["service.local", "berth.internal"])
def test_private_domain_is_service_dot_suffix(suffix: str) -> None:
    assert names.private_domain("web", suffix) == f"web.{suffix}"


@pytest.mark.parametrize(("number", "name"), [(1, "web-v1"), (12, "web-v12"), (50, "web-v50")])
def test_version_names_are_service_v_number(number: int, name: str) -> None:
    assert names.version("web", number) == name


def test_owned_deployment_and_service_are_named_after_the_service() -> None:
    assert names.deployment("web") == "web"
    assert names.kube_service("web") == "web"
