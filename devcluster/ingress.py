"""Traefik as the embedded cluster's ingress controller: a host process, out of cluster.

It is the real Traefik v3, built from its pinned Go module by devcluster/ingress/build.sh. Its
kubernetesIngress provider reads the Ingresses of our IngressClass through the API server as the
ServiceAccount berth-ingress, with a token from the TokenRequest API; it serves them on two
loopback entrypoints, `web` (HTTP, every request redirected to HTTPS) and `websecure` (HTTPS,
with the certificates of the Ingresses' TLS secrets, chosen by SNI).

Without a kubelet or kube-proxy no Service IP routes anywhere: Traefik sends each request
straight to an address of the Service's EndpointSlices, so those addresses must be reachable
from this host.
"""

from __future__ import annotations

import base64
import pathlib
import subprocess
from typing import Any

import yaml

from berth.settings import Settings
from devcluster.admin import http_ok, wait_until
from devcluster.binaries import devcluster_dir
from devcluster.components import LOOPBACK, free_tcp_ports
from devcluster.external import KubeCluster
from devcluster.processes import Child, OwnedChild, spawn
from devcluster.traefik_config import TraefikConfig, traefik_argv, write_config

CONTROLLER = "traefik.io/ingress-controller"
"""spec.controller of the IngressClasses that Traefik's Ingress provider looks at."""
DEFAULT_CLASS = "traefik"
"""Our IngressClass when Berth renders none (BERTH_INGRESS_CLASS_NAME unset)."""
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
NAMESPACE = "berth-system"
SERVICE_ACCOUNT = "berth-ingress"
TOKEN_DURATION = "8760h"
"""Traefik reads the token once, at start, so it must outlive any `make run`: a year."""

# Exactly what the kubernetesIngress provider of Traefik v3 calls: informers (list, watch) on
# Ingresses, Services, EndpointSlices and Secrets in the watched namespaces (all of them here)
# and on IngressClasses and Nodes (for NodePort load balancing; the same informer factory as the
# IngressClasses, so turning it off turns IngressClasses off too); an update of ingresses/status
# only when `ingressEndpoint` is configured (it is not, but the permission is harmless and a
# caller may add it). `get` is granted with list and watch as for any reader.
CLUSTER_ROLE_RULES: list[dict[str, list[str]]] = [
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["ingresses", "ingressclasses"],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["ingresses/status"],
        "verbs": ["update"],
    },
    {
        "apiGroups": [""],
        "resources": ["services", "secrets", "nodes"],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["discovery.k8s.io"],
        "resources": ["endpointslices"],
        "verbs": ["get", "list", "watch"],
    },
]


def ensure_traefik(devcluster: pathlib.Path | None = None) -> pathlib.Path:
    """Runs devcluster/ingress/build.sh (instant once built, minutes the first time).

    Returns the folder holding the `traefik` binary.
    """
    script = (devcluster or devcluster_dir()) / "ingress" / "build.sh"
    result = subprocess.run(["bash", str(script)], check=True, stdout=subprocess.PIPE, text=True)
    bin_dir = pathlib.Path(result.stdout.strip().splitlines()[-1])
    if not (bin_dir / "traefik").is_file():
        raise FileNotFoundError(f"{script} did not produce traefik in {bin_dir}")
    return bin_dir


def ingress_class_for(settings: Settings) -> tuple[str, bool]:
    """The IngressClass that makes Traefik serve what Berth renders, and whether it must be the
    cluster's default: without BERTH_INGRESS_CLASS_NAME Berth's Ingresses name no class, and only
    the DefaultIngressClass admission plugin would give them ours."""
    if settings.ingress_class_name:
        return settings.ingress_class_name, False
    return DEFAULT_CLASS, True


# --- objects in the cluster ---------------------------------------------------------------------


def rbac_manifests(
    namespace: str = NAMESPACE, service_account: str = SERVICE_ACCOUNT
) -> list[dict[str, Any]]:
    """The namespace, the ServiceAccount, its ClusterRole and the binding between them."""
    labels = {"app.kubernetes.io/name": "traefik", "app.kubernetes.io/part-of": "berth-devcluster"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": service_account, "namespace": namespace, "labels": labels},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": service_account, "labels": labels},
            "rules": CLUSTER_ROLE_RULES,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": service_account, "labels": labels},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": service_account,
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": service_account, "namespace": namespace}
            ],
        },
    ]


def install_rbac(
    cluster: KubeCluster, namespace: str = NAMESPACE, service_account: str = SERVICE_ACCOUNT
) -> None:
    """Creates or updates what rbac_manifests() returns."""
    documents = rbac_manifests(namespace, service_account)
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(documents, sort_keys=False))


def mint_token(
    cluster: KubeCluster,
    namespace: str = NAMESPACE,
    service_account: str = SERVICE_ACCOUNT,
    duration: str = TOKEN_DURATION,
) -> str:
    """A bearer token of the ServiceAccount from the TokenRequest API
    (create serviceaccounts/<name>/token, which `kubectl create token` calls)."""
    found = cluster.kubectl(
        "create", "token", service_account, f"--namespace={namespace}", f"--duration={duration}"
    )
    token = found.stdout.strip()
    if not token:
        raise RuntimeError(f"the TokenRequest for {namespace}/{service_account} returned nothing")
    return token


def ingress_class_manifest(name: str, default: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if default:
        metadata["annotations"] = {DEFAULT_CLASS_ANNOTATION: "true"}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": metadata,
        "spec": {"controller": CONTROLLER},
    }


def create_ingress_class(cluster: KubeCluster, name: str, default: bool = False) -> None:
    """Creates or updates the IngressClass `name`, handled by Traefik (CONTROLLER)."""
    manifest = ingress_class_manifest(name, default)
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(manifest, sort_keys=False))


def api_server(kubeconfig: pathlib.Path, ca_file: pathlib.Path) -> str:
    """The API server URL of the kubeconfig's current context; its CA is written to `ca_file`."""
    config = yaml.safe_load(kubeconfig.read_text())
    contexts = {entry["name"]: entry["context"] for entry in config.get("contexts", [])}
    clusters = {entry["name"]: entry["cluster"] for entry in config.get("clusters", [])}
    cluster = clusters[contexts[config["current-context"]]["cluster"]]
    if "certificate-authority-data" in cluster:
        ca = base64.b64decode(cluster["certificate-authority-data"])
    elif "certificate-authority" in cluster:
        ca = (kubeconfig.parent / cluster["certificate-authority"]).read_bytes()
    else:
        raise ValueError(f"{kubeconfig}: no CA for the API server; Traefik needs one")
    ca_file.write_bytes(ca)
    server: str = cluster["server"]
    return server


class IngressController(OwnedChild):
    """Traefik against `cluster`: RBAC, IngressClass, token, config, then the process.

    Its files (config, token, CA, traefik.log, traefik-access.log) go to `work_dir`, typically
    the cluster's data dir.
    """

    def __init__(
        self,
        cluster: KubeCluster,
        bin_dir: pathlib.Path,
        work_dir: pathlib.Path,
        http_port: int,
        https_port: int,
        ingress_class: str = DEFAULT_CLASS,
        default_class: bool = False,
        ping_port: int | None = None,
    ) -> None:
        self.cluster = cluster
        self.bin_dir = bin_dir
        self.work_dir = work_dir
        self.http_port = http_port
        self.https_port = https_port
        self.ingress_class = ingress_class
        self.default_class = default_class
        self.ping_port = ping_port if ping_port is not None else free_tcp_ports(1)[0]
        self.config_file = work_dir / "traefik.yml"
        self.log = work_dir / "traefik.log"
        self.child: Child | None = None

    def start(self, timeout: float = 60.0) -> IngressController:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        install_rbac(self.cluster)
        create_ingress_class(self.cluster, self.ingress_class, self.default_class)
        token_file = self.work_dir / "traefik-token"
        token_file.touch(mode=0o600)
        token_file.chmod(0o600)
        token_file.write_text(mint_token(self.cluster))
        ca_file = self.work_dir / "traefik-ca.crt"
        config = TraefikConfig(
            endpoint=api_server(self.cluster.kubeconfig, ca_file),
            token_file=token_file,
            ca_file=ca_file,
            ingress_class=self.ingress_class,
            http_port=self.http_port,
            https_port=self.https_port,
            ping_port=self.ping_port,
            access_log=self.work_dir / "traefik-access.log",
        )
        write_config(self.config_file, config)
        argv = traefik_argv(self.bin_dir, self.config_file)
        self.child = spawn("traefik", argv, self.work_dir)
        wait_until("Traefik /ping", self._ready, timeout, interval=0.2, check=self.check)
        return self

    def _ready(self) -> bool:
        return http_ok(f"http://{LOOPBACK}:{self.ping_port}/ping")
