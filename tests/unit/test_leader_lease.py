"""runtime/lease.py: what a process does about the Lease it read, and the records it writes;
the settings that time it, checked as client-go checks them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from berth.kube.client import Kube
from berth.lease_timing import Timing, timing_errors
from berth.runtime import lease
from berth.runtime.leader import Elector
from berth.runtime.lease import Decision, Record
from berth.settings import Settings

NOW = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
HELD = Record("other", 15, "2025-01-02T03:00:00.000000Z", "2025-01-02T03:04:00.000000Z", 3)


@pytest.mark.parametrize(
    ("observed", "seen_changed_at", "now", "decision"),
    [
        (None, 0.0, 100.0, Decision.TAKE),  # no Lease yet
        (Record(), 99.0, 100.0, Decision.TAKE),  # released: no holder
        (Record("", 1, transitions=4), 99.9, 100.0, Decision.TAKE),
        (Record("me", 15), 0.0, 100.0, Decision.RENEW),  # ours, even if long unrenewed
        (HELD, 90.0, 100.0, Decision.WAIT),  # seen to change 10 s ago, lasts 15
        (HELD, 85.0, 99.999, Decision.WAIT),
        (HELD, 85.0, 100.0, Decision.TAKE),  # unchanged for the whole lease: expired
        (HELD, 10.0, 100.0, Decision.TAKE),
    ],
)
def test_decide_trusts_a_holder_for_its_lease_from_when_the_record_last_changed(
    observed: Record | None, seen_changed_at: float, now: float, decision: Decision
) -> None:
    assert lease.decide(observed, seen_changed_at, now, "me") is decision


def test_decide_never_reads_the_records_timestamps() -> None:
    long_ago = Record("other", 15, "1999-01-01T00:00:00.000000Z", "1999-01-01T00:00:00.000000Z")

    assert lease.decide(long_ago, 95.0, 100.0, "me") is Decision.WAIT


def test_taking_anothers_lease_counts_a_transition_and_stamps_both_times() -> None:
    taken = lease.claimed(HELD, "me", 15, NOW)

    assert taken == Record(
        "me", 15, "2025-01-02T03:04:05.678901Z", "2025-01-02T03:04:05.678901Z", 4
    )


def test_renewing_keeps_the_acquire_time_and_the_transitions() -> None:
    mine = Record("me", 15, "2025-01-02T03:00:00.000000Z", "2025-01-02T03:04:00.000000Z", 7)

    renewed = lease.claimed(mine, "me", 15, NOW)

    assert renewed == Record("me", 15, mine.acquire_time, "2025-01-02T03:04:05.678901Z", 7)


def test_the_first_holder_starts_at_zero_transitions() -> None:
    assert lease.claimed(None, "me", 15, NOW).transitions == 0


def test_a_release_leaves_no_holder_and_a_one_second_lease() -> None:
    released = lease.released(Record("me", 15, "a", "b", 7), NOW)

    assert (released.holder, released.lease_seconds, released.transitions) == ("", 1, 7)


def test_a_lease_manifest_round_trips_and_is_conditional_on_its_resource_version() -> None:
    manifest = lease.lease_manifest("ns", "berth-operator", HELD, "42")

    assert manifest["metadata"] == {
        "name": "berth-operator",
        "namespace": "ns",
        "resourceVersion": "42",
    }
    assert manifest["spec"]["holderIdentity"] == "other"
    assert lease.record_of(manifest) == HELD
    assert "resourceVersion" not in lease.lease_manifest("ns", "x", HELD)["metadata"]


def test_default_identities_differ_between_processes_on_one_host() -> None:
    assert lease.default_identity() != lease.default_identity()


@pytest.mark.parametrize(
    ("timing", "fine"),
    [
        (Timing(15, 10, 2), True),  # client-go's defaults
        (Timing(4, 3, 0.5), True),
        (Timing(10, 10, 2), False),  # the lease must outlast the renew deadline
        (Timing(15, 2.4, 2), False),  # the deadline must be above 1.2 x the retry period
        (Timing(15, 2.5, 2), True),
        (Timing(15, 10, 0), False),
    ],
)
def test_timing_is_checked_as_client_go_checks_it(timing: Timing, fine: bool) -> None:
    assert (timing_errors(timing) == []) is fine


def test_settings_refuse_a_renew_deadline_as_long_as_the_lease(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BERTH_LEADER_ELECTION_LEASE_SECONDS", "10")
    monkeypatch.setenv("BERTH_LEADER_ELECTION_RENEW_DEADLINE_SECONDS", "10")

    with pytest.raises(ValidationError, match="longer than the renew deadline"):
        Settings()


def test_the_lease_lives_in_the_operators_namespace_unless_told() -> None:
    assert Settings(namespace="ops").lease_namespace() == "ops"
    assert Settings(namespace="ops", leader_election_namespace="elect").lease_namespace() == "elect"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_fence_shuts_at_the_renew_deadline_even_if_nothing_ran_to_notice() -> None:
    clock = Clock()
    elector = Elector(Kube(None, None), "ns", "lease", "me", Timing(4, 3, 0.5), clock=clock)
    assert not elector.holds()
    elector.leading, elector.renewed_at = True, 10.0

    clock.now = 12.999
    assert elector.holds()
    clock.now = 13.0
    assert not elector.holds()
