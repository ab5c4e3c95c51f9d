"""The raw bound: every object the operator would create for the services, created directly with
a plain, parallel client on a cluster with no operator; and that client, which also submits the
services themselves in the Berth run, so that both sides send their objects the same way."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import kubernetes

from bench.waiting import available, wait_for_all
from berth.api.claim import ClaimPurpose
from berth.api.objects import content_hash, parse_service
from berth.api.power import DEFAULT_POWERS
from berth.kube import resources
from berth.kube.client import FIELD_MANAGER
from berth.render import claims, events, ingress, names, network, workload
from berth.render.versions import inline_version
from berth.settings import ResourcesMode, Settings

THREADS = 32
GUID = "benchbenchbe"


def owned_objects(body: dict[str, Any]) -> list[dict[str, Any]]:
    """What the operator creates for `body`, rendered by the same pure functions: its version,
    Deployment, Service, Ingress and a DomainClaim for each name it holds."""
    uid = "00000000-0000-0000-0000-000000000000"
    service = parse_service({**body, "metadata": {**body["metadata"], "uid": uid}})
    content = service.spec.deployment
    assert content is not None
    settings = Settings(resources_mode=ResourcesMode.POD)
    version = names.version(service.name, 1)
    default = names.default_domain(service.name, GUID, settings.region, settings.base_domain)
    private = names.private_domain(service.name, settings.private_domain_suffix)
    public = service.spec.domains_by_certificate()
    objects = [
        inline_version(service, version, content_hash(content)),
        workload.deployment(service, 1, content, DEFAULT_POWERS["nano"], settings),
        network.kube_service(service, content),
        ingress.ingress(service, content, default, public, settings),
        claims.domain_claim(private, ClaimPurpose.PRIVATE, service),
    ]
    for domain in (d for domains in public.values() for d in domains):
        objects.append(claims.domain_claim(domain, ClaimPurpose.PUBLIC, service))
    kept = [obj for obj in objects if obj is not None]
    for obj in kept:
        obj["metadata"].pop("ownerReferences", None)
    return kept


def sender(api: kubernetes.client.ApiClient) -> Callable[[dict[str, Any]], None]:
    """A function that POSTs one object of any kind the operator creates."""
    apps = kubernetes.client.AppsV1Api(api)
    core = kubernetes.client.CoreV1Api(api)
    networking = kubernetes.client.NetworkingV1Api(api)
    custom = kubernetes.client.CustomObjectsApi(api)

    def create(obj: dict[str, Any]) -> None:
        namespace = obj["metadata"].get("namespace")
        kind = obj["kind"]
        if kind == "Deployment":
            apps.create_namespaced_deployment(namespace, obj)
        elif kind == "Service":
            core.create_namespaced_service(namespace, obj)
        elif kind == "Ingress":
            networking.create_namespaced_ingress(namespace, obj)
        else:
            resource = resources.BY_KIND[kind]
            group, version = resource.api_version.split("/")
            plural = resource.plural
            if namespace:
                custom.create_namespaced_custom_object(group, version, namespace, plural, obj)
            else:
                custom.create_cluster_custom_object(group, version, plural, obj)

    return create


# What Berth server-side applies; everything else it creates.
APPLIED_KINDS = ("Deployment", "Service", "Ingress")


def applier(api: kubernetes.client.ApiClient) -> Callable[[dict[str, Any]], None]:
    """A function that server-side applies one object of APPLIED_KINDS, as Berth does."""
    apps = kubernetes.client.AppsV1Api(api)
    core = kubernetes.client.CoreV1Api(api)
    networking = kubernetes.client.NetworkingV1Api(api)
    by_kind = {
        "Deployment": apps.patch_namespaced_deployment,
        "Service": core.patch_namespaced_service,
        "Ingress": networking.patch_namespaced_ingress,
    }
    assert set(by_kind) == set(APPLIED_KINDS)

    def apply(obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        by_kind[obj["kind"]](
            meta["name"],
            meta["namespace"],
            obj,
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type="application/apply-patch+yaml",
        )

    return apply


def in_parallel(send: Callable[[Any], Any], items: list[Any]) -> None:
    """`send` for every item, THREADS at a time."""
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(send, items))


def create_all(api: kubernetes.client.ApiClient, objects: list[dict[str, Any]]) -> None:
    """POSTs every object, THREADS at a time."""
    in_parallel(sender(api), objects)


def bound(api: kubernetes.client.ApiClient, bodies: list[dict[str, Any]]) -> float:
    """Seconds to create every owned object and see every Deployment available."""
    objects = [obj for body in bodies for obj in owned_objects(body)]
    namespace = bodies[0]["metadata"]["namespace"]
    started = time.monotonic()
    create_all(api, objects)
    wait_for_all(api, "apps/v1", "deployments", namespace, len(bodies), available)
    return time.monotonic() - started


class ServiceWrites:
    """The writes Berth makes on services and their versions in `namespace`, sent by the plain
    client: status patches, Events (the operator's own Event manifest)."""

    def __init__(self, api: kubernetes.client.ApiClient, namespace: str) -> None:
        self.custom = kubernetes.client.CustomObjectsApi(api)
        self.core = kubernetes.client.CoreV1Api(api)
        self.namespace = namespace
        self.group, self.version = resources.SERVICE.api_version.split("/")

    def create_service(self, body: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self.custom.create_namespaced_custom_object(
            self.group, self.version, self.namespace, resources.SERVICE.plural, body
        )
        return created

    def status(self, resource: resources.Resource, name: str, status: dict[str, Any]) -> None:
        self.custom.patch_namespaced_custom_object_status(
            self.group, self.version, self.namespace, resource.plural, name, {"status": status}
        )

    def event(self, regarding: dict[str, Any], reason: str, message: str) -> None:
        manifest = events.event(regarding, False, reason, message, datetime.now(UTC))
        self.core.create_namespaced_event(self.namespace, manifest)


def same_writes(api: kubernetes.client.ApiClient, bodies: list[dict[str, Any]]) -> float:
    """Berth's writes without Berth: each service's own write sequence, sent by the plain client.

    Per service, in order: the service, its version, the version's number, the owned objects
    (server-side applied) and claims, two status writes (the first with the ledger), the
    version's ACTIVE, two events (ACTIVE and RUNNING). The status bodies are smaller than Berth's.
    What is left between this and Berth's time is mostly the operator itself: watching,
    deciding, waiting.
    """
    namespace = bodies[0]["metadata"]["namespace"]
    writes = ServiceWrites(api, namespace)
    create, apply = sender(api), applier(api)
    service, version = resources.SERVICE, resources.VERSION

    def one(body: dict[str, Any]) -> None:
        name = body["metadata"]["name"]
        created = writes.create_service(body)
        csd, *owned = owned_objects(body)
        create(csd)
        writes.status(version, csd["metadata"]["name"], {"version": 1, "state": "ACTIVATING"})
        for obj in owned:
            (apply if obj["kind"] in APPLIED_KINDS else create)(obj)
        writes.status(service, name, {"state": "DEPLOYING", "versions": {"lastVersion": 1}})
        writes.status(version, csd["metadata"]["name"], {"state": "ACTIVE"})
        writes.event(created, "VersionActive", "version 1 is ACTIVE")
        writes.status(service, name, {"state": "RUNNING"})
        writes.event(created, "StateRunning", "DEPLOYING → RUNNING")

    started = time.monotonic()
    in_parallel(one, bodies)
    wait_for_all(api, "apps/v1", "deployments", namespace, len(bodies), available)
    return time.monotonic() - started
