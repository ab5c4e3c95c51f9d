"""`make run`: a cluster, the Berth API, the operator and examples/hello.yaml, until Ctrl-C."""

from __future__ import annotations

import pathlib
import socket
import ssl
import sys
import time
import urllib.parse

from berth import settings
from devcluster.cluster import Cluster, stop_at_exit
from devcluster.dataplane import DataPlane, NodeUnavailable, missing_requirements
from devcluster.external import ExternalCluster, KubeCluster, external_kubeconfig
from devcluster.operator_process import OperatorProcess
from devcluster.processes import ChildFailed

REPO = pathlib.Path(__file__).resolve().parents[1]
STATE_DIR = REPO / ".berth"
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
    install_api(cluster)
    operator = OperatorProcess(cluster.kubeconfig, STATE_DIR / "operator.log")
    operator.start()
    try:
        began = time.monotonic()
        cluster.kubectl("apply", "-f", str(EXAMPLE))
        state = wait_running(cluster, "hello")
        print(cluster.kubectl("get", "csvc,csd,deployments,services,pods").stdout, flush=True)
        print(f"hello is {state}.", flush=True)
        if plane is not None and plane.endpoints is not None:
            show_endpoint(cluster, plane, began)
        print(
            "In a second terminal:\n\n"
            f"  export KUBECONFIG={cluster.kubeconfig}\n"
            f"  {kubectl} get csvc\n\n"
            f"operator log: {operator.log}   metrics: {operator.metrics_url}\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        while True:
            time.sleep(1.0)
            if operator.process is not None and operator.process.poll() is not None:
                raise RuntimeError(f"the operator exited; see {operator.log}")
            if isinstance(cluster, Cluster):
                cluster.check()
            if plane is not None:
                plane.check()
    finally:
        operator.stop()


def show_endpoint(cluster: KubeCluster, plane: DataPlane, began: float) -> None:
    """Waits for hello's first HTTPS answer and says how to get one from a terminal."""
    assert plane.endpoints is not None
    endpoints = plane.endpoints
    url = cluster.kubectl("get", "csvc", "hello", "-o", "jsonpath={.status.url}").stdout
    host = urllib.parse.urlsplit(url).hostname or ""
    answered = first_https_answer(endpoints.ca_file, host, endpoints.https_port)
    endpoints.write(STATE_DIR / "endpoints.json")
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
