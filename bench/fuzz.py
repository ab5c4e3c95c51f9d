"""`make fuzz`: hypothesis-made ContainerServices against the real API server and operator.

Each generated manifest is either rejected at admission, or accepted and then converges
(RUNNING, or a condition that says why not). The pydantic models serve as the oracle: whatever
they accept, the API server must accept, and the reverse. Afterwards the operator must still be
alive and still reconcile a fresh service. Bounded by --examples.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from typing import Any

import kubernetes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bench.stage import staged
from berth.api.service import ServiceSpec
from devcluster.operator_process import OperatorProcess

GROUP, VERSION, NAMESPACE = "berth.dev", "v1alpha1", "fuzz"
PROTOCOLS = st.sampled_from(["HTTP", "HTTPS", "TCP", "UDP", "SCTP", "http"])
NAMES = st.one_of(
    st.from_regex(r"\A[a-z][a-z0-9-]{0,8}[a-z0-9]\Z"), st.sampled_from(["Web", "-x", "a" * 64, ""])
)
PORTS = st.one_of(st.integers(1, 65535).map(str), st.sampled_from(["0", "70000", "http"]))


def containers() -> st.SearchStrategy[dict[str, Any]]:
    container = st.fixed_dictionaries(
        {"image": st.sampled_from(["nginx:1", "x/crashloop:1", "redis:7", ""])},
        optional={
            "ports": st.dictionaries(PORTS, PROTOCOLS, max_size=3),
            "command": st.lists(st.text(max_size=5), max_size=3),
            "environment": st.dictionaries(
                st.from_regex(r"\A[A-Z_]{1,6}\Z"), st.text(max_size=5), max_size=2
            ),
        },
    )
    return st.dictionaries(NAMES, container, min_size=0, max_size=11)


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "power": draw(st.sampled_from(["nano", "micro", "huge"])),
        "scale": draw(st.integers(-1, 22)),
    }
    if draw(st.booleans()):
        deployment: dict[str, Any] = {"containers": draw(containers())}
        names = list(deployment["containers"]) or ["web"]
        if draw(st.booleans()):
            deployment["publicEndpoint"] = {
                "containerName": draw(st.sampled_from([*names, "missing"])),
                "containerPort": draw(st.integers(0, 70000)),
                "healthCheck": draw(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "timeoutSeconds": st.integers(0, 70),
                            "intervalSeconds": st.integers(0, 310),
                            "healthyThreshold": st.integers(0, 12),
                            "successCodes": st.sampled_from(
                                ["200", "200-299", "199", "300-200", "abc"]
                            ),
                        },
                    )
                ),
            }
        spec["deployment"] = deployment
    if draw(st.booleans()):
        domain = st.sampled_from(
            ["a.example.com", "b.example.com", "A.example.com", "*.x.io", "bad_"]
        )
        spec["publicDomainNames"] = draw(
            st.dictionaries(NAMES, st.lists(domain, max_size=5), max_size=3)
        )
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "ContainerService", "spec": spec}


def model_accepts(spec: dict[str, Any]) -> bool:
    try:
        ServiceSpec.model_validate(spec)
    except ValidationError:
        return False
    return True


def settled(status: dict[str, Any]) -> bool:
    """Converged, or told why not in a condition."""
    conditions = {c["type"]: c for c in status.get("conditions") or []}
    stalled = conditions.get("Stalled", {}).get("status") == "True"
    return status.get("state") in ("RUNNING", "READY") or stalled


def run(examples: int, workdir: pathlib.Path) -> list[str]:
    findings: list[str] = []
    with staged(NAMESPACE) as (cluster, api):
        custom = kubernetes.client.CustomObjectsApi(api)
        operator = OperatorProcess(cluster.kubeconfig, workdir / "fuzz-operator.log").start()
        accepted: list[str] = []
        counter = iter(range(1_000_000))

        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        @given(manifests())
        def admit(manifest: dict[str, Any]) -> None:
            name = f"f{next(counter):05d}"
            manifest["metadata"] = {"name": name}
            try:
                custom.create_namespaced_custom_object(
                    GROUP, VERSION, NAMESPACE, "containerservices", manifest
                )
                server = True
            except kubernetes.client.ApiException as error:
                if error.status != 422:
                    raise
                server = False
            if server:
                accepted.append(name)
            if server != model_accepts(manifest["spec"]):
                findings.append(
                    f"{name}: API server {'accepted' if server else 'rejected'}, models disagree: {manifest['spec']}"
                )

        try:
            admit()
            deadline = time.monotonic() + 180
            pending = set(accepted)
            while pending and time.monotonic() < deadline:
                for name in list(pending):
                    body = custom.get_namespaced_custom_object(
                        GROUP, VERSION, NAMESPACE, "containerservices", name
                    )
                    if settled(body.get("status") or {}):
                        pending.discard(name)
                time.sleep(1)
            findings += [f"{name}: never settled" for name in sorted(pending)]
            if operator.process is None or operator.process.poll() is not None:
                findings.append("the operator died")
            canary = {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "ContainerService",
                "metadata": {"name": "canary"},
                "spec": {
                    "power": "nano",
                    "scale": 1,
                    "deployment": {"containers": {"web": {"image": "nginx:1"}}},
                },
            }
            custom.create_namespaced_custom_object(
                GROUP, VERSION, NAMESPACE, "containerservices", canary
            )
            end = time.monotonic() + 60
            while time.monotonic() < end:
                body = custom.get_namespaced_custom_object(
                    GROUP, VERSION, NAMESPACE, "containerservices", "canary"
                )
                if (body.get("status") or {}).get("state") == "RUNNING":
                    break
                time.sleep(0.5)
            else:
                findings.append("a fresh service did not reach RUNNING after the fuzzing")
            print(f"{len(accepted)} of the generated manifests were admitted; all others rejected")
        finally:
            operator.stop()
    return findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=200)
    args = parser.parse_args()
    workdir = pathlib.Path(".berth")
    workdir.mkdir(exist_ok=True)
    findings = run(args.examples, workdir)
    for finding in findings:
        print("FINDING:", finding)
    print("fuzzing found nothing" if not findings else f"{len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
