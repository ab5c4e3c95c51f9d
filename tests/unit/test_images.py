"""Busybox images for the dev node: OCI layout archives that are reproducible and self-consistent."""

from __future__ import annotations

import hashlib
import io
import json
import pathlib
import stat
import subprocess
import tarfile
from typing import Any

import pytest

from devcluster import images, oci
from devcluster.oci import (
    BuiltImage,
    Directory,
    ImageConfig,
    Reference,
    Regular,
    Symlink,
    build_image,
    parse_reference,
)

FAKE_BUSYBOX = b"\x7fELF not really busybox\n"


def build(spec: oci.ImageSpec) -> BuiltImage:
    return build_image(spec.reference, spec.files, spec.config)


def members(archive: bytes) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        found = {}
        for info in tar.getmembers():
            extracted = tar.extractfile(info) if info.isfile() else None
            found[info.name] = (info, extracted.read() if extracted else b"")
        return found


def blob(archive: bytes, digest: str) -> bytes:
    return members(archive)[f"blobs/sha256/{digest.removeprefix('sha256:')}"][1]


def config_of(image: BuiltImage) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(blob(image.archive, image.config_digest))
    return loaded


def layer_of(image: BuiltImage) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    return members(blob(image.archive, image.layer_digest))


@pytest.fixture(scope="module")
def standard(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuiltImage]:
    busybox = tmp_path_factory.mktemp("bin") / "busybox"
    busybox.write_bytes(FAKE_BUSYBOX)
    return {spec.reference: build(spec) for spec in images.standard_images(busybox)}


@pytest.mark.parametrize(
    ("text", "repository", "tag"),
    [
        ("berth.local/hello:v1", "berth.local/hello", "v1"),
        ("berth.local/pause:1", "berth.local/pause", "1"),
        ("localhost:5000/team/app:2.0-rc_1", "localhost:5000/team/app", "2.0-rc_1"),
        ("registry.example.com/a/b-c:latest", "registry.example.com/a/b-c", "latest"),
    ],
)
def test_reference_splits_into_repository_and_tag(text: str, repository: str, tag: str) -> None:
    assert parse_reference(text) == Reference(repository, tag)
    assert str(parse_reference(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "hello:v1",  # kubelet would ask for docker.io/library/hello:v1
        "berth.local/hello",  # no tag
        "localhost:5000/hello",  # the port is not a tag
        "berth.local/Hello:v1",
        "berth.local/hello:v1@sha256:abc",
        "berth.local/hello:-v1",
    ],
)
def test_reference_without_domain_or_tag_is_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_reference(text)


def test_archive_is_an_oci_layout_that_names_the_image(standard: dict[str, BuiltImage]) -> None:
    image = standard["berth.local/hello:v1"]
    found = members(image.archive)
    assert json.loads(found["oci-layout"][1]) == {"imageLayoutVersion": "1.0.0"}
    (entry,) = json.loads(found["index.json"][1])["manifests"]
    assert entry["annotations"] == {
        "io.containerd.image.name": "berth.local/hello:v1",
        "org.opencontainers.image.ref.name": "v1",
    }
    assert entry["digest"] == image.manifest_digest
    assert entry["platform"] == {"architecture": oci.host_architecture(), "os": "linux"}


def test_every_blob_is_named_by_its_digest(standard: dict[str, BuiltImage]) -> None:
    for image in standard.values():
        blobs = {n: d for n, (_, d) in members(image.archive).items() if n.count("/") == 2}
        assert len(blobs) == 3
        for name, data in blobs.items():
            assert name == f"blobs/sha256/{hashlib.sha256(data).hexdigest()}"


def test_manifest_points_at_config_and_layer_by_digest_and_size(
    standard: dict[str, BuiltImage],
) -> None:
    image = standard["berth.local/pause:1"]
    manifest = json.loads(blob(image.archive, image.manifest_digest))
    config_data = blob(image.archive, image.config_digest)
    layer_data = blob(image.archive, image.layer_digest)
    assert manifest["config"] == {
        "mediaType": "application/vnd.oci.image.config.v1+json",
        "digest": image.config_digest,
        "size": len(config_data),
    }
    assert manifest["layers"] == [
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": image.layer_digest,
            "size": len(layer_data),
        }
    ]
    # An uncompressed layer's diff_id is its digest.
    assert json.loads(config_data)["rootfs"] == {"type": "layers", "diff_ids": [image.layer_digest]}


def test_same_inputs_build_the_same_bytes(tmp_path: pathlib.Path) -> None:
    busybox = tmp_path / "busybox"
    busybox.write_bytes(FAKE_BUSYBOX)
    first = [build(spec) for spec in images.standard_images(busybox)]
    second = [build(spec) for spec in images.standard_images(busybox)]
    assert [i.archive for i in first] == [i.archive for i in second]
    busybox.write_bytes(FAKE_BUSYBOX + b"patched")
    third = [build(spec) for spec in images.standard_images(busybox)]
    assert {i.manifest_digest for i in first}.isdisjoint(i.manifest_digest for i in third)


def test_archive_entries_are_sorted_and_carry_no_time_or_owner(
    standard: dict[str, BuiltImage],
) -> None:
    image = standard["berth.local/hello:v2"]
    for archive in (image.archive, blob(image.archive, image.layer_digest)):
        infos = [info for info, _ in members(archive).values()]
        assert [i.name for i in infos] == sorted(i.name for i in infos)
        assert {(i.mtime, i.uid, i.gid, i.uname, i.gname) for i in infos} == {(0, 0, 0, "", "")}


def test_scripts_and_busybox_are_executable(standard: dict[str, BuiltImage]) -> None:
    hello = layer_of(standard["berth.local/hello:unhealthy"])
    for path in ("bin/busybox", "bin/idle", "bin/hello", "bin/hello-request"):
        info = hello[path][0]
        assert info.isfile() and stat.S_IMODE(info.mode) == 0o755, path
    assert hello["bin/busybox"][1] == FAKE_BUSYBOX
    assert hello["bin/hello"][1].startswith(b"#!/bin/sh\n")
    assert hello["bin/sh"][0].issym() and hello["bin/sh"][0].linkname == "/bin/busybox"
    assert hello["bin/wget"][0].issym()
    assert stat.S_IMODE(hello["tmp"][0].mode) == 0o1777


@pytest.mark.parametrize("script", ["idle.sh", "hello.sh", "hello-request.sh"])
def test_scripts_parse_as_posix_shell(script: str) -> None:
    subprocess.run(["sh", "-n"], input=images.image_file(script), check=True)


@pytest.mark.parametrize(("tag", "healthz"), [("v1", "200"), ("v2", "200"), ("unhealthy", "500")])
def test_hello_config_names_its_version_port_and_health(
    standard: dict[str, BuiltImage], tag: str, healthz: str
) -> None:
    config = config_of(standard[f"berth.local/hello:{tag}"])
    assert (config["os"], config["architecture"]) == ("linux", oci.host_architecture())
    runtime = config["config"]
    assert runtime["Entrypoint"] == ["/bin/hello"]
    assert runtime["ExposedPorts"] == {"80/tcp": {}}
    assert runtime["WorkingDir"] == "/"
    assert runtime["Env"] == [
        f"PATH={oci.PATH}",
        "PORT=80",
        f"HELLO_VERSION={tag}",
        f"HEALTHZ_STATUS={healthz}",
    ]


def test_pause_and_toolbox_idle_until_a_signal(standard: dict[str, BuiltImage]) -> None:
    for name in ("berth.local/pause:1", "berth.local/toolbox:1"):
        runtime = config_of(standard[name])["config"]
        assert runtime["Entrypoint"] == ["/bin/idle"]
        assert runtime["StopSignal"] == "SIGTERM"
        assert "ExposedPorts" not in runtime


def test_layer_adds_parent_directories_and_keeps_modes() -> None:
    files: dict[str, oci.Entry] = {
        "/opt/app/run": Regular(b"x", 0o700),
        "/opt/link": Symlink("app/run"),
    }
    image = build_image("berth.local/x:1", files, ImageConfig(entrypoint=("/opt/app/run",)))
    layer = layer_of(image)
    assert list(layer) == ["opt", "opt/app", "opt/app/run", "opt/link"]
    assert layer["opt"][0].isdir() and stat.S_IMODE(layer["opt"][0].mode) == 0o755
    assert stat.S_IMODE(layer["opt/app/run"][0].mode) == 0o700
    assert layer["opt/link"][0].linkname == "app/run"


@pytest.mark.parametrize("path", ["opt/app", "/", "/opt/../etc/passwd"])
def test_layer_rejects_paths_outside_the_root(path: str) -> None:
    with pytest.raises(ValueError):
        oci.layer_tar({path: Directory()})


def test_cached_archive_is_written_once_under_its_digest(
    standard: dict[str, BuiltImage], tmp_path: pathlib.Path
) -> None:
    image = standard["berth.local/toolbox:1"]
    path = images.cached_archive(image, tmp_path / "cache")
    assert path.name == image.archive_digest.removeprefix("sha256:") + ".tar"
    assert path.read_bytes() == image.archive
    path.write_bytes(b"sentinel")  # a second call must not rewrite it
    assert images.cached_archive(image, tmp_path / "cache") == path
    assert path.read_bytes() == b"sentinel"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def fake_ctr(tmp_path: pathlib.Path, listing: str) -> pathlib.Path:
    """A `ctr` that prints `listing` for `images ls` and records every call."""
    (tmp_path / "listing").write_text(listing)
    script = tmp_path / "ctr"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {tmp_path}/calls\n'
        f'case "$*" in *"images ls"*) cat {tmp_path}/listing ;; esac\n'
    )
    script.chmod(0o755)
    return script


def test_import_skips_images_present_with_the_same_manifest_digest(
    standard: dict[str, BuiltImage], tmp_path: pathlib.Path
) -> None:
    busybox = tmp_path / "busybox"
    busybox.write_bytes(FAKE_BUSYBOX)
    specs = images.standard_images(busybox)
    v1, v2 = standard["berth.local/hello:v1"], standard["berth.local/hello:v2"]
    listing = (
        "REF TYPE DIGEST SIZE PLATFORMS LABELS\n"
        f"berth.local/hello:v1 application/vnd.oci.image.manifest.v1+json {v1.manifest_digest} 1.9 MiB linux/amd64 -\n"
        # present, but an older build: imported again
        f"berth.local/hello:v2 application/vnd.oci.image.manifest.v1+json sha256:{'0' * 64} 1.9 MiB linux/amd64 -\n"
    )
    ctr = fake_ctr(tmp_path, listing)
    report = images.import_images(ctr, "/run/x.sock", specs, tmp_path / "cache")
    assert report.skipped == ("berth.local/hello:v1",)
    assert report.imported == (
        "berth.local/pause:1",
        "berth.local/toolbox:1",
        "berth.local/hello:v2",
        "berth.local/hello:unhealthy",
    )
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0] == "--address /run/x.sock -n k8s.io images ls"
    v2_archive = tmp_path / "cache" / (v2.archive_digest.removeprefix("sha256:") + ".tar")
    assert f"--address /run/x.sock -n k8s.io images import {v2_archive}" in calls
    assert len(calls) == 5
    assert report.total_seconds >= report.import_seconds > 0


def test_failed_ctr_call_raises_with_its_error_output(tmp_path: pathlib.Path) -> None:
    ctr = tmp_path / "ctr"
    ctr.write_text("#!/bin/sh\necho 'connection refused' >&2\nexit 1\n")
    ctr.chmod(0o755)
    with pytest.raises(images.ImageImportError, match="connection refused"):
        images.import_images(ctr, "/nowhere.sock", [], tmp_path / "cache")


def test_the_https_tag_carries_the_tls_front_and_names_its_port(tmp_path: pathlib.Path) -> None:
    busybox, front = tmp_path / "busybox", tmp_path / "hello-tls"
    busybox.write_bytes(FAKE_BUSYBOX)
    front.write_bytes(b"\x7fELF not really hello-tls\n")
    specs = {spec.reference: spec for spec in images.standard_images(busybox, hello_tls=front)}
    image = build(specs[images.HELLO_HTTPS])
    layer = layer_of(image)
    assert layer["bin/hello-tls"][1] == front.read_bytes()
    assert stat.S_IMODE(layer["bin/hello-tls"][0].mode) == 0o755
    runtime = config_of(image)["config"]
    assert runtime["Entrypoint"] == ["/bin/hello"]  # hello.sh starts the front beside the app
    assert runtime["ExposedPorts"] == {"80/tcp": {}, "443/tcp": {}}
    assert "HTTPS_PORT=443" in runtime["Env"]
    assert images.HELLO_HTTPS not in {s.reference for s in images.standard_images(busybox)}
