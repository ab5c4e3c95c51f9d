"""A service's Lightsail state, detail and conditions from its spec, versions and rollout."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from berth.api.common import Condition
from berth.api.objects import ContainerServiceObject, VersionObject
from berth.api.power import PowerSpec
from berth.api.service import (
    ServiceState,
    ServiceStatus,
    StateDetail,
    StateDetailCode,
    VersionLedger,
)
from berth.api.version import VersionState, VersionSummary
from berth.status import conditions
from berth.status import network as network_status
from berth.status.health_check import exactness
from berth.status.network import Network
from berth.status.rollout import Rollout
from berth.status.stall import Stall, network_stall
from berth.status.versions import VersionPlan


@dataclass(frozen=True)
class Observed:
    """Everything the status depends on besides the service itself."""

    plan: VersionPlan
    rollout: Rollout
    power: PowerSpec | None
    ledger: VersionLedger
    guid: str
    url: str
    private_domain: str
    selector: str
    now: datetime
    network: Network | None = None  # None: nothing checked yet, everything asked for counts
    # Owned objects the API server refused (an admission webhook or policy, a quota): kind/name → why.
    refused: dict[str, str] = field(default_factory=dict)
    # Certificates not issued this long after they were asked for make the service Stalled.
    certificate_deadline_seconds: int = 600
    # Health checks by the kubelet's probe (200-399 only), not Berth's own: HealthCheckExact says
    # where that differs from what the version asks for.
    probes_approximate: bool = False

    def networking(self, service: ContainerServiceObject) -> Network:
        return self.network or Network.all_admitted(service.spec, self.private_domain)


def summary(version: VersionObject, state: VersionState) -> VersionSummary:
    return VersionSummary(
        version=version.number or 0,
        state=state,
        name=version.name,
        containers=version.spec.containers,
        public_endpoint=version.spec.public_endpoint,
        created_at=version.metadata.creation_timestamp,
    )


DELETING_DETAIL = StateDetail(message="deleting the service and its objects")


def deleting() -> ServiceStatus:
    """What a service being deleted shows, before its objects go."""
    return ServiceStatus(state=ServiceState.DELETING, state_detail=DELETING_DETAIL)


def state_of(service: ContainerServiceObject, seen: Observed) -> tuple[ServiceState, StateDetail]:
    plan, rollout = seen.plan, seen.rollout
    if service.metadata.deleting:
        return ServiceState.DELETING, DELETING_DETAIL
    if seen.power is None and not rollout.exists:
        return ServiceState.PENDING, _power_missing(service)
    if service.spec.is_disabled:
        return ServiceState.DISABLED, StateDetail(message="disabled: scaled to zero")
    if _being_set_up(service, seen):
        return ServiceState.PENDING, _setting_up_detail(seen)
    if plan.candidate is not None:
        return ServiceState.DEPLOYING, _deploying_detail(plan.candidate, rollout)
    if plan.active is None:
        newest = plan.newest
        if newest is not None and plan.newest_failed():
            message = f"version {newest.number} failed: {plan.states[newest.name][1]}"
            return ServiceState.READY, StateDetail(
                code=StateDetailCode.UNKNOWN_ERROR, message=message
            )
        return ServiceState.READY, StateDetail(message="no active deployment")
    if seen.power is None:
        return ServiceState.RUNNING, _power_missing(service)
    if not rollout.complete() or rollout.template_version != plan.active.number:
        waiting = rollout.waiting(plan.active.number or 0)
        message = "changing capacity without downtime" + (f": {waiting}" if waiting else "")
        return ServiceState.UPDATING, StateDetail(message=message)
    certificate = seen.networking(service).certificate
    if certificate.limit_exceeded:
        # Lightsail's PENDING: the service's own certificate could not be made. Only a custom
        # domain's: the service serves on as before, its domains wait.
        state = ServiceState.PENDING if certificate.default_refused else ServiceState.UPDATING
        return state, StateDetail(
            code=StateDetailCode.CERTIFICATE_LIMIT_EXCEEDED, message=certificate.message
        )
    if certificate.provisioning:
        return ServiceState.UPDATING, StateDetail(
            code=StateDetailCode.PROVISIONING_CERTIFICATE, message=certificate.message
        )
    return ServiceState.RUNNING, StateDetail()


def _power_missing(service: ContainerServiceObject) -> StateDetail:
    return StateDetail(
        code=StateDetailCode.UNKNOWN_ERROR,
        message=f"power {service.spec.power!r} does not exist; running pods are left as they are",
    )


def _being_set_up(service: ContainerServiceObject, seen: Observed) -> bool:
    """A new service (never past PENDING) whose Deployment its controller has not taken up yet:
    Lightsail's PENDING, while the service is being created."""
    if service.status.state not in (None, ServiceState.PENDING) or seen.plan.active is not None:
        return False
    if seen.plan.serve is None:
        return False  # nothing to deploy: a service without versions is READY at once
    return not (seen.rollout.exists and seen.rollout.generation_observed)


def _setting_up_detail(seen: Observed) -> StateDetail:
    if seen.refused:
        message = "; ".join(f"{what}: {why}" for what, why in sorted(seen.refused.items()))
        return StateDetail(code=StateDetailCode.UNKNOWN_ERROR, message=message)
    return StateDetail(message="creating the service's resources")


def _deploying_detail(candidate: VersionObject, rollout: Rollout) -> StateDetail:
    number = candidate.number
    if rollout.template_version != number or rollout.updated == 0:
        return StateDetail(
            code=StateDetailCode.CREATING_DEPLOYMENT, message=f"starting version {number}"
        )
    if (number or 0) in rollout.unschedulable:
        # A capacity problem, not a health check: the pods are not running anywhere.
        return StateDetail(
            code=StateDetailCode.CREATING_DEPLOYMENT,
            message=f"version {number}: {rollout.waiting(number or 0)}",
        )
    healthy = rollout.ready_by_version.get(number or 0, 0)
    if healthy < rollout.desired:
        failing = rollout.unhealthy.get(number or 0)
        return StateDetail(
            code=StateDetailCode.EVALUATING_HEALTH_CHECK,
            message=f"version {number}: {healthy}/{rollout.desired} replicas healthy"
            + (f"; failing: {failing}" if failing else ""),
        )
    return StateDetail(
        code=StateDetailCode.ACTIVATING_DEPLOYMENT, message=f"switching traffic to version {number}"
    )


def status(service: ContainerServiceObject, seen: Observed) -> ServiceStatus:
    state, detail = state_of(service, seen)
    plan = seen.plan
    current = summary(plan.active, VersionState.ACTIVE) if plan.active else None
    next_ = summary(plan.candidate, VersionState.ACTIVATING) if plan.candidate else None
    price = seen.power.price * service.spec.scale if seen.power else None
    return ServiceStatus(
        state=state,
        state_detail=detail,
        current_deployment=current,
        next_deployment=next_,
        power=service.spec.power,
        scale=service.spec.scale,
        monthly_price=round(price, 2) if price is not None else None,
        private_domain_name=seen.private_domain,
        url=seen.url,
        public_domain_names=seen.networking(service).admitted_domains or None,
        domain_validation_records=seen.networking(service).validation_records or None,
        guid=seen.guid,
        created_at=service.metadata.creation_timestamp,
        replicas=seen.rollout.replicas,
        ready_replicas=seen.rollout.ready,
        selector=seen.selector,
        observed_generation=service.metadata.generation,
        versions=seen.ledger,
        conditions=conditions.merge(
            service.status.conditions, _conditions(service, seen, state, detail)
        ),
    )


def _conditions(
    service: ContainerServiceObject, seen: Observed, state: ServiceState, detail: StateDetail
) -> list[Condition]:
    gen, now, plan, rollout = service.metadata.generation, seen.now, seen.plan, seen.rollout
    newest_failed = plan.newest_failed()
    ready_states = (ServiceState.RUNNING, ServiceState.READY, ServiceState.DISABLED)
    ready = state in ready_states and seen.power is not None and not newest_failed
    available = (
        plan.active is not None and rollout.desired > 0 and rollout.available >= rollout.desired
    )
    message = detail.message or state.value
    if newest_failed and plan.newest is not None:
        reason = plan.states[plan.newest.name][1]
        message = f"version {plan.newest.number} failed: {reason}"
    stall = _stall(service, seen, newest_failed, message)
    stalled = stall is not None
    ready = ready and not stalled
    # kstatus: a service that cannot progress is Stalled, and then not Reconciling too.
    progressing = (ServiceState.PENDING, ServiceState.DEPLOYING, ServiceState.UPDATING)
    reconciling = state in progressing and not stalled
    return [
        conditions.condition("Ready", ready, state.value.title(), message, gen, now),
        conditions.condition(
            "DeploymentAvailable",
            available,
            "MinimumReplicasAvailable" if available else "NoAvailableReplicas",
            f"{rollout.available}/{rollout.desired} replicas available",
            gen,
            now,
        ),
        conditions.condition(
            "PowerResolved",
            seen.power is not None,
            "Found" if seen.power else "PowerNotFound",
            f"power {service.spec.power!r}" + ("" if seen.power else " does not exist"),
            gen,
            now,
        ),
        conditions.condition("Reconciling", reconciling, state.value.title(), message, gen, now),
        conditions.condition(
            "Stalled",
            stalled,
            stall.reason if stall else "Progressing",
            stall.message if stall else "",
            gen,
            now,
        ),
        *exactness(seen.probes_approximate, plan.candidate or plan.active, gen, now),
        _scheduled(rollout, gen, now),
        _applied(seen.refused, gen, now),
        *network_status.conditions(seen.networking(service), gen, now),
    ]


def _stall(
    service: ContainerServiceObject, seen: Observed, newest_failed: bool, message: str
) -> Stall | None:
    if seen.power is None:
        return Stall("PowerNotFound", message)
    if newest_failed:
        return Stall("DeploymentFailed", message)
    deadline = timedelta(seconds=seen.certificate_deadline_seconds)
    return network_stall(seen.networking(service), service.status.conditions, seen.now, deadline)


def _scheduled(rollout: Rollout, generation: int, now: datetime) -> Condition:
    """Whether every pod found a node: a full node is a capacity problem, said as such."""
    if not rollout.unschedulable:
        return conditions.condition(
            "PodsScheduled", True, "Scheduled", "every pod has a node", generation, now
        )
    message = "; ".join(
        f"version {number}: {rollout.waiting(number)}" for number in sorted(rollout.unschedulable)
    )
    return conditions.condition("PodsScheduled", False, "Unschedulable", message, generation, now)


def _applied(refused: dict[str, str], generation: int, now: datetime) -> Condition:
    """Whether the API server took every object the service needs."""
    if not refused:
        return conditions.condition(
            "ObjectsApplied", True, "Applied", "every owned object is applied", generation, now
        )
    message = "; ".join(f"{what}: {why}" for what, why in sorted(refused.items()))
    return conditions.condition("ObjectsApplied", False, "WriteRefused", message, generation, now)


# Conditions whose turn to this status is a problem the user must hear about (a Warning event).
WARN_WHEN = {
    "PowerResolved": "False",
    "PodsScheduled": "False",
    "DomainsAdmitted": "False",
    "PrivateDomainAdmitted": "False",
    "ObjectsApplied": "False",
}


def warnings(old: ServiceStatus, new: ServiceStatus) -> list[tuple[str, str]]:
    """(reason, message) of each condition that just turned into a problem."""
    before = {c.type: c.status for c in old.conditions or []}
    found = []
    for condition in new.conditions or []:
        bad = WARN_WHEN.get(condition.type)
        if condition.status == bad and before.get(condition.type) != bad:
            found.append((condition.reason, condition.message))
    return found


def invalid_spec(
    previous: list[Condition] | None, generation: int, message: str, now: datetime
) -> ServiceStatus:
    """A spec the operator cannot read (it slipped past the CRD's rules): nothing is changed,
    and the status says so. Stalled until the spec changes; the state is left as it was."""
    detail = StateDetail(code=StateDetailCode.UNKNOWN_ERROR, message=message)
    reason = "InvalidSpec"
    fresh = {
        c.type: c
        for c in conditions.merge(
            previous,
            [
                conditions.condition("Ready", False, reason, message, generation, now),
                conditions.condition("Reconciling", False, reason, message, generation, now),
                conditions.condition("Stalled", True, reason, message, generation, now),
            ],
        )
    }
    kept = [fresh.pop(c.type, c) for c in previous or []]
    return ServiceStatus(
        state_detail=detail,
        observed_generation=generation,
        conditions=[*kept, *fresh.values()],
    )
