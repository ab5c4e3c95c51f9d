"""Deployment content from AWS CLI JSON, from a file, and from `berth deploy --image`."""

from __future__ import annotations

import pytest

from berth.api.content import DeploymentContent, Protocol
from berth.cli.compose import from_file, from_image, from_parts, validated, with_endpoint
from berth.cli.errors import CliError

CONTAINERS = {"web": {"image": "nginx:1.27", "ports": {"80": "HTTP"}}}
ENDPOINT = {"containerName": "web", "containerPort": 80}


def current(**container: object) -> DeploymentContent:
    web = {"image": "nginx:1.27", "ports": {"80": "HTTP"}, "environment": {"A": "1"}, **container}
    return DeploymentContent.model_validate(
        {"containers": {"web": web}, "publicEndpoint": ENDPOINT}
    )


def test_containers_and_endpoint_flags_make_one_deployment() -> None:
    assert from_parts(CONTAINERS, ENDPOINT) == {
        "containers": CONTAINERS,
        "publicEndpoint": ENDPOINT,
    }
    assert from_parts(CONTAINERS, None) == {"containers": CONTAINERS}


def test_a_file_may_hold_just_the_containers_map() -> None:
    assert from_file(CONTAINERS) == {"containers": CONTAINERS}


def test_a_file_may_hold_a_whole_deployment() -> None:
    whole = {"containers": CONTAINERS, "publicEndpoint": ENDPOINT}
    assert from_file(whole) == whole


def test_a_container_named_containers_is_still_a_containers_map() -> None:
    odd = {"containers": {"image": "busybox"}}
    assert from_file(odd) == {"containers": odd}


def test_validation_reports_the_api_rule_in_the_users_words() -> None:
    bad = {
        "containers": CONTAINERS,
        "publicEndpoint": {"containerName": "web", "containerPort": 81},
    }
    with pytest.raises(CliError, match=r"invalid deployment: .*HTTP or HTTPS"):
        validated(bad)
    with pytest.raises(CliError, match=r"containers\.web\.image"):
        validated({"containers": {"web": {"ports": {"80": "HTTP"}}}})


def test_validation_fills_in_lightsails_health_check_defaults() -> None:
    wire = validated({"containers": CONTAINERS, "publicEndpoint": ENDPOINT}).to_wire()
    assert wire["publicEndpoint"]["healthCheck"]["successCodes"] == "200-499"


def test_a_new_image_for_a_one_container_service_keeps_everything_else() -> None:
    content = from_image("nginx:1.28", None, Protocol.HTTP, None, {"B": "2"}, None, current())
    assert content == {
        "containers": {
            "web": {
                "image": "nginx:1.28",
                "ports": {"80": "HTTP"},
                "environment": {"A": "1", "B": "2"},
            }
        },
        "publicEndpoint": current().to_wire()["publicEndpoint"],
    }


def test_a_command_replaces_the_deployed_one() -> None:
    content = from_image("x:2", None, Protocol.HTTP, "web", {}, ["serve"], current(command=["old"]))
    assert content["containers"]["web"]["command"] == ["serve"]


def test_an_image_with_a_port_makes_a_fresh_public_container() -> None:
    content = from_image("nginx:1.28", 8080, Protocol.HTTPS, None, {}, None, current())
    assert content == {
        "containers": {"app": {"image": "nginx:1.28", "ports": {"8080": "HTTPS"}}},
        "publicEndpoint": {"containerName": "app", "containerPort": 8080},
    }
    validated(content)


def test_an_image_for_a_new_service_without_a_port_is_a_private_container() -> None:
    content = from_image("worker:1", None, Protocol.HTTP, "jobs", {"Q": "x"}, ["run"], None)
    assert content == {
        "containers": {"jobs": {"image": "worker:1", "environment": {"Q": "x"}, "command": ["run"]}}
    }


def test_another_container_name_does_not_inherit_the_deployed_container() -> None:
    content = from_image("x:1", None, Protocol.HTTP, "other", {}, None, current())
    assert content == {"containers": {"other": {"image": "x:1"}}}


def test_a_public_endpoint_flag_replaces_the_endpoint() -> None:
    endpoint = {"containerName": "web", "containerPort": 80, "healthCheck": {"path": "/healthz"}}
    assert with_endpoint({"containers": CONTAINERS}, endpoint)["publicEndpoint"] == endpoint
    assert with_endpoint({"containers": CONTAINERS}, None) == {"containers": CONTAINERS}
