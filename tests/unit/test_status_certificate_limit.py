"""CERTIFICATE_LIMIT_EXCEEDED: a full ResourceQuota of Certificates, as Lightsail's certificate
limit per account (status/network.py, status/service.py, status/stall.py)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit import builders
from tests.unit.test_status_network import certificate, observed

from berth.api.common import ConditionStatus
from berth.api.service import ServiceState, StateDetailCode
from berth.status.network import (
    CertificateQuota,
    Network,
    certificate_readiness,
    full_certificate_quota,
)
from berth.status.service import status

KEY = "count/certificates.cert-manager.io"


def quota(name: str, hard: str | None, used: str | None, **other: str) -> dict[str, Any]:
    body: dict[str, Any] = {"metadata": {"name": name}, "status": {"hard": {}, "used": {}}}
    if hard is not None:
        body["status"]["hard"][KEY] = hard
    if used is not None:
        body["status"]["used"][KEY] = used
    for key, value in other.items():
        body["status"]["hard"][key] = body["status"]["used"][key] = value
    return body


@pytest.mark.parametrize(
    ("case", "quotas", "expected"),
    [
        ("no quota", [], None),
        ("room left", [quota("certs", "3", "2")], None),
        ("full", [quota("certs", "2", "2")], CertificateQuota("certs", 2, 2)),
        ("none allowed", [quota("certs", "0", "0")], CertificateQuota("certs", 0, 0)),
        ("other objects only", [quota("pods", None, None, pods="10")], None),
        # Not counted yet by the quota controller: the API server refuses no create by it either.
        ("status not filled in", [quota("certs", "1", None)], None),
        (
            "the full one of two",
            [quota("a", "9", "1"), quota("b", "1", "1")],
            CertificateQuota("b", 1, 1),
        ),
    ],
)
def test_a_full_quota_of_certificates(
    case: str, quotas: list[dict[str, Any]], expected: CertificateQuota | None
) -> None:
    assert full_certificate_quota(quotas) == expected, case


FULL = CertificateQuota("certs", 4, 4)


def test_a_missing_certificate_under_a_full_quota_is_over_the_limit() -> None:
    result = certificate_readiness(["web.tls", "web.main.tls"], {}, True, FULL)
    assert (result.status, result.reason) == (ConditionStatus.FALSE, "CertificateLimitExceeded")
    assert result.limit_exceeded and result.default_refused
    assert "web.tls, web.main.tls" in result.message
    assert "ResourceQuota certs allows 4" in result.message


def test_only_a_custom_domains_certificate_missing_leaves_the_default_one_alone() -> None:
    found = {"web.tls": certificate("True")}
    result = certificate_readiness(["web.tls", "web.main.tls"], found, True, FULL)
    assert result.limit_exceeded and not result.default_refused
    assert "web.main.tls" in result.message and "web.tls," not in result.message


def test_a_full_quota_with_every_certificate_made_is_no_limit() -> None:
    found = {"web.tls": certificate("True")}
    result = certificate_readiness(["web.tls"], found, True, FULL)
    assert (result.status, result.reason) == (ConditionStatus.TRUE, "Issued")


@pytest.mark.parametrize(
    ("found", "state"),
    [
        # Lightsail's pairing: a service whose own certificate cannot be made is PENDING.
        ({}, ServiceState.PENDING),
        ({"web.tls": certificate("True")}, ServiceState.UPDATING),
    ],
)
def test_over_the_limit_the_state_detail_is_certificate_limit_exceeded_and_stalled(
    found: dict[str, dict[str, Any]], state: ServiceState
) -> None:
    readiness = certificate_readiness(["web.tls", "web.main.tls"], found, True, FULL)
    result = status(builders.service(), observed(Network(certificate=readiness)))
    assert result.state == state
    assert result.state_detail is not None
    assert result.state_detail.code == StateDetailCode.CERTIFICATE_LIMIT_EXCEEDED
    assert result.state_detail.message == readiness.message
    conditions = {c.type: c for c in result.conditions or []}
    assert conditions["Ready"].status == ConditionStatus.FALSE
    assert conditions["CertificateReady"].reason == "CertificateLimitExceeded"
    # Nothing changes until the quota or the domains do: Stalled at once, no deadline to wait.
    assert conditions["Stalled"].status == ConditionStatus.TRUE
    assert conditions["Stalled"].reason == "CertificateLimitExceeded"
