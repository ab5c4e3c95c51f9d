"""Bytecode for an image's Python files, compiled ahead by the image's own interpreter.

The operator runs with PYTHONDONTWRITEBYTECODE on a read-only root filesystem, so without these
every start would compile the standard library and the dependencies again. The interpreter is
run from the staged root filesystem through the image's own dynamic loader (no chroot, no root),
files are compiled one after another in one process with a fixed hash seed, and the .pyc files
check their source by hash, not by mtime: the same sources always give the same bytes.
"""

from __future__ import annotations

import pathlib
import subprocess
import tempfile
from collections.abc import Iterable, Mapping

from devcluster.oci import Directory, Entry, Regular, Symlink

# Python 2 code and deliberately broken files that the standard library ships as test data.
EXCLUDED = r"lib2to3/tests|/test/|/tests/data/"


class BytecodeError(RuntimeError):
    pass


def stage(files: Mapping[str, Entry], root: pathlib.Path) -> None:
    """Writes `files` (absolute image paths) below `root`."""
    for path in sorted(files):
        entry, target = files[path], root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(entry, Directory):
            target.mkdir(exist_ok=True)
        elif isinstance(entry, Symlink):
            target.symlink_to(entry.target)
        else:
            target.write_bytes(entry.data)
            target.chmod(entry.mode)


def loader(root: pathlib.Path) -> pathlib.Path:
    """The image's dynamic loader (a file, not the /lib64 link that points at the host's)."""
    found = [p for p in root.glob("usr/lib/*-linux-gnu/ld-linux*.so.*") if not p.is_symlink()]
    if len(found) != 1:
        raise BytecodeError(f"expected one dynamic loader in the image, found {found}")
    return found[0]


def compile_command(root: pathlib.Path, python: str, directories: Iterable[str]) -> list[str]:
    libraries = [str(p) for p in sorted(root.glob("usr/lib/*-linux-gnu")) if p.is_dir()]
    return [
        str(loader(root)),
        "--library-path",
        ":".join(libraries),
        str(root / python.lstrip("/")),
        "-s",
        "-S",
        "-B",  # no timestamped .pyc for the modules compileall itself imports...
        "-m",
        "compileall",
        "-q",
        "-f",  # ...and any such file there is rewritten with a source hash
        "--invalidation-mode=unchecked-hash",
        f"-s{root}",  # the file names recorded in the bytecode are the image's
        "-p/",
        f"-x{EXCLUDED}",
        *(str(root / d.lstrip("/")) for d in directories),
    ]


def compiled(root: pathlib.Path) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for path in sorted(root.rglob("__pycache__/*.pyc")):
        found["/" + path.relative_to(root).as_posix()] = Regular(path.read_bytes())
    return found


def bytecode(
    files: Mapping[str, Entry], python: str, directories: Iterable[str]
) -> dict[str, Entry]:
    """The .pyc files of every module in `directories` of the image made of `files`."""
    with tempfile.TemporaryDirectory(prefix="berth-bytecode-") as staging:
        root = pathlib.Path(staging)
        stage(files, root)
        # The root filesystem's own prefix, so the host's standard library is never on the path.
        env = {"PYTHONHOME": str(root / "usr"), "PYTHONHASHSEED": "0", "LC_ALL": "C"}
        result = subprocess.run(
            compile_command(root, python, directories),
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise BytecodeError(f"compiling the image's modules failed: {output[-2000:]}")
        return compiled(root)


def split(pyc: Mapping[str, Entry], prefixes: Iterable[str]) -> list[dict[str, Entry]]:
    """`pyc` divided by the first of `prefixes` each path starts with (the last is a catch-all)."""
    prefixes = list(prefixes)
    parts: list[dict[str, Entry]] = [{} for _ in prefixes]
    for path, entry in pyc.items():
        index = next(i for i, prefix in enumerate(prefixes) if path.startswith(prefix))
        parts[index][path] = entry
    return parts
