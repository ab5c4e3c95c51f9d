"""The busybox images round-trip through a real containerd: imported by name, run, stopped."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from tests.machine import needs

from devcluster import images


def missing_requirements() -> list[str]:
    missing = [] if os.geteuid() == 0 else ["root (containerd and runc need it)"]
    tools = ("containerd", "containerd-shim-runc-v2", "ctr", "runc")
    missing += [tool for tool in tools if shutil.which(tool) is None]
    if not images.BUSYBOX.is_file():
        missing.append(f"{images.BUSYBOX} (Debian package busybox-static)")
    return missing


MISSING = missing_requirements()
pytestmark = [
    pytest.mark.e2e,
    needs(MISSING, "the containerd round trip"),
]


@dataclass
class Containerd:
    """A private containerd: its own root, state, sockets and runc root, all under `home`."""

    home: pathlib.Path
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> pathlib.Path:
        return self.home / "containerd.sock"

    def ctr(self, *args: str, check: bool = True, timeout: float = 20) -> str:
        command = ["ctr", "--address", str(self.address), "-n", images.NAMESPACE, *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}")
        return done.stdout + done.stderr


CONFIG = """\
version = 2
root = "{home}/root"
state = "{home}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{home}/containerd.sock"
[ttrpc]
  address = "{home}/containerd.sock.ttrpc"
[debug]
  address = "{home}/debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "{home}/opt"
"""


def eventually(probe: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def unmount_below(home: pathlib.Path) -> None:
    """Leftover mounts (a test that died mid-run) must go before the folder is removed."""
    with open("/proc/self/mountinfo") as mountinfo:
        points = [line.split()[4] for line in mountinfo]
    for point in sorted((p for p in points if p.startswith(f"{home}/")), reverse=True):
        subprocess.run(["umount", "-l", point], check=False)


@pytest.fixture(scope="module")
def containerd() -> Iterator[Containerd]:
    # A short path under /tmp: unix socket paths are limited to 108 bytes.
    home = pathlib.Path(tempfile.mkdtemp(prefix="berth-ctrd-", dir="/tmp"))
    (home / "config.toml").write_text(CONFIG.format(home=home))
    with open(home / "containerd.log", "wb") as log:
        process = subprocess.Popen(
            ["containerd", "--config", str(home / "config.toml")], stdout=log, stderr=log
        )
    daemon = Containerd(home, process)
    try:
        eventually(lambda: daemon.ctr("version", check=False).count("Version") == 2, "containerd")
        yield daemon
    finally:
        for task in daemon.ctr("task", "ls", "-q", check=False).split():
            daemon.ctr("task", "kill", "-s", "SIGKILL", task, check=False)
        process.terminate()
        process.wait(timeout=10)
        unmount_below(home)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def imported(containerd: Containerd) -> images.ImportReport:
    return images.import_images(
        "ctr", containerd.address, images.standard_images(), containerd.home / "cache"
    )


class Running:
    """One `ctr run --rm` container; its stdout and stderr are files we can poll."""

    def __init__(self, daemon: Containerd, image: str, *env: str) -> None:
        self.daemon = daemon
        self.id = f"test-{uuid.uuid4().hex[:8]}"
        self.stdout = daemon.home / f"{self.id}.out"
        self.stderr = daemon.home / f"{self.id}.err"
        options = [
            "--runc-root",
            str(daemon.home / "runc"),
            "--fifo-dir",
            str(daemon.home / "fifo"),
        ]
        options += [f"--env={pair}" for pair in env]
        command = ["ctr", "--address", str(daemon.address), "-n", images.NAMESPACE, "run", "--rm"]
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.process = subprocess.Popen(
                [*command, *options, image, self.id],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        eventually(lambda: self.id in daemon.ctr("task", "ls", "-q").split(), f"task {self.id}")

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        exec_id = uuid.uuid4().hex[:8]
        ctr = ["ctr", "--address", str(self.daemon.address), "-n", images.NAMESPACE]
        return subprocess.run(
            [*ctr, "task", "exec", "--exec-id", exec_id, self.id, *command],
            capture_output=True,
            text=True,
            timeout=10,
        )

    def get(self, url: str) -> tuple[str, str]:
        """The status line and body of GET `url`, fetched with busybox wget inside."""
        done = self.exec("wget", "-S", "-O-", url)
        status = next(line for line in done.stderr.splitlines() if line.strip().startswith("HTTP/"))
        return status.strip(), done.stdout

    def stop(self) -> int:
        """Sends SIGTERM; returns the exit code. PID 1 ignores a signal it has no handler for,
        so 0 here means the image's own handler ran (the timeout only guards against a hang)."""
        self.daemon.ctr("task", "kill", "-s", "SIGTERM", self.id)
        return self.process.wait(timeout=30)


def test_import_names_each_image_exactly_and_a_second_import_skips_them(
    containerd: Containerd, imported: images.ImportReport
) -> None:
    names = [spec.reference for spec in images.standard_images()]
    assert list(imported.imported) == names
    assert set(containerd.ctr("images", "ls", "-q").split()) == set(names)
    again = images.import_images(
        "ctr", containerd.address, images.standard_images(), containerd.home / "cache"
    )
    assert again.imported == ()
    assert list(again.skipped) == names


def test_hello_v1_serves_its_version_and_a_healthy_healthz_and_logs_requests(
    containerd: Containerd, imported: images.ImportReport
) -> None:
    hello = Running(containerd, "berth.local/hello:v1")
    eventually(lambda: "hello v1 listening on :80" in hello.stdout.read_text(), "the start line")
    status, body = hello.get("http://127.0.0.1/")
    assert status == "HTTP/1.1 200 OK"
    assert body.startswith("hello from berth v1 on ")
    assert hello.get("http://127.0.0.1/healthz") == ("HTTP/1.1 200 OK", "healthz 200\n")
    assert hello.get("http://127.0.0.1/missing")[0] == "HTTP/1.1 404 Not Found"
    assert hello.stop() == 0
    log = hello.output()
    for line in ("GET / 200", "GET /healthz 200", "GET /missing 404", "hello v1 stopping"):
        assert line in log


def test_unhealthy_answers_healthz_with_500_on_the_port_from_the_environment(
    containerd: Containerd, imported: images.ImportReport
) -> None:
    hello = Running(containerd, "berth.local/hello:unhealthy", "PORT=8080")
    eventually(lambda: "listening on :8080" in hello.stdout.read_text(), "the start line")
    assert hello.get("http://127.0.0.1:8080/healthz")[0] == "HTTP/1.1 500 Internal Server Error"
    assert hello.get("http://127.0.0.1:8080/")[1].startswith("hello from berth unhealthy on ")
    assert hello.stop() == 0


@pytest.mark.parametrize("image", [images.PAUSE, images.TOOLBOX])
def test_idle_images_exit_cleanly_on_sigterm(
    containerd: Containerd, imported: images.ImportReport, image: str
) -> None:
    idle = Running(containerd, image)
    assert "BusyBox" in idle.exec("wget", "--help").stderr  # the toolbox can make requests
    assert idle.stop() == 0
