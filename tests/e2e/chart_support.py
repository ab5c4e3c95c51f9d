"""Helm for the chart tests: the pinned CLI, rendering, and finding objects in what it rendered."""

from __future__ import annotations

import pathlib
import subprocess
from typing import Any

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "berth"
Manifest = dict[str, Any]


@pytest.fixture(scope="session")
def helm() -> pathlib.Path:
    """The pinned helm CLI, built once into the cache (make binaries does it beforehand)."""
    out = subprocess.run(
        [str(REPO / "devcluster" / "helm" / "build.sh")],
        check=True,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return pathlib.Path(out.stdout.strip()) / "helm"


def run_helm(
    helm: pathlib.Path, *args: str, check: bool = True, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(helm), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def render(helm: pathlib.Path, *args: str, namespace: str = "berth-system") -> list[Manifest]:
    text = run_helm(helm, "template", "berth", str(CHART), "-n", namespace, *args).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


def find(docs: list[Manifest], kind: str, component: str | None = None) -> list[Manifest]:
    return [
        d
        for d in docs
        if d["kind"] == kind
        and (
            component is None
            or d["metadata"]["labels"].get("app.kubernetes.io/component") == component
        )
    ]


def one(docs: list[Manifest], kind: str, component: str | None = None) -> Manifest:
    found = find(docs, kind, component)
    assert len(found) == 1, f"{len(found)} {kind} ({component}) rendered"
    return found[0]


def operator_container(docs: list[Manifest]) -> Manifest:
    pod = one(docs, "Deployment", "operator")["spec"]["template"]["spec"]
    container: Manifest = pod["containers"][0]
    return container


def env_of(docs: list[Manifest]) -> dict[str, str]:
    """The operator's environment variables with a value (not those from the downward API)."""
    return {e["name"]: e["value"] for e in operator_container(docs)["env"] if "value" in e}
