"""How long each `berth` command takes, start to exit, against a real API server.

Starts an embedded control plane with Berth's API installed (no operator: these commands read
and write objects, they do not wait for reconciles), makes one service and one deployment,
then runs every command --runs times as a user would (a new process each time) and prints the
median and 90th percentile of the wall time, and the median CPU time (user + system, which
the load of a shared machine changes far less), beside `kubectl get csvc` for scale.

    python -m bench.cli_start --runs 10
    python -m bench.cli_start --compare /tmp/old/operator   # and another checkout's, in turns
    python -m bench.cli_start --importtime                      # the slowest imports too
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.stage import staged
from devcluster.cluster import Cluster

NAMESPACE = "cli-bench"
SERVICE = "web"
COMMANDS = {
    "--help": ["--help"],
    "ls": ["ls"],
    "get-container-services": ["get-container-services", "--service-name", SERVICE],
    "get-container-service-deployments": [
        "get-container-service-deployments",
        "--service-name",
        SERVICE,
    ],
    "get-container-log": ["get-container-log", "--service-name", SERVICE, "--container-name", "c"],
    "get-container-service-powers": ["get-container-service-powers"],
    "list-access-keys": ["list-access-keys"],
    "create-access-key": ["create-access-key"],
}
CONTENT = {"containers": {"c": {"image": "nginx:1.27", "ports": {"80": "HTTP"}}}}
# The entry point `berth` (berth.cli.main:main), with the interpreter of this process.
ENTRY = "import sys; from berth.cli.main import main; sys.exit(main())"


def objects() -> str:
    service = {
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "ContainerService",
        "metadata": {"name": SERVICE},
        "spec": {"power": "nano", "scale": 1},
    }
    version = {
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "ContainerServiceDeployment",
        "metadata": {"name": f"{SERVICE}-v1"},
        "spec": {"serviceName": SERVICE, **CONTENT},
    }
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [service, version]})


@dataclass(frozen=True)
class Run:
    wall: float  # seconds from start to exit, what a user waits
    cpu: float  # user + system seconds of the process: what the load of the machine changes least


def timed(argv: Sequence[str], env: dict[str, str]) -> Run:
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr}")
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return Run(wall, cpu)


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"median": round(statistics.median(ordered), 3), "p90": round(p90, 3)}


def slowest_imports(argv: Sequence[str], env: dict[str, str], top: int) -> list[str]:
    """`python -X importtime`'s top entries by cumulative time (microseconds)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv[1:]], env=env, capture_output=True, text=True
    )
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            rows.append((int(match[2]), len(match[3]) // 2, match[4]))
    rows.sort(reverse=True)
    return [
        f"{cumulative / 1000:7.1f} ms  {'  ' * depth}{name}"
        for cumulative, depth, name in rows[:top]
    ]


def measure(
    cluster: Cluster,
    runs: int,
    variants: dict[str, str | None],
    importtime: bool,
    pycache: str | None,
) -> None:
    """Each command of each variant (a name and the PYTHONPATH of its checkout) `runs` times,
    the variants taking turns so that a change in the machine's load falls on all of them."""
    common = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
    if pycache:
        # Compiled modules kept, as an installed CLI has them, in a directory of this run's:
        # neither the checkout nor the virtualenv gets a __pycache__.
        common.pop("PYTHONDONTWRITEBYTECODE", None)
        common["PYTHONPYCACHEPREFIX"] = pycache
    envs = {}
    for variant, pythonpath in variants.items():
        envs[variant] = dict(common)
        if pythonpath:
            envs[variant]["PYTHONPATH"] = pythonpath
    base = [sys.executable, "-c", ENTRY]
    kubectl = [str(cluster.bin_dir / "kubectl"), "--kubeconfig", str(cluster.kubeconfig)]
    rows = {"kubectl get csvc": [*kubectl, "get", "csvc", "-n", NAMESPACE]}
    rows.update({name: [*base, "-n", NAMESPACE, *args] for name, args in COMMANDS.items()})
    results: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for name, argv in rows.items():
        # kubectl is the same whichever checkout: timed once, as the first variant's.
        turns = list(variants)[:1] if name.startswith("kubectl") else list(variants)
        measured: dict[str, list[Run]] = {v: [] for v in turns}
        for variant in turns:
            timed(argv, envs[variant])  # one untimed run: the file cache, as for any second run
        for _ in range(runs):
            for variant in turns:
                measured[variant].append(timed(argv, envs[variant]))
        results[name] = {}
        for variant, found in measured.items():
            wall = summary([r.wall for r in found])
            cpu = summary([r.cpu for r in found])
            results[name][variant] = {"wall": wall, "cpu": cpu}
            print(
                f"{name:34} {variant:8} wall median {wall['median']:.3f} s p90 {wall['p90']:.3f} s"
                f"   cpu median {cpu['median']:.3f} s",
                flush=True,
            )
    compiled = "kept" if pycache else "as the environment says"
    print(
        json.dumps({"runs": runs, "variants": variants, "bytecode": compiled, "seconds": results})
    )
    if importtime:
        for name in ("--help", "ls"):
            for variant in variants:
                print(f"\nslowest imports of `berth {name}` ({variant}, cumulative):")
                print("\n".join(slowest_imports(rows[name], envs[variant], 15)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--compare",
        metavar="PYTHONPATH",
        help="also time the CLI of another checkout (its operator/ directory), taking turns",
    )
    parser.add_argument("--importtime", action="store_true", help="also list the slowest imports")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="compile as the environment says (PYTHONDONTWRITEBYTECODE=1: every run compiles "
        "every module it imports), not with compiled modules kept as an installed CLI has them",
    )
    args = parser.parse_args()
    with staged(NAMESPACE) as (cluster, _):
        cluster.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=objects())
        variants: dict[str, str | None] = {"this": None}
        if args.compare:
            variants["compared"] = args.compare
        with tempfile.TemporaryDirectory(prefix="berth-cli-bench-pycache-") as pycache:
            chosen = None if args.no_bytecode_cache else pycache
            measure(cluster, args.runs, variants, args.importtime, chosen)


if __name__ == "__main__":
    main()
