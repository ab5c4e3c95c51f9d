"""`--wait`: when a service or version counts as settled, failed, and what progress says."""

from __future__ import annotations

import io
from typing import Any

from berth.api.objects import ContainerServiceObject, VersionObject, parse_service, parse_version
from berth.cli.waiting import Outcome, Progress, describe_service, service_outcome, version_outcome

CONTAINERS = {"web": {"image": "nginx", "ports": {"80": "HTTP"}}}


def service(status: dict[str, Any], deployment: bool = True, **spec: Any) -> ContainerServiceObject:
    body_spec: dict[str, Any] = {"power": "nano", "scale": 2, **spec}
    if deployment:
        body_spec["deployment"] = {"containers": CONTAINERS}
    return parse_service({"metadata": {"name": "web"}, "spec": body_spec, "status": status})


def summary(version: int, state: str) -> dict[str, Any]:
    return {"version": version, "state": state, "name": f"web-v{version}", "containers": CONTAINERS}


def version(number: int | None, state: str | None = None, message: str = "") -> VersionObject:
    status: dict[str, Any] = {"message": message}
    if number is not None:
        status["version"] = number
    if state is not None:
        status["state"] = state
    return parse_version(
        {
            "metadata": {"name": f"web-v{number}"},
            "spec": {"serviceName": "web", "containers": CONTAINERS},
            "status": status,
        }
    )


def test_a_running_service_with_nothing_next_is_done() -> None:
    running = service({"state": "RUNNING", "currentDeployment": summary(1, "ACTIVE")})
    assert service_outcome(running, [version(1, "ACTIVE")]) == Outcome(done=True)


def test_a_service_still_activating_its_next_version_is_not_done() -> None:
    deploying = service(
        {
            "state": "RUNNING",
            "currentDeployment": summary(1, "ACTIVE"),
            "nextDeployment": summary(2, "ACTIVATING"),
        }
    )
    assert service_outcome(deploying, [version(1, "ACTIVE"), version(2, "ACTIVATING")]) == Outcome()


def test_a_service_without_any_deployment_is_done_when_ready() -> None:
    ready = service({"state": "READY"}, deployment=False)
    assert service_outcome(ready, []) == Outcome(done=True)


def test_a_ready_service_whose_inline_deployment_is_not_versioned_yet_is_not_done() -> None:
    assert service_outcome(service({"state": "READY"}), []) == Outcome()
    assert service_outcome(service({"state": "PENDING"}), []) == Outcome()


def test_a_failed_first_version_fails_the_wait_with_its_reason() -> None:
    ready = service({"state": "READY"})
    outcome = service_outcome(ready, [version(1, "FAILED", "ErrImagePull: no such image")])
    assert outcome == Outcome(failure="version 1 failed: ErrImagePull: no such image")


def test_a_failed_newer_version_with_an_active_one_is_not_a_failed_service() -> None:
    running = service({"state": "RUNNING", "currentDeployment": summary(1, "ACTIVE")})
    assert service_outcome(running, [version(1, "ACTIVE"), version(2, "FAILED")]).done


def test_a_disabled_service_is_done_when_disabled() -> None:
    disabled = service({"state": "DISABLED"}, isDisabled=True)
    assert service_outcome(disabled, [version(1, "ACTIVE")]) == Outcome(done=True)


def test_a_version_settles_as_active_or_fails_as_failed_or_superseded() -> None:
    assert version_outcome(version(None)) == Outcome()
    assert version_outcome(version(2, "ACTIVATING")) == Outcome()
    assert version_outcome(version(2, "ACTIVE")) == Outcome(done=True)
    assert version_outcome(version(2, "FAILED", "progress deadline exceeded")) == Outcome(
        failure="version 2 failed: progress deadline exceeded"
    )
    assert "superseded" in (version_outcome(version(2, "INACTIVE")).failure or "")


def test_progress_names_state_detail_version_and_readiness() -> None:
    deploying = service(
        {
            "state": "DEPLOYING",
            "stateDetail": {"code": "ACTIVATING_DEPLOYMENT", "message": "1/2 updated"},
            "nextDeployment": summary(2, "ACTIVATING"),
            "readyReplicas": 1,
        }
    )
    assert describe_service(deploying) == (
        "web: DEPLOYING (ACTIVATING_DEPLOYMENT: 1/2 updated), version 2 ACTIVATING, 1/2 ready"
    )
    running = service({"state": "RUNNING", "currentDeployment": summary(1, "ACTIVE")})
    assert describe_service(running) == "web: RUNNING, version 1 ACTIVE, 0/2 ready"


def test_progress_prints_only_changes_with_the_elapsed_time() -> None:
    stream = io.StringIO()
    ticks = iter([0.0, 1.0, 2.0])  # the clock is read at start and per printed line
    progress = Progress(stream, clock=lambda: next(ticks))
    for line in ["a", "a", "b"]:
        progress.report(line)
    assert stream.getvalue() == "[    1s] a\n[    2s] b\n"
