"""The operator's view of the cluster: the latest body of every watched object, by kind and key."""

from collections import defaultdict
from typing import Any

from berth.render import names

Body = dict[str, Any]
Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped kinds


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def trimmed(body: Body) -> Body:
    """The body without managedFields and kubectl's last-applied copy: Berth reads neither, and
    they are most of an object's size (a Deployment's managedFields outweigh its spec)."""
    meta = body.get("metadata")
    if not meta:
        return body
    annotations = meta.get("annotations") or {}
    if "managedFields" not in meta and LAST_APPLIED not in annotations:
        return body
    meta = {k: v for k, v in meta.items() if k != "managedFields"}
    if LAST_APPLIED in annotations:
        meta["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
    return {**body, "metadata": meta}


def key_of(body: Body) -> Key:
    meta = body.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


def _newer_or_equal(new: Body, old: Body) -> bool:
    """Resource versions are etcd revisions in practice; never let a late read roll back a write."""
    new_rv = (new.get("metadata") or {}).get("resourceVersion", "")
    old_rv = (old.get("metadata") or {}).get("resourceVersion", "")
    if new_rv.isdigit() and old_rv.isdigit():
        return int(new_rv) >= int(old_rv)
    return True


def _same_version(new: Body, old: Body) -> bool:
    new_rv = (new.get("metadata") or {}).get("resourceVersion", "")
    return bool(new_rv) and new_rv == (old.get("metadata") or {}).get("resourceVersion", "")


class Store:
    """Bodies by kind and key, plus the indexes reconciles need (versions and pods by service)."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[Key, Body]] = defaultdict(dict)
        self.primed = False
        # Whether cert-manager's Certificate API exists; without it certificates stay Unknown.
        self.certificates_served = False

    def put(self, kind: str, body: Body) -> bool:
        """Keep `body` unless the store holds a newer one; whether it told the store anything new.

        False for a body the store already had at this resourceVersion: the echo of one of our own
        writes (its answer was stored), or kopf listing after a restart what start-up listed.
        """
        body = trimmed(body)
        key = key_of(body)
        old = self.objects[kind].get(key)
        if old is not None and (_same_version(body, old) or not _newer_or_equal(body, old)):
            return False
        self.objects[kind][key] = body
        return True

    def remove(self, kind: str, body: Body) -> None:
        self.objects[kind].pop(key_of(body), None)

    def get(self, kind: str, key: Key) -> Body | None:
        return self.objects[kind].get(key)

    def all(self, kind: str) -> list[Body]:
        return list(self.objects[kind].values())

    def versions_of(self, key: Key) -> list[Body]:
        namespace, service = key
        return [
            body
            for (ns, _), body in self.objects["ContainerServiceDeployment"].items()
            if ns == namespace and (body.get("spec") or {}).get("serviceName") == service
        ]

    def pods_of(self, key: Key) -> list[Body]:
        namespace, service = key
        return [
            body
            for (ns, _), body in self.objects["Pod"].items()
            if ns == namespace
            and ((body.get("metadata") or {}).get("labels") or {}).get(names.SERVICE_LABEL)
            == service
        ]

    def services_using_power(self, power: str) -> list[Key]:
        return [
            key
            for key, body in self.objects["ContainerService"].items()
            if (body.get("spec") or {}).get("power") == power
        ]
