"""An asyncio face on the Kubernetes client: reads, server-side apply, patches, events."""

import asyncio
import contextlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from berth import metrics
from berth.kube import resources
from berth.kube.resources import Resource

FIELD_MANAGER = "berth"
LIST_PAGE = 500
Body = dict[str, Any]


class NotFound(Exception):
    """The object is not there."""


class Conflict(Exception):
    """Someone else changed the object first; read again and retry."""


def connect(threads: int) -> k8s.ApiClient:
    """In a pod, its service account; elsewhere $KUBECONFIG or ~/.kube/config, like kubectl."""
    configuration = k8s.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)
    except k8s_config.ConfigException:
        k8s_config.load_kube_config(client_configuration=configuration)
    configuration.connection_pool_maxsize = threads
    return k8s.ApiClient(configuration)


class Kube:
    """Every call the operator makes to the API server, counted when it writes."""

    def __init__(self, api: k8s.ApiClient, threads: int = 16) -> None:
        self.api = api
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kube")

    async def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        def send() -> Any:
            method_, url, headers, payload, post = self.api.param_serialize(
                method=method,
                resource_path=path,
                query_params=query or [],
                header_params={"Content-Type": content_type, "Accept": "application/json"},
                body=body,
                auth_settings=["BearerToken"],
            )
            response = self.api.call_api(
                method_,
                url,
                header_params=headers,
                body=payload,
                post_params=post,
                _request_timeout=30,
            )
            response.read()
            if response.status >= 400:
                raise ApiException(http_resp=response)
            return json.loads(response.data) if response.data else None

        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, send)
        except ApiException as error:
            if error.status == 404:
                raise NotFound(path) from error
            if error.status == 409:
                raise Conflict(path) from error
            raise

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
