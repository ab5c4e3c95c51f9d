"""The raw bound: the same owned objects created directly with a plain, parallel client."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kubernetes

from berth.api.objects import parse_service
from berth.api.power import DEFAULT_POWERS
from berth.render import network, workload
from berth.settings import ResourcesMode, Settings


def owned_objects(body: dict[str, Any]) -> list[dict[str, Any]]:
    """What the operator would own for `body`, rendered by the same pure functions."""
    body = {**body, "metadata": {**body["metadata"], "uid": "00000000-0000-0000-0000-000000000000"}}
    service = parse_service(body)
    content = service.spec.deployment
    assert content is not None
    settings = Settings(resources_mode=ResourcesMode.POD)
    objects = [workload.deployment(service, 1, content, DEFAULT_POWERS["nano"], settings)]
    kube_service = network.kube_service(service, content)
    if kube_service is not None:
        objects.append(kube_service)
    for obj in objects:
        obj["metadata"].pop("ownerReferences", None)
    return objects


def create_all(
    api: kubernetes.client.ApiClient, bodies: list[dict[str, Any]], threads: int
) -> float:
    """Seconds to create every owned object and see every Deployment available."""
    apps = kubernetes.client.AppsV1Api(api)
    core = kubernetes.client.CoreV1Api(api)
    objects = [obj for body in bodies for obj in owned_objects(body)]
    namespace = bodies[0]["metadata"]["namespace"]

    def create(obj: dict[str, Any]) -> None:
        if obj["kind"] == "Deployment":
            apps.create_namespaced_deployment(namespace, obj)
        else:
            core.create_namespaced_service(namespace, obj)

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(create, objects))
    wanted = len(bodies)
    while True:
        listed = apps.list_namespaced_deployment(namespace)
        ready = sum(1 for d in listed.items if (d.status.available_replicas or 0) >= 1)
        if ready >= wanted:
            return time.monotonic() - started
        time.sleep(0.25)
