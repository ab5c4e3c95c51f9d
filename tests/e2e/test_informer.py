"""berth.runtime.informer against the real API server: list, watch, selectors, and a relist that
finds deletions it missed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any, cast

import kubernetes

from berth.handlers import events
from berth.kube import resources
from berth.kube.client import Kube, endpoint_of, session_for
from berth.reconcile import lookups
from berth.reconcile.context import Context
from berth.runtime.informer import Informer
from berth.runtime.store import Store

Seen = list[tuple[str, str, str]]  # (event type, name, the "step" label or "")


def configmap(name: str, step: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"step": step, **labels}}, "data": {}}


async def until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


def follow(api: kubernetes.client.ApiClient, scenario: Callable[[Kube], Awaitable[None]]) -> None:
    """Runs `scenario` with a Kube on `api`'s cluster."""

    async def main() -> None:
        endpoint = endpoint_of(api.configuration)
        async with session_for(endpoint) as session:
            await scenario(Kube(endpoint, session))

    asyncio.run(main())


def configmaps_in(kube: Kube, namespace: str, handle: Any, **options: Any) -> Informer:
    return Informer(kube, resources.CONFIG_MAP, handle, namespace=namespace, **options)


async def running(informer: Informer) -> asyncio.Task[None]:
    """The informer started, once its first list is in."""
    task = asyncio.create_task(informer.run())
    await asyncio.wait_for(informer.synced.wait(), 15)
    return task


def recorder(seen: Seen) -> Callable[[dict[str, Any]], Awaitable[None]]:
    async def handle(event: dict[str, Any]) -> None:
        meta = event["object"]["metadata"]
        seen.append((event["type"], meta["name"], (meta.get("labels") or {}).get("step", "")))

    return handle


def test_it_lists_then_follows_changes_of_the_selected_objects_only(
    kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    core = kubernetes.client.CoreV1Api(kube_api)
    core.create_namespaced_config_map(namespace, configmap("before", "1", team="a"))
    core.create_namespaced_config_map(namespace, configmap("other-team", "1", team="b"))
    seen: Seen = []

    async def scenario(kube: Kube) -> None:
        informer = configmaps_in(kube, namespace, recorder(seen), label_selector="team=a")
        task = await running(informer)
        assert seen == [("ADDED", "before", "1")]
        await asyncio.to_thread(
            core.create_namespaced_config_map, namespace, configmap("after", "1", team="a")
        )
        await asyncio.to_thread(
            core.patch_namespaced_config_map,
            "before",
            namespace,
            {"metadata": {"labels": {"step": "2"}}},
        )
        await asyncio.to_thread(core.delete_namespaced_config_map, "after", namespace)
        await asyncio.to_thread(
            core.create_namespaced_config_map, namespace, configmap("ignored", "1", team="b")
        )
        await until(lambda: len(seen) >= 4)
        await asyncio.sleep(0.5)  # anything unwanted would arrive meanwhile
        task.cancel()

    follow(kube_api, scenario)

    assert seen == [
        ("ADDED", "before", "1"),
        ("ADDED", "after", "1"),
        ("MODIFIED", "before", "2"),
        ("DELETED", "after", "1"),
    ]


def test_a_relist_hands_over_objects_deleted_while_it_was_not_watching(
    kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    core = kubernetes.client.CoreV1Api(kube_api)
    for name in ("stays", "goes"):
        core.create_namespaced_config_map(namespace, configmap(name, "1"))
    seen: Seen = []

    async def scenario(kube: Kube) -> None:
        informer = configmaps_in(kube, namespace, recorder(seen))
        first = await running(informer)
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        # Disconnected: what happens now reaches it only through the next list.
        await asyncio.to_thread(core.delete_namespaced_config_map, "goes", namespace)
        await asyncio.to_thread(core.create_namespaced_config_map, namespace, configmap("new", "1"))
        seen.clear()
        informer.synced.clear()
        second = await running(informer)
        second.cancel()

    follow(kube_api, scenario)

    # The namespace's own kube-root-ca.crt is listed too; the deletion comes after the list.
    assert ("DELETED", "goes", "") in seen
    assert seen.index(("DELETED", "goes", "")) == len(seen) - 1
    assert {name for kind, name, _ in seen if kind == "ADDED"} >= {"stays", "new"}
    assert "goes" not in {name for kind, name, _ in seen if kind == "ADDED"}


def test_a_handler_failing_on_one_object_does_not_stop_the_others(
    kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    core = kubernetes.client.CoreV1Api(kube_api)
    core.create_namespaced_config_map(namespace, configmap("a-bad", "1", team="a"))
    core.create_namespaced_config_map(namespace, configmap("b-good", "1", team="a"))
    seen: Seen = []
    record = recorder(seen)

    async def fussy(event: dict[str, Any]) -> None:
        await record(event)
        if event["object"]["metadata"]["name"].endswith("bad"):
            raise ValueError("a bug in a handler")

    async def scenario(kube: Kube) -> None:
        informer = configmaps_in(kube, namespace, fussy, label_selector="team=a")
        task = await running(informer)
        await asyncio.to_thread(
            core.create_namespaced_config_map, namespace, configmap("c-later", "1", team="a")
        )
        await until(lambda: len(seen) >= 3)
        task.cancel()

    follow(kube_api, scenario)

    assert [name for _, name, _ in seen] == ["a-bad", "b-good", "c-later"]


def filling(store: Store) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """A handler that fills `store` as the operator's handlers do (handlers.events.record)."""
    ctx = cast(Context, SimpleNamespace(store=store))

    async def fill(event: dict[str, Any]) -> None:
        events.record(ctx, resources.CONFIG_MAP, event)

    return fill


def test_a_write_answered_after_the_objects_deletion_leaves_no_ghost_in_the_store(
    kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    """A write's answer that comes after the object's DELETED event is stored last, and must not
    bring the object back: no later event would ever remove it."""
    core = kubernetes.client.CoreV1Api(kube_api)
    held = configmap("late", "1")
    held["metadata"]["finalizers"] = ["test.berth.dev/hold"]
    core.create_namespaced_config_map(namespace, held)
    store = Store(lookups.INDEXES)
    key = (namespace, "late")

    async def scenario(kube: Kube) -> None:
        task = await running(configmaps_in(kube, namespace, filling(store)))
        answer = await asyncio.to_thread(
            core.patch_namespaced_config_map, "late", namespace, {"data": {"written": "yes"}}
        )
        late = kube_api.sanitize_for_serialization(answer)
        await asyncio.to_thread(core.delete_namespaced_config_map, "late", namespace)
        await asyncio.to_thread(
            core.patch_namespaced_config_map, "late", namespace, {"metadata": {"finalizers": None}}
        )
        await until(lambda: store.get(resources.CONFIG_MAP, key) is None)

        store.put(resources.CONFIG_MAP, late)

        await asyncio.sleep(0.5)  # any event still on its way
        task.cancel()

    follow(kube_api, scenario)

    assert store.get(resources.CONFIG_MAP, key) is None


def test_an_object_that_leaves_the_selector_and_comes_back_is_in_the_store_again(
    kube_api: kubernetes.client.ApiClient, namespace: str
) -> None:
    """Out of the label selector, the watch says DELETED; back in it, ADDED with the same uid:
    the store keeps it again, whether it hears so from the watch or from a write's answer."""
    core = kubernetes.client.CoreV1Api(kube_api)
    core.create_namespaced_config_map(namespace, configmap("drifts", "1", team="a"))
    store = Store(lookups.INDEXES)
    key = (namespace, "drifts")

    def relabel(team: str | None) -> Any:
        patch = {"metadata": {"labels": {"team": team}}}
        return asyncio.to_thread(core.patch_namespaced_config_map, "drifts", namespace, patch)

    async def scenario(kube: Kube) -> None:
        informer = configmaps_in(kube, namespace, filling(store), label_selector="team=a")
        task = await running(informer)
        await relabel(None)
        await until(lambda: store.get(resources.CONFIG_MAP, key) is None)
        await relabel("a")
        await until(lambda: store.get(resources.CONFIG_MAP, key) is not None)
        # While nobody watches: a write whose answer comes late, then out of the selector again,
        # which the relist finds. The late answer is older than that, and stays out.
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        late = await asyncio.to_thread(
            core.patch_namespaced_config_map, "drifts", namespace, {"data": {"late": "yes"}}
        )
        await relabel(None)
        informer.synced.clear()
        task = await running(informer)
        store.put(resources.CONFIG_MAP, kube_api.sanitize_for_serialization(late))
        assert store.get(resources.CONFIG_MAP, key) is None
        # Back in, told by a write's answer.
        store.put(resources.CONFIG_MAP, kube_api.sanitize_for_serialization(await relabel("a")))
        task.cancel()

    follow(kube_api, scenario)

    assert store.get(resources.CONFIG_MAP, key) is not None
