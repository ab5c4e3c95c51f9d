"""List, then watch, one kind of object: a lean informer.

Each watch event is decoded, slimmed by `keep` and handed to `handle` on the spot: nothing else
holds the full body, and there is no per-object task or bookkeeping. After a (re)list, objects
that were known but are no longer listed are handed over as DELETED, so a watch that broke
during a deletion cannot leave a ghost behind.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from berth.kube.client import WATCH_SECONDS, ApiError, Kube
from berth.kube.resources import Key, Resource, key_of
from berth.runtime import metrics
from berth.runtime.backoff import backoff

logger = logging.getLogger(__name__)
Body = dict[str, Any]
Handler = Callable[[dict[str, Any]], Awaitable[None]]
MAX_BACKOFF_SECONDS = 30.0


class Gone(Exception):
    """The resource version we would resume from is compacted away: list again."""


class Informer:
    """Keeps `handle` told of every change to `resource` in `namespace` (None: all) that
    matches the selectors, from a first full list on, across disconnects and compactions."""

    def __init__(
        self,
        kube: Kube,
        resource: Resource,
        handle: Handler,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        keep: Callable[[Body], Body] = lambda body: body,
        list_gate: asyncio.Semaphore | None = None,
    ) -> None:
        self.kube = kube
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
        # Zero from the start, so that a rate over them means something before the first relist.
        metrics.LISTS.labels(resource.plural)
        metrics.WATCH_RESTARTS.labels(resource.plural)

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
                    metrics.WATCH_RESTARTS.labels(self.resource.plural).inc()
            except Gone:
                logger.info("%r: resource version too old, listing again", self)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                delay = backoff(failures, MAX_BACKOFF_SECONDS)
                logger.warning("%r failed (%s); again in %.1fs", self, error, delay)
                await asyncio.sleep(delay)

    async def _list(self) -> str:
        """Every object, a page at a time; returns the version to watch from."""
        metrics.LISTS.labels(self.resource.plural).inc()
        async with self.list_gate:
            return await self._list_pages()

    async def _list_pages(self) -> str:
        listed: set[Key] = set()
        version = ""
        try:
            async for page in self.kube.pages(self.resource, self.namespace, self.selectors):
                for item in page.get("items") or []:
                    listed.add(key_of(item))
                    await self._deliver("ADDED", item)
                version = str((page.get("metadata") or {}).get("resourceVersion") or "")
        except ApiError as error:
            if error.status == 410:  # the continue token expired
                raise Gone() from error
            raise
        for namespace, name in self.known - listed:
            # Gone by the list's version: deleted, or out of the selector, at or before it.
            meta = {"namespace": namespace or None, "name": name, "resourceVersion": version}
            await self._deliver("DELETED", {"metadata": meta})
        self.known = listed
        return version

    async def _watch(self, version: str) -> str:
        """Follows changes from `version` until the server ends the watch; returns the last
        version seen, from which the next watch goes on."""
        query = [
            *self.selectors,
            ("resourceVersion", version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(WATCH_SECONDS)),
        ]
        async with self.kube.watch(self.resource, self.namespace, query) as response:
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
                self.resource.stamp(body)
                key = key_of(body)
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
            logger.exception("%r: handling %s %s failed", self, event_type, key_of(body))
