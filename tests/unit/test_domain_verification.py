"""Proof of domain ownership, the pure parts: the record bound to namespace, service, domain and
cluster; what a lookup admits; allow-list patterns; when to look again; what the plan serves."""

from __future__ import annotations

import dataclasses

import pytest
from tests.unit import builders
from tests.unit.test_reconcile_plans import DOMAINS, running, summary

from berth.api.verification import ResourceRecord, ValidationStatus
from berth.reconcile import plan
from berth.reconcile.writes import Apply, Patch
from berth.render import verification as records
from berth.status.network import Network, conditions
from berth.status.verification import ALLOWED, Eligibility, Lookup, allowed, eligibility, recheck_in

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


def test_the_token_is_bound_to_namespace_service_domain_and_the_clusters_key() -> None:
    mine = records.token(KEY, "shop", "web", "shop.example.com")
    assert mine.startswith("berth-verify=") and len(mine) == len("berth-verify=") + 32
    assert records.token(KEY, "shop", "web", "SHOP.example.com") == mine  # DNS has no case
    others = {
        records.token(KEY, "thief", "web", "shop.example.com"),
        records.token(KEY, "shop", "other", "shop.example.com"),
        records.token(KEY, "shop", "web", "www.example.com"),
        records.token(OTHER_KEY, "shop", "web", "shop.example.com"),
        # Moving a separator must not give the same message.
        records.token(KEY, "shop-web", "x", "shop.example.com"),
    }
    assert mine not in others and len(others) == 5


def test_a_wildcard_is_proved_at_its_parent_and_names_are_lowercased() -> None:
    assert records.record_name("Shop.Example.com") == "_berth-challenge.shop.example.com"
    assert records.record_name("*.apps.example.com") == "_berth-challenge.apps.example.com"
    wild = records.record(KEY, "ns", "web", "*.apps.example.com")
    assert wild.value != records.record(KEY, "ns", "web", "apps.example.com").value


def test_the_key_survives_its_secret_and_a_foreign_secret_gives_none() -> None:
    secret = records.key_secret("berth-system", KEY)
    assert secret["metadata"]["name"] == records.KEY_SECRET
    assert records.key_of(secret) == KEY
    assert records.key_of({"data": {}}) is None
    assert records.key_of({"data": {"key": "c2hvcnQ="}}) is None  # too short to be ours


RECORD = ResourceRecord(
    name="_berth-challenge.shop.example.com", type="TXT", value="berth-verify=x"
)
FOUND = Lookup(frozenset({"berth-verify=x", "v=spf1 -all"}))
WRONG = Lookup(frozenset({"berth-verify=someone-else"}))
ABSENT = Lookup(frozenset())
BROKEN = Lookup(None, "The DNS operation timed out.")


@pytest.mark.parametrize(
    ("case", "lookup", "holds", "admit", "status", "settled"),
    [
        ("record found", FOUND, False, True, ValidationStatus.SUCCESS, True),
        (
            "another service's record only",
            WRONG,
            False,
            False,
            ValidationStatus.PENDING_VALIDATION,
            False,
        ),
        ("no record", ABSENT, False, False, ValidationStatus.PENDING_VALIDATION, False),
        (
            "lookup failed, never proved",
            BROKEN,
            False,
            False,
            ValidationStatus.PENDING_VALIDATION,
            False,
        ),
        # Held: it was proved once. A failing resolver does not take a site down...
        ("lookup failed, held", BROKEN, True, True, ValidationStatus.SUCCESS, False),
        # ...a record removed by the domain's owner does.
        ("record removed, held", ABSENT, True, False, ValidationStatus.PENDING_VALIDATION, False),
        ("record kept, held", FOUND, True, True, ValidationStatus.SUCCESS, True),
    ],
)
def test_a_domain_is_admitted_only_with_its_own_record(
    case: str,
    lookup: Lookup,
    holds: bool,
    admit: bool,
    status: ValidationStatus,
    settled: bool,
) -> None:
    found = eligibility("shop.example.com", RECORD, lookup, holds)
    assert (found.admit, found.settled) == (admit, settled), case
    assert found.record is not None and found.record.validation_status == status, case
    assert found.record.resource_record == RECORD
    if not admit:
        assert '_berth-challenge.shop.example.com TXT "berth-verify=x"' in found.why, case


@pytest.mark.parametrize(
    ("patterns", "domain", "expected"),
    [
        (["shop.example.com"], "SHOP.example.com", True),
        (["shop.example.com"], "www.shop.example.com", False),
        (["*.example.com"], "shop.example.com", True),
        (["*.example.com"], "*.apps.example.com", True),
        (["*.example.com"], "example.com", False),
        (["*.example.com"], "badexample.com", False),
        (["*.Example.COM"], "a.b.example.com", True),
        ([], "shop.example.com", False),
    ],
)
def test_allow_list_patterns(patterns: list[str], domain: str, expected: bool) -> None:
    assert allowed(patterns, domain) is expected


def test_dns_is_looked_at_soon_while_awaited_rarely_once_proved_never_when_not_needed() -> None:
    proved = eligibility("a.example.com", RECORD, FOUND, False)
    awaited = eligibility("b.example.com", RECORD, ABSENT, False)
    assert recheck_in([ALLOWED], 30, 3600) is None
    assert recheck_in([], 30, 3600) is None
    assert recheck_in([ALLOWED, proved], 30, 3600) == 3600
    assert recheck_in([proved, awaited], 30, 3600) == 30
    # No key to make records with yet (its Secret refused): looked at again soon, too.
    assert recheck_in([Eligibility(admit=False, why="no key", settled=False)], 30, 3600) == 30


def unverified_network() -> Network:
    awaited = eligibility("www.example.com", RECORD, ABSENT, False)
    proved = eligibility("shop.example.com", RECORD, FOUND, False)
    return Network(
        private_domain="web.service.local",
        admitted_domains={"shop-cert": ["shop.example.com"]},
        unverified={"www.example.com": awaited.why},
        validation_records=[r.record for r in (awaited, proved) if r.record is not None],
    )


def test_conditions_show_the_record_to_create_without_stalling() -> None:
    found = {c.type: c for c in conditions(unverified_network(), 3, builders.NOW)}
    verified, admitted = found["DomainsVerified"], found["DomainsAdmitted"]
    assert (verified.status, verified.reason) == ("False", "RecordNotFound")
    assert '_berth-challenge.shop.example.com TXT "berth-verify=x"' in verified.message
    assert (admitted.status, admitted.reason) == ("False", "DomainNotVerified")
    off = conditions(dataclasses.replace(Network(), verification_on=False), 3, builders.NOW)
    assert {c.type: c.reason for c in off}["DomainsVerified"] == "VerificationOff"


def test_an_unproved_domain_gets_no_ingress_rule_no_certificate_and_its_record_in_status() -> None:
    steady = running(builders.service(domains=DOMAINS))
    snap = dataclasses.replace(steady, network=unverified_network())

    ingress = next(w.manifest for w in plan.objects(snap) if isinstance(w, Apply))
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
    tls_hosts = [h for entry in ingress["spec"]["tls"] for h in entry["hosts"]]
    assert "www.example.com" not in hosts + tls_hosts
    assert "shop.example.com" in hosts and "shop.example.com" in tls_hosts

    writes = plan.statuses(snap, snap.versions_plan())
    patch = next(w.patch for w in writes if isinstance(w, Patch))
    shown = patch["status"]["domainValidationRecords"]
    assert [(r["domainName"], r["validationStatus"]) for r in shown] == [
        ("www.example.com", "PENDING_VALIDATION"),
        ("shop.example.com", "SUCCESS"),
    ]
    assert patch["status"]["publicDomainNames"] == {"shop-cert": ["shop.example.com"]}
    stalled = {c["type"]: c for c in patch["status"]["conditions"]}["Stalled"]
    assert stalled["status"] == "False"  # it waits for DNS, which the owner may still change
    assert ("event", "Warning", "DomainNotVerified") in summary(writes)
