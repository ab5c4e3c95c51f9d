"""Waiting for N objects to be ready by watching them, for both sides of the benchmark.

Polling a list of 1,000 objects every half second costs the API server an encoding of all of them
and this process a decoding (a typed Deployment list is seconds of Python): on 2 cores that slowed
whichever side was measured. A watch costs one event per change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import kubernetes


def wait_for_all(
    api: kubernetes.client.ApiClient,
    api_version: str,
    plural: str,
    namespace: str,
    wanted: int,
    ready: Callable[[dict[str, Any]], bool],
) -> list[float]:
    """Returns once `wanted` objects in `namespace` are `ready` at the same time: the moments
    (time.monotonic) each of them was first seen ready."""
    return sorted(wait_for_each(api, api_version, plural, namespace, wanted, ready).values())


def wait_for_each(
    api: kubernetes.client.ApiClient,
    api_version: str,
    plural: str,
    namespace: str,
    wanted: int,
    ready: Callable[[dict[str, Any]], bool],
    timeout_seconds: int | None = None,
) -> dict[str, float]:
    """As wait_for_all, by name: when each object was first seen ready. With `timeout_seconds`,
    the API server ends the watch then, and this raises."""
    group, _, version = api_version.rpartition("/")
    custom = kubernetes.client.CustomObjectsApi(api)
    done: set[str] = set()
    first_ready: dict[str, float] = {}
    watch = kubernetes.watch.Watch()
    # Without a resourceVersion, the watch begins with every existing object, then follows.
    for event in watch.stream(
        custom.list_namespaced_custom_object,
        group,
        version,
        namespace,
        plural,
        **({"timeout_seconds": timeout_seconds} if timeout_seconds else {}),
    ):
        body = event["object"]
        name = body["metadata"]["name"]
        if event["type"] != "DELETED" and ready(body):
            done.add(name)
            first_ready.setdefault(name, time.monotonic())
        else:
            done.discard(name)
        if len(done) >= wanted:
            watch.stop()
            return first_ready
    raise RuntimeError(f"the watch of {plural} ended with {len(done)} of {wanted} ready")


def running(body: dict[str, Any]) -> bool:
    return (body.get("status") or {}).get("state") == "RUNNING"


def available(body: dict[str, Any]) -> bool:
    return int((body.get("status") or {}).get("availableReplicas") or 0) >= 1
