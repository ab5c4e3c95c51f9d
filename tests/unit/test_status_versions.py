"""status/versions.py: which version is ACTIVE, which activates, which failed or was superseded."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.builders import rollout, version

from berth.api.objects import VersionObject
from berth.api.version import VersionState
from berth.status.rollout import Rollout
from berth.status.versions import VersionPlan, plan

ACTIVATING = VersionState.ACTIVATING
ACTIVE = VersionState.ACTIVE
INACTIVE = VersionState.INACTIVE
FAILED = VersionState.FAILED
CRASH = "container app: CrashLoopBackOff"


def states(result: VersionPlan) -> dict[str, VersionState]:
    return {name: state for name, (state, _) in result.states.items()}


def test_no_versions_means_nothing_to_serve() -> None:
    result = plan([], Rollout())
    assert result == VersionPlan()
    assert result.serve is None
    assert not result.running


def test_unnumbered_versions_are_ignored() -> None:
    unnumbered = version(None, name="web-handmade")
    result = plan([unnumbered], Rollout())
    assert result.states == {}
    assert result.serve is None


def test_unnumbered_versions_do_not_take_part_next_to_numbered_ones() -> None:
    v1 = version(1, "ACTIVE")
    result = plan([version(None, name="web-handmade"), v1], rollout(1))
    assert list(result.states) == ["web-v1"]
    assert result.serve is v1


# --- the first version --------------------------------------------------------------------------


def test_a_new_first_version_activates_and_is_served() -> None:
    v1 = version(1)
    result = plan([v1], Rollout())
    assert states(result) == {"web-v1": ACTIVATING}
    assert result.candidate is v1
    assert result.active is None
    assert result.serve is v1
    assert result.running


def test_first_version_becomes_active_when_its_rollout_completes() -> None:
    v1 = version(1, "ACTIVATING")
    result = plan([v1], rollout(1))
    assert states(result) == {"web-v1": ACTIVE}
    assert result.active is v1
    assert result.candidate is None
    assert result.serve is v1
    assert result.running


def test_a_failing_first_version_is_failed_and_served_without_replicas() -> None:
    v1 = version(1, "ACTIVATING")
    result = plan([v1], rollout(1, available=0, failures={1: CRASH}))
    assert result.states["web-v1"] == (FAILED, CRASH)
    assert result.active is None
    assert result.candidate is None
    assert result.serve is v1
    assert not result.running


def test_a_failed_first_version_stays_served_without_replicas() -> None:
    v1 = version(1, "FAILED", message=CRASH)
    result = plan([v1], rollout(1, desired=0))
    assert result.states["web-v1"] == (FAILED, CRASH)
    assert result.serve is v1
    assert not result.running
    assert not result.changed(v1)


# --- the next version ---------------------------------------------------------------------------


def test_newest_version_activates_while_the_deployment_still_runs_the_active_one() -> None:
    v1, v2 = version(1, "ACTIVE"), version(2)
    result = plan([v1, v2], rollout(1))
    assert states(result) == {"web-v1": ACTIVE, "web-v2": ACTIVATING}
    assert result.active is v1
    assert result.candidate is v2
    assert result.serve is v2
    assert result.running


@pytest.mark.parametrize(
    "progress",
    [
        {"updated": 1},
        {"available": 1},
        {"replicas": 3},  # an old pod is left
        {"observed": False},
    ],
)
def test_next_version_stays_activating_until_its_rollout_is_complete(
    progress: dict[str, Any],
) -> None:
    v1, v2 = version(1, "ACTIVE"), version(2, "ACTIVATING")
    result = plan([v1, v2], rollout(2, **progress))
    assert states(result) == {"web-v1": ACTIVE, "web-v2": ACTIVATING}
    assert result.active is v1
    assert result.candidate is v2
    assert result.serve is v2


def test_next_version_becomes_active_and_the_previous_inactive_when_rollout_completes() -> None:
    v1, v2 = version(1, "ACTIVE"), version(2, "ACTIVATING")
    result = plan([v1, v2], rollout(2))
    assert states(result) == {"web-v1": INACTIVE, "web-v2": ACTIVE}
    assert result.states["web-v1"][1] == "replaced by version 2"
    assert result.active is v2
    assert result.candidate is None
    assert result.serve is v2
    assert result.running


def test_a_complete_rollout_of_the_old_template_activates_nothing() -> None:
    v1, v2 = version(1, "ACTIVE"), version(2, "ACTIVATING")
    result = plan([v1, v2], rollout(1))
    assert states(result) == {"web-v1": ACTIVE, "web-v2": ACTIVATING}


def test_numbering_not_creation_order_decides_the_newest() -> None:
    v1, v2, v3 = version(1, "ACTIVE"), version(2, "INACTIVE"), version(3)
    result = plan([v3, v1, v2], rollout(1))
    assert result.candidate is v3
    assert result.serve is v3


@pytest.mark.parametrize(
    ("numbers", "newest"), [((1, 2), 2), ((4, 9), 9), ((7, 30), 30), ((2, 10), 10)]
)
def test_the_highest_number_wins_whatever_the_numbers(
    numbers: tuple[int, int], newest: int
) -> None:
    old, new = numbers
    old_v, new_v = version(old, "ACTIVE"), version(new, "ACTIVATING")
    result = plan([new_v, old_v], rollout(new))
    assert states(result) == {old_v.name: INACTIVE, new_v.name: ACTIVE}
    assert result.states[old_v.name][1] == f"replaced by version {newest}"


# --- failure ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("progress", "reason"),
    [
        ({"available": 1, "failures": {2: CRASH}}, CRASH),
        (
            {"available": 1, "deadline": True},
            "the rollout did not complete within the progress deadline",
        ),
    ],
)
def test_a_failing_next_version_is_failed_with_the_reason_and_the_active_one_is_served(
    progress: dict[str, Any], reason: str
) -> None:
    v1, v2 = version(1, "ACTIVE"), version(2, "ACTIVATING")
    result = plan([v1, v2], rollout(2, **progress))
    assert result.states["web-v2"] == (FAILED, reason)
    assert result.states["web-v1"] == (ACTIVE, "")
    assert result.active is v1
    assert result.candidate is None
    assert result.serve is v1
    assert result.running


def test_a_failure_is_only_taken_from_the_rollout_of_the_next_versions_template() -> None:
    v1, v2 = version(1, "ACTIVE"), version(2, "ACTIVATING")
    result = plan([v1, v2], rollout(1, deadline=True, failures={1: CRASH}))
    assert states(result) == {"web-v1": ACTIVE, "web-v2": ACTIVATING}


def test_a_deadline_not_yet_observed_for_the_new_template_fails_nothing() -> None:
    v1, v2 = version(1, "ACTIVE"), version(2, "ACTIVATING")
    result = plan([v1, v2], rollout(2, observed=False, updated=0, deadline=True))
    assert states(result) == {"web-v1": ACTIVE, "web-v2": ACTIVATING}


def test_a_failed_version_stays_failed_and_the_active_one_keeps_serving() -> None:
    v1, v2 = version(1, "ACTIVE"), version(2, "FAILED", message=CRASH)
    result = plan([v1, v2], rollout(2, available=1, failures={2: CRASH}))
    assert result.states["web-v2"] == (FAILED, CRASH)
    assert result.candidate is None
    assert result.serve is v1
    assert result.running
    assert not result.changed(v2)


def test_a_version_after_a_failed_one_activates() -> None:
    v1, v2, v3 = version(1, "ACTIVE"), version(2, "FAILED", message=CRASH), version(3)
    result = plan([v1, v2, v3], rollout(1))
    assert result.candidate is v3
    assert states(result)["web-v2"] == FAILED
    assert result.serve is v3


# --- superseded and crash repair ----------------------------------------------------------------


def test_a_version_superseded_while_activating_becomes_inactive() -> None:
    v1, v2, v3 = version(1, "ACTIVE"), version(2, "ACTIVATING"), version(3)
    result = plan([v1, v2, v3], rollout(2, available=1))
    assert states(result) == {"web-v1": ACTIVE, "web-v2": INACTIVE, "web-v3": ACTIVATING}
    assert result.states["web-v2"][1] == "superseded by version 3"
    assert result.candidate is v3
    assert result.serve is v3


def test_a_never_activated_older_version_becomes_inactive() -> None:
    v1, v2 = version(1), version(2)
    result = plan([v1, v2], Rollout())
    assert states(result) == {"web-v1": INACTIVE, "web-v2": ACTIVATING}


def test_of_two_active_versions_after_a_crash_the_newer_stays_active() -> None:
    v1, v2 = version(1, "ACTIVE"), version(2, "ACTIVE")
    result = plan([v1, v2], rollout(2))
    assert result.states["web-v1"] == (INACTIVE, "replaced by version 2")
    assert result.states["web-v2"] == (ACTIVE, "")
    assert result.active is v2
    assert result.candidate is None
    assert result.serve is v2


def test_an_activating_version_older_than_the_active_one_becomes_inactive() -> None:
    v1, v2 = version(1, "ACTIVATING"), version(2, "ACTIVE")
    result = plan([v1, v2], rollout(2))
    assert states(result) == {"web-v1": INACTIVE, "web-v2": ACTIVE}
    assert result.candidate is None


def test_a_settled_service_changes_no_version() -> None:
    versions = [
        version(1, "INACTIVE", message="replaced by version 2"),
        version(2, "ACTIVE"),
        version(3, "FAILED", message=CRASH),
    ]
    result = plan(versions, rollout(2))
    assert not any(result.changed(v) for v in versions)
    assert result.serve is versions[1]


def test_changed_tells_a_new_state_or_message() -> None:
    v1: VersionObject = version(1, "ACTIVATING")
    result = plan([v1], rollout(1))
    assert result.changed(v1)


def test_a_rollout_to_zero_replicas_does_not_activate_the_next_version() -> None:
    v1, v2 = version(1, "ACTIVE"), version(2, "ACTIVATING")
    result = plan([v1, v2], rollout(2, desired=0))
    assert states(result) == {"web-v1": ACTIVE, "web-v2": ACTIVATING}
    assert result.active is v1
