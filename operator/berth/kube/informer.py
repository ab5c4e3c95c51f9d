"""List, then watch, one kind of object: a lean informer on aiohttp.

Each watch event is decoded, slimmed by `keep` and handed to `handle` on the spot: nothing else
holds the full body, and there is no per-object task or bookkeeping. After a (re)list, objects
that were known but are no longer listed are handed over as DELETED, so a watch that broke
during a deletion cannot leave a ghost behind.
"""

import asyncio
import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from kubernetes import client as k8s

from berth.kube.resources import Resource

logger = logging.getLogger(__name__)
Body = dict[str, Any]
Key = tuple[str, str]
Handler = Callable[[dict[str, Any]], Awaitable[None]]

# Pages are small and lists go one at a time (`list_gate`): after a restart every informer lists
# at once, and a page of full bodies is held until its last object is handed over (at 1,000
# services, concurrent pages of 500 were ~60 MB of the operator's peak).
LIST_PAGE = 250
# The server ends a watch after this long; we then watch on from the last version seen.
WATCH_SECONDS = 300
# The largest object is 1.5 MiB; a watch line carries one object plus its envelope.
MAX_LINE = 4 * 1024 * 1024
MAX_BACKOFF_SECONDS = 30.0


class Gone(Exception):
    """The resource version we would resume from is compacted away: list again."""


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


def _key(body: Body) -> Key:
    meta = body.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


class Informer:
    """Keeps `handle` told of every change to `resource` in `namespace` (None: all) that
    matches the selectors, from a first full list on, across disconnects and compactions."""

    def __init__(
        self,
        endpoint: Endpoint,
        session: aiohttp.ClientSession,
        resource: Resource,
        handle: Handler,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        keep: Callable[[Body], Body] = lambda body: body,
        list_gate: asyncio.Semaphore | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.session = session
        self.resource = resource
        self.handle = handle
        self.namespace = namespace
        self.keep = keep
        self.list_gate = list_gate or asyncio.Semaphore(1)
        self.selectors = [
            (name, value)
            for name, value in (
                ("labelSelector", label_selector),
                ("fieldSelector", field_selector),
            )
            if value
        ]
        self.known: set[Key] = set()
        self.synced = asyncio.Event()

    def __repr__(self) -> str:
        return f"Informer({self.resource.kind} in {self.namespace or 'all namespaces'})"

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                version = await self._list()
                self.synced.set()
                failures = 0
                while True:
                    version = await self._watch(version)
                    failures = 0
            except Gone:
                logger.info("%r: resource version too old, listing again", self)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2**failures)
                logger.warning("%r failed (%s); again in %.1fs", self, error, delay)
                await asyncio.sleep(delay)

    def _get(self, params: list[tuple[str, str]], timeout: aiohttp.ClientTimeout) -> Any:
        return self.session.get(
            self.endpoint.host + self.resource.path(self.namespace),
            params=self.selectors + params,
            headers=self.endpoint.headers(),
            timeout=timeout,
        )

    async def _list(self) -> str:
        """Every object, a page at a time; returns the version to watch from."""
        async with self.list_gate:
            return await self._list_pages()

    async def _list_pages(self) -> str:
        listed: set[Key] = set()
        token = ""
        while True:
            params = [("limit", str(LIST_PAGE))] + ([("continue", token)] if token else [])
            async with self._get(params, aiohttp.ClientTimeout(total=60)) as response:
                if response.status == 410:
                    raise Gone()
                response.raise_for_status()
                page = await response.json(loads=json.loads)
            for item in page.get("items") or []:
                item.setdefault("apiVersion", self.resource.api_version)
                item.setdefault("kind", self.resource.kind)
                key = _key(item)
                listed.add(key)
                await self._deliver("ADDED", item)
            meta = page.get("metadata") or {}
            token = meta.get("continue") or ""
            if not token:
                break
        for namespace, name in self.known - listed:
            gone = {"metadata": {"namespace": namespace or None, "name": name}}
            await self._deliver("DELETED", gone)
        self.known = listed
        return str(meta.get("resourceVersion") or "")

    async def _watch(self, version: str) -> str:
        """Follows changes from `version` until the server ends the watch; returns the last
        version seen, from which the next watch goes on."""
        params = [
            ("watch", "1"),
            ("resourceVersion", version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(WATCH_SECONDS)),
        ]
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=WATCH_SECONDS + 30)
        async with self._get(params, timeout) as response:
            if response.status == 410:
                raise Gone()
            response.raise_for_status()
            async for line in response.content:
                if not line.strip():
                    continue
                event = json.loads(line)
                event_type, body = event.get("type"), event.get("object") or {}
                if event_type == "ERROR":
                    if body.get("code") == 410:
                        raise Gone()
                    raise RuntimeError(f"watch error: {body.get('message')}")
                version = (body.get("metadata") or {}).get("resourceVersion") or version
                if event_type == "BOOKMARK":
                    continue
                body.setdefault("apiVersion", self.resource.api_version)
                body.setdefault("kind", self.resource.kind)
                key = _key(body)
                if event_type == "DELETED":
                    self.known.discard(key)
                else:
                    self.known.add(key)
                await self._deliver(event_type, body)
        return version

    async def _deliver(self, event_type: str, body: Body) -> None:
        """A handler that fails on one object is logged; the stream goes on for the others."""
        try:
            await self.handle({"type": event_type, "object": self.keep(body)})
        except Exception:
            logger.exception("%r: handling %s %s failed", self, event_type, _key(body))
