"""Images on disk: an OCI image layout (a folder, or a tar of one) and what `docker save` writes."""

import contextlib
import gzip
import hashlib
import json
import pathlib
import tarfile
from collections.abc import Iterator
from typing import IO, Any

from berth.oci import media
from berth.oci.image import Image, ImageError, choose, resolve


def _blob_path(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm != "sha256" or not hexdigest.isalnum():
        raise ImageError(f"unsupported digest {digest!r}")
    return f"blobs/{algorithm}/{hexdigest}"


def oci_directory(path: pathlib.Path, reference: str | None) -> Image:
    """`oci:DIR[:REF]`: an OCI image layout folder (what skopeo and buildah write)."""
    if not (path / "index.json").is_file():
        raise ImageError(f"{path} is not an OCI image layout (no index.json)")

    def read(digest: str) -> bytes:
        return (path / _blob_path(digest)).read_bytes()

    def open_blob(digest: str) -> IO[bytes]:
        return (path / _blob_path(digest)).open("rb")

    index = json.loads((path / "index.json").read_bytes())
    where = f"oci:{path}"
    return resolve(choose(index, reference, where), read, open_blob, where)


@contextlib.contextmanager
def oci_archive(path: pathlib.Path, reference: str | None) -> Iterator[Image]:
    """`oci-archive:PATH[:REF]`: a tar of an OCI image layout."""
    with _tar(path) as tar:
        yield _layout_in_tar(tar, reference, f"oci-archive:{path}")


@contextlib.contextmanager
def docker_archive(path: pathlib.Path, reference: str | None) -> Iterator[Image]:
    """`docker-archive:PATH[:REF]`: what `docker save` writes. Docker 25 and later also put an
    OCI layout in it, which is read as such; older archives are turned into a Docker manifest."""
    where = f"docker-archive:{path}"
    with _tar(path) as tar:
        names = set(tar.getnames())
        if "index.json" in names and "oci-layout" in names:
            yield _layout_in_tar(tar, reference, where)
            return
        if "manifest.json" not in names:
            raise ImageError(f"{where} is not a docker save archive (no manifest.json)")
        yield _legacy_docker(tar, reference, where)


@contextlib.contextmanager
def _tar(path: pathlib.Path) -> Iterator[tarfile.TarFile]:
    try:
        tar = tarfile.open(path, "r:*")  # noqa: SIM115 (closed below; open errors said apart)
    except (OSError, tarfile.TarError) as error:
        raise ImageError(f"cannot read {path} as a tar archive: {error}") from error
    with tar:
        yield tar


def _member(tar: tarfile.TarFile, name: str, where: str) -> IO[bytes]:
    try:
        found = tar.extractfile(name.removeprefix("./"))
    except KeyError:
        found = None
    if found is None:
        raise ImageError(f"{where} has no file {name}")
    return found


def _layout_in_tar(tar: tarfile.TarFile, reference: str | None, where: str) -> Image:
    def open_blob(digest: str) -> IO[bytes]:
        return _member(tar, _blob_path(digest), where)

    def read(digest: str) -> bytes:
        return open_blob(digest).read()

    index = json.loads(_member(tar, "index.json", where).read())
    return resolve(choose(index, reference, where), read, open_blob, where)


def _legacy_docker(tar: tarfile.TarFile, reference: str | None, where: str) -> Image:
    entries: list[dict[str, Any]] = json.loads(_member(tar, "manifest.json", where).read())
    if reference:
        entries = [e for e in entries if reference in (e.get("RepoTags") or [])]
    if len(entries) != 1:
        raise ImageError(
            f"{where} holds {len(entries)} images"
            + ("; name one with :REF after the path" if not reference else "")
        )
    [entry] = entries
    config = _member(tar, entry["Config"], where).read()
    paths = {media.digest(config): entry["Config"]}
    layers = []
    for layer in entry["Layers"]:
        sha, size, gzipped = _hash_member(tar, layer, where)
        paths[sha] = layer
        kind = media.DOCKER_LAYER_GZIP if gzipped else media.DOCKER_LAYER
        layers.append({"mediaType": kind, "size": size, "digest": sha})
    manifest = {
        "schemaVersion": 2,
        "mediaType": media.DOCKER_MANIFEST,
        "config": {
            "mediaType": media.DOCKER_CONFIG,
            "size": len(config),
            "digest": media.digest(config),
        },
        "layers": layers,
    }
    body = json.dumps(manifest, separators=(",", ":")).encode()

    def open_blob(digest: str) -> IO[bytes]:
        return _member(tar, paths[digest], where)

    return Image(body, media.DOCKER_MANIFEST, open_blob)


def _hash_member(tar: tarfile.TarFile, name: str, where: str) -> tuple[str, int, bool]:
    hasher, size = hashlib.sha256(), 0
    with _member(tar, name, where) as stream:
        head = stream.read(2)
        hasher.update(head)
        size += len(head)
        while chunk := stream.read(1 << 20):
            hasher.update(chunk)
            size += len(chunk)
    return "sha256:" + hasher.hexdigest(), size, head == gzip_magic()


def gzip_magic() -> bytes:
    return gzip.compress(b"")[:2]
