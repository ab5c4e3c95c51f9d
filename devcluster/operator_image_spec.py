"""What the operator image is, in one place: its layout, user, environment and labels, and the
Dockerfile rendered from the same description (`make image` builds it without Docker).

Pure: files come in as bytes, nothing here reads the disk or runs anything.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

from devcluster.debs import Pin
from devcluster.oci import PATH, Directory, Entry, ImageConfig, Regular, Symlink

REPOSITORY = "berth.local/berth-operator"
TITLE = "berth-operator"
DESCRIPTION = "Berth: Lightsail-style container services on any Kubernetes cluster"
# The project names no licence yet; SPDX's word for "not stated" rather than a guess.
LICENSES = "NOASSERTION"

PYTHON = "/usr/bin/python3.11"
VENV = "/opt/berth"  # laid out as a virtual environment, as `python -m venv` makes it
SITE_PACKAGES = f"{VENV}/lib/python3.11/site-packages"
UID = GID = 10001
USER = f"{UID}:{GID}"
ENTRYPOINT = (f"{VENV}/bin/python", "-m", "berth")
ENV = {
    "PATH": f"{VENV}/bin:{PATH}",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
}
PORTS = (8080, 8081)  # metrics, health
PYTHON_PACKAGE = "python3.11-minimal"  # its version is the interpreter's


def reference(version: str) -> str:
    return f"{REPOSITORY}:{version}"


def rfc3339(epoch: int) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def labels(version: str, revision: str, created: str, source: str = "") -> dict[str, str]:
    """The OCI annotation keys, as image labels."""
    found = {
        "title": TITLE,
        "description": DESCRIPTION,
        "version": version,
        "revision": revision,
        "created": created,
        "licenses": LICENSES,
        "source": source,
    }
    return {f"org.opencontainers.image.{key}": value for key, value in found.items() if value}


def image_config(
    architecture: str, version: str, revision: str, epoch: int, source: str = ""
) -> ImageConfig:
    created = rfc3339(epoch)
    return ImageConfig(
        entrypoint=ENTRYPOINT,
        env=ENV,
        exposed_ports=PORTS,
        labels=labels(version, revision, created, source),
        architecture=architecture,
        user=USER,
        created=created,
        created_by="devcluster.operator_image",
    )


def python_version(pins: Iterable[Pin]) -> str:
    """`3.11.2` from the pinned interpreter package's `3.11.2-6+deb12u9`."""
    [pin] = [pin for pin in pins if pin.name == PYTHON_PACKAGE]
    return pin.version.partition("-")[0]


def system_files() -> dict[str, Entry]:
    """Root and the operator's user (no login, no home), and a writable /tmp."""
    nologin = "/usr/sbin/nologin"
    passwd = f"root:x:0:0:root:/root:{nologin}\nberth:x:{UID}:{GID}:berth:/nonexistent:{nologin}\n"
    return {
        "/etc/passwd": Regular(passwd.encode()),
        "/etc/group": Regular(f"root:x:0:\nberth:x:{GID}:\n".encode()),
        "/root": Directory(0o700),
        "/tmp": Directory(0o1777),
    }


def venv_files(python: str) -> dict[str, Entry]:
    """A virtual environment over the system interpreter: site-packages below /opt/berth."""
    config = f"home = /usr/bin\ninclude-system-site-packages = false\nversion = {python}\n"
    return {
        f"{VENV}/pyvenv.cfg": Regular(config.encode()),
        f"{VENV}/bin/python": Symlink(PYTHON),
        f"{VENV}/bin/python3": Symlink("python"),
        f"{VENV}/bin/python3.11": Symlink("python"),
        SITE_PACKAGES: Directory(),
    }


def is_package_file(relative: str) -> bool:
    """Whether `operator/<relative>` belongs in the image: the `berth` package's sources only."""
    parts = relative.split("/")
    return parts[0] == "berth" and "__pycache__" not in parts and not relative.endswith(".pyc")


def berth_files(sources: Mapping[str, bytes], version: str) -> dict[str, Entry]:
    """The package from `operator/` (relative path -> bytes), with the metadata that
    `importlib.metadata.version("berth")` reads."""
    files: dict[str, Entry] = {
        f"{SITE_PACKAGES}/{relative}": Regular(data)
        for relative, data in sources.items()
        if is_package_file(relative)
    }
    metadata = f"Metadata-Version: 2.1\nName: berth\nVersion: {version}\n"
    files[f"{SITE_PACKAGES}/berth-{version}.dist-info/METADATA"] = Regular(metadata.encode())
    return files


def dockerfile(pins: Iterable[Pin]) -> str:
    """The same image for Docker users: the same pinned Debian packages, layout and settings."""
    pins = sorted(pins, key=lambda pin: pin.name)
    packages = " \\\n".join(f"      {pin.name}={pin.version}" for pin in pins)
    env = " \\\n    ".join(f"{name}={value}" for name, value in ENV.items())
    config = f"home = /usr/bin\\ninclude-system-site-packages = false\\nversion = {python_version(pins)}\\n"
    label_lines = " \\\n      ".join(
        f'{key}="{value}"' for key, value in labels("", "", "").items()
    )
    entrypoint = ", ".join(f'"{part}"' for part in ENTRYPOINT)
    return f"""\
# Generated by `python -m devcluster.operator_image --dockerfile` from
# devcluster/operator_image_spec.py, the description `make image` builds without Docker: edit that.
# The Berth operator image: `python -m berth`, as the chart runs it, on Debian bookworm's Python.
# Runtime dependencies only, at the versions requirements.lock pins (used as constraints, so the
# dev tools in the same lock are not installed). Runs as UID {UID} with a read-only root filesystem.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY operator ./operator
RUN pip install --no-compile --target {SITE_PACKAGES} --constraint requirements.lock . \\
 && rm -rf {SITE_PACKAGES}/bin

FROM debian:bookworm-slim
RUN apt-get update \\
 && apt-get install -y --no-install-recommends \\
{packages} \\
 && rm -rf /var/lib/apt/lists/* \\
 && groupadd --gid {GID} berth \\
 && useradd --uid {UID} --gid {GID} --no-create-home --home-dir /nonexistent \\
      --shell /usr/sbin/nologin berth \\
 && mkdir -p {VENV}/bin \\
 && ln -s {PYTHON} {VENV}/bin/python \\
 && printf '{config}' > {VENV}/pyvenv.cfg
COPY --from=build {VENV}/lib {VENV}/lib
RUN {PYTHON} -m compileall -q --invalidation-mode unchecked-hash {VENV}/lib \\
 && {VENV}/bin/python -c "import berth.handlers.lifecycle, berth.settings"
ENV {env}
LABEL {label_lines}
USER {USER}
EXPOSE {" ".join(str(port) for port in PORTS)}
ENTRYPOINT [{entrypoint}]
"""
