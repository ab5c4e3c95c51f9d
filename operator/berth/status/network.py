"""Networking conditions: private name and custom domains admitted, certificates ready."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from berth.api import domains, foreign
from berth.api.common import Condition, ConditionStatus
from berth.api.service import ServiceSpec
from berth.api.verification import DomainValidationRecord

LIMIT_EXCEEDED = "CertificateLimitExceeded"


@dataclass(frozen=True)
class CertificateReadiness:
    """cert-manager's word on the certificates of a service's Ingress."""

    status: ConditionStatus = ConditionStatus.TRUE
    reason: str = "NoPublicEndpoint"
    message: str = "no public endpoint: no certificate needed"
    # Over the limit: the default domain's own certificate is one of those that cannot be made.
    default_refused: bool = False

    @property
    def provisioning(self) -> bool:
        return self.status == ConditionStatus.FALSE

    @property
    def limit_exceeded(self) -> bool:
        return self.reason == LIMIT_EXCEEDED


@dataclass(frozen=True)
class CertificateQuota:
    """A ResourceQuota of the service's namespace that counts cert-manager Certificates."""

    name: str
    used: int
    hard: int

    @property
    def full(self) -> bool:
        return self.used >= self.hard


def full_certificate_quota(quotas: list[dict[str, Any]]) -> CertificateQuota | None:
    """The first of a namespace's ResourceQuotas that lets no more Certificates be created.

    From each quota's status, which the API server's quota admission keeps (and refuses a create
    by): a quota whose status is not filled in yet is not judged."""
    for quota in sorted(quotas, key=lambda q: (q.get("metadata") or {}).get("name") or ""):
        status = quota.get("status") or {}
        hard = _count((status.get("hard") or {}).get(foreign.CERTIFICATE_QUOTA))
        used = _count((status.get("used") or {}).get(foreign.CERTIFICATE_QUOTA))
        if hard is None or used is None:
            continue
        found = CertificateQuota((quota.get("metadata") or {}).get("name") or "", used, hard)
        if found.full:
            return found
    return None


def _count(value: object) -> int | None:
    """An object count as the API server writes it: a plain integer."""
    try:
        return int(str(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class Network:
    """What the networking part of a reconcile found out."""

    private_domain: str = ""
    private_admitted: bool = True
    private_message: str = ""
    admitted_domains: dict[str, list[str]] = field(default_factory=dict)  # certificate → domains
    conflicts: dict[str, str] = field(default_factory=dict)  # domain → why it is not admitted
    certificate: CertificateReadiness = field(default_factory=CertificateReadiness)
    # Domains whose owner has not proved (yet) that this service may use them: domain → what to do.
    unverified: dict[str, str] = field(default_factory=dict)
    # The record each domain that needs one needs, and whether it was found.
    validation_records: list[DomainValidationRecord] = field(default_factory=list)
    verification_on: bool = True
    # When DNS should be looked at again (seconds), for the records above; None: no need.
    recheck_dns_in: float | None = None

    @classmethod
    def all_admitted(cls, spec: ServiceSpec, private_domain: str) -> "Network":
        """Before anything was checked, or where nothing competes: everything asked for."""
        return cls(
            private_domain=private_domain,
            admitted_domains=domains.by_certificate(spec.public_domain_names),
        )


def certificate_readiness(
    secret_names: list[str],
    certificates: dict[str, dict[str, Any]],
    served: bool,
    quota: CertificateQuota | None = None,
) -> CertificateReadiness:
    """From cert-manager's Certificates (by name = the Ingress's tls secretName; the first is the
    default domain's), and a full quota of Certificates in the namespace, if there is one.

    ingress-shim reports its own errors only as events on the Ingress (or not at all: a create
    the API server refuses is retried in silence), so a Certificate that does not exist yet is
    "waiting", unless a full quota says it cannot be created: Lightsail's certificate limit.
    """
    if not secret_names:
        return CertificateReadiness()
    if not served:
        return CertificateReadiness(
            ConditionStatus.UNKNOWN,
            "CertManagerNotInstalled",
            f"the {foreign.CERT_MANAGER_GROUP} Certificate API is not served: nothing issues the "
            f"certificates {', '.join(secret_names)}",
        )
    missing = [name for name in secret_names if name not in certificates]
    if missing and quota is not None and quota.full:
        message = (
            f"cert-manager cannot create the Certificates {', '.join(missing)}: the ResourceQuota "
            f"{quota.name} allows {quota.hard} Certificates in this namespace and {quota.used} "
            "exist; raise it, or remove custom domains or other services' certificates"
        )
        return CertificateReadiness(
            ConditionStatus.FALSE, LIMIT_EXCEEDED, message, secret_names[0] in missing
        )
    waiting = []
    for name in secret_names:
        body = certificates.get(name)
        if body is None:
            waiting.append(f"{name}: waiting for cert-manager to create the Certificate")
            continue
        ready = _ready_condition(body)
        if ready.get("status") != "True":
            why = ready.get("message") or ready.get("reason") or "not issued yet"
            waiting.append(f"{name}: {why}")
    if waiting:
        return CertificateReadiness(ConditionStatus.FALSE, "Provisioning", "; ".join(waiting))
    return CertificateReadiness(
        ConditionStatus.TRUE, "Issued", f"certificates issued: {', '.join(secret_names)}"
    )


def _ready_condition(certificate: dict[str, Any]) -> dict[str, Any]:
    status = certificate.get("status") or {}
    generation = (certificate.get("metadata") or {}).get("generation")
    for condition in status.get("conditions") or []:
        if condition.get("type") != "Ready":
            continue
        observed = condition.get("observedGeneration")
        if generation is not None and observed is not None and observed < generation:
            return {"status": "Unknown", "reason": "Outdated", "message": "being re-issued"}
        return dict(condition)
    return {}


def conflicts_text(network: Network) -> str:
    """Each domain another service holds, and why: `a.example.com: why; b.example.com: why`."""
    return "; ".join(f"{domain}: {why}" for domain, why in sorted(network.conflicts.items()))


def unverified_text(network: Network) -> str:
    return "; ".join(why for _, why in sorted(network.unverified.items()))


def _verified(network: Network, generation: int, now: datetime) -> Condition:
    if network.unverified:
        status, reason = ConditionStatus.FALSE, "RecordNotFound"
        message = unverified_text(network)
    elif not network.verification_on:
        status, reason = ConditionStatus.TRUE, "VerificationOff"
        message = "domain ownership is not checked on this cluster"
    else:
        proved = sorted(r.domain_name for r in network.validation_records)
        status, reason = ConditionStatus.TRUE, "Verified"
        message = f"proved in DNS: {', '.join(proved)}" if proved else "no domain needs a record"
    return _condition("DomainsVerified", status, reason, message, generation, now)


def _admitted(network: Network, generation: int, now: datetime) -> Condition:
    problems = "; ".join(t for t in (conflicts_text(network), unverified_text(network)) if t)
    if not problems:
        admitted = sorted(d for ds in network.admitted_domains.values() for d in ds)
        message = f"admitted: {', '.join(admitted)}" if admitted else "no custom domains"
        return _condition(
            "DomainsAdmitted", ConditionStatus.TRUE, "Admitted", message, generation, now
        )
    reason = "DomainConflict" if network.conflicts else "DomainNotVerified"
    return _condition("DomainsAdmitted", ConditionStatus.FALSE, reason, problems, generation, now)


def conditions(network: Network, generation: int, now: datetime) -> list[Condition]:
    cert = network.certificate
    return [
        _condition(
            "PrivateDomainAdmitted",
            ConditionStatus.TRUE if network.private_admitted else ConditionStatus.FALSE,
            "Admitted" if network.private_admitted else "DomainConflict",
            network.private_message or f"{network.private_domain} resolves to this service",
            generation,
            now,
        ),
        _admitted(network, generation, now),
        _verified(network, generation, now),
        _condition("CertificateReady", cert.status, cert.reason, cert.message, generation, now),
    ]


def _condition(
    kind: str, status: ConditionStatus, reason: str, message: str, generation: int, now: datetime
) -> Condition:
    return Condition(
        type=kind,
        status=status,
        observed_generation=generation,
        last_transition_time=now,
        reason=reason,
        message=message,
    )
