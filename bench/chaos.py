"""`make chaos`: a rollout of 300 services while the operator is killed and the apiserver restarts.

Bounded in time and count, loopback only. Afterwards checks the invariants: every service
converges; version numbers per service are unique and without gaps; exactly one ACTIVE version
per service; no owned object without an owner; no version lost.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import random
import sys
import time
from collections import Counter
from typing import Any

import kubernetes
import yaml

from bench import workload
from bench.stage import staged
from devcluster.operator_process import OperatorProcess

GROUP, VERSION = "berth.dev", "v1alpha1"


def listed(custom: Any, plural: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = custom.list_namespaced_custom_object(
        GROUP, VERSION, "chaos", plural
    )["items"]
    return items


def converged(custom: Any, n: int, versions_each: int) -> bool:
    services = listed(custom, "containerservices")
    running = [
        s
        for s in services
        if (s.get("status") or {}).get("state") == "RUNNING"
        and ((s["status"].get("currentDeployment") or {}).get("version") == versions_each)
    ]
    return len(running) == n


def invariants(api: kubernetes.client.ApiClient, n: int, versions_each: int) -> list[str]:
    custom = kubernetes.client.CustomObjectsApi(api)
    apps = kubernetes.client.AppsV1Api(api)
    problems: list[str] = []
    by_service: dict[str, list[dict[str, Any]]] = {}
    for csd in listed(custom, "containerservicedeployments"):
        by_service.setdefault(csd["spec"]["serviceName"], []).append(csd)
    for service in listed(custom, "containerservices"):
        name = service["metadata"]["name"]
        versions = by_service.get(name, [])
        numbers = sorted((v.get("status") or {}).get("version") or 0 for v in versions)
        if numbers != list(range(1, versions_each + 1)):
            problems.append(f"{name}: version numbers {numbers}")
        states = Counter((v.get("status") or {}).get("state") for v in versions)
        if states["ACTIVE"] != 1:
            problems.append(f"{name}: {states['ACTIVE']} ACTIVE versions")
        if service["status"].get("state") != "RUNNING":
            problems.append(f"{name}: state {service['status'].get('state')}")
    if len(by_service) != n:
        problems.append(f"versions found for {len(by_service)} services, expected {n}")
    for deployment in apps.list_namespaced_deployment("chaos").items:
        if not deployment.metadata.owner_references:
            problems.append(f"Deployment {deployment.metadata.name} has no owner")
    networking = kubernetes.client.NetworkingV1Api(api)
    hosts = Counter(
        rule.host
        for ingress in networking.list_namespaced_ingress("chaos").items
        for rule in ingress.spec.rules or []
    )
    problems += [
        f"host {host} routed by {count} Ingresses" for host, count in hosts.items() if count > 1
    ]
    claims = kubernetes.client.CustomObjectsApi(api).list_cluster_custom_object(
        GROUP, VERSION, "domainclaims"
    )["items"]
    domains = Counter(claim["spec"]["domain"] for claim in claims)
    problems += [
        f"{domain} claimed {count} times" for domain, count in domains.items() if count > 1
    ]
    if len(domains) != 3 * n:  # a private name and two custom domains per service
        problems.append(f"{len(domains)} names claimed, expected {3 * n}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    workdir = pathlib.Path(".berth")
    workdir.mkdir(exist_ok=True)
    with staged("chaos") as (cluster, api):
        custom = kubernetes.client.CustomObjectsApi(api)
        operator = OperatorProcess(cluster.kubeconfig, workdir / "chaos-operator.log").start()
        try:
            first = [workload.service(i, "chaos") for i in range(args.n)]
            cluster.kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump_all(first))
            while not converged(custom, args.n, 1):
                time.sleep(1)
            print(f"{args.n} services RUNNING on version 1; rolling out version 2 under fire")
            second = []
            for body in first:
                body["spec"]["deployment"]["containers"]["web"]["environment"]["ROUND"] = "2"
                second.append(body)
            cluster.kubectl("apply", "--server-side", "-f", "-", input=yaml.safe_dump_all(second))
            apiserver_restart_at = rng.randrange(args.kills)
            for kill in range(args.kills):
                time.sleep(rng.uniform(0.5, 4.0))
                operator.kill()
                print(f"kill -9 operator ({kill + 1}/{args.kills})")
                if kill == apiserver_restart_at:
                    cluster.restart_apiserver()
                    print("kube-apiserver restarted")
                operator.start()
            started = time.monotonic()
            while not converged(custom, args.n, 2):
                if time.monotonic() - started > args.timeout:
                    break
                time.sleep(1)
            print(f"converged {time.monotonic() - started:.1f}s after the last kill")
            problems = invariants(api, args.n, 2)
        finally:
            operator.stop()
    print(json.dumps({"n": args.n, "kills": args.kills, "problems": problems[:50]}, indent=2))
    print("invariants hold" if not problems else f"{len(problems)} invariant violations")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
