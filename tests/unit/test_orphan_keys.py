"""reconcile/orphans.keys: at start-up, which gone services still hold something of Berth's."""

from __future__ import annotations

from typing import Any

from berth.kube import resources
from berth.reconcile import lookups, orphans
from berth.render import names
from berth.runtime.store import Store


def service(namespace: str, name: str, uid: str) -> dict[str, Any]:
    return {"metadata": {"namespace": namespace, "name": name, "uid": uid}}


def claim(domain: str, namespace: str, name: str, uid: str) -> dict[str, Any]:
    return {
        "metadata": {"name": f"public.{domain}", "uid": f"claim-{domain}"},
        "spec": {
            "domain": domain,
            "purpose": "Public",
            "owner": {"namespace": namespace, "name": name, "uid": uid},
        },
    }


def version(namespace: str, name: str, service: str, *, deleting: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "namespace": namespace,
        "name": name,
        "finalizers": [names.ACTIVE_VERSION_FINALIZER],
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "spec": {"serviceName": service}}


def test_claims_and_held_back_versions_of_services_not_in_the_store_are_found() -> None:
    store = Store(lookups.INDEXES)
    store.put(resources.SERVICE, service("a", "live", "uid-live"))
    for body in (
        claim("live.example", "a", "live", "uid-live"),
        claim("gone.example", "a", "gone", "uid-gone"),
        claim("older.example", "b", "live", "uid-of-an-older-b-live"),
    ):
        store.put(resources.DOMAIN_CLAIM, body)
    for body in (
        version("a", "live-v1", "live", deleting=True),  # its service exists: it decides
        version("a", "quit-v1", "quit", deleting=True),  # GC deletes it, the finalizer holds
        version("a", "early-v1", "early", deleting=False),  # a CSD before its service
    ):
        store.put(resources.VERSION, body)

    assert orphans.keys(store) == {("a", "gone"), ("b", "live"), ("a", "quit")}
    # Watching namespace a only: b's services are not in this store, so b's claims are not
    # this operator's to judge.
    assert orphans.keys(store, ["a"]) == {("a", "gone"), ("a", "quit")}


def test_a_store_where_every_holder_lives_has_no_orphans() -> None:
    store = Store(lookups.INDEXES)
    store.put(resources.SERVICE, service("a", "live", "uid-live"))
    store.put(resources.DOMAIN_CLAIM, claim("live.example", "a", "live", "uid-live"))
    store.put(resources.VERSION, version("a", "live-v1", "live", deleting=True))

    assert orphans.keys(store) == set()
