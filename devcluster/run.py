"""`make run`: a cluster, the Berth API, the operator and examples/hello.yaml, until Ctrl-C."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import socket
import ssl
import sys
import time
import urllib.parse

from berth import settings
from devcluster.certs import CertPaths, write_serving_pair
from devcluster.cluster import Cluster, stop_at_exit
from devcluster.dataplane import DataPlane, NodeUnavailable, missing_requirements
from devcluster.external import ExternalCluster, KubeCluster, external_kubeconfig
from devcluster.lightsail_process import EndpointProcess, create_access_key, write_aws_profile
from devcluster.processes import ChildFailed
from devcluster.run_operator import choose, start_operator
from devcluster.settings import DevSettings

REPO = pathlib.Path(__file__).resolve().parents[1]
STATE_DIR = REPO / ".berth"
AWS_DIR = STATE_DIR / "aws"
EXAMPLE = REPO / "examples" / "hello.yaml"


def install_api(cluster: KubeCluster) -> None:
    """CRDs from crds/, the default powers and the operator's namespace, as the chart does."""
    namespace = settings.load().namespace
    if cluster.kubectl("get", "namespace", namespace, check=False).returncode != 0:
        cluster.kubectl("create", "namespace", namespace)
    crds = str(REPO / "crds")
    cluster.kubectl("apply", "-f", crds)
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", crds)
    cluster.kubectl("apply", "-f", str(REPO / "manifests" / "powers.yaml"))


def wait_running(cluster: KubeCluster, name: str, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        answer = cluster.kubectl("get", "csvc", name, "-o", "jsonpath={.status.state}", check=False)
        state = answer.stdout.strip()
        if state == "RUNNING":
            return state
        time.sleep(0.5)
    return state or "unknown"


def serve(cluster: KubeCluster, kubectl: str, plane: DataPlane | None = None) -> None:
    external = not isinstance(cluster, Cluster)
    choice = choose(plane, external, DevSettings().run_operator)
    if not choice.in_pods:
        install_api(cluster)  # in pods, the chart brings the CRDs and the powers
    operator = start_operator(cluster, plane, choice, STATE_DIR)
    lightsail: EndpointProcess | None = None
    try:
        began = time.monotonic()
        cluster.kubectl("apply", "-f", str(EXAMPLE))
        state = wait_running(cluster, "hello")
        print(cluster.kubectl("get", "csvc,csd,deployments,services,pods").stdout, flush=True)
        print(f"hello is {state}.", flush=True)
        history = plane.prometheus.url if plane is not None and plane.prometheus else None
        lightsail = start_lightsail(cluster, history)
        record: dict[str, object] = {
            "lightsail": lightsail.url,
            "lightsail_ca_file": str(lightsail.ca_bundle or ""),
        }
        if plane is not None and plane.endpoints is not None:
            show_endpoint(cluster, plane, began)
            record = {**dataclasses.asdict(plane.endpoints), **record}
            if plane.registry is not None:
                record["registry"] = plane.registry.host
        (STATE_DIR / "endpoints.json").write_text(json.dumps(record, indent=2) + "\n")
        print(
            "In a second terminal:\n\n"
            f"  export KUBECONFIG={cluster.kubeconfig}\n"
            f"  {kubectl} get csvc\n"
            f"  {aws_command(lightsail)} lightsail get-container-services\n"
            f"  (the AWS CLI is in {REPO / '.venv' / 'bin' / 'aws'})\n\n"
            f"{operator.describe()}\n"
            f"Lightsail API: {lightsail.url} (log {lightsail.log})\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        if history:
            print(
                "Metric history: berth get-container-service-metric-data ... "
                f"--prometheus-url {history}",
                flush=True,
            )
        while True:
            time.sleep(1.0)
            operator.check()
            if lightsail.exited():
                raise RuntimeError(f"the Lightsail endpoint exited; see {lightsail.log}")
            if isinstance(cluster, Cluster):
                cluster.check()
            if plane is not None:
                plane.check()
    finally:
        if lightsail is not None:
            lightsail.stop()
        operator.stop()


def aws_command(endpoint: EndpointProcess) -> str:
    """The AWS CLI's environment for the profile make run wrote. AWS_CA_BUNDLE would override
    the profile's ca_bundle, so it is given too where the endpoint's CA is this cluster's."""
    line = f"AWS_CONFIG_FILE={AWS_DIR / 'config'} AWS_SHARED_CREDENTIALS_FILE={AWS_DIR / 'credentials'}"
    if endpoint.ca_bundle is not None:
        line += f" AWS_CA_BUNDLE={endpoint.ca_bundle}"
    return line + " aws"


def start_lightsail(cluster: KubeCluster, prometheus_url: str | None = None) -> EndpointProcess:
    """The Lightsail API on loopback (HTTPS from the cluster's CA where Berth made the cluster),
    and an AWS CLI profile with a key for the example's namespace. With the data plane's
    Prometheus, metric data has history."""
    config = settings.load()
    tls, ca_bundle = None, None
    if isinstance(cluster, Cluster):
        pki = CertPaths.in_dir(cluster.data_dir / "pki")
        tls = (STATE_DIR / "lightsail.crt", STATE_DIR / "lightsail.key")
        write_serving_pair(pki, *tls)
        ca_bundle = pki.ca_cert
    log = STATE_DIR / "lightsail.log"
    env = {"BERTH_PROMETHEUS_URL": prometheus_url} if prometheus_url else None
    endpoint = EndpointProcess(
        cluster.kubeconfig, config.namespace, log, config.region, tls, ca_bundle, env=env
    ).start()
    key = create_access_key(cluster.kubeconfig, "default")
    write_aws_profile(AWS_DIR, url=endpoint.url, region=config.region, key=key, ca_bundle=ca_bundle)
    return endpoint


def show_endpoint(cluster: KubeCluster, plane: DataPlane, began: float) -> None:
    """Waits for hello's first HTTPS answer and says how to get one from a terminal."""
    assert plane.endpoints is not None
    endpoints = plane.endpoints
    url = cluster.kubectl("get", "csvc", "hello", "-o", "jsonpath={.status.url}").stdout
    host = urllib.parse.urlsplit(url).hostname or ""
    answered = first_https_answer(endpoints.ca_file, host, endpoints.https_port)
    took = f"{time.monotonic() - began:.1f}s after apply" if answered else "not yet"
    print(
        f"{url} answers over HTTPS ({took}): {answered.strip()!r}\n"
        f"  {endpoints.curl(host)}\n"
        f"  (ingress {endpoints.https} and {endpoints.http}; CA and ports in "
        f"{STATE_DIR / 'endpoints.json'})\n",
        flush=True,
    )


def first_https_answer(ca_file: str, host: str, port: int, timeout: float = 90.0) -> str:
    """The body of the first 200 from https://host:port/ at 127.0.0.1; "" if none in time."""
    context = ssl.create_default_context(cafile=ca_file)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            with raw, context.wrap_socket(raw, server_hostname=host) as tls:
                tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
                reply = b""
                while chunk := tls.recv(65536):
                    reply += chunk
            head, _, body = reply.partition(b"\r\n\r\n")
            if head.split(b"\r\n")[0].split()[1:2] == [b"200"]:
                return body.decode(errors="replace")
        except (OSError, ssl.SSLError):
            pass
        time.sleep(0.5)
    return ""


def main() -> int:
    STATE_DIR.mkdir(exist_ok=True)
    external = external_kubeconfig()
    if external is not None:
        cluster: KubeCluster = ExternalCluster(external)
        print(f"using the cluster in BERTH_KUBECONFIG={external}", flush=True)
    else:
        missing = missing_requirements()
        if missing:
            print(
                "no real node here (pods are simulated by kwok, nothing answers HTTP): "
                + "; ".join(missing),
                flush=True,
            )
        # With a real node every pod runs there; kwok nodes would take some of them.
        cluster = Cluster(kubeconfig=STATE_DIR / "kubeconfig", nodes=1 if missing else 0)
    stop_at_exit_if_embedded(cluster)
    plane: DataPlane | None = None
    try:
        if isinstance(cluster, Cluster):
            cluster.start()
            print(f"control plane up in {cluster.started_in:.1f}s", flush=True)
            kubectl = str(cluster.bin_dir / "kubectl")
            if cluster.node_names == []:
                plane = DataPlane(cluster, cluster.data_dir / "plane", settings.load())
                plane.start()
                node = plane.node.timings if plane.node else {}
                print(f"real node and add-ons up in {plane.timings.get('ingress')}s ({node})")
        else:
            kubectl = "kubectl"
        serve(cluster, kubectl, plane)
    except KeyboardInterrupt:
        pass
    except (ChildFailed, RuntimeError, TimeoutError, NodeUnavailable) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        print("stopping...", file=sys.stderr, flush=True)
        if plane is not None:
            plane.stop()
        if isinstance(cluster, Cluster):
            cluster.stop()
        (STATE_DIR / "endpoints.json").unlink(missing_ok=True)
    return 0


def stop_at_exit_if_embedded(cluster: KubeCluster) -> None:
    if isinstance(cluster, Cluster):
        stop_at_exit(cluster)


if __name__ == "__main__":
    sys.exit(main())
