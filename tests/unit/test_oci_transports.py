"""Reading images without Docker: the transports' names, OCI layouts (archive and folder),
`docker save` archives, and the clear refusal of a local name where no daemon is. No registry."""

from __future__ import annotations

import io
import json
import pathlib
import tarfile

import pytest

from berth.oci import media
from berth.oci.image import ImageError
from berth.oci.transports import Source, open_source, parse_source
from devcluster.oci import ImageConfig, Regular, build_image

FILES = {"/hello.txt": Regular(b"hello\n")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("oci-archive:/tmp/app.tar", Source("oci-archive", "/tmp/app.tar")),
        ("oci-archive:/tmp/app.tar:v1", Source("oci-archive", "/tmp/app.tar", "v1")),
        ("oci:./layout", Source("oci", "./layout")),
        ("docker-archive:app.tar", Source("docker-archive", "app.tar")),
        ("docker://10.89.0.1:5000/ns/app:v2", Source("docker", "10.89.0.1:5000/ns/app", "v2")),
        (
            "docker://example.com/app@sha256:" + "a" * 64,
            Source("docker", "example.com/app", "sha256:" + "a" * 64),
        ),
        ("docker://nginx", Source("docker", "registry-1.docker.io/library/nginx", "latest")),
        ("nginx:1.27", Source("daemon", "nginx:1.27")),
    ],
)
def test_image_names_follow_the_containers_transports(text: str, expected: Source) -> None:
    assert parse_source(text) == expected


def test_an_unknown_transport_is_refused_naming_the_ones_that_work() -> None:
    with pytest.raises(ImageError, match="oci-archive:PATH"):
        parse_source("containers-storage:app")


def built_archive(tmp_path: pathlib.Path) -> tuple[pathlib.Path, str, str]:
    built = build_image("berth.local/app:v1", FILES, ImageConfig(entrypoint=("/bin/sh",)))
    path = tmp_path / "app.tar"
    path.write_bytes(built.archive)
    return path, built.manifest_digest, built.layer_digest


def test_an_oci_archive_gives_the_manifest_it_holds_and_its_blobs(tmp_path: pathlib.Path) -> None:
    path, manifest_digest, layer_digest = built_archive(tmp_path)

    with open_source(parse_source(f"oci-archive:{path}")) as image:
        digests = [d["digest"] for d in image.blobs()]
        with image.open_blob(layer_digest) as layer:
            layer_bytes = layer.read()

    assert image.digest == manifest_digest
    assert image.media_type == media.OCI_MANIFEST
    assert layer_digest in digests
    assert media.digest(layer_bytes) == layer_digest


def test_an_oci_layout_folder_reads_like_its_archive(tmp_path: pathlib.Path) -> None:
    path, manifest_digest, _ = built_archive(tmp_path)
    folder = tmp_path / "layout"
    with tarfile.open(path) as tar:
        tar.extractall(folder, filter="data")

    with open_source(parse_source(f"oci:{folder}")) as image:
        assert image.digest == manifest_digest


def test_a_name_the_archive_does_not_hold_is_refused(tmp_path: pathlib.Path) -> None:
    path, _, _ = built_archive(tmp_path)

    with (
        pytest.raises(ImageError, match="no image named 'v9'"),
        open_source(parse_source(f"oci-archive:{path}:v9")),
    ):
        pass


def docker_save_archive(tmp_path: pathlib.Path, layer: bytes) -> pathlib.Path:
    """What `docker save` wrote before Docker 25: manifest.json, a config, layer tars."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {}}).encode()
    files = {
        "abc.json": config,
        "layer1/layer.tar": layer,
        "manifest.json": json.dumps(
            [{"Config": "abc.json", "RepoTags": ["app:v1"], "Layers": ["layer1/layer.tar"]}]
        ).encode(),
    }
    path = tmp_path / "saved.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_docker_save_archive_becomes_a_docker_manifest_of_its_layers(
    tmp_path: pathlib.Path,
) -> None:
    layer = b"not really a tar, but bytes with a digest" * 100
    path = docker_save_archive(tmp_path, layer)

    with open_source(parse_source(f"docker-archive:{path}")) as image:
        manifest = json.loads(image.manifest)
        with image.open_blob(manifest["layers"][0]["digest"]) as stream:
            read = stream.read()

    assert image.media_type == media.DOCKER_MANIFEST
    assert manifest["layers"] == [
        {"mediaType": media.DOCKER_LAYER, "size": len(layer), "digest": media.digest(layer)}
    ]
    assert manifest["config"]["mediaType"] == media.DOCKER_CONFIG
    assert read == layer


def test_a_local_name_without_docker_or_podman_says_which_transports_work(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no docker, no podman

    with pytest.raises(ImageError) as raised, open_source(parse_source("myapp:latest")):
        pass

    assert "no Docker or Podman" in str(raised.value)
    assert "docker-archive:PATH" in str(raised.value)
