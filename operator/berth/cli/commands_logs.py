"""get-container-log and `berth logs`: every replica's log, merged by time and filtered."""

import argparse
import math
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from berth.cli.arguments import Subcommands, command
from berth.cli.client import BerthClient, LogUnavailable
from berth.cli.errors import CliError
from berth.cli.filters import LogFilter, parse_filter
from berth.cli.inputs import duration, timestamp
from berth.cli.logevents import LogEvent, event_shape, merge, parse_log, select
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
    """Reads each pod's log of the container; a pod that cannot answer is named, not hidden."""
    client.service(service)
    pods = client.pods(service)
    if not pods:
        warn(f"{service} has no pods (scale 0, disabled, or not deployed yet)")
        return []
    known = sorted({c for pod in pods for c in pod.containers})
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


def get_container_log(args: argparse.Namespace, client: BerthClient) -> Output:
    log_filter = parse_filter(args.filter_pattern)
    start, end = _window(args)
    events = collect(client, args.service_name, args.container_name, log_filter, start, end)
    return Output({"logEvents": [event_shape(e) for e in events]}, log_lines(events))


def show_logs(args: argparse.Namespace, client: BerthClient) -> Output:
    log_filter = parse_filter(args.filter_pattern)
    start, end = _window(args)
    events = collect(client, args.service, args.container, log_filter, start, end)
    return Output({"logEvents": [event_shape(e) for e in events]}, log_lines(events), "table")
