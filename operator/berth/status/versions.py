"""Version states: which version is ACTIVE, which activates, which failed or was superseded."""

from dataclasses import dataclass, field

from berth.api.objects import VersionObject
from berth.api.version import VersionState
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


def plan(versions: list[VersionObject], rollout: Rollout) -> VersionPlan:
    """Decide every numbered version's state from the last states and the rollout."""
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
    serve = candidate or active or newest
    return VersionPlan(
        states=states,
        active=active,
        candidate=candidate,
        serve=serve,
        running=serve is candidate or serve is active,
        newest=newest,
    )
