"""Pods that Berth's health checks can reach on a cluster without a kubelet: bound to a node
nobody plays, their status written as a kubelet would with the address 127.0.0.1, where a small
HTTP server answers what it is told. For the e2e tests and the checker's benchmark."""

from __future__ import annotations

import http.server
import threading
import time
from typing import Any

from berth.api.content import HealthCheck, HealthTarget, Protocol
from berth.render import labels, names


class Answers(http.server.ThreadingHTTPServer):
    """Answers each path with the code the test set for it (404 for the others), and notes when
    each request came."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.codes: dict[str, int] = {}
        self.seen: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def times(self, path: str) -> list[float]:
        with self.lock:
            return list(self.seen.get(path, []))


class Handler(http.server.BaseHTTPRequestHandler):
    server: Answers

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.seen.setdefault(self.path, []).append(time.monotonic())
            code = self.server.codes.get(self.path, 404)
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


def pod_manifest(name: str, node: str, port: int, check: HealthCheck) -> dict[str, Any]:
    target = HealthTarget(port=port, scheme=Protocol.HTTP, health_check=check)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {**labels.standard("checked"), names.VERSION_LABEL: "1"},
            "annotations": {names.HEALTH_TARGET_ANNOTATION: target.model_dump_json(by_alias=True)},
        },
        "spec": {
            "nodeName": node,
            # The node never reports: keep the pod there whatever taints it gets.
            "tolerations": [{"operator": "Exists"}],
            "readinessGates": [{"conditionType": names.HEALTH_GATE}],
            "containers": [{"name": "app", "image": "app:1", "ports": [{"containerPort": port}]}],
        },
    }


def running_status() -> dict[str, Any]:
    """What a kubelet reports of a pod whose one container runs and listens, on 127.0.0.1."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "status": {
            "phase": "Running",
            "podIP": "127.0.0.1",
            "hostIP": "127.0.0.1",
            "startTime": now,
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
            ],
            "containerStatuses": [
                {
                    "name": "app",
                    "image": "app:1",
                    "imageID": "",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now}},
                }
            ],
        }
    }


def unplayed_node(name: str) -> dict[str, Any]:
    """A Node without kwok's annotation: nothing plays its kubelet, nothing rewrites its pods."""
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}
