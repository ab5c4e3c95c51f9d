"""handlers/store.py: what the store keeps, what it tells apart as news, and its indexes."""

from __future__ import annotations

from typing import Any

from berth.handlers.store import Store


def body(name: str, rv: str, namespace: str = "ns", **fields: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace, "resourceVersion": rv}, **fields}


def test_a_first_body_is_news_and_is_kept() -> None:
    store = Store()

    assert store.put("Deployment", body("web", "5"))
    assert store.get("Deployment", ("ns", "web")) == body("web", "5")


def test_the_same_resource_version_again_is_no_news() -> None:
    """The echo of our own write, or kopf's listing after a restart: nothing to reconcile."""
    store = Store()
    store.put("Deployment", body("web", "5", spec={"replicas": 1}))

    assert not store.put("Deployment", body("web", "5", spec={"replicas": 1}))


def test_a_newer_resource_version_is_news_and_replaces_the_body() -> None:
    store = Store()
    store.put("Deployment", body("web", "5", spec={"replicas": 1}))

    assert store.put("Deployment", body("web", "6", spec={"replicas": 2}))
    assert store.get("Deployment", ("ns", "web")) == body("web", "6", spec={"replicas": 2})


def test_a_late_older_body_is_no_news_and_does_not_roll_back_the_store() -> None:
    store = Store()
    store.put("Deployment", body("web", "9"))

    assert not store.put("Deployment", body("web", "8"))
    assert store.get("Deployment", ("ns", "web")) == body("web", "9")


def test_a_body_without_resource_version_is_always_news() -> None:
    store = Store()
    store.put("Deployment", body("web", ""))

    assert store.put("Deployment", body("web", ""))


def test_the_same_name_in_another_namespace_is_another_object() -> None:
    store = Store()
    store.put("Deployment", body("web", "5", namespace="a"))

    assert store.put("Deployment", body("web", "5", namespace="b"))


def test_managed_fields_and_last_applied_are_not_kept() -> None:
    store = Store()
    live = body("web", "5")
    live["metadata"]["managedFields"] = [{"manager": "berth"}]
    live["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        "keep": "me",
    }
    store.put("Deployment", live)

    kept = store.get("Deployment", ("ns", "web"))
    assert kept is not None
    assert "managedFields" not in kept["metadata"]
    assert kept["metadata"]["annotations"] == {"keep": "me"}
