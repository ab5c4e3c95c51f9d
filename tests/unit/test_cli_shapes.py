"""Berth objects mapped to the JSON that `aws lightsail` prints, key for key."""

from __future__ import annotations

from typing import Any

import pytest
from tests.lightsail_model import problems, shape

from berth.api.objects import parse_power, parse_service, parse_version
from berth.cli.shapes import power_shape, region_of, service_shape, version_shape

UID = "0b6c1d2e-0000-4000-8000-000000000001"
CREATED = "2025-01-02T03:04:05Z"
CONTAINERS = {"web": {"image": "nginx:1.27", "ports": {"80": "HTTP"}}}
HEALTH = {
    "healthyThreshold": 2,
    "unhealthyThreshold": 2,
    "timeoutSeconds": 2,
    "intervalSeconds": 5,
    "path": "/",
    "successCodes": "200-499",
}
ENDPOINT = {"containerName": "web", "containerPort": 80, "healthCheck": HEALTH}
URL = "https://shop.abcdefghijkl.eu-west-1.cs.berth.example/"


def service_body(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "shop",
            "namespace": "team-a",
            "uid": UID,
            "creationTimestamp": CREATED,
        },
        "spec": {"power": "micro", "scale": 2, **spec},
        "status": status,
    }


def summary(version: int, state: str) -> dict[str, Any]:
    return {
        "version": version,
        "state": state,
        "name": f"shop-v{version}",
        "containers": CONTAINERS,
        "publicEndpoint": ENDPOINT,
        "createdAt": CREATED,
    }


DEPLOYMENT_SHAPE = {
    "containers": {
        "web": {"image": "nginx:1.27", "command": [], "environment": {}, "ports": {"80": "HTTP"}}
    },
    "publicEndpoint": ENDPOINT,
    "createdAt": "2025-01-02T03:04:05+00:00",
}


def test_a_running_service_has_lightsails_container_service_shape_in_its_key_order() -> None:
    body = service_body(
        {
            "state": "DEPLOYING",
            "stateDetail": {"code": "ACTIVATING_DEPLOYMENT", "message": "1/2 updated"},
            "currentDeployment": summary(1, "ACTIVE"),
            "nextDeployment": summary(2, "ACTIVATING"),
            "privateDomainName": "shop.service.local",
            "url": URL,
            "createdAt": CREATED,
        },
        tags=[{"key": "team", "value": "a"}],
        publicDomainNames={"shop-cert": ["shop.example.com", "www.shop.example.com"]},
    )
    expected = {
        "containerServiceName": "shop",
        "arn": f"arn:berth:lightsail:eu-west-1:team-a:ContainerService/{UID}",
        "createdAt": "2025-01-02T03:04:05+00:00",
        "location": {"availabilityZone": "all", "regionName": "eu-west-1"},
        "resourceType": "ContainerService",
        "tags": [{"key": "team", "value": "a"}],
        "power": "micro",
        "powerId": "micro-1",
        "state": "DEPLOYING",
        "stateDetail": {"code": "ACTIVATING_DEPLOYMENT", "message": "1/2 updated"},
        "scale": 2,
        "currentDeployment": {"version": 1, "state": "ACTIVE", **DEPLOYMENT_SHAPE},
        "nextDeployment": {"version": 2, "state": "ACTIVATING", **DEPLOYMENT_SHAPE},
        "isDisabled": False,
        "privateDomainName": "shop.service.local",
        "publicDomainNames": {"shop-cert": ["shop.example.com", "www.shop.example.com"]},
        "url": URL,
        "privateRegistryAccess": {"ecrImagePullerRole": {"isActive": False, "principalArn": ""}},
    }
    found = service_shape(parse_service(body))
    assert found == expected
    assert list(found) == list(expected)  # the AWS CLI's key order, which JSON output keeps
    assert problems(found, shape("ContainerService")) == []


def test_a_new_service_without_status_is_pending_with_lightsails_empty_collections() -> None:
    found = service_shape(parse_service(service_body()))
    assert problems(found, shape("ContainerService")) == []
    assert found == {
        "containerServiceName": "shop",
        "arn": f"arn:berth:lightsail::team-a:ContainerService/{UID}",
        "createdAt": "2025-01-02T03:04:05+00:00",
        "resourceType": "ContainerService",
        "tags": [],
        "power": "micro",
        "powerId": "micro-1",
        "state": "PENDING",
        "scale": 2,
        "isDisabled": False,
        "publicDomainNames": {},
        "privateRegistryAccess": {"ecrImagePullerRole": {"isActive": False, "principalArn": ""}},
    }


def test_a_service_being_deleted_says_deleting_before_the_operator_does() -> None:
    body = service_body({"state": "RUNNING"})
    body["metadata"]["deletionTimestamp"] = CREATED
    assert service_shape(parse_service(body))["state"] == "DELETING"


def test_an_empty_state_detail_is_left_out() -> None:
    found = service_shape(parse_service(service_body({"state": "RUNNING", "stateDetail": {}})))
    assert "stateDetail" not in found


def test_spec_values_are_shown_as_asked_for_even_while_status_lags() -> None:
    body = service_body({"state": "UPDATING", "power": "micro", "scale": 2}, isDisabled=True)
    body["spec"].update(power="large", scale=5)
    found = service_shape(parse_service(body))
    assert (found["power"], found["scale"], found["isDisabled"]) == ("large", 5, True)


def test_pull_secrets_make_the_image_puller_role_active_in_lightsails_shape() -> None:
    body = service_body(privateRegistryAccess={"imagePullSecrets": ["ghcr"]})
    found = service_shape(parse_service(body))
    assert found["privateRegistryAccess"] == {
        "ecrImagePullerRole": {"isActive": True, "principalArn": ""}
    }
    assert problems(found, shape("ContainerService")) == []


def version_body(status: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "shop-cli-x2b4z", "namespace": "team-a", "creationTimestamp": CREATED},
        "spec": {"serviceName": "shop", "containers": CONTAINERS, **spec},
        "status": status,
    }


def test_a_numbered_version_is_a_lightsail_deployment() -> None:
    body = version_body({"version": 3, "state": "FAILED"}, publicEndpoint=ENDPOINT)
    found = version_shape(parse_version(body))
    assert problems(found, shape("ContainerServiceDeployment")) == []
    assert found == {
        "version": 3,
        "state": "FAILED",
        **DEPLOYMENT_SHAPE,
    }


def test_a_version_without_an_endpoint_has_no_public_endpoint_key() -> None:
    containers = {
        "worker": {
            "image": "busybox",
            "command": ["sh", "-c", "sleep 1d"],
            "environment": {"MODE": "batch"},
        }
    }
    found = version_shape(parse_version(version_body({"version": 1}, containers=containers)))
    assert problems(found, shape("ContainerServiceDeployment")) == []
    assert found == {
        "version": 1,
        "state": "ACTIVATING",
        "containers": {
            "worker": {
                "image": "busybox",
                "command": ["sh", "-c", "sleep 1d"],
                "environment": {"MODE": "batch"},
                "ports": {},
            }
        },
        "createdAt": "2025-01-02T03:04:05+00:00",
    }


def test_a_version_not_numbered_yet_is_not_a_deployment() -> None:
    assert version_shape(parse_version(version_body({}))) is None


def test_a_power_has_lightsails_shape() -> None:
    body = {
        "metadata": {"name": "small"},
        "spec": {"cpuCount": 0.5, "ramSizeInGb": 1, "price": 15, "isActive": True},
    }
    found = power_shape(parse_power(body))
    assert problems(found, shape("ContainerServicePower")) == []
    assert found == {
        "powerId": "small-1",
        "price": 15.0,
        "cpuCount": 0.5,
        "ramSizeInGb": 1.0,
        "name": "small",
        "isActive": True,
    }


@pytest.mark.parametrize(
    ("url", "region"),
    [
        (URL, "eu-west-1"),
        ("https://a.b.local.cs.berth.internal/", "local"),
        ("https://a.b.c.example.com/", None),
        ("https://short.cs/", None),
        (None, None),
        ("", None),
    ],
)
def test_the_region_comes_from_the_default_domain(url: str | None, region: str | None) -> None:
    assert region_of(url) == region
