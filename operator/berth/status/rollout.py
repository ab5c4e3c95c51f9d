"""What the Deployment and its pods say about the rollout in progress."""

from dataclasses import dataclass, field
from typing import Any

from berth.status import pods as pod_status

# Container waiting reasons that mean a pod will not start without a new version.
FATAL_WAITING_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)


@dataclass(frozen=True)
class Rollout:
    """A Deployment's progress, reduced to what version states depend on."""

    exists: bool = False
    template_version: int | None = None
    desired: int = 0
    generation_observed: bool = False
    replicas: int = 0
    updated: int = 0
    ready: int = 0
    available: int = 0
    deadline_exceeded: bool = False
    pod_failures: dict[int, str] = field(default_factory=dict)
    ready_by_version: dict[int, int] = field(default_factory=dict)
    # Version → how many of its pods no node can take, and the scheduler's message for one.
    unschedulable: dict[int, tuple[int, str]] = field(default_factory=dict)
    # Version → the message of a pod whose health check (Berth's readiness gate) fails.
    unhealthy: dict[int, str] = field(default_factory=dict)

    def complete(self) -> bool:
        """Every replica runs the template and is available, and no old pod is left.

        At zero replicas nothing has passed a health check, so nothing counts as complete.
        """
        return (
            self.exists
            and self.desired > 0
            and self.generation_observed
            and self.updated >= self.desired
            and self.available >= self.desired
            and self.replicas == self.desired
        )

    def failure(self, version: int) -> str | None:
        """Why `version` cannot become ACTIVE, or None while it still may."""
        if version in self.pod_failures:
            return self.pod_failures[version]
        if self.deadline_exceeded and self.generation_observed and self.template_version == version:
            why = self.waiting(version)
            late = "the rollout did not complete within the progress deadline"
            return f"{late}: {why}" if why else late
        return None

    def waiting(self, version: int) -> str | None:
        """What holds `version`'s pods back, when something known does: no node fits them, or
        their health check fails."""
        if version in self.unschedulable:
            count, message = self.unschedulable[version]
            return f"{count} {'pod' if count == 1 else 'pods'} cannot be scheduled: {message}"
        if version in self.unhealthy:
            return f"health check failing: {self.unhealthy[version]}"
        return None


def observe(
    deployment: dict[str, Any] | None,
    pods: list[dict[str, Any]],
    version_label: str,
    health_gate: str = "",
) -> Rollout:
    """Reduce a Deployment and the service's pods (versions in `version_label`, health checks in
    the readiness gate `health_gate`) to a Rollout."""
    if deployment is None:
        return Rollout()
    meta = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    version = template_labels.get(version_label)
    conditions = status.get("conditions") or []
    return Rollout(
        exists=True,
        template_version=int(version) if version and version.isdigit() else None,
        desired=int(spec.get("replicas", 1)),
        generation_observed=int(status.get("observedGeneration") or 0)
        >= int(meta.get("generation") or 0),
        replicas=int(status.get("replicas") or 0),
        updated=int(status.get("updatedReplicas") or 0),
        ready=int(status.get("readyReplicas") or 0),
        available=int(status.get("availableReplicas") or 0),
        deadline_exceeded=any(
            c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded"
            for c in conditions
        ),
        pod_failures=pod_failures(pods, version_label),
        ready_by_version=ready_pods(pods, version_label),
        unschedulable=unschedulable_pods(pods, version_label),
        unhealthy=unhealthy_pods(pods, version_label, health_gate) if health_gate else {},
    )


def _version_of(pod: dict[str, Any], version_label: str) -> int | None:
    version = ((pod.get("metadata") or {}).get("labels") or {}).get(version_label, "")
    return int(version) if version.isdigit() else None


def unschedulable_pods(
    pods: list[dict[str, Any]], version_label: str
) -> dict[int, tuple[int, str]]:
    """Version → (pods the scheduler found no node for, its message for the first of them)."""
    found: dict[int, tuple[int, str]] = {}
    for pod in pods:
        version = _version_of(pod, version_label)
        message = pod_status.unschedulable(pod)
        if version is None or message is None or pod_status.deleting(pod):
            continue
        count, first = found.get(version, (0, message))
        found[version] = (count + 1, first)
    return found


def unhealthy_pods(pods: list[dict[str, Any]], version_label: str, gate: str) -> dict[int, str]:
    """Version → the health check's message on the first of its pods whose gate is False."""
    found: dict[int, str] = {}
    for pod in pods:
        version = _version_of(pod, version_label)
        if (
            version is None
            or version in found
            or pod_status.condition_status(pod, gate) is not False
        ):
            continue
        found[version] = str((pod_status.condition(pod, gate) or {}).get("message") or "failing")
    return found


def ready_pods(pods: list[dict[str, Any]], version_label: str) -> dict[int, int]:
    """Version number → pods of it that are Ready (containers ready and readiness gates true)."""
    counts: dict[int, int] = {}
    for pod in pods:
        version = _version_of(pod, version_label)
        if version is not None and pod_status.ready(pod):
            counts[version] = counts.get(version, 0) + 1
    return counts


def pod_failures(pods: list[dict[str, Any]], version_label: str) -> dict[int, str]:
    """Version number → the first reason one of its pods cannot start."""
    failures: dict[int, str] = {}
    for pod in pods:
        version = ((pod.get("metadata") or {}).get("labels") or {}).get(version_label, "")
        if not version.isdigit() or int(version) in failures:
            continue
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        for container in statuses:
            waiting = (container.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            if reason in FATAL_WAITING_REASONS:
                detail = f": {waiting['message']}" if waiting.get("message") else ""
                said = last_words(container)
                failures[int(version)] = f"container {container.get('name')}: {reason}{detail}" + (
                    f"; {said}" if said else ""
                )
                break
    return failures


LAST_WORDS = 300


def last_words(container_status: dict[str, Any]) -> str:
    """How the container's last run ended, with the last line it wrote: its termination message,
    which is the log's tail when the container has FallbackToLogsOnError and wrote no message."""
    ended = ((container_status.get("lastState") or {}).get("terminated")) or (
        (container_status.get("state") or {}).get("terminated")
    )
    if not ended:
        return ""
    lines = [line for line in str(ended.get("message") or "").splitlines() if line.strip()]
    said = f"exit code {ended.get('exitCode')}"
    if lines:
        said += f", last line: {lines[-1].strip()[:LAST_WORDS]}"
    return said
