"""What one pod's status says: its conditions, whether it can be scheduled, whether it is ready."""

from typing import Any

Pod = dict[str, Any]


def condition(pod: Pod, kind: str) -> Pod | None:
    for found in (pod.get("status") or {}).get("conditions") or []:
        if found.get("type") == kind:
            return dict(found)
    return None


def condition_status(pod: Pod, kind: str) -> bool | None:
    """True or False as the condition says, None when the pod has no such condition."""
    found = condition(pod, kind)
    if found is None or found.get("status") not in ("True", "False"):
        return None
    return found.get("status") == "True"


def unschedulable(pod: Pod) -> str | None:
    """The scheduler's message when it found no node for the pod, else None."""
    scheduled = condition(pod, "PodScheduled")
    if scheduled is None or scheduled.get("status") != "False":
        return None
    if scheduled.get("reason") != "Unschedulable":
        return None
    return str(scheduled.get("message") or "no node fits the pod")


def containers_ready(pod: Pod) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return bool(statuses) and all(c.get("ready") for c in statuses)


def ready(pod: Pod) -> bool:
    """The pod's Ready condition (containers and readiness gates); without one, its containers."""
    status = condition_status(pod, "Ready")
    return containers_ready(pod) if status is None else status


def deleting(pod: Pod) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))
