"""Deleted ContainerImage records take their manifests out of the registry, however they were
deleted (`kubectl`, Argo CD, the garbage collector after their service): each record carries a
finalizer the operator removes once the manifest is gone (DELETE /v2/<repo>/manifests/<digest>;
404 counts as gone). A registry that cannot be reached keeps the records waiting, with a Warning
Event, and is tried again with backoff.

A finalizer rather than a sweep of the registry: a push comes before its record, so a sweep
would delete images pushed but not yet registered; and listing repositories needs a catalog
scope no namespace login has."""

import asyncio
import logging
import pathlib
import tempfile
import time
from typing import Any

from pydantic import ValidationError

from berth.api.objects import ImageObject, parse_image
from berth.kube import resources
from berth.kube.client import Conflict
from berth.kube.resources import Key
from berth.oci.distribution import Credentials, Registry, RegistryError
from berth.reconcile import apply, lookups
from berth.reconcile.context import Context, now
from berth.reconcile.writes import Emit, SetFinalizer, Write
from berth.registry_auth import logins
from berth.render import events, names
from berth.render.image_manifests import Manifest, cleanup
from berth.runtime.backoff import backoff

logger = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 300.0
AFTER_CONFLICT_SECONDS = 0.5
LOGIN_SECONDS = 600
UNREACHABLE = "RegistryUnreachable"


def _images(ctx: Context, key: Key) -> list[ImageObject]:
    parsed = []
    for body in lookups.images_of(ctx.store, key):
        try:
            parsed.append(parse_image(body))
        except ValidationError:
            logger.warning("skipping unparseable image %s", body["metadata"]["name"])
    return parsed


def credentials(ctx: Context, namespace: str) -> Credentials | None:
    """A login of the namespace's repositories (push implies delete), or the shared one."""
    pem = ctx.settings.registry_token_key.get_secret_value()
    if pem:
        expires = int(time.time()) + LOGIN_SECONDS
        login = logins.Login(namespace, None, (logins.PULL, logins.PUSH), expires)
        return Credentials(namespace, logins.mint(logins.login_key(pem), login))
    username = ctx.settings.registry_pull_username
    if not username:
        return None
    return Credentials(username, ctx.settings.registry_pull_password.get_secret_value())


def delete_manifests(
    host: str, ca_pem: str, creds: Credentials | None, namespace: str, targets: list[Manifest]
) -> None:
    """Blocking (urllib): run in a thread. Raises RegistryError at the first failure."""
    with tempfile.TemporaryDirectory(prefix="berth-registry-") as scratch:
        ca_file = None
        if ca_pem:
            ca_file = str(pathlib.Path(scratch) / "ca.crt")
            pathlib.Path(ca_file).write_text(ca_pem)
        registry = Registry(host, creds, ca_file)
        for manifest in targets:
            registry.delete_manifest(manifest.repository(namespace), manifest.digest)


async def reconcile(ctx: Context, key: Key) -> float | None:
    """Guard the service's records, and let deleted ones go once their manifests are gone.
    Returns when to try again, or None."""
    host = ctx.settings.registry
    if host is None or not ctx.settings.registry_delete_manifests:
        return None
    plan = cleanup(_images(ctx, key))
    if not plan.guard and not plan.manifests:
        ctx.manifest_failures.pop(key, None)
        return None
    namespace = key[0]
    try:
        for name in plan.guard:
            await _set(ctx, namespace, name, True)
        doomed = [m for m in plan.manifests if m.delete]
        if doomed:
            try:
                await asyncio.to_thread(
                    delete_manifests,
                    host,
                    ctx.settings.registry_ca,
                    credentials(ctx, namespace),
                    namespace,
                    doomed,
                )
            except RegistryError as error:
                return await _failed(ctx, key, plan.manifests, str(error))
        ctx.manifest_failures.pop(key, None)
        for manifest in plan.manifests:
            for name in manifest.records:
                await _set(ctx, namespace, name, False)
    except Conflict:
        return AFTER_CONFLICT_SECONDS
    return None


async def _set(ctx: Context, namespace: str, name: str, wanted: bool) -> None:
    write = SetFinalizer(resources.IMAGE, (namespace, name), names.IMAGE_FINALIZER, wanted)
    await apply.set_finalizer(ctx, write)


async def _failed(ctx: Context, key: Key, manifests: tuple[Manifest, ...], why: str) -> float:
    """The records wait; a Warning Event on each at the first failure of a run, not at every
    retry (the API server would only count them)."""
    count = ctx.manifest_failures[key] = ctx.manifest_failures.get(key, 0) + 1
    retry = backoff(count, MAX_BACKOFF_SECONDS)
    logger.warning(
        "%s/%s: manifests of deleted images stay (attempt %d, again in %.0fs): %s",
        key[0],
        key[1],
        count,
        retry,
        why,
    )
    if count == 1:
        message = f"the manifest stays in the registry until it can be deleted: {why}"
        writes: list[Write] = []
        for manifest in manifests:
            for name in manifest.records:
                body: dict[str, Any] | None = ctx.store.get(resources.IMAGE, (key[0], name))
                if body is not None:
                    writes.append(Emit(events.event(body, True, UNREACHABLE, message, now())))
        await apply.send(ctx, writes)
    return retry
