"""Fixtures for the tests on a real node: pods run, traffic flows through DNS and the ingress.

These start their own control plane without kwok nodes, so every pod lands on the real node,
plus the data plane (devcluster.dataplane) and an operator. Outside CI they skip when the
machine cannot run a node (not root, no containerd...); in CI that is a failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import kubernetes
import pytest
from tests.e2e.live.traffic import Live
from tests.machine import skip_or_fail

from berth import settings
from devcluster import Cluster, external_kubeconfig, stop_at_exit
from devcluster.dataplane import DataPlane, missing_requirements
from devcluster.node_sweep import leftovers
from devcluster.operator_process import REAL_NODE_ENV, OperatorProcess
from devcluster.run import install_api

# Long enough for a real pod to start and pass its probe; short enough for a failing version.
PROGRESS_DEADLINE_SECONDS = 30


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    if external_kubeconfig() is not None:
        pytest.skip("BERTH_KUBECONFIG names a cluster; the real-node tests need the embedded one")
    missing = missing_requirements()
    if missing:
        skip_or_fail("this machine cannot run a real node: " + "; ".join(missing))
    work = tmp_path_factory.mktemp("live")
    cluster = Cluster(nodes=0, audit=True)
    stop_at_exit(cluster)
    plane: DataPlane | None = None
    operator: OperatorProcess | None = None
    with cluster:
        try:
            install_api(cluster)
            plane = DataPlane(cluster, work / "plane", settings.load()).start()
            operator = OperatorProcess(
                cluster.kubeconfig,
                work / "operator.log",
                env={
                    "BERTH_PROGRESS_DEADLINE_SECONDS": str(PROGRESS_DEADLINE_SECONDS),
                    **plane.operator_env(),
                    "BERTH_DOMAIN_VERIFICATION_PENDING_SECONDS": "2",
                    **REAL_NODE_ENV,
                },
            ).start()
            assert plane.endpoints is not None
            print(
                f"data plane up: {plane.timings}, node {plane.node.timings if plane.node else {}}"
            )
            api = kubernetes.config.new_client_from_config(str(cluster.kubeconfig))
            yield Live(cluster, plane, plane.endpoints, operator, api)
            api.close()
        finally:
            if operator is not None:
                operator.stop()
            if plane is not None:
                node = plane.node
                plane.stop()
                if node is not None:
                    left = leftovers(node.paths)
                    assert not left, f"the real node left things behind: {left}"
                    assert node.drained, "the kubelet did not stop the pods; the sweep had to"
    print(f"real-node logs: {work}")


@pytest.fixture
def live_namespace(live: Live) -> Iterator[str]:
    name = f"live-{uuid.uuid4().hex[:8]}"
    live.cluster.kubectl("create", "namespace", name)
    yield name
    live.cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)
