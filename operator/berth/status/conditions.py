"""metav1.Conditions that keep their transition time while their status stays the same."""

from datetime import datetime

from berth.api.common import Condition, ConditionStatus


def condition(
    kind: str, ok: bool, reason: str, message: str, generation: int, now: datetime
) -> Condition:
    return Condition(
        type=kind,
        status=ConditionStatus.TRUE if ok else ConditionStatus.FALSE,
        observed_generation=generation,
        last_transition_time=now,
        reason=reason,
        message=message,
    )


def merge(previous: list[Condition] | None, current: list[Condition]) -> list[Condition]:
    """`current`, with the old transition time where a condition's status did not change."""
    before = {c.type: c for c in previous or []}
    merged = []
    for cond in current:
        old = before.get(cond.type)
        if old is not None and old.status == cond.status:
            cond = cond.model_copy(update={"last_transition_time": old.last_transition_time})
        merged.append(cond)
    return merged
