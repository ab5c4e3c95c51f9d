"""Everything that makes a deployed service answer on this machine, beside the control plane.

A real node (devcluster.node) runs the pods; CoreDNS on the node's bridge is their DNS
(`cluster.local` and the private zone); the bridge also relays them to the API server
(devcluster.api_bridge); cert-manager issues every public endpoint's certificate from a local CA;
Traefik serves the Ingresses on loopback ports; metrics-server serves metrics.k8s.io from the
node's kubelet (devcluster.metrics_server); Prometheus keeps the kubelet's cAdvisor metrics as
history (devcluster.prometheus). `endpoints.json` tells a terminal how to reach it all:

    curl --cacert <ca> --resolve <host>:<https>:127.0.0.1 https://<host>:<https>/
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import pathlib
import shutil
import time
import urllib.parse
from collections.abc import Callable

import kubernetes

from berth.render import zone
from berth.settings import Settings
from devcluster.addons import CertManager, CoreDNS, ensure_addons
from devcluster.addresses import BRIDGE_IP
from devcluster.api_bridge import ApiBridge
from devcluster.certs import CertPaths, write_ca
from devcluster.cluster import Cluster
from devcluster.components import LOOPBACK, free_tcp_ports
from devcluster.images import ensure_hello_tls, import_images, standard_images
from devcluster.ingress import IngressController, ensure_traefik, ingress_class_for
from devcluster.metrics_server import MetricsServer, ensure_metrics_server
from devcluster.node import (
    NodeUnavailable,
    RealNode,
    missing_requirements,
    require_node,
)
from devcluster.node_config import NODE_NAME
from devcluster.prometheus import Prometheus, ensure_prometheus
from devcluster.registry import RegistryServer, ensure_registry
from devcluster.settings import DevSettings
from devcluster.txt_zone import TEST_ZONE
from devcluster.zone_mirror import ZoneMirror

__all__ = ["DataPlane", "Endpoints", "NodeUnavailable", "image_cache_dir", "missing_requirements"]

DNS_PORT = 53


def image_cache_dir() -> pathlib.Path:
    return DevSettings().cache / "images"


@dataclasses.dataclass(frozen=True)
class Endpoints:
    """How to reach the public endpoints from this machine; written to endpoints.json."""

    http: str
    https: str
    http_port: int
    https_port: int
    ca_file: str
    dns: str
    prometheus: str = ""  # for --prometheus-url: the pods' CPU and memory history

    def curl(self, host: str) -> str:
        return (
            f"curl --cacert {self.ca_file} --resolve {host}:{self.https_port}:127.0.0.1 "
            f"https://{host}:{self.https_port}/"
        )

    def write(self, path: pathlib.Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n")


class DataPlane:
    """Starts the node and the add-ons against a started Cluster, and stops them all."""

    def __init__(self, cluster: Cluster, work_dir: pathlib.Path, settings: Settings) -> None:
        self.cluster = cluster
        self.work_dir = work_dir
        self.settings = settings
        self.node: RealNode | None = None
        self.api_bridge: ApiBridge | None = None
        self.dns: CoreDNS | None = None
        self.mirror: ZoneMirror | None = None
        self.cert_manager: CertManager | None = None
        self.ingress: IngressController | None = None
        self.metrics_server: MetricsServer | None = None
        self.registry: RegistryServer | None = None
        self.prometheus: Prometheus | None = None
        self.endpoints: Endpoints | None = None
        self.timings: dict[str, float] = {}
        self._api: kubernetes.client.ApiClient | None = None

    def start(self) -> DataPlane:
        began = time.monotonic()
        try:
            self._start(lambda phase: self._mark(phase, began))
        except BaseException:
            self.stop()
            raise
        return self

    def _mark(self, phase: str, began: float) -> None:
        self.timings[phase] = round(time.monotonic() - began, 2)

    def _start(self, mark: Callable[[str], None]) -> None:
        # Before the builds below, which take minutes the first time.
        require_node()
        addons_bin = ensure_addons()
        traefik_bin = ensure_traefik()
        metrics_bin = ensure_metrics_server()
        registry_bin = ensure_registry()
        prometheus_bin = ensure_prometheus()
        hello_tls = ensure_hello_tls()
        mark("binaries")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        ctr = shutil.which("ctr") or "ctr"

        def prepare_images(socket: pathlib.Path) -> None:
            import_images(ctr, socket, standard_images(hello_tls=hello_tls), image_cache_dir())

        self.node = RealNode(
            bin_dir=self.cluster.bin_dir,
            data_dir=self.work_dir / "node",
            kubeconfig=self.cluster.kubeconfig,
            ca_cert=self.cluster.data_dir / "pki" / "ca.crt",
            kubectl=self.cluster.kubectl,
            prepare_images=prepare_images,
        )
        self.node.start()
        # The bridge exists from here on: pods can now reach the API server through it.
        port = urllib.parse.urlsplit(self.cluster.server).port
        assert port is not None
        self.api_bridge = ApiBridge(BRIDGE_IP, port, (LOOPBACK, port)).start()
        mark("node")

        # Listens on the bridge, which exists from the node's start.
        pki = CertPaths.in_dir(self.cluster.data_dir / "pki")
        self.metrics_server = MetricsServer(
            self.cluster, metrics_bin, pki, self.work_dir / "metrics-server"
        ).start()
        mark("metrics_server")
        self.prometheus = Prometheus(
            self.cluster,
            prometheus_bin,
            pki,
            self.work_dir / "prometheus",
            kubelet=f"{BRIDGE_IP}:{self.node.ports.kubelet}",
            node=NODE_NAME,
        ).start()
        mark("prometheus")

        suffix = self.settings.private_domain_suffix
        self.dns = CoreDNS(
            addons_bin,
            self.work_dir / "coredns",
            suffix,
            address=BRIDGE_IP,
            port=DNS_PORT,
            cluster_kubeconfig=self.cluster.kubeconfig,
            # Domain owners' records for proof of ownership: tests publish them here.
            test_zone=TEST_ZONE,
        ).start(zone.zone_file(suffix, {}))
        self._api = kubernetes.config.new_client_from_config(str(self.cluster.kubeconfig))
        self.mirror = ZoneMirror(self._api, self.dns, self.settings.namespace, suffix).start()
        mark("dns")

        ca_cert, ca_key = self.work_dir / "ca.crt", self.work_dir / "ca.key"
        write_ca(ca_cert, ca_key, "Berth local CA")
        self.cert_manager = CertManager(self.cluster, addons_bin, self.work_dir / "cert-manager")
        self.cert_manager.start(self.settings.cluster_issuer, ca=(ca_cert, ca_key))
        mark("cert_manager")

        # On the bridge: the node's containerd pulls from it, and this machine pushes to it.
        self.registry = RegistryServer(
            registry_bin,
            self.work_dir / "registry",
            (ca_cert, ca_key),
            BRIDGE_IP,
            *free_tcp_ports(2),
        ).start()
        self.registry.write_hosts(self.node.paths.registry_hosts)
        self._store_registry_login(self.registry)
        mark("registry")

        http_port, https_port = free_tcp_ports(2)
        ingress_class, default = ingress_class_for(self.settings)
        self.ingress = IngressController(
            self.cluster,
            traefik_bin,
            self.work_dir / "ingress",
            http_port,
            https_port,
            ingress_class=ingress_class,
            default_class=default,
        ).start()
        mark("ingress")
        self.endpoints = Endpoints(
            http=f"http://127.0.0.1:{http_port}",
            https=f"https://127.0.0.1:{https_port}",
            http_port=http_port,
            https_port=https_port,
            ca_file=str(ca_cert),
            dns=f"{BRIDGE_IP}:{DNS_PORT}",
            prometheus=self.prometheus.url,
        )

    def _store_registry_login(self, registry: RegistryServer) -> None:
        """The registry's address, CA and token key in Berth's namespace, where `berth
        push-container-image` and the chart's operator (registry.tokenSecret) read them."""
        core = kubernetes.client.CoreV1Api(self._api)
        namespace = self.settings.namespace
        with contextlib.suppress(kubernetes.client.ApiException):
            core.create_namespace({"metadata": {"name": namespace}})
        secret = registry.login_secret(namespace)
        name = secret["metadata"]["name"]  # type: ignore[index]
        with contextlib.suppress(kubernetes.client.ApiException):
            core.delete_namespaced_secret(name, namespace)
        core.create_namespaced_secret(namespace, secret)

    def operator_env(self) -> dict[str, str]:
        """The settings an operator beside this data plane needs: its registry, and its CoreDNS
        for domain verification (it serves the test zone example.test, as pods see it)."""
        env = self.registry.operator_env() if self.registry is not None else {}
        if self.endpoints is not None:
            env["BERTH_DOMAIN_VERIFICATION_NAMESERVERS"] = json.dumps([self.endpoints.dns])
        return env

    def check(self) -> None:
        """Raises ChildFailed when a process of the data plane has exited."""
        parts = (self.node, self.dns, self.cert_manager, self.ingress, self.metrics_server)
        for part in (*parts, self.registry, self.prometheus):
            if part is not None:
                part.check()

    def stop(self) -> None:
        """Stops the add-ons, then the node (which removes its pods, mounts and rules)."""
        if self.mirror is not None:
            self.mirror.stop()
            self.mirror = None
        if self.prometheus is not None:
            self.prometheus.stop()
            self.prometheus = None
        for part in (self.registry, self.metrics_server, self.ingress, self.cert_manager, self.dns):
            if part is not None:
                part.stop()
        self.registry = self.metrics_server = None
        self.ingress = self.cert_manager = self.dns = None
        if self.api_bridge is not None:
            self.api_bridge.stop()
            self.api_bridge = None
        if self.node is not None:
            self.node.stop()
            self.node = None
        if self._api is not None:
            with contextlib.suppress(Exception):
                self._api.close()
            self._api = None
