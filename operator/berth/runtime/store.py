"""The latest body of every watched object, by kind and key, with the indexes its user asks for."""

import sys
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from berth.kube.resources import Key, Resource, key_of

Body = dict[str, Any]


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Strings up to this length are interned: keys, images, label values, reasons, timestamps.
INTERN_UP_TO = 64
# Deleted objects remembered per kind. A late answer comes within a request's timeout, and no
# cluster deletes thousands of one kind in that long.
TOMBSTONES_PER_KIND = 4096


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


def compact(value: Any) -> Any:
    """`value` with its keys and short strings interned.

    Each JSON document gets its own copy of every string, so thousands of stored bodies hold
    thousands of copies of "metadata", "nginx:1.27" or "True": interned, they share one, which
    halves the store (measured on 1,000 services' objects).
    """
    if isinstance(value, dict):
        return {sys.intern(k): compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [compact(v) for v in value]
    if isinstance(value, str) and len(value) <= INTERN_UP_TO:
        return sys.intern(value)
    return value


def _resource_version(body: Body) -> str:
    return str((body.get("metadata") or {}).get("resourceVersion") or "")


def _newer_or_equal(new: Body, old: Body) -> bool:
    """Resource versions are etcd revisions in practice; never let a late read roll back a write."""
    new_rv, old_rv = _resource_version(new), _resource_version(old)
    if new_rv.isdigit() and old_rv.isdigit():
        return int(new_rv) >= int(old_rv)
    return True


# An index: the values a body is found under (one body may be under several, or none).
IndexFn = Callable[[Body], Iterable[Hashable]]
# kind → index name → how a body of that kind is filed.
Indexes = Mapping[Resource, Mapping[str, IndexFn]]


def _same_version(new: Body, old: Body) -> bool:
    new_rv = _resource_version(new)
    return bool(new_rv) and new_rv == _resource_version(old)


class Store:
    """Bodies by kind and key, plus indexes so that no lookup walks every object of a kind.

    `primed` turns True once the first lists are in: until then, events only fill the store.
    """

    def __init__(self, indexes: Indexes | None = None) -> None:
        self.index_fns: Indexes = indexes or {}
        self.objects: dict[Resource, dict[Key, Body]] = defaultdict(dict)
        # (kind, index name) → indexed value → the bodies found under it, by key.
        self.indexes: dict[tuple[Resource, str], dict[Hashable, dict[Key, Body]]] = defaultdict(
            dict
        )
        self.primed = False
        # Key → (uid, resourceVersion) of objects that left the store for good: deleted, or no
        # longer matching the informer's selector. A body of the same uid that is not newer is
        # a write's answer that came after that event; a newer one matches again.
        self.tombstones: dict[Resource, OrderedDict[Key, Body]] = defaultdict(OrderedDict)

    def put(self, kind: Resource, body: Body) -> bool:
        """Keep `body` unless the store holds a newer one; whether it told the store anything new.

        False for a body the store already had at this resourceVersion: the echo of one of our own
        writes (its answer was stored), or kopf listing after a restart what start-up listed.
        False too for a body of an object already deleted: kept, it would be a ghost that no
        event ever removes.
        """
        body = trimmed(body)
        key = key_of(body)
        if self._buried(kind, key, body):
            return False
        old = self.objects[kind].get(key)
        if old is not None:
            if _same_version(body, old) or not _newer_or_equal(body, old):
                return False
            self._unindex(kind, key, old)
        body = compact(body)
        self.objects[kind][key] = body
        for name, values in self.index_fns.get(kind, {}).items():
            table = self.indexes[(kind, name)]
            for value in values(body):
                table.setdefault(value, {})[key] = body
        return True

    def remove(self, kind: Resource, body: Body) -> Body | None:
        """Forget `body`'s object; the body the store had for it, if any. The object may live
        on (a delete that waits for finalizers): its next event brings it back."""
        key = key_of(body)
        old = self.objects[kind].pop(key, None)
        if old is not None:
            self._unindex(kind, key, old)
        return old

    def deleted(self, kind: Resource, body: Body) -> Body | None:
        """Forget `body`'s object, gone at `body`'s resourceVersion (deleted, or out of the
        selector): no body of it that is not newer is kept again. The body the store had, if any."""
        old = self.remove(kind, body)
        uid = ((old or body).get("metadata") or {}).get("uid")
        version = _resource_version(body) or _resource_version(old or {})
        if uid:
            key = key_of(body)
            graves = self.tombstones[kind]
            graves[key] = {"metadata": {"uid": uid, "resourceVersion": version}}
            graves.move_to_end(key)
            if len(graves) > TOMBSTONES_PER_KIND:
                graves.popitem(last=False)
        return old

    def _buried(self, kind: Resource, key: Key, body: Body) -> bool:
        """Whether `body` is of an object that left the store after it was written."""
        grave = self.tombstones[kind].get(key)
        if grave is None or (body.get("metadata") or {}).get("uid") != grave["metadata"]["uid"]:
            return False
        if _same_version(body, grave) or not _newer_or_equal(body, grave):
            return True
        del self.tombstones[kind][key]  # the same object, changed since: it matches again
        return False

    def _unindex(self, kind: Resource, key: Key, body: Body) -> None:
        for name, values in self.index_fns.get(kind, {}).items():
            table = self.indexes[(kind, name)]
            for value in values(body):
                found = table.get(value)
                if found is not None:
                    found.pop(key, None)
                    if not found:
                        del table[value]

    def get(self, kind: Resource, key: Key) -> Body | None:
        return self.objects[kind].get(key)

    def all(self, kind: Resource) -> list[Body]:
        return list(self.objects[kind].values())

    def find(self, kind: Resource, index: str, value: Hashable) -> list[Body]:
        """The bodies of `kind` that `index` (one of the indexes given for `kind`) files under `value`."""
        return list(self.indexes[(kind, index)].get(value, {}).values())
