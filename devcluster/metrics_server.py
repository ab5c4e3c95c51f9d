"""metrics-server as a host process beside the real node: the provider of metrics.k8s.io.

The real metrics-server (sigs.k8s.io/metrics-server, built from devcluster/metrics-server/go.mod)
scrapes the real kubelet's /metrics/resource every RESOLUTION and serves the latest CPU and
memory sample of each pod and node. It reaches users through the API server's aggregation
layer: the APIService v1beta1.metrics.k8s.io names the Service kube-system/metrics-server, whose
one endpoint is the node's bridge address, where the process listens (there is no pod: the
process runs on this host, as Traefik and CoreDNS do). The API server sends requests straight to
that endpoint (--enable-aggregator-routing) as front-proxy-client.

It keeps no history: one sample per pod. Lightsail's two weeks of data points come from
Prometheus where a cluster has one (docs/metrics.md); the dev cluster runs one
(devcluster.prometheus).
"""

from __future__ import annotations

import base64
import pathlib
import subprocess
from typing import Any

import yaml

from devcluster.addresses import BRIDGE_IP
from devcluster.admin import wait_until
from devcluster.binaries import devcluster_dir
from devcluster.certs import CertPaths, write_serving_pair
from devcluster.components import free_tcp_ports
from devcluster.external import KubeCluster
from devcluster.processes import OwnedChild, spawn

NAMESPACE = "kube-system"
NAME = "metrics-server"
API_SERVICE = "v1beta1.metrics.k8s.io"
# metrics-server's floor is 10s; 15s is its documented default for small clusters.
RESOLUTION = "15s"
SERVICE_DNS_NAME = f"{NAME}.{NAMESPACE}.svc"


def ensure_metrics_server(devcluster: pathlib.Path | None = None) -> pathlib.Path:
    """Runs devcluster/metrics-server/build.sh (instant once built, minutes the first time).

    Returns the folder holding the `metrics-server` binary.
    """
    script = (devcluster or devcluster_dir()) / "metrics-server" / "build.sh"
    result = subprocess.run(["bash", str(script)], check=True, stdout=subprocess.PIPE, text=True)
    bin_dir = pathlib.Path(result.stdout.strip().splitlines()[-1])
    if not (bin_dir / "metrics-server").is_file():
        raise FileNotFoundError(f"{script} did not produce metrics-server in {bin_dir}")
    return bin_dir


def argv(
    binary: pathlib.Path, kubeconfig: pathlib.Path, certs: CertPaths, work: pathlib.Path, port: int
) -> list[str]:
    return [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        f"--bind-address={BRIDGE_IP}",
        f"--secure-port={port}",
        f"--tls-cert-file={work / 'serving.crt'}",
        f"--tls-private-key-file={work / 'serving.key'}",
        # As whom it reads the kubelet: the identity the API server uses for logs and exec.
        f"--kubelet-client-certificate={certs.admin_cert}",
        f"--kubelet-client-key={certs.admin_key}",
        # The kubelet serves a self-signed certificate (no serving-certificate bootstrap here).
        "--kubelet-insecure-tls",
        "--kubelet-preferred-address-types=InternalIP",
        "--kubelet-use-node-status-port",
        f"--metric-resolution={RESOLUTION}",
    ]


def manifests(port: int, ca_bundle: bytes) -> list[dict[str, Any]]:
    """The Service (no selector: its endpoint is this host's process), its endpoint, and the
    APIService that puts metrics.k8s.io behind it."""
    labels = {"app.kubernetes.io/name": NAME, "kubernetes.io/service-name": NAME}
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": NAME, "namespace": NAMESPACE},
            "spec": {"ports": [{"name": "https", "port": 443, "targetPort": port}]},
        },
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [BRIDGE_IP], "conditions": {"ready": True}}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        },
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": API_SERVICE},
            "spec": {
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                "service": {"name": NAME, "namespace": NAMESPACE, "port": 443},
                "caBundle": base64.b64encode(ca_bundle).decode(),
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
            },
        },
    ]


class MetricsServer(OwnedChild):
    """Starts metrics-server against a cluster with a real node, and registers its API."""

    def __init__(
        self, cluster: KubeCluster, bin_dir: pathlib.Path, certs: CertPaths, work_dir: pathlib.Path
    ) -> None:
        self.cluster = cluster
        self.bin_dir = bin_dir
        self.certs = certs
        self.work_dir = work_dir
        self.port = free_tcp_ports(1)[0]

    def start(self, timeout: float = 90.0) -> MetricsServer:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        write_serving_pair(
            self.certs,
            self.work_dir / "serving.crt",
            self.work_dir / "serving.key",
            common_name=SERVICE_DNS_NAME,
            dns_names=(SERVICE_DNS_NAME,),
        )
        binary = self.bin_dir / "metrics-server"
        command = argv(binary, self.cluster.kubeconfig, self.certs, self.work_dir, self.port)
        self.child = spawn(NAME, command, self.work_dir)
        ca = self.certs.ca_cert.read_bytes()
        documents = yaml.safe_dump_all(manifests(self.port, ca))
        self.cluster.kubectl("apply", "-f", "-", input=documents)
        wait_until(
            f"APIService {API_SERVICE} Available",
            self._available,
            timeout,
            interval=1.0,
            check=self.check,
        )
        return self

    def _available(self) -> bool:
        found = self.cluster.kubectl(
            "get",
            "apiservice",
            API_SERVICE,
            "-o",
            'jsonpath={.status.conditions[?(@.type=="Available")].status}',
        )
        return found.stdout.strip() == "True"
