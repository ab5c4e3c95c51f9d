"""Container log lines as `kubectl logs --timestamps` gives them, merged across replicas."""

import heapq
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from berth.cli.filters import LogFilter

# RFC 3339 with up to nanoseconds, as the kubelet writes it; Python keeps microseconds.
_STAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2}) (.*)$", re.S
)


@dataclass(frozen=True)
class LogEvent:
    created_at: datetime
    message: str
    pod: str


def parse_log(text: str, pod: str) -> list[LogEvent]:
    """One pod's log; a line without a timestamp keeps the previous line's time."""
    events: list[LogEvent] = []
    previous = datetime.fromtimestamp(0, UTC)
    for line in text.splitlines():
        match = _STAMP.match(line)
        if match is None:
            events.append(LogEvent(previous, line, pod))
            continue
        seconds, fraction, zone, message = match.groups()
        micros = (fraction or "")[:6].ljust(6, "0")
        zone = "+00:00" if zone == "Z" else zone
        previous = datetime.fromisoformat(f"{seconds}.{micros}{zone}")
        events.append(LogEvent(previous, message, pod))
    return events


def merge(streams: Iterable[Sequence[LogEvent]]) -> list[LogEvent]:
    """All pods' events in time order; equal times keep pod order, then line order."""
    ordered = (sorted(stream, key=lambda e: e.created_at) for stream in streams)
    return list(heapq.merge(*ordered, key=lambda e: e.created_at))


def select(
    events: Iterable[LogEvent],
    log_filter: LogFilter,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[LogEvent]:
    """Events within [start, end] whose message passes the filter."""
    return [
        event
        for event in events
        if (start is None or event.created_at >= start)
        and (end is None or event.created_at <= end)
        and log_filter.matches(event.message)
    ]


def event_shape(event: LogEvent) -> dict[str, Any]:
    """Lightsail's ContainerServiceLogEvent."""
    return {"createdAt": event.created_at.isoformat(), "message": event.message}
