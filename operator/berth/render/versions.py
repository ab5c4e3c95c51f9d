"""Versions Berth creates and the patches it sends them: inline versions, adoption, numbers, states."""

from datetime import datetime
from typing import Any

from berth.api import limits
from berth.api.common import Condition
from berth.api.objects import ContainerServiceObject
from berth.api.service import VersionLedger
from berth.api.version import VersionState
from berth.render import labels, names
from berth.render.owner import owner_reference
from berth.render.timestamps import rfc3339

Body = dict[str, Any]
KIND = "ContainerServiceDeployment"


def inline_version(service: ContainerServiceObject, name: str, digest: str) -> Body:
    """The version a service's `spec.deployment` becomes, named `name`."""
    content = service.spec.deployment
    assert content is not None
    return {
        "apiVersion": limits.API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": name,
            "namespace": service.namespace,
            "labels": version_labels(service),
            "annotations": {names.INLINE_ANNOTATION: digest, **tag_annotations(service)},
            "ownerReferences": [owner_reference(service)],
            # The newest version is the next to activate; the finalizer also guards its number
            # until the ledger records it.
            "finalizers": [names.ACTIVE_VERSION_FINALIZER],
        },
        "spec": {"serviceName": service.name, **content.to_wire()},
    }


def adoption(service: ContainerServiceObject, version_name: str) -> Body:
    """What Berth applies to a version made by hand so that it goes when its service goes."""
    return {
        "apiVersion": limits.API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": version_name,
            "namespace": service.namespace,
            "labels": version_labels(service),
            "annotations": tag_annotations(service),
            "ownerReferences": [owner_reference(service)],
        },
    }


def version_labels(service: ContainerServiceObject) -> dict[str, str]:
    """Versions carry their service's tags like every other object it owns."""
    return {**labels.tag_labels(service.spec.tags), names.SERVICE_LABEL: service.name}


def tag_annotations(service: ContainerServiceObject) -> dict[str, str]:
    return labels.tag_annotations(service.spec.tags)


def tags_current(service: ContainerServiceObject, stored: Body) -> bool:
    """Whether a stored version carries the service's tags as they are now (the one annotation
    changes with any tag)."""
    annotations = (stored.get("metadata") or {}).get("annotations") or {}
    return annotations.get(names.TAGS_ANNOTATION) == tag_annotations(service).get(
        names.TAGS_ANNOTATION
    )


def ledger_patch(resource_version: str, ledger: VersionLedger) -> Body:
    """A conditional merge patch that sets every field of the ledger, unset ones to null.

    A merge patch keeps what it does not mention: a stale lastUid left behind would make the
    next inline version look numbered already, and after a crash it would be skipped.
    """
    return {
        "metadata": {"resourceVersion": resource_version},
        "status": {"versions": ledger.model_dump(by_alias=True, mode="json")},
    }


def number_patch(number: int, generation: int, conditions: list[Condition]) -> Body:
    """A version's status once it has its number: ACTIVATING, its old conditions replaced."""
    return {
        "status": {
            "version": number,
            "state": VersionState.ACTIVATING.value,
            "observedGeneration": generation,
            "conditions": _wire(conditions),
        }
    }


def state_patch(
    state: VersionState, message: str, now: datetime, generation: int, conditions: list[Condition]
) -> Body:
    """A version's new state, with the conditions that say it; an ACTIVE one says since when."""
    status: Body = {
        "state": state.value,
        "message": message or None,
        "observedGeneration": generation,
        "conditions": _wire(conditions),
    }
    if state == VersionState.ACTIVE:
        status["activatedAt"] = rfc3339(now)
    return {"status": status}


def _wire(found: list[Condition]) -> list[Body]:
    return [condition.to_wire() for condition in found]
