"""The CLI's kubeconfig reader: what kubectl would use, and when to hand over to kubernetes."""

from __future__ import annotations

import base64
import pathlib
import ssl
from typing import Any

import pytest
import yaml

from berth.cli import kubeconfig
from berth.cli.errors import CliError
from berth.cli.http_rest import HttpRest, retry_delay, tls_context
from berth.cli.kubeconfig import NeedsKubernetes, Server
from devcluster.certs import write_certs


def write(path: pathlib.Path, **config: Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", **config}))
    return str(path)


def one_context(
    path: pathlib.Path, cluster: dict[str, Any], user: dict[str, Any], namespace: str = ""
) -> str:
    context: dict[str, Any] = {"cluster": "c", "user": "u"}
    if namespace:
        context["namespace"] = namespace
    return write(
        path,
        clusters=[{"name": "c", "cluster": cluster}],
        users=[{"name": "u", "user": user}],
        contexts=[{"name": "ctx", "context": context}],
        **{"current-context": "ctx"},
    )


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_inline_certificates_and_a_token_are_read(tmp_path: pathlib.Path) -> None:
    path = one_context(
        tmp_path / "config",
        {"server": "https://10.0.0.1:6443", "certificate-authority-data": b64("CA PEM")},
        {
            "client-certificate-data": b64("CERT PEM"),
            "client-key-data": b64("KEY PEM"),
            "token": "abc",
        },
        namespace="team",
    )
    assert kubeconfig.load([path], None) == Server(
        url="https://10.0.0.1:6443",
        namespace="team",
        ca_pem="CA PEM",
        cert_pem="CERT PEM",
        key_pem="KEY PEM",
        token="abc",
    )


def test_file_paths_are_relative_to_the_kubeconfig_that_names_them(tmp_path: pathlib.Path) -> None:
    path = one_context(
        tmp_path / "kube" / "config",
        {"server": "https://h:6443", "certificate-authority": "pki/ca.crt"},
        {"client-certificate": "/abs/admin.crt", "client-key": "admin.key", "tokenFile": "tok"},
    )
    server = kubeconfig.load([path], None)
    assert server.ca_file == str(tmp_path / "kube" / "pki" / "ca.crt")
    assert server.cert_file == "/abs/admin.crt"
    assert server.key_file == str(tmp_path / "kube" / "admin.key")
    assert server.token_file == str(tmp_path / "kube" / "tok")


def test_insecure_skip_tls_verify_and_a_server_without_a_scheme(tmp_path: pathlib.Path) -> None:
    path = one_context(
        tmp_path / "config", {"server": "h.example:6443", "insecure-skip-tls-verify": True}, {}
    )
    server = kubeconfig.load([path], None)
    assert (server.url, server.insecure, server.namespace) == ("https://h.example:6443", True, None)


def test_of_several_files_the_first_to_name_a_thing_wins(tmp_path: pathlib.Path) -> None:
    first = write(
        tmp_path / "a",
        clusters=[{"name": "c", "cluster": {"server": "https://first:1"}}],
        contexts=[{"name": "ctx", "context": {"cluster": "c", "namespace": "from-a"}}],
        **{"current-context": "ctx"},
    )
    second = write(
        tmp_path / "b",
        clusters=[
            {"name": "c", "cluster": {"server": "https://second:1"}},
            {"name": "other", "cluster": {"server": "https://other:1"}},
        ],
        users=[{"name": "u", "user": {"token": "t"}}],
        contexts=[
            {"name": "ctx", "context": {"cluster": "other", "namespace": "from-b"}},
            {"name": "prod", "context": {"cluster": "other", "user": "u"}},
        ],
        **{"current-context": "prod"},
    )
    chosen = kubeconfig.load([first, second], None)
    assert (chosen.url, chosen.namespace, chosen.token) == ("https://first:1", "from-a", None)
    prod = kubeconfig.load([first, second], "prod")
    assert (prod.url, prod.token) == ("https://other:1", "t")


def test_a_kubeconfig_without_a_current_context_asks_for_one(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path / "config", clusters=[], contexts=[])
    with pytest.raises(CliError, match="no current-context; pass --context"):
        kubeconfig.load([path], None)


def test_a_context_naming_an_unknown_cluster_is_an_error(tmp_path: pathlib.Path) -> None:
    path = write(
        tmp_path / "config",
        contexts=[{"name": "ctx", "context": {"cluster": "gone"}}],
        **{"current-context": "ctx"},
    )
    with pytest.raises(CliError, match="names no known cluster"):
        kubeconfig.load([path], None)


@pytest.mark.parametrize(
    ("cluster", "user", "reason"),
    [
        ({}, {"exec": {"command": "aws", "apiVersion": "client.authentication.k8s.io/v1"}}, "exec"),
        ({}, {"auth-provider": {"name": "gcp"}}, "auth-provider"),
        ({}, {"username": "admin", "password": "secret"}, "username"),
        ({"proxy-url": "http://proxy:3128"}, {"token": "t"}, "proxy-url"),
        ({"tls-server-name": "kubernetes"}, {}, "tls-server-name"),
    ],
)
def test_what_only_the_kubernetes_package_does_is_handed_over(
    tmp_path: pathlib.Path, cluster: dict[str, Any], user: dict[str, Any], reason: str
) -> None:
    path = one_context(tmp_path / "config", {"server": "https://h:1", **cluster}, user)
    with pytest.raises(NeedsKubernetes, match=reason):
        kubeconfig.load([path], None)


@pytest.mark.parametrize(
    "user",
    [{}, {"token": "t"}, {"tokenFile": "/t"}, {"client-certificate": "c", "client-key": "k"}],
)
def test_certificates_and_tokens_are_not_handed_over(user: dict[str, Any]) -> None:
    assert kubeconfig.unsupported({"server": "https://h:1"}, user) is None


def test_in_a_pod_the_service_account_and_its_namespace_are_used(tmp_path: pathlib.Path) -> None:
    (tmp_path / "namespace").write_text("tenant-a\n")
    environ = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}
    assert kubeconfig.in_cluster(environ, tmp_path) == Server(
        url="https://[fd00::1]:443",
        namespace="tenant-a",
        ca_file=str(tmp_path / "ca.crt"),
        token_file=str(tmp_path / "token"),
    )


def test_inline_client_certificates_load_into_the_tls_context(tmp_path: pathlib.Path) -> None:
    certs = write_certs(tmp_path / "pki")
    server = Server(
        url="https://127.0.0.1:6443",
        ca_pem=certs.ca_cert.read_text(),
        cert_pem=certs.admin_cert.read_text(),
        key_pem=certs.admin_key.read_text(),
    )
    context = tls_context(server)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] != []


def test_an_unreadable_client_key_fails_before_any_request(tmp_path: pathlib.Path) -> None:
    certs = write_certs(tmp_path / "pki")
    server = Server(url="https://h:1", cert_pem=certs.admin_cert.read_text(), key_pem="junk")
    with pytest.raises(ssl.SSLError):
        HttpRest(server)


def test_insecure_skip_tls_verify_verifies_nothing() -> None:
    context = tls_context(Server(url="https://h:1", insecure=True))
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname


@pytest.mark.parametrize(
    ("method", "status", "retry_after", "attempt", "delay"),
    [
        ("GET", 429, "1", 1, 1.0),  # "storage is (re)initializing", max-in-flight
        ("POST", 429, "2", 3, 2.0),  # a 429 was not served: a write may go again
        ("GET", 503, "1", 1, 1.0),
        ("POST", 503, "1", 1, None),  # a write that failed later may have been done
        ("GET", 429, None, 1, None),  # no Retry-After: the server did not say "later"
        ("GET", 429, "soon", 1, None),
        ("GET", 429, "600", 1, 10.0),
        ("GET", 429, "1", 10, None),  # the tenth try was the last
        ("GET", 404, "1", 1, None),
    ],
)
def test_a_refusal_with_retry_after_is_tried_again_as_client_go_does(
    method: str, status: int, retry_after: str | None, attempt: int, delay: float | None
) -> None:
    assert retry_delay(method, status, retry_after, attempt) == delay
