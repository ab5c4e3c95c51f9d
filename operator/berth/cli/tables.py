"""The human tables of `berth ls`, `berth powers` and friends, from the Lightsail shapes."""

from collections.abc import Sequence
from typing import Any

from berth.api.objects import ContainerServiceObject
from berth.cli.logevents import LogEvent
from berth.cli.output import table
from berth.cli.shapes import service_state


def services_table(services: Sequence[ContainerServiceObject]) -> str:
    rows = []
    for service in services:
        status = service.status
        current = status.current_deployment.version if status.current_deployment else None
        upcoming = status.next_deployment.version if status.next_deployment else None
        version = f"{current or '-'} -> {upcoming}" if upcoming else current
        ready = f"{status.ready_replicas or 0}/{service.spec.scale}"
        rows.append(
            [
                service.name,
                service_state(service).value,
                service.spec.power,
                service.spec.scale,
                ready,
                version,
                status.url,
            ]
        )
    return table(["NAME", "STATE", "POWER", "SCALE", "READY", "VERSION", "URL"], rows)


def deployments_table(deployments: Sequence[dict[str, Any]]) -> str:
    rows = []
    for shape in deployments:
        endpoint = shape.get("publicEndpoint")
        rows.append(
            [
                shape["version"],
                shape["state"],
                ", ".join(f"{n}={c['image']}" for n, c in shape["containers"].items()),
                f"{endpoint['containerName']}:{endpoint['containerPort']}" if endpoint else None,
                shape.get("createdAt"),
            ]
        )
    return table(["VERSION", "STATE", "CONTAINERS", "ENDPOINT", "CREATED"], rows)


def powers_table(powers: Sequence[dict[str, Any]]) -> str:
    rows = [
        [
            p["name"],
            p["cpuCount"],
            f"{p['ramSizeInGb']:g} GB",
            f"${p['price']:.2f}",
            "yes" if p["isActive"] else "no",
        ]
        for p in powers
    ]
    return table(["NAME", "VCPU", "MEMORY", "PRICE/NODE/MONTH", "ACTIVE"], rows)


def log_lines(events: Sequence[LogEvent]) -> str:
    return "\n".join(f"{e.created_at.isoformat()} {e.pod} {e.message}" for e in events)


def metrics_table(metric: str, points: Sequence[dict[str, Any]]) -> str:
    if not points:
        return f"{metric}: no data points"
    stats = [k for k in points[0] if k not in ("timestamp", "unit")]
    headers = ["TIMESTAMP", *(s.upper() for s in stats), "UNIT"]
    rows = [[p["timestamp"], *(p[s] for s in stats), p["unit"]] for p in points]
    return table(headers, rows)
