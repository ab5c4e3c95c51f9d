"""Whether a custom domain may be served, from what DNS and the administrators say. Pure."""

from collections.abc import Iterable
from dataclasses import dataclass

from berth.api.domains import normalized
from berth.api.verification import DomainValidationRecord, ResourceRecord, ValidationStatus


@dataclass(frozen=True)
class Lookup:
    """What a resolver found at one record name: its TXT values, or why it could not tell.

    No such name and a name without TXT records are answers (an empty set): the record is not
    there. A timeout or a failing server is not: nothing can be concluded from it.
    """

    values: frozenset[str] | None
    error: str = ""

    @property
    def answered(self) -> bool:
        return self.values is not None


@dataclass(frozen=True)
class Eligibility:
    """Whether a domain may go on to be claimed, and the record to show for it (if one is needed)."""

    admit: bool
    record: DomainValidationRecord | None = None
    why: str = ""  # why not admitted, for the status
    # Proved, and no need to look again soon (a failed lookup or a missing record is looked
    # at again soon).
    settled: bool = True


ALLOWED = Eligibility(admit=True)


def allowed(patterns: Iterable[str], domain: str) -> bool:
    """Whether an allow-list entry covers `domain`: the same name, or `*.zone` for any name
    under `zone` (a wildcard under it included)."""
    domain = normalized(domain)
    for pattern in map(normalized, patterns):
        if pattern == domain:
            return True
        if pattern.startswith("*.") and domain.endswith(pattern[1:]):
            return True
    return False


def how_to(record: ResourceRecord, domain: str) -> str:
    return f'to serve {domain}, create the DNS record {record.name} TXT "{record.value}"'


def eligibility(
    domain: str, record: ResourceRecord, lookup: Lookup, holds_claim: bool
) -> Eligibility:
    """From the TXT values found at the record's name. `holds_claim`: the service already
    holds the domain, which it got only with proof (or an allow-list) once: a lookup that could
    not conclude keeps it, a record found gone takes it away."""
    if lookup.values is not None and record.value in lookup.values:
        shown = DomainValidationRecord(
            domain_name=domain, resource_record=record, validation_status=ValidationStatus.SUCCESS
        )
        return Eligibility(admit=True, record=shown)
    if lookup.values is None:
        found = f"could not look up {record.name}: {lookup.error}"
        status = ValidationStatus.SUCCESS if holds_claim else ValidationStatus.PENDING_VALIDATION
        shown = DomainValidationRecord(
            domain_name=domain, resource_record=record, validation_status=status, message=found
        )
        if holds_claim:
            return Eligibility(admit=True, record=shown, settled=False)
        why = f"{how_to(record, domain)} ({found})"
        return Eligibility(admit=False, record=shown, why=why, settled=False)
    # A record gone takes the domain away, and it waits for its record as a new one does.
    found = f"{record.name} has no TXT record with this value"
    shown = DomainValidationRecord(
        domain_name=domain,
        resource_record=record,
        validation_status=ValidationStatus.PENDING_VALIDATION,
        message=found,
    )
    return Eligibility(admit=False, record=shown, why=how_to(record, domain), settled=False)


def recheck_in(
    found: Iterable[Eligibility], pending_seconds: float, interval_seconds: float
) -> float | None:
    """When to look at DNS again: soon while a record is awaited (or a lookup failed), rarely
    once all are found, never when no domain needs a record. Nothing else wakes a service when
    its domain's owner edits DNS."""
    found = list(found)
    if any(not e.settled for e in found):
        return pending_seconds
    return interval_seconds if any(e.record is not None for e in found) else None
