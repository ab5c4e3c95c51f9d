"""status/stall.py through status(): a domain held by another service, or certificates not
issued in time, make a service Stalled (kstatus Failed, Argo CD Degraded), never also Reconciling."""

from __future__ import annotations

from datetime import timedelta

from tests.unit import builders
from tests.unit.builders import NOW
from tests.unit.test_status_network import observed

from berth.api.common import Condition, ConditionStatus
from berth.status.network import CertificateReadiness, Network
from berth.status.service import status
from berth.status.stall import recheck_in

WAITING = CertificateReadiness(ConditionStatus.FALSE, "Provisioning", "web.tls: waiting")
DEADLINE = timedelta(minutes=10)


def health(network: Network, since: timedelta | None = None) -> dict[str, Condition]:
    """The conditions of a running service; certificates waited for `since` long before NOW."""
    previous = None
    if since is not None:
        previous = [
            {
                "type": "CertificateReady",
                "status": "False",
                "reason": "Provisioning",
                "message": "waiting",
                "lastTransitionTime": (NOW - since).isoformat(),
            }
        ]
    result = status(builders.service(conditions=previous), observed(network))
    return {c.type: c for c in result.conditions or []}


def verdict(found: dict[str, Condition]) -> tuple[bool, bool, bool]:
    """(Ready, Reconciling, Stalled)."""
    return tuple(  # type: ignore[return-value]
        found[kind].status == ConditionStatus.TRUE for kind in ("Ready", "Reconciling", "Stalled")
    )


def test_a_custom_domain_another_service_holds_stalls_the_service_with_the_reason() -> None:
    conflict = {"www.example.com": "already claimed by another service"}

    found = health(Network(conflicts=conflict))

    assert verdict(found) == (False, False, True)
    assert found["Stalled"].reason == "DomainConflict"
    assert "www.example.com: already claimed" in found["Stalled"].message


def test_a_private_name_another_service_holds_stalls_the_service() -> None:
    found = health(Network(private_admitted=False, private_message="web.service.local is taken"))

    assert verdict(found) == (False, False, True)
    assert found["Stalled"].message == "web.service.local is taken"


def test_certificates_being_issued_are_reconciling_until_the_deadline() -> None:
    found = health(Network(certificate=WAITING), since=DEADLINE - timedelta(seconds=1))

    assert verdict(found) == (False, True, False)


def test_certificates_not_issued_by_the_deadline_stall_the_service() -> None:
    found = health(Network(certificate=WAITING), since=DEADLINE)

    assert verdict(found) == (False, False, True)
    assert found["Stalled"].reason == "CertificateNotIssued"
    assert found["Stalled"].message == "not issued within 600s: web.tls: waiting"
    # the wait is counted from when it began, not from this look
    assert found["CertificateReady"].last_transition_time == NOW - DEADLINE


def test_the_service_is_looked_at_again_when_the_deadline_passes() -> None:
    waiting = health(Network(certificate=WAITING), since=timedelta(minutes=4))

    assert recheck_in(list(waiting.values()), NOW, DEADLINE) == 360
    stalled = health(Network(certificate=WAITING), since=DEADLINE)
    assert recheck_in(list(stalled.values()), NOW, DEADLINE) is None
    assert recheck_in(list(health(Network()).values()), NOW, DEADLINE) is None
