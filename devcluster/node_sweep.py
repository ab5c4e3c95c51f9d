"""Undoing a real node, also after a crash: processes, mounts, cgroups, network namespaces,
the bridge and kube-proxy's iptables chains; and the host setup those undo."""

from __future__ import annotations

import contextlib
import os
import pathlib
import shlex
import shutil
import subprocess
from collections.abc import Iterator

from devcluster.addresses import BRIDGE_IP, POD_SUBNET
from devcluster.node_config import BRIDGE, CGROUP_ROOT, NodePaths


def sweep(paths: NodePaths, netns_before: set[str] | None = None) -> None:
    """Removes what a node leaves when it was not stopped properly. Quiet when all is clean."""
    _kill_cgroup_tree()
    _kill_shims(paths)
    _unmount_under([paths.data_dir, paths.state_dir])
    _remove_cgroup_tree()
    if netns_before is not None:
        for name in set(netns_names()) - netns_before:
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


def create_cgroup_root() -> None:
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


def netns_names() -> list[str]:
    folder = pathlib.Path("/run/netns")
    return [entry.name for entry in folder.iterdir()] if folder.is_dir() else []


def create_bridge() -> None:
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
