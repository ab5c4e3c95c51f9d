"""The pydantic models: defaults, cross-field rules and fingerprints the CRD schema cannot show."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from berth.api.common import Tag
from berth.api.content import (
    DeploymentContent,
    HealthCheck,
    Protocol,
    PublicEndpoint,
    parse_success_codes,
)
from berth.api.objects import content_hash
from berth.api.power import DEFAULT_POWERS, PowerSpec
from berth.api.service import ServiceSpec
from berth.api.version import VersionSpec

Wire = dict[str, Any]


def content(containers: Wire, endpoint: Wire | None = None) -> Wire:
    wire: Wire = {"containers": containers}
    if endpoint is not None:
        wire["publicEndpoint"] = endpoint
    return wire


def web(protocol: str = "HTTP", port: int = 80) -> Wire:
    return content(
        {"web": {"image": "nginx:1.27", "ports": {str(port): protocol}}},
        {"containerName": "web", "containerPort": port},
    )


def domains(names: dict[str, list[str]]) -> Wire:
    return {"power": "nano", "scale": 1, "publicDomainNames": names}


# -- defaults ----------------------------------------------------------------------------------


def test_health_check_defaults_are_lightsails() -> None:
    check = HealthCheck()

    assert (check.healthy_threshold, check.unhealthy_threshold) == (2, 2)
    assert (check.timeout_seconds, check.interval_seconds) == (2, 5)
    assert check.path == "/"
    assert check.success_codes == "200-499"


def test_public_endpoint_without_health_check_gets_the_default_one() -> None:
    endpoint = PublicEndpoint.model_validate({"containerName": "web", "containerPort": 80})

    assert endpoint.health_check == HealthCheck()


def test_service_is_enabled_by_default() -> None:
    spec = ServiceSpec.model_validate({"power": "nano", "scale": 1})

    assert spec.is_disabled is False
    assert spec.deployment is None
    assert spec.custom_domains() == []


def test_wire_form_is_camel_case_and_leaves_out_unset_fields() -> None:
    spec = ServiceSpec.model_validate({"power": "nano", "scale": 2, "isDisabled": True})

    assert spec.to_wire() == {"power": "nano", "scale": 2, "isDisabled": True}


# -- deployment content ------------------------------------------------------------------------

VALID_CONTENT = [
    pytest.param(web("HTTP"), Protocol.HTTP, id="endpoint-on-http-port"),
    pytest.param(web("HTTPS", 443), Protocol.HTTPS, id="endpoint-on-https-port"),
    pytest.param(
        content({"worker": {"image": "worker:1", "ports": {"5000": "TCP"}}}),
        None,
        id="no-endpoint-tcp-only",
    ),
    pytest.param(
        content(
            {
                "web": {"image": "nginx:1.27", "ports": {"80": "HTTP"}},
                "dns": {"image": "coredns:1.11", "ports": {"53": "UDP", "8053": "TCP"}},
            },
            {"containerName": "web", "containerPort": 80},
        ),
        Protocol.HTTP,
        id="distinct-ports-on-two-containers",
    ),
]


@pytest.mark.parametrize(("wire", "protocol"), VALID_CONTENT)
def test_valid_content_is_accepted_and_knows_its_endpoint_protocol(
    wire: Wire, protocol: Protocol | None
) -> None:
    assert DeploymentContent.model_validate(wire).endpoint_protocol() == protocol


INVALID_CONTENT = [
    pytest.param(
        content(
            {
                "web": {"image": "nginx:1.27", "ports": {"80": "HTTP"}},
                "proxy": {"image": "envoy:1.31", "ports": {"80": "HTTP"}},
            }
        ),
        "port 80 is opened by web and proxy",
        id="port-opened-by-two-containers",
    ),
    pytest.param(
        content(
            {"web": {"image": "nginx:1.27", "ports": {"80": "HTTP"}}},
            {"containerName": "api", "containerPort": 80},
        ),
        "publicEndpoint.containerName 'api' missing",
        id="endpoint-container-missing",
    ),
    pytest.param(web("TCP"), "must be opened as HTTP or HTTPS", id="endpoint-on-tcp-port"),
    pytest.param(web("UDP"), "must be opened as HTTP or HTTPS", id="endpoint-on-udp-port"),
    pytest.param(
        content(
            {"web": {"image": "nginx:1.27", "ports": {"80": "HTTP"}}},
            {"containerName": "web", "containerPort": 8080},
        ),
        "must be opened as HTTP or HTTPS",
        id="endpoint-on-port-not-opened",
    ),
    pytest.param(
        content({"web": {"image": "nginx:1.27"}}, {"containerName": "web", "containerPort": 80}),
        "must be opened as HTTP or HTTPS",
        id="endpoint-on-container-without-ports",
    ),
    pytest.param(
        content({"web": {"image": "nginx:1.27", "ports": {"http": "HTTP"}}}),
        "'http' is not a number between 1 and 65535",
        id="port-not-a-number",
    ),
    pytest.param(
        content({"web": {"image": "nginx:1.27", "ports": {"65536": "TCP"}}}),
        "'65536' is not a number between 1 and 65535",
        id="port-above-65535",
    ),
    pytest.param(
        content({"web": {"image": "nginx:1.27", "ports": {"80": "SCTP"}}}),
        "'HTTP', 'HTTPS', 'TCP' or 'UDP'",
        id="port-protocol-unknown",
    ),
    pytest.param(content({}), "at least 1 item", id="no-containers"),
    pytest.param(
        content({f"c{i}": {"image": "busybox"} for i in range(11)}),
        "at most 10 items",
        id="eleven-containers",
    ),
    pytest.param(
        content({"Web": {"image": "nginx:1.27"}}),
        "should match pattern",
        id="container-name-uppercase",
    ),
]


@pytest.mark.parametrize(("wire", "message"), INVALID_CONTENT)
def test_invalid_content_is_refused(wire: Wire, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        DeploymentContent.model_validate(wire)


def test_version_spec_keeps_the_content_rules() -> None:
    with pytest.raises(ValidationError, match="must be opened as HTTP or HTTPS"):
        VersionSpec.model_validate({"serviceName": "shop", **web("UDP")})


def test_version_spec_hands_out_its_content() -> None:
    spec = VersionSpec.model_validate({"serviceName": "shop", **web()})

    assert spec.content() == DeploymentContent.model_validate(web())


# -- success codes -----------------------------------------------------------------------------

PARSED_CODES = [
    pytest.param("200", [(200, 200)], id="one-code"),
    pytest.param("200,202", [(200, 200), (202, 202)], id="two-codes"),
    pytest.param("200-299", [(200, 299)], id="one-range"),
    pytest.param("200,202-204,404", [(200, 200), (202, 204), (404, 404)], id="codes-and-range"),
]


@pytest.mark.parametrize(("codes", "ranges"), PARSED_CODES)
def test_success_codes_parse_into_ranges(codes: str, ranges: list[tuple[int, int]]) -> None:
    assert parse_success_codes(codes) == ranges
    assert HealthCheck(success_codes=codes).success_codes == codes


@pytest.mark.parametrize(
    "codes",
    [
        pytest.param("199", id="below-200"),
        pytest.param("200,500", id="above-499"),
        pytest.param("300-200", id="range-reversed"),
        pytest.param("abc", id="not-a-number"),
        pytest.param("", id="empty"),
        pytest.param("200-", id="open-range"),
    ],
)
def test_success_codes_outside_200_to_499_or_malformed_are_refused(codes: str) -> None:
    with pytest.raises(ValidationError, match=r"success_?[cC]odes"):
        HealthCheck(success_codes=codes)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("timeout_seconds", 1, id="timeout-1"),
        pytest.param("timeout_seconds", 61, id="timeout-61"),
        pytest.param("interval_seconds", 4, id="interval-4"),
        pytest.param("interval_seconds", 301, id="interval-301"),
        pytest.param("healthy_threshold", 1, id="healthy-1"),
        pytest.param("healthy_threshold", 11, id="healthy-11"),
        pytest.param("unhealthy_threshold", 1, id="unhealthy-1"),
        pytest.param("unhealthy_threshold", 11, id="unhealthy-11"),
    ],
)
def test_health_check_numbers_outside_lightsails_bounds_are_refused(field: str, value: int) -> None:
    with pytest.raises(ValidationError, match=field):
        HealthCheck.model_validate({field: value})


# -- domains and tags --------------------------------------------------------------------------


def test_four_domains_across_two_certificates_are_listed_lowercased() -> None:
    spec = ServiceSpec.model_validate(
        domains(
            {"shop": ["Shop.Example.com", "www.shop.example.com"], "api": ["*.api.example.com"]}
        )
    )

    assert spec.custom_domains() == [
        "shop.example.com",
        "www.shop.example.com",
        "*.api.example.com",
    ]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        pytest.param(
            {"a": ["a.example.com", "b.example.com", "c.example.com"], "b": ["d.example.com"] * 2},
            "at most 4 custom domains",
            id="five-domains",
        ),
        pytest.param(
            {"a": ["shop.example.com", "shop.example.com"]},
            "listed only once",
            id="twice-in-one-certificate",
        ),
        pytest.param(
            {"a": ["shop.example.com"], "b": ["shop.example.com"]},
            "listed only once",
            id="twice-across-certificates",
        ),
        pytest.param(
            {"a": ["shop.example.com"], "b": ["SHOP.example.COM"]},
            "listed only once",
            id="twice-differing-in-case",
        ),
        pytest.param({"a": []}, "at least 1 item", id="certificate-without-domains"),
        pytest.param({"a": ["localhost"]}, "should match pattern", id="domain-without-dot"),
    ],
)
def test_invalid_custom_domains_are_refused(names: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        ServiceSpec.model_validate(domains(names))


def test_tags_take_unicode_letters_and_lightsails_punctuation() -> None:
    assert Tag(key="équipe コスト", value="Zürich café").key == "équipe コスト"
    assert Tag(key="owner@corp/cost=+:_-.").value == ""


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("k" * 129, "", id="key-129-chars"),
        pytest.param("", "", id="key-empty"),
        pytest.param("team", "v" * 257, id="value-257-chars"),
        pytest.param("team", "<b>", id="value-markup"),
    ],
)
def test_invalid_tags_are_refused(key: str, value: str) -> None:
    with pytest.raises(ValidationError):
        Tag(key=key, value=value)


@pytest.mark.parametrize("scale", [pytest.param(0, id="zero"), pytest.param(21, id="21")])
def test_scale_outside_1_to_20_is_refused(scale: int) -> None:
    with pytest.raises(ValidationError, match="scale"):
        ServiceSpec.model_validate({"power": "nano", "scale": scale})


# -- content hash ------------------------------------------------------------------------------


def two_containers(first: str, second: str) -> Wire:
    specs = {
        "web": {"image": "nginx:1.27", "ports": {"80": "HTTP", "81": "HTTP"}},
        "log": {"image": "fluentbit:3", "environment": {"A": "1", "B": "2"}},
    }
    return content({first: specs[first], second: specs[second]})


def test_content_hash_ignores_key_order() -> None:
    forward = DeploymentContent.model_validate(two_containers("web", "log"))
    backward_wire = two_containers("log", "web")
    backward_wire["containers"]["web"]["ports"] = {"81": "HTTP", "80": "HTTP"}
    backward_wire["containers"]["log"]["environment"] = {"B": "2", "A": "1"}
    backward = DeploymentContent.model_validate(backward_wire)

    assert content_hash(forward) == content_hash(backward)


def test_content_hash_is_the_same_with_health_check_defaults_spelled_out() -> None:
    # The API server fills the defaults in; a re-applied inline deployment must not look new.
    implicit = DeploymentContent.model_validate(web())
    explicit_wire = web()
    explicit_wire["publicEndpoint"]["healthCheck"] = {
        "healthyThreshold": 2,
        "unhealthyThreshold": 2,
        "timeoutSeconds": 2,
        "intervalSeconds": 5,
        "path": "/",
        "successCodes": "200-499",
    }
    explicit = DeploymentContent.model_validate(explicit_wire)

    assert content_hash(implicit) == content_hash(explicit)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda w: w["containers"]["web"].update(image="nginx:1.28"), id="image"),
        pytest.param(lambda w: w["containers"]["web"].update(command=["serve"]), id="command"),
        pytest.param(lambda w: w["containers"]["web"]["ports"].update({"80": "HTTPS"}), id="port"),
        pytest.param(
            lambda w: w["publicEndpoint"].update(healthCheck={"path": "/healthz"}),
            id="health-check",
        ),
        pytest.param(lambda w: w.pop("publicEndpoint"), id="endpoint-removed"),
    ],
)
def test_content_hash_differs_for_different_content(change: Callable[[Wire], object]) -> None:
    changed_wire = web()
    change(changed_wire)

    original = DeploymentContent.model_validate(web())
    changed = DeploymentContent.model_validate(changed_wire)

    assert content_hash(original) != content_hash(changed)


# -- powers ------------------------------------------------------------------------------------


def test_default_powers_are_lightsails_table() -> None:
    table = {
        name: (power.cpu_count, power.ram_size_in_gb, power.price, power.is_active)
        for name, power in DEFAULT_POWERS.items()
    }

    assert table == {
        "nano": (0.25, 0.5, 7, True),
        "micro": (0.25, 1, 10, True),
        "small": (0.5, 1, 15, True),
        "medium": (1, 2, 40, True),
        "large": (2, 4, 80, True),
        "xlarge": (4, 8, 160, True),
    }


def test_power_converts_to_kubernetes_quantities() -> None:
    nano = DEFAULT_POWERS["nano"]

    assert (nano.cpu_millicores(), nano.memory_mebibytes()) == (250, 512)
    assert PowerSpec(cpu_count=4, ram_size_in_gb=8, price=160).memory_mebibytes() == 8192


# The ledger keeps the hash of the inline deployment it last turned into a version. An operator
# whose hash came out different for the same content would see every GitOps service's
# deployment as new after an upgrade and create a version for each: the value is pinned here,
# computed by hand (sha256 of this JSON, first 16 hex digits), not by the function under test.
CANONICAL_WEB = (
    '{"containers":{"web":{"image":"nginx:1.27","ports":{"80":"HTTP"}}},'
    '"publicEndpoint":{"containerName":"web","containerPort":80,"healthCheck":'
    '{"healthyThreshold":2,"intervalSeconds":5,"path":"/","successCodes":"200-499",'
    '"timeoutSeconds":2,"unhealthyThreshold":2}}}'
)


def test_content_hash_is_stable_across_releases() -> None:
    assert hashlib.sha256(CANONICAL_WEB.encode()).hexdigest()[:16] == "3be24f39902e02ee"
    assert content_hash(DeploymentContent.model_validate(web())) == "3be24f39902e02ee"
