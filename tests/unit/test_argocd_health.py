"""Argo CD's health check for ContainerService, on statuses the real operator wrote (fixtures)."""

from __future__ import annotations

import copy
import re
import textwrap
from typing import Any

import pytest
from tests.unit import argocd_health
from tests.unit.argocd_health import HEALTH_STATUSES, fixture, health

README = argocd_health.REPO / "argocd" / "README.md"
CASES = {
    # fixture: (Argo CD health, words its message has)
    "running": ("Healthy", "RUNNING: version 1 is active"),
    "deploying": ("Progressing", "DEPLOYING: version 1: 0/2 replicas healthy"),
    "failed-newest-version": ("Degraded", "version 2 failed: container web: CrashLoopBackOff"),
    "disabled": ("Suspended", "disabled: scaled to zero"),
    "unknown-power": ("Degraded", "power 'no-such-power' does not exist"),
}


def edited(case: str, **status: Any) -> dict[str, Any]:
    obj = copy.deepcopy(fixture(case))
    obj["status"].update(status)
    return obj


def with_condition(obj: dict[str, Any], kind: str, value: str, message: str = "") -> dict[str, Any]:
    for condition in obj["status"]["conditions"]:
        if condition["type"] == kind:
            condition.update(status=value, message=message or condition["message"])
    return obj


def test_every_situation_the_operator_was_seen_in_has_a_fixture() -> None:
    assert {p.stem for p in argocd_health.FIXTURES.glob("*.json")} == set(CASES)


@pytest.mark.parametrize("case", list(CASES))
def test_health_of_statuses_written_by_the_operator(case: str) -> None:
    expected, words = CASES[case]

    got = health(fixture(case))

    assert got.status == expected
    assert words in got.message


def test_a_failed_newest_version_is_degraded_although_the_previous_one_keeps_running() -> None:
    obj = fixture("failed-newest-version")
    assert obj["status"]["state"] == "RUNNING"
    assert obj["status"]["currentDeployment"]["version"] == 1

    assert health(obj).status == "Degraded"


def test_a_service_the_operator_has_not_seen_yet_is_progressing() -> None:
    obj = fixture("running")
    del obj["status"]

    assert health(obj) == ("Progressing", "waiting for the Berth operator to reconcile the service")


def test_a_spec_change_not_yet_observed_is_progressing_even_if_the_old_status_was_healthy() -> None:
    obj = fixture("running")
    obj["metadata"]["generation"] = obj["status"]["observedGeneration"] + 1

    got = health(obj)

    assert got.status == "Progressing"
    assert f"observe generation {obj['metadata']['generation']}" in got.message


def test_a_spec_change_not_yet_observed_hides_an_old_failure_too() -> None:
    obj = fixture("unknown-power")
    obj["metadata"]["generation"] += 1

    assert health(obj).status == "Progressing"


def test_a_spec_the_operator_rejected_is_degraded_with_its_reason() -> None:
    obj = fixture("running")
    obj["status"] = {"stateDetail": {"code": "UNKNOWN_ERROR", "message": "invalid spec: bad"}}

    assert health(obj) == ("Degraded", "invalid spec: bad")


def test_a_capacity_change_is_progressing() -> None:
    obj = with_condition(
        edited("running", state="UPDATING", stateDetail={"message": "changing capacity"}),
        "Reconciling",
        "True",
    )

    assert health(obj) == ("Progressing", "UPDATING: changing capacity")


def test_a_deleting_service_is_progressing() -> None:
    obj = edited("running", state="DELETING", stateDetail={"message": "deleting the service"})

    assert health(obj) == ("Progressing", "deleting the service")


def test_a_service_without_a_deployment_yet_is_healthy() -> None:
    obj = edited("running", state="READY", stateDetail={})
    del obj["status"]["currentDeployment"]

    assert health(obj) == ("Healthy", "READY: no deployment yet")


def test_running_but_not_ready_without_a_stall_is_degraded_with_the_ready_message() -> None:
    obj = with_condition(fixture("running"), "Ready", "False", "0/2 replicas available")

    assert health(obj) == ("Degraded", "0/2 replicas available")


def test_disabled_wins_over_a_stall_because_nothing_is_meant_to_run() -> None:
    obj = with_condition(fixture("disabled"), "Stalled", "True", "power gone")

    assert health(obj).status == "Suspended"


@pytest.mark.parametrize("case", list(CASES))
def test_every_answer_is_an_argo_cd_health_status_with_a_message(case: str) -> None:
    got = health(fixture(case))

    assert got.status in HEALTH_STATUSES
    assert got.message.strip()


def test_readme_snippet_is_the_script() -> None:
    text = README.read_text()
    key = "resource.customizations.health.berth.dev_ContainerService: |\n"
    assert key in text
    block = text.split(key, 1)[1].split("```", 1)[0]

    assert textwrap.dedent(block) == argocd_health.SCRIPT.read_text()


def test_script_uses_nothing_but_lua_5_1() -> None:
    script = argocd_health.SCRIPT.read_text()

    # goto, integer division and bit operators arrived after 5.1; gopher-lua would not load them.
    assert not re.search(r"\bgoto\b|//|<<|>>|~[^=]", script)
