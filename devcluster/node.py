"""A real node for the embedded cluster: containerd + runc + the CNI bridge, kubelet, kube-proxy.

Pods on it really run (Linux containers made from images imported by devcluster.images)
and get addresses on a host bridge, so the host reaches them directly and CoreDNS on the bridge
address serves them. Everything the node creates lives under its data dir and one state dir in
/run; stop() removes it all again: pods, containers, mounts, network namespaces, iptables rules.

Needs root, cgroups, and Debian's containerd, runc and containernetworking-plugins
(`NodeRequirements.missing()` says what is absent; see the README).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import IO

from devcluster.admin import wait_until
from devcluster.components import LOOPBACK, free_tcp_ports
from devcluster.processes import Child, ChildFailed, spawn, stop_all

NODE_NAME = "berth-node"
BRIDGE = "berth0"
POD_SUBNET = "10.89.0.0/16"
BRIDGE_IP = "10.89.0.1"
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


class NodeUnavailable(RuntimeError):
    """This machine cannot run a real node; the message says why and what to install."""


def cni_bin_dir() -> pathlib.Path | None:
    for folder in CNI_BIN_DIRS:
        if (pathlib.Path(folder) / "bridge").is_file():
            return pathlib.Path(folder)
    return None


def missing_requirements() -> list[str]:
    """What keeps a real node from starting here; empty when it can."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (containers, mounts and iptables need it)")
    missing += [f"`{name}` on PATH" for name in HOST_COMMANDS if shutil.which(name) is None]
    if cni_bin_dir() is None:
        missing.append(f"CNI plugins (bridge, host-local, loopback) in {' or '.join(CNI_BIN_DIRS)}")
    if not pathlib.Path("/bin/busybox").is_file():
        missing.append("/bin/busybox (Debian busybox-static) for the images")
    if not pathlib.Path("/proc/sys/net/bridge").is_dir():
        missing.append("the br_netfilter kernel module (/proc/sys/net/bridge)")
    return missing


def require_node() -> None:
    """Raises NodeUnavailable, saying what is missing, unless a real node can run here."""
    missing = missing_requirements()
    if missing:
        raise NodeUnavailable("a real node needs: " + "; ".join(missing))


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


class RealNode:
    """Starts containerd, kubelet and kube-proxy for one node named NODE_NAME, and tears down.

    Only one real node can run per machine at a time (one bridge, one cgroup root); a second
    start() fails fast with NodeUnavailable instead of disturbing the first.
    """

    def __init__(
        self,
        *,
        bin_dir: pathlib.Path,
        data_dir: pathlib.Path,
        kubeconfig: pathlib.Path,
        ca_cert: pathlib.Path,
        kubectl: Callable[..., subprocess.CompletedProcess[str]],
        cluster_dns: str = BRIDGE_IP,
        prepare_images: Callable[[pathlib.Path], None] | None = None,
    ) -> None:
        self.bin_dir = bin_dir
        self.paths = NodePaths(data_dir=data_dir, state_dir=STATE_ROOT)
        self.kubeconfig = kubeconfig
        self.ca_cert = ca_cert
        self.kubectl = kubectl
        self.cluster_dns = cluster_dns
        self.prepare_images = prepare_images
        self.ports = KubeletPorts.pick()
        self.children: list[Child] = []
        self.timings: dict[str, float] = {}
        self._lock: IO[bytes] | None = None
        self._saved_sysctls: dict[str, str] = {}
        self._netns_before: set[str] = set()
        self.drained = False
        """Whether stop() saw the kubelet stop every pod itself, before the sweep."""

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> RealNode:
        require_node()
        began = time.monotonic()
        self._take_lock()
        try:
            self._start(began, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _mark(self, phase: str, began: float) -> None:
        self.timings[phase] = round(time.monotonic() - began, 2)

    def _start(self, began: float, timeout: float) -> None:
        paths = self.paths
        # Whatever a killed run left behind goes first.
        sweep(paths)
        for folder in (paths.data_dir, paths.state_dir, paths.cni_conf_dir, paths.pod_logs):
            folder.mkdir(parents=True, exist_ok=True)
        self._netns_before = set(_netns_names())
        self._set_sysctls()
        _create_cgroup_root()
        _create_bridge()
        cni_bin = cni_bin_dir()
        assert cni_bin is not None
        paths.containerd_config.write_text(containerd_config(paths, cni_bin))
        (paths.cni_conf_dir / "10-berth.conflist").write_text(json.dumps(cni_config(paths)))
        self._spawn("containerd", ["containerd", "--config", str(paths.containerd_config)])
        wait_until("containerd socket", self._containerd_up, timeout, check=self.check)
        self._mark("containerd", began)
        if self.prepare_images is not None:
            self.prepare_images(paths.containerd_socket)
        self._mark("images", began)

        kubelet_yaml = paths.data_dir / "kubelet.yaml"
        kubelet_yaml.write_text(
            json.dumps(kubelet_config(paths, self.ports, self.ca_cert, self.cluster_dns))
        )
        self._spawn(
            "kubelet",
            [
                str(self.bin_dir / "kubelet"),
                f"--config={kubelet_yaml}",
                f"--kubeconfig={self.kubeconfig}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={BRIDGE_IP}",
                f"--root-dir={paths.kubelet_dir}",
                f"--cert-dir={paths.data_dir / 'kubelet-pki'}",
                "--v=1",
            ],
        )
        proxy_yaml = paths.data_dir / "kube-proxy.yaml"
        proxy_yaml.write_text(json.dumps(kube_proxy_config(self.kubeconfig, self.ports)))
        self._spawn("kube-proxy", [str(self.bin_dir / "kube-proxy"), f"--config={proxy_yaml}"])
        wait_until(f"node {NODE_NAME} Ready", self._node_ready, timeout, check=self.check)
        self._mark("node_ready", began)

    def stop(self) -> None:
        """Deletes the node's pods, stops its processes and removes every trace of it."""
        if self._lock is None:
            return
        try:
            self._drain()
            stop_all([c for c in self.children if c.name != "containerd"][::-1])
            if any(c.name == "kube-proxy" for c in self.children):
                subprocess.run(
                    [str(self.bin_dir / "kube-proxy"), "--cleanup"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    check=False,
                    timeout=60,
                )
            stop_all([c for c in self.children if c.name == "containerd"])
            self.children = []
            sweep(self.paths, netns_before=self._netns_before)
            self._restore_sysctls()
        finally:
            self._release_lock()

    def check(self) -> None:
        for child in self.children:
            if not child.alive():
                raise ChildFailed(child)

    # -- pieces --------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> None:
        self.children.append(spawn(name, argv, self.paths.data_dir))

    def _containerd_up(self) -> bool:
        if not self.paths.containerd_socket.exists():
            return False
        result = self.ctr("version", check=False)
        return result.returncode == 0

    def ctr(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ctr", "--address", str(self.paths.containerd_socket), "-n", "k8s.io", *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def _node_ready(self) -> bool:
        jsonpath = '{.status.conditions[?(@.type=="Ready")].status}'
        found = self.kubectl("get", "node", NODE_NAME, "-o", f"jsonpath={jsonpath}", check=False)
        return found.returncode == 0 and found.stdout.strip() == "True"

    def _drain(self) -> None:
        """Lets the kubelet stop every pod properly (CNI DEL, unmounts) while it still can."""
        alive = {c.name for c in self.children if c.alive()}
        if not {"kubelet", "containerd"} <= alive:
            return
        # Cordoned first, or controllers would put replacements on the node as fast as we delete.
        self.kubectl("cordon", NODE_NAME, check=False)
        self.kubectl(
            "delete",
            "pods",
            "--all-namespaces",
            f"--field-selector=spec.nodeName={NODE_NAME}",
            "--grace-period=1",
            "--wait=false",
            check=False,
        )
        with contextlib.suppress(TimeoutError):
            wait_until("pod sandboxes gone", self._no_sandboxes, 30.0, interval=0.5)
            self.drained = True

    def _no_sandboxes(self) -> bool:
        tasks = self.ctr("tasks", "ls", "-q", check=False)
        return tasks.returncode == 0 and not tasks.stdout.strip()

    def _take_lock(self) -> None:
        LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
        handle = LOCK_FILE.open("wb")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise NodeUnavailable("another real Berth node runs on this machine") from None
        self._lock = handle

    def _release_lock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def _set_sysctls(self) -> None:
        for key, value in SYSCTLS.items():
            path = pathlib.Path("/proc/sys") / key
            self._saved_sysctls[key] = path.read_text().strip()
            path.write_text(value)

    def _restore_sysctls(self) -> None:
        for key, value in self._saved_sysctls.items():
            with contextlib.suppress(OSError):
                (pathlib.Path("/proc/sys") / key).write_text(value)
        self._saved_sysctls = {}


# -- teardown that also works after a crash ----------------------------------------------------


def sweep(paths: NodePaths, netns_before: set[str] | None = None) -> None:
    """Removes what a node leaves when it was not stopped properly. Quiet when all is clean."""
    _kill_cgroup_tree()
    _kill_shims(paths)
    _unmount_under([paths.data_dir, paths.state_dir])
    _remove_cgroup_tree()
    if netns_before is not None:
        for name in set(_netns_names()) - netns_before:
            if name.startswith("cni-"):
                subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)
    _delete_bridge()
    for family in IPTABLES:
        _remove_kube_chains(family)
    shutil.rmtree(paths.state_dir, ignore_errors=True)


IPTABLES = ("iptables", "ip6tables")


def _kube_rules(family: str) -> list[tuple[str, str]]:
    """(table, rule or chain line) of every KUBE-* chain and jump in `<family>-save` output."""
    saved = subprocess.run([f"{family}-save"], capture_output=True, text=True, check=False)
    found, table = [], ""
    for line in saved.stdout.splitlines():
        if line.startswith("*"):
            table = line[1:]
        elif "KUBE-" in line and (line.startswith("-A ") or line.startswith(":")):
            found.append((table, line))
    return found


def _remove_kube_chains(family: str) -> None:
    """What kubelet and kube-proxy add to the host's tables; kube-proxy --cleanup misses some."""
    if shutil.which(family) is None:
        return
    rules = _kube_rules(family)
    for table, line in rules:
        chain = line.split()[1]
        if line.startswith("-A ") and not chain.startswith("KUBE-"):
            subprocess.run(
                [family, "-t", table, "-D", *shlex.split(line)[1:]],
                check=False,
                capture_output=True,
            )
    chains = [(t, line[1:].split()[0]) for t, line in rules if line.startswith(":")]
    for verb in ("-F", "-X"):
        for table, chain in chains:
            subprocess.run([family, "-t", table, verb, chain], check=False, capture_output=True)


def _cgroup_dirs() -> Iterator[pathlib.Path]:
    base = pathlib.Path("/sys/fs/cgroup")
    for controller in sorted(base.iterdir()) if base.is_dir() else []:
        root = controller / CGROUP_ROOT.strip("/")
        if root.is_dir():
            yield root


def _create_cgroup_root() -> None:
    base = pathlib.Path("/sys/fs/cgroup")
    if (base / "cgroup.controllers").exists():  # cgroup v2: one tree
        (base / CGROUP_ROOT.strip("/")).mkdir(exist_ok=True)
        return
    for controller in sorted(base.iterdir()):
        if controller.name == "unified" or not controller.is_dir():
            continue
        root = controller / CGROUP_ROOT.strip("/")
        root.mkdir(exist_ok=True)
        if controller.name == "cpuset":
            # A new v1 cpuset starts with no CPUs and no memory nodes; copy the parent's.
            for knob in ("cpuset.cpus", "cpuset.mems"):
                (root / knob).write_text((controller / knob).read_text())


def _kill_cgroup_tree() -> None:
    for root in _cgroup_dirs():
        for procs in root.rglob("cgroup.procs"):
            with contextlib.suppress(OSError):
                for pid in procs.read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), 9)


def _remove_cgroup_tree() -> None:
    for root in _cgroup_dirs():
        folders = sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
        for folder in [*folders, root]:
            with contextlib.suppress(OSError):
                folder.rmdir()


def _kill_shims(paths: NodePaths) -> None:
    marker = str(paths.containerd_socket)
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"containerd-shim-runc-v2") and marker.encode() in argv:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), 9)


def _unmount_under(roots: list[pathlib.Path]) -> None:
    prefixes = [str(root.resolve()) for root in roots]
    for _ in range(3):
        mounts = []
        for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines():
            point = line.split()[4].replace("\\040", " ")
            if any(point == p or point.startswith(p + "/") for p in prefixes):
                mounts.append(point)
        if not mounts:
            return
        for point in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def _netns_names() -> list[str]:
    folder = pathlib.Path("/run/netns")
    return [entry.name for entry in folder.iterdir()] if folder.is_dir() else []


def _create_bridge() -> None:
    _delete_bridge()
    prefix = POD_SUBNET.split("/")[1]
    for command in (
        ["ip", "link", "add", BRIDGE, "type", "bridge"],
        ["ip", "addr", "add", f"{BRIDGE_IP}/{prefix}", "dev", BRIDGE],
        ["ip", "link", "set", BRIDGE, "up"],
    ):
        subprocess.run(command, check=True, capture_output=True)


def _delete_bridge() -> None:
    if pathlib.Path(f"/sys/class/net/{BRIDGE}").exists():
        subprocess.run(["ip", "link", "delete", BRIDGE], check=False, capture_output=True)


def leftovers(paths: NodePaths) -> list[str]:
    """What of a node is still on the machine (for tests of a clean teardown)."""
    found = []
    found += [f"cgroup {root}" for root in _cgroup_dirs()]
    marker = str(paths.containerd_socket).encode()
    for proc in pathlib.Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if marker in (proc / "cmdline").read_bytes():
                    found.append(f"process {proc.name}")
    prefixes = [str(paths.data_dir.resolve()), str(paths.state_dir)]
    for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4]
        if any(point.startswith(p) for p in prefixes):
            found.append(f"mount {point}")
    if pathlib.Path(f"/sys/class/net/{BRIDGE}").exists():
        found.append(f"interface {BRIDGE}")
    for family in IPTABLES:
        found += [f"{family} -t {table} {line}" for table, line in _kube_rules(family)]
    return found
