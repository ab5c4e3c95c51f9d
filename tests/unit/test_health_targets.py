"""reconcile/health.py's reading of a pod: what to check, where, and whether to check it yet."""

from __future__ import annotations

from typing import Any

import pytest

from berth.api.content import HealthCheck, HealthTarget, Protocol
from berth.reconcile.health import checkable, target_of, url_of
from berth.render import names

TARGET = HealthTarget(port=8443, scheme=Protocol.HTTPS, health_check=HealthCheck(path="/up"))


def pod(
    annotation: str | None = TARGET.model_dump_json(by_alias=True),
    ip: str | None = "10.0.0.7",
    ready: bool = True,
    deleting: bool = False,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web-1", "namespace": "shop"}
    if annotation is not None:
        meta["annotations"] = {names.HEALTH_TARGET_ANNOTATION: annotation}
    if deleting:
        meta["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    status: dict[str, Any] = {"containerStatuses": [{"name": "app", "ready": ready}]}
    if ip:
        status["podIP"] = ip
    return {"metadata": meta, "status": status}


def test_the_target_is_read_back_from_the_pods_annotation() -> None:
    assert target_of(pod()) == TARGET


@pytest.mark.parametrize("annotation", [None, "", "{not json", '{"port": 0}'])
def test_a_pod_without_a_readable_target_is_not_checked(annotation: str | None) -> None:
    assert target_of(pod(annotation)) is None
    assert not checkable(pod(annotation))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, True),
        ({"ip": None}, False),  # no address yet
        ({"ready": False}, False),  # its port does not take connections yet
        ({"deleting": True}, False),
    ],
)
def test_a_pod_is_checked_once_it_has_an_address_and_its_port_is_open(
    changes: dict[str, Any], expected: bool
) -> None:
    assert checkable(pod(**changes)) is expected


def test_the_url_is_the_pods_address_port_and_path_with_the_ports_scheme() -> None:
    assert url_of(TARGET, "10.0.0.7") == "https://10.0.0.7:8443/up"
    assert url_of(TARGET, "fd00::7") == "https://[fd00::7]:8443/up"
    plain = TARGET.model_copy(update={"scheme": Protocol.HTTP})
    assert url_of(plain, "10.0.0.7") == "http://10.0.0.7:8443/up"
