"""Command lines of the control-plane components, all listening on 127.0.0.1 only."""

from __future__ import annotations

import dataclasses
import pathlib
import socket

from devcluster.addresses import BRIDGE_IP, SERVICE_CIDR
from devcluster.certs import FRONT_PROXY_USER, CertPaths

LOOPBACK = "127.0.0.1"
# Node lease like a kubelet's: renewed every 10s, so the node-lifecycle controller sees it alive.
NODE_LEASE_SECONDS = 40
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
KWOK_NODE_VALUE = "fake"
# Room for many fake pods; kwok's default /24 runs out at 254.
POD_CIDR = "10.128.0.0/12"


@dataclasses.dataclass(frozen=True)
class Ports:
    """Loopback ports of one cluster."""

    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int

    @classmethod
    def pick(cls) -> Ports:
        return cls(*free_tcp_ports(5))


def free_tcp_ports(count: int) -> list[int]:
    """`count` different free TCP ports on loopback."""
    # All sockets stay open until every port is chosen, so no two get the same one.
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclasses.dataclass(frozen=True)
class Layout:
    """Everything the command lines refer to: binaries, files in the data dir, ports."""

    bin_dir: pathlib.Path
    data_dir: pathlib.Path
    certs: CertPaths
    kubeconfig: pathlib.Path
    kwok_config: pathlib.Path
    ports: Ports
    audit: bool = False
    """Whether the API server logs the writes of service accounts (audit_log)."""

    def binary(self, name: str) -> str:
        return str(self.bin_dir / name)

    @property
    def audit_policy(self) -> pathlib.Path:
        return self.data_dir / "audit-policy.yaml"

    @property
    def audit_log(self) -> pathlib.Path:
        return self.data_dir / "audit.log"


def audit_policy() -> dict[str, object]:
    """Who changed what, for workloads only: every write made with a service account's token.
    Their bound tokens put the pod's name in the entry (user.extra), so an entry says which pod
    wrote. Reads and the control plane's own writes are not logged."""
    return {
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Policy",
        "omitStages": ["RequestReceived"],
        "rules": [
            {
                "level": "Metadata",
                "userGroups": ["system:serviceaccounts"],
                "verbs": ["create", "update", "patch", "delete", "deletecollection"],
            },
            {"level": "None"},
        ],
    }


def etcd(layout: Layout) -> list[str]:
    client = f"http://{LOOPBACK}:{layout.ports.etcd_client}"
    peer = f"http://{LOOPBACK}:{layout.ports.etcd_peer}"
    return [
        layout.binary("etcd"),
        "--name=berth",
        f"--data-dir={layout.data_dir / 'etcd'}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=berth={peer}",
        # The data is thrown away with the cluster; durability would only cost time.
        "--unsafe-no-fsync",
        "--log-level=warn",
    ]


def kube_apiserver(layout: Layout) -> list[str]:
    certs = layout.certs
    return [
        layout.binary("kube-apiserver"),
        f"--etcd-servers=http://{LOOPBACK}:{layout.ports.etcd_client}",
        f"--bind-address={LOOPBACK}",
        # The `kubernetes` Service's endpoint: pods on the real node reach it through
        # devcluster.api_bridge. Nothing listens there without a node; nothing needs to.
        f"--advertise-address={BRIDGE_IP}",
        f"--secure-port={layout.ports.apiserver}",
        f"--tls-cert-file={certs.serving_cert}",
        f"--tls-private-key-file={certs.serving_key}",
        f"--client-ca-file={certs.ca_cert}",
        # As whom `kubectl logs` and exec reach a real kubelet.
        f"--kubelet-client-certificate={certs.admin_cert}",
        f"--kubelet-client-key={certs.admin_key}",
        "--kubelet-preferred-address-types=InternalIP",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC",
        "--service-account-issuer=https://kubernetes.default.svc",
        f"--service-account-key-file={certs.service_account_pub}",
        f"--service-account-signing-key-file={certs.service_account_key}",
        "--allow-privileged=true",
        # Tests and benchmarks burst far beyond one kubelet's traffic.
        "--max-requests-inflight=1000",
        "--max-mutating-requests-inflight=500",
        "--profiling=false",
        *_aggregation(certs),
        *(_audit(layout) if layout.audit else []),
    ]


def _aggregation(certs: CertPaths) -> list[str]:
    """The aggregation layer, for APIServices such as metrics-server's v1beta1.metrics.k8s.io:
    the API server proxies to them as front-proxy-client, the user in these headers."""
    return [
        f"--requestheader-client-ca-file={certs.ca_cert}",
        f"--requestheader-allowed-names={FRONT_PROXY_USER}",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--proxy-client-cert-file={certs.front_proxy_cert}",
        f"--proxy-client-key-file={certs.front_proxy_key}",
        # To an address of the Service's endpoints, not its ClusterIP: this host may route none.
        "--enable-aggregator-routing=true",
    ]


def _audit(layout: Layout) -> list[str]:
    return [
        f"--audit-policy-file={layout.audit_policy}",
        f"--audit-log-path={layout.audit_log}",
        "--audit-log-format=json",
        # Each entry is written before the answer goes back: a test reads them right after.
        "--audit-log-mode=blocking",
        "--audit-log-maxsize=0",
    ]


def _component_auth(layout: Layout) -> list[str]:
    # Without these the components log lookup errors and reject their own health probes.
    return [
        f"--kubeconfig={layout.kubeconfig}",
        f"--authentication-kubeconfig={layout.kubeconfig}",
        f"--authorization-kubeconfig={layout.kubeconfig}",
        f"--bind-address={LOOPBACK}",
        "--leader-elect=false",
        "--kube-api-qps=500",
        "--kube-api-burst=1000",
    ]


def kube_controller_manager(layout: Layout) -> list[str]:
    certs = layout.certs
    return [
        layout.binary("kube-controller-manager"),
        *_component_auth(layout),
        f"--secure-port={layout.ports.controller_manager}",
        f"--cert-dir={layout.data_dir / 'controller-manager'}",
        f"--service-account-private-key-file={certs.service_account_key}",
        f"--root-ca-file={certs.ca_cert}",
        f"--cluster-signing-cert-file={certs.ca_cert}",
        f"--cluster-signing-key-file={certs.ca_key}",
        "--use-service-account-credentials=false",
        "--controllers=*",
        "--profiling=false",
    ]


def kube_scheduler(layout: Layout) -> list[str]:
    return [
        layout.binary("kube-scheduler"),
        *_component_auth(layout),
        f"--secure-port={layout.ports.scheduler}",
        f"--cert-dir={layout.data_dir / 'scheduler'}",
        "--profiling=false",
    ]


def kwok(layout: Layout) -> list[str]:
    # No --server-address: kwok then opens no port at all (it would only serve fake logs/exec).
    return [
        layout.binary("kwok"),
        f"--kubeconfig={layout.kubeconfig}",
        f"--config={layout.kwok_config}",
        "--manage-all-nodes=false",
        f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}={KWOK_NODE_VALUE}",
        f"--node-lease-duration-seconds={NODE_LEASE_SECONDS}",
        f"--cidr={POD_CIDR}",
        f"--node-ip={LOOPBACK}",
    ]
