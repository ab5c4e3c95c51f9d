"""A real Kubernetes control plane (etcd, apiserver, controller-manager, scheduler, kwok)."""

from __future__ import annotations

import atexit
import contextlib
import importlib.resources
import json
import pathlib
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import types
from typing import Any

from devcluster import bootstrap, components
from devcluster.admin import AdminClient, wait_until
from devcluster.binaries import ensure_binaries
from devcluster.certs import write_certs
from devcluster.kubeconfig import write_kubeconfig
from devcluster.kubectl import run_kubectl
from devcluster.processes import Child, ChildFailed, spawn, stop_all

_FOUNDATION = ("etcd", "kube-apiserver")


class Cluster:
    """Starts the control plane as child processes of this interpreter and stops it again.

    Use it as a context manager, or call start() and stop(). stop() is idempotent and safe to
    call from atexit; see stop_at_exit() for what a long-lived caller should install.
    """

    def __init__(
        self,
        *,
        data_dir: pathlib.Path | None = None,
        kubeconfig: pathlib.Path | None = None,
        bin_dir: pathlib.Path | None = None,
        nodes: int = 1,
        timeout: float = 120.0,
        audit: bool = False,
    ) -> None:
        self._given_data_dir = data_dir
        self._given_kubeconfig = kubeconfig
        self._bin_dir = bin_dir
        self._nodes = nodes
        self._timeout = timeout
        self._audit = audit
        self._data_dir: pathlib.Path | None = None
        self._layout: components.Layout | None = None
        self._children: list[Child] = []
        self._keep_data_dir = False
        self.started_in: float | None = None
        """Seconds from start() until the nodes were Ready, once started."""
        self.timings: dict[str, float] = {}
        """Seconds since start() at which each phase was done, for finding what is slow."""

    # -- surface used by tests and the CLI --------------------------------------------------

    @property
    def kubeconfig(self) -> pathlib.Path:
        return self._started().kubeconfig

    @property
    def bin_dir(self) -> pathlib.Path:
        return self._started().bin_dir

    @property
    def data_dir(self) -> pathlib.Path:
        return self._started().data_dir

    @property
    def audit_log(self) -> pathlib.Path:
        """The API server's audit log: service accounts' writes (Cluster(audit=True) only)."""
        return self._started().audit_log

    @property
    def server(self) -> str:
        return f"https://{components.LOOPBACK}:{self._started().ports.apiserver}"

    @property
    def pids(self) -> dict[str, int]:
        return {child.name: child.pid for child in self._children}

    @property
    def node_names(self) -> list[str]:
        return [bootstrap.node_name(index) for index in range(self._nodes)]

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Runs the pinned kubectl as cluster admin; raises KubectlError if `check` and it fails."""
        layout = self._started()
        return run_kubectl(
            layout.bin_dir / "kubectl",
            layout.kubeconfig,
            args,
            input=input,
            check=check,
            timeout=timeout,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Cluster:
        began = time.monotonic()
        try:
            self._start(began)
        except BaseException as error:
            self._stop_children()
            if self._data_dir is not None:
                # Kept, also by a later stop(), for the post-mortem.
                self._keep_data_dir = True
                error.add_note(f"component logs: {self._data_dir}/*.log")
            raise
        self.started_in = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stops every component, newest first, and removes a data dir that start() created."""
        self._stop_children()
        if self._data_dir is not None and not (self._given_data_dir or self._keep_data_dir):
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals ---------------------------------------------------------------------------

    def _start(self, began: float) -> None:
        if self._children:
            raise RuntimeError("cluster already started")
        self._keep_data_dir = False

        def mark(phase: str) -> None:
            self.timings[phase] = round(time.monotonic() - began, 3)

        bin_dir = self._bin_dir or ensure_binaries()
        mark("binaries")
        data_dir = self._given_data_dir or pathlib.Path(tempfile.mkdtemp(prefix="berth-cluster-"))
        data_dir.mkdir(parents=True, exist_ok=True)
        self._data_dir = data_dir
        certs = write_certs(data_dir / "pki")
        kwok_config = data_dir / "kwok.yaml"
        stages = importlib.resources.files("devcluster") / "kwok-stages.yaml"
        kwok_config.write_text(stages.read_text())
        layout = components.Layout(
            bin_dir=bin_dir,
            data_dir=data_dir,
            certs=certs,
            kubeconfig=self._given_kubeconfig or data_dir / "kubeconfig",
            kwok_config=kwok_config,
            ports=components.Ports.pick(),
            audit=self._audit,
        )
        if layout.audit:
            layout.audit_policy.write_text(json.dumps(components.audit_policy()))
        self._layout = layout
        mark("certs")

        # The apiserver retries etcd by itself, so both start at once.
        self._spawn("etcd", components.etcd(layout))
        self._spawn("kube-apiserver", components.kube_apiserver(layout))
        client = AdminClient(components.LOOPBACK, layout.ports.apiserver, certs)
        wait_until("apiserver /readyz", lambda: _ready(client), self._timeout, check=self.check)
        mark("apiserver_ready")

        write_kubeconfig(layout.kubeconfig, self.server, certs)
        self._spawn("kube-controller-manager", components.kube_controller_manager(layout))
        self._spawn("kube-scheduler", components.kube_scheduler(layout))
        self._spawn("kwok", components.kwok(layout))
        nodes = bootstrap.create_nodes(client, self._nodes)
        bootstrap.wait_usable(client, nodes, self._timeout, check=self.check)
        mark("nodes_ready")

    def restart_apiserver(self) -> None:
        """Stops kube-apiserver and starts it again on the same port, as an upgrade would."""
        layout = self._started()
        old = [child for child in self._children if child.name == "kube-apiserver"]
        stop_all(old)
        self._children = [child for child in self._children if child not in old]
        self._spawn("kube-apiserver", components.kube_apiserver(layout))
        client = AdminClient(components.LOOPBACK, layout.ports.apiserver, layout.certs)
        wait_until("apiserver /readyz", lambda: _ready(client), self._timeout, check=self.check)

    def _spawn(self, name: str, argv: list[str]) -> None:
        self._children.append(spawn(name, argv, self._started().data_dir))

    def check(self) -> None:
        """Raises ChildFailed when a component has exited; a healthy cluster returns quietly."""
        for child in self._children:
            if not child.alive():
                raise ChildFailed(child)

    def _started(self) -> components.Layout:
        if self._layout is None:
            raise RuntimeError("the cluster has not been started")
        return self._layout

    def _stop_children(self) -> None:
        # Clients first, then the apiserver, then its storage: nobody loses its server mid-write.
        # A child leaves the list only once stopped, so a stop() cut short by a second signal is
        # finished by the next call (atexit).
        foundation = [child for child in self._children if child.name in _FOUNDATION]
        clients = [child for child in reversed(self._children) if child not in foundation]
        for group in (clients, *([child] for child in reversed(foundation))):
            stop_all(group)
            self._children = [child for child in self._children if child not in group]


def _ready(client: AdminClient) -> bool:
    status, _ = client.request("GET", "/readyz")
    return status == 200


def stop_at_exit(cluster: Cluster) -> None:
    """Makes sure `cluster` is stopped however this interpreter ends, short of SIGKILL.

    Registers cluster.stop with atexit, and makes SIGINT, SIGTERM and SIGHUP raise
    KeyboardInterrupt so that `with` blocks, `finally` clauses and pytest fixture teardown run.
    (SIGINT too, because a shell starts background jobs with SIGINT ignored.)
    Call it from the main thread. Children additionally get SIGKILL from the kernel when this
    process dies (Linux), which covers SIGKILL of the interpreter.
    """
    atexit.register(cluster.stop)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, _interrupt)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")
