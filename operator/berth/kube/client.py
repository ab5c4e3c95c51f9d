"""The operator's API calls on aiohttp: reads, server-side apply, patches, events."""

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from berth import metrics
from berth.kube import resources
from berth.kube.informer import Endpoint
from berth.kube.resources import Resource

FIELD_MANAGER = "berth"
LIST_PAGE = 500
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)
Body = dict[str, Any]


class NotFound(Exception):
    """The object is not there."""


class Conflict(Exception):
    """Someone else changed the object first; read again and retry."""


def connect() -> k8s.ApiClient:
    """In a pod, its service account; elsewhere $KUBECONFIG or ~/.kube/config, like kubectl.

    Only its configuration is used: where the API server is and how to authenticate.
    """
    configuration = k8s.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)
    except k8s_config.ConfigException:
        k8s_config.load_kube_config(client_configuration=configuration)
    return k8s.ApiClient(configuration)


class ApiError(Exception):
    """The API server refused a request."""

    def __init__(self, status: int, path: str, answer: bytes) -> None:
        super().__init__(f"{status} on {path}: {answer[:500].decode(errors='replace')}")
        self.status = status


class Kube:
    """Every call the operator makes to the API server, counted when it writes.

    Requests go out on aiohttp, at most `concurrency` at a time, on the session the informers
    share: no thread pool, no client models, one event loop.
    """

    def __init__(
        self,
        endpoint: Endpoint | None,
        session: aiohttp.ClientSession | None,
        concurrency: int = 16,
    ) -> None:
        self.endpoint = endpoint
        self.session = session
        self.in_flight = asyncio.Semaphore(concurrency)

    async def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        assert self.endpoint is not None and self.session is not None
        headers = {**self.endpoint.headers(), "Content-Type": content_type}
        data = None if body is None else json.dumps(body)
        async with (
            self.in_flight,
            self.session.request(
                method,
                self.endpoint.host + path,
                params=query or [],
                data=data,
                headers=headers,
                timeout=REQUEST_TIMEOUT,
            ) as response,
        ):
            answer = await response.read()
        if response.status == 404:
            raise NotFound(path)
        if response.status == 409:
            raise Conflict(path)
        if response.status >= 400:
            raise ApiError(response.status, path, answer)
        return json.loads(answer) if answer else None

    def _count(self, kind: str, verb: str) -> None:
        metrics.API_WRITES.labels(kind=kind, verb=verb).inc()

    async def get(self, resource: Resource, namespace: str | None, name: str) -> Body | None:
        try:
            found: Body = await self._call("GET", resource.path(namespace, name))
        except NotFound:
            return None
        return found

    async def list(
        self,
        resource: Resource,
        namespace: str | None = None,
        selector: str | None = None,
        keep: Callable[[Body], Body] | None = None,
    ) -> list[Body]:
        """Every object, read a page at a time; `keep` slims each one before the next page, so
        thousands of full bodies are never held at once."""
        query = [("labelSelector", selector)] if selector else []
        query.append(("limit", str(LIST_PAGE)))
        found: list[Body] = []
        token = ""
        while True:
            page = query + ([("continue", token)] if token else [])
            answer = await self._call("GET", resource.path(namespace), query=page)
            for item in answer.get("items") or []:
                item.setdefault("apiVersion", resource.api_version)
                item.setdefault("kind", resource.kind)
                found.append(keep(item) if keep else item)
            token = (answer.get("metadata") or {}).get("continue") or ""
            if not token:
                return found

    async def apply(self, manifest: Body) -> Body:
        """Server-side apply as field manager `berth`, taking over fields edited by hand."""
        resource = resources.BY_KIND[manifest["kind"]]
        meta = manifest["metadata"]
        self._count(resource.kind, "apply")
        live: Body = await self._call(
            "PATCH",
            resource.path(meta.get("namespace"), meta["name"]),
            body=manifest,
            query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
            content_type="application/apply-patch+yaml",
        )
        return live

    async def patch(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        patch: Body,
        subresource: str | None = None,
    ) -> Body:
        """JSON merge patch; a `metadata.resourceVersion` in it makes it conditional."""
        path = resource.path(namespace, name) + (f"/{subresource}" if subresource else "")
        self._count(resource.kind, f"patch{'-' + subresource if subresource else ''}")
        updated: Body = await self._call(
            "PATCH", path, body=patch, content_type="application/merge-patch+json"
        )
        return updated

    async def create(self, manifest: Body) -> Body:
        resource = resources.BY_KIND[manifest["kind"]]
        self._count(resource.kind, "create")
        created: Body = await self._call(
            "POST",
            resource.path(manifest["metadata"].get("namespace")),
            body=manifest,
            query=[("fieldManager", FIELD_MANAGER)],
        )
        return created

    async def delete(self, resource: Resource, namespace: str | None, name: str, uid: str) -> None:
        self._count(resource.kind, "delete")
        body = {"preconditions": {"uid": uid}, "propagationPolicy": "Background"}
        with contextlib.suppress(NotFound):
            await self._call("DELETE", resource.path(namespace, name), body=body)

    async def event(self, regarding: Body, warning: bool, reason: str, message: str) -> None:
        """A core/v1 Event on `regarding`, as `kubectl describe` shows them."""
        meta = regarding["metadata"]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        namespace = meta.get("namespace") or "default"
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": namespace},
            "involvedObject": {
                "apiVersion": regarding.get("apiVersion"),
                "kind": regarding.get("kind"),
                "name": meta["name"],
                "namespace": namespace,
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "type": "Warning" if warning else "Normal",
            "reason": reason,
            "message": message[:1024],
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "source": {"component": "berth"},
            "reportingComponent": "berth.dev/operator",
            "reportingInstance": "berth",
        }
        self._count("Event", "create")
        await self._call("POST", resources.EVENT.path(namespace), body=event)
