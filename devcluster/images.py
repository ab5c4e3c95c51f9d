"""Container images for a dev node, built from the host's static busybox (as OCI archives,
devcluster.oci), and imported into the node's containerd once each."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import subprocess
import tempfile
import time
from collections.abc import Iterable
from importlib import resources

from devcluster.binaries import devcluster_dir
from devcluster.oci import (
    PATH,
    BuiltImage,
    Directory,
    Entry,
    ImageConfig,
    ImageSpec,
    Regular,
    Symlink,
    build_image,
)

BUSYBOX = pathlib.Path("/bin/busybox")
NAMESPACE = "k8s.io"

PAUSE = "berth.local/pause:1"
TOOLBOX = "berth.local/toolbox:1"
HELLO_REPOSITORY = "berth.local/hello"
HELLO_TAGS = ("v1", "v2", "unhealthy")
HELLO_HTTPS = f"{HELLO_REPOSITORY}:https"
"""The hello app behind its own TLS on port 443 (devcluster/hello-tls), plain HTTP on 80 inside."""
HELLO_HTTPS_PORT = 443


# Applets linked into every image; enough for the scripts here and for poking around a pod.
APPLETS = (
    "[", "awk", "base64", "basename", "cat", "chmod", "cp", "cut", "date", "df", "dirname",
    "du", "echo", "env", "expr", "false", "find", "grep", "head", "hostname", "httpd", "id",
    "ifconfig", "ip", "kill", "ln", "ls", "mkdir", "mv", "nc", "netstat", "nslookup", "ping",
    "printf", "ps", "pwd", "readlink", "rm", "sed", "seq", "sh", "sha256sum", "sleep", "sort",
    "stat", "tail", "tee", "test", "timeout", "top", "touch", "tr", "true", "uname", "uniq",
    "uptime", "vi", "wc", "wget", "which", "xargs",
)  # fmt: skip


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


def hello_https_image(busybox: bytes, hello_tls: bytes) -> ImageSpec:
    """The hello app whose port 443 speaks TLS itself, with a certificate made at start: hello.sh
    starts the front when HTTPS_PORT is set."""
    plain = hello_image(busybox, "https")
    files = {**plain.files, "/bin/hello-tls": Regular(hello_tls, 0o755)}
    env = {**plain.config.env, "HTTPS_PORT": str(HELLO_HTTPS_PORT)}
    config = dataclasses.replace(plain.config, env=env, exposed_ports=(80, HELLO_HTTPS_PORT))
    return ImageSpec(HELLO_HTTPS, files, config)


def standard_images(
    busybox: pathlib.Path = BUSYBOX, hello_tls: pathlib.Path | None = None
) -> list[ImageSpec]:
    """Pause, toolbox and every hello tag, all from one static busybox binary; with the
    `hello-tls` binary (devcluster/hello-tls/build.sh) the `https` tag too."""
    binary = busybox.read_bytes()
    hellos = [hello_image(binary, tag) for tag in HELLO_TAGS]
    if hello_tls is not None:
        hellos.append(hello_https_image(binary, hello_tls.read_bytes()))
    return [pause_image(binary), toolbox_image(binary), *hellos]


def ensure_hello_tls(devcluster: pathlib.Path | None = None) -> pathlib.Path:
    """Runs devcluster/hello-tls/build.sh (instant once built). Returns the `hello-tls` binary."""
    script = (devcluster or devcluster_dir()) / "hello-tls" / "build.sh"
    result = subprocess.run(["bash", str(script)], check=True, stdout=subprocess.PIPE, text=True)
    binary = pathlib.Path(result.stdout.strip().splitlines()[-1]) / "hello-tls"
    if not binary.is_file():
        raise FileNotFoundError(f"{script} did not produce {binary}")
    return binary


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
