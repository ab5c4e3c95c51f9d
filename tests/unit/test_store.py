"""runtime/store.py with Berth's indexes (reconcile/lookups.py): what the store keeps, what it tells apart as news, and its indexes."""

from __future__ import annotations

from typing import Any

from berth.kube import resources
from berth.reconcile import lookups
from berth.runtime import store as store_module
from berth.runtime.store import Store


def body(name: str, rv: str, namespace: str = "ns", **fields: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace, "resourceVersion": rv}, **fields}


def test_a_first_body_is_news_and_is_kept() -> None:
    store = Store(lookups.INDEXES)

    assert store.put(resources.DEPLOYMENT, body("web", "5"))
    assert store.get(resources.DEPLOYMENT, ("ns", "web")) == body("web", "5")


def test_the_same_resource_version_again_is_no_news() -> None:
    """The echo of our own write, or kopf's listing after a restart: nothing to reconcile."""
    store = Store(lookups.INDEXES)
    store.put(resources.DEPLOYMENT, body("web", "5", spec={"replicas": 1}))

    assert not store.put(resources.DEPLOYMENT, body("web", "5", spec={"replicas": 1}))


def test_a_newer_resource_version_is_news_and_replaces_the_body() -> None:
    store = Store(lookups.INDEXES)
    store.put(resources.DEPLOYMENT, body("web", "5", spec={"replicas": 1}))

    assert store.put(resources.DEPLOYMENT, body("web", "6", spec={"replicas": 2}))
    assert store.get(resources.DEPLOYMENT, ("ns", "web")) == body("web", "6", spec={"replicas": 2})


def test_a_late_older_body_is_no_news_and_does_not_roll_back_the_store() -> None:
    store = Store(lookups.INDEXES)
    store.put(resources.DEPLOYMENT, body("web", "9"))

    assert not store.put(resources.DEPLOYMENT, body("web", "8"))
    assert store.get(resources.DEPLOYMENT, ("ns", "web")) == body("web", "9")


def test_a_body_without_resource_version_is_always_news() -> None:
    store = Store(lookups.INDEXES)
    store.put(resources.DEPLOYMENT, body("web", ""))

    assert store.put(resources.DEPLOYMENT, body("web", ""))


def test_the_same_name_in_another_namespace_is_another_object() -> None:
    store = Store(lookups.INDEXES)
    store.put(resources.DEPLOYMENT, body("web", "5", namespace="a"))

    assert store.put(resources.DEPLOYMENT, body("web", "5", namespace="b"))


def test_managed_fields_and_last_applied_are_not_kept() -> None:
    store = Store(lookups.INDEXES)
    live = body("web", "5")
    live["metadata"]["managedFields"] = [{"manager": "berth"}]
    live["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        "keep": "me",
    }
    store.put(resources.DEPLOYMENT, live)

    kept = store.get(resources.DEPLOYMENT, ("ns", "web"))
    assert kept is not None
    assert "managedFields" not in kept["metadata"]
    assert kept["metadata"]["annotations"] == {"keep": "me"}


def version(name: str, service: str, rv: str = "1", namespace: str = "ns") -> dict[str, Any]:
    return body(name, rv, namespace, spec={"serviceName": service})


def test_versions_are_found_by_their_service_and_namespace() -> None:
    store = Store(lookups.INDEXES)
    store.put(resources.VERSION, version("web-v1", "web"))
    store.put(resources.VERSION, version("web-v2", "web"))
    store.put(resources.VERSION, version("api-v1", "api"))
    store.put(resources.VERSION, version("web-v1", "web", namespace="other"))

    assert sorted(v["metadata"]["name"] for v in lookups.versions_of(store, ("ns", "web"))) == [
        "web-v1",
        "web-v2",
    ]
    assert lookups.versions_of(store, ("ns", "missing")) == []


def test_a_removed_object_leaves_its_index() -> None:
    store = Store(lookups.INDEXES)
    store.put(resources.VERSION, version("web-v1", "web"))

    store.remove(resources.VERSION, version("web-v1", "web"))

    assert lookups.versions_of(store, ("ns", "web")) == []
    assert store.indexes[(resources.VERSION, "service")] == {}


def with_uid(uid: str, rv: str, **fields: Any) -> dict[str, Any]:
    found = body("web", rv, **fields)
    found["metadata"]["uid"] = uid
    return found


def test_a_late_answer_for_a_deleted_object_does_not_bring_it_back() -> None:
    """A write's answer that comes after the object's DELETED event: kept, it would be a ghost
    that no event removes (berth_services counted a deleted service RUNNING for good)."""
    store = Store(lookups.INDEXES)
    store.put(resources.SERVICE, with_uid("u1", "5"))
    store.deleted(resources.SERVICE, with_uid("u1", "7"))

    assert not store.put(resources.SERVICE, with_uid("u1", "6", status={"state": "RUNNING"}))
    assert store.all(resources.SERVICE) == []


def test_a_deletion_found_by_a_relist_carries_no_uid_and_still_buries_the_object() -> None:
    """The informer hands over what a relist no longer finds with the list's resourceVersion."""
    store = Store(lookups.INDEXES)
    store.put(resources.SERVICE, with_uid("u1", "5"))
    store.deleted(resources.SERVICE, body("web", "9"))

    assert not store.put(resources.SERVICE, with_uid("u1", "6"))


def test_an_object_back_in_the_selector_is_kept_again() -> None:
    """A watch with a label selector says DELETED when an object loses the label, and ADDED
    when it gets it back: the same uid, newer."""
    store = Store(lookups.INDEXES)
    store.put(resources.DEPLOYMENT, with_uid("u1", "5"))
    store.deleted(resources.DEPLOYMENT, with_uid("u1", "7"))

    assert store.put(resources.DEPLOYMENT, with_uid("u1", "8"))
    assert store.get(resources.DEPLOYMENT, ("ns", "web")) == with_uid("u1", "8")
    assert not store.tombstones[resources.DEPLOYMENT]


def test_an_object_made_again_under_a_deleted_ones_name_is_kept() -> None:
    store = Store(lookups.INDEXES)
    store.put(resources.SERVICE, with_uid("u1", "5"))
    store.deleted(resources.SERVICE, with_uid("u1", "7"))

    assert store.put(resources.SERVICE, with_uid("u2", "8"))
    assert store.get(resources.SERVICE, ("ns", "web")) == with_uid("u2", "8")


def test_an_object_only_forgotten_comes_back_with_its_next_body() -> None:
    """remove(): a delete that waits for finalizers leaves the object alive."""
    store = Store(lookups.INDEXES)
    store.put(resources.VERSION, with_uid("u1", "5"))
    store.remove(resources.VERSION, with_uid("u1", "5"))

    assert store.put(resources.VERSION, with_uid("u1", "6"))


def test_tombstones_are_bounded() -> None:
    def gone_pod(i: int, rv: str) -> dict[str, Any]:
        meta = {"name": f"p{i}", "namespace": "ns", "uid": f"u{i}", "resourceVersion": rv}
        return {"metadata": meta}

    store = Store(lookups.INDEXES)
    for i in range(store_module.TOMBSTONES_PER_KIND + 10):
        store.deleted(resources.POD, gone_pod(i, "9"))

    assert len(store.tombstones[resources.POD]) == store_module.TOMBSTONES_PER_KIND
    assert store.put(resources.POD, gone_pod(0, "8"))  # its tombstone went first
    assert not store.put(resources.POD, gone_pod(20, "8"))


def pod(rv: str, service: str) -> dict[str, Any]:
    meta = {"name": "web-1", "namespace": "ns", "resourceVersion": rv}
    return {"metadata": {**meta, "labels": {"berth.dev/service": service}}}


def test_a_changed_object_moves_to_its_new_index_entry_and_serves_its_newest_body() -> None:
    store = Store(lookups.INDEXES)
    store.put(resources.POD, pod("1", "web"))

    store.put(resources.POD, pod("2", "api"))

    assert lookups.pods_of(store, ("ns", "web")) == []
    assert lookups.pods_of(store, ("ns", "api")) == [pod("2", "api")]


def test_services_are_found_by_power_name_and_custom_domain() -> None:
    store = Store(lookups.INDEXES)
    store.put(
        resources.SERVICE,
        body("web", "1", spec={"power": "nano", "publicDomainNames": {"c": ["WWW.Example.com"]}}),
    )
    store.put(resources.SERVICE, body("api", "1", spec={"power": "micro"}))

    assert lookups.services_using_power(store, "nano") == [("ns", "web")]
    assert [s["metadata"]["name"] for s in store.find(resources.SERVICE, "name", "api")] == ["api"]
    found = store.find(resources.SERVICE, "public-domain", "www.example.com")
    assert [s["metadata"]["name"] for s in found] == ["web"]


def test_claims_are_found_by_holder_and_purpose() -> None:
    store = Store(lookups.INDEXES)
    owner = {"namespace": "ns", "name": "web", "uid": "u1"}
    store.put(
        resources.DOMAIN_CLAIM,
        body("private-1", "1", "", spec={"purpose": "Private", "owner": owner}),
    )
    store.put(
        resources.DOMAIN_CLAIM,
        body("public-1", "1", "", spec={"purpose": "Public", "owner": owner}),
    )

    held = store.find(resources.DOMAIN_CLAIM, "holder", "u1")
    assert sorted(c["metadata"]["name"] for c in held) == ["private-1", "public-1"]
    private = store.find(resources.DOMAIN_CLAIM, "purpose", "Private")
    assert [c["metadata"]["name"] for c in private] == ["private-1"]


def test_stored_bodies_share_their_keys_and_short_strings_and_keep_their_values() -> None:
    store = Store(lookups.INDEXES)
    # Built at run time, as a JSON decoder builds them: equal, but not the same objects.
    first = body("web", "1", spec={"image": "".join(["nginx:", "1.27"]), "ports": [80]})
    second = body("api", "1", spec={"image": "".join(["nginx:", "1.27"]), "ports": [80]})
    store.put(resources.DEPLOYMENT, first)
    store.put(resources.DEPLOYMENT, second)

    web = store.get(resources.DEPLOYMENT, ("ns", "web"))
    api = store.get(resources.DEPLOYMENT, ("ns", "api"))
    assert web == first
    assert web is not None and api is not None
    assert web["spec"]["image"] is api["spec"]["image"]
