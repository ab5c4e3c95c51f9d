"""status/service.py and status/conditions.py: a service's Lightsail state and its conditions."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from tests.unit import builders
from tests.unit.builders import EARLIER, NOW, rollout, version

from berth.api.common import Condition, ConditionStatus
from berth.api.objects import ContainerServiceObject, VersionObject
from berth.api.power import DEFAULT_POWERS, PowerSpec
from berth.api.service import ServiceState, ServiceStatus, StateDetailCode
from berth.api.version import VersionState
from berth.status import conditions
from berth.status.health_check import health_check_note
from berth.status.rollout import Rollout
from berth.status.service import Observed, state_of, status
from berth.status.versions import plan

NANO = DEFAULT_POWERS["nano"]
CRASH = "container app: CrashLoopBackOff"
CONDITION_TYPES = [
    "Ready",
    "DeploymentAvailable",
    "PowerResolved",
    "Reconciling",
    "Stalled",
    "PodsScheduled",
    "ObjectsApplied",
    "PrivateDomainAdmitted",
    "DomainsAdmitted",
    "DomainsVerified",
    "CertificateReady",
]
_MISSING: Any = object()


def observed(
    versions: list[VersionObject],
    seen: Rollout,
    power: PowerSpec | None = _MISSING,
    probes: bool = False,
    refused: dict[str, str] | None = None,
) -> Observed:
    return Observed(
        probes_approximate=probes,
        refused=refused or {},
        plan=plan(versions, seen),
        rollout=seen,
        power=NANO if power is _MISSING else power,
        ledger=builders.ledger(max((v.number or 0 for v in versions), default=0)),
        guid="abcdef123456",
        url="https://web.abcdef123456.local.cs.berth.internal/",
        private_domain="web.service.local",
        selector="berth.dev/service=web",
        now=NOW,
    )


def condition_map(result: ServiceStatus) -> dict[str, Condition]:
    return {c.type: c for c in result.conditions or []}


def statuses(result: ServiceStatus) -> dict[str, bool]:
    return {c.type: c.status == ConditionStatus.TRUE for c in result.conditions or []}


def running_service() -> tuple[ContainerServiceObject, Observed]:
    return builders.service(), observed([version(1, "ACTIVE")], rollout(1))


def health(codes: str) -> dict[str, Any]:
    return {**builders.WEB_ENDPOINT, "healthCheck": {"successCodes": codes}}


# --- state and detail ---------------------------------------------------------------------------


def test_pending_while_the_power_is_missing_and_there_is_no_deployment() -> None:
    service = builders.service(power="huge")
    state, detail = state_of(service, observed([version(1)], Rollout(), power=None))
    assert state == ServiceState.PENDING
    assert detail.code == StateDetailCode.UNKNOWN_ERROR
    assert detail.message is not None
    assert "'huge' does not exist" in detail.message


def test_a_missing_power_leaves_running_pods_running() -> None:
    service = builders.service(power="huge")
    state, detail = state_of(service, observed([version(1, "ACTIVE")], rollout(1), power=None))
    assert state == ServiceState.RUNNING
    assert detail.code == StateDetailCode.UNKNOWN_ERROR


@pytest.mark.parametrize("disabled", [False, True])
def test_deleting_wins_over_every_other_state(disabled: bool) -> None:
    service = builders.service(deleting=True, disabled=disabled)
    state, _ = state_of(service, observed([version(1, "ACTIVE")], rollout(1), power=None))
    assert state == ServiceState.DELETING


def test_disabled_service_is_disabled_whatever_its_versions() -> None:
    service = builders.service(disabled=True)
    seen = observed([version(1, "ACTIVE"), version(2)], rollout(1, desired=0))
    assert state_of(service, seen)[0] == ServiceState.DISABLED


def test_ready_when_there_is_no_version() -> None:
    state, detail = state_of(builders.service(), observed([], Rollout()))
    assert state == ServiceState.READY
    assert detail.code is None
    assert detail.message == "no active deployment"


def test_ready_with_an_error_when_the_only_version_failed() -> None:
    versions = [version(1, "FAILED", message=CRASH)]
    state, detail = state_of(builders.service(), observed(versions, rollout(1, desired=0)))
    assert state == ServiceState.READY
    assert detail.code == StateDetailCode.UNKNOWN_ERROR
    assert detail.message == f"version 1 failed: {CRASH}"


@pytest.mark.parametrize(
    ("seen", "code"),
    [
        (Rollout(), StateDetailCode.CREATING_DEPLOYMENT),  # no Deployment yet
        (rollout(1), StateDetailCode.CREATING_DEPLOYMENT),  # still the old template
        (rollout(2, updated=0, ready=0, available=0), StateDetailCode.CREATING_DEPLOYMENT),
        (rollout(2, updated=1, ready=1, available=1), StateDetailCode.EVALUATING_HEALTH_CHECK),
        (rollout(2, updated=2, available=1, healthy=1), StateDetailCode.EVALUATING_HEALTH_CHECK),
        (rollout(2, replicas=3), StateDetailCode.ACTIVATING_DEPLOYMENT),  # old pod leaving
    ],
)
def test_deploying_detail_follows_the_rollout_of_the_next_version(
    seen: Rollout, code: StateDetailCode
) -> None:
    versions = [version(1, "ACTIVE"), version(2, "ACTIVATING")]
    state, detail = state_of(builders.service(), observed(versions, seen))
    assert state == ServiceState.DEPLOYING
    assert detail.code == code


def test_evaluating_health_check_says_how_many_replicas_are_healthy() -> None:
    versions = [version(1, "ACTIVE"), version(2, "ACTIVATING")]
    seen = rollout(2, desired=3, updated=1, ready=1, available=1)
    _, detail = state_of(builders.service(scale=3), observed(versions, seen))
    assert detail.message == "version 2: 1/3 replicas healthy"


def test_first_version_deploys() -> None:
    service = builders.service(state="PENDING")
    state, detail = state_of(service, observed([version(1)], rollout(1, updated=0, ready=0)))
    assert state == ServiceState.DEPLOYING
    assert detail.code == StateDetailCode.CREATING_DEPLOYMENT


@pytest.mark.parametrize(
    "seen",
    [Rollout(), rollout(1, observed=False, updated=0, ready=0, available=0)],
    ids=["no Deployment yet", "Deployment not taken up by its controller yet"],
)
def test_a_new_service_is_pending_while_it_is_being_set_up(seen: Rollout) -> None:
    for stored in (None, "PENDING"):
        state, detail = state_of(builders.service(state=stored), observed([version(1)], seen))
        assert state == ServiceState.PENDING
        assert detail.code is None
        assert detail.message == "creating the service's resources"


def test_a_service_once_set_up_is_never_pending_again() -> None:
    service = builders.service(state="DEPLOYING")
    state, _ = state_of(service, observed([version(1)], Rollout()))
    assert state == ServiceState.DEPLOYING


def test_a_new_service_whose_objects_are_refused_is_pending_with_an_error() -> None:
    refused = {"Deployment/web": "exceeded quota: compute, requested: limits.cpu=250m"}
    seen = observed([version(1)], Rollout(), refused=refused)
    state, detail = state_of(builders.service(), seen)
    assert state == ServiceState.PENDING
    assert detail.code == StateDetailCode.UNKNOWN_ERROR
    assert detail.message == "Deployment/web: exceeded quota: compute, requested: limits.cpu=250m"


def test_a_new_service_without_versions_is_ready_at_once() -> None:
    state, _ = state_of(builders.service(), observed([], Rollout()))
    assert state == ServiceState.READY


def test_running_when_the_active_version_is_fully_rolled_out() -> None:
    state, detail = state_of(*running_service())
    assert state == ServiceState.RUNNING
    assert detail.code is None


def test_running_again_once_the_rollout_of_the_next_version_completes() -> None:
    versions = [version(1, "ACTIVE"), version(2, "ACTIVATING")]
    assert state_of(builders.service(), observed(versions, rollout(2)))[0] == ServiceState.RUNNING


@pytest.mark.parametrize(
    "seen",
    [
        rollout(1, desired=3, replicas=3, updated=2, ready=2, available=2),  # scale 2 -> 3
        rollout(1, replicas=3, updated=1),  # power change: new pods come first
        rollout(1, observed=False),
        rollout(2, available=1),  # rolling back from a failed version
    ],
)
def test_updating_while_a_capacity_change_rolls(seen: Rollout) -> None:
    versions = [version(1, "ACTIVE"), version(2, "FAILED", message=CRASH)]
    assert state_of(builders.service(), observed(versions, seen))[0] == ServiceState.UPDATING


# --- the status object --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("power", "scale", "price"),
    [("nano", 1, 7), ("nano", 3, 21), ("medium", 20, 800), ("micro", 2, 20)],
)
def test_monthly_price_is_power_price_times_scale(power: str, scale: int, price: float) -> None:
    service = builders.service(power=power, scale=scale)
    seen = observed([], Rollout(), power=DEFAULT_POWERS[power])
    assert status(service, seen).monthly_price == price


def test_no_monthly_price_without_a_power() -> None:
    seen = observed([], Rollout(), power=None)
    assert status(builders.service(), seen).monthly_price is None


def test_status_reports_current_and_next_deployment() -> None:
    v1, v2 = version(1, "ACTIVE"), version(2, "ACTIVATING", endpoint=builders.WEB_ENDPOINT)
    result = status(builders.service(), observed([v1, v2], rollout(1)))
    assert result.current_deployment is not None
    assert result.next_deployment is not None
    assert (result.current_deployment.version, result.current_deployment.state) == (
        1,
        VersionState.ACTIVE,
    )
    assert (result.next_deployment.version, result.next_deployment.state) == (
        2,
        VersionState.ACTIVATING,
    )
    assert result.next_deployment.name == "web-v2"
    assert result.next_deployment.containers == v2.spec.containers
    assert result.next_deployment.public_endpoint == v2.spec.public_endpoint
    assert result.next_deployment.created_at == EARLIER


def test_status_without_versions_has_no_current_or_next_deployment() -> None:
    result = status(builders.service(), observed([], Rollout()))
    assert result.current_deployment is None
    assert result.next_deployment is None


def test_status_copies_names_capacity_and_counts() -> None:
    domains = {"shop-cert": ["shop.example.com"]}
    service = builders.service(scale=3, domains=domains, generation=9)
    seen = observed([version(1, "ACTIVE")], rollout(1, desired=3, ready=2, available=2))
    result = status(service, seen)
    assert result.power == "nano"
    assert result.scale == 3
    assert result.private_domain_name == "web.service.local"
    assert result.url == "https://web.abcdef123456.local.cs.berth.internal/"
    assert result.guid == "abcdef123456"
    assert result.public_domain_names == domains
    assert result.selector == "berth.dev/service=web"
    assert (result.replicas, result.ready_replicas) == (3, 2)
    assert result.observed_generation == 9
    assert result.created_at == EARLIER
    assert result.versions is not None
    assert result.versions.last_version == 1


# --- conditions ---------------------------------------------------------------------------------


def test_every_condition_is_reported_for_the_services_generation() -> None:
    service = builders.service(generation=11)
    result = status(service, observed([version(1, "ACTIVE")], rollout(1)))
    assert [c.type for c in result.conditions or []] == CONDITION_TYPES
    assert all(c.observed_generation == 11 for c in result.conditions or [])
    assert all(c.last_transition_time == NOW for c in result.conditions or [])


EXACT = "200-399"


@pytest.mark.parametrize(
    ("case", "service", "versions", "seen", "power", "expected"),
    [
        (
            "running",
            builders.service(),
            [version(1, "ACTIVE", endpoint=health(EXACT))],
            rollout(1),
            NANO,
            {"Ready": True, "DeploymentAvailable": True, "PowerResolved": True},
        ),
        (
            "deploying",
            builders.service(),
            [version(1, "ACTIVE", endpoint=health(EXACT)), version(2, endpoint=health(EXACT))],
            rollout(1),
            NANO,
            {"Ready": False, "DeploymentAvailable": True, "Reconciling": True},
        ),
        (
            "updating",
            builders.service(),
            [version(1, "ACTIVE", endpoint=health(EXACT))],
            rollout(1, replicas=3, updated=1),
            NANO,
            {"Ready": False, "DeploymentAvailable": True, "Reconciling": True},
        ),
        (
            "no versions",
            builders.service(),
            [],
            Rollout(),
            NANO,
            {"Ready": True, "DeploymentAvailable": False},
        ),
        (
            "power missing",
            builders.service(power="huge"),
            [],
            Rollout(),
            None,
            # kstatus: Stalled, and so not Reconciling (both would read InProgress)
            {"Ready": False, "PowerResolved": False, "Reconciling": False, "Stalled": True},
        ),
        (
            "first version failed",
            builders.service(),
            [version(1, "FAILED", message=CRASH, endpoint=health(EXACT))],
            rollout(1, desired=0),
            NANO,
            {"Ready": False, "DeploymentAvailable": False, "Stalled": True},
        ),
        (
            # the active one keeps serving, but what was asked for last did not happen
            "next version failed, active serves",
            builders.service(),
            [
                version(1, "ACTIVE", endpoint=health(EXACT)),
                version(2, "FAILED", message=CRASH),
            ],
            rollout(1),
            NANO,
            {"Ready": False, "DeploymentAvailable": True, "Stalled": True},
        ),
        (
            "disabled",
            builders.service(disabled=True),
            [version(1, "ACTIVE", endpoint=health(EXACT))],
            rollout(1, desired=0),
            NANO,
            {"Ready": True, "DeploymentAvailable": False, "Reconciling": False},
        ),
    ],
)
def test_condition_statuses_follow_the_state(
    case: str,
    service: ContainerServiceObject,
    versions: list[VersionObject],
    seen: Rollout,
    power: PowerSpec | None,
    expected: dict[str, bool],
) -> None:
    defaults = {
        "Ready": False,
        "DeploymentAvailable": False,
        "PowerResolved": True,
        "Reconciling": False,
        "Stalled": False,
        "PodsScheduled": True,
        "PrivateDomainAdmitted": True,
        "DomainsAdmitted": True,
        "DomainsVerified": True,
        "CertificateReady": True,
        "ObjectsApplied": True,
    }
    result = status(service, observed(versions, seen, power=power))
    assert statuses(result) == {**defaults, **expected}, case
    assert not (statuses(result)["Reconciling"] and statuses(result)["Stalled"]), case


def test_a_failed_next_version_keeps_the_service_running_on_the_active_one() -> None:
    versions = [version(1, "ACTIVE"), version(2, "FAILED", message=CRASH)]
    result = status(builders.service(), observed(versions, rollout(1)))
    assert result.state == ServiceState.RUNNING
    assert result.current_deployment is not None
    assert result.current_deployment.version == 1
    assert result.next_deployment is None


def test_a_failed_next_version_is_explained_in_the_stalled_and_ready_conditions() -> None:
    versions = [version(1, "ACTIVE"), version(2, "FAILED", message=CRASH)]
    result = condition_map(status(builders.service(), observed(versions, rollout(1))))
    assert CRASH in result["Stalled"].message
    assert CRASH in result["Ready"].message


def test_stalled_names_why() -> None:
    no_power = status(builders.service(), observed([], Rollout(), power=None))
    assert condition_map(no_power)["Stalled"].reason == "PowerNotFound"
    failed = status(
        builders.service(), observed([version(1, "FAILED", message=CRASH)], rollout(1, desired=0))
    )
    stalled = condition_map(failed)["Stalled"]
    assert stalled.reason == "DeploymentFailed"
    assert CRASH in stalled.message


def test_power_resolved_names_the_missing_power() -> None:
    result = status(builders.service(power="huge"), observed([], Rollout(), power=None))
    resolved = condition_map(result)["PowerResolved"]
    assert resolved.reason == "PowerNotFound"
    assert resolved.message == "power 'huge' does not exist"


def test_deployment_available_counts_replicas() -> None:
    seen = rollout(1, desired=3, available=1, updated=3, replicas=3)
    result = status(builders.service(scale=3), observed([version(1, "ACTIVE")], seen))
    available = condition_map(result)["DeploymentAvailable"]
    assert available.status == ConditionStatus.FALSE
    assert available.message == "1/3 replicas available"


@pytest.mark.parametrize(
    ("codes", "exact"),
    [
        ("200-399", True),
        ("200-499", False),  # Lightsail's default
        ("200-299", False),
        ("200,202", False),
        ("200-399,404", False),
    ],
)
def test_health_check_exact_only_when_success_codes_are_what_a_probe_counts(
    codes: str, exact: bool
) -> None:
    versions = [version(1, "ACTIVE", endpoint=health(codes))]
    cond = condition_map(status(builders.service(), observed(versions, rollout(1), probes=True)))
    check = cond["HealthCheckExact"]
    assert (check.status == ConditionStatus.TRUE) is exact
    if exact:
        assert check.reason == "Exact"
    else:
        assert check.reason == "SuccessCodesApproximated"
        assert f"successCodes {codes}" in check.message
        assert "200-399" in check.message


def test_default_success_codes_are_reported_as_approximated() -> None:
    versions = [version(1, "ACTIVE", endpoint=builders.WEB_ENDPOINT)]
    cond = condition_map(status(builders.service(), observed(versions, rollout(1), probes=True)))
    assert cond["HealthCheckExact"].status == ConditionStatus.FALSE
    assert "200-499" in cond["HealthCheckExact"].message


def test_health_check_exact_is_about_the_version_being_deployed() -> None:
    versions = [version(1, "ACTIVE", endpoint=health(EXACT)), version(2, endpoint=health("200"))]
    cond = condition_map(status(builders.service(), observed(versions, rollout(1), probes=True)))
    assert cond["HealthCheckExact"].status == ConditionStatus.FALSE


def test_with_berths_own_health_checks_nothing_is_approximated() -> None:
    versions = [version(1, "ACTIVE", endpoint=builders.WEB_ENDPOINT)]
    cond = condition_map(status(builders.service(), observed(versions, rollout(1))))
    assert "HealthCheckExact" not in cond


def test_no_public_endpoint_means_nothing_to_approximate() -> None:
    assert health_check_note(version(1)) is None
    assert health_check_note(None) is None


def test_success_codes_written_differently_but_equal_to_200_399_are_exact() -> None:
    assert health_check_note(version(1, endpoint=health("200-299,300-399"))) is None


# --- transition times ---------------------------------------------------------------------------


def previous(kind: str, ok: bool) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True" if ok else "False",
        "lastTransitionTime": EARLIER.isoformat(),
        "reason": "Before",
        "message": "",
    }


def test_conditions_keep_their_transition_time_while_their_status_stays() -> None:
    service = builders.service(conditions=[previous("Ready", True), previous("Stalled", True)])
    result = condition_map(status(service, observed([version(1, "ACTIVE")], rollout(1))))
    assert result["Ready"].last_transition_time == EARLIER  # True before, True now
    assert result["Ready"].reason == "Running"  # reason and message are current
    assert result["Stalled"].last_transition_time == NOW  # True before, False now
    assert result["PowerResolved"].last_transition_time == NOW  # new condition


def test_merge_keeps_time_only_for_an_unchanged_status() -> None:
    later = NOW + timedelta(minutes=5)
    before = [
        conditions.condition("A", True, "X", "", 1, EARLIER),
        conditions.condition("B", True, "X", "", 1, EARLIER),
        conditions.condition("Gone", True, "X", "", 1, EARLIER),
    ]
    now = [
        conditions.condition("A", True, "Y", "new message", 2, later),
        conditions.condition("B", False, "Y", "", 2, later),
        conditions.condition("C", True, "Y", "", 2, later),
    ]
    merged = {c.type: c for c in conditions.merge(before, now)}
    assert list(merged) == ["A", "B", "C"]
    assert merged["A"].last_transition_time == EARLIER
    assert (merged["A"].reason, merged["A"].message, merged["A"].observed_generation) == (
        "Y",
        "new message",
        2,
    )
    assert merged["B"].last_transition_time == later
    assert merged["C"].last_transition_time == later


def test_merge_without_previous_conditions_is_the_current_ones() -> None:
    now = [conditions.condition("A", False, "Y", "m", 1, NOW)]
    assert conditions.merge(None, now) == now


def test_condition_status_is_true_or_false() -> None:
    assert conditions.condition("A", True, "R", "", 1, NOW).status == ConditionStatus.TRUE
    assert conditions.condition("A", False, "R", "", 1, NOW).status == ConditionStatus.FALSE


# --- capacity: pods no node can take ------------------------------------------------------------

INSUFFICIENT = "0/1 nodes are available: 1 Insufficient cpu."


def test_a_version_whose_pods_fit_no_node_says_so_instead_of_waiting_for_health_checks() -> None:
    versions = [version(1, "ACTIVE"), version(2, "ACTIVATING")]
    seen = dataclasses.replace(
        rollout(2, updated=1, ready=0, available=0, healthy=0), unschedulable={2: (1, INSUFFICIENT)}
    )
    result = status(builders.service(), observed(versions, seen))
    assert result.state == ServiceState.DEPLOYING
    assert result.state_detail is not None
    assert result.state_detail.code == StateDetailCode.CREATING_DEPLOYMENT
    assert result.state_detail.message == f"version 2: 1 pod cannot be scheduled: {INSUFFICIENT}"
    scheduled = condition_map(result)["PodsScheduled"]
    assert scheduled.status == ConditionStatus.FALSE
    assert scheduled.reason == "Unschedulable"
    assert INSUFFICIENT in scheduled.message


def test_the_activating_version_says_why_its_pods_wait() -> None:
    versions = [version(1, "ACTIVE"), version(2, "ACTIVATING")]
    seen = dataclasses.replace(
        rollout(2, updated=1, healthy=0), unschedulable={2: (1, INSUFFICIENT)}
    )
    states = plan(versions, seen).states
    assert states["web-v2"] == (
        VersionState.ACTIVATING,
        f"1 pod cannot be scheduled: {INSUFFICIENT}",
    )


def test_scaling_up_past_the_nodes_capacity_says_so_while_updating() -> None:
    seen = dataclasses.replace(
        rollout(1, desired=3, replicas=3, available=2), unschedulable={1: (1, INSUFFICIENT)}
    )
    state, detail = state_of(builders.service(), observed([version(1, "ACTIVE")], seen))
    assert state == ServiceState.UPDATING
    assert detail.message == (
        f"changing capacity without downtime: 1 pod cannot be scheduled: {INSUFFICIENT}"
    )


def test_a_failing_health_check_is_named_while_evaluating() -> None:
    versions = [version(1, "ACTIVE"), version(2, "ACTIVATING")]
    why = "GET /health on port 80 answered 404; successCodes are 200-299"
    seen = dataclasses.replace(rollout(2, ready=0, available=0), unhealthy={2: why})
    _, detail = state_of(builders.service(), observed(versions, seen))
    assert detail.code == StateDetailCode.EVALUATING_HEALTH_CHECK
    assert detail.message == f"version 2: 0/2 replicas healthy; failing: {why}"


def test_every_pod_scheduled_is_reported() -> None:
    service, seen = running_service()
    scheduled = condition_map(status(service, seen))["PodsScheduled"]
    assert scheduled.status == ConditionStatus.TRUE
