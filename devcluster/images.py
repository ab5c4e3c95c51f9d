"""Container images for a dev node, built from the host's static busybox: no Docker, no registry.

An image is one uncompressed layer in an OCI image layout tarball. `ctr images import` names it
after the `io.containerd.image.name` annotation, so the imported name is exactly the reference
(kubelet asks for that same name). Archives are byte-for-byte reproducible: fixed mtimes and
owners, sorted entries, canonical JSON. The manifest digest containerd records is the one
computed here, which is how a warm start recognises images it already has.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import pathlib
import platform
import re
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

BUSYBOX = pathlib.Path("/bin/busybox")
NAMESPACE = "k8s.io"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PAUSE = "berth.local/pause:1"
TOOLBOX = "berth.local/toolbox:1"
HELLO_REPOSITORY = "berth.local/hello"
HELLO_TAGS = ("v1", "v2", "unhealthy")

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
IMAGE_NAME = "io.containerd.image.name"
REF_NAME = "org.opencontainers.image.ref.name"

# Applets linked into every image; enough for the scripts here and for poking around a pod.
APPLETS = (
    "[", "awk", "base64", "basename", "cat", "chmod", "cp", "cut", "date", "df", "dirname",
    "du", "echo", "env", "expr", "false", "find", "grep", "head", "hostname", "httpd", "id",
    "ifconfig", "ip", "kill", "ln", "ls", "mkdir", "mv", "nc", "netstat", "nslookup", "ping",
    "printf", "ps", "pwd", "readlink", "rm", "sed", "seq", "sh", "sha256sum", "sleep", "sort",
    "stat", "tail", "tee", "test", "timeout", "top", "touch", "tr", "true", "uname", "uniq",
    "uptime", "vi", "wc", "wget", "which", "xargs",
)  # fmt: skip

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
    layer_digest: str  # also the layer's diff_id: the layer is not compressed

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


def image_config(config: ImageConfig, layer_digest: str) -> dict[str, Any]:
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
    return {
        "architecture": config.architecture,
        "os": "linux",
        "config": runtime,
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created_by": "devcluster.images"}],
    }


def build_image(reference: str, files: Mapping[str, Entry], config: ImageConfig) -> BuiltImage:
    """One image as an OCI layout archive that `ctr images import` names `reference`."""
    ref = parse_reference(reference)
    layer = layer_tar(files)
    config_blob = canonical_json(image_config(config, digest(layer)))
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": digest(config_blob),
                "size": len(config_blob),
            },
            "layers": [{"mediaType": OCI_LAYER, "digest": digest(layer), "size": len(layer)}],
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
    blobs = {f"blobs/sha256/{digest(b)[7:]}": Regular(b) for b in (layer, config_blob, manifest)}
    archive = tar_bytes(
        {
            "blobs": Directory(),
            "blobs/sha256": Directory(),
            **blobs,
            "oci-layout": Regular(canonical_json({"imageLayoutVersion": "1.0.0"})),
            "index.json": Regular(canonical_json(index)),
        }
    )
    return BuiltImage(ref, archive, digest(manifest), digest(config_blob), digest(layer))


def image_file(name: str) -> bytes:
    """A script shipped in `image_files/` beside this module."""
    return resources.files("devcluster").joinpath("image_files", name).read_bytes()


def base_files(busybox: bytes) -> dict[str, Entry]:
    """A minimal root filesystem: busybox, its applets as symlinks, root and nobody."""
    files: dict[str, Entry] = {
        "/bin/busybox": Regular(busybox, 0o755),
        "/bin/idle": Regular(image_file("idle.sh"), 0o755),
        "/etc/passwd": Regular(
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
        ),
        "/etc/group": Regular(b"root:x:0:\nnogroup:x:65534:\n"),
        "/root": Directory(0o700),
        "/tmp": Directory(0o1777),
    }
    files.update({f"/bin/{applet}": Symlink("/bin/busybox") for applet in APPLETS})
    return files


def pause_image(busybox: bytes) -> ImageSpec:
    """The pod sandbox: PID 1 sleeps until SIGTERM or SIGINT, then exits at once."""
    return ImageSpec(PAUSE, base_files(busybox), ImageConfig(entrypoint=("/bin/idle",)))


def toolbox_image(busybox: bytes) -> ImageSpec:
    """Busybox (wget, nc, nslookup, ...) in a pod that idles, for requests from inside."""
    return ImageSpec(TOOLBOX, base_files(busybox), ImageConfig(entrypoint=("/bin/idle",)))


def hello_image(busybox: bytes, tag: str) -> ImageSpec:
    """The hello app; the tag `unhealthy` answers /healthz with 500 (a 404 would pass Lightsail)."""
    files = base_files(busybox)
    files["/bin/hello"] = Regular(image_file("hello.sh"), 0o755)
    files["/bin/hello-request"] = Regular(image_file("hello-request.sh"), 0o755)
    env = {
        "PATH": PATH,
        "PORT": "80",
        "HELLO_VERSION": tag,
        "HEALTHZ_STATUS": "500" if tag == "unhealthy" else "200",
    }
    config = ImageConfig(entrypoint=("/bin/hello",), env=env, exposed_ports=(80,))
    return ImageSpec(f"{HELLO_REPOSITORY}:{tag}", files, config)


def standard_images(busybox: pathlib.Path = BUSYBOX) -> list[ImageSpec]:
    """Pause, toolbox and every hello tag, all from one static busybox binary."""
    binary = busybox.read_bytes()
    hellos = [hello_image(binary, tag) for tag in HELLO_TAGS]
    return [pause_image(binary), toolbox_image(binary), *hellos]


@dataclasses.dataclass(frozen=True)
class ImportReport:
    imported: tuple[str, ...]
    skipped: tuple[str, ...]  # already in containerd under the same manifest digest
    build_seconds: float
    import_seconds: float  # listing what is there plus `ctr images import`

    @property
    def total_seconds(self) -> float:
        return self.build_seconds + self.import_seconds


class ImageImportError(RuntimeError):
    pass


def cached_archive(image: BuiltImage, cache_dir: pathlib.Path) -> pathlib.Path:
    """The archive's file in `cache_dir`, named by its digest; written only when missing."""
    path = cache_dir / f"{image.archive_digest[7:]}.tar"
    if not path.is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and renamed, so a concurrent reader never sees half.
        fd, partial = tempfile.mkstemp(dir=cache_dir, prefix=".partial-")
        with os.fdopen(fd, "wb") as out:
            out.write(image.archive)
        os.replace(partial, path)
    return path


def present_images(ctr: list[str]) -> dict[str, str]:
    """Reference -> manifest digest of every image in the namespace."""
    listing = run_ctr([*ctr, "images", "ls"])
    present = {}
    for line in listing.splitlines()[1:]:  # below the REF TYPE DIGEST ... header
        fields = line.split()
        if len(fields) >= 3:
            present[fields[0]] = fields[2]
    return present


def run_ctr(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ImageImportError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result.stdout


def import_images(
    ctr_binary: str | os.PathLike[str],
    containerd_address: str | os.PathLike[str],
    images: Iterable[ImageSpec],
    cache_dir: pathlib.Path,
    *,
    namespace: str = NAMESPACE,
    snapshotter: str | None = None,
) -> ImportReport:
    """Builds `images`, caches their archives and imports those containerd does not have yet."""
    started = time.monotonic()
    built = [build_image(spec.reference, spec.files, spec.config) for spec in images]
    archives = [cached_archive(image, cache_dir) for image in built]
    build_seconds = time.monotonic() - started

    ctr = [os.fspath(ctr_binary), "--address", os.fspath(containerd_address), "-n", namespace]
    present = present_images(ctr)
    imported, skipped = [], []
    for image, archive in zip(built, archives, strict=True):
        name = str(image.reference)
        if present.get(name) == image.manifest_digest:
            skipped.append(name)
            continue
        options = ["--snapshotter", snapshotter] if snapshotter else []
        run_ctr([*ctr, "images", "import", *options, os.fspath(archive)])
        imported.append(name)
    return ImportReport(
        tuple(imported), tuple(skipped), build_seconds, time.monotonic() - started - build_seconds
    )
