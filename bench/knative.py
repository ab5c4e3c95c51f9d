"""Knative Serving on a bench cluster: its CRDs and ConfigMaps, its controller and autoscaler run
out of cluster as ServiceAccounts, and the KIngress stub in place of a networking layer.

Built on first use by devcluster/knative/build.sh (only when the peer is asked for), which also
puts Knative's own CRDs and ConfigMaps beside the binaries.
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys
import time

from bench import knative_objects
from bench.knative_objects import CONFIG, INGRESS_CLASS, NAMESPACE
from bench.service_accounts import service_account_kubeconfig, username
from devcluster.binaries import devcluster_dir
from devcluster.cluster import Cluster
from devcluster.components import free_tcp_ports
from devcluster.processes import Child, spawn, stop_all

METRICS_DOMAIN = "knative.dev/internal/serving"
# Routes skip the activator when its Service has no endpoints: none is run.
ACTIVATOR = "activator-service"
# The binaries run, each as a ServiceAccount of its own name; the webhook only in its variant.
BINARIES = ("controller", "autoscaler")
WEBHOOK = "webhook"
# The webhook's Service and the configurations it keeps (caBundle, rules), as its config names them.
WEBHOOK_PORT_NAME = "https-webhook"
WEBHOOK_CONFIGURATIONS = (
    ("mutatingwebhookconfiguration", "webhook.serving.knative.dev"),
    ("validatingwebhookconfiguration", "validation.webhook.serving.knative.dev"),
    ("validatingwebhookconfiguration", "config.webhook.serving.knative.dev"),
)
# knative.dev/pkg's sharedmain limits each clientset (one token bucket for all its API groups) to
# 5 requests/s per reconciler (9 in the controller: 45/s, bursts of 90) unless KUBE_API_QPS says
# otherwise; the autoscaler sets its own 10/s in code. The unthrottled variant lifts the
# controller's limit only.
UNTHROTTLED = {"KUBE_API_QPS": "100000", "KUBE_API_BURST": "100000"}


def build() -> pathlib.Path:
    """The bin folder of the controller and autoscaler (built once per pin)."""
    script = devcluster_dir() / "knative" / "build.sh"
    result = subprocess.run(["bash", str(script)], check=True, stdout=subprocess.PIPE, text=True)
    return pathlib.Path(result.stdout.strip().splitlines()[-1])


# Fixed in the autoscaler's code: a second autoscaler on this host (another bench) cannot start.
AUTOSCALER_STATS_PORT = 8080


def port_free_or_raise(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("", port))
        except OSError as error:
            raise RuntimeError(
                f"port {port}, which Knative's autoscaler must bind, is taken"
            ) from error


def pod_ip() -> str:
    """An address of this host that is not loopback: the autoscaler publishes its own in the
    Endpoints of its bucket Services, where the API server refuses 127.0.0.0/8."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        address: str = probe.getsockname()[0]
    return address if not address.startswith("127.") else "192.0.2.10"


def service_with_endpoints(
    name: str, port: dict[str, object], subsets: list[dict[str, object]]
) -> list[dict[str, object]]:
    """A Service without a selector and the Endpoints written for it by hand."""
    meta = {"name": name, "namespace": NAMESPACE}
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {"ports": [port]}},
        {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta, "subsets": subsets},
    ]


def activator_manifests() -> list[dict[str, object]]:
    return service_with_endpoints(ACTIVATOR, {"name": "http", "port": 80, "targetPort": 8012}, [])


def webhook_manifests(address: str, port: int) -> list[dict[str, object]]:
    """The webhook's Service with an Endpoints of this host: the API server routes webhook calls
    to endpoints (--enable-aggregator-routing), so an out-of-cluster webhook is reached there."""
    service_port = {"name": WEBHOOK_PORT_NAME, "port": 443, "targetPort": port}
    endpoint_port = {"name": WEBHOOK_PORT_NAME, "port": port}
    subset = {"addresses": [{"ip": address}], "ports": [endpoint_port]}
    return service_with_endpoints(WEBHOOK, service_port, [subset])


def install(cluster: Cluster, config: pathlib.Path) -> None:
    """Knative's CRDs, namespace, ConfigMaps (with CONFIG merged in) and the empty activator."""
    cluster.kubectl("create", "namespace", NAMESPACE)
    cluster.kubectl("apply", "--server-side", "-f", str(config / "crds"))
    cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    cluster.kubectl("apply", "--server-side", "-f", str(config / "configmaps"))
    for name, data in CONFIG.items():
        patch = json.dumps({"data": data})
        cluster.kubectl("patch", "configmap", name, "-n", NAMESPACE, "--type=merge", "-p", patch)
    manifests = {"apiVersion": "v1", "kind": "List", "items": activator_manifests()}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifests))


def binary_env(
    binary: str, kubeconfig: pathlib.Path, ports: list[int], throttled: bool
) -> dict[str, str]:
    """What one of Knative's binaries is told, as its Deployment would tell it in a cluster;
    `ports` are its metrics, profiling and (the webhook's) serving ports."""
    metrics, profiling, serving = ports
    env = {
        "SYSTEM_NAMESPACE": NAMESPACE,
        "METRICS_DOMAIN": METRICS_DOMAIN,
        "METRICS_PROMETHEUS_HOST": "127.0.0.1",
        "METRICS_PROMETHEUS_PORT": str(metrics),
        "PROFILING_PORT": str(profiling),
        "POD_NAME": f"{binary}-bench",
        "POD_IP": pod_ip(),
        "KUBECONFIG": str(kubeconfig),
    }
    if binary == "controller" and not throttled:
        env.update(UNTHROTTLED)
    if binary == WEBHOOK:
        env.update({"WEBHOOK_NAME": WEBHOOK, "WEBHOOK_PORT": str(serving)})
    return env


class Knative:
    """The controller, the autoscaler and the stub, each its own ServiceAccount."""

    STUB_ACCOUNT = "kingress-stub"

    def __init__(
        self,
        cluster: Cluster,
        workdir: pathlib.Path,
        throttled: bool = True,
        webhook: bool = False,
    ) -> None:
        self.cluster = cluster
        self.workdir = workdir
        self.throttled = throttled
        self.binaries = (*BINARIES, WEBHOOK) if webhook else BINARIES
        self.children: list[Child] = []

    @property
    def users(self) -> list[str]:
        return [username(account, NAMESPACE) for account in self.binaries]

    @property
    def helper_users(self) -> list[str]:
        return [username(self.STUB_ACCOUNT, NAMESPACE)]

    @property
    def pids(self) -> dict[str, int]:
        return {child.name: child.pid for child in self.children}

    def start(self) -> Knative:
        port_free_or_raise(AUTOSCALER_STATS_PORT)
        bin_dir = build()
        config = bin_dir.parent / "config"
        install(self.cluster, config)
        for binary in self.binaries:
            kubeconfig = self.kubeconfig(binary)
            ports = free_tcp_ports(3)
            env = binary_env(binary, kubeconfig, ports, self.throttled)
            if binary == WEBHOOK:
                self.install_webhook(config, env["POD_IP"], ports[2])
            argv = [str(bin_dir / binary), f"--kubeconfig={kubeconfig}"]
            self.spawn(f"knative-{binary}", argv, env)
        stub = self.kubeconfig(self.STUB_ACCOUNT)
        argv = [sys.executable, "-m", "bench.kingress_stub", f"--kubeconfig={stub}"]
        self.spawn("kingress-stub", [*argv, f"--ingress-class={INGRESS_CLASS}"], {})
        self.wait_leading()
        if WEBHOOK in self.binaries:
            self.wait_webhook_serving()
        return self

    def install_webhook(self, config: pathlib.Path, address: str, port: int) -> None:
        manifests = {"apiVersion": "v1", "kind": "List", "items": webhook_manifests(address, port)}
        self.cluster.kubectl("apply", "-f", "-", input=json.dumps(manifests))
        self.cluster.kubectl("apply", "--server-side", "-f", str(config / "webhooks"))

    def wait_webhook_serving(self, timeout: float = 120.0) -> None:
        """Until the webhook has put its CA in each configuration and answers through the API
        server: a dry-run create of a Knative Service is defaulted (its failurePolicy is Fail)."""
        deadline = time.monotonic() + timeout
        path = "{.webhooks[0].clientConfig.caBundle}"
        while time.monotonic() < deadline:
            bundles = [
                self.cluster.kubectl("get", kind, name, "-o", f"jsonpath={path}").stdout
                for kind, name in WEBHOOK_CONFIGURATIONS
            ]
            if all(bundles) and self.webhook_answers():
                return
            time.sleep(1.0)
        raise TimeoutError(f"Knative's webhook did not serve within {timeout}s; see {self.workdir}")

    def webhook_answers(self) -> bool:
        probe = json.dumps(knative_objects.knative_service(0, "default"))
        create = ("create", "--dry-run=server", "-o", "name", "-f", "-")
        return self.cluster.kubectl(*create, input=probe, check=False).returncode == 0

    def kubeconfig(self, account: str) -> pathlib.Path:
        path = self.workdir / f"knative-{account}.kubeconfig"
        return service_account_kubeconfig(self.cluster, account, NAMESPACE, path)

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.children.append(spawn(name, argv, self.workdir, env={**os.environ, **env}))

    def wait_leading(self, steady: float = 5.0, timeout: float = 120.0) -> None:
        """Until the processes hold their leases: some leases, and no new one for `steady` s."""
        deadline = time.monotonic() + timeout
        count, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            for child in self.children:
                if not child.alive():
                    raise RuntimeError(f"{child.name} exited; see {child.log}")
            found = self.cluster.kubectl("get", "leases", "-n", NAMESPACE, "-o", "name")
            now = len(found.stdout.split())
            if now != count:
                count, since = now, time.monotonic()
            elif count > 0 and time.monotonic() - since >= steady:
                return
            time.sleep(1.0)
        raise TimeoutError(f"Knative took no lease within {timeout}s; see {self.workdir}")

    def stop(self) -> None:
        stop_all(self.children)
        self.children = []
