"""status/progress.py: a rollout's progress alone waits; anything else is written at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.unit.builders import NOW

from berth.api.service import ServiceState, ServiceStatus, StateDetail, StateDetailCode
from berth.status import conditions, progress


def deploying(
    began: datetime,
    detail: str = "starting version 1",
    ready: int = 0,
    available: bool = False,
    generation: int = 1,
    state: ServiceState = ServiceState.DEPLOYING,
) -> ServiceStatus:
    code = StateDetailCode.CREATING_DEPLOYMENT
    return ServiceStatus(
        state=state,
        state_detail=StateDetail(code=code, message=detail),
        replicas=1,
        ready_replicas=ready,
        observed_generation=generation,
        conditions=[
            conditions.condition("Reconciling", True, "Deploying", detail, generation, began),
            conditions.condition(
                "DeploymentAvailable", available, "R", f"{ready}/1", generation, began
            ),
        ],
    )


SOON = NOW - timedelta(seconds=3)
LONG_AGO = NOW - timedelta(seconds=progress.HOLD_SECONDS + 1)


def test_progress_in_the_first_seconds_of_a_rollout_waits_until_the_hold_is_over() -> None:
    old = deploying(SOON)
    new = deploying(SOON, detail="version 1: 0/1 replicas healthy")
    assert progress.held_for(old, new, NOW) == progress.HOLD_SECONDS - 3
    assert progress.recheck_in(old.conditions, NOW) == progress.HOLD_SECONDS - 3


def test_progress_of_a_rollout_running_longer_than_the_hold_is_written_at_once() -> None:
    old = deploying(LONG_AGO)
    new = deploying(LONG_AGO, detail="version 1: 0/1 replicas healthy")
    assert progress.held_for(old, new, NOW) is None
    assert progress.recheck_in(old.conditions, NOW) is None


def test_a_new_state_a_new_verdict_or_a_new_generation_is_written_at_once() -> None:
    old = deploying(SOON)
    assert progress.held_for(old, deploying(SOON, state=ServiceState.RUNNING), NOW) is None
    assert progress.held_for(old, deploying(SOON, ready=1, available=True), NOW) is None
    assert progress.held_for(old, deploying(SOON, generation=2), NOW) is None
    other_field = deploying(SOON).model_copy(update={"scale": 3})
    assert progress.held_for(old, other_field, NOW) is None


def test_only_a_deploying_service_holds_anything() -> None:
    updating = deploying(SOON, state=ServiceState.UPDATING)
    new = deploying(SOON, detail="more", state=ServiceState.UPDATING)
    assert progress.held_for(updating, new, NOW) is None
