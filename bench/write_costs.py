"""`python -m bench.write_costs [--n 1000]`: what each kind of write Berth makes costs the API server.

On a fresh control plane with no operator, sends N writes of one kind at a time, THREADS in
flight, built from the benchmark's services, and reads the CPU time each control-plane process
spent meanwhile from /proc. Costs include what the control plane does in reaction: ReplicaSets
and pods for a Deployment, EndpointSlices for a Service. The kinds a raw client needs too are
measured both ways on halves of the services: created (the raw bound) and server-side applied
(what SPEC asks of Berth).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kubernetes

from bench import raw, workload
from bench.stage import staged
from berth.kube import resources
from berth.kube.client import FIELD_MANAGER
from berth.render import names

NAMESPACE = "costs"
TICKS = os.sysconf("SC_CLK_TCK")
# The control plane's reactions (ReplicaSets, pods, EndpointSlices) land within this.
SETTLE_SECONDS = 3.0
Body = dict[str, Any]


def cpu_seconds(pid: int) -> float:
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def summary(index: int, state: str) -> Body:
    return {
        "version": 1,
        "state": state,
        "name": names.version(f"svc-{index:04d}", 1),
        "containers": workload.content(index)["containers"],
        "publicEndpoint": {"containerName": "web", "containerPort": 80},
        "createdAt": "2026-01-01T00:00:00Z",
    }


def running_status(index: int) -> Body:
    """A status the size of Berth's for a RUNNING service: one version and its conditions."""
    conditions = [
        {
            "type": kind,
            "status": "True",
            "reason": "AsExpected",
            "message": "as expected",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
            "observedGeneration": 1,
        }
        for kind in (
            "Ready",
            "DeploymentAvailable",
            "CertificateReady",
            "DomainsAdmitted",
            "PrivateDomainAdmitted",
            "PowerResolved",
            "Reconciling",
        )
    ]
    return {
        "state": "RUNNING",
        "currentDeployment": summary(index, "ACTIVE"),
        "conditions": conditions,
        "versions": {"lastVersion": 1, "lastName": names.version(f"svc-{index:04d}", 1)},
        "url": f"https://svc-{index:04d}.example/",
        "privateDomainName": f"svc-{index:04d}.service.local",
        "power": "nano",
        "scale": 1,
    }


Step = tuple[str, list[Any], Callable[[Any], None]]


def steps(api: kubernetes.client.ApiClient, n: int) -> list[Step]:
    custom = kubernetes.client.CustomObjectsApi(api)
    core = kubernetes.client.CoreV1Api(api)
    group, version = resources.SERVICE.api_version.split("/")
    services, versions = resources.SERVICE.plural, resources.VERSION.plural
    create, apply = raw.sender(api), raw.applier(api)
    bodies = [workload.service(i, NAMESPACE) for i in range(n)]
    owned = [raw.owned_objects(body) for body in bodies]
    uids: dict[str, str] = {}

    def of_kind(kind: str) -> list[Body]:
        return [o for objects in owned for o in objects if o["kind"] == kind]

    def halves(kind: str) -> list[Step]:
        """The first half created, the second applied: apart, so that neither selects the
        other's pods."""
        objects = of_kind(kind)
        middle = len(objects) // 2
        return [
            (f"{kind} create", objects[:middle], create),
            (f"{kind} apply", objects[middle:], apply),
        ]

    def create_service(body: Body) -> None:
        live = custom.create_namespaced_custom_object(group, version, NAMESPACE, services, body)
        uids[body["metadata"]["name"]] = live["metadata"]["uid"]

    def finalizer(index: int) -> None:
        patch = {"metadata": {"finalizers": [names.SERVICE_FINALIZER]}}
        name = f"svc-{index:04d}"
        custom.patch_namespaced_custom_object(group, version, NAMESPACE, services, name, patch)

    def service_status(index: int) -> None:
        name, patch = f"svc-{index:04d}", {"status": running_status(index)}
        custom.patch_namespaced_custom_object_status(
            group, version, NAMESPACE, services, name, patch
        )

    def service_state(index: int) -> None:
        name, patch = f"svc-{index:04d}", {"status": {"state": "UPDATING"}}
        custom.patch_namespaced_custom_object_status(
            group, version, NAMESPACE, services, name, patch
        )

    def version_status(index: int) -> None:
        name = names.version(f"svc-{index:04d}", 1)
        patch = {"status": {"version": 1, "state": "ACTIVATING"}}
        custom.patch_namespaced_custom_object_status(
            group, version, NAMESPACE, versions, name, patch
        )

    def event(index: int) -> None:
        name = f"svc-{index:04d}"
        core.create_namespaced_event(
            NAMESPACE,
            {
                "metadata": {"generateName": f"{name}.", "namespace": NAMESPACE},
                "involvedObject": {
                    "apiVersion": workload.GROUP_VERSION,
                    "kind": "ContainerService",
                    "name": name,
                    "namespace": NAMESPACE,
                    "uid": uids[name],
                },
                "type": "Normal",
                "reason": "StateRunning",
                "message": "DEPLOYING → RUNNING",
                "source": {"component": FIELD_MANAGER},
            },
        )

    indexes = list(range(n))
    return [
        ("ContainerService create", bodies, create_service),
        ("ContainerService finalizer patch", indexes, finalizer),
        ("ContainerService status patch (first, whole)", indexes, service_status),
        ("ContainerService status patch (one field)", indexes, service_state),
        ("ContainerServiceDeployment create", of_kind("ContainerServiceDeployment"), create),
        ("ContainerServiceDeployment status patch", indexes, version_status),
        ("DomainClaim create", of_kind("DomainClaim"), create),
        ("Event create", indexes, event),
        *halves("Deployment"),
        *halves("Service"),
        *halves("Ingress"),
    ]


def measure(pids: dict[str, int], items: list[Any], send: Callable[[Any], None]) -> Body:
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    started = time.monotonic()
    with ThreadPoolExecutor(raw.THREADS) as pool:
        list(pool.map(send, items))
    sent = time.monotonic() - started
    time.sleep(SETTLE_SECONDS)
    spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    return {
        "writes": len(items),
        "wall_ms_per_write": round(1000 * sent / len(items), 2),
        **{f"{name}_cpu_ms": round(1000 * s / len(items), 2) for name, s in spent.items()},
    }


def table(rows: Iterable[tuple[str, Body]]) -> str:
    rows = list(rows)
    columns = ["kube-apiserver_cpu_ms", "etcd_cpu_ms", "kube-controller-manager_cpu_ms"]
    header = ["write", "apiserver ms", "etcd ms", "controller-manager ms"]
    lines = [header] + [[label, *(str(r[c]) for c in columns)] for label, r in rows]
    width = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, width, strict=True)) for line in lines
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="writes of each kind")
    args = parser.parse_args()
    with staged(NAMESPACE) as (cluster, api):
        results = []
        for label, items, send in steps(api, args.n):
            results.append((label, measure(cluster.pids, items, send)))
            print(table(results[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(results))


if __name__ == "__main__":
    main()
