"""Plans: from what the store holds, the writes that bring a service to its spec. Pure.

A reconcile plans twice: `objects` (Deployment, Service, Ingress), then, once those are sent
and the store holds the answers, `statuses` (versions, finalizers, pruning, the service's
status and the events that announce its transitions). `deletion` plans a service's way out.
Numbers and names are arbitrated by the API server itself (conditional writes, create-or-409),
so they are taken before planning (versions.py, claims.py), not planned.
"""

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from berth.api import limits
from berth.api.objects import ContainerServiceObject, ImageObject, VersionObject
from berth.api.power import PowerSpec
from berth.api.service import ServiceState, ServiceStatus, VersionLedger
from berth.api.version import VersionState
from berth.kube import resources
from berth.kube.compare import merge_patch, stamped, up_to_date
from berth.kube.resources import Key, Resource
from berth.reconcile.writes import Apply, Delete, Emit, Patch, SetFinalizer, Write
from berth.render import events, images, ingress, labels, names, network, workload
from berth.render import versions as version_manifests
from berth.settings import HealthChecks, Settings
from berth.status import progress
from berth.status import rollout as rollout_status
from berth.status import service as service_status
from berth.status import versions as version_status
from berth.status.network import CertificateQuota, Network, certificate_readiness
from berth.status.rollout import Rollout

Body = dict[str, Any]
# The kinds a service owns one of each, named after it, that plans compare with.
OWNED_KINDS = (resources.DEPLOYMENT, resources.KUBE_SERVICE, resources.INGRESS)
# SPEC: a Normal Event for each transition a user acts on, a Warning for every error, and
# nothing that only repeats the status. Every other transition is in status alone.
ANNOUNCED_VERSION_STATES = (VersionState.ACTIVE, VersionState.FAILED)
ANNOUNCED_SERVICE_STATES = (ServiceState.RUNNING,)


@dataclass(frozen=True)
class Snapshot:
    """One service and everything its writes depend on, as the store holds them now."""

    service: ContainerServiceObject
    body: Body  # the service as stored: what its Events are about
    versions: list[VersionObject]
    power: PowerSpec | None
    settings: Settings
    guid: str
    now: datetime
    deployment: Body | None = None
    pods: list[Body] = field(default_factory=list)
    # The live objects a plan compares its manifests with, by kind (None: there is none).
    live: dict[Resource, Body | None] = field(default_factory=dict)
    ledger: VersionLedger = field(default_factory=VersionLedger)
    network: Network | None = None
    certificates: dict[str, Body] = field(default_factory=dict)  # by name = tls secret name
    certificates_served: bool = False
    # A full quota of Certificates in the namespace, looked up while one of ours is missing.
    certificate_quota: CertificateQuota | None = None
    # Owned objects the API server refused to take: kind/name → its answer.
    refused: dict[str, str] = field(default_factory=dict)
    # UIDs of ACTIVE versions whose deletion was already announced.
    warned: frozenset[str] = frozenset()
    # The service's registered images, and its registry pull secret as stored (None: none).
    images: list[ImageObject] = field(default_factory=list)
    pull_secret: Body | None = None

    @property
    def key(self) -> Key:
        return (self.service.namespace, self.service.name)

    def rollout(self) -> Rollout:
        return rollout_status.observe(
            self.deployment, self.pods, names.VERSION_LABEL, names.HEALTH_GATE
        )

    def versions_plan(self) -> version_status.VersionPlan:
        return version_status.plan(self.versions, self.rollout(), self.unresolvable())

    def resolved(self) -> dict[str, str]:
        """`:<service>.<label>.<number>` → what the pods pull."""
        return images.resolved_images(self.service, self.images, self.settings.registry)

    def unresolvable(self) -> dict[str, str]:
        """Version name → why its registered images cannot be pulled, for those that cannot."""
        resolved = self.resolved()
        found = {}
        for version in self.versions:
            absent = images.missing(version.spec.content(), resolved)
            if absent:
                found[version.name] = images.missing_message(self.service.name, absent)
        return found

    def default_domain(self) -> str:
        s = self.settings
        return names.default_domain(self.service.name, self.guid, s.region, s.base_domain)


def _owned(snap: Snapshot, resource: Resource, desired: Body | None) -> list[Write]:
    """Apply `desired` unless the live object already is it; delete the live one for None."""
    live = snap.live.get(resource)
    if desired is None:
        if live is None:
            return []
        return [Delete(resource, snap.key, live["metadata"]["uid"])]
    manifest = stamped(desired)
    return [] if up_to_date(live, manifest) else [Apply(manifest)]


def desired_ingress(snap: Snapshot, serving: VersionObject | None) -> Body | None:
    admitted = snap.network.admitted_domains if snap.network else {}
    content = serving.spec.content() if serving is not None else None
    return ingress.ingress(snap.service, content, snap.default_domain(), admitted, snap.settings)


def objects(snap: Snapshot, plan: version_status.VersionPlan | None = None) -> list[Write]:
    """The Deployment and Service of the version to serve, and the Ingress in front of them.
    `plan` is the version plan when the caller has decided it already."""
    plan = plan or snap.versions_plan()
    writes: list[Write] = []
    resolved = snap.resolved()
    registry = images.registry_of(snap.settings)
    serve = plan.serve
    # A version whose images cannot be pulled is never rendered: the Deployment keeps what it
    # runs rather than get an image name the node cannot parse.
    if serve is not None and images.missing(serve.spec.content(), resolved):
        serve = None
    if snap.power is not None and serve is not None:
        content = serve.spec.content()
        uses_registry = registry is not None and images.uses_registered(content)
        deployment = workload.deployment(
            snap.service,
            serve.number or 0,
            content,
            snap.power,
            snap.settings,
            plan.running,
            images=resolved,
            registry_secret=names.registry_pull_secret(snap.service.name)
            if uses_registry
            else None,
        )
        writes += _owned(snap, resources.DEPLOYMENT, deployment)
        writes += _owned(snap, resources.KUBE_SERVICE, network.kube_service(snap.service, content))
        secret = images.pull_secret(snap.service, registry) if uses_registry and registry else None
        writes += _pull_secret(snap, secret)
    return writes + _owned(snap, resources.INGRESS, desired_ingress(snap, plan.serve))


def _pull_secret(snap: Snapshot, desired: Body | None) -> list[Write]:
    """The registry pull secret while the served version needs it. Kept once made: an older
    version may still have pods that pull with it."""
    if desired is None:
        return []
    manifest = stamped(desired)
    return [] if up_to_date(snap.pull_secret, manifest) else [Apply(manifest)]


def statuses(snap: Snapshot, plan: version_status.VersionPlan) -> list[Write]:
    """Versions' states and finalizers, pruning, then the service's status; each transition
    announced by an Event. `plan` is the version plan the objects were planned with: it stands,
    and the fresh Deployment in `snap` only changes what the status reports."""
    versions = _versions(snap, plan)
    # Finalizers come off last: a deleted old version must not vanish before its successor and
    # the service say ACTIVE and RUNNING, or a reader would see a moment with no ACTIVE version.
    released = [w for w in versions if _releases(w)]
    before = [w for w in versions if not _releases(w)]
    return [*before, *_prune(snap, plan), *_service_status(snap, plan), *released]


def _releases(write: Write) -> bool:
    return isinstance(write, SetFinalizer) and not write.wanted


def _event(snap: Snapshot, warning: bool, reason: str, message: str) -> Emit:
    return Emit(events.event(snap.body, warning, reason, message, snap.now))


def _versions(snap: Snapshot, plan: version_status.VersionPlan) -> list[Write]:
    writes: list[Write] = []
    kept_though_deleted = protected(snap, plan) - snap.warned
    # Retire the old ACTIVE before naming the new one: never two ACTIVE versions at once.
    ordered = sorted(
        snap.versions, key=lambda v: plan.states.get(v.name, (None,))[0] == VersionState.ACTIVE
    )
    for version in ordered:
        if version.name not in plan.states:
            continue
        state, message = plan.states[version.name]
        key = (snap.service.namespace, version.name)
        generation = version.metadata.generation
        # A version written by an older Berth has no conditions yet: it gets them once.
        unobserved = version.status.observed_generation != generation
        if plan.changed(version) or unobserved:
            health = version_status.health_conditions(
                state, message, generation, snap.now, version.status.conditions
            )
            patch = version_manifests.state_patch(state, message, snap.now, generation, health)
            if not plan.changed(version):
                patch["status"].pop("activatedAt", None)  # it became ACTIVE long ago
            writes.append(Patch(resources.VERSION, key, patch))
        if version.status.state != state and state in ANNOUNCED_VERSION_STATES:
            writes.append(_version_event(snap, version.number or 0, state, message))
        keep = version_status.keeps_finalizer(state, version.number, snap.service.status.versions)
        if (names.ACTIVE_VERSION_FINALIZER in version.metadata.finalizers) != keep:
            writes.append(
                SetFinalizer(resources.VERSION, key, names.ACTIVE_VERSION_FINALIZER, keep)
            )
        if version.metadata.uid in kept_though_deleted:
            writes.append(
                _event(
                    snap,
                    True,
                    "ActiveVersionProtected",
                    f"version {version.number} ({version.name}) is ACTIVE and is kept until "
                    "another version replaces it or the service is deleted",
                )
            )
    return writes


def protected(snap: Snapshot, plan: version_status.VersionPlan) -> set[str]:
    """UIDs of versions someone deletes while they are ACTIVE: they stay, with a warning."""
    return {
        v.metadata.uid
        for v in snap.versions
        if v.metadata.deleting and plan.states.get(v.name, (None,))[0] == VersionState.ACTIVE
    }


def _version_event(snap: Snapshot, number: int, state: VersionState, message: str) -> Emit:
    text = f"version {number} is {state.value}" + (f": {message}" if message else "")
    return _event(snap, state == VersionState.FAILED, f"Version{state.value.title()}", text)


def _prune(snap: Snapshot, plan: version_status.VersionPlan) -> list[Write]:
    """Keep at most 50 versions: the oldest INACTIVE or FAILED ones go first."""
    numbered = sorted(
        (v for v in snap.versions if v.number is not None), key=lambda v: v.number or 0
    )
    excess = len(numbered) - limits.MAX_VERSIONS
    writes: list[Write] = []
    for version in numbered:
        if excess <= 0:
            break
        state = plan.states.get(version.name, (None, ""))[0]
        if state in (VersionState.INACTIVE, VersionState.FAILED) and not version.metadata.deleting:
            key = (snap.service.namespace, version.name)
            writes.append(Delete(resources.VERSION, key, version.metadata.uid))
            excess -= 1
    return writes


def network_seen(snap: Snapshot, serving: VersionObject | None) -> Network:
    """What the claims decided, with what cert-manager says of the Ingress's certificates."""
    private = names.private_domain(snap.service.name, snap.settings.private_domain_suffix)
    seen = snap.network or Network.all_admitted(snap.service.spec, private)
    secrets = ingress.tls_secret_names(desired_ingress(snap, serving))
    found = {name: body for name in secrets if (body := snap.certificates.get(name)) is not None}
    readiness = certificate_readiness(
        secrets, found, snap.certificates_served, snap.certificate_quota
    )
    return dataclasses.replace(seen, certificate=readiness)


def new_status(snap: Snapshot, plan: version_status.VersionPlan) -> ServiceStatus:
    service, settings = snap.service, snap.settings
    seen = service_status.Observed(
        plan=plan,
        rollout=snap.rollout(),
        power=snap.power,
        ledger=snap.ledger,
        guid=snap.guid,
        url=f"https://{snap.default_domain()}/",
        private_domain=names.private_domain(service.name, settings.private_domain_suffix),
        selector=labels.service_selector(service.name),
        now=snap.now,
        network=network_seen(snap, plan.serve),
        refused=snap.refused,
        certificate_deadline_seconds=settings.certificate_deadline_seconds,
        probes_approximate=settings.health_checks == HealthChecks.KUBELET,
    )
    return service_status.status(service, seen)


def _service_status(snap: Snapshot, plan: version_status.VersionPlan) -> list[Write]:
    old, new = snap.service.status, new_status(snap, plan)
    old_wire, new_wire = old.to_wire(), new.to_wire()
    if old_wire == new_wire or progress.held_for(old, new, snap.now) is not None:
        return []
    writes: list[Write] = [
        Patch(resources.SERVICE, snap.key, {"status": merge_patch(old_wire, new_wire)})
    ]
    for reason, message in service_status.warnings(old, new):
        writes.append(_event(snap, True, reason, message))
    warning = bool(new.state_detail and new.state_detail.code == "UNKNOWN_ERROR")
    if old.state != new.state and (warning or new.state in ANNOUNCED_SERVICE_STATES):
        detail = new.state_detail.message if new.state_detail and new.state_detail.message else ""
        writes.append(
            _event(
                snap,
                warning,
                f"State{(new.state or 'unknown').title()}",
                f"{old.state or 'new'} → {new.state}" + (f": {detail}" if detail else ""),
            )
        )
    return writes


def deletion(snap: Snapshot) -> list[Write]:
    """DELETING, said once in status (the user asked for it: no Event repeats it); then no
    version holds the service back any more. The claims and the service's own finalizer (on a
    service an older Berth gave one) follow once the names are released (service.finalize)."""
    writes: list[Write] = []
    if snap.service.status.state != ServiceState.DELETING:
        status = service_status.deleting()
        writes.append(Patch(resources.SERVICE, snap.key, {"status": status.to_wire()}))
    for version in snap.versions:
        if names.ACTIVE_VERSION_FINALIZER in version.metadata.finalizers:
            key = (snap.service.namespace, version.name)
            writes.append(
                SetFinalizer(resources.VERSION, key, names.ACTIVE_VERSION_FINALIZER, False)
            )
    return writes
