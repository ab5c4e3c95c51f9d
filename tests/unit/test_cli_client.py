"""The pure edges of the CLI's API client: server messages and objects it cannot read."""

from __future__ import annotations

import json

import pytest

from berth.api.objects import parse_service
from berth.cli.client import api_message, parsed
from berth.cli.errors import CliError
from berth.cli.rest import ApiError, apis_path, core_path


def api_error(status: int, body: str | None, reason: str = "Unprocessable Entity") -> ApiError:
    return ApiError(status, reason, body or "")


def test_the_api_servers_status_message_is_what_the_user_sees() -> None:
    status = {"kind": "Status", "message": "spec.scale: must be at most 20", "code": 422}
    assert api_message(api_error(422, json.dumps(status))) == "spec.scale: must be at most 20"


@pytest.mark.parametrize("body", [None, "", "<html>bad gateway</html>", '{"kind": "Status"}'])
def test_without_a_status_message_the_http_reason_is_shown(body: str | None) -> None:
    assert api_message(api_error(502, body, "Bad Gateway")) == "502 Bad Gateway"


def test_an_object_the_cli_cannot_read_is_an_error_naming_it() -> None:
    body = {
        "kind": "ContainerService",
        "metadata": {"name": "shop"},
        "spec": {"power": "nano", "scale": 2},
        "status": {"state": "HIBERNATING"},
    }
    with pytest.raises(CliError, match=r"cannot read ContainerService 'shop' .*status\.state"):
        parsed(parse_service, body)


def test_paths_name_the_namespace_and_object_escaped() -> None:
    assert apis_path("berth.dev", "v1alpha1", "team a", "containerservices", "web") == (
        "/apis/berth.dev/v1alpha1/namespaces/team%20a/containerservices/web"
    )
    assert apis_path("berth.dev", "v1alpha1", None, "containerservicepowers") == (
        "/apis/berth.dev/v1alpha1/containerservicepowers"
    )
    assert core_path("ns", "pods", "web-1", "log") == "/api/v1/namespaces/ns/pods/web-1/log"
    assert core_path("ns", "secrets") == "/api/v1/namespaces/ns/secrets"
