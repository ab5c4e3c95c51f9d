"""Argo CD's health checks for Berth's kinds: health_test.yaml on testdata the operator wrote,
as Argo CD's own test harness runs them, and edited statuses for what the operator rarely shows."""

from __future__ import annotations

import copy
import re
import textwrap
from typing import Any

import pytest
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
SERVICE = "ContainerService"
YAML_TESTS = [
    pytest.param(kind, test, id=f"{kind}/{test.input_path}")
    for kind in KINDS
    for test in health_tests(kind)
]


def service(case: str) -> dict[str, Any]:
    return copy.deepcopy(load(SERVICE, f"testdata/{case}.yaml"))


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


# --- the scripts themselves -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_readme_snippet_is_the_script(kind: str) -> None:
    text = README.read_text()
    key = f"resource.customizations.health.berth.dev_{kind}: |\n"
    assert key in text
    block = text.split(key, 1)[1].split("```", 1)[0]
    # The next key of the same ConfigMap ends this one.
    block = re.split(r"^  \S", block, maxsplit=1, flags=re.MULTILINE)[0]

    assert textwrap.dedent(block) == script(kind).read_text()


@pytest.mark.parametrize("kind", KINDS)
def test_script_uses_nothing_but_lua_5_1(kind: str) -> None:
    text = script(kind).read_text()

    # goto, integer division and bit operators arrived after 5.1; gopher-lua would not load them.
    assert not re.search(r"\bgoto\b|//|<<|>>|~[^=]", text)
