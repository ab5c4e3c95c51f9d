"""get-container-service-metric-data: CPU and memory utilization, a time series from Prometheus
where one is named (--prometheus-url), else the latest sample from metrics.k8s.io."""

import argparse
import sys
from datetime import UTC, datetime, timedelta

from berth.api.objects import ContainerServiceObject
from berth.api.power import PowerSpec
from berth.cli import history, usage
from berth.cli.arguments import Subcommands, command
from berth.cli.client import BerthClient
from berth.cli.errors import CliError
from berth.cli.inputs import timestamp
from berth.cli.output import Output
from berth.cli.tables import metrics_table

DEFAULT_STATISTICS = ["Average", "Maximum"]
DEFAULT_WINDOW = timedelta(hours=1)
NOT_SERVED = (
    "metrics.k8s.io is not served by this cluster, so there is no CPU or memory data; "
    "install metrics-server (or another provider of the resource metrics API) and try again"
)


def register(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    get = command(
        commands,
        common,
        "get-container-service-metric-data",
        "CPU or memory utilization of a service, in percent of its power.",
        get_metric_data,
    )
    get.add_argument("--service-name", required=True)
    get.add_argument("--metric-name", required=True, choices=list(usage.METRICS))
    get.add_argument("--start-time", help="Unix seconds or ISO 8601 (default: an hour ago)")
    get.add_argument("--end-time", help="Unix seconds or ISO 8601 (default: now)")
    get.add_argument(
        "--period",
        type=int,
        default=300,
        help="seconds between data points (with --prometheus-url; metrics.k8s.io has one)",
    )
    get.add_argument(
        "--prometheus-url",
        help="a Prometheus that scrapes the kubelets' cAdvisor metrics: history from it",
    )
    get.add_argument(
        "--statistics",
        nargs="+",
        choices=usage.STATISTICS,
        default=DEFAULT_STATISTICS,
        help="default: Average Maximum",
    )


def power_of(client: BerthClient, service: ContainerServiceObject) -> PowerSpec:
    powers = {p.metadata.name: p.spec for p in client.powers()}
    power = powers.get(service.status.power or service.spec.power)
    if power is None:
        raise CliError(f"power {service.spec.power!r} of {service.name} is not installed")
    return power


def get_metric_data(args: argparse.Namespace, client: BerthClient) -> Output:
    now = datetime.now(UTC)
    end = timestamp(args.end_time, "--end-time") if args.end_time else now
    start = timestamp(args.start_time, "--start-time") if args.start_time else end - DEFAULT_WINDOW
    if end < start:
        raise CliError("--end-time is before --start-time")
    if args.period < 1:
        raise CliError("--period must be at least 1 second")
    service = client.service(args.service_name)
    if args.prometheus_url:
        power = power_of(client, service)
        try:
            points = history.metric_data(
                args.prometheus_url,
                client.namespace,
                service.name,
                args.metric_name,
                power,
                args.statistics,
                start,
                end,
                args.period,
            )
        except history.HistoryUnavailable as error:
            raise CliError(str(error)) from error
    else:
        if not client.metrics_served():
            raise CliError(NOT_SERVED)
        power = power_of(client, service)
        pods = client.pod_metrics(service.name)
        points = usage.metric_data(pods, args.metric_name, power, args.statistics, start, end)
        print(
            "berth: note: metrics.k8s.io keeps only the latest sample of each pod, so there is "
            f"at most one data point (the --period of {args.period}s does not apply; "
            "--prometheus-url gives history)",
            file=sys.stderr,
        )
    data = {"metricName": args.metric_name, "metricData": points}
    return Output(data, metrics_table(args.metric_name, points))
