"""Argo CD's health checks for Berth's kinds: health_test.yaml on testdata the operator wrote,
as Argo CD's own test harness runs them, and edited statuses for what the operator rarely shows."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml
from tests.unit.argocd_health import (
    CUSTOMIZATIONS,
    HEALTH_STATUSES,
    KINDS,
    REPO,
    HealthTest,
    health,
    health_tests,
    load,
    script,
    stored_inputs,
)

README = REPO / "argocd" / "README.md"
SERVICE, VERSION = "ContainerService", "ContainerServiceDeployment"
YAML_TESTS = [
    pytest.param(kind, test, id=f"{kind}/{test.input_path}")
    for kind in KINDS
    for test in health_tests(kind)
]


def service(case: str) -> dict[str, Any]:
    return copy.deepcopy(load(SERVICE, f"testdata/{case}.yaml"))


def version(case: str) -> dict[str, Any]:
    return copy.deepcopy(load(VERSION, f"testdata/{case}.yaml"))


def before_conditions(case: str) -> dict[str, Any]:
    """A captured version as a Berth without kstatus conditions wrote it: state and message."""
    obj = version(case)
    kept = ("version", "state", "message", "activatedAt")
    obj["status"] = {k: v for k, v in obj["status"].items() if k in kept}
    return obj


def edited(case: str, **status: Any) -> dict[str, Any]:
    obj = service(case)
    obj["status"].update(status)
    return obj


def with_condition(obj: dict[str, Any], kind: str, value: str, message: str = "") -> dict[str, Any]:
    for condition in obj["status"]["conditions"]:
        if condition["type"] == kind:
            condition.update(status=value, message=message or condition["message"])
    return obj


# --- health_test.yaml, as Argo CD's harness reads it ---------------------------------------------


@pytest.mark.parametrize(("kind", "test"), YAML_TESTS)
def test_health_of_each_testdata_object_is_the_one_health_test_yaml_expects(
    kind: str, test: HealthTest
) -> None:
    obj = load(kind, test.input_path)
    assert obj["kind"] == kind

    assert health(obj) == test.expected


@pytest.mark.parametrize("kind", KINDS)
def test_every_testdata_file_is_in_health_test_yaml_and_every_input_path_exists(kind: str) -> None:
    listed = [t.input_path for t in health_tests(kind)]

    assert len(listed) == len(set(listed)), "an inputPath listed twice"
    assert set(listed) == stored_inputs(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_argo_cds_layout(kind: str) -> None:
    folder = CUSTOMIZATIONS / kind
    assert {p.name for p in folder.iterdir()} == {"health.lua", "health_test.yaml", "testdata"}


@pytest.mark.parametrize(("kind", "test"), YAML_TESTS)
def test_every_expected_health_is_an_argo_cd_health_status_with_a_message(
    kind: str, test: HealthTest
) -> None:
    assert test.expected.status in HEALTH_STATUSES
    assert test.expected.message.strip()


# --- ContainerService: what the captured statuses do not show ------------------------------------


def test_a_failed_newest_version_is_degraded_although_the_previous_one_keeps_running() -> None:
    obj = service("failed-newest-version")
    assert obj["status"]["state"] == "RUNNING"
    assert obj["status"]["currentDeployment"]["version"] == 1

    assert health(obj).status == "Degraded"


def test_a_service_the_operator_has_not_seen_yet_is_progressing() -> None:
    obj = service("running")
    del obj["status"]

    assert health(obj) == ("Progressing", "waiting for the Berth operator to reconcile the service")


def test_a_spec_change_not_yet_observed_is_progressing_even_if_the_old_status_was_healthy() -> None:
    obj = service("running")
    obj["metadata"]["generation"] = obj["status"]["observedGeneration"] + 1

    got = health(obj)

    assert got.status == "Progressing"
    assert f"observe generation {obj['metadata']['generation']}" in got.message


def test_a_spec_change_not_yet_observed_hides_an_old_failure_too() -> None:
    obj = service("unknown-power")
    obj["metadata"]["generation"] += 1

    assert health(obj).status == "Progressing"


def test_a_spec_the_operator_rejected_is_degraded_with_its_reason() -> None:
    obj = service("running")
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
    obj = with_condition(service("running"), "Ready", "False", "0/2 replicas available")

    assert health(obj) == ("Degraded", "0/2 replicas available")


def test_disabled_wins_over_a_stall_because_nothing_is_meant_to_run() -> None:
    obj = with_condition(service("disabled"), "Stalled", "True", "power gone")

    assert health(obj).status == "Suspended"


# --- ContainerServiceDeployment: what the captured statuses do not show ---------------------------


def test_a_failed_version_is_degraded_with_its_own_message() -> None:
    obj = version("failed")

    assert health(obj) == ("Degraded", f"version 2 failed: {obj['status']['message']}")


def test_a_version_the_operator_has_not_seen_yet_is_progressing() -> None:
    obj = version("active")
    del obj["status"]

    assert health(obj) == ("Progressing", "waiting for the Berth operator to number the version")


@pytest.mark.parametrize("case", ["active", "failed"])
def test_a_generation_not_yet_observed_is_progressing_whatever_the_old_status_said(
    case: str,
) -> None:
    obj = version(case)
    obj["metadata"]["generation"] = obj["status"]["observedGeneration"] + 1

    assert health(obj) == ("Progressing", "waiting for the Berth operator to observe generation 2")


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("active", ("Healthy", "version 1 is active")),
        ("inactive", ("Healthy", "version 1 is inactive: replaced by version 2")),
        ("activating", ("Progressing", "version 1 is activating")),
        ("failed", ("Degraded", "version 2 failed: container web: CrashLoopBackOff")),
    ],
)
def test_a_version_written_before_conditions_existed_is_read_from_its_state(
    case: str, expected: tuple[str, str]
) -> None:
    got = health(before_conditions(case))

    assert got.status == expected[0]
    assert got.message.startswith(expected[1])


@pytest.mark.parametrize("case", ["active", "inactive", "activating", "failed"])
def test_the_conditions_alone_give_the_same_health(case: str) -> None:
    obj = version(case)
    del obj["status"]["state"]

    assert health(obj).status == health(version(case)).status


def test_an_inactive_version_without_a_message_still_says_why_it_is_fine() -> None:
    obj = before_conditions("inactive")
    del obj["status"]["message"]

    assert health(obj) == ("Healthy", "version 1 is inactive: a newer version replaced it")


# --- the scripts themselves -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_readme_snippet_is_the_script(kind: str) -> None:
    block = README.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    config_map = yaml.safe_load(block)
    assert config_map["metadata"]["name"] == "argocd-cm"

    assert config_map["data"][f"resource.customizations.health.berth.dev_{kind}"] == (
        script(kind).read_text()
    )


@pytest.mark.parametrize("kind", KINDS)
def test_script_uses_nothing_but_lua_5_1(kind: str) -> None:
    text = script(kind).read_text()

    # goto, integer division and bit operators arrived after 5.1; gopher-lua would not load them.
    assert not re.search(r"\bgoto\b|//|<<|>>|~[^=]", text)
