"""Berth and a peer (Knative Serving) side by side: the same work, measured the same way.

Each side gets a fresh cluster with the audit log on and runs as ServiceAccounts, so that its
writes are counted by the API server for both alike. The same submitter sends N services (for
Knative: a Service and two DomainMappings each) THREADS at a time; a watch sees each done
(Berth: RUNNING; Knative: the Service and its DomainMappings Ready). Then, per side: time until
all were done and the median, writes per service by resource and verb (leases apart), CPU seconds
and peak RSS of every process (the side's and the control plane's), and the writes of a quiet
window.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import kubernetes

from bench import accounting, knative_objects, raw, workload
from bench.knative import Knative
from bench.service_accounts import service_account_kubeconfig, username
from bench.stage import staged
from bench.text import columns
from bench.waiting import running, wait_for_each
from devcluster.audit import AuditEntry, parse_entry
from devcluster.cluster import Cluster
from devcluster.operator_process import OperatorProcess

NAMESPACE = "bench"
# No write of the side's own (leases aside) for this long: the burst is over.
QUIET_SECONDS = 5.0
# A side that is not done by then has failed (the watches end and raise).
DONE_TIMEOUT = 3600
TICKS = os.sysconf("SC_CLK_TCK")


class Side(Protocol):
    """One contestant on its cluster: started, fed, watched, stopped."""

    users: list[str]  # whose writes are the side's own
    helper_users: list[str]  # stand-ins for what a real install would run (counted apart)

    @property
    def pids(self) -> dict[str, int]: ...

    def submit(self, api: kubernetes.client.ApiClient, n: int) -> None: ...

    def wait(self, api: kubernetes.client.ApiClient, n: int) -> dict[str, float]: ...

    def stop(self) -> None: ...


class BerthSide:
    ACCOUNT = "berth-operator"

    def __init__(self, cluster: Cluster, workdir: pathlib.Path, n: int) -> None:
        path = workdir / "berth-operator.kubeconfig"
        kubeconfig = service_account_kubeconfig(cluster, self.ACCOUNT, NAMESPACE, path)
        self.users = [username(self.ACCOUNT, NAMESPACE)]
        self.helper_users: list[str] = []
        self.operator = OperatorProcess(kubeconfig, workdir / f"peers-berth-{n}.log").start()

    @property
    def pids(self) -> dict[str, int]:
        assert self.operator.process is not None
        return {"berth": self.operator.process.pid}

    def submit(self, api: kubernetes.client.ApiClient, n: int) -> None:
        raw.create_all(api, [workload.service(i, NAMESPACE) for i in range(n)])

    def wait(self, api: kubernetes.client.ApiClient, n: int) -> dict[str, float]:
        version = workload.GROUP_VERSION
        plural = "containerservices"
        return wait_for_each(api, version, plural, NAMESPACE, n, running, DONE_TIMEOUT)

    def stop(self) -> None:
        self.operator.stop()


class KnativeSide:
    THROTTLED = True
    WEBHOOK = False

    def __init__(self, cluster: Cluster, workdir: pathlib.Path, n: int) -> None:
        self.knative = Knative(cluster, workdir, self.THROTTLED, self.WEBHOOK).start()
        self.users = self.knative.users
        self.helper_users = self.knative.helper_users
        self.owner = {
            domain: f"svc-{i:04d}" for i in range(n) for domain in knative_objects.domain_names(i)
        }

    @property
    def pids(self) -> dict[str, int]:
        return self.knative.pids

    def submit(self, api: kubernetes.client.ApiClient, n: int) -> None:
        custom = kubernetes.client.CustomObjectsApi(api)
        plurals = {"Service": "services", "DomainMapping": "domainmappings"}

        def create(body: dict[str, Any]) -> None:
            group, version = body["apiVersion"].split("/")
            plural = plurals[body["kind"]]
            custom.create_namespaced_custom_object(group, version, NAMESPACE, plural, body)

        bodies = [body for i in range(n) for body in knative_objects.bodies(i, NAMESPACE)]
        raw.in_parallel(create, bodies)

    def wait(self, api: kubernetes.client.ApiClient, n: int) -> dict[str, float]:
        serving = knative_objects.SERVING
        ready = knative_objects.is_ready
        with ThreadPoolExecutor(2) as pool:
            services = pool.submit(
                wait_for_each, api, f"{serving}/v1", "services", NAMESPACE, n, ready, DONE_TIMEOUT
            )
            mappings = pool.submit(
                wait_for_each,
                api,
                f"{serving}/v1beta1",
                "domainmappings",
                NAMESPACE,
                len(self.owner),
                ready,
                DONE_TIMEOUT,
            )
            return knative_objects.done_times(services.result(), mappings.result(), self.owner)

    def stop(self) -> None:
        self.knative.stop()


class UnthrottledKnativeSide(KnativeSide):
    """Knative with its controller's client-side rate limit lifted: how much of its time is
    that limit."""

    THROTTLED = False


class WebhookKnativeSide(KnativeSide):
    """Knative as it is installed: its webhook defaults and validates every write of its kinds."""

    WEBHOOK = True


SIDES: dict[str, type[BerthSide] | type[KnativeSide]] = {
    "berth": BerthSide,
    "knative": KnativeSide,
    "knative-unthrottled": UnthrottledKnativeSide,
    "knative-webhook": WebhookKnativeSide,
}


class AuditTail:
    """The audit log's entries, read as they are appended."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.offset = 0
        self.entries: list[AuditEntry] = []

    def read(self) -> list[AuditEntry]:
        """Every entry so far (new complete lines are parsed)."""
        if self.path.exists():
            with self.path.open("rb") as log:
                log.seek(self.offset)
                chunk = log.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self.offset += len(complete)
            for line in complete.decode().splitlines():
                if line.strip():
                    self.entries.append(parse_entry(json.loads(line)))
        return self.entries


def proc(pid: int, name: str) -> str:
    return pathlib.Path(f"/proc/{pid}/{name}").read_text()


def cpu(pids: dict[str, int]) -> dict[str, float]:
    return {name: accounting.cpu_seconds(proc(pid, "stat"), TICKS) for name, pid in pids.items()}


def minus(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {name: round(after[name] - before[name], 2) for name in after}


def per_service(counts: dict[str, int], n: int) -> dict[str, float]:
    return {label: round(count / n, 2) for label, count in counts.items()}


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def wait_quiet(
    tail: AuditTail, users: list[str], since: datetime.datetime, limit: float = 300.0
) -> tuple[datetime.datetime, bool]:
    """When the last write (not a lease) of `users` was, once there was none for QUIET_SECONDS;
    and whether that happened within `limit` seconds (a side that never settles is a finding)."""
    deadline = time.monotonic() + limit
    while True:
        time.sleep(1.0)
        _, work = accounting.split_leases(accounting.writes_of(tail.read(), users, since))
        last = max((entry.time for entry in work), default=since)
        if (now() - last).total_seconds() >= QUIET_SECONDS:
            return last, True
        if time.monotonic() > deadline:
            return last, False


def measure_side(name: str, n: int, idle_seconds: float, workdir: pathlib.Path) -> dict[str, Any]:
    with staged(NAMESPACE, audit=True) as (cluster, api):
        side: Side = SIDES[name](cluster, workdir, n)
        try:
            return run_side(side, cluster, api, n, idle_seconds)
        finally:
            side.stop()


def run_side(
    side: Side,
    cluster: Cluster,
    api: kubernetes.client.ApiClient,
    n: int,
    idle_seconds: float,
) -> dict[str, Any]:
    tail = AuditTail(cluster.audit_log)
    pids = {**side.pids, **cluster.pids}
    cpu_before = cpu(pids)
    began_at, began = now(), time.monotonic()
    side.submit(api, n)
    done = side.wait(api, n)
    seconds = max(done.values()) - began
    settled_at, quiet = wait_quiet(tail, side.users, began_at)
    cpu_settled = cpu(pids)
    idle_at = now()
    run = accounting.writes_of(tail.read(), side.users, began_at, idle_at)
    leases, work = accounting.split_leases(run)
    helpers = accounting.writes_of(tail.entries, side.helper_users, began_at, idle_at)

    time.sleep(idle_seconds)
    idle_leases, idle_work = accounting.split_leases(
        accounting.writes_of(tail.read(), side.users, idle_at)
    )
    cpu_idle = minus(cpu(pids), cpu_settled)
    rss = {
        name: round(accounting.peak_rss_mb(proc(pid, "status")), 1) for name, pid in pids.items()
    }
    return {
        "n": n,
        "seconds": round(seconds, 2),
        "done_p50_seconds": round(statistics.median(t - began for t in done.values()), 2),
        "last_write_seconds": round((settled_at - began_at).total_seconds(), 2),
        "went_quiet": quiet,
        "writes_per_service": round(len(work) / n, 2),
        "writes_per_service_by_kind": per_service(accounting.count_by_label(work), n),
        "refused_writes": accounting.refused(work),
        "lease_writes_during_run": len(leases),
        "helper_writes_per_service": per_service(accounting.count_by_label(helpers), n),
        "idle_seconds": idle_seconds,
        "idle_writes": len(idle_work),
        "idle_lease_writes": len(idle_leases),
        "cpu_seconds": minus(cpu_settled, cpu_before),
        "idle_cpu_seconds": cpu_idle,
        "peak_rss_mb": rss,
    }


def measure(
    names: list[str], n: int, idle_seconds: float, workdir: pathlib.Path
) -> dict[str, dict[str, Any]]:
    """Berth first, then each peer in `names`, each on its own fresh cluster."""
    return {name: measure_side(name, n, idle_seconds, workdir) for name in ["berth", *names]}


def table(by_n: dict[int, dict[str, dict[str, Any]]]) -> str:
    """One column per (N, side); nested figures flattened to `key process` rows."""
    heads = [f"N={n} {side}" for n, sides in by_n.items() for side in sides]
    flat = [flatten(result) for sides in by_n.values() for result in sides.values()]
    keys = list(dict.fromkeys(key for result in flat for key in result))
    rows = [["", *heads]] + [[key, *(str(r.get(key, "-")) for r in flat)] for key in keys]
    return columns(rows)


def flatten(result: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in result.items():
        if isinstance(value, dict):
            flat.update({f"{key} {inner}": v for inner, v in value.items()})
        else:
            flat[key] = value
    return flat
