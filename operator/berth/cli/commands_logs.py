"""get-container-log and `berth logs`: every replica's log, merged by time and filtered."""

import argparse
import math
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from berth.cli.arguments import Subcommands, command
from berth.cli.client import BerthClient, LogUnavailable
from berth.cli.errors import CliError
from berth.cli.filters import LogFilter, parse_filter
from berth.cli.inputs import duration, timestamp
from berth.cli.logevents import (
    PAGE_SIZE,
    BadPageToken,
    LogEvent,
    event_shape,
    merge,
    page,
    parse_log,
    select,
)
from berth.cli.output import Output
from berth.cli.tables import log_lines


def register(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    get = command(
        commands,
        common,
        "get-container-log",
        "Log events of a container, merged across the service's nodes.",
        get_container_log,
    )
    get.add_argument("--service-name", required=True)
    get.add_argument("--container-name", required=True)
    _add_window(get)
    get.add_argument("--filter-pattern", help='e.g. "ERROR", "-ERROR", "?ERROR ?Exception"')
    get.add_argument("--page-token", help="the nextPageToken of the previous page")
    get.add_argument("--page-size", type=positive, default=PAGE_SIZE, help=argparse.SUPPRESS)

    logs = command(commands, common, "logs", "Show a service's container log.", show_logs)
    logs.add_argument("service")
    logs.add_argument("container", nargs="?", help="needed when the pods have several")
    logs.add_argument("--since", help="only the last 30s, 10m, 1h... (instead of --start-time)")
    _add_window(logs)
    logs.add_argument("--filter", dest="filter_pattern", help="Lightsail filter pattern")


def _add_window(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start-time", help="Unix seconds or ISO 8601")
    parser.add_argument("--end-time", help="Unix seconds or ISO 8601")


def _warn(message: str) -> None:
    print(f"berth: warning: {message}", file=sys.stderr, flush=True)


def collect(
    client: BerthClient,
    service: str,
    container: str | None,
    log_filter: LogFilter,
    start: datetime | None,
    end: datetime | None,
    warn: Callable[[str], None] = _warn,
) -> list[LogEvent]:
    """Reads each pod's log of the container, and what the operator kept of the pods of failed
    versions; a pod that cannot answer is named, not hidden."""
    client.service(service)
    pods = client.pods(service)
    try:
        kept = client.kept_logs(service)
    except LogUnavailable as error:
        warn(f"the logs kept of failed versions cannot be read: {error}")
        kept = []
    if not pods and not kept:
        warn(f"{service} has no pods (scale 0, disabled, or not deployed yet)")
        return []
    known = sorted({c for pod in pods for c in pod.containers} | {k.source.container for k in kept})
    if container is None:
        if len(known) != 1:
            raise CliError(f"{service} runs several containers; name one of: {', '.join(known)}")
        container = known[0]
    if container not in known:
        raise CliError(
            f"{service} has no container {container!r}; its pods run: {', '.join(known)}"
        )
    since = None
    if start is not None:
        since = max(1, math.ceil((datetime.now(UTC) - start).total_seconds()) + 1)
    streams, failures = [], []
    for pod in pods:
        if container not in pod.containers:
            continue
        try:
            streams.append(parse_log(client.pod_log(pod.name, container, since), pod.name))
        except LogUnavailable as error:
            failures.append(f"{pod.name}: {error}")
    live = {pod.name for pod in pods}
    for log in kept:
        # A pod still stopping is read live above; what ran before it crashed is only kept.
        if log.source.container == container and (
            log.source.previous or log.source.pod not in live
        ):
            streams.append(parse_log(log.text, log.source.pod))
    if failures and not streams:
        raise CliError(
            f"could not read the log of {container} in any pod of {service}:\n  "
            + "\n  ".join(failures)
        )
    for failure in failures:
        warn(f"log not available from pod {failure}")
    return select(merge(streams), log_filter, start, end)


def _window(args: argparse.Namespace) -> tuple[datetime | None, datetime | None]:
    start = timestamp(args.start_time, "--start-time") if args.start_time else None
    if getattr(args, "since", None):
        if start is not None:
            raise CliError("give --since or --start-time, not both")
        start = datetime.now(UTC) - duration(args.since, "--since")
    end = timestamp(args.end_time, "--end-time") if args.end_time else None
    if start and end and end < start:
        raise CliError("--end-time is before the start")
    return start, end


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def paged(
    events: list[LogEvent], token: str | None, size: int = PAGE_SIZE
) -> tuple[list[LogEvent], dict[str, Any]]:
    """One page of events, and Lightsail's answer for it (with nextPageToken if there is more)."""
    try:
        chosen, following = page(events, token, size)
    except BadPageToken as error:
        raise CliError(str(error)) from error
    answer: dict[str, Any] = {"logEvents": [event_shape(e) for e in chosen]}
    if following:
        answer["nextPageToken"] = following
    return chosen, answer


def get_container_log(args: argparse.Namespace, client: BerthClient) -> Output:
    log_filter = parse_filter(args.filter_pattern)
    start, end = _window(args)
    events = collect(client, args.service_name, args.container_name, log_filter, start, end)
    chosen, answer = paged(events, args.page_token, args.page_size)
    return Output(answer, log_lines(chosen))


def show_logs(args: argparse.Namespace, client: BerthClient) -> Output:
    log_filter = parse_filter(args.filter_pattern)
    start, end = _window(args)
    events = collect(client, args.service, args.container, log_filter, start, end)
    return Output({"logEvents": [event_shape(e) for e in events]}, log_lines(events), "table")
