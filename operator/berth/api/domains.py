"""Domain names compare without case (DNS): every place that reads one lowercases it here."""

from collections.abc import Mapping


def normalized(domain: str) -> str:
    return domain.lower()


def by_certificate(public_domain_names: Mapping[str, list[str]] | None) -> dict[str, list[str]]:
    """`publicDomainNames` (certificate → domains), each domain normalized."""
    return {
        certificate: [normalized(d) for d in domains or []]
        for certificate, domains in (public_domain_names or {}).items()
    }


def every(public_domain_names: Mapping[str, list[str]] | None) -> list[str]:
    """Every domain of `publicDomainNames`, normalized, in declaration order."""
    return [d for domains in by_certificate(public_domain_names).values() for d in domains]
