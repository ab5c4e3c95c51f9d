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
from typing import Any

import kubernetes

from bench import raw, workload
from bench.stage import staged
from bench.text import columns
from berth.kube import resources
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
    writes = raw.ServiceWrites(api, NAMESPACE)
    create, apply = raw.sender(api), raw.applier(api)
    bodies = [workload.service(i, NAMESPACE) for i in range(n)]
    owned = [raw.owned_objects(body) for body in bodies]
    created: dict[int, Body] = {}
    service, version = resources.SERVICE, resources.VERSION

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

    def name(index: int) -> str:
        return str(bodies[index]["metadata"]["name"])

    def create_service(index: int) -> None:
        created[index] = writes.create_service(bodies[index])

    def service_status(index: int) -> None:
        writes.status(service, name(index), running_status(index))

    def service_state(index: int) -> None:
        writes.status(service, name(index), {"state": "UPDATING"})

    def version_status(index: int) -> None:
        writes.status(version, names.version(name(index), 1), {"version": 1, "state": "ACTIVATING"})

    def event(index: int) -> None:
        writes.event(created[index], "StateRunning", "DEPLOYING → RUNNING")

    indexes = list(range(n))
    return [
        ("ContainerService create", indexes, create_service),
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
    raw.in_parallel(send, items)
    sent = time.monotonic() - started
    time.sleep(SETTLE_SECONDS)
    spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    return {
        "writes": len(items),
        "wall_ms_per_write": round(1000 * sent / len(items), 2),
        **{f"{name}_cpu_ms": round(1000 * s / len(items), 2) for name, s in spent.items()},
    }


def table(rows: Iterable[tuple[str, Body]]) -> str:
    shown = ["kube-apiserver_cpu_ms", "etcd_cpu_ms", "kube-controller-manager_cpu_ms"]
    header = ["write", "apiserver ms", "etcd ms", "controller-manager ms"]
    return columns([header] + [[label, *(str(r[c]) for c in shown)] for label, r in rows])


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
