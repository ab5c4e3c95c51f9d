"""status/health_check.py: Lightsail's health check rules, as Berth's checker applies them."""

from __future__ import annotations

import pytest

from berth.api.content import HealthCheck
from berth.status.health_check import Tally, passes, verdict

DEFAULT = HealthCheck()


@pytest.mark.parametrize(
    ("code", "codes", "healthy"),
    [
        (200, "200-499", True),
        (404, "200-499", True),  # Lightsail's default passes what a kubelet probe fails
        (401, "200-499", True),
        (499, "200-499", True),
        (500, "200-499", False),
        (404, "200-299", False),
        (299, "200-299", True),
        (202, "200,202", True),
        (201, "200,202", False),
        (302, "200,300-399", True),
    ],
)
def test_an_answer_passes_when_its_code_is_one_of_the_success_codes(
    code: int, codes: str, healthy: bool
) -> None:
    assert passes(code, codes) is healthy


def test_a_result_resets_the_count_of_the_other_kind() -> None:
    tally = Tally().after(True).after(True).after(False)
    assert tally == Tally(successes=0, failures=1)
    assert tally.after(True) == Tally(successes=1, failures=0)


def run(results: list[bool], check: HealthCheck, current: bool | None) -> list[bool | None]:
    """The verdict after each result, with the gate following every verdict written."""
    tally, verdicts = Tally(), []
    for healthy in results:
        tally = tally.after(healthy)
        decided = verdict(tally, check, current)
        verdicts.append(decided)
        if decided is not None:
            current = decided
    return verdicts


def test_a_new_pod_turns_healthy_after_healthy_threshold_passes_in_a_row() -> None:
    check = HealthCheck(healthy_threshold=3)
    assert run([True, True, True, True], check, None) == [None, None, True, None]


def test_a_new_pod_is_marked_unhealthy_after_unhealthy_threshold_failures() -> None:
    check = HealthCheck(unhealthy_threshold=4)
    assert run([False] * 5, check, None) == [None, None, None, False, None]


def test_a_healthy_pod_stays_healthy_until_enough_failures_in_a_row() -> None:
    check = HealthCheck(unhealthy_threshold=3)
    results = [False, False, True, False, False, False]
    assert run(results, check, True) == [None, None, None, None, None, False]


def test_an_unhealthy_pod_needs_healthy_threshold_passes_in_a_row_to_come_back() -> None:
    results = [True, False, True, True]
    assert run(results, DEFAULT, False) == [None, None, None, True]


def test_nothing_is_written_while_the_gate_already_says_it() -> None:
    assert run([True] * 10, DEFAULT, True) == [None] * 10
    assert run([False] * 10, DEFAULT, False) == [None] * 10
