"""The Berth operator as a child process against a cluster: for `make run`, tests and benchmarks."""

from __future__ import annotations

import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import kubernetes

from berth.settings import Settings
from devcluster.components import free_tcp_ports

WRITES = re.compile(r'^berth_api_writes_total\{kind="([^"]+)",verb="([^"]+)"\} ([0-9.e+]+)$', re.M)
LEADER = re.compile(r"^berth_leader ([0-9.e+]+)$", re.M)
# On the real node pods run and answer on their addresses: Berth checks them itself.
REAL_NODE_ENV = {"BERTH_HEALTH_CHECKS": "operator"}


class OperatorProcess:
    """`python -m berth` with its own metrics port; start, kill -9, restart, stop.

    Started means ready (/readyz): its informers have listed, whether it leads or stands by.
    """

    def __init__(
        self, kubeconfig: pathlib.Path, log: pathlib.Path, env: dict[str, str] | None = None
    ) -> None:
        self.kubeconfig = kubeconfig
        self.log = log
        self.extra_env = env or {}
        self.metrics_port = free_tcp_ports(1)[0]
        self.process: subprocess.Popen[bytes] | None = None
        # One name in the Lease across restarts, as a pod's: after kill -9 and restart() the new
        # process takes its own lease back at once, as a container restarted in its pod does.
        self.identity = f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/readyz"

    def start(self, timeout: float = 60.0) -> OperatorProcess:
        self.ensure_lease_namespace()
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "BERTH_METRICS_HOST": "127.0.0.1",
            "BERTH_METRICS_PORT": str(self.metrics_port),
            "BERTH_HEALTH_PORT": str(free_tcp_ports(1)[0]),
            "BERTH_LEADER_ELECTION_IDENTITY": self.identity,
            # Most clusters here are kwok's, which plays the kubelet and sets every readiness gate
            # itself, and whose pods' addresses answer nothing: the operator's checks would fail
            # every pod. A real node's callers ask for `operator` (REAL_NODE_ENV).
            "BERTH_HEALTH_CHECKS": "kubelet",
            **self.extra_env,
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "berth"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"operator exited with {self.process.returncode}; see {self.log}"
                )
            if self.ready():
                return self
            time.sleep(0.2)
        raise TimeoutError(f"operator was not ready within {timeout}s; see {self.log}")

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.ready_url, timeout=5) as answer:
                return bool(answer.status == 200)
        except (OSError, urllib.error.HTTPError):
            return False

    def ensure_lease_namespace(self) -> None:
        """The namespace of the operator's Lease, made if missing, as the chart's release
        namespace would be. Answers aside from "made" are left to the operator to report (a
        ServiceAccount's kubeconfig may not even read namespaces)."""
        env = {**os.environ, **self.extra_env}
        namespace = (
            env.get("BERTH_LEADER_ELECTION_NAMESPACE")
            or env.get("BERTH_NAMESPACE")
            or str(Settings.model_fields["namespace"].default)
        )
        client = kubernetes.config.new_client_from_config(config_file=str(self.kubeconfig))
        try:
            kubernetes.client.CoreV1Api(client).create_namespace({"metadata": {"name": namespace}})
        except kubernetes.client.ApiException:
            pass
        finally:
            client.close()

    def leads(self) -> bool | None:
        """Whether it says it leads (berth_leader); None when it does not answer."""
        try:
            found = LEADER.search(self.metrics())
        except OSError:
            return None
        return bool(found and float(found.group(1)) == 1)

    def metrics(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=5) as answer:
            text: str = answer.read().decode()
            return text

    def writes(self) -> dict[tuple[str, str], float]:
        """API writes so far, by (kind, verb)."""
        return {(kind, verb): float(n) for kind, verb, n in WRITES.findall(self.metrics())}

    def kill(self) -> None:
        """kill -9, as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> OperatorProcess:
        self.kill()
        self.metrics_port = free_tcp_ports(1)[0]
        return self.start()
