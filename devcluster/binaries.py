"""Locates (and on first use builds) the pinned control-plane binaries."""

from __future__ import annotations

import pathlib
import subprocess

BINARIES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "kwok",
    "kubelet",
    "kube-proxy",
)


def devcluster_dir() -> pathlib.Path:
    """The repository's `devcluster/` folder: this package's own, beside its Go modules."""
    return pathlib.Path(__file__).resolve().parent


def ensure_binaries(devcluster: pathlib.Path | None = None) -> pathlib.Path:
    """Runs devcluster/build.sh (instant once built, 20-40 minutes the first time).

    Returns the folder holding the binaries named in BINARIES.
    """
    script = (devcluster or devcluster_dir()) / "build.sh"
    # Build output goes to stderr, straight to the terminal, so a long first build shows progress.
    result = subprocess.run(["bash", str(script)], check=True, stdout=subprocess.PIPE, text=True)
    bin_dir = pathlib.Path(result.stdout.strip().splitlines()[-1])
    missing = [name for name in BINARIES if not (bin_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{script} did not produce {', '.join(missing)} in {bin_dir}")
    return bin_dir
