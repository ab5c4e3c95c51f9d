"""What Berth's own health checks cost the operator at N checked pods: CPU, requests, writes.

On an embedded control plane, N pods are bound to a node nobody plays, their status written as
a kubelet would with the address 127.0.0.1, where a local HTTP server answers every check with
200 (devcluster.checked_pods). The operator's CPU is read from /proc over a window, once while
it checks nothing (its idle cost) and once while every pod is checked and healthy.

    python -m bench.health_checks --pods 200 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import tempfile
import threading
import time
from typing import Any

import kubernetes

from berth.api.content import HealthCheck
from berth.render import names
from devcluster import Cluster, stop_at_exit
from devcluster.checked_pods import Answers, pod_manifest, running_status, unplayed_node
from devcluster.operator_process import REAL_NODE_ENV, OperatorProcess
from devcluster.run import install_api

TICKS = os.sysconf("SC_CLK_TCK")
NAMESPACE = "health-bench"
PATH = "/healthz"


def cpu_seconds(pid: int) -> float:
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def window(operator: OperatorProcess, answers: Answers, seconds: float) -> dict[str, float]:
    assert operator.process is not None
    pid = operator.process.pid
    cpu, requests = cpu_seconds(pid), len(answers.times(PATH))
    writes = operator.writes().get(("Pod", "patch-status"), 0.0)
    time.sleep(seconds)
    return {
        "cpu_percent": round(100 * (cpu_seconds(pid) - cpu) / seconds, 1),
        "checks_per_second": round((len(answers.times(PATH)) - requests) / seconds, 1),
        "gate_writes": operator.writes().get(("Pod", "patch-status"), 0.0) - writes,
    }


def healthy(core: kubernetes.client.CoreV1Api) -> int:
    count = 0
    for pod in core.list_namespaced_pod(NAMESPACE).items:
        gates = [c for c in pod.status.conditions or [] if c.type == names.HEALTH_GATE]
        count += bool(gates and gates[0].status == "True")
    return count


def run(pods: int, seconds: float, work: pathlib.Path) -> dict[str, Any]:
    answers = Answers()
    answers.codes[PATH] = 200
    threading.Thread(target=answers.serve_forever, daemon=True).start()
    cluster = Cluster()
    stop_at_exit(cluster)
    with cluster:
        install_api(cluster)
        cluster.kubectl("create", "namespace", NAMESPACE)
        cluster.kubectl("create", "-f", "-", input=json.dumps(unplayed_node("unplayed")))
        operator = OperatorProcess(
            cluster.kubeconfig,
            work / "operator.log",
            env={**REAL_NODE_ENV, "BERTH_WATCH_NAMESPACES": json.dumps([NAMESPACE])},
        ).start()
        try:
            idle = window(operator, answers, seconds)
            api = kubernetes.config.new_client_from_config(str(cluster.kubeconfig))
            core = kubernetes.client.CoreV1Api(api)
            began = time.monotonic()
            for index in range(pods):
                name = f"p-{index:05d}"
                manifest = pod_manifest(name, "unplayed", answers.port, HealthCheck(path=PATH))
                core.create_namespaced_pod(NAMESPACE, manifest)
                core.patch_namespaced_pod_status(name, NAMESPACE, running_status())
            created = time.monotonic() - began
            while healthy(core) < pods:
                time.sleep(3)
            all_healthy = time.monotonic() - began
            busy = window(operator, answers, seconds)
        finally:
            operator.stop()
    answers.shutdown()
    return {
        "pods": pods,
        "window_seconds": seconds,
        "pods_created_seconds": round(created, 1),
        "all_healthy_seconds": round(all_healthy, 1),
        "idle": idle,
        "checking": busy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="health-bench-"))
    print(json.dumps(run(args.pods, args.seconds, work), indent=2))
    print(f"operator log: {work / 'operator.log'}")


if __name__ == "__main__":
    main()
