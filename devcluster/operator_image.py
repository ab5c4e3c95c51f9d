"""`make image`: the operator's OCI image archive, built without Docker or a registry.

Three layers, bottom first: pinned Debian bookworm packages (Python 3.11 and the libraries it
loads) with the operator's user; the runtime dependencies requirements.lock pins; the `berth`
package. Each with its bytecode, compiled by the image's own interpreter. The archive is
reproducible: the same commit and caches give the same manifest digest (see devcluster.oci).

    python -m devcluster.operator_image [--cache-dir DIR] [--out-dir DIR]
    python -m devcluster.operator_image --dockerfile   # rewrites ./Dockerfile from the same spec
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable

from devcluster import bytecode, debs, oci, wheels
from devcluster import operator_image_spec as spec
from devcluster.settings import DevSettings

REPO = pathlib.Path(__file__).resolve().parents[1]
PINS = REPO / "devcluster" / "operator-image.debs"
ARCHIVE_NAME = "berth-operator.oci.tar"
RECORD_NAME = "berth-operator.json"


@dataclasses.dataclass(frozen=True)
class OperatorImage:
    image: oci.BuiltImage  # .reference, .manifest_digest (what `ctr images ls` shows), .archive
    archive_path: pathlib.Path  # `ctr images import` this file
    record_path: pathlib.Path  # the same facts as JSON, for `make run`
    packages: tuple[debs.Pin, ...]
    uncompressed_bytes: int  # the layers' tars, before gzip


@dataclasses.dataclass(frozen=True)
class Source:
    version: str  # pyproject's
    revision: str  # the commit, `-dirty` if what goes in the image differs from it
    epoch: int  # the commit's time: the image's `created`
    url: str  # git's origin, if it has one


def git(*arguments: str) -> str:
    result = subprocess.run(["git", "-C", str(REPO), *arguments], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def source() -> Source:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    revision = git("rev-parse", "HEAD") or "unknown"
    inputs = ["operator", "pyproject.toml", "requirements.lock", str(PINS.relative_to(REPO))]
    if git("status", "--porcelain", "--", *inputs):
        revision += "-dirty"
    return Source(
        version,
        revision,
        int(git("log", "-1", "--format=%ct") or 0),
        git("remote", "get-url", "origin"),
    )


def package_sources(operator_dir: pathlib.Path) -> dict[str, bytes]:
    """Files below operator/ that the spec keeps (the `berth` package), by relative path."""
    found = {}
    for path in sorted((operator_dir / "berth").rglob("*")):
        relative = path.relative_to(operator_dir).as_posix()
        if path.is_file() and spec.is_package_file(relative):
            found[relative] = path.read_bytes()
    return found


def write_atomically(path: pathlib.Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    os.fchmod(fd, 0o644)  # mkstemp's 0600 would keep a node's containerd user out
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(partial, path)


def build_operator_image(
    cache_dir: pathlib.Path | None = None,
    out_dir: pathlib.Path | None = None,
    *,
    log: Callable[[str], None] = print,
) -> OperatorImage:
    """Builds the operator image and writes `berth-operator.oci.tar` and `berth-operator.json`
    (reference, manifest digest, ...) to `out_dir` (default `.berth/images/`).

    `cache_dir` (default BERTH_CACHE, ~/.cache/berth) keeps the downloaded .debs (`debs/`) and
    wheels (`wheels/`); with both warm nothing is downloaded. Import the archive with
    `ctr images import`: containerd names it `result.image.reference`
    (`berth.local/berth-operator:<pyproject version>`) and shows `result.image.manifest_digest`.
    """
    cache_dir = cache_dir or DevSettings().cache
    out_dir = out_dir or REPO / ".berth" / "images"
    architecture = oci.host_architecture()
    started = last = time.monotonic()

    def step(message: str) -> None:
        nonlocal last
        now = time.monotonic()
        log(f"[{now - started:5.1f}s] {message} ({now - last:.1f}s)")
        last = now

    origin = source()
    pins = debs.parse_pins(PINS.read_text(), architecture)
    packages = debs.fetch(pins, cache_dir / "debs", log)
    python = spec.python_version(pins)
    base = {**debs.root_filesystem(packages), **spec.system_files(), **spec.venv_files(python)}
    step(f"{len(pins)} Debian packages: {len(base)} files")
    site = spec.SITE_PACKAGES
    requirements = wheels.dependency_files(
        REPO / "pyproject.toml",
        REPO / "requirements.lock",
        architecture,
        cache_dir / "wheels",
        site,
        log,
    )
    step(f"runtime dependencies: {len(requirements)} files")
    package = spec.berth_files(package_sources(REPO / "operator"), origin.version)
    layers = [base, requirements, package]
    pyc = bytecode.bytecode(
        {k: v for layer in layers for k, v in layer.items()},
        spec.PYTHON,
        ("/usr/lib/python3.11", site),
    )
    berth_pyc, requirements_pyc, base_pyc = bytecode.split(pyc, (f"{site}/berth/", site, "/"))
    base.update(base_pyc)
    requirements.update(requirements_pyc)
    package.update(berth_pyc)
    step(f"bytecode: {len(pyc)} modules compiled by the image's Python {python}")
    tars = [oci.layer_tar(layer) for layer in layers]
    config = spec.image_config(
        architecture, origin.version, origin.revision, origin.epoch, origin.url
    )
    image = oci.build_layered_image(spec.reference(origin.version), tars, config, compress=True)
    step(
        f"layers: {', '.join(f'{len(t) / 1e6:.0f} MB' for t in tars)}, gzipped {len(image.archive) / 1e6:.0f} MB"
    )
    archive_path, record_path = out_dir / ARCHIVE_NAME, out_dir / RECORD_NAME
    write_atomically(archive_path, image.archive)
    record = {
        "reference": str(image.reference),
        "manifest_digest": image.manifest_digest,
        "config_digest": image.config_digest,
        "archive": str(archive_path),
        "archive_digest": image.archive_digest,
        "revision": origin.revision,
        "debian_packages": {pin.name: pin.version for pin in pins},
    }
    write_atomically(record_path, (json.dumps(record, indent=2) + "\n").encode())
    step(f"{image.reference} {image.manifest_digest} -> {archive_path}")
    return OperatorImage(image, archive_path, record_path, tuple(pins), sum(len(t) for t in tars))


def dockerfile() -> str:
    """The Dockerfile for these pins (their versions; Docker picks the architecture)."""
    return spec.dockerfile(debs.parse_pins(PINS.read_text(), "amd64"))


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devcluster.operator_image", description=__doc__
    )
    parser.add_argument("--cache-dir", type=pathlib.Path, help="downloaded .debs and wheels")
    parser.add_argument("--out-dir", type=pathlib.Path, help="where the archive is written")
    parser.add_argument("--dockerfile", action="store_true", help="rewrite ./Dockerfile only")
    arguments = parser.parse_args()
    if arguments.dockerfile:
        (REPO / "Dockerfile").write_text(dockerfile())
        return
    build_operator_image(arguments.cache_dir, arguments.out_dir)


if __name__ == "__main__":
    main()
