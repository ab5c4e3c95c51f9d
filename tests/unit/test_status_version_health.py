"""status/versions.py: the conditions kstatus and `kubectl wait` read on a version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.builders import NOW

from berth.api.common import ConditionStatus
from berth.api.version import VersionState
from berth.status.versions import health_conditions


def verdict(state: VersionState) -> dict[str, bool]:
    found = health_conditions(state, "why", 1, NOW)
    return {c.type: c.status == ConditionStatus.TRUE for c in found}


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (VersionState.ACTIVATING, {"Ready": False, "Reconciling": True, "Stalled": False}),
        (VersionState.ACTIVE, {"Ready": True, "Reconciling": False, "Stalled": False}),
        (VersionState.INACTIVE, {"Ready": True, "Reconciling": False, "Stalled": False}),
        (VersionState.FAILED, {"Ready": False, "Reconciling": False, "Stalled": True}),
    ],
)
def test_each_version_state_reads_as_kstatus_and_kubectl_wait_expect(
    state: VersionState, expected: dict[str, bool]
) -> None:
    assert verdict(state) == expected


def test_a_failed_version_is_stalled_with_its_reason_at_its_generation() -> None:
    found = {c.type: c for c in health_conditions(VersionState.FAILED, "crash loop", 4, NOW)}

    assert found["Stalled"].reason == "Failed"
    assert found["Stalled"].message == "crash loop"
    assert all(c.observed_generation == 4 for c in found.values())


def test_a_condition_keeps_its_transition_time_while_its_status_stays() -> None:
    before = health_conditions(VersionState.ACTIVE, "", 1, NOW)
    later = NOW + timedelta(hours=1)

    after = {c.type: c for c in health_conditions(VersionState.INACTIVE, "", 1, later, before)}

    assert after["Ready"].last_transition_time == NOW  # Ready stayed True
    assert after["Ready"].reason == "Inactive"
