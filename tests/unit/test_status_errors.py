"""status/service.py: what a service says when the API server refuses its objects or its spec
cannot be read, and which condition turns deserve a Warning event."""

from __future__ import annotations

import dataclasses

from tests.unit import builders
from tests.unit.test_status_service import NOW, observed, rollout, version

from berth.api.common import ConditionStatus
from berth.api.service import ServiceState
from berth.status.service import deleting, invalid_spec, status, warnings

REFUSAL = "admission webhook denied the request: no privileged pods"


def test_a_refused_owned_object_turns_objects_applied_false_with_the_answer() -> None:
    seen = dataclasses.replace(
        observed([version(1, "ACTIVE")], rollout(1)), refused={"Deployment web": REFUSAL}
    )

    result = status(builders.service(), seen)

    applied = {c.type: c for c in result.conditions or []}["ObjectsApplied"]
    assert applied.status == ConditionStatus.FALSE
    assert applied.reason == "WriteRefused"
    assert applied.message == f"Deployment web: {REFUSAL}"


def test_a_refusal_is_warned_about_once_when_it_starts() -> None:
    service = builders.service()
    fine = status(service, observed([version(1, "ACTIVE")], rollout(1)))
    refused = status(
        service,
        dataclasses.replace(
            observed([version(1, "ACTIVE")], rollout(1)), refused={"Ingress web": REFUSAL}
        ),
    )

    assert warnings(fine, refused) == [("WriteRefused", f"Ingress web: {REFUSAL}")]
    assert warnings(refused, refused) == []
    assert warnings(refused, fine) == []


def test_an_unreadable_spec_is_stalled_at_its_generation_and_keeps_other_conditions() -> None:
    service = builders.service()
    before = status(service, observed([version(1, "ACTIVE")], rollout(1)))

    result = invalid_spec(before.conditions, 7, "invalid spec: scale too large", NOW)

    by_type = {c.type: c for c in result.conditions or []}
    assert result.observed_generation == 7
    assert result.state is None  # the state it had stays: a merge patch leaves it alone
    assert result.state_detail is not None
    assert result.state_detail.message == "invalid spec: scale too large"
    assert by_type["Stalled"].status == ConditionStatus.TRUE
    assert by_type["Stalled"].reason == "InvalidSpec"
    assert by_type["Ready"].status == ConditionStatus.FALSE
    assert by_type["Reconciling"].status == ConditionStatus.FALSE
    assert all(by_type[t].observed_generation == 7 for t in ("Ready", "Reconciling", "Stalled"))
    assert "DeploymentAvailable" in by_type  # conditions it did not decide are kept


def test_deleting_is_decided_in_one_place() -> None:
    deleted = builders.service(deleting=True)

    result = status(deleted, observed([version(1, "ACTIVE")], rollout(1)))

    assert result.state == ServiceState.DELETING == deleting().state
    assert result.state_detail == deleting().state_detail
