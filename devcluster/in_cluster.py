"""Berth as a platform team installs it, on the real node: the operator image in the node's
containerd, `helm install` of charts/berth, and the operator's pods Ready.

The chart is installed as it is, with values a user would pass; the only dev-cluster choices are
the image (built here, imported instead of pulled) and short lease timings nobody needs to change.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import subprocess
import tempfile
import time
from typing import Any

from devcluster.binaries import devcluster_dir
from devcluster.external import KubeCluster
from devcluster.node import RealNode

CHART = devcluster_dir().parent / "charts" / "berth"
RELEASE = "berth"
# What the Pod Security admission enforces on the operator's namespace: the strictest level.
POD_SECURITY = "restricted"
OPERATOR_SELECTOR = "app.kubernetes.io/name=berth,app.kubernetes.io/component=operator"


def ensure_helm() -> pathlib.Path:
    """The pinned helm CLI, built by devcluster/helm/build.sh (instant once built)."""
    script = devcluster_dir() / "helm" / "build.sh"
    result = subprocess.run(["bash", str(script)], check=True, stdout=subprocess.PIPE, text=True)
    helm = pathlib.Path(result.stdout.strip().splitlines()[-1]) / "helm"
    if not helm.is_file():
        raise FileNotFoundError(f"{script} did not produce {helm}")
    return helm


def split_reference(reference: str) -> tuple[str, str]:
    """`registry/repo:tag` → (`registry/repo`, `tag`); a port in the registry is not a tag."""
    repository, _, tag = reference.rpartition(":")
    if not repository or "/" in tag:
        raise ValueError(f"{reference!r} has no tag")
    return repository, tag


# `make run` on one machine: each service asks for a tenth of its power (a nano: 25m of CPU and
# 51Mi), so that the two CPUs of the node run a few dozen services instead of eight; each is
# still limited to its whole power.
DEV_OVERCOMMIT_RATIO = 0.1


def chart_values(image: str, replicas: int = 2, **extra: Any) -> dict[str, Any]:
    """The values `make run` and the live tests install the chart with."""
    repository, tag = split_reference(image)
    return {
        # Imported into the node, never pulled: there is no registry to pull it from.
        "image": {"repository": repository, "tag": tag, "pullPolicy": "Never"},
        "replicaCount": replicas,
        "overcommitRatio": DEV_OVERCOMMIT_RATIO,
        **extra,
    }


@dataclasses.dataclass
class HelmRelease:
    """`helm upgrade --install` of the chart into `namespace`, and what it started."""

    cluster: KubeCluster
    helm: pathlib.Path
    namespace: str = "berth-system"
    release: str = RELEASE

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        argv = [str(self.helm), "--kubeconfig", str(self.cluster.kubeconfig), *args]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"helm {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def prepare_namespace(self) -> None:
        """The namespace, created by the platform team with Pod Security's strictest level."""
        kubectl = self.cluster.kubectl
        if kubectl("get", "namespace", self.namespace, check=False).returncode != 0:
            kubectl("create", "namespace", self.namespace)
        kubectl(
            "label",
            "namespace",
            self.namespace,
            "--overwrite",
            f"pod-security.kubernetes.io/enforce={POD_SECURITY}",
            f"pod-security.kubernetes.io/warn={POD_SECURITY}",
        )

    def install(self, values: dict[str, Any], timeout: float = 240) -> float:
        """Installs or upgrades; returns when every operator pod is Ready (seconds it took)."""
        began = time.monotonic()
        self.prepare_namespace()
        with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
            json.dump(values, file)
            file.flush()
            self.run(
                "upgrade",
                "--install",
                self.release,
                str(CHART),
                "--namespace",
                self.namespace,
                "--values",
                file.name,
                "--wait",
                f"--timeout={int(timeout)}s",
                timeout=timeout + 30,
            )
        return time.monotonic() - began

    def uninstall(self) -> None:
        self.run("uninstall", self.release, "--namespace", self.namespace, "--wait")

    def pods(self) -> list[dict[str, Any]]:
        answer = self.cluster.kubectl(
            "get", "pods", "-n", self.namespace, "-l", OPERATOR_SELECTOR, "-o", "json"
        )
        items: list[dict[str, Any]] = json.loads(answer.stdout)["items"]
        return items


def import_image(node: RealNode, archive: pathlib.Path) -> None:
    """The image archive into the node's containerd, as `ctr images import` does for kind."""
    node.ctr("images", "import", str(archive))
