"""Running kubectl against a given kubeconfig, with its stderr kept in the error."""

from __future__ import annotations

import pathlib
import subprocess


class KubectlError(subprocess.CalledProcessError):
    """kubectl exited non-zero; the message carries its stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}\n{self.stderr}"


def run_kubectl(
    kubectl: pathlib.Path | str,
    kubeconfig: pathlib.Path,
    args: tuple[str, ...],
    *,
    input: str | None = None,
    check: bool = True,
    timeout: float = 120.0,
) -> subprocess.CompletedProcess[str]:
    argv = [str(kubectl), f"--kubeconfig={kubeconfig}", *args]
    result = subprocess.run(
        argv, input=input, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise KubectlError(result.returncode, argv, result.stdout, result.stderr)
    return result
