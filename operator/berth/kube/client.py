"""The operator's API calls on aiohttp: reads, server-side apply, patches, events."""

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from berth import metrics
from berth.kube import resources
from berth.kube.resources import Resource

FIELD_MANAGER = "berth"
# Lists are read a page at a time and each page is let go before the next: after a restart every
# informer lists, and a page of full bodies is held until its last object is handed over (at 1,000
# services, concurrent pages of 500 were ~60 MB of the operator's peak).
LIST_PAGE = 250
# The largest object is 1.5 MiB; a watch line carries one object plus its envelope.
MAX_LINE = 4 * 1024 * 1024
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)
# The server ends a watch after this long; whoever watches goes on from the last version seen.
WATCH_SECONDS = 300
Body = dict[str, Any]


class NotFound(Exception):
    """The object is not there."""


class Conflict(Exception):
    """Someone else changed the object first; read again and retry."""


class NotLeader(Exception):
    """A write refused before it was sent: this process does not hold the leader's lease."""


@dataclass(frozen=True)
class Endpoint:
    """How to reach the API server: its address, TLS, and the headers that authenticate us."""

    host: str
    tls: ssl.SSLContext | bool
    configuration: k8s.Configuration

    def headers(self) -> dict[str, str]:
        """As the kubernetes client authenticates; read per request, because in a pod its
        refresh hook rotates the projected token."""
        headers = {"Accept": "application/json"}
        for setting in self.configuration.auth_settings().values():
            if setting["in"] == "header" and setting["value"]:
                headers[setting["key"]] = setting["value"]
        return headers


def endpoint_of(configuration: k8s.Configuration) -> Endpoint:
    if not configuration.host.startswith("https"):
        return Endpoint(configuration.host, False, configuration)
    tls = ssl.create_default_context(cafile=configuration.ssl_ca_cert)
    if configuration.cert_file:
        tls.load_cert_chain(configuration.cert_file, configuration.key_file)
    if not configuration.verify_ssl:
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    return Endpoint(configuration.host, tls, configuration)


def session_for(endpoint: Endpoint) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=endpoint.tls, limit=0),
        read_bufsize=MAX_LINE // 2,
    )


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
        self.message = reason_of(answer) or f"HTTP {status}"


def reason_of(answer: bytes) -> str:
    """The message of the metav1.Status the API server answers a refused request with."""
    try:
        parsed = json.loads(answer)
    except ValueError:
        return answer[:500].decode(errors="replace")
    return str(parsed.get("message") or "") if isinstance(parsed, dict) else ""


class Kube:
    """Every call the operator makes to the API server, counted when it writes.

    Requests go out on aiohttp, at most `concurrency` at a time (watches aside, which last):
    no thread pool, no client models, one event loop. The informers list and watch through it.

    `fence`, when set, is asked before every write (Leases aside): a write it does not allow
    raises NotLeader and never leaves the process. Every writer of the operator goes through
    here, so a reconcile still running when leadership was lost writes nothing more.
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
        self.fence: Callable[[], bool] | None = None

    async def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
        content_type: str = "application/json",
        resource: str = "",
        text: bool = False,
    ) -> Any:
        assert self.endpoint is not None and self.session is not None
        headers = {**self.endpoint.headers(), "Content-Type": content_type}
        data = None if body is None else json.dumps(body)
        started = time.monotonic()
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
        metrics.observe_request(method, resource, response.status, time.monotonic() - started)
        if response.status == 404:
            raise NotFound(path)
        if response.status == 409:
            raise Conflict(path)
        if response.status >= 400:
            raise ApiError(response.status, path, answer)
        if text:
            return answer.decode(errors="replace")
        return json.loads(answer) if answer else None

    def _writing(self, resource: Resource, verb: str) -> None:
        """Let the fence stop the write, then count it. Leases are how leadership is decided:
        a standby must be able to write one, and renewals are no work of the operator's."""
        if resource == resources.LEASE:
            return
        if self.fence is not None and not self.fence():
            raise NotLeader(f"{verb} {resource.kind}: not the leader")
        metrics.API_WRITES.labels(kind=resource.kind, verb=verb).inc()

    async def get(self, resource: Resource, namespace: str | None, name: str) -> Body | None:
        try:
            found: Body = await self._call(
                "GET", resource.path(namespace, name), resource=resource.plural
            )
        except NotFound:
            return None
        return found

    async def log(self, namespace: str, pod: str, query: list[tuple[str, str]]) -> str:
        """A container's log (pods/log), as text; `query` says which container and how much."""
        path = resources.POD.path(namespace, pod) + "/log"
        found: str = await self._call("GET", path, query=query, resource="pods/log", text=True)
        return found

    async def pages(
        self,
        resource: Resource,
        namespace: str | None = None,
        query: list[tuple[str, str]] | None = None,
    ) -> AsyncIterator[Body]:
        """Each page of a list, in turn; its items say their apiVersion and kind."""
        token = ""
        while True:
            params = [*(query or []), ("limit", str(LIST_PAGE))]
            params += [("continue", token)] if token else []
            page: Body = await self._call(
                "GET", resource.path(namespace), query=params, resource=resource.plural
            )
            for item in page.get("items") or []:
                resource.stamp(item)
            yield page
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                return

    def watch(self, resource: Resource, namespace: str | None, query: list[tuple[str, str]]) -> Any:
        """The streamed answer to a watch (`async with`), one JSON event per line. Not counted
        against the requests in flight: a watch lasts minutes."""
        assert self.endpoint is not None and self.session is not None
        return self.session.get(
            self.endpoint.host + resource.path(namespace),
            params=[*query, ("watch", "1")],
            headers=self.endpoint.headers(),
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=30, sock_read=WATCH_SECONDS + 30
            ),
        )

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
        found: list[Body] = []
        async for page in self.pages(resource, namespace, query):
            found += [keep(item) if keep else item for item in page.get("items") or []]
        return found

    async def apply(self, manifest: Body) -> Body:
        """Server-side apply as field manager `berth`, taking over fields edited by hand."""
        resource = resources.BY_KIND[manifest["kind"]]
        meta = manifest["metadata"]
        self._writing(resource, "apply")
        live: Body = await self._call(
            "PATCH",
            resource.path(meta.get("namespace"), meta["name"]),
            body=manifest,
            query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
            content_type="application/apply-patch+yaml",
            resource=resource.plural,
        )
        return live

    async def patch(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        patch: Body,
        subresource: str | None = None,
        strategic: bool = False,
    ) -> Body:
        """JSON merge patch; a `metadata.resourceVersion` in it makes it conditional.
        `strategic`: a strategic merge patch (built-in kinds only), whose lists merge by key."""
        path = resource.path(namespace, name) + (f"/{subresource}" if subresource else "")
        self._writing(resource, f"patch{'-' + subresource if subresource else ''}")
        kind = "strategic-merge-patch" if strategic else "merge-patch"
        updated: Body = await self._call(
            "PATCH",
            path,
            body=patch,
            content_type=f"application/{kind}+json",
            resource=resource.plural,
        )
        return updated

    async def create(self, manifest: Body) -> Body:
        resource = resources.BY_KIND[manifest["kind"]]
        self._writing(resource, "create")
        created: Body = await self._call(
            "POST",
            resource.path(manifest["metadata"].get("namespace")),
            resource=resource.plural,
            body=manifest,
            query=[("fieldManager", FIELD_MANAGER)],
        )
        return created

    async def replace(self, manifest: Body) -> Body:
        """PUT: the whole object, conditional on the metadata.resourceVersion it carries."""
        resource = resources.BY_KIND[manifest["kind"]]
        meta = manifest["metadata"]
        self._writing(resource, "update")
        replaced: Body = await self._call(
            "PUT",
            resource.path(meta.get("namespace"), meta["name"]),
            resource=resource.plural,
            body=manifest,
            query=[("fieldManager", FIELD_MANAGER)],
        )
        return replaced

    async def delete(self, resource: Resource, namespace: str | None, name: str, uid: str) -> None:
        self._writing(resource, "delete")
        body = {"preconditions": {"uid": uid}, "propagationPolicy": "Background"}
        with contextlib.suppress(NotFound):
            await self._call(
                "DELETE", resource.path(namespace, name), body=body, resource=resource.plural
            )
