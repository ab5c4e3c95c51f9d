"""The operator's runtime dependencies as image files: the wheels requirements.lock pins for the
pyproject's `dependencies` (the lock is a constraint, so its dev tools stay out), for the image's
CPython 3.11 on glibc 2.36, installed by uv into a staging folder and read back.

uv keeps the wheels in a cache folder; a warm build installs from it alone (--offline).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable

from devcluster.oci import Entry, Regular, Symlink

# The image's interpreter and C library (bookworm: CPython 3.11, glibc 2.36), whatever the host.
PYTHON_VERSION = "3.11"
PLATFORMS = {"amd64": "x86_64-manylinux_2_36", "arm64": "aarch64-manylinux_2_36"}

# Installers write console scripts with the host interpreter in their #! line; the image runs
# `python -m berth` and needs none of them.
SKIPPED_TOP = ("bin",)


class WheelError(RuntimeError):
    pass


def runtime_requirements(pyproject: str) -> list[str]:
    """The `[project] dependencies` of pyproject.toml: what the operator needs at run time."""
    dependencies: list[str] = tomllib.loads(pyproject)["project"]["dependencies"]
    return dependencies


def uv_binary() -> str:
    """The uv that `make` installs beside the venv's Python (the one that syncs the lock)."""
    beside = pathlib.Path(sys.executable).parent / "uv"
    found = str(beside) if beside.is_file() else shutil.which("uv")
    if not found:
        raise WheelError("uv is needed to install the wheels: run `make venv`")
    return found


def install_command(
    requirements: list[str],
    lock: pathlib.Path,
    architecture: str,
    cache_dir: pathlib.Path,
    target: pathlib.Path,
) -> list[str]:
    """Binary wheels for the image's Python and platform, at the lock's versions, into `target`."""
    if architecture not in PLATFORMS:
        raise WheelError(f"no wheel platform known for architecture {architecture!r}")
    return [
        uv_binary(),
        "pip",
        "install",
        "--quiet",
        f"--target={target}",
        f"--python-platform={PLATFORMS[architecture]}",
        f"--python-version={PYTHON_VERSION}",
        "--only-binary=:all:",
        f"--constraint={lock}",
        f"--cache-dir={cache_dir}",
        "--link-mode=copy",
        *requirements,
    ]


def install(command: list[str], log: Callable[[str], None]) -> None:
    """Runs `command` offline from uv's cache; if the cache lacks a wheel, online."""
    offline = subprocess.run([*command, "--offline"], capture_output=True, text=True, check=False)
    if offline.returncode == 0:
        log("wheels: all from the cache")
        return
    log("wheels: downloading what the cache lacks from the package index")
    online = subprocess.run(command, capture_output=True, text=True, check=False)
    if online.returncode != 0:
        raise WheelError(f"installing the wheels failed: {online.stderr.strip()}")


def tree_files(root: pathlib.Path, prefix: str) -> dict[str, Entry]:
    """Regular files and links under `root` (but its top-level `bin`), as image paths below
    `prefix`; folders are implied."""
    files: dict[str, Entry] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = pathlib.Path(dirpath)
        if here == root:
            dirnames[:] = [name for name in dirnames if name not in SKIPPED_TOP]
        dirnames[:] = [name for name in dirnames if name != "__pycache__"]
        for name in [*filenames, *(d for d in dirnames if (here / d).is_symlink())]:
            path = here / name
            image_path = f"{prefix}/{path.relative_to(root).as_posix()}"
            if path.is_symlink():
                files[image_path] = Symlink(os.readlink(path))
            elif not name.endswith(".pyc"):
                mode = 0o755 if os.access(path, os.X_OK) else 0o644
                files[image_path] = Regular(path.read_bytes(), mode)
    return files


def dependency_files(
    pyproject: pathlib.Path,
    lock: pathlib.Path,
    architecture: str,
    cache_dir: pathlib.Path,
    site_packages: str,
    log: Callable[[str], None],
) -> dict[str, Entry]:
    """The installed runtime dependencies, as files below `site_packages` in the image."""
    requirements = runtime_requirements(pyproject.read_text())
    with tempfile.TemporaryDirectory(prefix="berth-wheels-") as staging:
        target = pathlib.Path(staging)
        install(install_command(requirements, lock, architecture, cache_dir, target), log)
        return tree_files(target, site_packages)
