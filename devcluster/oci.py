"""OCI image layout archives, built in Python: no Docker, no registry.

An image is one or more layers (plain tar, or gzip with no timestamp) in an OCI image layout
tarball. `ctr images import` names it
after the `io.containerd.image.name` annotation, so the imported name is exactly the reference
(kubelet asks for that same name). Archives are byte-for-byte reproducible: fixed mtimes and
owners, sorted entries, canonical JSON. The manifest digest containerd records is the one
computed here, which is how a warm start recognises images it already has.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import pathlib
import platform
import re
import tarfile
from collections.abc import Mapping, Sequence
from typing import Any

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
IMAGE_NAME = "io.containerd.image.name"
REF_NAME = "org.opencontainers.image.ref.name"

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DOMAIN = re.compile(r"(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::[0-9]+)?")


@dataclasses.dataclass(frozen=True)
class Reference:
    """A fully qualified image reference, `domain/path:tag`."""

    repository: str
    tag: str

    def __str__(self) -> str:
        return f"{self.repository}:{self.tag}"


def parse_reference(text: str) -> Reference:
    """Splits `berth.local/hello:v1`; rejects names kubelet would rewrite (no domain, no tag)."""
    repository, colon, tag = text.rpartition(":")
    if not colon or "/" in tag or not _TAG.fullmatch(tag):
        raise ValueError(f"image reference {text!r} needs an explicit tag such as ':v1'")
    domain, slash, path = repository.partition("/")
    if not slash or not _DOMAIN.fullmatch(domain):
        # kubelet would look for docker.io/library/<name>, so a short name could never match.
        raise ValueError(f"image reference {text!r} needs a registry domain such as 'berth.local/'")
    if not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
        raise ValueError(f"image reference {text!r} has an invalid repository path {path!r}")
    return Reference(repository, tag)


@dataclasses.dataclass(frozen=True)
class Regular:
    data: bytes
    mode: int = 0o644


@dataclasses.dataclass(frozen=True)
class Directory:
    mode: int = 0o755


@dataclasses.dataclass(frozen=True)
class Symlink:
    target: str


Entry = Regular | Directory | Symlink


def host_architecture() -> str:
    """The OCI name of this machine's architecture: the busybox copied in is built for it."""
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)


@dataclasses.dataclass(frozen=True)
class ImageConfig:
    """The runtime part of an OCI image config."""

    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...] = ()
    env: Mapping[str, str] = dataclasses.field(default_factory=lambda: {"PATH": PATH})
    exposed_ports: tuple[int, ...] = ()
    working_dir: str = "/"
    stop_signal: str = "SIGTERM"
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    architecture: str = dataclasses.field(default_factory=host_architecture)
    user: str = ""  # "uid:gid"; empty runs as the image's root
    created: str = ""  # RFC 3339; empty leaves it out (the busybox images have no date)
    created_by: str = "devcluster.images"


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """What an image holds, before it is built."""

    reference: str
    files: Mapping[str, Entry]
    config: ImageConfig


@dataclasses.dataclass(frozen=True)
class BuiltImage:
    reference: Reference
    archive: bytes  # an OCI image layout as a tar, what `ctr images import` reads
    manifest_digest: str  # what `ctr images ls` shows once imported
    config_digest: str
    layer_digests: tuple[str, ...]  # the blobs, compressed or not
    diff_ids: tuple[str, ...]  # digests of the uncompressed layer tars

    @property
    def layer_digest(self) -> str:
        """The single layer of a busybox image (uncompressed: also its diff_id)."""
        [layer] = self.layer_digests
        return layer

    @property
    def archive_digest(self) -> str:
        """Differs from the manifest digest: the archive also carries the name."""
        return digest(self.archive)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def layer_tar(files: Mapping[str, Entry]) -> bytes:
    """A reproducible tar of `files` (absolute paths); missing parent directories are added."""
    entries: dict[str, Entry] = {}
    for path, entry in files.items():
        parts = pathlib.PurePosixPath(path).parts
        if not path.startswith("/") or ".." in parts or len(parts) < 2:
            raise ValueError(f"image file path {path!r} must be absolute and below /")
        for depth in range(2, len(parts)):
            entries.setdefault("/".join(parts[1:depth]), Directory())
        entries["/".join(parts[1:])] = entry
    return tar_bytes(entries)


def tar_bytes(entries: Mapping[str, Entry]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(entries):
            entry = entries[name]
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if isinstance(entry, Regular):
                info.mode, info.size = entry.mode, len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
                continue
            if isinstance(entry, Directory):
                info.type, info.mode = tarfile.DIRTYPE, entry.mode
            else:
                info.type, info.mode, info.linkname = tarfile.SYMTYPE, 0o777, entry.target
            tar.addfile(info)
    return buffer.getvalue()


def image_config(config: ImageConfig, diff_ids: Sequence[str]) -> dict[str, Any]:
    runtime: dict[str, Any] = {
        "Entrypoint": list(config.entrypoint),
        "Env": [f"{name}={value}" for name, value in config.env.items()],
        "WorkingDir": config.working_dir,
        "StopSignal": config.stop_signal,
    }
    if config.cmd:
        runtime["Cmd"] = list(config.cmd)
    if config.exposed_ports:
        runtime["ExposedPorts"] = {f"{port}/tcp": {} for port in config.exposed_ports}
    if config.labels:
        runtime["Labels"] = dict(config.labels)
    if config.user:
        runtime["User"] = config.user
    history: dict[str, str] = {"created_by": config.created_by}
    dated: dict[str, str] = {"created": config.created} if config.created else {}
    return {
        "architecture": config.architecture,
        "os": "linux",
        **dated,
        "config": runtime,
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": [{**history, **dated} for _ in diff_ids],
    }


def build_image(reference: str, files: Mapping[str, Entry], config: ImageConfig) -> BuiltImage:
    """One image as an OCI layout archive that `ctr images import` names `reference`."""
    return build_layered_image(reference, [layer_tar(files)], config)


def build_layered_image(
    reference: str, layers: Sequence[bytes], config: ImageConfig, *, compress: bool = False
) -> BuiltImage:
    """An image of `layers` (tars, bottom first), gzipped without a timestamp if `compress`."""
    ref = parse_reference(reference)
    diff_ids = tuple(digest(layer) for layer in layers)
    blobs = (
        [gzip.compress(layer, compresslevel=6, mtime=0) for layer in layers] if compress else layers
    )
    layer_type = OCI_LAYER_GZIP if compress else OCI_LAYER
    config_blob = canonical_json(image_config(config, diff_ids))
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": digest(config_blob),
                "size": len(config_blob),
            },
            "layers": [
                {"mediaType": layer_type, "digest": digest(blob), "size": len(blob)}
                for blob in blobs
            ],
        }
    )
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": digest(manifest),
                "size": len(manifest),
                "platform": {"architecture": config.architecture, "os": "linux"},
                "annotations": {IMAGE_NAME: str(ref), REF_NAME: ref.tag},
            }
        ],
    }
    files = {f"blobs/sha256/{digest(b)[7:]}": Regular(b) for b in (*blobs, config_blob, manifest)}
    archive = tar_bytes(
        {
            "blobs": Directory(),
            "blobs/sha256": Directory(),
            **files,
            "oci-layout": Regular(canonical_json({"imageLayoutVersion": "1.0.0"})),
            "index.json": Regular(canonical_json(index)),
        }
    )
    layer_digests = tuple(digest(blob) for blob in blobs)
    return BuiltImage(ref, archive, digest(manifest), digest(config_blob), layer_digests, diff_ids)
