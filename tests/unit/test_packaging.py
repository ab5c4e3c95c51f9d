"""The operator's wheel: the `berth` package alone, without the dev cluster or its dependencies."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
# Everything a wheel could be built from; devcluster/ too, so that a packaging rule that
# picked it up would show in the wheel.
SOURCES = ("pyproject.toml", "README.md", "operator", "devcluster")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    # A copy, so that setuptools' build/ and egg-info stay out of the checkout and no stale
    # build/lib of an earlier build can slip into this one.
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheel")
    # The dev extra's setuptools builds it, so no build environment is fetched from the network.
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "-w", str(out), str(source)], check=True, timeout=300)
    [built] = out.glob("berth-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def metadata(wheel: zipfile.ZipFile) -> list[str]:
    [name] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return wheel.read(name).decode().splitlines()


def test_operator_wheel_ships_no_dev_cluster_code(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    assert "berth/__main__.py" in names and "berth/py.typed" in names
    assert [n for n in names if "devcluster" in n] == []


def test_operator_wheel_requires_cryptography_and_test_tools_only_as_extras(
    wheel: zipfile.ZipFile,
) -> None:
    requires = [line for line in metadata(wheel) if line.startswith("Requires-Dist:")]
    # The operator signs registry tokens (berth.registry_auth), so cryptography is a runtime need.
    assert any(
        line.startswith("Requires-Dist: cryptography") and "extra ==" not in line
        for line in requires
    )
    tools = [line for line in requires if line.split()[1].startswith(("pytest", "ruff", "mypy"))]
    assert tools and all('extra == "dev"' in line for line in tools)
