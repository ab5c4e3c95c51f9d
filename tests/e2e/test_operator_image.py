"""`make image` for real: pinned .debs and wheels (from the shared cache once warm), built twice
to the same digest, holding the operator and nothing of the dev cluster, and running as its
unprivileged user from the unpacked root filesystem. Needs no cluster."""

from __future__ import annotations

import gzip
import io
import json
import os
import pathlib
import shutil
import subprocess
import tarfile
from collections.abc import Iterator

import pytest
from tests.machine import skip_or_fail

from devcluster import operator_image_spec as spec
from devcluster.operator_image import OperatorImage, build_operator_image
from devcluster.settings import DevSettings

SITE = spec.SITE_PACKAGES.lstrip("/")


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OperatorImage, ...]]:
    if not shutil.which("apt-get") or not shutil.which("dpkg"):
        skip_or_fail("the operator image is built from Debian packages: needs apt-get")
    cache = DevSettings().cache  # shared with `make image`, so only the first run downloads
    yield tuple(
        build_operator_image(cache, tmp_path_factory.mktemp(f"image{n}"), log=print) for n in (1, 2)
    )


def blobs(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {
            m.name.removeprefix("blobs/sha256/"): tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def layers(image: OperatorImage) -> list[tarfile.TarFile]:
    found = blobs(image.image.archive)
    manifest = json.loads(found[image.image.manifest_digest[7:]])
    return [
        tarfile.open(fileobj=io.BytesIO(gzip.decompress(found[layer["digest"][7:]])))
        for layer in manifest["layers"]
    ]


def test_two_builds_of_one_commit_give_the_same_digest(builds: tuple[OperatorImage, ...]) -> None:
    first, second = builds
    assert first.image.manifest_digest == second.image.manifest_digest
    assert first.archive_path.read_bytes() == second.archive_path.read_bytes()
    record = json.loads(first.record_path.read_text())
    assert record["reference"] == str(first.image.reference)
    assert record["manifest_digest"] == first.image.manifest_digest
    assert str(first.image.reference).startswith("berth.local/berth-operator:")


def test_the_image_holds_berth_and_nothing_of_the_dev_cluster_or_tests(
    builds: tuple[OperatorImage, ...],
) -> None:
    names = [name for layer in layers(builds[0]) for name in layer.getnames()]
    assert f"{SITE}/berth/__main__.py" in names
    assert f"{SITE}/berth/handlers/__pycache__/lifecycle.cpython-311.pyc" in names
    assert f"{SITE}/kopf/__init__.py" in names and "usr/bin/python3.11" in names
    assert [n for n in names if "devcluster" in n or n.startswith(f"{SITE}/tests")] == []
    assert [n for n in names if n.startswith(f"{SITE}/berth/") and "/tests/" in n] == []


def test_the_image_config_runs_the_operator_as_a_non_root_user(
    builds: tuple[OperatorImage, ...],
) -> None:
    built = builds[0].image
    config = json.loads(blobs(built.archive)[built.config_digest[7:]])
    assert config["config"]["User"] == "10001:10001"
    assert config["config"]["Entrypoint"] == ["/opt/berth/bin/python", "-m", "berth"]
    assert config["config"]["Labels"]["org.opencontainers.image.version"] == built.reference.tag


def test_the_images_python_imports_the_operator_as_its_user(
    builds: tuple[OperatorImage, ...], tmp_path: pathlib.Path
) -> None:
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    if os.geteuid() != 0 or not os.path.exists(chroot):
        skip_or_fail("running the image's root filesystem needs chroot as root")
    for layer in layers(builds[0]):
        layer.extractall(tmp_path, filter="tar")
    tmp_path.chmod(0o755)  # the root a runtime makes; pytest's are private to root
    probe = (
        "import importlib.metadata as m, ssl, sys; import berth.handlers.lifecycle, berth.settings;"
        "print(sys.version_info[:2], m.version('berth'), m.version('kopf'), ssl.OPENSSL_VERSION)"
    )
    result = subprocess.run(
        [chroot, f"--userspec={spec.USER}", str(tmp_path), spec.ENTRYPOINT[0], "-c", probe],
        env=dict(spec.ENV),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    print(result.stdout)
    assert result.stdout.startswith(f"(3, 11) {builds[0].image.reference.tag} ")
    assert "OpenSSL 3." in result.stdout
    # The shipped bytecode is used as is: nothing was compiled at start (and could not be).
    assert not list((tmp_path / SITE).rglob("*.cpython-311.opt-*.pyc"))
