"""Printing: JSON like the AWS CLI, YAML, and aligned tables for people."""

from __future__ import annotations

import json
from typing import Any

import yaml

from berth.api.objects import parse_service
from berth.cli.logevents import parse_log
from berth.cli.output import Output, render, table
from berth.cli.tables import (
    deployments_table,
    log_lines,
    metrics_table,
    powers_table,
    services_table,
)

DATA = {"containerServices": [{"containerServiceName": "shop", "scale": 2, "note": "ü"}]}


def test_json_is_indented_by_four_and_keeps_key_order_and_unicode() -> None:
    text = render(Output(DATA, "table"), "json")
    assert text is not None
    assert json.loads(text) == DATA
    assert text.startswith('{\n    "containerServices"')
    assert "ü" in text


def test_yaml_keeps_key_order() -> None:
    text = render(Output({"b": 1, "a": 2}), "yaml")
    assert text == "b: 1\na: 2"
    assert yaml.safe_load(text) == {"b": 1, "a": 2}


def test_each_command_has_its_default_format() -> None:
    assert render(Output(DATA, "a table", default="table"), None) == "a table"
    assert render(Output(DATA, "a table"), None) == render(Output(DATA), "json")


def test_table_falls_back_to_json_without_a_human_form() -> None:
    assert render(Output(DATA), "table") == render(Output(DATA), "json")


def test_nothing_to_print_is_none() -> None:
    assert render(Output(None), "json") is None
    assert render(Output(None, "deleted"), "table") == "deleted"


def test_table_columns_align_and_empty_cells_show_a_dash() -> None:
    text = table(["NAME", "SCALE", "URL"], [["a", 2, None], ["longer", 10.0, "https://x/"]])
    assert text.splitlines() == [
        "NAME     SCALE   URL",
        "a        2       -",
        "longer   10      https://x/",
    ]


def service(name: str, status: dict[str, Any]) -> Any:
    return parse_service(
        {"metadata": {"name": name}, "spec": {"power": "nano", "scale": 2}, "status": status}
    )


def summary(version: int, state: str) -> dict[str, Any]:
    containers = {"web": {"image": "nginx"}}
    return {"version": version, "state": state, "name": f"v{version}", "containers": containers}


def test_the_services_table_has_kubectl_like_columns() -> None:
    services = [
        service(
            "api",
            {
                "state": "DEPLOYING",
                "readyReplicas": 1,
                "currentDeployment": summary(3, "ACTIVE"),
                "nextDeployment": summary(4, "ACTIVATING"),
                "url": "https://api.x.local.cs.b/",
            },
        ),
        service("new", {}),
    ]
    assert services_table(services).splitlines() == [
        "NAME   STATE       POWER   SCALE   READY   VERSION   URL",
        "api    DEPLOYING   nano    2       1/2     3 -> 4    https://api.x.local.cs.b/",
        "new    PENDING     nano    2       0/2     -         -",
    ]


def test_the_deployments_table_names_images_and_endpoint() -> None:
    shapes = [
        {
            "version": 2,
            "state": "ACTIVE",
            "containers": {"web": {"image": "nginx:1"}, "log": {"image": "fluent"}},
            "publicEndpoint": {"containerName": "web", "containerPort": 80},
            "createdAt": "2025-01-02T03:04:05+00:00",
        },
        {"version": 1, "state": "INACTIVE", "containers": {"web": {"image": "nginx:0"}}},
    ]
    assert deployments_table(shapes).splitlines() == [
        "VERSION   STATE      CONTAINERS                ENDPOINT   CREATED",
        "2         ACTIVE     web=nginx:1, log=fluent   web:80     2025-01-02T03:04:05+00:00",
        "1         INACTIVE   web=nginx:0               -          -",
    ]


def test_the_powers_table_shows_price_per_node_and_month() -> None:
    powers = [
        {"name": "nano", "cpuCount": 0.25, "ramSizeInGb": 0.5, "price": 7.0, "isActive": True},
        {"name": "big", "cpuCount": 4.0, "ramSizeInGb": 8.0, "price": 160.0, "isActive": False},
    ]
    assert powers_table(powers).splitlines() == [
        "NAME   VCPU   MEMORY   PRICE/NODE/MONTH   ACTIVE",
        "nano   0.25   0.5 GB   $7.00              yes",
        "big    4      8 GB     $160.00            no",
    ]


def test_log_lines_name_the_pod() -> None:
    events = parse_log("2025-01-02T03:04:05Z hello", "web-abc")
    assert log_lines(events) == "2025-01-02T03:04:05+00:00 web-abc hello"
    assert log_lines([]) == ""


def test_the_metrics_table_has_a_column_per_statistic() -> None:
    point = {"maximum": 30.0, "average": 20.5, "timestamp": "t", "unit": "Percent"}
    assert metrics_table("CPUUtilization", [point]).splitlines() == [
        "TIMESTAMP   MAXIMUM   AVERAGE   UNIT",
        "t           30        20.5      Percent",
    ]
    assert metrics_table("CPUUtilization", []) == "CPUUtilization: no data points"
