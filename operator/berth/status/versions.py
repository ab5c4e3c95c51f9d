"""Version states: which version is ACTIVE, which activates, which failed or was superseded."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from berth.api.common import Condition
from berth.api.objects import VersionObject
from berth.api.service import VersionLedger
from berth.api.version import VersionState
from berth.status import conditions
from berth.status.rollout import Rollout

UNSETTLED = (None, VersionState.ACTIVATING)


@dataclass(frozen=True)
class VersionPlan:
    """The outcome of one look at a service's versions."""

    states: dict[str, tuple[VersionState, str]] = field(default_factory=dict)
    active: VersionObject | None = None
    candidate: VersionObject | None = None
    serve: VersionObject | None = None  # what the Deployment runs
    running: bool = False  # whether it runs with replicas
    newest: VersionObject | None = None

    def newest_failed(self) -> bool:
        """The last version asked for failed: the service serves an older one, or nothing."""
        return self.newest is not None and self.states[self.newest.name][0] == VersionState.FAILED

    def changed(self, version: VersionObject) -> bool:
        state, message = self.states[version.name]
        return (version.status.state, version.status.message or "") != (state, message)


def plan(
    versions: list[VersionObject],
    rollout: Rollout,
    unresolvable: Mapping[str, str] | None = None,
) -> VersionPlan:
    """Decide every numbered version's state from the last states and the rollout.

    `unresolvable` names the versions whose images cannot be pulled as written (a registered
    image that does not exist), with why: such a candidate FAILS before any pod tries."""
    numbered = sorted((v for v in versions if v.number is not None), key=lambda v: v.number or 0)
    if not numbered:
        return VersionPlan()
    states = {
        v.name: (v.status.state or VersionState.ACTIVATING, v.status.message or "")
        for v in numbered
    }
    newest = numbered[-1]
    actives = [v for v in numbered if v.status.state == VersionState.ACTIVE]
    active = actives[-1] if actives else None
    newest_active = active.number if active else None
    for stale in actives[:-1]:
        states[stale.name] = (VersionState.INACTIVE, f"replaced by version {newest_active}")
    candidate = newest if newest is not active and newest.status.state in UNSETTLED else None
    for version in numbered:
        if version is not candidate and version is not active and version.status.state in UNSETTLED:
            states[version.name] = (VersionState.INACTIVE, f"superseded by version {newest.number}")
    if candidate is not None and candidate.name in (unresolvable or {}):
        states[candidate.name] = (VersionState.FAILED, (unresolvable or {})[candidate.name])
        candidate = None
    if candidate is not None and candidate.number == rollout.template_version is not None:
        failure = rollout.failure(rollout.template_version)
        if failure is None and rollout.complete():
            states[candidate.name] = (VersionState.ACTIVE, "")
            if active is not None:
                states[active.name] = (
                    VersionState.INACTIVE,
                    f"replaced by version {candidate.number}",
                )
            active, candidate = candidate, None
        elif failure is not None:
            states[candidate.name] = (VersionState.FAILED, failure)
            candidate = None
        else:
            # Still activating: say what holds it back (no node fits, its health check fails).
            waiting = rollout.waiting(rollout.template_version)
            states[candidate.name] = (VersionState.ACTIVATING, waiting or "")
    serve = candidate or active or newest
    return VersionPlan(
        states=states,
        active=active,
        candidate=candidate,
        serve=serve,
        running=serve is candidate or serve is active,
        newest=newest,
    )


def keeps_finalizer(state: VersionState, number: int | None, stored: VersionLedger | None) -> bool:
    """The ACTIVE and the ACTIVATING version keep their finalizer (SPEC: only INACTIVE and FAILED
    versions may be deleted), and so does one whose number the stored ledger does not cover yet."""
    if state in (VersionState.ACTIVE, VersionState.ACTIVATING):
        return True
    return (number or 0) > (stored or VersionLedger()).last_version


def service_not_found(
    namespace: str, service: str, generation: int, now: datetime
) -> list[Condition]:
    """Why a version has no number: its service does not exist (yet). It waits: Reconciling."""
    message = f"ContainerService {service!r} does not exist in {namespace!r}; numbered when it does"
    return [
        conditions.condition("ServiceFound", False, SERVICE_NOT_FOUND, message, generation, now),
        conditions.condition("Ready", False, SERVICE_NOT_FOUND, message, generation, now),
        conditions.condition("Reconciling", True, SERVICE_NOT_FOUND, message, generation, now),
        conditions.condition("Stalled", False, SERVICE_NOT_FOUND, message, generation, now),
    ]


SERVICE_NOT_FOUND = "ServiceNotFound"


# kstatus reads Reconciling and Stalled; `kubectl wait --for=condition=Ready` reads Ready.
_READY_STATES = (VersionState.ACTIVE, VersionState.INACTIVE)


def health_conditions(
    state: VersionState,
    message: str,
    generation: int,
    now: datetime,
    previous: list[Condition] | None = None,
) -> list[Condition]:
    """Ready / Reconciling / Stalled for a version in `state`, as kstatus and `kubectl wait`
    read them: ACTIVATING is Reconciling, ACTIVE and INACTIVE are Ready, FAILED is Stalled.
    Never Reconciling and Stalled at once."""
    reason = state.value.title()
    text = message or f"version is {state.value}"
    return conditions.merge(
        previous,
        [
            conditions.condition("Ready", state in _READY_STATES, reason, text, generation, now),
            conditions.condition(
                "Reconciling", state == VersionState.ACTIVATING, reason, text, generation, now
            ),
            conditions.condition(
                "Stalled", state == VersionState.FAILED, reason, text, generation, now
            ),
        ],
    )
