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
import fcntl
import json
import os
import pathlib
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import IO

from devcluster.addresses import BRIDGE_IP
from devcluster.admin import wait_until
from devcluster.node_config import (
    CNI_BIN_DIRS,
    HOST_COMMANDS,
    LOCK_FILE,
    NODE_NAME,
    STATE_ROOT,
    SYSCTLS,
    KubeletPorts,
    NodePaths,
    cni_config,
    containerd_config,
    kube_proxy_config,
    kubelet_config,
)
from devcluster.node_sweep import create_bridge, create_cgroup_root, netns_names, sweep
from devcluster.processes import Child, ChildFailed, spawn, stop_all


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
        self._netns_before = set(netns_names())
        self._set_sysctls()
        create_cgroup_root()
        create_bridge()
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
                # cAdvisor in the kubelet asks containerd which pod and container a cgroup is;
                # its default socket is /run/containerd's. Without it /metrics/cadvisor has no
                # pod, namespace or container labels (Prometheus's history needs them).
                f"--containerd={paths.containerd_socket}",
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
