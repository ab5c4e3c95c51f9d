"""On the real node: the public endpoint over HTTPS, custom domains, logs of real containers."""

from __future__ import annotations

import json
import pathlib
import ssl
import time
import uuid
from collections.abc import Iterator

import pytest
from tests.e2e.live.manifests import HELLO, hello_service
from tests.e2e.live.traffic import Live, first_success, http_get, https_get
from tests.e2e.support import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hello(live: Live) -> Iterator[tuple[str, str]]:
    """examples/hello.yaml applied once in its own namespace: (namespace, default host)."""
    namespace = f"hello-{uuid.uuid4().hex[:6]}"
    live.cluster.kubectl("create", "namespace", namespace)
    example = pathlib.Path(__file__).resolve().parents[3] / "examples" / "hello.yaml"
    began = time.monotonic()
    live.cluster.kubectl("apply", "-n", namespace, "-f", str(example))
    live.wait_running(namespace, "hello")
    host = live.default_host(namespace, "hello")
    first_success(live.endpoints, host)
    print(f"examples/hello.yaml: apply -> first HTTPS 200 in {time.monotonic() - began:.1f}s")
    yield namespace, host
    live.cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_the_default_domain_serves_the_app_over_https_with_a_local_ca_certificate(
    live: Live, hello: tuple[str, str]
) -> None:
    _, host = hello

    answer = https_get(live.endpoints, host)  # verifies the chain to the local CA and the host

    assert answer.status == 200
    assert "hello from berth v1" in answer.body
    assert host in answer.names_in_certificate


def test_plain_http_redirects_to_https(live: Live, hello: tuple[str, str]) -> None:
    _, host = hello

    answer = http_get(live.endpoints, host, "/some/page")

    assert answer.status in (301, 308)
    assert answer.headers["location"].startswith(f"https://{host}")
    assert answer.headers["location"].endswith("/some/page")


def test_a_host_nobody_serves_gets_no_page_of_any_service(
    live: Live, hello: tuple[str, str]
) -> None:
    # The connection is made and TLS offered: only the certificate fails (a refused connection
    # or a timeout is an OSError too, and would say nothing about the ingress).
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(live.endpoints, "nobody.example.test")
    # Past the certificate, the ingress controller has no route for the host: its 404.
    answer = https_get(live.endpoints, "nobody.example.test", verify=False)
    assert answer.status == 404
    assert "hello from berth" not in answer.body


def test_container_logs_show_what_every_replica_printed(live: Live, hello: tuple[str, str]) -> None:
    namespace, host = hello
    for _ in range(3):
        assert https_get(live.endpoints, host).status == 200

    def logged() -> list[str] | None:
        result = live.cli(
            namespace, "get-container-log", "--service-name", "hello", "--container-name", "web"
        )
        if result.returncode != 0:
            return None
        messages = [event["message"] for event in json.loads(result.stdout)["logEvents"]]
        # examples/hello.yaml runs 2 replicas; each printed its start line.
        starts = [m for m in messages if "listening on :80" in m]
        return messages if len(starts) == 2 and any("GET / 200" in m for m in messages) else None

    messages = wait_for(logged, 30, "a start line from both replicas and the requests")
    assert all("hello v1" in m for m in messages if "listening" in m)


def test_get_container_log_keeps_to_its_time_window_on_real_logs(
    live: Live, hello: tuple[str, str]
) -> None:
    """--start-time/--end-time select by the kubelet's own timestamps: a request made inside the
    window is there, one made just before or just after is not."""
    namespace, host = hello
    marker = uuid.uuid4().hex[:8]

    def request(path: str) -> None:
        https_get(live.endpoints, host, f"/{path}-{marker}")

    request("before")
    time.sleep(2)
    start = time.time()
    time.sleep(0.5)
    request("inside")
    time.sleep(0.5)
    end = time.time()
    time.sleep(2)
    request("after")

    def logged(*window: str) -> str:
        command = ["get-container-log", "--service-name", "hello", "--container-name", "web"]
        result = live.cli(namespace, *command, *window)
        assert result.returncode == 0, result.stderr
        return result.stdout

    # All three reached the logs before the window is asked for.
    wait_for(lambda: f"/after-{marker}" in logged(), 30, "the last request in the logs")
    inside = logged("--start-time", f"{start:.3f}", "--end-time", f"{end:.3f}")
    assert f"/inside-{marker}" in inside
    assert f"/before-{marker}" not in inside
    assert f"/after-{marker}" not in inside


def test_a_custom_domain_is_served_and_a_refused_one_is_not_routed(
    live: Live, live_namespace: str
) -> None:
    other = f"{live_namespace}-b"
    live.cluster.kubectl("create", "namespace", other)
    try:
        domain = f"shop-{uuid.uuid4().hex[:6]}.example.test"
        live.apply(live_namespace, hello_service("shop", publicDomainNames={"shop-cert": [domain]}))
        # Its owner proves it: the record the status shows, published in the test zone.
        live.prove_domains(live_namespace, "shop")
        live.wait_running(live_namespace, "shop")
        # Another tenant asks for the same domain later: it cannot prove it, and is refused.
        live.apply(
            other, hello_service("thief", image=f"{HELLO}:v2", publicDomainNames={"c": [domain]})
        )
        live.wait_running(other, "thief")
        wait_for(
            lambda: any(
                c["type"] == "DomainsAdmitted" and c["status"] == "False"
                for c in live.berth(other).status("thief").get("conditions", [])
            ),
            30,
            "thief's domain refused",
        )

        answer = first_success(live.endpoints, domain)
        assert domain in answer.names_in_certificate
        assert "on shop-" in answer.body  # the pod's hostname: the owner's pod answered
        for _ in range(20):
            assert "on shop-" in https_get(live.endpoints, domain).body
        # The refused service still answers on its own default domain.
        assert (
            "hello from berth v2"
            in first_success(live.endpoints, live.default_host(other, "thief")).body
        )
    finally:
        live.cluster.kubectl("delete", "namespace", other, "--wait=false", check=False)


def test_a_pod_in_another_namespace_reaches_the_private_name(
    live: Live, live_namespace: str
) -> None:
    client_namespace = f"{live_namespace}-client"
    live.cluster.kubectl("create", "namespace", client_namespace)
    try:
        # A private container (no public endpoint) on a port of its own.
        private = {
            "apiVersion": "berth.dev/v1alpha1",
            "kind": "ContainerService",
            "metadata": {"name": "backend"},
            "spec": {
                "power": "nano",
                "scale": 1,
                "deployment": {
                    "containers": {
                        "api": {
                            "image": f"{HELLO}:v2",
                            "environment": {"PORT": "8080"},
                            "ports": {"8080": "HTTP"},
                        }
                    }
                },
            },
        }
        live.apply(live_namespace, private)
        live.wait_running(live_namespace, "backend")
        # busybox's own resolver asks the pod's nameserver (its static wget cannot resolve: glibc
        # NSS does not work in a static binary, and its -T crashes); it retries while the zone
        # reaches CoreDNS.
        cluster_name = f"backend.{live_namespace}.svc.cluster.local"
        script = (
            "for i in $(seq 60); do"
            " ip=$(nslookup backend.service.local | awk '/^Name:/{n=1} n&&/^Address/{print $2}');"
            ' [ -n "$ip" ] && echo "resolved to $ip"'
            ' && timeout 5 wget -q -O - "http://$ip:8080/" && break; sleep 1;'
            " done;"
            # The cluster's own names resolve too: CoreDNS is the node's cluster DNS.
            f" nslookup {cluster_name} | awk '/^Name:/{{n=1}} n&&/^Address/{{print \"cluster name: \" $2}}';"
            ' [ -n "$ip" ]'
        )
        phase, log = live.run_pod(
            client_namespace, "client", "berth.local/toolbox:1", ["sh", "-c", script]
        )
        assert phase == "Succeeded", log
        cluster_ip = live.cluster.kubectl(
            "get", "service", "backend", "-n", live_namespace, "-o", "jsonpath={.spec.clusterIP}"
        ).stdout
        assert f"resolved to {cluster_ip}" in log
        assert f"cluster name: {cluster_ip}" in log
        assert "hello from berth v2 on backend-" in log
    finally:
        live.cluster.kubectl("delete", "namespace", client_namespace, "--wait=false", check=False)
