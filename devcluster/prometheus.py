"""Prometheus as a host process beside the real node: the history of the pods' CPU and memory.

The real Prometheus (github.com/prometheus/prometheus, built from devcluster/prometheus/go.mod)
scrapes the real kubelet's cAdvisor endpoint (/metrics/cadvisor) every SCRAPE_INTERVAL, keeps
the series in a TSDB under the cluster's folder and answers PromQL on loopback only. That is the
source `get-container-service-metric-data` reads history from (--prometheus-url, or
BERTH_PROMETHEUS_URL for the Lightsail endpoint; docs/metrics.md).

It reads the kubelet as its own user, USER, with a client certificate from the cluster's CA and
RBAC for nothing but `nodes/metrics` (the kubelet asks the API server whether the user may).
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import urllib.parse
import urllib.request
from typing import Any

import yaml

from devcluster.admin import wait_until
from devcluster.binaries import devcluster_dir
from devcluster.certs import CertPaths, issue_client_pair
from devcluster.components import LOOPBACK, free_tcp_ports
from devcluster.external import KubeCluster
from devcluster.processes import OwnedChild, spawn

NAME = "prometheus"
USER = "berth-dev:prometheus"
JOB = "kubelet-cadvisor"
# Short, so that a test sees a rate after seconds; a production Prometheus scrapes every 15-60 s.
SCRAPE_INTERVAL = "5s"
# A dev cluster lives for hours; Lightsail's two weeks would be 15d.
RETENTION = "1d"


def ensure_prometheus(devcluster: pathlib.Path | None = None) -> pathlib.Path:
    """Runs devcluster/prometheus/build.sh (instant once built, minutes the first time).

    Returns the folder holding the `prometheus` binary.
    """
    script = (devcluster or devcluster_dir()) / "prometheus" / "build.sh"
    result = subprocess.run(["bash", str(script)], check=True, stdout=subprocess.PIPE, text=True)
    bin_dir = pathlib.Path(result.stdout.strip().splitlines()[-1])
    if not (bin_dir / "prometheus").is_file():
        raise FileNotFoundError(f"{script} did not produce prometheus in {bin_dir}")
    return bin_dir


def scrape_config(kubelet: str, node: str, work: pathlib.Path) -> dict[str, Any]:
    """One job: the kubelet's cAdvisor metrics over HTTPS, as USER."""
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": SCRAPE_INTERVAL},
        "scrape_configs": [
            {
                "job_name": JOB,
                "scheme": "https",
                "metrics_path": "/metrics/cadvisor",
                "tls_config": {
                    "cert_file": str(work / "client.crt"),
                    "key_file": str(work / "client.key"),
                    # The kubelet serves a self-signed certificate (as for metrics-server).
                    "insecure_skip_verify": True,
                },
                "static_configs": [{"targets": [kubelet], "labels": {"node": node}}],
            }
        ],
    }


def argv(binary: pathlib.Path, work: pathlib.Path, port: int) -> list[str]:
    return [
        str(binary),
        f"--config.file={work / 'prometheus.yml'}",
        f"--storage.tsdb.path={work / 'data'}",
        f"--storage.tsdb.retention.time={RETENTION}",
        f"--web.listen-address={LOOPBACK}:{port}",
        "--log.level=warn",
    ]


def rbac() -> list[dict[str, Any]]:
    """What the kubelet's webhook authorizer lets USER do: read its metrics, nothing else."""
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": USER},
            "rules": [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": USER},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": USER,
            },
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}],
        },
    ]


class Prometheus(OwnedChild):
    """Starts Prometheus scraping one kubelet (`host:port`) and waits for its first scrape."""

    def __init__(
        self,
        cluster: KubeCluster,
        bin_dir: pathlib.Path,
        certs: CertPaths,
        work_dir: pathlib.Path,
        kubelet: str,
        node: str,
    ) -> None:
        self.cluster = cluster
        self.bin_dir = bin_dir
        self.certs = certs
        self.work_dir = work_dir
        self.kubelet = kubelet
        self.node = node
        self.port = free_tcp_ports(1)[0]
        self.url = f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 60.0) -> Prometheus:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        issue_client_pair(
            self.certs, self.work_dir / "client.crt", self.work_dir / "client.key", USER
        )
        self.cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(rbac()))
        config = scrape_config(self.kubelet, self.node, self.work_dir)
        (self.work_dir / "prometheus.yml").write_text(yaml.safe_dump(config))
        command = argv(self.bin_dir / "prometheus", self.work_dir, self.port)
        self.child = spawn(NAME, command, self.work_dir)
        wait_until(f"{NAME} ready", self._ready, timeout, interval=0.5, check=self.check)
        # A refused scrape (a certificate or RBAC mistake) shows as up == 0: fail here, not later.
        wait_until(
            f"{NAME}'s first scrape of the kubelet at {self.kubelet}",
            self._scraped,
            timeout,
            interval=1.0,
            check=self.check,
        )
        return self

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            found = json.loads(answer.read())
        result: list[dict[str, Any]] = found["data"]["result"]
        return result

    def _ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/-/ready", timeout=5) as answer:
            return bool(answer.status == 200)

    def _scraped(self) -> bool:
        up = self.query(f'up{{job="{JOB}"}}')
        return bool(up) and up[0]["value"][1] == "1"
