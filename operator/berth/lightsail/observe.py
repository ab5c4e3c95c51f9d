"""GetContainerLog and GetContainerServiceMetricData: the berth CLI's readers of pod logs and
metrics.k8s.io, as the key's ServiceAccount."""

from datetime import UTC, datetime
from typing import Any

from berth.api.objects import ContainerServiceObject
from berth.api.power import PowerSpec
from berth.cli import history, usage
from berth.cli.commands_logs import collect, paged
from berth.cli.commands_metrics import NOT_SERVED
from berth.cli.filters import parse_filter
from berth.lightsail.calls import Call, as_aws_errors
from berth.lightsail.protocol import AwsError, invalid_input


def moment(value: Any) -> datetime | None:
    """A timestamp as botocore sends it in JSON: epoch seconds (or, from other SDKs, ISO)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def get_container_log(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Every replica's log and what was kept of failed versions', merged by time, a page at a
    time (PAGE_SIZE events, as CloudWatch Logs' GetLogEvents)."""
    start, end = moment(params.get("startTime")), moment(params.get("endTime"))
    if start and end and end < start:
        raise invalid_input("endTime is before startTime")
    with as_aws_errors():
        events = collect(
            call.client,
            params["serviceName"],
            params["containerName"],
            parse_filter(params.get("filterPattern")),
            start,
            end,
            warn=lambda _: None,
        )
        _, answer = paged(events, params.get("pageToken"))
    return answer


def get_container_service_metric_data(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Data points every `period` from the Prometheus the endpoint is given
    (BERTH_PROMETHEUS_URL); without one, the latest sample of each pod from metrics.k8s.io,
    which keeps no history: at most one data point whatever the period. In percent of the
    power either way."""
    start, end = moment(params["startTime"]), moment(params["endTime"])
    assert start is not None and end is not None  # required by the model
    if end < start:
        raise invalid_input("endTime is before startTime")
    metric = params["metricName"]
    if metric not in usage.METRICS:
        raise invalid_input(f"metric {metric!r}: Berth measures {', '.join(usage.METRICS)}")
    if call.prometheus_url:
        return {"metricName": metric, "metricData": _history(call, params, start, end)}
    with as_aws_errors():
        service = call.client.service(params["serviceName"])
        if not call.client.metrics_served():
            raise AwsError("OperationFailureException", NOT_SERVED)
        power = _power(call, service)
        pods = call.client.pod_metrics(service.name)
        points = usage.metric_data(pods, metric, power, params["statistics"], start, end)
    return {"metricName": metric, "metricData": points}


def _history(call: Call, params: dict[str, Any], start: datetime, end: datetime) -> Any:
    assert call.prometheus_url is not None
    with as_aws_errors():
        # Read as the key: a service the key may not see is not found, as everywhere else.
        service = call.client.service(params["serviceName"])
        power = _power(call, service)
    try:
        return history.metric_data(
            call.prometheus_url,
            call.client.namespace,
            service.name,
            params["metricName"],
            power,
            params["statistics"],
            start,
            end,
            int(params["period"]),
        )
    except history.HistoryUnavailable as error:
        raise AwsError("ServiceException", str(error), 500) from error


def _power(call: Call, service: ContainerServiceObject) -> PowerSpec:
    """The service's power, read as the endpoint: powers are cluster-wide, and a key's
    ServiceAccount may read its namespace only."""
    powers = {p.metadata.name: p.spec for p in call.powers()}
    power = powers.get(service.status.power or service.spec.power)
    if power is None:
        raise invalid_input(f"power {service.spec.power!r} of {service.name} is not installed")
    return power
