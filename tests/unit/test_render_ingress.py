"""render/ingress.py: the public endpoint's Ingress, its TLS entries, annotations and backend."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit import builders

from berth.render import ingress, names

DEFAULT = "web.abcdef123456.local.cs.berth.internal"


def render(
    *,
    domains: dict[str, list[str]] | None = None,
    disabled: bool = False,
    endpoint: dict[str, Any] | None = builders.WEB_ENDPOINT,
    **settings: Any,
) -> dict[str, Any] | None:
    service = builders.service(disabled=disabled)
    content = builders.content(endpoint=endpoint)
    return ingress.ingress(service, content, DEFAULT, domains or {}, builders.settings(**settings))


def hosts(manifest: dict[str, Any] | None) -> list[str]:
    assert manifest is not None
    return [rule["host"] for rule in manifest["spec"]["rules"]]


def test_the_default_domain_alone_without_custom_domains() -> None:
    manifest = render()
    assert manifest is not None
    assert manifest["metadata"]["name"] == "web"
    assert manifest["metadata"]["namespace"] == builders.NAMESPACE
    assert hosts(manifest) == [DEFAULT]
    assert manifest["spec"]["tls"] == [{"hosts": [DEFAULT], "secretName": "web.tls"}]


def test_custom_domains_follow_the_default_one_lowercased_with_a_secret_per_certificate() -> None:
    manifest = render(domains={"main": ["Shop.Example.com", "www.example.com"], "wild": ["*.A.io"]})
    assert hosts(manifest) == [DEFAULT, "shop.example.com", "www.example.com", "*.a.io"]
    assert manifest is not None
    assert manifest["spec"]["tls"] == [
        {"hosts": [DEFAULT], "secretName": "web.tls"},
        {"hosts": ["shop.example.com", "www.example.com"], "secretName": "web.main.tls"},
        {"hosts": ["*.a.io"], "secretName": "web.wild.tls"},
    ]


def test_a_certificate_left_without_admitted_domains_gets_no_tls_entry() -> None:
    manifest = render(domains={"main": ["shop.example.com"], "lost": []})
    assert ingress.tls_secret_names(manifest) == ["web.tls", "web.main.tls"]


def test_every_rule_sends_everything_to_the_endpoint_containers_service_port() -> None:
    manifest = render(domains={"main": ["shop.example.com"]})
    assert manifest is not None
    for rule in manifest["spec"]["rules"]:
        assert rule["http"]["paths"] == [
            {
                "path": "/",
                "pathType": "Prefix",
                "backend": {"service": {"name": "web", "port": {"number": 8080}}},
            }
        ]


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("no public endpoint", {"endpoint": None}),
        ("disabled", {"disabled": True}),
    ],
)
def test_no_ingress(case: str, kwargs: dict[str, Any]) -> None:
    assert render(**kwargs) is None, case
    assert ingress.tls_secret_names(None) == []


def test_no_content_no_ingress() -> None:
    service = builders.service()
    assert ingress.ingress(service, None, DEFAULT, {}, builders.settings()) is None


def test_cert_manager_issuer_and_https_redirect_annotations() -> None:
    manifest = render(cluster_issuer="corp-ca")
    assert manifest is not None
    annotations = manifest["metadata"]["annotations"]
    assert annotations["cert-manager.io/cluster-issuer"] == "corp-ca"
    # Each controller's own spelling of "redirect HTTP to HTTPS", as its documentation gives it.
    assert {key: annotations.get(key) for key in REDIRECTS} == REDIRECTS


REDIRECTS = {
    "nginx.ingress.kubernetes.io/ssl-redirect": "true",  # ingress-nginx
    "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",  # ingress-nginx, also without TLS
    "ingress.kubernetes.io/force-ssl-redirect": "true",  # Contour
    "haproxy.org/ssl-redirect": "true",  # HAProxy Ingress (haproxytech)
}


HTTPS_BACKEND = {
    "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS",  # ingress-nginx
    "haproxy.org/server-ssl": "true",  # HAProxy Ingress (haproxytech)
}


def test_an_https_public_port_asks_nginx_and_haproxy_for_tls_to_the_pods() -> None:
    containers = {"app": {"image": "a", "ports": {"8443": "HTTPS"}}}
    content = builders.content(containers, {"containerName": "app", "containerPort": 8443})
    manifest = ingress.ingress(builders.service(), content, DEFAULT, {}, builders.settings())
    assert manifest is not None
    annotations = manifest["metadata"]["annotations"]
    assert {key: annotations.get(key) for key in HTTPS_BACKEND} == HTTPS_BACKEND
    backend = manifest["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend["service"]["port"] == {"number": 8443}


def test_an_http_public_port_sets_no_backend_protocol() -> None:
    manifest = render()
    assert manifest is not None
    assert not set(HTTPS_BACKEND) & set(manifest["metadata"]["annotations"])


def test_chart_annotations_may_override_the_redirect_but_not_the_issuer() -> None:
    extra = {
        "nginx.ingress.kubernetes.io/ssl-redirect": "false",
        "example.com/team": "shop",
        "cert-manager.io/cluster-issuer": "other",
    }
    manifest = render(ingress_annotations=extra, cluster_issuer="berth-ca")
    assert manifest is not None
    annotations = manifest["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/ssl-redirect"] == "false"
    assert annotations["example.com/team"] == "shop"
    assert annotations["cert-manager.io/cluster-issuer"] == "berth-ca"


def test_ingress_class_only_when_configured() -> None:
    unset = render()
    assert unset is not None and "ingressClassName" not in unset["spec"]
    configured = render(ingress_class_name="nginx")
    assert configured is not None and configured["spec"]["ingressClassName"] == "nginx"


def test_the_ingress_is_owned_labelled_and_tagged_like_every_owned_object() -> None:
    service = builders.service(tags=[{"key": "team", "value": "shop"}])
    content = builders.content(endpoint=builders.WEB_ENDPOINT)
    manifest = ingress.ingress(service, content, DEFAULT, {}, builders.settings())
    assert manifest is not None
    meta = manifest["metadata"]
    assert meta["ownerReferences"][0]["uid"] == builders.UID
    assert meta["labels"]["app.kubernetes.io/managed-by"] == "berth"
    assert meta["labels"][names.SERVICE_LABEL] == "web"
    assert meta["labels"]["team"] == "shop"
    assert names.TAGS_ANNOTATION in meta["annotations"]


def test_secret_names_of_different_services_and_certificates_never_collide() -> None:
    assert names.tls_secret("a-b", "c") != names.tls_secret("a", "b-c")
    assert names.default_tls_secret("web") not in {names.tls_secret("web", "tls")}
