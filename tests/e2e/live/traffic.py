"""Requests to the public endpoint as a browser would send them, and a sampler of them."""

from __future__ import annotations

import dataclasses
import http.client
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from typing import Any

import kubernetes
from tests.e2e.support import Berth, apply, wait_for

from devcluster import Cluster
from devcluster.dataplane import DataPlane, Endpoints
from devcluster.operator_process import OperatorProcess


@dataclasses.dataclass
class Live:
    cluster: Cluster
    plane: DataPlane
    endpoints: Endpoints
    operator: OperatorProcess
    api: kubernetes.client.ApiClient

    def berth(self, namespace: str) -> Berth:
        return Berth(self.api, namespace)

    def apply(self, namespace: str, *manifests: dict[str, Any]) -> None:
        apply(self.cluster, namespace, *manifests)

    def prove_domains(self, namespace: str, service: str) -> None:
        """Publish, in the data plane's test zone, the records `service` shows for its custom
        domains, as their owner would at a DNS provider."""
        wanted = len(self.berth(namespace).service(service)["spec"].get("publicDomainNames", {}))
        records = wait_for(
            lambda: (
                (shown := self.berth(namespace).status(service).get("domainValidationRecords"))
                and len(shown) >= wanted
                and shown
            ),
            30,
            f"{service}'s validation records",
        )
        assert self.plane.dns is not None and self.plane.dns.test_zone is not None
        for record in records:
            found = record["resourceRecord"]
            self.plane.dns.test_zone.set(found["name"], found["value"])

    def wait_running(self, namespace: str, name: str) -> None:
        self.berth(namespace).wait_state(name, "RUNNING", timeout=120)

    def cli(self, namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
        """`berth -n NAMESPACE ARGS...` against this cluster, as a user runs it."""
        return subprocess.run(
            [sys.executable, "-m", "berth.cli.main", "-n", namespace, *args],
            capture_output=True,
            text=True,
            env={**os.environ, "KUBECONFIG": str(self.cluster.kubeconfig)},
            timeout=300,
            check=False,
        )

    def run_pod(
        self, namespace: str, name: str, image: str, command: list[str], timeout: float = 90
    ) -> tuple[str, str]:
        """A pod that runs `command` once: (its final phase, its log)."""
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": name, "image": image, "command": command}],
            },
        }
        self.apply(namespace, pod)

        def finished() -> str | None:
            phase = self.cluster.kubectl(
                "get", "pod", name, "-n", namespace, "-o", "jsonpath={.status.phase}"
            ).stdout
            return phase if phase in ("Succeeded", "Failed") else None

        phase = wait_for(finished, timeout, f"the pod {name} to finish")
        log = self.cluster.kubectl("logs", name, "-n", namespace, check=False).stdout
        return phase, log

    def ingress_failures(self) -> list[str]:
        """The ingress controller's access-log lines for requests that did not end in a 200: a
        request the sampler gave up on shows here with the pod it was sent to."""
        log = self.plane.work_dir / "ingress" / "traefik-access.log"
        lines = log.read_text().splitlines() if log.exists() else []
        return [line for line in lines if '" 200 ' not in line]

    def default_host(self, namespace: str, name: str) -> str:
        url = self.berth(namespace).status(name).get("url") or ""
        host = urllib.parse.urlsplit(url).hostname
        assert host, f"{name} has no public URL yet: {url!r}"
        return host


@dataclasses.dataclass(frozen=True)
class Response:
    status: int
    body: str
    headers: dict[str, str]
    certificate: dict[str, Any] | None = None

    @property
    def names_in_certificate(self) -> list[str]:
        if not self.certificate:
            return []
        return [
            value for kind, value in self.certificate.get("subjectAltName", ()) if kind == "DNS"
        ]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to `host` (SNI, Host header, certificate check) at 127.0.0.1, like curl --resolve."""

    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        context: ssl.SSLContext = self._context  # type: ignore[attr-defined]
        self.sock = context.wrap_socket(raw, server_hostname=self.host)


def https_get(
    endpoints: Endpoints, host: str, path: str = "/", timeout: float = 5.0, verify: bool = True
) -> Response:
    """Raises ssl.SSLCertVerificationError unless the certificate is for `host`, from the local CA
    (`verify=False`: any certificate, to see what the ingress answers for a host it has none for)."""
    context = ssl.create_default_context(cafile=endpoints.ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    connection = _PinnedHTTPSConnection(
        host, endpoints.https_port, timeout=timeout, context=context
    )
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        certificate = connection.sock.getpeercert() if connection.sock else None
        return Response(
            answer.status,
            answer.read().decode(errors="replace"),
            {k.lower(): v for k, v in answer.getheaders()},
            certificate,
        )
    finally:
        connection.close()


def http_get(endpoints: Endpoints, host: str, path: str = "/", timeout: float = 5.0) -> Response:
    connection = http.client.HTTPConnection("127.0.0.1", endpoints.http_port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": host})
        answer = connection.getresponse()
        return Response(
            answer.status,
            answer.read().decode(errors="replace"),
            {k.lower(): v for k, v in answer.getheaders()},
        )
    finally:
        connection.close()


def first_success(endpoints: Endpoints, host: str, timeout: float = 90.0) -> Response:
    """Polls until HTTPS to `host` answers 200; the certificate may still be on its way."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            answer = https_get(endpoints, host)
            if answer.status == 200:
                return answer
            last = answer
        except (OSError, ssl.SSLError, http.client.HTTPException) as error:
            last = error
        time.sleep(0.25)
    raise AssertionError(f"no 200 from https://{host}/ within {timeout}s; last: {last!r}")


class TrafficSampler:
    """Sends HTTPS requests back to back in the background and keeps every outcome."""

    def __init__(self, endpoints: Endpoints, host: str, interval: float = 0.02) -> None:
        self.endpoints, self.host, self.interval = endpoints, host, interval
        self.bodies: list[str] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="traffic")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                answer = https_get(self.endpoints, self.host)
            except (OSError, ssl.SSLError, http.client.HTTPException) as error:
                self.failures.append(f"{time.strftime('%X')} {error!r}")
            else:
                if answer.status == 200:
                    self.bodies.append(answer.body)
                else:
                    self.failures.append(f"{time.strftime('%X')} {answer.status} {answer.body!r}")
            time.sleep(self.interval)

    @property
    def count(self) -> int:
        return len(self.bodies) + len(self.failures)

    def __enter__(self) -> TrafficSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)
