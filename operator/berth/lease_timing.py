"""Leader election's timings and client-go's checks of them. Apart from runtime/lease, because
the settings check them at load and every room reads the settings."""

from dataclasses import dataclass

# client-go refuses a renew deadline that is not above the retry period times its jitter factor:
# a renewal must have room for more than one try.
JITTER_FACTOR = 1.2


@dataclass(frozen=True)
class Timing:
    """How long a lease lasts, how long a leader keeps trying to renew it, how often anyone tries."""

    lease_seconds: int
    renew_deadline_seconds: float
    retry_period_seconds: float


def timing_errors(timing: Timing) -> list[str]:
    """What is wrong with `timing`, as client-go's NewLeaderElector checks it; empty when fine."""
    errors = []
    if min(timing.lease_seconds, timing.renew_deadline_seconds, timing.retry_period_seconds) <= 0:
        errors.append("the lease, renew deadline and retry period must all be above zero")
    if timing.lease_seconds <= timing.renew_deadline_seconds:
        errors.append("the lease must last longer than the renew deadline")
    if timing.renew_deadline_seconds <= JITTER_FACTOR * timing.retry_period_seconds:
        errors.append(f"the renew deadline must be above {JITTER_FACTOR} times the retry period")
    return errors
