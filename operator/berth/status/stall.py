"""Whether a service is Stalled (kstatus: it cannot progress without a change), and why."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from berth.api.common import Condition, ConditionStatus
from berth.status.network import Network, conflicts_text

CERTIFICATE_READY = "CertificateReady"


@dataclass(frozen=True)
class Stall:
    reason: str
    message: str


def certificate_waiting_since(previous: list[Condition] | None, now: datetime) -> datetime:
    """Since when the certificates have not been issued: the stored condition's transition."""
    for condition in previous or []:
        if condition.type == CERTIFICATE_READY and condition.status == ConditionStatus.FALSE:
            return condition.last_transition_time or now
    return now


def network_stall(
    network: Network, previous: list[Condition] | None, now: datetime, deadline: timedelta
) -> Stall | None:
    """A name another service holds, or certificates not issued within `deadline`."""
    if not network.private_admitted:
        return Stall("DomainConflict", network.private_message)
    if network.conflicts:
        return Stall("DomainConflict", conflicts_text(network))
    certificate = network.certificate
    if certificate.limit_exceeded:
        # cert-manager retries, but the quota refuses it until someone changes something.
        return Stall(certificate.reason, certificate.message)
    if certificate.provisioning and now - certificate_waiting_since(previous, now) >= deadline:
        return Stall(
            "CertificateNotIssued",
            f"not issued within {int(deadline.total_seconds())}s: {certificate.message}",
        )
    return None


def recheck_in(
    previous: list[Condition] | None, now: datetime, deadline: timedelta
) -> float | None:
    """Seconds until certificates still being issued pass their deadline; None if they are not
    being waited for. Nothing else would wake the service when the deadline passes."""
    found = {c.type: c for c in previous or []}
    waiting = found.get(CERTIFICATE_READY)
    stalled = found.get("Stalled")
    if waiting is None or waiting.status != ConditionStatus.FALSE:
        return None
    if stalled is not None and stalled.status == ConditionStatus.TRUE:
        return None
    left = deadline - (now - certificate_waiting_since(previous, now))
    return max(left.total_seconds(), 1.0)
