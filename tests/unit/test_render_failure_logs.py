"""render/failure_logs.py: which logs of a failed version are kept, and how they are bounded."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit import builders

from berth.handlers.events import slim_pod
from berth.render import failure_logs, names
from berth.render.failure_logs import Source


def pod(name: str, version: str, restarts: dict[str, int]) -> Any:
    """A pod as the operator's store keeps it (handlers.events.slim_pod): no spec."""
    body = {
        "metadata": {"name": name, "labels": {names.VERSION_LABEL: version}},
        "status": {
            "containerStatuses": [
                {"name": c, "ready": False, "state": {}, "restartCount": n}
                for c, n in restarts.items()
            ]
        },
    }
    assert slim_pod(body) == {
        **body,
        "metadata": {**body["metadata"], "namespace": None, "resourceVersion": ""},
        "status": {**body["status"], "phase": None},
    }
    return body


def test_every_container_is_read_and_a_restarted_one_also_from_its_previous_run() -> None:
    pods = [pod("web-a", "3", {"app": 2, "side": 0})]

    found = failure_logs.sources(pods, 3, names.VERSION_LABEL)

    assert found == [
        Source("web-a", "app"),
        Source("web-a", "app", previous=True),
        Source("web-a", "side"),
    ]


def test_only_the_failed_versions_pods_and_at_most_three_that_restarted_most_first() -> None:
    pods = [
        pod("web-old", "2", {"app": 9}),
        pod("web-a", "3", {"app": 0}),
        pod("web-b", "3", {"app": 4}),
        pod("web-c", "3", {"app": 1}),
        pod("web-d", "3", {"app": 0}),
    ]

    found = failure_logs.sources(pods, 3, names.VERSION_LABEL)

    assert [s.pod for s in found if not s.previous] == ["web-b", "web-c", "web-a"]


@pytest.mark.parametrize(
    "source",
    [Source("web-7d9c-x2k", "app"), Source("web.v2-x", "side-car", previous=True)],
)
def test_a_key_names_pod_container_and_run_and_reads_back(source: Source) -> None:
    assert failure_logs.parse_key(failure_logs.key(source)) == source


@pytest.mark.parametrize("text", ["app", "app_pod_current", "_pod", "a_b_previous_x"])
def test_keys_that_berth_did_not_write_are_ignored(text: str) -> None:
    assert failure_logs.parse_key(text) is None


def test_the_tail_keeps_the_last_whole_lines_that_fit() -> None:
    text = "first line\nsecond\nthird é\n"
    assert failure_logs.tail(text, 1000) == text
    assert failure_logs.tail(text, len("second\nthird é\n".encode())) == "second\nthird é\n"
    assert failure_logs.tail(text, 12) == "third é\n"


def test_the_config_map_is_owned_by_the_version_and_labelled_for_its_service() -> None:
    version = builders.version(3, "ACTIVATING")
    logs = {Source("web-a", "app"): "2025-01-02T03:04:05Z boom\n"}

    manifest = failure_logs.config_map(builders.service(), version, logs, builders.NOW)

    meta = manifest["metadata"]
    assert meta["name"] == "web-v3.logs"
    assert meta["namespace"] == builders.NAMESPACE
    assert meta["labels"][names.SERVICE_LABEL] == "web"
    assert meta["labels"][names.FAILURE_LOGS_LABEL] == "web-v3"
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "berth.dev/v1alpha1",
            "kind": "ContainerServiceDeployment",
            "name": "web-v3",
            "uid": "uid-web-v3",
        }
    ]
    assert manifest["data"] == {"app_web-a": "2025-01-02T03:04:05Z boom\n"}
    assert failure_logs.selector("web") == "berth.dev/service=web,berth.dev/failure-logs-of"


def test_the_whole_config_map_stays_within_its_budget_however_many_logs() -> None:
    line = "2025-01-02T03:04:05.123456789Z " + "x" * 200 + "\n"
    logs = {
        Source(f"web-{p}", f"c{c}", prev): line * 500
        for p in range(3)
        for c in range(10)
        for prev in (False, True)
    }

    manifest = failure_logs.config_map(builders.service(), builders.version(3), logs, builders.NOW)

    size = sum(len(text.encode()) for text in manifest["data"].values())
    assert size <= failure_logs.TOTAL_BYTES
    assert all(
        text.endswith("x\n") and text.startswith("2025-") for text in manifest["data"].values()
    )
    assert len(manifest["data"]) == 60
