"""Reading the API server's audit log (Cluster(audit=True)): which pod wrote what, and when."""

from __future__ import annotations

import dataclasses
import datetime
import json
import pathlib
from collections.abc import Iterable
from typing import Any

# Set by the API server from a bound service-account token: the pod the token was mounted in.
POD_NAME = "authentication.kubernetes.io/pod-name"


@dataclasses.dataclass(frozen=True)
class AuditEntry:
    time: datetime.datetime
    user: str
    pod: str  # "" when the token was not a pod's
    verb: str
    resource: str
    namespace: str
    name: str
    code: int
    group: str = ""  # the resource's API group, "" for the core group
    subresource: str = ""  # "status" for a status write


def parse_entry(event: dict[str, Any]) -> AuditEntry:
    user = event.get("user") or {}
    target = event.get("objectRef") or {}
    stamp = event.get("requestReceivedTimestamp") or event["stageTimestamp"]
    return AuditEntry(
        time=datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")),
        user=user.get("username", ""),
        pod=((user.get("extra") or {}).get(POD_NAME) or [""])[0],
        verb=event.get("verb", ""),
        resource=target.get("resource", ""),
        namespace=target.get("namespace", ""),
        name=target.get("name", ""),
        code=int((event.get("responseStatus") or {}).get("code") or 0),
        group=target.get("apiGroup", ""),
        subresource=target.get("subresource", ""),
    )


def read_audit_log(path: pathlib.Path) -> list[AuditEntry]:
    """Entries in the order requests were received (the file's order is when they ended)."""
    lines = path.read_text().splitlines() if path.exists() else []
    entries = [parse_entry(json.loads(line)) for line in lines if line.strip()]
    return sorted(entries, key=lambda entry: entry.time)


def write_runs(entries: Iterable[AuditEntry]) -> list[tuple[str, int]]:
    """Consecutive entries of one pod, folded: [(pod, how many)], in time order."""
    runs: list[tuple[str, int]] = []
    for entry in entries:
        if runs and runs[-1][0] == entry.pod:
            runs[-1] = (entry.pod, runs[-1][1] + 1)
        else:
            runs.append((entry.pod, 1))
    return runs
