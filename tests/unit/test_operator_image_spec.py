"""The operator image's description: what goes in, who it runs as, its labels, and the Dockerfile
that must say the same; the Debian package reading it is built from."""

from __future__ import annotations

import io
import pathlib
import tarfile

import pytest

from devcluster import bytecode, debs, oci, wheels
from devcluster import operator_image as builder
from devcluster import operator_image_spec as spec
from devcluster.oci import Directory, Regular, Symlink

REPO = pathlib.Path(__file__).resolve().parents[2]
SITE = spec.SITE_PACKAGES


def test_only_the_berth_package_goes_into_the_image() -> None:
    sources = {
        "berth/__init__.py": b"",
        "berth/handlers/lifecycle.py": b"x = 1\n",
        "berth/py.typed": b"",
        "berth/__pycache__/__init__.cpython-311.pyc": b"stale",
        "berth/handlers/lifecycle.pyc": b"stale",
        "devcluster/oci.py": b"",
        "tests/unit/test_x.py": b"",
        "berth.egg-info/PKG-INFO": b"",
    }
    files = spec.berth_files(sources, "1.2.3")
    assert sorted(files) == [
        f"{SITE}/berth-1.2.3.dist-info/METADATA",
        f"{SITE}/berth/__init__.py",
        f"{SITE}/berth/handlers/lifecycle.py",
        f"{SITE}/berth/py.typed",
    ]
    metadata = files[f"{SITE}/berth-1.2.3.dist-info/METADATA"]
    assert isinstance(metadata, Regular) and b"Name: berth\nVersion: 1.2.3\n" in metadata.data


def test_the_checkouts_package_sources_hold_no_dev_cluster_or_tests() -> None:
    sources = builder.package_sources(REPO / "operator")
    assert "berth/__main__.py" in sources and "berth/handlers/lifecycle.py" in sources
    assert all(name.startswith("berth/") and "__pycache__" not in name for name in sources)


def test_the_image_runs_python_m_berth_as_the_unprivileged_berth_user() -> None:
    config = spec.image_config("amd64", "0.1.0", "abc123", 1_700_000_000)
    assert config.user == "10001:10001"
    assert config.entrypoint == ("/opt/berth/bin/python", "-m", "berth")
    assert config.env["PATH"].startswith("/opt/berth/bin:")
    assert config.env["PYTHONDONTWRITEBYTECODE"] == "1" and config.env["PYTHONUNBUFFERED"] == "1"
    assert config.exposed_ports == (8080, 8081)
    passwd = spec.system_files()["/etc/passwd"]
    assert isinstance(passwd, Regular) and b"berth:x:10001:10001:" in passwd.data


def test_labels_carry_the_version_the_commit_and_its_time() -> None:
    config = spec.image_config("amd64", "0.1.0", "abc123", 1_700_000_000, "https://example.org/b")
    prefix = "org.opencontainers.image."
    assert dict(config.labels) == {
        prefix + "title": "berth-operator",
        prefix + "description": spec.DESCRIPTION,
        prefix + "version": "0.1.0",
        prefix + "revision": "abc123",
        prefix + "created": "2023-11-14T22:13:20Z",
        prefix + "licenses": "NOASSERTION",
        prefix + "source": "https://example.org/b",
    }
    assert config.created == "2023-11-14T22:13:20Z"
    assert "org.opencontainers.image.source" not in spec.labels("1", "r", "t")


def test_the_venv_points_at_the_pinned_interpreter() -> None:
    pins = debs.parse_pins(builder.PINS.read_text(), "amd64")
    files = spec.venv_files(spec.python_version(pins))
    assert files["/opt/berth/bin/python"] == Symlink("/usr/bin/python3.11")
    config = files["/opt/berth/pyvenv.cfg"]
    assert isinstance(config, Regular) and b"version = 3.11." in config.data


def test_the_committed_dockerfile_is_the_one_generated_from_the_spec() -> None:
    # Run `python -m devcluster.operator_image --dockerfile` after changing the spec or the pins.
    assert (REPO / "Dockerfile").read_text() == builder.dockerfile()


def test_the_dockerfile_says_what_the_image_config_says() -> None:
    text = builder.dockerfile()
    assert "USER 10001:10001\n" in text and "EXPOSE 8080 8081\n" in text
    assert 'ENTRYPOINT ["/opt/berth/bin/python", "-m", "berth"]\n' in text
    assert "--constraint requirements.lock ." in text
    for pin in debs.parse_pins(builder.PINS.read_text(), "amd64"):
        assert f"      {pin.name}={pin.version} \\\n" in text
    for name, value in spec.ENV.items():
        assert f"{name}={value}" in text


def test_runtime_dependencies_are_the_pyprojects_installed_under_the_lock() -> None:
    requirements = wheels.runtime_requirements((REPO / "pyproject.toml").read_text())
    assert any(r.startswith("kopf") for r in requirements)
    assert not any(r.startswith(("pytest", "lupa", "mypy")) for r in requirements)
    command = wheels.install_command(
        requirements, REPO / "requirements.lock", "amd64", pathlib.Path("/c"), pathlib.Path("/t")
    )
    assert f"--constraint={REPO / 'requirements.lock'}" in command
    assert "--only-binary=:all:" in command and "--python-version=3.11" in command


def test_pins_are_parsed_per_architecture_and_malformed_lines_refused() -> None:
    text = f"# c\nlibc6 2.36 amd64 {'a' * 64}\nlibc6 2.36 arm64 {'b' * 64}\nmt 1 all {'c' * 64}\n"
    assert [(p.name, p.architecture) for p in debs.parse_pins(text, "amd64")] == [
        ("libc6", "amd64"),
        ("mt", "all"),
    ]
    with pytest.raises(debs.PackageError, match="riscv64"):
        debs.parse_pins(text, "riscv64")
    with pytest.raises(debs.PackageError, match="line 1"):
        debs.parse_pins("libc6 2.36 amd64\n", "amd64")
    assert debs.Pin("zlib1g", "1:1.2", "amd64", "0" * 64).filename == "zlib1g_1%3a1.2_amd64.deb"


def tar_xz(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def info(
    name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, link: str = ""
) -> tarfile.TarInfo:
    made = tarfile.TarInfo(name)
    made.type, made.mode, made.linkname = kind, mode, link
    return made


def fake_deb(files: list[tuple[tarfile.TarInfo, bytes]], control: bytes = b"Package: x\n") -> bytes:
    members = [
        (b"debian-binary", b"2.0\n"),
        (b"control.tar.xz", tar_xz([(info("./control"), control)])),
        (b"data.tar.xz", tar_xz(files)),
    ]
    out = b"!<arch>\n"
    for name, data in members:
        header = name.ljust(16) + b"0".ljust(12) + b"0".ljust(6) * 2 + b"100644".ljust(8)
        out += header + str(len(data)).encode().ljust(10) + b"`\n" + data + b"\n" * (len(data) % 2)
    return out


def test_a_package_is_read_with_merged_usr_trimmed_docs_and_hard_links_copied() -> None:
    deb = fake_deb(
        [
            (info(".", tarfile.DIRTYPE, 0o755), b""),
            (info("./lib/x86_64-linux-gnu/libz.so.1.2", mode=0o644), b"ELF"),
            (info("./lib/x86_64-linux-gnu/libz.so.1", tarfile.SYMTYPE, link="libz.so.1.2"), b""),
            (info("./usr/bin/tool", mode=0o755), b"#!"),
            (info("./usr/bin/tool2", tarfile.LNKTYPE, link="./usr/bin/tool"), b""),
            (info("./usr/share/doc/z/copyright"), b"licence"),
            (info("./usr/share/doc/z/changelog.gz"), b"log"),
            (info("./usr/share/man/man1/tool.1.gz"), b"man"),
            (info("./usr/lib/x86_64-linux-gnu/gconv/UTF-16.so"), b"iconv"),
        ]
    )
    files = debs.package_files(deb)
    assert files == {
        "/usr/lib/x86_64-linux-gnu/libz.so.1.2": Regular(b"ELF"),
        "/usr/lib/x86_64-linux-gnu/libz.so.1": Symlink("libz.so.1.2"),
        "/usr/bin/tool": Regular(b"#!", 0o755),
        "/usr/bin/tool2": Regular(b"#!", 0o755),
        "/usr/share/doc/z/copyright": Regular(b"licence"),
    }
    assert debs.control(deb) == b"Package: x\n"


def test_the_root_filesystem_links_lib_into_usr_and_records_each_package() -> None:
    one = fake_deb([(info("./lib/a"), b"a")], b"Package: one\n")
    two = fake_deb([(info("./usr/lib/b"), b"b")], b"Package: two\n")
    pins = {debs.Pin(n, "1", "amd64", "0" * 64): d for n, d in (("one", one), ("two", two))}
    tree = debs.root_filesystem(pins)
    assert tree["/lib"] == Symlink("usr/lib") and tree["/bin"] == Symlink("usr/bin")
    assert tree["/usr/lib/a"] == Regular(b"a") and tree["/usr/lib/b"] == Regular(b"b")
    assert tree["/var/lib/dpkg/status.d/two"] == Regular(b"Package: two\n")


def test_two_packages_with_different_contents_at_one_path_are_refused() -> None:
    one = fake_deb([(info("./usr/lib/a"), b"a")])
    two = fake_deb([(info("./usr/lib/a"), b"not a")])
    pins = {debs.Pin(n, "1", "amd64", "0" * 64): d for n, d in (("one", one), ("two", two))}
    with pytest.raises(debs.PackageError, match="/usr/lib/a is in both one and two"):
        debs.root_filesystem(pins)


def test_bytecode_goes_into_the_layer_of_its_source() -> None:
    pyc = {
        f"{SITE}/berth/__pycache__/a.pyc": Regular(b"1"),
        f"{SITE}/kopf/__pycache__/b.pyc": Regular(b"2"),
        "/usr/lib/python3.11/__pycache__/os.pyc": Regular(b"3"),
    }
    berth, dependencies, base = bytecode.split(pyc, (f"{SITE}/berth/", SITE, "/"))
    assert list(berth) == [f"{SITE}/berth/__pycache__/a.pyc"]
    assert list(dependencies) == [f"{SITE}/kopf/__pycache__/b.pyc"]
    assert list(base) == ["/usr/lib/python3.11/__pycache__/os.pyc"]


def test_layers_are_gzipped_reproducibly_and_the_config_names_the_uncompressed_tars() -> None:
    layers = [oci.layer_tar({"/a": Regular(b"a")}), oci.layer_tar({"/b": Directory()})]
    config = spec.image_config("amd64", "1", "r", 0)
    first = oci.build_layered_image("berth.local/x:1", layers, config, compress=True)
    again = oci.build_layered_image("berth.local/x:1", layers, config, compress=True)
    assert first.archive == again.archive
    assert first.diff_ids == tuple(oci.digest(layer) for layer in layers)
    assert first.layer_digests != first.diff_ids
