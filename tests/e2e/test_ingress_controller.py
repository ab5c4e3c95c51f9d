"""End to end: the real Traefik routes an Ingress of our class to a real HTTP server over TLS.

kwok pods have no network, so the backend is `python -m http.server` in a network namespace of
this test's own, joined to the host by a veth pair; a selector-less Service and an EndpointSlice
holding that address stand for the pods. (The API refuses loopback endpoint addresses, so the
server cannot just listen on 127.0.0.1.) Needs root for the namespace and the link.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import os
import pathlib
import random
import shutil
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.e2e.support import apply, wait_for
from tests.machine import needs, skip_or_fail

from berth.render.ingress import HTTPS_REDIRECT_ANNOTATIONS
from berth.settings import Settings
from devcluster import Cluster, KubeCluster
from devcluster.addons import free_port
from devcluster.ingress import IngressController, ensure_traefik, ingress_class_for
from devcluster.processes import wait_gone

pytestmark = [
    pytest.mark.e2e,
    # Decided before any fixture, so that a skip starts no cluster.
    needs(
        [] if os.geteuid() == 0 else ["root (the backend runs in a network namespace)"],
        "the ingress controller test",
    ),
]

SUFFIX = uuid.uuid4().hex[:6]
HOST = f"app-{SUFFIX}.ingress.berth.test"
OTHER_CLASS_HOST = f"other-{SUFFIX}.ingress.berth.test"
UNKNOWN_HOST = f"nobody-{SUFFIX}.ingress.berth.test"
SERVICE = "backend"
TLS_SECRET = "app-tls"
BODY = f"hello from the backend {SUFFIX}\n"


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=30)


@dataclass(frozen=True)
class Backend:
    address: str
    port: int


def link_exists(name: str) -> bool:
    return run("ip", "link", "show", name, check=False).returncode == 0


def netns_exists(name: str) -> bool:
    return name in run("ip", "netns", "list").stdout.split()


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """http.server on a private address inside a network namespace made for this test."""
    if shutil.which("ip") is None:
        skip_or_fail("needs the `ip` command (iproute2)")
    netns, host_link, ns_link = f"berth-e2e-{SUFFIX}", f"bt{SUFFIX}h", f"bt{SUFFIX}n"
    # A /30 of its own, so that runs beside this one (other engineers, CI) never share a route.
    block = random.randrange(0, 1 << 14) * 4
    host_address = f"10.250.{block >> 8}.{(block & 0xFF) + 1}"
    address = f"10.250.{block >> 8}.{(block & 0xFF) + 2}"
    site = tmp_path_factory.mktemp("backend")
    (site / "index.html").write_text(BODY)
    port = 8080
    server: subprocess.Popen[bytes] | None = None
    try:
        run("ip", "netns", "add", netns)
        run("ip", "link", "add", host_link, "type", "veth", "peer", "name", ns_link, "netns", netns)
        run("ip", "addr", "add", f"{host_address}/30", "dev", host_link)
        run("ip", "link", "set", host_link, "up")
        run("ip", "-n", netns, "addr", "add", f"{address}/30", "dev", ns_link)
        run("ip", "-n", netns, "link", "set", ns_link, "up")
        run("ip", "-n", netns, "link", "set", "lo", "up")
        serve = [sys.executable, "-m", "http.server", str(port), "--bind", address]
        server = subprocess.Popen(
            ["ip", "netns", "exec", netns, *serve, "--directory", str(site)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: reachable(address, port), 30, f"http.server on {address}:{port}")
        yield Backend(address, port)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        run("ip", "link", "del", host_link, check=False)  # takes its peer along
        run("ip", "netns", "del", netns, check=False)
        assert not link_exists(host_link), f"{host_link} is still there"
        assert not netns_exists(netns), f"network namespace {netns} is still there"
        if server is not None:
            assert wait_gone([server.pid], 5) == [], "the backend server outlived the test"


def reachable(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Tls:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def throwaway_tls(host: str) -> Tls:
    """A CA of its own and a serving certificate for `host` signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"berth e2e CA {SUFFIX}")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return Tls(
        ca_pem=ca.public_bytes(pem),
        cert_pem=cert.public_bytes(pem),
        key_pem=key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


@pytest.fixture(scope="module")
def traefik(
    cluster: KubeCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IngressController]:
    """Traefik against the session's cluster, its IngressClass named as Berth would render it."""
    settings = Settings(ingress_class_name=f"traefik-e2e-{SUFFIX}")
    ingress_class, default = ingress_class_for(settings)
    work_dir = (
        cluster.data_dir if isinstance(cluster, Cluster) else tmp_path_factory.mktemp("traefik")
    )
    controller = IngressController(
        cluster,
        ensure_traefik(),
        work_dir,
        http_port=free_port(),
        https_port=free_port(),
        ingress_class=ingress_class,
        default_class=default,
    )
    try:
        yield controller.start()
    finally:
        pid = controller.child.pid if controller.child is not None else None
        controller.stop()
        cluster.kubectl("delete", "ingressclass", ingress_class, "--ignore-not-found", check=False)
        print(f"traefik log: {controller.log}")
        if pid is not None:
            assert wait_gone([pid], 5) == [], "Traefik outlived the test"


@pytest.fixture(scope="module")
def tls() -> Tls:
    return throwaway_tls(HOST)


@pytest.fixture(scope="module")
def routed(
    cluster: KubeCluster, traefik: IngressController, backend: Backend, tls: Tls
) -> Iterator[str]:
    """A namespace with the Service, its EndpointSlice, the TLS secret and two Ingresses."""
    namespace = f"e2e-ing-{SUFFIX}"
    cluster.kubectl("create", "namespace", namespace)
    try:
        apply(cluster, namespace, *objects(traefik.ingress_class, backend, tls))
        wait_for(lambda: status(HOST, traefik) == 200, 60, f"Traefik to route {HOST}")
        yield namespace
    finally:
        cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def objects(ingress_class: str, backend: Backend, tls: Tls) -> list[dict[str, Any]]:
    def ingress(name: str, host: str, class_name: str) -> dict[str, Any]:
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            # Berth's own annotations: no controller-specific one applies to Traefik.
            "metadata": {"name": name, "annotations": dict(HTTPS_REDIRECT_ANNOTATIONS)},
            "spec": {
                "ingressClassName": class_name,
                "tls": [{"hosts": [host], "secretName": TLS_SECRET}],
                "rules": [
                    {
                        "host": host,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": SERVICE, "port": {"number": 80}}
                                    },
                                }
                            ]
                        },
                    }
                ],
            },
        }

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": SERVICE},
            # No selector: the EndpointSlice below is ours, no controller writes one.
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": backend.port}]},
        },
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{SERVICE}-host",
                "labels": {
                    "kubernetes.io/service-name": SERVICE,
                    "endpointslice.kubernetes.io/managed-by": "berth-e2e",
                },
            },
            "addressType": "IPv4",
            "endpoints": [{"addresses": [backend.address], "conditions": {"ready": True}}],
            "ports": [{"name": "http", "port": backend.port, "protocol": "TCP"}],
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": TLS_SECRET},
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": b64(tls.cert_pem), "tls.key": b64(tls.key_pem)},
        },
        ingress("app", HOST, ingress_class),
        # Same backend, another class: Traefik must leave it alone.
        ingress("other-class", OTHER_CLASS_HOST, f"someone-else-{SUFFIX}"),
    ]


def https(
    host: str, traefik: IngressController, context: ssl.SSLContext | None = None
) -> tuple[int, str, bytes]:
    """GET https://host/ through Traefik: status, body, and the DER certificate it presented."""
    if context is None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    address = ("127.0.0.1", traefik.https_port)
    with (
        socket.create_connection(address, timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls_socket,
    ):
        presented = tls_socket.getpeercert(binary_form=True) or b""
        request = f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        tls_socket.sendall(request.encode())
        response = http.client.HTTPResponse(tls_socket)
        response.begin()
        return response.status, response.read().decode(errors="replace"), presented


def status(host: str, traefik: IngressController) -> int | None:
    try:
        return https(host, traefik)[0]
    except OSError:
        return None


def test_https_reaches_the_backend_with_the_certificate_of_the_tls_secret(
    routed: str, traefik: IngressController, tls: Tls, tmp_path: pathlib.Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(tls.ca_pem)
    context = ssl.create_default_context(cafile=str(ca_file))  # verifies chain and host name
    code, body, presented = https(HOST, traefik, context)
    assert (code, body) == (200, BODY)
    expected = x509.load_pem_x509_certificate(tls.cert_pem)
    assert presented == expected.public_bytes(serialization.Encoding.DER)


def test_plain_http_is_redirected_to_https_for_good(
    routed: str, traefik: IngressController
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", traefik.http_port, timeout=5)
    try:
        connection.request("GET", "/some/path?q=1", headers={"Host": HOST})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status in (301, 308)
    assert response.getheader("Location") == f"https://{HOST}:{traefik.https_port}/some/path?q=1"


def test_a_host_without_an_ingress_gets_404(routed: str, traefik: IngressController) -> None:
    code, _, presented = https(UNKNOWN_HOST, traefik)
    assert code == 404
    assert presented  # Traefik's own default certificate, not ours
    assert x509.load_der_x509_certificate(presented).subject != x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, HOST)]
    )


def test_an_ingress_of_another_class_is_left_alone(routed: str, traefik: IngressController) -> None:
    assert https(OTHER_CLASS_HOST, traefik)[0] == 404


def test_the_service_account_is_allowed_everything_traefik_asks(
    routed: str, traefik: IngressController
) -> None:
    # Give a late informer retry a moment to show up in the log.
    time.sleep(1)
    log = traefik.log.read_text(errors="replace")
    assert "forbidden" not in log.lower(), log[-3000:]
    config = yaml.safe_load(traefik.config_file.read_text())
    assert config["global"] == {"checkNewVersion": False, "sendAnonymousUsage": False}
