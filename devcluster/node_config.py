"""What a real node is made of: its names and folders, and the configuration of containerd,
the CNI bridge, the kubelet and kube-proxy. Pure: nothing here starts or touches anything."""

from __future__ import annotations

import dataclasses
import pathlib

from devcluster.addresses import BRIDGE_IP, POD_SUBNET
from devcluster.components import LOOPBACK, free_tcp_ports

NODE_NAME = "berth-node"
BRIDGE = "berth0"
CNI_NETWORK = "berth"
CNI_BIN_DIRS = ("/usr/lib/cni", "/opt/cni/bin")
# Pods of the node share one cgroup subtree, so a sweep finds every process the node started.
CGROUP_ROOT = "/berth"
STATE_ROOT = pathlib.Path("/run/berth-node")
LOCK_FILE = pathlib.Path("/run/berth-node.lock")
SANDBOX_IMAGE = "berth.local/pause:1"
# Values the node changes, put back on stop().
SYSCTLS = {
    "net/ipv4/ip_forward": "1",
    "net/bridge/bridge-nf-call-iptables": "1",
}
HOST_COMMANDS = ("containerd", "containerd-shim-runc-v2", "runc", "ctr", "iptables", "ip")


@dataclasses.dataclass(frozen=True)
class NodePaths:
    data_dir: pathlib.Path
    state_dir: pathlib.Path

    @property
    def containerd_socket(self) -> pathlib.Path:
        return self.state_dir / "containerd.sock"

    @property
    def containerd_config(self) -> pathlib.Path:
        return self.data_dir / "containerd.toml"

    @property
    def cni_conf_dir(self) -> pathlib.Path:
        return self.data_dir / "cni"

    @property
    def kubelet_dir(self) -> pathlib.Path:
        return self.data_dir / "kubelet"

    @property
    def registry_hosts(self) -> pathlib.Path:
        """containerd's `config_path`: one `<host:port>/hosts.toml` per registry it must trust."""
        return self.data_dir / "certs.d"

    @property
    def pod_logs(self) -> pathlib.Path:
        return self.data_dir / "pod-logs"


def containerd_config(paths: NodePaths, cni_bin: pathlib.Path) -> str:
    cri = '[plugins."io.containerd.grpc.v1.cri"]'
    runc = '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]'
    return "\n".join(
        [
            "version = 2",
            f'root = "{paths.data_dir / "containerd"}"',
            f'state = "{paths.state_dir / "containerd"}"',
            "[grpc]",
            f'  address = "{paths.containerd_socket}"',
            "[metrics]",
            '  address = ""',
            cri,
            f'  sandbox_image = "{SANDBOX_IMAGE}"',
            '  stream_server_address = "127.0.0.1"',
            # Sandboxed hosts may refuse a lower oom_score_adj than containerd's own (pause asks -998).
            "  restrict_oom_score_adj = true",
            f"{cri[:-1]}.containerd]",
            '  snapshotter = "overlayfs"',
            '  default_runtime_name = "runc"',
            runc,
            '  runtime_type = "io.containerd.runc.v2"',
            f"{runc[:-1]}.options]",
            "  SystemdCgroup = false",
            f"{cri[:-1]}.registry]",
            # Read at each pull: a registry started after containerd is trusted at once.
            f'  config_path = "{paths.registry_hosts}"',
            f"{cri[:-1]}.cni]",
            f'  bin_dir = "{cni_bin}"',
            f'  conf_dir = "{paths.cni_conf_dir}"',
            '[plugins."io.containerd.internal.v1.opt"]',
            f'  path = "{paths.data_dir / "opt"}"',
            "",
        ]
    )


def cni_config(paths: NodePaths) -> dict[str, object]:
    """One bridge with host-local addresses. No masquerading: nothing leaves the machine."""
    return {
        "cniVersion": "0.4.0",
        "name": CNI_NETWORK,
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_SUBNET, "gateway": BRIDGE_IP}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(paths.data_dir / "ipam"),
                },
            }
        ],
    }


@dataclasses.dataclass(frozen=True)
class KubeletPorts:
    kubelet: int
    healthz: int
    proxy_healthz: int
    proxy_metrics: int

    @classmethod
    def pick(cls) -> KubeletPorts:
        return cls(*free_tcp_ports(4))


def kubelet_config(
    paths: NodePaths, ports: KubeletPorts, ca_cert: pathlib.Path, cluster_dns: str
) -> dict[str, object]:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        # On the bridge: a node's address may not be loopback, and the bridge is local-only.
        "address": BRIDGE_IP,
        "port": ports.kubelet,
        "readOnlyPort": 0,
        "healthzBindAddress": LOOPBACK,
        "healthzPort": ports.healthz,
        "containerRuntimeEndpoint": f"unix://{paths.containerd_socket}",
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": CGROUP_ROOT,
        # Kubernetes 1.35+ refuses cgroup v1 unless told; many hosts (this one) still have it.
        "failCgroupV1": False,
        "failSwapOn": False,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca_cert)},
        },
        "authorization": {"mode": "Webhook"},
        "clusterDomain": "cluster.local",
        "clusterDNS": [cluster_dns],
        "podLogsDir": str(paths.pod_logs),
        # A laptop's disk is often fuller than the defaults allow; never evict a dev cluster's pods.
        "evictionHard": {
            "memory.available": "50Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
        },
        "imageGCHighThresholdPercent": 100,
        "serializeImagePulls": False,
        "maxPods": 110,
        # The cluster's readiness follows the pods quickly; the defaults are tuned for fleets.
        "nodeStatusReportFrequency": "10s",
        "syncFrequency": "10s",
        "fileCheckFrequency": "5s",
        "shutdownGracePeriod": "0s",
        "resolvConf": "/etc/resolv.conf",
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "staticPodPath": "",
    }


def kube_proxy_config(kubeconfig: pathlib.Path, ports: KubeletPorts) -> dict[str, object]:
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "hostnameOverride": NODE_NAME,
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "clusterCIDR": POD_SUBNET,
        "bindAddress": LOOPBACK,
        "healthzBindAddress": f"{LOOPBACK}:{ports.proxy_healthz}",
        "metricsBindAddress": f"{LOOPBACK}:{ports.proxy_metrics}",
        # No node ports on any address: the ingress controller is the way in.
        "nodePortAddresses": [f"{BRIDGE_IP}/32"],
        # Leave the host's conntrack table size alone.
        "conntrack": {"maxPerCore": 0, "min": 0},
    }
