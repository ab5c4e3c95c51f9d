"""On the real node, Berth as a platform team installs it: the operator image built here (no
Docker), `helm install` of the chart into a namespace that enforces Pod Security `restricted`,
two operator pods that elect a leader, a leader killed and an upgrade rolled under traffic.

The session's out-of-cluster operator steps aside for this module (it would be a third candidate
for the same Lease) and comes back after it.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tests.e2e.live.manifests import hello_service
from tests.e2e.live.traffic import Live, TrafficSampler, first_success
from tests.e2e.support import wait_for

from devcluster.audit import AuditEntry, read_audit_log, write_runs
from devcluster.in_cluster import HelmRelease, chart_values, ensure_helm, import_image
from devcluster.operator_image import build_operator_image

pytestmark = pytest.mark.e2e

NAMESPACE = "berth-system"
LEASE = "berth-operator"
SERVICE_ACCOUNT = f"system:serviceaccount:{NAMESPACE}:berth"
# Short, so a take-over fits a test; the ratios are client-go's (15/10/2).
LEASE_TIMING = {"leaseDurationSeconds": 6, "renewDeadlineSeconds": 4, "retryPeriodSeconds": 1}


@dataclasses.dataclass
class InCluster:
    release: HelmRelease
    image: str
    values: dict[str, Any]
    began: float
    transitions_before: int


def lease(live: Live) -> dict[str, Any]:
    """The Lease's spec; {} before anyone made it."""
    answer = live.cluster.kubectl("get", "lease", LEASE, "-n", NAMESPACE, "-o", "json", check=False)
    found: dict[str, Any] = json.loads(answer.stdout)["spec"] if answer.returncode == 0 else {}
    return found


def ready_pods(release: HelmRelease) -> list[str]:
    names = []
    for pod in release.pods():
        conditions = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
        if conditions.get("Ready") == "True" and not pod["metadata"].get("deletionTimestamp"):
            names.append(pod["metadata"]["name"])
    return sorted(names)


@pytest.fixture(scope="module")
def in_cluster(live: Live, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InCluster]:
    assert live.plane.node is not None
    built = build_operator_image(out_dir=tmp_path_factory.mktemp("image"))
    import_image(live.plane.node, built.archive_path)
    image = str(built.image.reference)
    values = chart_values(
        image,
        # The session's operator applied the default powers already, outside any release.
        defaultPowers=False,
        progressDeadlineSeconds=30,
        leaderElection={"enabled": True, **LEASE_TIMING},
    )
    release = HelmRelease(live.cluster, ensure_helm(), namespace=NAMESPACE)
    live.operator.stop()
    try:
        transitions = int(lease(live).get("leaseTransitions") or 0)
        began = time.monotonic()
        took = release.install(values)
        print(f"helm install: operator pods Ready {took:.1f}s after it began")
        yield InCluster(release, image, values, began, transitions)
        release.uninstall()
    finally:
        live.operator.start()


WHO_AM_I = """
import kubernetes
kubernetes.config.load_incluster_config()
review = kubernetes.client.AuthenticationV1Api().create_self_subject_review(
    {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
)
print("I am", review.status.user_info.username)
"""


def test_a_pod_reaches_the_api_server_through_the_kubernetes_service(
    live: Live, live_namespace: str, in_cluster: InCluster
) -> None:
    """As any in-cluster client does: the `kubernetes` Service's address from the environment,
    TLS checked against the mounted CA, the mounted token. The operator's own image has one."""
    python = ["/opt/berth/bin/python", "-c", WHO_AM_I]
    phase, log = live.run_pod(live_namespace, "whoami", in_cluster.image, python)
    assert phase == "Succeeded", log
    assert f"I am system:serviceaccount:{live_namespace}:default" in log, log


def test_helm_install_runs_two_operator_pods_under_pod_security_restricted(
    live: Live, in_cluster: InCluster
) -> None:
    labels = json.loads(live.cluster.kubectl("get", "namespace", NAMESPACE, "-o", "json").stdout)[
        "metadata"
    ]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = in_cluster.release.pods()
    assert len(ready_pods(in_cluster.release)) == 2, [p["status"] for p in pods]
    assert {c["image"] for p in pods for c in p["spec"]["containers"]} == {in_cluster.image}
    # One of them leads, through the Lease; the other stands by, ready too.
    holder = wait_for(lambda: lease(live).get("holderIdentity"), 30, "a leader")
    assert holder in ready_pods(in_cluster.release)


def test_a_service_reaches_running_and_answers_with_the_operator_in_pods(
    live: Live, live_namespace: str, in_cluster: InCluster
) -> None:
    live.apply(live_namespace, hello_service("inside"))
    live.wait_running(live_namespace, "inside")
    answer = first_success(live.endpoints, live.default_host(live_namespace, "inside"))
    assert "hello from berth v1" in answer.body


def test_the_standby_takes_over_when_the_leader_is_killed(
    live: Live, live_namespace: str, in_cluster: InCluster
) -> None:
    node = live.plane.node
    assert node is not None
    leader = wait_for(lambda: lease(live).get("holderIdentity"), 30, "a leader")
    pod = next(p for p in in_cluster.release.pods() if p["metadata"]["name"] == leader)
    container = pod["status"]["containerStatuses"][0]["containerID"].removeprefix("containerd://")

    killed = time.monotonic()
    # A crash that does not come back: the process gets no chance to release its Lease, and its
    # pod is gone (a container restarted in its own pod would take its own Lease back at once,
    # as its identity is the pod's name).
    node.ctr("tasks", "kill", "--signal", "SIGKILL", container)
    live.cluster.kubectl(
        "delete", "pod", leader, "-n", NAMESPACE, "--grace-period=0", "--force", "--wait=false"
    )
    successor = wait_for(
        lambda: (holder := lease(live).get("holderIdentity")) != leader and holder,
        60,
        "a new leader",
    )
    took_over = time.monotonic() - killed
    print(f"take-over after kill -9 of the leader: {took_over:.1f}s")
    assert successor in {p["metadata"]["name"] for p in in_cluster.release.pods()}

    name = f"after-{uuid.uuid4().hex[:4]}"
    live.apply(live_namespace, hello_service(name))
    live.wait_running(live_namespace, name)
    print(f"a service created after the kill RUNNING {time.monotonic() - killed:.1f}s after it")
    # The killed container comes back in its pod, as a standby.
    wait_for(lambda: len(ready_pods(in_cluster.release)) == 2, 120, "both pods Ready again")


def test_helm_upgrade_to_a_rebuilt_image_drops_no_request(
    live: Live, live_namespace: str, in_cluster: InCluster
) -> None:
    node = live.plane.node
    assert node is not None
    live.apply(live_namespace, hello_service("steady", scale=2))
    live.wait_running(live_namespace, "steady")
    host = live.default_host(live_namespace, "steady")
    first_success(live.endpoints, host)
    # The same content under a new tag: to the Deployment, a new image to roll out.
    rebuilt = in_cluster.image + "-rebuilt"
    node.ctr("images", "tag", "--force", in_cluster.image, rebuilt)
    tag = rebuilt.rpartition(":")[2]
    values = {**in_cluster.values, "image": {**in_cluster.values["image"], "tag": tag}}
    old_pods = set(ready_pods(in_cluster.release))

    with TrafficSampler(live.endpoints, host) as traffic:
        took = in_cluster.release.install(values)
        wait_for(
            lambda: (
                (ready := set(ready_pods(in_cluster.release)))
                and not ready & old_pods
                and len(ready) == 2
            ),
            180,
            "two new operator pods",
        )
        holder = wait_for(
            lambda: (h := lease(live).get("holderIdentity")) not in old_pods and h, 60, "leader"
        )
        # The new leader is at work: a change made now is carried out.
        live.apply(live_namespace, hello_service("steady", scale=1))
        wait_for(
            lambda: live.berth(live_namespace).status("steady").get("scale") == 1,
            90,
            "the new leader to scale steady",
        )
    print(f"helm upgrade rolled the operator in {took:.1f}s; {traffic.count} requests sent")
    assert holder in ready_pods(in_cluster.release)
    assert traffic.failures == [], (traffic.failures[:5], live.ingress_failures()[-5:])
    assert traffic.count > 50


def test_no_two_operator_pods_ever_wrote_at_the_same_time(
    live: Live, in_cluster: InCluster
) -> None:
    """The API server's audit log names the pod behind every write made with the operator's
    token. Written in time order, the writes fall into runs of one pod each; a pod whose write
    came between two of another's would add runs. There can be no more runs than leaders."""
    entries = [e for e in read_audit_log(live.cluster.audit_log) if _operator_write(e)]
    assert entries, "the audit log shows no write of the operator pods"
    runs = write_runs(entries)
    transitions = int(lease(live).get("leaseTransitions") or 0) - in_cluster.transitions_before
    print(f"{len(entries)} writes by the operator pods in {len(runs)} runs: {runs}")
    assert len(runs) <= transitions + 1, (runs, transitions)
    assert len({pod for pod, _ in runs}) >= 2, "leadership changed hands at least once"


def _operator_write(entry: AuditEntry) -> bool:
    # The Lease is every candidate's to write; only the holder may write anything else.
    return entry.user == SERVICE_ACCOUNT and entry.resource != "leases"
