"""Lightsail's health check, decided: which answers pass, and when a pod turns healthy or not.

Berth checks each pod itself (reconcile/health.py) and sets a readiness-gate condition, because
a kubelet probe counts only 200-399 as healthy. These are the rules it checks by.
"""

from dataclasses import dataclass
from datetime import datetime

from berth.api.common import Condition
from berth.api.content import HealthCheck, parse_success_codes
from berth.api.objects import VersionObject
from berth.status import conditions

PROBE_SUCCESS = (200, 399)  # what a Kubernetes httpGet probe counts as healthy


def passes(code: int, success_codes: str) -> bool:
    """Whether an HTTP answer `code` is healthy under `success_codes` ("200-499", "200,202")."""
    return any(low <= code <= high for low, high in parse_success_codes(success_codes))


@dataclass(frozen=True)
class Tally:
    """Consecutive results of one pod's checks: one kind of result resets the other."""

    successes: int = 0
    failures: int = 0

    def after(self, healthy: bool) -> "Tally":
        if healthy:
            return Tally(successes=self.successes + 1)
        return Tally(failures=self.failures + 1)


def verdict(tally: Tally, check: HealthCheck, current: bool | None) -> bool | None:
    """The gate's new status when the thresholds say it changes, else None (nothing to write).

    `current` is the gate's status on the pod, None while nobody set it (not ready either way):
    a pod new to the checker turns healthy after `healthyThreshold` passes in a row, or is marked
    unhealthy after `unhealthyThreshold` failures in a row, as Lightsail's targets do.
    """
    if tally.successes >= check.healthy_threshold and current is not True:
        return True
    if tally.failures >= check.unhealthy_threshold and current is not False:
        return False
    return None


def merged_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or adjacent code ranges joined: 200-299,300-399 → 200-399."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def health_check_note(version: VersionObject | None) -> str | None:
    """With the kubelet's probe doing the checks (`health_checks: kubelet`): where successCodes
    asks for more than a probe can express, how it differs. None when the probe is exact."""
    endpoint = version.spec.public_endpoint if version else None
    if endpoint is None:
        return None
    codes = endpoint.health_check.success_codes
    if merged_ranges(parse_success_codes(codes)) == [PROBE_SUCCESS]:
        return None
    return (
        f"successCodes {codes} cannot be expressed by a Kubernetes readiness probe, "
        "which counts 200-399 as healthy and every other code as unhealthy"
    )


def exactness(
    probes_approximate: bool, version: VersionObject | None, generation: int, now: datetime
) -> list[Condition]:
    """HealthCheckExact, only where the kubelet's probe stands in for Berth's own checks."""
    if not probes_approximate:
        return []
    note = health_check_note(version)
    return [
        conditions.condition(
            "HealthCheckExact",
            note is None,
            "SuccessCodesApproximated" if note else "Exact",
            note or "the readiness probe checks exactly the health check's success codes",
            generation,
            now,
        )
    ]
