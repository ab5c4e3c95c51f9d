"""status/claims.py: who gets a contested name."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.builders import EARLIER

from berth.api.claim import ClaimOwner
from berth.render import names
from berth.status.claims import Claimant, Decision, decide

ME = Claimant("shop", "web", "uid-me", EARLIER)
OLDER = Claimant("other", "web", "uid-older", EARLIER - timedelta(minutes=1))
YOUNGER = Claimant("other", "web", "uid-younger", EARLIER + timedelta(minutes=1))
SAME_SECOND_BEFORE = Claimant("aaa", "web", "uid-same", EARLIER)  # namespace sorts first


def owner(claimant: Claimant) -> ClaimOwner:
    return ClaimOwner(namespace=claimant.namespace, name=claimant.name, uid=claimant.uid)


@pytest.mark.parametrize(
    ("case", "holder", "alive", "contenders", "expected"),
    [
        ("our claim", owner(ME), True, [], Decision.HELD),
        ("ours, even if an older one wants it", owner(ME), True, [OLDER], Decision.HELD),
        ("held by a live younger service", owner(YOUNGER), True, [], Decision.TAKEN),
        ("held by a live older service", owner(OLDER), True, [], Decision.TAKEN),
        ("held by a service that is gone", owner(OLDER), False, [], Decision.STALE),
        ("free, nobody else", None, False, [], Decision.CREATE),
        ("free, only me among contenders", None, False, [ME], Decision.CREATE),
        ("free, a younger one wants it", None, False, [ME, YOUNGER], Decision.CREATE),
        ("free, an older one wants it", None, False, [ME, OLDER], Decision.WAIT),
        ("free, same second, earlier name", None, False, [SAME_SECOND_BEFORE], Decision.WAIT),
    ],
)
def test_decision(
    case: str,
    holder: ClaimOwner | None,
    alive: bool,
    contenders: list[Claimant],
    expected: Decision,
) -> None:
    assert decide(ME, holder, alive, contenders) == expected, case


def test_a_service_without_creation_time_comes_last() -> None:
    unknown = Claimant("a", "web", "uid-x", None)
    assert ME.precedes(unknown)
    assert not unknown.precedes(ME)


def test_claim_names_are_valid_object_names_and_case_insensitive() -> None:
    name = names.domain_claim("Public", "*.Shop.Example.com")
    assert name == names.domain_claim("Public", "*.shop.example.com")
    assert name.startswith("public-") and len(name) <= 63
    assert name != names.domain_claim("Private", "*.shop.example.com")
    assert names.domain_claim("Public", "x" * 240 + ".com") != name
