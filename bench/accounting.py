"""What each side of the side-by-side benchmark cost, measured the same way for both: writes as
the API server's audit log saw them, CPU time and peak RSS as /proc tells them. Pure: the callers
read the files."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable

from devcluster.audit import AuditEntry

# Leader election renews leases while nothing else happens: reported apart from the real work.
LEASES = "leases"


def write_label(entry: AuditEntry) -> str:
    """`<resource>[.<group>][/<subresource>] <verb>`: the group tells Knative's `services` from
    the core group's, the subresource a status write from a spec write."""
    resource = f"{entry.resource}.{entry.group}" if entry.group else entry.resource
    if entry.subresource:
        resource += f"/{entry.subresource}"
    return f"{resource} {entry.verb}"


def writes_of(
    entries: Iterable[AuditEntry],
    users: Iterable[str],
    since: datetime.datetime,
    until: datetime.datetime | None = None,
) -> list[AuditEntry]:
    """The entries (all writes, by the audit policy) that `users` sent in [since, until)."""
    wanted = set(users)
    return [
        entry
        for entry in entries
        if entry.user in wanted and entry.time >= since and (until is None or entry.time < until)
    ]


def count_by_label(entries: Iterable[AuditEntry]) -> dict[str, int]:
    """How many writes of each label, sorted by label; leases included."""
    return dict(sorted(Counter(write_label(entry) for entry in entries).items()))


def split_leases(entries: Iterable[AuditEntry]) -> tuple[list[AuditEntry], list[AuditEntry]]:
    """(lease writes, every other write)."""
    leases: list[AuditEntry] = []
    other: list[AuditEntry] = []
    for entry in entries:
        (leases if entry.resource == LEASES else other).append(entry)
    return leases, other


def refused(entries: Iterable[AuditEntry]) -> int:
    """Writes the API server answered with an error (409 conflicts, mostly): sent, then redone."""
    return sum(1 for entry in entries if entry.code >= 400)


def cpu_seconds(stat: str, ticks_per_second: int) -> float:
    """User + system CPU of a process from its /proc/<pid>/stat line (fields 14 and 15).
    The command name (field 2) may hold spaces and parentheses: count from the last ')'."""
    after_name = stat.rsplit(")", 1)[1].split()
    # after_name[0] is field 3 (state), so field k is after_name[k - 3].
    return (int(after_name[11]) + int(after_name[12])) / ticks_per_second


def peak_rss_mb(status: str) -> float:
    """VmHWM (the resident set's high-water mark) from /proc/<pid>/status, in MiB."""
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
