"""The image names skopeo and podman use (`oci-archive:PATH`, `oci:DIR`, `docker-archive:PATH`,
`docker://REF`), and a bare local image name read through a Docker or Podman daemon."""

import contextlib
import pathlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

from berth.oci.distribution import Credentials, Registry
from berth.oci.image import Image, ImageError
from berth.oci.layout import docker_archive, oci_archive, oci_directory

TRANSPORTS = ("oci-archive:PATH", "oci:DIR", "docker-archive:PATH", "docker://REF")
DOCKER_HUB = "registry-1.docker.io"
DAEMONS = ("docker", "podman")
# Other transports of containers/image that this reader does not know.
UNSUPPORTED = ("containers-storage:", "dir:", "docker-archive", "oci-archive", "ostree:", "sif:")


@dataclass(frozen=True)
class Source:
    transport: str  # oci-archive, oci, docker-archive, docker, daemon
    location: str  # a path, `host/repository`, or a local image name
    reference: str | None = None  # a name in the archive, or a registry tag or digest


def _path_and_ref(rest: str) -> tuple[str, str | None]:
    """`PATH[:REF]`: a colon followed by no '/' ends the path."""
    path, colon, ref = rest.rpartition(":")
    if colon and path and "/" not in ref:
        return path, ref or None
    return rest, None


def parse_source(text: str) -> Source:
    for transport in ("oci-archive", "oci", "docker-archive"):
        if text.startswith(f"{transport}:"):
            path, ref = _path_and_ref(text[len(transport) + 1 :])
            if not path:
                raise ImageError(f"{text!r} names no path")
            return Source(transport, path, ref)
    if text.startswith("docker://"):
        return _registry_source(text.removeprefix("docker://"))
    if text.startswith("docker-daemon:"):
        text = text.removeprefix("docker-daemon:")
    if not text or text.startswith(UNSUPPORTED):
        raise ImageError(
            f"{text!r} is not an image Berth reads; use one of: {', '.join(TRANSPORTS)}"
        )
    return Source("daemon", text)


def _registry_source(ref: str) -> Source:
    """`host/repo:tag` or `host/repo@sha256:…`; a name without a host is Docker Hub's."""
    name, at, digest = ref.partition("@")
    reference = digest if at else None
    if not at:
        head, colon, tag = name.rpartition(":")
        if colon and "/" not in tag:
            name, reference = head, tag
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, repository = first, rest
    else:
        host, repository = DOCKER_HUB, name if slash else f"library/{name}"
    if not repository:
        raise ImageError(f"docker://{ref} names no repository")
    return Source("docker", f"{host}/{repository}", reference or "latest")


@contextlib.contextmanager
def open_source(
    source: Source, credentials: Credentials | None = None, ca_file: str | None = None
) -> Iterator[Image]:
    """The image `source` names; `credentials` and `ca_file` are for a docker:// source."""
    if source.transport == "oci":
        yield oci_directory(pathlib.Path(source.location), source.reference)
    elif source.transport == "oci-archive":
        with oci_archive(pathlib.Path(source.location), source.reference) as image:
            yield image
    elif source.transport == "docker-archive":
        with docker_archive(pathlib.Path(source.location), source.reference) as image:
            yield image
    elif source.transport == "docker":
        host, _, repository = source.location.partition("/")
        registry = Registry(host, credentials, ca_file)
        yield registry.image(repository, source.reference or "latest")
    else:
        with _from_daemon(source.location) as image:
            yield image


@contextlib.contextmanager
def _from_daemon(name: str) -> Iterator[Image]:
    """`docker save` (or podman's) into a temporary archive, read as docker-archive."""
    daemon = next((found for d in DAEMONS if (found := shutil.which(d))), None)
    if daemon is None:
        raise ImageError(
            f"{name!r} is a local image name, and there is no Docker or Podman here to read it "
            f"from; name the image with one of: {', '.join(TRANSPORTS)}"
        )
    with tempfile.TemporaryDirectory(prefix="berth-push-") as scratch:
        archive = pathlib.Path(scratch) / "image.tar"
        done = subprocess.run(
            [daemon, "save", "-o", str(archive), name], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise ImageError(f"{daemon} save {name}: {done.stderr.strip() or done.returncode}")
        with docker_archive(archive, None) as image:
            yield image
