"""What every reconcile needs: the API, the store, the settings, the queue, and shared state."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from berth.kube.client import Kube
from berth.reconcile.dns_lookups import TxtLookups
from berth.runtime.queue import WorkQueue
from berth.runtime.store import Store
from berth.settings import Settings

if TYPE_CHECKING:
    from berth.reconcile.health import HealthChecker


def now() -> datetime:
    """The reconciles' clock, to the second as the API writes times."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Context:
    kube: Kube
    store: Store
    settings: Settings
    queue: WorkQueue
    # UIDs of ACTIVE versions whose deletion we already warned about, to warn once.
    warned_deletions: set[str] = field(default_factory=set)
    # Whether cert-manager's Certificate API exists; without it certificates stay Unknown.
    certificates_served: bool = False
    # One ConfigMap holds every private name: one writer at a time keeps concurrent reconciles
    # from writing zones that each miss the other's change.
    zone_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Set by every caller of zone.sync, cleared by the one that renders: callers that queued up
    # behind a sync which already saw their change write nothing (a burst becomes one write).
    zone_dirty: bool = False
    # The records the zone ConfigMap was last found or written with, and its resourceVersion
    # then: a reconcile whose own record is unchanged since needs no sync of every name.
    zone_synced: tuple[dict[str, str], str | None] | None = None
    # The task that writes the zone a moment after reconciles asked for it (zone.request).
    zone_writer: asyncio.Task[None] | None = None
    # Domain verification: the TXT lookups (made on first use) and the key its records are
    # made with (read from, or first written to, its Secret), with a lock so that one reads it.
    txt: TxtLookups | None = None
    verification_key: bytes | None = None
    verification_key_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Lightsail's health checks of pods (health_checks: operator); it runs while this leads.
    health: "HealthChecker | None" = None
    # Failures in a row to delete a service's deleted images' manifests (reconcile.image_manifests).
    manifest_failures: dict[tuple[str, str], int] = field(default_factory=dict)
