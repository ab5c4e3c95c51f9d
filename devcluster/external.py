"""An already running cluster named by BERTH_KUBECONFIG, used instead of starting one."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
from typing import Protocol

from devcluster.binaries import ensure_binaries
from devcluster.kubectl import run_kubectl
from devcluster.settings import DevSettings


class KubeCluster(Protocol):
    """What tests need of a cluster, whether Berth started it or not."""

    @property
    def kubeconfig(self) -> pathlib.Path: ...

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]: ...


def external_kubeconfig() -> pathlib.Path | None:
    """The kubeconfig in BERTH_KUBECONFIG, or None when Berth should start its own cluster."""
    value = DevSettings().kubeconfig
    return value.expanduser() if value and str(value).strip() not in ("", ".") else None


class ExternalCluster:
    """The `kubeconfig`/`kubectl` surface of Cluster for a cluster somebody else runs."""

    def __init__(self, kubeconfig: pathlib.Path, kubectl: pathlib.Path | None = None) -> None:
        if not kubeconfig.is_file():
            raise FileNotFoundError(f"no kubeconfig file at {kubeconfig}")
        self.kubeconfig = kubeconfig
        found = kubectl or shutil.which("kubectl")
        # Without one on PATH the pinned kubectl serves; building it is a no-op once built.
        self._kubectl = pathlib.Path(found) if found else ensure_binaries() / "kubectl"

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        return run_kubectl(
            self._kubectl, self.kubeconfig, args, input=input, check=check, timeout=timeout
        )
