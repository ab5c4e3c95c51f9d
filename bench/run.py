"""`make bench [BENCH_N=100]`: Berth against the raw bound at N services, on a fresh control plane.

Prints a table and writes bench/results.json. Measures, per N: time until all services are
RUNNING, and until half of them are; the raw bound (every object the operator would create for
them, created directly on a cluster of their own) and the ratio; Berth's own sequence of writes
sent by the plain client with no operator (how much of the ratio the writes alone explain); API
writes per service, by kind and verb; writes in an idle window; operator peak RSS; convergence
after a restart (and its writes); and the latency from one `kubectl apply` to its Deployment
while the N services idle.

With `--peers knative` (`make bench BENCH_PEERS=knative`), also Berth and each peer side by side,
each on a fresh cluster with the API server's audit log counting writes (bench/peers.py); stored
under `"<N>": {"peers": {"berth": ..., "knative": ...}}` beside the keys above. `--only-peers`
measures just that, keeping the file's other keys.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import statistics
import time
from typing import Any

import kubernetes
import yaml

from bench import peers, raw, workload
from bench.stage import staged
from bench.text import columns
from bench.waiting import running, wait_for_all
from devcluster.operator_process import OperatorProcess

RESULTS = pathlib.Path(__file__).with_name("results.json")
GROUP, VERSION = "berth.dev", "v1alpha1"


def peak_rss_mb(operator: OperatorProcess) -> float:
    assert operator.process is not None
    status = pathlib.Path(f"/proc/{operator.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def total_writes(operator: OperatorProcess) -> float:
    return sum(operator.writes().values())


RECONCILES = re.compile(
    r'^berth_reconcile_total\{kind="ContainerService",result="[a-z]+"\} ([0-9.e+]+)$', re.M
)


def reconciles(operator: OperatorProcess) -> float:
    return sum(float(n) for n in RECONCILES.findall(operator.metrics()))


def wait_quiet(operator: OperatorProcess, quiet: float = 5.0, limit: float = 600.0) -> float:
    """Seconds until the operator's write counter stopped moving for `quiet` seconds."""
    started = time.monotonic()
    last = total_writes(operator)
    while time.monotonic() - started < limit:
        time.sleep(quiet)
        now = total_writes(operator)
        if now == last:
            return time.monotonic() - started - quiet
        last = now
    raise TimeoutError("the operator never went quiet")


def raw_bound(n: int) -> float:
    """The raw bound, on a cluster of its own with no operator, so that nothing else competes."""
    with staged("raw") as (_, api):
        return raw.bound(api, [workload.service(i, "raw") for i in range(n)])


def same_writes_bound(n: int) -> float:
    """Berth's writes sent by the plain client, on a cluster of its own with no operator."""
    with staged("same") as (_, api):
        return raw.same_writes(api, [workload.service(i, "same") for i in range(n)])


def measure(n: int, idle_seconds: float, samples: int, workdir: pathlib.Path) -> dict[str, Any]:
    raw_seconds = raw_bound(n)
    same_writes_seconds = same_writes_bound(n)
    with staged("bench") as (cluster, api):
        operator = OperatorProcess(cluster.kubeconfig, workdir / f"operator-{n}.log").start()
        try:
            bodies = [workload.service(i, "bench") for i in range(n)]
            before = total_writes(operator)
            started = time.monotonic()
            # Submitted as the raw bound sends its objects (kubectl would send one at a time).
            raw.create_all(api, bodies)
            ready_at = wait_for_all(
                api, f"{GROUP}/{VERSION}", "containerservices", "bench", n, running
            )
            berth_seconds = time.monotonic() - started
            running_p50 = statistics.median(t - started for t in ready_at)
            wait_quiet(operator)
            writes = {
                f"{kind} {verb}": round(count / n, 2)
                for (kind, verb), count in sorted(operator.writes().items())
            }
            writes_per_service = (total_writes(operator) - before) / n

            idle_before = total_writes(operator)
            time.sleep(idle_seconds)
            idle_writes = total_writes(operator) - idle_before
            rss_first = peak_rss_mb(operator)  # the burst and the idle window

            restart_started = time.monotonic()
            operator.restart()
            # Converged again once every service was reconciled after the restart.
            while reconciles(operator) < n:
                time.sleep(0.1)
            restart_seconds = time.monotonic() - restart_started
            wait_quiet(operator, quiet=3.0)
            restart_writes = total_writes(operator)  # a new process: its counters began at 0
            apps = kubernetes.client.AppsV1Api(api)
            latencies = []
            for i in range(samples):
                body = workload.service(10_000 + i, "bench", prefix="probe")
                t0 = time.monotonic()
                cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(body))
                name = body["metadata"]["name"]
                while not apps.list_namespaced_deployment(
                    "bench", field_selector=f"metadata.name={name}"
                ).items:
                    time.sleep(0.02)
                latencies.append(time.monotonic() - t0)
            rss_restart = peak_rss_mb(operator)  # the new process: start-up, resync, probes
        finally:
            operator.stop()
    latencies.sort()
    return {
        "n": n,
        "berth_seconds": round(berth_seconds, 2),
        "raw_seconds": round(raw_seconds, 2),
        "ratio": round(berth_seconds / raw_seconds, 2),
        # Half the services were RUNNING after this long: what one user in the burst waits.
        "running_p50_seconds": round(running_p50, 2),
        # How much of the ratio the writes alone explain, and what the operator adds to them.
        "same_writes_seconds": round(same_writes_seconds, 2),
        "same_writes_ratio": round(same_writes_seconds / raw_seconds, 2),
        "berth_over_same_writes": round(berth_seconds / same_writes_seconds, 2),
        "writes_per_service": round(writes_per_service, 2),
        "writes_per_service_by_kind": writes,
        "idle_seconds": idle_seconds,
        "idle_writes": idle_writes,
        "peak_rss_mb": round(max(rss_first, rss_restart), 1),
        "peak_rss_burst_mb": round(rss_first, 1),
        "peak_rss_restart_mb": round(rss_restart, 1),
        "restart_converge_seconds": round(restart_seconds, 2),
        "restart_writes": restart_writes,
        "apply_to_deployment_p50_s": round(statistics.median(latencies), 3),
        "apply_to_deployment_p99_s": round(
            latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 3
        ),
    }


def table(results: list[dict[str, Any]]) -> str:
    keys = [key for key, value in results[0].items() if not isinstance(value, dict)]
    return columns([[key, *(str(r[key]) for r in results)] for key in keys])


def merged(
    old: dict[str, Any],
    results: list[dict[str, Any]],
    side_by_side: dict[int, dict[str, dict[str, Any]]],
) -> dict[str, Any]:
    """The results file's contents: new figures replace old ones, the rest is kept."""
    merged = {key: dict(value) for key, value in old.items()}
    for result in results:
        kept = merged.get(str(result["n"]), {})
        merged[str(result["n"])] = {**result, **{k: kept[k] for k in ("peers",) if k in kept}}
    for n, sides in side_by_side.items():
        merged.setdefault(str(n), {"n": n}).setdefault("peers", {}).update(sides)
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--n", type=int, action="append", help="services (repeatable; default 100 and 1000)"
    )
    parser.add_argument("--idle", type=float, default=60.0, help="idle window in seconds")
    parser.add_argument("--samples", type=int, default=20, help="apply→Deployment samples")
    parser.add_argument(
        "--peers",
        default="",
        help="comma-separated peers to measure beside Berth: "
        + ", ".join(name for name in peers.SIDES if name != "berth"),
    )
    parser.add_argument("--only-peers", action="store_true", help="skip Berth's own bench")
    args = parser.parse_args()
    wanted = [name for name in args.peers.split(",") if name]
    unknown = set(wanted) - set(peers.SIDES) | ({"berth"} & set(wanted))
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    workdir = pathlib.Path(".berth")
    workdir.mkdir(exist_ok=True)
    ns = args.n or [100, 1000]
    results = [] if args.only_peers else [measure(n, args.idle, args.samples, workdir) for n in ns]
    side_by_side = {n: peers.measure(wanted, n, args.idle, workdir) for n in ns} if wanted else {}
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.write_text(json.dumps(merged(old, results, side_by_side), indent=2) + "\n")
    if results:
        print(table(results))
        for result in results:
            print(f"\nwrites per service at N={result['n']}:")
            for what, count in result["writes_per_service_by_kind"].items():
                print(f"  {what:<40} {count}")
    if side_by_side:
        print("\nside by side (writes counted by the API server's audit log):")
        print(peers.table(side_by_side))
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
