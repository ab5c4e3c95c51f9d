"""When a status that only tells how far a rollout got is worth a write. Pure.

A rollout passes through Lightsail's stateDetail codes (CREATING_DEPLOYMENT, then
EVALUATING_HEALTH_CHECK "0/1 replicas healthy", …) on its way from DEPLOYING to RUNNING. Most
rollouts end within seconds, and a reconcile that sees the middle of one would write a status
its end overwrites at once: a write per service that nobody needs. So a change that keeps the
state DEPLOYING and every condition's status, and touches only the detail and the counts, waits
until the rollout has run HOLD_SECONDS; a rollout still going then gets it written (the
reconcile looks again then, `recheck_in`), and a stuck one says why as before.
"""

from datetime import datetime

from berth.api.common import Condition
from berth.api.service import ServiceState, ServiceStatus

HOLD_SECONDS = 10.0
# The fields a rollout's progress changes; a change to anything else is written at once.
PROGRESS_FIELDS = frozenset({"stateDetail", "replicas", "readyReplicas", "conditions"})
ROLLOUT_CONDITION = "Reconciling"


def rollout_began(conditions: list[Condition] | None) -> datetime | None:
    """When the rollout under way began: Reconciling turned True then."""
    for condition in conditions or []:
        if condition.type == ROLLOUT_CONDITION and condition.status == "True":
            return condition.last_transition_time
    return None


def held_for(old: ServiceStatus, new: ServiceStatus, now: datetime) -> float | None:
    """Seconds the change from `old` to `new` may wait, or None: write it now."""
    if old.state != ServiceState.DEPLOYING or new.state != old.state:
        return None
    if old.observed_generation != new.observed_generation:
        return None
    if _verdicts(old) != _verdicts(new):
        return None
    old_wire, new_wire = old.to_wire(), new.to_wire()
    changed = {k for k in old_wire.keys() | new_wire.keys() if old_wire.get(k) != new_wire.get(k)}
    if not changed <= PROGRESS_FIELDS:
        return None
    return recheck_in(old.conditions, now)


def recheck_in(conditions: list[Condition] | None, now: datetime) -> float | None:
    """Seconds until a rollout that began less than HOLD_SECONDS ago has run that long."""
    began = rollout_began(conditions)
    if began is None:
        return None
    left = HOLD_SECONDS - (now - began).total_seconds()
    return left if left > 0 else None


def _verdicts(status: ServiceStatus) -> dict[str, str]:
    return {c.type: c.status for c in status.conditions or []}
