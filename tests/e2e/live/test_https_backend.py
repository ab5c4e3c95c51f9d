"""On the real node: a container whose public port is HTTPS serves TLS itself, with a certificate
it made at start, and the public endpoint still answers: the ingress speaks TLS to the pod and
takes its certificate unverified, and Berth's health checks use https on that port (Lightsail's
load balancer does the same with an HTTPS container port)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from tests.e2e.live.traffic import Live, first_success, https_get

from berth.render import names
from devcluster.images import HELLO_HTTPS

pytestmark = pytest.mark.e2e

SERVICE = "secure"
# Not 443: Traefik takes a Service port 443 (or one named https*) for TLS by itself, so only
# another number shows that what Berth renders is what makes it speak TLS.
PORT = 8443


def https_service(name: str) -> dict[str, Any]:
    """The hello app with only its TLS port declared, and that port public."""
    return {
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "ContainerService",
        "metadata": {"name": name},
        "spec": {
            "power": "nano",
            "scale": 1,
            "deployment": {
                "containers": {
                    "web": {
                        "image": HELLO_HTTPS,
                        "environment": {"HTTPS_PORT": str(PORT)},
                        "ports": {str(PORT): "HTTPS"},
                    }
                },
                "publicEndpoint": {
                    "containerName": "web",
                    "containerPort": PORT,
                    "healthCheck": {"path": "/healthz", "intervalSeconds": 5},
                },
            },
        },
    }


def test_an_https_container_port_serves_the_public_endpoint_through_the_ingress(
    live: Live, live_namespace: str
) -> None:
    began = time.monotonic()
    live.apply(live_namespace, https_service(SERVICE))

    # RUNNING needs a Ready pod, and Ready needs Berth's health check to pass: over https, since
    # plain HTTP to this port gets no HTTP answer from a TLS server.
    live.wait_running(live_namespace, SERVICE)
    running = time.monotonic() - began
    pods = json.loads(
        live.cluster.kubectl(
            "get", "pods", "-n", live_namespace, "-l", f"{names.SERVICE_LABEL}={SERVICE}",
            "-o", "json",
        ).stdout
    )["items"]  # fmt: skip
    gates = [
        c
        for pod in pods
        for c in pod["status"].get("conditions") or []
        if c["type"] == names.HEALTH_GATE and c["status"] == "True"
    ]
    assert gates, f"no pod passed Berth's health check: {pods}"
    assert f"GET /healthz on port {PORT} answered 200" in gates[0]["message"]

    # A 200 through the ingress: Traefik spoke TLS to the port (plain HTTP there gets a 400 from
    # the pod's TLS server) and took the pod's self-signed certificate (verified, it is a 500).
    host = live.default_host(live_namespace, SERVICE)
    first = first_success(live.endpoints, host)
    served = time.monotonic() - began
    assert "hello from berth https" in first.body
    # The public certificate is still the ingress's, for the default domain, from the local CA.
    assert host in https_get(live.endpoints, host).names_in_certificate

    kube_service = live.berth(live_namespace).kube_service(SERVICE)
    port = kube_service.spec.ports[0]
    assert (port.port, port.app_protocol) == (PORT, "https")
    print(f"HTTPS backend: apply -> RUNNING {running:.1f}s, -> first HTTPS 200 {served:.1f}s")
