"""Debian packages as image files: pinned, fetched with `apt-get download` into a cache, checked
against their SHA-256 and unpacked in Python (no dpkg, no maintainer scripts, no root).

The root filesystem is laid out as bookworm installs it (merged /usr: /lib, /lib64, /bin and /sbin
are links into /usr). Each package's control file goes to /var/lib/dpkg/status.d/, where image
scanners look for the packages of a filesystem without a dpkg database.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pathlib
import posixpath
import subprocess
import tarfile
from collections.abc import Callable, Iterable, Mapping

from devcluster.oci import Directory, Entry, Regular, Symlink

MERGED_USR = ("bin", "sbin", "lib", "lib64")

# Documentation and manuals; copyright files stay (the licences travel with the binaries).
# gconv is glibc's iconv modules: Python's codecs never load them.
TRIMMED = ("/usr/share/man/", "/usr/share/info/", "/usr/share/lintian/", "/usr/share/bug/")


class PackageError(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class Pin:
    name: str
    version: str
    architecture: str
    sha256: str

    @property
    def filename(self) -> str:
        """The name `apt-get download` gives the file (an epoch's colon becomes %3a)."""
        return f"{self.name}_{self.version.replace(':', '%3a')}_{self.architecture}.deb"


def parse_pins(text: str, architecture: str) -> list[Pin]:
    """`name version architecture sha256` lines (# comments), those for `architecture`."""
    pins = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.partition("#")[0].split()
        if not fields:
            continue
        if len(fields) != 4 or len(fields[3]) != 64:
            raise PackageError(f"pin line {number} is not 'name version architecture sha256'")
        pin = Pin(*fields)
        if pin.architecture in (architecture, "all"):
            pins.append(pin)
    if not any(pin.architecture == architecture for pin in pins):
        raise PackageError(f"no Debian packages are pinned for architecture {architecture!r}")
    return pins


def fetch(
    pins: Iterable[Pin], cache_dir: pathlib.Path, log: Callable[[str], None]
) -> dict[Pin, bytes]:
    """Each pinned .deb, from `cache_dir` or downloaded there with apt; all checked by SHA-256."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    pins = list(pins)
    missing = [pin for pin in pins if not (cache_dir / pin.filename).is_file()]
    if missing:
        log(f"downloading {len(missing)} of {len(pins)} Debian packages with apt-get")
        specs = [f"{pin.name}:{pin.architecture}={pin.version}" for pin in missing]
        result = subprocess.run(
            ["apt-get", "download", "-q", *specs],
            cwd=cache_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise PackageError(
                f"apt-get download failed (is the pinned version still in the archive? "
                f"`apt-get update` first): {result.stderr.strip()}"
            )
    found = {}
    for pin in pins:
        path = cache_dir / pin.filename
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != pin.sha256:
            path.unlink()  # a second run downloads it again rather than trusting it
            raise PackageError(f"{pin.filename}: SHA-256 differs from the pinned one")
        found[pin] = data
    return found


def ar_members(data: bytes) -> dict[str, bytes]:
    """The members of an `ar` archive (the container a .deb is)."""
    if not data.startswith(b"!<arch>\n"):
        raise PackageError("not an ar archive")
    members, offset = {}, 8
    while offset + 60 <= len(data):
        header = data[offset : offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        start = offset + 60
        members[name] = data[start : start + size]
        offset = start + size + (size % 2)  # members are aligned on even offsets
    return members


def _tar_member(members: Mapping[str, bytes], stem: str) -> tarfile.TarFile:
    for name, body in members.items():
        if name.startswith(stem + ".tar"):
            return tarfile.open(fileobj=io.BytesIO(body), mode="r:*")
    raise PackageError(f"the package has no {stem}.tar")


def control(deb: bytes) -> bytes:
    """The package's control paragraph (Package, Version, Depends, ...)."""
    with _tar_member(ar_members(deb), "control") as tar:
        for info in tar.getmembers():
            if info.name.lstrip("./") == "control":
                extracted = tar.extractfile(info)
                if extracted:
                    return extracted.read()
    raise PackageError("the package has no control file")


def merged_usr(path: str) -> str:
    """Where bookworm's merged /usr puts `path` (`/lib/x` is `/usr/lib/x`)."""
    top = path.split("/")[1]
    return f"/usr{path}" if top in MERGED_USR else path


def kept(path: str) -> bool:
    if path.startswith(TRIMMED) or "-linux-gnu/gconv" in path:
        return False
    if path.startswith("/usr/share/doc/"):
        return path.endswith("/copyright") or path.count("/") == 4  # or the package's folder
    return True


def package_files(deb: bytes) -> dict[str, Entry]:
    """The files a package installs (merged /usr, trimmed), hard links as copies."""
    files: dict[str, Entry] = {}
    with _tar_member(ar_members(deb), "data") as tar:
        members = tar.getmembers()
        by_name = {info.name: info for info in members}
        for info in members:
            path = merged_usr(posixpath.normpath("/" + info.name))
            if path == "/" or not kept(path):
                continue
            if info.isdir():
                files[path] = Directory(info.mode & 0o7777)
            elif info.issym():
                files[path] = Symlink(info.linkname)
            elif info.isfile() or info.islnk():
                source = by_name[info.linkname] if info.islnk() else info
                extracted = tar.extractfile(source)
                assert extracted is not None
                files[path] = Regular(extracted.read(), source.mode & 0o7777)
            else:
                raise PackageError(f"{path}: unsupported file type in a package")
    return files


def root_filesystem(debs: Mapping[Pin, bytes]) -> dict[str, Entry]:
    """All packages' files in one tree, plus the merged-/usr links and the status.d records."""
    tree: dict[str, Entry] = {f"/{top}": Symlink(f"usr/{top}") for top in MERGED_USR}
    tree["/usr/lib64"] = Directory()
    owner: dict[str, str] = {}
    for pin, deb in sorted(debs.items(), key=lambda item: item[0].name):
        for path, entry in package_files(deb).items():
            previous = tree.get(path)
            if previous is not None and previous != entry and not isinstance(entry, Directory):
                raise PackageError(f"{path} is in both {owner.get(path)} and {pin.name}")
            if previous is None or not isinstance(entry, Directory):
                tree[path], owner[path] = entry, pin.name
        tree[f"/var/lib/dpkg/status.d/{pin.name}"] = Regular(control(deb))
    return tree
