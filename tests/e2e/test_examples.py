"""End to end: every manifest in examples/ applies and converges, as the README promises."""

from __future__ import annotations

import pathlib

import kubernetes
import pytest
import yaml
from tests.e2e.support import Berth, wait_for

from devcluster import KubeCluster
from devcluster.operator_process import OperatorProcess

pytestmark = pytest.mark.e2e
EXAMPLES = sorted((pathlib.Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_the_example_applies_and_runs(
    cluster: KubeCluster,
    operator: OperatorProcess,
    kube_api: kubernetes.client.ApiClient,
    namespace: str,
    example: pathlib.Path,
) -> None:
    berth = Berth(kube_api, namespace)
    documents = list(yaml.safe_load_all(example.read_text()))
    services = [d["metadata"]["name"] for d in documents if d["kind"] == "ContainerService"]
    versions = sum(1 for d in documents if d["kind"] == "ContainerServiceDeployment")

    cluster.kubectl("apply", "-n", namespace, "-f", str(example))

    # Each service's inline deployment is version 1; the example's CSDs come after it.
    for name in services:
        wait_for(
            lambda name=name: (
                (s := berth.status(name)).get("state") == "RUNNING"
                and (s.get("currentDeployment") or {}).get("version") == 1 + versions
            ),
            timeout=90,
            what=f"{name} RUNNING on version {1 + versions}",
        )
