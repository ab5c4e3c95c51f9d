"""The raw bound: every object the operator would create for the services, created directly with
a plain, parallel client on a cluster with no operator; and that client, which also submits the
services themselves in the Berth run, so that both sides send their objects the same way."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kubernetes

from bench.waiting import available, wait_for_all
from berth.api.claim import ClaimPurpose
from berth.api.objects import parse_service
from berth.api.power import DEFAULT_POWERS
from berth.handlers import claims
from berth.handlers.versions import content_hash, inline_version
from berth.kube import resources
from berth.kube.client import FIELD_MANAGER
from berth.render import ingress, names, network, workload
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
    public = {
        certificate: [d.lower() for d in domains]
        for certificate, domains in (service.spec.public_domain_names or {}).items()
    }
    objects = [
        inline_version(service, version, content_hash(content)),
        workload.deployment(service, 1, content, DEFAULT_POWERS["nano"], settings),
        network.kube_service(service, content),
        ingress.ingress(service, content, default, public, settings),
        claims.manifest(
            names.domain_claim(ClaimPurpose.PRIVATE, private),
            private,
            ClaimPurpose.PRIVATE,
            service,
        ),
    ]
    for domain in (d for domains in public.values() for d in domains):
        claim = names.domain_claim(ClaimPurpose.PUBLIC, domain)
        objects.append(claims.manifest(claim, domain, ClaimPurpose.PUBLIC, service))
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


def applier(api: kubernetes.client.ApiClient) -> Callable[[dict[str, Any]], None]:
    """A function that server-side applies one Deployment, Service or Ingress, as Berth does."""
    apps = kubernetes.client.AppsV1Api(api)
    core = kubernetes.client.CoreV1Api(api)
    networking = kubernetes.client.NetworkingV1Api(api)
    by_kind = {
        "Deployment": apps.patch_namespaced_deployment,
        "Service": core.patch_namespaced_service,
        "Ingress": networking.patch_namespaced_ingress,
    }

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


def create_all(api: kubernetes.client.ApiClient, objects: list[dict[str, Any]]) -> None:
    """POSTs every object, THREADS at a time."""
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(sender(api), objects))


def bound(api: kubernetes.client.ApiClient, bodies: list[dict[str, Any]]) -> float:
    """Seconds to create every owned object and see every Deployment available."""
    objects = [obj for body in bodies for obj in owned_objects(body)]
    namespace = bodies[0]["metadata"]["namespace"]
    started = time.monotonic()
    create_all(api, objects)
    wait_for_all(api, "apps/v1", "deployments", namespace, len(bodies), available)
    return time.monotonic() - started


def same_writes(api: kubernetes.client.ApiClient, bodies: list[dict[str, Any]]) -> float:
    """Berth's writes without Berth: each service's own write sequence, sent by the plain client.

    Per service, in order: the service, its finalizer, its version, the version's number, the
    owned objects (server-side applied) and claims, two status writes (the first with the
    ledger), the version's ACTIVE, three events. The status bodies are smaller than Berth's.
    What is left between this and Berth's time is mostly the operator itself: watching,
    deciding, waiting.
    """
    custom = kubernetes.client.CustomObjectsApi(api)
    core = kubernetes.client.CoreV1Api(api)
    namespace = bodies[0]["metadata"]["namespace"]
    group, version = resources.SERVICE.api_version.split("/")
    services, versions = resources.SERVICE.plural, resources.VERSION.plural
    create, apply = sender(api), applier(api)

    def status(plural: str, name: str, patch: dict[str, Any]) -> None:
        custom.patch_namespaced_custom_object_status(
            group, version, namespace, plural, name, {"status": patch}
        )

    def event(body: dict[str, Any], reason: str) -> None:
        meta = body["metadata"]
        core.create_namespaced_event(
            namespace,
            {
                "metadata": {"generateName": f"{meta['name']}.", "namespace": namespace},
                "involvedObject": {
                    "apiVersion": body["apiVersion"],
                    "kind": body["kind"],
                    "name": meta["name"],
                    "namespace": namespace,
                    "uid": meta["uid"],
                },
                "type": "Normal",
                "reason": reason,
                "message": reason,
                "source": {"component": "bench"},
            },
        )

    def one(body: dict[str, Any]) -> None:
        name = body["metadata"]["name"]
        created = custom.create_namespaced_custom_object(group, version, namespace, services, body)
        finalizer = {"metadata": {"finalizers": [names.SERVICE_FINALIZER]}}
        custom.patch_namespaced_custom_object(group, version, namespace, services, name, finalizer)
        csd, *owned = owned_objects(body)
        create(csd)
        status(versions, csd["metadata"]["name"], {"version": 1, "state": "ACTIVATING"})
        for obj in owned:
            (apply if obj["kind"] in ("Deployment", "Service", "Ingress") else create)(obj)
        status(services, name, {"state": "DEPLOYING", "versions": {"lastVersion": 1}})
        event(created, "StateDeploying")
        status(versions, csd["metadata"]["name"], {"state": "ACTIVE"})
        event(created, "VersionActive")
        status(services, name, {"state": "RUNNING"})
        event(created, "StateRunning")

    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, bodies))
    wait_for_all(api, "apps/v1", "deployments", namespace, len(bodies), available)
    return time.monotonic() - started
