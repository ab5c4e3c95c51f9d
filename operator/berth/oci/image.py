"""An image to copy: its manifest and a way to open each blob it names."""

import json
import platform
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from berth.oci.media import INDEXES, MANIFESTS, Platform, digest

OpenBlob = Callable[[str], IO[bytes]]
REF_NAME = "org.opencontainers.image.ref.name"
IMAGE_NAME = "io.containerd.image.name"
_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}


class ImageError(Exception):
    """The image cannot be read as asked; the message says why, for people."""


def host_platform() -> Platform:
    machine = platform.machine()
    return Platform("linux", _ARCHITECTURES.get(machine, machine))


@dataclass(frozen=True)
class Image:
    """One single-platform manifest, exactly as it will be pushed (its digest is the identity)."""

    manifest: bytes
    media_type: str
    open_blob: OpenBlob

    @property
    def digest(self) -> str:
        return digest(self.manifest)

    def blobs(self) -> list[dict[str, Any]]:
        """The config and layer descriptors: what must be in the registry before the manifest."""
        parsed = json.loads(self.manifest)
        return [parsed["config"], *parsed.get("layers", [])]


def media_type_of(manifest: bytes, declared: str | None = None) -> str:
    """The manifest's own mediaType field, else what its container declared."""
    found = json.loads(manifest).get("mediaType") or declared
    if not found:
        raise ImageError("the manifest names no media type")
    return str(found)


def choose(
    index: dict[str, Any], reference: str | None, where: str, wanted: Platform | None = None
) -> dict[str, Any]:
    """The descriptor in an index that `reference` names (by ref-name annotation), or the one
    for this machine's platform, or the only one."""
    entries: list[dict[str, Any]] = list(index.get("manifests") or [])
    if reference:
        named = [
            e
            for e in entries
            if reference in {(e.get("annotations") or {}).get(k) for k in (REF_NAME, IMAGE_NAME)}
        ]
        if not named:
            raise ImageError(f"{where} has no image named {reference!r}")
        entries = named
    if len(entries) == 1:
        return entries[0]
    target = wanted or host_platform()
    fitting = [e for e in entries if target.matches(e)]
    if not fitting:
        raise ImageError(
            f"{where} holds {len(entries)} images and none for {target.os}/{target.architecture}"
            + ("" if reference else "; name one with :REF after the path")
        )
    return fitting[0]


def resolve(
    descriptor: dict[str, Any], read: Callable[[str], bytes], open_blob: OpenBlob, where: str
) -> Image:
    """Follow `descriptor` (through nested indexes) to a single-platform image."""
    for _ in range(4):
        media = descriptor.get("mediaType") or ""
        body = read(descriptor["digest"])
        media = media_type_of(body, media)
        if media in MANIFESTS:
            return Image(body, media, open_blob)
        if media not in INDEXES:
            raise ImageError(f"{where}: unsupported manifest type {media!r}")
        descriptor = choose(json.loads(body), None, where)
    raise ImageError(f"{where}: indexes nested too deep")
