"""Two operators against one cluster, as the chart's two replicas run: one leads, the other keeps
its store warm and writes nothing, and takes over when the leader dies or stops."""

from __future__ import annotations

import pathlib
import time
from collections.abc import Iterator

import kubernetes
import pytest
from tests.e2e.support import Berth, apply, service_manifest, wait_for, web_content

from devcluster import KubeCluster
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e
# Short, so that a take-over takes seconds; renew > 1.2 x retry and lease > renew, as checked.
LEASE_SECONDS, RENEW_SECONDS, RETRY_SECONDS = 4, 3, 0.5


class Pair:
    """Operators `a` and `b` in one namespace, with their own Lease there (and their own zone):
    the session's shared operator, if any, neither contends with them nor reconciles here."""

    def __init__(self, cluster: KubeCluster, namespace: str, work: pathlib.Path) -> None:
        self.namespace = namespace
        self.lease = "berth-e2e"
        self.api = kubernetes.config.new_client_from_config(config_file=str(cluster.kubeconfig))
        self.operators = {
            name: OperatorProcess(
                cluster.kubeconfig,
                work / f"operator-{name}.log",
                env={
                    "BERTH_NAMESPACE": namespace,
                    "BERTH_WATCH_NAMESPACES": f'["{namespace}"]',
                    "BERTH_LEADER_ELECTION_LEASE_NAME": self.lease,
                    "BERTH_LEADER_ELECTION_IDENTITY": name,
                    "BERTH_LEADER_ELECTION_LEASE_SECONDS": str(LEASE_SECONDS),
                    "BERTH_LEADER_ELECTION_RENEW_DEADLINE_SECONDS": str(RENEW_SECONDS),
                    "BERTH_LEADER_ELECTION_RETRY_PERIOD_SECONDS": str(RETRY_SECONDS),
                },
            )
            for name in ("a", "b")
        }

    def holder(self) -> str | None:
        """The Lease's holderIdentity ("" when released), or None without a Lease."""
        try:
            lease = kubernetes.client.CoordinationV1Api(self.api).read_namespaced_lease(
                self.lease, self.namespace
            )
        except kubernetes.client.ApiException as error:
            if error.status == 404:
                return None
            raise
        return str(lease.spec.holder_identity or "")

    def transitions(self) -> int:
        lease = kubernetes.client.CoordinationV1Api(self.api).read_namespaced_lease(
            self.lease, self.namespace
        )
        return int(lease.spec.lease_transitions or 0)

    def leader(self) -> str | None:
        """The one operator that says it leads and holds the Lease; None while that is not so."""
        leading = [name for name, op in self.operators.items() if op.leads()]
        holder = self.holder()
        return holder if leading == [holder] else None

    def other(self, name: str) -> str:
        return "b" if name == "a" else "a"


@pytest.fixture
def pair(berth_api: KubeCluster, namespace: str, tmp_path: pathlib.Path) -> Iterator[Pair]:
    started = Pair(berth_api, namespace, tmp_path)
    for operator in started.operators.values():
        operator.start()
    yield started
    for name, operator in started.operators.items():
        operator.stop()
        print(f"operator {name} log: {operator.log}")
    started.api.close()


def run_service(cluster: KubeCluster, berth: Berth, name: str) -> None:
    apply(cluster, berth.namespace, service_manifest(name, scale=1, deployment=web_content()))
    berth.wait_state(name, "RUNNING", timeout=120)


def written(operator: OperatorProcess) -> float:
    return sum(operator.writes().values())


def take_over(pair: Pair, gone: str, since: float) -> tuple[str, float]:
    """Wait for the other operator to lead; who, and how long it took from `since`."""
    other = pair.other(gone)
    wait_for(lambda: pair.leader() == other, timeout=60, what=f"{other} to lead")
    return other, time.monotonic() - since


def test_one_of_two_operators_leads_and_the_standby_writes_nothing(
    berth_api: KubeCluster, kube_api: kubernetes.client.ApiClient, pair: Pair
) -> None:
    berth = Berth(kube_api, pair.namespace)
    leader = wait_for(pair.leader, timeout=30, what="exactly one leader")
    standby = pair.operators[pair.other(leader)]

    run_service(berth_api, berth, "lead")

    assert pair.operators[leader].leads() and standby.leads() is False
    assert written(pair.operators[leader]) > 0
    assert written(standby) == 0, standby.writes()
    assert standby.ready(), "a standby's informers are synced too: it is ready to take over"
    # Counted once over the replicas: only the leader reports its services.
    assert "berth_services{" in pair.operators[leader].metrics()
    assert "berth_services{" not in standby.metrics()


def test_a_killed_leader_is_replaced_and_its_services_still_converge(
    berth_api: KubeCluster, kube_api: kubernetes.client.ApiClient, pair: Pair
) -> None:
    berth = Berth(kube_api, pair.namespace)
    leader = wait_for(pair.leader, timeout=30, what="exactly one leader")
    run_service(berth_api, berth, "before")
    transitions = pair.transitions()

    since = time.monotonic()
    pair.operators[leader].kill()
    new, took = take_over(pair, leader, since)
    print(f"take-over after kill -9: {took:.1f}s (lease {LEASE_SECONDS}s, retry {RETRY_SECONDS}s)")

    assert pair.transitions() == transitions + 1
    run_service(berth_api, berth, "after")
    assert written(pair.operators[new]) > 0


def test_a_stopped_leader_releases_the_lease_for_the_standby(
    berth_api: KubeCluster, kube_api: kubernetes.client.ApiClient, pair: Pair
) -> None:
    berth = Berth(kube_api, pair.namespace)
    leader = wait_for(pair.leader, timeout=30, what="exactly one leader")
    old = pair.operators[leader]

    assert old.process is not None
    since = time.monotonic()
    old.process.terminate()  # SIGTERM, not waiting for the process to end
    new, took = take_over(pair, leader, since)
    print(f"take-over after SIGTERM: {took:.1f}s (lease {LEASE_SECONDS}s, retry {RETRY_SECONDS}s)")

    assert old.process.wait(30) == 0
    assert "released the lease" in old.log.read_text()
    run_service(berth_api, berth, "after-stop")
    assert written(pair.operators[new]) > 0


def test_a_leader_that_cannot_renew_stops_and_exits_to_come_back_as_a_standby(
    berth_api: KubeCluster, namespace: str, tmp_path: pathlib.Path
) -> None:
    pair = Pair(berth_api, namespace, tmp_path)
    alone = pair.operators["a"].start()
    try:
        wait_for(lambda: pair.leader() == "a", timeout=30, what="a to lead")
        # Someone else writes itself in: a's renewals find a holder that is not a, so they fail.
        berth_api.kubectl(
            "patch", "lease", pair.lease, "-n", namespace, "--type=merge",
            "-p", '{"spec": {"holderIdentity": "intruder", "leaseDurationSeconds": 3600}}',
        )  # fmt: skip

        assert alone.process is not None
        assert alone.process.wait(60) == 1
        assert "lost the lease" in alone.log.read_text()
        assert pair.holder() == "intruder"
    finally:
        alone.stop()
        pair.api.close()
