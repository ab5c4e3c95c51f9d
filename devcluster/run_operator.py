"""How `make run` runs the operator: as pods installed with helm on the real node, or as a
process beside the cluster, and why it chose which."""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Protocol

from devcluster.dataplane import DataPlane
from devcluster.external import KubeCluster
from devcluster.in_cluster import (
    DEV_OVERCOMMIT_RATIO,
    HelmRelease,
    chart_values,
    ensure_helm,
    import_image,
)
from devcluster.operator_image import build_operator_image
from devcluster.operator_process import REAL_NODE_ENV, OperatorProcess


@dataclasses.dataclass(frozen=True)
class Choice:
    in_pods: bool
    why: str


def choose(plane: DataPlane | None, external: bool, wanted: str) -> Choice:
    """Pods where a real node can run them, unless a process was asked for (BERTH_RUN_OPERATOR)."""
    if wanted == "process":
        return Choice(False, "BERTH_RUN_OPERATOR=process: python -m berth, beside the cluster")
    if external:
        return Choice(
            False,
            "BERTH_KUBECONFIG names your cluster: the operator runs here, beside it "
            "(docs/install.md installs it in the cluster with helm)",
        )
    if plane is None or plane.node is None:
        if wanted == "pods":
            raise RuntimeError("BERTH_RUN_OPERATOR=pods needs the real node, which is not here")
        return Choice(False, "no real node: kwok's pods do not run, so a process runs it")
    return Choice(True, "the real node runs pods: the image is built here and helm installs it")


class RunningOperator(Protocol):
    def describe(self) -> str: ...
    def check(self) -> None: ...
    def stop(self) -> None: ...


def process_env(plane: DataPlane | None) -> dict[str, str]:
    """The data plane's settings (its registry, its DNS), and with the real node Berth's own
    health checks and the overcommit the chart gets too."""
    if plane is None:
        return {}
    if plane.node is None:
        return plane.operator_env()
    return {
        **plane.operator_env(),
        **REAL_NODE_ENV,
        "BERTH_OVERCOMMIT_RATIO": str(DEV_OVERCOMMIT_RATIO),
    }


class OperatorAsProcess:
    def __init__(
        self, cluster: KubeCluster, log: pathlib.Path, plane: DataPlane | None = None
    ) -> None:
        self.process = OperatorProcess(cluster.kubeconfig, log, env=process_env(plane)).start()

    def describe(self) -> str:
        return f"operator log: {self.process.log}   metrics: {self.process.metrics_url}"

    def check(self) -> None:
        if self.process.process is not None and self.process.process.poll() is not None:
            raise RuntimeError(f"the operator exited; see {self.process.log}")

    def stop(self) -> None:
        self.process.stop()


class OperatorInPods:
    """The chart, as a platform team installs it, with the image built from this checkout."""

    def __init__(self, cluster: KubeCluster, plane: DataPlane, out_dir: pathlib.Path) -> None:
        assert plane.node is not None
        built = build_operator_image(out_dir=out_dir, log=lambda line: print(line, flush=True))
        import_image(plane.node, built.archive_path)
        self.image = str(built.image.reference)
        self.release = HelmRelease(cluster, ensure_helm())
        values = chart_values(self.image)
        if plane.registry is not None:
            values.update(plane.registry.chart_values())
        took = self.release.install(values)
        print(f"helm install: {self.image}, operator pods Ready in {took:.1f}s", flush=True)

    def describe(self) -> str:
        namespace = self.release.namespace
        return (
            f"operator: kubectl -n {namespace} get pods,lease   "
            f"logs: kubectl -n {namespace} logs deploy/{self.release.release}"
        )

    def check(self) -> None:
        return None  # the Deployment restarts its pods; `kubectl get pods` shows them

    def stop(self) -> None:
        return None  # its pods stop with the node


def start_operator(
    cluster: KubeCluster, plane: DataPlane | None, choice: Choice, state_dir: pathlib.Path
) -> RunningOperator:
    print(f"operator: {'pods' if choice.in_pods else 'a process'} ({choice.why})", flush=True)
    if choice.in_pods:
        assert plane is not None
        return OperatorInPods(cluster, plane, state_dir / "images")
    return OperatorAsProcess(cluster, state_dir / "operator.log", plane)
