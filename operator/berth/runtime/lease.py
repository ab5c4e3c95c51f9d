"""The pure half of leader election: a Lease's record, what to do about it, and the Lease to write.

The semantics are client-go's (tools/leaderelection): a holder is trusted for the record's
leaseDurationSeconds after this process last *saw the record change*, by its own clock; the
timestamps in the record are written for people and never compared with our clock.
"""

import enum
import socket
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Record:
    """A Lease's spec, as leader election reads and writes it."""

    holder: str = ""
    lease_seconds: int = 0
    acquire_time: str | None = None
    renew_time: str | None = None
    transitions: int = 0


def record_of(lease: dict[str, Any]) -> Record:
    spec = lease.get("spec") or {}
    return Record(
        holder=spec.get("holderIdentity") or "",
        lease_seconds=int(spec.get("leaseDurationSeconds") or 0),
        acquire_time=spec.get("acquireTime"),
        renew_time=spec.get("renewTime"),
        transitions=int(spec.get("leaseTransitions") or 0),
    )


class Decision(enum.Enum):
    TAKE = "take"  # nobody holds it (absent, released, or expired): write ourselves in
    RENEW = "renew"  # ours: write a new renewTime
    WAIT = "wait"  # someone else's, and not expired by our clock


def decide(observed: Record | None, observed_at: float, now: float, identity: str) -> Decision:
    """`observed` is the record last read, `observed_at` when (our monotonic clock) it was last
    seen to change, `now` that clock now."""
    if observed is None or not observed.holder:
        return Decision.TAKE
    if observed.holder == identity:
        return Decision.RENEW
    if now < observed_at + observed.lease_seconds:
        return Decision.WAIT
    return Decision.TAKE


def micro_time(moment: datetime) -> str:
    """A metav1.MicroTime, as Leases carry their times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def claimed(observed: Record | None, identity: str, lease_seconds: int, now: datetime) -> Record:
    """The record that takes or renews the lease for `identity` at wall-clock `now`."""
    stamp = micro_time(now)
    if observed is not None and observed.holder == identity:
        return replace(observed, lease_seconds=lease_seconds, renew_time=stamp)
    transitions = observed.transitions + 1 if observed is not None else 0
    return Record(identity, lease_seconds, stamp, stamp, transitions)


def released(observed: Record, now: datetime) -> Record:
    """What a leader leaves on a clean stop: no holder, so a standby takes it at its next try
    instead of waiting out the lease (client-go's ReleaseOnCancel)."""
    stamp = micro_time(now)
    return Record("", 1, stamp, stamp, observed.transitions)


def lease_manifest(
    namespace: str, name: str, record: Record, resource_version: str | None = None
) -> dict[str, Any]:
    """The Lease to create, or to replace (conditional on `resource_version`)."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    spec: dict[str, Any] = {
        "holderIdentity": record.holder,
        "leaseDurationSeconds": record.lease_seconds,
        "leaseTransitions": record.transitions,
    }
    if record.acquire_time:
        spec["acquireTime"] = record.acquire_time
    if record.renew_time:
        spec["renewTime"] = record.renew_time
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": spec,
    }


def default_identity() -> str:
    """The host's name (a pod's name, in a pod), for people reading the Lease, and a suffix:
    two processes on one host (two out-of-cluster runs) must not both think the lease theirs."""
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
