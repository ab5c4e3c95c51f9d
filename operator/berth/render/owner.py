"""Owner references and metadata shared by every owned object."""

from typing import Any

from berth.api import limits
from berth.api.objects import ContainerServiceObject
from berth.render import labels


def owner_reference(service: ContainerServiceObject) -> dict[str, Any]:
    return {
        "apiVersion": limits.API_VERSION,
        "kind": "ContainerService",
        "name": service.name,
        "uid": service.metadata.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def owned_metadata(service: ContainerServiceObject, name: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": service.namespace,
        "labels": labels.object_labels(service.name, service.spec.tags),
        "ownerReferences": [owner_reference(service)],
    }
    annotations = labels.tag_annotations(service.spec.tags)
    if annotations:
        meta["annotations"] = annotations
    return meta
