"""status/network.py and the networking parts of status/service.py."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit import builders
from tests.unit.builders import NOW, rollout, version

from berth.api.common import ConditionStatus
from berth.api.power import DEFAULT_POWERS
from berth.api.service import ServiceState, StateDetailCode
from berth.status.network import (
    CertificateReadiness,
    Network,
    certificate_readiness,
    conditions,
)
from berth.status.service import Observed, status
from berth.status.versions import plan


def certificate(ready: str | None, message: str = "", generation: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"metadata": {"generation": generation}, "status": {}}
    if ready is not None:
        body["status"]["conditions"] = [
            {"type": "Ready", "status": ready, "message": message, "observedGeneration": 1}
        ]
    return body


@pytest.mark.parametrize(
    ("case", "secrets", "found", "served", "expected", "reason"),
    [
        ("no Ingress", [], {}, True, ConditionStatus.TRUE, "NoPublicEndpoint"),
        ("no Ingress, no cert-manager", [], {}, False, ConditionStatus.TRUE, "NoPublicEndpoint"),
        (
            "no cert-manager",
            ["web.tls"],
            {},
            False,
            ConditionStatus.UNKNOWN,
            "CertManagerNotInstalled",
        ),
        ("not created yet", ["web.tls"], {}, True, ConditionStatus.FALSE, "Provisioning"),
        (
            "no Ready yet",
            ["web.tls"],
            {"web.tls": certificate(None)},
            True,
            ConditionStatus.FALSE,
            "Provisioning",
        ),
        (
            "not ready",
            ["web.tls"],
            {"web.tls": certificate("False")},
            True,
            ConditionStatus.FALSE,
            "Provisioning",
        ),
        (
            "ready",
            ["web.tls"],
            {"web.tls": certificate("True")},
            True,
            ConditionStatus.TRUE,
            "Issued",
        ),
        (
            "one of two ready",
            ["web.tls", "web.main.tls"],
            {"web.tls": certificate("True")},
            True,
            ConditionStatus.FALSE,
            "Provisioning",
        ),
        (
            "ready for an older spec",
            ["web.tls"],
            {"web.tls": certificate("True", generation=2)},
            True,
            ConditionStatus.FALSE,
            "Provisioning",
        ),
    ],
)
def test_certificate_readiness(
    case: str,
    secrets: list[str],
    found: dict[str, dict[str, Any]],
    served: bool,
    expected: ConditionStatus,
    reason: str,
) -> None:
    result = certificate_readiness(secrets, found, served)
    assert (result.status, result.reason) == (expected, reason), case


def test_a_waiting_certificate_says_which_and_why() -> None:
    found = {"web.main.tls": certificate("False", "Issuing certificate as Secret does not exist")}
    result = certificate_readiness(["web.tls", "web.main.tls"], found, True)
    assert "web.tls: waiting for cert-manager" in result.message
    assert "web.main.tls: Issuing certificate as Secret does not exist" in result.message


def condition_map(network: Network) -> dict[str, tuple[ConditionStatus, str, str]]:
    return {c.type: (c.status, c.reason, c.message) for c in conditions(network, 4, NOW)}


def test_conditions_when_everything_is_admitted() -> None:
    network = Network(private_domain="web.service.local", admitted_domains={"c": ["a.example.com"]})
    found = condition_map(network)
    assert found["PrivateDomainAdmitted"][:2] == (ConditionStatus.TRUE, "Admitted")
    assert found["DomainsAdmitted"] == (ConditionStatus.TRUE, "Admitted", "admitted: a.example.com")
    assert found["CertificateReady"][:2] == (ConditionStatus.TRUE, "NoPublicEndpoint")


def test_conflicts_are_domain_conflicts_naming_the_domains() -> None:
    network = Network(
        private_domain="web.service.local",
        private_admitted=False,
        private_message="web.service.local is already claimed by another service",
        conflicts={"b.example.com": "taken", "*.a.example.com": "taken"},
    )
    found = condition_map(network)
    assert found["PrivateDomainAdmitted"][:2] == (ConditionStatus.FALSE, "DomainConflict")
    status_, reason, message = found["DomainsAdmitted"]
    assert (status_, reason) == (ConditionStatus.FALSE, "DomainConflict")
    assert message == "*.a.example.com: taken; b.example.com: taken"


def observed(network: Network | None) -> Observed:
    seen = rollout(1)
    return Observed(
        plan=plan([version(1, "ACTIVE")], seen),
        rollout=seen,
        power=DEFAULT_POWERS["nano"],
        ledger=builders.ledger(1),
        guid="abcdef123456",
        url="https://web.abcdef123456.local.cs.berth.internal/",
        private_domain="web.service.local",
        selector="berth.dev/service=web",
        now=NOW,
        network=network,
    )


def test_an_unissued_certificate_makes_a_running_service_updating_provisioning_certificate() -> (
    None
):
    waiting = CertificateReadiness(ConditionStatus.FALSE, "Provisioning", "web.tls: waiting")
    result = status(builders.service(), observed(Network(certificate=waiting)))
    assert result.state == ServiceState.UPDATING
    assert result.state_detail is not None
    assert result.state_detail.code == StateDetailCode.PROVISIONING_CERTIFICATE
    assert result.state_detail.message == "web.tls: waiting"
    ready = {c.type: c for c in result.conditions or []}
    assert ready["Ready"].status == ConditionStatus.FALSE
    assert ready["Reconciling"].status == ConditionStatus.TRUE


def test_without_cert_manager_the_service_still_runs() -> None:
    unknown = CertificateReadiness(ConditionStatus.UNKNOWN, "CertManagerNotInstalled", "absent")
    result = status(builders.service(), observed(Network(certificate=unknown)))
    assert result.state == ServiceState.RUNNING
    found = {c.type: c for c in result.conditions or []}
    assert found["CertificateReady"].status == ConditionStatus.UNKNOWN


def test_status_reports_only_the_admitted_custom_domains() -> None:
    service = builders.service(domains={"c": ["a.example.com", "b.example.com"]})
    network = Network(admitted_domains={"c": ["a.example.com"]}, conflicts={"b.example.com": "x"})
    assert status(service, observed(network)).public_domain_names == {"c": ["a.example.com"]}
    assert status(builders.service(), observed(Network())).public_domain_names is None


def test_before_networking_ran_everything_asked_for_is_reported_lowercased() -> None:
    service = builders.service(domains={"c": ["A.example.com"]})
    assert status(service, observed(None)).public_domain_names == {"c": ["a.example.com"]}
