"""Container log lines as `kubectl logs --timestamps` gives them, merged across replicas."""

import base64
import bisect
import heapq
import json
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


# As CloudWatch Logs' GetLogEvents, which stands behind Lightsail's container logs.
PAGE_SIZE = 10_000


class BadPageToken(ValueError):
    """A page token this reader did not hand out."""


def page(
    events: Sequence[LogEvent], token: str | None, size: int = PAGE_SIZE
) -> tuple[list[LogEvent], str | None]:
    """One page of `events` (in time order) and the token of the next, None at the end.

    The token says where the page ended (a time, and how many events of that time were
    handed out already), not an offset: lines that arrive meanwhile (always later ones) or
    old lines the kubelet rotated away do not shift the next page.
    """
    times = [event.created_at for event in events]
    start = 0
    if token:
        after, skip = _read_token(token)
        start = bisect.bisect_left(times, after) + skip
    end = start + size
    chosen = list(events[start:end])
    if end >= len(events) or not chosen:
        return chosen, None
    last = chosen[-1].created_at
    return chosen, _token(last, end - bisect.bisect_left(times, last))


def _token(after: datetime, skip: int) -> str:
    raw = json.dumps({"after": after.isoformat(), "skip": skip}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _read_token(token: str) -> tuple[datetime, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        after = datetime.fromisoformat(data["after"])
        skip = int(data["skip"])
    except (ValueError, KeyError, TypeError) as error:
        raise BadPageToken(
            f"page token {token!r} is not one that get-container-log gave"
        ) from error
    if after.tzinfo is None or skip < 0:
        raise BadPageToken(f"page token {token!r} is not one that get-container-log gave")
    return after, skip
