"""Child processes of the control plane: one process group and one log file each."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import pathlib
import signal
import subprocess
import sys
import time

_PR_SET_PDEATHSIG = 1
# Loaded here, in the parent: the forked child may only make the call, not look anything up.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


@dataclasses.dataclass
class Child:
    """One running component."""

    name: str
    process: subprocess.Popen[bytes]
    log: pathlib.Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class ChildFailed(RuntimeError):
    """A component exited while the cluster needed it."""

    def __init__(self, child: Child) -> None:
        super().__init__(
            f"{child.name} exited with code {child.process.returncode}; "
            f"last lines of {child.log}:\n{child.log_tail()}"
        )


class OwnedChild:
    """A component that runs as one child process, started by a subclass into `child`."""

    child: Child | None = None

    def check(self) -> None:
        """Raises ChildFailed once the process has exited."""
        if self.child is not None and not self.child.alive():
            raise ChildFailed(self.child)

    def stop(self) -> None:
        if self.child is not None:
            stop_all([self.child])
            self.child = None


def spawn(
    name: str, argv: list[str], log_dir: pathlib.Path, env: dict[str, str] | None = None
) -> Child:
    """Starts `argv` in its own process group, stdout and stderr going to `<log_dir>/<name>.log`;
    with `env`, that environment instead of this process's."""
    log = log_dir / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            # Own group: a Ctrl-C in the terminal reaches only us, and we stop children in order.
            process_group=0,
            preexec_fn=_die_with_parent if _LIBC is not None else None,
        )
    return Child(name=name, process=process, log=log)


def stop_all(children: list[Child], timeout: float = 10.0) -> None:
    """SIGTERM to each child's group at once; SIGKILL for those still running after `timeout`."""
    for child in children:
        if child.alive():
            _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(child, signal.SIGKILL)
            child.process.wait()
        # The leader may be gone while something it forked still holds the group.
        _signal_group(child, signal.SIGKILL)


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Pids among `pids` still alive after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    alive = pids
    while True:
        alive = [pid for pid in alive if _pid_alive(pid)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def _signal_group(child: Child, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes; /proc tells them apart.
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _die_with_parent() -> None:
    # Safety net for a parent killed with SIGKILL, when no Python cleanup can run. Linux ties
    # this to the thread that forked, so start a cluster from a thread that outlives it.
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
