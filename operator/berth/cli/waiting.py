"""`--wait`: poll until a service runs or a version settles, telling progress on stderr."""

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

from berth.api.objects import ContainerServiceObject, VersionObject
from berth.api.service import ServiceState
from berth.api.version import VersionState
from berth.cli.client import BerthClient
from berth.cli.errors import CliError
from berth.cli.shapes import service_state

POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Outcome:
    done: bool = False
    failure: str | None = None


class Progress:
    """Prints a line on stderr whenever what is happening changes."""

    def __init__(
        self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream or sys.stderr
        self.clock = clock
        self.started = clock()
        self.last: str | None = None

    def report(self, line: str) -> None:
        if line != self.last:
            self.last = line
            print(f"[{self.clock() - self.started:5.0f}s] {line}", file=self.stream, flush=True)


def describe_service(service: ContainerServiceObject) -> str:
    status = service.status
    line = f"{service.name}: {service_state(service).value}"
    if status.state_detail and (status.state_detail.code or status.state_detail.message):
        detail = status.state_detail
        line += f" ({': '.join(p for p in (detail.code, detail.message) if p)})"
    if status.next_deployment:
        line += f", version {status.next_deployment.version} {status.next_deployment.state.value}"
    elif status.current_deployment:
        line += f", version {status.current_deployment.version} ACTIVE"
    return line + f", {status.ready_replicas or 0}/{service.spec.scale} ready"


def service_outcome(service: ContainerServiceObject, versions: Sequence[VersionObject]) -> Outcome:
    """Done when the service serves (or, without any deployment, is ready or disabled)."""
    state = service_state(service)
    numbered = sorted((v for v in versions if v.number is not None), key=lambda v: v.number or 0)
    newest = numbered[-1] if numbered else None
    failed = newest is not None and newest.status.state == VersionState.FAILED
    if failed and newest is not None and service.status.current_deployment is None:
        return Outcome(failure=f"version {newest.number} failed: {newest.status.message}")
    if state == ServiceState.RUNNING and service.status.next_deployment is None:
        return Outcome(done=True)
    if state == ServiceState.DISABLED and service.spec.is_disabled:
        return Outcome(done=True)
    nothing_to_deploy = not versions and service.spec.deployment is None
    return Outcome(done=state == ServiceState.READY and nothing_to_deploy)


def version_outcome(version: VersionObject) -> Outcome:
    state = version.status.state
    if version.number is None:
        return Outcome()
    if state == VersionState.ACTIVE:
        return Outcome(done=True)
    if state == VersionState.FAILED:
        return Outcome(failure=f"version {version.number} failed: {version.status.message}")
    if state == VersionState.INACTIVE:
        return Outcome(failure=f"version {version.number} was superseded by a newer version")
    return Outcome()


def _until(check: Callable[[], Outcome], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if outcome.failure:
            raise CliError(outcome.failure)
        if outcome.done:
            return
        if time.monotonic() >= deadline:
            raise CliError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(POLL_SECONDS)


def wait_service(client: BerthClient, name: str, timeout: float, progress: Progress) -> None:
    def check() -> Outcome:
        service = client.service(name)
        progress.report(describe_service(service))
        return service_outcome(service, client.versions(name))

    _until(check, timeout, f"{name} to run")


def wait_version(
    client: BerthClient, service: str, version: str, timeout: float, progress: Progress
) -> VersionObject:
    """Waits for the version object named `version`; returns it once ACTIVE."""

    def check() -> Outcome:
        found = client.version(version)
        state = found.status.state.value if found.status.state else "waiting for a number"
        number = f"version {found.number}" if found.number else version
        progress.report(f"{service}: {number} {state}")
        return version_outcome(found)

    _until(check, timeout, f"{version} to become ACTIVE")
    return client.version(version)


def wait_gone(client: BerthClient, name: str, timeout: float, progress: Progress) -> None:
    def check() -> Outcome:
        if client.find_service(name) is None:
            return Outcome(done=True)
        progress.report(f"{name}: DELETING")
        return Outcome()

    _until(check, timeout, f"{name} to be deleted")
